"""
Helpers shared by the optimizer tests: identical parameters and gradients for every optimizer, comparison with a
reference, exact resume, closures and convergence.
"""

import inspect
import io
from typing import Callable, List, Optional, Sequence

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


# ## Against a reference implementation

def compare(ours: Callable, reference: Callable, *, grads: List[List[torch.Tensor]] = None,
            scheduler: Callable = None, tolerance: float = 1e-12, moved: float = 1e-2,
            start: Optional[List[torch.Tensor]] = None, reference_scheduler: Callable = 'same') -> float:
    """
    Both optimizers from the same start (`make_params()` unless `start` is given) on the same >= 100 gradients;
    assert that the parameters moved by more than `moved` (so equality is not trivially true) and that the largest
    difference is at most `tolerance`; return that difference.
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
    assert max_abs_diff(a, start) > moved
    difference = max_abs_diff(a, b)
    assert difference <= tolerance, difference
    return difference


def compare_on_complex(ours: Callable, reference: Callable, *, tolerance: float = 1e-12) -> float:
    """`compare` on complex128 parameters and gradients (seed 3): they stay complex, move and agree."""
    gen = torch.Generator().manual_seed(3)
    shapes = [(3, 2), (4,)]
    start = [torch.randn(s, generator=gen, dtype=torch.complex128) for s in shapes]
    grads = [[torch.randn(s, generator=gen, dtype=torch.complex128) for s in shapes] for _ in range(STEPS)]
    a = run(ours, [x.clone().requires_grad_() for x in start], grads)
    b = run(reference, [x.clone().requires_grad_() for x in start], grads)
    assert a[0].dtype == torch.complex128
    assert max_abs_diff(a, start) > 1e-2
    difference = max_abs_diff(a, b)
    assert difference <= tolerance, difference
    return difference

# ## Resume from a checkpoint

def _apply(optimizer, params: List[torch.Tensor], grads: List[List[torch.Tensor]]):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        optimizer.step()


def run_with_resume(make_optimizer: Callable, grads: List[List[torch.Tensor]], stop: int, *,
                    make_resumed: Callable = None, load: bool = True):
    """
    Apply `grads[:stop]`, save the parameters and the optimizer's `state_dict()` through `torch.save` and bytes, as a
    checkpoint would; load them (the state only if `load`) into a fresh optimizer (`make_resumed`, else
    `make_optimizer`) on fresh copies of the parameters and apply the rest.
    Return the final parameter values and the resumed optimizer.
    """
    params = make_params()
    optimizer = make_optimizer(params)
    _apply(optimizer, params, grads[:stop])
    buffer = io.BytesIO()
    torch.save({'params': [p.detach() for p in params], 'opt': optimizer.state_dict()}, buffer)
    buffer.seek(0)
    del optimizer
    checkpoint = torch.load(buffer)

    resumed = [x.clone().requires_grad_() for x in checkpoint['params']]
    optimizer = (make_resumed or make_optimizer)(resumed)
    if load:
        optimizer.load_state_dict(checkpoint['opt'])
    _apply(optimizer, resumed, grads[stop:])
    return [p.detach().clone() for p in resumed], optimizer


def assert_exact_resume(make_optimizer: Callable, stop: int, *, steps: int = STEPS, make_resumed: Callable = None,
                        moved: float = None, state_matters: bool = False):
    """
    Stopped after `stop` of `steps` steps, saved, loaded and continued: bit-equal to one uninterrupted run.
    With `moved`, the run moved the parameters by more than that; with `state_matters`, a fresh optimizer without the
    saved state does not give the same result (by more than 1e-6). Returns the resumed optimizer.
    """
    grads = make_grads(steps=steps)
    uninterrupted = run(make_optimizer, make_params(), grads)
    resumed, optimizer = run_with_resume(make_optimizer, grads, stop, make_resumed=make_resumed)
    if moved is not None:
        assert max_abs_diff(uninterrupted, make_params()) > moved
    for a, b in zip(uninterrupted, resumed):
        assert torch.equal(a, b)
    if state_matters:
        restarted, _ = run_with_resume(make_optimizer, grads, stop, make_resumed=make_resumed, load=False)
        assert max_abs_diff(uninterrupted, restarted) > 1e-6
    return optimizer


# ## Closures

def assert_closure_step_matches_manual_step(make: Callable, target: torch.Tensor = None, steps: int = 5,
                                            moved: float = 0.):
    """
    `step(closure)` evaluates the closure once, returns its loss (a tensor, > 0), and updates as a manual backward
    and `step()` (which returns `None`) would; the weights, from zero, move by more than `moved`.
    """
    target = target if target is not None else torch.arange(5, dtype=torch.float64)
    zeros = torch.zeros_like(target)

    def setup():
        w = zeros.clone().requires_grad_()
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
    for step in range(steps):
        expected = ((w1.detach() - target) ** 2).sum()
        loss = opt1.step(closure)
        assert len(calls) == step + 1
        assert isinstance(loss, torch.Tensor) and loss.item() > 0
        assert torch.equal(loss.detach(), expected)
        opt2.zero_grad(set_to_none=True)
        ((w2 - target) ** 2).sum().backward()
        assert opt2.step() is None
        assert torch.equal(w1.detach(), w2.detach())
    assert max_abs_diff([w1.detach()], [zeros]) > moved


def assert_closure_evaluated_once_per_step(opt, params: List[torch.Tensor], steps: int):
    """`step(closure)` on the sum of squares: one evaluation a step, and the returned loss goes down."""
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = sum((p ** 2).sum() for p in params)
        loss.backward()
        return loss

    losses = [opt.step(closure).item() for _ in range(steps)]
    assert len(calls) == steps and losses[-1] < losses[0]


def closure_step_on_sum_of_squares(make: Callable):
    """One `step(closure)` on sum(w^2) from w = (1, -2); return (the returned loss, w, the number of closure calls)."""
    w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = make([w])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    return loss, w.detach(), len(calls)


# ## Signatures

def assert_keywords_and_defaults_are(ours: type, theirs: type):
    """The same parameter names; after `params` all keyword-only, with the reference's defaults."""
    ours, theirs = inspect.signature(ours).parameters, inspect.signature(theirs).parameters
    assert set(ours) == set(theirs)
    for name, parameter in theirs.items():
        if name != 'params':
            assert ours[name].default == parameter.default, name
            assert ours[name].kind == inspect.Parameter.KEYWORD_ONLY, name
    return ours

# ## Convergence: Rosenbrock from (-1.5, 2) and least squares, with the tolerances of test_opt_convergence.py

def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def minimize_rosenbrock(make_optimizer: Callable, steps: int = 3000, scheduler: Callable = None,
                        before_step: Callable = None):
    """
    Minimize Rosenbrock from (-1.5, 2) with its gradient in closed form; `before_step(optimizer, xy, t)` runs before
    each gradient is set. Return (start value, final value, x, y).
    """
    xy = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([xy])
    sched = scheduler(opt) if scheduler is not None else None
    start = rosenbrock(*xy.detach())
    for t in range(steps):
        x, y = xy.detach()
        if before_step is not None:
            before_step(opt, xy, t)
        # The gradient in closed form (faster than autograd for two numbers)
        xy.grad = torch.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        opt.step()
        if sched is not None:
            sched.step()
    x, y = xy.detach()
    return start, rosenbrock(x, y), x, y


def least_squares_problem():
    """64 samples of 5 features with noise; return (inputs, targets, best weights, best loss)."""
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(64, 5, generator=gen, dtype=torch.float64)
    true_w = torch.randn(5, generator=gen, dtype=torch.float64)
    targets = inputs @ true_w + 0.1 * torch.randn(64, generator=gen, dtype=torch.float64)
    best = torch.linalg.lstsq(inputs, targets[:, None]).solution[:, 0]
    best_loss = ((inputs @ best - targets) ** 2).mean()
    return inputs, targets, best, best_loss


def fit_least_squares(make_optimizer: Callable, steps: int = 1500, scheduler: Callable = None,
                      before_step: Callable = None):
    """
    Least squares from w = 0; `before_step(optimizer, w, t)` runs before each gradient is set.
    Return (final loss, best loss, final w, best w).
    """
    inputs, targets, best, best_loss = least_squares_problem()
    w = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([w])
    sched = scheduler(opt) if scheduler is not None else None
    for t in range(steps):
        if before_step is not None:
            before_step(opt, w, t)
        # Gradient of the mean squared error, 2/n X^T (X w - y)
        w.grad = 2 / len(inputs) * inputs.T @ (inputs @ w.detach() - targets)
        opt.step()
        if sched is not None:
            sched.step()
    loss = ((inputs @ w.detach() - targets) ** 2).mean()
    return loss, best_loss, w.detach(), best


def assert_converges_on_rosenbrock(make_optimizer: Callable, steps: int = 3000, scheduler: Callable = None,
                                   before_step: Callable = None):
    """To within 0.05 of the minimum (1, 1), with the value down by 1000x."""
    start, end, x, y = minimize_rosenbrock(make_optimizer, steps, scheduler, before_step)
    assert end < 1e-3 * start, (start, end)
    assert abs(x - 1) < 0.05 and abs(y - 1) < 0.05, (x, y)


def assert_converges_on_least_squares(make_optimizer: Callable, steps: int = 1500, scheduler: Callable = None,
                                      before_step: Callable = None):
    """To within 1e-4 (relative) of the best loss and 1e-2 of the best weights."""
    loss, best_loss, w, best = fit_least_squares(make_optimizer, steps, scheduler, before_step)
    assert loss - best_loss < 1e-4 * best_loss, (loss, best_loss)
    assert (w - best).abs().max() < 1e-2, (w, best)


def assert_converges(make_optimizer: Callable, *, rosenbrock_steps: int = 3000, regression_steps: int = 1500,
                     rosenbrock_scheduler: Callable = None, regression_scheduler: Callable = None):
    """Both problems, with the tolerances of test_opt_convergence.py."""
    assert_converges_on_rosenbrock(make_optimizer, rosenbrock_steps, rosenbrock_scheduler)
    assert_converges_on_least_squares(make_optimizer, regression_steps, regression_scheduler)
