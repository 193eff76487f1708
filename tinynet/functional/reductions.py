"""Reductions over axes (sum, mean, var, max, min) and the softmax family."""
from __future__ import annotations

from ..backend import get_array_module
from ..tensor import Function


def _normalize_axes(axis, ndim, op="reduction", shape=None):
    """Axes as non-negative ints; IndexError (as NumPy and PyTorch raise) for one out of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise IndexError(f"{op}: axis {a} is out of range for a tensor of shape {shape} "
                             f"({ndim} axes: use -{ndim}..{ndim - 1})")
    normalized = tuple(a % ndim for a in axes)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: axis {axis} names an axis twice (shape {shape})")
    return normalized


def expand_reduced(gy, axes, keepdims):
    """Give a reduced gradient back the size-1 axes it lost, so it broadcasts against the input."""
    if keepdims:
        return gy
    xp = get_array_module(gy)
    return xp.expand_dims(gy, axes) if axes else gy


class Sum(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes, self.shape = _normalize_axes(self.axis, x.ndim, self.name.lower(), x.shape), x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return get_array_module(gy).broadcast_to(
            expand_reduced(gy, self.axes, self.keepdims), self.shape)


def _reduced_count(shape, axes):
    """How many elements each output of a reduction over ``axes`` gathers."""
    count = 1
    for a in axes:
        count *= shape[a]
    return count


class Mean(Sum):
    """sum / n over the reduced axes; NaN where n is 0, as in NumPy and PyTorch (the mean of nothing is
    undefined: a 0 would pass unnoticed, e.g. as the loss of an empty selection)."""

    def forward(self, x):
        y = super().forward(x)
        self.count = _reduced_count(x.shape, self.axes) or float("nan")  # NaN, not a division by 0
        return y / self.count

    def backward(self, gy):
        return super().backward(gy / self.count)


class Var(Function):
    """var = sum((x - mean)^2) / (n - correction); correction=1 is PyTorch's unbiased default. NaN where
    n <= correction (one value has no unbiased variance), as in NumPy and PyTorch."""

    def __init__(self, axis, keepdims, correction):
        self.axis, self.keepdims, self.correction = axis, keepdims, correction

    def forward(self, x):
        self.axes = _normalize_axes(self.axis, x.ndim, "var", x.shape)
        n = _reduced_count(x.shape, self.axes)
        self.divisor = x.dtype.type(n - self.correction) if n > self.correction else x.dtype.type("nan")
        self.centered = x - x.sum(axis=self.axes, keepdims=True) / x.dtype.type(n or 1)  # n = 0: x is empty
        return (self.centered ** 2).sum(axis=self.axes, keepdims=self.keepdims) / self.divisor

    def backward(self, gy):
        gy = expand_reduced(gy, self.axes, self.keepdims)
        return gy * 2 * self.centered / self.divisor


class Extreme(Function):
    """max or min along axes; the gradient is shared equally among tied extreme elements."""

    def __init__(self, axis, keepdims, largest):
        self.axis, self.keepdims, self.largest = axis, keepdims, largest

    def forward(self, x):
        self.axes = _normalize_axes(self.axis, x.ndim, "max" if self.largest else "min", x.shape)
        y = x.max(axis=self.axes, keepdims=True) if self.largest else x.min(axis=self.axes, keepdims=True)
        mask = (x == y).astype(x.dtype)
        self.share = mask / mask.sum(axis=self.axes, keepdims=True)
        return y if self.keepdims else y.squeeze(self.axes)

    def backward(self, gy):
        return expand_reduced(gy, self.axes, self.keepdims) * self.share


def log_softmax_array(x, axis):
    """log softmax(x) = x - max - log(sum(exp(x - max))): no overflow for logits of any size."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """y_i = exp(x_i) / sum_j exp(x_j); dx = y * (gy - sum(gy * y))."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        self.y = get_array_module(x).exp(log_softmax_array(x, self.axis))
        return self.y

    def backward(self, gy):
        return self.y * (gy - (gy * self.y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = log softmax(x); dx = gy - softmax(x) * sum(gy)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        self.y = log_softmax_array(x, self.axis)
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        return gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


def sum(x, axis=None, keepdims=False): return Sum(axis, keepdims)(x)
def mean(x, axis=None, keepdims=False): return Mean(axis, keepdims)(x)
def var(x, axis=None, keepdims=False, correction=1): return Var(axis, keepdims, correction)(x)
def max(x, axis=None, keepdims=False): return Extreme(axis, keepdims, largest=True)(x)
def min(x, axis=None, keepdims=False): return Extreme(axis, keepdims, largest=False)(x)
def softmax(x, dim=-1): return Softmax(dim)(x)
def log_softmax(x, dim=-1): return LogSoftmax(dim)(x)
