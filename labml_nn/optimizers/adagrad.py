r"""
---
title: Adagrad
summary: >
 Adagrad, annotated: a per-coordinate step size from the sum of all past squared gradients,
 and torch's lr_decay and initial_accumulator_value.
---

# Adagrad

Adagrad ([Duchi, Hazan & Singer, Adaptive Subgradient Methods for Online Learning and Stochastic Optimization,
JMLR 2011](https://jmlr.org/papers/v12/duchi11a.html)) gives every coordinate its own step size. It adds up the
squares of all the gradients a coordinate has seen and divides the step by the square root of that sum:

\begin{align}
s_0 &= s_{init} \\
s_t &\leftarrow s_{t-1} + g_t^2 \\
\eta_t &= \frac{\eta}{1 + (t - 1)\,\delta} \\
\theta_t &\leftarrow \theta_{t-1} - \eta_t \frac{g_t}{\sqrt{s_t} + \epsilon}
\end{align}

Coordinates that get large or frequent gradients take small steps, and rarely active ones (the features of
rare words, say) take large steps when they do get a gradient. This is the diagonal form of the paper's
algorithm. Since $s_t$ only grows, the step sizes only shrink, roughly like $1/\sqrt{t}$ for gradients of a
steady size; that is what the paper's regret bound needs, and also why Adagrad can stall in long non-convex
training (RMSprop and Adam replace the sum with a moving average).

The other settings are those of `torch.optim.Adagrad` (torch 2.13), which this class computes:

* `lr_decay` $\delta$ divides the rate further, $\eta_t = \eta / (1 + (t-1)\,\delta)$: the first step uses $\eta$,
  and the rate falls like $1/t$ once $(t-1)\,\delta \gg 1$, on top of Adagrad's own shrinking.
  It is computed from this group's `lr`, so a learning-rate scheduler multiplies it.
* `initial_accumulator_value` $s_{init}$ starts the sum above zero, so that the first steps, where
  $\sqrt{s_t} = |g_1|$ would give a step of about $\eta$ in every coordinate whatever the size of its gradient,
  are damped.
* `eps` $\epsilon$ (default $10^{-10}$) is added to $\sqrt{s_t}$ and keeps the division finite.
* `weight_decay`: a number is L2 regularization, $g_t \leftarrow g_t + \lambda \theta_{t-1}$, as in torch;
  a [`WeightDecay`](index.html) may be given for decoupled decay.

Defaults and checks are torch's: `lr=1e-2`, `lr_decay=0`, `weight_decay=0`, `initial_accumulator_value=0`,
`eps=1e-10`, all $\ge 0$. The state is `step` (a Python number here, a tensor in torch) and `sum`, as in torch;
torch creates it in the constructor, we on the first step. Differences from torch:

* torch starts every sum at the constructor's `initial_accumulator_value` and ignores a value set in a
  parameter group; here, as for every other setting, each group's own value is used (a test pins both).
* Sparse gradients are refused.
* All the arguments are keyword-only (torch also takes `foreach` by position).
"""

from typing import Any, Dict, Optional, Union

import torch

from labml_nn.optimizers import (GenericAdaptiveOptimizer, WeightDecay, check_non_negative, torch_flag_defaults,
                                 weight_decay_defaults)


class Adagrad(GenericAdaptiveOptimizer):
    r"""
    ## Adagrad

    * `params`: the parameters, or a list of parameter groups (dictionaries)
    * `lr`: learning rate $\eta$
    * `lr_decay`: $\delta$ in $\eta_t = \eta / (1 + (t-1)\,\delta)$
    * `weight_decay`: a number for L2 regularization (torch's meaning), or a [`WeightDecay`](index.html)
    * `initial_accumulator_value`: $s_{init}$
    * `eps`: $\epsilon$
    * `foreach`, `maximize`, `differentiable`, `fused`: torch's flags (see [the template](index.html))
    """

    def __init__(self, params, *,
                 lr: float = 1e-2,
                 lr_decay: float = 0.,
                 weight_decay: Union[float, WeightDecay] = 0.,
                 initial_accumulator_value: float = 0.,
                 eps: float = 1e-10,
                 foreach: Optional[bool] = None,
                 maximize: bool = False,
                 differentiable: bool = False,
                 fused: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, initial_accumulator_value=initial_accumulator_value,
                            foreach=foreach)
        all_defaults.update(weight_decay_defaults(weight_decay, weight_decouple=False))
        all_defaults.update(torch_flag_defaults(maximize=maximize, differentiable=differentiable, fused=fused))
        all_defaults.update(defaults or {})
        super().__init__(params, defaults=all_defaults)

    def check_group(self, group: Dict[str, Any]):
        """`lr`, `eps` and `weight_decay` are checked by the template; these two are Adagrad's."""
        super().check_group(group)
        check_non_negative('lr_decay', group['lr_decay'])
        check_non_negative('initial_accumulator_value', group['initial_accumulator_value'])

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        r"""Step count $t = 0$, and $s_0 = s_{init}$ in every coordinate."""
        state['step'] = 0
        state['sum'] = torch.full_like(param, group['initial_accumulator_value'], memory_format=torch.preserve_format)

    def step_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, param):
        """One Adagrad step for one parameter (or one batch of them)."""
        # Weight decay: L2 gives $g_t \leftarrow g_t + \lambda \theta_{t-1}$, decoupled decay shrinks $\theta_{t-1}$
        grad = WeightDecay.apply(param, grad, group)
        # $t \leftarrow t + 1$
        state['step'] += 1
        t = state['step']
        s = state['sum']
        # $s_t \leftarrow s_{t-1} + g_t^2$
        s.addcmul_(grad, grad, value=1)
        # $\eta_t = \frac{\eta}{1 + (t - 1)\,\delta}$
        lr = group['lr'] / (1 + (t - 1) * group['lr_decay'])
        # $\sqrt{s_t} + \epsilon$
        denominator = s.sqrt().add_(group['eps'])
        # $\theta_t \leftarrow \theta_{t-1} - \eta_t \frac{g_t}{\sqrt{s_t} + \epsilon}$
        param.addcdiv_(grad, denominator, value=-lr)
