r"""
---
title: AMSGrad
summary: >
 AMSGrad, annotated: Adam that never lets the second-moment estimate shrink.
---

# AMSGrad

[Reddi, Kale & Kumar, On the Convergence of Adam and Beyond](https://arxiv.org/abs/1904.09237)
show a simple convex problem on which Adam does not converge. A rare, large gradient raises $v_t$ for a
while, but the moving average forgets it within about $1/(1-\beta_2)$ steps, after which the frequent small
gradients pointing the wrong way get large steps again. AMSGrad keeps the running maximum of $v_t$ and
divides by that instead, so the denominator never shrinks:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
v^{max}_t &\leftarrow \max(v^{max}_{t-1}, v_t) \\
\theta_t &\leftarrow \theta_{t-1} - \eta \frac{m_t / (1-\beta_1^t)}{\sqrt{v^{max}_t / (1-\beta_2^t)} + \epsilon}
\end{align}

This is what `torch.optim.Adam(amsgrad=True)` computes: the maximum is taken over the *uncorrected* $v_t$,
and the bias correction is applied after.

The paper's algorithm has **no bias correction**: it steps by $\eta\, m_t / \sqrt{v^{max}_t}$, so there the
effective step size $\eta / \sqrt{v^{max}_t}$ never grows (with a non-increasing $\eta$). With the bias
correction above it can grow: it is $\eta \sqrt{1-\beta_2^t} / \sqrt{v^{max}_t}$, and $\sqrt{1-\beta_2^t}$ rises
from $\sqrt{1-\beta_2}$ towards $1$. After one large gradient $g_1$ followed by small ones, $v^{max}_t = v_1$
stays, and for $\beta_2 = 0.999$ the effective step rises from $\eta / |g_1|$ at $t = 1$ to $9.76\, \eta / |g_1|$
at $t = 100$ (and towards $31.6\, \eta / |g_1|$, that is $1/\sqrt{1-\beta_2}$ times, later). What the bias-corrected
form does guarantee is that $v^{max}_t$ itself never decreases. The rest, including the two placements of $\epsilon$, is
[Adam](adam.html). As in torch, the maximum is a flag of Adam itself: [Adam](adam.html)'s `init_state`
makes the buffer and its `get_mv` takes the maximum when the group's `amsgrad` is set (`running_max`), so
`Adam(amsgrad=True)` computes the same as this class. This class overrides no hook; it is Adam with
`amsgrad=True` by default, and `amsgrad=False` makes it plain Adam. The defaults are those of labml-nn 0.5.1
(`eps=1e-16`, `amsgrad=True`).
"""

from typing import Any, Dict, Optional, Tuple, Union

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam


class AMSGrad(Adam):
    """
    ## AMSGrad

    The arguments are those of [Adam](adam.html), with `amsgrad=True` by default.
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16,
                 weight_decay: Union[None, float, WeightDecay] = None,
                 optimized_update: bool = True,
                 amsgrad: bool = True,
                 decoupled_weight_decay: Optional[bool] = None,
                 foreach: Optional[bool] = None,
                 maximize: bool = False,
                 capturable: bool = False,
                 differentiable: bool = False,
                 fused: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         optimized_update=optimized_update, amsgrad=amsgrad,
                         decoupled_weight_decay=decoupled_weight_decay, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused, defaults=defaults)
