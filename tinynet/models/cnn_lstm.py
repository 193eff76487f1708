"""Paper 001, Y. Ji, "A novel CNN+LSTM classification model based on fashion-MNIST",
Proc. SPIE 12258 (NNICE 2022): CNN+LSTM Models 1-3 and CNN Models 4-5 (Table 1).

Pools are 2x2 with stride 2 (the only choice that gives the table's flattened sizes: e.g. Model 1,
28 -conv3-> 26 -pool-> 13 -conv5-> 9, and 40 * 9 * 9 = 3240). ReLU follows every conv and hidden Fc.

Interpretation of the LSTM rows, which the paper does not explain: the row's second number is the
hidden size and its third the number of time steps: a one-layer LSTM reads the image's 10-d Fc2
output at each of T steps (Model 1: hidden 10, T = 10; Model 2: 10, 1; Model 3: 20, 1), and its
last hidden state goes through a Linear(hidden, 10) read-out. The first number (20, 10, 20) matches
no input size the table allows and is not used. Reading the third number as a layer count instead
makes Model 1 a 10-layer stack over a single step, which does not train (measured here: the loss
stayed at ln 10 for 10 epochs), since each layer shrinks its input by o * tanh(i * g). The
read-out is needed because the LSTM's hidden state lies in (-1, 1), and as logits it bounds the
loss above about 1.2 (measured with PyTorch, see the papers' README). Reported test accuracies:
Model 1 91.36 %, Model 2 90.98 %, Model 3 89.97 %, Model 4 88.72 %, Model 5 88.43 %.
"""
from __future__ import annotations

from .. import functional as F
from .. import nn

# name: (conv1 (out, k), pool after conv2?, conv2 (out, k), fc1 (in, out), lstm (hidden, steps) or None)
CONFIGS = {
    "model1": ((20, 3), False, (40, 5), (3240, 500), (10, 10)),
    "model2": ((20, 3), False, (30, 3), (3630, 300), (10, 1)),
    "model3": ((20, 3), True, (40, 5), (640, 500), (20, 1)),
    "model4": ((10, 5), True, (20, 5), (320, 100), None),
    "model5": ((5, 5), False, (10, 3), (1000, 100), None),
}


class CNNLSTM(nn.Module):
    """x (N, 1, 28, 28) -> logits (N, 10); use with CrossEntropyLoss (log-softmax inside)."""

    def __init__(self, name="model1"):
        super().__init__()
        (c1, k1), pool_twice, (c2, k2), (fc_in, fc_out), lstm = CONFIGS[name]
        layers = [nn.Conv2d(1, c1, k1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(c1, c2, k2), nn.ReLU()]
        layers += [nn.MaxPool2d(2)] if pool_twice else []
        layers += [nn.Flatten(), nn.Linear(fc_in, fc_out), nn.ReLU(), nn.Linear(fc_out, 10)]
        self.features = nn.Sequential(*layers)
        self.lstm = nn.LSTM(10, lstm[0], batch_first=True) if lstm else None
        self.readout = nn.Linear(lstm[0], 10) if lstm else None
        self.steps = lstm[1] if lstm else 0

    def forward(self, x):
        x = self.features(x)
        if self.lstm is None:
            return x
        sequence = x.reshape(x.shape[0], 1, 10)
        if self.steps > 1:
            sequence = F.concatenate([sequence] * self.steps, axis=1)  # (N, T, 10)
        output, _ = self.lstm(sequence)
        return self.readout(output[:, -1])
