"""
RMSprop: equal to torch.optim.RMSprop for every option, fastai's step values, the formulas of the page computed
independently, bad hyper-parameters, resume, closures and convergence.
"""

import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.rmsprop import RMSprop
from opt_testing import (assert_closure_step_matches_manual_step, assert_converges_on_least_squares,
                         assert_converges_on_rosenbrock, assert_exact_resume, assert_keywords_and_defaults_are, compare,
                         compare_on_complex, make_grads, make_params, max_abs_diff, run)

LR = 1e-2
TOLERANCE = 1e-12


# ## Equal to torch.optim.RMSprop

@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('maximize', [False, True])
@pytest.mark.parametrize('weight_decay', [0., 0.1])
@pytest.mark.parametrize('momentum', [0., 0.9])
@pytest.mark.parametrize('centered', [False, True])
def test_equals_torch_rmsprop_for_every_combination(centered, momentum, weight_decay, maximize, foreach):
    kwargs = dict(lr=LR, centered=centered, momentum=momentum, weight_decay=weight_decay, maximize=maximize)
    compare(lambda p: RMSprop(p, foreach=foreach, **kwargs),
            lambda p: torch.optim.RMSprop(p, foreach=foreach, **kwargs))


# alpha = 1 never updates v_t (it stays 0), so the step is lr * g / eps: a large eps keeps that finite.
# alpha = 0 with centered=True is degenerate (next test).
@pytest.mark.parametrize('alpha, eps, centered', [(0., 1e-8, False)] + [
    (alpha, eps, centered) for alpha, eps in [(0.5, 1e-8), (0.9, 1e-8), (0.999, 1e-8), (1., 10.)]
    for centered in (False, True)])
@pytest.mark.parametrize('foreach', [False, True])
def test_equals_torch_rmsprop_for_alpha(alpha, eps, centered, foreach):
    kwargs = dict(lr=LR, alpha=alpha, eps=eps, centered=centered, momentum=0.5)
    compare(lambda p: RMSprop(p, foreach=foreach, **kwargs),
            lambda p: torch.optim.RMSprop(p, foreach=foreach, **kwargs))


@pytest.mark.parametrize('foreach', [False, True])
def test_centered_with_alpha_zero_gives_nan_where_torch_does(foreach):
    # alpha = 0: v_t = g_t^2 and g_bar_t = g_t, so v_t - g_bar_t^2 is 0, and in floating point sometimes
    # slightly below 0, whose square root is NaN. Not clamped, to stay equal to torch (rmsprop.md).
    grads = make_grads(steps=3)
    ours = run(lambda p: RMSprop(p, alpha=0., centered=True, foreach=foreach), make_params(), grads)
    theirs = run(lambda p: torch.optim.RMSprop(p, alpha=0., centered=True, foreach=foreach), make_params(), grads)
    assert any(x.isnan().any() for x in ours)
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize('eps', [0., 1e-4, 0.1, 1.])
@pytest.mark.parametrize('centered', [False, True])
@pytest.mark.parametrize('foreach', [False, True])
def test_equals_torch_rmsprop_for_eps(eps, centered, foreach):
    kwargs = dict(lr=LR, eps=eps, centered=centered)
    compare(lambda p: RMSprop(p, foreach=foreach, **kwargs),
            lambda p: torch.optim.RMSprop(p, foreach=foreach, **kwargs), moved=1e-3)


@pytest.mark.parametrize('foreach', [False, True])
def test_equals_torch_rmsprop_with_lr_scheduler(foreach):
    kwargs = dict(lr=5e-2, centered=True, momentum=0.9, weight_decay=0.01)
    scheduler = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=25, gamma=0.5)
    compare(lambda p: RMSprop(p, foreach=foreach, **kwargs),
            lambda p: torch.optim.RMSprop(p, foreach=foreach, **kwargs), scheduler=scheduler)


@pytest.mark.parametrize('foreach', [False, True])
def test_equals_torch_rmsprop_with_two_param_groups_that_differ(foreach):
    def groups(p):
        return [dict(params=p[:1], centered=True, momentum=0.9, maximize=True),
                dict(params=p[1:], lr=3e-2, alpha=0.9, eps=1e-3, weight_decay=0.1)]

    compare(lambda p: RMSprop(groups(p), lr=LR, foreach=foreach),
            lambda p: torch.optim.RMSprop(groups(p), lr=LR, foreach=foreach))


@pytest.mark.parametrize('foreach', [False, True])
def test_weight_decay_object_for_l2_equals_torch_weight_decay_number(foreach):
    compare(lambda p: RMSprop(p, lr=LR, weight_decay=WeightDecay(0.1, weight_decouple=False), foreach=foreach),
            lambda p: torch.optim.RMSprop(p, lr=LR, weight_decay=0.1, foreach=foreach))


@pytest.mark.parametrize('foreach', [False, True])
def test_equals_torch_rmsprop_on_complex_parameters(foreach):
    kwargs = dict(lr=LR, centered=True, momentum=0.9, weight_decay=0.1)
    compare_on_complex(lambda p: RMSprop(p, foreach=foreach, **kwargs),
                       lambda p: torch.optim.RMSprop(p, foreach=foreach, **kwargs))


def test_defaults_and_keywords_are_those_of_torch_rmsprop():
    assert_keywords_and_defaults_are(RMSprop, torch.optim.RMSprop)


# ## fastai's step values
#
# fastai's `RMSProp(params, lr, sqr_mom=0.99, mom=0., wd=0.)` (../shared/seeds/fastai-optimizers.txt):
# `sqr_mom` is our `alpha` (both damp the squared gradient by 1 - alpha), its eps is 1e-8 like ours, and
# `wd=0` here. `tst_param([1,2,3], [0.1,0.2,0.3])` is a parameter whose gradient stays set between steps.

def fastai_param():
    p = torch.tensor([1., 2., 3.], dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    return p


def fastai_close(a, b, eps=1e-5):
    # fastai's `test_close`: elementwise |a - b| < eps
    assert (torch.as_tensor(a) - torch.as_tensor(b)).abs().max() < eps, (a, b)


@pytest.mark.parametrize('foreach', [False, True])
def test_fastai_rmsprop_step_values_without_momentum(foreach):
    p = fastai_param()
    opt = RMSprop([p], lr=0.1, alpha=0.99, foreach=foreach)
    opt.step()
    fastai_close(p.detach(), torch.tensor([0., 1., 2.], dtype=torch.float64))
    opt.step()
    step = -0.1 * 0.1 / (math.sqrt((0.01 * 0.99 + 0.01) * 0.1 ** 2) + 1e-8)
    fastai_close(p.detach(), torch.tensor([step, 1 + step, 2 + step], dtype=torch.float64))
    # fastai's `step` is that of the first coordinate; each coordinate exactly, from the same formula
    g = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    first = torch.tensor([1., 2., 3.], dtype=torch.float64) - 0.1 * g / (math.sqrt(0.01) * g + 1e-8)
    exact = first - 0.1 * g / (torch.sqrt((0.01 * 0.99 + 0.01) * g ** 2) + 1e-8)
    assert max_abs_diff([p.detach()], [exact]) <= 1e-12


def test_fastai_rmsprop_with_momentum_first_step_matches():
    # fastai's `mom` cannot be mapped to our `momentum` in general (see the next test), but on the
    # first step both use the plain gradient, as the buffers start at zero
    p = fastai_param()
    opt = RMSprop([p], lr=0.1, alpha=0.99, momentum=0.9)
    opt.step()
    fastai_close(p.detach(), torch.tensor([0., 1., 2.], dtype=torch.float64))


def test_fastai_rmsprop_momentum_second_step_is_a_different_optimizer():
    # Not mappable: fastai's `average_grad` keeps b_t = mom b_{t-1} + g_t (raw gradients) and divides b_t by
    # today's sqrt(v_t) + eps; torch (and we) keep b_t = mu b_{t-1} + g_t / (sqrt(v_t) + eps), each gradient
    # divided by its own step's denominator. Here v_t grows from step 1 to 2, so the values differ.
    p = fastai_param()
    opt = RMSprop([p], lr=0.1, alpha=0.99, momentum=0.9)
    opt.step()
    opt.step()
    v1, v2 = 0.01 * 0.1 ** 2, (0.01 * 0.99 + 0.01) * 0.1 ** 2
    fastai_step = -0.1 * (0.1 + 0.9 * 0.1) / (math.sqrt(v2) + 1e-8)
    our_step = -0.1 * (0.1 / (math.sqrt(v2) + 1e-8) + 0.9 * 0.1 / (math.sqrt(v1) + 1e-8))
    first = 1. - 0.1 * 0.1 / (math.sqrt(v1) + 1e-8)
    assert abs(p[0].item() - (first + our_step)) <= 1e-12
    # fastai's expected value for the first coordinate (its test_close(params[0], [step, ...])) is not ours
    assert abs(p[0].item() - fastai_step) > 0.2


# ## The page's equations, computed independently

def rmsprop_from_the_page(theta, grads, lr, alpha, eps, weight_decay=0., momentum=0., centered=False):
    """
    rmsprop.md: g <- g + wd theta;  v = alpha v + (1 - alpha) g^2;  g_bar = alpha g_bar + (1 - alpha) g;
    denominator = sqrt(v - g_bar^2) + eps (centered) or sqrt(v) + eps;
    b = mu b + g / denominator, theta = theta - lr b (momentum) or theta = theta - lr g / denominator.
    """
    theta = [x.detach().clone() for x in theta]
    v = [torch.zeros_like(x) for x in theta]
    g_bar = [torch.zeros_like(x) for x in theta]
    b = [torch.zeros_like(x) for x in theta]
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            g = g + weight_decay * theta[i]
            v[i] = alpha * v[i] + (1 - alpha) * g * g
            g_bar[i] = alpha * g_bar[i] + (1 - alpha) * g
            spread = v[i] - g_bar[i] * g_bar[i] if centered else v[i]
            denominator = torch.sqrt(spread) + eps
            if momentum > 0:
                b[i] = momentum * b[i] + g / denominator
                theta[i] = theta[i] - lr * b[i]
            else:
                theta[i] = theta[i] - lr * g / denominator
    return theta


@pytest.mark.parametrize('weight_decay', [0., 0.1])
@pytest.mark.parametrize('momentum', [0., 0.9])
@pytest.mark.parametrize('centered', [False, True])
@pytest.mark.parametrize('foreach', [False, True])
def test_update_is_the_formula_on_the_page(centered, momentum, weight_decay, foreach):
    grads = make_grads()
    kwargs = dict(lr=LR, alpha=0.9, eps=1e-3, weight_decay=weight_decay, momentum=momentum, centered=centered)
    expected = rmsprop_from_the_page(make_params(), grads, **kwargs)
    ours = run(lambda p: RMSprop(p, foreach=foreach, **kwargs), make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, expected) <= TOLERANCE


def test_decoupled_weight_decay_shrinks_theta_before_the_step():
    # rmsprop.md: with WeightDecay(lambda), theta <- theta (1 - lr lambda), then the plain step on the raw g
    lr, decay, alpha, eps = LR, 0.1, 0.99, 1e-8
    grads = make_grads()
    theta = [x.detach().clone() for x in make_params()]
    v = [torch.zeros_like(x) for x in theta]
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            theta[i] = theta[i] * (1 - lr * decay)
            v[i] = alpha * v[i] + (1 - alpha) * g * g
            theta[i] = theta[i] - lr * g / (torch.sqrt(v[i]) + eps)
    ours = run(lambda p: RMSprop(p, lr=lr, weight_decay=WeightDecay(decay)), make_params(), grads)
    l2 = run(lambda p: RMSprop(p, lr=lr, weight_decay=decay), make_params(), grads)
    assert max_abs_diff(ours, theta) <= TOLERANCE
    assert max_abs_diff(ours, l2) > 1e-3


def test_eps_is_added_outside_the_square_root():
    # One step from v_0 = 0: v_1 = (1 - alpha) g^2; a large eps separates sqrt(v) + eps from sqrt(v + eps)
    lr, alpha, eps = 0.1, 0.9, 0.01
    g = torch.tensor([0.01, 0.1, 1.], dtype=torch.float64)
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    p.grad = g.clone()
    RMSprop([p], lr=lr, alpha=alpha, eps=eps).step()
    v = (1 - alpha) * g * g
    outside = -lr * g / (v.sqrt() + eps)
    inside = -lr * g / (v + eps).sqrt()
    assert max_abs_diff([p.detach()], [outside]) <= 1e-15
    assert max_abs_diff([p.detach()], [inside]) > 1e-2


def test_first_step_is_lr_over_sqrt_of_one_minus_alpha():
    # rmsprop.md: no bias correction, so the first step is lr / sqrt(1 - alpha) in every coordinate (eps = 0)
    alpha = 0.99
    p = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([1e-3, -0.5, 2., 30., -7.], dtype=torch.float64)
    RMSprop([p], lr=LR, alpha=alpha, eps=0.).step()
    assert torch.allclose(p.detach().abs(), torch.full((5,), LR / math.sqrt(1 - alpha), dtype=torch.float64),
                          rtol=1e-14, atol=0)
    assert LR / math.sqrt(1 - alpha) == pytest.approx(10 * LR)


def test_centered_denominator_estimates_the_standard_deviation_of_the_gradient():
    # Gradients with mean 3 and standard deviation 0.5 in 2000 coordinates; lr = 0 keeps theta fixed, the state
    # is what is looked at. sqrt(v - g_bar^2) estimates the std, sqrt(v) the root-mean-square sqrt(3^2 + 0.5^2).
    # Enough steps that the zero start is forgotten (alpha^t ~ 3e-7): while the weights (1 - alpha) alpha^(t-k)
    # add up to less than 1, the mean leaks into the estimate, by about mean^2 alpha^t.
    mean, std = 3., 0.5
    gen = torch.Generator().manual_seed(5)
    p = torch.zeros(2000, dtype=torch.float64, requires_grad=True)
    opt = RMSprop([p], lr=0., alpha=0.99, centered=True)
    for _ in range(1500):
        p.grad = mean + std * torch.randn(2000, generator=gen, dtype=torch.float64)
        opt.step()
    state = opt.state[p]
    centered = (state['square_avg'] - state['grad_avg'] ** 2).sqrt()
    assert centered.mean().item() == pytest.approx(std, rel=0.03)
    assert state['square_avg'].sqrt().mean().item() == pytest.approx(math.sqrt(mean ** 2 + std ** 2), rel=0.03)


def test_centered_step_grows_when_the_gradient_never_changes():
    # rmsprop.md: a constant gradient has no variance: v_t - g_bar_t^2 = (1 - alpha^t) alpha^t g^2 -> 0
    alpha, g, t_end = 0.9, 0.5, 200
    steps = {}
    for centered in (False, True):
        p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = RMSprop([p], lr=LR, alpha=alpha, centered=centered)
        for _ in range(t_end):
            before = p.detach().clone()
            p.grad = torch.tensor([g], dtype=torch.float64)
            opt.step()
        steps[centered] = (before - p.detach()).item()
    spread = (1 - alpha ** t_end) * alpha ** t_end * g * g
    assert steps[True] == pytest.approx(LR * g / (math.sqrt(spread) + 1e-8), rel=1e-6)
    assert steps[True] > 1e3 * steps[False]


# ## Hyper-parameters, state, closures

@pytest.mark.parametrize('kwargs, name', [
    (dict(lr=-1.), 'lr'),
    (dict(alpha=-0.1), 'alpha'),
    (dict(alpha=1.5), 'alpha'),
    (dict(eps=-1e-8), 'eps'),
    (dict(momentum=-0.9), 'momentum'),
    (dict(weight_decay=-0.1), 'weight_decay'),
    (dict(weight_decay=float('nan')), 'weight_decay'),
    (dict(centered='yes'), 'centered'),
    (dict(maximize=1), 'maximize'),
    (dict(foreach='always'), 'foreach'),
    (dict(capturable=True), 'capturable'),
    (dict(differentiable=True), 'differentiable'),
])
def test_bad_hyper_parameter_raises_value_error_naming_it(kwargs, name):
    with pytest.raises(ValueError, match=name):
        RMSprop(make_params(), **kwargs)


def test_alpha_above_one_is_refused_although_torch_accepts_it():
    # rmsprop.md: 1 - alpha < 0 would subtract squared gradients from v_t
    torch.optim.RMSprop(make_params(), alpha=1.5)
    with pytest.raises(ValueError, match=r'alpha: 1\.5'):
        RMSprop(make_params(), alpha=1.5)


@pytest.mark.parametrize('group, name', [
    (dict(alpha=2.), 'alpha'), (dict(momentum=-1.), 'momentum'), (dict(eps=-1.), 'eps'),
    (dict(centered=None), 'centered'), (dict(capturable=True), 'capturable'),
])
def test_bad_hyper_parameter_in_added_group_raises_value_error(group, name):
    params = make_params()
    opt = RMSprop(params[:1])
    with pytest.raises(ValueError, match=name):
        opt.add_param_group(dict(params=params[1:], **group))


@pytest.mark.parametrize('foreach', [False, True])
def test_state_dict_round_trip_continues_bit_identically(foreach):
    def make(p):
        return RMSprop(p, lr=LR, centered=True, momentum=0.9, weight_decay=0.1, foreach=foreach)

    opt2 = assert_exact_resume(make, 60)
    assert opt2.param_groups[0]['centered'] and opt2.param_groups[0]['momentum'] == 0.9


def test_step_with_closure_returns_the_loss_and_takes_the_same_step():
    assert_closure_step_matches_manual_step(lambda p: RMSprop(p, lr=0.1, momentum=0.5, centered=True),
                                            target=torch.tensor([1., -2., 3.], dtype=torch.float64), moved=0.1)


@pytest.mark.parametrize('option', ['centered', 'momentum'])
def test_option_switched_on_after_the_first_step_starts_its_buffer_at_zero(option):
    # torch.optim.RMSprop makes these buffers only at the first step; here they are made when first needed
    value = True if option == 'centered' else 0.9
    results = []
    for foreach in (False, True):
        params = make_params()
        opt = RMSprop(params, lr=LR, foreach=foreach)
        grads = make_grads(steps=20)
        for step, step_grads in enumerate(grads):
            if step == 10:
                opt.param_groups[0][option] = value
            for p, g in zip(params, step_grads):
                p.grad = g.clone()
            opt.step()
        key = 'grad_avg' if option == 'centered' else 'momentum_buffer'
        assert all(key in opt.state[p] for p in params)
        results.append([p.detach().clone() for p in params])
    assert max_abs_diff(results[0], results[1]) <= TOLERANCE


# ## Convergence

CONVERGING = {
    'momentum': dict(lr=3e-4, momentum=0.9),
    'centered, momentum': dict(lr=3e-4, momentum=0.9, centered=True),
}


@pytest.mark.parametrize('name', list(CONVERGING))
def test_converges_on_rosenbrock(name):
    assert_converges_on_rosenbrock(lambda p: RMSprop(p, **CONVERGING[name]), steps=3000)


@pytest.mark.parametrize('name', list(CONVERGING))
def test_converges_on_least_squares_regression(name):
    assert_converges_on_least_squares(lambda p: RMSprop(p, **CONVERGING[name]))
