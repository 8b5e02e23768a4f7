"""Helpers shared by the optimizer tests: identical parameters and gradients for every optimizer."""

from typing import Callable, List, Sequence

import torch

# Several shapes, so that per-tensor and multi-tensor code both see more than one tensor
SHAPES = ((4, 3), (5,), (2, 3, 2))
STEPS = 120


def make_params(seed: int = 0, dtype: torch.dtype = torch.float64,
                shapes: Sequence[tuple] = SHAPES) -> List[torch.Tensor]:
    """Fresh leaf tensors with the same values for the same seed."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype).requires_grad_()
            for shape in shapes]


def make_grads(steps: int = STEPS, seed: int = 1, dtype: torch.dtype = torch.float64,
               shapes: Sequence[tuple] = SHAPES, scale: float = 1.0) -> List[List[torch.Tensor]]:
    """A fixed sequence of gradients: `grads[step][i]` for parameter `i`."""
    gen = torch.Generator().manual_seed(seed)
    return [[(scale * torch.randn(shape, generator=gen, dtype=torch.float64)).to(dtype) for shape in shapes]
            for _ in range(steps)]


def run(make_optimizer: Callable, params: List[torch.Tensor], grads: List[List[torch.Tensor]],
        scheduler: Callable = None) -> List[torch.Tensor]:
    """Apply the gradients in order; return the final parameter values."""
    optimizer = make_optimizer(params)
    sched = scheduler(optimizer) if scheduler is not None else None
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            # A copy: some reference implementations change the gradient in place
            p.grad = g.clone()
        optimizer.step()
        if sched is not None:
            sched.step()
    return [p.detach().clone() for p in params]


def max_abs_diff(a: List[torch.Tensor], b: List[torch.Tensor]) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a, b))
