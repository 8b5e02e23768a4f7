r"""
---
title: AdaBelief optimizer
summary: >
 AdaBelief, annotated: Adam that scales the step by how far the gradient is from its
 moving average (the "belief") instead of by the gradient's size.
---

# AdaBelief

[Zhuang et al., AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients](https://arxiv.org/abs/2010.07468)
replace Adam's second moment $v_t$, the moving average of $g_t^2$, with $s_t$, the moving average of
$(g_t - m_t)^2$. $m_t$ is the prediction of the next gradient; $s_t$ is how much the gradients disagree with
it. When the observed gradient is close to the prediction (we *believe* it) the denominator is small and
the step is large; when the gradients scatter, the step is small. Adam instead takes small steps wherever
gradients are large, even along a steep but consistent slope.

This is Algorithm 2 of the paper, which is also what the
[official implementation](https://github.com/juntang-zhuang/Adabelief-Optimizer) computes:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
s_t &\leftarrow \beta_2 s_{t-1} + (1 - \beta_2) (g_t - m_t)^2 + \epsilon \\
\hat{m}_t &\leftarrow \frac{m_t}{1-\beta_1^t} \\
\hat{s}_t &\leftarrow \frac{s_t}{1-\beta_2^t} \\
\theta_t &\leftarrow \theta_{t-1} - \eta \frac{\hat{m}_t}{\sqrt{\hat{s}_t} + \epsilon}
\end{align}

Two details matter:

* **$\epsilon$ is added inside $s_t$**, at every step, and is kept in the state. So $s_t$ is at least the sum
  of the added $\epsilon$'s, $\epsilon \frac{1-\beta_2^t}{1-\beta_2}$, and $\hat{s}_t \ge \frac{\epsilon}{1-\beta_2}$,
  which bounds the step even when all the gradients agree exactly. That is why the default $\epsilon$ is as
  small as `1e-16`.
* **The difference uses the uncorrected $m_t$**, not $\hat{m}_t$. At $t = 1$,
  $m_1 = (1-\beta_1) g_1$, so $g_1 - m_1 = \beta_1 g_1$ and $s_1 = (1-\beta_2)\beta_1^2 g_1^2 + \epsilon$: after
  bias correction the first step is about $\eta / \beta_1$ per coordinate, like Adam's first step $\eta$.
  With the bias-corrected $\hat{m}_1 = g_1$ the difference would be exactly $0$, $s_1 = \epsilon$, and the
  first step would be about $\eta\, g_1 \sqrt{1-\beta_2} / \sqrt{\epsilon}$, that is
  $3 \times 10^{6}\, \eta\, g_1$ for $\beta_2 = 0.999$ and $\epsilon = 10^{-16}$. Because $m_t$ lags $g_t$
  while it warms up, the early $s_t$ is inflated by the bias of $m_t$, which keeps the first steps at a
  sensible size. (With `rectify=True` the first steps are SGD steps, which do not use $s_t$ at all.)
  A test checks both statements.

## Options

* `rectify=True` (the default, as in the official implementation) applies [RAdam](radam.html)'s
  rectification to $\hat{s}_t$: the update is scaled by $r_t$, and while $\rho_t \le 5$ it is
  SGD with momentum (`degenerate_to_sgd=True`) or nothing.
* `amsgrad=True` divides by the running maximum $s^{max}_t = \max(s^{max}_{t-1}, s_t)$.
* `weight_decay=WeightDecay(...)` gives the official `weight_decouple` (decoupled or L2) and
  `fixed_decay` (`absolute=True`).

### Matching the official implementation

`adabelief_pytorch.AdaBelief` puts $\epsilon$ differently in its two update rules: the plain update is
$\hat{m}_t / (\sqrt{\hat{s}_t} + \epsilon)$ (our `optimized_update=False`) and the rectified one is
$m_t / (\sqrt{s_t} + \epsilon)$ with the bias correction in the step size (our `optimized_update=True`,
the default; see [Adam](adam.html) for how the two relate). The tests check that
`AdaBelief(rectify=False, optimized_update=False)` and `AdaBelief(rectify=True)` match it.
One difference is deliberate: with `rectify=True` and `amsgrad=True` the official code ignores
$s^{max}_t$ in the rectified step; here $s^{max}_t$ is used, as `amsgrad=True` asks.

The defaults are those of labml-nn 0.5.1 (`eps=1e-16`, `amsgrad=False`, `degenerate_to_sgd=True`,
`rectify=True`); `degenerated_to_sgd` is accepted as an alias of `degenerate_to_sgd`.
The hooks differ from [RAdam](radam.html)'s in the state (`init_state`), in the second moment (`get_mv`),
and in choosing between the rectified and plain update (`get_rectification`: $r_t = 1$ without `rectify`,
which is Adam's update). `fused_moments` tells the [fused kernel](fused.html) about the new second moment, so
`fused=True` works here too.
"""

from typing import Any, Dict, Optional, Tuple, Union

import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.radam import RAdam


class AdaBelief(RAdam):
    """
    ## AdaBelief

    The arguments are those of [RAdam](radam.html), plus `rectify`.
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16,
                 weight_decay: Union[None, float, WeightDecay] = None,
                 optimized_update: bool = True,
                 amsgrad: bool = False,
                 degenerate_to_sgd: bool = True,
                 degenerated_to_sgd: Optional[bool] = None,
                 rectify: bool = True,
                 foreach: Optional[bool] = None,
                 decoupled_weight_decay: Optional[bool] = None,
                 maximize: bool = False,
                 capturable: bool = False,
                 differentiable: bool = False,
                 fused: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(rectify=rectify)
        all_defaults.update(defaults or {})
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         optimized_update=optimized_update, amsgrad=amsgrad,
                         degenerate_to_sgd=degenerate_to_sgd, degenerated_to_sgd=degenerated_to_sgd,
                         foreach=foreach,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused, defaults=all_defaults)

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        """Step count $t = 0$, $m_0 = s_0 = 0$ (and $s^{max}_0 = 0$)."""
        state['step'] = 0
        state['exp_avg'] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state['exp_avg_var'] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if group['amsgrad']:
            state['max_exp_avg_var'] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def get_mv(self, state: Dict[str, Any], group: Dict[str, Any], grad):
        """Update $m_t$ and $s_t$; return $m_t$ and the $s_t$ (or $s^{max}_t$) the update divides by."""
        beta1, beta2 = group['betas']
        m, s = state['exp_avg'], state['exp_avg_var']
        # $m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t$
        m.mul_(beta1).add_(grad, alpha=1 - beta1)
        # $g_t - m_t$, with the uncorrected $m_t$
        belief = grad.sub(m)
        # $s_t \leftarrow \beta_2 s_{t-1} + (1 - \beta_2) (g_t - m_t)^2 + \epsilon$
        s.mul_(beta2).addcmul_(belief, belief, value=1 - beta2).add_(group['eps'])
        if not group['amsgrad']:
            return m, s
        # $s^{max}_t \leftarrow \max(s^{max}_{t-1}, s_t)$, [AMSGrad](amsgrad.html)'s running maximum
        return m, self.running_max(state, 'max_exp_avg_var', s)

    def get_rectification(self, state: Dict[str, Any], group: Dict[str, Any]) -> Optional[float]:
        r"""RAdam's $r_t$ when `rectify` is set; otherwise $r_t = 1$, which makes RAdam's update Adam's."""
        if group['rectify']:
            return super().get_rectification(state, group)
        return 1.

    def fused_moments(self, group: Dict[str, Any]) -> Tuple[str, str, bool, float]:
        r"""For the [fused kernel](fused.html): $s_t$, with $(g_t - m_t)^2$ and $\epsilon$ added, as `get_mv` computes it."""
        return 'exp_avg_var', 'max_exp_avg_var', True, group['eps']
