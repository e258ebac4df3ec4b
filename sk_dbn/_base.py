"""Helpers shared by the estimators: version stamp, interruption, parameter checks."""

import numbers
import signal
import threading
import warnings

import numpy as np

from ._version import __version__
from .utils._sklearn import Interval, InvalidParameterError

POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
"""Parameter constraint: an int >= 1."""


class SkDbnVersionWarning(UserWarning):
    """A model saved by another sk_dbn version was loaded."""


class TrainingInterruptedWarning(UserWarning):
    """Training was interrupted (Ctrl-C); the model keeps its last consistent state."""


class DivergenceError(ValueError):
    """Training diverged; the message names the learning-rate parameter to lower.

    Raised with the phase's own detail; ``parameter`` and ``value`` name the
    learning rate, so an estimator wrapping another (DBNClassifier around its
    pre-training) can re-raise naming its own parameter.
    """

    def __init__(self, detail, *, parameter, value):
        self.detail, self.parameter, self.value = detail, parameter, value
        super().__init__(
            f"{detail} Lower {parameter} (now {value}) or scale X (e.g. "
            "StandardScaler or MinMaxScaler)."
        )


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


class InterruptGuard:
    """Defer Ctrl-C to mini-batch boundaries while training.

    In the main thread, SIGINT only sets :attr:`requested`; the training loop checks
    it after each completed mini-batch and stops there, so no layer is ever left
    half-updated. A ``KeyboardInterrupt`` raised some other way is still caught by
    the estimator. Outside the main thread (joblib workers) nothing is installed.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        self.requested = True

    def check(self):
        """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed since the last check."""
        if self.requested:
            raise KeyboardInterrupt

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGINT, self._handler)
            except (ValueError, TypeError):  # pragma: no cover - exotic hosts
                self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def check_hidden_layer_sizes(hidden_layer_sizes):
    """Validate ``hidden_layer_sizes`` and return it as a list of ints."""
    sizes = (
        [hidden_layer_sizes]
        if isinstance(hidden_layer_sizes, numbers.Integral)
        else list(hidden_layer_sizes)
    )
    if not sizes or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
        for s in sizes
    ):
        # InvalidParameterError (a ValueError) as for the constraints sklearn checks
        raise InvalidParameterError(
            "hidden_layer_sizes must be a positive int or a non-empty sequence of "
            f"positive ints; got {hidden_layer_sizes!r}"
        )
    return [int(s) for s in sizes]


def all_finite(arrays):
    """True when every array in ``arrays`` is free of NaN and inf."""
    return all(np.isfinite(a).all() for a in arrays)


def writeable(arrays):
    """The arrays, copied only where read-only (e.g. loaded with mmap_mode='r')."""
    return [a if a.flags.writeable else a.copy() for a in arrays]


def copy_arrays(arrays):
    """Independent copies of a list of arrays."""
    return [np.array(a, copy=True) for a in arrays]


def restore_arrays(targets, sources):
    """Copy ``sources`` into ``targets`` element-wise, in place."""
    for t, s in zip(targets, sources):
        t[...] = s
