"""Each Numba kernel equals its NumPy reference on hypothesis-drawn shapes, odd sizes included."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numba import njit, types

import tinynet as tn
import tinynet.functional as F
from tinynet.functional import conv as conv_module
from tinynet.kernels import adam, pooling
from tinynet.kernels import convolution as im2col_module
from tinynet.kernels import lstm_cell as cell
from tinynet.kernels.activations import FASTMATH, fast_sigmoid, fast_tanh, stable_sigmoid

from cases import lstm_cell_case


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


@given(size=st.integers(1, 300), dtype=st.sampled_from([np.float32, np.float64]), step=st.integers(1, 50),
       seed=st.integers(0, 999))
def test_adam_update_numba_equals_reference(size, dtype, step, seed):
    rng = np.random.default_rng(seed)
    w, g, m = (rng.standard_normal(size).astype(dtype) for _ in range(3))
    v = rng.random(size).astype(dtype)
    beta1, beta2, lr, eps = 0.9, 0.999, 0.01, 1e-8
    numbers = [dtype(x) for x in (beta1, beta2, lr / (1 - beta1 ** step), (1 - beta2 ** step) ** 0.5, eps, 1)]
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


@given(n=st.integers(1, 5), hidden=st.integers(1, 7), peephole=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 999))
def test_lstm_cell_numba_equals_reference(n, hidden, peephole, dtype, seed):
    """The compiled forward is float32-only (fast tanh/sigmoid, error <= 3e-7 each); backward takes both."""
    gates, recurrent, bias, c_prev, weights, dh, g_out, dc = lstm_cell_case(n, hidden, peephole, dtype, seed)
    outputs = {}
    for version, forward in (("ref", cell.lstm_cell_forward_reference), ("numba", cell.lstm_cell_forward_numba)):
        acts, h, c, tanh_c = gates.copy(), *(np.empty_like(c_prev) for _ in range(3))
        if version == "numba" and dtype == np.float64:
            outputs[version] = outputs["ref"]
            continue
        forward(acts, recurrent, bias, c_prev, weights, h, c, tanh_c)
        outputs[version] = (acts, h, c, tanh_c)
    tolerance = dict(rtol=1e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for got, expected in zip(outputs["numba"], outputs["ref"]):
        np.testing.assert_allclose(got, expected, **tolerance)
    acts, _, _, tanh_c = outputs["ref"]
    d_gates = {v: np.empty_like(gates) for v in ("ref", "numba")}
    dc_prev = {v: np.empty_like(c_prev) for v in ("ref", "numba")}
    cell.lstm_cell_backward_reference(dh, g_out, dc, acts, c_prev, tanh_c, weights, d_gates["ref"], dc_prev["ref"])
    cell.lstm_cell_backward_numba(dh, g_out, dc, acts, c_prev, tanh_c, weights, d_gates["numba"], dc_prev["numba"],
                                  dtype(1))
    np.testing.assert_allclose(d_gates["numba"], d_gates["ref"], **tolerance)
    np.testing.assert_allclose(dc_prev["numba"], dc_prev["ref"], **tolerance)


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
    monkeypatch.setattr(pooling, "max_pool_forward_numba", fail)
    monkeypatch.setattr(cell, "lstm_cell_forward_numba", fail)
    monkeypatch.setattr(adam, "adam_update_numba", fail)
    x = tn.tensor(np.ones((1, 1, 4, 4)))
    np.testing.assert_array_equal(F.conv2d(x, tn.tensor(np.ones((1, 1, 2, 2)))).numpy(), np.full((1, 1, 3, 3), 4.0))
    np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy(), np.ones((1, 1, 2, 2)))
    h, c = F.lstm_cell(tn.tensor(np.ones((1, 2))), *(tn.tensor(np.zeros((1, 1))),) * 2,
                       tn.tensor(np.ones((4, 2))), tn.tensor(np.ones((4, 1))))
    gate = 1 / (1 + np.exp(-2.0))  # every gate's pre-activation is 1 + 1 = 2
    np.testing.assert_allclose(c.numpy(), [[gate * np.tanh(2.0)]])
    np.testing.assert_allclose(h.numpy(), gate * np.tanh(c.numpy()))
    weight = tn.nn.Parameter(np.ones(3, dtype=np.float32))
    weight.grad = np.ones_like(weight.data)
    tn.optim.Adam([weight], lr=0.5).step()
    np.testing.assert_allclose(weight.data, 0.5, rtol=1e-5)  # the first Adam step is lr * sign(g) (float32)


def test_the_whole_sequence_lstm_kernel_is_cuda_only(monkeypatch):
    """On NumPy arrays the layer always runs its per-step loop, whatever TINYNET_CUDA_LSTM_SEQUENCE says
    (the CUDA kernel itself is checked against the loop in tests/test_gpu.py)."""
    monkeypatch.setenv("TINYNET_CUDA_LSTM_SEQUENCE", "1")
    gates, g_out = np.zeros((2, 3, 8), np.float32), np.zeros((2, 3, 2), np.float32)
    assert cell.sequence_forward_kernel(gates) is None and cell.sequence_backward_kernel(g_out) is None


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
