"""Lesson 04: convolution is im2col followed by one matrix product.

    python examples/lessons/04_convolution_im2col.py

im2col copies every k x k patch of the (padded) image into a row; the filters, flattened, become
columns; one matrix product then computes every output pixel of every filter at once.
tinynet/kernels/convolution.py holds im2col (a NumPy reference and a Numba version). For an image
with one channel the copy costs more than the product it feeds (each pixel is copied k*k times for
a product only k*k long), so there F.conv2d sums the k*k shifted images directly
(conv_one_channel_numba in the same file).
"""
import numpy as np

import tinynet as tn
import tinynet.functional as F
from tinynet.kernels import conv_output_size, im2col

rng = np.random.default_rng(0)
n, c, h, w, filters, k, stride, padding = 2, 3, 6, 6, 4, 3, 1, 1
x = rng.standard_normal((n, c, h, w))
weight = rng.standard_normal((filters, c, k, k))

oh, ow = conv_output_size(h, k, stride, padding), conv_output_size(w, k, stride, padding)
col = im2col(x, k, k, stride, padding)                  # (N, OH, OW, C, k, k)
print("input", x.shape, "-> col", col.shape, f"({n * oh * ow} patches of {c * k * k} numbers)")
rows = col.reshape(n * oh * ow, c * k * k)              # one patch per row
y = rows @ weight.reshape(filters, -1).T                # (N*OH*OW, filters): the whole convolution
y = y.reshape(n, oh, ow, filters).transpose(0, 3, 1, 2)  # back to (N, filters, OH, OW)
print("matrix product", rows.shape, "x", weight.reshape(filters, -1).T.shape, "-> output", y.shape)

# The first output pixel by hand: the top-left patch (with its zero padding) times filter 0.
padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
print("y[0, 0, 0, 0]:", y[0, 0, 0, 0], "by hand:", (padded[0, :, :k, :k] * weight[0]).sum())

expected = F.conv2d(tn.tensor(x, dtype="float64"), tn.tensor(weight, dtype="float64"),
                    stride=stride, padding=padding).numpy()
print("largest difference from F.conv2d:", np.abs(y - expected).max())
assert np.allclose(y, expected)
