r"""
---
title: Optimizer configurations
summary: >
 OptimizerConfigs: choose and set up an optimizer by name in a labml experiment.
---

# Optimizer configurations

[labml](https://github.com/labmlai/labml) configurations compute values lazily from other values and
from named *options*. `OptimizerConfigs` makes the optimizer one such value, so an experiment picks it by
name and overrides its hyper-parameters from the command line or a dictionary:

```python
conf = OptimizerConfigs()
conf.parameters = model.parameters()
conf.optimizer = 'AdamW'
conf.learning_rate = 3e-4
conf.weight_decay = 0.01
optimizer = conf.optimizer  # computed here
```

The option names mean what they say:

* `'SGD'`: [SGD](sgd.html) (equal to `torch.optim.SGD`) with `momentum`, `dampening`, `nesterov` and L2
  weight decay.
* `'Adagrad'`, `'RMSprop'`, `'Adadelta'`: [Adagrad](adagrad.html), [RMSprop](rmsprop.html) and
  [Adadelta](adadelta.html), equal to their `torch.optim` classes, with L2 weight decay.
* `'Adam'`: [Adam](adam.html), or [AMSGrad](amsgrad.html) when `amsgrad` is set, with the weight decay of
  `weight_decay_obj` (decoupled by default, as in labml-nn 0.5.1; set `weight_decouple = False` for the L2
  regularization of `torch.optim.Adam(weight_decay=...)`).
* `'AdamW'`: [Adam with warm-up](adam_warmup.html) (`warmup`, 2000 steps by default) with the weight decay of
  `weight_decay_obj`. This is what labml-nn 0.5.1 built under this name; for plain `torch.optim.AdamW` set
  `warmup = 0` (the decay is decoupled by default).
* `'AMSGrad'`: [AMSGrad](amsgrad.html) with L2 weight decay, like `torch.optim.Adam(amsgrad=True)`.
* `'RAdam'`: [RAdam](radam.html).
* `'AdaBelief'`: [AdaBelief](ada_belief.html).
* `'AdamWarmup'`: [Adam with warm-up](adam_warmup.html).
* `'AdamWarmupCosineDecay'`: [Adam with warm-up and cosine decay](adam_warmup_cosine_decay.html).
* `'Noam'`: [Noam](noam.html).
* `'QHAdam'`: [QHAdam](qhadam.html) with `nus`.
* `'LAMB'`: [LAMB](lamb.html) (its decay sits inside the trust ratio, as in the paper).
* `'LARS'`: [LARS](larc.html), SGD with momentum and the layer-wise rate (`trust_coefficient`, `larc_clip`).
* `'Lookahead'`: [Lookahead](lookahead.html) (`lookahead_k`, `lookahead_alpha`) around [Adam](adam.html).
* `'Ranger'`: [Ranger](ranger.html), RAdam inside Lookahead.
* `'Sophia'`: [Sophia-G](sophia.html) with `rho`, the labml-nn 0.5.1 name and field. Its Hessian estimate must
  be updated by the training loop (see its page); the option only builds the optimizer.

`'Adam'`, `'AdamW'`, `'RAdam'`, `'AdaBelief'`, the warm-up and Noam options, `'Lookahead'`, `'Ranger'` and
`'Sophia'` take their weight decay from `weight_decay_obj`.

`weight_decay_obj` is a [`WeightDecay`](index.html) built from `weight_decay`, `weight_decouple`
(default `True`, decoupled) and `weight_decay_absolute`; its option is `'L2'`, the labml-nn 0.5.1 name
(`'WeightDecay'` is the same option). `amsgrad` applies to every Adam-family option (`'AMSGrad'` has it
always on).

## Differences from labml-nn 0.5.1

Every field of labml-nn 0.5.1 exists here under its name and with its default (`warmup=2000`,
`degenerate_to_sgd=True`, ...), and its options build the same classes with the same group settings,
except for the items below, which are deliberate (the tests compare this list with the code). A field name
that 0.5.1 did not have, such as `degenerated_to_sgd`, is an error when it is set, not ignored.

* `d_model`, `rho`: have defaults (512 and 0.03; 0.5.1 had none, so an experiment had to set them).
* `optimized_adam_update`: is passed to every Adam-family option; 0.5.1 passed it only to `'Adam'`, and
  `'AdamW'`, `'RAdam'`, `'AdaBelief'`, `'Noam'` and `'AdamWarmupCosineDecay'` always used `True`, its default.
* `'AdaBelief'`: its settings are passed by name. 0.5.1 passed them by position into the wrong parameters,
  so its `'AdaBelief'` used `amsgrad=degenerate_to_sgd` (on by default), `optimized_update=amsgrad` (off by
  default) and never took the SGD step.
* `'SGD'`: builds our [SGD](sgd.html), which steps exactly as the `torch.optim.SGD` of 0.5.1 and
  also takes `dampening`, `nesterov` and `foreach`.
* `foreach`: new; passed to every option (`None`, the default, is what 0.5.1's classes did on a CPU).
"""

from typing import Any, Tuple

import torch
from labml.configs import BaseConfigs, meta_config, option

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adadelta import Adadelta
from labml_nn.optimizers.adagrad import Adagrad
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.lamb import Lamb
from labml_nn.optimizers.larc import LARS
from labml_nn.optimizers.lookahead import Lookahead
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.qhadam import QHAdam
from labml_nn.optimizers.radam import RAdam
from labml_nn.optimizers.ranger import Ranger
from labml_nn.optimizers.rmsprop import RMSprop
from labml_nn.optimizers.sgd import SGD
from labml_nn.optimizers.sophia import Sophia


class OptimizerConfigs(BaseConfigs):
    """
    ## Configurations

    `optimizer` is the primary value: using the configurations as a value gives the optimizer.
    """

    # The optimizer; computed by the option named in `optimizer`
    optimizer: torch.optim.Optimizer
    # The parameters to optimize (or a list of parameter groups); set by the experiment
    parameters: Any

    learning_rate: float = 0.01
    betas: Tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    momentum: float = 0.5
    dampening: float = 0.
    nesterov: bool = False

    weight_decay: float = 0.
    weight_decouple: bool = True
    weight_decay_absolute: bool = False
    weight_decay_obj: WeightDecay

    optimized_adam_update: bool = True
    amsgrad: bool = False
    degenerate_to_sgd: bool = True
    rectify: bool = True

    # Adagrad, RMSprop and Adadelta
    lr_decay: float = 0.
    initial_accumulator_value: float = 0.
    rmsprop_alpha: float = 0.99
    centered: bool = False
    adadelta_rho: float = 0.9
    # QHAdam, LARS, Lookahead and Sophia
    nus: Tuple[float, float] = (0.7, 1.0)
    trust_coefficient: float = 0.001
    larc_clip: bool = False
    lookahead_k: int = 6
    lookahead_alpha: float = 0.5
    rho: float = 0.03

    # Warm-up steps of `'AdamW'`, `'AdamWarmup'`, `'AdamWarmupCosineDecay'` and `'Noam'` (0.5.1's default)
    warmup: int = 2_000
    total_steps: int = int(1e10)
    d_model: int = 512

    # `None` picks the multi-tensor path on GPUs (see [the template](index.html))
    foreach: Any = None

    def __init__(self):
        super().__init__(_primary='optimizer')


# `parameters` is set by the experiment; it is not a hyper-parameter
meta_config(OptimizerConfigs.parameters)


@option(OptimizerConfigs.weight_decay_obj, 'L2')
@option(OptimizerConfigs.weight_decay_obj, 'WeightDecay')
def _weight_decay(c: OptimizerConfigs):
    return WeightDecay(c.weight_decay, weight_decouple=c.weight_decouple, absolute=c.weight_decay_absolute)


def _adam_keywords(c: OptimizerConfigs, weight_decay: WeightDecay):
    return dict(lr=c.learning_rate, betas=c.betas, eps=c.eps, weight_decay=weight_decay,
                optimized_update=c.optimized_adam_update, foreach=c.foreach)


@option(OptimizerConfigs.optimizer, 'SGD')
def _sgd(c: OptimizerConfigs):
    return SGD(c.parameters, lr=c.learning_rate, momentum=c.momentum, dampening=c.dampening, nesterov=c.nesterov,
               weight_decay=c.weight_decay, foreach=c.foreach)


@option(OptimizerConfigs.optimizer, 'Adagrad')
def _adagrad(c: OptimizerConfigs):
    return Adagrad(c.parameters, lr=c.learning_rate, lr_decay=c.lr_decay, weight_decay=c.weight_decay,
                   initial_accumulator_value=c.initial_accumulator_value, eps=c.eps, foreach=c.foreach)


@option(OptimizerConfigs.optimizer, 'RMSprop')
def _rmsprop(c: OptimizerConfigs):
    return RMSprop(c.parameters, lr=c.learning_rate, alpha=c.rmsprop_alpha, eps=c.eps, weight_decay=c.weight_decay,
                   momentum=c.momentum, centered=c.centered, foreach=c.foreach)


@option(OptimizerConfigs.optimizer, 'Adadelta')
def _adadelta(c: OptimizerConfigs):
    return Adadelta(c.parameters, lr=c.learning_rate, rho=c.adadelta_rho, eps=c.eps, weight_decay=c.weight_decay,
                    foreach=c.foreach)


@option(OptimizerConfigs.optimizer, 'Adam')
def _adam(c: OptimizerConfigs):
    if c.amsgrad:
        return AMSGrad(c.parameters, amsgrad=True, **_adam_keywords(c, c.weight_decay_obj))
    return Adam(c.parameters, **_adam_keywords(c, c.weight_decay_obj))


@option(OptimizerConfigs.optimizer, 'AdamW')
def _adam_w(c: OptimizerConfigs):
    # labml-nn 0.5.1's 'AdamW': Adam with warm-up, and the configured weight decay
    return AdamWarmup(c.parameters, amsgrad=c.amsgrad, warmup=c.warmup, **_adam_keywords(c, c.weight_decay_obj))


@option(OptimizerConfigs.optimizer, 'AMSGrad')
def _ams_grad(c: OptimizerConfigs):
    return AMSGrad(c.parameters, amsgrad=True,
                   **_adam_keywords(c, WeightDecay(c.weight_decay, weight_decouple=False)))


@option(OptimizerConfigs.optimizer, 'RAdam')
def _radam(c: OptimizerConfigs):
    return RAdam(c.parameters, amsgrad=c.amsgrad, degenerate_to_sgd=c.degenerate_to_sgd,
                 **_adam_keywords(c, c.weight_decay_obj))


@option(OptimizerConfigs.optimizer, 'AdaBelief')
def _ada_belief(c: OptimizerConfigs):
    return AdaBelief(c.parameters, amsgrad=c.amsgrad, degenerate_to_sgd=c.degenerate_to_sgd, rectify=c.rectify,
                     **_adam_keywords(c, c.weight_decay_obj))


@option(OptimizerConfigs.optimizer, 'AdamWarmup')
def _adam_warmup(c: OptimizerConfigs):
    return AdamWarmup(c.parameters, amsgrad=c.amsgrad, warmup=c.warmup, **_adam_keywords(c, c.weight_decay_obj))


@option(OptimizerConfigs.optimizer, 'AdamWarmupCosineDecay')
def _adam_warmup_cosine_decay(c: OptimizerConfigs):
    return AdamWarmupCosineDecay(c.parameters, amsgrad=c.amsgrad, warmup=c.warmup, total_steps=c.total_steps,
                                 **_adam_keywords(c, c.weight_decay_obj))


@option(OptimizerConfigs.optimizer, 'Noam')
def _noam(c: OptimizerConfigs):
    return Noam(c.parameters, amsgrad=c.amsgrad, warmup=c.warmup, d_model=c.d_model,
                **_adam_keywords(c, c.weight_decay_obj))


@option(OptimizerConfigs.optimizer, 'QHAdam')
def _qhadam(c: OptimizerConfigs):
    return QHAdam(c.parameters, lr=c.learning_rate, betas=c.betas, nus=c.nus, eps=c.eps, weight_decay=c.weight_decay,
                  weight_decouple=c.weight_decouple, fixed_decay=c.weight_decay_absolute, foreach=c.foreach)


@option(OptimizerConfigs.optimizer, 'LAMB')
def _lamb(c: OptimizerConfigs):
    return Lamb(c.parameters, lr=c.learning_rate, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay,
                foreach=c.foreach)


@option(OptimizerConfigs.optimizer, 'LARS')
def _lars(c: OptimizerConfigs):
    return LARS(c.parameters, lr=c.learning_rate, momentum=c.momentum, weight_decay=c.weight_decay,
                trust_coefficient=c.trust_coefficient, clip=c.larc_clip, foreach=c.foreach)


@option(OptimizerConfigs.optimizer, 'Lookahead')
def _lookahead(c: OptimizerConfigs):
    return Lookahead(Adam(c.parameters, **_adam_keywords(c, c.weight_decay_obj)), k=c.lookahead_k,
                     alpha=c.lookahead_alpha)


@option(OptimizerConfigs.optimizer, 'Ranger')
def _ranger(c: OptimizerConfigs):
    return Ranger(c.parameters, lr=c.learning_rate, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay_obj,
                  k=c.lookahead_k, alpha=c.lookahead_alpha, degenerate_to_sgd=c.degenerate_to_sgd,
                  foreach=c.foreach)


@option(OptimizerConfigs.optimizer, 'Sophia')
def _sophia(c: OptimizerConfigs):
    return Sophia(c.parameters, lr=c.learning_rate, betas=c.betas, eps=c.eps, rho=c.rho,
                  weight_decay=c.weight_decay_obj, foreach=c.foreach)
