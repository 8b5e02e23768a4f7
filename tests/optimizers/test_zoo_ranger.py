"""Ranger = Lookahead(RAdam): against pytorch_optimizer.Ranger, its differences pinned, resume, settings."""

import inspect

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.lookahead import Lookahead
from labml_nn.optimizers.radam import RAdam
from labml_nn.optimizers.ranger import Ranger
from opt_testing import assert_converges, assert_exact_resume, make_grads, make_params, max_abs_diff, run

pytorch_optimizer = pytest.importorskip('pytorch_optimizer')

LR = 1e-2


def reference(**kwargs):
    """pytorch_optimizer.Ranger with its gradient centralization off and the SGD steps of the original Ranger."""
    settings = dict(lr=LR, use_gc=False, degenerated_to_sgd=True)
    settings.update(kwargs)
    return lambda p: pytorch_optimizer.Ranger(p, **settings)


@pytest.mark.parametrize('decay', [0., 0.1])
@pytest.mark.parametrize('foreach', [False, True])
def test_equals_pytorch_optimizer_ranger_without_gradient_centralization(decay, foreach):
    grads = make_grads()
    assert len(grads) >= 100
    ours = run(lambda p: Ranger(p, lr=LR, weight_decay=decay, foreach=foreach), make_params(), grads)
    theirs = run(reference(weight_decay=decay, foreach=foreach), make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, theirs) <= 1e-12


def test_equals_pytorch_optimizer_ranger_with_other_k_alpha_and_betas():
    grads = make_grads()
    settings = dict(k=4, alpha=0.7, betas=(0.9, 0.99), eps=1e-8)
    ours = run(lambda p: Ranger(p, lr=LR, **settings), make_params(), grads)
    assert max_abs_diff(ours, run(reference(**settings), make_params(), grads)) <= 1e-12


def centralize(g):
    """Gradient centralization: subtract the mean over all but the first dimension, for 2 or more dimensions."""
    return g - g.mean(dim=tuple(range(1, g.dim())), keepdim=True) if g.dim() > 1 else g


def test_pytorch_optimizer_gradient_centralization_is_ours_on_centralized_gradients():
    grads = make_grads()
    theirs = run(reference(use_gc=True), make_params(), grads)
    ours_on_centralized = run(lambda p: Ranger(p, lr=LR), make_params(), [[centralize(g) for g in gs] for gs in grads])
    ours = run(lambda p: Ranger(p, lr=LR), make_params(), grads)
    assert max_abs_diff(theirs, ours_on_centralized) <= 1e-12
    # and it is a real difference of its default
    assert max_abs_diff(theirs, ours) > 1e-3


def test_pytorch_optimizer_without_sgd_steps_moves_up_the_gradient_ours_stays():
    # pytorch_optimizer 4.1: degenerated_to_sgd=False uses the marker step size -1 as a step size
    p = torch.tensor([1., 2., 3.], dtype=torch.float64, requires_grad=True)
    theirs = pytorch_optimizer.Ranger([p], lr=0.1, use_gc=False, degenerated_to_sgd=False)
    p.grad = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    theirs.step()
    # m_1 / (1 - beta1) = g, so theta + lr g
    torch.testing.assert_close(p.detach(), torch.tensor([1.01, 2.02, 3.03], dtype=torch.float64))

    q = torch.tensor([1., 2., 3.], dtype=torch.float64, requires_grad=True)
    ours = Ranger([q], lr=0.1, degenerate_to_sgd=False)
    for _ in range(5):
        # rho_t <= 5 for t <= 5 with beta2 = 0.999: no update
        q.grad = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
        ours.step()
    torch.testing.assert_close(q.detach(), torch.tensor([1., 2., 3.], dtype=torch.float64))


def test_defaults_are_those_of_the_original_ranger():
    ours = inspect.signature(Ranger).parameters
    expected = dict(lr=1e-3, betas=(0.95, 0.999), eps=1e-5, weight_decay=0., k=6, alpha=0.5, degenerate_to_sgd=True)
    assert {name: ours[name].default for name in expected} == expected
    theirs = inspect.signature(pytorch_optimizer.Ranger).parameters
    assert {name: theirs[name].default for name in ('lr', 'betas', 'eps', 'k', 'alpha')} == \
           {name: expected[name] for name in ('lr', 'betas', 'eps', 'k', 'alpha')}
    # The two defaults of theirs that differ, handled above
    assert theirs['use_gc'].default is True and theirs['degenerated_to_sgd'].default is False


def test_is_lookahead_around_our_radam():
    grads = make_grads()
    ours = run(lambda p: Ranger(p, lr=LR, weight_decay=0.1), make_params(), grads)
    composed = run(lambda p: Lookahead(RAdam(p, lr=LR, betas=(0.95, 0.999), eps=1e-5,
                                             weight_decay=WeightDecay(0.1)), k=6, alpha=0.5), make_params(), grads)
    assert all(torch.equal(a, b) for a, b in zip(ours, composed))
    opt = Ranger(make_params())
    assert isinstance(opt, Lookahead) and isinstance(opt.optimizer, RAdam)
    assert opt.param_groups is opt.optimizer.param_groups


def test_equals_a_transcription_with_torch_radam_as_the_inner_optimizer():
    # The page's equations: k steps of RAdam (here torch's), then phi <- phi + alpha (theta - phi), theta <- phi
    grads = make_grads()
    params = make_params()
    radam = torch.optim.RAdam(params, lr=LR, betas=(0.95, 0.999), eps=1e-5, weight_decay=0.1,
                              decoupled_weight_decay=True)
    slow = [p.detach().clone() for p in params]
    for step, step_grads in enumerate(grads, start=1):
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        radam.step()
        if step % 6 == 0:
            with torch.no_grad():
                for p, s in zip(params, slow):
                    s += 0.5 * (p - s)
                    p.copy_(s)
    ours = run(lambda p: Ranger(p, lr=LR, weight_decay=0.1), make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, params) <= 1e-12


def test_a_number_for_weight_decay_is_decoupled_decay():
    grads = make_grads()
    number = run(lambda p: Ranger(p, lr=LR, weight_decay=0.1), make_params(), grads)
    decoupled = run(lambda p: Ranger(p, lr=LR, weight_decay=WeightDecay(0.1, weight_decouple=True)),
                    make_params(), grads)
    l2 = run(lambda p: Ranger(p, lr=LR, weight_decay=WeightDecay(0.1, weight_decouple=False)), make_params(), grads)
    assert all(torch.equal(a, b) for a, b in zip(number, decoupled))
    assert max_abs_diff(number, l2) > 1e-3


@pytest.mark.parametrize('stop', [8, 12])
def test_exact_resume_also_in_the_middle_of_a_cycle(stop):
    assert_exact_resume(lambda p: Ranger(p, lr=LR, weight_decay=0.01), stop, steps=30, state_matters=True)


def test_scheduler_reaches_radam():
    grads = make_grads()
    sched = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.2)
    ours = run(lambda p: Ranger(p, lr=LR), make_params(), grads, scheduler=sched)
    theirs = run(reference(), make_params(), grads, scheduler=sched)
    assert max_abs_diff(ours, theirs) <= 1e-12
    assert max_abs_diff(ours, run(lambda p: Ranger(p, lr=LR), make_params(), grads)) > 1e-3


@pytest.mark.parametrize('kwargs, name', [
    (dict(lr=-1.), 'lr'), (dict(eps=-1.), 'eps'), (dict(betas=(1.0, 0.999)), 'betas'),
    (dict(weight_decay=-0.1), 'weight_decay'), (dict(k=0), 'k'), (dict(alpha=2.), 'alpha'),
])
def test_bad_settings_are_value_errors_that_name_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Ranger(make_params(), **kwargs)


def test_converges_on_rosenbrock_and_regression():
    # Without the first SGD steps, as RAdam in test_opt_convergence.py (Rosenbrock's walls are steep)
    assert_converges(lambda p: Ranger(p, lr=5e-2, degenerate_to_sgd=False))
