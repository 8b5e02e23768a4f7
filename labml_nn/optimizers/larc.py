r"""
---
title: LARS and LARC (layer-wise adaptive rate scaling)
summary: >
 LARS and LARC, annotated: each layer's step is scaled by the ratio of its weight norm to its gradient norm,
 as an SGD optimizer (LARS) and as a wrapper around any optimizer (LARC).
---

# LARS and LARC

With very large batches the learning rate has to be large too, and then training diverges early on:
[You, Gitman & Ginsburg, Large Batch Training of Convolutional Networks](https://arxiv.org/abs/1708.03888)
observed that the ratio $\|g\| / \|\theta\|$ varies by orders of magnitude between layers, so one global rate is
too large for some layers and too small for others. LARS (layer-wise adaptive rate scaling) gives each
parameter tensor $\theta$ (one "layer") its own *local rate*

$$\eta_\ell = c \, \frac{\|\theta\|}{\|g\| + \lambda \|\theta\| + \epsilon}$$

where $c$ is the trust coefficient (how far, relative to $\|\theta\|$, one step may go), $\lambda$ the
weight decay and $\epsilon$ a guard against division by zero. The update of a parameter is then SGD on its
gradient with weight decay, with the global rate $\eta$ multiplied by $\eta_\ell$:
the step's length is about $\eta c \|\theta\|$ whatever the scale of the gradient.

**Clipping (LARC).** NVIDIA's [apex `LARC`](https://github.com/NVIDIA/apex/blob/master/apex/parallel/LARC.py)
adds `clip=True`: the local rate is used as a *learning rate* that may only lower the global one,
so the effective rate is $\min(\eta_\ell, \eta)$. As a factor on the gradient (the inner optimizer multiplies
by $\eta$), both cases are

\begin{align}
s &= \begin{cases} \min\left(\frac{\eta_\ell}{\eta}, 1\right) & \text{clip} \\ \eta_\ell & \text{no clip} \end{cases} \\
d_t &= s \, (g_t + \lambda \theta_{t-1})
\end{align}

and $\eta s$ is the rate at which the parameter actually moves; it is kept as `state[p]['local_lr']`
(`wrapper_state[p]['local_lr']` for the wrapper), to be logged.
When $\|\theta\| = 0$ (a freshly zeroed bias) or $\|g\| = 0$ the ratio says nothing, and $s = 1$,
as in apex.

## Two forms

* [`LARC(optimizer, trust_coefficient=0.02, clip=True, eps=1e-8)`](#larc-the-local-rate-around-any-optimizer) wraps *any* optimizer
  (see [wrappers](wrapper.html)), like apex's: before the inner step it replaces each gradient by $d_t$, and
  takes over the group's `weight_decay` $\lambda$ (the inner step runs with `weight_decay=0`).
  The defaults are apex's. The caller's gradients are put back after the step.
* [`LARS(params, lr=..., momentum=..., weight_decay=..., trust_coefficient=0.001, clip=False)`](#lars-sgd-with-momentum-and-the-local-rate) is the
  paper's algorithm as one optimizer, with the keywords and defaults of `torch.optim.SGD`
  (`weight_decay` is L2, as in the paper) plus $c = 0.001$ (the default of `pytorch_optimizer.LARS` and of
  TensorFlow's `LARSOptimizer`) and, as in the paper, no clipping.
  `LARS(params, **sgd, ...)` is `LARC(torch.optim.SGD(params, **sgd), ...)`, and the tests check it.

LARS is SGD with momentum $\mu$ (`momentum`), dampening $\tau$ (`dampening`) and optionally Nesterov's
look-ahead (`nesterov`), applied to $d_t$:

\begin{align}
b_t &\leftarrow \mu b_{t-1} + (1 - \tau) d_t \qquad (b_1 = d_1) \\
\theta_t &\leftarrow \theta_{t-1} - \eta \, b_t \qquad (\text{Nesterov: } \theta_{t-1} - \eta (d_t + \mu b_t))
\end{align}

Here, as in `torch.optim.SGD`, the momentum accumulates $d_t$ and the rate multiplies $b_t$; the paper
accumulates $\eta_t d_t$. The two agree for a constant rate and differ only while a schedule changes $\eta$.

## Other implementations

* fastai's `Larc` compares $\eta \eta_\ell$, not $\eta_\ell$, with $\eta$ when clipping, so with clipping its
  trust coefficient $c$ is our $\eta c$ (without clipping they are the same); its momentum averages the
  raw gradients and multiplies by the current local rate. The tests map its values onto ours.
* `pytorch_optimizer.LARS` leaves 1-dimensional parameters (biases, normalization) unscaled and undecayed,
  has no $\epsilon$ and no clipping, and starts its momentum at $b_0 = 0$ (so dampening applies to the
  first step too). On tensors of two or more dimensions, with $\epsilon = 0$, no dampening and no clipping,
  it equals `LARS`.
"""

from typing import Any, Callable, Dict, Optional

import torch
from torch.optim import Optimizer

from labml_nn.optimizers import (GenericAdaptiveOptimizer, TensorList, WeightDecay, check_non_negative,
                                 torch_flag_defaults, weight_decay_defaults)
from labml_nn.optimizers.wrapper import OptimizerWrapper

__all__ = ['LARC', 'LARS', 'lars_scale']


def lars_scale(param_norm: torch.Tensor, grad_norm: torch.Tensor, *, lr: float, trust_coefficient: float,
               weight_decay: float, eps: float, clip: bool) -> torch.Tensor:
    r"""The factor $s$ on the gradient of one tensor, from its 0-d norms $\|\theta\|$ and $\|g\|$."""
    # $\eta_\ell = c \frac{\|\theta\|}{\|g\| + \lambda \|\theta\| + \epsilon}$
    local = trust_coefficient * param_norm / (grad_norm + weight_decay * param_norm + eps)
    if clip:
        # $s = \min(\eta_\ell / \eta, 1)$; with $\eta = 0$ nothing moves anyway
        local = (local / lr).clamp_max(1.) if lr > 0 else torch.ones_like(local)
    # $s = 1$ when either norm is $0$ (no division is trusted)
    return torch.where((param_norm > 0) & (grad_norm > 0), local, torch.ones_like(local))


def _per_tensor(fn: Callable, *args):
    """`fn` on 0-d tensors, or on each element of `TensorList`s of them (per-tensor scalars on the foreach path)."""
    if isinstance(args[0], TensorList):
        return TensorList([fn(*xs) for xs in zip(*(a.tensors for a in args))])
    return fn(*args)


def _check_lars_settings(trust_coefficient: Any, clip: Any, eps: Any):
    check_non_negative('trust_coefficient', trust_coefficient)
    check_non_negative('eps', eps)
    if clip not in (True, False):
        raise ValueError(f"Invalid clip: {clip!r} (expected True or False)")


class LARC(OptimizerWrapper):
    r"""
    ## LARC: the local rate around any optimizer

    * `optimizer`: the inner optimizer; its groups' `lr` is $\eta$ and `weight_decay` (if any) is $\lambda$
    * `trust_coefficient`: $c$
    * `clip`: use $\min(\eta_\ell/\eta, 1)$ (LARC) instead of $\eta_\ell$ (LARS)
    * `eps`: $\epsilon$

    The settings are kept in the groups as `larc_trust_coefficient`, `larc_clip` and `larc_eps`.
    The inner optimizer must take one gradient per step (not L-BFGS): the closure, if any, is called here,
    before the gradients are scaled.
    """

    def __init__(self, optimizer: Optimizer, *, trust_coefficient: float = 0.02, clip: bool = True,
                 eps: float = 1e-8):
        super().__init__(optimizer, defaults=dict(larc_trust_coefficient=trust_coefficient, larc_clip=clip,
                                                  larc_eps=eps))

    def check_group(self, group: Dict[str, Any]):
        _check_lars_settings(group['larc_trust_coefficient'], group['larc_clip'], group['larc_eps'])
        # $\lambda$ is L2 regularization, folded into $d_t$; decoupled decay (AdamW) has no place in it
        if float(group.get('weight_decay', 0.)) != 0.:
            for key in ('weight_decouple', 'decoupled_weight_decay'):
                if group.get(key):
                    raise ValueError(f"LARC takes over the group's weight_decay as L2 regularization; "
                                     f"{key}={group[key]!r} is not supported (set weight_decay=0 or use L2)")

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], float]] = None):
        """Replace each gradient by $d_t$, take the inner step without weight decay, put everything back."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        given_grads = []
        given_decays = []
        for group in self.param_groups:
            decay = float(group.get('weight_decay', 0.))
            # With `maximize=True` the inner optimizer negates $d_t$, so $\lambda \theta$ goes in with a minus
            # sign to come out as the decay of $-g_t$
            sign = -1. if group.get('maximize', False) else 1.
            for p in group['params']:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("LARC does not support sparse gradients")
                grad = p.grad
                scale = lars_scale(torch.linalg.vector_norm(p), torch.linalg.vector_norm(grad),
                                   lr=float(group['lr']), trust_coefficient=group['larc_trust_coefficient'],
                                   weight_decay=decay, eps=group['larc_eps'], clip=group['larc_clip'])
                # $\eta s$, the rate this parameter moves at
                self.wrapper_state[p]['local_lr'] = scale * float(group['lr'])
                given_grads.append((p, grad))
                # $d_t = s (g_t + \lambda \theta_{t-1})$, a new tensor
                p.grad = (grad.add(p, alpha=sign * decay) if decay != 0. else grad).mul(scale)
            if decay != 0.:
                given_decays.append((group, group['weight_decay']))
                group['weight_decay'] = 0.
        try:
            self.optimizer.step()
        finally:
            for group, decay in given_decays:
                group['weight_decay'] = decay
            for p, grad in given_grads:
                p.grad = grad
        return loss


class LARS(GenericAdaptiveOptimizer):
    r"""
    ## LARS: SGD with momentum and the local rate

    The keywords and defaults of `torch.optim.SGD`, plus `trust_coefficient` $c$, `clip` and `eps` $\epsilon$.
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 momentum: float = 0.,
                 dampening: float = 0.,
                 weight_decay: float = 0.,
                 nesterov: bool = False,
                 trust_coefficient: float = 0.001,
                 clip: bool = False,
                 eps: float = 1e-8,
                 maximize: bool = False,
                 foreach: Optional[bool] = None,
                 differentiable: bool = False,
                 fused: Optional[bool] = None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                        trust_coefficient=trust_coefficient, clip=clip, eps=eps, foreach=foreach)
        # A number is L2 regularization, as for `torch.optim.SGD`
        defaults.update(weight_decay_defaults(weight_decay, weight_decouple=False))
        defaults.update(torch_flag_defaults(maximize=maximize, differentiable=differentiable, fused=fused))
        super().__init__(params, defaults=defaults)

    def check_group(self, group: Dict[str, Any]):
        super().check_group(group)
        check_non_negative('momentum', group['momentum'])
        check_non_negative('dampening', group['dampening'])
        _check_lars_settings(group['trust_coefficient'], group['clip'], group['eps'])
        if group['nesterov'] and (group['momentum'] <= 0 or group['dampening'] != 0):
            raise ValueError(f"Invalid nesterov: True needs momentum > 0 and dampening = 0 "
                             f"(got momentum={group['momentum']!r}, dampening={group['dampening']!r})")
        if group['weight_decay'] != 0 and group['weight_decouple']:
            raise ValueError("Invalid weight_decouple: True (LARS's weight decay is L2 regularization, "
                             "it enters the local rate)")

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        """Nothing before the first step: the momentum buffer starts as $b_1 = d_1$."""

    def step_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, param):
        """One LARS step for one parameter (or one batch of them)."""
        lr, momentum = group['lr'], group['momentum']
        # $s$ from $\|\theta_{t-1}\|$ and $\|g_t\|$, one per tensor
        scale = _per_tensor(lambda p_norm, g_norm: lars_scale(p_norm, g_norm, lr=lr,
                                                              trust_coefficient=group['trust_coefficient'],
                                                              weight_decay=group['weight_decay'],
                                                              eps=group['eps'], clip=group['clip']),
                            param.norm(), grad.norm())
        # $\eta s$, the rate this parameter moves at
        state['local_lr'] = scale.mul(lr)
        # $d_t = s (g_t + \lambda \theta_{t-1})$
        d = WeightDecay.apply(param, grad, group).mul(scale)
        if momentum != 0:
            if 'momentum_buffer' not in state:
                # $b_1 = d_1$
                state['momentum_buffer'] = buf = d.clone()
            else:
                buf = state['momentum_buffer']
                # $b_t \leftarrow \mu b_{t-1} + (1 - \tau) d_t$
                buf.mul_(momentum).add_(d, alpha=1 - group['dampening'])
            # Nesterov looks one momentum step ahead: $d_t + \mu b_t$
            d = d.add(buf, alpha=momentum) if group['nesterov'] else buf
        # $\theta_t \leftarrow \theta_{t-1} - \eta \, b_t$
        param.add_(d, alpha=-lr)
