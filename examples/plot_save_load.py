"""
==========================
Saving and loading a model
==========================

A fitted :class:`~sk_dbn.DBNClassifier` holds only plain numpy arrays, lists,
numbers, strings and scikit-learn objects, so it can be saved with
:mod:`pickle` (or :func:`joblib.dump`) and with `skops.io
<https://skops.readthedocs.io>`_, which loads files without executing arbitrary
code: it lists the types it does not trust by default, you check them, and pass
them in.

.. warning::
    Never unpickle a file you do not trust: ``pickle.load`` can run any code.
    ``skops.io.load`` only builds the types you allow.

A model saved by one version of sk_dbn and loaded by another warns
(``SkDbnVersionWarning``): refit it, or load it with the version that saved it.
"""

# %%
import pickle
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sk_dbn import DBNClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0
)
clf = DBNClassifier((64,), init="rbm", max_iter=50, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 50 epochs are enough here
    clf.fit(X_train, y_train)
print(f"test accuracy {clf.score(X_test, y_test):.3f}")

folder = Path(tempfile.mkdtemp())

# %%
# With pickle
# -----------
with open(folder / "dbn.pkl", "wb") as f:
    pickle.dump(clf, f)
with open(folder / "dbn.pkl", "rb") as f:
    from_pickle = pickle.load(f)
print("pickle: same predictions:",
      np.array_equal(from_pickle.predict(X_test), clf.predict(X_test)))

# %%
# With skops.io
# -------------
# ``get_untrusted_types`` shows what the file needs beyond the types skops trusts
# already: here, sk_dbn's own estimator classes (the pre-trained stack is kept
# as ``pretrainer_``).
sio.dump(clf, folder / "dbn.skops")
untrusted = sio.get_untrusted_types(file=folder / "dbn.skops")
print("types to review:", untrusted)

from_skops = sio.load(folder / "dbn.skops", trusted=untrusted)
print("skops: same predictions:",
      np.array_equal(from_skops.predict(X_test), clf.predict(X_test)))
print("skops: same probabilities:",
      np.array_equal(from_skops.predict_proba(X_test), clf.predict_proba(X_test)))

# %%
# A loaded model is a complete estimator: it can keep training.
from_skops.partial_fit(X_train, y_train)
print(f"after one more epoch: test accuracy {from_skops.score(X_test, y_test):.3f}")

shutil.rmtree(folder)  # clean up the files written above
