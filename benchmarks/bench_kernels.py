"""Kernels side by side: NumPy reference vs Numba vs CuPy (when present), the two forms of the conv
weight gradient, a one-channel conv on its two paths (im2col or direct), and matrix products on
OpenBLAS's threads or split over Numba's (kernels/blas.py); median time per call.

    python benchmarks/bench_kernels.py

Throughput is the bytes each call must read and write divided by its time (GB/s).
"""
import sys
import time
from functools import partial

import numpy as np

from tinynet import backend
from tinynet.functional import conv as conv_module
from tinynet.functional.conv import Conv2d
from tinynet.kernels import activations, adam, blas, convolution, pooling
from tinynet.kernels import lstm_cell as cell

from common import machine, median_seconds


def conv_weight_gradient(conv, gy, limit):
    """Conv2d.backward with the per-image weight gradient used up to ``limit`` weights."""
    saved, conv_module.PER_IMAGE_WEIGHT_GRADIENT_UP_TO = conv_module.PER_IMAGE_WEIGHT_GRADIENT_UP_TO, limit
    try:
        return conv.backward(gy)
    finally:
        conv_module.PER_IMAGE_WEIGHT_GRADIENT_UP_TO = saved


def on_im2col_path(fn):
    """fn() with conv2d's direct kernel for one-channel inputs switched off."""
    saved, conv_module.direct_convolution_applies = conv_module.direct_convolution_applies, lambda x, stride: False
    try:
        return fn()
    finally:
        conv_module.direct_convolution_applies = saved


def first_conv_cases(xp, rng):
    """LeNet-5's first conv (64 x 1 x 28 x 28, 6 filters 5x5, padding 2) on its two paths: im2col + product
    or the direct kernel; forward, and backward without the input gradient (dW, db)."""
    x = xp.asarray(rng.standard_normal((64, 1, 28, 28), dtype=np.float32))
    weight = xp.asarray(rng.standard_normal((6, 1, 5, 5), dtype=np.float32))
    gy = xp.asarray(rng.standard_normal((64, 6, 28, 28), dtype=np.float32))
    convs = {"im2col": Conv2d(stride=1, padding=2), "direct": Conv2d(stride=1, padding=2)}
    for version, conv in convs.items():
        conv.needs_input_grad = (False, True)
        if version == "direct":
            conv.forward(x, weight)
        else:
            on_im2col_path(lambda conv=conv: conv.forward(x, weight))  # keeps its col for backward
    forward = {"im2col": lambda: on_im2col_path(lambda: Conv2d(1, 2).forward(x, weight)),
               "direct": lambda: Conv2d(1, 2).forward(x, weight)}
    backward = {version: lambda conv=conv: conv.backward(gy) for version, conv in convs.items()}
    return {"conv fwd 64x1x28x28 6x5x5": (x, forward, x.nbytes + gy.nbytes),
            "conv dW 64x1x28x28 6x5x5": (x, backward, x.nbytes + gy.nbytes)}


def cases(xp):
    rng = np.random.default_rng(0)
    x = xp.asarray(rng.standard_normal((64, 20, 13, 13), dtype=np.float32))  # paper 001's second conv input
    col = convolution.im2col_reference(x, 5, 5, 1, 0)
    pool_in = xp.asarray(rng.standard_normal((64, 20, 26, 26), dtype=np.float32))
    y, argmax = pooling.max_pool_forward_reference(pool_in, 2, 2, 0)
    steps, n, hidden = 28, 100, 64  # a layer of paper 000's LSTM: 28 steps, batch 100, 64 units
    x_steps = xp.asarray(rng.standard_normal((steps, n, 28), dtype=np.float32))  # the first layer's input rows
    w_ih_t = xp.asarray(rng.standard_normal((28, 4 * hidden), dtype=np.float32) / 6)
    w_hh_t = xp.asarray(rng.standard_normal((hidden, 4 * hidden), dtype=np.float32) / 8)
    bias, peephole = xp.zeros(4 * hidden, np.float32), xp.zeros((3, hidden), np.float32)
    hs, cs = (xp.asarray(rng.standard_normal((steps + 1, n, hidden), dtype=np.float32)) for _ in range(2))
    tanh_cs, g_out = (xp.asarray(rng.standard_normal((steps, n, hidden), dtype=np.float32)) for _ in range(2))
    dh, dc = (xp.asarray(rng.standard_normal((n, hidden), dtype=np.float32)) for _ in range(2))
    acts = xp.asarray(rng.random((steps, n, 4 * hidden), dtype=np.float32))
    reference_cell = (partial(cell.lstm_sequence_forward_steps, cell_forward=cell.lstm_cell_forward_reference),
                      partial(cell.lstm_sequence_backward_steps, cell_backward=cell.lstm_cell_backward_reference))
    gates = xp.empty((steps, n, 4 * hidden), np.float32)
    chosen = cell.sequence_forward_kernel(gates), cell.sequence_backward_kernel(g_out)  # Numba or CuPy
    layer_forward = {version: lambda way=way: way(x_steps, w_ih_t, w_hh_t, bias, peephole, gates, hs, cs, tanh_cs)
                     for version, way in (("reference", reference_cell[0]), ("numba", chosen[0]), ("cupy", chosen[0]))}
    w_hh = xp.ascontiguousarray(w_hh_t.T)
    w_ih = xp.ascontiguousarray(w_ih_t.T)
    layer_backward = {version: lambda way=way: way(g_out, x_steps, w_ih, w_hh, peephole, acts.copy(), hs, cs, tanh_cs,
                                                   dh.copy(), dc.copy(), None)  # a copy: it turns into dL/da
                      for version, way in (("reference", reference_cell[1]), ("numba", chosen[1]), ("cupy", chosen[1]))}
    adam_arrays = {shape: [xp.asarray(rng.random(shape, dtype=np.float32)) for _ in range(4)]
                   for shape in ((256, 784), (500, 3240))}  # paper 002 ANN 1's first layer, paper 001's fc1
    adam_numbers = [np.float32(x) for x in (0.9, 0.999, 0.001 / 0.1, 0.001 ** 0.5, 1e-8, 1)]  # step 1
    nbytes = lambda *arrays: sum(a.nbytes for a in arrays)  # noqa: E731
    relu_in = xp.asarray(rng.standard_normal((64, 6, 28, 28), dtype=np.float32))  # LeNet-5's first ReLU and pool
    positive, zero = relu_in > 0, np.float32(0)
    avg_y = pooling.avg_pool_forward_reference(relu_in, 2, 2, 0)
    # Conv2d's backward without the input gradient, so dW (and db), for paper 001's second conv (20,000
    # weights), with dW as one product or one per image (conv.py explains)
    conv = Conv2d(stride=1, padding=0)
    conv.needs_input_grad = (False, True)
    conv.forward(x, xp.asarray(rng.standard_normal((40, 20, 5, 5), dtype=np.float32)))
    gy = xp.asarray(rng.standard_normal((64, 40, 9, 9), dtype=np.float32))
    conv_dw = {"conv dW 40x20x5x5": (x, {"one prod": lambda: conv_weight_gradient(conv, gy, limit=0),
                                          "per image": lambda: conv_weight_gradient(conv, gy, limit=2 ** 62)},
                                     nbytes(conv.col, gy))}
    return {
        "im2col 64x20x13x13 k5": (x, {"reference": lambda: convolution.im2col_reference(x, 5, 5, 1, 0),
                                       "numba": lambda: convolution.im2col_numba(x, 5, 5, 1, 0)}, nbytes(x, col)),
        "col2im 64x20x13x13 k5": (x, {"reference": lambda: convolution.col2im_reference(col, x.shape, 1, 0),
                                       "numba": lambda: convolution.col2im_numba(col, *x.shape, 1, 0)}, nbytes(x, col)),
        "maxpool fwd 64x20x26x26": (x, {"reference": lambda: pooling.max_pool_forward_reference(pool_in, 2, 2, 0),
                                         "numba": lambda: pooling.max_pool_forward_numba(pool_in, 2, 2, 0),
                                         "numba 2x2": lambda: pooling.max_pool_2x2_forward_numba(pool_in)},
                                    nbytes(pool_in, y, argmax)),
        "maxpool bwd 64x20x26x26": (x, {
            "reference": lambda: pooling.max_pool_backward_reference(y, argmax, pool_in.shape),
                                         "numba": lambda: pooling.max_pool_backward_numba(y, argmax, *pool_in.shape)},
                                    nbytes(pool_in, y, argmax)),
        "lstm fwd 28x100, 28->64": (x, layer_forward, nbytes(x_steps, gates, hs, cs, tanh_cs)),
        "lstm bwd, dW 28x100x64": (x, layer_backward, nbytes(g_out, acts, x_steps, hs, cs, tanh_cs, acts)),
    } | {f"adam update {rows}x{cols}": (x, {
        "reference": lambda arrays=arrays: adam.adam_update_reference(*arrays, *adam_numbers),
        "numba": lambda arrays=arrays: adam.adam_update_numba(*(a.reshape(-1) for a in arrays), *adam_numbers)},
        nbytes(*arrays, *arrays[:1], *arrays[2:])) for (rows, cols), arrays in adam_arrays.items()
    } | {
        "avgpool2 fwd 64x6x28x28": (x, {"reference": lambda: pooling.avg_pool_forward_reference(relu_in, 2, 2, 0),
                                        "numba": lambda: pooling.avg_pool_2x2_forward_numba(relu_in)},
                                   nbytes(relu_in, avg_y)),
        "avgpool2 bwd 64x6x28x28": (x, {
            "reference": lambda: pooling.avg_pool_backward_reference(avg_y, relu_in.shape, 2, 2, 0),
            "numba": lambda: pooling.avg_pool_2x2_backward_numba(avg_y, 28, 28)}, nbytes(relu_in, avg_y)),
        "relu fwd 64x6x28x28": (x, {"reference": lambda: activations.leaky_relu_forward_reference(relu_in, 0.0),
                                    "numba": lambda: activations.leaky_relu_forward_numba(relu_in, zero)},
                               nbytes(relu_in, relu_in) + relu_in.size),
        "relu bwd 64x6x28x28": (x, {
            "reference": lambda: activations.leaky_relu_backward_reference(relu_in, positive, 0.0),
            "numba": lambda: activations.leaky_relu_backward_numba(relu_in, positive, zero)},
                               nbytes(relu_in, relu_in) + relu_in.size),
    } | conv_dw | first_conv_cases(xp, rng) | (product_cases(xp, rng) if xp is np else {})


def warm_up(fn, seconds=0.3):
    """Call fn (compiling it the first time) for ``seconds``: TBB's worker threads fall asleep after a
    pause, and a loop started before they wake runs on the calling thread alone (2-3x slower)."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn()


def on_openblas_threads(fn, threads):
    """fn() with NumPy's OpenBLAS set to ``threads`` threads (tinynet sets one), then back to one."""
    blas.set_blas_threads(threads)
    try:
        return fn()
    finally:
        blas.set_blas_threads(1)


def product_cases(xp, rng):
    """The LSTM's largest products (paper 000, batch 100, 28 steps): NumPy's @ on OpenBLAS's own one or two
    threads, and split over Numba's threads by rows, columns or the inner dimension (CPU only)."""
    shapes = {"product 2800x64 @ 64x256": ((2800, 64), (64, 256)),  # the second layer's input projection
              "product 256x2800 @ 2800x64": ((2800, 256), (2800, 64))}  # a weight gradient, d_gates^T h
    found = {}
    for name, (shape_a, shape_b) in shapes.items():
        a, b = (xp.asarray(rng.standard_normal(shape, dtype=np.float32)) for shape in (shape_a, shape_b))
        if shape_a[0] == shape_b[0]:  # the weight gradient reads d_gates transposed
            a = a.T
        nbytes = a.nbytes + b.nbytes + a.shape[0] * b.shape[1] * 4
        found[name] = (a, {
            f"split {way}": lambda a=a, b=b, split=split: blas.matmul_on_numba_threads(a, b, split=split)
            for way, split in (("rows", blas.SPLIT_ROWS), ("cols", blas.SPLIT_COLUMNS), ("inner", blas.SPLIT_INNER))
        } | {"openblas 1": lambda a=a, b=b: a @ b}, nbytes)
        # last of all: OpenBLAS's threads, once woken, spin for ~0.1 s and slow any Numba loop timed after them
        found[name + " "] = (a, {"openblas 2": lambda a=a, b=b: on_openblas_threads(lambda: a @ b, 2)}, nbytes)
    return dict(sorted(found.items(), key=lambda item: item[0].endswith(" ")))


def main():
    print(f"machine: {machine()}")
    print(f"{'kernel':<28}{'version':<11}{'us/call':>10}{'GB/s':>8}")
    devices = [("cpu", np)] + ([("gpu", backend.cupy)] if backend.gpu_available() else [])
    for device, xp in devices:
        for name, (_, versions, nbytes) in cases(xp).items():
            for version, fn in versions.items():
                if (device == "gpu") != (version == "cupy") and not (device == "gpu" and version == "reference"):
                    continue  # Numba runs on NumPy arrays only; the CuPy kernel on the GPU only
                warm_up(fn)
                seconds = median_seconds(fn, 21, device)
                label = f"{version} ({device})" if device == "gpu" else version
                print(f"{name:<28}{label:<11}{seconds * 1e6:>10.1f}{nbytes / seconds / 1e9:>8.2f}", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
