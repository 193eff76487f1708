"""The Optimizer base class: gradient fetching (weight decay, pruning masks), constraints, state."""
from __future__ import annotations

import numpy as np

from .. import backend


class Optimizer:
    """Holds the parameters and their per-parameter state (momentum buffers, moment estimates).

    Subclasses implement ``update(parameter, gradient, state)``, changing ``parameter.data`` in place.
    Before the update the gradient gets weight decay (g + wd * w, PyTorch's L2 form) and the
    parameter's pruning mask (masked weights get a zero gradient, so their moment buffers stay zero
    and the weights stay exactly zero). After it, a parameter's ``constraint`` (e.g. UnitNorm) applies.
    """

    def __init__(self, params, lr, weight_decay=0.0):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list; pass model.parameters()")
        if lr <= 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.lr, self.weight_decay = lr, weight_decay
        self.state = [dict() for _ in self.params]

    def zero_grad(self):
        for parameter in self.params:
            parameter.grad = None

    def gradient(self, parameter):
        """The gradient the update uses: g + weight_decay * w, zero where the parameter is pruned.
        Never modified in place: one gradient array may be shared by several parameters."""
        g = parameter.grad
        if self.weight_decay:
            g = g + self.weight_decay * parameter.data
        if parameter.mask is not None:
            g = g * parameter.mask
        return g

    def step(self):
        for parameter, state in zip(self.params, self.state):
            if parameter.grad is None:
                continue
            self.update(parameter, self.gradient(parameter), state)
            constraint = getattr(parameter, "constraint", None)
            if constraint is not None:
                constraint(parameter)

    def update(self, parameter, gradient, state):
        raise NotImplementedError

    # ------------------------------------------------------------------ resuming
    hyperparameters = ("lr", "weight_decay")

    def state_dict(self) -> dict:
        """{"hyperparameters": {...}, "state": [{name: NumPy array or number} per parameter]}."""
        return {"hyperparameters": {name: getattr(self, name) for name in self.hyperparameters},
                "state": [{k: backend.to_numpy(v).copy() if hasattr(v, "shape") else v for k, v in s.items()}
                          for s in self.state]}

    def load_state_dict(self, state_dict: dict):
        if len(state_dict["state"]) != len(self.params):
            raise ValueError(f"optimizer state has {len(state_dict['state'])} parameters, "
                             f"this optimizer has {len(self.params)}")
        for name, value in state_dict["hyperparameters"].items():
            setattr(self, name, value)
        self.state = [{k: backend.to_device(v, p.device) if isinstance(v, np.ndarray) else v
                       for k, v in s.items()} for p, s in zip(self.params, state_dict["state"])]
