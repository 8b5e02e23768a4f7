"""
Every update rule written on an optimizer page, computed independently as written there and compared with
what the class does, so that the pages and the code cannot drift apart.
"""

import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.radam import RAdam, rectification, rho_inf, rho_t
from opt_testing import make_grads, make_params, max_abs_diff, run

LR = 1e-2
B1, B2 = 0.9, 0.999


def textbook_adam(theta, grads, lr_at, beta1, beta2, eps_at, amsgrad=False):
    """
    adam.md: m_t = b1 m + (1-b1) g;  v_t = b2 v + (1-b2) g^2;  m_hat = m/(1-b1^t);  v_hat = v/(1-b2^t);
    theta_t = theta - lr_t m_hat / (sqrt(v_hat) + eps_t).  With amsgrad, v_max = max(v_max, v_t) replaces v_t.
    """
    theta = [x.detach().clone() for x in theta]
    m = [torch.zeros_like(x) for x in theta]
    v = [torch.zeros_like(x) for x in theta]
    v_max = [torch.zeros_like(x) for x in theta]
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            v_max[i] = torch.maximum(v_max[i], v[i])
            v_used = v_max[i] if amsgrad else v[i]
            m_hat = m[i] / (1 - beta1 ** t)
            v_hat = v_used / (1 - beta2 ** t)
            theta[i] = theta[i] - lr_at(t) * m_hat / (torch.sqrt(v_hat) + eps_at(t))
    return theta


@pytest.mark.parametrize('amsgrad', [False, True])
def test_textbook_update_is_the_formula_on_the_adam_page(amsgrad):
    grads = make_grads()
    expected = textbook_adam(make_params(), grads, lambda t: LR, B1, B2, lambda t: 1e-3, amsgrad=amsgrad)
    ours = run(lambda p: AMSGrad(p, lr=LR, eps=1e-3, optimized_update=False, amsgrad=amsgrad), make_params(), grads)
    assert max_abs_diff(ours, expected) <= 1e-12


@pytest.mark.parametrize('eps', [1e-3, 1e-8])
def test_optimized_update_equals_textbook_with_eps_hat_relation(eps):
    # adam.md: the optimized form with eps_hat equals the textbook form with eps = eps_hat / sqrt(1 - beta2^t)
    grads = make_grads()
    expected = textbook_adam(make_params(), grads, lambda t: LR, B1, B2,
                             lambda t: eps / math.sqrt(1 - B2 ** t))
    ours = run(lambda p: Adam(p, lr=LR, eps=eps, optimized_update=True), make_params(), grads)
    assert max_abs_diff(ours, expected) <= 1e-12
    # and the relation matters: with a large eps, textbook Adam with the same eps is a different optimizer
    textbook = run(lambda p: Adam(p, lr=LR, eps=eps, optimized_update=False), make_params(), grads)
    if eps >= 1e-3:
        assert max_abs_diff(ours, textbook) > 1e-4


def test_optimized_update_is_the_rearranged_formula():
    # adam.md: alpha_t = lr sqrt(1-b2^t)/(1-b1^t);  theta_t = theta - alpha_t m_t / (sqrt(v_t) + eps_hat)
    eps_hat = 1e-3
    grads = make_grads()
    theta = [x.detach().clone() for x in make_params()]
    m = [torch.zeros_like(x) for x in theta]
    v = [torch.zeros_like(x) for x in theta]
    for t, step_grads in enumerate(grads, start=1):
        alpha = LR * math.sqrt(1 - B2 ** t) / (1 - B1 ** t)
        for i, g in enumerate(step_grads):
            m[i] = B1 * m[i] + (1 - B1) * g
            v[i] = B2 * v[i] + (1 - B2) * g * g
            theta[i] = theta[i] - alpha * m[i] / (torch.sqrt(v[i]) + eps_hat)
    ours = run(lambda p: Adam(p, lr=LR, eps=eps_hat), make_params(), grads)
    assert max_abs_diff(ours, theta) <= 1e-12


def test_decoupled_weight_decay_is_the_formula_on_the_index_page():
    # index.md: theta <- theta (1 - lr lambda) before the update; absolute: theta <- theta (1 - lambda)
    grads = make_grads(steps=1)
    for absolute, factor in [(False, 1 - LR * 0.5), (True, 1 - 0.5)]:
        decayed = [(x.detach() * factor).requires_grad_() for x in make_params()]
        expected = run(lambda p: Adam(p, lr=LR), decayed, grads)
        ours = run(lambda p: Adam(p, lr=LR, weight_decay=WeightDecay(0.5, absolute=absolute)), make_params(), grads)
        assert max_abs_diff(ours, expected) <= 1e-15


def test_l2_weight_decay_adds_lambda_theta_to_the_gradient():
    # index.md: g_t <- g_t + lambda theta_{t-1}
    params = make_params()
    grads = make_grads(steps=1)
    changed = [[g + 0.5 * p.detach() for g, p in zip(grads[0], params)]]
    expected = run(lambda p: Adam(p, lr=LR), make_params(), changed)
    ours = run(lambda p: Adam(p, lr=LR, weight_decay=WeightDecay(0.5, weight_decouple=False)), params, grads)
    assert max_abs_diff(ours, expected) <= 1e-15


def test_rho_and_rectification_are_the_formulas_on_the_radam_page():
    for beta2 in (0.99, 0.999):
        rho_max = 2 / (1 - beta2) - 1
        assert rho_inf(beta2) == pytest.approx(rho_max, rel=1e-15)
        for t in (1, 5, 6, 7, 50, 1000, 10 ** 5):
            rho = rho_max - 2 * t * beta2 ** t / (1 - beta2 ** t)
            assert rho_t(beta2, t) == pytest.approx(rho, rel=1e-12)
            r = rectification(beta2, t)
            if rho <= 5:
                assert r is None
            else:
                assert r == pytest.approx(math.sqrt((rho - 4) * (rho - 2) * rho_max /
                                                    ((rho_max - 4) * (rho_max - 2) * rho)), rel=1e-12)
                assert 0 < r <= 1
    # The page says: for beta2 = 0.999 the first rectified step is t = 6, and r_t tends to 1
    assert rectification(0.999, 5) is None and rectification(0.999, 6) is not None
    assert rectification(0.999, 10 ** 6) == pytest.approx(1, abs=1e-3)


def radam_as_written(theta, grads, lr, beta1, beta2, eps, degenerate_to_sgd, optimized):
    """radam.md: rectified update when rho_t > 5, SGD with momentum (or nothing) otherwise."""
    theta = [x.detach().clone() for x in theta]
    m = [torch.zeros_like(x) for x in theta]
    v = [torch.zeros_like(x) for x in theta]
    rho_max = 2 / (1 - beta2) - 1
    for t, step_grads in enumerate(grads, start=1):
        rho = rho_max - 2 * t * beta2 ** t / (1 - beta2 ** t)
        for i, g in enumerate(step_grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1 ** t)
            if rho > 5:
                r = math.sqrt((rho - 4) * (rho - 2) * rho_max / ((rho_max - 4) * (rho_max - 2) * rho))
                if optimized:
                    # eps added to sqrt(v_t), bias correction in the step size
                    theta[i] = theta[i] - lr * r * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t) * m[i] / (
                            torch.sqrt(v[i]) + eps)
                else:
                    theta[i] = theta[i] - lr * r * m_hat / (torch.sqrt(v[i] / (1 - beta2 ** t)) + eps)
            elif degenerate_to_sgd:
                theta[i] = theta[i] - lr * m_hat
    return theta


@pytest.mark.parametrize('degenerate_to_sgd', [True, False])
@pytest.mark.parametrize('optimized', [True, False])
def test_radam_is_the_update_on_the_radam_page(degenerate_to_sgd, optimized):
    grads = make_grads()
    expected = radam_as_written(make_params(), grads, LR, B1, B2, 1e-3, degenerate_to_sgd, optimized)
    ours = run(lambda p: RAdam(p, lr=LR, eps=1e-3, degenerate_to_sgd=degenerate_to_sgd, optimized_update=optimized),
               make_params(), grads)
    assert max_abs_diff(ours, expected) <= 1e-12


def test_radam_without_sgd_fallback_does_not_move_in_the_first_five_steps():
    params = make_params()
    ours = run(lambda p: RAdam(p, lr=LR, degenerate_to_sgd=False), params, make_grads(steps=5))
    assert max_abs_diff(ours, make_params()) == 0
    # the 0.5.1 spelling is accepted too
    ours = run(lambda p: RAdam(p, lr=LR, degenerated_to_sgd=False), make_params(), make_grads(steps=5))
    assert max_abs_diff(ours, make_params()) == 0


def test_adabelief_first_step_uses_uncorrected_m_as_the_page_says():
    # ada_belief.md: s_1 = (1-b2) b1^2 g^2 + eps, so the first step is about lr / b1 per coordinate
    params = make_params()
    grads = make_grads(steps=1)
    eps = 1e-16
    ours = run(lambda p: AdaBelief(p, lr=LR, eps=eps, rectify=False, optimized_update=False), params, grads)
    step = [(a - b) for a, b in zip(make_params(), ours)]
    for s, g in zip(step, grads[0]):
        assert torch.allclose(s, LR / B1 * torch.sign(g), rtol=1e-6)
    # with the bias-corrected m_hat_1 = g_1 the belief would be 0, s_1 = eps, and the step
    # lr g sqrt(1 - b2) / sqrt(eps): about 3e6 lr g, as the page says
    g = grads[0][0]
    s1 = torch.full_like(g, eps)
    corrected_step = LR * g / (torch.sqrt(s1 / (1 - B2)) + eps)
    assert torch.allclose(corrected_step, LR * g * math.sqrt(1 - B2) / math.sqrt(eps), rtol=1e-6)
    assert (corrected_step.abs() / (LR * g.abs())).min() > 3e6


def test_adabelief_rectify_uses_the_radam_rule_with_the_belief():
    # ada_belief.md: rectify=True is RAdam's rule with s_t in place of v_t
    grads = make_grads()
    theta = [x.detach().clone() for x in make_params()]
    m = [torch.zeros_like(x) for x in theta]
    s = [torch.zeros_like(x) for x in theta]
    eps = 1e-8
    rho_max = 2 / (1 - B2) - 1
    for t, step_grads in enumerate(grads, start=1):
        rho = rho_max - 2 * t * B2 ** t / (1 - B2 ** t)
        for i, g in enumerate(step_grads):
            m[i] = B1 * m[i] + (1 - B1) * g
            s[i] = B2 * s[i] + (1 - B2) * (g - m[i]) ** 2 + eps
            if rho > 5:
                r = math.sqrt((rho - 4) * (rho - 2) * rho_max / ((rho_max - 4) * (rho_max - 2) * rho))
                theta[i] = theta[i] - LR * r * math.sqrt(1 - B2 ** t) / (1 - B1 ** t) * m[i] / (torch.sqrt(s[i]) + eps)
            else:
                theta[i] = theta[i] - LR * m[i] / (1 - B1 ** t)
    ours = run(lambda p: AdaBelief(p, lr=LR, eps=eps), make_params(), grads)
    assert max_abs_diff(ours, theta) <= 1e-12


def test_adabelief_amsgrad_with_rectify_uses_the_maximum():
    # ada_belief.md: unlike the official code, amsgrad=True with rectify=True divides by s_max
    grads = [[g * (10. if step < 10 else 0.1) for g in gs] for step, gs in enumerate(make_grads())]
    betas = (0.9, 0.9)
    with_max = run(lambda p: AdaBelief(p, lr=LR, betas=betas, amsgrad=True), make_params(), grads)
    without = run(lambda p: AdaBelief(p, lr=LR, betas=betas, amsgrad=False), make_params(), grads)
    assert max_abs_diff(with_max, without) > 1e-3


def warmup_factor(t, w):
    # adam_warmup.md: lr_t = lr min(1, t / w)
    return min(1., t / w) if w > 0 else 1.


def cosine_factor(t, w, total):
    # adam_warmup_cosine_decay.md
    if t < w:
        return t / w
    return 0.5 * (1 + math.cos(math.pi * (min(t, total) - w) / (total - w)))


def noam_factor(t, w, d_model):
    # noam.md: d^{-1/2} min(t^{-1/2}, t w^{-3/2}); t^{-1/2} when w = 0
    if w == 0:
        return d_model ** -0.5 * t ** -0.5
    return d_model ** -0.5 * min(t ** -0.5, t * w ** -1.5)


@pytest.mark.parametrize('name, make, factor', [
    ('warmup', lambda p: AdamWarmup(p, lr=LR, eps=1e-3, optimized_update=False, warmup=30),
     lambda t: warmup_factor(t, 30)),
    ('no warmup', lambda p: AdamWarmup(p, lr=LR, eps=1e-3, optimized_update=False, warmup=0),
     lambda t: warmup_factor(t, 0)),
    ('cosine', lambda p: AdamWarmupCosineDecay(p, lr=LR, eps=1e-3, optimized_update=False, warmup=20,
                                               total_steps=100),
     lambda t: cosine_factor(t, 20, 100)),
    ('noam', lambda p: Noam(p, lr=1.0, eps=1e-3, optimized_update=False, warmup=30, d_model=64),
     lambda t: noam_factor(t, 30, 64) / LR),
    ('noam without warmup', lambda p: Noam(p, lr=1.0, eps=1e-3, optimized_update=False, warmup=0, d_model=64),
     lambda t: noam_factor(t, 0, 64) / LR),
])
def test_schedule_is_the_formula_on_its_page(name, make, factor):
    grads = make_grads()
    expected = textbook_adam(make_params(), grads, lambda t: LR * factor(t), B1, B2, lambda t: 1e-3)
    ours = run(make, make_params(), grads)
    assert max_abs_diff(ours, expected) <= 1e-12


def test_schedule_landmarks():
    opt = AdamWarmupCosineDecay(make_params(), lr=1.0, warmup=10, total_steps=110)
    group = opt.param_groups[0]
    lr_at = lambda t: opt.get_lr({'step': t}, group)  # noqa: E731
    assert lr_at(5) == pytest.approx(0.5)
    assert lr_at(10) == pytest.approx(1.0)
    assert lr_at(60) == pytest.approx(0.5)
    assert lr_at(110) == pytest.approx(0.0, abs=1e-15)
    assert lr_at(500) == pytest.approx(0.0, abs=1e-15)
    noam = Noam(make_params(), lr=1.0, warmup=100, d_model=256)
    group = noam.param_groups[0]
    # the two branches of the min meet at t = w, which is the peak
    peak = noam.get_lr({'step': 100}, group)
    assert peak == pytest.approx(256 ** -0.5 * 100 ** -0.5)
    assert noam.get_lr({'step': 99}, group) < peak and noam.get_lr({'step': 101}, group) < peak
