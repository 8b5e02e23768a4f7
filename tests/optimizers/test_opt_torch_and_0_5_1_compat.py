"""Drop-in compatibility: labml-nn 0.5.1's OptimizerConfigs, torch-style constructor keywords, wrappers that build
our optimizers from their own groups, and checkpoints written by torch, by 0.5.1 and by older versions of ours."""

import copy
import io
import re
import socket

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers import configs as configs_module
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.configs import OptimizerConfigs
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.radam import RAdam
from labml_nn.optimizers.sgd import SGD
from labml_nn.optimizers.sophia import Sophia
from opt_testing import make_grads, make_params, max_abs_diff

# ## labml-nn 0.5.1's `OptimizerConfigs`, written down from its source (`labml_nn/optimizers/configs.py`)

NO_DEFAULT = object()
FIELDS_0_5_1 = {
    'weight_decouple': True, 'weight_decay': 0.0, 'weight_decay_absolute': False, 'optimized_adam_update': True,
    'learning_rate': 0.01, 'betas': (0.9, 0.999), 'eps': 1e-08, 'momentum': 0.5, 'amsgrad': False,
    'warmup': 2_000, 'total_steps': int(1e10), 'degenerate_to_sgd': True, 'rectify': True,
    'd_model': NO_DEFAULT, 'rho': NO_DEFAULT,
}
# Fields that differ from 0.5.1 on purpose, as the page lists them
LISTED_FIELDS = {'d_model', 'rho', 'optimized_adam_update', 'foreach'}

# What each 0.5.1 option built with the default fields (and `d_model`/`rho` set): the class and the group
# settings. 0.5.1's groups held `weight_decay` only; `weight_decouple`/`absolute`/`optimized_update` were
# attributes, listed here under our group names.
DECAY = dict(weight_decay=0.0, weight_decouple=True, weight_decay_absolute=False)
ADAM = dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, optimized_update=True, **DECAY)
OPTIONS_0_5_1 = {
    'SGD': (torch.optim.SGD, dict(lr=0.01, momentum=0.5, weight_decay=0.0, dampening=0, nesterov=False)),
    'Adam': (Adam, ADAM),
    'AdamW': (AdamWarmup, dict(ADAM, amsgrad=False, warmup=2000)),
    'RAdam': (RAdam, dict(ADAM, amsgrad=False, degenerate_to_sgd=True)),
    # 0.5.1 passed AdaBelief's settings by position into the wrong parameters
    'AdaBelief': (AdaBelief, dict(ADAM, amsgrad=True, optimized_update=False, degenerate_to_sgd=None,
                                  rectify=True)),
    'Noam': (Noam, dict(ADAM, amsgrad=False, warmup=2000, d_model=64)),
    'Sophia': (Sophia, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, rho=0.05, **DECAY)),
    'AdamWarmupCosineDecay': (AdamWarmupCosineDecay, dict(ADAM, amsgrad=False, warmup=2000, total_steps=int(1e10))),
}
LISTED_OPTIONS = {'SGD', 'AdaBelief'}


def configured(option, **fields):
    conf = OptimizerConfigs()
    conf.parameters = make_params()
    conf.optimizer = option
    conf.d_model = 64
    conf.rho = 0.05
    for key, value in fields.items():
        setattr(conf, key, value)
    return conf.optimizer


def listed_differences():
    """The names in the bullets of the page's 'Differences from labml-nn 0.5.1' section."""
    section = configs_module.__doc__.split('## Differences from labml-nn 0.5.1')[1]
    return {name for line in section.splitlines() if line.startswith('* ')
            for name in re.findall(r"`'?([A-Za-z_]+)'?`", line.split(':')[0])}


def test_config_has_every_0_5_1_field_with_its_default():
    conf = OptimizerConfigs()
    differing = set()
    for name, default in FIELDS_0_5_1.items():
        assert name in OptimizerConfigs.__annotations__, name
        if default is NO_DEFAULT or getattr(conf, name) != default:
            differing.add(name)
    assert differing <= LISTED_FIELDS
    assert differing == {'d_model', 'rho'}


def test_config_fields_0_5_1_did_not_have_are_refused_when_set():
    conf = OptimizerConfigs()
    with pytest.raises(AttributeError, match='degenerated_to_sgd'):
        conf.degenerated_to_sgd = False


@pytest.mark.parametrize('option', list(OPTIONS_0_5_1))
def test_config_0_5_1_options_build_what_0_5_1_built_or_the_page_lists_the_difference(option, capsys):
    cls, settings = OPTIONS_0_5_1[option]
    opt = configured(option)
    group = opt.param_groups[0]
    differs = [key for key, value in settings.items() if group.get(key, NO_DEFAULT) != value]
    if cls is torch.optim.SGD:
        differs += [] if isinstance(opt, cls) else ['class']
    elif type(opt) is not cls:
        differs.append('class')
    if option in LISTED_OPTIONS:
        assert option in listed_differences() and differs
    else:
        assert differs == []


def test_config_noam_and_adamw_warm_up_for_2000_steps_as_in_0_5_1(capsys):
    for option in ('Noam', 'AdamW'):
        opt = configured(option)
        assert opt.param_groups[0]['warmup'] == 2000
        # the first step's rate is 1/2000 of the full rate (for Noam, of the rate at step 2000)
        full = opt.get_lr({'step': 2000}, opt.param_groups[0])
        assert opt.get_lr({'step': 1}, opt.param_groups[0]) <= full / 1999


@pytest.mark.parametrize('amsgrad, cls', [(False, Adam), (True, AMSGrad)])
def test_config_adam_follows_amsgrad_and_weight_decouple_as_in_0_5_1(amsgrad, cls, capsys):
    opt = configured('Adam', amsgrad=amsgrad, weight_decay=0.1)
    assert type(opt) is cls
    assert opt.param_groups[0]['weight_decouple'] is True
    assert opt.param_groups[0].get('amsgrad', False) is amsgrad
    assert configured('Adam', weight_decay=0.1, weight_decouple=False).param_groups[0]['weight_decouple'] is False


def test_config_0_5_1_weight_decay_option_name_l2_works(capsys):
    conf = OptimizerConfigs()
    conf.weight_decay_obj = 'L2'
    conf.weight_decay = 0.2
    assert isinstance(conf.weight_decay_obj, WeightDecay) and conf.weight_decay_obj.weight_decay == 0.2


def test_config_page_lists_exactly_the_differences_the_tests_find():
    assert listed_differences() == LISTED_FIELDS | LISTED_OPTIONS | {'AdaBelief'}


# ## torch-style constructors

def _adam_cases():
    lr64 = torch.tensor(2e-3, dtype=torch.float64)
    return [
        # (torch keywords, our class, extra keywords of ours that give torch's update)
        (dict(), Adam, {}),
        (dict(lr=1e-2), Adam, {}),
        (dict(lr=lr64), Adam, {}),
        (dict(betas=(0.8, 0.99)), Adam, {}),
        (dict(betas=(torch.tensor(0.8, dtype=torch.float64), torch.tensor(0.99, dtype=torch.float64))), Adam, {}),
        (dict(eps=1e-6), Adam, {}),
        (dict(weight_decay=0.1), Adam, {}),
        (dict(weight_decay=0.1, decoupled_weight_decay=True), Adam, {}),
        (dict(amsgrad=True), Adam, {}),
        (dict(amsgrad=True), AMSGrad, {}),
        (dict(amsgrad=True, weight_decay=0.1), AMSGrad, {}),
        (dict(maximize=True), Adam, {}),
        (dict(maximize=True, amsgrad=True, weight_decay=0.1), Adam, {}),
        (dict(foreach=True), Adam, {}),
        (dict(foreach=False), Adam, {}),
        (dict(capturable=False), Adam, {}),
        (dict(differentiable=False), Adam, {}),
        (dict(fused=None), Adam, {}),
        (dict(fused=False), Adam, {}),
    ]


def _run(opt, params, grads):
    for step in grads:
        for p, g in zip(params, step):
            p.grad = g.clone()
        opt.step()
    return [p.detach().clone() for p in params]


@pytest.mark.parametrize('torch_keywords, cls, ours', _adam_cases(), ids=lambda x: repr(x)[:60])
def test_torch_adam_constructions_build_ours_and_step_as_torch_adam(torch_keywords, cls, ours):
    grads = make_grads(steps=30)
    # textbook update and torch's eps: what torch computes (our defaults are labml-nn 0.5.1's)
    base = dict(eps=1e-8, optimized_update=False)
    ours_params = make_params()
    mine = cls(ours_params, **dict(base, **torch_keywords, **ours))
    torch_params = make_params()
    reference = torch.optim.Adam(torch_params, **torch_keywords)
    assert max_abs_diff(_run(mine, ours_params, grads), _run(reference, torch_params, grads)) <= 1e-12


@pytest.mark.parametrize('torch_keywords', [dict(), dict(weight_decay=0.1), dict(lr=1e-2, betas=(0.8, 0.99)),
                                            dict(weight_decay=0.1, decoupled_weight_decay=True),
                                            dict(maximize=True), dict(foreach=True)], ids=repr)
def test_torch_radam_constructions_build_ours_and_step_as_torch_radam(torch_keywords):
    grads = make_grads(steps=30)
    ours_params, torch_params = make_params(), make_params()
    mine = RAdam(ours_params, **torch_keywords)
    reference = torch.optim.RAdam(torch_params, **torch_keywords)
    assert max_abs_diff(_run(mine, ours_params, grads), _run(reference, torch_params, grads)) <= 1e-12


@pytest.mark.parametrize('cls', [Adam, AMSGrad, RAdam, AdaBelief, AdamWarmup, AdamWarmupCosineDecay, Noam])
def test_a_number_weight_decay_is_l2_as_in_torch_adam_and_a_weight_decay_object_still_works(cls):
    assert cls(make_params(), weight_decay=0.1).param_groups[0]['weight_decouple'] is False
    assert cls(make_params(), weight_decay=0.1, decoupled_weight_decay=True).param_groups[0]['weight_decouple']
    assert cls(make_params(), weight_decay=WeightDecay(0.1)).param_groups[0]['weight_decouple'] is True
    with pytest.raises(ValueError, match='decoupled_weight_decay'):
        cls(make_params(), weight_decay=WeightDecay(0.1), decoupled_weight_decay=False)
    for flag in ('capturable', 'differentiable'):
        with pytest.raises(ValueError, match=flag):
            cls(make_params(), **{flag: True})


def test_a_decoupled_weight_decay_group_key_works_and_is_never_ignored():
    grads = make_grads(steps=20)
    params = make_params()
    keyed = Adam([{'params': params, 'decoupled_weight_decay': True}], weight_decay=0.1)
    assert keyed.param_groups[0]['weight_decouple'] is True and 'decoupled_weight_decay' not in keyed.param_groups[0]
    reference_params = make_params()
    reference = Adam(reference_params, weight_decay=0.1, decoupled_weight_decay=True)
    assert max_abs_diff(_run(keyed, params, grads), _run(reference, reference_params, grads)) == 0.
    # set on a group later, as a scheduler would: read at the next step
    keyed.param_groups[0]['decoupled_weight_decay'] = False
    _run(keyed, params, grads[:1])
    assert keyed.param_groups[0]['weight_decouple'] is False


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# Importing torch.distributed warns about torch.jit deprecations inside torch itself
@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_zero_redundancy_optimizer_builds_ours_with_a_weight_decay_object():
    import torch.distributed as dist
    from torch.distributed.optim import ZeroRedundancyOptimizer
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{_free_port()}', rank=0, world_size=1)
    try:
        grads = make_grads(steps=10)
        params = make_params()
        zero = ZeroRedundancyOptimizer(params, optimizer_class=Adam, lr=1e-2, weight_decay=WeightDecay(0.01))
        reference_params = make_params()
        reference = Adam(reference_params, lr=1e-2, weight_decay=WeightDecay(0.01))
        assert max_abs_diff(_run(zero, params, grads), _run(reference, reference_params, grads)) == 0.
    finally:
        dist.destroy_process_group()


def test_sam_builds_ours_with_a_weight_decay_object():
    from pytorch_optimizer import SAM
    params = make_params()
    sam = SAM(params, base_optimizer=Adam, lr=1e-2, weight_decay=WeightDecay(0.01, weight_decouple=False))
    group = sam.base_optimizer.param_groups[0]
    assert group['weight_decay'] == 0.01 and group['weight_decouple'] is False
    for p, g in zip(params, make_grads(steps=1)[0]):
        p.grad = g.clone()
    before = [p.detach().clone() for p in params]
    sam.first_step(zero_grad=False)
    sam.second_step()
    assert max_abs_diff(before, [p.detach() for p in params]) > 0


# ## Checkpoints

def _strip(state_dict, keep_group_keys):
    """A state_dict with only the given group keys (the layout of an older writer)."""
    return {'state': state_dict['state'],
            'param_groups': [{k: v for k, v in g.items() if k in keep_group_keys or k == 'params'}
                             for g in state_dict['param_groups']]}


def test_torch_adam_checkpoint_continues_within_1e_7_of_torch():
    grads = make_grads(steps=40)
    torch_params = make_params()
    reference = torch.optim.Adam(torch_params, lr=1e-2, weight_decay=0.1, amsgrad=True)
    _run(reference, torch_params, grads[:20])
    # through bytes, as a checkpoint file is (a state_dict shares the optimizer's tensors)
    buffer = io.BytesIO()
    torch.save(reference.state_dict(), buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer)
    assert isinstance(checkpoint['state'][0]['step'], torch.Tensor)
    ours_params = [p.detach().clone() for p in torch_params]
    mine = Adam(ours_params, optimized_update=False)
    mine.load_state_dict(checkpoint)
    assert mine.param_groups[0]['amsgrad'] is True and mine.param_groups[0]['weight_decouple'] is False
    assert max_abs_diff(_run(mine, ours_params, grads[20:]), _run(reference, torch_params, grads[20:])) <= 1e-7


def test_0_5_1_checkpoint_continues_bit_identically():
    # 0.5.1's Adam saved groups with lr, betas, eps and weight_decay only, and an int step
    grads = make_grads(steps=40)
    whole_params = make_params()
    whole = _run(Adam(whole_params, lr=1e-2, weight_decay=WeightDecay(0.1)), whole_params, grads)
    params = make_params()
    first = Adam(params, lr=1e-2, weight_decay=WeightDecay(0.1))
    _run(first, params, grads[:20])
    old = copy.deepcopy(_strip(first.state_dict(), {'lr', 'betas', 'eps', 'weight_decay'}))
    resumed = Adam(params, lr=1e-2, weight_decay=WeightDecay(0.1))
    resumed.load_state_dict(old)
    assert torch.equal(torch.stack([t.flatten()[0] for t in _run(resumed, params, grads[20:])]),
                       torch.stack([t.flatten()[0] for t in whole]))
    assert max_abs_diff(params, whole) == 0.


@pytest.mark.parametrize('cls', [Adam, AMSGrad, RAdam, AdaBelief, Noam])
def test_a_checkpoint_from_before_a_group_key_existed_loads_and_steps(cls):
    params = make_params()
    first = cls(params)
    _run(first, params, make_grads(steps=3))
    saved = copy.deepcopy(first.state_dict())
    for key in ('maximize', 'amsgrad', 'weight_decouple', 'optimized_update', 'foreach'):
        resumed = cls(params)
        resumed.load_state_dict({'state': saved['state'],
                                 'param_groups': [{k: v for k, v in g.items() if k != key}
                                                  for g in saved['param_groups']]})
        _run(resumed, params, make_grads(steps=1))


@pytest.mark.parametrize('corrupt, message', [
    (lambda s: s['state'][0].pop('exp_avg_sq'), 'exp_avg_sq'),
    (lambda s: s['state'][1].update(exp_avg=torch.zeros(7, dtype=torch.float64)), 'exp_avg'),
    (lambda s: s['state'][0].update(step='three'), 'step'),
    (lambda s: s['param_groups'][0].update(capturable=True), 'capturable'),
    (lambda s: s['param_groups'][0].update(betas=(0.9, 1.5)), 'betas'),
])
def test_an_unusable_checkpoint_fails_in_load_state_dict_and_changes_nothing(corrupt, message):
    params = make_params()
    opt = Adam(params, lr=1e-2)
    _run(opt, params, make_grads(steps=3))
    saved = copy.deepcopy(opt.state_dict())
    bad = {'state': {i: dict(s) for i, s in saved['state'].items()},
           'param_groups': [dict(g) for g in saved['param_groups']]}
    corrupt(bad)
    before = {k: [dict(s) for s in v.values()] if k == 'state' else v for k, v in opt.state_dict().items()}
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after['param_groups'] == before['param_groups']
    for a, b in zip(after['state'].values(), before['state']):
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) if torch.is_tensor(a[k]) else a[k] == b[k]
                                            for k in a)
