"""
SGD (labml_nn/optimizers/sgd.py) against torch.optim.SGD, fastai's SGD step values, the equations of its page
(torch's momentum against Sutskever et al.'s, Nesterov's look-ahead form), and its figure.
"""

import inspect
import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers import sgd as sgd_module
from labml_nn.optimizers import sgd_plot
from labml_nn.optimizers.sgd import SGD
from opt_testing import (assert_converges_on_least_squares, assert_converges_on_rosenbrock, assert_exact_resume,
                         closure_step_on_sum_of_squares, compare, compare_on_complex, make_grads, make_params,
                         max_abs_diff, run)

LR = 1e-2

# (momentum, dampening, nesterov): every combination torch accepts (Nesterov needs momentum > 0, dampening 0)
MOMENTUM_SETTINGS = [(0., 0., False), (0., 0.5, False), (0.9, 0., False), (0.9, 0.5, False), (0.9, 0., True)]


# ## Equal to torch.optim.SGD

@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('maximize', [False, True])
@pytest.mark.parametrize('weight_decay', [0., 0.1])
@pytest.mark.parametrize('momentum, dampening, nesterov', MOMENTUM_SETTINGS)
def test_sgd_equals_torch_sgd_for_every_option(momentum, dampening, nesterov, weight_decay, maximize, foreach):
    args = dict(lr=LR, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay,
                maximize=maximize, foreach=foreach)
    compare(lambda p: SGD(p, **args), lambda p: torch.optim.SGD(p, **args))


@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('momentum, dampening, nesterov', MOMENTUM_SETTINGS)
def test_sgd_equals_torch_sgd_under_a_step_schedule(momentum, dampening, nesterov, foreach):
    args = dict(lr=0.05, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=0.01)
    compare(lambda p: SGD(p, foreach=foreach, **args), lambda p: torch.optim.SGD(p, **args),
            scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=25, gamma=0.5))


@pytest.mark.parametrize('foreach', [False, True])
def test_sgd_equals_torch_sgd_with_two_different_param_groups(foreach):
    def groups(p):
        return [dict(params=p[:2], momentum=0.9, nesterov=True, weight_decay=0.1),
                dict(params=p[2:], lr=0.05, momentum=0.5, dampening=0.3, maximize=True)]

    compare(lambda p: SGD(groups(p), lr=LR, foreach=foreach),
            lambda p: torch.optim.SGD(groups(p), lr=LR))


@pytest.mark.parametrize('foreach', [False, True])
def test_sgd_weight_decay_object_for_l2_equals_torch_number(foreach):
    compare(lambda p: SGD(p, lr=LR, momentum=0.9, foreach=foreach,
                          weight_decay=WeightDecay(0.1, weight_decouple=False)),
            lambda p: torch.optim.SGD(p, lr=LR, momentum=0.9, weight_decay=0.1))


@pytest.mark.parametrize('foreach', [False, True])
def test_sgd_complex_params_equal_torch(foreach):
    args = dict(lr=LR, momentum=0.9, nesterov=True, weight_decay=0.1)
    compare_on_complex(lambda p: SGD(p, foreach=foreach, **args), lambda p: torch.optim.SGD(p, **args))


def test_sgd_state_is_torchs_momentum_buffer_and_none_without_momentum():
    for momentum in (0., 0.9):
        ours, theirs = make_params(), make_params()
        a, b = SGD(ours, lr=LR, momentum=momentum), torch.optim.SGD(theirs, lr=LR, momentum=momentum)
        for p, q, g in zip(ours, theirs, make_grads(steps=1)[0]):
            p.grad, q.grad = g.clone(), g.clone()
        a.step(), b.step()
        for p, q, g in zip(ours, theirs, make_grads(steps=1)[0]):
            assert set(a.state[p]) == set(b.state[q])
            if momentum:
                # b_1 = g_1: no dampening or momentum factor on the first step
                assert torch.equal(a.state[p]['momentum_buffer'], g)
                assert a.state[p]['momentum_buffer'] is not p.grad


def inspect_signature(cls):
    return {name: param.default for name, param in inspect.signature(cls).parameters.items() if name != 'params'}


def test_sgd_defaults_are_torchs():
    ours, theirs = inspect_signature(SGD), inspect_signature(torch.optim.SGD)
    for name, default in theirs.items():
        assert ours[name] == default, name


# ## fastai's step values
#
# From fastai's optimizer docs (../shared/seeds/fastai-optimizers.txt, "SGD with momentum" and the basic
# `Optimizer` examples). `tst_params()` are four 1-element tensors with values 0, 1, 2, 3 and gradients 0, .1, .2,
# .3 (the gradient stays fixed between steps). Translation: fastai's `mom` is our `momentum` with `dampening=0`
# (fastai's SGD keeps `grad_avg = mom * grad_avg + grad`, starting from `grad_avg = grad`, which is torch's
# buffer); fastai's `wd` with `decouple_wd=True` (its default) is `WeightDecay(wd, weight_decouple=True)`,
# and with `decouple_wd=False` it is L2, our plain number `weight_decay=wd`.
# Not mapped: fastai's `average_grad(..., dampening=True)` is an exponential moving average from the first step
# (`grad_avg = 0.1 * grad` after one step with mom=0.9), while torch's and our buffer start at the undamped
# gradient, so no setting of ours gives it. fastai's L2 example (`decouple_wd=False`) has its expected value
# commented out ("this formula was wrong"), so there is no fastai value to pin; we pin the value the update
# rule gives (and torch equality, above).

def tst_params():
    return [torch.tensor([float(i)], dtype=torch.float64, requires_grad=True) for i in range(4)]


def with_fastai_grads(params):
    for i, p in enumerate(params):
        p.grad = torch.tensor([i / 10], dtype=torch.float64)
    return params


def values(params):
    return [p.item() for p in params]


def assert_close(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a == pytest.approx(e, abs=1e-12), (actual, expected)


@pytest.mark.parametrize('foreach', [False, True])
def test_fastai_plain_sgd_steps(foreach):
    params = with_fastai_grads(tst_params())
    opt = SGD(params, lr=0.1, foreach=foreach)
    opt.step()
    assert_close(values(params), [i * 0.99 for i in range(4)])
    opt.step()
    assert_close(values(params), [i * 0.98 for i in range(4)])


@pytest.mark.parametrize('foreach', [False, True])
def test_fastai_sgd_with_momentum_steps_and_buffer(foreach):
    params = with_fastai_grads(tst_params())
    opt = SGD(params, lr=0.1, momentum=0.9, foreach=foreach)
    opt.step()
    assert_close(values(params), [i * 0.99 for i in range(4)])
    opt.step()
    assert_close(values(params), [i * (1 - 0.1 * (0.1 + 0.1 * 1.9)) for i in range(4)])
    # fastai's state['grad_avg'] is our state['momentum_buffer']
    assert_close([opt.state[p]['momentum_buffer'].item() for p in params], [i * 0.19 for i in range(4)])


def test_fastai_average_grad_without_dampening_is_the_momentum_buffer():
    p = torch.tensor([1., 2., 3.], dtype=torch.float64, requires_grad=True)
    grad = torch.tensor([4., 5., 6.], dtype=torch.float64)
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = grad.clone()
    opt.step()
    assert torch.equal(opt.state[p]['momentum_buffer'], grad)
    opt.step()
    assert torch.allclose(opt.state[p]['momentum_buffer'], grad * 1.9, rtol=0, atol=1e-12)


@pytest.mark.parametrize('momentum', [0., 0.9])
def test_fastai_decoupled_weight_decay_step(momentum):
    # fastai: SGD(lr=0.1, wd=0.1) and SGD(lr=0.1, mom=0.9, wd=0.1) (decouple_wd=True) give 0.98 i after one step
    params = with_fastai_grads(tst_params())
    SGD(params, lr=0.1, momentum=momentum, weight_decay=WeightDecay(0.1, weight_decouple=True)).step()
    assert_close(values(params), [i * 0.98 for i in range(4)])


def test_fastai_l2_step_on_the_decayed_params():
    # fastai's example continues from 0.98 i with a fresh L2 optimizer; its expected value is commented out
    # there. Our rule: g = 0.1 i + 0.1 * 0.98 i = 0.198 i, so 0.98 i - 0.1 * 0.198 i = 0.9602 i.
    params = with_fastai_grads(tst_params())
    SGD(params, lr=0.1, momentum=0.9, weight_decay=WeightDecay(0.1, weight_decouple=True)).step()
    SGD(params, lr=0.1, momentum=0.9, weight_decay=0.1).step()
    assert_close(values(params), [i * 0.9602 for i in range(4)])


def test_fastai_param_without_grad_is_skipped():
    params = with_fastai_grads(tst_params())
    params[-1].grad = None
    SGD(params, lr=0.1).step()
    assert_close(values(params), [0., 0.99, 1.98, 3.])


def test_fastai_two_groups_with_their_own_lr():
    # fastai sets hypers[0]['lr'] = 0.01 after construction; we set the group's lr the same way
    params = with_fastai_grads(tst_params())
    opt = SGD([dict(params=params[:2]), dict(params=params[2:])], lr=0.1)
    opt.param_groups[0]['lr'] = 0.01
    opt.step()
    assert_close(values(params), [0., 0.999, 1.98, 2.97])


# ## The page's equations, computed independently

def page_sgd(theta, grads, lr_at, mu=0., tau=0., nesterov=False, l2=0.):
    """sgd.md, torch's form: b_1 = g_1; b_t = mu b + (1 - tau) g; theta -= lr_t (g + mu b if nesterov else b)."""
    theta = [x.detach().clone() for x in theta]
    b = [None] * len(theta)
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            g = g + l2 * theta[i]
            if mu == 0:
                direction = g
            else:
                b[i] = g.clone() if b[i] is None else mu * b[i] + (1 - tau) * g
                direction = g + mu * b[i] if nesterov else b[i]
            theta[i] = theta[i] - lr_at(t) * direction
    return theta


def sutskever(theta, grads, lr_at, mu):
    """Sutskever et al. (2013): v_t = mu v_{t-1} - lr_t g_t (v_0 = 0); theta_t = theta_{t-1} + v_t."""
    theta = [x.detach().clone() for x in theta]
    v = [torch.zeros_like(x) for x in theta]
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            v[i] = mu * v[i] - lr_at(t) * g
            theta[i] = theta[i] + v[i]
    return theta


def step_lr(t):
    """The rate of step t under StepLR(step_size=25, gamma=0.5) from 0.05 (the scheduler steps after each step)."""
    return 0.05 * 0.5 ** ((t - 1) // 25)


@pytest.mark.parametrize('mu, tau, nesterov, l2', [(0., 0., False, 0.), (0.9, 0., False, 0.1), (0.9, 0.5, False, 0.),
                                                   (0.9, 0., True, 0.1)])
def test_class_is_the_torch_form_on_the_page_with_a_schedule(mu, tau, nesterov, l2):
    grads = make_grads()
    expected = page_sgd(make_params(), grads, step_lr, mu, tau, nesterov, l2)
    ours = run(lambda p: SGD(p, lr=0.05, momentum=mu, dampening=tau, nesterov=nesterov, weight_decay=l2),
               make_params(), grads, scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, 25, gamma=0.5))
    assert max_abs_diff(ours, expected) <= 1e-12


def test_torch_and_sutskever_momentum_agree_with_a_constant_rate():
    grads = make_grads()
    torch_form = page_sgd(make_params(), grads, lambda t: 0.05, mu=0.9)
    assert max_abs_diff(sutskever(make_params(), grads, lambda t: 0.05, mu=0.9), torch_form) <= 1e-12
    assert max_abs_diff(run(lambda p: SGD(p, lr=0.05, momentum=0.9), make_params(), grads), torch_form) <= 1e-12


def test_torch_and_sutskever_momentum_differ_under_a_schedule():
    grads = make_grads()
    torch_form = page_sgd(make_params(), grads, step_lr, mu=0.9)
    assert max_abs_diff(sutskever(make_params(), grads, step_lr, mu=0.9), torch_form) > 1e-2


def test_unrolled_steps_on_the_page():
    # torch: theta_t - theta_{t-1} = -lr_t sum_s mu^{t-s} g_s;  Sutskever: -sum_s mu^{t-s} lr_s g_s
    mu, grads = 0.9, make_grads(steps=60)
    start = make_params()
    params = [x.detach().clone().requires_grad_() for x in start]
    opt = SGD(params, lr=step_lr(1), momentum=mu)
    sched = torch.optim.lr_scheduler.StepLR(opt, 25, gamma=0.5)
    theta_s = [x.detach().clone() for x in start]
    v = [torch.zeros_like(x) for x in start]
    for t in range(1, len(grads) + 1):
        before = [p.detach().clone() for p in params]
        for p, g in zip(params, grads[t - 1]):
            p.grad = g.clone()
        opt.step()
        sched.step()
        for i, p in enumerate(params):
            ours_step = p.detach() - before[i]
            torch_sum = -step_lr(t) * sum(mu ** (t - s) * grads[s - 1][i] for s in range(1, t + 1))
            assert (ours_step - torch_sum).abs().max() <= 1e-12
            v[i] = mu * v[i] - step_lr(t) * grads[t - 1][i]
            sutskever_sum = -sum(mu ** (t - s) * step_lr(s) * grads[s - 1][i] for s in range(1, t + 1))
            assert (v[i] - sutskever_sum).abs().max() <= 1e-12
    # After the cut at t = 26 the torch step is half at once; Sutskever's still carries the old rate
    assert max_abs_diff(v, [p.detach() - b for p, b in zip(params, before)]) > 1e-3


def test_dampened_buffer_is_the_unrolled_sum_with_an_undamped_first_gradient():
    # b_t = mu^{t-1} g_1 + (1 - tau) sum_{s >= 2} mu^{t-s} g_s
    mu, tau, grads = 0.9, 0.5, make_grads(steps=40)
    params = make_params()
    opt = SGD(params, lr=LR, momentum=mu, dampening=tau)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        opt.step()
    t = len(grads)
    for i, p in enumerate(params):
        expected = mu ** (t - 1) * grads[0][i] + (1 - tau) * sum(mu ** (t - s) * grads[s - 1][i]
                                                                 for s in range(2, t + 1))
        assert (opt.state[p]['momentum_buffer'] - expected).abs().max() <= 1e-12


@pytest.mark.parametrize('foreach', [False, True])
def test_nesterov_is_sutskevers_look_ahead_in_the_shifted_variable(foreach):
    # Sutskever's NAG on f = 1/2 sum a x^2: g = grad f(theta + mu v); v = mu v - lr g; theta += v.
    # The page: torch's parameters are phi = theta + mu v, with the gradient taken at phi itself.
    gen = torch.Generator().manual_seed(5)
    a = torch.rand(6, generator=gen, dtype=torch.float64) * 4 + 0.1
    start = torch.randn(6, generator=gen, dtype=torch.float64)
    lr, mu = 0.1, 0.9
    theta, v = start.clone(), torch.zeros(6, dtype=torch.float64)
    phi = start.clone().requires_grad_()
    opt = SGD([phi], lr=lr, momentum=mu, nesterov=True, foreach=foreach)
    for _ in range(100):
        g = a * (theta + mu * v)
        v = mu * v - lr * g
        theta = theta + v
        phi.grad = a * phi.detach()
        opt.step()
        assert (phi.detach() - (theta + mu * v)).abs().max() <= 1e-12
    assert (phi.detach() - start).abs().max() > 1e-2


def test_decoupled_weight_decay_shrinks_before_the_step():
    # WeightDecay(wd): theta <- theta (1 - lr wd), then the momentum step on the undecayed gradient
    grads, wd, mu = make_grads(), 0.1, 0.9
    theta = [x.detach().clone() for x in make_params()]
    b = [None] * len(theta)
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            theta[i] = theta[i] * (1 - LR * wd)
            b[i] = g.clone() if b[i] is None else mu * b[i] + g
            theta[i] = theta[i] - LR * b[i]
    for foreach in (False, True):
        ours = run(lambda p: SGD(p, lr=LR, momentum=mu, weight_decay=WeightDecay(wd), foreach=foreach),
                   make_params(), grads)
        assert max_abs_diff(ours, theta) <= 1e-12


# ## Checks, resume, closure

@pytest.mark.parametrize('kwargs, name', [
    (dict(lr=-0.1), 'lr'),
    (dict(momentum=-0.5), 'momentum'),
    (dict(weight_decay=-0.1), 'weight_decay'),
    (dict(nesterov=True), 'nesterov'),
    (dict(nesterov=True, momentum=0.9, dampening=0.1), 'nesterov'),
    (dict(dampening='x'), 'dampening'),
    (dict(maximize='yes'), 'maximize'),
    (dict(differentiable=True), 'differentiable'),
    (dict(fused=True), 'fused'),
    (dict(lr=torch.tensor([0.1, 0.2])), 'lr'),
])
def test_sgd_bad_hyper_parameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SGD(make_params(), **kwargs)


def test_sgd_added_group_is_checked():
    opt = SGD(make_params()[:1], lr=LR, momentum=0.9, nesterov=True)
    with pytest.raises(ValueError, match='nesterov'):
        opt.add_param_group(dict(params=make_params()[1:], momentum=0.))
    with pytest.raises(ValueError, match='momentum'):
        opt.add_param_group(dict(params=make_params()[1:], nesterov=False, momentum=-1.))


def test_sgd_tensor_lr_is_read_as_a_number():
    compare(lambda p: SGD(p, lr=torch.tensor(LR, dtype=torch.float64), momentum=0.9),
            lambda p: torch.optim.SGD(p, lr=LR, momentum=0.9))


def test_sgd_refuses_sparse_gradients():
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    p.grad = torch.eye(4, dtype=torch.float64)[0].to_sparse()
    with pytest.raises(RuntimeError, match='sparse'):
        SGD([p], lr=LR).step()


@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('momentum, dampening, nesterov', [(0.9, 0.5, False), (0.9, 0., True)])
def test_sgd_resumes_exactly_from_state_dict(momentum, dampening, nesterov, foreach):
    args = dict(lr=LR, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=0.1, foreach=foreach)
    resumed = assert_exact_resume(lambda p: SGD(p, **args), 50, make_resumed=lambda p: SGD(p, lr=1.0))
    assert resumed.param_groups[0]['momentum'] == momentum


def test_sgd_step_with_closure_returns_the_loss_and_uses_its_gradient():
    loss, w, _ = closure_step_on_sum_of_squares(lambda p: SGD(p, lr=0.1, momentum=0.9))
    assert loss.item() == pytest.approx(5.0)
    # w - 0.1 * 2 w
    assert torch.allclose(w.detach(), torch.tensor([0.8, -1.6], dtype=torch.float64), rtol=0, atol=1e-15)


# ## Convergence (the pattern and tolerances of test_opt_convergence.py)

# Rosenbrock's curvature reaches ~1000 at the start, so plain SGD needs lr < 2e-3 and many steps
ROSENBROCK_RUNS = {
    'plain': (dict(lr=1.5e-3), 10000),
    'momentum': (dict(lr=5e-4, momentum=0.9), 3000),
    'nesterov': (dict(lr=5e-4, momentum=0.9, nesterov=True), 3000),
}


@pytest.mark.parametrize('name', list(ROSENBROCK_RUNS))
def test_sgd_converges_on_rosenbrock(name):
    args, steps = ROSENBROCK_RUNS[name]
    assert_converges_on_rosenbrock(lambda p: SGD(p, **args), steps=steps)


@pytest.mark.parametrize('args', [dict(lr=0.1), dict(lr=0.05, momentum=0.9),
                                  dict(lr=0.05, momentum=0.9, nesterov=True)], ids=['plain', 'momentum', 'nesterov'])
def test_sgd_converges_on_least_squares_regression(args):
    assert_converges_on_least_squares(lambda p: SGD(p, **args))


# ## The figure (as tests/optimizers/test_opt_figure.py does for RAdam)

def test_sgd_figure_is_reproducible_byte_for_byte(tmp_path):
    first = sgd_plot.draw(tmp_path / 'a.svg').read_bytes()
    second = sgd_plot.draw(tmp_path / 'b.svg').read_bytes()
    assert first == second
    assert first.startswith(b'<?xml') and b'<svg' in first
    assert b'<dc:date>' not in first


def test_sgd_page_shows_the_committed_figure():
    assert sgd_plot.FIGURE_PATH.exists()
    assert sgd_plot.FIGURE_PATH.name == 'sgd_paths.svg'
    assert '(sgd_paths.svg)' in sgd_module.__doc__


def test_plotted_paths_are_the_optimizers_and_behave_as_the_page_says():
    paths = sgd_plot.all_paths()
    # The plotted plain path is the recursion theta <- theta - lr grad f, so it comes from SGD itself
    theta = torch.tensor(sgd_plot.START, dtype=torch.float64)
    curvature = torch.tensor([1., sgd_plot.KAPPA], dtype=torch.float64)
    for t in range(1, 11):
        theta = theta - sgd_plot.LR * curvature * theta
        assert (paths['SGD'][t] - theta).abs().max() <= 1e-12
    plain, momentum, nesterov = (sgd_plot.steps_to_reach(paths[name]) for name in sgd_plot.RUNS)
    # Momentum gets to the minimum region in fewer steps than plain SGD, Nesterov in fewer still
    assert None not in (plain, momentum, nesterov)
    assert nesterov < momentum < plain
    assert momentum <= plain / 1.5
    # Plain SGD overshoots across the valley (eta kappa > 1): y changes sign on the first steps
    assert paths['SGD'][1][1] < 0 < paths['SGD'][2][1]
    assert all(math.isfinite(v) for p in paths.values() for v in p[-1].tolist())
