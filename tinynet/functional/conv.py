"""Convolution and pooling over NCHW images, built on the kernels in tinynet.kernels."""
from __future__ import annotations

import os

from ..backend import get_array_module
from ..kernels import (
    BLAS_ON_NUMBA_THREADS,
    avg_pool_backward,
    avg_pool_forward,
    col2im,
    conv_one_channel,
    conv_one_channel_weight_grad,
    conv_output_size,
    direct_convolution_applies,
    im2col,
    matrix_product,
    max_pool_backward,
    max_pool_forward,
)
from ..tensor import Function
from .shape import pad, stack


def im2col_batch_chunk(batch: int, bytes_per_image: int) -> int:
    """Images per im2col chunk, so one chunk's buffer stays under TINYNET_IM2COL_MB (default 256)."""
    bound = int(float(os.environ.get("TINYNET_IM2COL_MB", "256")) * 2 ** 20)
    return max(1, min(batch, bound // max(1, bytes_per_image)))


# Up to this many weights (out_channels x C x kh x kw) the weight gradient is one product per image and
# a sum, where OpenBLAS's own threads run the products: a single product over all N*OH*OW positions is
# long and thin (a few hundred outputs, an inner dimension of tens of thousands), which OpenBLAS splits
# badly; the per-image form was 1.4-4x faster up to 2,400 weights and 1.1-1.5x slower from 20,000 on
# the 2-core machine. Split along that inner dimension over tinynet's threads (kernels/blas.py), the
# single product wins at every size (LeNet-5's second conv: 267 against 319 us; benchmarks/RESULTS.md).
PER_IMAGE_WEIGHT_GRADIENT_UP_TO = 0 if BLAS_ON_NUMBA_THREADS else 4096


class Conv2d(Function):
    """y[n, o] = b[o] + sum_{c,i,j} w[o, c, i, j] x_pad[n, c, oy*s + i, ox*s + j]  (cross-correlation).

    x (N, C, H, W), w (O, C, kh, kw), b (O,) -> y (N, O, OH, OW). Computed as im2col + one matrix
    product per batch chunk; backward: dW = gy^T col (summed over images), dcol = gy W, dx = col2im(dcol).
    The col buffer is kept for backward when the whole batch fits in one chunk, else recomputed.
    One-channel inputs at stride 1 take the direct kernel instead (tinynet/kernels/convolution.py),
    forward and dW; dx is computed the same way on both paths.
    """

    def __init__(self, stride: int, padding: int):
        self.stride, self.padding = stride, padding

    def _chunks(self, n):
        step = im2col_batch_chunk(n, self.col_bytes_per_image)
        return [(start, min(start + step, n)) for start in range(0, n, step)]

    def forward(self, x, weight, bias=None):
        xp = get_array_module(x)
        n, c, h, w = x.shape
        out_ch, _, kh, kw = weight.shape
        oh, ow = conv_output_size(h, kh, self.stride, self.padding), conv_output_size(w, kw, self.stride, self.padding)
        self.x, self.weight, self.has_bias = x, weight, bias is not None
        self.col_bytes_per_image = oh * ow * c * kh * kw * x.dtype.itemsize
        self.col = None
        self.direct = direct_convolution_applies(x, self.stride)
        if self.direct:
            return conv_one_channel(x, weight, bias if self.has_bias else xp.zeros(out_ch, dtype=x.dtype), self.padding)
        w_mat = weight.reshape(out_ch, -1)
        y = xp.empty((n, out_ch, oh, ow), dtype=x.dtype)
        chunks = self._chunks(n)
        for start, stop in chunks:
            col = im2col(x[start:stop], kh, kw, self.stride, self.padding).reshape(-1, w_mat.shape[1])
            y[start:stop] = matrix_product(col, w_mat.T).reshape(stop - start, oh, ow, out_ch).transpose(0, 3, 1, 2)
            if len(chunks) == 1:
                self.col = col
        if self.has_bias:
            y += bias.reshape(1, -1, 1, 1)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        x, weight = self.x, self.weight
        out_ch, c, kh, kw = weight.shape
        n, _, oh, ow = gy.shape
        w_mat = weight.reshape(out_ch, -1)
        input_grad = self.needs_input_grad[0]
        gx = xp.empty_like(x) if input_grad else None
        gw = conv_one_channel_weight_grad(x, gy, kh, kw, self.padding) if self.direct else xp.zeros_like(w_mat)
        per_image = w_mat.size <= PER_IMAGE_WEIGHT_GRADIENT_UP_TO
        for start, stop in self._chunks(n):
            chunk, images = gy[start:stop], stop - start
            if input_grad or not (per_image or self.direct):  # one row per output position (images*OH*OW, O)
                g_mat = chunk.transpose(0, 2, 3, 1).reshape(-1, out_ch)
            if not self.direct:
                col = self.col if self.col is not None else im2col(
                    x[start:stop], kh, kw, self.stride, self.padding).reshape(-1, w_mat.shape[1])
                if per_image:  # (images, O, OH*OW) x (images, OH*OW, C*kh*kw), summed over the images
                    rows = col.reshape(images, -1, col.shape[1])
                    gw += xp.matmul(chunk.reshape(images, out_ch, -1), rows).sum(axis=0)
                else:
                    gw += matrix_product(g_mat.T, col)
            if input_grad:
                g_col = matrix_product(g_mat, w_mat).reshape(images, oh, ow, c, kh, kw)
                gx[start:stop] = col2im(g_col, (images,) + x.shape[1:], self.stride, self.padding)
        grads = (gx, gw.reshape(weight.shape))
        return grads + (gy.sum(axis=(0, 2, 3)),) if self.has_bias else grads


class MaxPool2d(Function):
    """y[n, c, oy, ox] = max over the k x k window at (oy*s - p, ox*s - p); the gradient goes to the max."""

    def __init__(self, kernel_size, stride, padding):
        self.k, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        self.x_shape = x.shape
        y, self.argmax = max_pool_forward(x, self.k, self.stride, self.padding)
        return y

    def backward(self, gy):
        return max_pool_backward(gy, self.argmax, self.x_shape)


class AvgPool2d(Function):
    """y = mean of each k x k window, zero padding counted in the mean (PyTorch's default)."""

    def __init__(self, kernel_size, stride, padding):
        self.k, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        self.x_shape = x.shape
        return avg_pool_forward(x, self.k, self.stride, self.padding)

    def backward(self, gy):
        return avg_pool_backward(gy, self.x_shape, self.k, self.stride, self.padding)


def _check_window(op, kernel_size, stride, padding):
    for name, value, minimum in (("kernel_size", kernel_size, 1), ("stride", stride, 1), ("padding", padding, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{op}: {name} must be a whole number >= {minimum}, got {value!r}")


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """x (N, C, H, W), weight (O, C, k, k), bias (O,) or None -> (N, O, OH, OW)."""
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"conv2d: expected x (N, C, H, W) and weight (O, C, k, k), got shapes {x.shape} "
                         f"and {weight.shape}")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d: x has {x.shape[1]} channels (shape {x.shape}) but the weight expects "
                         f"{weight.shape[1]} (shape {weight.shape})")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"conv2d: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    _check_window("conv2d", weight.shape[2], stride, padding)
    if min(x.shape[2:]) + 2 * padding < weight.shape[2]:
        raise ValueError(f"conv2d: input {x.shape} is smaller than the {weight.shape[2]}x{weight.shape[3]} "
                         f"kernel (with padding {padding})")
    function = Conv2d(stride, padding)
    return function(x, weight) if bias is None else function(x, weight, bias)


def conv2d_composed(x, weight, bias=None, stride=1, padding=0):
    """conv2d written with Tensor ops only (pad, strided slices, stack, reshape, matmul), so autograd
    derives its backward: im2col spelled out for study, much slower than the Conv2d Function.

    patches[n, oy, ox, c, i, j] = x_pad[n, c, oy*s + i, ox*s + j]; y = patches (N*OH*OW, C*k*k) @ W^T.
    """
    n, _, h, w = x.shape
    out_ch, c, k, _ = weight.shape
    oh, ow = conv_output_size(h, k, stride, padding), conv_output_size(w, k, stride, padding)
    padded = pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))) if padding else x
    shifted = [padded[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] for i in range(k) for j in range(k)]
    patches = stack(shifted, axis=-1)                                    # (N, C, OH, OW, k*k)
    rows = patches.permute(0, 2, 3, 1, 4).reshape(n * oh * ow, c * k * k)
    y = (rows @ weight.reshape(out_ch, c * k * k).T).reshape(n, oh, ow, out_ch).permute(0, 3, 1, 2)
    return y if bias is None else y + bias.reshape(1, out_ch, 1, 1)


def check_pool_padding(op, kernel_size, padding):
    """Padding may be at most half the window (PyTorch's rule): more would leave windows of padding only."""
    if padding > kernel_size // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel_size}")


def max_pool2d(x, kernel_size, stride=None, padding=0):
    _check_window("max_pool2d", kernel_size, stride or kernel_size, padding)
    check_pool_padding("max_pool2d", kernel_size, padding)
    return MaxPool2d(kernel_size, stride or kernel_size, padding)(x)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    _check_window("avg_pool2d", kernel_size, stride or kernel_size, padding)
    return AvgPool2d(kernel_size, stride or kernel_size, padding)(x)


def global_avg_pool2d(x):
    """(N, C, H, W) -> (N, C, 1, 1): the mean of each channel's map."""
    return x.mean(axis=(2, 3), keepdims=True)
