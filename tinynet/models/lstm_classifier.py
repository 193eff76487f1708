"""Paper 000, S. Shen, "Image Classification of Fashion-MNIST Dataset Using Long
Short-Term Memory Networks" (Australian National University): an LSTM reading an image row by row.

Each 28x28 image is a sequence of 28 time steps of 28 pixels. LSTM(28, 64, num_layers=2) (the
paper's "4 hidden layers of 64 neurons"), the last time step's hidden state -> Linear(64, 10) ->
LogSoftmax, trained with NLLLoss and Adam (PyTorch's default lr 0.001, which the paper does not
change), batch 100, 10 epochs, pixels scaled to [0, 1]. Reported test accuracy: 88.26 %.
"""
from __future__ import annotations

from .. import nn


class LSTMClassifier(nn.Module):
    """x (N, 28, 28) -> log-probabilities (N, 10)."""

    def __init__(self, input_size=28, hidden_size=64, num_layers=2, num_classes=10, peephole=False, fused=True):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True, peephole=peephole, fused=fused)
        self.fc = nn.Linear(hidden_size, num_classes)
        self.log_softmax = nn.LogSoftmax(dim=1)

    def forward(self, x):
        if x.ndim == 4 and x.shape[1] == 1:  # accept (N, 1, 28, 28) images too
            x = x.reshape(x.shape[0], x.shape[2], x.shape[3])
        output, _ = self.lstm(x)
        return self.log_softmax(self.fc(output[:, -1]))
