r"""
---
title: Optimizers
summary: >
 What a PyTorch optimizer is (parameter groups, per-parameter state, step, closures),
 the small template the whole family is built on, and a map of the family: SGD to Adam, AdamW, LAMB,
 Lookahead and Sophia, what each one changes, and which one to use when.
---

# Optimizers

An optimizer turns gradients into parameter updates. In PyTorch an optimizer is a
[`torch.optim.Optimizer`](https://pytorch.org/docs/stable/optim.html) and it owns three things.

* **Parameter groups.** `optimizer.param_groups` is a list of dictionaries. Each one holds a list of
  parameters under `'params'` and *every* hyper-parameter that applies to them (`'lr'`, `'betas'`, `'eps'`, ...).
  Groups let a model use, for example, a larger learning rate for its last layer:
  `Adam([{'params': body}, {'params': head, 'lr': 1e-2}], lr=1e-3)`. The keyword arguments of the constructor
  fill in whatever a group does not set. Learning-rate schedulers work by editing `group['lr']`, so a
  hyper-parameter that is kept anywhere else is invisible to them and is lost by `state_dict()`.
* **Per-parameter state.** `optimizer.state[p]` is a dictionary for each parameter `p`: the step count and the
  moving averages that adaptive methods keep. It starts empty and is filled on the first step.
* **`step(closure=None)`.** One update of every parameter that has a gradient. A *closure* is a function that
  clears the gradients, recomputes the loss, calls `backward()` and returns the loss. Some algorithms (L-BFGS)
  need to evaluate the loss several times per step; for the others, `step` calls it once and returns the loss.

`state_dict()` saves both the groups (hyper-parameters) and the state, so training can stop and resume exactly.

A training step, first without and then with a closure:

```python
from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam

optimizer = Adam(model.parameters(), lr=1e-3, weight_decay=WeightDecay(0.01))

optimizer.zero_grad(set_to_none=True)
loss = loss_fn(model(x), y)
loss.backward()
optimizer.step()

def closure():
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    return loss

loss = optimizer.step(closure)
```

## The template

Adam-like optimizers all have the same shape: for every parameter with a gradient,
create the state on first use, then update the state and the parameter. `GenericAdaptiveOptimizer` below does
the bookkeeping once (closures, skipping parameters without gradients, sparse gradients, low precision and
complex parameters) and calls two hooks that each algorithm fills in:

* `init_state(state, group, param)` creates the state of one parameter.
* `step_param(state, group, grad, param)` updates the state and the parameter.

### One set of math, two shapes

The hooks are written once, as readable code on a single tensor. With `foreach=True` the template calls the
*same* hook with `TensorList`s: a list of tensors that offers the tensor methods the hooks use
(`mul_`, `add_`, `addcmul_`, `sqrt`, ...) and runs each of them as one `torch._foreach_*` call over all the
tensors of a group. Parameters are batched only when their scalar state (the step count) is the same, so the
Python-level math (bias corrections, warm-up factors) is the same for the whole batch. The default,
`foreach=None`, picks the multi-tensor path when all the parameters of a group are on a GPU
(as `torch.optim` does) and the per-tensor path otherwise. On a GPU one kernel launch per operation replaces
one per tensor. On a CPU the gain is only Python overhead, which helps with many small tensors, while for large
tensors the per-tensor path is faster: it finishes each tensor while its state is still in cache, whereas the
multi-tensor path sweeps all of the group's memory once per operation.

A third shape, for speed only: with `fused=True` the Adam family (Adam, AMSGrad, RAdam, AdaBelief and their
schedules) runs the element-wise part of a step in one pass over memory, in a small C++ kernel built on first use
(the page *The fused Adam kernel*); the scalars of the step still come from the same hooks. An optimizer step moves much memory for little arithmetic, so one pass instead of one per
operation is what reaches the machine's memory bandwidth.
`python benchmarks/bench_optimizers.py` times the paths against `torch.optim.Adam(fused=True)`.

### Precision and complex numbers

* `float16` and `bfloat16` parameters are updated in `float32`: the state is kept in `float32`, the update is
  computed on a `float32` copy of the parameter, and the result is rounded back into the parameter.
  In `float16`, the squared gradient of a coordinate with $|g| < 5.5 \times 10^{-3}$, times $1-\beta_2 = 10^{-3}$,
  is below half the smallest positive `float16` number ($2^{-24} \approx 6 \times 10^{-8}$), so it rounds to $0$
  and $v_t$ would be $0$; the `float32` state keeps it. The parameter itself is still
  rounded to its own type after each step, so an update smaller than half its precision is lost; keep a
  `float32` master copy of the weights (mixed-precision training) when that matters.
* Complex parameters are handled as in `torch.optim`: the parameter and its gradient are viewed as real tensors
  with a trailing dimension of size 2 (`torch.view_as_real`), so the real and imaginary parts are two
  independent coordinates.

## The family

Every method below is one or two changes to a parent. Read the table from the top: each row names what it adds,
and the state it keeps per parameter tells you its memory cost (in copies of the parameters).

| Method | Parent | What it changes | State |
|---|---|---|---|
| [SGD](sgd.html) | | $\theta_t \leftarrow \theta_{t-1} - \eta g_t$ | none |
| [SGD with momentum](sgd.html) | SGD | steps along a moving sum $b_t$ of past gradients (optionally Nesterov's look-ahead) | $b$ |
| [Adagrad](adagrad.html) | SGD | a per-coordinate scale: divides by the root of the *sum* of all squared gradients | $\sum g^2$ |
| [RMSprop](rmsprop.html) | Adagrad | the sum becomes an exponential moving average $v_t$, so old gradients are forgotten | $v$ (+ $\bar{g}$, $b$) |
| [Adadelta](adadelta.html) | RMSprop | takes its step size from the RMS of its own past updates: no learning rate in the paper | $v$, $\Delta$ |
| [Adam](adam.html) | RMSprop + momentum | momentum $m_t$ on the gradient, and bias correction of both averages | $m$, $v$ |
| [AdamW](adamw.html) | Adam | decoupled weight decay: shrinks $\theta$ instead of adding $\lambda\theta$ to $g_t$ | $m$, $v$ |
| [AMSGrad](amsgrad.html) | Adam | divides by $v^{max}_t$, the running maximum of $v_t$ | $m$, $v$, $v^{max}$ |
| [QHAdam](qhadam.html) | Adam | steps along a $\nu$-weighted mix of $g_t$ and its average, in both moments | $m$, $v$ |
| [RAdam](radam.html) | Adam | $r_t$: rectifies the adaptive rate while its variance is too large, SGD with momentum before | $m$, $v$ |
| [AdaBelief](ada_belief.html) | Adam | $s_t$: the spread of $g_t$ around $m_t$ replaces $g_t^2$ | $m$, $s$ |
| [LAMB](lamb.html) | AdamW | a layer-wise trust ratio $\lVert\theta\rVert / \lVert\text{update}\rVert$ scales each tensor's step | $m$, $v$ |
| [LARS / LARC](larc.html) | SGD with momentum | the same trust ratio on plain gradients, as a wrapper of any optimizer | $b$ |
| [Lookahead](lookahead.html) | any optimizer | slow weights $\phi$ pulled towards the fast weights every $k$ steps | $\phi$ (+ inner) |
| [Ranger](ranger.html) | RAdam + Lookahead | both of them | $m$, $v$, $\phi$ |
| [Sophia](sophia.html) | Adam | a diagonal Hessian estimate $h_t$ replaces $v_t$, and the step is clipped per coordinate | $m$, $h$ |

Schedules on top of Adam: [warm-up](adam_warmup.html), [warm-up and cosine decay](adam_warmup_cosine_decay.html),
and the [Noam](noam.html) schedule of the Transformer. [Lookahead, LARC and Ranger](wrapper.html) wrap another
optimizer instead of subclassing the template. [Configurations](configs.html) pick any of them by name in a labml
experiment.

### Which one to use when

* **A new model with no tuning budget**: [AdamW](adamw.html). It is the default of most transformer
  recipes, and its weight decay means what it says ([Loshchilov & Hutter](https://arxiv.org/abs/1711.05101)).
* **A convolutional network with a tuned learning-rate schedule**: [SGD with momentum](sgd.html); on image
  classification it often generalises as well as or better than adaptive methods
  ([Wilson et al. 2017](https://arxiv.org/abs/1705.08292)).
* **Unstable first steps**: a warm-up ([Adam with warm-up](adam_warmup.html)), or [RAdam](radam.html), which
  gets a similar effect without choosing a warm-up length.
* **Very large batches**: [LAMB](lamb.html) for Adam-style training, [LARS](larc.html) for SGD-style
  training: the trust ratio keeps every layer's step in proportion to its weights.
* **Sparse features, convex problems**: [Adagrad](adagrad.html).
* **Language-model pre-training, where each step is expensive**: [Sophia](sophia.html) (clipped
  second-order steps; the paper reports fewer steps than AdamW for the same loss).
* **A safety net around any of them**: [Lookahead](lookahead.html) reduces the variance of the path at the cost of
  one more copy of the weights.

What a small experiment can and cannot tell you: the [MNIST experiment](mnist_experiment.html) trains one small
CNN with every optimizer here (and with `torch.optim.Adam` and SGD as baselines), each at the learning rate a sweep
chose on the validation split, over five seeds, and its [results page](mnist_results/readme.html) says, with paired
confidence intervals written by the tool, which differences from Adam are larger than the spread between seeds.
On an easy problem and short runs, read it as evidence about this problem, not as a general ranking.
"""

import math
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import torch
from torch.optim import Optimizer

__all__ = ['WeightDecay', 'GenericAdaptiveOptimizer', 'TensorList', 'as_weight_decay', 'check_non_negative',
           'check_betas', 'weight_decay_defaults', 'torch_flag_defaults']


# ## Checking hyper-parameters
#
# Bad values fail early with a message that names the parameter and the value.

def check_non_negative(name: str, value: Any):
    r"""Raise a `ValueError` unless `value` is a real number $\ge 0$."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
        raise ValueError(f"Invalid {name}: {value!r} (expected a number >= 0)")


def check_betas(betas: Any):
    """Raise a `ValueError` unless `betas` is a pair of numbers in $[0, 1)$."""
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))") from None
    for i, beta in enumerate((beta1, beta2)):
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid betas[{i}] (beta{i + 1}): {beta!r} (expected 0 <= beta < 1)")


class WeightDecay:
    r"""
    ## Weight decay

    Weight decay pulls the parameters towards zero. There are two ways to do it, and they differ for adaptive
    optimizers ([Loshchilov & Hutter, Decoupled Weight Decay Regularization](https://arxiv.org/abs/1711.05101)).

    * **L2 regularization** (`weight_decouple=False`) adds $\lambda \theta_{t-1}$ to the gradient,
      $g_t \leftarrow g_t + \lambda \theta_{t-1}$, which is the gradient of $\frac{\lambda}{2}\|\theta\|^2$.
      Adam then divides it by $\sqrt{\hat{v}_t}$ like the rest of the gradient, so parameters with large
      gradients are decayed less. This is `torch.optim.Adam(weight_decay=...)`.
    * **Decoupled weight decay** (`weight_decouple=True`, AdamW) shrinks the parameter directly,
      before the adaptive update: $\theta_{t-1} \leftarrow \theta_{t-1} (1 - \eta_t \lambda)$, where $\eta_t$ is
      the learning rate of this step: $\eta$ itself, or what the optimizer's own schedule (warm-up, cosine decay,
      Noam) makes of it, so the decay stops when the schedule reaches $0$. This is `torch.optim.AdamW`, where a
      scheduler sets the rate that scales the decay. It is *not* the paper's decay: Algorithm 2 of
      Loshchilov & Hutter multiplies $\lambda$ by the schedule multiplier alone, not by the learning rate
      (see [AdamW](adamw.html) for how to convert). With `absolute=True` the decay does not scale with the
      learning rate: $\theta_{t-1} \leftarrow \theta_{t-1} (1 - \lambda)$ (AdaBelief's `fixed_decay`).
      So a step at $\eta = 0$ still shrinks $\theta$, and the zero-gradient, zero-`lr` step that
      `torch.distributed.checkpoint`'s `set_optimizer_state_dict` takes to create a missing state would shrink the
      weights it has just restored; our optimizers only create the state in that step (`create_state`).

    The defaults are those of labml-nn 0.5.1: `weight_decay=0.`, `weight_decouple=True`, `absolute=False`.

    This object only carries the constructor's defaults. The optimizer copies them into each parameter group as
    plain values, `weight_decay`, `weight_decouple` and `weight_decay_absolute`, so they are saved by
    `state_dict()` and a group may override them, e.g. `{'params': biases, 'weight_decay': 0.}`.
    """

    def __init__(self, weight_decay: float = 0., weight_decouple: bool = True, absolute: bool = False):
        check_non_negative('weight_decay', weight_decay)
        self.weight_decay = float(weight_decay)
        self.weight_decouple = bool(weight_decouple)
        self.absolute = bool(absolute)

    def __repr__(self):
        return (f"WeightDecay(weight_decay={self.weight_decay}, weight_decouple={self.weight_decouple}, "
                f"absolute={self.absolute})")

    def defaults(self) -> Dict[str, Any]:
        """The group entries that hold these settings."""
        return dict(weight_decay=self.weight_decay,
                    weight_decouple=self.weight_decouple,
                    weight_decay_absolute=self.absolute)

    @staticmethod
    def apply(param, grad, group: Dict[str, Any], lr: Optional[float] = None):
        r"""
        Apply the weight decay of `group` to `param` and return the gradient to use.
        `lr` is the learning rate $\eta_t$ of this step (what a schedule gives); `group['lr']` when not given.

        `param` and `grad` are tensors or `TensorList`s; `grad` is never changed in place (it belongs to the
        caller), a new one is returned when L2 regularization changes it.
        """
        param_scale, l2 = WeightDecay.factors(group, group['lr'] if lr is None else lr)
        if param_scale != 1.:
            param.mul_(param_scale)
        if l2 != 0.:
            # $g_t \leftarrow g_t + \lambda \theta_{t-1}$
            return grad.add(param, alpha=l2)
        return grad

    @staticmethod
    def factors(group: Dict[str, Any], lr: float) -> Tuple[float, float]:
        r"""
        The decay of `group` at the learning rate $\eta_t$ as two numbers, `(param_scale, l2)`: the factor
        $\theta_{t-1}$ is multiplied by, and the $\lambda$ of L2 regularization. `apply` uses them, and so does the
        [fused kernel](fused.html).
        """
        decay = group['weight_decay']
        if decay == 0:
            return 1., 0.
        if not group['weight_decouple']:
            # L2: $\theta$ is not scaled, $g_t$ gains $\lambda \theta_{t-1}$
            return 1., decay
        if group['weight_decay_absolute']:
            # $\theta_{t-1} \leftarrow \theta_{t-1} (1 - \lambda)$
            return 1. - decay, 0.
        # $\theta_{t-1} \leftarrow \theta_{t-1} (1 - \eta_t \lambda)$
        return 1. - lr * decay, 0.


def _tensor_value(name: str, value: torch.Tensor) -> float:
    """The number a one-element tensor holds (torch accepts tensor `lr` and `betas`)."""
    if value.numel() != 1:
        raise ValueError(f"Invalid {name}: a tensor with {value.numel()} elements (expected one)")
    return value.item()


def weight_decay_defaults(weight_decay, weight_decouple: bool) -> Dict[str, Any]:
    """
    The group entries for a `weight_decay` given the way `torch.optim` takes it, as a number, or as a
    `WeightDecay`. A number means what it means for the torch class of the same name: `weight_decouple`
    is `False` for L2 regularization (SGD, Adagrad, RMSprop, Adadelta) and `True` for AdamW.
    """
    if isinstance(weight_decay, WeightDecay):
        return weight_decay.defaults()
    if isinstance(weight_decay, torch.Tensor):
        weight_decay = _tensor_value('weight_decay', weight_decay)
    check_non_negative('weight_decay', weight_decay)
    return WeightDecay(weight_decay, weight_decouple=weight_decouple).defaults()


def torch_flag_defaults(maximize: bool = False, differentiable: bool = False, capturable: bool = False,
                        fused: Optional[bool] = None) -> Dict[str, Any]:
    """
    Accept the `torch.optim` flags that have one meaning here, and refuse the ones we do not implement,
    so that torch code constructs our classes as written and nothing is ignored silently.
    Returns the group entries (`maximize`, `fused`).
    """
    if not isinstance(maximize, bool):
        raise ValueError(f"Invalid maximize: {maximize!r} (expected True or False)")
    for name, value in (('differentiable', differentiable), ('capturable', capturable)):
        if value:
            raise ValueError(f"{name}=True is not supported; use {name}=False (the default)")
    # `fused=True` is checked by `check_group`: only the Adam family has a fused kernel
    return dict(maximize=maximize, fused=fused)


def as_weight_decay(weight_decay) -> WeightDecay:
    """Check that `weight_decay` is a `WeightDecay`; the `TypeError` says how to make one."""
    if isinstance(weight_decay, WeightDecay):
        return weight_decay
    raise TypeError(f"weight_decay must be a WeightDecay(...), got {weight_decay!r}; "
                    f"e.g. WeightDecay(0.01) for decoupled decay (AdamW) or "
                    f"WeightDecay(0.01, weight_decouple=False) for L2 regularization")


class TensorList:
    r"""
    ## A list of tensors that behaves like one tensor

    Each method runs one `torch._foreach_*` operation over all the tensors, and takes the same arguments as the
    tensor method of the same name. Arguments may be numbers or `TensorList`s of the same length.
    This is what lets the per-tensor hooks run unchanged on a whole parameter group.
    """

    __slots__ = ('tensors',)

    def __init__(self, tensors: Iterable[torch.Tensor]):
        self.tensors = list(tensors)

    def __len__(self):
        return len(self.tensors)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.tensors[i]

    @staticmethod
    def _arg(x):
        return x.tensors if isinstance(x, TensorList) else x

    # In-place operations return `self`, so calls chain like tensor calls do.
    def mul_(self, other):
        torch._foreach_mul_(self.tensors, self._arg(other))
        return self

    def div_(self, other):
        torch._foreach_div_(self.tensors, self._arg(other))
        return self

    def add_(self, other, *, alpha: float = 1):
        if isinstance(other, TensorList):
            torch._foreach_add_(self.tensors, other.tensors, alpha=alpha)
        else:
            torch._foreach_add_(self.tensors, other * alpha)
        return self

    def addcmul_(self, tensor1: 'TensorList', tensor2: 'TensorList', *, value: float = 1):
        torch._foreach_addcmul_(self.tensors, tensor1.tensors, tensor2.tensors, value=value)
        return self

    def addcdiv_(self, tensor1: 'TensorList', tensor2: 'TensorList', *, value: float = 1):
        torch._foreach_addcdiv_(self.tensors, tensor1.tensors, tensor2.tensors, value=value)
        return self

    def sub_(self, other, *, alpha: float = 1):
        if isinstance(other, TensorList):
            torch._foreach_sub_(self.tensors, other.tensors, alpha=alpha)
        else:
            torch._foreach_sub_(self.tensors, other * alpha)
        return self

    def sqrt_(self):
        torch._foreach_sqrt_(self.tensors)
        return self

    def maximum_(self, other: 'TensorList'):
        torch._foreach_maximum_(self.tensors, other.tensors)
        return self

    def clamp_min_(self, value):
        torch._foreach_clamp_min_(self.tensors, self._arg(value))
        return self

    def lerp_(self, end: 'TensorList', weight: float):
        torch._foreach_lerp_(self.tensors, end.tensors, weight)
        return self

    def zero_(self):
        torch._foreach_zero_(self.tensors)
        return self

    def clone(self):
        return TensorList([t.clone() for t in self.tensors])

    def copy_(self, other: 'TensorList'):
        torch._foreach_copy_(self.tensors, other.tensors)
        return self

    # Out-of-place operations return a new `TensorList`.
    def add(self, other, *, alpha: float = 1):
        if isinstance(other, TensorList):
            return TensorList(torch._foreach_add(self.tensors, other.tensors, alpha=alpha))
        return TensorList(torch._foreach_add(self.tensors, other * alpha))

    def sub(self, other: 'TensorList'):
        return TensorList(torch._foreach_sub(self.tensors, other.tensors))

    def mul(self, other):
        return TensorList(torch._foreach_mul(self.tensors, self._arg(other)))

    def div(self, other):
        return TensorList(torch._foreach_div(self.tensors, self._arg(other)))

    def sqrt(self):
        return TensorList(torch._foreach_sqrt(self.tensors))

    def maximum(self, other: 'TensorList'):
        return TensorList(torch._foreach_maximum(self.tensors, other.tensors))

    def neg(self):
        return TensorList(torch._foreach_neg(self.tensors))

    def abs(self):
        return TensorList(torch._foreach_abs(self.tensors))

    def sign(self):
        return TensorList(torch._foreach_sign(self.tensors))

    def addcmul(self, tensor1: 'TensorList', tensor2: 'TensorList', *, value: float = 1):
        return TensorList(torch._foreach_addcmul(self.tensors, tensor1.tensors, tensor2.tensors, value=value))

    def addcdiv(self, tensor1: 'TensorList', tensor2: 'TensorList', *, value: float = 1):
        return TensorList(torch._foreach_addcdiv(self.tensors, tensor1.tensors, tensor2.tensors, value=value))

    def norm(self):
        """The 2-norm of each tensor, as a `TensorList` of 0-d tensors (so per-tensor scalars stay batched)."""
        return TensorList(torch._foreach_norm(self.tensors))


class GenericAdaptiveOptimizer(Optimizer):
    r"""
    ## Template for adaptive optimizers

    `defaults` holds every hyper-parameter; it becomes the default of each parameter group.
    Subclasses validate their own hyper-parameters in `check_group`, which runs for every group, including
    groups added later with `add_param_group`, so per-group overrides are checked too.
    """

    def __init__(self, params, *, defaults: Dict[str, Any]):
        defaults = dict(defaults)
        defaults.setdefault('foreach', None)
        # Tensor `lr`/`betas` become numbers in the defaults too (`normalize_group` reads `self.defaults`)
        self.defaults = defaults
        self.normalize_group(defaults)
        super().__init__(params, defaults=defaults)

    def check_group(self, group: Dict[str, Any]):
        """Validate the hyper-parameters of one group; raise `ValueError` naming the bad one."""
        check_non_negative('lr', group['lr'])
        if 'eps' in group:
            check_non_negative('eps', group['eps'])
        if 'betas' in group:
            check_betas(group['betas'])
        if 'weight_decay' in group:
            check_non_negative('weight_decay', group['weight_decay'])
        if group.get('foreach') not in (None, True, False):
            raise ValueError(f"Invalid foreach: {group['foreach']!r} (expected None, True or False)")
        if group.get('maximize', False) not in (True, False):
            raise ValueError(f"Invalid maximize: {group['maximize']!r} (expected True or False)")
        # torch.optim keys that we do not implement: refused, never ignored
        for key in ('differentiable', 'capturable'):
            if group.get(key):
                raise ValueError(f"{key}={group[key]!r} is not supported by {type(self).__name__}")
        if group.get('fused') not in (None, True, False):
            raise ValueError(f"Invalid fused: {group['fused']!r} (expected None, True or False)")
        if group.get('fused'):
            if not self.fused_supported():
                raise ValueError(f"fused=True is not available for {type(self).__name__} "
                                 f"(the fused kernel computes the Adam family's step); use fused=None")
            if group.get('foreach'):
                raise ValueError("fused=True and foreach=True cannot both be set: pick one path")

    def normalize_group(self, group: Dict[str, Any]):
        """
        Rewrite, in place, the torch-style entries of a group into the plain values the hooks read:
        a `WeightDecay` under `'weight_decay'` becomes its three entries (wrappers such as
        `ZeroRedundancyOptimizer` and SAM build our optimizer from their own groups, which hold the constructor's
        keywords as given); torch's `decoupled_weight_decay` becomes `weight_decouple`; a one-element
        tensor `lr` or `betas` becomes its value. It runs when a group is added, loaded, and before every step.
        """
        if isinstance(group.get('weight_decay'), WeightDecay):
            group.update(group['weight_decay'].defaults())
        elif isinstance(group.get('weight_decay'), torch.Tensor):
            group['weight_decay'] = _tensor_value('weight_decay', group['weight_decay'])
        if 'decoupled_weight_decay' in group:
            decouple = group.pop('decoupled_weight_decay')
            if not isinstance(decouple, bool):
                raise ValueError(f"Invalid decoupled_weight_decay: {decouple!r} (expected True or False)")
            if 'weight_decouple' in self.defaults:
                group['weight_decouple'] = decouple
            elif decouple:
                raise ValueError(f"decoupled_weight_decay=True is not supported by {type(self).__name__}")
        if isinstance(group.get('lr'), torch.Tensor):
            group['lr'] = _tensor_value('lr', group['lr'])
        if isinstance(group.get('betas'), (list, tuple)) and any(isinstance(b, torch.Tensor) for b in group['betas']):
            group['betas'] = tuple(_tensor_value(f'betas[{i}]', b) if isinstance(b, torch.Tensor) else b
                                   for i, b in enumerate(group['betas']))

    def add_param_group(self, param_group: Dict[str, Any]):
        self.normalize_group(param_group)
        super().add_param_group(param_group)
        self.check_group(self.param_groups[-1])

    def load_state_dict(self, state_dict: Dict[str, Any]):
        """
        Like `Optimizer.load_state_dict`, and it loads what `torch.optim.Adam`, labml-nn 0.5.1, and our own
        older versions saved:

        * a group entry that the checkpoint lacks (one added after it was written) is filled from the group
          this optimizer was constructed with, as `torch.optim` fills it from its defaults;
        * torch's entries are read as `normalize_group` reads them, and a tensor `step` (torch's) becomes a number;
        * everything is checked *before* anything is changed: the groups with `check_group`, and the state of
          every parameter against what `init_state` would create for it (the same keys, and tensors of the
          same shape). A checkpoint that cannot be used raises `ValueError` and leaves the optimizer as it was.

        The `float32` state of `float16`/`bfloat16` parameters stays `float32` (torch would cast it to the
        parameter's dtype and lose the precision it is kept for).
        """
        saved_groups = state_dict['param_groups']
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"The checkpoint has {len(saved_groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        groups = []
        for index, (saved, current) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved['params']) != len(current['params']):
                raise ValueError(f"Parameter group {index} of the checkpoint has {len(saved['params'])} "
                                 f"parameters, this optimizer's has {len(current['params'])}")
            group = dict(saved)
            self.normalize_group(group)
            for key, value in current.items():
                group.setdefault(key, value)
            self.check_group(dict(group, params=current['params']))
            groups.append(group)

        states = {}
        for group, current in zip(groups, self.param_groups):
            for i, p in zip(group['params'], current['params']):
                if i in state_dict['state']:
                    states[i] = self._checked_state(i, state_dict['state'][i], group, p)

        keep = {}
        for group, current in zip(groups, self.param_groups):
            for i, p in zip(group['params'], current['params']):
                if p.dtype in (torch.float16, torch.bfloat16) and i in states:
                    keep[p] = {k: v.to(device=p.device, copy=True)
                               for k, v in states[i].items() if isinstance(v, torch.Tensor)}
        super().load_state_dict(dict(state_dict, state=states, param_groups=groups))
        for p, values in keep.items():
            self.state[p].update(values)

    def _checked_state(self, index, saved: Dict[str, Any], group: Dict[str, Any], p: torch.Tensor) -> Dict[str, Any]:
        """The saved state of one parameter, made usable, or a `ValueError` saying why it is not."""
        state = dict(saved)
        # What `init_state` makes for this parameter is what `step_param` will read
        working = torch.view_as_real(p.detach()) if torch.is_complex(p) else p.detach()
        if working.dtype in (torch.float16, torch.bfloat16):
            working = working.float()
        expected: Dict[str, Any] = {}
        self.init_state(expected, group, working)
        for key, value in expected.items():
            if key not in state:
                raise ValueError(f"The checkpoint's state of parameter {index} has no {key!r}, "
                                 f"which {type(self).__name__} needs")
            saved_value = state[key]
            if isinstance(value, torch.Tensor):
                if isinstance(saved_value, torch.Tensor) and torch.is_complex(saved_value) \
                        and torch.is_complex(p) and saved_value.shape == p.shape:
                    # torch keeps the state of a complex parameter complex; ours is its real view
                    saved_value = state[key] = torch.view_as_real(saved_value)
                if not isinstance(saved_value, torch.Tensor) or saved_value.shape != value.shape:
                    shape = tuple(saved_value.shape) if isinstance(saved_value, torch.Tensor) else saved_value
                    raise ValueError(f"The checkpoint's {key!r} of parameter {index} is {shape!r}, "
                                     f"expected a tensor of shape {tuple(value.shape)}")
            elif isinstance(value, int) and not isinstance(value, bool):
                # A step count; torch saves it as a tensor
                if isinstance(saved_value, torch.Tensor) and saved_value.numel() == 1:
                    saved_value = saved_value.item()
                if isinstance(saved_value, bool) or not isinstance(saved_value, (int, float)) \
                        or saved_value != int(saved_value) or saved_value < 0:
                    raise ValueError(f"The checkpoint's {key!r} of parameter {index} is {saved_value!r}, "
                                     f"expected a whole number >= 0")
                state[key] = int(saved_value)
        return state

    # ### Hooks that an algorithm fills in

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        """Create the state of parameter `param` (the working, real, at least `float32` view)."""
        raise NotImplementedError

    def step_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, param):
        """Update `state` and `param` from `grad`; tensors, or `TensorList`s on the multi-tensor path."""
        raise NotImplementedError

    # ### The fused path
    #
    # `fused=True` runs a whole step as one pass over memory in a compiled kernel ([fused](fused.html)).
    # A class offers it by saying which kernel computes its `step_param` (`fused_supported`) and by
    # giving that kernel this step's scalars (`fused_step`).

    @classmethod
    def fused_supported(cls) -> bool:
        """Whether `fused_step` computes what this class's hooks compute; no fused kernel by default."""
        return False

    def fused_step(self, state: Dict[str, Any], group: Dict[str, Any], params: List[torch.Tensor],
                   grads: List[torch.Tensor]):
        """One fused step of a batch of parameters that share their scalar state (`state` holds lists)."""
        raise NotImplementedError

    # ### Creating the state without a step

    @torch.no_grad()
    def create_state(self):
        """Create, with `init_state`, the state of each parameter that has a gradient and no state; update nothing."""
        for group in self.param_groups:
            self.normalize_group(group)
            for p in group['params']:
                if p.grad is not None and len(self.state[p]) == 0:
                    self.init_state(self.state[p], group, self._working_tensors(p, group)[0])

    def _is_state_creation_step(self) -> bool:
        r"""
        Whether this is the `step()` that `torch.distributed.checkpoint` takes only to create the state.

        `set_optimizer_state_dict` (and `get_optimizer_state_dict`) needs the state to exist; when `self.state` is
        empty it sets every gradient to zero and every `lr` to $0$ and calls `step()`, and it looks for no method to
        call instead. That step is not inert: `WeightDecay(absolute=True)` does not scale with $\eta$, so it shrinks
        the weights just restored by `set_model_state_dict` by $(1 - \lambda)$, and the step count becomes $1$
        (saving before the first step would shift the bias correction). So a step with no state yet, every gradient
        exactly zero and every learning rate $0$ only creates the state (`create_state`).
        """
        params = [(group, p) for group in self.param_groups for p in group['params'] if p.grad is not None]
        return (len(params) > 0
                and all(len(self.state.get(p, {})) == 0 for _, p in params)
                and all(float(group['lr']) == 0 for group, _ in params)
                and all(not p.grad.is_sparse and p.grad.count_nonzero() == 0 for _, p in params))

    # ### Taking a step

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], float]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if a closure is given."""
        # `torch.distributed.checkpoint`'s zero-gradient, zero-`lr` step creates the state and changes nothing
        if closure is None and self._is_state_creation_step():
            self.create_state()
            return None
        loss = None
        if closure is not None:
            # The closure runs `backward()`, so it needs gradients switched back on
            with torch.enable_grad():
                loss = closure()

        if self._creates_state():
            self._step_creating_state()
        else:
            self._step_groups()
        return loss

    def _creates_state(self) -> bool:
        """Whether a parameter with a gradient has no state yet (the first step, or one newly trained)."""
        return any(p.grad is not None and len(self.state.get(p, {})) == 0
                   for group in self.param_groups for p in group['params'])

    @torch.compiler.disable
    def _step_creating_state(self):
        """
        A step that creates state runs eagerly under `torch.compile(optimizer.step)`. Its graph would be used once,
        and compiling it would make the next step's graph take the step count $t = 1$ as a constant, which costs
        one more graph when $t$ changes: three graphs instead of two.
        """
        self._step_groups()

    def _step_groups(self):
        for group in self.param_groups:
            # A wrapper may have copied its own torch-style entries into the group since the last step
            self.normalize_group(group)
            # Parameters without a gradient (frozen, unused, or `zero_grad(set_to_none=True)`) are skipped
            params = [p for p in group['params'] if p.grad is not None]
            for p in params:
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients; "
                                       f"use torch.optim.SparseAdam for sparse embeddings")
            if group.get('fused') and params:
                self._step_group_fused(group, params)
            elif self._use_foreach(group, params):
                self._step_group_foreach(group, params)
            else:
                for p in params:
                    self._step_one(group, p)

    @staticmethod
    def _use_foreach(group: Dict[str, Any], params: List[torch.Tensor]) -> bool:
        foreach = group.get('foreach')
        if foreach is None:
            # Default: the multi-tensor path on GPUs, the readable per-tensor path on CPU
            return len(params) > 0 and all(p.is_cuda for p in params)
        return foreach

    @staticmethod
    def _working_tensors(p: torch.Tensor, group: Dict[str, Any]) -> Tuple[torch.Tensor, torch.Tensor,
                                                                           Optional[torch.Tensor]]:
        """
        The tensors the math runs on: `(param, grad, write_back)`.
        Complex tensors are viewed as real; `float16`/`bfloat16` are copied to `float32` and `write_back`
        is the tensor the result must be copied into (`None` when the update is done in place).
        With `maximize=True` the gradient is negated, so the hooks always descend.
        """
        param, grad = p, p.grad
        if torch.is_complex(param):
            param, grad = torch.view_as_real(param), torch.view_as_real(grad)
        write_back = None
        if param.dtype in (torch.float16, torch.bfloat16):
            param, grad, write_back = param.float(), grad.float(), param
        if group.get('maximize', False):
            grad = grad.neg()
        return param, grad, write_back

    def _step_one(self, group: Dict[str, Any], p: torch.Tensor):
        """The readable per-tensor path."""
        param, grad, write_back = self._working_tensors(p, group)
        state = self.state[p]
        if len(state) == 0:
            self.init_state(state, group, param)
        self.step_param(state, group, grad, param)
        if write_back is not None:
            write_back.copy_(param)

    def _step_group_foreach(self, group: Dict[str, Any], params: List[torch.Tensor]):
        """The multi-tensor path: the same `step_param`, called on `TensorList`s."""
        def step_batch(batch_state, items):
            self.step_param(batch_state,
                            group,
                            TensorList([item[2] for item in items]),
                            TensorList([item[1] for item in items]))

        self._step_in_batches(group, [(p, *self._working_tensors(p, group)) for p in params], step_batch,
                              TensorList)

    def _step_group_fused(self, group: Dict[str, Any], params: List[torch.Tensor]):
        """The fused path: `fused_step` on batches of plain tensors, or a slower path where no kernel runs."""
        from labml_nn.optimizers import fused
        elsewhere = [p for p in params if p.device.type != 'cpu']
        if elsewhere:
            fused.warn_once('device', f"{type(self).__name__}(fused=True): the fused kernel runs on CPU tensors "
                                      f"only; tensors on other devices take the multi-tensor path (foreach)")
            self._step_group_foreach(group, elsewhere)
        on_cpu = [p for p in params if p.device.type == 'cpu']
        if on_cpu and not fused.load_kernel():
            # `load_kernel` has said once why it could not build the kernel
            for p in on_cpu:
                self._step_one(group, p)
            return
        # A strided view (rare for parameters) takes the readable path; the kernel walks contiguous memory
        runs = [fused.kernel_runs_on(p, self.state[p]) for p in on_cpu]
        for p, ok in zip(on_cpu, runs):
            if not ok:
                self._step_one(group, p)
        on_cpu = [p for p, ok in zip(on_cpu, runs) if ok]

        def working(p: torch.Tensor):
            # Real views of complex tensors; float16/bfloat16 stay as they are (the kernel computes in float32),
            # and `maximize` is a sign the kernel applies, so nothing is copied
            if torch.is_complex(p):
                return p, torch.view_as_real(p), torch.view_as_real(p.grad), None
            return p, p, p.grad, None

        def step_batch(batch_state, items):
            self.fused_step(batch_state, group, [item[1] for item in items], [item[2] for item in items])

        self._step_in_batches(group, [working(p) for p in on_cpu], step_batch, list)

    def _step_in_batches(self, group: Dict[str, Any], items: List[tuple], step_batch: Callable, as_list: Callable):
        """
        Run `step_batch(batch_state, items)` on batches of `(p, param, grad, write_back)` items that share device,
        dtype, state keys and scalar state (such as the step count); `batch_state` holds the scalars and, for each
        tensor in the state, `as_list` of the batch's tensors. What the step changes is handed back to each state.
        """
        # `init_state` creates the keys in the same order for every parameter, so the order is part of the key.
        # The keys are compared with `==`, never hashed: under `torch.compile`, hashing the step count (a dictionary
        # key) bakes its value into the graph, which then compiles again every step; `==` only checks that the
        # counts are equal.
        batches: List[Tuple[tuple, list]] = []
        for p, param, grad, write_back in items:
            state = self.state[p]
            if len(state) == 0:
                # The state of a float16/bfloat16 parameter is float32 on every path
                low_precision = param.dtype in (torch.float16, torch.bfloat16)
                self.init_state(state, group, param.float() if low_precision else param)
            scalars = tuple((k, v) for k, v in state.items() if not isinstance(v, torch.Tensor))
            batch_key = (param.device, param.dtype, scalars, tuple(state))
            for key, batch in batches:
                if key == batch_key:
                    break
            else:
                batch = []
                batches.append((batch_key, batch))
            batch.append((state, param, grad, write_back))

        for (_, _, scalars, keys), batch in batches:
            states = [item[0] for item in batch]
            batch_state: Dict[str, Any] = dict(scalars)
            for key in keys:
                if key not in batch_state:
                    batch_state[key] = as_list([s[key] for s in states])
            given = dict(batch_state)
            step_batch(batch_state, batch)
            # Hand back what the step changed: scalars (the step count) and any state it replaced or added;
            # tensors it updated in place are already each parameter's own
            changed = [(key, value) for key, value in batch_state.items() if value is not given.get(key)]
            for i, (state, param, _, write_back) in enumerate(batch):
                for key, value in changed:
                    state[key] = value[i] if isinstance(value, (TensorList, list)) else value
                if write_back is not None:
                    write_back.copy_(param)
