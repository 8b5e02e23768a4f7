r"""
---
title: Quasi-hyperbolic Adam (QHAdam)
summary: >
 QHAdam, annotated: Adam whose numerator and denominator each mix the moving average with
 the current gradient, weighted by the immediate discount factors nu_1 and nu_2.
---

# Quasi-hyperbolic Adam (QHAdam)

[Ma & Yarats, Quasi-hyperbolic momentum and Adam for deep learning](https://arxiv.org/abs/1810.06801)
start from momentum SGD and ask how much of the step should come from the momentum buffer and how much from
the gradient just computed. *Quasi-hyperbolic momentum* (QHM) steps along a weighted average of the two,
$(1-\nu) g_t + \nu m_t$: $\nu = 0$ is plain SGD and $\nu = 1$ is momentum. QHAdam does this to both of
Adam's moment estimates:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\hat{m}_t &\leftarrow \frac{m_t}{1-\beta_1^t} \\
\hat{v}_t &\leftarrow \frac{v_t}{1-\beta_2^t} \\
\theta_t &\leftarrow \theta_{t-1} - \eta \frac{(1 - \nu_1) g_t + \nu_1 \hat{m}_t}
 {\sqrt{(1 - \nu_2) g_t^2 + \nu_2 \hat{v}_t} + \epsilon}
\end{align}

Because $g_t$ appears in the numerator with weight $1-\nu_1$ whatever $\beta_1$ is, $\beta_1$ can be made
much closer to $1$ (a longer memory) than in Adam without making the step slow to react. Special cases:
$\nu_1 = \nu_2 = 1$ is Adam (textbook $\epsilon$ placement), $\nu_1 = 0, \nu_2 = 1$ is RMSProp with bias
correction, and the paper shows that $\nu_1 = \beta_1, \nu_2 = 1$ gives NAdam.
$\nu_2 < 1$ bounds the step: the denominator is at least $\sqrt{1-\nu_2}\,|g_t|$.

There is no rearranged form of the update (Adam's `optimized_update`): the mix needs $\hat{m}_t$ and
$\hat{v}_t$ themselves, so the bias corrections cannot be moved into the step size.

## Defaults and the reference implementations

The keywords are those of `pytorch_optimizer.QHAdam` (`lr`, `betas`, `nus`, `eps`, `weight_decay`,
`weight_decouple`, `fixed_decay`, `maximize`, `foreach`); `nus` is also the name in the authors'
[qhoptim](https://facebookresearch.github.io/qhoptim/). The defaults are not theirs: both default to
`nus=(1.0, 1.0)` and `betas=(0.9, 0.999)`, which is plain Adam. Here the defaults are the setting the authors
recommend to Adam users, `nus=(0.7, 1.0)` with `betas=(0.995, 0.999)`; `lr=1e-3` and `eps=1e-8` are shared.
Weight decay is L2 by default (`weight_decouple=False`), decoupled with `weight_decouple=True`, and does not
scale with $\eta$ with `fixed_decay=True`; a [`WeightDecay`](index.html) may be given instead.

`pytorch_optimizer.QHAdam` (and qhoptim) compute $\hat{m}_t$ without $\beta_1^t$: they keep
$w_t = 1 + \beta_1 w_{t-1} = \frac{1-\beta_1^t}{1-\beta_1}$ and update
$\hat{m}_t \leftarrow \hat{m}_{t-1} + \frac{1}{w_t}(g_t - \hat{m}_{t-1})$, which is the same quantity.
`pytorch_optimizer` keeps $w_t$ in a `float32` tensor, where the rounding errors of $w_t$ add up step after step:
in the first 120 steps its $1/w_t$ is off by up to $9 \times 10^{-7}$ relative for $\beta = 0.999$. So even in
`float64` the parameters of the two differ, by about $2 \times 10^{-8}$ after 120 steps with $\eta = 0.01$.
With the weights computed its way in `float32`, the formula above reproduces `pytorch_optimizer` to
$10^{-12}$, and with them in `float64` it reproduces this class; a test checks both.
"""

from typing import Any, Dict, Optional, Tuple, Union

from labml_nn.optimizers import WeightDecay, torch_flag_defaults, weight_decay_defaults
from labml_nn.optimizers.adam import Adam


def check_nus(nus: Any):
    r"""Raise a `ValueError` unless `nus` is a pair of numbers in $[0, 1]$."""
    try:
        nu1, nu2 = nus
    except (TypeError, ValueError):
        raise ValueError(f"Invalid nus: {nus!r} (expected a pair (nu1, nu2))") from None
    for i, nu in enumerate((nu1, nu2)):
        if isinstance(nu, bool) or not isinstance(nu, (int, float)) or not 0.0 <= nu <= 1.0:
            raise ValueError(f"Invalid nus[{i}] (nu{i + 1}): {nu!r} (expected 0 <= nu <= 1)")


class QHAdam(Adam):
    r"""
    ## QHAdam

    * `params`: the parameters, or a list of parameter groups (dictionaries)
    * `lr`: learning rate $\eta$
    * `betas`: $(\beta_1, \beta_2)$
    * `nus`: $(\nu_1, \nu_2)$, the weights of the moving averages against the current gradient
    * `eps`: $\epsilon$
    * `weight_decay`: $\lambda$, or a [`WeightDecay`](index.html) (then the two flags below are not used)
    * `weight_decouple`: decoupled decay $\theta (1 - \eta\lambda)$ instead of L2 $g_t + \lambda\theta$
    * `fixed_decay`: decoupled decay $\theta (1 - \lambda)$, not scaled by $\eta$
    * `maximize`: ascend instead of descend
    * `foreach`: `True` for the multi-tensor path, `False` for the per-tensor one, `None` to pick
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.995, 0.999),
                 nus: Tuple[float, float] = (0.7, 1.0),
                 eps: float = 1e-8,
                 weight_decay: Union[float, WeightDecay] = 0.,
                 weight_decouple: bool = False,
                 fixed_decay: bool = False,
                 maximize: bool = False,
                 foreach: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(nus=tuple(nus) if isinstance(nus, (list, tuple)) else nus)
        all_defaults.update(weight_decay_defaults(weight_decay, weight_decouple=weight_decouple))
        if not isinstance(weight_decay, WeightDecay):
            all_defaults['weight_decay_absolute'] = bool(fixed_decay)
        all_defaults.update(torch_flag_defaults(maximize=maximize))
        all_defaults.update(defaults or {})
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=None, optimized_update=False,
                         foreach=foreach, defaults=all_defaults)

    def check_group(self, group: Dict[str, Any]):
        r"""Adam's checks, plus $\nu_1, \nu_2 \in [0, 1]$; the rearranged update does not exist here."""
        super().check_group(group)
        check_nus(group['nus'])
        if group.get('optimized_update'):
            raise ValueError("optimized_update=True is not available for QHAdam: "
                             "the mix with g_t needs the bias-corrected m_t and v_t themselves")

    def step_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, param):
        """One QHAdam step for one parameter (or one batch of them)."""
        beta1, beta2 = group['betas']
        nu1, nu2 = group['nus']
        # $t \leftarrow t + 1$
        state['step'] += 1
        t = state['step']
        # $\eta_t$, the learning rate of this step
        lr = self.get_lr(state, group)
        # Weight decay: L2 changes $g_t$, decoupled decay shrinks $\theta_{t-1}$ by $(1 - \eta_t \lambda)$
        grad = WeightDecay.apply(param, grad, group, lr)
        # Adam's $m_t$ and $v_t$
        m, v = self.get_mv(state, group, grad)
        # $(1 - \nu_1) g_t + \nu_1 \hat{m}_t$, with $\nu_1 \hat{m}_t = \frac{\nu_1}{1-\beta_1^t} m_t$
        numerator = m.mul(nu1 / (1 - beta1 ** t)).add_(grad, alpha=1 - nu1)
        # $(1 - \nu_2) g_t^2 + \nu_2 \hat{v}_t$, with $\nu_2 \hat{v}_t = \frac{\nu_2}{1-\beta_2^t} v_t$
        mixed_v = v.mul(nu2 / (1 - beta2 ** t)).addcmul_(grad, grad, value=1 - nu2)
        # $\sqrt{(1 - \nu_2) g_t^2 + \nu_2 \hat{v}_t} + \epsilon$
        denominator = mixed_v.sqrt_().add_(group['eps'])
        # $\theta_t \leftarrow \theta_{t-1} - \eta \frac{(1 - \nu_1) g_t + \nu_1 \hat{m}_t}{\sqrt{(1 - \nu_2) g_t^2 + \nu_2 \hat{v}_t} + \epsilon}$
        param.addcdiv_(numerator, denominator, value=-lr)
