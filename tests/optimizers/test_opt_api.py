"""What users expect from a torch optimizer: state_dict, parameter groups, schedulers, closures, zero_grad,
bad input, sparse gradients, low precision and complex parameters."""

import copy
import io
import pickle

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adadelta import Adadelta
from labml_nn.optimizers.adagrad import Adagrad
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.configs import OptimizerConfigs
from labml_nn.optimizers.lamb import Lamb
from labml_nn.optimizers.larc import LARS
from labml_nn.optimizers.lookahead import Lookahead
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.qhadam import QHAdam
from labml_nn.optimizers.radam import RAdam
from labml_nn.optimizers.ranger import Ranger
from labml_nn.optimizers.rmsprop import RMSprop
from labml_nn.optimizers.sgd import SGD
from labml_nn.optimizers.sophia import Sophia
from opt_testing import make_grads, make_params, max_abs_diff, run

LR = 1e-2

ALL = {
    'Adam': lambda p, **k: Adam(p, lr=LR, weight_decay=WeightDecay(0.01), **k),
    'AMSGrad': lambda p, **k: AMSGrad(p, lr=LR, weight_decay=WeightDecay(0.01, weight_decouple=False), **k),
    'RAdam': lambda p, **k: RAdam(p, lr=LR, amsgrad=True, **k),
    'AdaBelief': lambda p, **k: AdaBelief(p, lr=LR, amsgrad=True, **k),
    'AdamWarmup': lambda p, **k: AdamWarmup(p, lr=LR, warmup=20, **k),
    'AdamWarmupCosineDecay': lambda p, **k: AdamWarmupCosineDecay(p, lr=LR, warmup=20, total_steps=150, **k),
    'Noam': lambda p, **k: Noam(p, lr=1., warmup=20, d_model=16, **k),
}


@pytest.mark.parametrize('name', list(ALL))
@pytest.mark.parametrize('foreach', [False, True])
def test_state_dict_round_trip_continues_bit_identically(name, foreach):
    make = ALL[name]
    grads = make_grads(steps=120)
    straight = run(lambda p: make(p, foreach=foreach), make_params(), grads)

    first = make_params()
    opt = make(first, foreach=foreach)
    for step_grads in grads[:60]:
        for p, g in zip(first, step_grads):
            p.grad = g.clone()
        opt.step()
    # Save through bytes, as a checkpoint would
    buffer = io.BytesIO()
    torch.save({'params': [p.detach() for p in first], 'opt': opt.state_dict()}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer)

    resumed = [x.clone().requires_grad_() for x in checkpoint['params']]
    opt2 = make(resumed, foreach=foreach)
    opt2.load_state_dict(checkpoint['opt'])
    for step_grads in grads[60:]:
        for p, g in zip(resumed, step_grads):
            p.grad = g.clone()
        opt2.step()
    for a, b in zip(straight, resumed):
        assert torch.equal(a, b.detach())


@pytest.mark.parametrize('name', list(ALL))
def test_state_dict_is_picklable_and_holds_every_setting(name):
    opt = ALL[name](make_params())
    state = opt.state_dict()
    restored = pickle.loads(pickle.dumps(state))
    group = restored['param_groups'][0]
    for key in ('lr', 'betas', 'eps', 'weight_decay', 'weight_decouple', 'weight_decay_absolute',
                'optimized_update', 'foreach'):
        assert key in group


def test_per_group_overrides_equal_separate_optimizers():
    grads = make_grads()
    params = make_params()
    a, b, c = params
    opt = AdaBelief([{'params': [a]},
                     {'params': [b], 'lr': 3e-2, 'betas': (0.8, 0.99), 'rectify': False},
                     {'params': [c], 'weight_decay': 0.1, 'weight_decouple': False, 'amsgrad': True}],
                    lr=LR, eps=1e-8)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        opt.step()

    expected_a = run(lambda p: AdaBelief(p, lr=LR, eps=1e-8), make_params()[:1], [g[:1] for g in grads])
    expected_b = run(lambda p: AdaBelief(p, lr=3e-2, betas=(0.8, 0.99), eps=1e-8, rectify=False),
                     make_params()[1:2], [g[1:2] for g in grads])
    expected_c = run(lambda p: AdaBelief(p, lr=LR, eps=1e-8, amsgrad=True,
                                         weight_decay=WeightDecay(0.1, weight_decouple=False)),
                     make_params()[2:], [g[2:] for g in grads])
    assert torch.equal(a.detach(), expected_a[0])
    assert torch.equal(b.detach(), expected_b[0])
    assert torch.equal(c.detach(), expected_c[0])


def test_bad_group_override_is_rejected():
    a, b, _ = make_params()
    with pytest.raises(ValueError, match=r"lr.*-0\.5"):
        Adam([{'params': [a]}, {'params': [b], 'lr': -0.5}])
    opt = Adam([a])
    with pytest.raises(ValueError, match=r"betas\[1\].*1\.5"):
        opt.add_param_group({'params': [b], 'betas': (0.9, 1.5)})


@pytest.mark.parametrize('scheduler', [
    lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=25, gamma=0.5),
    lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100),
    lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda e: min(1., (e + 1) / 10)),
], ids=['StepLR', 'CosineAnnealingLR', 'LambdaLR'])
def test_lr_schedulers_drive_the_learning_rate(scheduler):
    grads = make_grads()
    ours = run(lambda p: Adam(p, lr=LR, eps=1e-8, optimized_update=False), make_params(), grads, scheduler)
    reference = run(lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8), make_params(), grads, scheduler)
    without = run(lambda p: Adam(p, lr=LR, eps=1e-8, optimized_update=False), make_params(), grads)
    assert max_abs_diff(ours, reference) <= 1e-12
    assert max_abs_diff(ours, without) > 1e-3


@pytest.mark.parametrize('name', list(ALL))
def test_closure_is_evaluated_and_its_loss_returned(name):
    target = torch.arange(5, dtype=torch.float64)
    x = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = ALL[name]([x])
    calls = []

    def closure():
        opt.zero_grad()
        loss = ((x - target) ** 2).sum()
        loss.backward()
        calls.append(loss.item())
        return loss

    loss = opt.step(closure)
    assert calls == [pytest.approx(30.0)]
    assert loss.item() == pytest.approx(30.0)
    # The closure's gradient was used: the same step taken by hand matches
    y = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt_y = ALL[name]([y])
    ((y - target) ** 2).sum().backward()
    opt_y.step()
    assert torch.equal(x, y)
    assert not torch.equal(x, torch.zeros(5, dtype=torch.float64))


@pytest.mark.parametrize('name', list(ALL))
def test_zero_grad_set_to_none_and_missing_grads_are_skipped(name):
    a, b, c = make_params()
    opt = ALL[name]([a, b, c])
    a.grad = torch.ones_like(a)
    b_before = b.detach().clone()
    opt.step()
    # b and c had no gradient: not moved, no state
    assert torch.equal(b, b_before)
    assert len(opt.state[b]) == 0 and len(opt.state[c]) == 0
    opt.zero_grad(set_to_none=True)
    assert a.grad is None
    a_before = a.detach().clone()
    state_before = copy.deepcopy(opt.state[a])
    opt.step()
    assert torch.equal(a, a_before)
    assert opt.state[a]['step'] == state_before['step']


@pytest.mark.parametrize('make, name, value', [
    (lambda p: Adam(p, lr=-1e-3), 'lr', '-0.001'),
    (lambda p: Adam(p, betas=(1.0, 0.999)), r'betas\[0\]', '1.0'),
    (lambda p: Adam(p, betas=(0.9, -0.1)), r'betas\[1\]', '-0.1'),
    (lambda p: AMSGrad(p, betas=0.9), 'betas', '0.9'),
    (lambda p: RAdam(p, eps=-1e-8), 'eps', '-1e-08'),
    (lambda p: AdaBelief(p, weight_decay=WeightDecay(-0.1)), 'weight_decay', '-0.1'),
    (lambda p: Adam([{'params': p, 'weight_decay': -2.0}]), 'weight_decay', '-2.0'),
    (lambda p: AdamWarmup(p, warmup=-5), 'warmup', '-5'),
    (lambda p: AdamWarmup(p, warmup=2.5), 'warmup', '2.5'),
    (lambda p: AdamWarmupCosineDecay(p, warmup=100, total_steps=50), 'total_steps', '50'),
    (lambda p: Noam(p, warmup=-1), 'warmup', '-1'),
    (lambda p: Noam(p, d_model=0), 'd_model', '0'),
])
def test_bad_hyper_parameters_raise_value_error_naming_them(make, name, value):
    with pytest.raises(ValueError, match=rf"{name}.*{value}"):
        make(make_params())


def test_arguments_after_params_are_keyword_only():
    with pytest.raises(TypeError):
        Adam(make_params(), 1e-3)


def test_weight_decay_is_a_weight_decay_object_or_a_number_as_torch_takes_it():
    with pytest.raises(ValueError, match='weight_decay'):
        Adam(make_params(), weight_decay='0.01')
    assert Adam(make_params(), weight_decay=0.01).param_groups[0]['weight_decouple'] is False


@pytest.mark.parametrize('name', list(ALL))
def test_sparse_gradients_raise_an_error_that_says_so(name):
    embedding = torch.nn.Embedding(10, 3, sparse=True)
    opt = ALL[name](embedding.parameters())
    embedding(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match='sparse'):
        opt.step()


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('foreach', [False, True])
def test_low_precision_params_keep_float32_state(dtype, foreach):
    params = make_params(dtype=dtype)
    # Small gradients: (1 - beta2) g^2 underflows in float16
    grads = make_grads(steps=30, dtype=dtype, scale=1e-4)
    opt = Adam(params, lr=LR, eps=1e-8, optimized_update=False, foreach=foreach)
    start = [p.detach().clone() for p in params]
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        opt.step()
    for p in params:
        assert p.dtype == dtype
        state = opt.state[p]
        assert state['exp_avg'].dtype == torch.float32 and state['exp_avg_sq'].dtype == torch.float32
        assert (state['exp_avg_sq'] > 0).all()
    assert max_abs_diff([p.float() for p in params], [s.float() for s in start]) > 0.1

    # Each step is the float32 step, rounded into the parameter's type
    p32 = [p.detach().float().requires_grad_() for p in params]
    opt32 = Adam(p32, lr=LR, eps=1e-8, optimized_update=False)
    opt32.load_state_dict(copy.deepcopy(opt.state_dict()))
    extra = make_grads(steps=1, seed=9, dtype=dtype, scale=1e-4)[0]
    for p, q, g in zip(params, p32, extra):
        p.grad = g.clone()
        q.grad = g.float()
    opt.step()
    opt32.step()
    for p, q in zip(params, p32):
        assert torch.equal(p, q.detach().to(dtype))

    # load_state_dict keeps the float32 state
    opt_loaded = Adam([p.detach().clone().requires_grad_() for p in params], lr=LR)
    opt_loaded.load_state_dict(opt.state_dict())
    for state in opt_loaded.state.values():
        assert state['exp_avg_sq'].dtype == torch.float32


def test_complex_params_are_updated_as_pairs_of_reals():
    gen = torch.Generator().manual_seed(5)
    z = torch.randn(4, generator=gen, dtype=torch.complex128)
    grads = [[torch.randn(4, generator=gen, dtype=torch.complex128)] for _ in range(100)]
    ours = run(lambda p: AdaBelief(p, lr=LR), [z.clone().requires_grad_()], grads)
    as_real = run(lambda p: AdaBelief(p, lr=LR), [torch.view_as_real(z).clone().requires_grad_()],
                  [[torch.view_as_real(g)] for g, in grads])
    assert ours[0].dtype == torch.complex128
    assert torch.equal(torch.view_as_real(ours[0]), as_real[0])


@pytest.mark.parametrize('option, cls, decouple', [
    ('Adam', Adam, True),
    ('AdamW', AdamWarmup, True),
    ('AMSGrad', AMSGrad, False),
    ('RAdam', RAdam, True),
    ('AdaBelief', AdaBelief, True),
    ('AdamWarmup', AdamWarmup, True),
    ('AdamWarmupCosineDecay', AdamWarmupCosineDecay, True),
    ('Noam', Noam, True),
])
def test_config_options_mean_what_they_say(option, cls, decouple, capsys):
    conf = OptimizerConfigs()
    conf.parameters = make_params()
    conf.optimizer = option
    conf.weight_decay = 0.1
    conf.learning_rate = 3e-3
    opt = conf.optimizer
    assert type(opt) is cls
    group = opt.param_groups[0]
    assert group['lr'] == 3e-3
    assert group['weight_decay'] == 0.1
    assert group['weight_decouple'] is decouple
    if option == 'AMSGrad':
        assert group['amsgrad'] is True
    if option in ('Adam', 'AdamW'):
        assert group['amsgrad'] is False


def test_config_sgd_is_our_sgd_and_steps_exactly_as_torch_sgd(capsys):
    def configured(params):
        conf = OptimizerConfigs()
        conf.parameters = params
        conf.optimizer = 'SGD'
        conf.momentum = 0.9
        conf.weight_decay = 0.01
        return conf.optimizer

    assert type(configured(make_params())) is SGD
    grads = make_grads(steps=30)
    ours = run(configured, make_params(), grads)
    torch_sgd = run(lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=0.01), make_params(), grads)
    assert max_abs_diff(ours, torch_sgd) == 0.


ZOO_OPTIONS = {'Adagrad': Adagrad, 'RMSprop': RMSprop, 'Adadelta': Adadelta, 'QHAdam': QHAdam, 'LAMB': Lamb,
               'LARS': LARS, 'Lookahead': Lookahead, 'Ranger': Ranger, 'Sophia': Sophia}


@pytest.mark.parametrize('option', list(ZOO_OPTIONS))
def test_config_zoo_options_build_their_class_with_the_configured_rate_and_train(option, capsys):
    conf = OptimizerConfigs()
    params = make_params()
    conf.parameters = params
    conf.optimizer = option
    conf.learning_rate = 2e-3
    opt = conf.optimizer
    assert type(opt) is ZOO_OPTIONS[option]
    assert all(group['lr'] == 2e-3 for group in opt.param_groups)
    before = [p.detach().clone() for p in params]
    for p, g in zip(params, make_grads(steps=1)[0]):
        p.grad = g.clone()
    opt.step()
    assert max_abs_diff(before, [p.detach() for p in params]) > 0


def test_config_sophia_takes_rho_the_labml_0_5_1_field(capsys):
    conf = OptimizerConfigs()
    conf.parameters = make_params()
    conf.optimizer = 'Sophia'
    conf.rho = 0.05
    assert conf.optimizer.param_groups[0]['rho'] == 0.05


@pytest.mark.parametrize('cls', [AMSGrad, AdaBelief])
def test_amsgrad_switched_on_mid_training_starts_its_maximum_there(cls):
    results = []
    for foreach in (False, True):
        params = make_params()
        opt = cls(params, lr=LR, amsgrad=False, foreach=foreach)
        grads = make_grads(steps=40)
        for step, step_grads in enumerate(grads):
            if step == 20:
                # a scheduler-like change of a group setting
                opt.param_groups[0]['amsgrad'] = True
            for p, g in zip(params, step_grads):
                p.grad = g.clone()
            opt.step()
        key = 'max_exp_avg_sq' if cls is AMSGrad else 'max_exp_avg_var'
        assert all(key in opt.state[p] for p in params)
        results.append([p.detach().clone() for p in params])
    assert max_abs_diff(*results) <= 1e-15


@pytest.mark.parametrize('name', list(ALL))
@pytest.mark.parametrize('foreach', [False, True])
def test_maximize_group_ascends_exactly_as_descending_the_negated_gradient(name, foreach):
    grads = make_grads(steps=30)
    negated = [[-g for g in step] for step in grads]

    def maximizing(params):
        optimizer = ALL[name](params, foreach=foreach)
        for group in optimizer.param_groups:
            group['maximize'] = True
        return optimizer

    up = run(maximizing, make_params(), grads)
    down = run(lambda p: ALL[name](p, foreach=foreach), make_params(), negated)
    assert max_abs_diff(up, make_params()) > 1e-3
    assert max_abs_diff(up, down) == 0.


@pytest.mark.parametrize('key', ['differentiable', 'capturable'])
def test_torch_keys_we_do_not_implement_are_refused_not_ignored(key):
    optimizer = Adam(make_params())
    with pytest.raises(ValueError, match=key):
        optimizer.add_param_group({'params': [torch.zeros(2, requires_grad=True)], key: True})


def test_a_non_boolean_maximize_is_refused():
    optimizer = Adam(make_params())
    with pytest.raises(ValueError, match='maximize'):
        optimizer.add_param_group({'params': [torch.zeros(2, requires_grad=True)], 'maximize': 'yes'})
