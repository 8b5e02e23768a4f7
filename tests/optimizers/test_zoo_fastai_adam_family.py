"""
fastai's step-value tests for Adam, RAdam, QHAdam and LAMB (../shared/seeds/fastai-optimizers.txt), run on our classes.

Only the inputs and expected values are fastai's; each case is re-expressed in our hyper-parameters:
fastai `mom` -> `betas[0]`, `sqr_mom` -> `betas[1]`, `eps` -> `eps`, `nu_1, nu_2` -> `nus`,
`wd` with `decouple_wd=True` -> `WeightDecay(wd)` (theta <- theta (1 - lr wd)), with `decouple_wd=False` ->
`WeightDecay(wd, weight_decouple=False)` (L2).  fastai's Adam and RAdam add eps outside the square root of the
bias-corrected v (`(sqr_avg/debias2).sqrt() + eps`), which is our `optimized_update=False`.
fastai's defaults differ from ours and are passed explicitly: Adam, RAdam and LAMB `mom=0.9, sqr_mom=0.99,
eps=1e-5`; QHAdam `mom=0.999, sqr_mom=0.999, nu_1=0.7, nu_2=1.0, eps=1e-8`.
`test_close(a, b, eps)` is fastai's |a - b| < eps check (default eps=1e-5), reproduced by `close` below; like
fastai's `tst_param`, the parameters are float32 tensors with a fixed gradient.
"""

import math

import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.lamb import Lamb
from labml_nn.optimizers.qhadam import QHAdam
from labml_nn.optimizers.radam import RAdam, rho_t


def tst_param(values, grads, dtype=torch.float32):
    """fastai's `tst_param`: a parameter holding `values` whose gradient is `grads` (kept for every step)."""
    p = torch.tensor(values, dtype=dtype, requires_grad=True)
    p.grad = torch.tensor(grads, dtype=dtype)
    return p


def close(actual, expected, eps=1e-5):
    """fastai's `test_close`: every element within `eps`."""
    expected = torch.as_tensor(expected, dtype=actual.dtype)
    assert (actual.detach() - expected).abs().max().item() < eps, (actual, expected)


def test_fastai_adam_steps():
    # fastai: Adam(params, lr=0.1, wd=0) with mom=0.9, sqr_mom=0.99, eps=1e-5
    p = tst_param([1., 2., 3.], [0.1, 0.2, 0.3])
    opt = Adam([p], lr=0.1, betas=(0.9, 0.99), eps=1e-5, optimized_update=False, weight_decay=WeightDecay(0.))
    opt.step()
    step = -0.1 * 0.1 / (math.sqrt(0.1 ** 2) + 1e-8)
    close(p, [1 + step, 2 + step, 3 + step])
    opt.step()
    close(p, [1 + 2 * step, 2 + 2 * step, 3 + 2 * step], eps=1e-3)


def test_fastai_adam_first_step_exactly_in_float64():
    # m_hat = g, v_hat = g^2 after one step, so each coordinate moves by -lr g / (|g| + eps), with fastai's eps
    p = tst_param([1., 2., 3.], [0.1, 0.2, 0.3], dtype=torch.float64)
    opt = Adam([p], lr=0.1, betas=(0.9, 0.99), eps=1e-5, optimized_update=False)
    opt.step()
    g = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    assert torch.allclose(p.detach(), torch.tensor([1., 2., 3.], dtype=torch.float64) - 0.1 * g / (g + 1e-5),
                          rtol=1e-15, atol=0)


def test_fastai_adam_defaults_decouple_weight_decay():
    # fastai's default wd=0.01 with decouple_wd=True, "true weight decay (decay the weights directly)":
    # p <- p (1 - lr wd), then the Adam step; fastai gives no value for it, so this one is derived from that rule
    p = tst_param([1., 2., 3.], [0.1, 0.2, 0.3], dtype=torch.float64)
    opt = Adam([p], lr=0.1, betas=(0.9, 0.99), eps=1e-5, optimized_update=False, weight_decay=WeightDecay(0.01))
    opt.step()
    g = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    expected = torch.tensor([1., 2., 3.], dtype=torch.float64) * (1 - 0.1 * 0.01) - 0.1 * g / (g + 1e-5)
    assert torch.allclose(p.detach(), expected, rtol=1e-15, atol=0)


def test_fastai_radam_steps():
    # fastai: RAdam(params, lr=0.1) with mom=0.9, sqr_mom=0.99, eps=1e-5, wd=0, beta=0.
    # fastai's `beta` (SAdam: a softplus of sqrt(v) in the denominator) has no counterpart here; beta=0 is plain RAdam.
    # Its fallback while r <= 5 is the average of the gradients, our degenerate_to_sgd=True.
    p = tst_param([1., 2., 3.], [0.1, 0.2, 0.3])
    opt = RAdam([p], lr=0.1, betas=(0.9, 0.99), eps=1e-5, optimized_update=False, degenerate_to_sgd=True)
    r_inf = 2 / (1 - 0.99) - 1
    for i in range(5):
        r = r_inf - 2 * (i + 1) * 0.99 ** (i + 1) / (1 - 0.99 ** (i + 1))
        assert r <= 5
        # fastai's r is our rho_t
        assert abs(rho_t(0.99, i + 1) - r) < 1e-12
        opt.step()
    expected = torch.tensor([0.95, 1.9, 2.85])
    close(p, expected)

    r = r_inf - 2 * 6 * 0.99 ** 6 / (1 - 0.99 ** 6)
    assert r > 5
    opt.step()
    v = math.sqrt(((r - 4) * (r - 2) * r_inf) / ((r_inf - 4) * (r_inf - 2) * r))
    step = -0.1 * 0.1 * v / (math.sqrt(0.1 ** 2) + 1e-8)
    close(p, expected + step)


def test_fastai_qhadam_steps():
    # fastai: QHAdam(params, lr=0.1) with mom=0.999, sqr_mom=0.999, nu_1=0.7, nu_2=1.0, eps=1e-8, wd=0
    p = tst_param([1., 2., 3.], [0.1, 0.2, 0.3])
    opt = QHAdam([p], lr=0.1, betas=(0.999, 0.999), nus=(0.7, 1.0), eps=1e-8)
    opt.step()
    step = -0.1 * (((1 - 0.7) * 0.1) + (0.7 * 0.1)) / (
        math.sqrt(((1 - 1.0) * 0.1 ** 2) + (1.0 * 0.1 ** 2)) + 1e-8)
    close(p, [1 + step, 2 + step, 3 + step])
    opt.step()
    close(p, [1 + 2 * step, 2 + 2 * step, 3 + 2 * step], eps=1e-3)


def test_fastai_lamb_step():
    # fastai: Lamb(params, lr=0.1) with mom=0.9, sqr_mom=0.99, eps=1e-5, wd=0.
    # fastai clamps the ratio, min(||p|| / ||step||, 10), where we clamp the weight norm, min(||p||, 10) / ||u||;
    # here ||p|| = sqrt(14) < 10 and the ratio is about 2.16 < 10, so neither clamp acts and the two agree.
    # fastai's wd is applied outside the ratio; with wd=0 that does not matter either.
    p = tst_param([1., 2., 3.], [0.1, 0.2, 0.3])
    opt = Lamb([p], lr=0.1, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.)
    opt.step()
    close(p, [0.7840, 1.7840, 2.7840], eps=1e-3)


def test_fastai_lamb_step_exactly_in_float64():
    # fastai compares RMS values, sqrt(mean(p^2)) / sqrt(mean(step^2)): the same ratio as our 2-norms
    p = tst_param([1., 2., 3.], [0.1, 0.2, 0.3], dtype=torch.float64)
    opt = Lamb([p], lr=0.1, betas=(0.9, 0.99), eps=1e-5)
    opt.step()
    theta = torch.tensor([1., 2., 3.], dtype=torch.float64)
    g = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    step = g / (g + 1e-5)
    ratio = theta.pow(2).mean().sqrt() / step.pow(2).mean().sqrt()
    assert torch.allclose(p.detach(), theta - 0.1 * ratio * step, rtol=1e-15, atol=0)
    assert abs(opt.state[p]['trust_ratio'].item() - ratio.item()) < 1e-14
