"""Lesson 05: an LSTM cell built from primitive ops, then the fused kernel: same numbers, faster.

    python examples/lessons/05_lstm_cell.py

    i = sigma(a_i)   f = sigma(a_f)   g = tanh(a_g)   o = sigma(a_o)     a = x W_ih^T + h W_hh^T + b
    c' = f * c + i * g                 h' = o * tanh(c')

F.lstm_cell_composed writes these with tinynet's ops: a dozen Functions in the graph per step.
F.lstm_cell runs them as one Function whose forward and backward are a fused kernel
(tinynet/kernels/lstm_cell.py). nn.LSTM(fused=False) trains on the composed cell.
"""
import time

import numpy as np

import tinynet as tn
import tinynet.functional as F
from tinynet import nn
from tinynet.viz import graph_edges

rng = np.random.default_rng(0)
batch, inputs, hidden = 100, 28, 64
x, h, c = (tn.tensor(rng.standard_normal(shape), requires_grad=True, dtype="float64")
           for shape in ((batch, inputs), (batch, hidden), (batch, hidden)))
weights = [tn.tensor(rng.standard_normal(shape) * 0.1, requires_grad=True, dtype="float64")
           for shape in ((4 * hidden, inputs), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,))]

results = {}
for name, cell in (("composed", F.lstm_cell_composed), ("fused", F.lstm_cell)):
    h_next, c_next = cell(x, h, c, *weights)
    _, functions, _ = graph_edges(h_next)
    for t in (x, h, c, *weights):
        t.zero_grad()
    (h_next.sum() + c_next.sum()).backward()
    results[name] = [h_next.numpy(), c_next.numpy(), x.grad.copy(), weights[0].grad.copy()]
    print(f"{name:>8}: {len(functions)} Functions in the graph of h'")
largest = max(np.abs(a - b).max() for a, b in zip(results["composed"], results["fused"]))
print(f"largest difference in h', c' and the gradients: {largest:.1e}")
assert largest < 1e-10

# Speed, as in training: paper 000's LSTM(28, 64, 2 layers), float32, a batch of 100 images of 28
# rows, forward + backward through all 28 steps. The fused layer is one Function per layer.
images = tn.tensor(rng.random((batch, 28, 28), dtype=np.float32))
for fused in (False, True):
    tn.manual_seed(0)
    lstm = nn.LSTM(28, 64, num_layers=2, batch_first=True, fused=fused)
    started = time.perf_counter()
    for _ in range(5):
        output, _ = lstm(images)
        output[:, -1].sum().backward()
    name = "fused" if fused else "composed"
    print(f"{name:>8}: {(time.perf_counter() - started) / 5 * 1e3:6.1f} ms per batch, forward + backward")
