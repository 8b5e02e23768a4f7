"""
One set of math, two shapes: the multi-tensor path (`foreach=True`) computes the same thing as the
readable per-tensor path, for every optimizer and option combination.
"""

import itertools

import pytest
import torch

from labml_nn.optimizers import TensorList, WeightDecay
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.radam import RAdam
from opt_testing import make_grads, make_params, max_abs_diff, run

LR = 1e-2
DECAYS = [WeightDecay(0.), WeightDecay(0.1), WeightDecay(0.1, weight_decouple=False),
          WeightDecay(0.1, absolute=True)]


def combinations():
    for decay, optimized in itertools.product(DECAYS, [True, False]):
        common = dict(lr=LR, eps=1e-8, weight_decay=decay, optimized_update=optimized)
        yield 'Adam', Adam, common
        for amsgrad in (False, True):
            yield 'AMSGrad', AMSGrad, dict(common, amsgrad=amsgrad)
            for degenerate in (False, True):
                yield 'RAdam', RAdam, dict(common, amsgrad=amsgrad, degenerate_to_sgd=degenerate)
                for rectify in (False, True):
                    yield 'AdaBelief', AdaBelief, dict(common, amsgrad=amsgrad, degenerate_to_sgd=degenerate,
                                                       rectify=rectify)
            yield 'AdamWarmup', AdamWarmup, dict(common, amsgrad=amsgrad, warmup=30)
            yield 'AdamWarmupCosineDecay', AdamWarmupCosineDecay, dict(common, amsgrad=amsgrad, warmup=30,
                                                                       total_steps=100)
            yield 'Noam', Noam, dict(common, lr=1., amsgrad=amsgrad, warmup=30, d_model=32)


CASES = list(combinations())


def case_id(case):
    name, _, kwargs = case
    decay = kwargs['weight_decay']
    flags = [k for k, v in kwargs.items() if v is True]
    return f"{name}-wd{decay.weight_decay}-{'dec' if decay.weight_decouple else 'l2'}" \
           f"{'-abs' if decay.absolute else ''}-{'-'.join(flags)}"


@pytest.mark.parametrize('case', CASES, ids=[case_id(c) for c in CASES])
def test_foreach_path_equals_per_tensor_path(case):
    _, cls, kwargs = case
    grads = make_grads()
    per_tensor = run(lambda p: cls(p, foreach=False, **kwargs), make_params(), grads)
    multi_tensor = run(lambda p: cls(p, foreach=True, **kwargs), make_params(), grads)
    assert max_abs_diff(per_tensor, make_params()) > 1e-3
    assert max_abs_diff(per_tensor, multi_tensor) <= 1e-14


def test_foreach_batches_parameters_with_different_step_counts_and_dtypes():
    # Some parameters miss gradients at some steps, so their step counts differ;
    # one is float32, one complex, one bfloat16
    def params():
        p = make_params()
        return p + [make_params(dtype=torch.float32)[0],
                    torch.complex(p[1].detach(), p[1].detach().flip(0)).requires_grad_(),
                    make_params(dtype=torch.bfloat16)[2]]

    def train(foreach):
        ps = params()
        opt = AdaBelief(ps, lr=LR, amsgrad=True, foreach=foreach)
        grads = make_grads(steps=60)
        for step, step_grads in enumerate(grads):
            full = list(step_grads) + [step_grads[0].float(),
                                       torch.complex(step_grads[1], step_grads[1] * 0.5),
                                       step_grads[2].bfloat16()]
            for i, (p, g) in enumerate(zip(ps, full)):
                # parameter i gets no gradient every (i + 2)-th step
                p.grad = None if step % (i + 2) == 0 else g.clone()
            opt.step()
        return ps, opt

    per_tensor, opt_a = train(False)
    multi_tensor, opt_b = train(True)
    steps = {opt_b.state[p]['step'] for p in multi_tensor}
    assert len(steps) > 1
    for a, b in zip(per_tensor, multi_tensor):
        assert a.dtype == b.dtype
        assert torch.equal(a, b)
    for a, b in zip(per_tensor, multi_tensor):
        for key, value in opt_a.state[a].items():
            other = opt_b.state[b][key]
            assert torch.equal(value, other) if isinstance(value, torch.Tensor) else value == other


def test_foreach_default_is_per_tensor_on_cpu():
    assert not Adam._use_foreach({'foreach': None}, make_params())
    assert Adam._use_foreach({'foreach': True}, make_params())


def test_tensor_list_methods_match_tensor_methods():
    a, b, c = make_params()
    a, b, c = a.detach(), b.detach(), c.detach()
    xs = [a.clone(), b.clone(), c.clone()]
    ys = [x.abs() + 1 for x in xs]
    listed = TensorList([x.clone() for x in xs])
    other = TensorList([y.clone() for y in ys])
    listed.mul_(0.5).add_(other, alpha=0.3).addcmul_(other, other, value=0.1).addcdiv_(other, other.sqrt(), value=2)
    listed.add_(0.25).div_(3.)
    result = listed.maximum(other).sub(other.mul(0.5)).add(other, alpha=-1).div(2.)
    for x, y, r in zip(xs, ys, result.tensors):
        x = x.mul_(0.5).add_(y, alpha=0.3).addcmul_(y, y, value=0.1).addcdiv_(y, y.sqrt(), value=2)
        x = x.add_(0.25).div_(3.)
        expected = x.maximum(y).sub(y.mul(0.5)).add(y, alpha=-1).div(2.)
        assert torch.equal(r, expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
@pytest.mark.parametrize('cls, kwargs', [(Adam, dict(optimized_update=False, eps=1e-8)), (RAdam, {}),
                                         (AdaBelief, dict(amsgrad=True))], ids=['Adam', 'RAdam', 'AdaBelief'])
def test_cuda_defaults_to_foreach_and_matches_the_cpu_per_tensor_path(cls, kwargs):
    grads = make_grads()
    cpu = run(lambda p: cls(p, lr=LR, foreach=False, **kwargs), make_params(), grads)
    cuda_params = [p.detach().cuda().requires_grad_() for p in make_params()]
    cuda_grads = [[g.cuda() for g in step] for step in grads]
    opt_holder = []

    def make(p):
        opt_holder.append(cls(p, lr=LR, **kwargs))
        return opt_holder[0]

    cuda = run(make, cuda_params, cuda_grads)
    assert opt_holder[0]._use_foreach(opt_holder[0].param_groups[0], cuda_params)
    assert max_abs_diff(cpu, [x.cpu() for x in cuda]) <= 1e-12
