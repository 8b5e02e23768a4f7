"""
Adadelta: equal to torch.optim.Adadelta for every option, lr=1 is Zeiler's Algorithm 1 computed independently,
lr scales the steps linearly, bad hyper-parameters, resume, closures and convergence.
"""

import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adadelta import Adadelta
from opt_testing import (assert_closure_step_matches_manual_step, assert_converges_on_least_squares,
                         assert_converges_on_rosenbrock, assert_exact_resume, assert_keywords_and_defaults_are, compare,
                         compare_on_complex, make_grads, make_params, max_abs_diff, run)

TOLERANCE = 1e-12


# ## Equal to torch.optim.Adadelta

@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('maximize', [False, True])
@pytest.mark.parametrize('weight_decay', [0., 0.1])
@pytest.mark.parametrize('lr', [1.0, 0.3, 2.0])
def test_equals_torch_adadelta_for_every_combination(lr, weight_decay, maximize, foreach):
    kwargs = dict(lr=lr, weight_decay=weight_decay, maximize=maximize)
    compare(lambda p: Adadelta(p, foreach=foreach, **kwargs),
            lambda p: torch.optim.Adadelta(p, foreach=foreach, **kwargs))


# rho = 1 keeps both averages at 0: the step is sqrt(eps) / sqrt(eps) g = g, plain SGD with lr
@pytest.mark.parametrize('rho', [0., 0.5, 0.95, 0.99, 1.])
@pytest.mark.parametrize('foreach', [False, True])
def test_equals_torch_adadelta_for_rho(rho, foreach):
    compare(lambda p: Adadelta(p, rho=rho, eps=1e-4, foreach=foreach),
            lambda p: torch.optim.Adadelta(p, rho=rho, eps=1e-4, foreach=foreach))


@pytest.mark.parametrize('eps', [1e-8, 1e-6, 1e-3, 0.1])
@pytest.mark.parametrize('foreach', [False, True])
def test_equals_torch_adadelta_for_eps(eps, foreach):
    compare(lambda p: Adadelta(p, eps=eps, weight_decay=0.1, foreach=foreach),
            lambda p: torch.optim.Adadelta(p, eps=eps, weight_decay=0.1, foreach=foreach), moved=1e-3)


@pytest.mark.parametrize('foreach', [False, True])
def test_equals_torch_adadelta_with_lr_scheduler(foreach):
    scheduler = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=25, gamma=0.5)
    compare(lambda p: Adadelta(p, eps=1e-4, weight_decay=0.01, foreach=foreach),
            lambda p: torch.optim.Adadelta(p, eps=1e-4, weight_decay=0.01, foreach=foreach), scheduler=scheduler)


@pytest.mark.parametrize('foreach', [False, True])
def test_equals_torch_adadelta_with_two_param_groups_that_differ(foreach):
    def groups(p):
        return [dict(params=p[:1], rho=0.5, maximize=True),
                dict(params=p[1:], lr=0.5, eps=1e-3, weight_decay=0.1)]

    compare(lambda p: Adadelta(groups(p), eps=1e-4, foreach=foreach),
            lambda p: torch.optim.Adadelta(groups(p), eps=1e-4, foreach=foreach))


@pytest.mark.parametrize('foreach', [False, True])
def test_weight_decay_object_for_l2_equals_torch_weight_decay_number(foreach):
    compare(lambda p: Adadelta(p, eps=1e-4, weight_decay=WeightDecay(0.1, weight_decouple=False), foreach=foreach),
            lambda p: torch.optim.Adadelta(p, eps=1e-4, weight_decay=0.1, foreach=foreach))


@pytest.mark.parametrize('foreach', [False, True])
def test_equals_torch_adadelta_on_complex_parameters(foreach):
    kwargs = dict(eps=1e-4, weight_decay=0.1)
    compare_on_complex(lambda p: Adadelta(p, foreach=foreach, **kwargs),
                       lambda p: torch.optim.Adadelta(p, foreach=foreach, **kwargs))


def test_defaults_and_keywords_are_those_of_torch_adadelta():
    ours = assert_keywords_and_defaults_are(Adadelta, torch.optim.Adadelta)
    assert ours['lr'].default == 1.0


# ## The page's equations, computed independently

def zeiler_algorithm_1(theta, grads, rho, eps, weight_decay=0.):
    """
    Algorithm 1 of Zeiler (2012), transcribed in float64, with RMS[y] = sqrt(E[y^2] + eps):
        E[g^2]_t = rho E[g^2]_{t-1} + (1 - rho) g_t^2
        dx_t = -RMS[dx]_{t-1} / RMS[g]_t * g_t
        E[dx^2]_t = rho E[dx^2]_{t-1} + (1 - rho) dx_t^2
        x_{t+1} = x_t + dx_t
    (the optional g_t <- g_t + wd x_t is torch's L2 term, not part of the paper).
    """
    theta = [x.detach().clone() for x in theta]
    eg2 = [torch.zeros_like(x) for x in theta]
    edx2 = [torch.zeros_like(x) for x in theta]
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            g = g + weight_decay * theta[i]
            eg2[i] = rho * eg2[i] + (1 - rho) * g ** 2
            dx = -torch.sqrt(edx2[i] + eps) / torch.sqrt(eg2[i] + eps) * g
            edx2[i] = rho * edx2[i] + (1 - rho) * dx ** 2
            theta[i] = theta[i] + dx
    return theta


@pytest.mark.parametrize('rho, eps', [(0.9, 1e-6), (0.95, 1e-6), (0.95, 1e-3)])
@pytest.mark.parametrize('weight_decay', [0., 0.1])
@pytest.mark.parametrize('foreach', [False, True])
def test_lr_one_is_zeilers_algorithm_1(rho, eps, weight_decay, foreach):
    grads = make_grads()
    expected = zeiler_algorithm_1(make_params(), grads, rho, eps, weight_decay)
    ours = run(lambda p: Adadelta(p, lr=1.0, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach),
               make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, expected) <= TOLERANCE


@pytest.mark.parametrize('lr', [0.1, 0.5, 3.0])
@pytest.mark.parametrize('foreach', [False, True])
def test_lr_scales_every_step_linearly_and_leaves_the_state_alone(lr, foreach):
    # adadelta.md: theta_t = theta_{t-1} + lr dx_t, while E[dx^2] accumulates the paper's (unscaled) dx_t.
    # With gradients that do not depend on theta, every step is lr times the paper's step.
    grads = make_grads()
    steps, states = {}, {}
    for rate in (1.0, lr):
        params = make_params()
        opt = Adadelta(params, lr=rate, eps=1e-4, foreach=foreach)
        steps[rate] = []
        for step_grads in grads:
            before = [p.detach().clone() for p in params]
            for p, g in zip(params, step_grads):
                p.grad = g.clone()
            opt.step()
            steps[rate].append([p.detach() - b for p, b in zip(params, before)])
        states[rate] = [(opt.state[p]['square_avg'], opt.state[p]['acc_delta']) for p in params]
    for paper, scaled in zip(steps[1.0], steps[lr]):
        assert max_abs_diff([lr * s for s in paper], scaled) <= TOLERANCE
    for (v1, u1), (v2, u2) in zip(states[1.0], states[lr]):
        assert torch.equal(v1, v2) and torch.equal(u1, u2)
    # not trivially so: the steps are not all the same size
    sizes = [s[0].abs().max().item() for s in steps[1.0]]
    assert max(sizes) > 3 * min(sizes)


def test_first_step_is_set_by_eps():
    # adadelta.md: E[dx^2]_0 = 0, so the first step is sqrt(eps) / sqrt((1 - rho) g^2 + eps) g,
    # about sqrt(eps / (1 - rho)) = 0.003 per coordinate when g^2 >> eps
    rho, eps = 0.9, 1e-6
    g = torch.tensor([0.5, -1., 4., -30.], dtype=torch.float64)
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    p.grad = g.clone()
    Adadelta([p], rho=rho, eps=eps).step()
    exact = -math.sqrt(eps) / torch.sqrt((1 - rho) * g ** 2 + eps) * g
    assert max_abs_diff([p.detach()], [exact]) <= 1e-15
    assert torch.allclose(p.detach().abs(), torch.full((4,), math.sqrt(eps / (1 - rho)), dtype=torch.float64),
                          rtol=1e-4, atol=0)


def test_decoupled_weight_decay_shrinks_theta_before_the_step():
    # adadelta.md: with WeightDecay(lambda), theta <- theta (1 - lr lambda), then the step on the raw g
    lr, decay, rho, eps = 0.5, 0.1, 0.9, 1e-4
    grads = make_grads()
    theta = [x.detach().clone() for x in make_params()]
    eg2 = [torch.zeros_like(x) for x in theta]
    edx2 = [torch.zeros_like(x) for x in theta]
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            theta[i] = theta[i] * (1 - lr * decay)
            eg2[i] = rho * eg2[i] + (1 - rho) * g ** 2
            dx = -torch.sqrt(edx2[i] + eps) / torch.sqrt(eg2[i] + eps) * g
            edx2[i] = rho * edx2[i] + (1 - rho) * dx ** 2
            theta[i] = theta[i] + lr * dx
    ours = run(lambda p: Adadelta(p, lr=lr, eps=eps, weight_decay=WeightDecay(decay)), make_params(), grads)
    l2 = run(lambda p: Adadelta(p, lr=lr, eps=eps, weight_decay=decay), make_params(), grads)
    assert max_abs_diff(ours, theta) <= TOLERANCE
    assert max_abs_diff(ours, l2) > 1e-3


# ## Hyper-parameters, state, closures

@pytest.mark.parametrize('kwargs, name', [
    (dict(lr=-1.), 'lr'),
    (dict(rho=-0.1), 'rho'),
    (dict(rho=1.1), 'rho'),
    (dict(eps=-1e-6), 'eps'),
    (dict(weight_decay=-0.1), 'weight_decay'),
    (dict(maximize='yes'), 'maximize'),
    (dict(foreach=2), 'foreach'),
    (dict(capturable=True), 'capturable'),
    (dict(differentiable=True), 'differentiable'),
])
def test_bad_hyper_parameter_raises_value_error_naming_it(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Adadelta(make_params(), **kwargs)


@pytest.mark.parametrize('group, name', [
    (dict(rho=2.), 'rho'), (dict(lr=-0.1), 'lr'), (dict(eps=-1.), 'eps'), (dict(capturable=True), 'capturable'),
])
def test_bad_hyper_parameter_in_added_group_raises_value_error(group, name):
    params = make_params()
    opt = Adadelta(params[:1])
    with pytest.raises(ValueError, match=name):
        opt.add_param_group(dict(params=params[1:], **group))


@pytest.mark.parametrize('foreach', [False, True])
def test_state_dict_round_trip_continues_bit_identically(foreach):
    def make(p):
        return Adadelta(p, lr=0.5, rho=0.95, eps=1e-4, weight_decay=0.1, foreach=foreach)

    # The hyper-parameters come back from the checkpoint, not from the constructor
    opt2 = assert_exact_resume(make, 60, make_resumed=lambda p: Adadelta(p, foreach=foreach))
    assert opt2.param_groups[0]['rho'] == 0.95 and opt2.param_groups[0]['lr'] == 0.5


def test_step_with_closure_returns_the_loss_and_takes_the_same_step():
    assert_closure_step_matches_manual_step(lambda p: Adadelta(p, eps=1e-2),
                                            target=torch.tensor([1., -2., 3.], dtype=torch.float64), moved=0.1)


# ## Convergence
#
# Near a minimum the gradients vanish, RMS[g] falls to sqrt(eps) while RMS[dx] stays >= sqrt(eps), so Adadelta
# takes steps of at least lr * g there: gradient descent with a step size of at least lr. That is stable only
# for lr < 2 / (largest curvature): about 0.7 for the regression, 0.002 at Rosenbrock's minimum (curvature ~1000).
# With lr = 1 (the paper) neither settles; a larger eps makes the first steps (sqrt(eps / (1 - rho))) large
# enough to cross Rosenbrock's valley with that small lr.

def test_converges_on_rosenbrock():
    assert_converges_on_rosenbrock(lambda p: Adadelta(p, lr=1.5e-3, eps=0.1), steps=10000)


@pytest.mark.parametrize('eps', [1e-6, 1e-3])
def test_converges_on_least_squares_regression(eps):
    assert_converges_on_least_squares(lambda p: Adadelta(p, lr=0.3, eps=eps))
