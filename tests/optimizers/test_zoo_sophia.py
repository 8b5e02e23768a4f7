"""
Sophia-G (labml_nn/optimizers/sophia.py): each equation of the page against plain torch code written from the
paper's Algorithm 3 and 2 (https://arxiv.org/abs/2305.14342), the Hessian estimate API, the clip, settings,
resume, closure, the labml-nn 0.5.1 keywords, and convergence where the Hessian estimate is actually refreshed.
"""

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.sophia import Sophia, sophia_g_hessian_step
from opt_testing import (assert_converges_on_least_squares, assert_converges_on_rosenbrock,
                         closure_step_on_sum_of_squares, least_squares_problem, make_grads, make_params, max_abs_diff)

STEPS = 120
K = 3
B = 7


def hessian_grads(steps: int = STEPS, seed: int = 5):
    """Stand-ins for the sampled-label gradients g_hat, one list per step (only every K-th is used)."""
    return make_grads(steps, seed=seed, scale=0.5)


def run_sophia(optimizer, params, grads, ghats, k=K, batch_size=B, start=0):
    """Steps `start..`: every k-th (t mod k = 1, 1-based) first folds g_hat into h, then the ordinary step."""
    for i, (step_grads, step_ghats) in enumerate(zip(grads, ghats), start=start):
        if i % k == 0:
            for p, g in zip(params, step_ghats):
                p.grad = g.clone()
            optimizer.update_hessian(batch_size)
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        optimizer.step()
    return [p.detach().clone() for p in params]


def paper_sophia(params, grads, ghats, *, lr, betas, eps, rho, weight_decay, k=K, batch_size=B):
    """Algorithm 3 of the paper, written out on plain tensors."""
    beta1, beta2 = betas
    thetas = [p.detach().clone() for p in params]
    ms = [torch.zeros_like(t) for t in thetas]
    hs = [torch.zeros_like(t) for t in thetas]
    for t, (gs, ghs) in enumerate(zip(grads, ghats), start=1):
        for j, (theta, g, gh) in enumerate(zip(thetas, gs, ghs)):
            ms[j] = beta1 * ms[j] + (1 - beta1) * g
            if t % k == 1 % k:
                # h_hat = B g_hat * g_hat;  h_t = beta2 h_{t-k} + (1 - beta2) h_hat
                hs[j] = beta2 * hs[j] + (1 - beta2) * (batch_size * gh * gh)
            theta = theta * (1 - lr * weight_decay)
            ratio = ms[j] / torch.maximum(rho * hs[j], torch.full_like(hs[j], eps))
            thetas[j] = theta - lr * torch.clamp(ratio, min=-1., max=1.)
    return thetas, hs


SETTINGS = dict(lr=1e-2, betas=(0.9, 0.95), eps=1e-12, rho=0.04, weight_decay=0.1)


@pytest.mark.parametrize('foreach', [False, True])
def test_steps_equal_the_papers_algorithm_3_over_many_steps(foreach):
    grads, ghats = make_grads(STEPS), hessian_grads()
    params = make_params()
    ours = run_sophia(Sophia(params, foreach=foreach, **SETTINGS), params, grads, ghats)
    expected, expected_h = paper_sophia(make_params(), grads, ghats, **SETTINGS)
    assert max_abs_diff(ours, make_params()) > 1e-1
    assert max_abs_diff(ours, expected) < 1e-12


def test_both_regimes_of_the_clip_are_exercised_in_the_comparison():
    grads, ghats = make_grads(STEPS), hessian_grads()
    params = make_params()
    opt = Sophia(params, **SETTINGS)
    run_sophia(opt, params, grads, ghats)
    ratios = torch.cat([(opt.state[p]['exp_avg'] / (SETTINGS['rho'] * opt.state[p]['hessian'])).flatten()
                        for p in params])
    assert (ratios.abs() > 1).any() and (ratios.abs() < 1).any()


def test_foreach_and_per_tensor_paths_are_bit_equal():
    grads, ghats = make_grads(STEPS), hessian_grads()
    a_params, b_params = make_params(), make_params()
    a = run_sophia(Sophia(a_params, foreach=False, **SETTINGS), a_params, grads, ghats)
    opt_b = Sophia(b_params, foreach=True, **SETTINGS)
    b = run_sophia(opt_b, b_params, grads, ghats)
    assert max_abs_diff(a, b) == 0.
    assert all(opt_b.state[p]['hessian'].abs().sum() > 0 for p in b_params)


def test_equals_pytorch_optimizer_sophia_h_given_the_same_hessian_estimates():
    # pytorch_optimizer's SophiaH takes the step lr' clip(m / max(h, eps'), p). With lr' = eta / rho, p = rho,
    # eps' = eps / rho and its (decoupled) weight decay lambda * rho that is our eta clip(m / max(rho h, eps), 1).
    # It is handed h_hat = B g_hat^2 on the steps where we call update_hessian.
    pytorch_optimizer = pytest.importorskip('pytorch_optimizer')
    s = SETTINGS
    grads, ghats = make_grads(STEPS), hessian_grads()
    params = make_params()
    ours = run_sophia(Sophia(params, **s), params, grads, ghats)

    ref_params = make_params()
    ref = pytorch_optimizer.SophiaH(ref_params, lr=s['lr'] / s['rho'], betas=s['betas'],
                                    weight_decay=s['weight_decay'] * s['rho'], p=s['rho'],
                                    eps=s['eps'] / s['rho'], update_period=K)
    for i, (gs, ghs) in enumerate(zip(grads, ghats)):
        for p, g in zip(ref_params, gs):
            p.grad = g.clone()
        ref.step(hessian=[B * gh * gh for gh in ghs] if i % K == 0 else None)
    assert max_abs_diff(ours, make_params()) > 1e-1
    assert max_abs_diff(ours, [p.detach() for p in ref_params]) < 1e-12


# ## The Hessian estimate

def test_update_hessian_gives_beta2_blend_of_batch_size_times_squared_gradient():
    params = make_params()
    opt = Sophia(params, betas=(0.9, 0.8))
    ghats = hessian_grads(3)
    expected = [torch.zeros_like(p) for p in params]
    for batch_size, gs in zip((4, 9, 2.5), ghats):
        for p, g in zip(params, gs):
            p.grad = g.clone()
        opt.update_hessian(batch_size)
        expected = [0.8 * h + 0.2 * batch_size * g * g for h, g in zip(expected, gs)]
        hs = [opt.state[p]['hessian'] for p in params]
        assert all(h.abs().min() > 0 for h in hs)
        assert max_abs_diff(hs, expected) < 1e-13
    # It takes no step and leaves the gradients where they are
    assert max_abs_diff([p.detach() for p in params], make_params()) == 0.
    assert all(p.grad is not None for p in params)


def test_steps_without_an_update_leave_h_alone_and_only_move_m_and_theta():
    params = make_params()
    opt = Sophia(params, lr=1e-2)
    for p, g in zip(params, hessian_grads(1)[0]):
        p.grad = g.clone()
    opt.update_hessian(B)
    h_after_update = [opt.state[p]['hessian'].clone() for p in params]
    for gs in make_grads(5):
        for p, g in zip(params, gs):
            p.grad = g.clone()
        opt.step()
    assert max_abs_diff([opt.state[p]['hessian'] for p in params], h_after_update) == 0.
    assert max_abs_diff([p.detach() for p in params], make_params()) > 1e-3


def test_parameters_without_a_sampled_gradient_keep_their_h():
    a, b = make_params(shapes=((3,), (2,)))
    opt = Sophia([a, b])
    a.grad, b.grad = torch.ones(3, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    opt.update_hessian(2)
    h_a, h_b = opt.state[a]['hessian'].clone(), opt.state[b]['hessian'].clone()
    b.grad = None
    opt.update_hessian(2)
    assert torch.equal(opt.state[b]['hessian'], h_b)
    assert not torch.equal(opt.state[a]['hessian'], h_a)


def softmax_problem(n=256, features=4, classes=3, seed=0):
    """Inputs and labels drawn from a softmax-regression model (so the optimum is finite)."""
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, features, generator=gen, dtype=torch.float64)
    true_w = 2 * torch.randn(features, classes, generator=gen, dtype=torch.float64)
    labels = torch.multinomial((inputs @ true_w).softmax(-1), 1, generator=gen).squeeze(-1)
    return inputs, labels


def make_model(features=4, classes=3):
    torch.manual_seed(0)
    return torch.nn.Linear(features, classes).double()


def test_gnb_step_uses_labels_sampled_from_the_model_not_the_true_labels():
    inputs, labels = softmax_problem(n=64)
    model = make_model()
    reference = copy.deepcopy(model)
    opt = Sophia(model.parameters(), betas=(0.9, 0.95))
    sampled = sophia_g_hessian_step(model, opt, inputs, generator=torch.Generator().manual_seed(3))

    # The same draw, written out: y_hat ~ softmax(f(theta, x)); g_hat = grad of the mean CE on y_hat
    logits = reference(inputs)
    y_hat = torch.multinomial(logits.detach().softmax(-1), 1,
                              generator=torch.Generator().manual_seed(3)).squeeze(-1)
    assert torch.equal(sampled, y_hat)
    assert (y_hat != labels).any()
    g_hat = torch.autograd.grad(F.cross_entropy(logits, y_hat), list(reference.parameters()))
    g_true = torch.autograd.grad(F.cross_entropy(reference(inputs), labels), list(reference.parameters()))
    expected = [0.05 * 64 * g * g for g in g_hat]
    with_true_labels = [0.05 * 64 * g * g for g in g_true]

    hs = [opt.state[p]['hessian'] for p in model.parameters()]
    assert max_abs_diff(hs, expected) < 1e-13
    assert max_abs_diff(hs, with_true_labels) > 1e-3
    # The helper clears the gradients it made and takes no step
    assert all(p.grad is None for p in model.parameters())
    assert max_abs_diff([p.detach() for p in model.parameters()],
                        [p.detach() for p in reference.parameters()]) == 0.


def test_gnb_estimate_averages_to_the_gauss_newton_diagonal():
    # For softmax regression the expected B g_hat^2 is the mean over examples of the diagonal of
    # x x^T (diag(p) - p p^T), i.e. the weight (c, i) gets mean_b x_bi^2 p_bc (1 - p_bc): the exact Hessian diagonal
    inputs, _ = softmax_problem(n=32)
    model = make_model()
    opt = Sophia(model.parameters(), betas=(0.9, 0.999))
    gen = torch.Generator().manual_seed(0)
    for _ in range(4000):
        sophia_g_hessian_step(model, opt, inputs, generator=gen)
    probs = model(inputs).detach().softmax(-1)
    weight_diag = (probs * (1 - probs)).T @ (inputs ** 2) / len(inputs)
    estimate = opt.state[model.weight]['hessian'] / (1 - 0.999 ** 4000)
    assert ((estimate - weight_diag).abs() / weight_diag).max() < 0.15


# ## The clip

def test_a_coordinate_with_no_curvature_moves_by_exactly_lr_and_none_by_more():
    lr = 1e-2
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = Sophia([p], lr=lr, rho=0.05)
    # h = 0 for the first two coordinates, large for the others
    p.grad = torch.tensor([0., 0., 30., 30.], dtype=torch.float64)
    opt.update_hessian(1)
    for g in ([1e6, -1e-3, 1e6, 1e-3], [3., -2., -5., 4.]):
        before = p.detach().clone()
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        moved = (p.detach() - before).abs()
        assert (moved <= lr * (1 + 1e-12)).all()
    # A vanishing h gives the sign step: -lr sign(m) for the two flat coordinates, each step
    assert torch.allclose(p.detach()[:2], torch.tensor([-2 * lr, 2 * lr], dtype=torch.float64), atol=0, rtol=1e-12)
    # A large m on a curved coordinate is clipped too (m stays about 9e4 on the second step)
    assert p.detach()[2].item() == pytest.approx(-2 * lr, rel=1e-12)
    # Where rho h is large the step is the Newton-like lr m / (rho h), below lr
    rho_h = 0.05 * (0.05 * 900.)             # rho (1 - beta2) g^2
    m1 = 0.1 * 1e-3
    m2 = 0.9 * m1 + 0.1 * 4.
    assert p.detach()[3].item() == pytest.approx(-lr * (m1 + m2) / rho_h, rel=1e-12)
    assert 0 < abs(p.detach()[3].item()) < lr


def test_eps_is_a_floor_not_an_addend_unlike_labml_0_5_1():
    # labml-nn 0.5.1 computed lr clip(m / (rho h + rho eps), 1);
    # the paper (and this class) lr clip(m / max(rho h, eps), 1)
    lr, rho, eps = 1., 0.5, 1e-3
    h_value, m_value = 1.5e-3, 1e-4          # rho h = 7.5e-4 < eps: here the two forms differ
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = Sophia([p], lr=lr, rho=rho, eps=eps, betas=(0., 0.))
    p.grad = torch.tensor([math.sqrt(h_value), 10.], dtype=torch.float64)
    opt.update_hessian(1)                   # h = (1 - 0) * 1 * g^2
    p.grad = torch.tensor([m_value, m_value], dtype=torch.float64)
    opt.step()                              # beta1 = 0: m_t = g_t
    paper = [-lr * min(m_value / max(rho * h_value, eps), 1.), -lr * min(m_value / max(rho * 100., eps), 1.)]
    labml_051 = [-lr * min(m_value / (rho * h_value + rho * eps), 1.),
                 -lr * min(m_value / (rho * 100. + rho * eps), 1.)]
    assert p.detach().tolist() == pytest.approx(paper, rel=1e-12)
    assert abs(p[0].item() - labml_051[0]) > 1e-3 * abs(labml_051[0])
    # where rho h >> eps the two agree
    assert p[1].item() == pytest.approx(labml_051[1], rel=1e-4)


# ## Settings

@pytest.mark.parametrize('name, value', [('lr', -1e-3), ('eps', 0.), ('eps', -1.), ('rho', 0.), ('rho', -0.1),
                                         ('rho', float('inf')), ('rho', float('nan')), ('weight_decay', -0.1),
                                         ('betas', (0.9, 1.0)), ('betas', (-0.1, 0.9))])
def test_bad_settings_raise_value_error_naming_them(name, value):
    with pytest.raises(ValueError, match=name):
        Sophia(make_params(), **{name: value})
    # Also in a group added later
    opt = Sophia(make_params()[:1])
    with pytest.raises(ValueError, match=name):
        opt.add_param_group({'params': make_params()[1:], name: value})


@pytest.mark.parametrize('value', [0, -3, float('inf'), float('nan'), True, '8'])
def test_bad_batch_size_in_update_hessian_names_it(value):
    params = make_params()
    opt = Sophia(params)
    for p in params:
        p.grad = torch.ones_like(p)
    with pytest.raises(ValueError, match='n_tokens_training_batch'):
        opt.update_hessian(value)


def test_settings_live_in_param_groups_and_groups_may_differ():
    params = make_params()
    opt = Sophia([{'params': params[:1]}, {'params': params[1:], 'rho': 0.5, 'lr': 0.1}], rho=0.02)
    assert [g['rho'] for g in opt.param_groups] == [0.02, 0.5]
    saved = opt.state_dict()['param_groups']
    assert {'lr', 'betas', 'eps', 'rho', 'weight_decay', 'weight_decouple', 'maximize', 'foreach'} <= set(saved[1])


def test_labml_0_5_1_constructor_keywords_build_the_same_optimizer():
    # configs.py of 0.5.1: Sophia(params, lr=, betas=, eps=, weight_decay=WeightDecay(...), rho=)
    params = make_params()
    opt = Sophia(params, lr=3e-4, betas=(0.9, 0.95), eps=1e-12, weight_decay=WeightDecay(0.01), rho=0.03)
    group = opt.param_groups[0]
    assert (group['lr'], group['betas'], group['eps'], group['rho']) == (3e-4, (0.9, 0.95), 1e-12, 0.03)
    assert (group['weight_decay'], group['weight_decouple'], group['weight_decay_absolute']) == (0.01, True, False)
    # 0.5.1's defaults, and its Hessian method called positionally
    default = Sophia(make_params()).param_groups[0]
    assert (default['lr'], default['betas'], default['eps'], default['rho'], default['weight_decay']) == \
           (1e-4, (0.9, 0.95), 1e-12, 0.03, 0.)
    for p in params:
        p.grad = torch.ones_like(p)
    opt.update_hessian(16)
    assert all(torch.allclose(opt.state[p]['hessian'], torch.full_like(p, 0.05 * 16)) for p in params)
    # A plain number is decoupled weight decay, as in the paper
    assert Sophia(make_params(), weight_decay=0.1).param_groups[0]['weight_decouple'] is True
    with pytest.raises(ValueError, match='capturable'):
        Sophia(make_params(), capturable=True)


def test_arguments_after_params_are_keyword_only():
    with pytest.raises(TypeError):
        Sophia(make_params(), 1e-3)


# ## Resume, closure, schedulers

@pytest.mark.parametrize('foreach', [False, True])
def test_state_dict_round_trip_continues_bit_identically_including_h(foreach):
    grads, ghats = make_grads(40), hessian_grads(40)
    params = make_params()
    straight = run_sophia(Sophia(params, foreach=foreach, **SETTINGS), params, grads, ghats)

    first = make_params()
    opt = Sophia(first, foreach=foreach, **SETTINGS)
    run_sophia(opt, first, grads[:20], ghats[:20])
    saved = copy.deepcopy(opt.state_dict())
    assert all(v['hessian'].abs().sum() > 0 for v in saved['state'].values())
    resumed = [p.detach().clone().requires_grad_() for p in first]
    opt2 = Sophia(resumed, foreach=foreach, lr=1., rho=1.)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]['rho'] == SETTINGS['rho']
    after = run_sophia(opt2, resumed, grads[20:], ghats[20:], start=20)
    assert max_abs_diff(straight, after) == 0.


def test_closure_is_evaluated_and_its_loss_returned():
    loss, w, calls = closure_step_on_sum_of_squares(lambda p: Sophia(p, lr=0.1))
    assert calls == 1 and loss.item() == 5.
    # h = 0: a sign step of lr on each coordinate
    assert torch.allclose(w.detach(), torch.tensor([0.9, -1.9], dtype=torch.float64), atol=0, rtol=1e-15)


def test_lr_scheduler_changes_the_step():
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = Sophia([w], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    moves = []
    for _ in range(3):
        before = w.item()
        w.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        sched.step()
        moves.append(before - w.item())
    assert moves == pytest.approx([0.1, 0.05, 0.025], rel=1e-12)


# ## Convergence, with the Hessian estimate refreshed every k steps

def test_converges_on_softmax_regression_with_gnb_estimates():
    inputs, labels = softmax_problem()
    model = make_model()
    lbfgs = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14,
                              line_search_fn='strong_wolfe')

    def closure():
        lbfgs.zero_grad()
        loss = F.cross_entropy(model(inputs), labels)
        loss.backward()
        return loss

    lbfgs.step(closure)
    best_loss = F.cross_entropy(model(inputs), labels).item()
    best_probs = model(inputs).detach().softmax(-1)

    def train(with_hessian):
        model = make_model()
        opt = Sophia(model.parameters(), lr=2e-2, rho=0.05)
        gen = torch.Generator().manual_seed(1)
        for t in range(400):
            if with_hessian and t % 10 == 0:
                sophia_g_hessian_step(model, opt, inputs, generator=gen)
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(inputs), labels).backward()
            opt.step()
        return model

    model = train(True)
    loss = F.cross_entropy(model(inputs), labels).item()
    assert loss - best_loss < 1e-8 * best_loss
    assert (model(inputs).detach().softmax(-1) - best_probs).abs().max() < 1e-4
    # The erratum of labml-nn 0.5.1's experiment: without the estimate (h = 0) it is sign-SGD and stalls
    stalled = train(False)
    assert F.cross_entropy(stalled(inputs), labels).item() - best_loss > 1e-5


def test_converges_on_rosenbrock_with_the_gauss_newton_diagonal():
    # Rosenbrock is r1^2 + r2^2 with r1 = 1 - x, r2 = 10 (y - x^2); its Gauss-Newton diagonal
    # 2 sum (dr/dtheta)^2 = (2 (1 + 400 x^2), 200) is fed in as h_hat = B g^2 with B = 1, g = its square root
    def gauss_newton_diagonal(opt, xy, t):
        if t % 10 == 0:
            x = xy.detach()[0]
            xy.grad = torch.stack([2 * (1 + 400 * x * x), torch.tensor(200., dtype=torch.float64)]).sqrt()
            opt.update_hessian(1)

    assert_converges_on_rosenbrock(lambda p: Sophia(p, lr=5e-2, rho=0.01), steps=3000,
                                   before_step=gauss_newton_diagonal)


def test_converges_on_least_squares_regression_with_the_exact_hessian_diagonal():
    inputs = least_squares_problem()[0]
    # The Hessian of the mean squared error is 2/n X^T X; its diagonal, as h_hat with B = 1
    diagonal = 2 / len(inputs) * (inputs ** 2).sum(0)

    def exact_diagonal(opt, w, t):
        if t % 10 == 0:
            w.grad = diagonal.sqrt()
            opt.update_hessian(1)

    assert_converges_on_least_squares(lambda p: Sophia(p, lr=1e-2, rho=0.02), steps=1500, before_step=exact_diagonal)


@pytest.mark.parametrize('foreach', [False, True])
def test_low_precision_and_complex_params_keep_a_float32_real_h(foreach):
    half = torch.tensor([0.5, -1.], dtype=torch.float16, requires_grad=True)
    cplx = torch.tensor([1 + 2j], dtype=torch.complex64, requires_grad=True)
    opt = Sophia([half, cplx], lr=1e-2, foreach=foreach)
    half.grad = torch.tensor([2., 4.], dtype=torch.float16)
    cplx.grad = torch.tensor([3 - 1j], dtype=torch.complex64)
    opt.update_hessian(2)
    assert opt.state[half]['hessian'].dtype == torch.float32
    assert torch.allclose(opt.state[half]['hessian'], torch.tensor([0.4, 1.6]), rtol=1e-6, atol=0)
    # The real and imaginary parts are two coordinates: (1 - beta2) B (3^2, 1^2)
    assert torch.allclose(opt.state[cplx]['hessian'], torch.tensor([[0.9, 0.1]]), rtol=1e-6, atol=0)
    opt.step()
    assert half.dtype == torch.float16 and half.ne(torch.tensor([0.5, -1.], dtype=torch.float16)).all()
