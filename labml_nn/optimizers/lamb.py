r"""
---
title: LAMB optimizer
summary: >
 LAMB, annotated: Adam's direction plus weight decay, rescaled for each layer by a trust ratio
 so that every layer moves by a fixed fraction of its own weight norm.
---

# LAMB

[You et al., Large Batch Optimization for Deep Learning: Training BERT in 76 minutes](https://arxiv.org/abs/1904.00962)
train with very large batches, which needs a large learning rate, and one learning rate that is large is too
large for some layers: the size of Adam's step is about $\eta$ per coordinate whatever the size of the
weights, so a layer with small weights is changed by a larger fraction of itself than a layer with large
weights. LAMB makes the step of each layer (each parameter tensor) proportional to that layer's norm.
For each tensor $\theta$:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\hat{m}_t &\leftarrow \frac{m_t}{1-\beta_1^t} \\
\hat{v}_t &\leftarrow \frac{v_t}{1-\beta_2^t} \\
r_t &\leftarrow \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon} \\
u_t &\leftarrow r_t + \lambda \theta_{t-1} \\
\theta_t &\leftarrow \theta_{t-1} - \eta \frac{\phi(\|\theta_{t-1}\|)}{\|u_t\|} u_t
\end{align}

$r_t$ is Adam's direction and $\lambda \theta_{t-1}$ is weight decay, decoupled from the moments as in
[AdamW](adamw.html) (it never enters $m_t$ or $v_t$) but, unlike AdamW, inside the rescaling.
$\|\cdot\|$ is the 2-norm of the whole tensor, and
$\frac{\phi(\|\theta_{t-1}\|)}{\|u_t\|}$ is the *trust ratio*: the step has norm
$\eta\,\phi(\|\theta_{t-1}\|)$ exactly, a fraction $\eta$ of the weight norm. The scaling function
$\phi(z) = \min(\max(z, \gamma_l), \gamma_u)$ keeps that in bounds; `clamp=(0.0, 10.0)` gives
$(\gamma_l, \gamma_u)$, so a tensor whose norm is above $10$ moves as if its norm were $10$.
When $\|\theta_{t-1}\| = 0$ (a bias initialized to zero) or $\|u_t\| = 0$ the ratio is taken to be $1$,
so such tensors still get Adam's step.

With `bias_correction=False`, $m_t$ and $v_t$ replace $\hat{m}_t$ and $\hat{v}_t$ in $r_t$
(`pytorch_optimizer` describes its version as following version 3 of the paper, without bias correction).
The trust ratio makes the size of the step independent of the scale of $r_t$, so this changes only
the balance between $r_t$ and $\lambda\theta_{t-1}$, and the effect of $\epsilon$.

Every step has norm $\eta\,\phi(\|\theta_{t-1}\|)$ however small $u_t$ is, so near a minimum LAMB keeps
stepping by that much: it comes to rest only as $\eta$ decays. The convergence tests use a cosine schedule,
and one checks that with a constant $\eta$ it does not settle on the Rosenbrock function.

The ratio of each tensor in the last step is kept in the state as `trust_ratio`. For a small network, over
the first steps (drawn by [`lamb_plot.py`](lamb_plot.html) with this class):

![The LAMB trust ratio of each layer of a small MLP over the first steps](lamb_trust_ratio.svg)

Since $\|x\| = \sqrt{n}\,\mathrm{RMS}(x)$ for a tensor of $n$ elements, the ratio (below the clamp) is
$\mathrm{RMS}(\theta) / \mathrm{RMS}(u_t)$. In the first steps each coordinate of $r_t$ is about $\pm 1$,
so the ratio is about the RMS of the weights: $1/\sqrt{3 \cdot \text{fan-in}}$ with PyTorch's default
initialization ($0.14$ for the first layer, with 16 inputs, $0.07$ for the others, with 64), and the
layers with smaller weights take proportionally smaller steps. Later, as $|r_t|$ falls where the gradient keeps
changing sign, the ratios grow. The one-number output bias is the extreme case: its step is always
$\eta\,|\theta|$ whatever $u_t$, so its ratio $|\theta| / |u_t|$ jumps whenever $u_t$ is near $0$.

## Against the reference implementations

`pytorch_optimizer.Lamb` with `weight_decouple=False` and `adam_debias=True` computes the update above
with `bias_correction=False`, and the tests check that. Its defaults differ in three ways, each pinned by a test:

* **$\epsilon$ in the trust ratio.** It uses $\phi(\|\theta\|) / (\|u_t\| + \epsilon)$.
  The tests match it with $\epsilon = 0$, and show that an independent transcription with the extra
  $\epsilon$ reproduces it for $\epsilon > 0$.
* **Its default `adam_debias=False`** multiplies the step by $\frac{1}{1-\beta_1^t}$ *after* the
  trust ratio, so the early steps are longer than $\eta\,\phi(\|\theta\|)$. That is our update with a learning
  rate of $\eta / (1-\beta_1^t)$, which the tests give through a `LambdaLR` scheduler. It corrects
  $\hat{m}_t$ only: there is no option for the paper's $\hat{v}_t$, which we use by default.
* **Its default `weight_decouple=True`** shrinks the weights by $(1 - \eta\lambda)$ first, AdamW-style,
  then rescales $r_t$ alone by the trust ratio of the shrunk weights; $\lambda\theta$ is then not in $u_t$.
  With $\lambda = 0$ the two are the same.

Its clamp, $\phi(z) = \min(z, 10)$, is our default (a test starts from weights large enough to reach it).
fastai's `Lamb` instead clamps the *ratio*, $\min(\|\theta\|/\|r_t\|, 10)$, and applies weight decay
outside it; its tests are reproduced in `test_zoo_fastai_adam_family.py`, where the two agree.

Not offered: `pytorch_optimizer`'s `rectify` (RAdam inside LAMB), `pre_norm` (scaling all gradients by
their global norm), `adanorm`, `grad_averaging=False` and `adam=True` (ratio $1$).

The defaults are `lr=1e-3`, `betas=(0.9, 0.999)`, `eps=1e-6`, `weight_decay=0.` (those of
`pytorch_optimizer.Lamb`), `bias_correction=True` and `clamp=(0.0, 10.0)`. The class uses
[Adam](adam.html)'s `get_mv` and its `init_state` (plus the `trust_ratio` entry); `step_param` is new.
"""

import math
from typing import Any, Dict, Optional, Tuple

import torch

from labml_nn.optimizers import (GenericAdaptiveOptimizer, TensorList, check_non_negative,
                                 torch_flag_defaults)
from labml_nn.optimizers.adam import Adam


def trust_ratio(weight_norm: torch.Tensor, update_norm: torch.Tensor,
                clamp: Tuple[float, float]) -> torch.Tensor:
    r"""
    $\frac{\phi(\|\theta\|)}{\|u\|}$ with $\phi(z) = \min(\max(z, \gamma_l), \gamma_u)$, element-wise over norms
    (a 0-d tensor, or a vector of the norms of many tensors); $1$ where either norm is $0$.
    """
    low, high = clamp
    ratio = weight_norm.clamp(low, high) / update_norm
    return torch.where((weight_norm > 0) & (update_norm > 0), ratio, torch.ones_like(ratio))


def _trust_ratios(weight_norm, update_norm, clamp):
    """`trust_ratio` for one tensor's norms, or for a `TensorList` of per-tensor norms at once."""
    if isinstance(weight_norm, TensorList):
        ratios = trust_ratio(torch.stack(weight_norm.tensors), torch.stack(update_norm.tensors), clamp)
        return TensorList(ratios.unbind())
    return trust_ratio(weight_norm, update_norm, clamp)


class Lamb(Adam):
    r"""
    ## LAMB

    * `params`: the parameters, or a list of parameter groups (dictionaries)
    * `lr`: learning rate $\eta$
    * `betas`: $(\beta_1, \beta_2)$
    * `eps`: $\epsilon$
    * `weight_decay`: $\lambda$, added to $r_t$ inside the trust ratio
    * `bias_correction`: use $\hat{m}_t, \hat{v}_t$ (`True`) or $m_t, v_t$ in $r_t$
    * `clamp`: $(\gamma_l, \gamma_u)$ of $\phi$
    * `maximize`: ascend instead of descend
    * `foreach`: `True` for the multi-tensor path, `False` for the per-tensor one, `None` to pick
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-6,
                 weight_decay: float = 0.,
                 bias_correction: bool = True,
                 clamp: Tuple[float, float] = (0.0, 10.0),
                 maximize: bool = False,
                 foreach: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, (list, tuple)) else betas, eps=eps,
                            weight_decay=weight_decay, bias_correction=bias_correction,
                            clamp=tuple(clamp) if isinstance(clamp, (list, tuple)) else clamp, foreach=foreach)
        all_defaults.update(torch_flag_defaults(maximize=maximize))
        all_defaults.update(defaults or {})
        # Adam's hooks but not its constructor: the decay here is not a `WeightDecay`,
        # and there is no rearranged update
        GenericAdaptiveOptimizer.__init__(self, params, defaults=all_defaults)

    def check_group(self, group: Dict[str, Any]):
        r"""The common checks, plus $0 \le \gamma_l \le \gamma_u$ and a boolean `bias_correction`."""
        super().check_group(group)
        clamp = group['clamp']
        try:
            low, high = clamp
        except (TypeError, ValueError):
            raise ValueError(f"Invalid clamp: {clamp!r} (expected a pair (low, high))") from None
        check_non_negative('clamp[0] (low)', low)
        check_non_negative('clamp[1] (high)', high)
        if high < low:
            raise ValueError(f"Invalid clamp: {clamp!r} (expected low <= high)")
        if group['bias_correction'] not in (True, False):
            raise ValueError(f"Invalid bias_correction: {group['bias_correction']!r} (expected True or False)")

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        """Adam's state ($t = 0$, $m_0 = v_0 = 0$), and the last trust ratio, $1$ before the first step."""
        super().init_state(state, group, param)
        state['trust_ratio'] = torch.ones((), dtype=param.dtype, device=param.device)

    def step_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, param):
        """One LAMB step for one parameter tensor (or one batch of them, each with its own ratio)."""
        # $t \leftarrow t + 1$
        state['step'] += 1
        t = state['step']
        # Adam's $m_t$ and $v_t$
        m, v = self.get_mv(state, group, grad)
        lr = self.get_lr(state, group)
        eps = group['eps']

        if group['bias_correction']:
            # $\sqrt{\hat{v}_t} + \epsilon = \frac{\sqrt{v_t}}{\sqrt{1-\beta_2^t}} + \epsilon$
            denominator = v.sqrt().div_(math.sqrt(1 - group['betas'][1] ** t)).add_(eps)
            # $r_t = \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}$, with $\hat{m}_t = \frac{m_t}{1-\beta_1^t}$
            update = m.div(1 - group['betas'][0] ** t).div_(denominator)
        else:
            # $r_t = \frac{m_t}{\sqrt{v_t} + \epsilon}$
            update = m.div(v.sqrt().add_(eps))

        if group['weight_decay'] != 0:
            # $u_t = r_t + \lambda \theta_{t-1}$
            update.add_(param, alpha=group['weight_decay'])

        # $\frac{\phi(\|\theta_{t-1}\|)}{\|u_t\|}$, one number per tensor
        ratio = _trust_ratios(param.norm(), update.norm(), group['clamp'])
        state['trust_ratio'] = ratio
        # $\theta_t \leftarrow \theta_{t-1} - \eta \frac{\phi(\|\theta_{t-1}\|)}{\|u_t\|} u_t$
        param.add_(update.mul_(ratio), alpha=-lr)
