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
