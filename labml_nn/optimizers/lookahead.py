r"""
---
title: Lookahead optimizer
summary: >
 Lookahead, annotated: k steps of any optimizer forward, then one step back towards
 a slowly moving copy of the weights.
---

# Lookahead

[Zhang, Lucas, Hinton & Ba, Lookahead Optimizer: k steps forward, 1 step back](https://arxiv.org/abs/1907.08610)
keep two copies of the weights. The *fast* weights $\theta$ are the model's, and any inner optimizer $A$
(SGD, Adam, ...) updates them as usual. The *slow* weights $\phi$ move only every $k$ steps: they take a step
of size $\alpha$ towards where the fast weights got to, and the fast weights restart from there.
Starting from $\phi_0 = \theta_0$, cycle $t$ is

\begin{align}
\theta_{t,0} &\leftarrow \phi_{t-1} \\
\theta_{t,i} &\leftarrow \theta_{t,i-1} + A(\theta_{t,i-1}) \qquad i = 1, \dots, k \\
\phi_t &\leftarrow \phi_{t-1} + \alpha (\theta_{t,k} - \phi_{t-1})
\end{align}

The inner optimizer explores $k$ steps ahead; the slow weights keep only a fraction $\alpha$ of the
progress, which averages out the oscillation of the fast weights across a valley while keeping the movement
along it. With $\alpha = 1$ it is the inner optimizer alone. The paper reports that it is not sensitive to
$k$ and $\alpha$; its experiments search $k \in \{5, 10\}$ and $\alpha \in \{0.5, 0.8\}$.

The inner optimizer's own state (Adam's moving averages, SGD's momentum) is left as it is at
each synchronization, which is the paper's main setting.

## Defaults and other implementations

* `k=6, alpha=0.5` are the defaults of fastai's `Lookahead` and of [Ranger](ranger.html);
  `pytorch_optimizer.Lookahead` uses `k=5, alpha=0.5`.
* With its default `pullback_momentum='none'`, `pytorch_optimizer.Lookahead` is this algorithm, and the
  tests check that the two agree over 120 steps in `float64`. Its `'reset'` and `'pullback'` options, which
  also reset or interpolate SGD's momentum buffer at each synchronization, are not implemented here.
* $\phi_0$ is copied from the weights at the first `step()`, as fastai does, not when the wrapper is
  constructed (`pytorch_optimizer`), so weights loaded into the model after the optimizer was built are
  the starting point. The two are the same when the weights do not change in between.
* $k$ and $\alpha$ are kept in the parameter groups as `lookahead_k` and `lookahead_alpha`
  (see [wrappers](wrapper.html)); the slow weights and the count of inner steps are in `wrapper_state`,
  so `state_dict()` saves them and a run resumes exactly, also in the middle of a cycle.
  Every parameter of a group takes part in every synchronization; one that the inner optimizer did not move
  has $\theta = \phi$ and is unchanged by it.
"""

from typing import Any, Callable, Dict, Optional

import torch
from torch.optim import Optimizer

from labml_nn.optimizers.wrapper import OptimizerWrapper

__all__ = ['Lookahead']


class Lookahead(OptimizerWrapper):
    r"""
    ## Lookahead

    * `optimizer`: the inner optimizer $A$
    * `k`: the number of inner steps between synchronizations
    * `alpha`: the step size $\alpha$ of the slow weights
    """

    def __init__(self, optimizer: Optimizer, *, k: int = 6, alpha: float = 0.5):
        super().__init__(optimizer, defaults=dict(lookahead_k=k, lookahead_alpha=alpha))

    def check_group(self, group: Dict[str, Any]):
        k, alpha = group['lookahead_k'], group['lookahead_alpha']
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"Invalid k: {k!r} (expected an integer >= 1)")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0. <= alpha <= 1.:
            raise ValueError(f"Invalid alpha: {alpha!r} (expected 0 <= alpha <= 1)")

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], float]] = None):
        """One inner step; every $k$-th one is followed by the synchronization."""
        for group in self.param_groups:
            for p in group['params']:
                state = self.wrapper_state[p]
                if len(state) == 0:
                    # $\phi_0 = \theta_0$, before the inner optimizer moves $\theta$
                    state['slow_param'] = p.detach().clone(memory_format=torch.preserve_format)
                    state['step'] = 0

        loss = self.optimizer.step(closure)

        for group in self.param_groups:
            for p in group['params']:
                state = self.wrapper_state[p]
                state['step'] += 1
                if state['step'] % group['lookahead_k'] != 0:
                    continue
                slow = state['slow_param']
                # $\phi_t \leftarrow \phi_{t-1} + \alpha (\theta_{t,k} - \phi_{t-1})$ (what `lerp_` computes)
                slow.lerp_(p.detach(), group['lookahead_alpha'])
                # $\theta_{t+1,0} \leftarrow \phi_t$
                p.copy_(slow)
        return loss
