"""Every differentiable operation passes gradcheck on hypothesis-drawn shapes and values."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.functional as F
from tinynet.testing import arrays, broadcast_partner, leaf, shapes


@st.composite
def broadcast_pair(draw, positive_second=False):
    shape = draw(shapes)
    a = draw(arrays(shape))
    b = draw(arrays(broadcast_partner(draw, shape), low=0.5 if positive_second else -2.0, high=2.0))
    if draw(st.booleans()):
        a, b = (b, a) if not positive_second else (a, b)
    return a, b


@pytest.mark.parametrize("op", [F.add, F.sub, F.mul])
@given(pair=broadcast_pair())
def test_binary_ops_with_broadcasting(op, pair):
    a, b = pair
    tn.gradcheck(op, [leaf(a), leaf(b)])


@given(pair=broadcast_pair(positive_second=True))
def test_div(pair):
    tn.gradcheck(F.div, [leaf(pair[0]), leaf(pair[1])])


@given(x=arrays(low=0.5, high=2.0), exponent=st.sampled_from([2, 3, 0.5, -1.5]))
def test_pow(x, exponent):
    tn.gradcheck(lambda t: t ** exponent, [leaf(x)])


@given(x=arrays())
def test_neg_and_python_scalars(x):
    tn.gradcheck(lambda t: 3.0 - (-t) * 2.0 / 4.0 + 1, [leaf(x)])


@given(x=arrays())
def test_smooth_unary(x):
    for fn in (F.exp, F.tanh, F.sigmoid):
        tn.gradcheck(fn, [leaf(x)])


@given(x=arrays())
def test_cast_passes_the_gradient_back_unchanged(x):
    tn.gradcheck(lambda t: F.cast(t, np.float64) * t, [leaf(x)])
    t = leaf(x)
    upstream = np.random.default_rng(0).standard_normal(x.shape)
    narrowed = F.cast(t, np.float32)
    assert narrowed.dtype == np.float32
    (F.cast(narrowed, np.float64) * tn.tensor(upstream, dtype=np.float64)).sum().backward()
    assert t.grad.dtype == np.float64
    np.testing.assert_allclose(t.grad, upstream, rtol=1e-7)


@given(x=arrays(low=0.2, high=3.0))
def test_log_and_sqrt(x):
    tn.gradcheck(F.log, [leaf(x)])
    tn.gradcheck(F.sqrt, [leaf(x)])


@given(x=arrays(away_from=0.0), slope=st.floats(0.0, 0.5))
def test_relu_leaky_relu_abs_away_from_zero(x, slope):
    tn.gradcheck(F.relu, [leaf(x)])
    tn.gradcheck(lambda t: F.leaky_relu(t, slope), [leaf(x)])
    tn.gradcheck(F.abs, [leaf(x)])


@given(x=arrays(away_from=0.5))
def test_clip_away_from_bounds(x):
    x = np.where(np.abs(x + 0.5) < 0.1, x - 0.2, x)  # keep away from the lower bound too
    tn.gradcheck(lambda t: F.clip(t, -0.5, 0.5), [leaf(x)])


@st.composite
def distinct_values_with_axis(draw):
    shape = draw(shapes)
    seed = draw(st.integers(0, 1000))
    values = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) * 0.1
    axis = draw(st.sampled_from([None] + list(range(len(shape)))))
    return values.astype(np.float64), axis, draw(st.booleans())


@given(case=distinct_values_with_axis())
def test_max_min(case):
    x, axis, keepdims = case
    tn.gradcheck(lambda t: F.max(t, axis, keepdims), [leaf(x)])
    tn.gradcheck(lambda t: F.min(t, axis, keepdims), [leaf(x)])


@given(x=arrays(), data=st.data())
def test_sum_mean_var(x, data):
    axis = data.draw(st.sampled_from([None, 0, -1, tuple(range(x.ndim))]))
    keepdims = data.draw(st.booleans())
    tn.gradcheck(lambda t: F.sum(t, axis, keepdims), [leaf(x)])
    tn.gradcheck(lambda t: F.mean(t, axis, keepdims), [leaf(x)])
    reduced = x.size // np.sum(np.ones_like(x), axis=axis).size  # values per output of the variance
    correction = 1 if reduced > 1 else 0  # one value has no unbiased variance (NaN: test_var_and_mean_...)
    tn.gradcheck(lambda t: F.var(t, axis, keepdims, correction), [leaf(x)])


def test_var_of_too_few_values_and_mean_of_none_are_nan():
    """As NumPy and PyTorch: a 0 would pass unnoticed (e.g. the loss of an empty selection)."""
    one_row = tn.tensor(np.array([[1.0, 2.0]]))
    assert np.isnan(F.var(one_row, 0).numpy()).all() and F.var(one_row, 1).item() == 0.5
    assert (F.var(one_row, 0, correction=0).numpy() == 0).all()
    empty = tn.tensor(np.ones((0, 3)), requires_grad=True)
    assert np.isnan(F.mean(empty).item()) and np.isnan(F.mean(empty, 0).numpy()).all()
    F.mean(empty).backward()
    assert empty.grad.shape == (0, 3)


@given(m=st.integers(1, 4), k=st.integers(1, 4), n=st.integers(1, 4), batch=st.sampled_from([(), (2,), (3, 1)]),
       data=st.data())
def test_matmul_2d_and_batched(m, k, n, batch, data):
    a = data.draw(arrays(batch + (m, k)))
    b = data.draw(arrays((k, n) if data.draw(st.booleans()) else batch + (k, n)))
    tn.gradcheck(F.matmul, [leaf(a), leaf(b)])


@given(x=arrays(), data=st.data())
def test_reshape_transpose_permute(x, data):
    tn.gradcheck(lambda t: t.reshape(-1), [leaf(x)])
    tn.gradcheck(lambda t: t.T, [leaf(x)])
    axes = data.draw(st.permutations(range(x.ndim)))
    tn.gradcheck(lambda t: F.permute(t, axes), [leaf(x)])


@given(x=arrays(), data=st.data())
def test_getitem_slices_and_integer_arrays(x, data):
    tn.gradcheck(lambda t: t[::2], [leaf(x)])
    tn.gradcheck(lambda t: t[..., -1:], [leaf(x)])
    index = np.array(data.draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=6)))
    tn.gradcheck(lambda t: t[index], [leaf(x)])  # repeated indices must add up


@given(x=arrays(), data=st.data())
def test_concatenate_stack(x, data):
    axis = data.draw(st.integers(0, x.ndim - 1))
    y = data.draw(arrays(x.shape))
    tn.gradcheck(lambda a, b: F.concatenate([a, b, a], axis), [leaf(x), leaf(y)])
    tn.gradcheck(lambda a, b: F.stack([a, b], axis), [leaf(x), leaf(y)])


@given(x=arrays(), before=st.integers(0, 2), after=st.integers(0, 2))
def test_pad(x, before, after):
    tn.gradcheck(lambda t: F.pad(t, [(before, after)] * t.ndim, value=1.5), [leaf(x)])


@given(pair=broadcast_pair())
def test_where(pair):
    a, b = pair
    condition = np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)) > 0
    tn.gradcheck(lambda s, t: F.where(condition, s, t), [leaf(a), leaf(b)])


@given(x=arrays(), axis=st.sampled_from([0, -1]))
def test_softmax_log_softmax(x, axis):
    tn.gradcheck(lambda t: F.softmax(t, axis), [leaf(x)])
    tn.gradcheck(lambda t: F.log_softmax(t, axis), [leaf(x)])
