"""Each paper's script, CI-sized (a seeded subset, one to five epochs, seconds on 2 cores), must land
in an accuracy band around what it gave when its paper was reproduced: a regression in any layer,
kernel or optimizer shows up here, not months later in the README's table.

The bands are the measured accuracy (2026-11-24, seed 0) minus 4 and plus 4 points, wide enough for
another machine's BLAS rounding and narrow enough that a broken gradient (accuracy near 10 %) or a
layer that learns half as fast fails. Each run is past the steepest part of learning: swapping the
Numba kernels for the NumPy references (TINYNET_NUMBA=0, other rounding) moves it by under 1.5
points. Paper 001's CNN+LSTM learns in plateaus and is the exception: its run on 3,000 patterns for
2 epochs moved by 9 points with rounding alone (43 to 57 %), and on 6,000 for 3 epochs by 8 (69.45 to
61.59 %, when the conv weight gradient's summation order changed on 2026-11-25), and on 12,000 for 3
epochs by 3.4. On 12,000 patterns for 5 epochs three roundings gave 77.68 % (that code), 78.10 %
(TINYNET_NUMBA=0) and 79.46 % (the code before that day's changes); its band is centred on their mean,
78.4 %.
"""
import json
import os

import pytest

from test_examples import run_example

RUNS = [  # script, flags, measured test accuracy (%)
    ("lstm_fmnist.py", ["--subset", "6000", "--epochs", "2"], 69.02),                            # paper 000
    ("cnn_lstm_fmnist.py", ["--model", "model1", "--subset", "12000", "--epochs", "5"], 78.4),   # paper 001
    ("ann_cnn_fmnist.py", ["--model", "ann1", "--subset", "6000", "--epochs", "2"], 66.43),      # paper 002
    ("ann_cnn_fmnist.py", ["--model", "cnn1", "--subset", "1500", "--epochs", "1"], 51.84),      # paper 002
    ("lenet_resnet_fmnist.py", ["--model", "lenet5", "--subset", "4000", "--epochs", "2"], 69.69),  # paper 003
    ("two_layer_vs_cnn_fmnist.py", ["--model", "single_conv", "--steps", "300"], 79.28),         # paper 004
]


@pytest.mark.parametrize("script,flags,measured", RUNS, ids=[f"{s}:{' '.join(f)}" for s, f, _ in RUNS])
def test_ci_sized_reproduction_lands_in_its_band(tmp_path, script, flags, measured):
    run_example(script, flags + ["--out", str(tmp_path)], quick=False)
    with open(os.path.join(tmp_path, "metrics.json")) as handle:
        accuracy = json.load(handle)["test_accuracy"] * 100
    assert measured - 4 <= accuracy <= measured + 4, f"{script} {flags}: {accuracy:.2f} %, measured {measured} %"
