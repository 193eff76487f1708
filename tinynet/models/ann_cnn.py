"""Paper 002, I. Bas, "Training Fashion-MNIST Dataset With Deep Learning" (Ege University):
three ANNs and three CNNs, originally in Keras.

The paper gives depths, not widths, so these are the choices made here:
  ANN 1 / ANN 2: 784 -> 256 -> 128 -> 64 -> 10 (3 hidden ReLU layers; RMSprop / SGD 0.025)
  ANN 3:         784 -> 512 -> 256 -> 128 -> 64 -> 32 -> 10 (5 hidden ReLU layers; Adam)
  CNN 1-3: [conv 3x3 (32) ReLU, conv 3x3 (32) ReLU, max pool 2x2, dropout 0.2] then the same with 64
           filters, then Dense(256) ReLU, dropout 0.2, Dense(10); 3x3 kernels stride 1, padding 1.
           CNN 2 puts Keras' unit_norm constraint on every conv kernel (tinynet.optim.UnitNorm).
Best reported: ANN validation accuracy about 0.90, CNN about 0.93.
"""
from __future__ import annotations

from .. import nn
from ..optim import UnitNorm

ANN_WIDTHS = {"ann1": (256, 128, 64), "ann2": (256, 128, 64), "ann3": (512, 256, 128, 64, 32)}


def ann(name="ann1", dropout=0.0, widths=None) -> nn.Sequential:
    """x (N, 1, 28, 28) or (N, 28, 28) -> logits (N, 10). ``dropout`` > 0 (not in the paper) adds
    Dropout after every hidden layer; ``widths`` (hidden layer sizes) replaces ANN_WIDTHS[name]."""
    layers, width = [nn.Flatten()], 784
    for hidden in widths or ANN_WIDTHS[name]:
        layers += [nn.Linear(width, hidden), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, 10))


def cnn(name="cnn1", dropout=0.2) -> nn.Sequential:
    """x (N, 1, 28, 28) -> logits (N, 10)."""
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(),
                nn.MaxPool2d(2), nn.Dropout(dropout)]
    model = nn.Sequential(*block(1, 32), *block(32, 64), nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU(),
                          nn.Dropout(dropout), nn.Linear(256, 10))
    if name == "cnn2":
        for layer in model:
            if isinstance(layer, nn.Conv2d):
                layer.weight.constraint = UnitNorm()
    return model
