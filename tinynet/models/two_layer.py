"""Paper 004, J. Kunze, M. Puetz, S. Ginter, "Fashion MNIST" (UPC, MIRI-KMLMM):
a two-layer net and a single-conv-layer net (TensorFlow).

Two-layer net: 784 -> hidden (ReLU) -> 10, weights from a truncated normal (mean 0, std 0.5,
redrawn beyond 2 std) as the paper describes, biases zero. Adam 0.001 (0.0001 above 50 hidden
units), batch 32, 15k steps; the 5-unit net reached 0.659 test accuracy.
Single-conv net: conv n filters of size k, stride 1, no padding, ReLU, then the dense output layer
(n * (29 - k)^2 -> 10). Best: 32 filters of size 2, 0.890.
"""
from __future__ import annotations

from .. import nn
from ..nn import init


def two_layer(hidden=5, std=0.5) -> nn.Sequential:
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    for layer in (model[1], model[3]):
        init.trunc_normal_(layer.weight, std=std)
        init.zeros_(layer.bias)
    return model


def single_conv(filters=32, kernel_size=2) -> nn.Sequential:
    side = 28 - kernel_size + 1
    return nn.Sequential(nn.Conv2d(1, filters, kernel_size), nn.ReLU(), nn.Flatten(),
                         nn.Linear(filters * side * side, 10))
