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


# How a product is cut into blocks, one per thread: along the rows of the result, its columns, or the
# inner dimension K (each block then sums over its share of K into a partial result of its own, and
# the partial results are added up; for products whose K is much longer than M and N, such as weight
# gradients summed over a whole batch, this reads each operand once instead of one of them per block).
SPLIT_ROWS, SPLIT_COLUMNS, SPLIT_INNER = 0, 1, 2


@njit(parallel=True, cache=True)
def _gemm_in_blocks(gemm, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, alpha, blocks, split):
    """op(a) op(b), (M, K) x (K, N), in ``blocks`` blocks, one single-threaded BLAS call each, into the
    flat buffer c: (M, N), or (blocks, M, N) partial results for SPLIT_INNER, in C order. a and b are
    addresses (``arr.ctypes.data``), so Numba compiles this once per dtype, not once per layout of the
    operands (each compilation takes about half a second of a user's first run). Row r of op(a)
    starts r * lda elements into a (r if a is read transposed), column j of op(b) j elements into b
    (j * ldb if b is read transposed). (``blocks`` comes from the caller: get_num_threads() in here
    would keep Numba from caching.)"""
    item, zero, out = c.itemsize, alpha * 0, c.ctypes.data
    row_step_a = 1 if trans_a == TRANS else lda  # elements from one row of op(a) to the next
    row_step_b = 1 if trans_b == TRANS else ldb  # from one row of op(b) (one step of K) to the next
    column_step_a, column_step_b = (lda if trans_a == TRANS else 1), (ldb if trans_b == TRANS else 1)
    for block in prange(blocks):
        if split == SPLIT_ROWS:
            first, last = m * block // blocks, m * (block + 1) // blocks
            gemm(ROW_MAJOR, trans_a, trans_b, last - first, n, k, alpha, a + first * row_step_a * item,
                 lda, b, ldb, zero, out + first * n * item, n)
        elif split == SPLIT_COLUMNS:
            first, last = n * block // blocks, n * (block + 1) // blocks
            gemm(ROW_MAJOR, trans_a, trans_b, m, last - first, k, alpha, a, lda,
                 b + first * column_step_b * item, ldb, zero, out + first * item, n)
        else:
            first, last = k * block // blocks, k * (block + 1) // blocks
            gemm(ROW_MAJOR, trans_a, trans_b, m, n, last - first, alpha, a + first * column_step_a * item,
                 lda, b + first * row_step_b * item, ldb, zero, out + block * m * n * item, n)


# Below this many multiply-adds one call on the calling thread is faster than waking the others.
SPLIT_FROM = 2 ** 22


def matmul_on_numba_threads(a, b, split_from=SPLIT_FROM, split=None):
    """a @ b for two 2-D NumPy arrays, computed in blocks shared out over Numba's threads, each block
    one single-threaded BLAS call (for OpenBLAS set to one thread); ``a @ b`` where the product has
    fewer than ``split_from`` multiply-adds, the arrays are not 2-D of one float dtype, or the library
    is not found. ``split`` (SPLIT_ROWS, SPLIT_COLUMNS, SPLIT_INNER) is chosen from the shapes unless
    given: the inner dimension when K is at least 4 times M and N (each operand then read once), else
    the longer of M and N (the other operand, the smaller, is the one every block reads whole)."""
    gemm = gemm_function(a.dtype) if a.ndim == b.ndim == 2 and a.dtype == b.dtype else None
    if gemm is None or a.shape[1] != b.shape[0] or a.shape[1] == 0 or a.size * b.shape[1] < split_from:
        return a @ b
    (m, k), n = a.shape, b.shape[1]
    layout_a, layout_b = _operand(a), _operand(b)
    if layout_a is None:
        a, layout_a = np.ascontiguousarray(a), (NO_TRANS, k)
    if layout_b is None:
        b, layout_b = np.ascontiguousarray(b), (NO_TRANS, n)
    if split is None:
        split = SPLIT_INNER if k >= 4 * max(m, n) else SPLIT_ROWS if m >= n else SPLIT_COLUMNS
    blocks = min(get_num_threads(), (m, n, k)[split])
    c = np.empty((blocks, m, n) if split == SPLIT_INNER else (m, n), dtype=a.dtype)
    _gemm_in_blocks(gemm, layout_a[0], layout_b[0], m, n, k, a.ctypes.data, layout_a[1], b.ctypes.data, layout_b[1],
                    c.reshape(-1), a.dtype.type(1), blocks, split)
    return c.sum(axis=0) if split == SPLIT_INNER else c
