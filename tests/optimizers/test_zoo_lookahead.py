"""Lookahead: against pytorch_optimizer and fastai, the update rule transcribed, state and resume, settings."""

import inspect

import pytest
import torch

from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.lookahead import Lookahead
from opt_testing import (assert_closure_evaluated_once_per_step, assert_converges, assert_exact_resume, make_grads,
                         make_params, max_abs_diff, run)

pytorch_optimizer = pytest.importorskip('pytorch_optimizer')

INNER = {
    'SGD momentum': lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    'our Adam': lambda p: Adam(p, lr=1e-2),
    'our Adam foreach': lambda p: Adam(p, lr=1e-2, foreach=True),
    'torch Adam': lambda p: torch.optim.Adam(p, lr=1e-2),
}


@pytest.mark.parametrize('k, alpha', [(6, 0.5), (5, 0.8), (1, 0.3)])
@pytest.mark.parametrize('inner', list(INNER))
def test_equals_pytorch_optimizer_lookahead(inner, k, alpha):
    grads = make_grads()
    assert len(grads) >= 100
    ours = run(lambda p: Lookahead(INNER[inner](p), k=k, alpha=alpha), make_params(), grads)
    # pullback_momentum='none' (its default): the inner state is left alone at synchronization, as ours
    reference = run(lambda p: pytorch_optimizer.Lookahead(INNER[inner](p), k=k, alpha=alpha,
                                                          pullback_momentum='none'), make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, reference) <= 1e-12
    # and Lookahead changed the inner optimizer's path
    assert max_abs_diff(ours, run(INNER[inner], make_params(), grads)) > 1e-3


def test_defaults_are_fastai_k6_alpha05_while_pytorch_optimizer_uses_k5():
    ours = inspect.signature(Lookahead).parameters
    assert (ours['k'].default, ours['alpha'].default) == (6, 0.5)
    theirs = inspect.signature(pytorch_optimizer.Lookahead).parameters
    assert (theirs['k'].default, theirs['alpha'].default) == (5, 0.5)
    opt = Lookahead(torch.optim.SGD(make_params(), lr=0.1))
    assert (opt.param_groups[0]['lookahead_k'], opt.param_groups[0]['lookahead_alpha']) == (6, 0.5)


def test_fastai_step_values():
    # fastai: `Lookahead(SGD(params, lr=0.1))` with its defaults k=6, alpha=0.5; fastai's SGD is plain SGD
    # and its test keeps the same gradient for every step, as here
    p = torch.tensor([1., 2., 3.], requires_grad=True)
    g = torch.tensor([0.1, 0.2, 0.3])
    start = p.detach().clone()
    opt = Lookahead(torch.optim.SGD([p], lr=0.1))
    for _ in range(5):
        p.grad = g.clone()
        opt.step()
    # The first 5 steps are SGD steps
    torch.testing.assert_close(p.detach(), start - 0.5 * g)
    p.grad = g.clone()
    opt.step()
    # The 6th is followed by the average of the slow weights and the fast weights after 6 SGD steps
    torch.testing.assert_close(p.detach(), start * 0.5 + (start - 0.6 * g) * 0.5)


def lookahead_transcription(theta, grads, lr, k, alpha):
    """
    Algorithm 1 of Zhang et al. (2019) with plain SGD as the inner optimizer A:
        phi = theta_0;  each cycle: theta <- phi; k times theta <- theta - lr g;  phi <- phi + alpha (theta - phi)
    The gradients are given, so the inner steps are theta - lr g.
    """
    phi = [x.detach().clone() for x in theta]
    fast = [x.clone() for x in phi]
    for step, step_grads in enumerate(grads, start=1):
        fast = [x - lr * g for x, g in zip(fast, step_grads)]
        if step % k == 0:
            phi = [s + alpha * (x - s) for s, x in zip(phi, fast)]
            fast = [s.clone() for s in phi]
    return fast


@pytest.mark.parametrize('k, alpha', [(6, 0.5), (4, 0.8)])
def test_update_rule_equals_a_transcription_of_the_paper(k, alpha):
    grads = make_grads()
    expected = lookahead_transcription(make_params(), grads, 0.05, k, alpha)
    ours = run(lambda p: Lookahead(torch.optim.SGD(p, lr=0.05), k=k, alpha=alpha), make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, expected) <= 1e-12


def test_alpha_one_is_the_inner_optimizer_alone():
    grads = make_grads()
    ours = run(lambda p: Lookahead(Adam(p, lr=1e-2), k=3, alpha=1.), make_params(), grads)
    assert max_abs_diff(ours, run(lambda p: Adam(p, lr=1e-2), make_params(), grads)) <= 1e-15


def test_slow_weights_are_in_the_state_dict():
    params = make_params()
    opt = Lookahead(torch.optim.SGD(params, lr=0.1), k=4)
    grads = make_grads(steps=6)
    run(lambda p: opt, params, grads[:4])
    state = opt.state_dict()['state']
    # Right after a synchronization the slow and fast weights are equal
    assert all(torch.equal(state[i]['lookahead_slow_param'], p) for i, p in enumerate(params))
    assert state[0]['lookahead_step'] == 4
    run(lambda p: opt, params, grads[4:])
    slow = opt.state_dict()['state'][1]['lookahead_slow_param']
    assert not torch.equal(slow, params[1].detach())
    assert torch.equal(slow, opt.wrapper_state[params[1]]['slow_param'])


def test_slow_weights_start_from_the_weights_at_the_first_step():
    p = torch.zeros(3, requires_grad=True)
    opt = Lookahead(torch.optim.SGD([p], lr=0.1), k=2)
    with torch.no_grad():
        p.fill_(1.)  # e.g. a checkpoint loaded into the model after the optimizer was built
    for _ in range(2):
        p.grad = torch.ones(3)
        opt.step()
    # phi = 1, theta = 1 - 0.2, phi <- 1 + 0.5 (0.8 - 1) = 0.9
    torch.testing.assert_close(p.detach(), torch.full((3,), 0.9))


@pytest.mark.parametrize('stop', [9, 12, 13])
@pytest.mark.parametrize('inner', ['SGD momentum', 'our Adam'])
def test_exact_resume_also_in_the_middle_of_a_cycle(inner, stop):
    # k = 6: step 9 is in the middle of the second cycle, 12 ends it, 13 starts the third
    assert_exact_resume(lambda p: Lookahead(INNER[inner](p), k=6), stop, steps=30, state_matters=True)


def test_scheduler_changes_reach_the_inner_optimizer():
    grads = make_grads()
    sched = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    ours = run(lambda p: Lookahead(torch.optim.SGD(p, lr=0.05), k=5), make_params(), grads, scheduler=sched)
    reference = run(lambda p: pytorch_optimizer.Lookahead(torch.optim.SGD(p, lr=0.05), k=5), make_params(), grads,
                    scheduler=sched)
    unscheduled = run(lambda p: Lookahead(torch.optim.SGD(p, lr=0.05), k=5), make_params(), grads)
    assert max_abs_diff(ours, reference) <= 1e-12
    assert max_abs_diff(ours, unscheduled) > 1e-2


def test_groups_may_have_their_own_k_and_alpha():
    params = make_params()
    grads = make_grads()
    inner = torch.optim.SGD([{'params': params[:1], 'lookahead_k': 3, 'lookahead_alpha': 0.8},
                             {'params': params[1:]}], lr=0.05)
    ours = run(lambda p: Lookahead(inner, k=6, alpha=0.5), params, grads)
    first = lookahead_transcription(make_params()[:1], [g[:1] for g in grads], 0.05, 3, 0.8)
    rest = lookahead_transcription(make_params()[1:], [g[1:] for g in grads], 0.05, 6, 0.5)
    assert max_abs_diff(ours, first + rest) <= 1e-12


def test_closure_is_evaluated_once_and_its_loss_returned():
    params = make_params()
    opt = Lookahead(Adam(params, lr=1e-2), k=2)
    assert_closure_evaluated_once_per_step(opt, params, 4)


@pytest.mark.parametrize('kwargs, name', [
    (dict(k=0), 'k'), (dict(k=2.5), 'k'), (dict(k=True), 'k'),
    (dict(alpha=-0.1), 'alpha'), (dict(alpha=1.5), 'alpha'), (dict(alpha='0.5'), 'alpha'),
])
def test_bad_settings_are_value_errors_that_name_them(kwargs, name):
    with pytest.raises(ValueError, match=f'Invalid {name}'):
        Lookahead(torch.optim.SGD(make_params(), lr=0.1), **kwargs)
    opt = Lookahead(torch.optim.SGD(make_params(), lr=0.1))
    with pytest.raises(ValueError, match=f'Invalid {name}'):
        opt.add_param_group({'params': [torch.zeros(2, requires_grad=True)],
                             **{f'lookahead_{key}': value for key, value in kwargs.items()}})


@pytest.mark.parametrize('inner', [
    lambda p: Adam(p, lr=2e-2),
    lambda p: torch.optim.SGD(p, lr=2e-3, momentum=0.9),
], ids=['our Adam', 'torch SGD'])
def test_converges_on_rosenbrock_and_regression(inner):
    assert_converges(lambda p: Lookahead(inner(p)))
