"""Differentiable functions, ``import tinynet.functional as F`` (like torch.nn.functional).

Each is a thin wrapper over a ``Function`` subclass whose forward/backward work on raw arrays:
elementwise.py (arithmetic, math, activations), reductions.py (sum, mean, var, max, softmax),
shape.py (reshape, indexing, concatenation), linear.py, conv.py, normalization.py, loss.py, lstm.py.
"""
from ..tensor import Tensor as _Tensor
from .conv import avg_pool2d, conv2d, conv2d_composed, global_avg_pool2d, max_pool2d
from .elementwise import (
    abs,
    add,
    cast,
    clip,
    div,
    exp,
    leaky_relu,
    log,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from .linear import linear, matmul
from .loss import cross_entropy, mse_loss, nll_loss
from .lstm import lstm_cell, lstm_cell_composed, lstm_layer, lstm_layer_composed
from .normalization import batch_norm, dropout
from .reductions import log_softmax, max, mean, min, softmax, sum, var
from .shape import concatenate, flatten, getitem, pad, permute, reshape, stack, transpose


def _install_tensor_methods(T):
    """Give Tensor its operators and differentiable methods, each a Function of this package."""
    T.__add__, T.__radd__ = (lambda a, b: add(a, b)), (lambda a, b: add(b, a))
    T.__sub__, T.__rsub__ = (lambda a, b: sub(a, b)), (lambda a, b: sub(b, a))
    T.__mul__, T.__rmul__ = (lambda a, b: mul(a, b)), (lambda a, b: mul(b, a))
    T.__truediv__, T.__rtruediv__ = (lambda a, b: div(a, b)), (lambda a, b: div(b, a))
    T.__matmul__, T.__rmatmul__ = (lambda a, b: matmul(a, b)), (lambda a, b: matmul(b, a))
    T.__pow__, T.__neg__, T.__getitem__ = pow, neg, getitem
    T.sum = lambda x, axis=None, keepdims=False: sum(x, axis, keepdims)
    T.mean = lambda x, axis=None, keepdims=False: mean(x, axis, keepdims)
    T.var = lambda x, axis=None, keepdims=False, correction=1: var(x, axis, keepdims, correction)
    T.max = lambda x, axis=None, keepdims=False: max(x, axis, keepdims)
    T.min = lambda x, axis=None, keepdims=False: min(x, axis, keepdims)
    T.reshape = lambda x, *shape: reshape(x, shape[0] if len(shape) == 1 else shape)
    T.transpose = lambda x, *axes: transpose(x, axes[0] if len(axes) == 1 else (axes or None))
    T.permute = lambda x, *axes: transpose(x, axes[0] if len(axes) == 1 else axes)
    T.T = property(lambda x: transpose(x))
    T.exp, T.log, T.sqrt, T.tanh, T.sigmoid, T.relu, T.abs = exp, log, sqrt, tanh, sigmoid, relu, abs
    T.clip = lambda x, low=None, high=None: clip(x, low, high)
    T.astype = cast
    T.float, T.double = (lambda x: cast(x, "float32")), (lambda x: cast(x, "float64"))


_install_tensor_methods(_Tensor)
__all__ = [name for name in dir() if not name.startswith("_")]
