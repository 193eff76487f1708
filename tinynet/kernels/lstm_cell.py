"""The fused LSTM cell: every elementwise step of one time step in one pass.

Input ``gates`` (N, 4H) holds the pre-activations a = x W_ih^T + b_ih + h W_hh^T + b_hh in the
order i, f, g, o; ``peephole`` (3, H) holds the diagonal peephole weights w_ci, w_cf, w_co (zeros
for a plain LSTM). With sigma the logistic function:

    i  = sigma(a_i + w_ci * c_prev)          f = sigma(a_f + w_cf * c_prev)        g = tanh(a_g)
    c  = f * c_prev + i * g                  o = sigma(a_o + w_co * c)             h = o * tanh(c)

Forward overwrites ``gates`` with the activations [i, f, g, o] (backward needs them) and writes
h, c and tanh(c). Backward turns dL/dh and dL/dc into dL/da (written into ``d_gates``) and
dL/dc_prev:

    d_o = dh * tanh(c) * o (1 - o)
    dc  = dc_next + dh * o * (1 - tanh(c)^2) + d_o * w_co
    d_i = dc * g * i (1 - i)       d_f = dc * c_prev * f (1 - f)       d_g = dc * i * (1 - g^2)
    dc_prev = dc * f + d_i * w_ci + d_f * w_cf
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..backend import get_array_module
from .activations import FASTMATH, fast_sigmoid, fast_tanh, stable_sigmoid
from .dispatch import kernel_version


# ----------------------------------------------------------------------------- the math, once
# Plain Python over "numbers": applied to whole NumPy/CuPy arrays by the reference and, compiled with
# Numba, to one float32 element at a time by the fast loops. Only sigmoid and tanh differ between the
# two: exact (stable_sigmoid, xp.tanh) in the reference, fast_sigmoid / fast_tanh (error <= 3e-7,
# tinynet/kernels/activations.py) in the compiled loops.
def cell_state(a_i, a_f, a_g, c_prev, w_ci, w_cf, sigmoid, tanh):
    """Input gate i, forget gate f, candidate g and the new cell state c = f * c_prev + i * g."""
    i = sigmoid(a_i + w_ci * c_prev)
    f = sigmoid(a_f + w_cf * c_prev)
    g = tanh(a_g)
    return i, f, g, f * c_prev + i * g


def cell_output(a_o, c, w_co, sigmoid, tanh):
    """Output gate o (its peephole looks at the new c), tanh(c) and the output h = o * tanh(c)."""
    o = sigmoid(a_o + w_co * c)
    tanh_c = tanh(c)
    return o, tanh_c, o * tanh_c


def gate_gradients(dh, dc_next, i, f, g, o, c_prev, tanh_c, w_ci, w_cf, w_co, one):
    """(d_i, d_f, d_g, d_o) = dL/d(pre-activations) and dL/dc_prev, by the chain rule through the cell.
    ``one`` is 1 in the arrays' dtype (so float32 stays float32 in compiled code)."""
    d_o = dh * tanh_c * o * (one - o)
    dc = dc_next + dh * o * (one - tanh_c * tanh_c) + d_o * w_co
    d_i = dc * g * i * (one - i)
    d_f = dc * c_prev * f * (one - f)
    d_g = dc * i * (one - g * g)
    return d_i, d_f, d_g, d_o, dc * f + d_i * w_ci + d_f * w_cf


def _split_gates(gates, hidden):
    return tuple(gates[:, k * hidden:(k + 1) * hidden] for k in range(4))


# ----------------------------------------------------------------------------- NumPy reference
def lstm_cell_forward_reference(gates, c_prev, peephole, h, c, tanh_c):
    xp = get_array_module(gates)
    a_i, a_f, a_g, a_o = _split_gates(gates, c_prev.shape[1])
    i, f, g, c[...] = cell_state(a_i, a_f, a_g, c_prev, peephole[0], peephole[1], stable_sigmoid, xp.tanh)
    o, tanh_c[...], h[...] = cell_output(a_o, c, peephole[2], stable_sigmoid, xp.tanh)
    a_i[...], a_f[...], a_g[...], a_o[...] = i, f, g, o


def lstm_cell_backward_reference(dh, dc_next, acts, c_prev, c, tanh_c, peephole, d_gates, dc_prev):
    d_i, d_f, d_g, d_o = _split_gates(d_gates, c_prev.shape[1])
    d_i[...], d_f[...], d_g[...], d_o[...], dc_prev[...] = gate_gradients(
        dh, dc_next, *_split_gates(acts, c_prev.shape[1]), c_prev, tanh_c, *peephole, dh.dtype.type(1))


# ----------------------------------------------------------------------------- Numba
# The compiled loops are the float32 fast path (float64, used by the gradient checks, takes the exact
# reference forward). Each batch row is taken apart into 1-D views of its gate blocks and the loops run
# over the hidden units with unit stride, so LLVM turns them into SIMD code (8x faster than indexing
# gates[b, k * hidden + j]). The forward is two loops because the output gate needs the whole new c
# first; one loop for both measured 1.4x slower. The cells of one step are few (N x H), so the rows run
# serially: threads would cost more than they save.
_compile = njit(inline="always", fastmath=FASTMATH, error_model="numpy")
_cell_state, _cell_output, _gate_gradients = _compile(cell_state), _compile(cell_output), _compile(gate_gradients)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def lstm_cell_forward_numba(gates, c_prev, peephole, h, c, tanh_c):
    n, hidden = c_prev.shape
    w_ci, w_cf, w_co = peephole[0], peephole[1], peephole[2]
    for b in range(n):
        i, f = gates[b, :hidden], gates[b, hidden:2 * hidden]
        g, o = gates[b, 2 * hidden:3 * hidden], gates[b, 3 * hidden:]
        cp, cn, tc, hb = c_prev[b], c[b], tanh_c[b], h[b]
        for j in range(hidden):
            i[j], f[j], g[j], cn[j] = _cell_state(i[j], f[j], g[j], cp[j], w_ci[j], w_cf[j], fast_sigmoid, fast_tanh)
        for j in range(hidden):
            o[j], tc[j], hb[j] = _cell_output(o[j], cn[j], w_co[j], fast_sigmoid, fast_tanh)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def lstm_cell_backward_numba(dh, dc_next, acts, c_prev, c, tanh_c, peephole, d_gates, dc_prev, one):
    n, hidden = c_prev.shape
    w_ci, w_cf, w_co = peephole[0], peephole[1], peephole[2]
    for b in range(n):
        i, f = acts[b, :hidden], acts[b, hidden:2 * hidden]
        g, o = acts[b, 2 * hidden:3 * hidden], acts[b, 3 * hidden:]
        d_i, d_f = d_gates[b, :hidden], d_gates[b, hidden:2 * hidden]
        d_g, d_o = d_gates[b, 2 * hidden:3 * hidden], d_gates[b, 3 * hidden:]
        dh_b, dc_b, tc, cp, dcp = dh[b], dc_next[b], tanh_c[b], c_prev[b], dc_prev[b]
        for j in range(hidden):
            d_i[j], d_f[j], d_g[j], d_o[j], dcp[j] = _gate_gradients(
                dh_b[j], dc_b[j], i[j], f[j], g[j], o[j], cp[j], tc[j], w_ci[j], w_cf[j], w_co[j], one)


# ----------------------------------------------------------------------------- CUDA (CuPy)
# The same equations in CUDA C++, one thread per (n, j) element; sigmoid_ is stable_sigmoid's formula.
_CUDA_PREAMBLE = """
template <typename T> __device__ T sigmoid_(T x) {  // e = exp(-|x|): no overflow for any x
    const T e = exp(x >= 0 ? -x : x);
    return x >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
}
"""


def _cupy_kernels(cupy):
    """Build the two CuPy ElementwiseKernels once; one thread per (n, j) element of the state."""
    if not hasattr(_cupy_kernels, "cache"):
        forward = cupy.ElementwiseKernel(
            "T c_prev, raw T peephole, int32 H", "raw T gates, T h, T c, T tanh_c",
            """
            const int n = i / H, j = i % H, row = n * 4 * H;
            const T ig = sigmoid_(gates[row + j] + peephole[j] * c_prev);
            const T fg = sigmoid_(gates[row + H + j] + peephole[H + j] * c_prev);
            const T gg = tanh(gates[row + 2 * H + j]);
            c = fg * c_prev + ig * gg;
            const T og = sigmoid_(gates[row + 3 * H + j] + peephole[2 * H + j] * c);
            tanh_c = tanh(c);
            h = og * tanh_c;
            gates[row + j] = ig; gates[row + H + j] = fg;
            gates[row + 2 * H + j] = gg; gates[row + 3 * H + j] = og;
            """, "tinynet_lstm_cell_forward", preamble=_CUDA_PREAMBLE)
        backward = cupy.ElementwiseKernel(
            "T dh, T dc_next, raw T acts, T c_prev, T c, T tanh_c, raw T peephole, int32 H",
            "raw T d_gates, T dc_prev",
            """
            const int n = i / H, j = i % H, row = n * 4 * H;
            const T ig = acts[row + j], fg = acts[row + H + j];
            const T gg = acts[row + 2 * H + j], og = acts[row + 3 * H + j];
            const T d_o = dh * tanh_c * og * (T(1) - og);
            const T dc = dc_next + dh * og * (T(1) - tanh_c * tanh_c) + d_o * peephole[2 * H + j];
            const T d_i = dc * gg * ig * (T(1) - ig);
            const T d_f = dc * c_prev * fg * (T(1) - fg);
            d_gates[row + j] = d_i; d_gates[row + H + j] = d_f;
            d_gates[row + 2 * H + j] = dc * ig * (T(1) - gg * gg); d_gates[row + 3 * H + j] = d_o;
            dc_prev = dc * fg + d_i * peephole[j] + d_f * peephole[H + j];
            """, "tinynet_lstm_cell_backward")
        _cupy_kernels.cache = forward, backward
    return _cupy_kernels.cache


def forward_kernel(gates):
    """The forward kernel for arrays like ``gates``, chosen once (a layer takes it once per sequence,
    not once per time step): f(gates, c_prev, peephole, h, c, tanh_c) filling h, c, tanh_c (N, H)
    and turning ``gates`` (N, 4H) into activations, in place."""
    version = kernel_version(gates, "lstm cell forward", compiled=gates.dtype == np.float32, cupy_kernel=True)
    if version == "cupy":
        kernel = _cupy_kernels(get_array_module(gates))[0]
        return lambda gates, c_prev, peephole, h, c, tanh_c: kernel(
            c_prev, peephole, np.int32(c_prev.shape[1]), gates, h, c, tanh_c)
    return lstm_cell_forward_numba if version == "numba" else lstm_cell_forward_reference


def backward_kernel(dh):
    """The backward kernel for arrays like ``dh``, chosen once: f(dh, dc_next, acts, c_prev, c, tanh_c,
    peephole, d_gates, dc_prev) filling d_gates (N, 4H) = dL/d(pre-activations) and dc_prev (N, H)."""
    version = kernel_version(dh, "lstm cell backward", cupy_kernel=True)
    if version == "cupy":
        kernel = _cupy_kernels(get_array_module(dh))[1]
        return lambda dh, dc_next, acts, c_prev, c, tanh_c, peephole, d_gates, dc_prev: kernel(
            dh, dc_next, acts, c_prev, c, tanh_c, peephole, np.int32(c_prev.shape[1]), d_gates, dc_prev)
    if version == "numba":
        one = dh.dtype.type(1)
        return lambda *arrays: lstm_cell_backward_numba(*arrays, one)
    return lstm_cell_backward_reference


def lstm_cell_forward(gates, c_prev, peephole, h, c, tanh_c):
    """One time step of the forward (see forward_kernel)."""
    forward_kernel(gates)(gates, c_prev, peephole, h, c, tanh_c)


def lstm_cell_backward(dh, dc_next, acts, c_prev, c, tanh_c, peephole, d_gates, dc_prev):
    """One time step of the backward (see backward_kernel)."""
    backward_kernel(dh)(dh, dc_next, acts, c_prev, c, tanh_c, peephole, d_gates, dc_prev)
