"""
=====================================================
The lecture's storyline under Adam and under SGD
=====================================================

The classic lessons about initial weights — all-zero weights never break the
symmetry, N(0, 1) saturates sigmoid units, N(0, 0.01²) makes their outputs
collapse, Xavier and He scale the variance to the layer, RBM pre-training learns
the weights from the data — were found with plain SGD. Adam, today's default,
divides each weight's step by the size of that weight's own recent gradients, so a
gradient that vanished on its way down still moves its weights: several of these
lessons fade.

Here the same sigmoid network starts from each of the six, and trains once with
Adam and once with SGD with momentum, for the same number of epochs. The loss
curves show which starts leave the input-blind loss (the dotted line: predicting
the class frequencies whatever the input) under which optimiser. ``python -m
sk_dbn`` runs the full version (a deeper network, three seeds, activation
statistics at initialisation) and writes what it finds.
"""

# %%
import warnings
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sk_dbn import DBNClassifier, StackedRBMTransformer
from sk_dbn.initializers import normal

warnings.simplefilter("ignore", ConvergenceWarning)  # fixed budgets below

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0)
hidden = (32, 32, 32)
starts = {
    "zeros": "zeros",
    "N(0, 1)": partial(normal, std=1.0),
    "N(0, 0.01²)": partial(normal, std=0.01),
    "xavier_normal": "xavier_normal",
    "he_normal": "he_normal",
    "rbm": StackedRBMTransformer(hidden, n_iter=10, random_state=0),
}
optimisers = {
    "Adam": dict(solver="adam", learning_rate_init=1e-3),
    "SGD with momentum": dict(solver="sgd", learning_rate_init=0.01, momentum=0.9,
                              nesterovs_momentum=False),
}

# %%
# Train every start with both optimisers
# --------------------------------------
# ``n_iter_no_change=max_iter``: the stopping rule never fires, so every network
# gets exactly 25 epochs.
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True, layout="constrained")
for ax, (name, params) in zip(axes, optimisers.items()):
    for label, init in starts.items():
        clf = DBNClassifier(hidden, init=init, max_iter=25, n_iter_no_change=25,
                            batch_size=128, random_state=0, **params)
        clf.fit(X_train, y_train)
        print(f"{name:18s} {label:14s} test accuracy {clf.score(X_test, y_test):.3f}")
        ax.plot(np.arange(1, clf.n_iter_ + 1), clf.loss_curve_, label=label)
    ax.axhline(np.log(10), color="grey", ls=":")
    ax.set_title(f"sigmoid network 64-32-32-32-10, {name}")
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
axes[0].set_ylabel("training loss")
axes[0].legend()
plt.show()
