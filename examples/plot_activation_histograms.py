"""
=============================================
Activation histograms for each initialisation
=============================================

The classic picture of why weight initialisation matters. The same deep network
(five hidden layers of 100 units) is set up by
:meth:`~sk_dbn.DBNClassifier.initialize` — the weights exactly as ``init`` makes
them, with no training at all — and the outputs of each hidden layer on the digits
images are drawn as histograms with
:func:`~sk_dbn.diagnostics.plot_activation_histograms`.

* Sigmoid units with weights from N(0, 1) **saturate**: the outputs pile up at 0
  and 1, where the derivative of the sigmoid is almost zero, so little gradient
  flows back.
* With N(0, 0.01²) they **collapse** onto 0.5: every unit outputs nearly the same
  value for every image, and the differences between images vanish layer by layer.
* With Xavier (Glorot) weights, whose variance is scaled by the layer's fan-in and
  fan-out, the outputs **spread** over the useful range in every layer.
* In ReLU networks, Xavier weights halve the variance at every layer (a ReLU zeroes
  half of its inputs), so the signal **shrinks** with depth; He weights double the
  variance to compensate, and every layer keeps its width.
"""

# %%
# The data and a helper
# ---------------------
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from sk_dbn import DBNClassifier
from sk_dbn.diagnostics import activation_statistics, plot_activation_histograms

X, y = load_digits(return_X_y=True)
X = X / 16  # pixels in [0, 1]
hidden = (100,) * 5


def histogram_grid(activation, inits, value_range=None):
    """One row of histograms (one panel per hidden layer) per initialisation."""
    fig, axes = plt.subplots(
        len(inits), len(hidden), figsize=(13, 2.4 * len(inits)), sharey="row",
        layout="constrained",
    )
    for row, (label, init) in zip(axes, inits.items()):
        clf = DBNClassifier(hidden, init=init, activation=activation, random_state=0)
        clf.initialize(X, y)  # set up the weights; no fine-tuning
        plot_activation_histograms(clf, X, axes=row, label=label,
                                   value_range=value_range)
    fig.suptitle(f"{activation} hidden layers, as initialised")
    return fig


# %%
# Sigmoid units: saturation, collapse, spread
# -------------------------------------------
# ``init`` takes a registry name or any callable with the initializer contract,
# so N(0, 1) is ``functools.partial(normal, std=1.0)``.
from functools import partial

from sk_dbn.initializers import normal

sigmoid_inits = {
    "N(0, 1)": partial(normal, std=1.0),
    "N(0, 0.01²)": partial(normal, std=0.01),
    "Xavier": "xavier_uniform",
}
histogram_grid("logistic", sigmoid_inits)
plt.show()

# %%
# The same in numbers, with :func:`~sk_dbn.diagnostics.activation_statistics`:
for label, init in sigmoid_inits.items():
    clf = DBNClassifier(hidden, init=init, random_state=0).initialize(X, y)
    stats = activation_statistics(clf, X)
    print(f"{label:>12}: std per layer", [round(s["std"], 3) for s in stats],
          " saturated", [f"{s['saturated']:.0%}" for s in stats])

# %%
# ReLU units: Xavier shrinks, He keeps the scale
# ----------------------------------------------
# The x axis is the same for both rows, so the widths can be compared. About half
# of the outputs of every ReLU layer are exactly zero (that spike is left out of the
# bars and written below each panel as "dead").
histogram_grid("relu", {"Xavier": "xavier_uniform", "He": "he_normal"},
               value_range=(0, 2))
plt.show()

for label, init in {"Xavier": "xavier_uniform", "He": "he_normal"}.items():
    clf = DBNClassifier(hidden, init=init, activation="relu", random_state=0)
    stats = activation_statistics(clf.initialize(X, y), X)
    print(f"{label:>6}: std per layer", [round(s["std"], 3) for s in stats])
