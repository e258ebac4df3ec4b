"""Seconds per epoch of DBNClassifier fine-tuning vs MLPClassifier (784-500-500-10,
adam), fraction of the GEMM floor, and predict_proba throughput.

``DBNClassifier(init="xavier_uniform")`` so that only fine-tuning is timed (no
pre-training). Both run every epoch: ``tol=0`` and a huge ``n_iter_no_change``;
seconds per epoch = fit time / ``n_iter_``.

Run: ``python -m benchmarks.bench_finetune [--quick] [--threads N]``.
"""

import sys

import numpy as np
from sklearn.neural_network import MLPClassifier

from sk_dbn import DBNClassifier

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

HIDDEN = (500, 500)
DTYPE_NAMES = {np.float32: "float32", np.float64: "float64"}
PREDICT_ROWS = 10000


def make_estimator(kind, activation, batch, epochs):
    common = dict(
        hidden_layer_sizes=HIDDEN, activation=activation, solver="adam",
        batch_size=batch, max_iter=epochs, tol=0.0, n_iter_no_change=10**6,
        random_state=0,
    )
    if kind == "DBNClassifier":
        return DBNClassifier(init="xavier_uniform", **common)
    if kind == "MLPClassifier":
        return MLPClassifier(**common)
    raise ValueError(kind)


def run(quick=False, repeats=None, threads=None):
    n_samples = 10000 if quick else 60000
    rounds = repeats or (2 if quick else 3)
    epochs = 1 if quick else 2
    batches = (100,) if quick else (100, 256)
    dtypes = (np.float32,) if quick else (np.float32, np.float64)
    activations = ("logistic", "relu")
    kinds = ("DBNClassifier", "MLPClassifier")
    data = {dt: mnist_like(n_samples, dt) for dt in dtypes}
    timer = bench_gemm.GemmTimer()  # only this run's measurements
    min_time = 0.05 if quick else 0.1

    # ------------------------------------------------------------- fine-tuning
    labels, configs, info = [], [], {}

    def make_fit(kind, act, b, dt):
        def fit_once():
            X, y = data[dt]
            est = make_estimator(kind, act, b, epochs)
            with no_warnings():
                seconds, _ = timed(est.fit, X, y)
            info[(kind, act, b, dt)] = (est.coefs_[0].dtype, est.n_iter_)
            return seconds / est.n_iter_
        return fit_once

    for dt in dtypes:
        for b in batches:
            for act in activations:
                for kind in kinds:
                    labels.append((kind, act, b, dt))
                    configs.append(make_fit(kind, act, b, dt))

    def measure_floors(_round):
        for dt in dtypes:
            for b in batches:
                timer.measure_all(bench_gemm.mlp_gemms(b), dt, min_time)

    results = dict(zip(labels, run_interleaved(
        configs, rounds, before_round=measure_floors, progress=True)))
    rows = []
    for dt in dtypes:
        for b in batches:
            floor = timer.floor(bench_gemm.mlp_gemms(b), dt, n_samples, b)
            for act in activations:
                for kind in kinds:
                    t = results[(kind, act, b, dt)]
                    ref = results[("MLPClassifier", act, b, dt)]
                    w_dtype, n_iter = info[(kind, act, b, dt)]
                    rows.append([
                        kind, act, b, DTYPE_NAMES[dt], f"{median(t):.2f}",
                        f"{min(t):.2f}-{max(t):.2f}", f"{floor:.2f}",
                        pct(floor / median(t)), f"{paired_ratio(ref, t):.2f}x",
                        f"{w_dtype} / {n_iter}",
                    ])
    fit_table = table(
        ["estimator", "activation", "batch", "dtype", "s/epoch (median)", "range",
         "GEMM floor (s)", "% of floor", "speed-up vs MLP",
         "weights dtype / n_iter_"],
        rows,
    )

    # ---------------------------------------------------------- predict_proba
    fitted = {}
    for dt in dtypes:
        X, y = data[dt]
        for act in activations:
            for kind in kinds:
                est = make_estimator(kind, act, 200, 1)
                with no_warnings():
                    est.fit(X[:2000], y[:2000])
                fitted[(kind, act, dt)] = est
    X_pred = {dt: mnist_like(PREDICT_ROWS, dt, random_state=1)[0] for dt in dtypes}
    calls = 2 if quick else 5
    p_labels, p_configs = [], []

    def make_predict(kind, act, dt):
        est = fitted[(kind, act, dt)]

        def predict_once():
            seconds, _ = timed(lambda: [est.predict_proba(X_pred[dt])
                                        for _ in range(calls)])
            return seconds / calls
        return predict_once

    for dt in dtypes:
        for act in activations:
            for kind in kinds:
                p_labels.append((kind, act, dt))
                p_configs.append(make_predict(kind, act, dt))

    def measure_forward(_round):
        for dt in dtypes:
            timer.measure_all(bench_gemm.forward_gemms(PREDICT_ROWS), dt, min_time)

    p_results = dict(zip(p_labels, run_interleaved(
        p_configs, rounds, before_round=measure_forward)))
    rows = []
    for dt in dtypes:
        floor = timer.floor(bench_gemm.forward_gemms(PREDICT_ROWS), dt,
                            PREDICT_ROWS, PREDICT_ROWS)
        for act in activations:
            for kind in kinds:
                t = p_results[(kind, act, dt)]
                ref = p_results[("MLPClassifier", act, dt)]
                proba_dtype = fitted[(kind, act, dt)].predict_proba(
                    X_pred[dt][:5]).dtype
                rows.append([
                    kind, act, DTYPE_NAMES[dt], f"{1000 * median(t):.1f}",
                    f"{PREDICT_ROWS / median(t):,.0f}", f"{1000 * floor:.1f}",
                    pct(floor / median(t)), f"{paired_ratio(ref, t):.2f}x",
                    str(proba_dtype),
                ])
    predict_table = table(
        ["estimator", "activation", "dtype", "ms / 10000 rows", "rows/s",
         "GEMM floor (ms)", "% of floor", "speed-up vs MLP", "proba dtype"],
        rows,
    )
    intro = (
        f"784-{HIDDEN[0]}-{HIDDEN[1]}-10, adam, alpha=1e-4, shuffle, {n_samples} "
        "MNIST-sized samples (10 classes). DBNClassifier(init='xavier_uniform'): "
        f"fine-tuning only. s/epoch = fit time / n_iter_ ({epochs} epoch(s), "
        f"tol=0); median of {rounds} interleaved rounds; speed-up = median of "
        "paired per-round ratios MLP time / this time; GEMM floor = the 8 "
        "products per batch (3 forward, 3 weight gradients, 2 deltas) at the "
        "measured throughput, re-measured every round."
    )
    intro_predict = (
        f"predict_proba on {PREDICT_ROWS} rows (weights from a 1-epoch fit on 2000 "
        f"rows); mean of {calls} calls per round, median over {rounds} rounds. "
        "Floor: the 3 forward products on all 10000 rows at once."
    )
    return (
        section("Fine-tuning: DBNClassifier vs MLPClassifier", intro, fit_table)
        + "\n"
        + _breakdown(data, batches, rounds, timer, results, n_samples)
        + "\n"
        + section("predict_proba throughput", intro_predict, predict_table)
    )


# ----------------------------------------------------------- where an epoch goes
def _breakdown(data, batches, rounds, timer, results, n_samples):
    """Seconds per epoch of each part of DBNClassifier's fine-tuning, timed apart.

    The parts run exactly as in ``sk_dbn._finetune._epoch`` (same workspace,
    backprop with the L2 term, the same optimizer call), one epoch's worth of
    mini-batches each; *one pass* is ``np.add(a, b, out=c)`` over every
    parameter, chunk by chunk as the optimizer goes, so the optimizer's time can
    be read as a number of such memory passes.
    """
    from sk_dbn._activations import make_activation
    from sk_dbn._network import BackpropWorkspace, loss_and_gradients
    from sk_dbn._ops import get_ops
    from sk_dbn._optimizers import Adam
    from sk_dbn.initializers import xavier_uniform

    sizes = (784, *HIDDEN, 10)
    rows = []
    for dt in data:
        X, y = data[dt]
        for b in batches:
            rng = np.random.default_rng(0)
            coefs = [xavier_uniform(i, o, random_state=rng, dtype=dt)
                     for i, o in zip(sizes[:-1], sizes[1:])]
            intercepts = [np.zeros(o, dt) for o in sizes[1:]]
            params = coefs + intercepts
            ws = BackpropWorkspace(b, X, coefs)
            opt = Adam(params, None, 1e-3)
            batch_idx = shuffled_batches(n_samples, b, rng)
            n_steps = len(batch_idx)
            scratch = np.empty(1 << 16, dt)

            def backprop(ws=ws, batch_idx=batch_idx, coefs=coefs, X=X, y=y,
                         intercepts=intercepts):
                n_layers = len(coefs)
                for idx in batch_idx:
                    acts, deltas, scr = ws.batch(X, idx)
                    loss_and_gradients(acts, y[idx], coefs, intercepts,
                                       make_activation("logistic"), 1e-4, deltas,
                                       ws.grads[:n_layers], ws.grads[n_layers:],
                                       scr)

            def optimizer(opt=opt, params=params, ws=ws, n=n_steps):
                for _ in range(n):
                    opt.update(params, ws.grads)

            def one_pass(params=params, ws=ws, scratch=scratch, n=n_steps):
                for _ in range(n):
                    for p, g in zip(params, ws.grads):
                        for pc, gc in get_ops(np).chunks(p, g):
                            np.add(pc, gc, out=scratch[: pc.shape[0]])

            parts = {"backprop": backprop, "optimizer": optimizer, "pass": one_pass}
            t = time_parts(parts, rounds)
            floor = timer.floor(bench_gemm.mlp_gemms(b), dt, n_samples, b)
            fit = median(results[("DBNClassifier", "logistic", b, dt)])
            rest = fit - t["backprop"] - t["optimizer"]
            rows.append([
                DTYPE_NAMES[dt], b, f"{fit:.2f}", f"{floor:.2f}",
                f"{t['backprop']:.2f}", f"{t['optimizer']:.2f}",
                f"{t['pass']:.3f}", f"{t['optimizer'] / t['pass']:.1f}",
                f"{rest:.2f}",
                pct(floor / (floor + t["optimizer"])),
            ])
    intro = (
        "DBNClassifier (logistic) fine-tuning taken apart, each part timed alone "
        f"over one epoch of mini-batches (median of {rounds}): *backprop* = forward, "
        "loss and backward of every batch (the GEMMs plus activations, loss, the "
        "L2 term and the row gather); *optimizer* = Adam's in-place update, as in "
        "the fit; *one pass* = one numpy "
        "`np.add` over all 647 k parameters per step, chunk by chunk "
        "(optimizer / one pass = how many such passes Adam's step costs); "
        "*rest* = fit epoch - backprop - optimizer (validation, setup, Python). "
        "Last column: the best % of floor possible with this optimizer even if "
        "backprop ran exactly at the GEMM floor and nothing else took time."
    )
    return section(
        "Where a fine-tuning epoch goes", intro,
        table(["dtype", "batch", "fit s/epoch", "GEMM floor (s)", "backprop (s)",
               "optimizer (s)", "one pass (s)", "optimizer / pass", "rest (s)",
               "max % of floor"], rows),
    )


def main(argv=None):
    return main_for(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
