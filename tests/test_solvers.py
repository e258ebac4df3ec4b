"""Fine-tuning solvers and their options: L-BFGS, SGD's schedules, dropout."""

import warnings

import numpy as np
import pytest
from _checks import (
    full_batch_gradients,
    given_network,
    network_params,
    numeric_gradient,
    relative_error,
    start_both,
)
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

import sk_dbn._finetune
from sk_dbn import DBNClassifier, DBNRegressor
from sk_dbn._activations import make_activation
from sk_dbn._network import loss_and_gradients
from sk_dbn._optimizers import SGD


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:240] / 16, y[:240]


def _quiet(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def _clf(**params):
    return DBNClassifier(**{"hidden_layer_sizes": (16,), "init": "xavier_uniform",
                            "random_state": 0, **params})


def _data_loss(est, X, y):
    """The training objective of a fitted classifier, recomputed from scratch."""
    coefs, intercepts = est.coefs_, est.intercepts_
    n = X.shape[0]
    acts = [X] + [np.empty((n, W.shape[1])) for W in coefs]
    return loss_and_gradients(
        acts, np.searchsorted(est.classes_, y), coefs, intercepts,
        est._hidden_activation(), est.alpha, [np.empty_like(a) for a in acts[1:]],
        [np.empty_like(W) for W in coefs], [np.empty_like(b) for b in intercepts])[0]


# ------------------------------------------------------------------ L-BFGS
def test_lbfgs_beats_ten_adam_epochs(digits):
    X, y = digits
    lbfgs = _quiet(_clf(solver="lbfgs", max_iter=100), X, y)
    adam = _quiet(_clf(solver="adam", max_iter=10), X, y)
    assert _data_loss(lbfgs, X, y) < 0.5 * _data_loss(adam, X, y)
    # loss_ is the objective at the returned weights
    assert lbfgs.loss_ == pytest.approx(_data_loss(lbfgs, X, y), rel=1e-10)
    # no per-epoch curves, no partial_fit, as in MLPClassifier
    for name in ("loss_curve_", "gradient_norms_", "best_loss_",
                 "validation_scores_"):
        assert not hasattr(lbfgs, name)
    assert not hasattr(lbfgs, "partial_fit")


def test_lbfgs_respects_max_iter_and_max_fun(digits, monkeypatch):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        clf = _clf(solver="lbfgs", max_iter=5, tol=0.0).fit(X, y)
    assert clf.n_iter_ == 5
    calls = []
    real = sk_dbn._finetune.loss_and_gradients

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sk_dbn._finetune, "loss_and_gradients", counted)
    with pytest.warns(ConvergenceWarning):
        _clf(solver="lbfgs", max_iter=1000, max_fun=12, tol=0.0).fit(X, y)
    # scipy stops once the evaluations exceed max_fun (within a line search);
    # one more evaluation reads the final loss
    assert 12 <= len(calls) <= 12 + 1 + 20


def test_lbfgs_with_dropout_is_refused_and_weights_follow(digits):
    X, y = digits
    with pytest.raises(ValueError, match="dropout=0.5 needs a stochastic solver"):
        _clf(solver="lbfgs", dropout=0.5).fit(X, y)
    # L-BFGS takes sample weights as any solver: zero weights drop rows
    w = (np.arange(X.shape[0]) % 3 != 0).astype(float)
    a = _quiet(_clf(solver="lbfgs", max_iter=20), X, y, sample_weight=w)
    b = _quiet(_clf(solver="lbfgs", max_iter=20), X[w > 0], y[w > 0])
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


def test_lbfgs_regressor_and_warm_start_switching_solvers(digits):
    X, _ = digits
    Y = X[:, [10, 20, 30]] + 0.1 * X[:, [11, 21, 31]]
    reg = _quiet(DBNRegressor((16,), solver="lbfgs", max_iter=200, random_state=0),
                 X, Y)
    assert reg.score(X, Y) > 0.9
    # an adam fit continued from L-BFGS weights gets the stochastic records
    reg.set_params(solver="adam", warm_start=True, max_iter=2)
    _quiet(reg, X, Y)
    assert len(reg.loss_curve_) == 2 and reg.n_iter_ == 2
    # and a fresh L-BFGS fit drops them again
    reg.set_params(solver="lbfgs", warm_start=False)
    _quiet(reg, X, Y)
    assert not hasattr(reg, "loss_curve_")


# ---------------------------------------------------------------- schedules
@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
def test_sgd_step_sizes_follow_scikit_learns_schedules(schedule):
    params = [np.zeros(3)]
    ours = SGD(params, None, 0.1, momentum=0.0, schedule=schedule, power_t=0.3)
    ref = SGDOptimizer(params, learning_rate_init=0.1, lr_schedule=schedule,
                       momentum=0.0, power_t=0.3)
    expected_ours, expected_ref = [], []
    for epoch in range(1, 12):
        ours.iteration_ends(epoch * 50)
        ref.iteration_ends(epoch * 50)
        if epoch % 3 == 0:  # no improvement for n_iter_no_change epochs
            stop_ours = ours.trigger_stopping("msg", False)
            stop_ref = ref.trigger_stopping("msg", False)
            assert stop_ours == stop_ref
        expected_ours.append(ours.learning_rate)
        expected_ref.append(ref.learning_rate)
    np.testing.assert_allclose(expected_ours, expected_ref, rtol=1e-15)
    if schedule == "invscaling":
        assert expected_ours[-1] == pytest.approx(0.1 / (11 * 50 + 1) ** 0.3)
    if schedule == "adaptive":
        assert expected_ours[-1] == pytest.approx(0.1 / 5**3)


@pytest.mark.parametrize("schedule", ["adaptive", "constant"])
def test_partial_fit_keeps_mlps_stopping_bookkeeping(schedule):
    """Each partial_fit epoch updates best_loss_ and the no-improvement count,
    and the adaptive schedule divides its step after stalled calls, exactly as
    MLPClassifier.partial_fit (the same weights call after call)."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:60] / 16, y[:60] % 3
    params = dict(hidden_layer_sizes=(6,), activation="tanh", solver="sgd",
                  momentum=0.0, learning_rate=schedule, learning_rate_init=0.3,
                  tol=10.0, n_iter_no_change=2, shuffle=False, batch_size=60)
    coefs, intercepts = given_network([64, 6, 3], np.random.default_rng(0))
    dbn, mlp = start_both(DBNClassifier(init="zeros", **params),
                          MLPClassifier(**params), X, y, coefs, intercepts)
    for _ in range(8):  # tol=10: no call improves, the step is divided twice
        dbn.partial_fit(X, y, classes=[0, 1, 2])
        mlp.partial_fit(X, y, classes=[0, 1, 2])
        for a, b in zip(network_params(dbn), network_params(mlp), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
        assert dbn.best_loss_ == pytest.approx(mlp.best_loss_, rel=1e-9)
        assert dbn._no_improvement_count == mlp._no_improvement_count
    assert dbn.best_loss_ == pytest.approx(min(dbn.loss_curve_), rel=1e-12)
    if schedule == "adaptive":
        assert mlp._optimizer.learning_rate < 0.3 / 5  # it was divided


def test_adaptive_schedule_stops_when_the_step_is_tiny():
    opt = SGD([np.zeros(2)], None, 1e-5, schedule="adaptive")
    assert opt.trigger_stopping("m", False) is False  # 1e-5 -> 2e-6
    assert opt.trigger_stopping("m", False) is False  # 2e-6 -> 4e-7
    assert opt.trigger_stopping("m", False) is True   # at most 1e-6: stop


def test_invscaling_step_in_a_fit(digits):
    """The second partial_fit's update is exactly -lr_init / (t + 1)**power_t
    times the gradient at the weights the first one left (plain SGD)."""
    X, y = digits
    X, y = X[:50], y[:50]
    clf = _clf(solver="sgd", momentum=0.0, learning_rate="invscaling",
               learning_rate_init=0.5, power_t=0.25, alpha=0.0, shuffle=False,
               batch_size=50)
    clf.partial_fit(X, y, classes=np.unique(y))
    before = [W.copy() for W in clf.coefs_]
    n = X.shape[0]
    _, grads, _ = full_batch_gradients(clf, X, y, alpha=0.0)
    clf.partial_fit(X, y)
    step = 0.5 / (clf.t_ - n + 1) ** 0.25
    for W0, W1, g in zip(before, clf.coefs_, grads):
        np.testing.assert_allclose(W1, W0 - step * g, rtol=1e-10, atol=1e-13)


def test_adaptive_schedule_continues_where_constant_stops(digits):
    from sklearn.neural_network import MLPClassifier

    X, y = digits
    params = dict(solver="sgd", learning_rate_init=0.2, tol=10.0,
                  n_iter_no_change=1, max_iter=30)
    for schedule in ("constant", "adaptive"):
        ours = _quiet(_clf(learning_rate=schedule, **params), X, y)
        mlp = _quiet(MLPClassifier((16,), learning_rate=schedule, random_state=0,
                                   **params), X, y)
        assert ours.n_iter_ == mlp.n_iter_
    # tol=10: no epoch after the first improves; constant stops after
    # n_iter_no_change + 1 of them, adaptive divides its step by 5 each time
    # until it is at most 1e-6 (0.2 / 5**8 < 1e-6 < 0.2 / 5**7)
    assert ours.n_iter_ == 1 + 2 * 9
    assert ours._optimizer_state["divisions"] == 8


# ------------------------------------------------------------------ dropout
def test_dropout_is_reproducible_changes_training_not_prediction(digits):
    X, y = digits
    a = _quiet(_clf(dropout=0.5, max_iter=5), X, y)
    b = _quiet(_clf(dropout=0.5, max_iter=5), X, y)
    other_seed = _quiet(_clf(dropout=0.5, max_iter=5, random_state=1), X, y)
    plain = _quiet(_clf(dropout=0.0, max_iter=5), X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert not np.allclose(a.coefs_[0], plain.coefs_[0])
    assert not np.allclose(a.coefs_[1], other_seed.coefs_[1])
    # prediction uses the whole network: the same weights without dropout
    # predict the same
    twin = _quiet(_clf(dropout=0.0, max_iter=5), X, y)
    twin.coefs_, twin.intercepts_ = a.coefs_, a.intercepts_
    np.testing.assert_array_equal(a.predict_proba(X), twin.predict_proba(X))
    np.testing.assert_array_equal(a.predict_proba(X), a.predict_proba(X))


def test_dropout_masks_keep_the_expected_output(digits):
    from sk_dbn._network import BackpropWorkspace
    from sk_dbn._rng import device_draws

    X, _ = digits
    ws = BackpropWorkspace(200, X, [np.zeros((64, 300)), np.zeros((300, 10))],
                           dropout=0.25)
    masks, _ = ws.draw_dropout(200, device_draws(np.random.default_rng(0), X))
    m = masks[0]
    assert set(np.unique(m)) == {0.0, 1 / 0.75}
    assert (m == 0).mean() == pytest.approx(0.25, abs=0.01)
    assert m.mean() == pytest.approx(1.0, abs=0.02)  # inverted: E[mask] = 1


@pytest.mark.parametrize("activation", ["logistic", "relu", "maxout"])
def test_gradient_check_with_fixed_dropout_masks(activation):
    rng = np.random.default_rng(3)
    act = make_activation(activation, maxout_pieces=2)
    k = act.width_factor
    n, sizes = 7, [4, 5, 3, 3]
    X = rng.normal(size=(n, sizes[0]))
    y = np.arange(n) % 3
    coefs = [rng.normal(size=(sizes[0], 5 * k)), rng.normal(size=(5, 3 * k)),
             rng.normal(size=(3, 3))]
    intercepts = [rng.normal(size=W.shape[1]) * 0.1 for W in coefs]
    masks = [(rng.random((n, m)) < 0.6) / 0.6 for m in (5, 3)]

    def run(grads=None):
        acts = [X] + [np.empty((n, w)) for w in (5, 3, 3)]
        deltas = [np.empty((n, W.shape[1])) for W in coefs]
        cg = [np.empty_like(W) for W in coefs]
        ig = [np.empty_like(b) for b in intercepts]
        loss, _ = loss_and_gradients(
            acts, y, coefs, intercepts, act, 0.1, deltas, cg, ig,
            dropout=(masks, [np.empty((n, w)) for w in (5, 3)]))
        if grads is not None:
            grads.extend(cg + ig)
        return loss

    analytic = []
    run(analytic)
    analytic = np.concatenate([g.ravel() for g in analytic])
    assert relative_error(numeric_gradient(run, coefs + intercepts), analytic) < 1e-6
    # the masks matter: dropped units get no gradient through them
    first = analytic[: coefs[0].size].reshape(coefs[0].shape)
    dropped = masks[0].sum(axis=0) == 0
    if dropped.any() and k == 1:
        assert np.all(first[:, dropped] == 0)


# ------------------------------------- the stopping records, as scikit-learn's
_RECORDS = ("loss_curve_", "best_loss_", "validation_scores_",
            "best_validation_score_")


def _records(est):
    """For each record: absent, None, or the kind of value it holds."""
    return {name: "absent" if not hasattr(est, name) else
            None if getattr(est, name) is None else
            "list" if isinstance(getattr(est, name), list) else "number"
            for name in _RECORDS}


@pytest.mark.parametrize("steps", [
    [("fit", dict(solver="adam"))], [("fit", dict(solver="sgd"))],
    [("fit", dict(solver="adam", early_stopping=True))],
    [("fit", dict(solver="lbfgs"))],
    [("partial_fit", {})], [("partial_fit", {}), ("partial_fit", {})],
    [("fit", {}), ("fit", dict(warm_start=True))],
], ids=["adam", "sgd", "early_stopping", "lbfgs", "partial_fit", "partial_fit_2",
        "warm_start"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_stopping_records_exist_and_are_none_as_in_mlp(kind, steps, digits):
    """validation_scores_ and best_validation_score_ are None without early
    stopping, best_loss_ None with it; an L-BFGS fit has none of them; as in
    MLPClassifier and MLPRegressor, for both networks."""
    X, y = digits
    X, y = X[:120], y[:120]
    if kind == "classifier":
        mlp, dbn = MLPClassifier, DBNClassifier
        fit_kw = {"classes": np.unique(y)}
    else:
        mlp, dbn, y, fit_kw = MLPRegressor, DBNRegressor, y.astype(float), {}
    ours = dbn(hidden_layer_sizes=(6,), init="xavier_uniform", max_iter=3,
               random_state=0)
    theirs = mlp(hidden_layer_sizes=(6,), max_iter=3, random_state=0)
    for est in (ours, theirs):
        for method, params in steps:
            est.set_params(**params)
            _quiet(est, X, y) if method == "fit" else est.partial_fit(
                X, y, **(fit_kw if isinstance(est, (MLPClassifier, DBNClassifier))
                         else {}))
    assert _records(ours) == _records(theirs)


@pytest.mark.parametrize("limit", [dict(max_iter=2), dict(max_fun=4)])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_lbfgs_limits_warn_as_mlp(kind, limit, digits):
    X, y = digits
    mlp, dbn = ((MLPClassifier, DBNClassifier) if kind == "classifier" else
                (MLPRegressor, DBNRegressor))
    y = y if kind == "classifier" else y.astype(float)
    for est in (mlp(hidden_layer_sizes=(6,), solver="lbfgs", random_state=0,
                    **limit),
                dbn(hidden_layer_sizes=(6,), init="xavier_uniform", solver="lbfgs",
                    random_state=0, **limit)):
        with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
            est.fit(X[:120], y[:120])
