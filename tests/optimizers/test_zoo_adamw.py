"""AdamW: torch.optim.AdamW in every option, the page's update rule, the decay scaling, and the usual contracts."""

import inspect

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adamw import AdamW
from labml_nn.optimizers.amsgrad import AMSGrad
from opt_testing import (assert_closure_step_matches_manual_step, assert_converges_on_least_squares,
                         assert_converges_on_rosenbrock, assert_exact_resume, compare, make_grads, make_params,
                         max_abs_diff, run)

LR = 1e-2


def decaying_then_small_grads():
    """Large gradients, then small ones: with beta2 = 0.9, v_t falls well below its maximum (AMSGrad is active)."""
    return [[g * (10. if step < 10 else 0.1) for g in gs] for step, gs in enumerate(make_grads())]


@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('maximize', [False, True])
@pytest.mark.parametrize('weight_decay', [0., 1e-2, 0.3])
@pytest.mark.parametrize('amsgrad', [False, True])
def test_equals_torch_adamw_in_every_option(amsgrad, weight_decay, maximize, foreach):
    options = dict(lr=LR, betas=(0.9, 0.9), eps=1e-8, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
    compare(lambda p: AdamW(p, foreach=foreach, **options),
            lambda p: torch.optim.AdamW(p, foreach=False, **options), grads=decaying_then_small_grads())


def test_amsgrad_is_active_in_the_comparison():
    grads = decaying_then_small_grads()
    a = run(lambda p: AdamW(p, lr=LR, betas=(0.9, 0.9), amsgrad=True), make_params(), grads)
    b = run(lambda p: AdamW(p, lr=LR, betas=(0.9, 0.9), amsgrad=False), make_params(), grads)
    assert max_abs_diff(a, b) > 1e-2


def test_defaults_and_keywords_are_torch_adamws():
    ours = inspect.signature(AdamW).parameters
    theirs = inspect.signature(torch.optim.AdamW).parameters
    for name, parameter in theirs.items():
        if name == 'params':
            continue
        assert name in ours, name
        assert ours[name].kind == inspect.Parameter.KEYWORD_ONLY, name
        if name == 'fused':
            assert ours[name].default is None and parameter.default is None
        else:
            assert ours[name].default == parameter.default, name
    assert ours['optimized_update'].default is False


def test_default_construction_equals_default_torch_adamw():
    compare(lambda p: AdamW(p), lambda p: torch.optim.AdamW(p), grads=make_grads(scale=30.))


@pytest.mark.parametrize('amsgrad', [False, True])
@pytest.mark.parametrize('foreach', [False, True])
def test_equals_adam_with_decoupled_weight_decay_and_textbook_eps(amsgrad, foreach):
    grads = decaying_then_small_grads()
    ours = run(lambda p: AdamW(p, lr=LR, betas=(0.9, 0.9), weight_decay=0.1, amsgrad=amsgrad, foreach=foreach),
               make_params(), grads)
    if amsgrad:
        adam = AMSGrad
    else:
        def adam(p, **k):
            return Adam(p, **k)
    expected = run(lambda p: adam(p, lr=LR, betas=(0.9, 0.9), eps=1e-8, optimized_update=False, foreach=foreach,
                                  weight_decay=WeightDecay(0.1, weight_decouple=True)), make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert all(torch.equal(a, b) for a, b in zip(ours, expected))


def test_a_number_is_decoupled_decay_not_adams_l2():
    grads = make_grads()
    decoupled = run(lambda p: AdamW(p, lr=LR, weight_decay=0.3), make_params(), grads)
    l2 = run(lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8, weight_decay=0.3), make_params(), grads)
    assert max_abs_diff(decoupled, l2) > 1e-2
    opt = AdamW(make_params(), weight_decay=0.3)
    assert opt.param_groups[0]['weight_decouple'] is True


def test_with_zero_gradients_the_weights_only_shrink_by_one_minus_lr_lambda():
    # m_t = 0, so the Adam step is 0 / (0 + eps) = 0 and only theta (1 - eta lambda) is left
    start = make_params()
    grads = [[torch.zeros_like(p) for p in start] for _ in range(50)]
    ours = run(lambda p: AdamW(p, lr=0.1, weight_decay=0.2), make_params(), grads)
    for x, x0 in zip(ours, start):
        assert torch.allclose(x, x0.detach() * (1 - 0.1 * 0.2) ** 50, rtol=1e-13, atol=0)


def page_update(theta, grads, lr_at, beta1, beta2, eps, decay, amsgrad=False):
    """
    adamw.md, written out: theta <- theta (1 - lr lambda); m, v as Adam; (v_max = max(v_max, v));
    theta_t = theta - lr m_hat / (sqrt(v_hat) + eps)
    """
    theta = [x.detach().clone() for x in theta]
    m = [torch.zeros_like(x) for x in theta]
    v = [torch.zeros_like(x) for x in theta]
    v_max = [torch.zeros_like(x) for x in theta]
    for t, step_grads in enumerate(grads, start=1):
        lr = lr_at(t)
        for i, g in enumerate(step_grads):
            theta[i] = theta[i] * (1 - lr * decay)
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            v_max[i] = torch.maximum(v_max[i], v[i])
            m_hat = m[i] / (1 - beta1 ** t)
            v_hat = (v_max[i] if amsgrad else v[i]) / (1 - beta2 ** t)
            theta[i] = theta[i] - lr * m_hat / (torch.sqrt(v_hat) + eps)
    return theta


def paper_algorithm_2(theta, grads, alpha, schedule, beta1, beta2, eps, decay):
    """Loshchilov & Hutter, Alg. 2: theta_t = theta - eta_t (alpha m_hat / (sqrt(v_hat) + eps) + lambda theta)."""
    theta = [x.detach().clone() for x in theta]
    m = [torch.zeros_like(x) for x in theta]
    v = [torch.zeros_like(x) for x in theta]
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1 ** t)
            v_hat = v[i] / (1 - beta2 ** t)
            theta[i] = theta[i] - schedule(t) * (alpha * m_hat / (torch.sqrt(v_hat) + eps) + decay * theta[i])
    return theta


@pytest.mark.parametrize('amsgrad', [False, True])
@pytest.mark.parametrize('foreach', [False, True])
def test_update_is_the_formula_on_the_page(amsgrad, foreach):
    grads = decaying_then_small_grads()
    expected = page_update(make_params(), grads, lambda t: LR, 0.9, 0.9, 1e-3, 0.2, amsgrad=amsgrad)
    ours = run(lambda p: AdamW(p, lr=LR, betas=(0.9, 0.9), eps=1e-3, weight_decay=0.2, amsgrad=amsgrad,
                               foreach=foreach), make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, expected) <= 1e-12


def test_decoupled_step_equals_the_one_line_form_on_the_page():
    # theta_t = theta - lr (m_hat / (sqrt(v_hat) + eps) + lambda theta): Algorithm 2 with alpha = 1, eta_t = lr
    grads = make_grads()
    expected = paper_algorithm_2(make_params(), grads, 1.0, lambda t: LR, 0.9, 0.999, 1e-8, 0.2)
    ours = run(lambda p: AdamW(p, lr=LR, weight_decay=0.2), make_params(), grads)
    assert max_abs_diff(ours, expected) <= 1e-12


def test_papers_alpha_and_schedule_are_lr_and_weight_decay_over_alpha():
    # The paper's decay per step is eta_t lambda; with our single lr = alpha eta_t it is reached by lambda / alpha
    alpha, decay = 0.05, 0.3
    grads = make_grads()
    schedule = lambda t: 0.5 ** ((t - 1) // 30)  # noqa: E731
    expected = paper_algorithm_2(make_params(), grads, alpha, schedule, 0.9, 0.999, 1e-8, decay)
    ours = run(lambda p: AdamW(p, lr=alpha, weight_decay=decay / alpha), make_params(), grads,
               scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5))
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, expected) <= 1e-12
    # and passing the paper's lambda unchanged decays alpha times less
    naive = run(lambda p: AdamW(p, lr=alpha, weight_decay=decay), make_params(), grads,
                scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5))
    assert max_abs_diff(naive, expected) > 1e-2


def test_absolute_weight_decay_object_is_accepted():
    grads = make_grads()
    ours = run(lambda p: AdamW(p, lr=LR, weight_decay=WeightDecay(0.01, absolute=True)), make_params(), grads)
    expected = page_update(make_params(), grads, lambda t: LR, 0.9, 0.999, 1e-8, 0.01 / LR)
    assert max_abs_diff(ours, expected) <= 1e-12


@pytest.mark.parametrize('foreach', [False, True])
def test_scheduler_drives_lr_and_decay_like_torch(foreach):
    def scheduler(o):
        return torch.optim.lr_scheduler.StepLR(o, step_size=25, gamma=0.3)
    compare(lambda p: AdamW(p, lr=LR, weight_decay=0.5, foreach=foreach),
            lambda p: torch.optim.AdamW(p, lr=LR, weight_decay=0.5, foreach=False), scheduler=scheduler)


@pytest.mark.parametrize('foreach', [False, True])
def test_two_differing_groups_equal_torch(foreach):
    def groups(p):
        return [{'params': p[:2], 'lr': 3e-2, 'weight_decay': 0.4, 'amsgrad': True, 'betas': (0.8, 0.9)},
                {'params': p[2:], 'eps': 1e-3}]
    compare(lambda p: AdamW(groups(p), lr=LR, foreach=foreach),
            lambda p: torch.optim.AdamW(groups(p), lr=LR, foreach=False), grads=decaying_then_small_grads())


@pytest.mark.parametrize('amsgrad', [False, True])
@pytest.mark.parametrize('foreach', [False, True])
def test_resume_from_state_dict_is_bit_identical(amsgrad, foreach):
    assert_exact_resume(lambda p: AdamW(p, lr=LR, weight_decay=0.1, amsgrad=amsgrad, foreach=foreach), 60, moved=1e-2)


def test_closure_is_evaluated_once_and_its_loss_returned():
    assert_closure_step_matches_manual_step(lambda p: AdamW(p, lr=0.1))


@pytest.mark.parametrize('kwargs, name', [
    (dict(lr=-1e-3), 'lr'),
    (dict(eps=-1.), 'eps'),
    (dict(betas=(1.0, 0.999)), 'betas[0]'),
    (dict(betas=(0.9, -0.1)), 'betas[1]'),
    (dict(weight_decay=-0.1), 'weight_decay'),
    (dict(maximize='yes'), 'maximize'),
    (dict(foreach='yes'), 'foreach'),
    (dict(capturable=True), 'capturable'),
    (dict(differentiable=True), 'differentiable'),
    (dict(fused='yes'), 'fused'),
    (dict(fused=True, foreach=True), 'fused'),
])
def test_bad_hyper_parameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name.replace('[', r'\[')):
        AdamW(make_params(), **kwargs)


def test_bad_group_added_later_is_rejected():
    opt = AdamW(make_params()[:1])
    with pytest.raises(ValueError, match='weight_decay'):
        opt.add_param_group({'params': make_params()[1:], 'weight_decay': -1.})


def test_arguments_after_params_are_keyword_only():
    with pytest.raises(TypeError):
        AdamW(make_params(), 1e-3)


def test_converges_on_rosenbrock():
    assert_converges_on_rosenbrock(lambda p: AdamW(p, lr=2e-2, weight_decay=1e-3))


def test_converges_on_least_squares_regression():
    assert_converges_on_least_squares(lambda p: AdamW(p, lr=2e-2, weight_decay=1e-4))
