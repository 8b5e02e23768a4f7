r"""
---
title: Optimizer wrappers
summary: >
 A thin base class for optimizers that wrap another optimizer (Lookahead, LARC): it shares the inner
 optimizer's parameter groups and state, so schedulers and checkpoints work through it.
---

# Optimizer wrappers

Some methods are not optimizers of their own but change what *another* optimizer does:
[Lookahead](lookahead.html) pulls the weights back towards a slow copy every $k$ steps, and
[LARC](larc.html) rescales each layer's gradient before the inner step. They work with any optimizer,
so they are written as wrappers, `Lookahead(torch.optim.SGD(model.parameters(), lr=0.1))`, rather than as
one subclass per optimizer.

A wrapper must still *be* a `torch.optim.Optimizer`: learning-rate schedulers check
`isinstance(optimizer, Optimizer)` and then edit `optimizer.param_groups[i]['lr']`, and training code calls
`zero_grad()`, `step(closure)`, `state_dict()` and `load_state_dict()`. The choices below make that true
without copying anything:

* **The parameter groups are the inner optimizer's own list.** `param_groups` is a property that returns
  `optimizer.param_groups`, so a scheduler that sets `group['lr']` on the wrapper changes the rate that the
  inner optimizer reads, and `add_param_group` on the wrapper adds the group to the inner optimizer.
  It is a property, not an attribute set once, because `load_state_dict` of a `torch.optim.Optimizer`
  replaces its list of groups with a new one.
* **The wrapper's hyper-parameters go into those same groups** (e.g. `lookahead_k`), under names with the
  wrapper's prefix so that they cannot clash with the inner optimizer's (`alpha` is a hyper-parameter of
  `torch.optim.RMSprop`). Being in the groups, they are saved with the groups, a group may override them,
  and a scheduler can change them.
* **`state` is the inner optimizer's state.** The wrapper keeps its own per-parameter state
  (Lookahead's slow weights) in a second dictionary, `wrapper_state`, so that the inner optimizer never sees
  keys it does not know (many optimizers create their state when `state[p]` is empty).
* **`state_dict()` has torch's shape**: the inner optimizer's `state_dict()`, with the wrapper's state of each
  parameter added to that parameter's entry under keys prefixed with the wrapper's name (`lookahead_slow_param`).
  Tools that read optimizer checkpoints by parameter, such as `torch.distributed.checkpoint`, need that shape;
  the prefix keeps the two parts apart, so a wrapper of a wrapper (`Lookahead(LARC(SGD(...)))`) saves and
  restores each level's part. (Earlier versions nested the two parts, `{'optimizer': ..., 'wrapper_state': ...}`;
  those still load.)

`Optimizer.__init__` is not called: it would build a second set of groups from the parameters.
Instead the wrapper sets itself up with `Optimizer.__setstate__`, the method torch uses to restore an
unpickled optimizer whose groups already exist; it creates the hook tables and the step instrumentation
that the rest of `torch.optim.Optimizer` expects.
"""

from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional

import torch
from torch.optim import Optimizer

__all__ = ['OptimizerWrapper']


class OptimizerWrapper(Optimizer):
    """
    ## Base class of wrappers

    * `optimizer`: the inner optimizer, any `torch.optim.Optimizer`
    * `defaults`: the wrapper's own hyper-parameters; they are added to every group that does not set them

    Subclasses override `step` and `check_group`.
    """

    def __init__(self, optimizer: Optimizer, *, defaults: Dict[str, Any]):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} wraps a torch.optim.Optimizer, got {type(optimizer).__name__}")
        inner = optimizer
        while isinstance(inner, OptimizerWrapper):
            if inner.state_key_prefix == self.state_key_prefix:
                raise ValueError(f"{type(self).__name__} cannot wrap another {type(inner).__name__}: "
                                 f"their states would share the keys {self.state_key_prefix}* in state_dict()")
            inner = inner.optimizer
        # torch's own set-up of an optimizer whose groups exist (hook tables, the profiled `step`)
        super().__setstate__(dict(optimizer=optimizer, wrapper_defaults=dict(defaults),
                                  wrapper_state=defaultdict(dict)))
        for group in self.param_groups:
            self._add_wrapper_defaults(group)

    # ### What is shared with the inner optimizer

    @property
    def param_groups(self) -> List[Dict[str, Any]]:
        """The inner optimizer's groups (the same list and the same dictionaries)."""
        return self.optimizer.param_groups

    @property
    def state(self) -> Dict[torch.Tensor, Dict[str, Any]]:
        """The inner optimizer's per-parameter state."""
        return self.optimizer.state

    @property
    def defaults(self) -> Dict[str, Any]:
        """The inner optimizer's defaults and the wrapper's (`OneCycleLR` looks for `betas`/`momentum` here)."""
        return {**self.optimizer.defaults, **self.wrapper_defaults}

    def __getstate__(self) -> Dict[str, Any]:
        # What `copy.deepcopy` and pickling keep; as in torch, hooks are not kept
        return dict(optimizer=self.optimizer, wrapper_defaults=self.wrapper_defaults,
                    wrapper_state=self.wrapper_state)

    def __repr__(self) -> str:
        settings = ', '.join(f'{k}={v!r}' for k, v in self.wrapper_defaults.items())
        return f"{type(self).__name__}({self.optimizer!r}, {settings})"

    # ### Groups

    def check_group(self, group: Dict[str, Any]):
        """Validate the wrapper's hyper-parameters in one group; raise `ValueError` naming the bad one."""

    def _add_wrapper_defaults(self, group: Dict[str, Any]):
        for key, value in self.wrapper_defaults.items():
            group.setdefault(key, value)
        self.check_group(group)

    def add_param_group(self, param_group: Dict[str, Any]):
        """Add the group to the inner optimizer (which checks its own settings), then fill in and check ours."""
        self.optimizer.add_param_group(param_group)
        self._add_wrapper_defaults(self.param_groups[-1])

    # ### Stepping

    def zero_grad(self, set_to_none: bool = True):
        self.optimizer.zero_grad(set_to_none=set_to_none)

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], float]] = None):
        """Without an override, the inner optimizer's step."""
        return self.optimizer.step(closure)

    # ### Saving and loading

    @property
    def state_key_prefix(self) -> str:
        """What the wrapper's state keys start with in `state_dict()`: its class name, e.g. `lookahead_`."""
        return type(self).__name__.lower() + '_'

    def _params(self) -> List[torch.Tensor]:
        """The parameters in the order `state_dict()` numbers them."""
        return [p for group in self.param_groups for p in group['params']]

    def state_dict(self) -> Dict[str, Any]:
        """
        The inner optimizer's `state_dict()`, with the wrapper's state of each parameter added to that parameter's
        entry under keys that start with `state_key_prefix` (`lookahead_slow_param`). It keeps torch's shape (`state` by parameter index, and
        `param_groups`), which `torch.distributed.checkpoint` needs to map each entry to its parameter's name.
        """
        inner = self.optimizer.state_dict()
        index = {p: i for i, p in enumerate(self._params())}
        state = {i: dict(s) for i, s in inner['state'].items()}
        for p, saved in self.wrapper_state.items():
            if p in index:
                entry = state.setdefault(index[p], {})
                entry.update({self.state_key_prefix + key: value for key, value in saved.items()})
        return {'state': state, 'param_groups': inner['param_groups']}

    def load_state_dict(self, state_dict: Dict[str, Any]):
        """
        Restore both parts; tensors are copied to the parameter's device (and floating dtype), as torch does.
        Also loads the `{'optimizer': ..., 'wrapper_state': ...}` dictionaries that earlier versions saved.
        """
        if set(state_dict) == {'optimizer', 'wrapper_state'}:
            inner, saved_wrapper_state = state_dict['optimizer'], state_dict['wrapper_state']
        elif isinstance(state_dict.get('state'), dict) and isinstance(state_dict.get('param_groups'), list):
            groups = state_dict['param_groups']
            if self.wrapper_defaults and not any(key in group for group in groups for key in self.wrapper_defaults):
                raise ValueError(f"This state_dict has none of {type(self).__name__}'s settings "
                                 f"({', '.join(self.wrapper_defaults)}): it is a plain optimizer's; "
                                 f"load it into the inner optimizer with .optimizer.load_state_dict(...)")
            inner_state, saved_wrapper_state = {}, {}
            prefix = self.state_key_prefix
            for i, saved in state_dict['state'].items():
                own = {k: v for k, v in saved.items() if not k.startswith(prefix)}
                wrapped = {k[len(prefix):]: v for k, v in saved.items() if k.startswith(prefix)}
                if own:
                    inner_state[i] = own
                if wrapped:
                    saved_wrapper_state[i] = wrapped
            inner = {'state': inner_state, 'param_groups': groups}
        else:
            raise ValueError(f"{type(self).__name__}.load_state_dict expects the dictionary returned by "
                             f"{type(self).__name__}.state_dict(), with keys 'state' and 'param_groups'")
        # The saved groups name their parameters (indices, or the names `torch.distributed.checkpoint` uses) in the
        # order of ours, as `Optimizer.load_state_dict` maps them
        params = self._params()
        saved_ids = [i for group in inner['param_groups'] for i in group['params']]
        if len(saved_ids) != len(params):
            raise ValueError(f"The state_dict's groups list {len(saved_ids)} parameters, this optimizer has "
                             f"{len(params)}")
        by_id = dict(zip(saved_ids, params))
        for i in saved_wrapper_state:
            if i not in by_id:
                raise ValueError(f"The state_dict has wrapper state for parameter {i!r}, which none of its "
                                 f"groups lists ({len(params)} parameters here)")
        self.optimizer.load_state_dict(inner)
        wrapper_state = defaultdict(dict)
        for i, saved in saved_wrapper_state.items():
            p = by_id[i]
            wrapper_state[p] = {key: _to_param(value, p) for key, value in saved.items()}
        self.wrapper_state = wrapper_state
        for group in self.param_groups:
            self._add_wrapper_defaults(group)


def _to_param(value: Any, param: torch.Tensor) -> Any:
    """A copy of a saved state value placed like `param`; numbers are kept as they are."""
    if not isinstance(value, torch.Tensor):
        return value
    if value.is_floating_point() and param.is_floating_point():
        return value.to(device=param.device, dtype=param.dtype, copy=True)
    return value.to(device=param.device, copy=True)
