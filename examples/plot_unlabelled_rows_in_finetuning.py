"""
=====================================================
Few labels: let the unlabelled rows teach fine-tuning
=====================================================

With ``unlabeled=-1``, :class:`~sk_dbn.DBNClassifier` pre-trains on every row and
fine-tunes on the labelled ones: the unlabelled rows shape the features, but
not the decision. With ``unlabeled_loss`` they enter fine-tuning too, each
mini-batch of labelled rows joined by unlabelled rows whose cross-entropy
against *pseudo-labels* is added to the loss with a weight that ramps up from 0:

- ``"pseudo_label"`` (Lee 2013): the pseudo-label is the network's own
  current prediction;
- ``"label_spreading"``: the class that label spreading carries from the
  labelled rows over the nearest-neighbour graph of the network's top hidden
  layer (Iscen et al. 2019), weighted by its certainty.

Here 40 of the 1347 training digits keep their label. Every network starts from
the same pre-trained stack (``FrozenEstimator``), and :meth:`partial_fit` runs
one epoch per call, so the test accuracy can be read after each epoch; the
ramp (epochs are counted over the calls) resumes from call to call.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import LabelSpreading

from sk_dbn import DBNClassifier, StackedRBMTransformer

warnings.simplefilter("ignore", ConvergenceWarning)  # LabelSpreading's graph

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0)
labelled, _ = train_test_split(np.arange(len(y_train)), train_size=40,
                               stratify=y_train, random_state=0)
y_partial = np.full_like(y_train, -1)  # -1: no label
y_partial[labelled] = y_train[labelled]

stack = FrozenEstimator(StackedRBMTransformer((256,), random_state=0).fit(X_train))

# %%
# One epoch per call
# ------------------
# The default ramp is ``unlabeled_ramp=(10, 60)``: the unlabelled rows' weight is
# 0 for 10 epochs, while the network learns the labelled rows, then rises to
# ``unlabeled_weight`` (1.0) at epoch 60. ``(0, 0)`` gives them their full
# weight from the first mini-batch on. With ``unlabeled_loss`` an epoch is a pass
# over the unlabelled rows too: 5 mini-batches here, where the network without
# it takes one (40 labelled rows) per epoch, so that curve runs 5 times longer
# to show where it settles.
n_epochs = 80
runs = {
    "pre-training only (unlabeled_loss=None)": dict(unlabeled_loss=None),
    "pseudo_label, ramp (10, 60)": dict(unlabeled_loss="pseudo_label"),
    "pseudo_label, no ramp": dict(unlabeled_loss="pseudo_label",
                                  unlabeled_ramp=(0, 0)),
    "label_spreading, ramp (10, 60)": dict(unlabeled_loss="label_spreading"),
    "label_spreading, no ramp": dict(unlabeled_loss="label_spreading",
                                     unlabeled_ramp=(0, 0)),
}
curves = {}
for name, params in runs.items():
    clf = DBNClassifier((256,), init=stack, unlabeled=-1, random_state=0, **params)
    epochs = n_epochs * (5 if params["unlabeled_loss"] is None else 1)
    scores = []
    for _ in range(epochs):
        clf.partial_fit(X_train, y_partial, classes=np.arange(10))
        scores.append(clf.score(X_test, y_test))
    curves[name] = scores
    print(f"{name:42s} test accuracy after {epochs} epochs: {scores[-1]:.3f}")

spreading = LabelSpreading(kernel="knn").fit(X_train, y_partial)
with np.errstate(invalid="ignore"):  # test rows its graph does not reach
    reference = spreading.score(X_test, y_test)
print(f"{'LabelSpreading(kernel=knn) on the pixels':42s} test accuracy: "
      f"{reference:.3f}")

# %%
# Test accuracy against epochs
# ----------------------------
# The shaded band is the ramp; the dotted black line is where the network
# without the option stands after as many mini-batches (400 epochs). Without
# the ramp, pseudo-labels from an output layer that has barely seen the labels
# pull the network towards its own early guesses; spread labels depend on the
# features, not on the output layer, and suffer less. On these 8x8 digits a
# nearest-neighbour graph on the raw pixels is hard to beat, and label spreading
# on the pixels stays ahead of this network (a ReLU network without
# pre-training comes close); on the MNIST sample, where pre-trained features
# make a better graph than the pixels, ``"label_spreading"`` leads (see the
# ``bench_semisupervised`` benchmark and the user guide). This is one draw of
# 40 labels and one seed: expect the option curves to cross; the benchmark
# averages three seeds at four label counts.
fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
ax.axvspan(10, 60, color="0.92", label="ramp of (10, 60)")
styles = ["k-", "C0-", "C0:", "C1-", "C1:"]
for (name, scores), style in zip(curves.items(), styles):
    ax.plot(np.arange(1, len(scores) + 1), scores, style, label=name)
off = curves["pre-training only (unlabeled_loss=None)"]
ax.axhline(off[-1], color="k", linestyle=":",
           label=f"pre-training only, after {len(off)} epochs")
ax.axhline(reference, color="C2", linestyle="--",
           label="LabelSpreading(kernel='knn') on the pixels")
ax.set_xlim(0, n_epochs)
ax.set_ylim(0.5, 1.0)
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.set_title("digits, 40 labelled of 1347 training rows, network 64-256-10")
ax.grid(alpha=0.3)
ax.legend(fontsize=8, loc="lower right")
plt.show()
