"""
QHAdam: pytorch_optimizer.QHAdam with matching settings, the page's update rule and special cases,
the float32 bias-correction weights that make up the only difference from pytorch_optimizer, and the contracts.
"""

import inspect

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.qhadam import QHAdam
from opt_testing import (assert_closure_step_matches_manual_step, assert_converges_on_least_squares,
                         assert_converges_on_rosenbrock, assert_exact_resume, compare, make_grads, make_params,
                         max_abs_diff, run)

pytorch_optimizer = pytest.importorskip('pytorch_optimizer')

LR = 1e-2
# pytorch_optimizer keeps its bias-correction weights in float32 (see the page and the tests below):
# in float64 its parameters differ from the exact formula by ~2e-8 after 120 steps
REFERENCE_TOLERANCE = 1e-7

SETTINGS = {
    'recommended': dict(betas=(0.995, 0.999), nus=(0.7, 1.0)),
    'adam betas': dict(betas=(0.9, 0.999), nus=(0.7, 1.0)),
    'nu2 < 1': dict(betas=(0.9, 0.99), nus=(0.5, 0.6), eps=1e-3),
    'L2': dict(betas=(0.9, 0.999), nus=(0.7, 1.0), weight_decay=0.1),
    'decoupled': dict(betas=(0.9, 0.999), nus=(0.7, 1.0), weight_decay=0.1, weight_decouple=True),
    'fixed decay': dict(betas=(0.9, 0.999), nus=(0.7, 1.0), weight_decay=1e-3, weight_decouple=True,
                        fixed_decay=True),
    'maximize': dict(betas=(0.9, 0.999), nus=(0.8, 0.9), maximize=True),
}


@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('name', list(SETTINGS))
def test_equals_pytorch_optimizer_qhadam(name, foreach):
    settings = SETTINGS[name]
    difference = compare(lambda p: QHAdam(p, lr=LR, foreach=foreach, **settings),
                         lambda p: pytorch_optimizer.QHAdam(p, lr=LR, foreach=False, **settings),
                         tolerance=REFERENCE_TOLERANCE)
    # The difference is not zero: it is the float32 rounding pinned below
    assert difference > 1e-12


def qhadam_formula(theta, grads, lr, betas, nus, eps, weight_dtype=None):
    """
    qhadam.md, written from the paper:
        m_t = b1 m + (1-b1) g;  v_t = b2 v + (1-b2) g^2;  m_hat = m_t/(1-b1^t);  v_hat = v_t/(1-b2^t)
        theta_t = theta - lr ((1-nu1) g + nu1 m_hat) / (sqrt((1-nu2) g^2 + nu2 v_hat) + eps)
    With `weight_dtype`, m_hat and v_hat are computed the way pytorch_optimizer does instead:
    w_t = 1 + b w_{t-1} kept in `weight_dtype`, m_hat <- m_hat + (g - m_hat) / w_t.
    """
    (beta1, beta2), (nu1, nu2) = betas, nus
    theta = [x.detach().clone() for x in theta]
    m = [torch.zeros_like(x) for x in theta]
    v = [torch.zeros_like(x) for x in theta]
    if weight_dtype is not None:
        w1 = torch.zeros((), dtype=weight_dtype)
        w2 = torch.zeros((), dtype=weight_dtype)
    for t, step_grads in enumerate(grads, start=1):
        if weight_dtype is not None:
            w1 = w1 * beta1 + 1
            w2 = w2 * beta2 + 1
        for i, g in enumerate(step_grads):
            if weight_dtype is None:
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                m_hat = m[i] / (1 - beta1 ** t)
                v_hat = v[i] / (1 - beta2 ** t)
            else:
                # here m and v hold the bias-corrected averages themselves
                m[i] = m[i] + (g - m[i]) * (1 / w1).to(g.dtype)
                v[i] = v[i] + (g * g - v[i]) * (1 / w2).to(g.dtype)
                m_hat, v_hat = m[i], v[i]
            numerator = (1 - nu1) * g + nu1 * m_hat
            denominator = torch.sqrt((1 - nu2) * g * g + nu2 * v_hat) + eps
            theta[i] = theta[i] - lr * numerator / denominator
    return theta


@pytest.mark.parametrize('nus', [(0.7, 1.0), (0.3, 0.5), (0.0, 1.0)])
@pytest.mark.parametrize('foreach', [False, True])
def test_update_is_the_formula_on_the_page(nus, foreach):
    grads = make_grads()
    expected = qhadam_formula(make_params(), grads, LR, (0.9, 0.99), nus, 1e-3)
    ours = run(lambda p: QHAdam(p, lr=LR, betas=(0.9, 0.99), nus=nus, eps=1e-3, foreach=foreach), make_params(),
               grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, expected) <= 1e-12


def test_pytorch_optimizers_difference_is_its_float32_bias_correction_weights():
    grads = make_grads()
    settings = dict(betas=(0.9, 0.999), nus=(0.7, 1.0), eps=1e-8)
    reference = run(lambda p: pytorch_optimizer.QHAdam(p, lr=LR, **settings), make_params(), grads)
    # with its weights in float32, the formula reproduces pytorch_optimizer ...
    emulated = qhadam_formula(make_params(), grads, LR, weight_dtype=torch.float32, **settings)
    assert max_abs_diff(reference, emulated) <= 1e-12
    # ... with them in float64 it is the exact formula, which is what our class computes
    exact_weights = qhadam_formula(make_params(), grads, LR, weight_dtype=torch.float64, **settings)
    ours = run(lambda p: QHAdam(p, lr=LR, **settings), make_params(), grads)
    assert max_abs_diff(ours, exact_weights) <= 1e-12
    assert 1e-12 < max_abs_diff(ours, reference) <= REFERENCE_TOLERANCE


@pytest.mark.parametrize('foreach', [False, True])
def test_nus_one_one_is_textbook_adam(foreach):
    grads = make_grads()
    ours = run(lambda p: QHAdam(p, lr=LR, betas=(0.9, 0.999), nus=(1.0, 1.0), foreach=foreach), make_params(), grads)
    adam = run(lambda p: Adam(p, lr=LR, eps=1e-8, optimized_update=False), make_params(), grads)
    assert max_abs_diff(ours, adam) <= 1e-12


def test_nu1_zero_is_rmsprop_with_bias_correction():
    # theta_t = theta - lr g_t / (sqrt(v_hat) + eps): the numerator holds no momentum at all
    beta2, eps = 0.99, 1e-8
    grads = make_grads()
    theta = [x.detach().clone() for x in make_params()]
    v = [torch.zeros_like(x) for x in theta]
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            theta[i] = theta[i] - LR * g / (torch.sqrt(v[i] / (1 - beta2 ** t)) + eps)
    ours = run(lambda p: QHAdam(p, lr=LR, betas=(0.9, beta2), nus=(0.0, 1.0), eps=eps), make_params(), grads)
    assert max_abs_diff(ours, theta) <= 1e-12


def test_nu2_below_one_bounds_the_step_by_the_current_gradient():
    # the denominator is at least sqrt(1 - nu2) |g_t|, so |step| <= lr |numerator| / (sqrt(1 - nu2) |g_t|)
    nu1, nu2, beta1 = 0.7, 0.75, 0.9
    params = make_params()
    opt = QHAdam(params, lr=LR, betas=(beta1, 0.999), nus=(nu1, nu2), eps=0.)
    m = [torch.zeros_like(p) for p in params]
    for t, step_grads in enumerate(make_grads(), start=1):
        before = [p.detach().clone() for p in params]
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        opt.step()
        for i, (p, g) in enumerate(zip(params, step_grads)):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            numerator = (1 - nu1) * g + nu1 * m[i] / (1 - beta1 ** t)
            bound = LR * numerator.abs() / ((1 - nu2) ** 0.5 * g.abs())
            assert ((p.detach() - before[i]).abs() <= bound * (1 + 1e-12)).all()


def test_defaults_are_the_authors_recommendation_and_keywords_are_pytorch_optimizers():
    ours = inspect.signature(QHAdam).parameters
    theirs = inspect.signature(pytorch_optimizer.QHAdam).parameters
    for name, parameter in theirs.items():
        if name in ('params', 'kwargs'):
            continue
        assert name in ours and ours[name].kind == inspect.Parameter.KEYWORD_ONLY, name
        if name not in ('betas', 'nus'):
            assert ours[name].default == parameter.default, name
    assert ours['nus'].default == (0.7, 1.0) and ours['betas'].default == (0.995, 0.999)
    # theirs default to plain Adam
    assert theirs['nus'].default == (1.0, 1.0)


def test_weight_decay_object_is_accepted_and_flags_fill_the_group():
    opt = QHAdam(make_params(), weight_decay=0.1, weight_decouple=True, fixed_decay=True)
    group = opt.param_groups[0]
    assert (group['weight_decay'], group['weight_decouple'], group['weight_decay_absolute']) == (0.1, True, True)
    grads = make_grads()
    a = run(lambda p: QHAdam(p, lr=LR, weight_decay=WeightDecay(1e-3, absolute=True)), make_params(), grads)
    b = run(lambda p: QHAdam(p, lr=LR, weight_decay=1e-3, weight_decouple=True, fixed_decay=True), make_params(),
            grads)
    assert all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize('foreach', [False, True])
def test_scheduler_drives_lr_like_pytorch_optimizer(foreach):
    def scheduler(o):
        return torch.optim.lr_scheduler.StepLR(o, step_size=25, gamma=0.3)
    compare(lambda p: QHAdam(p, lr=LR, weight_decay=0.2, weight_decouple=True, foreach=foreach),
            lambda p: pytorch_optimizer.QHAdam(p, lr=LR, betas=(0.995, 0.999), nus=(0.7, 1.0), weight_decay=0.2,
                                               weight_decouple=True),
            scheduler=scheduler, tolerance=REFERENCE_TOLERANCE)


@pytest.mark.parametrize('foreach', [False, True])
def test_two_differing_groups_equal_pytorch_optimizer(foreach):
    def groups(p):
        return [{'params': p[:2], 'lr': 3e-2, 'nus': (0.4, 0.8), 'betas': (0.8, 0.9)},
                {'params': p[2:], 'eps': 1e-3, 'weight_decay': 0.1}]
    compare(lambda p: QHAdam(groups(p), lr=LR, betas=(0.9, 0.999), nus=(0.7, 1.0), foreach=foreach),
            lambda p: pytorch_optimizer.QHAdam(groups(p), lr=LR, betas=(0.9, 0.999), nus=(0.7, 1.0)),
            tolerance=REFERENCE_TOLERANCE)


def test_foreach_equals_per_tensor():
    grads = make_grads()
    settings = dict(lr=LR, nus=(0.6, 0.9), weight_decay=0.1)
    a = run(lambda p: QHAdam(p, foreach=False, **settings), make_params(), grads)
    b = run(lambda p: QHAdam(p, foreach=True, **settings), make_params(), grads)
    assert max_abs_diff(a, b) <= 1e-12


@pytest.mark.parametrize('foreach', [False, True])
def test_resume_from_state_dict_is_bit_identical(foreach):
    assert_exact_resume(lambda p: QHAdam(p, lr=LR, nus=(0.6, 0.9), weight_decay=0.1, foreach=foreach), 60,
                        moved=1e-2)


def test_closure_is_evaluated_once_and_its_loss_returned():
    assert_closure_step_matches_manual_step(lambda p: QHAdam(p, lr=0.1))


@pytest.mark.parametrize('kwargs, name', [
    (dict(lr=-1e-3), 'lr'),
    (dict(eps=-1.), 'eps'),
    (dict(betas=(1.0, 0.999)), 'betas[0]'),
    (dict(nus=(1.5, 1.0)), 'nus[0]'),
    (dict(nus=(0.7, -0.1)), 'nus[1]'),
    (dict(nus=0.7), 'nus'),
    (dict(weight_decay=-0.1), 'weight_decay'),
    (dict(maximize='yes'), 'maximize'),
    (dict(defaults=dict(optimized_update=True)), 'optimized_update'),
])
def test_bad_hyper_parameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name.replace('[', r'\[')):
        QHAdam(make_params(), **kwargs)


def test_bad_group_added_later_is_rejected():
    opt = QHAdam(make_params()[:1])
    with pytest.raises(ValueError, match=r'nus\[1\]'):
        opt.add_param_group({'params': make_params()[1:], 'nus': (0.5, 2.0)})


def test_arguments_after_params_are_keyword_only():
    with pytest.raises(TypeError):
        QHAdam(make_params(), 1e-3)


def test_converges_on_rosenbrock():
    assert_converges_on_rosenbrock(lambda p: QHAdam(p, lr=2e-2))


def test_converges_on_least_squares_regression():
    assert_converges_on_least_squares(lambda p: QHAdam(p, lr=2e-2))
