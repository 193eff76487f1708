"""NumPy's own BLAS matrix product (``cblas_?gemm``), callable from Numba-compiled loops.

A compiled loop that needs a matrix product at every step (the LSTM's h_{t-1} W_hh^T) would otherwise
return to Python for each one. Calling the very library NumPy uses, through ctypes, keeps one pool of
BLAS threads in the process: a second pool (another BLAS, or Numba's own threads) would spin-wait on
the same cores and slow both (benchmarks/RESULTS.md). Row-major, C = alpha op(A) op(B) + beta C:

    gemm(ROW_MAJOR, op_a, op_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)      (pointers: arr.ctypes.data)

``gemm_function(dtype)`` is None where the library is not found (a NumPy built against another BLAS);
callers then keep to NumPy calls from Python.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112  # the CBLAS enum values

# Where NumPy's wheels keep their bundled OpenBLAS, and the names it exports: scipy-openblas (NumPy >= 2)
# prefixes "scipy_" and, built with 64-bit integers, appends "64_"; older wheels only append "64_".
_LIBRARY_PATTERNS = ("../numpy.libs/*openblas*", ".libs/*openblas*", ".dylibs/*openblas*")
_SYMBOLS = (("scipy_cblas_{}gemm64_", ctypes.c_int64), ("cblas_{}gemm64_", ctypes.c_int64),
            ("scipy_cblas_{}gemm", ctypes.c_int32), ("cblas_{}gemm", ctypes.c_int32))
_SCALARS = {np.dtype(np.float32): ("s", ctypes.c_float), np.dtype(np.float64): ("d", ctypes.c_double)}


def _numpy_blas_libraries():
    here = os.path.dirname(np.__file__)
    for pattern in _LIBRARY_PATTERNS:
        for path in sorted(glob.glob(os.path.join(here, pattern))):
            try:
                yield ctypes.CDLL(path)  # already loaded by NumPy: the same library, the same threads
            except OSError:
                continue


def _find_gemm(dtype):
    letter, scalar = _SCALARS[dtype]
    for library in _numpy_blas_libraries():
        for name, integer in _SYMBOLS:
            gemm = getattr(library, name.format(letter), None)
            if gemm is not None:
                pointer = ctypes.c_void_p
                gemm.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, integer, integer, integer, scalar,
                                 pointer, integer, pointer, integer, scalar, pointer, integer]
                gemm.restype = None
                return gemm
    return None


_FOUND = {}


def gemm_function(dtype):
    """The ctypes function of NumPy's BLAS for float32 (sgemm) or float64 (dgemm) arrays, or None."""
    dtype = np.dtype(dtype)
    if dtype not in _SCALARS:
        return None
    if dtype not in _FOUND:
        _FOUND[dtype] = _find_gemm(dtype)
    return _FOUND[dtype]
