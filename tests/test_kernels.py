"""Each Numba kernel equals its NumPy reference on hypothesis-drawn shapes, odd sizes included."""
import itertools
import os
import platform
import subprocess
import sys
from functools import partial

import numba
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numba import njit, types

import tinynet as tn
import tinynet.functional as F
from tinynet.functional import conv as conv_module
from tinynet.kernels import activations, adam, blas, dispatch, pooling
from tinynet.kernels import convolution as im2col_module
from tinynet.kernels import lstm_cell as cell
from tinynet.kernels.activations import FASTMATH, fast_sigmoid, fast_tanh, stable_sigmoid

from cases import adam_case


@st.composite
def conv_case(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    k, stride, padding = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(0, 2))
    assume(h + 2 * padding >= k and w + 2 * padding >= k)
    x = np.random.default_rng(draw(st.integers(0, 999))).standard_normal((n, c, h, w))
    return x.astype(draw(st.sampled_from([np.float32, np.float64]))), k, stride, padding


@given(case=conv_case())
def test_im2col_and_col2im_numba_equal_reference(case):
    x, k, stride, padding = case
    expected = im2col_module.im2col_reference(x, k, k, stride, padding)
    np.testing.assert_array_equal(im2col_module.im2col_numba(x, k, k, stride, padding), expected)
    col = np.random.default_rng(1).standard_normal(expected.shape).astype(x.dtype)
    np.testing.assert_allclose(im2col_module.col2im_numba(col, *x.shape, stride, padding),
                               im2col_module.col2im_reference(col, x.shape, stride, padding), rtol=1e-5, atol=1e-5)


@given(case=conv_case(), out_channels=st.integers(1, 9), kw=st.integers(1, 4))
def test_direct_one_channel_convolution_equals_im2col_reference(case, out_channels, kw):
    """The direct kernel and its weight gradient against im2col_reference's product, at stride 1
    (any number of output channels: whole groups of four and a remainder; kernels need not be square)."""
    x, kh, _, padding = case
    assume(x.shape[3] + 2 * padding >= kw)
    x = np.ascontiguousarray(x[:, :1])
    rng = np.random.default_rng(4)
    weight = rng.standard_normal((out_channels, 1, kh, kw)).astype(x.dtype)
    bias = rng.standard_normal(out_channels).astype(x.dtype)
    col = im2col_module.im2col_reference(x, kh, kw, 1, padding)
    n, oh, ow = col.shape[:3]
    col = col.reshape(n, oh * ow, kh * kw)
    expected = (col @ weight.reshape(out_channels, -1).T).reshape(n, oh, ow, out_channels).transpose(0, 3, 1, 2)
    y = im2col_module.conv_one_channel_numba(x, weight, bias, padding)
    tolerance = 1e-5 if x.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, expected + bias.reshape(1, -1, 1, 1), rtol=tolerance, atol=tolerance)
    gy = rng.standard_normal(y.shape).astype(x.dtype)
    expected_gw = np.einsum("nop,npk->ok", gy.reshape(n, out_channels, -1), col).reshape(weight.shape)
    np.testing.assert_allclose(im2col_module.conv_one_channel_weight_grad_numba(x, gy, kh, kw, padding),
                               expected_gw, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("channels, stride, kw, direct", [(1, 1, 3, True), (1, 1, 2, True), (1, 2, 3, False),
                                                        (2, 1, 3, False)])
def test_conv2d_takes_the_direct_kernel_only_for_one_channel_at_stride_1(channels, stride, kw, direct, monkeypatch):
    """Where it applies, the direct kernel gives conv2d the same output and gradients (x, w, b) as im2col
    (F.conv2d takes a non-square weight tensor too)."""
    rng = np.random.default_rng(5)
    x = tn.tensor(rng.standard_normal((3, channels, 8, 7)), requires_grad=True)
    w = tn.tensor(rng.standard_normal((5, channels, 3, kw)), requires_grad=True)
    b = tn.tensor(rng.standard_normal(5), requires_grad=True)
    size = conv_module.conv_output_size
    gy = tn.tensor(rng.standard_normal((3, 5, size(8, 3, stride, 1), size(7, kw, stride, 1))))
    results = []
    for allowed in (True, False):
        if not allowed:
            monkeypatch.setattr(conv_module, "direct_convolution_applies", lambda x, stride: False)
        x.grad = w.grad = b.grad = None
        with tn.profile() as profiler:
            y = F.conv2d(x, w, b, stride=stride, padding=1)
            (y * gy).sum().backward()
        results.append((y.numpy(), x.grad.copy(), w.grad.copy(), b.grad.copy()))
        ran = "conv one channel: numba" in profiler.rows["Conv2d"]["kernels"]
        assert ran == (direct and allowed)
        assert ("im2col: numba" in profiler.rows["Conv2d"]["kernels"]) == (not ran)
    for direct_result, im2col_result in zip(*results):
        np.testing.assert_allclose(direct_result, im2col_result, rtol=1e-12, atol=1e-12)


@given(case=conv_case())
def test_max_pool_numba_equals_reference(case):
    x, k, stride, padding = case
    assume(padding <= k // 2)
    y_ref, arg_ref = pooling.max_pool_forward_reference(x, k, stride, padding)
    y, arg = pooling.max_pool_forward_numba(x, k, stride, padding)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(arg, arg_ref)
    gy = np.random.default_rng(2).standard_normal(y.shape).astype(x.dtype)
    np.testing.assert_allclose(pooling.max_pool_backward_numba(gy, arg, *x.shape),
                               pooling.max_pool_backward_reference(gy, arg_ref, x.shape), rtol=1e-6, atol=1e-6)


@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(2, 9), w=st.integers(2, 9),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 999))
def test_avg_pool_2x2_numba_equals_reference(n, c, h, w, dtype, seed):
    """The compiled 2x2 stride-2 average pooling sums in the reference's order (the same numbers, bit for
    bit), odd last rows and columns dropped forward and given zero gradient backward."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    y = pooling.avg_pool_2x2_forward_numba(x)
    np.testing.assert_array_equal(y, pooling.avg_pool_forward_reference(x, 2, 2, 0))
    gy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_array_equal(pooling.avg_pool_2x2_backward_numba(gy, h, w),
                                  pooling.avg_pool_backward_reference(gy, x.shape, 2, 2, 0))


@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(2, 9), w=st.integers(2, 9),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 999), nan_share=st.sampled_from([0, 0.3]))
def test_max_pool_2x2_numba_equals_reference(n, c, h, w, dtype, seed, nan_share):
    """The unrolled 2x2 stride-2 max pooling picks the reference's winner in every window (ties: the
    first; NaN: the last NaN), odd last rows and columns dropped."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, (n, c, h, w)).astype(dtype)  # small integers: many ties
    x[rng.random(x.shape) < nan_share] = np.nan
    y, argmax = pooling.max_pool_2x2_forward_numba(x)
    y_ref, argmax_ref = pooling.max_pool_forward_reference(x, 2, 2, 0)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(argmax, argmax_ref)


@given(shape=st.sampled_from([(7,), (3, 5), (2, 3, 4, 5)]), slope=st.sampled_from([0.0, 0.01, 0.2, -0.5]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 999))
def test_leaky_relu_numba_equals_reference(shape, slope, dtype, seed):
    """Forward (with infinities, NaNs and signed zeros among the inputs: ReLU(-inf) is 0, NaN stays NaN)
    and backward, compiled against the NumPy reference."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[rng.integers(0, x.size, 3)] = rng.choice([np.inf, -np.inf, np.nan, 0.0, -0.0], 3)
    y, positive = activations.leaky_relu_forward_numba(x, dtype(slope))
    y_ref, positive_ref = activations.leaky_relu_forward_reference(x, slope)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(positive, positive_ref)
    gy = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_array_equal(activations.leaky_relu_backward_numba(gy, positive, dtype(slope)),
                                  activations.leaky_relu_backward_reference(gy, positive_ref, slope))


@given(case=conv_case(), seed=st.integers(0, 999))
def test_max_pool_with_nans_numba_equals_reference(case, seed):
    """NaNs placed at random: both versions pick the same winner, and a window holding a NaN gives NaN."""
    x, k, stride, padding = case
    assume(padding <= k // 2)
    x = x.copy()
    x[np.random.default_rng(seed).random(x.shape) < 0.2] = np.nan
    y_ref, arg_ref = pooling.max_pool_forward_reference(x, k, stride, padding)
    y, arg = pooling.max_pool_forward_numba(x, k, stride, padding)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(arg, arg_ref)
    has_nan = np.isnan(x).reshape(x.shape[0], x.shape[1], -1)
    picked = np.take_along_axis(has_nan, arg.reshape(arg.shape[0], arg.shape[1], -1), axis=2).reshape(arg.shape)
    window_has_nan = pooling.max_pool_forward_reference(np.isnan(x).astype(float), k, stride, padding)[0] == 1
    np.testing.assert_array_equal(np.isnan(y), window_has_nan)
    np.testing.assert_array_equal(picked, window_has_nan)


@given(size=st.integers(1, 300), dtype=st.sampled_from([np.float32, np.float64]), step=st.integers(1, 50),
       seed=st.integers(0, 999))
def test_adam_update_numba_equals_reference(size, dtype, step, seed):
    (w, g, m, v), numbers = adam_case(size, dtype, step, seed)
    numbers.append(dtype(1))
    expected = [a.copy() for a in (w, g, m, v)]
    adam.adam_update_reference(*expected, *numbers)
    arrays = [a.copy() for a in (w, g, m, v)]
    adam.adam_update_numba(*arrays, *numbers)
    assert not np.array_equal(arrays[0], w)
    for got, want in zip(arrays, expected):
        np.testing.assert_allclose(got, want, rtol=2e-6 if dtype == np.float32 else 1e-12, atol=1e-7)


@njit
def _adam_rule_sqrt(w, g, m, v, beta1, beta2, step_size, root_correction2, eps, one):
    return adam._adam_rule(w, g, m, v, beta1, beta2, step_size, root_correction2, eps, one, np.sqrt)


@njit
def _whole_cell(a_i, a_f, a_g, a_o, c_prev, w_ci, w_cf, w_co, dh, dc_next, one):
    i, f, g, c = cell._cell_state(a_i, a_f, a_g, c_prev, w_ci, w_cf, fast_sigmoid, fast_tanh)
    o, tanh_c, h = cell._cell_output(a_o, c, w_co, fast_sigmoid, fast_tanh)
    return (i, f, g, c, o, tanh_c, h) + cell._gate_gradients(dh, dc_next, i, f, g, o, c_prev, tanh_c, w_ci, w_cf,
                                                              w_co, one)


def test_compiled_rules_keep_float32_arithmetic():
    """Numba types a literal such as the 1 in 1 - beta1 as float64, which silently turns float32
    arithmetic into float64 (it did so in the Adam loop, halving its SIMD width): every rule the compiled loops apply
    must map float32 numbers to float32 results."""
    half = np.float32(0.5)
    _adam_rule_sqrt(*[half] * 10)
    _whole_cell(*[half] * 11)
    assert _adam_rule_sqrt.nopython_signatures[-1].return_type == types.UniTuple(types.float32, 3)
    assert _whole_cell.nopython_signatures[-1].return_type == types.UniTuple(types.float32, 12)


@given(steps=st.integers(1, 4), n=st.integers(1, 11), inputs=st.integers(1, 9), hidden=st.integers(1, 9),
       peephole=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 999),
       blocks=st.integers(1, 4), parallel=st.booleans())
def test_lstm_sequence_numba_equals_the_reference_step_loop(steps, n, inputs, hidden, peephole, dtype, seed, blocks,
                                                           parallel):
    """The compiled whole-layer loops (each step's products through NumPy's BLAS), over Numba's threads or
    serial, the batch rows in any number of blocks, against the plain step loop with the NumPy cell. The
    compiled forward is float32-only (fast tanh/sigmoid, error <= 3e-7 each); backward takes both."""
    blocks = min(blocks, n)
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((steps, n, inputs)) * 2).astype(dtype)
    w_ih_t = (rng.standard_normal((inputs, 4 * hidden)) / np.sqrt(inputs)).astype(dtype)
    w_hh_t = (rng.standard_normal((hidden, 4 * hidden)) / np.sqrt(hidden)).astype(dtype)
    bias, h0, c0 = (rng.standard_normal(shape).astype(dtype) for shape in (4 * hidden, (n, hidden), (n, hidden)))
    weights = (rng.standard_normal((3, hidden)) if peephole else np.zeros((3, hidden))).astype(dtype)
    g_out = rng.standard_normal((steps, n, hidden)).astype(dtype)
    dh_last, dc_last = rng.standard_normal((2, n, hidden)).astype(dtype)
    tolerance = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)

    def forward(run):
        acts, hs, cs = np.empty((steps, n, 4 * hidden), dtype), *np.empty((2, steps + 1, n, hidden), dtype)
        hs[0], cs[0] = h0, c0
        tanh_cs = np.empty((steps, n, hidden), dtype)
        run(x, w_ih_t, w_hh_t, bias, weights, acts, hs, cs, tanh_cs)
        return acts, hs, cs, tanh_cs

    gemm = blas.gemm_function(dtype)
    assert gemm is not None, "NumPy's BLAS was not found"
    expected = forward(partial(cell.lstm_sequence_forward_steps, cell_forward=cell.lstm_cell_forward_reference))
    if dtype == np.float32:
        loop = cell.lstm_sequence_forward_numba if parallel else cell.lstm_sequence_forward_serial
        for got, wanted in zip(forward(partial(loop, gemm=gemm, blocks=blocks)), expected):
            np.testing.assert_allclose(got, wanted, **tolerance)
    acts, _, cs, tanh_cs = expected

    def backward(run, input_grad):  # the activations turn into dL/da in place
        d_gates, dh, dc = acts.copy(), dh_last.copy(), dc_last.copy()
        dx = np.full(x.shape, np.nan, dtype) if input_grad else None
        weight_grads = run(g_out, x, np.ascontiguousarray(w_ih_t.T), np.ascontiguousarray(w_hh_t.T), weights, d_gates,
                           hs, cs, tanh_cs, dh, dc, dx)
        return (d_gates, dh, dc, dx) + weight_grads

    hs = expected[1]
    reference = partial(cell.lstm_sequence_backward_steps, cell_backward=cell.lstm_cell_backward_reference)
    loop = cell.lstm_sequence_backward_numba if parallel else cell.lstm_sequence_backward_serial
    for input_grad, sums_in_loop in itertools.product((True, False), (True, False)):
        compiled = cell.compiled_backward(loop, blocks, gemm, sums_in_loop)
        for got, wanted in zip(backward(compiled, input_grad), backward(reference, input_grad), strict=True):
            if wanted is None:
                assert got is None
            else:
                np.testing.assert_allclose(got, wanted, **tolerance)


@njit(fastmath=FASTMATH, error_model="numpy")
def _apply(function, x):
    out = np.empty_like(x)
    for k in range(x.size):
        out[k] = function(x[k])
    return out


def test_fast_tanh_and_sigmoid_stay_within_their_bounds_over_the_float32_range():
    """Every 64th float32 bit pattern (67 million values, -inf..inf), against float64 NumPy:
    |fast_tanh - tanh| <= 3e-7 |tanh| (3e-7 absolute below 1e-30), |fast_sigmoid - sigma| <= 2e-7."""
    bits = np.arange(0, 2 ** 32, 64, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[np.isfinite(x)]
    x = np.concatenate([x, np.float32([np.inf, -np.inf, 0.0, 1e-4, -1e-4])])
    for part in np.array_split(x, 8):
        exact = np.tanh(part.astype(np.float64))
        error = np.abs(_apply(fast_tanh, part) - exact)
        assert (error <= 3e-7 * np.maximum(np.abs(exact), 1e-30) + 1e-37).all(), part[error.argmax()]
        sigma = stable_sigmoid(part.astype(np.float64))
        assert np.abs(_apply(fast_sigmoid, part) - sigma).max() <= 2e-7
    assert np.isnan(_apply(fast_tanh, np.float32([np.nan]))[0]), "NaN must stay NaN, not be clamped away"


def test_tinynet_numba_0_forces_the_references(monkeypatch):
    def fail(*args):
        raise AssertionError("the Numba kernel ran although TINYNET_NUMBA=0")
    monkeypatch.setenv("TINYNET_NUMBA", "0")
    monkeypatch.setattr(im2col_module, "im2col_numba", fail)
    monkeypatch.setattr(im2col_module, "conv_one_channel_numba", fail)
    monkeypatch.setattr(pooling, "max_pool_forward_numba", fail)
    monkeypatch.setattr(pooling, "max_pool_2x2_forward_numba", fail)
    monkeypatch.setattr(pooling, "avg_pool_2x2_forward_numba", fail)
    monkeypatch.setattr(pooling, "avg_pool_2x2_backward_numba", fail)
    monkeypatch.setattr(cell, "lstm_sequence_forward_numba", fail)
    monkeypatch.setattr(cell, "lstm_sequence_backward_numba", fail)
    monkeypatch.setattr(cell, "lstm_sequence_forward_serial", fail)
    monkeypatch.setattr(cell, "lstm_sequence_backward_serial", fail)
    monkeypatch.setattr(blas, "_gemm_in_blocks", fail)
    monkeypatch.setattr(adam, "adam_update_numba", fail)
    monkeypatch.setattr(activations, "leaky_relu_forward_numba", fail)
    monkeypatch.setattr(activations, "leaky_relu_backward_numba", fail)
    x = tn.tensor(np.ones((1, 1, 4, 4)))
    np.testing.assert_array_equal(F.conv2d(x, tn.tensor(np.ones((1, 1, 2, 2)))).numpy(), np.full((1, 1, 3, 3), 4.0))
    np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy(), np.ones((1, 1, 2, 2)))
    pooled = tn.tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    F.relu(F.avg_pool2d(pooled, 2)).sum().backward()
    np.testing.assert_array_equal(pooled.grad, np.full((1, 1, 4, 4), 0.25))
    w_ih = tn.tensor(np.ones((4, 2)), requires_grad=True)
    h, c = F.lstm_cell(tn.tensor(np.ones((1, 2))), *(tn.tensor(np.zeros((1, 1))),) * 2, w_ih,
                       tn.tensor(np.ones((4, 1))))
    gate = 1 / (1 + np.exp(-2.0))  # every gate's pre-activation is 1 + 1 = 2
    np.testing.assert_allclose(c.numpy(), [[gate * np.tanh(2.0)]])
    np.testing.assert_allclose(h.numpy(), gate * np.tanh(c.numpy()))
    h.sum().backward()
    assert w_ih.grad is not None
    weight = tn.nn.Parameter(np.ones(3, dtype=np.float32))
    weight.grad = np.ones_like(weight.data)
    tn.optim.Adam([weight], lr=0.5).step()
    np.testing.assert_allclose(weight.data, 0.5, rtol=1e-5)  # the first Adam step is lr * sign(g) (float32)


@pytest.mark.parametrize("numba_setting, dtype, kernels", [
    ("1", np.float32, {"lstm sequence forward: numba", "lstm sequence backward: numba"}),
    ("1", np.float64, {"lstm cell forward: reference", "lstm sequence backward: numba"}),
    ("0", np.float32, {"lstm cell forward: reference", "lstm cell backward: reference"})])
def test_the_lstm_layer_runs_the_compiled_loops_where_they_exist(numba_setting, dtype, kernels, monkeypatch):
    """On the CPU: float32 compiled both ways; float64 the exact reference forward (step loop) and the
    compiled backward; TINYNET_NUMBA=0 the step loop with the NumPy cell. The CUDA switch changes nothing
    here (the CUDA kernels are checked against the loop in tests/test_gpu.py)."""
    monkeypatch.setenv("TINYNET_CUDA_LSTM_SEQUENCE", "1")
    monkeypatch.setenv("TINYNET_NUMBA", numba_setting)
    model = tn.nn.LSTM(3, 5)
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    with tn.profile() as profiler:
        output, _ = model(tn.tensor(np.ones((4, 2, 3)), dtype=dtype))
        output.sum().backward()
    assert profiler.rows["LSTMLayer"]["kernels"] == kernels


def test_without_numpys_blas_the_lstm_layer_falls_back_to_the_step_loop(monkeypatch):
    """A NumPy built against a BLAS that blas.py cannot find: the same numbers from the plain loop."""
    tn.manual_seed(0)
    model = tn.nn.LSTM(3, 5, num_layers=2)
    x = np.random.default_rng(0).standard_normal((4, 2, 3)).astype(np.float32)
    results = {}
    for found in (True, False):
        if not found:
            monkeypatch.setattr(blas, "gemm_function", lambda dtype: None)
        model.zero_grad()
        with tn.profile() as profiler:
            output, _ = model(tn.tensor(x))
            output.sum().backward()
        results[found] = [output.numpy()] + [p.grad.copy() for p in model.parameters()]
        assert ("lstm sequence forward: numba" in profiler.rows["LSTMLayer"]["kernels"]) == found
    for compiled, plain in zip(results[True], results[False]):
        np.testing.assert_allclose(compiled, plain, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("megabytes", ["256", "0.0005"])  # the whole batch in one im2col chunk, or one image each
def test_conv_weight_gradient_per_image_equals_one_product(megabytes, monkeypatch):
    """dW as one product per image and a sum (small kernels) or as one product over all positions
    (large kernels, see PER_IMAGE_WEIGHT_GRADIENT_UP_TO): the same gradients either way."""
    monkeypatch.setenv("TINYNET_IM2COL_MB", megabytes)
    rng = np.random.default_rng(3)
    x = tn.tensor(rng.standard_normal((4, 3, 7, 6)), requires_grad=True)
    w = tn.tensor(rng.standard_normal((5, 3, 3, 2)), requires_grad=True)
    gy = rng.standard_normal((4, 5, 4, 4))
    results = []
    for limit in (0, 10 ** 9):
        monkeypatch.setattr(conv_module, "PER_IMAGE_WEIGHT_GRADIENT_UP_TO", limit)
        x.grad = w.grad = None
        (F.conv2d(x, w, stride=2, padding=1) * tn.tensor(gy)).sum().backward()
        results.append((x.grad.copy(), w.grad.copy()))
    for one_product, per_image in zip(*results):
        np.testing.assert_allclose(per_image, one_product, rtol=1e-12, atol=1e-12)


def test_conv_in_batch_chunks_equals_one_pass(monkeypatch):
    rng = np.random.default_rng(0)
    x = tn.tensor(rng.standard_normal((5, 2, 6, 6)), requires_grad=True)
    w = tn.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = tn.tensor(rng.standard_normal(3), requires_grad=True)
    results = []
    for megabytes in ("256", "0.0005"):  # the second bound allows one image per chunk
        monkeypatch.setenv("TINYNET_IM2COL_MB", megabytes)
        x.grad = w.grad = b.grad = None
        y = F.conv2d(x, w, b, stride=1, padding=1)
        (y * y).sum().backward()
        results.append((y.numpy(), x.grad.copy(), w.grad.copy(), b.grad.copy()))
    from tinynet.functional.conv import im2col_batch_chunk
    assert im2col_batch_chunk(5, 2 * 36 * 9 * 8) == 1
    for one_pass, chunked in zip(*results):
        np.testing.assert_allclose(chunked, one_pass, rtol=1e-12)


@given(m=st.integers(1, 7), n=st.integers(1, 7), k=st.integers(1, 7), transpose_b=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 99))
def test_numpy_blas_gemm_equals_matmul(m, n, k, transpose_b, dtype, seed):
    """C = 2 A op(B) + 0.5 C through the ctypes gemm the compiled LSTM loops call (pointers as integers)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if transpose_b else (k, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    expected = 2 * a @ (b.T if transpose_b else b) + 0.5 * c
    blas.gemm_function(dtype)(blas.ROW_MAJOR, blas.NO_TRANS, blas.TRANS if transpose_b else blas.NO_TRANS, m, n, k,
                              2.0, a.ctypes.data, k, b.ctypes.data, b.shape[1], 0.5, c.ctypes.data, n)
    np.testing.assert_allclose(c, expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def _laid_out(values, layout):
    """values (2-D) in an array of the given memory layout: C or Fortran order, a column slice of a wider
    array (rows farther apart than their length), or every other column (strides BLAS cannot read)."""
    rows, cols = values.shape
    if layout == "C":
        return np.ascontiguousarray(values)
    if layout == "F":
        return np.asfortranarray(values)
    wider = np.zeros((rows, 2 * cols + 3), values.dtype)
    if layout == "column slice":
        wider[:, 2:cols + 2] = values
        return wider[:, 2:cols + 2]
    wider[:, 1:2 * cols + 1:2] = values
    return wider[:, 1:2 * cols + 1:2]


LAYOUTS = ["C", "F", "column slice", "every other column"]


@given(m=st.integers(1, 30), n=st.integers(1, 30), k=st.integers(0, 12), layout_a=st.sampled_from(LAYOUTS),
       layout_b=st.sampled_from(LAYOUTS), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 99),
       split=st.sampled_from([None, blas.SPLIT_ROWS, blas.SPLIT_COLUMNS, blas.SPLIT_INNER]))
def test_products_split_over_threads_equal_matmul(m, n, k, layout_a, layout_b, dtype, seed, split):
    """Every product split into blocks (split_from=0) along the rows, the columns or the inner dimension
    (or as the shapes choose), with operands in place (C order, transposed, column-sliced) or copied
    first: the same numbers as NumPy's."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    got = blas.matmul_on_numba_threads(_laid_out(a, layout_a), _laid_out(b, layout_b), split_from=0, split=split)
    assert got.shape == (m, n) and got.dtype == dtype
    np.testing.assert_allclose(got, a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_split_products_compile_once_per_dtype():
    """Every layout of the operands and every split runs one compiled version per dtype (each more
    would cost a user's first run about half a second of compiling)."""
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        a, b = rng.standard_normal((6, 5)).astype(dtype), rng.standard_normal((5, 4)).astype(dtype)
        for layout_a, layout_b in itertools.product(LAYOUTS, LAYOUTS):
            for split in (blas.SPLIT_ROWS, blas.SPLIT_COLUMNS, blas.SPLIT_INNER):
                blas.matmul_on_numba_threads(_laid_out(a, layout_a), _laid_out(b, layout_b), split_from=0, split=split)
    assert len(blas._gemm_in_blocks.signatures) == 2, blas._gemm_in_blocks.signatures


def test_products_not_for_blas_fall_back_to_numpy():
    ints, floats = np.arange(6).reshape(2, 3), np.ones((3, 2), np.float32)
    np.testing.assert_array_equal(blas.matmul_on_numba_threads(ints, ints.T, split_from=0), ints @ ints.T)
    assert blas.matmul_on_numba_threads(floats.T, floats.astype(np.float64), split_from=0).dtype == np.float64
    stacked = np.ones((2, 3, 3), np.float32)
    np.testing.assert_array_equal(blas.matmul_on_numba_threads(stacked, stacked, split_from=0), stacked @ stacked)


def test_one_pool_of_threads_where_tbb_is_installed():
    """On Linux x86-64 the tbb package is a dependency: Numba's TBB layer must load (also from a virtual
    environment's lib/) and OpenBLAS must be set to one thread, or every product and parallel loop falls
    back to the slower arrangement without a word."""
    if sys.platform == "linux" and platform.machine() == "x86_64" and "NUMBA_THREADING_LAYER" not in os.environ:
        assert numba.config.THREADING_LAYER == "tbb", "the tbb package did not load: pip install tbb"
        assert dispatch.BLAS_ON_NUMBA_THREADS, "OpenBLAS's thread count could not be set"
    else:
        assert dispatch.BLAS_ON_NUMBA_THREADS == (numba.config.THREADING_LAYER == "tbb")


def test_the_compiled_lstm_loop_refuses_arrays_blas_cannot_read():
    x, gates = np.zeros((2, 3, 5), np.float32), np.zeros((2, 3, 8), np.float32)
    hs, cs, tanh_cs = np.zeros((3, 3, 2), np.float32), np.zeros((3, 3, 2), np.float32), np.zeros((2, 3, 2), np.float32)
    w_ih_t, w_hh_t = np.zeros((5, 8), np.float32), np.zeros((2, 8), np.float32)
    bias, peephole, gemm = np.zeros(8, np.float32), np.zeros((3, 2), np.float32), blas.gemm_function(np.float32)
    for x_view, w_hh_t_view in ((x, w_hh_t.T.copy().T), (np.zeros((3, 2, 5), np.float32).transpose(1, 0, 2), w_hh_t)):
        with pytest.raises(ValueError, match="C-contiguous"):  # transposed views of W_hh^T, then of x
            cell.lstm_sequence_forward_numba(x_view, w_ih_t, w_hh_t_view, bias, peephole, gates, hs, cs, tanh_cs,
                                             gemm, 1)
    g_out, dh, dc, dx = np.zeros((2, 3, 2), np.float32), *np.zeros((2, 3, 2), np.float32), np.zeros_like(x)
    with pytest.raises(ValueError, match="C-contiguous"):  # backward reads W_ih (4H, I): here a transposed view
        cell.lstm_sequence_backward_numba(g_out, x, w_ih_t.T, w_hh_t.T.copy(), peephole, gates, hs,
                                          cs, tanh_cs, dh, dc, dx, True, gemm, 1)


_COMPILE_SERIAL_THEN_PARALLEL = """
import numpy as np
from tinynet.kernels import blas, lstm_cell as cell
steps, n, inputs, hidden, f = 2, 3, 5, 2, np.float32
x, w_ih_t, w_hh_t = np.ones((steps, n, inputs), f), np.ones((inputs, 4 * hidden), f), np.ones((hidden, 4 * hidden), f)
gates, hs, cs = np.empty((steps, n, 4 * hidden), f), *np.zeros((2, steps + 1, n, hidden), f)
forward = (x, w_ih_t, w_hh_t, np.zeros(4 * hidden, f), np.zeros((3, hidden), f), gates, hs, cs,
           np.empty((steps, n, hidden), f), blas.gemm_function(f), 1)
backward = (np.ones((steps, n, hidden), f), x, np.ascontiguousarray(w_ih_t.T), np.ascontiguousarray(w_hh_t.T),
            np.zeros((3, hidden), f), gates, hs, cs, np.ones((steps, n, hidden), f), np.zeros((n, hidden), f),
            np.zeros((n, hidden), f), np.empty((0, 0, 0), f), True, blas.gemm_function(f), 1)
cell.lstm_sequence_forward_serial(*forward)
cell.lstm_sequence_backward_serial(*backward)
cell.lstm_sequence_forward_numba(*forward)
cell.lstm_sequence_backward_numba(*backward)
print(sum(cell.lstm_sequence_forward_numba.stats.cache_hits.values()),
      sum(cell.lstm_sequence_backward_numba.stats.cache_hits.values()))
"""


def test_the_parallel_loops_never_load_the_serial_loops_from_the_disk_cache(tmp_path):
    """Numba's disk cache tells compilations of one function apart by name, line and bytecode, not by
    options such as parallel=True (numba/numba#6845): compiled first (as the test suite did), the serial
    loop's machine code was loaded for the parallel loop too, which then ran on one core. In a fresh
    process with an empty cache, after the serial loops are compiled and saved, the parallel ones must
    find nothing of theirs on disk."""
    done = subprocess.run([sys.executable, "-c", _COMPILE_SERIAL_THEN_PARALLEL], capture_output=True, text=True,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "0"], "a parallel LSTM loop was loaded from the serial loop's cache entry"
