"""Property tests for a new Function or layer in a few lines: hypothesis strategies for tensors,
and gradient checks over them (needs the ``dev`` extra: pip install -e ".[dev]").

    from hypothesis import given
    from tinynet.testing import arrays, check_gradients

    @given(x=arrays(away_from=0.0))          # float64 values drawn by hypothesis, any layout
    def test_my_relu(x):
        check_gradients(my_relu, x)

Values are drawn by hypothesis itself (not from a drawn seed), so a failure shrinks to a small
input. Layouts include transposed and strided views, which is where a backward that assumes
contiguous arrays goes wrong.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .gradcheck import gradcheck
from .tensor import Tensor, tensor

dims = st.integers(1, 4)
shapes = st.lists(dims, min_size=1, max_size=3).map(tuple)


@st.composite
def arrays(draw, shape=None, low=-2.0, high=2.0, away_from=None):
    """A float64 array of ``shape`` (drawn if None) with values in [low, high], laid out
    contiguously, transposed or as a strided view; ``away_from`` moves every value at least 0.1
    away from that point (a kink such as relu's 0), keeping its side."""
    shape = draw(shapes) if shape is None else tuple(shape)
    layout = draw(st.sampled_from(["contiguous", "transposed", "strided"]))
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if layout == "transposed" and len(shape) >= 2:
        values = draw(hnp.arrays(np.float64, shape[::-1], elements=elements)).transpose()
    elif layout == "strided" and shape:
        values = draw(hnp.arrays(np.float64, (shape[0] * 2,) + shape[1:], elements=elements))[::2]
    else:
        values = draw(hnp.arrays(np.float64, shape, elements=elements))
    if away_from is not None:
        offset = values - away_from
        values = away_from + np.sign(offset + (offset == 0)) * (np.abs(offset) + 0.1)
    return values


def broadcast_partner(draw, shape):
    """(Inside an @st.composite) a shape that broadcasts against ``shape``: some axes set to 1,
    maybe leading axes dropped."""
    partner = [1 if draw(st.booleans()) else n for n in shape]
    drop = draw(st.integers(0, len(shape) - 1))
    return tuple(partner[drop:])


@st.composite
def distinct_arrays(draw, shape, spacing=0.1):
    """Values that are all different, ``spacing`` apart (no ties for max, min or max pooling)."""
    size = int(np.prod(shape))
    return np.array(draw(st.permutations(range(size))), dtype=np.float64).reshape(shape) * spacing


def leaf(values) -> Tensor:
    """A float64 leaf tensor that requires grad (what gradcheck needs)."""
    return tensor(np.asarray(values, dtype=np.float64), requires_grad=True, dtype=np.float64)


def check_gradients(fn, *values, **gradcheck_options):
    """gradcheck ``fn`` at ``values`` (arrays become float64 leaves; Tensors are used as they are)."""
    inputs = [v if isinstance(v, Tensor) else leaf(v) for v in values]
    return gradcheck(fn, inputs, **gradcheck_options)


def check_module_gradients(module, *values, **gradcheck_options):
    """gradcheck a Module (converted to float64) with respect to its inputs and then its parameters."""
    module.double()
    inputs = [leaf(v) for v in values]
    gradcheck(lambda *x: module(*x), inputs, **gradcheck_options)
    detached = [x.detach() for x in inputs]
    return gradcheck(lambda *parameters: module(*detached), module.parameters(), **gradcheck_options)
