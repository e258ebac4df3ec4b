"""Backprop fine-tuning of a network's fitted state: epochs, curves, early stopping.

:func:`fine_tune` trains ``state`` (a dict of the estimator's fitted attributes,
built aside by the estimator and committed by it afterwards) with the
hyperparameters of a :class:`FineTuning` and two callables of the estimator
(the network's logits and the validation score), exactly as
``MLPClassifier``'s solvers do. The arrays may be of any array-API namespace:
the epoch's loss and gradient norms accumulate on the data's device and are
read once per epoch.

The stochastic solvers (``"sgd"``, ``"adam"``): shuffled mini-batches (optionally with
dropout), ``loss_curve_``, ``n_iter_no_change`` epochs without a ``tol``
improvement of the training loss (or, with early stopping, of the validation
score) before stopping or, with the adaptive schedule, lowering the step, and
the best weights restored with early stopping. ``"lbfgs"``: full-batch L-BFGS-B
through ``scipy.optimize.minimize``, with no per-epoch curves.

The one hook: ``unlabelled``, an :class:`sk_dbn._semisupervised.UnlabelledTerm`
or None, adds the unlabelled rows' loss and gradient to every labelled
mini-batch (``unlabeled_loss``), and holds the stopping rule while its weight
ramps up.
"""

import time
from dataclasses import dataclass

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches

from ._activations import make_activation
from ._base import (
    DivergenceError,
    TrainingInterruptedWarning,
    all_finite,
    warn,
)
from ._network import (
    BackpropWorkspace,
    l2_penalty,
    loss_and_gradients,
    output_loss_delta,
)
from ._ops import ops_of, to_device, to_host
from ._optimizers import make_optimizer
from ._rng import device_draws
from ._transaction import check_diverged, divergence_causes

LOSS_GROWTH = 1e6
"""An epoch's loss this many times the reference of the fit (see
:func:`reference_loss`) means the fit diverged: cross-entropy and squared error
fall as a network trains, and no schedule makes them rise by six orders of
magnitude (SGD with too large a step or L2 decay does)."""

OUTPUT_PROBE = 1000
"""Training rows whose outputs are checked for overflow at the end of a fit."""


@dataclass(frozen=True)
class FineTuning:
    """The hyperparameters of fine-tuning, with the meanings of the networks'
    parameters of the same names (those of ``MLPClassifier``), and ``name`` (the
    estimator's, for messages) and ``regressor`` (R² needs two validation rows,
    a regressor's split is not stratified)."""

    solver: str
    alpha: float
    batch_size: object
    learning_rate: str
    learning_rate_init: float
    power_t: float
    max_iter: int
    tol: float
    n_iter_no_change: float
    early_stopping: bool
    validation_fraction: float
    shuffle: bool
    momentum: float
    nesterovs_momentum: bool
    beta_1: float
    beta_2: float
    epsilon: float
    max_fun: int
    dropout: float
    verbose: int
    name: str
    regressor: bool

    @property
    def min_validation_rows(self):
        """The validation rows early stopping needs: 2 for a regressor's R²
        (which one row does not define), else 1."""
        return 2 if self.regressor else 1

    def optimizer(self, params, state, time_step):
        """The stochastic solver, resuming ``state`` if given."""
        return make_optimizer(
            self.solver, params, state, learning_rate_init=self.learning_rate_init,
            momentum=self.momentum, nesterovs_momentum=self.nesterovs_momentum,
            learning_rate=self.learning_rate, power_t=self.power_t,
            beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
            time_step=time_step)


def batch_size(settings, n_samples):
    """Mini-batch size: ``"auto"`` is ``min(200, n_samples)``, never > n_samples
    (a larger ``batch_size`` is clipped with ``MLPClassifier``'s warning)."""
    if settings.batch_size == "auto":
        return min(200, n_samples)
    if settings.batch_size > n_samples:
        warn("Got `batch_size` less than 1 or larger than sample size. It is "
             "going to be clipped", UserWarning)
    return min(int(settings.batch_size), n_samples)


def check_validation_size(n, fraction, min_val):
    """The validation rows of an early-stopping split of ``n`` rows; a
    ``ValueError`` naming ``validation_fraction`` when the split leaves fewer
    than ``min_val`` of them or no training row."""
    n_val = int(np.ceil(fraction * n))
    if n_val < min_val or n - n_val < 1:
        small = n_val < min_val
        raise ValueError(
            f"The validation set is too {'small' if small else 'large'}: "
            f"early_stopping=True needs at least one training and {min_val} "
            f"validation row(s); validation_fraction={fraction} of {n} samples "
            f"gives {n_val} validation and {n - n_val} training rows. "
            f"{'Increase' if small else 'Decrease'} validation_fraction, or give "
            "more rows."
        )
    return n_val


def validation_split(X, y, sample_weight, fraction, rng, stratify, min_val=1):
    """``X_train, X_val, y_train, y_val, w_train, w_val``; stratified by ``y``
    where possible (the weights, None or an array, follow their rows).

    As ``MLPClassifier``, a single-output classifier's split is stratified; where
    that cannot be (a class with a single row, or fewer validation or training
    rows than classes, as in tiny data sets) it falls back to a plain random
    split. ``min_val``: the validation rows the score needs (2 for R², which
    one row does not define). The rows are drawn on the host (from ``rng``) and
    taken on the arrays' device.
    """
    n = X.shape[0]
    n_val = check_validation_size(n, fraction, min_val)
    strata = None
    if stratify:
        labels = to_host(y)
        counts = np.unique(labels, return_counts=True)[1]
        if counts.min() >= 2 and min(n_val, n - n_val) >= counts.shape[0]:
            strata = labels
    train, val = train_test_split(np.arange(n), test_size=n_val, stratify=strata,
                                  random_state=int(rng.integers(2**31 - 1)))
    ops = ops_of(y)
    parts = []
    for rows in (train, val):
        rows = to_device(rows, y)
        parts.append([None if a is None else ops.take(a, rows)
                      for a in (X, y, sample_weight)])
    (X_train, y_train, w_train), (X_val, y_val, w_val) = parts
    return X_train, X_val, y_train, y_val, w_train, w_val


def report_scale(state, y):
    """The factor of the data loss in ``loss_``: ``MLPRegressor`` reports the
    squared error averaged over the outputs (while its gradient, as here, is
    that of their sum); every other loss is reported as it is."""
    return 1.0 / y.shape[1] if state["out_activation_"] == "identity" else 1.0


def stochastic_state(n_layers):
    """The fitted state only the stochastic solvers keep, as a new fit has it."""
    return {"loss_curve_": [],
            "gradient_norms_": np.empty((0, n_layers), dtype=np.float64),
            "_optimizer_state": None, "validation_scores_": None,
            "best_validation_score_": None, "best_loss_": None,
            "_no_improvement_count": 0, "_start_loss": None}


STOCHASTIC_STATE = tuple(stochastic_state(1))
"""Names of that state (fitted attributes that an L-BFGS fit does not have)."""


def real_targets(state, y):
    """``y`` when it holds real-valued targets (a regressor's), else None."""
    return y if state["out_activation_"] in ("identity", "exp") else None


def reference_loss(state, y, sample_weight, first_batch_loss):
    """The loss against which an epoch's is judged diverged (times
    :data:`LOSS_GROWTH`), for the data of this call.

    The largest of 1, the loss of the first mini-batch before its update of the
    fit that started the network's training (``state["_start_loss"]``, set here
    from this call's ``first_batch_loss`` when it is that fit: a ``warm_start``
    or ``partial_fit`` sequence is judged against the network as it started,
    so a divergence spread over calls is caught as within one), and the loss of
    a network whose outputs are all 0 on all of ``y`` (for squared error, half
    the mean squared target: targets far from 0 or far apart make a large loss
    that is not divergence, whether they come sorted, at a new scale after
    ``warm_start``, or growing over ``partial_fit`` calls). Infinite when the
    targets' own loss overflows the dtype.
    """
    W = state["coefs_"][-1]
    zeros = ops_of(W).zeros((y.shape[0], W.shape[1]), W.dtype,
                            getattr(W, "device", None))
    with np.errstate(over="ignore", invalid="ignore"):
        blind, _ = output_loss_delta(zeros, y, None, sample_weight,
                                     state["out_activation_"])
    if state["_start_loss"] is None:
        state["_start_loss"] = float(first_batch_loss)
    return max(1.0, state["_start_loss"], report_scale(state, y) * float(blind))


def reset_stopping_state(state, early_stopping):
    """The stopping bookkeeping of ``MLPClassifier`` for the current mode.

    Called at every fit, so switching ``early_stopping`` between ``warm_start``
    fits or ``partial_fit`` calls starts the new mode's records afresh.
    """
    if early_stopping and state.get("validation_scores_") is None:
        state.update(validation_scores_=[], best_validation_score_=-np.inf,
                     best_loss_=None, _no_improvement_count=0)
    elif not early_stopping and state.get("best_loss_") is None:
        state.update(validation_scores_=None, best_validation_score_=None,
                     best_loss_=np.inf, _no_improvement_count=0)


def fine_tune(settings, state, X, y, *, sample_weight, incremental, rng, session,
              logits, score, unlabelled=None):
    """Fine-tune ``state`` in place by ``settings.solver`` (see
    :func:`fine_tune_sgd` and :func:`fine_tune_lbfgs`; ``unlabelled`` is for
    the stochastic solvers only).

    ``logits(X, state)`` is the network's output pre-activations (a
    ``ValueError`` when they overflow), ``score(state, X_val, y_val, w_val)``
    the validation score of early stopping; ``rng`` the fit's numpy generator
    (row order, the early-stopping split, and the seed of the draws on the
    data's device).
    """
    if settings.solver == "lbfgs":
        return fine_tune_lbfgs(settings, state, X, y, sample_weight=sample_weight,
                               session=session, logits=logits)
    for name, value in stochastic_state(len(state["coefs_"])).items():
        state.setdefault(name, value)  # e.g. after an L-BFGS fit
    return fine_tune_sgd(settings, state, X, y, sample_weight=sample_weight,
                         incremental=incremental, rng=rng, session=session,
                         logits=logits, score=score, unlabelled=unlabelled)


def fine_tune_sgd(settings, state, X, y, *, sample_weight, incremental, rng,
                  session, logits, score, unlabelled=None):
    """Fine-tune ``state`` in place: one epoch (``incremental``) or up to max_iter.

    ``n_iter_`` counts the epochs of this call, as in scikit-learn; ``t_``,
    ``loss_curve_`` and ``gradient_norms_`` run on across calls. A first Ctrl-C
    stops after the current mini-batch (with early stopping, the best weights
    seen are restored).

    ``unlabelled`` (see the module docstring): each epoch's loss includes its
    term, and while its weight still ramps up no epoch counts towards
    ``n_iter_no_change`` (and, without early stopping, ``best_loss_`` follows
    the loss), so training never stops, nor lowers an adaptive step, before the
    objective has settled.
    """
    early_stopping = settings.early_stopping and not incremental
    reset_stopping_state(state, early_stopping)
    state["n_iter_"] = 0
    if early_stopping:
        # stratified for single-label classes; R² needs two validation rows
        X, X_val, y, y_val, sample_weight, w_val = validation_split(
            X, y, sample_weight, settings.validation_fraction, rng,
            stratify=not settings.regressor and y.ndim == 1,
            min_val=settings.min_validation_rows)
    coefs, intercepts = state["coefs_"], state["intercepts_"]
    params = coefs + intercepts
    optimizer = settings.optimizer(params, state["_optimizer_state"], state["t_"])
    state["_optimizer_state"] = optimizer.state
    ws = BackpropWorkspace(batch_size(settings, X.shape[0]), X, coefs,
                           settings.dropout)
    draws = device_draws(rng, coefs[0])
    norms_curve = [to_host(state["gradient_norms_"])]  # on the host while training
    best, converged, reference = None, False, None
    big = float(ops_of(coefs[0]).xp.finfo(coefs[0].dtype).max)

    def causes():
        step = (settings.learning_rate_init / ws.batch_size
                if settings.solver == "sgd" else None)
        return divergence_causes(
            X, learning_rate=("learning_rate_init", settings.learning_rate_init),
            alpha=("alpha", settings.alpha), step_scale=step,
            y=real_targets(state, y), sample_weight=sample_weight)

    with session.stage():
        for _ in range(1 if incremental else settings.max_iter):
            start = time.time()
            loss, norms, first = _epoch(settings, state, X, y, sample_weight, ws,
                                        optimizer, rng, draws, session, unlabelled)
            # a loss beyond the weights' dtype (a huge L2 term in float32) or
            # LOSS_GROWTH times the reference of this call, or an optimizer state
            # that overflowed, is divergence too
            if reference is None:
                reference = reference_loss(state, y, sample_weight, first)
            limit = min(big, LOSS_GROWTH * reference)
            check_diverged(loss if loss < limit else np.inf,
                           params + optimizer.arrays(),
                           f"Fine-tuning diverged at epoch "
                           f"{state['n_iter_'] + 1}: the loss became {loss:.3g}.",
                           causes)
            state["n_iter_"] += 1
            state["loss_"] = loss
            state["loss_curve_"].append(loss)
            norms_curve.append(norms[None, :])
            if settings.verbose:
                print(f"Iteration {state['n_iter_']}, loss = {loss:.8f}, "
                      f"{time.time() - start:.2f} s")
            # MLPClassifier's bookkeeping, also for a partial_fit call (its one
            # epoch counts towards best_loss_ and the adaptive schedule)
            if early_stopping:
                value = _checked(score, state, X_val, y_val, w_val, state=state,
                                 causes=causes)
                state["validation_scores_"].append(value)
                if settings.verbose:
                    print(f"Validation score: {value:f}")
                if _improved(settings, state, -value,
                             -state["best_validation_score_"]):
                    best = [ops_of(p).xp.asarray(p, copy=True) for p in params]
                state["best_validation_score_"] = max(
                    state["best_validation_score_"], value)
            else:
                _improved(settings, state, loss, state["best_loss_"])
                state["best_loss_"] = min(state["best_loss_"], loss)
            if unlabelled is not None and unlabelled.ramping(
                    len(state["loss_curve_"]) - 1):  # the epoch just run
                state["_no_improvement_count"] = 0
                if not early_stopping:
                    state["best_loss_"] = loss
            optimizer.iteration_ends(state["t_"])
            if state["_no_improvement_count"] > settings.n_iter_no_change:
                what = "Validation score" if early_stopping else "Training loss"
                if optimizer.trigger_stopping(
                        f"{what} did not improve more than tol={settings.tol:f} for "
                        f"{settings.n_iter_no_change} consecutive epochs.",
                        settings.verbose):
                    converged = True
                    break
                state["_no_improvement_count"] = 0
            if incremental:
                break
    state["gradient_norms_"] = to_device(np.vstack(norms_curve), coefs[0])
    # finite weights whose outputs overflow on the training data diverged too
    _checked(logits, ops_of(coefs[0]).rows(X, 0, OUTPUT_PROBE), state, state=state,
             causes=causes)
    if best is not None:
        for p, b in zip(params, best):
            p[...] = b
    if session.interrupted:
        warn(f"{settings.name}: fine-tuning interrupted; kept the weights of "
             + ("the best validation score" if best is not None else
                "the last completed mini-batch")
             + f" after {state['n_iter_']} complete epochs.",
             TrainingInterruptedWarning)
    elif not (incremental or converged):
        warn(f"Stochastic Optimizer: Maximum iterations ({settings.max_iter}) "
             "reached and the optimization hasn't converged yet.",
             ConvergenceWarning)


def _lbfgs_iterations(result, max_iter):
    """The iterations scipy's L-BFGS-B ran, with scikit-learn's
    ``ConvergenceWarning`` (its wording) when it stopped before converging (on
    ``max_iter`` or ``max_fun``)."""
    n_iter = min(result.nit, max_iter)
    if result.status != 0:
        message = (f"lbfgs failed to converge after {n_iter} iteration(s) "
                   f"(status={result.status}):\n{result.message}\n")
        if n_iter == max_iter:
            message += ("\nIncrease the number of iterations to improve the "
                        f"convergence (max_iter={max_iter}).")
        message += ("\nYou might also want to scale the data as shown in:\n"
                    "    https://scikit-learn.org/stable/modules/preprocessing.html")
        warn(message, ConvergenceWarning)
    return n_iter


def _checked(function, *args, state, causes):
    """``function(*args)`` of the network ``state``; weights that are not
    finite, or outputs that overflow (a ValueError), mean divergence."""
    if not all_finite(state["coefs_"] + state["intercepts_"]):
        raise DivergenceError("Fine-tuning diverged: the weights are not finite.",
                              causes())
    try:
        return function(*args)
    except ValueError as exc:
        raise DivergenceError("Fine-tuning diverged: the network's outputs "
                              "overflow on the training data.", causes()) from exc


def _improved(settings, state, value, best):
    """Count epochs without a ``tol`` improvement of ``value`` (lower is better);
    True if ``value`` is a new best."""
    if value > best - settings.tol:
        state["_no_improvement_count"] += 1
    else:
        state["_no_improvement_count"] = 0
    return value < best


def _epoch(settings, state, X, y, sample_weight, ws, optimizer, rng, draws,
           session, unlabelled=None):
    """One pass of backprop: ``(mean loss, mean gradient norm per layer, the
    loss of the first mini-batch, taken before its update)``, read from the
    device once, at the end of the epoch.

    With ``sample_weight``, each mini-batch's loss is its weighted mean, its L2
    term is divided by the sum of its weights (``MLPClassifier``'s convention),
    and the epoch's loss is the mean of the batches' losses weighted by their
    sums of weights. The row order is drawn on the host, and moved to the
    device once. ``unlabelled`` adds its term to every mini-batch, and makes
    the epoch as long as a pass over its rows (repeating labelled rows).
    """
    ops = ops_of(state["coefs_"][0])
    activation = make_activation(*state["_activation"])
    output = state["out_activation_"]
    report = report_scale(state, y)
    coefs, intercepts = state["coefs_"], state["intercepts_"]
    params = coefs + intercepts
    n_samples, n_layers = X.shape[0], len(coefs)
    order = rng.permutation(n_samples) if settings.shuffle else np.arange(n_samples)
    if unlabelled is not None:  # as many labelled mini-batches as unlabelled ones
        order = unlabelled.labelled_order(order, ws.batch_size, rng)
    order = to_device(order, y)
    total_loss, total_weight = 0.0, 0.0
    norms, n_batches, first = [0.0] * n_layers, 0, None
    for batch in gen_batches(order.shape[0], ws.batch_size):
        idx = order[batch]
        rows = idx.shape[0]
        w = None if sample_weight is None else ops.take(sample_weight, idx)
        n = rows if w is None else ops.xp.sum(w)
        activations, deltas, scratch = ws.batch(X, idx)
        coef_grads, intercept_grads = ws.grads[:n_layers], ws.grads[n_layers:]
        loss, _ = loss_and_gradients(
            activations, ops.take(y, idx), coefs, intercepts, activation, 0.0,
            deltas, coef_grads, intercept_grads, scratch, output=output,
            sample_weight=w, dropout=ws.draw_dropout(rows, draws), report=report)
        grads = coef_grads + intercept_grads
        if unlabelled is not None:
            loss = loss + unlabelled.add(grads, rng, draws,
                                         len(state["loss_curve_"]))
        # the L2 term and the sums of squares (of the weights' gradients, for
        # the norms, and of the weights, for the penalty) in the optimizer's pass
        decay = ([settings.alpha / n] * n_layers + [None] * n_layers
                 if settings.alpha else None)
        sums = [[0.0, 0.0] for _ in coefs] + [None] * n_layers
        optimizer.update(params, grads, decay, sums)
        if settings.alpha:
            loss = loss + l2_penalty(sum(s[1] for s in sums[:n_layers]),
                                     settings.alpha, n)
        for i in range(n_layers):
            norms[i] = norms[i] + ops.xp.sqrt(sums[i][0])
        total_loss = total_loss + n * loss
        total_weight = total_weight + n
        first = loss if first is None else first
        n_batches += 1
        state["t_"] += rows
        session.check()
    return (float(total_loss / total_weight),
            np.array([float(x) for x in norms]) / n_batches, float(first))


def fine_tune_lbfgs(settings, state, X, y, *, sample_weight, session, logits):
    """L-BFGS-B on the whole training set, as ``MLPClassifier(solver="lbfgs")``:
    at most ``max_iter`` iterations and ``max_fun`` loss evaluations, ``tol`` the
    projected-gradient tolerance; ``n_iter_`` the iterations run. A first Ctrl-C
    keeps the last completed iteration's weights.

    The objective is the one whose gradient backprop computes (for several
    squared-error outputs, their sum; ``loss_`` reports it as ``MLPRegressor``
    does, averaged over the outputs). scipy's optimiser runs on the host in
    float64; the loss and its gradient are computed on the data's device, with
    one transfer of the flat parameter vector each way per evaluation.
    """
    coefs, intercepts = state["coefs_"], state["intercepts_"]
    params = coefs + intercepts
    n_layers = len(coefs)
    ops = ops_of(coefs[0])
    activation = make_activation(*state["_activation"])
    output = state["out_activation_"]
    ws = BackpropWorkspace(X.shape[0], X, coefs)
    activations, deltas, scratch = ws.batch(X, to_device(np.arange(X.shape[0]), y))
    shapes = [tuple(p.shape) for p in params]
    cuts = np.cumsum([int(np.prod(shape)) for shape in shapes])

    def evaluate(x):
        """(objective, its gradient) at the flat parameters x."""
        flat = ops.xp.astype(to_device(x, coefs[0]), coefs[0].dtype)
        for p, start, stop, shape in zip(params, [0, *cuts[:-1]], cuts, shapes):
            p[...] = ops.xp.reshape(flat[int(start):int(stop)], shape)
        grads = list(ws.grads)
        coef_grads, intercept_grads = grads[:n_layers], grads[n_layers:]
        with np.errstate(over="ignore", invalid="ignore"):
            value, _ = loss_and_gradients(
                activations, y, coefs, intercepts, activation, settings.alpha,
                deltas, coef_grads, intercept_grads, scratch, output=output,
                sample_weight=sample_weight)
        flat_grad = ops.xp.concat([ops.xp.reshape(g, (-1,))
                                   for g in coef_grads + intercept_grads])
        return float(value), to_host(flat_grad).astype(np.float64)

    def objective(x):
        session.check()
        value, grad = evaluate(x)
        return (value if np.isfinite(value) else np.inf), grad

    def causes():
        return divergence_causes(X, learning_rate=None,
                                 alpha=("alpha", settings.alpha),
                                 y=real_targets(state, y),
                                 sample_weight=sample_weight)

    last = {"x": np.concatenate([to_host(p).ravel() for p in params]).astype(
        np.float64), "nit": 0}

    def keep(intermediate_result):
        last["x"], last["nit"] = intermediate_result.x.copy(), last["nit"] + 1

    result = None
    with session.stage():
        result = scipy.optimize.minimize(
            objective, last["x"], method="L-BFGS-B", jac=True, callback=keep,
            options={"maxfun": settings.max_fun, "maxiter": settings.max_iter,
                     "gtol": settings.tol})
    value, _ = evaluate(last["x"] if result is None else result.x)
    n = X.shape[0] if sample_weight is None else float(ops.xp.sum(sample_weight))
    penalty = l2_penalty(sum(ops.sum_squares(W) for W in coefs), settings.alpha, n)
    state["loss_"] = float(penalty + report_scale(state, y) * (value - penalty))
    check_diverged(value, params,
                   f"Fine-tuning (L-BFGS) diverged: the loss became {value:.3g}.",
                   causes)
    _checked(logits, ops.rows(X, 0, OUTPUT_PROBE), state, state=state,
             causes=causes)
    if result is None:
        state["n_iter_"] = last["nit"]
        warn(f"{settings.name}: L-BFGS interrupted; kept the weights of the "
             f"last completed iteration ({last['nit']}).",
             TrainingInterruptedWarning)
    else:
        state["n_iter_"] = _lbfgs_iterations(result, settings.max_iter)
    if settings.verbose:
        print(f"L-BFGS: {state['n_iter_']} iterations, loss = {state['loss_']:.8f}")
