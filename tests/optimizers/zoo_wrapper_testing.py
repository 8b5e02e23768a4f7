"""Helpers for the tests of the optimizer wrappers (Lookahead, LARC, Ranger) and LARS."""

import io
from typing import Callable, List

import torch

from opt_testing import make_grads, make_params, run


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def minimize_rosenbrock(make_optimizer: Callable, steps: int = 3000, scheduler: Callable = None):
    """Minimize Rosenbrock from (-1.5, 2); return (final value / start value, x, y)."""
    xy = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([xy])
    sched = scheduler(opt) if scheduler is not None else None
    start = rosenbrock(*xy.detach())
    for _ in range(steps):
        x, y = xy.detach()
        xy.grad = torch.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        opt.step()
        if sched is not None:
            sched.step()
    x, y = xy.detach()
    return (rosenbrock(x, y) / start).item(), x.item(), y.item()


def fit_regression(make_optimizer: Callable, steps: int = 1500, scheduler: Callable = None):
    """Least squares on 64 samples of 5 features; return (excess loss / best loss, max |w - w*|)."""
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(64, 5, generator=gen, dtype=torch.float64)
    true_w = torch.randn(5, generator=gen, dtype=torch.float64)
    targets = inputs @ true_w + 0.1 * torch.randn(64, generator=gen, dtype=torch.float64)
    best = torch.linalg.lstsq(inputs, targets[:, None]).solution[:, 0]
    best_loss = ((inputs @ best - targets) ** 2).mean()
    w = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([w])
    sched = scheduler(opt) if scheduler is not None else None
    for _ in range(steps):
        w.grad = 2 / len(inputs) * inputs.T @ (inputs @ w.detach() - targets)
        opt.step()
        if sched is not None:
            sched.step()
    loss = ((inputs @ w.detach() - targets) ** 2).mean()
    return ((loss - best_loss) / best_loss).item(), (w.detach() - best).abs().max().item()


def assert_converges(make_optimizer: Callable, rosenbrock_scheduler: Callable = None,
                     regression_scheduler: Callable = None):
    """The tolerances of test_opt_convergence.py."""
    ratio, x, y = minimize_rosenbrock(make_optimizer, scheduler=rosenbrock_scheduler)
    assert ratio < 1e-3 and abs(x - 1) < 0.05 and abs(y - 1) < 0.05, (ratio, x, y)
    excess, w_error = fit_regression(make_optimizer, scheduler=regression_scheduler)
    assert excess < 1e-4 and w_error < 1e-2, (excess, w_error)


def poly_decay(total_steps: int):
    """The paper's polynomial (power 2) learning-rate decay, as a LambdaLR."""
    return lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda t: (1 - t / total_steps) ** 2)


def run_with_resume(make_optimizer: Callable, grads: List[List[torch.Tensor]], stop: int,
                    load: bool = True) -> List[torch.Tensor]:
    """
    Apply `grads[:stop]`, save the optimizer through `torch.save`, load it (unless `load` is false) into a fresh
    optimizer on fresh copies of the parameters, apply the rest; return the final parameter values.
    """
    params = make_params()
    optimizer = make_optimizer(params)
    for step_grads in grads[:stop]:
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        optimizer.step()
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    del optimizer

    resumed = [p.detach().clone().requires_grad_() for p in params]
    optimizer = make_optimizer(resumed)
    if load:
        optimizer.load_state_dict(torch.load(buffer))
    for step_grads in grads[stop:]:
        for p, g in zip(resumed, step_grads):
            p.grad = g.clone()
        optimizer.step()
    return [p.detach().clone() for p in resumed]


def assert_exact_resume(make_optimizer: Callable, stop: int, steps: int = 30):
    grads = make_grads(steps=steps)
    uninterrupted = run(make_optimizer, make_params(), grads)
    resumed = run_with_resume(make_optimizer, grads, stop)
    assert all(torch.equal(a, b) for a, b in zip(uninterrupted, resumed))
    # A fresh optimizer without the saved state does not give the same result, so the state mattered
    restarted = run_with_resume(make_optimizer, grads, stop, load=False)
    assert max((a - b).abs().max().item() for a, b in zip(uninterrupted, restarted)) > 1e-6
