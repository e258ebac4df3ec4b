"""Cache-blocked in-place element-wise updates, using numpy only.

Element-wise updates of weight-sized arrays (optimiser steps, momentum, weight
decay) are memory-bound: a dozen numpy passes over a 1.5 MB array each go to main
memory. Running all passes over one cache-sized chunk before moving to the next
keeps the chunk in L2, so each array is read and written from memory about once.

Only numpy is used: mixing in scipy's BLAS (a second OpenBLAS with its own
thread pool) makes the two pools fight for the cores whenever BLAS is
multi-threaded, which cost more than the fused BLAS calls saved.
"""

import numpy as np

CHUNK = 1 << 16
"""Elements per chunk (256 KiB of float32)."""


def chunks(*arrays):
    """Aligned chunks of flat views of same-shaped C-contiguous arrays."""
    if not all(a.flags.c_contiguous for a in arrays):
        raise ValueError("arrays updated in place must be C-contiguous")
    flat = [a.reshape(-1) for a in arrays]
    size = flat[0].shape[0]
    for start in range(0, size, CHUNK):
        yield [f[start : start + CHUNK] for f in flat]


def scratch_for(arrays):
    """A scratch buffer big enough for one chunk of any of ``arrays``."""
    return np.empty(min(CHUNK, max(a.size for a in arrays)), dtype=arrays[0].dtype)


def axpy(a, x, y, scratch=None):
    """``y <- a * x + y`` in place, chunk by chunk."""
    scratch = scratch_for([y]) if scratch is None else scratch
    a = y.dtype.type(a)
    for xc, yc in chunks(x, y):
        s = scratch[: xc.shape[0]]
        np.multiply(xc, a, out=s)
        yc += s
    return y
