"""
Resuming through `torch.distributed.checkpoint` (one process, gloo): `set_optimizer_state_dict` and
`get_optimizer_state_dict` create a missing optimizer state with a zero-gradient, zero-`lr` `step()`, which must
change nothing, not even under the lr-independent decay of `WeightDecay(absolute=True)`.
"""

import copy
import socket

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.larc import LARC
from labml_nn.optimizers.lookahead import Lookahead
from labml_nn.optimizers.qhadam import QHAdam
from labml_nn.optimizers.ranger import Ranger
from labml_nn.optimizers.sgd import SGD
from opt_testing import make_grads, make_params

dist = pytest.importorskip('torch.distributed')
if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip('torch.distributed with gloo is not available', allow_module_level=True)
from torch.distributed.checkpoint.state_dict import (get_model_state_dict, get_optimizer_state_dict,  # noqa: E402
                                                     set_model_state_dict, set_optimizer_state_dict)

LR = 1e-2
STOP, STEPS = 40, 100

ABSOLUTE_DECAY = {
    'Adam': lambda p, foreach: Adam(p, lr=LR, weight_decay=WeightDecay(0.1, absolute=True), foreach=foreach),
    'AdaBelief': lambda p, foreach: AdaBelief(p, lr=LR, weight_decay=WeightDecay(0.1, absolute=True),
                                              foreach=foreach),
    'QHAdam fixed_decay': lambda p, foreach: QHAdam(p, lr=LR, weight_decay=0.1, weight_decouple=True,
                                                    fixed_decay=True, foreach=foreach),
}


@pytest.fixture(scope='module', autouse=True)
def process_group():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=0, world_size=1)
    yield
    dist.destroy_process_group()


class Model(torch.nn.Module):
    """The parameters of `make_params()` as a module, which `torch.distributed.checkpoint` needs."""

    def __init__(self):
        super().__init__()
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(p.detach().clone()) for p in make_params()])


def train(model: Model, optimizer, grads):
    for step_grads in grads:
        for p, g in zip(model.parameters(), step_grads):
            p.grad = g.clone()
        optimizer.step()


@pytest.mark.parametrize('foreach', [False, True])
@pytest.mark.parametrize('name', list(ABSOLUTE_DECAY))
def test_dcp_resume_restores_weights_exactly_and_continues_bit_identically(name, foreach):
    make = ABSOLUTE_DECAY[name]
    grads = make_grads(steps=STEPS)
    uninterrupted = Model()
    train(uninterrupted, make(uninterrupted.parameters(), foreach), grads)

    model = Model()
    optimizer = make(model.parameters(), foreach)
    train(model, optimizer, grads[:STOP])
    model_sd = {k: v.detach().clone() for k, v in get_model_state_dict(model).items()}
    optim_sd = copy.deepcopy(get_optimizer_state_dict(model, optimizer))

    resumed = Model()
    resumed_optimizer = make(resumed.parameters(), foreach)
    set_model_state_dict(resumed, model_sd)
    set_optimizer_state_dict(resumed, resumed_optimizer, optim_sd)
    # Without the fix every weight is 0.9 of the restored one
    for p, saved in zip(resumed.parameters(), model_sd.values()):
        assert torch.equal(p.detach(), saved)
    train(resumed, resumed_optimizer, grads[STOP:])
    for a, b in zip(uninterrupted.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize('name', list(ABSOLUTE_DECAY))
def test_dcp_state_dict_of_fresh_optimizer_creates_state_without_a_step(name):
    make = ABSOLUTE_DECAY[name]
    grads = make_grads(steps=STEPS)
    uninterrupted = Model()
    train(uninterrupted, make(uninterrupted.parameters(), None), grads)

    model = Model()
    optimizer = make(model.parameters(), None)
    saved = get_optimizer_state_dict(model, optimizer)
    # The state exists, at step 0, and the weights are untouched
    assert all(s['step'] == 0 for s in saved['state'].values())
    for p, start in zip(model.parameters(), make_params()):
        assert torch.equal(p.detach(), start.detach())
    train(model, optimizer, grads)
    for a, b in zip(uninterrupted.parameters(), model.parameters()):
        assert torch.equal(a, b)

    # A real step at lr = 0 once the state exists still decays by (1 - lambda)
    before = [p.detach().clone() for p in model.parameters()]
    for group in optimizer.param_groups:
        group['lr'] = 0.
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    for p, b in zip(model.parameters(), before):
        assert torch.allclose(p.detach(), 0.9 * b, rtol=1e-15, atol=0)


WRAPPERS = {
    'Lookahead(Adam)': lambda p: Lookahead(Adam(p, lr=LR), k=5),
    'Ranger': lambda p: Ranger(p, lr=LR),
    'LARC(torch SGD)': lambda p: LARC(torch.optim.SGD(p, lr=LR, momentum=0.9)),
    'Lookahead(LARC(SGD))': lambda p: Lookahead(LARC(SGD(p, lr=LR, momentum=0.9)), k=3),
}


@pytest.mark.parametrize('name', list(WRAPPERS))
def test_dcp_resume_of_a_wrapper_restores_its_own_state_and_continues_bit_identically(name):
    # Before, get_optimizer_state_dict raised KeyError: 'state' (the wrapper nested its state_dict)
    make = WRAPPERS[name]
    grads = make_grads(steps=STEPS)
    uninterrupted = Model()
    train(uninterrupted, make(uninterrupted.parameters()), grads)

    model = Model()
    optimizer = make(model.parameters())
    # STOP + 2 is not a multiple of Lookahead's k: the slow weights differ from the fast ones
    train(model, optimizer, grads[:STOP + 2])
    model_sd = {k: v.detach().clone() for k, v in get_model_state_dict(model).items()}
    optim_sd = copy.deepcopy(get_optimizer_state_dict(model, optimizer))
    assert all(isinstance(key, str) for key in optim_sd['state'])  # keyed by parameter name

    resumed = Model()
    resumed_optimizer = make(resumed.parameters())
    set_model_state_dict(resumed, model_sd)
    set_optimizer_state_dict(resumed, resumed_optimizer, optim_sd)
    train(resumed, resumed_optimizer, grads[STOP + 2:])
    for a, b in zip(uninterrupted.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
