"""OptimizerWrapper: the inner optimizer's groups and state are shared, schedulers and checkpoints work through it."""

import copy

import pytest
import torch

from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.larc import LARC
from labml_nn.optimizers.lookahead import Lookahead
from labml_nn.optimizers.wrapper import OptimizerWrapper
from opt_testing import assert_exact_resume, make_grads, make_params, max_abs_diff, run


class CountingWrapper(OptimizerWrapper):
    """A wrapper with one hyper-parameter and some state of its own, to test the base class."""

    def __init__(self, optimizer, *, every: int = 2):
        super().__init__(optimizer, defaults=dict(counting_every=every))

    def check_group(self, group):
        if group['counting_every'] < 1:
            raise ValueError(f"Invalid every: {group['counting_every']!r}")

    @torch.no_grad()
    def step(self, closure=None):
        loss = self.optimizer.step(closure)
        for group in self.param_groups:
            for p in group['params']:
                state = self.wrapper_state[p]
                state['count'] = state.get('count', 0) + 1
                state['sum'] = state.get('sum', torch.zeros_like(p)) + p
                if state['count'] % group['counting_every'] == 0:
                    # Something that depends on the state, so that a lost state changes the result
                    p.copy_(0.5 * p + 0.5 * state['sum'] / state['count'])
        return loss


def sgd(params, **kwargs):
    return torch.optim.SGD(params, lr=0.05, momentum=0.9, **kwargs)


def test_wrapper_is_an_optimizer_and_shares_the_group_list_and_dicts():
    inner = sgd(make_params())
    wrapper = OptimizerWrapper(inner, defaults={})
    assert isinstance(wrapper, torch.optim.Optimizer)
    assert wrapper.param_groups is inner.param_groups
    assert wrapper.state is inner.state
    wrapper.param_groups[0]['lr'] = 0.123
    assert inner.param_groups[0]['lr'] == 0.123


def test_wrapper_defaults_go_into_the_inner_groups_and_group_values_win():
    params = make_params()
    inner = sgd([{'params': params[:1]}, {'params': params[1:], 'counting_every': 5}])
    wrapper = CountingWrapper(inner, every=3)
    assert [g['counting_every'] for g in inner.param_groups] == [3, 5]
    assert wrapper.defaults['counting_every'] == 3
    # The inner defaults are visible too (OneCycleLR looks for 'momentum' or 'betas' there)
    assert wrapper.defaults['momentum'] == 0.9


def test_groups_follow_the_inner_optimizer_after_it_loads_a_state_dict():
    inner = sgd(make_params())
    wrapper = OptimizerWrapper(inner, defaults={})
    inner.load_state_dict(inner.state_dict())
    assert wrapper.param_groups is inner.param_groups


def test_add_param_group_reaches_the_inner_optimizer_and_is_checked():
    params = make_params()
    inner = sgd(params[:2])
    wrapper = CountingWrapper(inner, every=4)
    wrapper.add_param_group({'params': params[2:], 'lr': 0.01})
    assert len(inner.param_groups) == 2 and inner.param_groups[1]['params'][0] is params[2]
    assert inner.param_groups[1]['counting_every'] == 4
    with pytest.raises(ValueError, match='every'):
        wrapper.add_param_group({'params': [torch.zeros(2, requires_grad=True)], 'counting_every': 0})
    with pytest.raises(ValueError, match='every'):
        CountingWrapper(sgd(make_params()), every=0)


def test_wrapping_something_that_is_not_an_optimizer_is_a_type_error():
    with pytest.raises(TypeError, match='torch.optim.Optimizer'):
        OptimizerWrapper(make_params(), defaults={})


def test_zero_grad_and_closure_go_through():
    params = make_params()
    wrapper = OptimizerWrapper(sgd(params), defaults={})
    for p in params:
        p.grad = torch.ones_like(p)
    wrapper.zero_grad()
    assert all(p.grad is None for p in params)
    calls = []

    def closure():
        calls.append(1)
        loss = sum((p ** 2).sum() for p in params)
        loss.backward()
        return loss

    before = [p.detach().clone() for p in params]
    loss = wrapper.step(closure)
    assert calls == [1] and isinstance(loss, torch.Tensor)
    assert max_abs_diff(before, params) > 1e-3


@pytest.mark.parametrize('scheduler', [
    lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.5),
    lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 / (1 + t)),
    lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=200),
], ids=['StepLR', 'LambdaLR', 'OneCycleLR'])
def test_schedulers_drive_the_inner_optimizer_through_the_wrapper(scheduler):
    grads = make_grads()
    wrapped = run(lambda p: OptimizerWrapper(sgd(p), defaults={}), make_params(), grads, scheduler=scheduler)
    plain = run(sgd, make_params(), grads, scheduler=scheduler)
    assert all(torch.equal(a, b) for a, b in zip(wrapped, plain))
    # The schedule changed the rate the inner optimizer used
    constant = run(sgd, make_params(), grads)
    assert max_abs_diff(plain, constant) > 1e-3


def test_scheduler_sees_the_wrapper_step_and_edits_the_inner_lr():
    inner = sgd(make_params())
    wrapper = OptimizerWrapper(inner, defaults={})
    sched = torch.optim.lr_scheduler.StepLR(wrapper, step_size=1, gamma=0.5)
    wrapper.step()
    sched.step()
    assert inner.param_groups[0]['lr'] == pytest.approx(0.025)
    # OneCycleLR with cycle_momentum finds 'momentum' through the wrapper's defaults and edits it
    torch.optim.lr_scheduler.OneCycleLR(wrapper, max_lr=0.1, total_steps=10)
    assert inner.param_groups[0]['momentum'] == pytest.approx(0.95)


def test_state_dict_has_torchs_shape_with_the_wrapper_state_under_its_prefix_and_loads_back():
    params = make_params()
    wrapper = CountingWrapper(sgd(params), every=3)
    run(lambda p: wrapper, params, make_grads(steps=5))
    state = wrapper.state_dict()
    assert set(state) == {'state', 'param_groups'}
    assert set(state['state'][0]) == {'momentum_buffer', 'countingwrapper_count', 'countingwrapper_sum'}
    assert state['state'][0]['countingwrapper_count'] == 5
    assert torch.equal(state['state'][2]['countingwrapper_sum'], wrapper.wrapper_state[params[2]]['sum'])
    assert state['param_groups'][0]['counting_every'] == 3

    fresh_params = make_params()
    fresh = CountingWrapper(sgd(fresh_params), every=1)
    fresh.load_state_dict(copy.deepcopy(state))
    assert fresh.param_groups[0]['counting_every'] == 3
    assert fresh.wrapper_state[fresh_params[1]]['count'] == 5
    # The inner optimizer sees only its own keys
    assert set(fresh.state[fresh_params[0]]) == {'momentum_buffer'}
    assert torch.equal(fresh.state[fresh_params[0]]['momentum_buffer'], wrapper.state[params[0]]['momentum_buffer'])
    # Loaded tensors are copies
    assert fresh.wrapper_state[fresh_params[2]]['sum'] is not state['state'][2]['countingwrapper_sum']


def test_the_nested_state_dicts_of_earlier_versions_still_load():
    params = make_params()
    wrapper = CountingWrapper(sgd(params), every=3)
    run(lambda p: wrapper, params, make_grads(steps=5))
    index = {p: i for i, p in enumerate(params)}
    earlier = {'optimizer': wrapper.optimizer.state_dict(),
               'wrapper_state': {index[p]: dict(s) for p, s in wrapper.wrapper_state.items()}}
    fresh_params = make_params()
    fresh = CountingWrapper(sgd(fresh_params), every=1)
    fresh.load_state_dict(copy.deepcopy(earlier))
    assert fresh.wrapper_state[fresh_params[1]]['count'] == 5
    assert fresh.param_groups[0]['counting_every'] == 3


@pytest.mark.parametrize('stop', [7, 12])
def test_exact_resume_restores_inner_and_wrapper_state(stop):
    assert_exact_resume(lambda p: CountingWrapper(sgd(p), every=5), stop, steps=30, state_matters=True)


def test_nested_wrappers_each_save_their_own_part():
    make = lambda p: Lookahead(LARC(sgd(p, weight_decay=0.01)), k=5)  # noqa: E731
    params = make_params()
    opt = make(params)
    run(lambda p: opt, params, make_grads(steps=3))
    keys = set(opt.state_dict()['state'][0])
    assert {'momentum_buffer', 'lookahead_slow_param', 'lookahead_step'} <= keys
    assert_exact_resume(make, 8, steps=30, state_matters=True)


def test_a_wrapper_of_the_same_wrapper_is_refused_because_their_keys_would_clash():
    with pytest.raises(ValueError, match='lookahead_'):
        Lookahead(Lookahead(sgd(make_params())))


def test_load_state_dict_refuses_a_plain_optimizer_state_dict():
    wrapper = CountingWrapper(sgd(make_params()))
    with pytest.raises(ValueError, match="plain optimizer's; load it into the inner optimizer"):
        wrapper.load_state_dict(sgd(make_params()).state_dict())
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        wrapper.load_state_dict({'momentum_buffer': 1})


def test_deepcopy_gives_an_independent_wrapper():
    params = make_params()
    wrapper = CountingWrapper(Adam(params, lr=1e-2), every=2)
    run(lambda p: wrapper, params, make_grads(steps=3))
    twin = copy.deepcopy(wrapper)
    assert twin.param_groups is twin.optimizer.param_groups
    assert twin.param_groups[0]['params'][0] is not params[0]
    twin.param_groups[0]['lr'] = 0.5
    assert wrapper.param_groups[0]['lr'] == 1e-2
    assert twin.wrapper_state[twin.param_groups[0]['params'][0]]['count'] == 3


def test_step_hooks_registered_on_the_wrapper_run():
    wrapper = OptimizerWrapper(sgd(make_params()), defaults={})
    calls = []
    wrapper.register_step_pre_hook(lambda opt, args, kwargs: calls.append('pre'))
    wrapper.register_step_post_hook(lambda opt, args, kwargs: calls.append('post'))
    wrapper.step()
    assert calls == ['pre', 'post']
