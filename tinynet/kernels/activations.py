"""Numerically stable sigmoid, shared by the sigmoid Function and the LSTM cell reference."""
from ..backend import get_array_module


def stable_sigmoid(x):
    """sigma(x) = 1 / (1 + e^-x) without overflow: with e = exp(-|x|), 1/(1+e) for x >= 0, e/(1+e) else."""
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
