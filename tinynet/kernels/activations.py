"""Sigmoid and tanh: the exact, overflow-free NumPy forms, and the fast float32 forms the Numba
LSTM kernels use. Then (Leaky)ReLU forward and backward, as NumPy references and compiled loops.

Numba here has no vectorised ``exp`` (llvmlite from PyPI is built without Intel's SVML), so a
loop calling ``np.exp`` runs one element at a time. ``fast_tanh`` avoids ``exp`` altogether: a
rational function p(x)/q(x) of degree 13/6 (the minimax fit used by Eigen and XLA), only
multiply-adds and one division, which LLVM vectorises. For float32 inputs

    |fast_tanh(x) - tanh(x)| <= 3e-7 * |tanh(x)|          (x clamped to [-7.9053, 7.9053], where tanh is 1 to float32)
    |fast_sigmoid(x) - sigma(x)| <= 2e-7                  (sigma(x) = (1 + tanh(x / 2)) / 2)

over the whole float32 range (tests/test_kernels.py checks both bounds). The relative bound holds
near zero too, where 2 sigma(2x) - 1 would lose all digits.
"""
import numpy as np
from numba import njit, prange

from ..backend import get_array_module
from .dispatch import kernel_version


def stable_sigmoid(x):
    """sigma(x) = 1 / (1 + e^-x) without overflow: with e = exp(-|x|), 1/(1+e) for x >= 0, e/(1+e) else."""
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


_f32 = np.float32
_TANH_CLAMP = _f32(7.90531110763549805)
_P1, _P3, _P5, _P7 = _f32(4.89352455891786e-03), _f32(6.37261928875436e-04), _f32(1.48572235717979e-05), \
    _f32(5.12229709037114e-08)
_P9, _P11, _P13 = _f32(-8.60467152213735e-11), _f32(2.00018790482477e-13), _f32(-2.76076847742355e-16)
_Q0, _Q2, _Q4, _Q6 = _f32(4.89352518554385e-03), _f32(2.26843463243900e-03), _f32(1.18534705686654e-04), \
    _f32(1.19825839466702e-06)
_HALF = _f32(0.5)

# Fast-math flags that let LLVM reorder and fuse multiply-adds (the error bounds above include it).
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(cache=True, inline="always", fastmath=FASTMATH, error_model="numpy")
def fast_tanh(x):
    """tanh(x) ~ p(x) / q(x) for a float32 scalar; no exp, no branch (so loops over it vectorise)."""
    x = min(max(x, -_TANH_CLAMP), _TANH_CLAMP)
    x2 = x * x
    p = x * (_P1 + x2 * (_P3 + x2 * (_P5 + x2 * (_P7 + x2 * (_P9 + x2 * (_P11 + x2 * _P13))))))
    q = _Q0 + x2 * (_Q2 + x2 * (_Q4 + x2 * _Q6))
    return p / q


@njit(cache=True, inline="always", fastmath=FASTMATH, error_model="numpy")
def fast_sigmoid(x):
    """sigma(x) = (1 + tanh(x / 2)) / 2 for a float32 scalar."""
    return _HALF + _HALF * fast_tanh(_HALF * x)


# ----------------------------------------------------------------------------- (Leaky)ReLU
#   y = x if x > 0 else slope * x   (slope 0: 0, not 0 * x, which is NaN for x = -inf; NaN stays NaN)
#   dL/dx = dL/dy if x > 0 else slope * dL/dy
# Forward also returns the mask x > 0 for backward (1 byte per element, kept instead of x). Compiled, each
# is one pass over both cores: 4x faster than NumPy forward, 3x backward on 64x6x28x28
# (benchmarks/RESULTS.md).

def leaky_relu_forward_reference(x, slope):
    xp = get_array_module(x)
    positive = x > 0
    y = xp.maximum(x, x.dtype.type(0)) if slope == 0 else xp.where(positive, x, x * x.dtype.type(slope))
    return y, positive


def leaky_relu_backward_reference(gy, positive, slope):
    if slope == 0:  # a product with the mask: NumPy's where is 10x slower on an unpredictable mask
        return gy * positive
    return get_array_module(gy).where(positive, gy, gy * gy.dtype.type(slope))


@njit(parallel=True, cache=True)
def leaky_relu_forward_numba(x, slope):
    flat, y, positive = x.ravel(), np.empty(x.size, dtype=x.dtype), np.empty(x.size, dtype=np.bool_)
    zero = x.dtype.type(0)
    for k in prange(flat.size):
        value = flat[k]
        y[k] = value if not value <= 0 else (value * slope if slope != 0 else zero)  # "not <=": NaN passes
        positive[k] = value > 0
    return y.reshape(x.shape), positive.reshape(x.shape)


@njit(parallel=True, cache=True)
def leaky_relu_backward_numba(gy, positive, slope):
    flat_gy, flat_positive, gx = gy.ravel(), positive.ravel(), np.empty(gy.size, dtype=gy.dtype)
    for k in prange(flat_gy.size):
        gx[k] = flat_gy[k] if flat_positive[k] else flat_gy[k] * slope
    return gx.reshape(gy.shape)


# Below this many elements NumPy's single pass is as fast as waking the other threads.
COMPILED_RELU_FROM = 2 ** 15


def _relu_compiled(array) -> bool:
    return array.dtype.kind == "f" and array.size >= COMPILED_RELU_FROM


def leaky_relu_forward(x, slope):
    """(y, x > 0) for any x; compiled for NumPy float arrays of COMPILED_RELU_FROM elements or more."""
    if kernel_version(x, "leaky relu forward", compiled=_relu_compiled(x)) == "numba":
        return leaky_relu_forward_numba(np.ascontiguousarray(x), x.dtype.type(slope))
    return leaky_relu_forward_reference(x, slope)


def leaky_relu_backward(gy, positive, slope):
    """dL/dx from dL/dy and the forward's mask x > 0."""
    if kernel_version(gy, "leaky relu backward", compiled=_relu_compiled(gy)) == "numba":
        return leaky_relu_backward_numba(np.ascontiguousarray(gy), np.ascontiguousarray(positive),
                                         gy.dtype.type(slope))
    return leaky_relu_backward_reference(gy, positive, slope)
