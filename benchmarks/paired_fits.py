"""Seconds per epoch of one fit from two checkouts, alternating, in fresh processes.

``python -m benchmarks.paired_fits DIR_A DIR_B [--rounds 5] [--threads N]
[--config NAME ...]``

For comparing two commits on a noisy machine (e.g. two ``git worktree`` checkouts
sharing one virtual environment): each round fits every configuration once with
``DIR_A``'s sk_dbn and once with ``DIR_B``'s, each in a new interpreter with that
checkout first on ``sys.path``, and prints the ratio B / A per round and its
median. Configurations (60000 MNIST-sized rows, 2 epochs):

- ``finetune`` / ``finetune-64``: DBNClassifier 784-500-500-10, logistic, Adam,
  float32 / float64, batch 100;
- ``rbm``: StackedRBMTransformer 784-500, CD-1 without momentum or weight decay,
  float64, batch 100;
- ``rbm-defaults-64`` / ``rbm-defaults-32``: StackedRBMTransformer 784-500 at its
  defaults, float64 / float32.

The children run OpenBLAS at its defaults (``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` removed from their environment) with ``--threads`` BLAS
threads (default: OpenBLAS's own choice); the header names the CPU.
"""

import argparse
import os
import statistics
import subprocess
import sys

from ._common import _OPENBLAS_OVERRIDES, cpu_model

CONFIGS = {
    "finetune": ("finetune", "float32", 100),
    "finetune-64": ("finetune", "float64", 100),
    "rbm": ("rbm", "float64", 100),
    "rbm-defaults-64": ("rbm-defaults", "float64", 32),
    "rbm-defaults-32": ("rbm-defaults", "float32", 32),
}

CHILD = """
import sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from benchmarks._common import mnist_like
kind, dtype, batch = sys.argv[1], np.dtype(sys.argv[2]).type, int(sys.argv[3])
X, y = mnist_like(60000, dtype)
if kind == "finetune":
    from sk_dbn import DBNClassifier
    est = DBNClassifier((500, 500), init="xavier_uniform", batch_size=batch,
                        max_iter=2, tol=0.0, n_iter_no_change=10**6, random_state=0)
    args = (X, y)
else:
    from sk_dbn import StackedRBMTransformer
    params = dict(momentum=0.0, weight_decay=0.0) if kind == "rbm" else {}
    est = StackedRBMTransformer((500,), batch_size=batch, n_iter=2, random_state=0,
                                **params)
    args = (X,)
start = time.perf_counter()
est.fit(*args)
print((time.perf_counter() - start) / 2)
"""


def fit_seconds(checkout, config, threads=None):
    env = {key: value for key, value in os.environ.items()
           if key not in _OPENBLAS_OVERRIDES}
    env["PYTHONPATH"] = os.path.abspath(checkout)
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(threads)
    out = subprocess.run([sys.executable, "-c", CHILD, *map(str, CONFIGS[config])],
                         cwd=checkout, env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir_a")
    parser.add_argument("dir_b")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--config", nargs="*", default=list(CONFIGS),
                        choices=list(CONFIGS))
    args = parser.parse_args(argv)
    threads = "OpenBLAS default" if args.threads is None else args.threads
    print(f"CPU: {cpu_model()}; BLAS threads: {threads}; A = {args.dir_a}, "
          f"B = {args.dir_b}\n", flush=True)
    for config in args.config:
        ratios = []
        for r in range(args.rounds):
            a = fit_seconds(args.dir_a, config, args.threads)
            b = fit_seconds(args.dir_b, config, args.threads)
            ratios.append(b / a)
            print(f"{config} round {r + 1}: A {a:.3f} s, B {b:.3f} s, B/A "
                  f"{b / a:.3f}", flush=True)
        print(f"{config}: B/A median {statistics.median(ratios):.2f} (range "
              f"{min(ratios):.2f}-{max(ratios):.2f})\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
