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
divides by that instead, so the effective step size $\eta / \sqrt{\hat{v}_t}$ never grows:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
v^{max}_t &\leftarrow \max(v^{max}_{t-1}, v_t) \\
\theta_t &\leftarrow \theta_{t-1} - \eta \frac{m_t / (1-\beta_1^t)}{\sqrt{v^{max}_t / (1-\beta_2^t)} + \epsilon}
\end{align}

This is what `torch.optim.Adam(amsgrad=True)` computes: the maximum is taken over the *uncorrected* $v_t$,
and the bias correction is applied after. The rest, including the two placements of $\epsilon$, is
[Adam](adam.html); only `init_state` (one more buffer) and `get_mv` (take the maximum) change.
With `amsgrad=False` this class is plain Adam. The defaults are those of labml-nn 0.5.1 (`eps=1e-16`,
`amsgrad=True`).
"""

from typing import Any, Dict, Optional, Tuple

import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam


class AMSGrad(Adam):
    """
    ## AMSGrad

    The arguments are those of [Adam](adam.html), plus `amsgrad`, kept in the parameter group.
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16,
                 weight_decay: Optional[WeightDecay] = None,
                 optimized_update: bool = True,
                 amsgrad: bool = True,
                 foreach: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(amsgrad=amsgrad)
        all_defaults.update(defaults or {})
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         optimized_update=optimized_update, foreach=foreach, defaults=all_defaults)

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        """Adam's state, plus $v^{max}_0 = 0$."""
        super().init_state(state, group, param)
        if group['amsgrad']:
            state['max_exp_avg_sq'] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def get_mv(self, state: Dict[str, Any], group: Dict[str, Any], grad):
        """Adam's $m_t$, and $v^{max}_t$ in place of $v_t$."""
        m, v = super().get_mv(state, group, grad)
        if not group['amsgrad']:
            return m, v
        if 'max_exp_avg_sq' not in state:
            # `amsgrad` was switched on after this parameter's state was made: start from
            # $v^{max} = v_t$, which is what $\max(0, v_t)$ would give
            state['max_exp_avg_sq'] = v.clone()
        v_max = state['max_exp_avg_sq']
        # $v^{max}_t \leftarrow \max(v^{max}_{t-1}, v_t)$
        v_max.copy_(v_max.maximum(v))
        return m, v_max
