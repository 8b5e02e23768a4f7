r"""
---
title: Ranger (RAdam + Lookahead)
summary: >
 Ranger, annotated: Lookahead around Rectified Adam, with the original Ranger defaults,
 and how it differs from pytorch_optimizer's Ranger.
---

# Ranger

[Ranger](https://github.com/lessw2020/Ranger-Deep-Learning-Optimizer) (Less Wright, 2019) combines two
fixes of Adam's early steps and oscillation: [RAdam](radam.html) damps the adaptive step while its variance is
too large, and [Lookahead](lookahead.html) averages the path of the fast weights every $k$ steps.
Here it is exactly that composition, `Lookahead(RAdam(params, ...), k=k, alpha=alpha)`,

\begin{align}
\theta_{t,i} &\leftarrow \text{RAdam}(\theta_{t,i-1}) \qquad i = 1, \dots, k \\
\phi_t &\leftarrow \phi_{t-1} + \alpha (\theta_{t,k} - \phi_{t-1}), \qquad \theta_{t+1,0} \leftarrow \phi_t
\end{align}

with the defaults of the original Ranger: `lr=1e-3`, `betas=(0.95, 0.999)`, `eps=1e-5`, `k=6`, `alpha=0.5`,
`weight_decay=0`. A number for `weight_decay` is decoupled decay,
$\theta \leftarrow \theta (1 - \eta \lambda)$, as the original applies it; a [`WeightDecay`](index.html) picks
another kind. RAdam runs in its default `optimized_update=True` form ($\epsilon$ added to $\sqrt{v_t}$), which
is what Ranger computes. The RAdam state is in `state`, the slow weights in `wrapper_state`, and
`optimizer.optimizer` is the inner `RAdam`.

## Compared with `pytorch_optimizer.Ranger`

With `use_gc=False` and `degenerated_to_sgd=True`, `pytorch_optimizer.Ranger` computes the same thing;
the tests check it over 120 steps in `float64`. The two differences of its defaults:

* **Gradient centralization** (`use_gc=True`), added to Ranger in 2020
  ([Yong et al.](https://arxiv.org/abs/2004.01461)): every gradient of two or more dimensions has its mean
  over all but the first dimension subtracted. It is a change of the gradient, not of the optimizer, and is
  not done here; the tests check that `pytorch_optimizer.Ranger(use_gc=True)` equals ours on centralized gradients.
* **`degenerated_to_sgd=False`** is meant to skip the update while $\rho_t \le 5$. In `pytorch_optimizer` 4.1
  the step size $-1$ that marks those steps is used as a step size, so the parameters move *up* the
  gradient by $\eta \hat{m}_t$ in the first steps (a test pins this). Ours (`degenerate_to_sgd=False`) does not
  move them, as in RAdam; the default here is `True`, an SGD-with-momentum step, as in the original Ranger.

It also counts the RAdam step and the Lookahead cycle per group and rectifies when $\rho_t \ge 5$ (ours,
as `torch.optim.RAdam`, when $\rho_t > 5$); neither makes a difference here, since every parameter has a
gradient at every step and $\rho_t$ is never exactly $5$ ($\rho_5 \approx 4.996$ for $\beta_2 = 0.999$).
"""

from typing import Optional, Tuple, Union

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.lookahead import Lookahead
from labml_nn.optimizers.radam import RAdam

__all__ = ['Ranger']


class Ranger(Lookahead):
    r"""
    ## Ranger

    * `lr`, `betas`, `eps`, `degenerate_to_sgd`, `foreach`: those of [RAdam](radam.html)
    * `weight_decay`: a number (decoupled decay) or a `WeightDecay`
    * `k`, `alpha`: those of [Lookahead](lookahead.html)
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.95, 0.999),
                 eps: float = 1e-5,
                 weight_decay: Union[float, WeightDecay] = 0.,
                 k: int = 6,
                 alpha: float = 0.5,
                 degenerate_to_sgd: bool = True,
                 foreach: Optional[bool] = None):
        if not isinstance(weight_decay, WeightDecay):
            # The original Ranger's decay: $\theta \leftarrow \theta (1 - \eta \lambda)$
            weight_decay = WeightDecay(weight_decay, weight_decouple=True)
        radam = RAdam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                      degenerate_to_sgd=degenerate_to_sgd, foreach=foreach)
        super().__init__(radam, k=k, alpha=alpha)
