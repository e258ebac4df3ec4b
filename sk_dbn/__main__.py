"""``python -m sk_dbn``: why weight initialisation matters, in one table.

Trains the same deep network on scikit-learn's bundled digits data with every
combination of initialisation (rows) and hidden activation (columns) and prints the
held-out test accuracy of each, row by row as the fits finish. ``--plots DIR``
also writes the figures that explain the table (activation histograms of the
initial networks, gradient norms during fine-tuning, RBM filters, the table as a
heat map). Run ``python -m sk_dbn --help`` for the options.
"""

import argparse
import os
import sys
import time
import warnings
from functools import partial

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sk_dbn import DBNClassifier, StackedRBMTransformer, __version__
from sk_dbn._activations import make_activation
from sk_dbn._pretrain import hidden_units_for
from sk_dbn.initializers import normal

ROWS = [
    ("zeros", "zeros"),
    ("normal std 1", partial(normal, std=1.0)),
    ("normal std 0.01", partial(normal, std=0.01)),
    ("xavier_uniform", "xavier_uniform"),
    ("he_normal", "he_normal"),
    ("lecun_normal", "lecun_normal"),
    ("orthogonal", "orthogonal"),
    ("lsuv", "lsuv"),
    ("rbm", "rbm"),
]
"""Table rows: (label, ``init`` of :class:`~sk_dbn.DBNClassifier`)."""

COLUMNS = ["logistic", "tanh", "relu", "leaky_relu"]
"""Table columns: hidden activations."""

SETTINGS = {
    # Four hidden layers: deep enough that a bad initialisation visibly hurts
    # (signals shrink, saturate or die on the way up), small enough that the 36
    # cells x 3 seeds train in about a minute on two cores. 40 epochs of Adam are
    # a fixed budget: enough for good initialisations to reach ~0.97-0.98, not
    # enough for bad ones to recover.
    "full": {
        "hidden_layer_sizes": (128, 128, 128, 128),
        "max_iter": 40,
        "pretrain_n_iter": 20,
        "seeds": (0, 1, 2),
    },
    "quick": {
        "hidden_layer_sizes": (64, 64, 64),
        "max_iter": 8,
        "pretrain_n_iter": 3,
        "seeds": (0,),
    },
}


READING_GUIDE = """\
How to read it: zeros never breaks the symmetry between the units of a layer
(chance level). normal std 1 starts sigmoid and tanh units saturated and blows
ReLU activations up; normal std 0.01 shrinks the signal at every layer, so the
gradients of the lower layers vanish. The fan-scaled schemes (Xavier, He, LeCun,
orthogonal) and LSUV start tanh and ReLU layers in their useful range; deep
sigmoid stacks learn slowly from them, and faster after LSUV or RBM pre-training.
--plots DIR draws the distributions behind these numbers."""


def load_data():
    """Digits scaled to [0, 1] (pixels are 0..16), split 75/25 (stratified)."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.25, stratify=y, random_state=0)


def make_classifier(init, activation, settings, seed):
    """The demo's network for one cell of the table."""
    if init == "rbm":  # init="rbm" with the demo's pre-training length
        init = StackedRBMTransformer(
            settings["hidden_layer_sizes"], n_iter=settings["pretrain_n_iter"],
            hidden_units=hidden_units_for(make_activation(activation)))
    return DBNClassifier(
        settings["hidden_layer_sizes"],
        init=init,
        activation=activation,
        max_iter=settings["max_iter"],
        n_iter_no_change=settings["max_iter"],  # a fixed budget: never stop early
        random_state=seed,
    )


def score_cell(init, activation, settings, data):
    """Test accuracy for each seed (``None`` where training diverged)."""
    X_train, X_test, y_train, y_test = data
    scores = []
    for seed in settings["seeds"]:
        clf = make_classifier(init, activation, settings, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow on divergence
            try:
                clf.fit(X_train, y_train)
            except ValueError as exc:
                # the estimators raise "Fine-tuning diverged ..." for a non-finite
                # loss and "Pre-training diverged ..." for a runaway RBM
                if "diverged" not in str(exc):
                    raise
                scores.append(None)
                continue
        scores.append(float(clf.score(X_test, y_test)))
    return scores


def format_cell(scores):
    """``mean ± std`` over the seeds that trained; a mark when some diverged."""
    ok = [s for s in scores if s is not None]
    if not ok:
        return "diverged"
    text = f"{np.mean(ok):.3f}"
    if len(scores) > 1:
        text += f" ± {np.std(ok):.3f}"
    if len(ok) < len(scores):
        text += " †"
    return text


def cell_mean(scores):
    ok = [s for s in scores if s is not None]
    return float(np.mean(ok)) if ok else np.nan


def run_table(settings, data, n_jobs, out=sys.stdout):
    """Fit every cell, printing each as it finishes; return the mean matrix."""
    width0, width = 17, 16
    print("init".ljust(width0) + "".join(c.rjust(width) for c in COLUMNS), file=out)
    print("-" * (width0 + width * len(COLUMNS)), file=out, flush=True)
    tasks = [
        delayed(score_cell)(init, activation, settings, data)
        for _, init in ROWS
        for activation in COLUMNS
    ]
    means = np.full((len(ROWS), len(COLUMNS)), np.nan)
    some_diverged = all_diverged = False
    results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    for k, scores in enumerate(results):
        i, j = divmod(k, len(COLUMNS))
        if j == 0:
            print(ROWS[i][0].ljust(width0), end="", file=out)
        print(format_cell(scores).rjust(width), end="", file=out, flush=True)
        if j == len(COLUMNS) - 1:
            print(file=out, flush=True)
        means[i, j] = cell_mean(scores)
        n_diverged = scores.count(None)
        all_diverged |= n_diverged == len(scores)
        some_diverged |= 0 < n_diverged < len(scores)
    if all_diverged:
        print("diverged: training stopped with an error on every seed (a "
              "non-finite loss, or RBM pre-training diverging)", file=out)
    if some_diverged:
        print("† some seeds diverged; mean ± std over the others", file=out)
    return means


# ----------------------------------------------------------------------- figures
def write_plots(directory, settings, data, means, out=sys.stdout):
    """Write the explanatory figures as PNG files into ``directory``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sk_dbn.diagnostics import (
        activation_statistics,
        plot_activation_histograms,
        plot_gradient_norms,
        plot_rbm_filters,
    )

    os.makedirs(directory, exist_ok=True)
    X_train, _, y_train, _ = data
    seed = settings["seeds"][0]
    written = []

    def save(fig, name):
        path = os.path.join(directory, name)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
        print(f"  wrote {path}", file=out, flush=True)

    # 1. initial activation distributions, before any training
    n_layers = len(settings["hidden_layer_sizes"])
    for name, activation, inits in [
        ("activations_logistic.png", "logistic",
         ["normal std 1", "normal std 0.01", "xavier_uniform", "lsuv"]),
        ("activations_tanh.png", "tanh",
         ["normal std 1", "normal std 0.01", "xavier_uniform"]),
        ("activations_relu.png", "relu",
         ["normal std 0.01", "xavier_uniform", "he_normal"]),
    ]:
        networks = [
            make_classifier(dict(ROWS)[label], activation, settings, seed)
            .initialize(X_train, y_train)
            for label in inits
        ]
        value_range = None
        if activation == "relu":  # one x axis for all rows, so widths compare
            high = max(s["mean"] + 3 * s["std"] for clf in networks
                       for s in activation_statistics(clf, X_train))
            value_range = (0.0, high)
        fig, axes = plt.subplots(
            len(inits), n_layers, figsize=(2.7 * n_layers + 0.8, 2.4 * len(inits)),
            sharey="row", squeeze=False, layout="constrained",
        )
        for row, label, clf in zip(axes, inits, networks):
            plot_activation_histograms(clf, X_train, axes=row, label=label,
                                       value_range=value_range)
        fig.suptitle(f"{activation} hidden layers as initialised, on the training "
                     "data (fraction of outputs per bin)")
        save(fig, name)

    # 2. gradient norms during fine-tuning of logistic networks
    labels = ["normal std 0.01", "xavier_uniform", "rbm"]
    fig, axes = plt.subplots(1, len(labels), figsize=(5 * len(labels), 3.8),
                             sharey=True, layout="constrained")
    rbm = None
    for ax, label in zip(axes, labels):
        clf = make_classifier(dict(ROWS)[label], "logistic", settings, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X_train, y_train)
        plot_gradient_norms(clf, ax=ax)
        ax.set_title(f"logistic, init={label}")
        if label == "rbm":
            rbm = clf
    save(fig, "gradient_norms_logistic.png")

    # 3. first-layer RBM filters, as pre-trained
    fig = plot_rbm_filters(rbm.pretrainer_, n_filters=64)
    fig.suptitle("first-layer RBM filters (8x8 digits)")
    save(fig, "rbm_filters.png")

    # 4. the table as a heat map
    save(plot_table(means, plt, len(settings["seeds"])), "init_activation_table.png")
    return written


def plot_table(means, plt, n_seeds):
    """Heat map of the table of mean test accuracies."""
    fig, ax = plt.subplots(figsize=(6.5, 5.5), layout="constrained")
    im = ax.imshow(means, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(COLUMNS)), COLUMNS)
    ax.set_yticks(range(len(ROWS)), [label for label, _ in ROWS])
    for (i, j), value in np.ndenumerate(means):
        if np.isnan(value):
            ax.text(j, i, "diverged", ha="center", va="center", color="black")
        else:
            ax.text(j, i, f"{value:.2f}", ha="center", va="center",
                    color="black" if value > 0.6 else "white")
    ax.set_xlabel("hidden activation")
    seeds = f"mean over {n_seeds} seeds" if n_seeds > 1 else "one seed"
    ax.set_title(f"digits: held-out test accuracy ({seeds})")
    fig.colorbar(im, ax=ax, label="test accuracy")
    return fig


# -------------------------------------------------------------------------- main
def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m sk_dbn",
        description=(
            "Why weight initialisation matters: train the same deep network on "
            "the digits data set with every initialisation x hidden activation "
            "and print the held-out test accuracy of each."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="a smaller network, fewer epochs and one seed: seconds, not a minute",
    )
    parser.add_argument(
        "--plots", metavar="DIR",
        help="also write the PNG figures into DIR (needs matplotlib: "
        'pip install "sk_dbn[plot]")',
    )
    parser.add_argument(
        "--n-jobs", type=int, default=2, metavar="N",
        help="parallel worker processes (default: 2; -1 for all cores)",
    )
    return parser.parse_args(argv)


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
            print('--plots needs matplotlib: pip install "sk_dbn[plot]"',
                  file=sys.stderr)
            return 2
    settings = SETTINGS["quick" if args.quick else "full"]
    start = time.perf_counter()
    data = load_data()
    X_train, X_test, _, _ = data
    sizes = " -> ".join(
        str(s) for s in (X_train.shape[1], *settings["hidden_layer_sizes"], 10)
    )
    seeds = settings["seeds"]
    print(f"sk_dbn {__version__}: weight initialisation x hidden activation")
    print(f"data:    digits, 8x8 images, pixels / 16; {X_train.shape[0]} train / "
          f"{X_test.shape[0]} test rows (stratified 75/25 split, fixed)")
    print(f"network: {sizes}, Adam, {settings['max_iter']} epochs of fine-tuning; "
          f"init='rbm' first pre-trains {settings['pretrain_n_iter']} CD-1 epochs "
          "per layer")
    print(f"cells:   held-out test accuracy, mean ± std over seeds "
          f"{', '.join(map(str, seeds))}" if len(seeds) > 1 else
          f"cells:   held-out test accuracy, seed {seeds[0]}")
    print(flush=True)
    means = run_table(settings, data, args.n_jobs)
    print()
    print(READING_GUIDE)
    if args.quick:
        print("(--quick trains a smaller network briefly, with one seed: the full "
              "run is the one to read.)")
    if args.plots:
        print(f"\nwriting figures to {args.plots}", flush=True)
        write_plots(args.plots, settings, data, means)
    print(f"\ndone in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
