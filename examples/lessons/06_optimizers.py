"""Lesson 06: SGD, momentum, RMSprop and Adam, written out in a few lines each and checked against
tinynet.optim on a 2-D loss surface; their paths are drawn.

    python examples/lessons/06_optimizers.py      (writes runs/lessons/06_optimizer_paths.png)

The surface is an elongated bowl, L(w) = (w0^2 + 25 w1^2) / 2, so dL/dw = (w0, 25 w1): steep in
one direction, flat in the other, which is where the methods differ.
"""
import os

import numpy as np
from matplotlib.figure import Figure

from tinynet import nn, optim
from tinynet.viz import save_figure

SCALE, START, STEPS = np.array([1.0, 25.0]), np.array([-4.0, 1.5]), 40


def gradient(w):
    return SCALE * w


def by_hand(name, lr):
    """The update rules, as in the optimizers' docstrings (tinynet/optim/optimizers.py)."""
    w, state, path = START.copy(), {"m": 0.0, "v": 0.0, "b": None}, [START.copy()]
    for t in range(1, STEPS + 1):
        g = gradient(w)
        if name == "SGD":
            w = w - lr * g
        elif name == "momentum":                       # b = 0.9 b + g, w -= lr b
            state["b"] = g if state["b"] is None else 0.9 * state["b"] + g
            w = w - lr * state["b"]
        elif name == "RMSprop":                        # s = 0.99 s + 0.01 g^2, w -= lr g / (sqrt(s) + eps)
            state["v"] = 0.99 * state["v"] + 0.01 * g * g
            w = w - lr * g / (np.sqrt(state["v"]) + 1e-8)
        else:                                          # Adam, with bias correction
            state["m"] = 0.9 * state["m"] + 0.1 * g
            state["v"] = 0.999 * state["v"] + 0.001 * g * g
            w = w - lr * (state["m"] / (1 - 0.9 ** t)) / (np.sqrt(state["v"] / (1 - 0.999 ** t)) + 1e-8)
        path.append(w.copy())
    return np.array(path)


def with_tinynet(make):
    w = nn.Parameter(START.copy())
    optimizer, path = make([w]), [START.copy()]
    for _ in range(STEPS):
        optimizer.zero_grad()
        ((w * w * SCALE).sum() * 0.5).backward()
        optimizer.step()
        path.append(w.numpy())
    return np.array(path)


RUNS = {"SGD": (0.07, lambda p: optim.SGD(p, lr=0.07)),
        "momentum": (0.02, lambda p: optim.SGD(p, lr=0.02, momentum=0.9)),
        "RMSprop": (0.1, lambda p: optim.RMSprop(p, lr=0.1)),
        "Adam": (0.3, lambda p: optim.Adam(p, lr=0.3))}
figure = Figure(figsize=(7, 4))
ax = figure.subplots()
grid = np.meshgrid(np.linspace(-4.5, 1.5, 200), np.linspace(-2, 2, 200))
ax.contour(grid[0], grid[1], (grid[0] ** 2 + 25 * grid[1] ** 2) / 2, levels=15, colors="0.8")
for name, (lr, make) in RUNS.items():
    mine, theirs = by_hand(name, lr), with_tinynet(make)
    assert np.allclose(mine, theirs), name
    loss = float((mine[-1] ** 2 * SCALE).sum() / 2)
    print(f"{name:>8} (lr {lr}): by hand == tinynet.optim for {STEPS} steps; final loss {loss:.2e}")
    ax.plot(mine[:, 0], mine[:, 1], marker=".", label=name)
ax.legend()
ax.set_title("Paths on L = (w0^2 + 25 w1^2) / 2 from (-4, 1.5)")
print("picture:", save_figure(figure, os.path.join("runs", "lessons", "06_optimizer_paths.png")))
