"""Checks shared by the AdamW, QHAdam and LAMB tests: reference comparison, exact resume, closures, convergence."""

import io
from typing import Callable, List, Optional

import torch

from opt_testing import make_grads, make_params, max_abs_diff, run


def compare(ours: Callable, reference: Callable, *, grads=None, start: Optional[List[torch.Tensor]] = None,
            tolerance: float = 1e-12, scheduler: Callable = None, reference_scheduler: Callable = 'same') -> float:
    """
    Both optimizers from the same start on the same >= 100 gradients; return the largest difference.
    `scheduler` drives both, unless `reference_scheduler` is given (`None` for none) for the reference.
    """
    if reference_scheduler == 'same':
        reference_scheduler = scheduler
    grads = grads if grads is not None else make_grads()
    assert len(grads) >= 100
    start = start if start is not None else [p.detach() for p in make_params()]

    def fresh():
        return [x.detach().clone().requires_grad_() for x in start]

    a = run(ours, fresh(), grads, scheduler=scheduler)
    b = run(reference, fresh(), grads, scheduler=reference_scheduler)
    # The parameters moved, so equality is not trivially true
    assert max_abs_diff(a, start) > 1e-2
    difference = max_abs_diff(a, b)
    assert difference <= tolerance, difference
    return difference


def resumed_run_is_bit_identical(make: Callable, steps: int = 120, split: int = 60):
    """N steps, state_dict() through bytes, load into a fresh optimizer, continue: equals one straight run."""
    grads = make_grads(steps=steps)
    straight = run(make, make_params(), grads)

    first = make_params()
    opt = make(first)
    for step_grads in grads[:split]:
        for p, g in zip(first, step_grads):
            p.grad = g.clone()
        opt.step()
    buffer = io.BytesIO()
    torch.save({'params': [p.detach() for p in first], 'opt': opt.state_dict()}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer)

    resumed = [x.clone().requires_grad_() for x in checkpoint['params']]
    opt2 = make(resumed)
    opt2.load_state_dict(checkpoint['opt'])
    for step_grads in grads[split:]:
        for p, g in zip(resumed, step_grads):
            p.grad = g.clone()
        opt2.step()
    assert max_abs_diff(straight, make_params()) > 1e-2
    for a, b in zip(straight, resumed):
        assert torch.equal(a, b.detach())


def closure_step_matches_manual_step(make: Callable):
    """`step(closure)` evaluates the closure once, returns its loss, and updates as a manual backward would."""
    target = torch.arange(5, dtype=torch.float64)

    def setup():
        w = torch.zeros(5, dtype=torch.float64, requires_grad=True)
        return w, make([w])

    w1, opt1 = setup()
    calls = []

    def closure():
        calls.append(1)
        opt1.zero_grad(set_to_none=True)
        loss = ((w1 - target) ** 2).sum()
        loss.backward()
        return loss

    w2, opt2 = setup()
    for step in range(5):
        expected = ((w1.detach() - target) ** 2).sum()
        loss = opt1.step(closure)
        assert len(calls) == step + 1
        assert torch.equal(loss.detach(), expected)
        opt2.zero_grad(set_to_none=True)
        ((w2 - target) ** 2).sum().backward()
        opt2.step()
        assert torch.equal(w1.detach(), w2.detach())
    assert not torch.equal(w1.detach(), torch.zeros(5, dtype=torch.float64))


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def converges_on_rosenbrock(make: Callable, steps: int = 3000, scheduler: Callable = None):
    """From (-1.5, 2) to within 0.05 of the minimum (1, 1), with the loss down by 1000x (as test_opt_convergence)."""
    xy = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = make([xy])
    sched = scheduler(opt) if scheduler is not None else None
    start = rosenbrock(*xy.detach())
    for _ in range(steps):
        x, y = xy.detach()
        xy.grad = torch.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        opt.step()
        if sched is not None:
            sched.step()
    x, y = xy.detach()
    assert rosenbrock(x, y) < 1e-3 * start
    assert abs(x - 1) < 0.05 and abs(y - 1) < 0.05


def converges_on_least_squares(make: Callable, steps: int = 1500, scheduler: Callable = None):
    """Least squares to within 1e-4 (relative) of the best loss, as in test_opt_convergence."""
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(64, 5, generator=gen, dtype=torch.float64)
    true_w = torch.randn(5, generator=gen, dtype=torch.float64)
    targets = inputs @ true_w + 0.1 * torch.randn(64, generator=gen, dtype=torch.float64)
    best = torch.linalg.lstsq(inputs, targets[:, None]).solution[:, 0]
    best_loss = ((inputs @ best - targets) ** 2).mean()

    w = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = make([w])
    sched = scheduler(opt) if scheduler is not None else None
    for _ in range(steps):
        w.grad = 2 / len(inputs) * inputs.T @ (inputs @ w.detach() - targets)
        opt.step()
        if sched is not None:
            sched.step()
    loss = ((inputs @ w.detach() - targets) ** 2).mean()
    assert loss - best_loss < 1e-4 * best_loss
    assert (w.detach() - best).abs().max() < 1e-2
