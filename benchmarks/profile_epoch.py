"""Profile one training epoch at the benchmark setting, with py-spy.

``python -m benchmarks.profile_epoch {rbm,pcd,finetune,mlp,bernoullirbm}
[--dtype float32] [--batch 100] [--threads N] [--samples 60000]`` runs the fit
under ``py-spy record --native`` (py-spy must be installed: ``pip install py-spy``)
and prints where the time goes:

- *leaf* (self) time by function, native frames included, so BLAS kernels, ufunc
  loops and the random generator show separately;
- *inclusive* time of each Python function of sk_dbn / sklearn, and per line of
  the innermost sk_dbn / sklearn Python frame (which statement spends it).

``--no-profile`` just runs the epoch (for timing, or for another profiler);
with it, ``--epochs N`` fits N epochs and prints each one's time, and
``--no-flush`` turns off sk_dbn's flushing of subnormal floats to zero, e.g.
``python -m benchmarks.profile_epoch finetune --no-profile --epochs 4 --no-flush``.
"""

import argparse
import collections
import linecache
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

from ._common import blas_threads, mnist_like, no_warnings

TARGETS = ("rbm", "pcd", "finetune", "mlp", "bernoullirbm")


def _estimator(target, batch):
    if target in ("rbm", "pcd"):
        from sk_dbn import StackedRBMTransformer

        return StackedRBMTransformer(
            (500,), persistent=target == "pcd", cd_k=1, batch_size=batch, n_iter=1,
            learning_rate=0.05, momentum=0.0, weight_decay=0.0, random_state=0)
    if target == "bernoullirbm":
        from sklearn.neural_network import BernoulliRBM

        return BernoulliRBM(500, batch_size=batch, n_iter=1, learning_rate=0.05,
                            random_state=0)
    common = dict(hidden_layer_sizes=(500, 500), activation="logistic",
                  batch_size=batch, max_iter=1, tol=0.0, random_state=0)
    if target == "finetune":
        from sk_dbn import DBNClassifier

        return DBNClassifier(init="xavier_uniform", **common)
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(**common)


def run_epoch(target, dtype, batch, n_samples, threads, epochs=1, flush=True):
    """Fit ``epochs`` epochs (per-epoch times printed when more than one).

    ``flush=False`` fits without sk_dbn's flushing of subnormals to zero (see
    ``sk_dbn._fpenv``), to measure what it buys.
    """
    X, y = mnist_like(n_samples, np.dtype(dtype).type)
    est = _estimator(target, batch)
    if epochs > 1:
        key = "max_iter" if "max_iter" in est.get_params() else "n_iter"
        est.set_params(**{key: epochs, "verbose": True})
    if not flush:
        import contextlib

        import sk_dbn._dbn
        import sk_dbn._stacked

        sk_dbn._dbn.flush_denormals = contextlib.nullcontext
        sk_dbn._stacked.flush_denormals = contextlib.nullcontext
    with blas_threads(threads), no_warnings():
        start = time.perf_counter()
        est.fit(X, y)
        elapsed = time.perf_counter() - start
    print(f"{target} {dtype} batch {batch} n={n_samples}: fit {elapsed:.2f} s",
          file=sys.stderr)


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*?)(?::(?P<line>\d+))?\)$")


def _parse(frame):
    m = _FRAME.match(frame)
    if not m:
        return frame, "", None
    return m["func"], m["file"], m["line"]


def _short(path):
    for marker in ("sk_dbn/", "sklearn/", "numpy/", "scipy/", "benchmarks/"):
        i = path.rfind(marker)
        if i >= 0:
            return path[i:]
    return os.path.basename(path)


_CATEGORIES = (
    ("BLAS GEMM (kernels + packing)", re.compile(r"gemm")),
    ("BLAS level 1/2 (dot, axpy, gemv, scal)",
     re.compile(r"^[sd](dot|axpy|gemv|scal|copy)|_k_")),
    ("random numbers", re.compile(r"pcg64|random_|mt19937|legacy_")),
    ("numpy elementwise / reductions / casts",
     re.compile(r"^(FLOAT|DOUBLE|BOOL|simd|npyv|_aligned|_contig|_cast|"
                r"pairwise|.*reduce|.*_to_)|X86_V|ufunc|_multiarray_umath")),
    ("libc (memcpy / memset / malloc)", re.compile(r"libc\.so")),
)


def _category(leaf_key):
    for name, pattern in _CATEGORIES:
        if pattern.search(leaf_key):
            return name
    return "Python interpreter and other"


def summarize(raw_path, top=25):
    """Markdown summary of a py-spy ``--format raw`` (collapsed stacks) file."""
    leaf = collections.Counter()
    inclusive = collections.Counter()
    lines = collections.Counter()
    categories = collections.Counter()
    sources = {}
    total = 0
    in_fit = 0
    with open(raw_path) as f:
        for row in f:
            row = row.rstrip("\n")
            if not row:
                continue
            stack, _, count = row.rpartition(" ")
            count = int(count)
            frames = stack.split(";")
            total += count
            if not any(".fit (" in fr or "fit (" in fr for fr in frames):
                continue
            in_fit += count
            func, path, _ = _parse(frames[-1])
            leaf[f"{func} ({_short(path)})" if path else func] += count
            categories[_category(frames[-1])] += count
            seen = set()
            for fr in frames:
                func, path, line = _parse(fr)
                if ("sk_dbn/" in path or "sklearn/" in path) and path.endswith(".py"):
                    key = f"{func} ({_short(path)})"
                    if key not in seen:
                        seen.add(key)
                        inclusive[key] += count
            # innermost project-level Python frame: which statement
            for fr in reversed(frames):
                func, path, line = _parse(fr)
                if ("sk_dbn/" in path or "sklearn/" in path) and path.endswith(".py"):
                    key = f"{_short(path)}:{line} {func}"
                    lines[key] += count
                    if key not in sources and line:
                        text = linecache.getline(path, int(line)).strip()
                        sources[key] = text[:70]
                    break

    def block(title, counter, with_source=False):
        out = [f"{title} (% of samples inside fit)", ""]
        if with_source:
            out += ["| % | line | source |", "|---:|---|---|"]
        else:
            out += ["| % | function |", "|---:|---|"]
        for key, c in counter.most_common(top):
            cells = f"| {100 * c / max(in_fit, 1):.1f} | `{key}` |"
            if with_source:
                cells += f" `{sources.get(key, '')}` |"
            out.append(cells)
        return "\n".join(out)

    head = (f"{in_fit} of {total} samples inside fit "
            f"({100 * in_fit / max(total, 1):.0f}%)")
    return "\n\n".join([
        head,
        block("Leaf time by kind", categories),
        block("Leaf (self) time, native frames included", leaf),
        block("Inclusive time of sk_dbn / sklearn Python functions", inclusive),
        block("Innermost sk_dbn / sklearn Python line", lines, with_source=True),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples/s")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--epochs", type=int, default=1,
                        help="with --no-profile: epochs to fit, each one timed")
    parser.add_argument("--no-flush", action="store_true",
                        help="with --no-profile: do not flush subnormals to zero")
    parser.add_argument("--raw", default=None, help="keep py-spy's raw output here")
    args = parser.parse_args(argv)
    if args.no_profile:
        run_epoch(args.target, args.dtype, args.batch, args.samples, args.threads,
                  args.epochs, flush=not args.no_flush)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        raw = args.raw or os.path.join(tmp, "profile.txt")
        cmd = [
            "py-spy", "record", "--native", "--rate", str(args.rate), "--format",
            "raw", "--output", raw, "--", sys.executable, "-m",
            "benchmarks.profile_epoch", args.target, "--no-profile", "--dtype",
            args.dtype, "--batch", str(args.batch), "--samples", str(args.samples),
        ]
        if args.threads is not None:
            cmd += ["--threads", str(args.threads)]
        pyspy = os.path.join(os.path.dirname(sys.executable), "py-spy")
        if os.path.exists(pyspy):
            cmd[0] = pyspy
        subprocess.run(cmd, check=True,
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        print(f"## profile: {args.target}, {args.dtype}, batch {args.batch}, "
              f"{args.samples} samples, threads {args.threads or 'default'}\n")
        print(summarize(raw, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
