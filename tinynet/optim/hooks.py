"""Optimizer hooks: every change to a plain update rule goes through this one mechanism.

One optimizer step, for each parameter w whose gradient g was computed:

    g = hook.before_update(optimizer, w, g)    for hook in optimizer.hooks, in order
    w = the update rule (SGD, RMSprop, Adam) applied with g
    hook.after_update(optimizer, w)            for hook in optimizer.hooks, in order

Every optimizer starts with three hooks, each doing nothing until its setting is there:

    WeightDecay   g <- g + weight_decay * w            (PyTorch's L2 form; the rate is optimizer.weight_decay)
    PruningMask   g <- g * w.mask, and w <- w * w.mask after the update (a pruned weight stays exactly 0)
    Constraint    w <- w.constraint(w) after the update (e.g. UnitNorm, Keras' unit_norm)

Add your own with ``optimizer.add_hook(hook)`` (DeZero's name), for instance to freeze or to log.
A hook must return a new gradient array, never change ``g`` in place: one gradient array may be
shared by several parameters.
"""
from __future__ import annotations

from ..backend import get_array_module


class OptimizerHook:
    """Base class: override either phase; the defaults leave the gradient and the weight alone."""

    def before_update(self, optimizer, parameter, gradient):
        return gradient

    def after_update(self, optimizer, parameter):
        pass


class WeightDecay(OptimizerHook):
    """L2 regularisation as PyTorch adds it: g + weight_decay * w, with the optimizer's
    ``weight_decay`` read at each step (so state_dict() and a user changing it see one value)."""

    def before_update(self, optimizer, parameter, gradient):
        if not optimizer.weight_decay:
            return gradient
        return gradient + optimizer.weight_decay * parameter.data


class PruningMask(OptimizerHook):
    """For a pruned Parameter (tinynet.prune sets ``parameter.mask``, 0 where pruned): g * mask before
    the update, w * mask after it. The second matters when pruning comes in the middle of training:
    momentum or Adam's moments gathered before still move the pruned weights, with a zero gradient."""

    def before_update(self, optimizer, parameter, gradient):
        return gradient if parameter.mask is None else gradient * parameter.mask

    def after_update(self, optimizer, parameter):
        if parameter.mask is not None:
            parameter.data *= parameter.mask


class Constraint(OptimizerHook):
    """After the update, apply the Parameter's ``constraint`` (a callable changing it in place), if any."""

    def after_update(self, optimizer, parameter):
        if parameter.constraint is not None:
            parameter.constraint(parameter)


class UnitNorm:
    """Keras' unit_norm kernel constraint: w = w / (eps + ||w||), the norm taken per output unit.

    In PyTorch's layouts, Linear (out, in) and Conv2d (out, in, k, k), a unit's incoming weights
    are all axes but the first, so every row (filter) is scaled to length one. Attach it with
    ``layer.weight.constraint = UnitNorm()``; the Constraint hook applies it after every step.
    """

    def __init__(self, eps=1e-7):
        self.eps = eps

    def __call__(self, parameter):
        xp = get_array_module(parameter.data)
        axes = tuple(range(1, parameter.ndim))
        norm = xp.sqrt((parameter.data ** 2).sum(axis=axes, keepdims=True))
        parameter.data /= self.eps + norm  # the optimizer step calling it bumps the version
