"""
===============================================================
Few labels: RBM pre-training against random starts, two solvers
===============================================================

RBM pre-training learns from the images alone, so with ``unlabeled=-1`` a
:class:`~sk_dbn.DBNClassifier` pre-trains on every row, and with
``unlabeled_loss=None`` fine-tunes on the few that have a label. Does that beat
a good random start? It depends on the optimiser as much as on the labels: a
deep sigmoid network from random weights is hard for plain SGD to get going,
and much less so for Adam.

The stack is pre-trained once and frozen (``FrozenEstimator``), so every
classifier below starts from the same pre-trained weights; the random starts see
the same rows (LSUV uses the unlabelled ones for its variance probe).
``python -m sk_dbn`` runs the full version (three seeds, three label counts).
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from sk_dbn import DBNClassifier, StackedRBMTransformer

warnings.simplefilter("ignore", ConvergenceWarning)  # fixed budgets below

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0)
hidden = (64, 64)
labelled, _ = train_test_split(np.arange(len(y_train)), train_size=50,
                               stratify=y_train, random_state=0)
y_partial = np.full_like(y_train, -1)  # -1: no label
y_partial[labelled] = y_train[labelled]

stack = StackedRBMTransformer(hidden, n_iter=15, random_state=0).fit(X_train)
starts = {"rbm (pre-trained)": FrozenEstimator(stack),
          "xavier_normal": "xavier_normal", "lsuv": "lsuv"}
optimisers = {
    "Adam": dict(solver="adam", learning_rate_init=1e-3),
    "SGD with momentum": dict(solver="sgd", learning_rate_init=0.01, momentum=0.9,
                              nesterovs_momentum=False),
}

# %%
# Fine-tune on 50 labels
# ----------------------
scores = {}
for name, params in optimisers.items():
    for label, init in starts.items():
        clf = DBNClassifier(hidden, init=init, unlabeled=-1, unlabeled_loss=None,
                            max_iter=150,
                            n_iter_no_change=150,
                            batch_size=min(128, labelled.size), random_state=0,
                            **params)
        scores[name, label] = clf.fit(X_train, y_partial).score(X_test, y_test)
        print(f"{name:18s} {label:18s} test accuracy {scores[name, label]:.3f}")

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
width = 0.25
for k, label in enumerate(starts):
    ax.bar(np.arange(len(optimisers)) + (k - 1) * width,
           [scores[name, label] for name in optimisers], width, label=label)
ax.set_xticks(range(len(optimisers)), list(optimisers))
ax.set_ylabel("test accuracy")
ax.set_title("digits, 50 labelled rows of 1347, sigmoid network 64-64-64-10")
ax.legend()
plt.show()
