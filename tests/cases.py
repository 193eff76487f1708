"""Seeded test data shared by the kernel tests on the CPU and the GPU (the strategies for
property tests are public, in tinynet.testing)."""
import numpy as np


def lstm_cell_case(n, hidden, peephole, dtype, seed):
    """Random pre-activations (N, 4H), previous cell state, peephole weights (zeros if off) and the
    incoming gradients dh, dc for one LSTM cell step."""
    rng = np.random.default_rng(seed)
    gates = (rng.standard_normal((n, 4 * hidden)) * 3).astype(dtype)
    c_prev = rng.standard_normal((n, hidden)).astype(dtype)
    weights = (rng.standard_normal((3, hidden)) if peephole else np.zeros((3, hidden))).astype(dtype)
    dh, dc = rng.standard_normal((2, n, hidden)).astype(dtype)
    return gates, c_prev, weights, dh, dc
