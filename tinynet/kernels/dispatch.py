"""Which version of a kernel runs (Numba for NumPy arrays unless TINYNET_NUMBA=0), and how Numba's
parallel kernels share the CPU.

Numba's default OpenMP threads spin-wait after each parallel loop, and so do OpenBLAS's threads
after each matrix product; alternating the two in one training step made them fight over the
cores (LeNet-5's step took 39.6 ms instead of 19.7 ms on 2 cores, see benchmarks/RESULTS.md). The
``workqueue`` layer does not spin, so it is used unless NUMBA_THREADING_LAYER says otherwise.
(It must not be entered from several Python threads at once.)
"""
import os

import numba
import numpy as np

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"


def numba_enabled() -> bool:
    return os.environ.get("TINYNET_NUMBA", "1") != "0"


def use_numba(array) -> bool:
    return isinstance(array, np.ndarray) and numba_enabled()
