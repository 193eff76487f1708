"""Pooling over k x k windows at stride s with padding p, x: (N, C, H, W) -> y: (N, C, OH, OW).

Max pooling with argmax: forward remembers which input pixel won each window, backward sends each
output gradient to that pixel (adding where windows overlap). argmax (N, C, OH, OW) holds the flat
index y*W + x of the winner inside its (H, W) image. Padding counts as -inf, as in PyTorch; the first
maximum wins ties, and a NaN wins over any number (the last NaN of a window, as in PyTorch), so a NaN
is never hidden.

Average pooling: y = (sum of the window) / k^2, padding counted as zeros in the mean (PyTorch's
default, count_include_pad=True); backward gives every pixel of a window gy / k^2 (adding where
windows overlap).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..backend import get_array_module, scatter_add
from .convolution import conv_output_size
from .dispatch import kernel_version


def _pool_windows(h, w, k, stride, padding):
    """(rows, cols) slices picking, for each of the k*k offsets (i, j) of a window, that pixel of every
    window from the padded image: padded[..., rows, cols] is (..., OH, OW)."""
    oh, ow = conv_output_size(h, k, stride, padding), conv_output_size(w, k, stride, padding)
    return [(slice(i, i + stride * oh, stride), slice(j, j + stride * ow, stride)) for i in range(k) for j in range(k)]


def max_pool_forward_reference(x, k, stride, padding):
    xp = get_array_module(x)
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, k, stride, padding), conv_output_size(w, k, stride, padding)
    padded = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)),
                    constant_values=-xp.inf)
    best = xp.full((n, c, oh, ow), -xp.inf, dtype=x.dtype)
    offset = xp.zeros((n, c, oh, ow), dtype=xp.int64)
    for tap, (rows, cols) in enumerate(_pool_windows(h, w, k, stride, padding)):  # tap = i * k + j
        window = padded[:, :, rows, cols]
        better = (window > best) | xp.isnan(window)
        best = xp.where(better, window, best)
        offset = xp.where(better, tap, offset)
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


def _two_by_two(k, stride, padding) -> bool:
    """2x2 windows at stride 2 without padding, the usual pooling, which has unrolled kernels."""
    return (k, stride, padding) == (2, 2, 0)


@njit(parallel=True, cache=True)
def max_pool_2x2_forward_numba(x):
    """max_pool_forward_numba for 2x2 windows at stride 2 without padding, the window unrolled (four
    loads and three compare-and-selects per output, which the compiler vectorises), scanned in the same
    order with the same rule: a later pixel wins if it is greater or NaN."""
    n, c, h, w = x.shape
    oh, ow = h // 2, w // 2
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.int64)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for oy in range(oh):
            top, bottom, out, where = x[b, ch, 2 * oy], x[b, ch, 2 * oy + 1], y[b, ch, oy], argmax[b, ch, oy]
            for ox in range(ow):
                best, at = top[2 * ox], 2 * oy * w + 2 * ox
                value = top[2 * ox + 1]
                if value > best or np.isnan(value):
                    best, at = value, 2 * oy * w + 2 * ox + 1
                value = bottom[2 * ox]
                if value > best or np.isnan(value):
                    best, at = value, (2 * oy + 1) * w + 2 * ox
                value = bottom[2 * ox + 1]
                if value > best or np.isnan(value):
                    best, at = value, (2 * oy + 1) * w + 2 * ox + 1
                out[ox], where[ox] = best, at
    return y, argmax


def max_pool_forward(x, k, stride, padding):
    """Returns (y, argmax); see the module docstring for shapes. 2x2 windows at stride 2 without padding
    (the usual pooling) take the unrolled kernel."""
    if kernel_version(x, "max pool forward") == "numba":
        if _two_by_two(k, stride, padding):
            return max_pool_2x2_forward_numba(np.ascontiguousarray(x))
        return max_pool_forward_numba(np.ascontiguousarray(x), k, stride, padding)
    return max_pool_forward_reference(x, k, stride, padding)


def max_pool_backward(gy, argmax, x_shape):
    if kernel_version(gy, "max pool backward") == "numba":
        n, c, h, w = x_shape
        return max_pool_backward_numba(np.ascontiguousarray(gy), argmax, n, c, h, w)
    return max_pool_backward_reference(gy, argmax, x_shape)


def avg_pool_forward_reference(x, k, stride, padding):
    xp = get_array_module(x)
    padded = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))) if padding else x
    (rows, cols), *others = _pool_windows(*x.shape[2:], k, stride, padding)
    y = padded[:, :, rows, cols].copy()
    for rows, cols in others:
        y += padded[:, :, rows, cols]
    return y / x.dtype.type(k * k)


def avg_pool_backward_reference(gy, x_shape, k, stride, padding):
    xp = get_array_module(gy)
    n, c, h, w = x_shape
    padded = xp.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=gy.dtype)
    share = gy / gy.dtype.type(k * k)
    for rows, cols in _pool_windows(h, w, k, stride, padding):
        padded[:, :, rows, cols] += share
    return padded[:, :, padding:padding + h, padding:padding + w]


# Compiled for 2x2 windows at stride 2 without padding only (LeNet-5's pooling, and the usual one): with
# the window size known, each output pixel is four loads and three adds the compiler vectorises (35 us
# for 64x6x28x28 on one core, against 140 us for the reference). A loop over a window size known only
# at run time took 290-350 us here, slower than the reference, which serves every other shape.
@njit(parallel=True, cache=True)
def avg_pool_2x2_forward_numba(x):
    """y[oy, ox] = (x[2oy, 2ox] + x[2oy, 2ox+1] + x[2oy+1, 2ox] + x[2oy+1, 2ox+1]) / 4, summed in the
    reference's order; images over the threads. An odd last row or column is dropped, as in the reference."""
    n, c, h, w = x.shape
    y = np.empty((n, c, h // 2, w // 2), dtype=x.dtype)
    quarter = x.dtype.type(0.25)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for oy in range(h // 2):
            top, bottom, out = x[b, ch, 2 * oy], x[b, ch, 2 * oy + 1], y[b, ch, oy]
            for ox in range(w // 2):
                out[ox] = (top[2 * ox] + top[2 * ox + 1] + bottom[2 * ox] + bottom[2 * ox + 1]) * quarter
    return y


@njit(parallel=True, cache=True)
def avg_pool_2x2_backward_numba(gy, h, w):
    """Each pixel of a window gets its output's gradient / 4 (the windows do not overlap); an odd last
    row or column, in no window, gets 0."""
    n, c, oh, ow = gy.shape
    gx = np.empty((n, c, h, w), dtype=gy.dtype)
    quarter, zero = gy.dtype.type(0.25), gy.dtype.type(0)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for oy in range(oh):
            top, bottom, grad = gx[b, ch, 2 * oy], gx[b, ch, 2 * oy + 1], gy[b, ch, oy]
            for ox in range(ow):
                share = grad[ox] * quarter
                top[2 * ox], top[2 * ox + 1], bottom[2 * ox], bottom[2 * ox + 1] = share, share, share, share
            for col in range(2 * ow, w):
                top[col], bottom[col] = zero, zero
        for row in range(2 * oh, h):  # element by element: Numba's parfor pass may move a slice assignment
            for col in range(w):
                gx[b, ch, row, col] = zero
    return gx


def avg_pool_forward(x, k, stride, padding):
    """y (N, C, OH, OW): compiled for 2x2 windows at stride 2 without padding, else the NumPy reference."""
    if kernel_version(x, "avg pool forward", compiled=_two_by_two(k, stride, padding)) == "numba":
        return avg_pool_2x2_forward_numba(np.ascontiguousarray(x))
    return avg_pool_forward_reference(x, k, stride, padding)


def avg_pool_backward(gy, x_shape, k, stride, padding):
    """dL/dx (x_shape) from dL/dy, as avg_pool_forward chooses."""
    if kernel_version(gy, "avg pool backward", compiled=_two_by_two(k, stride, padding)) == "numba":
        return avg_pool_2x2_backward_numba(np.ascontiguousarray(gy), *x_shape[2:])
    return avg_pool_backward_reference(gy, x_shape, k, stride, padding)
