r"""
---
title: Stochastic gradient descent with momentum
summary: >
 SGD, annotated: momentum as torch writes it and as Sutskever et al. write it, why the two agree only while the
 learning rate is constant, Nesterov momentum, dampening and weight decay.
---

# Stochastic gradient descent (SGD)

Plain SGD moves each parameter against its gradient $g_t = \nabla f(\theta_{t-1})$ with learning rate $\eta$:

$$\theta_t \leftarrow \theta_{t-1} - \eta g_t$$

On an ill-conditioned problem (a valley that is steep across and shallow along), a learning rate small enough
for the steep direction makes progress along the shallow one very slow.
*Momentum* ([Polyak, 1964](https://doi.org/10.1016/0041-5553(64)90137-5)) keeps a running sum of past
gradients, so that steps along the valley add up while the back-and-forth across it cancels.
This class computes what `torch.optim.SGD` computes. With momentum $\mu$ and dampening $\tau$ the buffer $b_t$
and the update are

\begin{align}
b_1 &= g_1 \\
b_t &\leftarrow \mu b_{t-1} + (1 - \tau) g_t \qquad (t > 1) \\
\theta_t &\leftarrow \theta_{t-1} - \eta_t b_t
\end{align}

The first buffer is the gradient itself, without the factor $1-\tau$ (this is what torch does, and so do we).
With $\tau = 0$ (the default) $b_t = \sum_{s \le t} \mu^{t-s} g_s$; with $\tau > 0$ every gradient but the first
is scaled by $1-\tau$ (with $\tau = \mu$, $b_t$ is an exponential moving average, apart from its first term).

## Torch's momentum against Sutskever et al.'s

[Sutskever, Martens, Dahl & Hinton, On the importance of initialization and momentum in deep learning (2013)](https://proceedings.mlr.press/v28/sutskever13.html)
write momentum with a *velocity* that already contains the learning rate:

\begin{align}
v_t &\leftarrow \mu v_{t-1} - \eta_t g_t, \qquad v_0 = 0 \\
\theta_t &\leftarrow \theta_{t-1} + v_t
\end{align}

With a constant $\eta$ (and $\tau = 0$) the two velocities differ only by the factor $-\eta$: set
$v_t = -\eta b_t$, then $-\eta b_t = \mu (-\eta b_{t-1}) - \eta g_t$ is Sutskever's recursion and
$\theta_t = \theta_{t-1} - \eta b_t = \theta_{t-1} + v_t$, so both give the same parameters at every step.
(With dampening, torch's buffer is that of a rate rescaled by $1 - \tau$, except for its first gradient:
$b_t = \mu^{t-1} g_1 + (1-\tau) \sum_{2 \le s \le t} \mu^{t-s} g_s$.)
The identity $v_t = -\eta b_t$ needs $\eta$ to be the same at every step. Unrolled, the two steps are

\begin{align}
\text{Sutskever:}\quad \theta_t - \theta_{t-1} &= v_t = -\sum_{s \le t} \mu^{t-s} \eta_s g_s \\
\text{torch:}\quad \theta_t - \theta_{t-1} &= -\eta_t b_t = -\eta_t \sum_{s \le t} \mu^{t-s} g_s
\end{align}

In Sutskever's form each gradient keeps the rate of the step it arrived at: after the learning rate is cut,
the old velocity, built with the old rate, still carries the parameters for about $1/(1-\mu)$ steps. In torch's
form the whole buffer is multiplied by the *current* rate, so a cut takes effect at once. Under a learning-rate
schedule the two are different algorithms; the tests compute both and pin that they agree with a constant rate
and not under a step schedule.

## Nesterov momentum

Sutskever et al.'s Nesterov momentum takes the gradient at the point the velocity is about to carry the
parameters to, $g_t = \nabla f(\theta_{t-1} + \mu v_{t-1})$, then $v_t \leftarrow \mu v_{t-1} - \eta g_t$ and
$\theta_t \leftarrow \theta_{t-1} + v_t$. Torch (like
[Bengio, Boulanger-Lewandowski & Pascanu, 2012](https://arxiv.org/abs/1212.0901)) keeps the look-ahead point
$\phi_t = \theta_t + \mu v_t$ as the parameters instead, so that the gradient is taken at the parameters
themselves. From the two updates, $\phi_t = \phi_{t-1} + \mu v_t - \eta g_t$, and with $v_t = -\eta b_t$:

$$\phi_t \leftarrow \phi_{t-1} - \eta (g_t + \mu b_t), \qquad g_t = \nabla f(\phi_{t-1})$$

which is torch's `nesterov=True`: the step is the fresh gradient plus the buffer once more, scaled by $\mu$.
It needs $\mu > 0$ and $\tau = 0$ (torch refuses other values, and so do we).

## Weight decay

A number, as in torch, is L2 regularization, $g_t \leftarrow g_t + \lambda \theta_{t-1}$, added before the
momentum buffer. A [`WeightDecay`](index.html) may be given instead; `WeightDecay(wd)` is decoupled decay,
$\theta_{t-1} \leftarrow \theta_{t-1}(1 - \eta \lambda)$, which is fastai's default for SGD (`decouple_wd=True`).

![Paths of plain SGD, momentum and Nesterov momentum on an ill-conditioned quadratic](sgd_paths.svg)

The paths are computed with this class and drawn by [`sgd_plot.py`](sgd_plot.html)
(`python -m labml_nn.optimizers.sgd_plot`).

The defaults and checks are those of `torch.optim.SGD` (torch 2.13): `lr=1e-3`, `momentum=0`, `dampening=0`,
`weight_decay=0`, `nesterov=False`; `lr`, `momentum` and `weight_decay` must be $\ge 0$, and like torch we do not
restrict the range of `dampening`. The momentum buffer is kept as `state['momentum_buffer']`, as in torch,
and no state is kept when $\mu = 0$. A 1-element tensor `lr` is read as a number. Unlike torch, sparse
gradients are refused.
"""

import math
from typing import Any, Dict, Optional, Union

import torch

from labml_nn.optimizers import GenericAdaptiveOptimizer, WeightDecay, torch_flag_defaults, weight_decay_defaults


def _check_real(name: str, value):
    """Raise a `ValueError` unless `value` is a real number (any sign)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"Invalid {name}: {value!r} (expected a number)")


class SGD(GenericAdaptiveOptimizer):
    r"""
    ## SGD

    * `params`: the parameters, or a list of parameter groups (dictionaries)
    * `lr`: learning rate $\eta$
    * `momentum`: $\mu$; `0` is plain SGD
    * `dampening`: $\tau$, the gradient enters the buffer with weight $1-\tau$ (from the second step on)
    * `weight_decay`: a number for L2 regularization (torch's meaning), or a [`WeightDecay`](index.html)
    * `nesterov`: Nesterov momentum (needs `momentum > 0` and `dampening = 0`)
    * `maximize`, `foreach`, `differentiable`, `fused`: torch's flags (see [the template](index.html))
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 momentum: float = 0.,
                 dampening: float = 0.,
                 weight_decay: Union[float, WeightDecay] = 0.,
                 nesterov: bool = False,
                 maximize: bool = False,
                 foreach: Optional[bool] = None,
                 differentiable: bool = False,
                 fused: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                            foreach=foreach)
        all_defaults.update(weight_decay_defaults(weight_decay, weight_decouple=False))
        all_defaults.update(torch_flag_defaults(maximize=maximize, differentiable=differentiable, fused=fused))
        all_defaults.update(defaults or {})
        super().__init__(params, defaults=all_defaults)

    def check_group(self, group: Dict[str, Any]):
        """Torch's checks, raised for every group: `momentum >= 0`, and what Nesterov needs."""
        super().check_group(group)
        momentum, dampening = group['momentum'], group['dampening']
        _check_real('momentum', momentum)
        if momentum < 0:
            raise ValueError(f"Invalid momentum: {momentum!r} (expected a number >= 0)")
        _check_real('dampening', dampening)
        if group['nesterov'] not in (True, False):
            raise ValueError(f"Invalid nesterov: {group['nesterov']!r} (expected True or False)")
        if group['nesterov'] and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Invalid nesterov=True with momentum={momentum!r} and dampening={dampening!r}: "
                             f"Nesterov momentum needs momentum > 0 and dampening = 0")

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        """Nothing: the momentum buffer is made from the first gradient, in `step_param`."""

    def step_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, param):
        """One SGD step for one parameter (or one batch of them)."""
        momentum = group['momentum']
        # Weight decay: L2 gives $g_t \leftarrow g_t + \lambda \theta_{t-1}$, decoupled decay shrinks $\theta_{t-1}$
        grad = WeightDecay.apply(param, grad, group)
        if momentum != 0:
            buf = state.get('momentum_buffer')
            if buf is None:
                # $b_1 = g_1$; a copy, since `grad` is not ours to change
                buf = grad.clone()
                state['momentum_buffer'] = buf
            else:
                # $b_t \leftarrow \mu b_{t-1} + (1 - \tau) g_t$
                buf.mul_(momentum).add_(grad, alpha=1 - group['dampening'])
            if group['nesterov']:
                # $g_t + \mu b_t$
                grad = grad.add(buf, alpha=momentum)
            else:
                grad = buf
        # $\theta_t \leftarrow \theta_{t-1} - \eta \, b_t$ (or $- \eta \, g_t$ without momentum)
        param.add_(grad, alpha=-group['lr'])
