"""
==================================================
He et al.'s depth experiment: 30 ReLU layers
==================================================

He, Zhang, Ren & Sun (2015) showed that a 30-layer ReLU network trained with SGD
from Xavier's weights stalls, while the same network from their weights (twice
Xavier's variance, for the half of its input a ReLU zeroes) trains; at 22 layers
both trained. The reason is a product: Xavier's variance makes every ReLU layer
halve the second moment of the signal, and thirty halvings leave almost nothing
to learn from.

Here the same on digits: ReLU networks of 30 and of 10 hidden layers of 32 units,
SGD with momentum, from Gaussian Xavier weights and from He weights. ``python -m
sk_dbn`` runs the full version (64 units, more epochs, three seeds, orthogonal and
LSUV starts too).
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sk_dbn import DBNClassifier

warnings.simplefilter("ignore", ConvergenceWarning)  # fixed budgets below

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0)

fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True, layout="constrained")
for ax, depth in zip(axes, (30, 10)):
    for init in ("xavier_normal", "he_normal"):
        clf = DBNClassifier((32,) * depth, init=init, activation="relu",
                            solver="sgd", learning_rate_init=0.005, momentum=0.9,
                            nesterovs_momentum=False, batch_size=128, max_iter=20,
                            n_iter_no_change=20, random_state=0)
        clf.fit(X_train, y_train)
        print(f"{depth} layers, {init:13s} test accuracy "
              f"{clf.score(X_test, y_test):.3f}")
        ax.plot(np.arange(1, clf.n_iter_ + 1), clf.loss_curve_, label=init)
    ax.axhline(np.log(10), color="grey", ls=":", label="input-blind loss")
    ax.set_title(f"{depth} hidden ReLU layers, SGD with momentum")
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
axes[0].set_ylabel("training loss")
axes[0].legend()
plt.show()
