"""Max pooling with argmax: forward remembers which input pixel won each window, backward sends
each output gradient to that pixel (adding where windows overlap).

x: (N, C, H, W) -> y: (N, C, OH, OW), argmax: (N, C, OH, OW) holding the flat index y*W + x of the
winner inside its (H, W) image. Padding counts as -inf, as in PyTorch; the first maximum wins ties,
and a NaN wins over any number (the last NaN of a window, as in PyTorch), so a NaN is never hidden.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..backend import get_array_module, scatter_add
from .convolution import conv_output_size
from .dispatch import kernel_version


def max_pool_forward_reference(x, k, stride, padding):
    xp = get_array_module(x)
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, k, stride, padding), conv_output_size(w, k, stride, padding)
    padded = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)),
                    constant_values=-xp.inf)
    best = xp.full((n, c, oh, ow), -xp.inf, dtype=x.dtype)
    offset = xp.zeros((n, c, oh, ow), dtype=xp.int64)
    for i in range(k):
        for j in range(k):
            window = padded[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
            better = (window > best) | xp.isnan(window)
            best = xp.where(better, window, best)
            offset = xp.where(better, i * k + j, offset)
    rows = xp.arange(oh).reshape(oh, 1) * stride - padding + offset // k
    cols = xp.arange(ow).reshape(1, ow) * stride - padding + offset % k
    return best, rows * w + cols


def max_pool_backward_reference(gy, argmax, x_shape):
    xp = get_array_module(gy)
    n, c, h, w = x_shape
    gx = xp.zeros((n * c, h * w), dtype=gy.dtype)
    plane = xp.arange(n * c).reshape(-1, 1)
    scatter_add(gx, (plane, argmax.reshape(n * c, -1)), gy.reshape(n * c, -1))
    return gx.reshape(x_shape)


@njit(parallel=True, cache=True)
def max_pool_forward_numba(x, k, stride, padding):
    """Each window is clipped to the image first (padding never wins, as -inf would not), so the
    inner loops need no bounds checks; padding <= k // 2 keeps every window non-empty."""
    n, c, h, w = x.shape
    oh = (h + 2 * padding - k) // stride + 1
    ow = (w + 2 * padding - k) // stride + 1
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.int64)
    for b in prange(n):
        for ch in range(c):
            image = x[b, ch]
            for oy in range(oh):
                top = oy * stride - padding
                first_row, end_row = max(top, 0), min(top + k, h)
                for ox in range(ow):
                    left = ox * stride - padding
                    first_col, end_col = max(left, 0), min(left + k, w)
                    best, where = image[first_row, first_col], first_row * w + first_col
                    for row in range(first_row, end_row):
                        for col in range(first_col, end_col):
                            value = image[row, col]
                            if value > best or np.isnan(value):
                                best, where = value, row * w + col
                    y[b, ch, oy, ox] = best
                    argmax[b, ch, oy, ox] = where
    return y, argmax


@njit(parallel=True, cache=True)
def max_pool_backward_numba(gy, argmax, n, c, h, w):
    gx = np.zeros((n, c, h * w), dtype=gy.dtype)
    oh, ow = gy.shape[2], gy.shape[3]
    for b in prange(n):
        for ch in range(c):
            for oy in range(oh):
                for ox in range(ow):
                    gx[b, ch, argmax[b, ch, oy, ox]] += gy[b, ch, oy, ox]
    return gx.reshape(n, c, h, w)


def max_pool_forward(x, k, stride, padding):
    """Returns (y, argmax); see the module docstring for shapes."""
    if kernel_version(x, "max pool forward") == "numba":
        return max_pool_forward_numba(np.ascontiguousarray(x), k, stride, padding)
    return max_pool_forward_reference(x, k, stride, padding)


def max_pool_backward(gy, argmax, x_shape):
    if kernel_version(gy, "max pool backward") == "numba":
        n, c, h, w = x_shape
        return max_pool_backward_numba(np.ascontiguousarray(gy), argmax, n, c, h, w)
    return max_pool_backward_reference(gy, argmax, x_shape)
