"""Elementwise functions: arithmetic, math and activations. Shapes broadcast as in NumPy;
the engine sums each input's gradient back to that input's shape."""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..kernels.activations import leaky_relu_backward, leaky_relu_forward, stable_sigmoid
from ..tensor import Function, Tensor


def as_tensor_like(value, like) -> Tensor:
    """A Python scalar or array as a Tensor of ``like``'s dtype and device (keeps float32 float32)."""
    if isinstance(value, Tensor):
        return value
    xp = get_array_module(like)
    return Tensor(xp.asarray(value, dtype=like.dtype if not hasattr(value, "dtype") else None))


def _binary(function_class, a, b):
    """Apply an elementwise Function of two operands, refusing shapes that do not broadcast."""
    if not isinstance(a, Tensor):
        a = as_tensor_like(a, b)
    b = as_tensor_like(b, a)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{function_class.__name__.lower()}: shapes {a.shape} and {b.shape} do not broadcast "
                         f"(sizes must match, or be 1, axis by axis from the right)") from None
    return function_class()(a, b)


class Add(Function):
    def forward(self, a, b): return a + b
    def backward(self, gy): return gy, gy


class Sub(Function):
    def forward(self, a, b): return a - b
    def backward(self, gy): return gy, -gy


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy): return gy * self.b, gy * self.a


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        ga = gy / self.b
        return ga, -ga * self.a / self.b


class Neg(Function):
    def forward(self, x): return -x
    def backward(self, gy): return -gy


class Pow(Function):
    """y = x ** p for a constant exponent p; dy/dx = p x^(p-1)."""

    def __init__(self, exponent: float):
        self.exponent = exponent

    def forward(self, x):
        self.x = x
        return x ** self.exponent

    def backward(self, gy):
        return gy * self.exponent * self.x ** (self.exponent - 1)


class Exp(Function):
    def forward(self, x):
        self.y = get_array_module(x).exp(x)
        return self.y

    def backward(self, gy): return gy * self.y


class Log(Function):
    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, gy): return gy / self.x


class Sqrt(Function):
    def forward(self, x):
        self.y = get_array_module(x).sqrt(x)
        return self.y

    def backward(self, gy): return gy / (2 * self.y)


class Tanh(Function):
    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, gy): return gy * (1 - self.y * self.y)


class Sigmoid(Function):
    def forward(self, x):
        self.y = stable_sigmoid(x)
        return self.y

    def backward(self, gy): return gy * self.y * (1 - self.y)


class LeakyReLU(Function):
    """y = x for x > 0, slope * x otherwise (slope 0 is the plain ReLU)."""

    def __init__(self, negative_slope: float = 0.0):
        self.slope = negative_slope

    def forward(self, x):
        y, self.positive = leaky_relu_forward(x, self.slope)
        return y

    def backward(self, gy):
        return leaky_relu_backward(gy, self.positive, self.slope)


class Abs(Function):
    def forward(self, x):
        self.sign = get_array_module(x).sign(x)
        return x * self.sign

    def backward(self, gy): return gy * self.sign


class Clip(Function):
    """y = min(max(x, low), high); the gradient passes where low <= x <= high."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        xp = get_array_module(x)
        self.inside = xp.ones(x.shape, dtype=bool)
        if self.low is not None:
            self.inside &= x >= self.low
        if self.high is not None:
            self.inside &= x <= self.high
        return xp.clip(x, self.low, self.high)

    def backward(self, gy): return gy * self.inside


class Where(Function):
    """y = a where condition else b; the condition carries no gradient."""

    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b): return get_array_module(a).where(self.condition, a, b)

    def backward(self, gy): return gy * self.condition, gy * ~self.condition


class Cast(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.source_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy): return gy.astype(self.source_dtype)


def add(a, b): return _binary(Add, a, b)
def sub(a, b): return _binary(Sub, a, b)
def mul(a, b): return _binary(Mul, a, b)
def div(a, b): return _binary(Div, a, b)
def neg(x): return Neg()(x)


def pow(x, exponent):
    if isinstance(exponent, Tensor):
        raise TypeError("tinynet supports tensor ** number; for number ** tensor use exp(log(base) * t)")
    return Pow(exponent)(x)


def exp(x): return Exp()(x)
def log(x): return Log()(x)
def sqrt(x): return Sqrt()(x)
def tanh(x): return Tanh()(x)
def sigmoid(x): return Sigmoid()(x)
def relu(x): return LeakyReLU(0.0)(x)
def leaky_relu(x, negative_slope=0.01): return LeakyReLU(negative_slope)(x)
def abs(x): return Abs()(x)
def clip(x, low=None, high=None): return Clip(low, high)(x)
def cast(x, dtype): return Cast(dtype)(x)


def where(condition, a, b):
    condition = condition.data if isinstance(condition, Tensor) else condition
    if not isinstance(a, Tensor):
        a = as_tensor_like(a, b)
    return Where(condition)(a, as_tensor_like(b, a))
