"""Layers and losses: gradient checks, hand-computed cases, state dicts and clear input errors."""
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.functional as F
from tinynet import nn
from tinynet.testing import arrays, check_gradients, check_module_gradients, distinct_arrays, leaf


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@given(n=st.integers(1, 2), c=st.integers(1, 3), o=st.integers(1, 3), size=st.integers(3, 7),
       k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 2), data=st.data())
def test_conv2d_gradcheck(n, c, o, size, k, stride, padding, data):
    x, w, b = (data.draw(arrays(shape)) for shape in ((n, c, size, size), (o, c, k, k), (o,)))
    check_gradients(lambda *t: F.conv2d(*t, stride=stride, padding=padding), x, w, b)


@given(n=st.integers(1, 2), c=st.integers(1, 2), size=st.integers(2, 7), k=st.integers(1, 3),
       stride=st.integers(1, 3), padding=st.integers(0, 1), data=st.data())
def test_pooling_gradcheck(n, c, size, k, stride, padding, data):
    assume(padding <= k // 2 and size + 2 * padding >= k)
    values = data.draw(distinct_arrays((n, c, size, size)))  # no ties: max pooling has a kink there
    check_gradients(lambda t: F.max_pool2d(t, k, stride, padding), values)
    check_gradients(lambda t: F.avg_pool2d(t, k, stride, padding), values)
    check_gradients(F.global_avg_pool2d, values)


@given(shape=st.sampled_from([(5, 3), (4, 3, 2, 2), (2, 3)]), training=st.booleans(), data=st.data())
def test_batch_norm_gradcheck(shape, training, data):
    x = data.draw(arrays(shape))
    if training:  # batch statistics need some spread in every channel, or 1/sqrt(var + eps) explodes
        axes = (0,) + tuple(range(2, len(shape)))
        assume((x.var(axis=axes) > 0.05).all())
    w, b = data.draw(arrays((3,), low=0.5, high=2.0)), data.draw(arrays((3,)))
    mean, var = np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0])
    check_gradients(lambda *t: F.batch_norm(t[0], mean.copy(), var.copy(), t[1], t[2], training), x, w, b)


@given(x=arrays((4, 3)), keep=st.lists(st.booleans(), min_size=12, max_size=12), p=st.floats(0.1, 0.8))
def test_dropout_gradcheck_with_a_drawn_mask(x, keep, p):
    mask = np.array(keep).reshape(4, 3)
    check_gradients(lambda t: F.dropout(t, p, True, mask=mask), x)
    np.testing.assert_allclose(F.dropout(leaf(x), p, True, mask=mask).numpy(), x * mask / (1 - p))


def test_batch_norm_hand_computed_and_running_statistics():
    bn = nn.BatchNorm1d(1)
    x = tn.tensor([[1.0], [2.0], [3.0], [6.0]])
    y = bn(x)
    mean, var = 3.0, np.var([1, 2, 3, 6])
    np.testing.assert_allclose(y.numpy().ravel(), (np.array([1, 2, 3, 6]) - mean) / np.sqrt(var + 1e-5), rtol=1e-5)
    np.testing.assert_allclose(bn.running_mean, [0.1 * mean], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var, [0.9 + 0.1 * np.var([1, 2, 3, 6], ddof=1)], rtol=1e-6)
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    np.testing.assert_allclose(bn(x).numpy().ravel(),
                               (np.array([1, 2, 3, 6]) - bn.running_mean[0]) / np.sqrt(bn.running_var[0] + 1e-5),
                               rtol=1e-5)


def test_dropout_with_fixed_mask_and_modes():
    mask = np.array([[1, 0, 1], [0, 1, 1]])
    x = leaf(randn(2, 3))
    tn.gradcheck(lambda t: F.dropout(t, 0.4, True, mask=mask), [x])
    np.testing.assert_allclose(F.dropout(x, 0.4, True, mask=mask).numpy(), x.numpy() * mask / 0.6)
    layer = nn.Dropout(0.5)
    ones = tn.tensor(np.ones((200, 50)))
    kept = layer(ones).numpy()
    assert set(np.unique(kept)) <= {0.0, 2.0} and 0.4 < (kept > 0).mean() < 0.6
    np.testing.assert_array_equal(layer.eval()(ones).numpy(), ones.numpy())


@given(x=arrays((3, 4), away_from=0.0))
def test_activation_modules_gradcheck(x):
    for layer in (nn.ReLU(), nn.LeakyReLU(0.1), nn.Tanh(), nn.Sigmoid(), nn.Softmax(1), nn.LogSoftmax(1)):
        check_gradients(layer, x)


@given(n=st.integers(1, 5), classes=st.integers(2, 6), data=st.data())
def test_losses_gradcheck(n, classes, data):
    logits = data.draw(arrays((n, classes), low=-6.0, high=6.0))
    target = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    check_gradients(lambda t: F.cross_entropy(t, target), logits)
    check_gradients(lambda t: F.nll_loss(F.log_softmax(t, 1), target), logits)
    other = data.draw(arrays((n, classes)))
    check_gradients(lambda t: F.mse_loss(t, tn.tensor(other)), logits)


@given(n=st.integers(1, 3), features=st.integers(1, 4), out=st.integers(1, 3), data=st.data())
def test_linear_module_gradcheck_over_inputs_and_parameters(n, features, out, data):
    check_module_gradients(nn.Linear(features, out), data.draw(arrays((n, features))))


def test_cross_entropy_value_and_stability():
    logits = tn.tensor([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(logits, np.array([0, 2]))
    np.testing.assert_allclose(loss.item(), (0 + math.log(3)) / 2, rtol=1e-6)
    loss.backward()
    assert np.isfinite(logits.grad).all()
    loss = F.cross_entropy(tn.tensor([[-1e4, 1e4]]), np.array([0]))
    np.testing.assert_allclose(loss.item(), 2e4, rtol=1e-6)


def test_loss_target_errors():
    logits = tn.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"target 3 is outside \[0, 3\)"):
        F.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(TypeError, match="integer class indices"):
        nn.NLLLoss()(logits, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        nn.CrossEntropyLoss()(logits, np.array([0, 1, 2]))


def test_conv_and_pool_hand_computed():
    x = tn.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    conv = nn.Conv2d(1, 1, 2, stride=2, bias=True)
    conv.load_state_dict({"weight": np.ones((1, 1, 2, 2)), "bias": np.array([1.0])})
    np.testing.assert_array_equal(conv(x).numpy()[0, 0], [[0 + 1 + 4 + 5 + 1, 2 + 3 + 6 + 7 + 1],
                                                          [8 + 9 + 12 + 13 + 1, 10 + 11 + 14 + 15 + 1]])
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).numpy()[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    padded = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    padded.load_state_dict({"weight": np.ones((1, 1, 3, 3))})
    assert padded(x).numpy()[0, 0, 0, 0] == 0 + 1 + 4 + 5


def lenet5():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5),
                         nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                         nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def test_lenet5_forward_backward_and_summary():
    model = lenet5()
    x = tn.tensor(np.random.default_rng(0).random((64, 1, 28, 28), dtype=np.float32))
    loss = F.cross_entropy(model(x), np.arange(64) % 10)
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    text = model.summary((1, 1, 28, 28), print_fn=None)
    assert "Total params: 61,706" in text and "(1, 16, 5, 5)" in text


def test_state_dict_round_trip_and_names():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias",
                           "1.running_mean", "1.running_var", "1.num_batches_tracked"]
    other = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    other.load_state_dict(state)
    for name, array in other.state_dict().items():
        np.testing.assert_array_equal(array, state[name])


def test_load_mismatched_state_dict_lists_the_problems():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    state = model.state_dict()
    state["2.weight"] = np.zeros((5, 3))
    del state["0.bias"]
    state["extra"] = np.zeros(1)
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "missing: 0.bias" in message and "unexpected: extra" in message
    assert "2.weight: checkpoint (5, 3), model (2, 3)" in message


def test_wrong_input_shapes_name_the_layer():
    with pytest.raises(ValueError, match=r"Conv2d.*expected 3 features/channels on axis 1, got shape \(2, 1, 8, 8\)"):
        nn.Conv2d(3, 4, 3)(tn.tensor(np.zeros((2, 1, 8, 8))))
    with pytest.raises(ValueError, match=r"expected a 4-D input"):
        nn.Conv2d(1, 4, 3)(tn.tensor(np.zeros((8, 8))))
    with pytest.raises(ValueError, match=r"Linear.*expected 5 features"):
        nn.Linear(5, 2)(tn.tensor(np.zeros((3, 4))))
    with pytest.raises(ValueError, match="LSTM"):
        nn.LSTM(28, 4, batch_first=True)(tn.tensor(np.zeros((2, 28, 5))))
    with pytest.raises(ValueError, match="BatchNorm2d"):
        nn.BatchNorm2d(3)(tn.tensor(np.zeros((2, 3))))


def test_init_pytorch_defaults_and_truncated_normal():
    layer = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)  # kaiming_uniform(a=sqrt(5)) gives the same bound as the bias
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.weight.numpy()).max() > 0.9 * bound
    assert np.abs(layer.bias.numpy()).max() <= bound
    conv = nn.Conv2d(3, 8, 5)
    assert np.abs(conv.weight.numpy()).max() <= 1 / math.sqrt(75)
    p = nn.Parameter(np.empty((200, 200), dtype=np.float32))
    nn.init.trunc_normal_(p, std=0.5)
    values = p.numpy()
    assert np.abs(values).max() <= 1.0 and 0.4 < values.std() < 0.5
    nn.init.xavier_uniform_(p)
    assert np.abs(p.numpy()).max() <= math.sqrt(6 / 400)


def test_module_repr_train_eval_zero_grad():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1))
    assert "Linear(in_features=2, out_features=2, bias=True)" in repr(model)
    model.eval()
    assert not model[1].training
    model(tn.tensor(np.ones((1, 2), dtype=np.float32))).sum().backward()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


@given(n=st.integers(1, 2), c=st.integers(1, 3), o=st.integers(1, 3), size=st.integers(3, 7),
       k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 1), seed=st.integers(0, 999))
def test_conv_composed_of_tensor_ops_equals_the_conv_function(n, c, o, size, k, stride, padding, seed):
    """nn.Conv2d(fused=False): im2col in Tensor ops, backward derived by autograd; same values and gradients."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, size, size))
    fused, composed = nn.Conv2d(c, o, k, stride, padding).double(), nn.Conv2d(c, o, k, stride, padding, fused=False)
    composed.double().load_state_dict(fused.state_dict())
    results = []
    for layer in (fused, composed):
        inputs = leaf(x)
        y = layer(inputs)
        (y * y).sum().backward()
        results.append((y.numpy(), inputs.grad, layer.weight.grad, layer.bias.grad))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
