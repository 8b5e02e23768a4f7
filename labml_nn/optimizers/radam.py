r"""
---
title: Rectified Adam (RAdam)
summary: >
 RAdam, annotated: Adam whose adaptive step is scaled down while the second-moment estimate is
 still based on too few gradients to be trusted.
---

# Rectified Adam (RAdam)

[Liu et al., On the Variance of the Adaptive Learning Rate and Beyond](https://arxiv.org/abs/1908.03265)
explain why Adam needs a learning-rate warm-up: in the first steps $\hat{v}_t$ is an average of only a few
squared gradients, so the adaptive step size $1/\sqrt{\hat{v}_t}$ has a very large variance
(after one step it is just $1/|g_1|$). RAdam measures how many gradients the average effectively holds and
scales the adaptive step by a factor $r_t \le 1$ that makes its variance match the variance it will have
in the long run.

An exponential moving average with decay $\beta_2$ is treated as a simple moving average over
$\rho$ gradients. At infinity, and after $t$ steps, that length is

\begin{align}
\rho_\infty &= \frac{2}{1-\beta_2} - 1 \\
\rho_t &= \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t}
\end{align}

When $\rho_t > 4$ the variance of the adaptive step is finite and the rectification term is

$$r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}$$

and the update is Adam's, scaled by $r_t$:

$$\theta_t \leftarrow \theta_{t-1} - \eta \, r_t \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}$$

Otherwise the variance is not trusted and the update is SGD with momentum
(`degenerate_to_sgd=True`), or no update at all (`degenerate_to_sgd=False`):

$$\theta_t \leftarrow \theta_{t-1} - \eta \, \hat{m}_t$$

$r_t$ is a function of $t$ and $\beta_2$ only. It grows from $0$ towards $1$ like a warm-up whose
length is set by $\beta_2$:

![The rectification term r_t against the step t for three values of beta_2](radam_r_t.svg)

The plot is drawn by [`radam_plot.py`](radam_plot.html) (`make figures`).

Details:

* The paper's algorithm switches to the rectified update when $\rho_t > 4$. Both the
  [official implementation](https://github.com/LiyuanLucasLiu/RAdam) and `torch.optim.RAdam` use $5$, as
  the formula for $r_t$ is an approximation that is poor for small $\rho_t$; so does this class
  (the test is $\rho_t > 5$, as in `torch.optim.RAdam`). For $\beta_2 = 0.999$ the first rectified step is $t = 6$.
* With `optimized_update=True` (the default) $\epsilon$ is added to $\sqrt{v_t}$ and the bias correction
  $\sqrt{1-\beta_2^t}$ goes into the step size (see [Adam](adam.html)); this is what
  `torch.optim.RAdam` and the official implementation compute.
* `amsgrad=True` uses $v^{max}_t$ of [AMSGrad](amsgrad.html) in place of $v_t$.
* The default `eps=1e-8` is that of `torch.optim.RAdam`. `degenerated_to_sgd` (the spelling used by
  the official implementation and by the RAdam class of labml-nn 0.5.1; its configurations call it
  `degenerate_to_sgd`) is accepted as an alias of `degenerate_to_sgd`.

Only `update_rule` differs from [AMSGrad](amsgrad.html): it is Adam's update at the rate $\eta r_t$, or the
SGD step; $r_t$ comes from the hook `get_rectification`.
"""

import math
from typing import Any, Dict, Optional, Tuple, Union

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import UpdateRule
from labml_nn.optimizers.amsgrad import AMSGrad

# The rectified update is used when $\rho_t$ is above this (see the notes above)
RHO_THRESHOLD = 5.


def rho_inf(beta2: float) -> float:
    r"""$\rho_\infty = \frac{2}{1-\beta_2} - 1$"""
    return 2. / (1. - beta2) - 1.


def rho_t(beta2: float, t: int) -> float:
    r"""$\rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t}$"""
    beta2_t = beta2 ** t
    return rho_inf(beta2) - 2. * t * beta2_t / (1. - beta2_t)


def rectification(beta2: float, t: int) -> Optional[float]:
    r"""
    $r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}$,
    or `None` while $\rho_t \le 5$ (the variance is not trusted yet).
    """
    rho = rho_t(beta2, t)
    if rho <= RHO_THRESHOLD:
        return None
    rho_max = rho_inf(beta2)
    return math.sqrt((rho - 4.) * (rho - 2.) * rho_max / ((rho_max - 4.) * (rho_max - 2.) * rho))


class RAdam(AMSGrad):
    """
    ## RAdam

    The arguments are those of [AMSGrad](amsgrad.html) (with `amsgrad=False` by default),
    plus `degenerate_to_sgd`.
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8,
                 weight_decay: Union[None, float, WeightDecay] = None,
                 optimized_update: bool = True,
                 amsgrad: bool = False,
                 degenerate_to_sgd: bool = True,
                 degenerated_to_sgd: Optional[bool] = None,
                 foreach: Optional[bool] = None,
                 decoupled_weight_decay: Optional[bool] = None,
                 maximize: bool = False,
                 capturable: bool = False,
                 differentiable: bool = False,
                 fused: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        if degenerated_to_sgd is not None:
            degenerate_to_sgd = degenerated_to_sgd
        all_defaults = dict(degenerate_to_sgd=degenerate_to_sgd)
        all_defaults.update(defaults or {})
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         optimized_update=optimized_update, amsgrad=amsgrad, foreach=foreach,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         defaults=all_defaults)

    def get_rectification(self, state: Dict[str, Any], group: Dict[str, Any]) -> Optional[float]:
        r"""$r_t$ of this step, or `None` while $\rho_t \le 5$."""
        return rectification(group['betas'][1], state['step'])

    def update_rule(self, state: Dict[str, Any], group: Dict[str, Any], lr: float) -> Optional[UpdateRule]:
        r"""Adam's update at the rate $\eta_t r_t$, or the SGD fallback while $\rho_t \le 5$."""
        # $r_t$, or `None` when $\rho_t \le 5$
        r = self.get_rectification(state, group)

        if r is None:
            if not group['degenerate_to_sgd']:
                # No update while the variance is not trusted (the moments are still updated)
                return None
            # $\theta_t \leftarrow \theta_{t-1} - \eta_t \hat{m}_t = \theta_{t-1} - \frac{\eta_t}{1-\beta_1^t} m_t$
            return UpdateRule(step_size=lr / (1 - group['betas'][0] ** state['step']), v_divisor=None, eps=0.)

        # $\theta_t \leftarrow \theta_{t-1} - \eta_t r_t \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}$:
        # [Adam](adam.html)'s update, either placement of $\epsilon$, at the rate $\eta_t r_t$
        return super().update_rule(state, group, lr * r)
