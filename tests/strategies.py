"""Hypothesis strategies for tensors: random shapes (size-1 axes included), values, broadcast
partners and non-contiguous layouts (transposed or strided views), as minitorch's tests do."""
import numpy as np
from hypothesis import strategies as st

import tinynet as tn

dims = st.integers(1, 4)
shapes = st.lists(dims, min_size=1, max_size=3).map(tuple)


@st.composite
def arrays(draw, shape=None, low=-2.0, high=2.0, away_from=None):
    """A float64 array, sometimes a non-contiguous view; ``away_from`` keeps values >= 0.1 from a kink."""
    shape = draw(shapes) if shape is None else shape
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    layout = draw(st.sampled_from(["contiguous", "transposed", "strided"]))
    if layout == "transposed" and len(shape) >= 2:
        base = rng.uniform(low, high, shape[::-1])
        values = base.transpose()
    elif layout == "strided":
        base = rng.uniform(low, high, (shape[0] * 2,) + shape[1:])
        values = base[::2]
    else:
        values = rng.uniform(low, high, shape)
    if away_from is not None:
        offset = values - away_from
        values[...] = away_from + np.sign(offset + (offset == 0)) * (np.abs(offset) + 0.1)
    return values


def broadcast_partner(draw, shape):
    """A shape that broadcasts against ``shape``: some axes set to 1, maybe leading axes dropped."""
    partner = [1 if draw(st.booleans()) else n for n in shape]
    drop = draw(st.integers(0, len(shape) - 1))
    return tuple(partner[drop:])


def leaf(values):
    return tn.tensor(values, requires_grad=True, dtype=np.float64)


def lstm_cell_case(n, hidden, peephole, dtype, seed):
    """Random pre-activations (N, 4H), previous cell state, peephole weights (zeros if off) and the
    incoming gradients dh, dc for one LSTM cell step."""
    rng = np.random.default_rng(seed)
    gates = (rng.standard_normal((n, 4 * hidden)) * 3).astype(dtype)
    c_prev = rng.standard_normal((n, hidden)).astype(dtype)
    weights = (rng.standard_normal((3, hidden)) if peephole else np.zeros((3, hidden))).astype(dtype)
    dh, dc = rng.standard_normal((2, n, hidden)).astype(dtype)
    return gates, c_prev, weights, dh, dc
