"""In-place BLAS calls that numpy does not expose: GEMM with ``beta`` and AXPY.

``np.dot(a, b, out=c)`` always overwrites ``c``; BLAS can accumulate
(``c <- alpha a b + beta c``), which fuses a momentum or moment update into the
product and saves full passes over the weights. scipy's BLAS wrappers are
Fortran-ordered, so a C-ordered ``c`` is passed as the Fortran matrix ``c.T``
(``c.T = b.T a.T``) and operands are handed over without copies, transposed by
flag where needed.
"""

import numpy as np
from scipy.linalg import blas

_GEMM = {np.dtype(np.float32): blas.sgemm, np.dtype(np.float64): blas.dgemm}
_AXPY = {np.dtype(np.float32): blas.saxpy, np.dtype(np.float64): blas.daxpy}


def _fortran_operand(x):
    """``(array, trans)``: ``array`` F-ordered and ``op(array) = x.T``."""
    if x.flags.c_contiguous:
        return x.T, 0
    if x.flags.f_contiguous:
        return x, 1
    return np.ascontiguousarray(x).T, 0


def gemm(alpha, a, b, beta, c):
    """``c <- alpha * a @ b + beta * c`` in place; ``c`` C-contiguous, same dtype.

    Falls back to numpy for other dtypes.
    """
    fn = _GEMM.get(c.dtype)
    if fn is None or not c.flags.c_contiguous or c.ndim != 2:
        c *= beta
        c += alpha * (a @ b)
        return c
    first, trans_first = _fortran_operand(b)
    second, trans_second = _fortran_operand(a)
    out = fn(alpha, first, second, beta=beta, c=c.T, trans_a=trans_first,
             trans_b=trans_second, overwrite_c=1)
    if not np.shares_memory(out, c):  # pragma: no cover - wrapper copied c
        c[...] = out.T
    return c


def axpy(a, x, y):
    """``y <- a * x + y`` in place, for contiguous ``x`` and ``y`` of one dtype."""
    fn = _AXPY.get(y.dtype)
    if fn is None or not (x.flags.c_contiguous and y.flags.c_contiguous):
        y += a * x
        return y
    out = fn(x.reshape(-1), y.reshape(-1), a=a)
    if not np.shares_memory(out, y):  # pragma: no cover - wrapper copied y
        y[...] = out.reshape(y.shape)
    return y
