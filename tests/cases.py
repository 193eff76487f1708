"""Seeded test data shared by the kernel tests on the CPU and the GPU (the strategies for
property tests are public, in tinynet.testing)."""
import numpy as np


def lstm_cell_case(n, hidden, peephole, dtype, seed):
    """One LSTM cell step's inputs: the three parts of the pre-activations, x W_ih^T (N, 4H),
    h_prev W_hh^T (N, 4H) and the bias (4H,); the previous cell state, peephole weights (zeros if off)
    and the incoming gradients dh (through the next step), g_out (from above) and dc."""
    rng = np.random.default_rng(seed)
    gates, recurrent = (rng.standard_normal((2, n, 4 * hidden)) * 2).astype(dtype)
    bias = rng.standard_normal(4 * hidden).astype(dtype)
    c_prev = rng.standard_normal((n, hidden)).astype(dtype)
    weights = (rng.standard_normal((3, hidden)) if peephole else np.zeros((3, hidden))).astype(dtype)
    dh, g_out, dc = rng.standard_normal((3, n, hidden)).astype(dtype)
    return gates, recurrent, bias, c_prev, weights, dh, g_out, dc


def adam_case(size, dtype, step, seed):
    """One Adam update's arrays w, g, m, v (size,) and its numbers (beta1, beta2, step_size,
    root_correction2, eps) at step ``step``, in ``dtype``, as tinynet/kernels/adam.py takes them."""
    rng = np.random.default_rng(seed)
    w, g, m = (rng.standard_normal(size).astype(dtype) for _ in range(3))
    v = rng.random(size).astype(dtype)
    beta1, beta2, lr, eps = 0.9, 0.999, 0.01, 1e-8
    numbers = [dtype(x) for x in (beta1, beta2, lr / (1 - beta1 ** step), (1 - beta2 ** step) ** 0.5, eps)]
    return [w, g, m, v], numbers
