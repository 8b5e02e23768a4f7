r"""
---
title: Adam with linear warm-up
summary: >
 Adam (or AMSGrad) whose learning rate grows linearly from zero over the first steps.
---

# Adam with linear warm-up

Early in training Adam's second-moment estimate rests on few gradients and its steps can be erratic
(see [RAdam](radam.html)). A common remedy, used for example to train the Transformer
([Vaswani et al.](https://arxiv.org/abs/1706.03762)), is to start with a small learning rate and raise it
linearly over the first $w$ steps (`warmup`):

$$\eta_t = \eta \min\left(1, \frac{t}{w}\right)$$

With `warmup=0` there is no warm-up: $\eta_t = \eta$. The learning rate $\eta$ is read from the parameter
group at every step, so a `torch.optim.lr_scheduler` multiplies with this warm-up. The class extends
[AMSGrad](amsgrad.html) and changes only `get_lr`; `amsgrad=False` (the default) makes it plain Adam.
"""

from typing import Any, Dict, Optional, Tuple, Union

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.amsgrad import AMSGrad


def check_warmup(warmup: Any):
    r"""`warmup` is a whole number of steps, $\ge 0$."""
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"Invalid warmup: {warmup!r} (expected a whole number of steps >= 0)")


class AdamWarmup(AMSGrad):
    """
    ## Adam with warm-up

    The arguments are those of [AMSGrad](amsgrad.html), with `amsgrad=False` by default, plus `warmup`.
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16,
                 weight_decay: Union[None, float, WeightDecay] = None,
                 optimized_update: bool = True,
                 amsgrad: bool = False,
                 warmup: int = 0,
                 foreach: Optional[bool] = None,
                 decoupled_weight_decay: Optional[bool] = None,
                 maximize: bool = False,
                 capturable: bool = False,
                 differentiable: bool = False,
                 fused: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(warmup=warmup)
        all_defaults.update(defaults or {})
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         optimized_update=optimized_update, amsgrad=amsgrad, foreach=foreach,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         defaults=all_defaults)

    def check_group(self, group: Dict[str, Any]):
        super().check_group(group)
        check_warmup(group['warmup'])

    def get_lr(self, state: Dict[str, Any], group: Dict[str, Any]) -> float:
        """The warmed-up learning rate."""
        t, warmup = state['step'], group['warmup']
        if t < warmup:
            # $\eta_t = \eta \frac{t}{w}$ while $t < w$
            return group['lr'] * t / warmup
        # $\eta_t = \eta$ after the warm-up
        return group['lr']
