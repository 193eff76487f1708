"""The fused LSTM cell (every elementwise step of one time step in one pass) and the loop that runs
it over all time steps of a layer, each in three versions: the NumPy reference, Numba on the CPU
(the whole loop compiled, calling NumPy's BLAS for each step's products) and CUDA through CuPy.

The pre-activations of a step arrive at the cell in three parts, summed by it: ``gates`` (N, 4H) =
x_t W_ih^T, ``recurrent`` (N, 4H) = h_prev W_hh^T and ``bias`` (4H,) = b_ih + b_hh, all in the gate order
i, f, g, o; ``peephole`` (3, H) holds the diagonal peephole weights w_ci, w_cf, w_co (zeros for a plain
LSTM). With a = gates + recurrent + bias and sigma the logistic function:

    i  = sigma(a_i + w_ci * c_prev)          f = sigma(a_f + w_cf * c_prev)        g = tanh(a_g)
    c  = f * c_prev + i * g                  o = sigma(a_o + w_co * c)             h = o * tanh(c)

The cell overwrites ``gates`` with the activations [i, f, g, o] (backward needs them) and writes
h, c and tanh(c). Backward takes dL/dh_t in two parts, ``dh`` (from step t + 1, through W_hh) and
``g_out`` (from the layer above), and dL/dc_t, and writes dL/da over the activations (nothing needs
them afterwards) and dL/dc_prev:

    d_o = dh * tanh(c) * o (1 - o)                                 (dh = dh + g_out)
    dc  = dc_next + dh * o * (1 - tanh(c)^2) + d_o * w_co
    d_i = dc * g * i (1 - i)       d_f = dc * c_prev * f (1 - f)       d_g = dc * i * (1 - g^2)
    dc_prev = dc * f + d_i * w_ci + d_f * w_cf

A layer calls sequence_forward_kernel / sequence_backward_kernel (at the end of this file), which pick
the version for its arrays.
"""
from __future__ import annotations

import os
import types
from functools import partial

import numpy as np
from numba import get_num_threads, njit, prange

from ..backend import get_array_module
from . import blas, dispatch
from .activations import FASTMATH, fast_sigmoid, fast_tanh, stable_sigmoid
from .dispatch import kernel_version, numba_enabled


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
def lstm_cell_forward_reference(gates, recurrent, bias, c_prev, peephole, h, c, tanh_c):
    xp = get_array_module(gates)
    gates += recurrent + bias
    a_i, a_f, a_g, a_o = _split_gates(gates, c_prev.shape[1])
    i, f, g, c[...] = cell_state(a_i, a_f, a_g, c_prev, peephole[0], peephole[1], stable_sigmoid, xp.tanh)
    o, tanh_c[...], h[...] = cell_output(a_o, c, peephole[2], stable_sigmoid, xp.tanh)
    a_i[...], a_f[...], a_g[...], a_o[...] = i, f, g, o


def lstm_cell_backward_reference(dh, g_out, dc_next, acts, c_prev, tanh_c, peephole, dc_prev):
    activations = _split_gates(acts, c_prev.shape[1])
    *gradients, dc_prev[...] = gate_gradients(dh + g_out, dc_next, *activations, c_prev, tanh_c, *peephole,
                                              dh.dtype.type(1))
    for activation, gradient in zip(activations, gradients):
        activation[...] = gradient  # dL/da over the activation it came from


def project_inputs(x, w_ih_t, gates):
    """gates[t] = x_t W_ih^T for all T steps in one (T N, I) x (I, 4H) product."""
    xp = get_array_module(x)
    xp.matmul(x.reshape(-1, x.shape[2]), w_ih_t, out=gates.reshape(-1, gates.shape[2]))


def lstm_sequence_forward_steps(x, w_ih_t, w_hh_t, bias, peephole, gates, hs, cs, tanh_cs, cell_forward):
    """Every time step of a layer, written plainly: the input projection of all steps first, then per
    step one (N, H) x (H, 4H) product and one cell step ``cell_forward`` (the reference or the per-step
    CuPy kernel). x (T, N, I); W_ih^T (I, 4H) and W_hh^T (H, 4H); gates (T, N, 4H) receives the
    activations; hs, cs (T + 1, N, H) start from hs[0], cs[0]."""
    xp = get_array_module(gates)
    project_inputs(x, w_ih_t, gates)
    recurrent = xp.empty(gates.shape[1:], gates.dtype)
    for t in range(gates.shape[0]):
        xp.matmul(hs[t], w_hh_t, out=recurrent)
        cell_forward(gates[t], recurrent, bias, cs[t], peephole, hs[t + 1], cs[t + 1], tanh_cs[t])


def weight_gradients(x, hs, w_ih, d_gates, dx):
    """The gradients that sum over all steps, each one product over all T N rows, from dL/da (T, N, 4H):
    dL/dW_ih = sum_t dL/da_t^T x_t (4H, I), dL/dW_hh = sum_t dL/da_t^T h_{t-1} (4H, H), returned, and
    dL/dx_t = dL/da_t W_ih written into dx (T, N, I) unless dx is None."""
    steps, batch, four_hidden = d_gates.shape
    d_flat = d_gates.reshape(steps * batch, four_hidden)
    if dx is not None:
        dx[...] = dispatch.matrix_product(d_flat, w_ih).reshape(dx.shape)
    return (dispatch.matrix_product(d_flat.T, x.reshape(steps * batch, -1)),
            dispatch.matrix_product(d_flat.T, hs[:-1].reshape(steps * batch, -1)))


def lstm_sequence_backward_steps(g_out, x, w_ih, w_hh, peephole, acts, hs, cs, tanh_cs, dh, dc, dx, cell_backward):
    """Backpropagation through time, step by step, then the weight gradients (weight_gradients). g_out
    (T, N, H) is dL/dh_t from above; x, hs, cs, tanh_cs as the forward had or left them; W_ih (4H, I) and
    W_hh (4H, H) themselves (the forward takes their transposes). dh, dc (N, H) go in place from
    dL/d(h_T, c_T) to dL/d(h_0, c_0), with dL/dh_{t-1} = dL/da_t W_hh; acts (T, N, 4H), the forward's
    activations, turn into dL/d(pre-activations) in place; dx (T, N, I) receives dL/dx unless None.
    Returns (dL/d(bias), dL/dW_ih, dL/dW_hh): (4H,), the sum of dL/da over all steps and rows, (4H, I),
    (4H, H)."""
    xp = get_array_module(g_out)
    dc_next, dc_prev = dc.copy(), xp.empty_like(dc)
    for t in reversed(range(g_out.shape[0])):  # dh: dL/dh_t through the next step; g_out[t]: from above
        cell_backward(dh, g_out[t], dc_next, acts[t], cs[t], tanh_cs[t], peephole, dc_prev)
        xp.matmul(acts[t], w_hh, out=dh)
        dc_next, dc_prev = dc_prev, dc_next
    dc[...] = dc_next
    return (acts.sum(axis=(0, 1)),) + weight_gradients(x, hs, w_ih, acts, dx)


# ----------------------------------------------------------------------------- Numba
# On the CPU a whole layer runs as one compiled call per direction, so no Python runs between time
# steps (returning to Python for every step cost about 10 of the 41 us per step of a 100 x 64 state).
# The batch rows never meet, so each of Numba's threads takes a block of rows through all T steps:
# per step single-threaded products of its rows through NumPy's own BLAS (tinynet/kernels/blas.py)
# and the cells of its rows. Where tinynet does not run BLAS on Numba's threads (dispatch.py), the loop
# runs on the calling thread and OpenBLAS's threads split each step's product.
# The cell loops take each batch row apart into 1-D views of its gate blocks and run over the hidden
# units with unit stride, so LLVM turns them into SIMD code (the forward's cells 1.5x faster than
# indexing gates[b, k * hidden + j]). The forward's cells are two loops over the units: one
# loop computing all seven values of a unit was 1.4x slower (more values live at once). Forward is
# compiled for float32 only (fast_tanh / fast_sigmoid); float64, used by the gradient checks, takes the
# exact reference forward, and the compiled backward (exact) takes both.
_compile = njit(inline="always", fastmath=FASTMATH, error_model="numpy")
_cell_state, _cell_output, _gate_gradients = _compile(cell_state), _compile(cell_output), _compile(gate_gradients)


@_compile
def _gate_blocks(row, hidden):
    """The four (H,) views i, f, g, o of one batch row (4H,) of gates or their gradients."""
    return row[:hidden], row[hidden:2 * hidden], row[2 * hidden:3 * hidden], row[3 * hidden:]


_NOT_CONTIGUOUS = "the compiled LSTM loop needs C-contiguous arrays (it hands their memory to BLAS)"


def _forward_in_row_blocks(x, w_ih_t, w_hh_t, bias, peephole, gates, hs, cs, tanh_cs, gemm, blocks):
    """lstm_sequence_forward_steps compiled; ``gemm`` is blas.gemm_function(float32). The batch rows are
    independent of each other, so each of ``blocks`` blocks of rows runs all time steps by itself. The
    input projection is made step by step here, so that each step's gates are still in the cache for
    the cell (one product for all steps before the loop, as the reference does: paper 000's forward took
    2.21 instead of 2.06 ms in its training step)."""
    if not (x.flags.c_contiguous and w_ih_t.flags.c_contiguous and w_hh_t.flags.c_contiguous
            and gates.flags.c_contiguous and hs.flags.c_contiguous):
        raise ValueError(_NOT_CONTIGUOUS)
    steps, batch, four_hidden = gates.shape
    inputs, hidden = x.shape[2], four_hidden // 4
    w_ci, w_cf, w_co = peephole[0], peephole[1], peephole[2]
    zero, one = gates.dtype.type(0), gates.dtype.type(1)
    for block in prange(blocks):
        first, last = batch * block // blocks, batch * (block + 1) // blocks
        for t in range(steps):  # gates[t] = x_t W_ih^T + h_{t-1} W_hh^T for these rows, then their cells
            gemm(blas.ROW_MAJOR, blas.NO_TRANS, blas.NO_TRANS, last - first, four_hidden, inputs, one,
                 x[t, first:last].ctypes.data, inputs, w_ih_t.ctypes.data, four_hidden, zero,
                 gates[t, first:last].ctypes.data, four_hidden)
            gemm(blas.ROW_MAJOR, blas.NO_TRANS, blas.NO_TRANS, last - first, four_hidden, hidden, one,
                 hs[t, first:last].ctypes.data, hidden, w_hh_t.ctypes.data, four_hidden, one,
                 gates[t, first:last].ctypes.data, four_hidden)
            for b in range(first, last):
                a, c_prev, c, tanh_c, h = gates[t, b], cs[t, b], cs[t + 1, b], tanh_cs[t, b], hs[t + 1, b]
                for k in range(four_hidden):
                    a[k] += bias[k]
                i, f, g, o = _gate_blocks(a, hidden)
                for j in range(hidden):
                    i[j], f[j], g[j], c[j] = _cell_state(i[j], f[j], g[j], c_prev[j], w_ci[j], w_cf[j],
                                                         fast_sigmoid, fast_tanh)
                for j in range(hidden):
                    o[j], tanh_c[j], h[j] = _cell_output(o[j], c[j], w_co[j], fast_sigmoid, fast_tanh)


def _backward_in_row_blocks(g_out, x, w_ih, w_hh, peephole, acts, hs, cs, tanh_cs, dh, dc, dx, sums_in_loop, gemm,
                            blocks):
    """lstm_sequence_backward_steps compiled; ``gemm`` is blas.gemm_function of the arrays' dtype; dx an
    empty array (size 0) where no dL/dx is wanted. Row blocks as in forward. BLAS reads W_hh (4H, H)
    untransposed: 30 % faster for these small products than reading W_hh^T transposed. Each row's
    gradients overwrite its activations through the same view (paper 000's backward 3.23 -> 3.03 ms in
    its training step, against a separate array for dL/da; with two arrays for the same memory LLVM's
    alias check would pick its scalar loop). What sums over the steps is added up per block while its
    rows of dL/da_t are still in the cache: the bias gradient and, if ``sums_in_loop``, dL/dW_ih and
    dL/dW_hh as one product per step (dL/da_t^T x_t, dL/da_t^T h_{t-1}, with beta = 1), as is dL/dx_t =
    dL/da_t W_ih; one layer of paper 000 took 1.27 -> 1.05 ms (I = 28) and 1.89 -> 1.54 ms (I = 64, with
    dx) against three products over all of dL/da after the loop. Returns each block's partial sums,
    (blocks, 4H), (blocks, 4H, I), (blocks, 4H, H) (zeros for the weights without ``sums_in_loop``), for
    compiled_backward to add up (adding them in here took Numba 0.3 s more to compile)."""
    if not (x.flags.c_contiguous and w_ih.flags.c_contiguous and w_hh.flags.c_contiguous and acts.flags.c_contiguous
            and hs.flags.c_contiguous and dh.flags.c_contiguous and dx.flags.c_contiguous):
        raise ValueError(_NOT_CONTIGUOUS)
    steps, batch, hidden = g_out.shape
    inputs, four_hidden = x.shape[2], 4 * hidden
    w_ci, w_cf, w_co = peephole[0], peephole[1], peephole[2]
    zero, one = dh.dtype.type(0), dh.dtype.type(1)
    d_bias = np.zeros((blocks, four_hidden), dh.dtype)  # each block's partial sums
    d_w_ih = np.zeros((blocks, four_hidden, inputs), dh.dtype)
    d_w_hh = np.zeros((blocks, four_hidden, hidden), dh.dtype)
    for block in prange(blocks):
        first, last = batch * block // blocks, batch * (block + 1) // blocks
        rows, d_bias_block = last - first, d_bias[block]
        for t in range(steps - 1, -1, -1):
            for b in range(first, last):  # dc[b] turns from dL/dc_t into dL/dc_{t-1}
                a = acts[t, b]  # this row's activations, then their gradients
                i, f, g, o = _gate_blocks(a, hidden)
                dh_b, g_b, dc_b, c_prev, tanh_c = dh[b], g_out[t, b], dc[b], cs[t, b], tanh_cs[t, b]
                for j in range(hidden):
                    i[j], f[j], g[j], o[j], dc_b[j] = _gate_gradients(
                        dh_b[j] + g_b[j], dc_b[j], i[j], f[j], g[j], o[j], c_prev[j], tanh_c[j], w_ci[j], w_cf[j],
                        w_co[j], one)
                for k in range(four_hidden):
                    d_bias_block[k] += a[k]
            d_a = acts[t, first:last].ctypes.data  # these rows of dL/da_t, (rows, 4H)
            if sums_in_loop:
                gemm(blas.ROW_MAJOR, blas.TRANS, blas.NO_TRANS, four_hidden, inputs, rows, one, d_a, four_hidden,
                     x[t, first:last].ctypes.data, inputs, one, d_w_ih[block].ctypes.data, inputs)
                gemm(blas.ROW_MAJOR, blas.TRANS, blas.NO_TRANS, four_hidden, hidden, rows, one, d_a, four_hidden,
                     hs[t, first:last].ctypes.data, hidden, one, d_w_hh[block].ctypes.data, hidden)
            if sums_in_loop and dx.size > 0:
                gemm(blas.ROW_MAJOR, blas.NO_TRANS, blas.NO_TRANS, rows, inputs, four_hidden, one, d_a, four_hidden,
                     w_ih.ctypes.data, inputs, zero, dx[t, first:last].ctypes.data, inputs)
            # these rows of dL/dh_{t-1} = dL/da_t W_hh
            gemm(blas.ROW_MAJOR, blas.NO_TRANS, blas.NO_TRANS, rows, hidden, four_hidden, one, d_a, four_hidden,
                 w_hh.ctypes.data, hidden, zero, dh[first:last].ctypes.data, hidden)
    return d_bias, d_w_ih, d_w_hh


def _under_another_name(function, name):
    """The same Python function under another name, so that Numba caches its compilations in files of
    their own. Numba's disk cache tells compilations apart by the function's name, line and bytecode but
    not by their options (numba/numba#6845): the parallel and the serial compilation of one function
    shared one entry, and whichever was compiled first was loaded for both, so after the test suite had
    compiled the serial loop first, the training loop ran serial code on one core, silently (paper 000's
    forward loop 1.7 instead of 0.9 ms)."""
    renamed = types.FunctionType(function.__code__, function.__globals__, name, function.__defaults__,
                                 function.__closure__)
    renamed.__qualname__, renamed.__doc__ = name, function.__doc__
    return renamed


# Each loop compiled twice: over Numba's threads when tinynet runs BLAS on them (one single-threaded
# product per row block and step), else on the calling thread with blocks = 1 (OpenBLAS's own threads
# then split each step's product).
_loop_options = dict(cache=True, fastmath=FASTMATH, error_model="numpy")
lstm_sequence_forward_numba = njit(parallel=True, **_loop_options)(_forward_in_row_blocks)
lstm_sequence_backward_numba = njit(parallel=True, **_loop_options)(_backward_in_row_blocks)
lstm_sequence_forward_serial = njit(**_loop_options)(_under_another_name(_forward_in_row_blocks,
                                                                         "_forward_on_the_calling_thread"))
lstm_sequence_backward_serial = njit(**_loop_options)(_under_another_name(_backward_in_row_blocks,
                                                                          "_backward_on_the_calling_thread"))


# ----------------------------------------------------------------------------- CUDA (CuPy)
# The same equations in CUDA C++, written once as device functions (sigmoid_ is stable_sigmoid's
# formula) and used by two kinds of kernel:
# - per time step, one thread per (n, j) element of the state (ElementwiseKernel);
# - per sequence, one launch running all T steps of a layer: one block per batch row keeps that row's
#   h and c in shared memory, its threads compute the row's 4H recurrent sums h W_hh^T (W_hh read
#   from the GPU's caches) and then the cell; backward runs the steps in reverse the same way. This
#   replaces T matrix products and T cell kernels (about 4 launches per step) by one launch.
_CUDA_PREAMBLE = r"""
template <typename S> __device__ S sigmoid_(S x) {  // e = exp(-|x|): no overflow for any x
    const S e = exp(x >= 0 ? -x : x);
    return x >= 0 ? S(1) / (S(1) + e) : e / (S(1) + e);
}

// S is the scalar type (CuPy's ElementwiseKernels define their own T).
template <typename S> __device__ void cell_forward_(
        S a_i, S a_f, S a_g, S a_o, S c_prev, S w_ci, S w_cf, S w_co,
        S& i, S& f, S& g, S& o, S& c, S& tanh_c, S& h) {
    i = sigmoid_(a_i + w_ci * c_prev);
    f = sigmoid_(a_f + w_cf * c_prev);
    g = tanh(a_g);
    c = f * c_prev + i * g;
    o = sigmoid_(a_o + w_co * c);
    tanh_c = tanh(c);
    h = o * tanh_c;
}

template <typename S> __device__ void cell_backward_(
        S dh, S dc_next, S i, S f, S g, S o, S c_prev, S tanh_c, S w_ci, S w_cf, S w_co,
        S& d_i, S& d_f, S& d_g, S& d_o, S& dc_prev) {
    d_o = dh * tanh_c * o * (S(1) - o);
    const S dc = dc_next + dh * o * (S(1) - tanh_c * tanh_c) + d_o * w_co;
    d_i = dc * g * i * (S(1) - i);
    d_f = dc * c_prev * f * (S(1) - f);
    d_g = dc * i * (S(1) - g * g);
    dc_prev = dc * f + d_i * w_ci + d_f * w_cf;
}
"""

_CUDA_SEQUENCE_KERNELS = r"""
// A block's threads copy H entries of two rows (the state of one batch row, into or out of shared memory).
template <typename S> __device__ void copy_pair_(S* to_a, S* to_b, const S* from_a, const S* from_b, int H) {
    for (int j = threadIdx.x; j < H; j += blockDim.x) {
        to_a[j] = from_a[j];
        to_b[j] = from_b[j];
    }
}

// gates (T, N, 4H): x W_ih^T on entry, the activations [i, f, g, o] on exit; w_hh_t (H, 4H); bias (4H,);
// peephole (3, H); hs, cs (T + 1, N, H) with hs[0], cs[0] given; tanh_cs (T, N, H).
template <typename T> __global__ void lstm_sequence_forward(
        T* gates, const T* w_hh_t, const T* bias, const T* peephole, T* hs, T* cs, T* tanh_cs,
        int steps, int batch, int H) {
    extern __shared__ __align__(16) unsigned char shared_bytes[];
    T* h = reinterpret_cast<T*>(shared_bytes);  // this row's h_{t-1}, c_{t-1} and pre-activations
    T* c = h + H;
    T* a = c + H;
    const int b = blockIdx.x;
    copy_pair_(h, c, hs + (long long)b * H, cs + (long long)b * H, H);
    __syncthreads();
    for (int t = 0; t < steps; ++t) {
        const long long row = (long long)t * batch + b;
        T* act = gates + row * 4 * H;
        for (int j = threadIdx.x; j < 4 * H; j += blockDim.x) {
            T total = act[j] + bias[j];
            for (int k = 0; k < H; ++k) total += h[k] * w_hh_t[(long long)k * 4 * H + j];
            a[j] = total;
        }
        __syncthreads();  // every sum done before h and c change
        const long long next = row + batch;  // (t + 1, b) in hs and cs
        for (int j = threadIdx.x; j < H; j += blockDim.x) {
            T i, f, g, o, c_new, tanh_c, h_new;
            cell_forward_(a[j], a[H + j], a[2 * H + j], a[3 * H + j], c[j], peephole[j], peephole[H + j],
                          peephole[2 * H + j], i, f, g, o, c_new, tanh_c, h_new);
            act[j] = i; act[H + j] = f; act[2 * H + j] = g; act[3 * H + j] = o;
            hs[next * H + j] = h_new; cs[next * H + j] = c_new; tanh_cs[row * H + j] = tanh_c;
            h[j] = h_new; c[j] = c_new;
        }
        __syncthreads();  // the new h complete before the next step's sums
    }
}

// Backpropagation through time. g_out (T, N, H) = dL/dh_t from above; acts, cs, tanh_cs as the forward
// left them; w_hh (4H, H). dh, dc (N, H): dL/dh_T, dL/dc_T on entry, dL/dh_0, dL/dc_0 on exit.
// acts (T, N, 4H) turns into dL/d(pre-activations) of every step (each thread reads its elements first).
template <typename T> __global__ void lstm_sequence_backward(
        const T* g_out, T* acts, const T* cs, const T* tanh_cs, const T* w_hh, const T* peephole,
        T* dh, T* dc, int steps, int batch, int H) {
    extern __shared__ __align__(16) unsigned char shared_bytes[];
    T* dh_s = reinterpret_cast<T*>(shared_bytes);
    T* dc_s = dh_s + H;
    T* d_s = dc_s + H;
    const int b = blockIdx.x;
    copy_pair_(dh_s, dc_s, dh + (long long)b * H, dc + (long long)b * H, H);
    __syncthreads();
    for (int t = steps - 1; t >= 0; --t) {
        const long long row = (long long)t * batch + b;
        T* act = acts + row * 4 * H;
        for (int j = threadIdx.x; j < H; j += blockDim.x) {
            T d_i, d_f, d_g, d_o, dc_prev;  // cs[t] is c_{t-1}, the state this step started from
            cell_backward_(dh_s[j] + g_out[row * H + j], dc_s[j], act[j], act[H + j], act[2 * H + j],
                           act[3 * H + j], cs[row * H + j], tanh_cs[row * H + j], peephole[j], peephole[H + j],
                           peephole[2 * H + j], d_i, d_f, d_g, d_o, dc_prev);
            d_s[j] = d_i; d_s[H + j] = d_f; d_s[2 * H + j] = d_g; d_s[3 * H + j] = d_o;
            act[j] = d_i; act[H + j] = d_f; act[2 * H + j] = d_g; act[3 * H + j] = d_o;
            dc_s[j] = dc_prev;
        }
        __syncthreads();
        for (int k = threadIdx.x; k < H; k += blockDim.x) {  // dL/dh_{t-1} = dL/da_t W_hh
            T total = 0;
            for (int j = 0; j < 4 * H; ++j) total += d_s[j] * w_hh[(long long)j * H + k];
            dh_s[k] = total;
        }
        __syncthreads();
    }
    copy_pair_(dh + (long long)b * H, dc + (long long)b * H, dh_s, dc_s, H);
}
"""

_CUDA_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_SHARED_MEMORY = 48 * 1024  # bytes a block may use without asking the driver for more


def _cupy_kernels(cupy):
    """Build the CuPy kernels once: the two per-step ElementwiseKernels (one thread per (n, j) element
    of the state) and the whole-sequence kernels for float32 and float64."""
    if not hasattr(_cupy_kernels, "cache"):
        forward = cupy.ElementwiseKernel(
            "T c_prev, raw T recurrent, raw T bias, raw T peephole, int32 H", "raw T gates, T h, T c, T tanh_c",
            """
            const int n = i / H, j = i % H, row = n * 4 * H;
            T a[4], ig, fg, gg, og;
            for (int k = 0; k < 4; ++k) a[k] = gates[row + k * H + j] + recurrent[row + k * H + j] + bias[k * H + j];
            cell_forward_(a[0], a[1], a[2], a[3], c_prev, peephole[j], peephole[H + j], peephole[2 * H + j],
                          ig, fg, gg, og, c, tanh_c, h);
            gates[row + j] = ig; gates[row + H + j] = fg;
            gates[row + 2 * H + j] = gg; gates[row + 3 * H + j] = og;
            """, "tinynet_lstm_cell_forward", preamble=_CUDA_PREAMBLE)
        backward = cupy.ElementwiseKernel(
            "T dh, T g_out, T dc_next, T c_prev, T tanh_c, raw T peephole, int32 H",
            "raw T acts, T dc_prev",
            """
            const int n = i / H, j = i % H, row = n * 4 * H;
            T d_i, d_f, d_g, d_o;
            cell_backward_(dh + g_out, dc_next, acts[row + j], acts[row + H + j], acts[row + 2 * H + j],
                           acts[row + 3 * H + j], c_prev, tanh_c, peephole[j], peephole[H + j], peephole[2 * H + j],
                           d_i, d_f, d_g, d_o, dc_prev);
            acts[row + j] = d_i; acts[row + H + j] = d_f;
            acts[row + 2 * H + j] = d_g; acts[row + 3 * H + j] = d_o;
            """, "tinynet_lstm_cell_backward", preamble=_CUDA_PREAMBLE)
        names = [f"lstm_sequence_{way}<{ctype}>" for way in ("forward", "backward") for ctype in _CUDA_TYPES.values()]
        module = cupy.RawModule(code=_CUDA_PREAMBLE + _CUDA_SEQUENCE_KERNELS, name_expressions=names)
        sequence = {(way, dtype): module.get_function(f"lstm_sequence_{way}<{ctype}>")
                    for way in ("forward", "backward") for dtype, ctype in _CUDA_TYPES.items()}
        _cupy_kernels.cache = forward, backward, sequence
    return _cupy_kernels.cache


def _cuda_sequence_kernel(array, way, hidden):
    """The whole-sequence CUDA kernel (``way`` "forward" or "backward") with its launch shape, or None
    where the per-step loop runs instead: unless TINYNET_CUDA_LSTM_SEQUENCE=1 (off by default until it
    is measured on a GPU, see benchmarks/RESULTS.md), or if a block's shared memory is too small."""
    if os.environ.get("TINYNET_CUDA_LSTM_SEQUENCE", "0") != "1":
        return None
    shared = 6 * hidden * array.dtype.itemsize  # h, c (or dh, dc) and the 4H gates of one batch row
    if array.dtype not in _CUDA_TYPES or shared > _SHARED_MEMORY:
        return None
    kernel_version(array, f"lstm sequence {way}", cupy_kernel=True)  # reports "cupy" to tinynet.debug.profile
    kernel = _cupy_kernels(get_array_module(array))[2][(way, array.dtype)]
    threads = min(1024, -(-4 * hidden // 32) * 32)  # one per gate unit, whole warps
    return kernel, threads, shared


def _compiled_on_cpu(array, way, compiled_dtypes):
    """NumPy's gemm for the Numba whole-sequence loop, or None where it does not run (CuPy arrays, dtypes
    not compiled, TINYNET_NUMBA=0, or a NumPy whose BLAS blas.py cannot find)."""
    if not (isinstance(array, np.ndarray) and array.dtype in compiled_dtypes and numba_enabled()):
        return None
    gemm = blas.gemm_function(array.dtype)
    if gemm is not None:
        kernel_version(array, f"lstm sequence {way}")  # reports "numba" to tinynet.debug.profile
    return gemm


def _compiled_loop(way, batch):
    """(the compiled loop, its ``blocks`` argument): one row block per Numba thread where tinynet runs
    BLAS on Numba's threads, else the serial loop."""
    if dispatch.BLAS_ON_NUMBA_THREADS:
        loop = lstm_sequence_forward_numba if way == "forward" else lstm_sequence_backward_numba
        return loop, max(1, min(get_num_threads(), batch))
    return (lstm_sequence_forward_serial if way == "forward" else lstm_sequence_backward_serial), 1


# The compiled backward adds up the weight gradients step by step (per block of rows) only where a block
# has at least this many rows: with fewer, each step's products are too thin to pay. A layer of 64 units,
# I = 28, two blocks, backward with products in the loop / after it: batch 1 over 500 steps 1.86 / 0.83 ms,
# batch 8 over 200 steps 1.66 / 1.31, batch 16 1.26 / 1.28, batch 32 2.19 / 2.35, batch 100 1.59 / 1.89.
SUMS_IN_LOOP_FROM_ROWS = 8


def compiled_backward(loop, blocks, gemm, sums_in_loop):
    """A compiled backward loop (lstm_sequence_backward_numba or _serial) as sequence_backward_kernel's f:
    dx None becomes an empty array (an array either way, so Numba compiles the loop once), and the row
    blocks' partial sums are added up here; with ``sums_in_loop`` False the weight gradients and dx are
    products after the loop (weight_gradients)."""
    def run(g_out, x, w_ih, w_hh, peephole, acts, hs, cs, tanh_cs, dh, dc, dx):
        dx_or_empty = np.empty((0, 0, 0), g_out.dtype) if dx is None else dx
        d_bias, d_w_ih, d_w_hh = loop(g_out, x, w_ih, w_hh, peephole, acts, hs, cs, tanh_cs, dh, dc, dx_or_empty,
                                      sums_in_loop, gemm, blocks)
        if not sums_in_loop:
            return (d_bias.sum(axis=0),) + weight_gradients(x, hs, w_ih, acts, dx)
        return d_bias.sum(axis=0), d_w_ih.sum(axis=0), d_w_hh.sum(axis=0)
    return run


def sequence_forward_kernel(gates):
    """f(x, w_ih_t, w_hh_t, bias, peephole, gates, hs, cs, tanh_cs) running every time step of a layer
    (arguments as in lstm_sequence_forward_steps, all C-contiguous) for arrays like ``gates``: the compiled
    loop on the CPU (float32), one CUDA launch after the input projection (opt-in, see above), or the
    step loop over the per-step kernels."""
    steps, batch, four_hidden = gates.shape
    gemm = _compiled_on_cpu(gates, "forward", (np.float32,))
    if gemm is not None:
        loop, blocks = _compiled_loop("forward", batch)
        return partial(loop, gemm=gemm, blocks=blocks)
    chosen = None if isinstance(gates, np.ndarray) else _cuda_sequence_kernel(gates, "forward", four_hidden // 4)
    if chosen is None:
        return partial(lstm_sequence_forward_steps, cell_forward=forward_kernel(gates))
    kernel, threads, shared = chosen

    def run(x, w_ih_t, w_hh_t, bias, peephole, gates, hs, cs, tanh_cs):
        project_inputs(x, w_ih_t, gates)
        kernel((batch,), (threads,), (gates, w_hh_t, bias, peephole, hs, cs, tanh_cs, np.int32(steps),
                                      np.int32(batch), np.int32(four_hidden // 4)), shared_mem=shared)
    return run


def sequence_backward_kernel(g_out):
    """f(g_out, x, w_ih, w_hh, peephole, acts, hs, cs, tanh_cs, dh, dc, dx) -> (dL/d(bias), dL/dW_ih,
    dL/dW_hh): backpropagation through all time steps, acts turning into dL/da and dx (or None) receiving
    dL/dx (arguments as in lstm_sequence_backward_steps, all C-contiguous), the same three ways as forward
    (compiled on the CPU for float32 and float64: backward has no approximations)."""
    steps, batch, hidden = g_out.shape
    gemm = _compiled_on_cpu(g_out, "backward", (np.float32, np.float64))
    if gemm is not None:
        loop, blocks = _compiled_loop("backward", batch)
        # on the calling thread (no TBB) OpenBLAS's threads split one large product better than many small ones
        sums_in_loop = dispatch.BLAS_ON_NUMBA_THREADS and batch // blocks >= SUMS_IN_LOOP_FROM_ROWS
        return compiled_backward(loop, blocks, gemm, sums_in_loop)
    chosen = None if isinstance(g_out, np.ndarray) else _cuda_sequence_kernel(g_out, "backward", hidden)
    if chosen is None:
        return partial(lstm_sequence_backward_steps, cell_backward=backward_kernel(g_out))
    kernel, threads, shared = chosen

    def run(g_out, x, w_ih, w_hh, peephole, acts, hs, cs, tanh_cs, dh, dc, dx):
        kernel((batch,), (threads,), (g_out, acts, cs, tanh_cs, w_hh, peephole, dh, dc,
                                      np.int32(steps), np.int32(batch), np.int32(hidden)), shared_mem=shared)
        return (acts.sum(axis=(0, 1)),) + weight_gradients(x, hs, w_ih, acts, dx)
    return run


def forward_kernel(gates):
    """The per-step forward for arrays like ``gates``: f(gates, recurrent, bias, c_prev, peephole, h, c,
    tanh_c) filling h, c, tanh_c (N, H) and turning ``gates`` (N, 4H) into activations, in place. The
    CuPy kernel on a GPU, the NumPy reference on the CPU (whose fast path is the whole-sequence loop)."""
    if kernel_version(gates, "lstm cell forward", compiled=False, cupy_kernel=True) == "cupy":
        kernel = _cupy_kernels(get_array_module(gates))[0]
        return lambda gates, recurrent, bias, c_prev, peephole, h, c, tanh_c: kernel(
            c_prev, recurrent, bias, peephole, np.int32(c_prev.shape[1]), gates, h, c, tanh_c)
    return lstm_cell_forward_reference


def backward_kernel(dh):
    """The per-step backward for arrays like ``dh``: f(dh, g_out, dc_next, acts, c_prev, tanh_c, peephole,
    dc_prev) turning the activations ``acts`` (N, 4H) into dL/d(pre-activations), in place, and filling
    dc_prev (N, H)."""
    if kernel_version(dh, "lstm cell backward", compiled=False, cupy_kernel=True) == "cupy":
        kernel = _cupy_kernels(get_array_module(dh))[1]
        return lambda dh, g_out, dc_next, acts, c_prev, tanh_c, peephole, dc_prev: kernel(
            dh, g_out, dc_next, c_prev, tanh_c, peephole, np.int32(c_prev.shape[1]), acts, dc_prev)
    return lstm_cell_backward_reference


def lstm_cell_forward(gates, recurrent, bias, c_prev, peephole, h, c, tanh_c):
    """One time step of the forward (see forward_kernel)."""
    forward_kernel(gates)(gates, recurrent, bias, c_prev, peephole, h, c, tanh_c)


def lstm_cell_backward(dh, g_out, dc_next, acts, c_prev, tanh_c, peephole, dc_prev):
    """One time step of the backward (see backward_kernel)."""
    backward_kernel(dh)(dh, g_out, dc_next, acts, c_prev, tanh_c, peephole, dc_prev)
