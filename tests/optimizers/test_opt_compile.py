"""
`torch.compile(optimizer.step)` with a learning-rate scheduler: how many graphs are compiled over 20 steps.
`CompileCounter` is the backend (no code generation), so each run takes about a second.

The step that creates the state runs eagerly (its graph would be used once). Then one graph is compiled when the
step count is first seen (dynamo takes a new number as a constant) and one when it changes (it becomes an input):
two, as for `torch.optim.Adam`. RAdam and AdaBelief compile once more when $\rho_t$ crosses the threshold, a
Python `if`. The multi-tensor and fused paths must cost no more.
"""

import warnings

import pytest
import torch
import torch._dynamo
from torch._dynamo.testing import CompileCounter

from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.radam import RAdam
from opt_testing import make_grads, make_params

STEPS = 20
# Graphs compiled over `STEPS` steps by default, on every path (see the module docstring)
GRAPHS = {Adam: 2, AMSGrad: 2, RAdam: 3, AdaBelief: 3}
SCHEDULERS = {
    'StepLR': lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9),
    'LambdaLR': lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (1 + epoch)),
}


def compiled_run(make_optimizer, scheduler, dynamic=None):
    """Take `STEPS` compiled steps with a scheduler; return the graph count and the parameters."""
    torch._dynamo.reset()
    params = make_params(dtype=torch.float32)
    grads = make_grads(STEPS, dtype=torch.float32)
    optimizer = make_optimizer(params)
    sched = scheduler(optimizer)
    counter = CompileCounter()
    step = torch.compile(optimizer.step, backend=counter, dynamic=dynamic)
    with warnings.catch_warnings():
        # Only the profiler hook of `Optimizer.step` warns; a recompile limit would show in the count
        warnings.simplefilter('ignore')
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = g.clone()
            step()
            sched.step()
    return counter.frame_count, [p.detach() for p in params]


def eager_run(make_optimizer, scheduler):
    params = make_params(dtype=torch.float32)
    optimizer = make_optimizer(params)
    sched = scheduler(optimizer)
    for step_grads in make_grads(STEPS, dtype=torch.float32):
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        optimizer.step()
        sched.step()
    return [p.detach() for p in params]


@pytest.mark.parametrize('foreach', [False, True], ids=['per_tensor', 'foreach'])
@pytest.mark.parametrize('cls,scheduler', [(Adam, 'StepLR'), (AMSGrad, 'LambdaLR'),
                                           (RAdam, 'StepLR'), (AdaBelief, 'LambdaLR')],
                         ids=lambda x: x if isinstance(x, str) else x.__name__)
def test_compiled_step_with_scheduler_stops_recompiling_on_both_paths(cls, scheduler, foreach):
    make = lambda ps: cls(ps, lr=1e-2, foreach=foreach)  # noqa: E731
    graphs, compiled = compiled_run(make, SCHEDULERS[scheduler])
    # Before, the multi-tensor path compiled every step (the step count was hashed in its batching key)
    # and fell back to eager after 8 graphs
    assert graphs == GRAPHS[cls]
    for c, e in zip(compiled, eager_run(make, SCHEDULERS[scheduler])):
        torch.testing.assert_close(c, e, rtol=1e-5, atol=1e-6)


def test_compiled_foreach_step_with_two_step_counts_matches_eager():
    """A parameter that skipped a step is batched apart (its own step count) and still compiles a fixed number."""
    def make(ps):
        return Adam(ps, lr=1e-2, foreach=True)

    def scheduler(opt):
        # An eager first step that the last parameter skips, so its step count stays one behind
        params = opt.param_groups[0]['params']
        for p in params[:-1]:
            p.grad = torch.ones_like(p)
        opt.step()
        assert opt.state[params[0]]['step'] == 1 and len(opt.state[params[-1]]) == 0
        return SCHEDULERS['StepLR'](opt)

    graphs, compiled = compiled_run(make, scheduler)
    assert graphs <= GRAPHS[Adam]
    for c, e in zip(compiled, eager_run(make, scheduler)):
        torch.testing.assert_close(c, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('foreach', [False, True], ids=['per_tensor', 'foreach'])
def test_compiled_step_with_dynamic_true_compiles_two_graphs(foreach):
    # `dynamic=True` makes the step count an input from the start: the first step, and all the others
    graphs, _ = compiled_run(lambda ps: Adam(ps, lr=1e-2, foreach=foreach), SCHEDULERS['StepLR'], dynamic=True)
    assert graphs <= 2


def test_torch_adam_in_the_same_loop_compiles_as_many_graphs_as_ours():
    graphs, _ = compiled_run(lambda ps: torch.optim.Adam(ps, lr=1e-2), SCHEDULERS['StepLR'])
    assert graphs == GRAPHS[Adam]


@pytest.mark.parametrize('cls', [Adam, AdaBelief])
def test_compiled_fused_step_compiles_no_more_graphs_and_matches_eager(cls):
    make = lambda ps: cls(ps, lr=1e-2, fused=True)  # noqa: E731
    graphs, compiled = compiled_run(make, SCHEDULERS['StepLR'])
    assert graphs <= GRAPHS[cls]
    for c, e in zip(compiled, eager_run(make, SCHEDULERS['StepLR'])):
        torch.testing.assert_close(c, e, rtol=1e-5, atol=1e-6)
