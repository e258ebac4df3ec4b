"""
=================================================
RBM pre-training when only a few labels are known
=================================================

Greedy RBM pre-training is *unsupervised*: it learns features from the images
alone. That is what it was invented for — when images are plentiful and labels
are scarce, features learned from all images give the labelled few a better start
than random weights do.

Here the stack of RBMs is pre-trained once on all training images, and copies of
the pre-trained network are fine-tuned on 1%, 2%, 5%, ... 100% of the labels. The
baseline is the same network from random (Xavier) weights, fine-tuned on the same
labelled rows. The test set is the same for every point.

On digits the gain is largest where labels are scarcest and this deep stack of
sigmoid units is hardest to train from random weights; with all labels the two
meet. (One draw of labelled rows per point: expect some noise.)
"""

# %%
# The data
# --------
import copy
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sk_dbn import DBNClassifier

warnings.simplefilter("ignore", ConvergenceWarning)  # short, fixed budgets below

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.3, stratify=y, random_state=0
)
fractions = [0.01, 0.02, 0.05, 0.1, 0.3, 1.0]
hidden = (128, 128, 128)  # sigmoid units (the default activation)
# a fixed budget of 100 epochs for every run: the stopping rule (no improvement
# of the training loss for n_iter_no_change epochs) can never trigger
params = dict(max_iter=100, n_iter_no_change=100)

# %%
# Pre-train once, on every training image
# ---------------------------------------
# :meth:`~sk_dbn.DBNClassifier.initialize` sets the network up exactly as ``init``
# makes it, without fine-tuning. The labels passed to it only tell the network
# which classes exist (``classes_``): RBM pre-training never looks at them, so a
# placeholder label per image is enough.
placeholder = np.resize(np.unique(y), X_train.shape[0])
pretrained = DBNClassifier(hidden, init="rbm", random_state=0, **params)
pretrained.initialize(X_train, placeholder)

# %%
# Fine-tune on a fraction of the labels
# -------------------------------------
# ``warm_start=True`` makes ``fit`` continue from the current weights instead of
# initialising again; a deep copy per fraction keeps the pre-trained network
# itself untouched.
scores = {"RBM pre-training on all images": [], "random (Xavier) weights": []}
for fraction in fractions:
    if fraction < 1:
        X_lab, _, y_lab, _ = train_test_split(
            X_train, y_train, train_size=fraction, stratify=y_train, random_state=0
        )
    else:
        X_lab, y_lab = X_train, y_train
    tuned = copy.deepcopy(pretrained).set_params(warm_start=True).fit(X_lab, y_lab)
    scores["RBM pre-training on all images"].append(tuned.score(X_test, y_test))
    scratch = DBNClassifier(hidden, init="xavier_uniform", random_state=0, **params)
    scores["random (Xavier) weights"].append(
        scratch.fit(X_lab, y_lab).score(X_test, y_test)
    )
    print(f"{len(y_lab):5d} labels: "
          + ", ".join(f"{name} {s[-1]:.3f}" for name, s in scores.items()))

# %%
# The learning curves
# -------------------
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
n_labels = [max(round(f * X_train.shape[0]), 10) for f in fractions]
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
