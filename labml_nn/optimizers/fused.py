r"""
---
title: The fused Adam kernel
summary: >
 fused=True for Adam, AMSGrad, RAdam, AdaBelief and their schedules: the same step as the
 readable code, done in one pass over memory by a small C++ kernel built on first use.
in_reading_order: false
---

# The fused Adam kernel

An Adam step does very little arithmetic per number and reads and writes a lot of memory: the parameter, the
gradient, $m$ and $v$ are read, and the parameter, $m$ and $v$ are written, $7 \times 4 = 28$ bytes per
`float32` element (36 with AMSGrad's $v^{max}$). So its speed is set by memory bandwidth, and the question is
how many times each element crosses the memory bus. The [readable path](adam.html) runs one tensor operation
per line of the update (`mul_`, `add_`, `addcmul_`, `sqrt`, `div_`, `addcdiv_`), and each one sweeps the
whole tensor; a large tensor does not fit in the cache, so it goes to memory once per operation, and `sqrt()`
allocates a temporary the size of the parameter.

`fused=True` does the whole step in one loop over the elements (`fused_adam.cpp`, beside this file):
each element is read once, updated, and written once, with nothing allocated. It is the
[Adam](adam.html) step generalised just enough to cover the family. With sign $\sigma$ ($-1$ for `maximize`),
parameter scale $\kappa$ (decoupled decay $1 - \eta_t\lambda$, or $1$), L2 coefficient $\lambda_2$,
and the scalars $\alpha_t$, $d_t$, $\epsilon$ of the update:

\begin{align}
g &\leftarrow \sigma g_t, \qquad \theta \leftarrow \kappa\, \theta_{t-1}, \qquad g \leftarrow g + \lambda_2 \theta \\
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g^2
 \quad\text{or, for AdaBelief,}\quad \beta_2 s_{t-1} + (1 - \beta_2) (g - m_t)^2 + \epsilon \\
v_t &\leftarrow \max(v^{max}_{t-1}, v_t) \quad\text{(AMSGrad)} \\
\theta_t &\leftarrow \theta - \alpha_t \frac{m_t}{\sqrt{v_t} / d_t + \epsilon}
 \quad\text{or, for RAdam's first steps,}\quad \theta - \alpha_t m_t
\end{align}

The kernel does only this element-wise part. Every scalar of the step comes from the same hooks as on the
readable path: the schedule's $\eta_t$ (`get_lr`), the decay (`WeightDecay.factors`), and $\alpha_t, d_t$
(`update_rule`, where Adam's bias corrections and RAdam's $r_t$ are). So warm-up, cosine decay, Noam and any
subclass that changes only those hooks get the fused path for free, and the tests check that the fused and
readable paths agree (`float64` to rounding, `float32` to $10^{-6}$ relative over 100 steps).

## Building it

The kernel is compiled with `torch.utils.cpp_extension` the first time `fused=True` steps on a machine
(about 15 s; it says so once), tuned for that machine's CPU (`-march=native`), into
`~/.cache/labml_nn/` (or `$LABML_NN_CACHE`); later runs load the build. Without a working C++ compiler it
warns once and takes the per-tensor path, which computes the same thing more slowly.
The kernel runs on CPU tensors; on a GPU, `fused=True` takes the multi-tensor (`foreach`) path and says so once.
`python benchmarks/bench_optimizers.py` times it against `torch.optim.Adam(fused=True)`.
"""

import hashlib
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

KERNEL_SOURCE = Path(__file__).with_name('fused_adam.cpp')

# `None` until the first `load_kernel()`, then whether the kernel can run
_kernel_loaded: Optional[bool] = None
_warned = set()


def warn_once(topic: str, message: str):
    """A `RuntimeWarning`, once per process and topic."""
    if topic not in _warned:
        _warned.add(topic)
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def kernel_runs_on(p: torch.Tensor, state: Dict[str, Any]) -> bool:
    """The kernel takes contiguous CPU tensors, with a contiguous gradient and state."""
    return (p.device.type == 'cpu' and p.is_contiguous() and p.grad.is_contiguous()
            and all(v.is_contiguous() for v in state.values() if isinstance(v, torch.Tensor)))


def _cpu_tag() -> str:
    """What the build depends on: the kernel's source, torch and Python, and the CPU it is tuned for."""
    cpu = platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            flags = next((line for line in f if line.startswith(('flags', 'Features'))), '')
        cpu += flags
    except OSError:
        pass
    source = hashlib.sha1(KERNEL_SOURCE.read_bytes()).hexdigest()
    key = f"{source}|{torch.__version__}|{sys.version_info[:2]}|{cpu}"
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def build_directory() -> Path:
    """Where the kernel is built: `$LABML_NN_CACHE`, or `~/.cache/labml_nn`, then one folder per machine type."""
    root = os.environ.get('LABML_NN_CACHE') or os.path.join(os.path.expanduser('~'), '.cache', 'labml_nn')
    return Path(root) / f'fused_adam_{_cpu_tag()}'


def load_kernel() -> bool:
    """Build (first use) or load the kernel; `False`, with one warning, when it cannot be built."""
    global _kernel_loaded
    if _kernel_loaded is not None:
        return _kernel_loaded
    from torch.utils import cpp_extension
    name = 'labml_nn_fused_adam'
    directory = build_directory()
    flags = ['-O3', '-fno-math-errno']
    if platform.machine() in ('x86_64', 'AMD64', 'aarch64', 'arm64') and sys.platform.startswith('linux'):
        flags.append('-march=native')
    fresh = not (directory / f'{name}.so').exists()
    start = time.perf_counter()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if fresh:
            print(f"labml_nn: building the fused Adam kernel for this machine (once) in {directory}",
                  file=sys.stderr, flush=True)
        cpp_extension.load(name=name, sources=[str(KERNEL_SOURCE)], extra_cflags=flags,
                           build_directory=str(directory), is_python_module=False, verbose=False)
        _register_fake()
        _kernel_loaded = True
    except Exception as e:  # no compiler, no ninja, a failed build: all mean the same here
        reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        warn_once('build', f"fused=True: the fused Adam kernel could not be built ({reason}); "
                           f"using the per-tensor path, which computes the same step more slowly")
        _kernel_loaded = False
    else:
        if fresh:
            print(f"labml_nn: built the fused Adam kernel in {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)
    return _kernel_loaded


def adam_step(params: List[torch.Tensor], grads: List[torch.Tensor], exp_avgs: List[torch.Tensor],
              exp_avg_sqs: List[torch.Tensor], max_exp_avg_sqs: List[torch.Tensor], *,
              grad_sign: float, param_scale: float, l2: float, beta1: float, beta2: float, belief: bool,
              eps_v: float, amsgrad: bool, adaptive: bool, v_divisor: float, eps: float, step_size: float):
    r"""One fused step of a batch of tensors (the equations above; `adaptive=False` is $\theta - \alpha_t m_t$)."""
    scalars = torch.tensor([grad_sign, param_scale, l2, beta1, beta2, eps_v, v_divisor, eps, step_size],
                           dtype=torch.float64)
    torch.ops.labml_nn_optimizers.adam_step_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, scalars,
                                             belief, amsgrad, adaptive)


def _register_fake():
    """What `torch.compile` needs to trace the kernel: it returns nothing and changes its inputs in place."""
    @torch.library.register_fake('labml_nn_optimizers::adam_step_')
    def _(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, scalars, belief, amsgrad, adaptive):
        return None
