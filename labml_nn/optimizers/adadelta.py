r"""
---
title: Adadelta optimizer
summary: >
 Adadelta, annotated: a step whose size comes from the ratio of two running root-mean-squares,
 of past updates and of gradients, so that it needs no learning rate.
---

# Adadelta

[Zeiler, ADADELTA: An Adaptive Learning Rate Method](https://arxiv.org/abs/1212.5701) starts from two
complaints about Adagrad, which divides by the square root of the *sum* of all past squared gradients:
the effective learning rate only ever shrinks, and a global learning rate still has to be chosen.
Adadelta replaces the sum with a moving average over a window of about $1/(1-\rho)$ steps, and replaces
the learning rate with a second moving average, of the squared updates. With
$\mathrm{RMS}[y]_t = \sqrt{E[y^2]_t + \epsilon}$, Algorithm 1 of the paper is

\begin{align}
E[g^2]_t &\leftarrow \rho E[g^2]_{t-1} + (1 - \rho) g_t^2 \\
\Delta\theta_t &\leftarrow -\frac{\mathrm{RMS}[\Delta\theta]_{t-1}}{\mathrm{RMS}[g]_t} g_t \\
E[\Delta\theta^2]_t &\leftarrow \rho E[\Delta\theta^2]_{t-1} + (1 - \rho) \Delta\theta_t^2 \\
\theta_t &\leftarrow \theta_{t-1} + \Delta\theta_t
\end{align}

with $E[g^2]_0 = E[\Delta\theta^2]_0 = 0$.

**Why the ratio.** If $\theta$ has some unit and the loss has none, the gradient has the unit of $1/\theta$:
SGD's step $\eta g_t$ has the unit of $\eta / \theta$, and the steps of Adagrad and RMSprop, which divide $g_t$
by its own root-mean-square, the unit of $\eta$; neither is the unit of $\theta$ unless $\eta$ carries it. A Newton step
$g_t / \frac{\partial^2 f}{\partial \theta^2}$ has the right unit, and
$\frac{1}{\partial^2 f / \partial \theta^2} = \frac{\Delta\theta}{\partial f / \partial \theta}$. Adadelta
estimates that ratio with $\mathrm{RMS}[\Delta\theta]_{t-1} / \mathrm{RMS}[g]_t$, so its step has the unit of
$\theta$ and there is no learning rate to choose. The numerator lags one step because $\Delta\theta_t$ is not
known yet.

**What $\epsilon$ does.** It is inside both roots. In the denominator it guards against division by zero; in
the numerator it is what gets Adadelta started: $E[\Delta\theta^2]_0 = 0$, so the first step is
$\sqrt{\epsilon} / \sqrt{(1-\rho) g_1^2 + \epsilon}\; g_1$, about $\sqrt{\epsilon / (1-\rho)}$ per
coordinate ($0.003$ for torch's $\epsilon = 10^{-6}$, $\rho = 0.9$). Steps then grow as
$E[\Delta\theta^2]$ fills up, so $\epsilon$ sets the initial step size.

## The `lr` of `torch.optim.Adadelta`

The paper has no learning rate. `torch.optim.Adadelta` (and this class) scales the step by `lr` when it is
applied, but accumulates the paper's $\Delta\theta_t$:

$$\theta_t \leftarrow \theta_{t-1} + \eta \Delta\theta_t$$

so `lr=1.0` (the default) is exactly the paper's rule, and any other `lr` multiplies every step by the same
factor while the state, $E[g^2]$ and $E[\Delta\theta^2]$, stays what the paper would compute from the same
gradients ($E[\Delta\theta^2]$ tracks the unscaled $\Delta\theta_t$, not the step that was taken).
For a fixed sequence of gradients the whole trajectory
therefore moves $\eta$ times as far as the paper's. The tests check the first statement against an
independent transcription of Algorithm 1 and the second by comparing runs with different `lr`.
A scheduler that changes `lr` scales the steps from then on.

## Options

* `weight_decay` as a number is L2 regularization, $g_t \leftarrow g_t + \lambda \theta_{t-1}$, as in torch;
  a [`WeightDecay`](index.html) can ask for decoupled decay, $\theta_{t-1} \leftarrow \theta_{t-1}(1-\eta\lambda)$.
* `maximize=True` ascends; `foreach` picks the multi-tensor path; `capturable` and `differentiable`
  are accepted only as `False`.

The defaults are those of `torch.optim.Adadelta`: `lr=1.0`, `rho=0.9`, `eps=1e-6`, `weight_decay=0`.
With them, and any values of the options above, the results equal torch's. Differences: the step count
in the state is a Python `int`, not a tensor, and `lr` must be a number, not a tensor.
"""

from typing import Any, Dict, Optional, Union

import torch

from labml_nn.optimizers import GenericAdaptiveOptimizer, WeightDecay, torch_flag_defaults, weight_decay_defaults


class Adadelta(GenericAdaptiveOptimizer):
    r"""
    ## Adadelta

    * `params`: the parameters, or a list of parameter groups (dictionaries)
    * `lr`: the factor $\eta$ that scales the paper's step ($1$ is the paper)
    * `rho`: decay rate $\rho \in [0, 1]$ of both moving averages
    * `eps`: $\epsilon$, inside both root-mean-squares
    * `weight_decay`: $\lambda$ of L2 regularization, or a [`WeightDecay`](index.html)
    * `foreach`: `True` for the multi-tensor path, `False` for the per-tensor path,
      `None` to pick the multi-tensor path when all parameters of a group are on a GPU
    * `maximize`, `capturable`, `differentiable`: the `torch.optim` flags (the last two `False` only)
    """

    def __init__(self, params, *,
                 lr: float = 1.0,
                 rho: float = 0.9,
                 eps: float = 1e-6,
                 weight_decay: Union[float, WeightDecay] = 0,
                 foreach: Optional[bool] = None,
                 capturable: bool = False,
                 maximize: bool = False,
                 differentiable: bool = False):
        defaults = dict(lr=lr, rho=rho, eps=eps, foreach=foreach)
        # A number is L2 regularization, as in `torch.optim.Adadelta`
        defaults.update(weight_decay_defaults(weight_decay, weight_decouple=False))
        defaults.update(torch_flag_defaults(maximize=maximize, differentiable=differentiable, capturable=capturable))
        super().__init__(params, defaults=defaults)

    def check_group(self, group: Dict[str, Any]):
        """Also check `rho`."""
        super().check_group(group)
        rho = group['rho']
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0. <= rho <= 1.:
            raise ValueError(f"Invalid rho: {rho!r} (expected 0 <= rho <= 1)")

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        r"""$E[g^2]_0 = 0$ and $E[\Delta\theta^2]_0 = 0$."""
        state['step'] = 0
        state['square_avg'] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state['acc_delta'] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def step_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, param):
        """One Adadelta step for one parameter (or one batch of them)."""
        rho, eps, lr = group['rho'], group['eps'], group['lr']
        # Weight decay: L2 changes $g_t$, decoupled decay shrinks $\theta_{t-1}$
        grad = WeightDecay.apply(param, grad, group)
        state['step'] += 1

        square_avg, acc_delta = state['square_avg'], state['acc_delta']
        # $E[g^2]_t \leftarrow \rho E[g^2]_{t-1} + (1 - \rho) g_t^2$
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        # $\mathrm{RMS}[g]_t = \sqrt{E[g^2]_t + \epsilon}$
        rms_grad = square_avg.add(eps).sqrt_()
        # $\mathrm{RMS}[\Delta\theta]_{t-1} = \sqrt{E[\Delta\theta^2]_{t-1} + \epsilon}$
        delta = acc_delta.add(eps).sqrt_()
        # $-\Delta\theta_t = \frac{\mathrm{RMS}[\Delta\theta]_{t-1}}{\mathrm{RMS}[g]_t} g_t$ (kept with the sign of $g_t$)
        delta.div_(rms_grad).mul_(grad)
        # $E[\Delta\theta^2]_t \leftarrow \rho E[\Delta\theta^2]_{t-1} + (1 - \rho) \Delta\theta_t^2$, of the unscaled step
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        # $\theta_t \leftarrow \theta_{t-1} + \eta \Delta\theta_t$
        param.add_(delta, alpha=-lr)
