"""Functions that move elements around without arithmetic: reshape, transpose, indexing,
concatenate, stack and pad. Each backward sends every gradient element back where it came from."""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module, scatter_add
from ..tensor import Function, Tensor


class Reshape(Function):
    def __init__(self, shape):
        self.shape = tuple(shape) if not isinstance(shape, int) else (shape,)

    def forward(self, x):
        self.input_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy): return gy.reshape(self.input_shape)


class Transpose(Function):
    """Permute axes (reverse them when ``axes`` is None); backward applies the inverse permutation."""

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return gy.transpose()
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis % len(self.axes)] = position
        return gy.transpose(inverse)


def _raw_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    return index


def _has_array_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(i, "shape") or isinstance(i, list) for i in parts)


class GetItem(Function):
    """y = x[index]. Backward scatters gy into zeros; repeated integer indices add up."""

    def __init__(self, index):
        self.index = _raw_index(index)

    def forward(self, x):
        xp = get_array_module(x)
        if xp is not np:  # NumPy index arrays must live on the tensor's device
            parts = self.index if isinstance(self.index, tuple) else (self.index,)
            parts = tuple(xp.asarray(i) if isinstance(i, np.ndarray) else i for i in parts)
            self.index = parts if isinstance(self.index, tuple) else parts[0]
        self.input_shape, self.dtype = x.shape, x.dtype
        return x[self.index]

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.input_shape, self.dtype)
        if _has_array_index(self.index):
            scatter_add(gx, self.index, gy)
        else:
            gx[self.index] = gy
        return gx


class Concatenate(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return get_array_module(*xs).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        boundaries, total = [], 0
        for size in self.sizes[:-1]:
            total += size
            boundaries.append(total)
        return tuple(get_array_module(gy).split(gy, boundaries, axis=self.axis))


class Stack(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return get_array_module(*xs).stack(xs, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        return tuple(xp.squeeze(part, axis=self.axis)
                     for part in xp.split(gy, gy.shape[self.axis], axis=self.axis))


class Pad(Function):
    """Constant padding. ``pad_width`` as in numpy.pad: an int (every side), a (before, after)
    pair (every axis), or one pair per axis."""

    def __init__(self, pad_width, value):
        self.pad_width, self.value = pad_width, value

    def forward(self, x):
        widths = self.pad_width
        if isinstance(widths, int):
            widths = [(widths, widths)] * x.ndim
        elif isinstance(widths[0], int):
            widths = [tuple(widths)] * x.ndim
        self.widths = [tuple(w) for w in widths]
        return get_array_module(x).pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, gy):
        return gy[tuple(slice(before, gy.shape[i] - after) for i, (before, after) in enumerate(self.widths))]


def reshape(x, shape): return Reshape(shape)(x)
def transpose(x, axes=None): return Transpose(axes)(x)
def permute(x, axes): return Transpose(axes)(x)
def getitem(x, index): return GetItem(index)(x)
def concatenate(xs, axis=0): return Concatenate(axis)(*xs)
def stack(xs, axis=0): return Stack(axis)(*xs)
def pad(x, pad_width, value=0.0): return Pad(pad_width, value)(x)
def flatten(x, start_dim=1): return Reshape(x.shape[:start_dim] + (-1,))(x)
