"""Adagrad (labml_nn/optimizers/adagrad.py) against torch.optim.Adagrad and the equations of its page."""

import inspect

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adagrad import Adagrad
from opt_testing import (assert_converges_on_least_squares, assert_converges_on_rosenbrock, assert_exact_resume,
                         closure_step_on_sum_of_squares, compare, compare_on_complex, make_grads, make_params,
                         max_abs_diff, run)

LR = 1e-2


# ## Equal to torch.optim.Adagrad

@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('maximize', [False, True])
@pytest.mark.parametrize('weight_decay', [0., 0.1])
@pytest.mark.parametrize('eps', [1e-10, 1e-3])
@pytest.mark.parametrize('initial_accumulator_value', [0., 0.1])
@pytest.mark.parametrize('lr_decay', [0., 0.01])
def test_adagrad_equals_torch_adagrad_for_every_option(lr_decay, initial_accumulator_value, eps, weight_decay,
                                                        maximize, foreach):
    args = dict(lr=LR, lr_decay=lr_decay, initial_accumulator_value=initial_accumulator_value, eps=eps,
                weight_decay=weight_decay, maximize=maximize, foreach=foreach)
    compare(lambda p: Adagrad(p, **args), lambda p: torch.optim.Adagrad(p, **args))


@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('lr_decay', [0., 0.01])
def test_adagrad_equals_torch_adagrad_under_a_step_schedule(lr_decay, foreach):
    args = dict(lr=0.05, lr_decay=lr_decay, initial_accumulator_value=0.1, weight_decay=0.01)
    compare(lambda p: Adagrad(p, foreach=foreach, **args), lambda p: torch.optim.Adagrad(p, **args),
            scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=25, gamma=0.5))


@pytest.mark.parametrize('foreach', [False, True])
def test_adagrad_equals_torch_adagrad_with_two_different_param_groups(foreach):
    def groups(p):
        return [dict(params=p[:2], lr_decay=0.01, weight_decay=0.1),
                dict(params=p[2:], lr=0.05, eps=1e-4, maximize=True)]

    compare(lambda p: Adagrad(groups(p), lr=LR, initial_accumulator_value=0.2, foreach=foreach),
            lambda p: torch.optim.Adagrad(groups(p), lr=LR, initial_accumulator_value=0.2))


def test_group_initial_accumulator_value_is_used_where_torch_uses_the_constructors():
    # The difference explained on the page: torch starts every sum at the constructor's value and ignores a
    # group's own initial_accumulator_value; ours starts each group's sums at that group's value.
    def groups(p):
        return [dict(params=p[:2]), dict(params=p[2:], initial_accumulator_value=0.5)]

    grads = make_grads()
    ours = run(lambda p: Adagrad(groups(p), lr=LR, initial_accumulator_value=0.1), make_params(), grads)
    theirs = run(lambda p: torch.optim.Adagrad(groups(p), lr=LR, initial_accumulator_value=0.1), make_params(), grads)
    # The first group agrees, the second does not
    assert max_abs_diff(ours[:2], theirs[:2]) <= 1e-12
    assert max_abs_diff(ours[2:], theirs[2:]) > 1e-4
    # Ours is torch run with 0.5 for those parameters
    only_second = run(lambda p: torch.optim.Adagrad(p, lr=LR, initial_accumulator_value=0.5), make_params()[2:],
                      [g[2:] for g in grads])
    assert max_abs_diff(ours[2:], only_second) <= 1e-12


@pytest.mark.parametrize('foreach', [False, True])
def test_adagrad_weight_decay_object_for_l2_equals_torch_number(foreach):
    compare(lambda p: Adagrad(p, lr=LR, foreach=foreach,
                              weight_decay=WeightDecay(0.1, weight_decouple=False)),
            lambda p: torch.optim.Adagrad(p, lr=LR, weight_decay=0.1))


@pytest.mark.parametrize('foreach', [False, True])
def test_adagrad_complex_params_equal_torch(foreach):
    args = dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.1)
    compare_on_complex(lambda p: Adagrad(p, foreach=foreach, **args), lambda p: torch.optim.Adagrad(p, **args))


def test_adagrad_defaults_and_state_are_torchs():
    ours = {n: p.default for n, p in inspect.signature(Adagrad).parameters.items() if n != 'params'}
    theirs = {n: p.default for n, p in inspect.signature(torch.optim.Adagrad).parameters.items() if n != 'params'}
    for name, default in theirs.items():
        assert ours[name] == default, name
    params = make_params()
    a, b = Adagrad(params, initial_accumulator_value=0.3), torch.optim.Adagrad(make_params())
    for p, g in zip(params, make_grads(steps=1)[0]):
        p.grad = g
    a.step()
    assert set(a.state[params[0]]) == set(b.state[b.param_groups[0]['params'][0]]) == {'step', 'sum'}
    assert a.state[params[0]]['step'] == 1
    assert torch.allclose(a.state[params[0]]['sum'], 0.3 + make_grads(steps=1)[0][0] ** 2, rtol=1e-15, atol=0)


# ## The page's equations, computed independently

def page_adagrad(theta, grads, lr_at, lr_decay=0., s_init=0., eps=1e-10, l2=0.):
    """
    adagrad.md: s_0 = s_init; s_t = s_{t-1} + g_t^2; eta_t = eta / (1 + (t - 1) lr_decay);
    theta_t = theta_{t-1} - eta_t g_t / (sqrt(s_t) + eps), with g_t + l2 theta_{t-1} for L2.
    """
    theta = [x.detach().clone() for x in theta]
    s = [torch.full_like(x, s_init) for x in theta]
    for t, step_grads in enumerate(grads, start=1):
        eta_t = lr_at(t) / (1 + (t - 1) * lr_decay)
        for i, g in enumerate(step_grads):
            g = g + l2 * theta[i]
            s[i] = s[i] + g * g
            theta[i] = theta[i] - eta_t * g / (torch.sqrt(s[i]) + eps)
    return theta


@pytest.mark.parametrize('lr_decay, s_init, eps, l2', [(0., 0., 1e-10, 0.), (0.05, 0., 1e-10, 0.),
                                                       (0., 0.5, 1e-3, 0.1), (0.05, 0.5, 1e-10, 0.1)])
@pytest.mark.parametrize('foreach', [False, True])
def test_class_is_the_update_on_the_page(lr_decay, s_init, eps, l2, foreach):
    grads = make_grads()
    expected = page_adagrad(make_params(), grads, lambda t: 0.1, lr_decay, s_init, eps, l2)
    ours = run(lambda p: Adagrad(p, lr=0.1, lr_decay=lr_decay, initial_accumulator_value=s_init, eps=eps,
                                 weight_decay=l2, foreach=foreach), make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, expected) <= 1e-12


def test_lr_decay_is_computed_from_the_scheduled_lr():
    # The page: eta_t uses this group's lr, so a scheduler's factor multiplies 1 / (1 + (t - 1) lr_decay)
    grads = make_grads()
    expected = page_adagrad(make_params(), grads, lambda t: 0.1 * 0.5 ** ((t - 1) // 25), lr_decay=0.05)
    ours = run(lambda p: Adagrad(p, lr=0.1, lr_decay=0.05), make_params(), grads,
               scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, 25, gamma=0.5))
    assert max_abs_diff(ours, expected) <= 1e-12


def test_first_step_moves_every_coordinate_by_about_lr():
    # s_1 = g_1^2, so the first step is eta g / |g| = eta sign(g), whatever the size of the gradient;
    # initial_accumulator_value damps it: eta g / sqrt(s_init + g^2)
    g = torch.tensor([1e-3, -2., 50.], dtype=torch.float64)
    for s_init in (0., 1.):
        p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        p.grad = g.clone()
        Adagrad([p], lr=0.1, eps=0., initial_accumulator_value=s_init).step()
        assert torch.allclose(p.detach(), -0.1 * g / torch.sqrt(s_init + g * g), rtol=1e-14, atol=0)
    assert torch.allclose(-0.1 * g / torch.sqrt(g * g), -0.1 * torch.sign(g))


def test_decoupled_weight_decay_object():
    # WeightDecay(wd): theta <- theta (1 - lr wd) before the Adagrad step on the undecayed gradient
    grads, wd = make_grads(), 0.1
    theta = [x.detach().clone() for x in make_params()]
    s = [torch.zeros_like(x) for x in theta]
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            theta[i] = theta[i] * (1 - LR * wd)
            s[i] = s[i] + g * g
            theta[i] = theta[i] - LR * g / (torch.sqrt(s[i]) + 1e-10)
    for foreach in (False, True):
        ours = run(lambda p: Adagrad(p, lr=LR, weight_decay=WeightDecay(wd), foreach=foreach), make_params(), grads)
        assert max_abs_diff(ours, theta) <= 1e-12


# ## Checks, resume, closure

@pytest.mark.parametrize('kwargs, name', [
    (dict(lr=-0.1), 'lr'),
    (dict(lr_decay=-0.1), 'lr_decay'),
    (dict(weight_decay=-0.1), 'weight_decay'),
    (dict(initial_accumulator_value=-1.), 'initial_accumulator_value'),
    (dict(eps=-1e-10), 'eps'),
    (dict(maximize=1), 'maximize'),
    (dict(differentiable=True), 'differentiable'),
    (dict(fused=True), 'fused'),
])
def test_adagrad_bad_hyper_parameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Adagrad(make_params(), **kwargs)


def test_adagrad_added_group_is_checked():
    opt = Adagrad(make_params()[:1], lr=LR)
    with pytest.raises(ValueError, match='lr_decay'):
        opt.add_param_group(dict(params=make_params()[1:], lr_decay=-1.))


def test_adagrad_refuses_sparse_gradients():
    # torch.optim.Adagrad takes sparse gradients; this class does not (the template refuses them)
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    p.grad = torch.eye(4, dtype=torch.float64)[0].to_sparse()
    with pytest.raises(RuntimeError, match='sparse'):
        Adagrad([p], lr=LR).step()


@pytest.mark.parametrize('foreach', [False, True])
def test_adagrad_resumes_exactly_from_state_dict(foreach):
    args = dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.1, foreach=foreach)
    resumed = assert_exact_resume(lambda p: Adagrad(p, **args), 50, make_resumed=lambda p: Adagrad(p, lr=1.0))
    assert resumed.param_groups[0]['lr_decay'] == 0.01


def test_adagrad_step_with_closure_returns_the_loss_and_uses_its_gradient():
    loss, w, _ = closure_step_on_sum_of_squares(lambda p: Adagrad(p, lr=0.1))
    assert loss.item() == pytest.approx(5.0)
    # First step: w - 0.1 sign(grad)
    assert torch.allclose(w.detach(), torch.tensor([0.9, -1.9], dtype=torch.float64), rtol=0, atol=1e-9)


# ## Convergence (the pattern and tolerances of test_opt_convergence.py)

def test_adagrad_converges_on_rosenbrock():
    # Adagrad's steps shrink as the squared gradients add up, so it needs more steps than Adam's 3000 here
    assert_converges_on_rosenbrock(lambda p: Adagrad(p, lr=1.0), steps=10000)


def test_adagrad_converges_on_least_squares_regression():
    assert_converges_on_least_squares(lambda p: Adagrad(p, lr=0.5))
