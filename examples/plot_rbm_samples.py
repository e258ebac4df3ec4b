"""
==========================================
Digits dreamed by a deep belief network
==========================================

A stack of RBMs is a generative model: a deep belief network. To draw a digit
from it, run a Gibbs chain in the top RBM until it forgets where it started, then
carry its state down through the layers below
(:meth:`~sk_dbn.StackedRBMTransformer.sample`). The network below was trained on
scikit-learn's 8x8 digits without any label; the samples are digits it invents,
next to the first-layer filters it learned and some real digits.

The same transformer scores data: :meth:`~sk_dbn.StackedRBMTransformer.
log_likelihood` estimates the bottom RBM's average log-likelihood by annealed
importance sampling, and :meth:`~sk_dbn.StackedRBMTransformer.score_samples`
gives the (deterministic) pseudo-log-likelihood of each row.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sk_dbn import StackedRBMTransformer

X = (load_digits().data / 16 > 0.5).astype(np.float64)  # binary 8x8 digits
stack = StackedRBMTransformer((128, 64), n_iter=50, random_state=0).fit(X)
samples = stack.sample(24, n_steps=1000, random_state=0)

ll, err = stack.log_likelihood(X, random_state=0)
print(f"bottom RBM: log-likelihood {ll:.2f} ± {3 * err:.2f} nats per digit, "
      f"pseudo-log-likelihood {stack.score_samples(X).mean():.2f}")

# %%
# Filters, real digits and sampled digits
# ---------------------------------------
fig, axes = plt.subplots(3, 24, figsize=(12, 1.9), layout="constrained")
W = stack.coefs_[0]
rows = [("filters", [W[:, j] for j in range(24)], "RdBu_r"),
        ("data", list(X[:24]), "gray_r"),
        ("samples", list(samples), "gray_r")]
for ax_row, (label, images, cmap) in zip(axes, rows):
    for ax, image in zip(ax_row, images):
        limit = np.abs(image).max() if cmap == "RdBu_r" else 1
        ax.imshow(image.reshape(8, 8), cmap=cmap,
                  vmin=-limit if cmap == "RdBu_r" else 0, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
    ax_row[0].set_ylabel(label, rotation=0, ha="right", va="center")
if os.environ.get("SK_DBN_FIGURE"):  # the README's figure
    fig.savefig(os.environ["SK_DBN_FIGURE"], dpi=80)
plt.show()
