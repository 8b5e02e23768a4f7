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
* **`state_dict()` nests the two**: `{'optimizer': inner.state_dict(), 'wrapper_state': {index: {...}}}`,
  where `index` numbers the parameters in the order of the groups, as `torch.optim` does.
  Nesting, rather than merging the two into one dictionary, lets wrappers wrap wrappers
  (`Lookahead(LARC(SGD(...)))`): each level saves and restores its own part.

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

    def _params(self) -> List[torch.Tensor]:
        """The parameters in the order `state_dict()` numbers them."""
        return [p for group in self.param_groups for p in group['params']]

    def state_dict(self) -> Dict[str, Any]:
        """The inner optimizer's `state_dict()`, and the wrapper's state keyed by parameter index."""
        index = {p: i for i, p in enumerate(self._params())}
        wrapper_state = {index[p]: dict(s) for p, s in self.wrapper_state.items() if p in index}
        return {'optimizer': self.optimizer.state_dict(), 'wrapper_state': wrapper_state}

    def load_state_dict(self, state_dict: Dict[str, Any]):
        """Restore both parts; tensors are copied to the parameter's device (and floating dtype), as torch does."""
        if set(state_dict) != {'optimizer', 'wrapper_state'}:
            raise ValueError(f"{type(self).__name__}.load_state_dict expects the dictionary returned by "
                             f"{type(self).__name__}.state_dict(), with keys 'optimizer' and 'wrapper_state'")
        self.optimizer.load_state_dict(state_dict['optimizer'])
        params = self._params()
        wrapper_state = defaultdict(dict)
        for i, saved in state_dict['wrapper_state'].items():
            if not 0 <= i < len(params):
                raise ValueError(f"wrapper_state has an entry for parameter {i}, but there are {len(params)}")
            p = params[i]
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
