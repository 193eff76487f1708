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

from .. import instrument

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"


def numba_enabled() -> bool:
    """False with TINYNET_NUMBA=0 or Numba's own NUMBA_DISABLE_JIT=1: then the NumPy references run,
    which a debugger can step through (the Numba loops would run as slow Python instead)."""
    return os.environ.get("TINYNET_NUMBA", "1") != "0" and not numba.config.DISABLE_JIT


def kernel_version(array, name, compiled=True, cupy_kernel=False) -> str:
    """Which version of kernel ``name`` runs on ``array``, reported to an active tinynet.debug.profile:
    "numba" (CPU default where ``compiled``), "reference" (NumPy; TINYNET_NUMBA=0), "cupy" (a
    hand-written CuPy kernel, where ``cupy_kernel``) or "reference on CuPy" (the reference's xp code)."""
    if isinstance(array, np.ndarray):
        version = "numba" if compiled and numba_enabled() else "reference"
    else:
        version = "cupy" if cupy_kernel else "reference on CuPy"
    instrument.kernel_ran(name, version)
    return version
