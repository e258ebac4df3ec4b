"""Helpers shared by the estimators: version stamp, errors, parameter checks."""

import math
import numbers
import os
import re
import sys
import warnings
from collections.abc import Sequence

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.utils.validation import check_is_fitted, validate_data

from ._namespace import check_same_place, data_namespace
from ._ops import ops_of, to_device, to_host
from ._version import __version__
from .utils._sklearn import (
    Interval,
    InvalidParameterError,
    _check_sample_weight,
    array_namespace,
)

POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
"""Parameter constraint: an int >= 1."""


_LIBRARY_DIRS = tuple(os.path.dirname(os.path.abspath(module.__file__)) + os.sep
                      for module in (sys.modules[__package__], sklearn, joblib))


def warn(message, category):
    """``warnings.warn`` attributed to the user's call: the first frame outside
    sk_dbn, scikit-learn and joblib (scikit-learn's ``fit`` wrappers and search
    loops sit between the user and the estimator), so the printed line and a
    filter by module are the user's."""
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(
            frame.f_code.co_filename).startswith(_LIBRARY_DIRS):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level if frame is not None else 2)


class SkDbnVersionWarning(UserWarning):
    """A model saved by another sk_dbn version was loaded."""


class TrainingInterruptedWarning(UserWarning):
    """Training was interrupted (Ctrl-C); the model keeps its last consistent state."""


class DivergenceError(ValueError):
    """Training diverged; the message names the parameters that can have caused it.

    ``causes`` is a list of ``(parameter, value, advice)``: one entry when the cause
    is clear, every candidate otherwise. An estimator wrapping another
    (DBNClassifier around its pre-training) re-raises it with its own parameter
    names through :meth:`renamed`.
    """

    def __init__(self, detail, causes, note=""):
        self.detail, self.causes, self.note = detail, list(causes), note
        if len(self.causes) == 1:
            text = "Cause: " + _cause_text(self.causes[0])
        else:
            text = "Possible causes: " + "; ".join(map(_cause_text, self.causes))
        super().__init__(f"{detail} {text}." + (f" {note}" if note else ""))

    def renamed(self, names, note=""):
        """The same error with parameters renamed by ``names: {old: (new, value)}``
        (in the advice too), and ``note`` appended to the message."""
        new = {old: name for old, (name, _) in names.items()}
        causes = [
            (*names[p], rename_parameters(advice, new, bare=True)) if p in names
            else (p, v, rename_parameters(advice, new, bare=True))
            for p, v, advice in self.causes
        ]
        return DivergenceError(self.detail, causes, note or self.note)


def rename_parameters(text, names, bare=False):
    """``text`` with the parameters of ``names: {old: new}`` renamed where they
    appear as ``old=value`` (with ``bare``, wherever the whole word appears):
    an estimator's message reworded for the estimator that wraps it."""
    if not names:
        return text
    pattern = r"\b(" + "|".join(map(re.escape, names)) + r")\b" + (
        "" if bare else "(?==)")
    return re.sub(pattern, lambda m: names[m.group(1)], text)


def _cause_text(cause):
    parameter, value, advice = cause
    return f"{parameter}={value!r} ({advice})" if parameter else advice


class VersionedStateMixin:
    """Stamp the sk_dbn version into pickled state; warn when it differs on load.

    Works for pickle, joblib and skops, which all go through ``__getstate__`` /
    ``__setstate__``.
    """

    def __getstate__(self):
        # a new dict: ``object.__getstate__`` may return the instance's own
        # ``__dict__``, which must not gain the stamp as a side effect of saving
        return {**super().__getstate__(), "_sk_dbn_version": __version__}

    def __setstate__(self, state):
        version = state.pop("_sk_dbn_version", "unknown")
        if version != __version__:
            warnings.warn(
                f"Loading a {type(self).__name__} saved by sk_dbn {version} into "
                f"sk_dbn {__version__}; it may not work as saved. Refit it, or use "
                f"sk_dbn {version}.",
                SkDbnVersionWarning,
                stacklevel=2,
            )
        super().__setstate__(state)


def check_hidden_layer_sizes(hidden_layer_sizes, caller, allow_empty=False,
                             name="hidden_layer_sizes"):
    """Validate ``hidden_layer_sizes`` and return it as a list of ints.

    An int, or an ordered sequence (list, tuple, range, 1-d array) of ints, each
    >= 1; with ``allow_empty``, also an empty sequence (a network without hidden
    layers, as scikit-learn's networks allow). A set or dict has no defined layer
    order and a 0-d array is not a sequence, so they are refused rather than read
    in some arbitrary order. The error names the parameter ``name`` of the
estimator class ``caller``, as scikit-learn's parameter validation does.
    """
    sizes = hidden_layer_sizes
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = [sizes]
    elif isinstance(sizes, np.ndarray) and sizes.ndim == 1:
        sizes = sizes.tolist()
    elif isinstance(sizes, Sequence) and not isinstance(sizes, (str, bytes)):
        sizes = list(sizes)
    else:
        sizes = None
    if sizes == [] and allow_empty:
        return []
    if not sizes or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
        for s in sizes
    ):
        # InvalidParameterError (a ValueError) as for the constraints sklearn checks
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller} must be a positive int or an "
            "ordered sequence (list, tuple, range or 1-d array) of positive ints, "
            "one per hidden layer; got "
            f"{hidden_layer_sizes!r} ({type(hidden_layer_sizes).__name__})."
        )
    return [int(s) for s in sizes]


def check_predict_input(estimator, X, method="predict"):
    """Validate ``X`` for a fitted estimator (``method`` names the caller) and
    cast it to the weights' dtype; under array-API dispatch ``X`` must come
    from the fit's namespace and device."""
    check_is_fitted(estimator)
    xp, _ = data_namespace(X)
    X = validate_data(estimator, X, accept_sparse="csr",
                      dtype=[xp.float64, xp.float32], reset=False)
    check_same_place(estimator, X, method)
    return ops_of(X).astype(X, estimator.coefs_[0].dtype)


def check_sample_weight(sample_weight, X):
    """``sample_weight`` as a float64 array (None stays None); negative,
    non-finite or all-zero weights are a ``ValueError``.

    float64 whatever X's dtype: weights enter the maths only through their sums
    and their ratios to those sums (computed in float64, then cast), so float32
    data with weights of 1e37, or of 1e-40 (subnormal in float32, flushed to
    zero while training), neither overflows nor divides by zero. Checked on the
    host whatever X's namespace (only its number of rows is read); the caller
    moves the weights to X's device.
    """
    if sample_weight is None:
        return None
    rows = np.empty((X.shape[0], 0))
    w = _check_sample_weight(to_host(sample_weight), rows, dtype=np.float64,
                             ensure_non_negative=True)
    if not w.any():
        raise ValueError("Sample weights must contain at least one non-zero number "
                         "(all weights are zero).")
    return w


def select_rows(mask, *arrays):
    """The rows the numpy boolean ``mask`` selects of each array (None stays
    None; the arrays may be of any namespace, on any device)."""
    keep = np.flatnonzero(mask)
    return tuple(None if a is None else
                 a[keep] if sp.issparse(a) or isinstance(a, np.ndarray) else
                 array_namespace(a).take(a, to_device(keep, a), axis=0)
                 for a in arrays)


def all_finite(arrays):
    """True when every array in ``arrays`` (of any array-API namespace) is free
    of NaN and inf."""
    for a in arrays:
        xp = np if isinstance(a, np.ndarray) else array_namespace(a)
        if not bool(xp.all(xp.isfinite(a))):
            return False
    return True


def max_abs(a):
    """``max |a|`` of a dense array of any namespace or a scipy sparse matrix,
    as a float (0 for no entry)."""
    data = a.data if hasattr(a, "tocsr") else a
    xp = np if isinstance(data, np.ndarray) else array_namespace(data)
    return float(xp.max(xp.abs(data))) if math.prod(data.shape) else 0.0


def writeable(arrays):
    """The arrays, copied only where numpy marks them read-only (e.g. loaded
    with ``mmap_mode='r'``)."""
    return [a.copy() if getattr(getattr(a, "flags", None), "writeable", True)
            is False else a for a in arrays]


def copy_arrays(arrays):
    """Independent copies of a list of arrays (of any array-API namespace, on
    their device)."""
    return [np.array(a, copy=True) if isinstance(a, np.ndarray)
            else array_namespace(a).asarray(a, copy=True) for a in arrays]
