r"""
---
title: Sophia-G optimizer
summary: >
 Sophia-G, annotated: momentum divided by a diagonal Hessian estimate that is refreshed every k steps
 from gradients on labels sampled from the model itself, with every coordinate's step clipped to the learning rate.
---

# Sophia-G

[Liu et al., Sophia: A Scalable Stochastic Second-order Optimizer for Language Model Pre-training](https://arxiv.org/abs/2305.14342)
precondition the momentum with an estimate of the diagonal of the Hessian, like a diagonal Newton method,
and clip each coordinate of the step, so that a coordinate whose curvature is under-estimated
(or negative, or not yet estimated) moves by at most the learning rate.

With gradient $g_t$, learning rate $\eta$, decay rates $\beta_1, \beta_2$, weight decay $\lambda$,
Hessian scale $\rho$ (the paper's $\gamma$), a small $\epsilon$ and a Hessian refresh every $k$ steps,
Algorithm 3 of the paper is, for $t = 1, 2, \dots$ and with $m_0 = 0$, $h_{1-k} = 0$:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
h_t &\leftarrow \beta_2 h_{t-k} + (1 - \beta_2) \hat{h}_t
 \quad \text{if } t \bmod k = 1, \text{ else } h_t \leftarrow h_{t-1} \\
\theta_{t-1} &\leftarrow \theta_{t-1} (1 - \eta \lambda) \\
\theta_t &\leftarrow \theta_{t-1} - \eta \operatorname{clip}\Big(\frac{m_t}{\max(\rho h_t, \epsilon)}, 1\Big)
\end{align}

where $\operatorname{clip}(z, 1) = \max(\min(z, 1), -1)$ per coordinate. Where $\rho h_t$ is large the step is
$\frac{\eta}{\rho} \frac{m_t}{h_t}$, a Newton step on that coordinate (with step size $\eta / \rho$);
where it is small (flat, or $h_t$ still $0$) the step is $\eta \operatorname{sign}(m_t)$, as in sign-SGD.
No coordinate ever moves by more than $\eta$ (plus the weight decay), which is what makes the method
safe where the Hessian estimate is wrong.

## The Gauss-Newton-Bartlett estimator (the "G" of Sophia-G)

For a model $f(\theta, x)$ whose outputs are logits of a softmax and a cross-entropy loss, take a
mini-batch of $B$ inputs $x_b$, **sample** labels $\hat{y}_b$ from the model's own prediction
$\operatorname{softmax}(f(\theta, x_b))$, and compute the gradient of the mean loss on them:

\begin{align}
\hat{g} &= \nabla_\theta \frac{1}{B} \sum_{b=1}^{B} \ell_{CE}\big(f(\theta, x_b), \hat{y}_b\big) \\
\hat{h}_t &= B \cdot \hat{g} \odot \hat{g}
\end{align}

Because the labels come from the model's distribution, the expected gradient of each example is $0$
(Bartlett's identity), so $E[B \hat{g} \odot \hat{g}]$ is the mean over the batch of the per-example
$E[\nabla \ell \odot \nabla \ell]$, which for the softmax cross-entropy equals the diagonal of the
Gauss-Newton matrix. It is never negative. The gradient on the **true** labels would not do: its square
measures how wrong the model is, not how curved the loss is.

The estimate costs one extra forward and backward pass, so it is done every $k$ steps (the paper uses $k = 10$).
It is the caller's job, since only the caller has the model and the data: compute $\hat{g}$ into `p.grad`,
call `update_hessian(B)`, clear the gradients. `sophia_g_hessian_step`, at the end of this page, does all of it.
**If `update_hessian` is never called, $h_t$ stays $0$ and Sophia is sign-SGD with momentum**, which is what the
labml-nn 0.5.1 MNIST experiment ran (it never called it). A training loop that follows Algorithm 3, with the
estimate at steps $t = 1, k+1, 2k+1, \dots$, before the ordinary step:

```python
import torch.nn.functional as F
from labml_nn.optimizers.sophia import Sophia, sophia_g_hessian_step

optimizer = Sophia(model.parameters(), lr=1e-4, rho=0.03, weight_decay=0.1)
k = 10
for i, (x, y) in enumerate(loader):
    if i % k == 0:
        # h_t <- beta_2 h + (1 - beta_2) B g_hat * g_hat, from labels sampled from the model
        sophia_g_hessian_step(model, optimizer, x)
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
```

For a language model, $B$ is the number of tokens in the batch: `sophia_g_hessian_step` flattens the logits to
`(-1, vocabulary)` and samples one label per token.

## Settings and how they relate to other implementations

* `lr` is $\eta$, the largest step any coordinate takes. `rho` is $\rho$, the paper's $\gamma$ in its final version
  (the first version of the paper clipped at $\rho$ instead of $1$; that is the same update with
  $\eta$ and $\rho$ rescaled).
* The defaults are those of labml-nn 0.5.1: `lr=1e-4`, `betas=(0.9, 0.95)`, `eps=1e-12`, `rho=0.03`, no weight decay.
  The paper's GPT-2 runs and the [official implementation](https://github.com/Liuhong99/Sophia) use
  `betas=(0.965, 0.99)`, `rho` around $0.03$ to $0.05$ and `weight_decay=0.1`.
* labml-nn 0.5.1 took a step of
  $\frac{\eta}{\rho}\operatorname{clip}(\frac{m_t}{h_t + \epsilon}, \rho) = \eta \operatorname{clip}(\frac{m_t}{\rho h_t + \rho \epsilon}, 1)$:
  the same update except that $\epsilon$ is added (and scaled by $\rho$) instead of being a floor. This class follows the paper's $\max(\rho h_t, \epsilon)$;
  the two agree whenever $\rho h_t \gg \epsilon$, and both step by $\eta \operatorname{sign}(m_t)$ where $h_t = 0$.
  Its `update_hessian(n_tokens_training_batch)` and its constructor keywords work here unchanged.
* The official implementation keeps the average of $\hat{g} \odot \hat{g}$ and multiplies by $B$ in the step
  (`step(bs=...)`); here $B$ goes into $\hat{h}_t$, as in the paper, so the estimates of batches of different
  sizes can be averaged.
* `weight_decay` is decoupled, $\theta \leftarrow \theta (1 - \eta \lambda)$, as in the paper; a number or a
  [`WeightDecay`](index.html) (which can also select L2 regularization).
* Neither the paper nor this class corrects $m_t$ or $h_t$ for their start at $0$: the clip bounds the early steps.
"""

import math
from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn.functional as F

from labml_nn.optimizers import (GenericAdaptiveOptimizer, TensorList, WeightDecay, check_non_negative,
                                 torch_flag_defaults, weight_decay_defaults)

__all__ = ['Sophia', 'sophia_g_hessian_step']


def _check_positive(name: str, value: Any):
    """Raise a `ValueError` unless `value` is a finite number $> 0$."""
    check_non_negative(name, value)
    if value == 0 or math.isinf(value):
        raise ValueError(f"Invalid {name}: {value!r} (expected a finite number > 0)")


def _clip_(x, bound: float):
    r"""$\operatorname{clip}(x, b) = \max(\min(x, b), -b)$ in place, on a tensor or a `TensorList`."""
    if isinstance(x, TensorList):
        torch._foreach_clamp_min_(x.tensors, -bound)
        torch._foreach_clamp_max_(x.tensors, bound)
        return x
    return x.clamp_(-bound, bound)


class Sophia(GenericAdaptiveOptimizer):
    r"""
    ## Sophia-G

    * `params`: the parameters, or a list of parameter groups (dictionaries)
    * `lr`: learning rate $\eta$, the largest step of a coordinate
    * `betas`: $(\beta_1, \beta_2)$, for the momentum and for the Hessian estimate
    * `eps`: $\epsilon$, the floor of the denominator (must be $> 0$)
    * `rho`: $\rho$, the scale of the Hessian estimate in the denominator (must be $> 0$)
    * `weight_decay`: $\lambda$, decoupled; a number, or a [`WeightDecay`](index.html)
    * `maximize`: ascend instead of descend
    * `foreach`: `True` for the multi-tensor path, `False` for the per-tensor path,
      `None` to pick the multi-tensor path when all parameters of a group are on a GPU
    * `capturable`: accepted for the official implementation's signature; only `False`
    * `defaults`: further group defaults from subclasses
    """

    def __init__(self, params, *,
                 lr: float = 1e-4,
                 betas: Tuple[float, float] = (0.9, 0.95),
                 eps: float = 1e-12,
                 rho: float = 0.03,
                 weight_decay=0.,
                 maximize: bool = False,
                 foreach: Optional[bool] = None,
                 capturable: bool = False,
                 defaults: Optional[Dict[str, Any]] = None):
        all_defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, (list, tuple)) else betas, eps=eps,
                            rho=rho, foreach=foreach)
        all_defaults.update(weight_decay_defaults(weight_decay, weight_decouple=True))
        all_defaults.update(torch_flag_defaults(maximize=maximize, capturable=capturable))
        all_defaults.update(defaults or {})
        super().__init__(params, defaults=all_defaults)

    def check_group(self, group: Dict[str, Any]):
        super().check_group(group)
        # $\epsilon = 0$ would divide $0$ by $0$ where $h_t = 0$ and $m_t = 0$
        _check_positive('eps', group['eps'])
        _check_positive('rho', group['rho'])

    def init_state(self, state: Dict[str, Any], group: Dict[str, Any], param: torch.Tensor):
        """Step count $t = 0$, $m_0 = 0$ and $h = 0$."""
        state['step'] = 0
        state['exp_avg'] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state['hessian'] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def step_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, param):
        """One Sophia step for one parameter (or one batch of them), with the $h_t$ held in the state."""
        # $\theta_{t-1} \leftarrow \theta_{t-1} (1 - \eta \lambda)$ (or L2 on $g_t$, if so configured)
        grad = WeightDecay.apply(param, grad, group)
        # $t \leftarrow t + 1$
        state['step'] += 1
        beta1, _ = group['betas']
        m, h = state['exp_avg'], state['hessian']
        # $m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t$
        m.mul_(beta1).add_(grad, alpha=1 - beta1)
        # $\max(\rho h_t, \epsilon)$
        denominator = h.mul(group['rho']).clamp_min_(group['eps'])
        # $\operatorname{clip}\big(\frac{m_t}{\max(\rho h_t, \epsilon)}, 1\big)$
        ratio = _clip_(m.div(denominator), 1.)
        # $\theta_t \leftarrow \theta_{t-1} - \eta \operatorname{clip}(\dots)$
        param.add_(ratio, alpha=-group['lr'])

    def hessian_param(self, state: Dict[str, Any], group: Dict[str, Any], grad, batch_size: float):
        r"""Fold one estimate $\hat{h}_t = B \hat{g} \odot \hat{g}$ into $h$ (tensors, or `TensorList`s)."""
        _, beta2 = group['betas']
        # $h_t \leftarrow \beta_2 h_{t-k} + (1 - \beta_2) B \hat{g} \odot \hat{g}$
        state['hessian'].mul_(beta2).addcmul_(grad, grad, value=(1 - beta2) * batch_size)

    @torch.no_grad()
    def update_hessian(self, n_tokens_training_batch: float):
        r"""
        ### Update the Hessian estimate $h$

        `p.grad` must hold $\hat{g}$, the gradient of the **mean** loss on labels sampled from the model,
        and `n_tokens_training_batch` is $B$, the number of labels that mean is over
        (the name is labml-nn 0.5.1's). Parameters without a gradient keep their $h$.
        This neither takes a step nor clears the gradients.
        """
        batch_size = n_tokens_training_batch
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, float)) or not batch_size > 0 \
                or math.isinf(batch_size):
            raise ValueError(f"Invalid n_tokens_training_batch: {batch_size!r} (expected a finite number > 0)")
        for group in self.param_groups:
            params = [p for p in group['params'] if p.grad is not None]
            # The working (real, at least `float32`) tensors, as `step` sees them;
            # the sign that `maximize` gives the gradient does not matter to its square
            work = []
            for p in params:
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                param, grad, _ = self._working_tensors(p, group)
                state = self.state[p]
                if len(state) == 0:
                    self.init_state(state, group, param)
                work.append((state, param, grad))
            if self._use_foreach(group, params):
                batches: Dict[Any, list] = {}
                for state, param, grad in work:
                    batches.setdefault((param.device, param.dtype), []).append((state, grad))
                for items in batches.values():
                    self.hessian_param({'hessian': TensorList([s['hessian'] for s, _ in items])}, group,
                                       TensorList([g for _, g in items]), batch_size)
            else:
                for state, _, grad in work:
                    self.hessian_param(state, group, grad, batch_size)


def sophia_g_hessian_step(model: torch.nn.Module, optimizer: Sophia, inputs, *,
                          batch_size: Optional[float] = None,
                          generator: Optional[torch.Generator] = None) -> torch.Tensor:
    r"""
    ### One Gauss-Newton-Bartlett estimate

    Samples $\hat{y}_b \sim \operatorname{softmax}(f(\theta, x_b))$, back-propagates the mean cross-entropy on them,
    calls `optimizer.update_hessian(B)` and clears the gradients. `model(inputs)` must return logits whose last
    dimension is the classes; every other position is one of the $B$ labels (`batch_size` overrides that count).
    Returns the sampled labels. `generator` makes the sampling repeatable.
    """
    optimizer.zero_grad(set_to_none=True)
    with torch.enable_grad():
        logits = model(inputs)
        logits = logits.reshape(-1, logits.shape[-1])
        # $\hat{y}_b \sim \operatorname{softmax}(f(\theta, x_b))$, with no gradient through the sampling
        # (probabilities in at least `float32`, which `torch.multinomial` needs)
        with torch.no_grad():
            probs = logits.softmax(dim=-1, dtype=torch.promote_types(logits.dtype, torch.float32))
            labels = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        # $\frac{1}{B} \sum_b \ell_{CE}(f(\theta, x_b), \hat{y}_b)$, whose gradient is $\hat{g}$
        loss = F.cross_entropy(logits, labels)
        loss.backward()
    optimizer.update_hessian(batch_size if batch_size is not None else labels.numel())
    optimizer.zero_grad(set_to_none=True)
    return labels
