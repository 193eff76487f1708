"""The Adam update in one pass over the weight, its gradient and the two moment estimates.

With beta1, beta2 the decay rates, step_size = lr / (1 - beta1^t) and root_correction2 =
sqrt(1 - beta2^t) (both worked out once per step), every element is updated as

    m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g^2
    w = w - step_size * m / (sqrt(v) / root_correction2 + eps)

Written with whole-array NumPy operations (the reference) this passes over the arrays about fifteen
times, each operation making a temporary; for a large layer (paper 001's 500 x 3240 weight, 6.5 MB
per array) every pass goes to main memory: 7.1 ms per step on the 2-core machine of
benchmarks/RESULTS.md. The compiled loop reads each array once and writes three: 0.9 ms, on one
core (``python benchmarks/bench_kernels.py``); splitting it over the cores was tried and not kept
(benchmarks/RESULTS.md). On a GPU the same rule is one CuPy ElementwiseKernel launch per parameter
instead of sixteen whole-array operations, each a launch of its own (paper 000's ten parameters:
about 160 launches a step, more than its whole LSTM with TINYNET_CUDA_LSTM_SEQUENCE=1).
"""
from __future__ import annotations

import functools

import numpy as np
from numba import njit

from ..backend import get_array_module
from .activations import FASTMATH
from .dispatch import kernel_version


def adam_rule(w, g, m, v, beta1, beta2, step_size, root_correction2, eps, one, sqrt):
    """New (w, m, v) from the old ones; plain Python over numbers or whole arrays (``sqrt`` np.sqrt
    or cupy.sqrt), compiled per element by Numba below. ``one`` is 1 in the arrays' dtype: in Numba
    a literal 1 - beta1 is float64, which made the float32 loop compute in float64 (half the SIMD width)."""
    m = beta1 * m + (one - beta1) * g
    v = beta2 * v + (one - beta2) * g * g
    return w - step_size * m / (sqrt(v) / root_correction2 + eps), m, v


_adam_rule = njit(inline="always", fastmath=FASTMATH, error_model="numpy")(adam_rule)


def adam_update_reference(w, g, m, v, beta1, beta2, step_size, root_correction2, eps, one):
    xp = get_array_module(w)
    w[...], m[...], v[...] = adam_rule(w, g, m, v, beta1, beta2, step_size, root_correction2, eps, one, xp.sqrt)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def adam_update_numba(w, g, m, v, beta1, beta2, step_size, root_correction2, eps, one):
    """Same as the reference on flat (1-D) arrays."""
    for k in range(w.size):
        w[k], m[k], v[k] = _adam_rule(w[k], g[k], m[k], v[k], beta1, beta2, step_size, root_correction2,
                                      eps, one, np.sqrt)


@functools.cache
def adam_update_cupy(cupy):
    """adam_rule as a CuPy ElementwiseKernel f(g, beta1, beta2, step_size, root_correction2, eps, w, m, v),
    updating w, m, v in place (CUDA C: the lines of adam_rule, one thread per element)."""
    return cupy.ElementwiseKernel(
        "T g, T beta1, T beta2, T step_size, T root_correction2, T eps", "T w, T m, T v",
        """
        m = beta1 * m + ((T)1 - beta1) * g;
        v = beta2 * v + ((T)1 - beta2) * g * g;
        w = w - step_size * m / (sqrt(v) / root_correction2 + eps);
        """, "tinynet_adam_update")


def adam_update(w, g, m, v, beta1, beta2, step_size, root_correction2, eps):
    """Update w, m, v (same shape and dtype) in place. The numbers are cast to the arrays' dtype
    (a NumPy float64 number would turn float32 arrays into float64 temporaries)."""
    numbers = tuple(w.dtype.type(x) for x in (beta1, beta2, step_size, root_correction2, eps))
    same_dtype = all(a.dtype == w.dtype for a in (g, m, v))
    compiled = same_dtype and all(a.flags.c_contiguous for a in (w, g, m, v))
    version = kernel_version(w, "adam update", compiled=compiled, cupy_kernel=same_dtype)
    if version == "numba":
        adam_update_numba(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), *numbers, w.dtype.type(1))
    elif version == "cupy":
        adam_update_cupy(get_array_module(w))(g, *numbers, w, m, v)
    else:
        adam_update_reference(w, g, m, v, *numbers, w.dtype.type(1))
