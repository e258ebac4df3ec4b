"""predict_proba with sk_dbn against the same network exported to ONNX and run by
onnxruntime, on the same machine: a batch of 10000 rows and single rows.

A 784-500-500-10 ``DBNClassifier`` (float32, ``init="xavier_uniform"``, one
epoch on 2000 MNIST-sized rows: only the shapes matter for the time) is
exported with ``skl2onnx.to_onnx(clf, X[:1], options={"zipmap": False})``
after ``import sk_dbn.onnx``, and run by an onnxruntime ``InferenceSession``
(CPU provider, asked for the probabilities only). Batch: one call on 10000
rows, timed several times per round. Single row: one call on one row, timed
call by call over many calls per round (the latency a service sees, Python's
call overhead included on both sides). Rounds interleave the two in a new
order each time; a ratio is the median over rounds of sk_dbn's time over
onnxruntime's. The last columns say how far the two agree on the batch.

Threads: sk_dbn's products run in numpy's BLAS, onnxruntime's in its own
thread pool; both use their library's default (one thread per core) unless
``--threads N`` limits both to N.

Needs the ``onnx`` extra. Run: ``python -m benchmarks.bench_onnx [--quick]
[--threads N]``.
"""

import sys
import time

import numpy as np

from sk_dbn import DBNClassifier

from ._common import (
    main_for,
    median,
    mnist_like,
    no_warnings,
    paired_ratio,
    run_interleaved,
    section,
    table,
    timed,
)

HIDDEN = (500, 500)
PREDICT_ROWS = 10000


def _session(onx, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(onx.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def _per_call(fn, calls):
    """Seconds of each of ``calls`` calls of ``fn()``."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _timer(fn, A, calls, all_times=None):
    """A zero-argument callable: the median seconds of ``calls`` calls of
    ``fn(A)``, every call's time also appended to ``all_times`` if given."""
    def measure():
        times = _per_call(lambda: fn(A), calls)
        if all_times is not None:
            all_times.extend(times)
        return median(times)
    return measure


def run(quick=False, repeats=None, threads=None):
    from skl2onnx import to_onnx

    import sk_dbn.onnx  # noqa: F401  (registers the converters)

    rounds = repeats or (2 if quick else 5)
    batch_calls = 2 if quick else 5
    row_calls = 200 if quick else 2000
    activations = ("logistic",) if quick else ("logistic", "relu")
    X_train, y_train = mnist_like(2000, np.float32)
    X = mnist_like(PREDICT_ROWS, np.float32, random_state=1)[0]

    rows = []
    for act in activations:
        clf = DBNClassifier(HIDDEN, init="xavier_uniform", activation=act,
                            max_iter=1, random_state=0)
        with no_warnings():
            clf.fit(X_train, y_train)
        export_seconds, onx = timed(to_onnx, clf, X[:1],
                                    options={"zipmap": False})
        session = _session(onx, threads)

        def onnx_proba(A, session=session):
            return session.run(["probabilities"], {"X": A})[0]

        # agreement on the batch
        ours, theirs = clf.predict_proba(X), onnx_proba(X)
        labels_equal = np.mean(clf.predict(X) == session.run(["label"], {"X": X})[0])
        max_diff = float(np.abs(ours - theirs).max())

        single = {"sk_dbn": [], "onnxruntime": []}
        b_sk, b_ort, r_sk, r_ort = run_interleaved([
            _timer(clf.predict_proba, X, batch_calls),
            _timer(onnx_proba, X, batch_calls),
            _timer(clf.predict_proba, X[:1], row_calls, single["sk_dbn"]),
            _timer(onnx_proba, X[:1], row_calls, single["onnxruntime"]),
        ], rounds)
        p90 = {name: float(np.percentile(t, 90)) for name, t in single.items()}
        rows.append([
            act,
            f"{1000 * median(b_sk):.1f}", f"{1000 * median(b_ort):.1f}",
            f"{paired_ratio(b_sk, b_ort):.2f}x",
            f"{1e6 * median(r_sk):.0f}", f"{1e6 * median(r_ort):.0f}",
            f"{paired_ratio(r_sk, r_ort):.2f}x",
            f"{1e6 * p90['sk_dbn']:.0f} / {1e6 * p90['onnxruntime']:.0f}",
            f"{max_diff:.1e}", f"{labels_equal:.4f}",
            f"{export_seconds:.2f}", f"{len(onx.SerializeToString()) / 2**20:.1f}",
        ])
    result = table(
        ["activation", "batch sk_dbn (ms)", "batch onnxruntime (ms)",
         "batch sk_dbn / ort", "1 row sk_dbn (µs)", "1 row onnxruntime (µs)",
         "1 row sk_dbn / ort", "1 row p90 sk_dbn / ort (µs)",
         "max abs diff proba", "same labels", "export (s)", "model (MiB)"],
        rows,
    )
    import onnxruntime
    import skl2onnx

    intro = (
        f"784-{HIDDEN[0]}-{HIDDEN[1]}-10 DBNClassifier, float32; predict_proba on "
        f"{PREDICT_ROWS} MNIST-sized rows (batch: median of {batch_calls} calls "
        f"per round) and on one row (median over {row_calls} calls per round, "
        f"p90 over all rounds); medians over {rounds} interleaved rounds, ratios "
        "the median of per-round ratios (above 1: onnxruntime is faster). "
        f"onnxruntime {onnxruntime.__version__}, skl2onnx {skl2onnx.__version__}, "
        f"threads: {'default' if threads is None else threads} for both."
    )
    return section("predict_proba: sk_dbn against onnxruntime", intro, result)


def main(argv=None):
    return main_for(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
