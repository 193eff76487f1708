"""im2col / col2im: turn convolution into one matrix product.

For an input x of shape (N, C, H, W), a k_h x k_w kernel, stride s and zero padding p, the output
has OH = (H + 2p - k_h) // s + 1 rows (OW likewise) and

    col[n, oy, ox, c, i, j] = x_padded[n, c, oy*s + i, ox*s + j]        shape (N, OH, OW, C, k_h, k_w)

so conv2d(x, w) = col.reshape(N*OH*OW, C*k_h*k_w) @ w.reshape(O, -1).T. col2im is its adjoint:
it adds every column entry back onto the input pixel it was copied from.

Where the input has one channel (the first layer of a network on grayscale images), im2col copies
every pixel k*k times for a product whose inner dimension is only k*k, and the copy costs more than
the product. There the convolution is computed directly, on each image laid out flat with its zero
padding: with Wp = W + 2p and s = oy*Wp + ox,

    y_flat[o, s] = sum_{i,j} w[o, 0, i, j] x_flat[s + i*Wp + j]

so that each kernel tap (i, j) is one multiply-add of two contiguous runs, which the compiler
vectorises; the columns ox >= OW of each output row are computed and thrown away.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..backend import get_array_module
from .dispatch import kernel_version, numba_enabled


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


def direct_convolution_applies(x, stride) -> bool:
    """True where conv2d runs conv_one_channel (below) instead of im2col: NumPy arrays with one
    channel, stride 1, Numba on. (LeNet-5's training step: 5.5 -> 5.1 ms, benchmarks/RESULTS.md.)"""
    return isinstance(x, np.ndarray) and x.shape[1] == 1 and stride == 1 and numba_enabled()


@njit(cache=True)
def _padded_flat(image, padding, kw):
    """One (H, W) image as a flat row of its (H + 2p) x (W + 2p) zero-padded copy, plus kw zeros:
    the taps of the last output row read up to kw - 1 entries past the padded image."""
    h, w = image.shape
    wp = w + 2 * padding
    flat = np.zeros((h + 2 * padding) * wp + kw, dtype=image.dtype)
    for r in range(h):
        for q in range(w):
            flat[(r + padding) * wp + q + padding] = image[r, q]
    return flat


@njit(parallel=True, cache=True, fastmath={"contract"})
def conv_one_channel_numba(x, weight, bias, padding):
    """conv2d(x, weight) + bias at stride 1 for x (N, 1, H, W), weight (O, 1, kh, kw), bias (O,);
    one thread per image, four output channels per pass over the image's taps."""
    n, _, h, w = x.shape
    out_ch, _, kh, kw = weight.shape
    wp = w + 2 * padding
    oh, ow = h + 2 * padding - kh + 1, wp - kw + 1
    span = oh * wp
    y = np.empty((n, out_ch, oh, ow), dtype=x.dtype)
    for b in prange(n):
        flat = _padded_flat(x[b, 0], padding, kw)
        rows = np.empty((4, span), dtype=x.dtype)
        for first in range(0, out_ch, 4):
            # channels past the last are computed again as the last one and not written out
            o0, o1, o2, o3 = first, min(first + 1, out_ch - 1), min(first + 2, out_ch - 1), min(first + 3, out_ch - 1)
            for u in range(4):
                for s in range(span):
                    rows[u, s] = 0
            row0, row1, row2, row3 = rows[0], rows[1], rows[2], rows[3]
            for i in range(kh):
                for j in range(kw):
                    shifted = flat[i * wp + j:i * wp + j + span]
                    w0, w1, w2, w3 = weight[o0, 0, i, j], weight[o1, 0, i, j], weight[o2, 0, i, j], weight[o3, 0, i, j]
                    for s in range(span):
                        row0[s] += w0 * shifted[s]
                        row1[s] += w1 * shifted[s]
                        row2[s] += w2 * shifted[s]
                        row3[s] += w3 * shifted[s]
            for u in range(min(4, out_ch - first)):
                for oy in range(oh):
                    for ox in range(ow):
                        y[b, first + u, oy, ox] = rows[u, oy * wp + ox] + bias[first + u]
    return y


@njit(parallel=True, cache=True, fastmath={"contract", "reassoc"})
def conv_one_channel_weight_grad_numba(x, gy, kh, kw, padding):
    """dL/dw for conv_one_channel_numba: gw[o, 0, i, j] = sum_n sum_s gy_flat[n, o, s] x_flat[n, s + i*Wp + j],
    gy laid on the same Wp-wide rows (zeros in the thrown-away columns). Sums per image, then over images."""
    n, _, h, w = x.shape
    _, out_ch, oh, ow = gy.shape
    wp = w + 2 * padding
    span = oh * wp
    per_image = np.empty((n, out_ch, 1, kh, kw), dtype=x.dtype)
    zero = np.zeros(1, dtype=x.dtype)[0]
    for b in prange(n):
        flat = _padded_flat(x[b, 0], padding, kw)
        g = np.zeros((out_ch, span), dtype=x.dtype)
        for o in range(out_ch):
            for oy in range(oh):
                for ox in range(ow):
                    g[o, oy * wp + ox] = gy[b, o, oy, ox]
        for o in range(out_ch):
            g_row = g[o]
            for i in range(kh):
                for j in range(kw):
                    shifted = flat[i * wp + j:i * wp + j + span]
                    total = zero
                    for s in range(span):
                        total += g_row[s] * shifted[s]
                    per_image[b, o, 0, i, j] = total
    return per_image.sum(axis=0)


def conv_one_channel(x, weight, bias, padding):
    """(N, 1, H, W) -> (N, O, OH, OW) at stride 1; only where direct_convolution_applies."""
    kernel_version(x, "conv one channel")  # reports "numba" to tinynet.debug.profile
    return conv_one_channel_numba(np.ascontiguousarray(x), np.ascontiguousarray(weight), bias, padding)


def conv_one_channel_weight_grad(x, gy, kh, kw, padding):
    """dL/dweight (O, 1, kh, kw) of conv_one_channel, from its input x and output gradient gy."""
    kernel_version(x, "conv one channel weight gradient")
    return conv_one_channel_weight_grad_numba(np.ascontiguousarray(x), np.ascontiguousarray(gy), kh, kw, padding)
