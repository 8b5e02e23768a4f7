"""
LAMB: the page's update rule, pytorch_optimizer.Lamb where the settings can be matched, each of its differences
transcribed and pinned, the per-tensor trust ratio on both paths, the figure, and the usual contracts.
"""

import inspect
import math
from pathlib import Path

import pytest
import torch

from labml_nn.optimizers import lamb as lamb_module
from labml_nn.optimizers import lamb_plot
from labml_nn.optimizers.lamb import Lamb
from opt_testing import (assert_closure_step_matches_manual_step, assert_converges_on_least_squares,
                         assert_converges_on_rosenbrock, assert_exact_resume, compare, make_grads, make_params,
                         max_abs_diff, run)

pytorch_optimizer = pytest.importorskip('pytorch_optimizer')

LR = 1e-2
B1, B2 = 0.9, 0.999


def lamb_formula(theta, grads, lr_at, betas=(B1, B2), eps=1e-6, decay=0., bias_correction=True,
                 clamp=(0., 10.)):
    """
    lamb.md, from the paper: m_t, v_t as Adam; r_t = m_hat / (sqrt(v_hat) + eps) (m, v without bias correction);
    u_t = r_t + lambda theta; theta_t = theta - lr phi(||theta||) / ||u_t|| u_t, phi(z) = min(max(z, lo), hi),
    and a ratio of 1 when ||theta|| = 0 or ||u_t|| = 0.  Returns the parameters and the ratios of each step.
    """
    beta1, beta2 = betas
    theta = [x.detach().clone() for x in theta]
    m = [torch.zeros_like(x) for x in theta]
    v = [torch.zeros_like(x) for x in theta]
    ratios = []
    for t, step_grads in enumerate(grads, start=1):
        ratios.append([])
        for i, g in enumerate(step_grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            if bias_correction:
                r = (m[i] / (1 - beta1 ** t)) / (torch.sqrt(v[i] / (1 - beta2 ** t)) + eps)
            else:
                r = m[i] / (torch.sqrt(v[i]) + eps)
            u = r + decay * theta[i]
            weight_norm = math.sqrt((theta[i] ** 2).sum().item())
            update_norm = math.sqrt((u ** 2).sum().item())
            phi = min(max(weight_norm, clamp[0]), clamp[1])
            ratio = phi / update_norm if weight_norm > 0 and update_norm > 0 else 1.0
            ratios[-1].append(ratio)
            theta[i] = theta[i] - lr_at(t) * ratio * u
    return theta, ratios


def pytorch_optimizer_formula(theta, grads, lr, betas=(B1, B2), eps=1e-6, decay=0., weight_decouple=True,
                              adam_debias=False):
    """
    What pytorch_optimizer.Lamb computes (rectify, pre_norm, adanorm off), transcribed from its documented
    behaviour: with weight_decouple, theta <- theta (1 - lr lambda) first and u = m / (sqrt(v) + eps);
    otherwise u = m / (sqrt(v) + eps) + lambda theta.  ratio = min(||theta||, 10) / (||u|| + eps), 1 if a norm is 0;
    step size lr / (1 - beta1^t), or lr with adam_debias.
    """
    beta1, beta2 = betas
    theta = [x.detach().clone() for x in theta]
    m = [torch.zeros_like(x) for x in theta]
    v = [torch.zeros_like(x) for x in theta]
    for t, step_grads in enumerate(grads, start=1):
        step_size = lr if adam_debias else lr / (1 - beta1 ** t)
        for i, g in enumerate(step_grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            if weight_decouple:
                theta[i] = theta[i] * (1 - lr * decay)
            u = m[i] / (torch.sqrt(v[i]) + eps)
            if not weight_decouple:
                u = u + decay * theta[i]
            weight_norm = min(torch.linalg.vector_norm(theta[i]).item(), 10.)
            update_norm = torch.linalg.vector_norm(u).item()
            ratio = 1.0 if weight_norm == 0 or update_norm == 0 else weight_norm / (update_norm + eps)
            theta[i] = theta[i] - step_size * ratio * u
    return theta


def reference(**kwargs):
    return lambda p: pytorch_optimizer.Lamb(p, lr=LR, foreach=False, **kwargs)


# ## Against pytorch_optimizer

@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('maximize', [False, True])
@pytest.mark.parametrize('decay', [0., 0.1])
def test_equals_pytorch_optimizer_lamb_with_matching_settings(decay, maximize, foreach):
    # Its L2-style decay is the paper's u = r + lambda theta; adam_debias=True keeps lr as the step size;
    # eps = 0 because it also adds eps to ||u|| in the ratio (pinned below)
    compare(lambda p: Lamb(p, lr=LR, eps=0., weight_decay=decay, bias_correction=False, maximize=maximize,
                           foreach=foreach),
            reference(eps=0., weight_decay=decay, weight_decouple=False, adam_debias=True, maximize=maximize))


@pytest.mark.parametrize('foreach', [False, True])
def test_bias_correction_does_not_change_the_step_without_weight_decay(foreach):
    # The trust ratio makes the step independent of the scale of r_t, and without decay that is all it changes
    compare(lambda p: Lamb(p, lr=LR, eps=0., bias_correction=True, foreach=foreach),
            reference(eps=0., adam_debias=True))


def test_bias_correction_changes_the_balance_with_weight_decay():
    grads = make_grads()
    a = run(lambda p: Lamb(p, lr=LR, weight_decay=0.1, bias_correction=True), make_params(), grads)
    b = run(lambda p: Lamb(p, lr=LR, weight_decay=0.1, bias_correction=False), make_params(), grads)
    assert max_abs_diff(a, b) > 1e-2


@pytest.mark.parametrize('decay', [0., 0.1])
def test_pytorch_optimizers_default_step_size_is_lr_over_one_minus_beta1_t(decay):
    # adam_debias=False (its default): the step is multiplied by 1 / (1 - beta1^t) after the trust ratio
    def scheduler(o):
        return torch.optim.lr_scheduler.LambdaLR(o, lambda epoch: 1 / (1 - B1 ** (epoch + 1)))
    compare(lambda p: Lamb(p, lr=LR, eps=0., weight_decay=decay, bias_correction=False),
            reference(eps=0., weight_decay=decay, weight_decouple=False), scheduler=scheduler,
            reference_scheduler=None)
    expected = pytorch_optimizer_formula(make_params(), make_grads(), LR, eps=0., decay=decay, weight_decouple=False)
    assert max_abs_diff(run(reference(eps=0., weight_decay=decay, weight_decouple=False), make_params(),
                            make_grads()), expected) <= 1e-12


@pytest.mark.parametrize('eps', [1e-6, 1e-3])
def test_pytorch_optimizer_adds_eps_to_the_norm_in_the_trust_ratio(eps):
    grads = make_grads()
    theirs = run(reference(eps=eps, weight_decay=0.1, weight_decouple=False, adam_debias=True), make_params(), grads)
    transcribed = pytorch_optimizer_formula(make_params(), grads, LR, eps=eps, decay=0.1, weight_decouple=False,
                                            adam_debias=True)
    assert max_abs_diff(theirs, transcribed) <= 1e-12
    ours = run(lambda p: Lamb(p, lr=LR, eps=eps, weight_decay=0.1, bias_correction=False), make_params(), grads)
    page, _ = lamb_formula(make_params(), grads, lambda t: LR, eps=eps, decay=0.1, bias_correction=False)
    assert max_abs_diff(ours, page) <= 1e-12
    # the only difference left is eps in ||u|| + eps: small, and larger for the larger eps
    assert 1e-9 < max_abs_diff(ours, theirs) < 1e3 * eps


def test_pytorch_optimizers_default_weight_decouple_shrinks_outside_the_ratio():
    grads = make_grads()
    theirs = run(reference(eps=0., weight_decay=0.1, adam_debias=True), make_params(), grads)
    transcribed = pytorch_optimizer_formula(make_params(), grads, LR, eps=0., decay=0.1, weight_decouple=True,
                                            adam_debias=True)
    assert max_abs_diff(theirs, transcribed) <= 1e-12
    ours = run(lambda p: Lamb(p, lr=LR, eps=0., weight_decay=0.1, bias_correction=False), make_params(), grads)
    assert max_abs_diff(ours, theirs) > 1e-3
    # without decay the flag does nothing
    compare(lambda p: Lamb(p, lr=LR, eps=0., bias_correction=False), reference(eps=0., adam_debias=True))


@pytest.mark.parametrize('foreach', [False, True])
def test_clamp_is_active_and_equals_pytorch_optimizers_min_ten(foreach):
    # Weights 8x larger: the (4, 3) tensor has a norm near 28, above the clamp
    start = [8 * p.detach() for p in make_params()]
    assert max(x.norm().item() for x in start) > 10
    compare(lambda p: Lamb(p, lr=LR, eps=0., bias_correction=False, foreach=foreach),
            reference(eps=0., adam_debias=True), start=start)
    grads = make_grads()
    clamped = run(lambda p: Lamb(p, lr=LR), [x.clone().requires_grad_() for x in start], grads)
    unclamped = run(lambda p: Lamb(p, lr=LR, clamp=(0., math.inf)), [x.clone().requires_grad_() for x in start],
                    grads)
    assert max_abs_diff(clamped, unclamped) > 1e-1


def test_defaults_and_shared_keywords_are_pytorch_optimizers():
    ours = inspect.signature(Lamb).parameters
    theirs = inspect.signature(pytorch_optimizer.Lamb).parameters
    for name in ('lr', 'betas', 'weight_decay', 'eps', 'foreach', 'maximize'):
        assert ours[name].kind == inspect.Parameter.KEYWORD_ONLY, name
        assert ours[name].default == theirs[name].default, name
    assert ours['bias_correction'].default is True and ours['clamp'].default == (0.0, 10.0)
    assert pytorch_optimizer.Lamb.clamp == 10.0


# ## The page

@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('clamp', [(0., 10.), (0.5, 2.0)])
@pytest.mark.parametrize('decay', [0., 0.1])
@pytest.mark.parametrize('bias_correction', [True, False])
def test_update_is_the_formula_on_the_page(bias_correction, decay, clamp, foreach):
    grads = make_grads()
    expected, _ = lamb_formula(make_params(), grads, lambda t: LR, eps=1e-3, decay=decay,
                               bias_correction=bias_correction, clamp=clamp)
    ours = run(lambda p: Lamb(p, lr=LR, eps=1e-3, weight_decay=decay, bias_correction=bias_correction, clamp=clamp,
                              foreach=foreach), make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, expected) <= 1e-12


@pytest.mark.parametrize('foreach', [False, True])
def test_trust_ratio_in_the_state_is_the_pages_ratio(foreach):
    start = [p.detach() * s for p, s in zip(make_params(), (5., 1., 0.2))]
    grads = make_grads(steps=20)
    _, expected = lamb_formula(start, grads, lambda t: LR, decay=0.05, clamp=(0.5, 10.))
    params = [x.clone().requires_grad_() for x in start]
    opt = Lamb(params, lr=LR, weight_decay=0.05, clamp=(0.5, 10.), foreach=foreach)
    for step_grads, ratios in zip(grads, expected):
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        opt.step()
        for p, ratio in zip(params, ratios):
            assert opt.state[p]['trust_ratio'].shape == ()
            assert abs(opt.state[p]['trust_ratio'].item() - ratio) <= 1e-12 * ratio


@pytest.mark.parametrize('foreach', [False, True])
def test_each_step_has_norm_lr_times_clamped_weight_norm(foreach):
    # The (4, 3) tensor is scaled above the clamp, the (2, 3, 2) one below it
    start = [p.detach() * s for p, s in zip(make_params(), (5., 1., 0.5))]
    params = [x.clone().requires_grad_() for x in start]
    opt = Lamb(params, lr=LR, weight_decay=0.1, foreach=foreach)
    seen_clamped = False
    for step_grads in make_grads():
        before = [p.detach().clone() for p in params]
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        opt.step()
        for p, b in zip(params, before):
            phi = min(b.norm().item(), 10.)
            seen_clamped |= b.norm().item() > 10.
            assert abs((p.detach() - b).norm().item() - LR * phi) <= 1e-12 * LR * phi
    assert seen_clamped


@pytest.mark.parametrize('foreach', [False, True])
def test_zero_weights_and_zero_updates_take_a_ratio_of_one(foreach):
    eps = 1e-6
    zero_weights = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    zero_grad = torch.ones(3, dtype=torch.float64, requires_grad=True)
    other = torch.ones(5, dtype=torch.float64, requires_grad=True)
    opt = Lamb([zero_weights, zero_grad, other], lr=LR, eps=eps, foreach=foreach)
    g = torch.tensor([0.5, -2., 3., -0.1], dtype=torch.float64)
    zero_weights.grad = g.clone()
    zero_grad.grad = torch.zeros(3, dtype=torch.float64)
    other.grad = torch.full((5,), 0.3, dtype=torch.float64)
    opt.step()
    # ||theta|| = 0: ratio 1, Adam's first step, -lr g / (|g| + eps)
    assert opt.state[zero_weights]['trust_ratio'].item() == 1.0
    assert torch.allclose(zero_weights.detach(), -LR * g / (g.abs() + eps), rtol=1e-14, atol=0)
    # u = 0: ratio 1 and no move
    assert opt.state[zero_grad]['trust_ratio'].item() == 1.0
    assert torch.equal(zero_grad.detach(), torch.ones(3, dtype=torch.float64))
    # the other tensor of the same batch keeps its own ratio: ||theta|| / ||u|| = sqrt(5) / (sqrt(5) 0.3/(0.3+eps))
    assert abs(opt.state[other]['trust_ratio'].item() - (0.3 + eps) / 0.3) <= 1e-14


def test_foreach_equals_per_tensor_with_one_ratio_per_tensor():
    start = [p.detach() * s for p, s in zip(make_params(), (5., 1., 0.2))] + [torch.zeros(3, dtype=torch.float64)]
    grads = [gs + [torch.randn(3, generator=torch.Generator().manual_seed(t), dtype=torch.float64)]
             for t, gs in enumerate(make_grads())]
    a = run(lambda p: Lamb(p, lr=LR, weight_decay=0.1, foreach=False), [x.clone().requires_grad_() for x in start],
            grads)
    b = run(lambda p: Lamb(p, lr=LR, weight_decay=0.1, foreach=True), [x.clone().requires_grad_() for x in start],
            grads)
    assert max_abs_diff(a, [x.detach() for x in start]) > 1e-2
    assert max_abs_diff(a, b) <= 1e-12


@pytest.mark.parametrize('foreach', [False, True])
def test_scheduler_drives_lr(foreach):
    expected, _ = lamb_formula(make_params(), make_grads(), lambda t: LR * 0.3 ** ((t - 1) // 25), decay=0.1)
    ours = run(lambda p: Lamb(p, lr=LR, weight_decay=0.1, foreach=foreach), make_params(), make_grads(),
               scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=25, gamma=0.3))
    assert max_abs_diff(ours, expected) <= 1e-12


@pytest.mark.parametrize('foreach', [False, True])
def test_two_differing_groups_equal_pytorch_optimizer(foreach):
    def groups(p):
        return [{'params': p[:2], 'lr': 3e-2, 'weight_decay': 0.2}, {'params': p[2:], 'betas': (0.8, 0.9)}]
    compare(lambda p: Lamb(groups(p), lr=LR, eps=0., bias_correction=False, foreach=foreach),
            lambda p: pytorch_optimizer.Lamb(groups(p), lr=LR, eps=0., weight_decouple=False, adam_debias=True))


def test_groups_with_their_own_clamp_and_bias_correction_equal_separate_optimizers():
    grads = make_grads()
    settings = [dict(clamp=(0.5, 2.0), bias_correction=False, weight_decay=0.1), dict(lr=3e-2)]
    together = run(lambda p: Lamb([{'params': p[:2], **settings[0]}, {'params': p[2:], **settings[1]}], lr=LR),
                   make_params(), grads)
    first = run(lambda p: Lamb(p, **{'lr': LR, **settings[0]}), make_params()[:2], [g[:2] for g in grads])
    second = run(lambda p: Lamb(p, **settings[1]), make_params()[2:], [g[2:] for g in grads])
    assert all(torch.equal(a, b) for a, b in zip(together, first + second))


@pytest.mark.parametrize('foreach', [False, True])
def test_resume_from_state_dict_is_bit_identical(foreach):
    assert_exact_resume(lambda p: Lamb(p, lr=LR, weight_decay=0.1, foreach=foreach), 60, moved=1e-2)


def test_closure_is_evaluated_once_and_its_loss_returned():
    assert_closure_step_matches_manual_step(lambda p: Lamb(p, lr=0.1))


@pytest.mark.parametrize('kwargs, name', [
    (dict(lr=-1e-3), 'lr'),
    (dict(eps=-1.), 'eps'),
    (dict(betas=(1.0, 0.999)), 'betas[0]'),
    (dict(weight_decay=-0.1), 'weight_decay'),
    (dict(clamp=(-1., 10.)), 'clamp[0]'),
    (dict(clamp=(5., 1.)), 'clamp'),
    (dict(clamp=3.), 'clamp'),
    (dict(bias_correction='yes'), 'bias_correction'),
    (dict(maximize='yes'), 'maximize'),
    (dict(foreach='yes'), 'foreach'),
])
def test_bad_hyper_parameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name.replace('[', r'\[')):
        Lamb(make_params(), **kwargs)


def test_bad_group_added_later_is_rejected():
    opt = Lamb(make_params()[:1])
    with pytest.raises(ValueError, match='clamp'):
        opt.add_param_group({'params': make_params()[1:], 'clamp': (2., 1.)})


def test_arguments_after_params_are_keyword_only():
    with pytest.raises(TypeError):
        Lamb(make_params(), 1e-3)


# Each step has norm lr phi(||theta||), so LAMB settles only as the learning rate decays
def cosine(steps):
    return lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=steps)


def test_converges_on_rosenbrock_with_a_decaying_lr():
    assert_converges_on_rosenbrock(lambda p: Lamb(p, lr=2e-2), steps=3000, scheduler=cosine(3000))


def test_does_not_settle_on_rosenbrock_with_a_constant_lr():
    with pytest.raises(AssertionError):
        assert_converges_on_rosenbrock(lambda p: Lamb(p, lr=2e-2), steps=3000)


def test_converges_on_least_squares_regression_with_a_decaying_lr():
    assert_converges_on_least_squares(lambda p: Lamb(p, lr=2e-2), steps=1500, scheduler=cosine(1500))


# ## The figure

def test_trust_ratio_figure_is_reproducible_and_is_the_committed_file(tmp_path: Path):
    # The committed file was drawn by another process, so equal bytes also show the drawing is reproducible
    drawn = lamb_plot.draw(tmp_path / 'a.svg').read_bytes()
    assert drawn.startswith(b'<?xml') and b'<svg' in drawn and b'<dc:date>' not in drawn
    assert lamb_plot.FIGURE_PATH.read_bytes() == drawn


def test_lamb_page_shows_the_figure():
    assert lamb_plot.FIGURE_PATH.name == 'lamb_trust_ratio.svg'
    assert '(lamb_trust_ratio.svg)' in lamb_module.__doc__


def test_plotted_ratios_are_the_optimizers_and_start_at_the_weights_rms():
    ratios = lamb_plot.trust_ratios(steps=3)
    model = lamb_plot.make_model()
    assert list(ratios) == [name for name, _ in model.named_parameters()]
    # First step: u_1 = g / (|g| + eps), so the ratio is ||theta_0|| / ||g / (|g| + eps)||, about RMS(theta_0)
    gen = torch.Generator().manual_seed(1)
    inputs = torch.randn(256, 16, generator=gen, dtype=torch.float64)
    targets = torch.sin(inputs[:, :1] * 2) + 0.5 * inputs[:, 1:2]
    ((model(inputs) - targets) ** 2).mean().backward()
    for name, p in model.named_parameters():
        g = p.grad
        expected = p.detach().norm().item() / (g / (g.abs() + 1e-6)).norm().item()
        assert abs(ratios[name][0] - expected) <= 1e-9 * expected
        rms = p.detach().pow(2).mean().sqrt().item()
        assert abs(ratios[name][0] / rms - 1) < 0.01
