"""Which version of a kernel runs (Numba for NumPy arrays unless TINYNET_NUMBA=0), and which threads
run tinynet's CPU work.

One pool of threads for everything, as PyTorch has: Numba's parallel loops and the matrix products
alike run on Numba's threads, through its TBB threading layer (the pip package ``tbb``). A TBB thread
starts a parallel loop in about a microsecond and sleeps when idle. NumPy's OpenBLAS is set to one
thread, and each large product is split into blocks, one single-threaded BLAS call per thread
(blas.matmul_on_numba_threads). Two pools do not mix here: OpenBLAS's idle threads spin for about 0.1 s
after each product and take the core from any other thread, so a parallel Numba loop between two
products ran no faster than on one thread (and Numba's OpenMP threads, spinning as well, made LeNet-5's
step twice as long); benchmarks/RESULTS.md. Where TBB cannot load, Numba's ``workqueue`` layer (which
does not spin) and OpenBLAS's own threads are used as before; NUMBA_THREADING_LAYER, if set, is obeyed.
Setting OpenBLAS to one thread holds for the whole process: NumPy's own ``@`` then runs on one core.
TBB's threads fall asleep after a pause (tenths of a second); the first parallel loops after one may
run on the calling thread alone while they wake, so a training loop is at full speed after its first
steps, and benchmarks warm up for a while before timing.
"""
import ctypes
import glob
import os
import sys

import numba
import numpy as np

from .. import instrument
from . import blas


def _tbb_loaded() -> bool:
    """Whether Numba's TBB threading layer can run: load the pip package ``tbb``'s library from this
    environment's lib/ (Numba looks for it by name only, which misses a virtual environment's)."""
    for path in glob.glob(os.path.join(sys.prefix, "lib", "libtbb.so.12")):
        try:
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
    try:
        from numba.np.ufunc import parallel, tbbpool  # noqa: F401  (tbbpool fails to import without libtbb)
        parallel._check_tbb_version_compatible()
    except ImportError:
        return False
    return True


if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "tbb" if _tbb_loaded() else "workqueue"
elif numba.config.THREADING_LAYER == "tbb":
    _tbb_loaded()  # asked for by name: found in a virtual environment too
BLAS_ON_NUMBA_THREADS = numba.config.THREADING_LAYER == "tbb" and blas.set_blas_threads(1)


def matrix_product(a, b):
    """a @ b, for tinynet's own products: on the CPU with TBB, split over Numba's threads
    (blas.matmul_on_numba_threads); NumPy's or CuPy's ``@`` otherwise."""
    if BLAS_ON_NUMBA_THREADS and isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and numba_enabled():
        return blas.matmul_on_numba_threads(a, b)
    return a @ b


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
