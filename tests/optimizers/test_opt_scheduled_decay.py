"""
Decoupled weight decay scales with the learning rate of the step, $\\eta_t$: the rate an optimizer's own schedule
(warm-up, cosine decay, Noam) gives, as a torch scheduler's rate scales `torch.optim.AdamW`'s decay.
With zero gradients Adam's step is $0$, so only the decay moves the weights: $\\theta_T = \\theta_0 \\prod_t (1 - \\eta_t \\lambda)$.
"""

import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.adamw import AdamW
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.qhadam import QHAdam
from opt_testing import compare, make_params, run


def noam_rate(t, lr=1., d_model=512, warmup=4000):
    """noam.md: eta_t = eta d^-1/2 min(t^-1/2, t w^-3/2)."""
    return lr * d_model ** -0.5 * min(t ** -0.5, t * warmup ** -1.5)


def cosine_rate(t, lr, warmup, total):
    """adam_warmup_cosine_decay.md: eta t / w while t < w, then eta (1 + cos(pi (min(t, T) - w) / (T - w))) / 2."""
    if t < warmup:
        return lr * t / warmup
    return lr * 0.5 * (1 + math.cos(math.pi * (min(t, total) - warmup) / (total - warmup)))


def decay_only(make, steps):
    """The weights after `steps` zero-gradient steps from `make_params()`."""
    start = make_params()
    zeros = [[torch.zeros_like(p) for p in start] for _ in range(steps)]
    return run(make, make_params(), zeros), [p.detach() for p in start]


def expected_shrink(rate_at, decay, steps):
    return math.prod(1 - rate_at(t) * decay for t in range(1, steps + 1))


@pytest.mark.parametrize('foreach', [False, True])
def test_noam_decay_scales_with_noams_own_rate(foreach):
    # The case: decayed by group['lr'] = 1 it shrank theta to 0.99^100 = 0.366 while eta_t <= 1.7e-5
    ours, start = decay_only(lambda p: Noam(p, lr=1., d_model=512, warmup=4000,
                                            weight_decay=WeightDecay(0.01), foreach=foreach), 100)
    factor = expected_shrink(noam_rate, 0.01, 100)
    assert 1 - factor < 1e-4
    for x, x0 in zip(ours, start):
        assert torch.allclose(x, x0 * factor, rtol=1e-13, atol=0)


@pytest.mark.parametrize('foreach', [False, True])
def test_cosine_decay_stops_decaying_when_its_rate_reaches_zero(foreach):
    lr, warmup, total, decay = 0.5, 10, 50, 0.1
    make = lambda p: AdamWarmupCosineDecay(p, lr=lr, warmup=warmup, total_steps=total,  # noqa: E731
                                           weight_decay=WeightDecay(decay), foreach=foreach)
    at_total, start = decay_only(make, total)
    at_end, _ = decay_only(make, 100)
    factor = expected_shrink(lambda t: cosine_rate(t, lr, warmup, total), decay, 100)
    for x, y, x0 in zip(at_end, at_total, start):
        assert torch.allclose(x, x0 * factor, rtol=1e-13, atol=0)
        # eta_t = 0 after T steps: nothing more is decayed
        assert torch.equal(x, y)


@pytest.mark.parametrize('foreach', [False, True])
def test_warmup_decay_scales_with_the_warmed_up_rate(foreach):
    lr, warmup, decay = 0.2, 40, 0.5
    ours, start = decay_only(lambda p: AdamWarmup(p, lr=lr, warmup=warmup, weight_decay=WeightDecay(decay),
                                                  foreach=foreach), 60)
    factor = expected_shrink(lambda t: lr * min(1., t / warmup), decay, 60)
    for x, x0 in zip(ours, start):
        assert torch.allclose(x, x0 * factor, rtol=1e-13, atol=0)


def test_absolute_decay_ignores_the_schedule():
    ours, start = decay_only(lambda p: Noam(p, lr=1., warmup=4000, weight_decay=WeightDecay(0.01, absolute=True)),
                             100)
    for x, x0 in zip(ours, start):
        assert torch.allclose(x, x0 * 0.99 ** 100, rtol=1e-13, atol=0)


def warmup_cosine_lambda(epoch):
    """A LambdaLR factor: 10 steps of warm-up, then a cosine to 0 at step 80 (epoch = steps taken so far)."""
    return cosine_rate(epoch + 1, 1., 10, 80)


@pytest.mark.parametrize('amsgrad', [False, True])
@pytest.mark.parametrize('foreach', [False, True])
def test_adamw_with_lambda_lr_equals_torch_adamw_with_lambda_lr(amsgrad, foreach):
    def scheduler(o):
        return torch.optim.lr_scheduler.LambdaLR(o, warmup_cosine_lambda)
    compare(lambda p: AdamW(p, lr=0.05, weight_decay=0.3, amsgrad=amsgrad, foreach=foreach),
            lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.3, amsgrad=amsgrad, foreach=False),
            scheduler=scheduler)


def test_torch_scheduler_scales_the_decay_of_a_scheduled_optimizer_too():
    # group['lr'] set by LambdaLR times the warm-up of AdamWarmup: eta_t = lr f(t - 1) min(1, t / w)
    lr, warmup, decay = 0.3, 20, 0.4
    start = [p.detach().clone() for p in make_params()]
    params = make_params()
    opt = AdamWarmup(params, lr=lr, warmup=warmup, weight_decay=WeightDecay(decay))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.97 ** e)
    for _ in range(50):
        for p in params:
            p.grad = torch.zeros_like(p)
        opt.step()
        sched.step()
    factor = expected_shrink(lambda t: lr * 0.97 ** (t - 1) * min(1., t / warmup), decay, 50)
    for x, x0 in zip(params, start):
        assert torch.allclose(x.detach(), x0 * factor, rtol=1e-13, atol=0)


def test_qhadam_decoupled_decay_is_theta_times_one_minus_lr_lambda():
    ours, start = decay_only(lambda p: QHAdam(p, lr=0.1, weight_decay=0.2, weight_decouple=True), 30)
    for x, x0 in zip(ours, start):
        assert torch.allclose(x, x0 * (1 - 0.1 * 0.2) ** 30, rtol=1e-13, atol=0)
