"""Lesson 08: vanishing gradients through time, shown rather than told.

    python examples/lessons/08_vanishing_gradients.py   (writes runs/lessons/08_vanishing_gradients.png)

Paper 000's LSTM reads an image row by row, 28 steps, and classifies from the last hidden state
h_28. How much does the loss depend on h_t for earlier t? With nn.LSTM(fused=False) every h_t is a
Tensor in the graph; retain_grad() keeps dL/dh_t after backward, and its size is plotted against t.

Untrained, the LSTM forgets about as fast as a plain tanh RNN: its forget gates start near
sigma(0) = 0.5, halving the cell state's memory every step. Opening them (a forget-gate bias of 3,
sigma(3) = 0.95, a common initialisation) lets the gradient reach far back: that path through
c_t, multiplied only by f_t at each step, is what the cell state is for.
"""
import os

import numpy as np
from matplotlib.figure import Figure

import tinynet as tn
import tinynet.functional as F
from tinynet import nn
from tinynet.viz import save_figure

tn.manual_seed(0)
rng = np.random.default_rng(0)
images = tn.tensor(rng.random((32, 28, 28), dtype=np.float32))   # a batch, as (N, T, features)
targets = rng.integers(0, 10, 32)


def gradient_norms(step):
    """Run ``step(x_t, h) -> h`` over the 28 rows, read out h_28, return |dL/dh_t| for t = 1..28."""
    readout = nn.Linear(64, 10)
    h, states = tn.tensor(np.zeros((32, 64), np.float32)), []
    for t in range(28):
        h = step(images[:, t], h)
        h.retain_grad()
        states.append(h)
    nn.CrossEntropyLoss()(readout(h), targets).backward()
    return np.array([np.linalg.norm(s.grad) for s in states])


def lstm(forget_bias):
    """An LSTM step function whose forget gates start at sigma(forget_bias) (on average)."""
    cell, memory = nn.LSTMCell(28, 64, fused=False), {"c": tn.tensor(np.zeros((32, 64), np.float32))}
    cell.bias_ih.data[64:128] += forget_bias  # gate order i, f, g, o

    def step(x, h):
        h, memory["c"] = cell(x, (h, memory["c"]))
        return h
    return step


rnn_in, rnn_hidden = nn.Linear(28, 64), nn.Linear(64, 64)
curves = {"tanh RNN": gradient_norms(lambda x, h: F.tanh(rnn_in(x) + rnn_hidden(h))),
          "LSTM": gradient_norms(lstm(0.0)),
          "LSTM, forget bias 3": gradient_norms(lstm(3.0))}
for name, norms in curves.items():
    print(f"{name:>19}: |dL/dh_t| at t = 28, 21, 14, 7, 1: " + ", ".join(f"{norms[t]:.1e}" for t in (27, 20, 13, 6, 0)))
figure = Figure(figsize=(6, 3.5))
ax = figure.subplots()
for name, norms in curves.items():
    ax.semilogy(range(1, 29), norms, marker=".", label=name)
ax.set_xlabel("time step t (image row)")
ax.set_ylabel("|dL/dh_t|")
ax.legend()
ax.set_title("How much the loss depends on each step's hidden state")
print("picture:", save_figure(figure, os.path.join("runs", "lessons", "08_vanishing_gradients.png")))
