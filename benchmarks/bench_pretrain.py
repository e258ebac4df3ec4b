"""Seconds per epoch of one RBM layer (784 -> 500): StackedRBMTransformer vs
BernoulliRBM, and each one's fraction of its GEMM floor.

Data: 60000 MNIST-sized samples in [0, 1] built from scikit-learn's bundled digits
(see :func:`benchmarks._common.mnist_like`; no download).

Identical settings: scikit-learn's ``BernoulliRBM`` is persistent CD with one Gibbs
step (PCD-1: its negative chain continues from the previous batch's hidden samples,
with sampled visibles), plain SGD (no momentum, no weight decay) and
learning rate per sample. The like-for-like sk_dbn run is therefore
``StackedRBMTransformer(persistent=True, cd_k=1, momentum=0, weight_decay=0)`` at
the same learning rate, batch size and epochs; sk_dbn's plain CD-1 is reported too.
Both estimators also run at their defaults (only the hidden size set to 500).

Run: ``python -m benchmarks.bench_pretrain [--quick] [--threads N]``.
"""

import sys

import numpy as np
from sklearn.neural_network import BernoulliRBM

from sk_dbn import StackedRBMTransformer

from . import bench_gemm
from ._common import (
    main_for,
    median,
    mnist_like,
    no_warnings,
    paired_ratio,
    pct,
    run_interleaved,
    section,
    shuffled_batches,
    table,
    time_parts,
    timed,
)

N_HIDDEN = 500
LEARNING_RATE = 0.05
DTYPE_NAMES = {np.float32: "float32", np.float64: "float64"}


def _estimator(kind, batch, epochs, dtype_default=False):
    """``(estimator, gemm implementation, batch size)`` for one configuration."""
    if kind in ("sk_dbn PCD-1", "sk_dbn CD-1"):
        persistent = kind == "sk_dbn PCD-1"
        est = StackedRBMTransformer(
            (N_HIDDEN,), persistent=persistent, cd_k=1, batch_size=batch,
            n_iter=epochs, learning_rate=LEARNING_RATE, momentum=0.0,
            weight_decay=0.0, random_state=0,
        )
        return est, "sk_dbn_pcd" if persistent else "sk_dbn", batch
    if kind == "BernoulliRBM":
        est = BernoulliRBM(N_HIDDEN, batch_size=batch, n_iter=epochs,
                           learning_rate=LEARNING_RATE, random_state=0)
        return est, "sklearn", batch
    if kind == "sk_dbn defaults":
        est = StackedRBMTransformer((N_HIDDEN,), n_iter=epochs, random_state=0)
        return est, "sk_dbn", est.batch_size
    if kind == "BernoulliRBM defaults":
        est = BernoulliRBM(N_HIDDEN, n_iter=epochs, random_state=0)
        return est, "sklearn", est.batch_size
    raise ValueError(kind)


def _weights_dtype(est):
    W = est.coefs_[0] if hasattr(est, "coefs_") else est.components_
    return W.dtype


def run(quick=False, repeats=None, threads=None):
    n_samples = 10000 if quick else 60000
    rounds = repeats or (2 if quick else 3)
    epochs = 1 if quick else 2
    batches = (100,) if quick else (100, 256)
    dtypes = (np.float32,) if quick else (np.float32, np.float64)
    data = {dt: mnist_like(n_samples, dt)[0] for dt in dtypes}
    timer = bench_gemm.GemmTimer()  # only this run's measurements
    min_time = 0.05 if quick else 0.1

    configs, labels, seen_dtypes = [], [], {}

    def make(kind, batch, dt, n_epochs):
        def fit_once():
            est, _, _ = _estimator(kind, batch, n_epochs)
            with no_warnings():
                seconds, _ = timed(est.fit, data[dt])
            seen_dtypes[(kind, batch, dt)] = _weights_dtype(est)
            return seconds / n_epochs
        return fit_once

    identical = ("sk_dbn PCD-1", "sk_dbn CD-1", "BernoulliRBM")
    defaults = ("sk_dbn defaults", "BernoulliRBM defaults")
    for dt in dtypes:
        for b in batches:
            for kind in identical:
                configs.append(make(kind, b, dt, epochs))
                labels.append((kind, b, dt))
        for kind in defaults:
            configs.append(make(kind, None, dt, 1))
            labels.append((kind, None, dt))

    floor_jobs = set()
    for kind, b, dt in labels:
        _, impl, batch = _estimator(kind, b, epochs)
        floor_jobs.add((impl, batch, dt))

    def measure_floors(_round):
        for impl, batch, dt in sorted(floor_jobs, key=str):
            timer.measure_all(bench_gemm.rbm_gemms(impl, batch), dt, min_time)

    results = run_interleaved(configs, rounds, before_round=measure_floors,
                              progress=True)
    by_label = dict(zip(labels, results))

    def row(kind, b, dt, reference):
        _, impl, batch = _estimator(kind, b, epochs)
        per_epoch = by_label[(kind, b, dt)]
        floor = timer.floor(bench_gemm.rbm_gemms(impl, batch), dt, n_samples, batch)
        speedup = paired_ratio(by_label[reference], per_epoch)
        return [
            kind, batch, DTYPE_NAMES[dt], f"{median(per_epoch):.2f}",
            f"{min(per_epoch):.2f}-{max(per_epoch):.2f}", f"{floor:.2f}",
            pct(floor / median(per_epoch)), f"{speedup:.2f}x",
            str(seen_dtypes[(kind, b, dt)]),
        ]

    headers = ["estimator", "batch", "dtype", "s/epoch (median)", "range",
               "GEMM floor (s)", "% of floor", "speed-up vs BernoulliRBM",
               "weights dtype"]
    rows = []
    for dt in dtypes:
        for b in batches:
            for kind in identical:
                rows.append(row(kind, b, dt, ("BernoulliRBM", b, dt)))
    same = table(headers, rows)
    rows = []
    for dt in dtypes:
        for kind in defaults:
            rows.append(row(kind, None, dt, ("BernoulliRBM defaults", None, dt)))
    dflt = table(headers, rows)
    ours, theirs = StackedRBMTransformer(), BernoulliRBM()
    intro = (
        f"One RBM layer 784 -> {N_HIDDEN}, {n_samples} MNIST-sized samples "
        "(upsampled, shifted, noisy sklearn digits in [0, 1]). Seconds per epoch = "
        f"fit time / {epochs} epoch(s) (includes input validation and, for sk_dbn, "
        f"the per-epoch reconstruction error on 1000 rows); median of {rounds} "
        "interleaved rounds; speed-up = median over rounds of the paired ratio "
        "BernoulliRBM time / this time. GEMM floor re-measured in every round "
        "(median). Identical settings: learning rate "
        f"{LEARNING_RATE}, no momentum, no weight decay; BernoulliRBM is PCD-1, so "
        "`sk_dbn PCD-1` is the like-for-like row."
    )
    intro_defaults = (
        "Both at their defaults, only the hidden size set to 500 (and 1 epoch "
        "timed): sk_dbn CD-1, "
        f"batch {ours.batch_size}, momentum {ours.momentum}, weight decay "
        f"{ours.weight_decay}, {ours.n_iter} epochs; BernoulliRBM PCD-1, batch "
        f"{theirs.batch_size}, {theirs.n_iter} epochs. Full default fit time ~ "
        f"s/epoch x {ours.n_iter} (sk_dbn) and x {theirs.n_iter} (BernoulliRBM)."
    )
    return (
        section("RBM pre-training: identical settings", intro, same)
        + "\n"
        + _breakdown(data, batches, rounds, timer, by_label, n_samples)
        + "\n"
        + section("RBM pre-training: each at its defaults", intro_defaults, dflt)
    )


# ----------------------------------------------------------- where an epoch goes
def _breakdown(data, batches, rounds, timer, by_label, n_samples):
    """The parts of an sk_dbn PCD-1 epoch that are not matrix products, timed
    alone over one epoch of mini-batches with the fit's own buffers and calls."""
    from sk_dbn._rbm import CDWorkspace

    rows = []
    for dt in data:
        X = data[dt]
        for b in batches:
            rng = np.random.default_rng(0)
            ws = CDWorkspace(b, X.shape[1], N_HIDDEN, dt)
            params = [np.zeros_like(g) for g in ws.grads]
            for g in ws.grads:
                g.fill(1e-6)  # a step's size; the values do not matter
            batch_idx = shuffled_batches(n_samples, b, rng)
            steps = len(batch_idx)

            def random_numbers(ws=ws, rng=rng, n_steps=steps):
                for _ in range(n_steps):  # one visible and one hidden draw per row
                    rng.random(out=ws.noise_v, dtype=ws.noise_v.dtype)
                    rng.random(out=ws.noise_h, dtype=ws.noise_h.dtype)

            def gather(ws=ws, X=X, batch_idx=batch_idx):
                for idx in batch_idx:
                    np.take(X, idx, axis=0, out=ws.V[: idx.shape[0]])

            def update(ws=ws, params=params, n_steps=steps):
                for _ in range(n_steps):  # p += lr grad, momentum 0 (as timed)
                    for p, g in zip(params, ws.grads):
                        p += g

            parts = {"rng": random_numbers, "gather": gather, "update": update}
            t = time_parts(parts, rounds)
            floor = timer.floor(bench_gemm.rbm_gemms("sk_dbn_pcd", b), dt, n_samples,
                                b)
            fit = median(by_label[("sk_dbn PCD-1", b, dt)])
            rest = fit - floor - sum(t.values())
            rows.append([
                DTYPE_NAMES[dt], b, f"{fit:.2f}", f"{floor:.2f}", f"{t['rng']:.2f}",
                f"{t['gather']:.2f}", f"{t['update']:.2f}", f"{rest:.2f}",
                pct(floor / (floor + t["rng"])),
            ])
    intro = (
        "sk_dbn PCD-1 (identical settings above) taken apart: the parts that are "
        "not matrix products, each timed alone over one epoch of mini-batches "
        f"(median of {rounds}) with the fit's own buffers: *random numbers* = the "
        "uniform draws for sampling every visible and every hidden unit of every "
        "row (`Generator.random(out=..., dtype=float32)`); *gather* = copying "
        "the shuffled batch rows; *update* = `p += lr * grad`; "
        "*rest* = fit - GEMM floor - those (activations, sampling comparisons, "
        "bias sums, the per-epoch reconstruction error, Python, and the products' "
        "own overhead inside the fit). Last column: the best % of floor possible "
        "if nothing but the products and the random numbers took time."
    )
    return section(
        "Where an RBM epoch goes", intro,
        table(["dtype", "batch", "fit s/epoch", "GEMM floor (s)",
               "random numbers (s)", "gather (s)", "update (s)", "rest (s)",
               "max % of floor"], rows),
    )


def main(argv=None):
    return main_for(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
