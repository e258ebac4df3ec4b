"""
=================================================
RBM pre-training when only a few labels are known
=================================================

Greedy RBM pre-training is *unsupervised*: it learns features from the images
alone. That is what it was invented for — when images are plentiful and labels
are scarce, features learned from all images give the labelled few a better start
than random weights do.

Here a stack of RBMs is pre-trained once on all training images and frozen; the
same pre-trained network is then fine-tuned on 1%, 2%, 5%, ... 100% of the labels.
The baseline is the same network from random (Xavier) weights, fine-tuned on the
same labelled rows. The test set is the same for every point.

On digits the pre-trained network is far ahead while labels are scarce (up to
10 % of them here), where this deep stack of sigmoid units is hardest to train
from random weights from so few examples; as labels become plentiful the gap
narrows to a few points. (One draw of labelled rows per point: expect some
noise.)
"""

# %%
# The data
# --------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from sk_dbn import DBNClassifier, StackedRBMTransformer

warnings.simplefilter("ignore", ConvergenceWarning)  # short, fixed budgets below

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.3, stratify=y, random_state=0
)
fractions = [0.01, 0.02, 0.05, 0.1, 0.3, 1.0]
hidden = (128, 128, 128)  # sigmoid units (the default activation)
# a fixed budget of 100 epochs for every run: the stopping rule (no improvement
# of the training loss for n_iter_no_change epochs) can never trigger
params = dict(max_iter=100, n_iter_no_change=100, random_state=0)

# %%
# Pre-train once, on every training image
# ---------------------------------------
# RBM pre-training never looks at labels. ``FrozenEstimator`` marks the fitted
# stack as finished: every classifier below copies its weights and never refits
# or changes it.
stack = StackedRBMTransformer(hidden, random_state=0).fit(X_train)
pretrained = FrozenEstimator(stack)

# %%
# Fine-tune on a fraction of the labels
# -------------------------------------
scores = {"RBM pre-training on all images": [], "random (Xavier) weights": []}
labelled = {}
for fraction in fractions:
    if fraction < 1:
        rows, _ = train_test_split(np.arange(len(y_train)), train_size=fraction,
                                   stratify=y_train, random_state=0)
    else:
        rows = np.arange(len(y_train))
    labelled[fraction] = rows
    for name, init in [("RBM pre-training on all images", pretrained),
                       ("random (Xavier) weights", "xavier_uniform")]:
        clf = DBNClassifier(hidden, init=init, **params)
        scores[name].append(clf.fit(X_train[rows], y_train[rows]).score(X_test,
                                                                        y_test))
    print(f"{len(rows):5d} labels: "
          + ", ".join(f"{name} {s[-1]:.3f}" for name, s in scores.items()))

# %%
# The same in one call: unlabelled rows marked ``-1``
# ---------------------------------------------------
# With ``unlabeled=-1`` the classifier pre-trains on every row it is given; with
# ``unlabeled_loss=None`` it then fine-tunes on the labelled ones alone, so, given
# the same seeds, it builds exactly the network above (by default the unlabelled
# rows enter fine-tuning too: see
# :ref:`sphx_glr_auto_examples_plot_unlabelled_rows_in_finetuning.py`). Either
# way it is one estimator, which can be cross-validated and grid-searched.
rows = labelled[0.05]
y_partial = np.full_like(y_train, -1)
y_partial[rows] = y_train[rows]
semi = DBNClassifier(hidden, init=StackedRBMTransformer(hidden, random_state=0),
                     unlabeled=-1, unlabeled_loss=None, **params).fit(X_train,
                                                                      y_partial)
print(f"unlabeled=-1, {len(rows)} labels: {semi.score(X_test, y_test):.3f} "
      f"(frozen stack: {scores['RBM pre-training on all images'][2]:.3f})")

# %%
# The learning curves
# -------------------
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
n_labels = [len(labelled[f]) for f in fractions]  # as printed above
for (name, s), marker in zip(scores.items(), "os"):
    ax.plot(n_labels, s, marker=marker, label=name)
ax.set_xscale("log")
ax.set_xticks(n_labels, [f"{f:.0%}" for f in fractions])
ax.minorticks_off()
ax.set_xlabel("labelled fraction of the training images")
ax.set_ylabel("test accuracy")
ax.set_title(f"digits, network 64 → {' → '.join(map(str, hidden))} → 10")
ax.grid(alpha=0.3)
ax.legend()
plt.show()
