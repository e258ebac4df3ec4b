"""Backprop fine-tuning of a network's fitted state: epochs, curves, early stopping.

:func:`fine_tune` trains ``state`` (a dict of the estimator's fitted attributes,
built aside by the estimator and committed by it afterwards) with the
estimator's hyperparameters, exactly as ``MLPClassifier``'s solvers do. The
stochastic ones (``"sgd"``, ``"adam"``): shuffled mini-batches (optionally with
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

import numpy as np
import scipy.optimize
from sklearn.base import is_regressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches

from ._base import (
    DivergenceError,
    TrainingInterruptedWarning,
    all_finite,
    copy_arrays,
    warn,
)
from ._network import (
    BackpropWorkspace,
    l2_penalty,
    loss_and_gradients,
    output_loss_delta,
)
from ._optimizers import make_optimizer
from ._transaction import check_diverged, divergence_causes

LOSS_GROWTH = 1e6
"""An epoch's loss this many times the reference of the fit (see
:func:`reference_loss`) means the fit diverged: cross-entropy and squared error
fall as a network trains, and no schedule makes them rise by six orders of
magnitude (SGD with too large a step or L2 decay does)."""

OUTPUT_PROBE = 1000
"""Training rows whose outputs are checked for overflow at the end of a fit."""


def batch_size(est, n_samples):
    """Mini-batch size: ``"auto"`` is ``min(200, n_samples)``, never > n_samples
    (a larger ``batch_size`` is clipped with ``MLPClassifier``'s warning)."""
    if est.batch_size == "auto":
        return min(200, n_samples)
    if est.batch_size > n_samples:
        warn("Got `batch_size` less than 1 or larger than sample size. It is "
             "going to be clipped", UserWarning)
    return min(int(est.batch_size), n_samples)


def min_validation_rows(est):
    """The validation rows early stopping needs: 2 for a regressor's R² (which
    one row does not define), else 1."""
    return 2 if is_regressor(est) else 1


def check_validation_size(n, fraction, min_val):
    """The validation rows of an early-stopping split of ``n`` rows; a
    ``ValueError`` naming ``validation_fraction`` when the split leaves fewer
    than ``min_val`` of them or no training row."""
    n_val = int(np.ceil(fraction * n))
    if n_val < min_val or n - n_val < 1:
        raise ValueError(
            f"The validation set is too small: early_stopping=True needs at least "
            f"one training and {min_val} validation row(s); validation_fraction="
            f"{fraction} of {n} samples gives {n_val} validation rows. Increase "
            "validation_fraction or the size of your dataset."
        )
    return n_val


def validation_split(X, y, sample_weight, fraction, rng, stratify, min_val=1):
    """``X_train, X_val, y_train, y_val, w_train, w_val``; stratified by ``y``
    where possible (the weights, None or an array, follow their rows).

    As ``MLPClassifier``, a single-output classifier's split is stratified; where
    that cannot be (a class with a single row, or fewer validation or training
    rows than classes, as in tiny data sets) it falls back to a plain random
    split. ``min_val``: the validation rows the score needs (2 for R², which
    one row does not define).
    """
    n = X.shape[0]
    n_val = check_validation_size(n, fraction, min_val)
    strata = None
    if stratify:
        counts = np.unique(y, return_counts=True)[1]
        if counts.min() >= 2 and min(n_val, n - n_val) >= counts.shape[0]:
            strata = y
    arrays = [X, y] + ([] if sample_weight is None else [sample_weight])
    parts = train_test_split(*arrays, test_size=n_val, stratify=strata,
                             random_state=int(rng.integers(2**31 - 1)))
    return (*parts, None, None) if sample_weight is None else tuple(parts)


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
            "_no_improvement_count": 0}


STOCHASTIC_STATE = tuple(stochastic_state(1))
"""Names of that state (fitted attributes that an L-BFGS fit does not have)."""


def real_targets(state, y):
    """``y`` when it holds real-valued targets (a regressor's), else None."""
    return y if state["out_activation_"] in ("identity", "exp") else None


def reference_loss(state, y, sample_weight, first_batch_loss):
    """The loss against which an epoch's is judged diverged (times
    :data:`LOSS_GROWTH`), for the data of this call only.

    The largest of 1, the loss of this call's first mini-batch before its
    update (the network as it starts), and the loss of a network whose outputs
    are all 0 on all of ``y`` (for squared error, half the mean squared target:
    targets far from 0 or far apart make a large loss that is not divergence,
    whether they come sorted, at a new scale after ``warm_start``, or growing
    over ``partial_fit`` calls). Infinite when the targets' own loss overflows
    the dtype.
    """
    zeros = np.zeros((y.shape[0], state["coefs_"][-1].shape[1]),
                     dtype=state["coefs_"][-1].dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        blind = report_scale(state, y) * output_loss_delta(
            zeros, y, zeros.copy(), sample_weight, state["out_activation_"])
    return max(1.0, first_batch_loss, blind)


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


def fine_tune(est, state, X, y, *, sample_weight, incremental, rng, session,
              unlabelled=None):
    """Fine-tune ``state`` in place by ``est.solver`` (see :func:`fine_tune_sgd`
    and :func:`fine_tune_lbfgs`; ``unlabelled`` is for the stochastic solvers
    only)."""
    if est.solver == "lbfgs":
        return fine_tune_lbfgs(est, state, X, y, sample_weight=sample_weight,
                               session=session)
    for name, value in stochastic_state(len(state["coefs_"])).items():
        state.setdefault(name, value)  # e.g. after an L-BFGS fit
    return fine_tune_sgd(est, state, X, y, sample_weight=sample_weight,
                         incremental=incremental, rng=rng, session=session,
                         unlabelled=unlabelled)


def fine_tune_sgd(est, state, X, y, *, sample_weight, incremental, rng, session,
                  unlabelled=None):
    """Fine-tune ``state`` in place: one epoch (``incremental``) or up to max_iter.

    ``est._validation_score(state, X_val, y_val, w_val)`` is the
    validation score of early stopping, ``est._logits`` the network's output.
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
    early_stopping = est.early_stopping and not incremental
    reset_stopping_state(state, early_stopping)
    state["n_iter_"] = 0
    if early_stopping:
        # stratified for single-label classes; R² needs two validation rows
        X, X_val, y, y_val, sample_weight, w_val = validation_split(
            X, y, sample_weight, est.validation_fraction, rng,
            stratify=not is_regressor(est) and y.ndim == 1,
            min_val=min_validation_rows(est))
    coefs, intercepts = state["coefs_"], state["intercepts_"]
    params = coefs + intercepts
    optimizer = make_optimizer(est.solver, params, state["_optimizer_state"], est,
                               time_step=state["t_"])
    state["_optimizer_state"] = optimizer.state
    ws = BackpropWorkspace(batch_size(est, X.shape[0]), X, coefs, est.dropout)
    best, converged, reference = None, False, None
    big = float(np.finfo(X.dtype).max)

    def causes():
        step = est.learning_rate_init / ws.batch_size if est.solver == "sgd" else None
        return divergence_causes(X, learning_rate=("learning_rate_init",
                                                   est.learning_rate_init),
                                 alpha=("alpha", est.alpha), step_scale=step,
                                 y=real_targets(state, y),
                                 sample_weight=sample_weight)

    with session.stage():
        for _ in range(1 if incremental else est.max_iter):
            start = time.time()
            loss, norms, first = _epoch(est, state, X, y, sample_weight, ws,
                                        optimizer, rng, session, unlabelled)
            # a loss beyond the weights' dtype (a huge L2 term in float32) or
            # LOSS_GROWTH times the reference of this call, or an optimizer state
            # that overflowed, is divergence too
            if reference is None:
                reference = reference_loss(state, y, sample_weight, first)
            limit = min(big, LOSS_GROWTH * reference)
            check_diverged(loss if loss < limit else np.inf,
                           params + optimizer_arrays(optimizer),
                           f"Fine-tuning diverged at epoch "
                           f"{state['n_iter_'] + 1}: the loss became {loss:.3g}.",
                           causes)
            state["n_iter_"] += 1
            state["loss_"] = loss
            state["loss_curve_"].append(loss)
            state["gradient_norms_"] = np.vstack([state["gradient_norms_"], norms])
            if est.verbose:
                print(f"Iteration {state['n_iter_']}, loss = {loss:.8f}, "
                      f"{time.time() - start:.2f} s")
            # MLPClassifier's bookkeeping, also for a partial_fit call (its one
            # epoch counts towards best_loss_ and the adaptive schedule)
            if early_stopping:
                value = _checked(est._validation_score, state, X_val, y_val, w_val,
                                 state=state, causes=causes)
                state["validation_scores_"].append(value)
                if est.verbose:
                    print(f"Validation score: {value:f}")
                if _improved(est, state, -value, -state["best_validation_score_"]):
                    best = copy_arrays(params)
                state["best_validation_score_"] = max(
                    state["best_validation_score_"], value)
            else:
                _improved(est, state, loss, state["best_loss_"])
                state["best_loss_"] = min(state["best_loss_"], loss)
            if unlabelled is not None and unlabelled.ramping(
                    len(state["loss_curve_"]) - 1):  # the epoch just run
                state["_no_improvement_count"] = 0
                if not early_stopping:
                    state["best_loss_"] = loss
            optimizer.iteration_ends(state["t_"])
            if state["_no_improvement_count"] > est.n_iter_no_change:
                what = "Validation score" if early_stopping else "Training loss"
                if optimizer.trigger_stopping(
                        f"{what} did not improve more than tol={est.tol:f} for "
                        f"{est.n_iter_no_change} consecutive epochs.", est.verbose):
                    converged = True
                    break
                state["_no_improvement_count"] = 0
            if incremental:
                break
    # finite weights whose outputs overflow on the training data diverged too
    _checked(est._logits, X[:OUTPUT_PROBE], state, state=state, causes=causes)
    if best is not None:
        for p, b in zip(params, best):
            p[...] = b
    if session.interrupted:
        warn(f"{type(est).__name__}: fine-tuning interrupted; kept the weights of "
             + ("the best validation score" if best is not None else
                "the last completed mini-batch")
             + f" after {state['n_iter_']} complete epochs.",
             TrainingInterruptedWarning)
    elif not (incremental or converged):
        warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached "
             "and the optimization hasn't converged yet.", ConvergenceWarning)


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


def optimizer_arrays(optimizer):
    """Every array of an optimizer's state (velocities, moments)."""
    return [a for v in optimizer.state.values() if isinstance(v, list) for a in v]


def _improved(est, state, value, best):
    """Count epochs without a ``tol`` improvement of ``value`` (lower is better);
    True if ``value`` is a new best."""
    if value > best - est.tol:
        state["_no_improvement_count"] += 1
    else:
        state["_no_improvement_count"] = 0
    return value < best


def _epoch(est, state, X, y, sample_weight, ws, optimizer, rng, session,
           unlabelled=None):
    """One pass of backprop: (mean loss, mean gradient norm per layer, the loss
    of the first mini-batch, taken before its update).

    With ``sample_weight``, each mini-batch's loss is its weighted mean, its L2
    term is divided by the sum of its weights (``MLPClassifier``'s convention),
    and the epoch's loss is the mean of the batches' losses weighted by their
    sums of weights. ``unlabelled`` adds its term to every mini-batch, and
    makes the epoch as long as a pass over its rows (repeating labelled rows).
    """
    activation = est._hidden_activation(state)
    output = state["out_activation_"]
    report = report_scale(state, y)
    coefs, intercepts = state["coefs_"], state["intercepts_"]
    params = coefs + intercepts
    n_samples, n_layers = X.shape[0], len(coefs)
    order = rng.permutation(n_samples) if est.shuffle else np.arange(n_samples)
    if unlabelled is not None:  # as many labelled mini-batches as unlabelled ones
        order = unlabelled.labelled_order(order, ws.batch_size, rng)
    total_loss, total_weight = 0.0, 0.0
    norms, n_batches, first = np.zeros(n_layers), 0, None
    # the L2 term and the sums of squares (for the penalty and gradient_norms_)
    # are taken inside the optimiser's cache-sized chunks
    sums = np.zeros((len(params), 2))
    for batch in gen_batches(order.shape[0], ws.batch_size):
        idx = order[batch]
        w = None if sample_weight is None else sample_weight[idx]
        n = idx.shape[0] if w is None else float(w.sum())
        activations, deltas, scratch = ws.batch(X, idx)
        data_loss = loss_and_gradients(
            activations, y[idx], coefs, intercepts, activation, 0.0, deltas,
            ws.grads[:n_layers], ws.grads[n_layers:], scratch, output=output,
            sample_weight=w, dropout=ws.draw_dropout(idx.shape[0], rng),
        )
        if unlabelled is not None:
            data_loss += unlabelled.add(ws.grads, rng, len(state["loss_curve_"]))
        sums[...] = 0
        optimizer.update(params, ws.grads,
                         [est.alpha / n] * n_layers + [0.0] * n_layers, sums)
        loss = report * data_loss + l2_penalty(sums[:n_layers, 1].sum(), est.alpha,
                                               n)
        total_loss += n * loss
        total_weight += n
        first = loss if first is None else first
        norms += np.sqrt(sums[:n_layers, 0])
        n_batches += 1
        state["t_"] += idx.shape[0]
        session.check()
    return total_loss / total_weight, norms / n_batches, first


def fine_tune_lbfgs(est, state, X, y, *, sample_weight, session):
    """L-BFGS-B on the whole training set, as ``MLPClassifier(solver="lbfgs")``:
    at most ``max_iter`` iterations and ``max_fun`` loss evaluations, ``tol`` the
    projected-gradient tolerance; ``n_iter_`` the iterations run. A first Ctrl-C
    keeps the last completed iteration's weights.

    The objective is the one whose gradient backprop computes (for several
    squared-error outputs, their sum; ``loss_`` reports it as ``MLPRegressor``
    does, averaged over the outputs).
    """
    coefs, intercepts = state["coefs_"], state["intercepts_"]
    params = coefs + intercepts
    n_layers = len(coefs)
    activation = est._hidden_activation(state)
    output = state["out_activation_"]
    ws = BackpropWorkspace(X.shape[0], X, coefs)
    activations, deltas, scratch = ws.batch(X, np.arange(X.shape[0]))
    shapes = [p.shape for p in params]
    cuts = np.cumsum([p.size for p in params])[:-1]

    def evaluate(x):
        """(objective, its gradient) at the flat parameters x."""
        for p, part, shape in zip(params, np.split(x, cuts), shapes):
            p[...] = part.reshape(shape)
        with np.errstate(over="ignore", invalid="ignore"):
            value = loss_and_gradients(
                activations, y, coefs, intercepts, activation, est.alpha, deltas,
                ws.grads[:n_layers], ws.grads[n_layers:], scratch, output=output,
                sample_weight=sample_weight)
        grad = np.concatenate([g.ravel() for g in ws.grads]).astype(np.float64)
        return value, grad

    def objective(x):
        session.check()
        value, grad = evaluate(x)
        return (value if np.isfinite(value) else np.inf), grad

    def causes():
        return divergence_causes(X, learning_rate=None, alpha=("alpha", est.alpha),
                                 y=real_targets(state, y),
                                 sample_weight=sample_weight)

    last = {"x": np.concatenate([p.ravel() for p in params]).astype(np.float64),
            "nit": 0}

    def keep(intermediate_result):
        last["x"], last["nit"] = intermediate_result.x.copy(), last["nit"] + 1

    result = None
    with session.stage():
        result = scipy.optimize.minimize(
            objective, last["x"], method="L-BFGS-B", jac=True, callback=keep,
            options={"maxfun": est.max_fun, "maxiter": est.max_iter,
                     "gtol": est.tol})
    value, _ = evaluate(last["x"] if result is None else result.x)
    n = X.shape[0] if sample_weight is None else float(sample_weight.sum())
    penalty = l2_penalty(sum(float(np.vdot(W, W)) for W in coefs), est.alpha, n)
    state["loss_"] = float(penalty + report_scale(state, y) * (value - penalty))
    check_diverged(value, params,
                   f"Fine-tuning (L-BFGS) diverged: the loss became {value:.3g}.",
                   causes)
    _checked(est._logits, X[:OUTPUT_PROBE], state, state=state, causes=causes)
    if result is None:
        state["n_iter_"] = last["nit"]
        warn(f"{type(est).__name__}: L-BFGS interrupted; kept the weights of the "
             f"last completed iteration ({last['nit']}).",
             TrainingInterruptedWarning)
    else:
        state["n_iter_"] = _lbfgs_iterations(result, est.max_iter)
    if est.verbose:
        print(f"L-BFGS: {state['n_iter_']} iterations, loss = {state['loss_']:.8f}")
