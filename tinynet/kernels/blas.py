"""NumPy's own BLAS matrix product (``cblas_?gemm``), callable from Numba-compiled loops.

A compiled loop that needs a matrix product at every step (the LSTM's h_{t-1} W_hh^T) would otherwise
return to Python for each one; calling the very library NumPy uses, through ctypes, avoids that and
loads no second BLAS. Called from Numba's threads, with OpenBLAS set to one thread
(``set_blas_threads``), it also lets one pool of threads run both the products and the parallel loops
(tinynet/kernels/dispatch.py says why): ``matmul_on_numba_threads`` splits one product into blocks,
one BLAS call per thread. Row-major, C = alpha op(A) op(B) + beta C:

    gemm(ROW_MAJOR, op_a, op_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)      (pointers: arr.ctypes.data)

``gemm_function(dtype)`` is None where the library is not found (a NumPy built against another BLAS);
callers then keep to NumPy calls from Python.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np
from numba import get_num_threads, njit, prange

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


_SET_THREADS_SYMBOLS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                        "scipy_openblas_set_num_threads", "openblas_set_num_threads")  # void f(int)
_FOUND = {}


def gemm_function(dtype):
    """The ctypes function of NumPy's BLAS for float32 (sgemm) or float64 (dgemm) arrays, or None."""
    dtype = np.dtype(dtype)
    if dtype not in _SCALARS:
        return None
    if dtype not in _FOUND:
        _FOUND[dtype] = _find_gemm(dtype)
    return _FOUND[dtype]


def set_blas_threads(count: int) -> bool:
    """Set how many threads NumPy's OpenBLAS uses for one product (for the whole process); False where
    the library is not found. tinynet sets 1 when it runs every product on Numba's threads itself
    (tinynet/kernels/dispatch.py)."""
    for library in _numpy_blas_libraries():
        for name in _SET_THREADS_SYMBOLS:
            set_threads = getattr(library, name, None)
            if set_threads is not None:
                set_threads.argtypes, set_threads.restype = [ctypes.c_int], None
                set_threads(count)
                return True
    return False


def _operand(x):
    """(transpose flag, leading dimension) under which BLAS reads the 2-D array x in place, or None
    (negative or scattered strides: x must be copied first)."""
    item = x.itemsize
    rows, cols = x.shape
    row_stride, col_stride = x.strides
    if col_stride == item and row_stride % item == 0 and row_stride >= max(cols, 1) * item:
        return NO_TRANS, row_stride // item
    if row_stride == item and col_stride % item == 0 and col_stride >= max(rows, 1) * item:
        return TRANS, col_stride // item
    return None


@njit(parallel=True, cache=True)
def _gemm_in_blocks(gemm, trans_a, trans_b, a, lda, b, ldb, c, alpha, blocks, split_rows):
    """c (M, N) = op(a) op(b), c C-contiguous, in ``blocks`` blocks, one per thread, each block one
    single-threaded BLAS call: blocks of rows of c (rows of op(a)) if ``split_rows``, else blocks of
    columns (columns of op(b)). Each block reads all of the other operand, so the caller splits the
    side that leaves the smaller one to be read twice. (``blocks`` comes from the caller:
    get_num_threads() in here would keep Numba from caching the compiled function.)"""
    m, n = c.shape
    k = a.shape[1]
    item = c.itemsize
    for block in prange(blocks):
        if split_rows:  # row r of op(a) starts r * lda elements into a, or r elements if a is read transposed
            first, last = m * block // blocks, m * (block + 1) // blocks
            a_at = a.ctypes.data + first * (1 if trans_a == TRANS else lda) * item
            gemm(ROW_MAJOR, trans_a, trans_b, last - first, n, k, alpha, a_at, lda, b.ctypes.data, ldb,
                 alpha * 0, c.ctypes.data + first * n * item, n)
        else:  # column j of op(b) starts j elements into b, or j * ldb if b is read transposed
            first, last = n * block // blocks, n * (block + 1) // blocks
            b_at = b.ctypes.data + first * (ldb if trans_b == TRANS else 1) * item
            gemm(ROW_MAJOR, trans_a, trans_b, m, last - first, k, alpha, a.ctypes.data, lda, b_at, ldb,
                 alpha * 0, c.ctypes.data + first * item, n)


# Below this many multiply-adds one call on the calling thread is faster than waking the others.
SPLIT_FROM = 2 ** 22


def matmul_on_numba_threads(a, b, split_from=SPLIT_FROM):
    """a @ b for two 2-D NumPy arrays, the (M, N) result computed in blocks shared out over Numba's
    threads, each block one single-threaded BLAS call (for OpenBLAS set to one thread); ``a @ b`` where
    the product has fewer than ``split_from`` multiply-adds, the arrays are not 2-D of one float dtype,
    or the library is not found."""
    gemm = gemm_function(a.dtype) if a.ndim == b.ndim == 2 and a.dtype == b.dtype else None
    if gemm is None or a.shape[1] != b.shape[0] or a.shape[1] == 0 or a.size * b.shape[1] < split_from:
        return a @ b
    (m, k), n = a.shape, b.shape[1]
    layout_a, layout_b = _operand(a), _operand(b)
    if layout_a is None:
        a, layout_a = np.ascontiguousarray(a), (NO_TRANS, k)
    if layout_b is None:
        b, layout_b = np.ascontiguousarray(b), (NO_TRANS, n)
    c = np.empty((m, n), dtype=a.dtype)
    split_rows = m >= n  # then op(b), K x N, is the smaller operand to read in every block
    _gemm_in_blocks(gemm, layout_a[0], layout_b[0], a, layout_a[1], b, layout_b[1], c, a.dtype.type(1),
                    min(get_num_threads(), m if split_rows else n), split_rows)
    return c
