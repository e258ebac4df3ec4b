"""
=========================================================
Mishkin & Matas' table: initialisation x activation, SGD
=========================================================

Mishkin & Matas (2015, "All you need is a good init") trained the thin, deep
FitNet4 on CIFAR-10 from five initialisations — LSUV, orthogonal ("OrthoNorm"),
orthogonal scaled by sqrt(2) ("OrthoNorm-MSRA"), Xavier and He ("MSRA") — with
five activations — maxout, ReLU, VLReLU (leaky ReLU with slope 1/3), tanh and
sigmoid — using SGD with momentum, and marked "n/c" where training did not
converge.

This is the same grid on the digits, with a network of ten hidden layers of 16
units and a short budget of SGD with momentum. A cell is n/c when the final
training loss is not clearly below that of predicting the class frequencies.
``python -m sk_dbn`` runs a deeper, longer version with three seeds and prints it
beside the paper's numbers.
"""

# %%
import warnings
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from sk_dbn import DBNClassifier
from sk_dbn.initializers import orthogonal

warnings.simplefilter("ignore", ConvergenceWarning)  # fixed budgets below

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0)
inits = {
    "LSUV": "lsuv",
    "OrthoNorm": "orthogonal",
    "OrthoNorm-MSRA": partial(orthogonal, gain=np.sqrt(2)),
    "Xavier": "xavier_uniform",
    "MSRA (He)": "he_normal",
}
activations = {
    "maxout": dict(activation="maxout", maxout_pieces=2),
    "ReLU": dict(activation="relu"),
    "VLReLU": dict(activation="leaky_relu", negative_slope=1 / 3),
    "tanh": dict(activation="tanh"),
    "sigmoid": dict(activation="logistic"),
}
# the loss of predicting the class frequencies, whatever the input
blind = log_loss(y_train, np.tile(np.bincount(y_train) / len(y_train),
                                  (len(y_train), 1)))

# %%
# Train every cell
# ----------------
accuracy = np.full((len(inits), len(activations)), np.nan)
for i, init in enumerate(inits.values()):
    for j, params in enumerate(activations.values()):
        clf = DBNClassifier((16,) * 10, init=init, solver="sgd",
                            learning_rate_init=0.01, momentum=0.9,
                            nesterovs_momentum=False, batch_size=128, max_iter=12,
                            n_iter_no_change=12, random_state=0, **params)
        try:
            clf.fit(X_train, y_train)
        except ValueError:  # the loss became non-finite: diverged, n/c
            continue
        if log_loss(y_train, clf.predict_proba(X_train)) < 0.9 * blind:
            accuracy[i, j] = clf.score(X_test, y_test)

# %%
# The table
# ---------
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
image = ax.imshow(np.ma.masked_invalid(accuracy), cmap=cmap, vmin=0, vmax=1,
                  aspect="auto")
ax.set_xticks(range(len(activations)), list(activations))
ax.set_yticks(range(len(inits)), list(inits))
for (i, j), value in np.ndenumerate(accuracy):
    ax.text(j, i, "n/c" if np.isnan(value) else f"{value:.2f}", ha="center",
            va="center", color="white" if value <= 0.6 else "black")
ax.set_title("digits, 10 x 16 hidden units, 12 epochs of SGD: test accuracy")
fig.colorbar(image, ax=ax)
plt.show()
