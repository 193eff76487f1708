"""Learning-rate schedules: how the optimizer's lr changes from epoch to epoch."""
from __future__ import annotations


class StepLR:
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs: lr_e = lr_0 * gamma^(e // step_size).
    Call ``step()`` once at the end of every epoch."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive whole number of epochs, got {step_size!r}")
        if not (isinstance(gamma, (int, float)) and 0 < gamma < float("inf")):
            raise ValueError(f"StepLR: gamma must be a finite number > 0, got {gamma!r}")
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.base_lr, self.epoch = optimizer.lr, 0

    def step(self):
        self.epoch += 1
        self._set_lr()

    def _set_lr(self):
        self.optimizer.lr = self.base_lr * self.gamma ** (self.epoch // self.step_size)

    def state_dict(self):
        return {"epoch": self.epoch, "base_lr": self.base_lr, "step_size": self.step_size, "gamma": self.gamma}

    def load_state_dict(self, state):
        """Restore a saved schedule (and the learning rate it had set)."""
        self.epoch, self.base_lr = int(state["epoch"]), float(state["base_lr"])
        self.step_size, self.gamma = int(state.get("step_size", self.step_size)), state.get("gamma", self.gamma)
        self._set_lr()
