"""What every fit shares: the transaction, the guarded training loop, divergence.

- :func:`transaction`: a fit that raises leaves the estimator exactly as it was
  (unfitted stays unfitted, a fitted model keeps its state). Estimators train
  on copies of their arrays and assign them at the end, so restoring the
  attribute dict is enough.
- :class:`TrainingSession`: the context of the epoch loops of one fit. Ctrl-C
  stops at the next mini-batch boundary and is recorded, not raised (the model
  keeps the last completed mini-batch); a second Ctrl-C aborts the fit at once
  (and the transaction rolls it back). Subnormals are flushed, and overflow is
  left to the divergence check instead of warning.
- :func:`check_diverged`: the one divergence test, which names the parameter
  that can have caused it.
"""

import contextlib

import numpy as np

from ._base import (
    DivergenceError,
    TrainingInterruptedWarning,
    all_finite,
    max_abs,
    warn,
)
from ._fpenv import flush_denormals
from ._interrupt import InterruptGuard, TrainingAborted
from ._ops import numpy_dtype, to_host

LARGE_INPUT = 1e6
"""``max |x|`` beyond which the scale of X is named as a cause of divergence:
far beyond standardised data, pixels or counts a network is usually fed."""


@contextlib.contextmanager
def transaction(estimator):
    """Undo every attribute change of ``estimator`` if the block raises.

    Yields a function that undoes them on request too (a fit that ends without
    a new model keeps the previous one).
    """
    saved = dict(vars(estimator))

    def rollback():
        vars(estimator).clear()
        vars(estimator).update(saved)

    try:
        yield rollback
    except BaseException:
        rollback()
        raise


class TrainingSession:
    """Context manager around the training of one fit.

    While it is open, Ctrl-C is deferred (:class:`~sk_dbn._interrupt.InterruptGuard`),
    subnormals are flushed to zero and floating-point overflow is silent. Epoch
    loops run inside :meth:`stage` and call :meth:`check` after every mini-batch:
    a first Ctrl-C ends the stage there and sets :attr:`interrupted`; a second one
    while the first is pending raises :class:`~sk_dbn._interrupt.TrainingAborted`,
    which nothing here catches.
    """

    def __init__(self):
        self.interrupted = False
        self._stack = None
        self._guard = None

    def __enter__(self):
        self._stack = contextlib.ExitStack()
        self._guard = self._stack.enter_context(InterruptGuard())
        self._stack.enter_context(flush_denormals())
        # overflow inside a diverging epoch is detected by check_diverged and
        # reported as a ValueError naming its cause, not as a RuntimeWarning
        self._stack.enter_context(
            np.errstate(over="ignore", invalid="ignore", divide="ignore")
        )
        return self

    def __exit__(self, *exc):
        # a first Ctrl-C after the last check (in the last epoch's scoring, the
        # final probes) stopped nothing: the fit is complete, and it says so
        late = exc[0] is None and self._guard.requested and not self.interrupted
        suppress = self._stack.__exit__(*exc)
        if late:
            warn("Ctrl-C arrived as training ended: the fit is complete and kept.",
                 TrainingInterruptedWarning)
        return suppress

    def check(self):
        """Stop here (raise ``KeyboardInterrupt``) if Ctrl-C was pressed."""
        self._guard.check()

    @contextlib.contextmanager
    def stage(self):
        """A block of training that a first Ctrl-C ends (setting ``interrupted``)."""
        try:
            yield
        except TrainingAborted:
            raise
        except KeyboardInterrupt:
            self.interrupted = True


def divergence_causes(X, *, learning_rate, alpha=None, step_scale=None, y=None,
                      sample_weight=None):
    """The parameters that can have made a fit diverge, most specific first.

    ``learning_rate`` and ``alpha`` are ``(name, value)`` (``learning_rate``
    None for a solver without one, L-BFGS). ``y`` (real-valued targets, None for
    class labels) is named alone when its squared error cannot be represented
    in the working dtype. ``alpha`` is named alone
    when its L2 term cannot be represented in the working dtype or, with
    ``step_scale`` (SGD's ``learning_rate / batch_size``) and a learning rate of
    at most 1, when its decay step ``step_scale * alpha`` overshoots 0 (> 2),
    both for ``alpha`` over the mean of ``sample_weight`` (the L2 term is
    divided by a mini-batch's sum of weights, as in ``MLPClassifier``);
    the scale of X (and of ``y``) is named when its ``max |x|`` is beyond
    :data:`LARGE_INPUT`. Otherwise every candidate is listed, the learning rate
    first.
    """
    dtype = numpy_dtype(X.dtype)
    x_max = max_abs(X)
    y_max = 0.0 if y is None else max_abs(y)
    lr_name, lr = learning_rate or (None, None)
    if y_max > np.sqrt(np.finfo(dtype).max):
        return [("", None, f"the scale of y (max |y| = {y_max:.3g}): its squared "
                 f"error overflows {dtype}; standardise y, e.g. with "
                 "TransformedTargetRegressor(transformer=StandardScaler())")]
    causes = []
    if alpha is not None:
        name, value = alpha
        mean_w = (1.0 if sample_weight is None else
                  float(to_host(sample_weight).mean()))
        per_row = value / mean_w
        overshoot = (step_scale is not None and lr is not None and lr <= 1
                     and step_scale * per_row > 2)
        if overshoot or per_row > np.sqrt(np.finfo(dtype).max):
            causes.append((name, value, "the L2 penalty is too large for the "
                           f"{dtype} weights; lower {name}" + (
                               "" if sample_weight is None else
                               f" or scale sample_weight up (the L2 term is {name} "
                               "over the sum of a mini-batch's sample weights, "
                               f"whose mean is {mean_w:.3g})")))
    if x_max > LARGE_INPUT:
        causes.append(("", None, f"the scale of X (max |x| = {x_max:.3g}); "
                       "standardise X, e.g. with StandardScaler"))
    if causes:
        return causes
    causes = [] if lr_name is None else [(lr_name, lr, f"lower {lr_name}")]
    if alpha is not None and alpha[1] > 0:
        causes.append((*alpha, f"lower {alpha[0]}"))
    causes.append(("", None, f"the scale of X (max |x| = {x_max:.3g}); standardise "
                   "or scale it, e.g. with StandardScaler or MinMaxScaler"))
    if y_max > LARGE_INPUT:
        causes.append(("", None, f"the scale of y (max |y| = {y_max:.3g}); "
                       "standardise it, e.g. with TransformedTargetRegressor("
                       "transformer=StandardScaler())"))
    return causes


def check_diverged(value, arrays, detail, causes):
    """Raise :class:`DivergenceError` unless ``value`` and ``arrays`` are finite.

    ``detail`` is the message's first sentence, ``causes`` a callable returning the
    causes (evaluated only on divergence).
    """
    if not (np.isfinite(value) and all_finite(arrays)):
        raise DivergenceError(detail, causes())
