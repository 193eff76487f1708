"""Differentiable functions, ``import tinynet.functional as F`` (like torch.nn.functional).

Each is a thin wrapper over a ``Function`` subclass whose forward/backward work on raw arrays:
elementwise.py (arithmetic, math, activations), reductions.py (sum, mean, var, max, softmax),
shape.py (reshape, indexing, concatenation), linear.py, conv.py, normalization.py, loss.py, lstm.py.
"""
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

__all__ = [name for name in dir() if not name.startswith("_")]
