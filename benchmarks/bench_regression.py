"""DBNRegressor vs MLPRegressor: cross-validated R² on three regression data sets.

Data, bundled with scikit-learn or generated (no download):

- ``load_diabetes``: 442 rows, 10 features, one target; small and noisy (least
  squares reaches R² of about 0.49).
- ``make_friedman1``: 2000 rows, 10 uniform features of which 5 enter a
  non-linear function, noise 1; the true function's R² on the noisy targets (the
  ceiling) is printed.
- ``make_regression(n_targets=3)``: 2000 rows, 20 features of which 10 are
  informative, three targets, noise 50. Chosen over ``load_linnerud``, whose 20
  rows leave 4 per test fold (an R² on 4 rows is noise): here the three targets
  share the inputs, which is what one network with three outputs is for, and the
  truth is linear, so the ceiling (the true coefficients' R²) is known and what a
  network falls short of it is what it loses to over-fitting.

Every model is fitted as ``make_pipeline(StandardScaler(),
TransformedTargetRegressor(model, transformer=StandardScaler()))``: inputs and
targets standardised, the same for every model (the targets' scale matters: the
diabetes ones run from 25 to 346, and an identity output starts near 0).

Rows, at the shared architecture and budget below: ``MLPRegressor`` and
``DBNRegressor`` with ``init`` in {xavier_uniform, he_uniform, lsuv, rbm}, for each
activation both estimators have (relu, tanh, logistic); then ``MLPRegressor()``
and ``DBNRegressor()`` at their own defaults, and ``DBNRegressor`` at its defaults
but for ``init``/``activation`` (candidate defaults); ``LinearRegression`` as a
reference. ``init="rbm"`` pre-trains ``StackedRBMTransformer()``'s default 20
epochs (Gaussian visible units, as the standardised X is not in [0, 1]; NReLU
hidden units under relu) on top of the budget.

Shared architecture and budget: one hidden layer of 100 units (both estimators'
default: in a pilot, (64, 64) scored lower for both on all three sets, with
350-1600 training rows of 10-20 features), adam, ``learning_rate_init=1e-3``,
mini-batches of 200, early stopping on 10 % of the training rows with a patience
of 30 epochs (``n_iter_no_change=30``, ``tol=1e-4``), at most 500 epochs. Early
stopping lets each fit run as long as it improves on held-out rows and keeps its
best weights, so the comparison is of what each initialisation reaches, not of
how far 200 epochs get (``MLPRegressor()``'s 200 run out before friedman1
converges, and over-fit diabetes); a patience of 10 epochs (the default) is 20
adam steps on diabetes and stopped some tanh fits on a plateau in the pilot.

Cross-validation: the same ``KFold(5, shuffle=True, random_state=0)`` folds for
every model, each fold fitted with model seed 0 (diabetes, whose folds' R² spread
ten times more: seeds 0, 1 and 2; ``--repeats N``: N seeds everywhere), the models
interleaved in a new order every round. R² is that of the test fold
(averaged over the targets), mean ± std over the fits; ΔR² is the paired
difference with the row's ``MLPRegressor`` on the same fold and seed (mean ±
standard error); fit seconds include the scalers and pre-training.

Run: ``python -m benchmarks.bench_regression [--quick] [--threads N] [--repeats N]``.
"""

import sys
import warnings
from functools import partial
from typing import NamedTuple

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, make_friedman1, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_dbn import DBNRegressor

from ._common import (
    blas_description,
    cpu_model,
    main_for,
    mean_std,
    run_interleaved,
    section,
    table,
    timed,
)

INITS = ("xavier_uniform", "he_uniform", "lsuv", "rbm")
ACTIVATIONS = ("relu", "tanh", "logistic")
SHARED = {"hidden_layer_sizes": (100,), "solver": "adam", "learning_rate_init": 1e-3,
          "batch_size": 200, "max_iter": 500, "early_stopping": True,
          "validation_fraction": 0.1, "n_iter_no_change": 30, "tol": 1e-4}
# DBNRegressor at its defaults but for these: the earlier default init
# (he_uniform, which the run in RESULTS.md showed behind) and the most accurate
# alternative
CANDIDATE_DEFAULTS = ({"init": "he_uniform"}, {"activation": "tanh", "init": "rbm"})
N_SPLITS = 5
DIABETES_SEEDS = 3  # its folds' R² spread 10x the others': more fits to average
MLP_INIT = "Glorot (sklearn)"
QUICK = {"n_splits": 3, "n_samples": 400, "max_iter": 30}


class Row(NamedTuple):
    group: str  # "shared" (the shared budget), "defaults" or "reference"
    model: str
    activation: str
    init: str
    make: object  # make(random_state=seed) -> an unfitted regressor
    reference: int | None  # index of the row ΔR² is taken against


class Fit(NamedTuple):
    r2: float
    seconds: float
    epochs: float
    warned: tuple  # names of the warnings the fit raised, or "failed: <error>"
    max_iter_hit: bool  # a ConvergenceWarning: it ran out of epochs


def _rows(budget, overrides):
    """The rows; ``overrides`` go to the estimators at their defaults too (in
    ``--quick``, a smaller ``max_iter``)."""
    rows = []
    for act in ACTIVATIONS:
        mlp = len(rows)
        rows.append(Row("shared", "MLPRegressor", act, MLP_INIT,
                        partial(MLPRegressor, activation=act, **budget), None))
        rows += [Row("shared", "DBNRegressor", act, init,
                     partial(DBNRegressor, init=init, activation=act, **budget), mlp)
                 for init in INITS]
    mlp = len(rows)
    defaults = DBNRegressor()
    rows.append(Row("defaults", "MLPRegressor()", "relu", MLP_INIT,
                    partial(MLPRegressor, **overrides), None))
    rows.append(Row("defaults", "DBNRegressor()", defaults.activation,
                    defaults.init, partial(DBNRegressor, **overrides), mlp))
    for params in CANDIDATE_DEFAULTS:
        args = ", ".join(f"{k}={v!r}" for k, v in params.items())
        rows.append(Row("defaults", f"DBNRegressor({args})",
                        params.get("activation", defaults.activation),
                        params.get("init", defaults.init),
                        partial(DBNRegressor, **params, **overrides), mlp))
    rows.append(Row("reference", "LinearRegression()", "-", "-",
                    lambda random_state: LinearRegression(), None))
    return rows


def _datasets(n_samples):
    """``[(key, title, X, y, description, model seeds)]``."""
    X, y = load_diabetes(return_X_y=True)
    sets = [("diabetes", "diabetes (load_diabetes)", X, y,
             f"{X.shape[0]} rows, {X.shape[1]} features, one target.",
             DIABETES_SEEDS)]
    X, y = make_friedman1(n_samples, noise=1.0, random_state=0)
    _, clean = make_friedman1(n_samples, noise=0.0, random_state=0)  # same X
    sets.append(("friedman1", "make_friedman1", X, y,
                 f"{n_samples} rows, 10 features (5 informative, non-linear), noise "
                 f"1; ceiling (R² of the noise-free function): "
                 f"{r2_score(y, clean):.4f}.", 1))
    X, y, coef = make_regression(n_samples, 20, n_informative=10, n_targets=3,
                                 noise=50.0, coef=True, random_state=0)
    sets.append(("make_regression", "make_regression, 3 targets", X, y,
                 f"{n_samples} rows, 20 features (10 informative), 3 targets linear "
                 f"in X, noise 50; ceiling (R² of the true coefficients): "
                 f"{r2_score(y, X @ coef):.4f}.", 1))
    return sets


def _fit_score(row, X, y, train, test, seed):
    model = make_pipeline(StandardScaler(), TransformedTargetRegressor(
        regressor=row.make(random_state=seed), transformer=StandardScaler()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            seconds, _ = timed(model.fit, X[train], y[train])
        except ValueError as exc:  # a diverging fit raises, naming its cause
            error = f"failed: {type(exc).__name__}: {str(exc)[:120]}"
            return Fit(np.nan, np.nan, np.nan, (error,), False)
        r2 = r2_score(y[test], model.predict(X[test]))
    epochs = getattr(model[-1].regressor_, "n_iter_", np.nan)
    hit = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    others = {w.category.__name__ for w in caught
              if not issubclass(w.category, ConvergenceWarning)}
    return Fit(r2, seconds, epochs, tuple(sorted(others)), hit)


def measure(rows, X, y, n_splits, seeds):
    """``fits[i][r]``: row ``i``, round ``r`` (a fold and a model seed)."""
    folds = list(KFold(n_splits, shuffle=True, random_state=0).split(X))
    rounds = [(train, test, seed) for seed in seeds for train, test in folds]
    current = {}

    def before_round(r):
        current["round"] = rounds[r]

    configs = [lambda row=row: _fit_score(row, X, y, *current["round"])
               for row in rows]
    return run_interleaved(configs, len(rounds), before_round, progress=True)


def _r2(fits):
    return np.array([f.r2 for f in fits])


def _delta(fits, reference):
    d = _r2(fits) - _r2(reference)
    return f"{d.mean():+.4f} ± {d.std() / np.sqrt(d.size):.4f}"


def _warning_notes(rows, fits):
    """One line per warning class: how many fits of which rows raised it."""
    counts = {}
    for row, row_fits in zip(rows, fits):
        for f in row_fits:
            for name in f.warned:
                per_row = counts.setdefault(name, {})
                label = f"{row.model} {row.activation} {row.init}".strip(" -")
                per_row[label] = per_row.get(label, 0) + 1
    if not counts:
        return ("No warning other than ConvergenceWarning (column \"max_iter "
                "hit\"), no failed fit.")
    n = len(fits[0])
    return "\n".join(
        f"- {name} in: "
        + "; ".join(f"{label} {k}/{n}" for label, k in per_row.items())
        for name, per_row in counts.items())


def _verdict(rows, fits):
    """Best init per activation against that activation's MLPRegressor."""
    parts, met = [], []
    for act in ACTIVATIONS:
        dbn = [i for i, r in enumerate(rows) if r.group == "shared"
               and r.model == "DBNRegressor" and r.activation == act]
        best = max(dbn, key=lambda i: np.nanmean(_r2(fits[i])))
        ref = rows[best].reference
        gap = np.nanmean(_r2(fits[best])) - np.nanmean(_r2(fits[ref]))
        met.append(gap >= 0)
        parts.append(f"{act}: {rows[best].init} ({gap:+.4f})")
    grid = [i for i, r in enumerate(rows) if r.group == "shared"]
    top = {model: max((i for i in grid if rows[i].model == model),
                      key=lambda i: np.nanmean(_r2(fits[i])))
           for model in ("DBNRegressor", "MLPRegressor")}
    best_dbn, best_mlp = top["DBNRegressor"], top["MLPRegressor"]
    gap = np.nanmean(_r2(fits[best_dbn])) - np.nanmean(_r2(fits[best_mlp]))
    return (
        "Best init per activation (mean R² minus that activation's MLPRegressor): "
        + "; ".join(parts) + f". The best init is at least MLPRegressor for "
        f"{sum(met)} of {len(met)} activations. Best DBNRegressor row "
        f"({rows[best_dbn].activation}, {rows[best_dbn].init}) minus best "
        f"MLPRegressor row ({rows[best_mlp].activation}): {gap:+.4f}."
    )


def _report(title, description, rows, fits, budget, seeds, n_splits, note):
    headers = ["model", "activation", "init", "R² (mean ± std)",
               "ΔR² vs MLPRegressor", "epochs", "max_iter hit", "fit s"]
    body = []
    for row, row_fits in zip(rows, fits):
        r2 = _r2(row_fits)
        ok = ~np.isnan(r2)
        epochs = np.array([f.epochs for f in row_fits], dtype=float)
        body.append([
            row.model, row.activation, row.init,
            mean_std(r2[ok]) + ("" if ok.all() else f" ({(~ok).sum()} failed)"),
            "-" if row.reference is None or not ok.all()
            else _delta(row_fits, fits[row.reference]),
            "-" if np.isnan(epochs).all() else f"{np.nanmean(epochs):.0f}",
            "-" if np.isnan(epochs).all()
            else f"{sum(f.max_iter_hit for f in row_fits)}/{len(row_fits)}",
            f"{np.nanmean([f.seconds for f in row_fits]):.2f}",
        ])
    shared = ", ".join(f"{k}={v}" for k, v in budget.items())
    intro = (
        f"{description} CPU: {cpu_model()}; BLAS: {blas_description()}. "
        f"{n_splits}-fold CV (same folds for all), "
        f"model seeds {list(seeds)}: {n_splits * len(seeds)} fits per row. Shared "
        f"budget of the first {len(ACTIVATIONS) * (1 + len(INITS))} rows: {shared}. "
        "ΔR²: paired with the MLPRegressor row of the same activation (the "
        f"defaults rows: with MLPRegressor()), mean ± s.e.{note}\n\n"
        + _verdict(rows, fits) + "\n\n" + _warning_notes(rows, fits)
    )
    return section(f"Regression: {title}", intro, table(headers, body))


def _summary(rows, results):
    """Every DBN/MLP row's mean R² on each data set, ranked (for the defaults)."""
    titles = list(results)
    keep = [i for i, r in enumerate(rows) if r.group != "reference"]
    means = np.array([[np.nanmean(_r2(results[t][i])) for t in titles] for i in keep])
    # rank 1 = best on that data set, among the shared-budget rows only
    grid = [k for k, i in enumerate(keep) if rows[i].group == "shared"]
    ranks = np.full(means.shape, np.nan)
    for j in range(len(titles)):
        order = np.argsort(-means[grid, j])
        ranks[np.array(grid)[order], j] = np.arange(1, len(grid) + 1)
    body = []
    mean_ranks = ranks.mean(axis=1)  # NaN for the rows at the defaults
    for k in sorted(range(len(keep)), key=lambda k: (np.isnan(mean_ranks[k]),
                                                     mean_ranks[k])):
        row = rows[keep[k]]
        mean_rank = "-" if np.isnan(mean_ranks[k]) else f"{mean_ranks[k]:.1f}"
        body.append([row.model, row.activation, row.init]
                    + [f"{m:.4f}" for m in means[k]] + [mean_rank])
    headers = ["model", "activation", "init"] + [f"R² {t}" for t in titles] + [
        "mean rank"]
    intro = (
        f"Mean R² of every row on every data set; the shared-budget rows ranked "
        f"per data set (1 = best of {len(grid)}) and sorted by their mean rank, "
        f"then the rows at the estimators' defaults. CPU: {cpu_model()}."
    )
    return section("Regression: choosing DBNRegressor's defaults", intro,
                   table(headers, body))


def run(quick=False, repeats=None, threads=None):
    n_splits = QUICK["n_splits"] if quick else N_SPLITS
    overrides = {"max_iter": QUICK["max_iter"]} if quick else {}
    budget = {**SHARED, **overrides}
    rows = _rows(budget, overrides)
    parts, results = [], {}
    n_samples = QUICK["n_samples"] if quick else 2000
    note = (f" --quick: every network stops at max_iter={QUICK['max_iter']}, those "
            "at their defaults too: a smoke test, not a result." if quick else "")
    for key, title, X, y, description, n_seeds in _datasets(n_samples):
        seeds = tuple(range(repeats or (1 if quick else n_seeds)))
        fits = results[key] = measure(rows, X, y, n_splits, seeds)
        parts.append(_report(title, description, rows, fits, budget, seeds,
                             n_splits, note))
    parts.append(_summary(rows, results))
    return "\n".join(parts)


def main(argv=None):
    return main_for(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
