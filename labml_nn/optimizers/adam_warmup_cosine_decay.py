r"""
---
title: Adam with warm-up and cosine decay
summary: >
 Adam (or AMSGrad) with a linear learning-rate warm-up followed by a cosine decay to zero.
---

# Adam with warm-up and cosine decay

The learning rate rises linearly for $w$ steps (`warmup`), as in [Adam with warm-up](adam_warmup.html), and
then follows half a cosine down to zero at step $T$ (`total_steps`), as in SGDR
([Loshchilov & Hutter](https://arxiv.org/abs/1608.03983)) without restarts:

$$
\eta_t =
\begin{cases}
\eta \frac{t}{w} & t < w \\
\eta \cdot \frac{1}{2} \left(1 + \cos\left(\pi \frac{\min(t, T) - w}{T - w}\right)\right) & t \ge w
\end{cases}
$$

After $T$ steps the learning rate stays $0$. $T$ must be larger than $w$.
The default `total_steps=1e10` (that of labml-nn 0.5.1) makes the decay negligible; set it to the
length of training. Only `get_lr` differs from [AdamWarmup](adam_warmup.html).
"""

import math
from typing import Any, Dict, Optional, Tuple, Union

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam_warmup import AdamWarmup


class AdamWarmupCosineDecay(AdamWarmup):
    """
    ## Adam with warm-up and cosine decay

    The arguments are those of [AdamWarmup](adam_warmup.html), plus `total_steps`.
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16,
                 weight_decay: Union[None, float, WeightDecay] = None,
                 optimized_update: bool = True,
                 amsgrad: bool = False,
                 warmup: int = 0,
                 total_steps: float = 1e10,
                 foreach: Optional[bool] = None,
                 decoupled_weight_decay: Optional[bool] = None,
                 maximize: bool = False,
                 capturable: bool = False,
                 differentiable: bool = False,
                 fused: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(total_steps=total_steps)
        all_defaults.update(defaults or {})
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         optimized_update=optimized_update, amsgrad=amsgrad, warmup=warmup, foreach=foreach,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         defaults=all_defaults)

    def check_group(self, group: Dict[str, Any]):
        super().check_group(group)
        total_steps = group['total_steps']
        if isinstance(total_steps, bool) or not isinstance(total_steps, (int, float)) \
                or not total_steps > group['warmup']:
            raise ValueError(f"Invalid total_steps: {total_steps!r} "
                             f"(expected a number of steps > warmup = {group['warmup']})")

    def get_lr(self, state: Dict[str, Any], group: Dict[str, Any]) -> float:
        """Warm-up, then cosine decay."""
        t, warmup, total = state['step'], group['warmup'], group['total_steps']
        if t < warmup:
            # $\eta_t = \eta \frac{t}{w}$
            return group['lr'] * t / warmup
        # Progress through the decay, $p = \frac{\min(t, T) - w}{T - w} \in [0, 1]$
        progress = (min(t, total) - warmup) / (total - warmup)
        # $\eta_t = \eta \cdot \frac{1}{2} (1 + \cos(\pi p))$
        return group['lr'] * 0.5 * (1. + math.cos(math.pi * progress))
