"""Optimizers, ``from tinynet import optim`` (like torch.optim)."""
from .hooks import Constraint, OptimizerHook, PruningMask, UnitNorm, WeightDecay
from .optimizer import Optimizer
from .optimizers import SGD, Adam, RMSprop
from .schedule import StepLR

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "StepLR", "UnitNorm",
           "OptimizerHook", "WeightDecay", "PruningMask", "Constraint"]
