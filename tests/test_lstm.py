"""LSTM: gradient checks of the fused cell and multi-layer LSTM, agreement with primitive ops,
and agreement with an independent float64 NumPy implementation."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.functional as F
from tinynet import nn
from tinynet.testing import arrays, check_gradients, leaf


def cell_values(data, n, inputs, hidden, peephole):
    """Drawn inputs of one cell step: x, h, c, W_ih, W_hh, b_ih, b_hh (and the peephole weights)."""
    shapes = [(n, inputs), (n, hidden), (n, hidden), (4 * hidden, inputs), (4 * hidden, hidden),
              (4 * hidden,), (4 * hidden,)] + [(hidden,)] * (3 if peephole else 0)
    return [data.draw(arrays(shape)) for shape in shapes]


@given(n=st.integers(1, 3), inputs=st.integers(1, 3), hidden=st.integers(1, 4), peephole=st.booleans(), data=st.data())
def test_lstm_cell_gradcheck(n, inputs, hidden, peephole, data):
    values = cell_values(data, n, inputs, hidden, peephole)
    call = lambda *t: F.lstm_cell(*t[:7], peephole_weights=t[7:] if peephole else None)  # noqa: E731
    check_gradients(call, *values)


@given(n=st.integers(1, 4), inputs=st.integers(1, 4), hidden=st.integers(1, 5), peephole=st.booleans(),
       data=st.data())
def test_fused_cell_equals_primitive_composition(n, inputs, hidden, peephole, data):
    values = cell_values(data, n, inputs, hidden, peephole)
    fused, primitive = [leaf(v) for v in values], [leaf(v) for v in values]
    h1, c1 = F.lstm_cell(*fused[:7], peephole_weights=fused[7:] if peephole else None)
    h2, c2 = F.lstm_cell_composed(*primitive[:7], peephole_weights=primitive[7:] if peephole else None)
    np.testing.assert_allclose(h1.numpy(), h2.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c1.numpy(), c2.numpy(), rtol=1e-10, atol=1e-12)
    weights = data.draw(arrays((2, n, hidden)))
    ((h1 * weights[0]).sum() + (c1 * weights[1]).sum()).backward()
    ((h2 * weights[0]).sum() + (c2 * weights[1]).sum()).backward()
    for a, b in zip(fused, primitive):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-9, atol=1e-11)


@given(steps=st.integers(1, 3), batch=st.integers(1, 2), peephole=st.booleans(), data=st.data())
def test_two_layer_lstm_gradcheck(steps, batch, peephole, data):
    model = nn.LSTM(3, 4, num_layers=2, peephole=peephole).double()
    x, h0, c0 = (leaf(data.draw(arrays(shape))) for shape in ((steps, batch, 3), (2, batch, 4), (2, batch, 4)))
    parameters = model.parameters()

    def run(x, h0, c0):
        output, (h_n, c_n) = model(x, (h0, c0))
        return output, h_n, c_n

    tn.gradcheck(run, [x, h0, c0])
    tn.gradcheck(lambda *w: model(x.detach(), (h0.detach(), c0.detach())), parameters)


def numpy_lstm(x, state, num_layers, hidden):
    """An independent float64 LSTM (time-major) straight from the equations."""
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    outputs, h_n, c_n = x, [], []
    for k in range(num_layers):
        w_ih, w_hh = state[f"weight_ih_l{k}"], state[f"weight_hh_l{k}"]
        b = state[f"bias_ih_l{k}"] + state[f"bias_hh_l{k}"]
        h = np.zeros((x.shape[1], hidden))
        c = np.zeros_like(h)
        layer_out = []
        for x_t in outputs:
            i, f, g, o = np.split(x_t @ w_ih.T + h @ w_hh.T + b, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            layer_out.append(h)
        outputs = np.stack(layer_out)
        h_n.append(h)
        c_n.append(c)
    return outputs, np.stack(h_n), np.stack(c_n)


def test_lstm_matches_independent_numpy_implementation_with_loaded_weights():
    rng = np.random.default_rng(5)
    model = nn.LSTM(5, 6, num_layers=2, batch_first=True)
    state = {name: rng.standard_normal(array.shape) * 0.4 for name, array in model.state_dict().items()}
    model.load_state_dict(state)
    x = rng.standard_normal((3, 7, 5))  # batch_first: (N, T, I)
    output, (h_n, c_n) = model(tn.tensor(x, dtype=np.float32))
    expected, h_expected, c_expected = numpy_lstm(x.transpose(1, 0, 2), state, 2, 6)
    np.testing.assert_allclose(output.numpy(), expected.transpose(1, 0, 2), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h_n.numpy(), h_expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c_n.numpy(), c_expected, rtol=1e-4, atol=1e-5)
    assert list(model.state_dict()) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]


def test_lstm_paper_000_shapes_float32_and_cell_module():
    model = nn.LSTM(28, 64, num_layers=2, batch_first=True)
    x = tn.tensor(np.random.default_rng(0).random((100, 28, 28), dtype=np.float32))
    output, (h_n, c_n) = model(x)
    assert output.shape == (100, 28, 64) and h_n.shape == c_n.shape == (2, 100, 64)
    assert output.dtype == np.float32
    output[:, -1].sum().backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    cell = nn.LSTMCell(3, 2)
    h, c = cell(tn.tensor(np.ones((4, 3), dtype=np.float32)))
    assert h.shape == c.shape == (4, 2)


@given(steps=st.integers(1, 4), batch=st.integers(1, 3), peephole=st.booleans(), seed=st.integers(0, 999))
def test_lstm_composed_of_primitive_ops_equals_the_fused_layer(steps, batch, peephole, seed):
    """nn.LSTM(fused=False) gives the fused layer's outputs and gradients, float64, two layers."""
    tn.manual_seed(seed)
    fused = nn.LSTM(3, 4, num_layers=2, peephole=peephole).double()
    composed = nn.LSTM(3, 4, num_layers=2, peephole=peephole, fused=False).double()
    composed.load_state_dict(fused.state_dict())
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, 3))
    weights = rng.standard_normal((steps, batch, 4))
    results = []
    for model in (fused, composed):
        inputs = leaf(x)
        output, (h_n, c_n) = model(inputs)
        ((output * tn.tensor(weights, dtype=np.float64)).sum() + c_n.sum()).backward()
        results.append([output.numpy(), h_n.numpy(), c_n.numpy(), inputs.grad]
                       + [p.grad for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


@given(double=st.booleans(), peephole=st.booleans(), seed=st.integers(0, 999))
def test_lstm_backward_through_a_kept_graph_twice_gives_the_same_gradients(double, peephole, seed):
    """The layer's backward turns its saved activations into their gradients in place unless the graph
    is kept (retain_graph=True): the second backward must find them intact."""
    tn.manual_seed(seed)
    model = nn.LSTM(3, 4, num_layers=2, peephole=peephole)
    model = model.double() if double else model
    dtype = np.float64 if double else np.float32
    inputs = tn.tensor(np.random.default_rng(seed).standard_normal((5, 2, 3)), dtype=dtype, requires_grad=True)
    output, (h_n, c_n) = model(inputs)
    loss = (output * output).sum() + c_n.sum()
    gradients = []
    for retain_graph in (True, False):
        model.zero_grad()
        inputs.grad = None
        loss.backward(retain_graph=retain_graph)
        gradients.append([inputs.grad] + [p.grad for p in model.parameters()])
    for first, second in zip(*gradients):
        np.testing.assert_array_equal(first, second)
