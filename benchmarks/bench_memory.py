"""Peak resident memory of each fit, in a child process, next to the input size.

Each fit runs in a fresh interpreter (``python -m benchmarks.bench_memory --child``)
that loads the input from a ``.npy`` file (so its RSS is the input plus imports),
resets its peak RSS to the current RSS (``/proc/self/clear_refs``), fits for one
epoch and reads its peak RSS (``VmHWM``). ``extra = peak - RSS before fit``. A
float32 input copied to float64 shows up as extra >= 2x the input; memory that grows
with ``n_samples`` shows up as extra growing between the two sizes.

Why not ``resource.getrusage(RUSAGE_SELF).ru_maxrss``: on Linux it also counts the
peak of the address space the process had before ``exec``, i.e. the *parent's* RSS
at spawn (this benchmark's parent holds the data sets), so in a child it is at
least the parent's size. It is still recorded in the child's JSON (``rusage_peak``)
for comparison, but the table uses ``VmHWM``.

Run: ``python -m benchmarks.bench_memory [--quick] [--threads N]``.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile

import numpy as np

from sk_dbn import StackedRBMTransformer

from ._common import main_for, mnist_like, section, table

MB = 1024 * 1024
DTYPE_NAMES = {np.float32: "float32", np.float64: "float64"}

ESTIMATORS = {
    "StackedRBMTransformer 784-500": (
        "sk_dbn:StackedRBMTransformer",
        dict(hidden_layer_sizes=(500,), n_iter=1, batch_size=100, random_state=0),
    ),
    "BernoulliRBM 784-500": (
        "sklearn.neural_network:BernoulliRBM",
        dict(n_components=500, n_iter=1, batch_size=100, random_state=0),
    ),
    "DBNClassifier xavier 784-500-500-10": (
        "sk_dbn:DBNClassifier",
        dict(hidden_layer_sizes=(500, 500), init="xavier_uniform", max_iter=1,
             batch_size=100, random_state=0),
    ),
    "DBNClassifier rbm 784-500-500-10": (
        "sk_dbn:DBNClassifier",
        dict(hidden_layer_sizes=(500, 500),
             init=StackedRBMTransformer((500, 500), n_iter=1, batch_size=100),
             max_iter=1, batch_size=100, random_state=0),
    ),
    "MLPClassifier 784-500-500-10": (
        "sklearn.neural_network:MLPClassifier",
        dict(hidden_layer_sizes=(500, 500), max_iter=1, batch_size=100,
             random_state=0),
    ),
}


def _status_bytes(field):
    """``VmRSS`` / ``VmHWM`` (peak RSS) of this process from /proc, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak():
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child(spec):
    """Fit one estimator on the saved input; print a JSON line of measurements."""
    import gc
    import importlib
    import warnings

    module_name, class_name = ESTIMATORS[spec["estimator"]][0].split(":")
    params = ESTIMATORS[spec["estimator"]][1]
    cls = getattr(importlib.import_module(module_name), class_name)
    X = np.load(spec["X"])
    y = np.load(spec["y"])
    est = cls(**params)
    gc.collect()
    reset = _reset_peak()
    before = _status_bytes("VmRSS")
    peak_before = _status_bytes("VmHWM")
    from ._common import blas_threads

    with blas_threads(spec.get("threads")), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    peak = _status_bytes("VmHWM")
    rusage_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    weights = est.coefs_[0] if hasattr(est, "coefs_") else est.components_
    print(json.dumps({
        "input": X.nbytes, "before": before, "peak_before": peak_before,
        "peak": peak, "rusage_peak": rusage_peak, "reset": reset,
        "weights_dtype": str(weights.dtype),
    }))


def _measure(name, X_path, y_path, threads):
    spec = {"estimator": name, "X": X_path, "y": y_path, "threads": threads}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_memory", "--child", json.dumps(spec)],
        capture_output=True, text=True, check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick=False, repeats=None, threads=None):
    sizes = (4000, 12000) if quick else (20000, 60000)
    dtypes = (np.float32,) if quick else (np.float32, np.float64)
    names = list(ESTIMATORS)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for dt in dtypes:
            for n in sizes:
                X, y = mnist_like(n, dt)
                X_path = os.path.join(tmp, f"X_{n}_{DTYPE_NAMES[dt]}.npy")
                y_path = os.path.join(tmp, f"y_{n}.npy")
                np.save(X_path, X)
                np.save(y_path, y)
                for name in names:
                    results[(name, dt, n)] = _measure(name, X_path, y_path, threads)
                    print(".", end="", file=sys.stderr, flush=True)
                os.remove(X_path)
    print(file=sys.stderr)
    rows = []
    for name in names:
        for dt in dtypes:
            extras = []
            for n in sizes:
                r = results[(name, dt, n)]
                extra = r["peak"] - r["before"]
                extras.append((r["input"], extra))
                hidden = not r["reset"] and r["peak"] <= r["peak_before"]
                rows.append([
                    name, DTYPE_NAMES[dt], n, f"{r['input'] / MB:.0f}",
                    f"{r['before'] / MB:.0f}", f"{r['peak'] / MB:.0f}",
                    ("<=" if hidden else "") + f"{extra / MB:.0f}",
                    f"{extra / r['input']:.2f}", r["weights_dtype"],
                ])
            (in1, ex1), (in2, ex2) = extras
            rows[-1].append(f"{(ex2 - ex1) / (in2 - in1):.2f}")
            rows[-2].append("")
    mem_table = table(
        ["estimator (1 epoch)", "dtype", "n_samples", "input MB", "RSS before fit MB",
         "peak MB", "extra MB", "extra / input", "weights dtype",
         "extra growth / input growth"],
        rows,
    )
    intro = (
        "Peak RSS of one fit in a fresh child process (`VmHWM`, reset with "
        "/proc/self/clear_refs after loading the input; `getrusage` would count "
        "the parent's RSS too, see the module docstring); the input (MNIST-sized, "
        "784 features) is loaded from .npy before the fit, so "
        "`extra` is what the fit itself allocated at its peak. Last column: how "
        f"much extra memory grows from {sizes[0]} to {sizes[1]} samples per byte "
        "of input growth (0 = constant; 1 = one more input-sized copy; for "
        "init='rbm' the hidden layer's output, n_samples x 500, is the next "
        "layer's training input)."
    )
    return section("Peak memory of fit", intro, mem_table)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--child"]:
        child(json.loads(argv[1]))
        return 0
    return main_for(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
