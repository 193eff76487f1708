"""LSTMCell and the multi-layer LSTM, with torch.nn.LSTM's arguments, shapes and parameter names.

Layer k holds weight_ih_l{k} (4H, I_k), weight_hh_l{k} (4H, H), bias_ih_l{k}, bias_hh_l{k} (4H,),
gates stacked in the order i, f, g, o, so a PyTorch LSTM's state dict loads unchanged. All are
initialised U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch.

``fused=False`` (a tinynet extension) runs the cell composed of primitive ops instead of the fused
Function: a dozen autograd nodes per time step, each intermediate a Tensor to inspect, hook or draw.
Same results, several times slower.

``peephole=True`` is a tinynet extension (not in torch.nn.LSTM): it adds the diagonal peephole
weights of paper 000's equations (1)-(5), weight_ci_l{k}, weight_cf_l{k}, weight_co_l{k} (H,):
i_t = sigma(W_i x_t + U_i h_{t-1} + w_ci * c_{t-1} + b_i), f_t likewise with w_cf,
o_t = sigma(W_o x_t + U_o h_{t-1} + w_co * c_t + b_o).
"""
from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from ..backend import array_module
from ..tensor import Tensor
from . import init
from .layers import check_input, check_size
from .module import Module, Parameter


class _LSTMBase(Module):
    def _add_layer_parameters(self, suffix, input_size, hidden_size, bias, peephole):
        shapes = {"weight_ih": (4 * hidden_size, input_size), "weight_hh": (4 * hidden_size, hidden_size)}
        if bias:
            shapes.update(bias_ih=(4 * hidden_size,), bias_hh=(4 * hidden_size,))
        if peephole:
            shapes.update(weight_ci=(hidden_size,), weight_cf=(hidden_size,), weight_co=(hidden_size,))
        bound = 1 / math.sqrt(hidden_size)
        for name, shape in shapes.items():
            parameter = Parameter(np.empty(shape, dtype=np.float32))
            init.uniform_(parameter, -bound, bound)
            setattr(self, name + suffix, parameter)

    def _layer_parameters(self, suffix):
        get = lambda name: getattr(self, name + suffix, None)  # noqa: E731
        peephole = [get("weight_ci"), get("weight_cf"), get("weight_co")] if self.peephole else None
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), peephole

    def _zeros(self, shape, like):
        return Tensor(array_module(like.device).zeros(shape, dtype=like.dtype))

    def _check_sizes(self, input_size, hidden_size):
        name = type(self).__name__
        return check_size(name, "input_size", input_size), check_size(name, "hidden_size", hidden_size)

    def _check_state(self, state, expected, names):
        """``state`` must be a pair of Tensors (h, c), each of shape ``expected``."""
        layer = type(self).__name__
        if not (isinstance(state, (tuple, list)) and len(state) == 2
                and all(isinstance(s, Tensor) for s in state)):
            raise TypeError(f"{layer}: the state must be a pair of Tensors ({names[0]}, {names[1]}), "
                            f"each of shape {expected}; got {type(state).__name__}")
        for name, tensor in zip(names, state):
            if tensor.shape != expected:
                raise ValueError(f"{layer}: {name} must have shape {expected}, got {tensor.shape}")
        return state


class LSTMCell(_LSTMBase):
    """One step: x (N, input_size), optional (h, c) each (N, hidden_size) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, peephole=False, fused=True):
        super().__init__()
        self.input_size, self.hidden_size = self._check_sizes(input_size, hidden_size)
        self.bias, self.peephole, self.fused = bias, peephole, fused
        self._add_layer_parameters("", input_size, hidden_size, bias, peephole)

    def forward(self, x, state=None):
        check_input(self, x, (2,), self.input_size, 1, "(batch, input_size)")
        if x.shape[0] == 0:
            raise ValueError(f"{self}: the batch is empty (shape {x.shape}); pass at least one input row")
        expected = (x.shape[0], self.hidden_size)
        h, c = self._check_state(state, expected, ("h", "c")) if state is not None else (self._zeros(expected, x),) * 2
        cell = F.lstm_cell if self.fused else F.lstm_cell_composed
        return cell(x, h, c, *self._layer_parameters(""))

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + (", peephole=True" if self.peephole else "") + \
            (", fused=False" if not self.fused else "")


class LSTM(_LSTMBase):
    """Multi-layer LSTM over a sequence.

    input (T, N, input_size), or (N, T, input_size) with batch_first=True; optional (h_0, c_0)
    each (num_layers, N, hidden_size). Returns (output, (h_n, c_n)): output holds the last layer's
    h_t for every t, (T, N, H) or (N, T, H); h_n, c_n (num_layers, N, H) the final states.
    ``dropout`` is applied to each layer's output except the last, in training mode.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, peephole=False, fused=True):
        super().__init__()
        self.input_size, self.hidden_size = self._check_sizes(input_size, hidden_size)
        self.num_layers = check_size("LSTM", "num_layers", num_layers)
        if not 0 <= dropout < 1:
            raise ValueError(f"LSTM: dropout must be in [0, 1), got {dropout!r}")
        self.bias, self.batch_first, self.dropout, self.peephole = bias, batch_first, dropout, peephole
        self.fused = fused
        for k in range(num_layers):
            self._add_layer_parameters(f"_l{k}", input_size if k == 0 else hidden_size,
                                       hidden_size, bias, peephole)

    def forward(self, x, state=None):
        layout = "(batch, seq, feature)" if self.batch_first else "(seq, batch, feature)"
        check_input(self, x, (3,), self.input_size, 2, layout)
        given = x.shape  # as the caller laid it out, for the messages
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        if x.shape[0] == 0:
            raise ValueError(f"{self}: the input sequence has length 0 (shape {given}, layout {layout}); "
                             f"an LSTM needs at least one time step")
        if x.shape[1] == 0:
            raise ValueError(f"{self}: the batch is empty (shape {given}, layout {layout}); "
                             f"pass at least one sequence")
        expected = (self.num_layers, x.shape[1], self.hidden_size)
        if state is None:
            h0 = c0 = self._zeros(expected, x)
        else:
            h0, c0 = self._check_state(state, expected, ("h_0", "c_0"))
        h_n, c_n = [], []
        layer = F.lstm_layer if self.fused else F.lstm_layer_composed
        for k in range(self.num_layers):
            x, h, c = layer(x, h0[k], c0[k], *self._layer_parameters(f"_l{k}"))
            h_n.append(h)
            c_n.append(c)
            if k < self.num_layers - 1 and self.dropout > 0:
                x = F.dropout(x, self.dropout, self.training)
        output = x.transpose(1, 0, 2) if self.batch_first else x
        return output, (F.stack(h_n), F.stack(c_n))

    def extra_repr(self):
        extras = [f"{self.input_size}, {self.hidden_size}"]
        extras += [f"num_layers={self.num_layers}"] if self.num_layers != 1 else []
        extras += ["batch_first=True"] if self.batch_first else []
        extras += [f"dropout={self.dropout}"] if self.dropout else []
        extras += ["peephole=True"] if self.peephole else []
        extras += ["fused=False"] if not self.fused else []
        return ", ".join(extras)
