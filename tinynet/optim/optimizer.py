"""The Optimizer base class: the parameters, the step (update rule between hooks), saved state."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..tensor import Tensor
from .hooks import Constraint, OptimizerHook, PruningMask, WeightDecay


def check_hyperparameter(owner, name, value, low=0.0, high=math.inf, high_inclusive=True):
    """Raise ValueError naming ``owner`` and ``name`` unless low <= value <= high (or < high)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}") from None
    inside = low <= number and (number <= high if high_inclusive else number < high)
    if not inside or math.isnan(number) or (math.isinf(number) and high_inclusive):
        closing = "]" if high_inclusive else ")"
        raise ValueError(f"{owner}: invalid {name} {value!r}; it must be a finite number in [{low}, {high}{closing}")
    return value


class Optimizer:
    """Holds the parameters and their per-parameter state (momentum buffers, moment estimates).

    Subclasses implement ``update(parameter, gradient, state)``, changing ``parameter.data`` in place.
    Everything else a step does to a gradient or a weight is a hook in ``self.hooks``
    (tinynet/optim/hooks.py): weight decay and pruning masks before the update, constraints after it.
    """

    def __init__(self, params, lr, weight_decay=0.0):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of Parameters (e.g. model.parameters() "
                            f"or [layer.weight]), got a single {type(params).__name__} of shape {params.shape}")
        self.params = []
        for parameter in params:  # a parameter listed twice is updated once, as in PyTorch
            if not isinstance(parameter, Tensor):
                raise TypeError(f"{name}: params must hold Parameters, got {type(parameter).__name__}")
            if not any(parameter is known for known in self.params):
                self.params.append(parameter)
        if not self.params:
            raise ValueError(f"{name} got an empty parameter list; pass model.parameters()")
        self.lr = check_hyperparameter(name, "lr", lr)
        self.weight_decay = check_hyperparameter(name, "weight_decay", weight_decay)
        self.state = [dict() for _ in self.params]
        self.hooks = [WeightDecay(), PruningMask(), Constraint()]

    def add_hook(self, hook: OptimizerHook):
        """Run ``hook`` at every step, after the hooks already there (see tinynet/optim/hooks.py)."""
        if not isinstance(hook, OptimizerHook):
            raise TypeError(f"{type(self).__name__}.add_hook: expected an OptimizerHook (with before_update "
                            f"and/or after_update), got {type(hook).__name__}")
        self.hooks.append(hook)

    def zero_grad(self):
        for parameter in self.params:
            parameter.grad = None

    def gradient(self, parameter):
        """The gradient the update rule uses: parameter.grad passed through every hook's before_update."""
        gradient = parameter.grad
        for hook in self.hooks:
            gradient = hook.before_update(self, parameter, gradient)
        return gradient

    def step(self):
        for parameter, state in zip(self.params, self.state):
            if parameter.grad is None:
                continue
            self.update(parameter, self.gradient(parameter), state)
            for hook in self.hooks:
                hook.after_update(self, parameter)
            parameter.mark_changed_in_place()

    def update(self, parameter, gradient, state):
        raise NotImplementedError

    # ------------------------------------------------------------------ resuming
    hyperparameters = ("lr", "weight_decay")

    def state_dict(self) -> dict:
        """{"hyperparameters": {...}, "state": [{name: NumPy array or number} per parameter]}."""
        return {"hyperparameters": {name: getattr(self, name) for name in self.hyperparameters},
                "state": [{k: backend.to_numpy(v).copy() if hasattr(v, "shape") else v for k, v in s.items()}
                          for s in self.state]}

    def check_state_dict(self, state_dict: dict):
        """Raise ValueError, changing nothing, if ``state_dict`` belongs to another optimizer type
        or to other parameters."""
        name = type(self).__name__
        if len(state_dict["state"]) != len(self.params):
            raise ValueError(f"{name}: the saved optimizer state has {len(state_dict['state'])} parameters, "
                             f"this optimizer has {len(self.params)}")
        hyper = state_dict["hyperparameters"]
        if set(hyper) != set(self.hyperparameters):
            raise ValueError(f"{name}: the saved optimizer state has hyper-parameters {sorted(hyper)}, "
                             f"{name} has {sorted(self.hyperparameters)}: it was saved from another optimizer "
                             f"type; build the same optimizer as the saved run")
        for parameter, entry in zip(self.params, state_dict["state"]):
            for key, value in entry.items():
                if hasattr(value, "shape") and tuple(value.shape) != parameter.shape:
                    raise ValueError(f"{name}: saved state {key!r} has shape {tuple(value.shape)}, its parameter "
                                     f"has {parameter.shape}; the checkpoint belongs to another model")

    def load_state_dict(self, state_dict: dict):
        """Restore what state_dict() returned (checked first with check_state_dict)."""
        self.check_state_dict(state_dict)
        for key, value in state_dict["hyperparameters"].items():
            setattr(self, key, value)
        self.state = [{k: backend.to_device(np.array(v), p.device) if isinstance(v, np.ndarray) else v
                       for k, v in s.items()} for p, s in zip(self.params, state_dict["state"])]
