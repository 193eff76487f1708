"""Weight initialisation, drawn on the CPU from tinynet's seeded generator (tn.manual_seed).

fan_in = in_features (Linear) or in_channels * k_h * k_w (Conv2d); fan_out likewise with outputs.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import cpu_rng, to_device


def fans(shape):
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan_in = shape[1] * receptive if len(shape) > 1 else shape[0]
    return fan_in, shape[0] * receptive


def _fill(parameter, values):
    parameter.data = to_device(values.astype(parameter.dtype), parameter.device)
    return parameter


def uniform_(parameter, low, high):
    return _fill(parameter, cpu_rng().uniform(low, high, parameter.shape))


def normal_(parameter, mean=0.0, std=1.0):
    return _fill(parameter, cpu_rng().normal(mean, std, parameter.shape))


def zeros_(parameter):
    return _fill(parameter, np.zeros(parameter.shape))


def ones_(parameter):
    return _fill(parameter, np.ones(parameter.shape))


def kaiming_uniform_(parameter, a=0.0, nonlinearity_gain=None):
    """U(-b, b) with b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)) (He et al., 2015)."""
    gain = nonlinearity_gain or math.sqrt(2.0 / (1 + a * a))
    bound = gain * math.sqrt(3.0 / fans(parameter.shape)[0])
    return uniform_(parameter, -bound, bound)


def kaiming_normal_(parameter, a=0.0):
    """N(0, std^2) with std = sqrt(2 / (1 + a^2)) / sqrt(fan_in)."""
    return normal_(parameter, 0.0, math.sqrt(2.0 / (1 + a * a)) / math.sqrt(fans(parameter.shape)[0]))


def xavier_uniform_(parameter, gain=1.0):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = fans(parameter.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(parameter, -bound, bound)


def xavier_normal_(parameter, gain=1.0):
    fan_in, fan_out = fans(parameter.shape)
    return normal_(parameter, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def trunc_normal_(parameter, mean=0.0, std=1.0):
    """Normal samples, each one beyond 2 std redrawn until inside (TensorFlow's truncated_normal)."""
    values = cpu_rng().normal(0.0, 1.0, parameter.shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = cpu_rng().normal(0.0, 1.0, int(outside.sum()))
        outside = np.abs(values) > 2
    return _fill(parameter, mean + std * values)


def pytorch_default_(weight, bias=None):
    """PyTorch's Linear/Conv2d default: kaiming_uniform_(a=sqrt(5)) on W, U(+-1/sqrt(fan_in)) on b."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(fans(weight.shape)[0])
        uniform_(bias, -bound, bound)
