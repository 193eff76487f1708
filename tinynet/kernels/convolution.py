"""im2col / col2im: turn convolution into one matrix product.

For an input x of shape (N, C, H, W), a k_h x k_w kernel, stride s and zero padding p, the output
has OH = (H + 2p - k_h) // s + 1 rows (OW likewise) and

    col[n, oy, ox, c, i, j] = x_padded[n, c, oy*s + i, ox*s + j]        shape (N, OH, OW, C, k_h, k_w)

so conv2d(x, w) = col.reshape(N*OH*OW, C*k_h*k_w) @ w.reshape(O, -1).T. col2im is its adjoint:
it adds every column entry back onto the input pixel it was copied from.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..backend import get_array_module
from .dispatch import kernel_version


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def im2col_reference(x, kh, kw, stride, padding):
    """NumPy/CuPy reference: one strided slice per kernel offset (i, j)."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    padded = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    col = xp.empty((n, oh, ow, c, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            window = padded[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
            col[:, :, :, :, i, j] = window.transpose(0, 2, 3, 1)
    return col


def col2im_reference(col, x_shape, stride, padding):
    """Adjoint of im2col_reference: scatter-add each kernel offset's slice back."""
    xp = get_array_module(col)
    n, c, h, w = x_shape
    _, oh, ow, _, kh, kw = col.shape
    padded = xp.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += \
                col[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return padded[:, :, padding:padding + h, padding:padding + w]


@njit(parallel=True, cache=True)
def im2col_numba(x, kh, kw, stride, padding):
    """Same result as im2col_reference; one thread per image of the batch."""
    n, c, h, w = x.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    col = np.empty((n, oh, ow, c, kh, kw), dtype=x.dtype)
    for b in prange(n):
        for oy in range(oh):
            for ox in range(ow):
                for ch in range(c):
                    for i in range(kh):
                        y = oy * stride - padding + i
                        for j in range(kw):
                            xx = ox * stride - padding + j
                            if 0 <= y < h and 0 <= xx < w:
                                col[b, oy, ox, ch, i, j] = x[b, ch, y, xx]
                            else:
                                col[b, oy, ox, ch, i, j] = 0
    return col


@njit(parallel=True, cache=True)
def col2im_numba(col, n, c, h, w, stride, padding):
    """Same result as col2im_reference; images are independent, so threads never collide."""
    _, oh, ow, _, kh, kw = col.shape
    x = np.zeros((n, c, h, w), dtype=col.dtype)
    for b in prange(n):
        for oy in range(oh):
            for ox in range(ow):
                for ch in range(c):
                    for i in range(kh):
                        y = oy * stride - padding + i
                        if y < 0 or y >= h:
                            continue
                        for j in range(kw):
                            xx = ox * stride - padding + j
                            if 0 <= xx < w:
                                x[b, ch, y, xx] += col[b, oy, ox, ch, i, j]
    return x


def im2col(x, kh, kw, stride, padding):
    """(N, C, H, W) -> (N, OH, OW, C, kh, kw); Numba on the CPU, the reference otherwise."""
    if kernel_version(x, "im2col") == "numba":
        return im2col_numba(np.ascontiguousarray(x), kh, kw, stride, padding)
    return im2col_reference(x, kh, kw, stride, padding)


def col2im(col, x_shape, stride, padding):
    """(N, OH, OW, C, kh, kw) -> (N, C, H, W), adding overlapping contributions."""
    if kernel_version(col, "col2im") == "numba":
        n, c, h, w = x_shape
        return col2im_numba(np.ascontiguousarray(col), n, c, h, w, stride, padding)
    return col2im_reference(col, x_shape, stride, padding)
