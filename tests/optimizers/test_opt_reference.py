"""
The optimizers against independent implementations: torch.optim and the official AdaBelief package,
in float64, with identical initial parameters and gradients, for more than 100 steps.
"""

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.radam import RAdam
from opt_testing import STEPS, make_grads, make_params, max_abs_diff, run

adabelief_pytorch = pytest.importorskip('adabelief_pytorch')

LR = 1e-2


def compare(ours, reference, grads=None, tolerance=1e-12, dtype=torch.float64):
    """Run both optimizers from the same start on the same gradients; return the largest difference."""
    assert len(grads or make_grads()) >= 100
    grads = grads or make_grads(dtype=dtype)
    a = run(ours, make_params(dtype=dtype), grads)
    b = run(reference, make_params(dtype=dtype), grads)
    # The parameters moved, so equality is not trivially true
    assert max_abs_diff(a, make_params(dtype=dtype)) > 1e-2
    difference = max_abs_diff(a, b)
    assert difference <= tolerance, difference
    return difference


@pytest.mark.parametrize('foreach', [False, True])
def test_textbook_adam_equals_torch_adam(foreach):
    compare(lambda p: Adam(p, lr=LR, eps=1e-8, optimized_update=False, foreach=foreach),
            lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8))


@pytest.mark.parametrize('foreach', [False, True])
def test_amsgrad_equals_torch_adam_amsgrad(foreach):
    compare(lambda p: AMSGrad(p, lr=LR, eps=1e-8, optimized_update=False, foreach=foreach),
            lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8, amsgrad=True))


def test_amsgrad_maximum_is_active_in_the_comparison():
    # Large gradients, then small ones, and a short memory (beta2 = 0.9): v_t falls well below its maximum
    grads = [[g * (10. if step < 10 else 0.1) for g in gs] for step, gs in enumerate(make_grads())]
    betas = (0.9, 0.9)
    a = run(lambda p: AMSGrad(p, lr=LR, betas=betas, eps=1e-8, optimized_update=False), make_params(), grads)
    b = run(lambda p: Adam(p, lr=LR, betas=betas, eps=1e-8, optimized_update=False), make_params(), grads)
    assert max_abs_diff(a, b) > 1e-2
    compare(lambda p: AMSGrad(p, lr=LR, betas=betas, eps=1e-8, optimized_update=False),
            lambda p: torch.optim.Adam(p, lr=LR, betas=betas, eps=1e-8, amsgrad=True), grads=grads)


@pytest.mark.parametrize('foreach', [False, True])
def test_radam_equals_torch_radam(foreach):
    compare(lambda p: RAdam(p, lr=LR, eps=1e-8, foreach=foreach),
            lambda p: torch.optim.RAdam(p, lr=LR, eps=1e-8))


def test_radam_with_l2_equals_torch_radam_weight_decay():
    compare(lambda p: RAdam(p, lr=LR, eps=1e-8, weight_decay=WeightDecay(0.1, weight_decouple=False)),
            lambda p: torch.optim.RAdam(p, lr=LR, eps=1e-8, weight_decay=0.1))


def test_radam_with_decoupled_decay_equals_torch_radam_decoupled():
    compare(lambda p: RAdam(p, lr=LR, eps=1e-8, weight_decay=WeightDecay(0.1)),
            lambda p: torch.optim.RAdam(p, lr=LR, eps=1e-8, weight_decay=0.1, decoupled_weight_decay=True))


@pytest.mark.parametrize('foreach', [False, True])
def test_adam_with_decoupled_weight_decay_equals_torch_adamw(foreach):
    compare(lambda p: Adam(p, lr=LR, eps=1e-8, optimized_update=False, foreach=foreach,
                           weight_decay=WeightDecay(0.1, weight_decouple=True)),
            lambda p: torch.optim.AdamW(p, lr=LR, eps=1e-8, weight_decay=0.1))


@pytest.mark.parametrize('foreach', [False, True])
def test_adam_with_l2_weight_decay_equals_torch_adam_weight_decay(foreach):
    compare(lambda p: Adam(p, lr=LR, eps=1e-8, optimized_update=False, foreach=foreach,
                           weight_decay=WeightDecay(0.1, weight_decouple=False)),
            lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8, weight_decay=0.1))


def test_adam_float32_matches_torch_adam_float32():
    compare(lambda p: Adam(p, lr=LR, eps=1e-8, optimized_update=False),
            lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8), dtype=torch.float32, tolerance=1e-5)


def official_adabelief(**kwargs):
    return lambda p: adabelief_pytorch.AdaBelief(p, lr=LR, print_change_log=False, **kwargs)


WEIGHT_DECAYS = [
    WeightDecay(0.),
    WeightDecay(0.1, weight_decouple=True),
    WeightDecay(0.1, weight_decouple=False),
    WeightDecay(0.1, weight_decouple=True, absolute=True),
]


def _official_decay(decay: WeightDecay):
    return dict(weight_decay=decay.weight_decay, weight_decouple=decay.weight_decouple,
                fixed_decay=decay.absolute)


@pytest.mark.parametrize('decay', WEIGHT_DECAYS, ids=repr)
@pytest.mark.parametrize('eps', [1e-16, 1e-8])
@pytest.mark.parametrize('degenerate_to_sgd', [True, False])
def test_rectified_adabelief_equals_official_adabelief(decay, eps, degenerate_to_sgd, capsys):
    compare(lambda p: AdaBelief(p, lr=LR, eps=eps, weight_decay=decay, rectify=True,
                                degenerate_to_sgd=degenerate_to_sgd),
            official_adabelief(eps=eps, rectify=True, degenerated_to_sgd=degenerate_to_sgd, **_official_decay(decay)),
            tolerance=1e-9)


@pytest.mark.parametrize('decay', WEIGHT_DECAYS, ids=repr)
@pytest.mark.parametrize('eps', [1e-16, 1e-8])
@pytest.mark.parametrize('amsgrad', [False, True])
def test_plain_adabelief_equals_official_adabelief(decay, eps, amsgrad, capsys):
    compare(lambda p: AdaBelief(p, lr=LR, eps=eps, weight_decay=decay, rectify=False, amsgrad=amsgrad,
                                optimized_update=False),
            official_adabelief(eps=eps, rectify=False, amsgrad=amsgrad, **_official_decay(decay)),
            tolerance=1e-9)


def adabelief_algorithm_2(theta, grads, lr, beta1, beta2, eps):
    """
    Algorithm 2 of Zhuang et al. (2020), transcribed line by line in float64:
        m_t = beta1 m_{t-1} + (1 - beta1) g_t
        s_t = beta2 s_{t-1} + (1 - beta2) (g_t - m_t)^2 + eps
        m_hat = m_t / (1 - beta1^t),  s_hat = s_t / (1 - beta2^t)
        theta_t = theta_{t-1} - lr m_hat / (sqrt(s_hat) + eps)
    """
    theta = [x.detach().clone() for x in theta]
    m = [torch.zeros_like(x) for x in theta]
    s = [torch.zeros_like(x) for x in theta]
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            s[i] = beta2 * s[i] + (1 - beta2) * (g - m[i]) ** 2 + eps
            m_hat = m[i] / (1 - beta1 ** t)
            s_hat = s[i] / (1 - beta2 ** t)
            theta[i] = theta[i] - lr * m_hat / (torch.sqrt(s_hat) + eps)
    return theta


@pytest.mark.parametrize('eps', [1e-16, 1e-8, 1e-3])
@pytest.mark.parametrize('foreach', [False, True])
def test_adabelief_equals_transcription_of_algorithm_2(eps, foreach):
    grads = make_grads()
    expected = adabelief_algorithm_2(make_params(), grads, LR, 0.9, 0.999, eps)
    ours = run(lambda p: AdaBelief(p, lr=LR, eps=eps, rectify=False, optimized_update=False, foreach=foreach),
               make_params(), grads)
    assert max_abs_diff(ours, expected) <= 1e-9
    official = run(official_adabelief(eps=eps, rectify=False, weight_decay=0.), make_params(), grads)
    assert max_abs_diff(official, expected) <= 1e-9


@pytest.mark.parametrize('decay, reference', [
    (WeightDecay(0.), lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8)),
    (WeightDecay(0.05), lambda p: torch.optim.AdamW(p, lr=LR, eps=1e-8, weight_decay=0.05)),
], ids=['Adam', 'AdamW'])
@pytest.mark.parametrize('foreach', [False, True])
def test_complex_adam_equals_torch_adam_on_complex_params(foreach, decay, reference):
    gen = torch.Generator().manual_seed(3)
    shapes = [(3, 2), (4,)]
    start = [torch.randn(s, generator=gen, dtype=torch.complex128) for s in shapes]
    grads = [[torch.randn(s, generator=gen, dtype=torch.complex128) for s in shapes] for _ in range(STEPS)]
    ours = run(lambda p: Adam(p, lr=LR, eps=1e-8, optimized_update=False, foreach=foreach, weight_decay=decay),
               [x.clone().requires_grad_() for x in start], grads)
    expected = run(reference, [x.clone().requires_grad_() for x in start], grads)
    assert ours[0].dtype == torch.complex128
    assert max_abs_diff(ours, start) > 1e-2
    assert max_abs_diff(ours, expected) <= 1e-12


def test_complex_radam_equals_torch_radam_on_complex_params():
    gen = torch.Generator().manual_seed(4)
    start = [torch.randn(5, generator=gen, dtype=torch.complex128)]
    grads = [[torch.randn(5, generator=gen, dtype=torch.complex128)] for _ in range(STEPS)]
    ours = run(lambda p: RAdam(p, lr=LR, eps=1e-8), [x.clone().requires_grad_() for x in start], grads)
    reference = run(lambda p: torch.optim.RAdam(p, lr=LR, eps=1e-8), [x.clone().requires_grad_() for x in start],
                    grads)
    assert max_abs_diff(ours, reference) <= 1e-12
