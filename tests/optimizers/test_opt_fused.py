"""
`fused=True`: the one-pass C++ kernel computes what the readable per-tensor path computes, for every class that offers
it and every option, and it is refused, never ignored, where it does not apply.

Tolerances: float64 to 1e-12 (the kernel is compiled for the machine and may fuse a multiply and an add where ATen
rounds twice), float32 to 1e-6 of each tensor's largest value over 100 steps.
"""

import os
import subprocess
import sys
import warnings

import pytest
import torch

from labml_nn.optimizers import WeightDecay, fused
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.adamw import AdamW
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.lamb import Lamb
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.qhadam import QHAdam
from labml_nn.optimizers.radam import RAdam
from labml_nn.optimizers.sgd import SGD
from opt_testing import make_grads, make_params, max_abs_diff, run

STEPS = 100

CASES = {
    'Adam': lambda p, **k: Adam(p, lr=1e-2, **k),
    'Adam textbook, L2': lambda p, **k: Adam(p, lr=1e-2, optimized_update=False, eps=1e-8, weight_decay=0.1, **k),
    'Adam decoupled, maximize': lambda p, **k: Adam(p, lr=1e-2, weight_decay=WeightDecay(0.1), maximize=True, **k),
    'Adam amsgrad': lambda p, **k: Adam(p, lr=1e-2, amsgrad=True, **k),
    'AMSGrad absolute decay': lambda p, **k: AMSGrad(p, lr=1e-2, weight_decay=WeightDecay(0.01, absolute=True), **k),
    'AdamW': lambda p, **k: AdamW(p, lr=1e-2, **k),
    'RAdam': lambda p, **k: RAdam(p, lr=1e-2, **k),
    'RAdam textbook, no SGD steps': lambda p, **k: RAdam(p, lr=1e-2, optimized_update=False,
                                                         degenerate_to_sgd=False, **k),
    'RAdam amsgrad': lambda p, **k: RAdam(p, lr=1e-2, amsgrad=True, **k),
    'AdaBelief': lambda p, **k: AdaBelief(p, lr=1e-2, **k),
    'AdaBelief plain, amsgrad, L2': lambda p, **k: AdaBelief(p, lr=1e-2, rectify=False, amsgrad=True,
                                                             weight_decay=WeightDecay(0.1, weight_decouple=False), **k),
    'AdaBelief textbook': lambda p, **k: AdaBelief(p, lr=1e-2, optimized_update=False, rectify=False, **k),
    'AdamWarmup': lambda p, **k: AdamWarmup(p, lr=1e-2, warmup=20, weight_decay=WeightDecay(0.1), **k),
    'AdamWarmupCosineDecay': lambda p, **k: AdamWarmupCosineDecay(p, lr=1e-2, warmup=10, total_steps=80, **k),
    'Noam': lambda p, **k: Noam(p, lr=1., d_model=64, warmup=10, **k),
}


def assert_fused_matches_readable(make, dtype, grads=None, scheduler=None, params=make_params):
    grads = grads if grads is not None else make_grads(STEPS, dtype=dtype)
    readable = run(lambda p: make(p, foreach=False), params(dtype=dtype), grads, scheduler)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no fallback may happen here
        fast = run(lambda p: make(p, fused=True), params(dtype=dtype), grads, scheduler)
    start = params(dtype=dtype)
    assert max_abs_diff(readable, [p.detach() for p in start]) > 1e-2
    for a, b in zip(readable, fast):
        scale = a.abs().max().item()
        tolerance = 1e-12 if dtype == torch.float64 else 1e-6
        assert (a.double() - b.double()).abs().max().item() <= tolerance * scale


@pytest.fixture(autouse=True, scope='module')
def kernel():
    assert fused.load_kernel(), 'the fused kernel must build on this machine (gcc is installed)'


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32], ids=['float64', 'float32'])
@pytest.mark.parametrize('case', list(CASES))
def test_fused_step_equals_the_readable_path(case, dtype):
    assert_fused_matches_readable(CASES[case], dtype)


@pytest.mark.parametrize('case', ['Adam', 'RAdam', 'AdaBelief'])
def test_fused_step_follows_a_scheduler_and_per_group_settings(case):
    def make(params, **kw):
        groups = [{'params': params[:1], 'lr': 3e-2, 'betas': (0.8, 0.99)}, {'params': params[1:]}]
        return CASES[case](groups, **kw)

    def scheduler(opt):
        return torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)

    assert_fused_matches_readable(make, torch.float64, scheduler=scheduler)


def test_fused_step_on_a_parameter_that_skipped_steps_keeps_its_own_step_count():
    grads = make_grads(STEPS)
    for i, step_grads in enumerate(grads):
        if i % 3 == 0:
            step_grads[-1] = None
    results = []
    for kw in (dict(foreach=False), dict(fused=True)):
        params = make_params()
        opt = Adam(params, lr=1e-2, **kw)
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = None if g is None else g.clone()
            opt.step()
        results.append(params)
        assert opt.state[params[-1]]['step'] == STEPS - len(range(0, STEPS, 3))
        assert opt.state[params[0]]['step'] == STEPS
    assert max_abs_diff(*results) <= 1e-12


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_fused_step_on_low_precision_parameters_keeps_float32_state(dtype):
    grads = make_grads(STEPS, dtype=dtype)
    readable = run(lambda p: Adam(p, lr=1e-2, foreach=False), make_params(dtype=dtype), grads)
    params = make_params(dtype=dtype)
    opt = Adam(params, lr=1e-2, fused=True)
    fast = run(lambda p: opt, params, grads)
    assert all(s['exp_avg'].dtype == torch.float32 for s in opt.state.values())
    for a, b in zip(readable, fast):
        # The same float32 math, rounded to the parameter's type once per step
        torch.testing.assert_close(a.float(), b.float(), rtol=2e-2, atol=2e-2)
        assert (a == b).float().mean() > 0.9


def test_fused_step_on_complex_parameters_treats_real_and_imaginary_parts_apart():
    def params(dtype=torch.complex128):
        gen = torch.Generator().manual_seed(0)
        return [torch.randn(4, 3, generator=gen, dtype=dtype).requires_grad_()]

    grads = [[torch.randn(4, 3, dtype=torch.complex128, generator=torch.Generator().manual_seed(i))]
             for i in range(STEPS)]
    readable = run(lambda p: AdaBelief(p, lr=1e-2, foreach=False), params(), grads)
    fast = run(lambda p: AdaBelief(p, lr=1e-2, fused=True), params(), grads)
    assert max_abs_diff(readable, fast) <= 1e-12


def test_fused_checkpoint_continues_on_the_readable_path_and_back():
    grads = make_grads(STEPS)
    reference = run(lambda p: AdaBelief(p, amsgrad=True, foreach=False), make_params(), grads)
    params = make_params()
    first = AdaBelief(params, amsgrad=True, fused=True)
    run(lambda p: first, params, grads[:50])
    second = AdaBelief(params, amsgrad=True, foreach=False)
    second.load_state_dict(first.state_dict())
    assert second.param_groups[0]['fused'] is True
    second.param_groups[0]['fused'] = False
    resumed = run(lambda p: second, params, grads[50:])
    assert max_abs_diff(reference, resumed) <= 1e-12


def test_amsgrad_switched_on_after_the_state_exists_starts_its_maximum_from_v():
    grads = make_grads(STEPS)
    results = []
    for kw in (dict(foreach=False), dict(fused=True)):
        params = make_params()
        opt = Adam(params, lr=1e-2, **kw)
        run(lambda p: opt, params, grads[:10])
        opt.param_groups[0]['amsgrad'] = True
        results.append(run(lambda p: opt, params, grads[10:]))
        assert all('max_exp_avg_sq' in s for s in opt.state.values())
    assert max_abs_diff(*results) <= 1e-12


def test_fused_step_allocates_no_temporaries():
    params = make_params(dtype=torch.float32, shapes=((256, 1024),))
    for p in params:
        p.grad = torch.randn_like(p)
    for make in (lambda ps: AdaBelief(ps, fused=True, amsgrad=True), lambda ps: Adam(ps, fused=True)):
        opt = make(params)
        opt.step()  # creates the state
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
            opt.step()
        allocated = sum(max(e.cpu_memory_usage, 0) for e in prof.events())
        assert allocated < 1024, allocated
    # The readable path allocates the size of the largest tensor at least (`v.sqrt()`), which the profiler sees
    opt = Adam(params, foreach=False)
    opt.step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        opt.step()
    assert sum(max(e.cpu_memory_usage, 0) for e in prof.events()) >= params[0].numel() * 4


@pytest.mark.parametrize('cls', [QHAdam, Lamb, SGD])
def test_fused_is_refused_by_classes_without_a_fused_kernel(cls):
    if cls is SGD:  # torch's SGD takes `fused`, so ours does, to refuse it by name
        with pytest.raises(ValueError, match='fused=True is not available'):
            cls(make_params(), fused=True)
    opt = cls(make_params())
    with pytest.raises(ValueError, match='fused'):
        opt.add_param_group({'params': [torch.zeros(2, requires_grad=True)], 'fused': True})


def test_a_subclass_that_changes_the_math_without_telling_the_kernel_gets_no_fused_path():
    class SignAdam(Adam):
        def get_mv(self, state, group, grad):
            return super().get_mv(state, group, grad.sign())

    class TellsTheKernel(Adam):
        def get_mv(self, state, group, grad):
            return super().get_mv(state, group, grad)

        def fused_moments(self, group):
            return super().fused_moments(group)

    assert Adam.fused_supported() and AdaBelief.fused_supported() and Noam.fused_supported()
    assert not SignAdam.fused_supported() and not QHAdam.fused_supported()
    with pytest.raises(ValueError, match='fused'):
        SignAdam(make_params(), fused=True)
    # Describing the moments in the class that computes them is the subclass's promise to the kernel
    assert TellsTheKernel.fused_supported()


def test_fused_and_foreach_together_are_refused():
    with pytest.raises(ValueError, match='fused=True and foreach=True'):
        Adam(make_params(), fused=True, foreach=True)


def test_fused_without_a_compiler_warns_once_and_takes_the_readable_path(monkeypatch, tmp_path):
    monkeypatch.setattr(fused, '_kernel_loaded', None)
    monkeypatch.setattr(fused, '_warned', set())
    monkeypatch.setenv('LABML_NN_CACHE', str(tmp_path))
    monkeypatch.setenv('CXX', str(tmp_path / 'no-such-compiler'))
    grads = make_grads(20)
    readable = run(lambda p: RAdam(p, foreach=False), make_params(), grads)
    with pytest.warns(RuntimeWarning, match='could not be built') as record:
        fallback = run(lambda p: RAdam(p, fused=True), make_params(), grads)
    assert len([w for w in record if 'fused' in str(w.message)]) == 1
    assert max_abs_diff(readable, fallback) == 0.


BUILD_SCRIPT = """
import time, torch
from labml_nn.optimizers.adam import Adam
p = torch.nn.Parameter(torch.ones(8)); p.grad = torch.ones(8)
start = time.perf_counter()
Adam([p], lr=0.1, fused=True).step()
print('seconds', time.perf_counter() - start, 'value', p[0].item())
"""


def test_first_use_builds_once_and_says_so_and_later_processes_reuse_the_build(tmp_path):
    env = dict(os.environ, LABML_NN_CACHE=str(tmp_path), OMP_NUM_THREADS='1')
    runs = [subprocess.run([sys.executable, '-c', BUILD_SCRIPT], env=env, capture_output=True, text=True,
                           timeout=300) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
        assert 'could not be built' not in r.stderr
        # Adam's first step moves every coordinate by lr
        assert abs(float(r.stdout.split()[-1]) - 0.9) < 1e-6
    assert runs[0].stderr.count('building the fused Adam kernel') == 1
    assert float(runs[0].stdout.split()[1]) <= 60
    assert 'building' not in runs[1].stderr
    assert float(runs[1].stdout.split()[1]) < 5


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_fused_on_cuda_takes_the_multi_tensor_path_and_says_so(monkeypatch):
    monkeypatch.setattr(fused, '_warned', set())
    grads = [[g.cuda() for g in step] for step in make_grads(STEPS)]

    def cuda_params(dtype=torch.float64):
        return [p.detach().cuda().requires_grad_() for p in make_params(dtype=dtype)]

    readable = run(lambda p: AdaBelief(p, foreach=False), cuda_params(), grads)
    with pytest.warns(RuntimeWarning, match='CPU tensors'):
        fast = run(lambda p: AdaBelief(p, fused=True), cuda_params(), grads)
    assert max_abs_diff(readable, fast) <= 1e-12


def test_a_strided_parameter_takes_the_readable_path_and_the_others_stay_fused():
    def params(dtype=torch.float64):
        base = make_params(dtype=dtype)
        # A transposed view: not contiguous
        return [base[0].detach().t().requires_grad_()] + base[1:]

    grads = [[g.t().contiguous() if i == 0 else g for i, g in enumerate(step)] for step in make_grads(STEPS)]
    assert not params()[0].is_contiguous()
    readable = run(lambda p: Adam(p, lr=1e-2, foreach=False), params(), grads)
    fast = run(lambda p: Adam(p, lr=1e-2, fused=True), params(), grads)
    assert max_abs_diff(readable, fast) <= 1e-12
