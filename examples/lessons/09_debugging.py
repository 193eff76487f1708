"""Lesson 09: debugging a network: where a NaN comes from, and where the time goes.

    python examples/lessons/09_debugging.py

tn.detect_anomaly() checks every forward output and every backward gradient for NaN and infinity
and stops at the first, naming the Function and the line of your code that called it (otherwise a
NaN surfaces epochs later as a NaN loss, far from its cause). tn.profile() times every Function's
forward and backward and records which kernel version ran (Numba, the NumPy reference, CuPy).
"""
import numpy as np

import tinynet as tn
import tinynet.functional as F
from tinynet import nn, optim
from tinynet.models import LSTMClassifier

# 1. A NaN from the forward pass: the log of a negative number. (np.errstate only silences NumPy's
#    own warning, which says that something went wrong but not where in the network.)
scores = tn.tensor([0.5, -0.25, 1.0], requires_grad=True)
with np.errstate(invalid="ignore", divide="ignore"):
    try:
        with tn.detect_anomaly():
            loss = -F.log(scores).sum()
    except FloatingPointError as error:
        print("caught:", error)

# 2. An infinity from the backward pass only: sqrt is fine at 0, its derivative 1 / (2 sqrt(x)) is not.
    distances = tn.tensor([0.0, 4.0], requires_grad=True)
    try:
        with tn.detect_anomaly():
            F.sqrt(distances).sum().backward()
    except FloatingPointError as error:
        print("caught:", error)

# 3. Where a training step of paper 000's LSTM spends its time, fused cell against composed cell.
rng = np.random.default_rng(0)
images, labels = tn.tensor(rng.random((100, 28, 28), dtype=np.float32)), rng.integers(0, 10, 100)
for fused in (True, False):
    tn.manual_seed(0)
    model = LSTMClassifier(fused=fused)
    optimizer = optim.Adam(model.parameters())

    def train_step():
        loss = nn.NLLLoss()(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    train_step()  # the first step loads the compiled kernels: keep it out of the profile
    with tn.profile() as profiler:
        for _ in range(3):
            train_step()
    print(f"\n{'fused' if fused else 'composed'} LSTM cell, 3 training steps:")
    print("\n".join(profiler.table().splitlines()[:6]))
