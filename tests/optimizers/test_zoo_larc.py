"""LARS and LARC: fastai's values, pytorch_optimizer's LARS, the local rate transcribed, wrapper = optimizer."""

import inspect

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.larc import LARC, LARS
from opt_testing import (assert_closure_evaluated_once_per_step, assert_converges, assert_exact_resume, make_grads,
                         make_params, max_abs_diff, run)

pytorch_optimizer = pytest.importorskip('pytorch_optimizer')


def fastai_params():
    """fastai's `tst_param([1,2,3], [0.1,0.2,0.3])` and `tst_param([1,2,3], [0.01,0.02,0.03])`."""
    params = [torch.tensor([1., 2., 3.], requires_grad=True), torch.tensor([1., 2., 3.], requires_grad=True)]
    params[0].grad = torch.tensor([0.1, 0.2, 0.3])
    params[1].grad = torch.tensor([0.01, 0.02, 0.03])
    return params


# fastai's `Larc(params, lr=0.1)` is SGD with momentum 0.9 (no dampening) and the local rate; after one step the
# momentum is the gradient, so its first step is our LARS(momentum=0.9) or LARC(torch.optim.SGD(momentum=0.9)).
# fastai's `local_lr` is our `local_lr`, the rate eta * s the parameter moves at.
# Its clipping is min(lr * c * ratio, lr), ours (apex's) min(c * ratio, lr): with clip=True fastai's
# trust_coeff=0.02 is our trust_coefficient = lr * 0.02; with clip=False the coefficients are the same.
FASTAI_LR = 0.1


def fastai_larc_as_ours(kind, clip):
    trust = FASTAI_LR * 0.02 if clip else 0.02
    if kind == 'LARS':
        return lambda p: LARS(p, lr=FASTAI_LR, momentum=0.9, trust_coefficient=trust, clip=clip)
    return lambda p: LARC(torch.optim.SGD(p, lr=FASTAI_LR, momentum=0.9), trust_coefficient=trust, clip=clip)


def local_lr(opt, p):
    state = opt.wrapper_state if isinstance(opt, LARC) else opt.state
    return state[p]['local_lr'].item()


@pytest.mark.parametrize('kind', ['LARS', 'LARC'])
def test_fastai_larc_values_with_clipping(kind):
    params = fastai_params()
    opt = fastai_larc_as_ours(kind, clip=True)(params)
    opt.step()
    # The first local lr is 0.02 < lr, not clipped; the second 0.2 > lr, clipped to lr
    assert local_lr(opt, params[0]) == pytest.approx(0.02)
    assert local_lr(opt, params[1]) == pytest.approx(0.1)
    torch.testing.assert_close(params[0].detach(), torch.tensor([0.998, 1.996, 2.994]))
    torch.testing.assert_close(params[1].detach(), torch.tensor([0.999, 1.998, 2.997]))


@pytest.mark.parametrize('kind', ['LARS', 'LARC'])
def test_fastai_larc_values_without_clipping(kind):
    params = fastai_params()
    opt = fastai_larc_as_ours(kind, clip=False)(params)
    opt.step()
    assert local_lr(opt, params[0]) == pytest.approx(0.02)
    assert local_lr(opt, params[1]) == pytest.approx(0.2)
    torch.testing.assert_close(params[0].detach(), torch.tensor([0.998, 1.996, 2.994]))
    torch.testing.assert_close(params[1].detach(), torch.tensor([0.998, 1.996, 2.994]))


def test_fastai_clip_would_differ_with_the_same_coefficient():
    # The mapping above is needed: with trust_coefficient=0.02 our clip lets the first tensor move at lr
    params = fastai_params()
    opt = LARS(params, lr=FASTAI_LR, momentum=0.9, trust_coefficient=0.02, clip=True)
    opt.step()
    assert local_lr(opt, params[0]) == pytest.approx(0.1)


SGD_SETTINGS = [
    dict(momentum=0.9),
    dict(momentum=0.9, weight_decay=0.1),
    dict(momentum=0.9, nesterov=True, weight_decay=0.01),
    dict(momentum=0.5, dampening=0.3, weight_decay=0.01, maximize=True),
    dict(),
]


@pytest.mark.parametrize('clip', [False, True])
@pytest.mark.parametrize('settings', SGD_SETTINGS, ids=repr)
@pytest.mark.parametrize('foreach', [False, True])
def test_lars_equals_larc_around_torch_sgd(settings, clip, foreach):
    grads = make_grads()
    ours = run(lambda p: LARS(p, lr=0.1, trust_coefficient=0.02, clip=clip, foreach=foreach, **settings),
               make_params(), grads)
    wrapped = run(lambda p: LARC(torch.optim.SGD(p, lr=0.1, **settings), trust_coefficient=0.02, clip=clip),
                  make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, wrapped) <= 1e-12


@pytest.mark.parametrize('settings', [dict(momentum=0.9, weight_decay=0.01), dict(momentum=0.9, nesterov=True),
                                      dict(momentum=0., weight_decay=0.1)], ids=repr)
@pytest.mark.parametrize('foreach', [False, True])
def test_lars_equals_pytorch_optimizer_lars_on_tensors_of_two_or_more_dimensions(settings, foreach):
    # pytorch_optimizer.LARS: no eps, no clip, momentum from b_0 = 0 (the same as b_1 = d_1 without dampening)
    shapes = ((4, 3), (2, 3, 2))
    grads = make_grads(shapes=shapes)
    ours = run(lambda p: LARS(p, lr=0.5, trust_coefficient=0.001, eps=0., foreach=foreach, **settings),
               make_params(shapes=shapes), grads)
    reference = run(lambda p: pytorch_optimizer.LARS(p, lr=0.5, trust_coefficient=0.001, **settings),
                    make_params(shapes=shapes), grads)
    assert max_abs_diff(ours, make_params(shapes=shapes)) > 1e-2
    assert max_abs_diff(ours, reference) <= 1e-12


def test_pytorch_optimizer_lars_leaves_one_dimensional_tensors_to_plain_sgd():
    # The difference explained on the page: there, a bias is not scaled (nor decayed); here it is
    shapes = ((5,),)
    grads = make_grads(shapes=shapes)
    reference = run(lambda p: pytorch_optimizer.LARS(p, lr=0.01, momentum=0.9, weight_decay=0.1),
                    make_params(shapes=shapes), grads)
    sgd = run(lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), make_params(shapes=shapes), grads)
    ours = run(lambda p: LARS(p, lr=0.01, momentum=0.9, weight_decay=0.1, eps=0.), make_params(shapes=shapes), grads)
    assert max_abs_diff(reference, sgd) <= 1e-12
    assert max_abs_diff(ours, sgd) > 1e-2


def test_pytorch_optimizer_lars_dampens_the_first_momentum_step_ours_does_not():
    # There b_0 = 0, so b_1 = (1 - tau) d_1; here, as in torch.optim.SGD, b_1 = d_1
    shapes = ((4, 3),)
    grads = make_grads(steps=1, shapes=shapes)
    start = make_params(shapes=shapes)
    theirs = run(lambda p: pytorch_optimizer.LARS(p, lr=0.5, momentum=0.9, dampening=0.3), make_params(shapes=shapes),
                 grads)
    ours = run(lambda p: LARS(p, lr=0.5, momentum=0.9, dampening=0.3, eps=0.), make_params(shapes=shapes), grads)
    torch.testing.assert_close(theirs[0] - start[0], 0.7 * (ours[0] - start[0]), rtol=1e-9, atol=1e-14)


def lars_transcription(theta, grads, lr, trust, decay, eps, clip, momentum, dampening):
    """
    The page's equations, in float64 on each tensor:
        eta_l = c |theta| / (|g| + lambda |theta| + eps)
        s = min(eta_l / eta, 1) with clip, eta_l without (1 if a norm is 0)
        d = s (g + lambda theta);  b_1 = d_1, b_t = mu b_{t-1} + (1 - tau) d_t;  theta <- theta - eta b
    `lr` is a number, or a function of the step index for a schedule.
    """
    theta = [x.detach().clone() for x in theta]
    buffers = [None] * len(theta)
    rate = lr if callable(lr) else (lambda step: lr)
    for step, step_grads in enumerate(grads):
        lr = rate(step)
        for i, g in enumerate(step_grads):
            theta_norm, g_norm = float(theta[i].norm()), float(g.norm())
            eta_l = trust * theta_norm / (g_norm + decay * theta_norm + eps)
            s = min(eta_l / lr, 1.) if clip else eta_l
            if theta_norm == 0 or g_norm == 0:
                s = 1.
            d = s * (g + decay * theta[i])
            buffers[i] = d.clone() if buffers[i] is None else momentum * buffers[i] + (1 - dampening) * d
            theta[i] = theta[i] - lr * buffers[i]
    return theta


@pytest.mark.parametrize('clip', [False, True])
@pytest.mark.parametrize('decay', [0., 0.05])
@pytest.mark.parametrize('foreach', [False, True])
def test_lars_equals_a_transcription_of_the_equations(clip, decay, foreach):
    # Gradients of two scales, so that clipping is active for some tensors and steps and not others
    grads = [[g * (0.05 if i == 1 else 1.) for i, g in enumerate(gs)] for gs in make_grads()]
    settings = dict(lr=0.1, trust=0.01, decay=decay, eps=1e-8, clip=clip, momentum=0.9, dampening=0.1)
    expected = lars_transcription(make_params(), grads, **settings)
    ours = run(lambda p: LARS(p, lr=0.1, trust_coefficient=0.01, weight_decay=decay, eps=1e-8, clip=clip,
                              momentum=0.9, dampening=0.1, foreach=foreach), make_params(), grads)
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, expected) <= 1e-12
    if clip:
        # Clipping mattered
        unclipped = lars_transcription(make_params(), grads, **{**settings, 'clip': False})
        assert max_abs_diff(expected, unclipped) > 1e-3


@pytest.mark.parametrize('kind', ['LARS', 'LARC'])
def test_a_zero_tensor_moves_like_plain_sgd(kind):
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    p.grad = torch.ones(4, dtype=torch.float64)
    opt = (LARS([p], lr=0.1, trust_coefficient=0.001) if kind == 'LARS'
           else LARC(torch.optim.SGD([p], lr=0.1), trust_coefficient=0.001, clip=False))
    opt.step()
    torch.testing.assert_close(p.detach(), torch.full((4,), -0.1, dtype=torch.float64))


def test_larc_leaves_the_callers_gradients_and_weight_decay_as_they_were():
    params = make_params()
    grads = make_grads(steps=1)[0]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    inner = torch.optim.SGD(params, lr=0.1, weight_decay=0.1)
    opt = LARC(inner)
    opt.step()
    assert all(torch.equal(p.grad, g) for p, g in zip(params, grads))
    assert inner.param_groups[0]['weight_decay'] == 0.1


@pytest.mark.parametrize('inner', [
    lambda p: torch.optim.AdamW(p, lr=1e-2),
    lambda p: Adam(p, lr=1e-2, weight_decay=WeightDecay(0.01)),
], ids=['torch AdamW', 'our Adam with decoupled decay'])
def test_larc_refuses_decoupled_weight_decay(inner):
    with pytest.raises(ValueError, match='weight_decouple|decoupled_weight_decay'):
        LARC(inner(make_params()))


def test_larc_around_adam_scales_its_gradients():
    # The wrapper works with any optimizer: around Adam it equals Adam fed the scaled gradients
    grads = make_grads()
    ours = run(lambda p: LARC(Adam(p, lr=1e-2, weight_decay=WeightDecay(0.05, weight_decouple=False)),
                              trust_coefficient=0.02), make_params(), grads)
    params = make_params()
    adam = Adam(params, lr=1e-2)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p_norm, g_norm = float(p.detach().norm()), float(g.norm())
            s = min(0.02 * p_norm / (g_norm + 0.05 * p_norm + 1e-8) / 1e-2, 1.)
            p.grad = s * (g + 0.05 * p.detach())
        adam.step()
    assert max_abs_diff(ours, make_params()) > 1e-2
    assert max_abs_diff(ours, params) <= 1e-12


def test_lars_foreach_equals_per_tensor():
    grads = make_grads()
    make = lambda foreach: (lambda p: LARS(p, lr=0.1, momentum=0.9, weight_decay=0.01, trust_coefficient=0.02,
                                           clip=True, foreach=foreach))
    assert max_abs_diff(run(make(True), make_params(), grads), run(make(False), make_params(), grads)) <= 1e-12


def test_lars_has_the_keywords_and_defaults_of_torch_sgd():
    ours = inspect.signature(LARS).parameters
    for name, parameter in inspect.signature(torch.optim.SGD).parameters.items():
        if name != 'params':
            assert ours[name].default == parameter.default, name
    assert (ours['trust_coefficient'].default, ours['clip'].default) == (0.001, False)
    larc = inspect.signature(LARC).parameters
    assert (larc['trust_coefficient'].default, larc['clip'].default, larc['eps'].default) == (0.02, True, 1e-8)


@pytest.mark.parametrize('kind', ['LARS', 'LARC'])
def test_scheduled_lr_is_the_one_clipped_against(kind):
    grads = make_grads()
    sched = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.3)
    make = (lambda p: LARS(p, lr=0.1, momentum=0.9, trust_coefficient=0.02, clip=True)) if kind == 'LARS' else \
        (lambda p: LARC(torch.optim.SGD(p, lr=0.1, momentum=0.9), trust_coefficient=0.02))
    ours = run(make, make_params(), grads, scheduler=sched)
    expected = lars_transcription(make_params(), grads, lambda step: 0.1 * 0.3 ** (step // 20), 0.02, 0., 1e-8,
                                  True, 0.9, 0.)
    assert max_abs_diff(ours, expected) <= 1e-12
    assert max_abs_diff(ours, run(make, make_params(), grads)) > 1e-3


@pytest.mark.parametrize('make', [
    lambda p: LARS(p, lr=0.1, momentum=0.9, weight_decay=0.01, trust_coefficient=0.02),
    lambda p: LARC(torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
], ids=['LARS', 'LARC'])
def test_exact_resume(make):
    assert_exact_resume(make, 11, steps=30, state_matters=True)


@pytest.mark.parametrize('kind', ['LARS', 'LARC'])
def test_closure_is_evaluated_once(kind):
    params = make_params()
    opt = LARS(params, lr=0.1, trust_coefficient=0.02) if kind == 'LARS' else \
        LARC(torch.optim.SGD(params, lr=0.1), trust_coefficient=0.02, clip=False)
    assert_closure_evaluated_once_per_step(opt, params, 3)


@pytest.mark.parametrize('kwargs, name', [
    (dict(trust_coefficient=-1.), 'trust_coefficient'), (dict(eps=-1.), 'eps'), (dict(clip=2), 'clip'),
    (dict(momentum=-0.1), 'momentum'), (dict(dampening=-0.1), 'dampening'), (dict(lr=-1.), 'lr'),
    (dict(nesterov=True), 'nesterov'), (dict(weight_decay=-1.), 'weight_decay'),
    (dict(weight_decay=WeightDecay(0.1)), 'weight_decouple'), (dict(fused=True), 'fused'),
])
def test_lars_bad_settings_are_value_errors_that_name_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LARS(make_params(), **kwargs)
    if isinstance(kwargs.get('weight_decay'), WeightDecay) or 'fused' in kwargs:
        return
    opt = LARS(make_params())
    with pytest.raises(ValueError, match=name):
        opt.add_param_group({'params': [torch.zeros(2, requires_grad=True)], **kwargs})


@pytest.mark.parametrize('kwargs, name', [
    (dict(trust_coefficient=-1.), 'trust_coefficient'), (dict(eps=float('nan')), 'eps'), (dict(clip=None), 'clip'),
])
def test_larc_bad_settings_are_value_errors_that_name_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LARC(torch.optim.SGD(make_params(), lr=0.1), **kwargs)
    opt = LARC(torch.optim.SGD(make_params(), lr=0.1))
    with pytest.raises(ValueError, match=name):
        opt.add_param_group({'params': [torch.zeros(2, requires_grad=True)],
                             **{f'larc_{key}': value for key, value in kwargs.items()}})


def poly_decay(total_steps: int):
    """The paper's polynomial (power 2) learning-rate decay, as a LambdaLR."""
    return lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda t: (1 - t / total_steps) ** 2)


def test_lars_converges_on_rosenbrock_and_regression():
    # With a constant rate the normalized step keeps a constant length; the paper decays the rate (power 2)
    assert_converges(lambda p: LARS(p, lr=2., momentum=0.9, trust_coefficient=0.002),
                     rosenbrock_scheduler=poly_decay(3000), regression_scheduler=poly_decay(1500))


def test_larc_around_sgd_converges_on_rosenbrock_and_regression():
    assert_converges(lambda p: LARC(torch.optim.SGD(p, lr=1e-2, momentum=0.9)),
                     rosenbrock_scheduler=poly_decay(3000), regression_scheduler=poly_decay(1500))
