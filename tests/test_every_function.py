"""Every Function's backward is covered: each has a gradient check here, and each check fails when
that backward is made 5 % wrong. A new Function without a case fails the first test."""
import numpy as np
import pytest

import tinynet as tn
import tinynet.functional as F
from tinynet.tensor import Function

rng = np.random.default_rng(0)


def leaf(*shape, low=-2.0, high=2.0):
    return tn.tensor(rng.uniform(low, high, shape), requires_grad=True, dtype="float64")


def away_from(value, *shape):
    """Values at least 0.2 from ``value`` on either side (no kink within gradcheck's step)."""
    x = rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape) + value
    return tn.tensor(x, requires_grad=True, dtype="float64")


def distinct(*shape):
    """A permutation of well-separated values: no ties for max, min or max pooling."""
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.37 - 1.0
    return tn.tensor(x, requires_grad=True, dtype="float64")


TARGETS = np.array([0, 2, 1])
CONDITION = np.array([[True, False, True], [False, True, False]])


def bn(x, w, b):
    return F.batch_norm(x, np.zeros(3), np.ones(3), w, b, training=True)


CASES = {  # Function class name: (function of the inputs, inputs)
    "Add": (lambda a, b: a + b, [leaf(2, 3), leaf(3)]),
    "Sub": (lambda a, b: a - b, [leaf(2, 3), leaf(2, 1)]),
    "Mul": (lambda a, b: a * b, [leaf(2, 3), leaf(3)]),
    "Div": (lambda a, b: a / b, [leaf(2, 3), leaf(3, low=0.5, high=2.0)]),
    "Neg": (lambda a: -a, [leaf(2, 3)]),
    "Pow": (lambda a: a ** 3, [leaf(2, 3)]),
    "Exp": (F.exp, [leaf(2, 3)]),
    "Log": (F.log, [leaf(2, 3, low=0.3, high=2.0)]),
    "Sqrt": (F.sqrt, [leaf(2, 3, low=0.3, high=2.0)]),
    "Tanh": (F.tanh, [leaf(2, 3)]),
    "Sigmoid": (F.sigmoid, [leaf(2, 3)]),
    "LeakyReLU": (lambda a: F.leaky_relu(a, 0.2), [away_from(0.0, 2, 3)]),
    "Abs": (F.abs, [away_from(0.0, 2, 3)]),
    "Clip": (lambda a: F.clip(a, -1.0, 1.0), [leaf(2, 3, low=-0.8, high=0.8)]),
    "Where": (lambda a, b: F.where(CONDITION, a, b), [leaf(2, 3), leaf(2, 3)]),
    "Cast": (lambda a: F.cast(a, np.float64) * a, [leaf(2, 3)]),
    "MatMul": (lambda a, b: a @ b, [leaf(2, 3), leaf(3, 4)]),
    "Linear": (F.linear, [leaf(2, 3), leaf(4, 3), leaf(4)]),
    "Sum": (lambda a: a.sum(axis=1), [leaf(2, 3)]),
    "Mean": (lambda a: a.mean(axis=0), [leaf(2, 3)]),
    "Var": (lambda a: a.var(axis=1), [leaf(2, 3)]),
    "Extreme": (lambda a: a.max(axis=1).sum() + a.min(axis=0).sum(), [distinct(2, 3)]),
    "Softmax": (lambda a: F.softmax(a, dim=1), [leaf(2, 3)]),
    "LogSoftmax": (lambda a: F.log_softmax(a, dim=1), [leaf(2, 3)]),
    "NLL": (lambda a: F.nll_loss(a, TARGETS), [leaf(3, 4)]),
    "CrossEntropy": (lambda a: F.cross_entropy(a, TARGETS), [leaf(3, 4)]),
    "Reshape": (lambda a: a.reshape(3, 2), [leaf(2, 3)]),
    "Transpose": (lambda a: a.T, [leaf(2, 3)]),
    "GetItem": (lambda a: a[1:, ::2], [leaf(3, 4)]),
    "Concatenate": (lambda a, b: F.concatenate([a, b], axis=1), [leaf(2, 3), leaf(2, 2)]),
    "Stack": (lambda a, b: F.stack([a, b], axis=0), [leaf(2, 3), leaf(2, 3)]),
    "Pad": (lambda a: F.pad(a, ((1, 0), (0, 2))), [leaf(2, 3)]),
    "BatchNorm": (bn, [leaf(4, 3), leaf(3, low=0.5, high=1.5), leaf(3)]),
    "Conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1), [leaf(1, 2, 4, 4), leaf(3, 2, 3, 3), leaf(3)]),
    "MaxPool2d": (lambda x: F.max_pool2d(x, 2), [distinct(1, 2, 4, 4)]),
    "AvgPool2d": (lambda x: F.avg_pool2d(x, 2, 2, 1), [leaf(1, 2, 4, 4)]),
    "LSTMLayer": (lambda x, h, c, w_ih, w_hh, b_ih, b_hh: F.lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh),
                  [leaf(3, 2, 2), leaf(2, 3), leaf(2, 3), leaf(12, 2), leaf(12, 3), leaf(12), leaf(12)]),
}


def function_classes():
    found, stack = {}, [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__module__.startswith("tinynet."):
                found[sub.__name__] = sub
            stack.append(sub)
    return found


def test_every_function_of_tinynet_has_a_case():
    assert set(function_classes()) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_backward_passes_its_gradient_check(name):
    fn, inputs = CASES[name]
    tn.gradcheck(fn, inputs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_backward_made_5_percent_wrong_fails_its_check(name, monkeypatch):
    cls = function_classes()[name]
    right = cls.backward

    def wrong(self, *grad_outputs):
        grads = right(self, *grad_outputs)
        if not isinstance(grads, tuple):
            return grads * 1.05
        return tuple(None if g is None else g * 1.05 for g in grads)

    monkeypatch.setattr(cls, "backward", wrong)
    fn, inputs = CASES[name]
    with pytest.raises(tn.GradcheckError):
        tn.gradcheck(fn, inputs)
