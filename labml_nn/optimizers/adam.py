r"""
---
title: Adam optimizer
summary: >
 Adam, annotated: moving averages of the gradient and its square, bias correction,
 and the two places the epsilon can go.
---

# Adam

Adam ([Kingma & Ba, Adam: A Method for Stochastic Optimization](https://arxiv.org/abs/1412.6980))
keeps two exponential moving averages per parameter: $m_t$ of the gradient and $v_t$ of its element-wise
square. With gradient $g_t$ at step $t$, learning rate $\eta$ and decay rates $\beta_1, \beta_2$:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\hat{m}_t &\leftarrow \frac{m_t}{1-\beta_1^t} \\
\hat{v}_t &\leftarrow \frac{v_t}{1-\beta_2^t} \\
\theta_t &\leftarrow \theta_{t-1} - \eta \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}
\end{align}

Both averages start at $0$, so early on they are biased towards $0$: $m_t$ is a weighted sum of
the gradients with weights that add up to $1 - \beta_1^t$, not $1$. Dividing by $1-\beta_1^t$ and
$1-\beta_2^t$ (bias correction) removes that bias. Each coordinate moves by about $\eta$ times the
ratio of its mean gradient to its root-mean-square gradient, so the step size does not depend on
the scale of the gradient.

## Two places for $\epsilon$

The update above is *textbook* Adam (`optimized_update=False`, the form of `torch.optim.Adam`).
Section 2 of the paper also gives a cheaper, rearranged form that folds both bias corrections into the step size
and adds $\hat{\epsilon}$ to $\sqrt{v_t}$ directly (`optimized_update=True`, the default):

\begin{align}
\alpha_t &= \eta \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t} \\
\theta_t &\leftarrow \theta_{t-1} - \alpha_t \frac{m_t}{\sqrt{v_t} + \hat{\epsilon}}
\end{align}

The two are the same update when the epsilons are related by
$$\hat{\epsilon} = \epsilon \sqrt{1-\beta_2^t}$$
because

\begin{align}
\eta \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}
 &= \frac{\eta}{1-\beta_1^t} \cdot \frac{m_t \sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon\sqrt{1-\beta_2^t}} \\
 &= \alpha_t \frac{m_t}{\sqrt{v_t} + \hat{\epsilon}}
\end{align}

So with a *fixed* $\epsilon$, the optimized form behaves like textbook Adam with an $\epsilon$ of
$\epsilon / \sqrt{1-\beta_2^t}$, which is larger in the first steps ($\sqrt{1-\beta_2} \approx 0.03$ for
$\beta_2 = 0.999$) and approaches $\epsilon$ as $t$ grows. The tests check this identity step by step.

The defaults are those of labml-nn 0.5.1: `lr=1e-3`, `betas=(0.9, 0.999)`, `eps=1e-16`,
`optimized_update=True`. Note that `torch.optim.Adam` uses `eps=1e-8`.
"""

import math
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

import torch

from labml_nn.optimizers import GenericAdaptiveOptimizer, WeightDecay, torch_flag_defaults, weight_decay_defaults


def adam_weight_decay(weight_decay: Union[None, float, WeightDecay],
                      decoupled_weight_decay: Optional[bool]) -> Dict[str, Any]:
    """
    The group entries for the weight decay of an Adam-family constructor. A number means what it means for
    `torch.optim.Adam` and `torch.optim.RAdam`: L2 regularization, or decoupled decay with
    `decoupled_weight_decay=True`. A `WeightDecay` says it all itself (`decoupled_weight_decay` may only agree
    with it). `None` is labml-nn 0.5.1's default, `WeightDecay()`: no decay.
    """
    if decoupled_weight_decay is not None and not isinstance(decoupled_weight_decay, bool):
        raise ValueError(f"Invalid decoupled_weight_decay: {decoupled_weight_decay!r} (expected True or False)")
    if isinstance(weight_decay, WeightDecay) and decoupled_weight_decay is not None \
            and decoupled_weight_decay != weight_decay.weight_decouple:
        raise ValueError(f"decoupled_weight_decay={decoupled_weight_decay} contradicts weight_decay={weight_decay!r}")
    if weight_decay is None:
        weight_decay = WeightDecay() if decoupled_weight_decay is None else 0.
    return weight_decay_defaults(weight_decay, weight_decouple=bool(decoupled_weight_decay))


class UpdateRule(NamedTuple):
    r"""The scalars of an update $\theta_t \leftarrow \theta_{t-1} - \alpha_t \frac{m_t}{\sqrt{v_t} / d_t + \epsilon}$."""
    # $\alpha_t$
    step_size: float
    # $d_t$; `None` for a step that does not divide: $\theta_t \leftarrow \theta_{t-1} - \alpha_t m_t$
    v_divisor: Optional[float]
    # $\epsilon$
    eps: float


class Adam(GenericAdaptiveOptimizer):
    r"""
    ## Adam

    * `params`: the parameters, or a list of parameter groups (dictionaries)
    * `lr`: learning rate $\eta$
    * `betas`: $(\beta_1, \beta_2)$
    * `eps`: $\epsilon$ (or $\hat{\epsilon}$ when `optimized_update` is `True`)
    * `weight_decay`: a [`WeightDecay`](index.html), or a number as `torch.optim.Adam` takes it:
      L2 regularization, decoupled (AdamW) with `decoupled_weight_decay=True`; its settings go into the groups
    * `optimized_update`: fold the bias correction into the step size (see above)
    * `amsgrad`: divide by the running maximum $v^{max}_t$ of [AMSGrad](amsgrad.html), as
      `torch.optim.Adam(amsgrad=True)` does
    * `foreach`: `True` for the multi-tensor path, `False` for the per-tensor path,
      `None` to pick the multi-tensor path when all parameters of a group are on a GPU
    * `maximize`: ascend instead of descend
    * `fused`: `True` for the one-pass [fused kernel](fused.html), the fast path for large models on a CPU
    * `capturable`, `differentiable`: torch's flags, accepted when off
    * `defaults`: further group defaults from subclasses

    `lr` and `betas` may be one-element tensors, as in torch; the groups hold their values.
    """

    def __init__(self, params, *,
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16,
                 weight_decay: Union[None, float, WeightDecay] = None,
                 optimized_update: bool = True,
                 amsgrad: bool = False,
                 decoupled_weight_decay: Optional[bool] = None,
                 foreach: Optional[bool] = None,
                 maximize: bool = False,
                 capturable: bool = False,
                 differentiable: bool = False,
                 fused: Optional[bool] = None,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, (list, tuple)) else betas, eps=eps,
                            optimized_update=optimized_update, amsgrad=amsgrad, foreach=foreach)
        all_defaults.update(adam_weight_decay(weight_decay, decoupled_weight_decay))
        all_defaults.update(torch_flag_defaults(maximize=maximize, differentiable=differentiable,
                                                capturable=capturable, fused=fused))
        all_defaults.update(defaults or {})
        super().__init__(params, defaults=all_defaults)

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        """Step count $t = 0$, and $m_0 = v_0 = 0$ (and $v^{max}_0 = 0$ with `amsgrad`)."""
        state['step'] = 0
        state['exp_avg'] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state['exp_avg_sq'] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if group.get('amsgrad'):
            state['max_exp_avg_sq'] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def get_mv(self, state: Dict[str, Any], group: Dict[str, Any], grad):
        """Update the moving averages and return the $m_t$ and $v_t$ the update uses."""
        beta1, beta2 = group['betas']
        m, v = state['exp_avg'], state['exp_avg_sq']
        # $m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t$
        m.mul_(beta1).add_(grad, alpha=1 - beta1)
        # $v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2$
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if not group.get('amsgrad'):
            return m, v
        # [AMSGrad](amsgrad.html): $v^{max}_t$ in place of $v_t$
        return m, self.running_max(state, 'max_exp_avg_sq', v)

    @staticmethod
    def running_max(state: Dict[str, Any], key: str, v):
        r"""$v^{max}_t \leftarrow \max(v^{max}_{t-1}, v_t)$, kept in `state[key]` and updated in place."""
        if key not in state:
            # `amsgrad` was switched on after this parameter's state was made: start from
            # $v^{max} = v_t$, which is what $\max(0, v_t)$ would give
            state[key] = v.clone()
            return state[key]
        # $v^{max}_t \leftarrow \max(v^{max}_{t-1}, v_t)$, in place (with a tensor argument,
        # `clamp_min_` is the element-wise maximum, and it exists for tensors and `TensorList`s alike)
        return state[key].clamp_min_(v)

    def get_lr(self, state: Dict[str, Any], group: Dict[str, Any]) -> float:
        r"""The learning rate $\eta_t$ of this step: $\eta$ here; schedules override this."""
        return group['lr']

    def update_rule(self, state: Dict[str, Any], group: Dict[str, Any], lr: float) -> Optional[UpdateRule]:
        r"""
        The scalars of this step's update $\theta_t \leftarrow \theta_{t-1} - \alpha_t \frac{m_t}{\sqrt{v_t} / d_t + \epsilon}$
        at the rate $\eta_t$ (`lr`): the bias corrections go into $\alpha_t$ and $d_t$.
        """
        beta1, beta2 = group['betas']
        t = state['step']
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        if group['optimized_update']:
            # $\alpha_t = \eta_t \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}$ and $d_t = 1$:
            # $\theta_t \leftarrow \theta_{t-1} - \alpha_t \frac{m_t}{\sqrt{v_t} + \hat{\epsilon}}$
            return UpdateRule(step_size=lr * math.sqrt(bias_correction2) / bias_correction1,
                              v_divisor=1., eps=group['eps'])
        # $\alpha_t = \frac{\eta_t}{1-\beta_1^t}$, so that $\alpha_t m_t = \eta_t \hat{m}_t$, and
        # $d_t = \sqrt{1-\beta_2^t}$, so that $\sqrt{v_t} / d_t = \sqrt{\hat{v}_t}$:
        # $\theta_t \leftarrow \theta_{t-1} - \eta_t \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}$
        return UpdateRule(step_size=lr / bias_correction1, v_divisor=math.sqrt(bias_correction2), eps=group['eps'])

    def adam_update(self, state: Dict[str, Any], group: Dict[str, Any], param, m, v, lr: float):
        r"""Apply the update $\theta_t \leftarrow \theta_{t-1} - \dots$ with the given $m_t$ and $v_t$."""
        rule = self.update_rule(state, group, lr)
        if rule is None:
            return
        if rule.v_divisor is None:
            # $\theta_t \leftarrow \theta_{t-1} - \alpha_t m_t$, a step that does not divide by $\sqrt{v_t}$
            param.add_(m, alpha=-rule.step_size)
            return
        # $\sqrt{v_t} / d_t + \epsilon$ (dividing by $d_t = 1$ would change nothing)
        denominator = v.sqrt()
        if rule.v_divisor != 1.:
            denominator.div_(rule.v_divisor)
        denominator.add_(rule.eps)
        # $\theta_t \leftarrow \theta_{t-1} - \alpha_t \frac{m_t}{\sqrt{v_t} / d_t + \epsilon}$
        param.addcdiv_(m, denominator, value=-rule.step_size)

    def step_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, param):
        """One Adam step for one parameter (or one batch of them)."""
        # $t \leftarrow t + 1$
        state['step'] += 1
        # $\eta_t$, the learning rate of this step (a schedule's, in subclasses)
        lr = self.get_lr(state, group)
        # Weight decay: L2 changes $g_t$, decoupled decay shrinks $\theta_{t-1}$ by $(1 - \eta_t \lambda)$
        grad = WeightDecay.apply(param, grad, group, lr)
        m, v = self.get_mv(state, group, grad)
        self.adam_update(state, group, param, m, v, lr)

    # ### The fused path
    #
    # `fused=True` computes the step above in one pass over memory ([fused](fused.html)). The kernel does the
    # element-wise math of `step_param`; the scalars come from the same hooks: `get_lr`, the weight decay's
    # `factors` and `update_rule`. `fused_moments` says which second moment `get_mv` keeps.

    def fused_moments(self, group: Dict[str, Any]) -> Tuple[str, str, bool, float]:
        r"""
        The second moment `get_mv` computes, as the fused kernel takes it: the state keys of $v_t$ and of its
        running maximum, whether it is AdaBelief's $(g_t - m_t)^2$ (instead of $g_t^2$), and what is added to it.
        """
        return 'exp_avg_sq', 'max_exp_avg_sq', False, 0.

    @classmethod
    def fused_supported(cls) -> bool:
        """
        The kernel computes Adam's `step_param` and `adam_update`, with the `get_mv` that `fused_moments`
        describes; a subclass that overrides one of them without the other gets no fused path.
        """
        def owner(name):
            return next(c for c in cls.__mro__ if name in vars(c))
        return (owner('step_param') is Adam and owner('adam_update') is Adam
                and owner('get_mv') is owner('fused_moments'))

    def fused_step(self, state: Dict[str, Any], group: Dict[str, Any], params: List[torch.Tensor],
                   grads: List[torch.Tensor]):
        """`step_param` for a batch, with the element-wise part in the fused kernel."""
        from labml_nn.optimizers import fused
        # $t \leftarrow t + 1$ and $\eta_t$
        state['step'] += 1
        lr = self.get_lr(state, group)
        param_scale, l2 = WeightDecay.factors(group, lr)
        v_key, max_key, belief, eps_v = self.fused_moments(group)
        amsgrad = bool(group.get('amsgrad'))
        if amsgrad and max_key not in state:
            # `amsgrad` switched on after the state was made: $\max(0, v_t) = v_t$, as `running_max` starts
            state[max_key] = [torch.zeros_like(v) for v in state[v_key]]
        rule = self.update_rule(state, group, lr)
        beta1, beta2 = group['betas']
        fused.adam_step(params, grads, state['exp_avg'], state[v_key], state[max_key] if amsgrad else [],
                        grad_sign=-1. if group.get('maximize') else 1., param_scale=param_scale, l2=l2,
                        beta1=beta1, beta2=beta2, belief=belief, eps_v=eps_v, amsgrad=amsgrad,
                        adaptive=rule is not None and rule.v_divisor is not None,
                        v_divisor=1. if rule is None or rule.v_divisor is None else rule.v_divisor,
                        eps=0. if rule is None else rule.eps,
                        step_size=0. if rule is None else rule.step_size)
