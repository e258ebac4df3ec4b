"""BLAS throughput for exactly the matrix products each algorithm multiplies.

An epoch of RBM pre-training or of fine-tuning is, to first order, a fixed list of
matrix products per mini-batch. Timing each product alone, with the same shapes and
the same memory layouts (an operand that the algorithm passes transposed is stored
transposed here too), gives the *GEMM floor* of the epoch: the time it would take if
nothing but those products ran. ``fraction of floor = floor / measured epoch time``.

The floor uses numpy's BLAS (``np.dot``), the one sk_dbn, ``BernoulliRBM`` and
``MLPClassifier`` all call. scipy bundles a second OpenBLAS; its speed for the same
products (``scipy.linalg.blas.?gemm``) is shown for reference, measured after all
of numpy's timings so that the two thread pools never run interleaved (they fight
over the cores when they do, see the last table).

Run: ``python -m benchmarks.bench_gemm [--quick] [--threads N]``.
"""

import sys
import time
from typing import NamedTuple

import numpy as np
from scipy.linalg import blas as scipy_blas

from ._common import interleaved_order, main_for, median, section, table

MNIST_FEATURES = 784
RBM_HIDDEN = 500
MLP_SIZES = (784, 500, 500, 10)
DTYPES = (np.float32, np.float64)


class Gemm(NamedTuple):
    """``C (m, n) = A (m, k) @ B (k, n)``; ``a_t``/``b_t``: stored transposed."""

    label: str
    m: int
    k: int
    n: int
    a_t: bool = False
    b_t: bool = False

    @property
    def key(self):
        return (self.m, self.k, self.n, self.a_t, self.b_t)

    @property
    def flops(self):
        return 2 * self.m * self.k * self.n

    @property
    def layout(self):
        return ("A.T" if self.a_t else "A") + " @ " + ("B.T" if self.b_t else "B")


# ------------------------------------------------------------ per-batch GEMM lists
def rbm_gemms(impl, batch, n_visible=MNIST_FEATURES, n_hidden=RBM_HIDDEN):
    """The products of one CD-1 / PCD-1 mini-batch.

    ``impl="sk_dbn"`` (CD): weights ``W`` (n_visible, n_hidden) C-ordered; the
    positive and negative statistics are one product of stacked batches,
    ``[V0; V1].T @ [H0; -H1]``. ``impl="sk_dbn_pcd"``: the same, but the data's
    up-pass waits for the chain's and both are one product ``[V0; V1] @ W``.
    ``impl="sklearn"``: ``BernoulliRBM`` keeps ``components_`` (n_hidden,
    n_visible) Fortran-ordered, so ``v @ components_.T`` is a plain product and
    ``h @ components_`` a transposed one; its statistics are two products,
    ``v_pos.T @ h_pos`` and ``h_neg.T @ v_neg``. All are 10 * batch * n_visible *
    n_hidden FLOPs.
    """
    b, v, h = batch, n_visible, n_hidden
    if impl == "sk_dbn":
        return [
            Gemm("up (data) V0 @ W", b, v, h),
            Gemm("down H @ W.T", b, h, v, b_t=True),
            Gemm("up (recon) V1 @ W", b, v, h),
            Gemm("stats [V0;V1].T @ [H0;-H1]", v, 2 * b, h, a_t=True),
        ]
    if impl == "sk_dbn_pcd":
        return [
            Gemm("down H @ W.T", b, h, v, b_t=True),
            Gemm("up [V0;V1] @ W", 2 * b, v, h),
            Gemm("stats [V0;V1].T @ [H0;-H1]", v, 2 * b, h, a_t=True),
        ]
    if impl == "sklearn":
        return [
            Gemm("up (data) v @ comp.T", b, v, h),
            Gemm("down h @ comp", b, h, v, b_t=True),
            Gemm("up (recon) v @ comp.T", b, v, h),
            Gemm("stats+ v_pos.T @ h_pos", v, b, h, a_t=True),
            Gemm("stats- h_neg.T @ v_neg", h, b, v, a_t=True),
        ]
    raise ValueError(impl)


def mlp_gemms(batch, sizes=MLP_SIZES):
    """The products of one backprop mini-batch (same for MLPClassifier and sk_dbn).

    Forward ``A_i @ W_i``; weight gradients ``A_i.T @ delta_i``; back-propagated
    deltas ``delta_i @ W_i.T`` for every layer but the first (no input gradient).
    """
    pairs = list(zip(sizes[:-1], sizes[1:]))
    gemms = [Gemm(f"forward {i}: A @ W ({a}x{b})", batch, a, b)
             for i, (a, b) in enumerate(pairs)]
    gemms += [Gemm(f"grad W {i}: A.T @ delta", a, batch, b, a_t=True)
              for i, (a, b) in enumerate(pairs)]
    gemms += [Gemm(f"delta {i - 1}: delta @ W.T", batch, b, a, b_t=True)
              for i, (a, b) in enumerate(pairs) if i > 0]
    return gemms


def forward_gemms(n_rows, sizes=MLP_SIZES):
    """The products of a forward pass of ``n_rows`` rows (predict_proba)."""
    return [Gemm(f"forward {i}", n_rows, a, b)
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]


def total_flops(gemms):
    return sum(g.flops for g in gemms)


# ----------------------------------------------------------------------- timing
class GemmTimer:
    """Seconds per call of each product, measured on demand and accumulated.

    Every call of :meth:`measure` appends one measurement, so benchmarks can
    re-measure inside each interleaved round and take medians: the floor then
    reflects the same machine load as the fits it is compared with.
    """

    def __init__(self):
        self.samples = {}
        self._operands = {}

    def _arrays(self, gemm, dtype):
        key = (gemm.key, np.dtype(dtype).str)
        if key not in self._operands:
            rng = np.random.default_rng(0)
            a_shape = (gemm.k, gemm.m) if gemm.a_t else (gemm.m, gemm.k)
            b_shape = (gemm.n, gemm.k) if gemm.b_t else (gemm.k, gemm.n)
            A = rng.random(a_shape, dtype=np.float64).astype(dtype)
            B = rng.random(b_shape, dtype=np.float64).astype(dtype)
            C = np.empty((gemm.m, gemm.n), dtype=dtype)
            self._operands.clear()  # keep memory bounded: one shape at a time
            self._operands[key] = (A.T if gemm.a_t else A, B.T if gemm.b_t else B, C)
        return self._operands[key]

    @staticmethod
    def _time_loop(call, min_time):
        for _ in range(3):
            call()
        calls = 0
        start = time.perf_counter()
        while True:
            call()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                return elapsed / calls

    def measure(self, gemm, dtype, min_time=0.2, lib="numpy"):
        """Time ``gemm`` through one library's BLAS (``"numpy"``/``"scipy"``) for
        at least ``min_time`` seconds; store and return the seconds per call."""
        A, B, C = self._arrays(gemm, dtype)
        # scipy's wrappers are Fortran-ordered: see _scipy_gemm_call
        make = _numpy_gemm_call if lib == "numpy" else _scipy_gemm_call
        seconds = self._time_loop(make(A, B, C), min_time)
        key = (gemm.key, np.dtype(dtype).str, lib)
        self.samples.setdefault(key, []).append(seconds)
        return seconds

    def library_seconds(self, gemm, dtype, lib):
        """Median seconds per call through one library (``"numpy"``/``"scipy"``)."""
        return median(self.samples.get((gemm.key, np.dtype(dtype).str, lib), []))

    def seconds(self, gemm, dtype, min_time=0.2):
        """Median seconds per call through numpy (measured now if never)."""
        if (gemm.key, np.dtype(dtype).str, "numpy") not in self.samples:
            self.measure(gemm, dtype, min_time)
        return self.library_seconds(gemm, dtype, "numpy")

    def measure_all(self, gemms, dtype, min_time=0.2):
        seen = set()
        for g in gemms:
            if g.key not in seen:
                seen.add(g.key)
                self.measure(g, dtype, min_time)

    def floor(self, gemms, dtype, n_samples, batch):
        """GEMM floor of an epoch (s): the batch's products x n_samples / batch."""
        per_batch = sum(self.seconds(g, dtype) for g in gemms)
        return per_batch * n_samples / batch

    def gflops(self, gemms, dtype):
        """Aggregate throughput of the list of products (GFLOP/s)."""
        return total_flops(gemms) / sum(self.seconds(g, dtype) for g in gemms) / 1e9


TIMER = GemmTimer()


# ------------------------------------------------------------------------- run
def algorithms(batches=(100, 256)):
    """``{(algorithm, batch): gemm list}`` for everything the benchmarks time."""
    algos = {}
    for b in batches:
        algos[("RBM CD step, sk_dbn", b)] = rbm_gemms("sk_dbn", b)
        algos[("RBM PCD step, sk_dbn", b)] = rbm_gemms("sk_dbn_pcd", b)
        algos[("RBM PCD step, BernoulliRBM", b)] = rbm_gemms("sklearn", b)
        algos[("MLP backprop 784-500-500-10", b)] = mlp_gemms(b)
    algos[("forward 784-500-500-10, 10000 rows", 10000)] = forward_gemms(10000)
    return algos


def _numpy_gemm_call(A, B, C):
    """A zero-argument call computing ``C = A @ B`` through numpy's BLAS."""
    return lambda: np.dot(A, B, out=C)


def _scipy_gemm_call(A, B, C):
    """A zero-argument call computing ``C = A @ B`` through scipy's BLAS.

    scipy's wrappers are Fortran-ordered: C-ordered ``C`` (m, n) is the Fortran
    matrix ``C.T = B.T @ A.T``; an operand whose transpose is Fortran-ordered is
    passed as that transpose, otherwise as itself with the transpose flag. No
    copies are made.
    """
    fn = scipy_blas.sgemm if C.dtype == np.float32 else scipy_blas.dgemm
    first, trans_first = (B.T, 0) if B.flags.c_contiguous else (B, 1)
    second, trans_second = (A.T, 0) if A.flags.c_contiguous else (A, 1)
    return lambda: fn(1.0, first, second, beta=0.0, c=C.T, trans_a=trans_first,
                      trans_b=trans_second, overwrite_c=1)


def _threading_table(rounds, min_time):
    """GFLOP/s of a few batch-100 products with 1 BLAS thread vs all cores, and of
    back-to-back products that alternate between numpy's and scipy's OpenBLAS."""
    import os

    from threadpoolctl import threadpool_limits

    n_cpu = os.cpu_count() or 1
    gemms = [Gemm("up", 100, 784, 500), Gemm("stats", 784, 200, 500, a_t=True),
             Gemm("up", 256, 784, 500), Gemm("large", 2000, 2000, 2000)]
    modes = ["numpy"] * len(gemms) + ["numpy", "scipy", "alternate"]
    gemms = gemms + [gemms[0]] * 3
    timer = GemmTimer()
    jobs = [(i, t) for i in range(len(gemms)) for t in (1, n_cpu)]
    samples = {}
    for r in range(rounds):
        for j in interleaved_order(len(jobs), r):
            i, t = jobs[j]
            g, mode = gemms[i], modes[i]
            with threadpool_limits(limits=t):
                A, B, C = timer._arrays(g, np.float32)
                np_call = _numpy_gemm_call(A, B, C)
                sp_call = _scipy_gemm_call(A, B, C)
                if mode == "numpy":
                    call = np_call
                elif mode == "scipy":
                    call = sp_call
                else:
                    def call(np_call=np_call, sp_call=sp_call):
                        np_call()
                        sp_call()
                calls = 2 if mode == "alternate" else 1
                sec = timer._time_loop(call, min_time) / calls
            samples.setdefault((i, t), []).append(sec)
    labels = {"numpy": "", "scipy": " (scipy only)",
              "alternate": " (alternating numpy / scipy)"}
    rows = [[f"{g.m}x{g.k}x{g.n}", g.layout + labels[modes[i]]] + [
        f"{g.flops / median(samples[(i, t)]) / 1e9:.1f}" for t in (1, n_cpu)]
        for i, g in enumerate(gemms) if i < 4 or modes[i] != "numpy"]
    return table(["m x k x n (float32)", "product (numpy unless said)",
                  "1 thread GFLOP/s", f"{n_cpu} threads GFLOP/s"], rows)


def run(quick=False, repeats=None, threads=None):
    rounds = repeats or (2 if quick else 3)
    min_time = 0.05 if quick else 0.15
    batches = (100,) if quick else (100, 256)
    algos = algorithms(batches)
    shapes = {}
    for gemms in algos.values():
        for g in gemms:
            shapes.setdefault(g.key, g)
    jobs = [(g, dt) for g in shapes.values() for dt in DTYPES]
    for lib in ("numpy", "scipy"):  # never interleaved: see the module docstring
        time.sleep(0.5)  # let the other library's BLAS threads go idle
        for r in range(rounds):
            for j in interleaved_order(len(jobs), r):
                g, dt = jobs[j]
                TIMER.measure(g, dt, min_time, lib)

    rows = []
    for g in shapes.values():
        rows.append([f"{g.m}x{g.k}x{g.n}", g.layout] + [
            f"{g.flops / TIMER.library_seconds(g, dt, lib) / 1e9:.1f}"
            for dt in DTYPES for lib in ("numpy", "scipy")
        ])
    shape_table = table(
        ["m x k x n", "product", "f32 numpy GFLOP/s", "f32 scipy GFLOP/s",
         "f64 numpy GFLOP/s", "f64 scipy GFLOP/s"], rows
    )
    rows = []
    for (name, b), gemms in algos.items():
        n_samples = 60000 if b != 10000 else 10000
        unit = "epoch" if b != 10000 else "pass"
        row = [name, b if b != 10000 else "-",
               f"{total_flops(gemms) * n_samples / b / 1e9:.1f} / {unit}"]
        for dt in DTYPES:
            row += [f"{TIMER.gflops(gemms, dt):.1f}",
                    f"{TIMER.floor(gemms, dt, n_samples, b):.2f}"]
        rows.append(row)
    floor_table = table(
        ["algorithm", "batch", "GFLOP", "f32 GFLOP/s", "f32 floor (s)",
         "f64 GFLOP/s", "f64 floor (s)"],
        rows,
    )
    intro = (
        "C = A @ B through numpy (`np.dot(A, B, out=C)`), operands stored as the "
        f"algorithm stores them; median of {rounds} interleaved rounds of >= "
        f"{min_time} s each. Floor = the epoch's products alone at numpy's speed "
        "(60000 samples; predict: one pass over 10000 rows); numpy's BLAS is the "
        "one sk_dbn, BernoulliRBM and MLPClassifier call. scipy's bundled OpenBLAS "
        "(`scipy.linalg.blas.?gemm`, no copies), timed after all of numpy's "
        "products, for reference."
    )
    threading_intro = (
        "BLAS threads: the same products with 1 thread and with every core "
        "(whatever --threads says), interleaved. On a loaded machine OpenBLAS's "
        "threads wait for each other and small products collapse. numpy and "
        "scipy each bundle an OpenBLAS with its own thread pool: products that "
        "alternate between the two make the pools fight over the cores."
    )
    return (section("GEMM throughput and floors", intro, shape_table, floor_table)
            + "\n" + section("GEMM and BLAS threads", threading_intro,
                             _threading_table(rounds, min_time)))


def main(argv=None):
    return main_for(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
