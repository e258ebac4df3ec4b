"""
=======================
First-layer RBM filters
=======================

Each hidden unit of the first layer has one weight per pixel, so its weights can
be drawn as an 8x8 image: the pattern the unit responds to (red: pixels that
switch it on, blue: pixels that switch it off). RBM training starts from small
random weights, which look like noise; after greedy RBM pre-training on the
digits — with no labels at all — the filters show strokes, curves and blobs.
These are the features that fine-tuning with labels starts from.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sk_dbn import DBNClassifier
from sk_dbn.diagnostics import plot_rbm_filters
from sk_dbn.initializers import normal

X, y = load_digits(return_X_y=True)
X = X / 16

# %%
# Where RBM training starts
# -------------------------
# :func:`~sk_dbn.diagnostics.plot_rbm_filters` also takes a plain weight array
# of shape (n_visible, n_hidden). RBM weights start from N(0, 0.01²):
fig = plot_rbm_filters(normal(64, 64, random_state=0))
fig.suptitle("initial weights, N(0, 0.01²)")
plt.show()

# %%
# After RBM pre-training
# ----------------------
# A :class:`~sk_dbn.DBNClassifier` with ``init="rbm"`` pre-trains a
# :class:`~sk_dbn.StackedRBMTransformer` (here one layer of 64 units, CD-1 for 20
# epochs) and keeps it as ``pretrainer_``, untouched by fine-tuning.
clf = DBNClassifier((64,), init="rbm", max_iter=30, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf.fit(X, y)
print("reconstruction error every 4th epoch:",
      [round(e, 4) for e in clf.pretrainer_.reconstruction_error_[0][::4]])

fig = plot_rbm_filters(clf.pretrainer_)
fig.suptitle("after RBM pre-training (no labels)")
plt.show()

# %%
# After fine-tuning
# -----------------
# The classifier's own ``coefs_[0]`` are the first-layer weights after 30 epochs
# of fine-tuning with labels. Fine-tuning reshapes them noticeably, but many
# pre-trained shapes stay recognisable. Each tile has its own colour scale, so
# compare shapes rather than colours.
fig = plot_rbm_filters(clf)
fig.suptitle("after fine-tuning with labels")
plt.show()

pre, tuned = clf.pretrainer_.coefs_[0], clf.coefs_[0]
change = np.linalg.norm(tuned - pre) / np.linalg.norm(pre)
print(f"relative change of the first-layer weights by fine-tuning: {change:.2f}")
