r"""
---
title: AdamW optimizer
summary: >
 AdamW, annotated: Adam with decoupled weight decay, which shrinks the weights directly
 instead of adding an L2 term to the gradient that Adam would then rescale.
---

# AdamW

[Loshchilov & Hutter, Decoupled Weight Decay Regularization](https://arxiv.org/abs/1711.05101)
observe that for Adam, L2 regularization and weight decay are *not* the same thing. Adding
$\lambda \theta_{t-1}$ to the gradient sends it through the division by $\sqrt{\hat{v}_t}$, so weights with
large gradients are barely decayed. AdamW takes the decay out of the gradient and applies it to the weights
directly, next to the adaptive step:

\begin{align}
\theta_{t-1} &\leftarrow \theta_{t-1} (1 - \eta \lambda) \\
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\hat{m}_t &\leftarrow \frac{m_t}{1-\beta_1^t} \\
\hat{v}_t &\leftarrow \frac{v_t}{1-\beta_2^t} \\
\theta_t &\leftarrow \theta_{t-1} - \eta \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}
\end{align}

With `amsgrad=True`, $v^{max}_t = \max(v^{max}_{t-1}, v_t)$ replaces $v_t$, as in [AMSGrad](amsgrad.html).
Since the decay multiplies $\theta_{t-1}$ before the step, and the step does not depend on $\theta$,
this is the same as

$$\theta_t \leftarrow \theta_{t-1} - \eta \left( \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon} + \lambda \theta_{t-1} \right)$$

## How the decay is scaled

Algorithm 2 of the paper has a learning rate (its $\alpha$, our $\eta$) and a *schedule multiplier*
(its $\eta_t$; here $s_t$, since on these pages $\eta_t$ is always the learning rate of step $t$):

$$\theta_t \leftarrow \theta_{t-1} - s_t \left( \eta \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon} + \lambda \theta_{t-1} \right)$$

The multiplier scales both terms, so the paper's decay per step is $s_t \lambda$, independent of $\eta$.
The decay here follows `torch.optim.AdamW`, not the paper: there is a single learning rate of step $t$,
$\eta_t = \eta s_t$ (what a scheduler sets, or what the optimizer's own schedule gives), and the decay is
$\theta (1 - \eta_t \lambda) = \theta (1 - \eta s_t \lambda)$, $\eta$ times the paper's. To get the paper's
decay $s_t \lambda$ for a learning rate $\eta$, pass `weight_decay` $= \lambda / \eta$.

## What is and is not like Adam here

This class is [AMSGrad](amsgrad.html) (so [Adam](adam.html) when `amsgrad=False`) with the defaults and
keywords of `torch.optim.AdamW` (torch 2.13): `lr=1e-3`, `betas=(0.9, 0.999)`, `eps=1e-8`,
`weight_decay=1e-2`, `amsgrad=False`, `maximize`, `foreach`, `fused` (our [fused kernel](fused.html)), and
`capturable`, `differentiable`, which are accepted only with their default (off) values. Two things differ from our `Adam`:

* A number given as `weight_decay` is **decoupled** decay $\lambda$, as in `torch.optim.AdamW`
  (for `Adam` a number would mean L2 regularization, as in `torch.optim.Adam`). A
  [`WeightDecay`](index.html) is also accepted, e.g. `WeightDecay(0.01, absolute=True)` for a decay
  that does not scale with $\eta$.
* The update is the textbook one, $\epsilon$ added to $\sqrt{\hat{v}_t}$ (`optimized_update=False`), which is
  what torch computes; `optimized_update=True` gives Adam's rearranged form.

So `AdamW(params, weight_decay=λ)` is `Adam(params, weight_decay=WeightDecay(λ, weight_decouple=True),
optimized_update=False, eps=1e-8)`, and the tests check that it equals `torch.optim.AdamW` with and
without `amsgrad`. No hook is overridden; only the defaults are new.
"""

from typing import Any, Dict, Optional, Tuple, Union

from labml_nn.optimizers import WeightDecay, torch_flag_defaults, weight_decay_defaults
from labml_nn.optimizers.amsgrad import AMSGrad


class AdamW(AMSGrad):
    r"""
    ## AdamW

    * `params`: the parameters, or a list of parameter groups (dictionaries)
    * `lr`: learning rate $\eta$
    * `betas`: $(\beta_1, \beta_2)$
    * `eps`: $\epsilon$
    * `weight_decay`: decoupled decay $\lambda$ (a number), or a [`WeightDecay`](index.html)
    * `amsgrad`: divide by $\sqrt{v^{max}_t}$ of [AMSGrad](amsgrad.html)
    * `maximize`: ascend instead of descend
    * `foreach`: `True` for the multi-tensor path, `False` for the per-tensor one, `None` to pick
    * `fused`: `True` for the one-pass [fused kernel](fused.html)
    * `capturable`, `differentiable`: torch's flags, accepted only when off
    * `optimized_update`: Adam's rearranged $\epsilon$ placement (off, as in torch)
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8,
                 weight_decay: Union[float, WeightDecay] = 1e-2,
                 amsgrad: bool = False,
                 maximize: bool = False,
                 foreach: Optional[bool] = None,
                 capturable: bool = False,
                 differentiable: bool = False,
                 fused: Optional[bool] = None,
                 optimized_update: bool = False,
                 defaults: Optional[Dict[str, Any]] = None):
        # A number is decoupled decay, the meaning it has for `torch.optim.AdamW`
        all_defaults = weight_decay_defaults(weight_decay, weight_decouple=True)
        all_defaults.update(torch_flag_defaults(maximize=maximize, differentiable=differentiable,
                                                capturable=capturable, fused=fused))
        all_defaults.update(defaults or {})
        # `weight_decay=None` lets `Adam` fill in its entries, which the ones above then replace
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=None,
                         optimized_update=optimized_update, amsgrad=amsgrad, foreach=foreach,
                         defaults=all_defaults)
