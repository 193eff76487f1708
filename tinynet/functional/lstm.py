"""A whole LSTM layer over a whole sequence as one differentiable function, and the same layer
composed of primitive ops (``lstm_cell_composed`` / ``lstm_layer_composed``) to take apart and compare.

Per time step t (gate order i, f, g, o; see tinynet/kernels/lstm_cell.py for the cell equations):

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh          (N, 4H)
    h_t, c_t = cell(a_t, c_{t-1})

Speed comes from keeping the time loop small: each step is the products x_t W_ih^T and h_{t-1} W_hh^T
plus one fused cell kernel (the reference makes the input projection of all T steps as one product
before the loop), and backward (backpropagation through time over raw arrays) gets the gradients that
sum over the steps, dW_ih = sum_t dL/da_t^T x_t, dW_hh = sum_t dL/da_t^T h_{t-1} and the bias's, from
the same loop: the compiled loop adds each step's share while it is in the cache, the others make one
product over the gate gradients of all steps. The loop itself is a
kernel (tinynet/kernels/lstm_cell.py): compiled whole on the CPU, step by step on a GPU (one CUDA launch
for the whole loop with TINYNET_CUDA_LSTM_SEQUENCE=1), plain NumPy as the reference.
"""
from __future__ import annotations

from ..backend import get_array_module
from ..kernels import lstm_cell as cell_kernels
from ..tensor import Function
from .elementwise import sigmoid, tanh
from .shape import stack


class LSTMLayer(Function):
    """Inputs: x (T, N, I), h0 (N, H), c0 (N, H), W_ih (4H, I), W_hh (4H, H), then b_ih, b_hh (4H,)
    if ``bias``, then w_ci, w_cf, w_co (H,) if ``peephole``. Outputs: h_1..h_T (T, N, H), h_T, c_T.
    """

    def __init__(self, bias: bool, peephole: bool):
        self.bias, self.peephole = bias, peephole

    def forward(self, x, h0, c0, w_ih, w_hh, *extra):
        xp = get_array_module(x)
        x = xp.ascontiguousarray(x)  # batch_first layers get a transposed view
        steps, batch, _ = x.shape
        hidden = w_hh.shape[1]
        extra = list(extra)
        gates = xp.empty((steps, batch, 4 * hidden), x.dtype)
        bias = extra.pop(0) + extra.pop(0) if self.bias else xp.zeros(4 * hidden, x.dtype)
        peephole = xp.stack(extra) if self.peephole else xp.zeros((3, hidden), x.dtype)
        hs = xp.empty((steps + 1, batch, hidden), x.dtype)
        cs, tanh_cs = xp.empty_like(hs), xp.empty((steps, batch, hidden), x.dtype)
        hs[0], cs[0] = h0, c0
        cell_kernels.sequence_forward_kernel(gates)(x, xp.ascontiguousarray(w_ih.T), xp.ascontiguousarray(w_hh.T),
                                                    bias, peephole, gates, hs, cs, tanh_cs)
        self.x, self.peephole_weights = x, peephole
        self.w_ih, self.w_hh = xp.ascontiguousarray(w_ih), xp.ascontiguousarray(w_hh)
        self.acts, self.hs, self.cs, self.tanh_cs = gates, hs, cs, tanh_cs
        return hs[1:], hs[steps], cs[steps]

    def backward(self, g_out, g_h_last, g_c_last):
        xp = get_array_module(g_out)
        g_out = xp.ascontiguousarray(g_out)  # batch_first layers get a transposed view
        hidden = g_out.shape[2]
        # the kernel turns the activations into dL/da in place: a copy if the graph is kept for another backward
        d_gates = self.acts.copy() if self.graph_retained else self.acts
        dh, dc = g_h_last.copy(), g_c_last.copy()  # become dL/dh_0, dL/dc_0 in place
        dx = xp.empty(self.x.shape, self.x.dtype) if self.needs_input_grad[0] else None
        d_bias, dw_ih, dw_hh = cell_kernels.sequence_backward_kernel(g_out)(
            g_out, self.x, self.w_ih, self.w_hh, self.peephole_weights, d_gates, self.hs, self.cs, self.tanh_cs,
            dh, dc, dx)
        grads = [dx, dh, dc, dw_ih, dw_hh]
        if self.bias:
            grads += [d_bias, d_bias]  # b_ih and b_hh enter the sum a_t alike
        if self.peephole:
            c_prev, c_next = self.cs[:-1], self.cs[1:]
            grads += [(d_gates[..., :hidden] * c_prev).sum(axis=(0, 1)),
                      (d_gates[..., hidden:2 * hidden] * c_prev).sum(axis=(0, 1)),
                      (d_gates[..., 3 * hidden:] * c_next).sum(axis=(0, 1))]
        return tuple(grads)


def lstm_layer(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, peephole_weights=None):
    """Run one LSTM layer over x (T, N, I); returns (outputs (T, N, H), h_T, c_T)."""
    bias = bias_ih is not None
    inputs = [x, h0, c0, weight_ih, weight_hh]
    inputs += [bias_ih, bias_hh] if bias else []
    inputs += list(peephole_weights) if peephole_weights is not None else []
    return LSTMLayer(bias, peephole_weights is not None)(*inputs)


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None, peephole_weights=None):
    """One LSTM step: x (N, I), h, c (N, H) -> (h', c'). The same fused path as a length-1 sequence."""
    _, h_next, c_next = lstm_layer(x.reshape((1,) + x.shape), h, c, weight_ih, weight_hh,
                                   bias_ih, bias_hh, peephole_weights)
    return h_next, c_next


def lstm_cell_composed(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None, peephole_weights=None):
    """The cell written with primitive ops only, one autograd node per operation (a dozen per step):
    slower than the fused Function, but every intermediate (the gates, c_t) is a Tensor you can
    inspect, hook (``register_hook``) or draw (``tinynet.viz``). Same arguments and results as lstm_cell."""
    hidden = h.shape[1]
    gates = x @ weight_ih.T + h @ weight_hh.T
    if bias_ih is not None:
        gates = gates + bias_ih + bias_hh
    a_i, a_f, a_g, a_o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
    w_ci, w_cf, w_co = peephole_weights if peephole_weights is not None else (None, None, None)
    i = sigmoid(a_i + w_ci * c if w_ci is not None else a_i)
    f = sigmoid(a_f + w_cf * c if w_cf is not None else a_f)
    c_next = f * c + i * tanh(a_g)
    o = sigmoid(a_o + w_co * c_next if w_co is not None else a_o)
    return o * tanh(c_next), c_next


def lstm_layer_composed(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, peephole_weights=None):
    """lstm_layer built from lstm_cell_composed, one time step after the other."""
    h, c, outputs = h0, c0, []
    for t in range(x.shape[0]):
        h, c = lstm_cell_composed(x[t], h, c, weight_ih, weight_hh, bias_ih, bias_hh, peephole_weights)
        outputs.append(h)
    return stack(outputs), h, c
