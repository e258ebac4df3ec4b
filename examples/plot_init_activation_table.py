"""
========================================================
Initialisation x activation: test accuracy as a heat map
========================================================

Every initialisation scheme against every hidden activation: the same network
(three hidden layers of 64 units), the same data split and the same training
budget (15 epochs of Adam), so the only difference between two cells is how the
weights started. ``python -m sk_dbn`` prints the full version of this table
(a deeper network, more epochs, three seeds); this is the quick one.

What to look for:

* ``zeros`` is at chance level (0.1) everywhere: all units of a layer start equal,
  receive equal gradients and stay equal, so the layer acts like a single unit.
* ``N(0, 1)`` is far too large for this fan-in: tanh and sigmoid units start
  saturated and ReLU activations grow layer by layer.
* ``N(0, 0.01²)`` is far too small: the signal shrinks at every layer and
  gradients vanish; in this budget the sigmoid network stays at chance level,
  and tanh and ReLU networks end some 30 points below the fan-scaled starts.
* The fan-scaled schemes (Xavier, He, LeCun, orthogonal) and LSUV all start in
  a good range for tanh and ReLU; a deep stack of sigmoids trains more slowly
  from any of them.
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

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0
)

inits = {
    "zeros": "zeros",
    "N(0, 1)": partial(normal, std=1.0),
    "N(0, 0.01²)": partial(normal, std=0.01),
    "xavier_uniform": "xavier_uniform",
    "he_normal": "he_normal",
    "lecun_normal": "lecun_normal",
    "orthogonal": "orthogonal",
    "lsuv": "lsuv",
    "rbm": "rbm",
}
activations = ["logistic", "tanh", "relu", "leaky_relu"]

# %%
# Train one network per cell
# --------------------------
# A fixed budget: with ``n_iter_no_change=max_iter`` the stopping rule can never
# trigger, so every cell trains for exactly ``max_iter`` epochs (and warns that it
# did not converge, which is the point: the warning is silenced here).
accuracy = np.full((len(inits), len(activations)), np.nan)
for i, init in enumerate(inits.values()):
    for j, activation in enumerate(activations):
        start = init
        if init == "rbm":  # a short pre-training, with units that suit activation
            start = StackedRBMTransformer(
                (64, 64, 64), n_iter=5,
                hidden_units="bernoulli" if activation in ("logistic", "tanh")
                else "relu")
        clf = DBNClassifier(
            (64, 64, 64), init=start, activation=activation, max_iter=15,
            n_iter_no_change=15, random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                clf.fit(X_train, y_train)
            except ValueError as exc:  # training diverged: leave the cell empty
                print(f"{list(inits)[i]} x {activation}: {exc}")
                continue
        accuracy[i, j] = clf.score(X_test, y_test)

# %%
# The heat map
# ------------
fig, ax = plt.subplots(figsize=(6.5, 5.5), layout="constrained")
image = ax.imshow(accuracy, cmap="viridis", vmin=0, vmax=1, aspect="auto")
ax.set_xticks(range(len(activations)), activations)
ax.set_yticks(range(len(inits)), list(inits))
for (i, j), value in np.ndenumerate(accuracy):
    ax.text(j, i, "—" if np.isnan(value) else f"{value:.2f}", ha="center",
            va="center", color="black" if value > 0.6 else "white")
ax.set_xlabel("hidden activation")
ax.set_title("digits, held-out test accuracy (one seed)")
fig.colorbar(image, ax=ax, label="test accuracy")
plt.show()
