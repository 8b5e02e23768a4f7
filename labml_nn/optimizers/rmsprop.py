r"""
---
title: RMSprop optimizer
summary: >
 RMSprop, annotated: divide each gradient by a running root-mean-square of its recent values,
 optionally centered (divide by a running standard deviation instead) and with momentum.
---

# RMSprop

RMSprop was proposed by Geoffrey Hinton in a course rather than a paper
([Neural Networks for Machine Learning, lecture 6e](https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf)).
Gradients of different weights can differ in size by orders of magnitude, and a single learning rate
cannot suit all of them. Rprop fixes this with full batches by using only the sign of the gradient; with
mini-batches that breaks, because signs average very differently from values. RMSprop keeps the
magnitudes but divides each coordinate's gradient by a moving root-mean-square of that coordinate's
recent gradients, so that a typical step has size about $\eta$ whatever the scale of the gradient.

With gradient $g_t$, learning rate $\eta$ and smoothing constant $\alpha$ (the lecture uses $0.9$,
`torch.optim.RMSprop` defaults to $0.99$):

\begin{align}
v_t &\leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
\theta_t &\leftarrow \theta_{t-1} - \eta \frac{g_t}{\sqrt{v_t} + \epsilon}
\end{align}

$v_0 = 0$ and, unlike [Adam](adam.html), there is no bias correction, so the first steps are larger:
after one step $\sqrt{v_1} = \sqrt{1-\alpha}\,|g_1|$ and the step is $\eta / \sqrt{1-\alpha}$, ten times
$\eta$ for $\alpha = 0.99$.

## Where $\epsilon$ goes

$\epsilon$ is added *outside* the square root, $\sqrt{v_t} + \epsilon$, as in `torch.optim.RMSprop`.
The lecture has no $\epsilon$, and TensorFlow and Graves (below) put it inside, $\sqrt{v_t + \epsilon}$.
The two are not the same optimizer for the same number: inside the root $\epsilon$ bounds the denominator
from below by $\sqrt{\epsilon}$ ($10^{-4}$ for $\epsilon = 10^{-8}$), outside by $\epsilon$ itself; an
$\epsilon$ of $\epsilon'^2$ inside has about the effect of $\epsilon'$ outside.

## Centered RMSprop

[Graves, Generating Sequences With Recurrent Neural Networks](https://arxiv.org/abs/1308.0850)
(equations 38 to 41) also keeps a moving average of the gradient itself and subtracts its square
(`centered=True`):

\begin{align}
\bar{g}_t &\leftarrow \alpha \bar{g}_{t-1} + (1 - \alpha) g_t \\
\theta_t &\leftarrow \theta_{t-1} - \eta \frac{g_t}{\sqrt{v_t - \bar{g}_t^2} + \epsilon}
\end{align}

$v_t$ estimates $\mathbb{E}[g^2]$ and $\bar{g}_t$ estimates $\mathbb{E}[g]$, so
$v_t - \bar{g}_t^2$ estimates $\mathbb{E}[g^2] - \mathbb{E}[g]^2 = \mathrm{Var}[g]$: the centered form
divides by an estimate of the *standard deviation* of the gradient instead of its root-mean-square.
A coordinate whose gradient is consistent (a mean that is large compared with its spread) gets a larger step
than plain RMSprop would give it; a coordinate whose gradient is mostly noise gets about the same.
Both averages use the same $\alpha$ and start at $0$, which keeps $v_t - \bar{g}_t^2 \ge 0$
(the Cauchy-Schwarz inequality, as the weights $(1-\alpha)\alpha^{t-k}$ add up to at most $1$).
In floating point it can still round to slightly below $0$ when the variance is zero, for example with
$\alpha = 0$, where $v_t = g_t^2$ and $\bar{g}_t = g_t$; the square root is then NaN, in torch as here
(it is not clamped, to stay equal to torch).
The flip side: a gradient that never changes has no variance, $v_t - \bar{g}_t^2 \to 0$, and the step
then grows until only $\epsilon$ bounds it. The tests check both readings.

## Momentum

With `momentum` $\mu > 0$ the *normalized* gradient is accumulated, and the buffer is the step:

\begin{align}
b_t &\leftarrow \mu b_{t-1} + \frac{g_t}{\sqrt{\tilde{v}_t} + \epsilon} \\
\theta_t &\leftarrow \theta_{t-1} - \eta b_t
\end{align}

where $\sqrt{\tilde{v}_t}$ is $\sqrt{v_t}$, or $\sqrt{v_t - \bar{g}_t^2}$ when centered. This is Graves's form
(with a constant $\eta$ his $\Delta_i$ is $-\eta b_t$). Each gradient is divided by the denominator of the step
it arrived in; fastai's `RMSProp(mom=...)` instead accumulates raw gradients and divides the sum by the
current denominator, which is a different optimizer (a test shows the two values).

## Weight decay and the rest

* `weight_decay` as a number is L2 regularization, $g_t \leftarrow g_t + \lambda \theta_{t-1}$, as in torch.
  A [`WeightDecay`](index.html) can ask for decoupled decay instead, $\theta_{t-1} \leftarrow \theta_{t-1}(1-\eta\lambda)$
  before the step (fastai's default `decouple_wd=True`).
* `maximize=True` ascends; `foreach` picks the multi-tensor path; `capturable` and `differentiable`
  are accepted only as `False`.
* Switching `centered` or `momentum` on in a group after the first step starts the new buffer at $0$
  (torch makes these buffers only at a parameter's first step).

The defaults are those of `torch.optim.RMSprop`: `lr=1e-2`, `alpha=0.99`, `eps=1e-8`, `weight_decay=0`,
`momentum=0`, `centered=False`. With these, and any values of the options above, the results equal torch's
(the tests check every combination). Differences: `alpha` must be in $[0, 1]$ (torch accepts any
$\alpha \ge 0$, but $1 - \alpha < 0$ would subtract squared gradients and could make $v_t$ negative);
the step count in the state is a Python `int`, not a tensor; `lr` must be a number, not a tensor.
"""

from typing import Any, Dict, Optional, Union

import torch

from labml_nn.optimizers import (GenericAdaptiveOptimizer, TensorList, WeightDecay, check_non_negative,
                                 torch_flag_defaults, weight_decay_defaults)


def _zeros_like(x):
    """Zeros shaped like a tensor, or like each tensor of a `TensorList`."""
    if isinstance(x, TensorList):
        return TensorList([torch.zeros_like(t, memory_format=torch.preserve_format) for t in x.tensors])
    return torch.zeros_like(x, memory_format=torch.preserve_format)


def _buffer(state: Dict[str, Any], key: str, like):
    """The buffer `state[key]`, made as zeros if an option that needs it was switched on after the first step."""
    if key not in state:
        state[key] = _zeros_like(like)
    return state[key]


class RMSprop(GenericAdaptiveOptimizer):
    r"""
    ## RMSprop

    * `params`: the parameters, or a list of parameter groups (dictionaries)
    * `lr`: learning rate $\eta$
    * `alpha`: smoothing constant $\alpha \in [0, 1]$ of the moving averages
    * `eps`: $\epsilon$, added to the square root
    * `weight_decay`: $\lambda$ of L2 regularization, or a [`WeightDecay`](index.html)
    * `momentum`: $\mu \ge 0$
    * `centered`: divide by $\sqrt{v_t - \bar{g}_t^2}$ instead of $\sqrt{v_t}$
    * `foreach`: `True` for the multi-tensor path, `False` for the per-tensor path,
      `None` to pick the multi-tensor path when all parameters of a group are on a GPU
    * `maximize`, `capturable`, `differentiable`: the `torch.optim` flags (the last two `False` only)
    """

    def __init__(self, params, *,
                 lr: float = 1e-2,
                 alpha: float = 0.99,
                 eps: float = 1e-8,
                 weight_decay: Union[float, WeightDecay] = 0,
                 momentum: float = 0,
                 centered: bool = False,
                 capturable: bool = False,
                 foreach: Optional[bool] = None,
                 maximize: bool = False,
                 differentiable: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum, centered=centered, foreach=foreach)
        # A number is L2 regularization, as in `torch.optim.RMSprop`
        defaults.update(weight_decay_defaults(weight_decay, weight_decouple=False))
        defaults.update(torch_flag_defaults(maximize=maximize, differentiable=differentiable, capturable=capturable))
        super().__init__(params, defaults=defaults)

    def check_group(self, group: Dict[str, Any]):
        """Also check `alpha`, `momentum` and `centered`."""
        super().check_group(group)
        alpha = group['alpha']
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0. <= alpha <= 1.:
            raise ValueError(f"Invalid alpha: {alpha!r} (expected 0 <= alpha <= 1)")
        check_non_negative('momentum', group['momentum'])
        if group['centered'] not in (True, False):
            raise ValueError(f"Invalid centered: {group['centered']!r} (expected True or False)")

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        r"""$v_0 = 0$, and $\bar{g}_0 = 0$ and $b_0 = 0$ when the group uses them."""
        state['step'] = 0
        state['square_avg'] = _zeros_like(param)
        if group['momentum'] > 0:
            state['momentum_buffer'] = _zeros_like(param)
        if group['centered']:
            state['grad_avg'] = _zeros_like(param)

    def step_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, param):
        """One RMSprop step for one parameter (or one batch of them)."""
        alpha, eps, lr, momentum = group['alpha'], group['eps'], group['lr'], group['momentum']
        # Weight decay: L2 changes $g_t$, decoupled decay shrinks $\theta_{t-1}$
        grad = WeightDecay.apply(param, grad, group)
        state['step'] += 1

        v = state['square_avg']
        # $v_t \leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2$
        v.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)

        if group['centered']:
            g_avg = _buffer(state, 'grad_avg', param)
            # $\bar{g}_t \leftarrow \alpha \bar{g}_{t-1} + (1 - \alpha) g_t$, written as
            # $\bar{g}_{t-1} + (1 - \alpha)(g_t - \bar{g}_{t-1})$
            g_avg.lerp_(grad, 1 - alpha)
            # $\sqrt{v_t - \bar{g}_t^2} + \epsilon$
            denominator = v.addcmul(g_avg, g_avg, value=-1).sqrt_().add_(eps)
        else:
            # $\sqrt{v_t} + \epsilon$
            denominator = v.sqrt().add_(eps)

        if momentum > 0:
            b = _buffer(state, 'momentum_buffer', param)
            # $b_t \leftarrow \mu b_{t-1} + \frac{g_t}{\sqrt{\tilde{v}_t} + \epsilon}$
            b.mul_(momentum).addcdiv_(grad, denominator)
            # $\theta_t \leftarrow \theta_{t-1} - \eta b_t$
            param.add_(b, alpha=-lr)
        else:
            # $\theta_t \leftarrow \theta_{t-1} - \eta \frac{g_t}{\sqrt{\tilde{v}_t} + \epsilon}$
            param.addcdiv_(grad, denominator, value=-lr)
