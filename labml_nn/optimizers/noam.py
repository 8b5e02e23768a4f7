r"""
---
title: Noam optimizer
summary: >
 Adam with the learning-rate schedule of the original Transformer: linear warm-up, then
 decay with the inverse square root of the step.
---

# Noam optimizer

The Transformer paper ([Vaswani et al., Attention Is All You Need](https://arxiv.org/abs/1706.03762),
Section 5.3) trains with Adam and this learning rate, for model width $d_{model}$ (`d_model`) and
$w$ warm-up steps (`warmup`):

$$\eta_t = \eta \cdot d_{model}^{-\frac{1}{2}} \min\left(t^{-\frac{1}{2}}, t \cdot w^{-\frac{3}{2}}\right)$$

The two terms are equal at $t = w$: the rate rises linearly up to step $w$ and then decays as
$1/\sqrt{t}$. The paper has no $\eta$ (it is $1$ there); here $\eta$ is a multiplier read from the parameter
group, so schedulers and per-group settings still apply. With `warmup=0` there is no warm-up and
$\eta_t = \eta \cdot d_{model}^{-1/2} t^{-1/2}$ (the limit of the formula as $w \to 0$).

**Warning: the defaults are not the paper's.** The default `lr=1e-3` (that of labml-nn 0.5.1) runs at
$1/1000$ of the paper's rate: for $d_{model} = 512$ and $w = 4000$ the peak is $7 \times 10^{-7}$ instead of
$7 \times 10^{-4}$. For the paper's schedule pass `lr=1.`, and for its Adam settings
`betas=(0.9, 0.98)` ($\beta_2 = 0.98$) and `eps=1e-9` ($\epsilon = 10^{-9}$), with `warmup=4000`;
the defaults here are Adam's $\beta_2 = 0.999$ and $\epsilon = 10^{-16}$, and no warm-up.

Only `get_lr` differs from [AdamWarmup](adam_warmup.html).
"""

from typing import Any, Dict, Optional, Tuple, Union

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam_warmup import AdamWarmup


class Noam(AdamWarmup):
    """
    ## Noam

    The arguments are those of [AdamWarmup](adam_warmup.html), plus `d_model`.
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16,
                 weight_decay: Union[None, float, WeightDecay] = None,
                 optimized_update: bool = True,
                 amsgrad: bool = False,
                 warmup: int = 0,
                 d_model: int = 512,
                 foreach: Optional[bool] = None,
                 decoupled_weight_decay: Optional[bool] = None,
                 maximize: bool = False,
                 capturable: bool = False,
                 differentiable: bool = False,
                 fused: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(d_model=d_model)
        all_defaults.update(defaults or {})
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         optimized_update=optimized_update, amsgrad=amsgrad, warmup=warmup, foreach=foreach,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         defaults=all_defaults)

    def check_group(self, group: Dict[str, Any]):
        super().check_group(group)
        d_model = group['d_model']
        if isinstance(d_model, bool) or not isinstance(d_model, (int, float)) or not d_model > 0:
            raise ValueError(f"Invalid d_model: {d_model!r} (expected a number > 0)")

    def get_lr(self, state: Dict[str, Any], group: Dict[str, Any]) -> float:
        """The Noam schedule."""
        t, warmup = state['step'], group['warmup']
        if warmup == 0:
            # $t^{-\frac{1}{2}}$, the limit of the $\min$ as $w \to 0$
            factor = t ** -0.5
        else:
            # $\min\left(t^{-\frac{1}{2}}, t \cdot w^{-\frac{3}{2}}\right)$
            factor = min(t ** -0.5, t * warmup ** -1.5)
        # $\eta_t = \eta \cdot d_{model}^{-\frac{1}{2}} \cdot \text{factor}$
        return group['lr'] * group['d_model'] ** -0.5 * factor
