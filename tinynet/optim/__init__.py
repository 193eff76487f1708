"""Optimizers, ``from tinynet import optim`` (like torch.optim)."""
from .optimizer import Optimizer
from .optimizers import SGD, Adam, RMSprop
from .schedule import StepLR, UnitNorm

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "StepLR", "UnitNorm"]
