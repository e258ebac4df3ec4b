"""Tests of DBNRegressor: the same network as MLPRegressor, step for step, and its
behaviour as a scikit-learn regressor (shapes, dtypes, R², early stopping, RBM
pre-training on real-valued X, Poisson loss, continued training)."""

import warnings

import numpy as np
import pytest
from _checks import given_network, network_params, start_both
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sk_dbn._finetune
from sk_dbn import DBNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def linear_data(n=120, n_features=4, n_outputs=None, noise=0.05, seed=0):
    """Standard normal X and a linear target (2-D with ``n_outputs``)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    coef = rng.normal(size=(n_features, n_outputs or 1))
    y = X @ coef + noise * rng.normal(size=(n, n_outputs or 1))
    return X, (y[:, 0] if n_outputs is None else y)


def small(**params):
    return DBNRegressor(**{"hidden_layer_sizes": (8,), "init": "xavier_uniform",
                           "learning_rate_init": 0.02, "max_iter": 5,
                           "random_state": 0, **params})


# ------------------------------------------------ MLPRegressor, step for step
SGD = dict(solver="sgd", momentum=0.0, shuffle=False, learning_rate_init=0.05,
           alpha=0.3, activation="tanh")


@pytest.mark.parametrize("batch_size", [40, 7], ids=["full_batch", "mini_batch"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(
    ("loss", "n_outputs"),
    [("squared_error", None), ("squared_error", 3), ("poisson", None),
     ("poisson", 2)],
    ids=["squared", "squared_3_outputs", "poisson", "poisson_2_outputs"])
def test_same_as_mlp_regressor_step_for_step(loss, n_outputs, weighted, batch_size):
    rng = np.random.default_rng(1)
    n = 30
    X = rng.normal(size=(n, 4))
    k = n_outputs or 1
    Z = X @ rng.normal(size=(4, k)) / 3
    y = rng.poisson(np.exp(Z)).astype(float) if loss == "poisson" else (
        Z + 0.1 * rng.normal(size=(n, k)))
    y = y[:, 0] if n_outputs is None else y
    # no zero weights here: scikit-learn keeps rows of weight 0 in its batches
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    params = dict(SGD, hidden_layer_sizes=(5, 3), loss=loss, batch_size=batch_size)
    coefs, intercepts = given_network([4, 5, 3, k], np.random.default_rng(2))
    dbn, mlp = start_both(DBNRegressor(init="zeros", random_state=0, **params),
                          MLPRegressor(random_state=0, **params), X, y, coefs,
                          intercepts, w)
    # scikit-learn's epoch loss weighs each batch's loss by its number of rows;
    # sk_dbn's by the sum of its weights (documented in sk_dbn._finetune._epoch):
    # the two agree unless there are weights and several batches. The batches'
    # own losses are the same: an MLP fed one batch per call reports them.
    per_batch = None
    if weighted and batch_size < n:
        per_batch = start_both(DBNRegressor(init="zeros", **params),
                               MLPRegressor(random_state=0, **params), X, y,
                               coefs, intercepts, w)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # MLP clips batch_size
        for epoch in range(3):
            dbn.partial_fit(X, y, sample_weight=w)
            mlp.partial_fit(X, y, sample_weight=w)
            for a, b in zip(network_params(dbn), network_params(mlp), strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
            expected = mlp.loss_
            if per_batch is not None:
                losses, sums = [], []
                for start in range(0, n, batch_size):
                    rows = slice(start, start + batch_size)
                    per_batch.partial_fit(X[rows], y[rows], sample_weight=w[rows])
                    losses.append(per_batch.loss_)
                    sums.append(w[rows].sum())
                for a, b in zip(network_params(per_batch), network_params(mlp)):
                    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
                expected = np.dot(losses, sums) / np.sum(sums)
            assert dbn.loss_ == pytest.approx(expected, rel=1e-10)
            assert dbn.n_iter_ == mlp.n_iter_ == 1
            assert dbn.t_ == mlp.t_ == n * (epoch + 1)
    assert dbn.out_activation_ == mlp.out_activation_
    assert dbn.n_outputs_ == mlp.n_outputs_ == k
    assert len(dbn.loss_curve_) == len(mlp.loss_curve_) == 3
    np.testing.assert_allclose(dbn.predict(X), mlp.predict(X), rtol=1e-10)


def test_warm_start_and_partial_fit_count_epochs_as_mlp_regressor():
    X, y = linear_data(60)
    params = dict(hidden_layer_sizes=(6,), max_iter=3, learning_rate_init=0.01,
                  random_state=0, n_iter_no_change=1000)
    dbn = DBNRegressor(warm_start=True, **params).fit(X, y)
    mlp = MLPRegressor(warm_start=True, **params).fit(X, y)
    curve, t = list(dbn.loss_curve_), dbn.t_
    dbn.set_params(max_iter=2).fit(X, y)
    mlp.set_params(max_iter=2).fit(X, y)
    # n_iter_ counts this fit's epochs; the curve and t_ run on
    assert dbn.n_iter_ == mlp.n_iter_ == 2
    assert len(dbn.loss_curve_) == len(mlp.loss_curve_) == 5
    assert dbn.loss_curve_[:3] == curve
    assert dbn.t_ == mlp.t_ == t + 2 * 60
    dbn.partial_fit(X, y)
    mlp.partial_fit(X, y)
    assert dbn.n_iter_ == mlp.n_iter_ == 1
    assert len(dbn.loss_curve_) == len(mlp.loss_curve_) == 6
    assert dbn.t_ == mlp.t_ == t + 3 * 60
    assert dbn.gradient_norms_.shape == (6, 2)  # runs on with the curve
    # a fit without warm_start starts over
    dbn.set_params(warm_start=False).fit(X, y)
    assert dbn.n_iter_ == 2 and len(dbn.loss_curve_) == 2 and dbn.t_ == 2 * 60


@pytest.mark.parametrize("early_stopping", [False, True])
def test_fitted_attributes_are_named_as_mlp_regressors(early_stopping):
    X, y = linear_data(60)
    params = dict(hidden_layer_sizes=(6,), max_iter=3,
                  early_stopping=early_stopping, random_state=0)
    dbn = DBNRegressor(**params).fit(X, y)
    mlp = MLPRegressor(**params).fit(X, y)
    public = {k for k in vars(mlp) if k.endswith("_") and not k.startswith("_")}
    assert public <= set(vars(dbn))
    for name in public:
        a, b = getattr(dbn, name), getattr(mlp, name)
        assert type(a) is type(b) or (np.isscalar(a) and np.isscalar(b)), name
        if isinstance(b, list):
            assert len(a) == len(b), name
        elif isinstance(b, (str, int)) or b is None:
            assert a == b, name


def test_partial_fit_continues_the_same_network():
    X, y = linear_data(60)
    reg = small().partial_fit(X, y)
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 1
    first = [W.copy() for W in reg.coefs_]
    for _ in range(20):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 21 and reg.t_ == 21 * 60
    assert reg.loss_curve_[-1] < 0.5 * reg.loss_curve_[0]
    assert not np.array_equal(first[0], reg.coefs_[0])
    # 21 single-epoch calls are a 21-epoch fit (same seed, same shuffles)
    fit = small(max_iter=21, n_iter_no_change=np.inf).fit(X, y)
    for a, b in zip(network_params(reg), network_params(fit)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    with pytest.raises(ValueError, match="outputs"):
        reg.partial_fit(X, np.column_stack([y, y]))


def test_n_iter_no_change_inf_runs_max_iter_epochs():
    X, y = linear_data(40)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        reg = small(max_iter=30, tol=10.0, n_iter_no_change=np.inf).fit(X, y)
    assert reg.n_iter_ == 30
    # with a finite patience it stops as MLPRegressor does (here: tol is never
    # met, so after the first epoch and n_iter_no_change + 1 more)
    params = dict(hidden_layer_sizes=(8,), learning_rate_init=0.02, max_iter=30,
                  tol=10.0, n_iter_no_change=2, random_state=0)
    reg = DBNRegressor(**params).fit(X, y)
    assert reg.n_iter_ == MLPRegressor(**params).fit(X, y).n_iter_ == 4


def test_changing_the_loss_needs_a_refit():
    X, y = linear_data(40)
    reg = small(warm_start=True).fit(X, np.abs(y))
    reg.set_params(loss="poisson")
    with pytest.raises(ValueError, match="refit without warm_start"):
        reg.fit(X, np.abs(y))
    reg.set_params(warm_start=False).fit(X, np.abs(y))
    assert reg.out_activation_ == "exp"


# ----------------------------------------------------------- shapes and dtypes
def test_single_and_multi_output_shapes():
    X, y = linear_data(50)
    reg = small().fit(X, y)
    assert reg.n_outputs_ == 1 and reg.out_activation_ == "identity"
    assert reg.predict(X).shape == (50,)
    assert reg.coefs_[-1].shape == (8, 1)
    X, Y = linear_data(50, n_outputs=3)
    reg = small().fit(X, Y)
    assert reg.n_outputs_ == 3 and reg.predict(X).shape == (50, 3)
    assert reg.coefs_[-1].shape == (8, 3) and reg.intercepts_[-1].shape == (3,)
    assert reg.n_layers_ == 3


def test_column_y_warns_and_predicts_1d():
    X, y = linear_data(50)
    with pytest.warns(DataConversionWarning):
        col = small().fit(X, y[:, None])
    assert col.n_outputs_ == 1 and col.predict(X).shape == (50,)
    # the same fit as with the 1-D y
    np.testing.assert_array_equal(col.predict(X), small().fit(X, y).predict(X))


@pytest.mark.parametrize("n_outputs", [None, 2])
def test_float32_is_kept(n_outputs):
    X, y = linear_data(50, n_outputs=n_outputs)
    reg = small().fit(X.astype(np.float32), y.astype(np.float32))
    assert all(a.dtype == np.float32 for a in network_params(reg))
    assert reg.predict(X.astype(np.float32)).dtype == np.float32
    ref = small().fit(X, y)
    np.testing.assert_allclose(reg.predict(X), ref.predict(X), rtol=1e-3,
                               atol=1e-3)


@pytest.mark.parametrize("n_outputs", [None, 3])
def test_score_is_r2(n_outputs):
    X, y = linear_data(60, n_outputs=n_outputs)
    reg = small().fit(X[:40], y[:40])
    w = np.random.default_rng(0).uniform(0.1, 2.0, 20)
    assert reg.score(X[40:], y[40:]) == pytest.approx(
        r2_score(y[40:], reg.predict(X[40:])), rel=1e-12)
    assert reg.score(X[40:], y[40:], sample_weight=w) == pytest.approx(
        r2_score(y[40:], reg.predict(X[40:]), sample_weight=w), rel=1e-12)


def test_learns_a_linear_function():
    X, y = linear_data(200, noise=0.1)
    reg = DBNRegressor((16,), learning_rate_init=0.01, max_iter=150,
                       random_state=0).fit(X[:150], y[:150])
    assert reg.score(X[150:], y[150:]) > 0.9


def test_identity_output_is_the_last_affine_layer():
    X, y = linear_data(30)
    reg = small(activation="tanh").fit(X, y)
    H = np.tanh(X @ reg.coefs_[0] + reg.intercepts_[0])
    np.testing.assert_allclose(reg.predict(X),
                               (H @ reg.coefs_[1] + reg.intercepts_[1])[:, 0],
                               rtol=1e-12)


# --------------------------------------------------------------------- Poisson
def test_poisson_predictions_are_exp_of_the_logits_and_positive():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1] + 0.5)).astype(float)
    reg = small(loss="poisson", activation="tanh", max_iter=100).fit(X, y)
    assert reg.out_activation_ == "exp"
    pred = reg.predict(X)
    assert pred.shape == (150,) and (pred > 0).all()
    H = np.tanh(X @ reg.coefs_[0] + reg.intercepts_[0])
    np.testing.assert_allclose(pred, np.exp(H @ reg.coefs_[1] + reg.intercepts_[1])
                               [:, 0], rtol=1e-12)
    # and it has learnt the rate: far better than the constant mean
    assert np.mean((pred - y) ** 2) < 0.8 * np.var(y)
    # far below the data, where a linear output would go negative
    assert (reg.predict(-10 * np.abs(X)) > 0).all()
    # a ReLU network's mean, far enough out, overflows: inf, said, as
    # MLPRegressor's overflow warning says it
    relu = small(loss="poisson", activation="relu", max_iter=20).fit(X, y)
    far = np.vstack([X * 1e4, -X * 1e4])
    with pytest.warns(RuntimeWarning, match="Poisson means overflow to inf"):
        assert np.isinf(relu.predict(far)).any()


def test_poisson_refuses_negative_targets():
    X, y = linear_data(30)
    y = np.abs(y)
    y[3] = -0.5
    with pytest.raises(ValueError, match="negative"):
        small(loss="poisson").fit(X, y)
    with pytest.raises(ValueError, match="negative"):
        small(loss="poisson").partial_fit(X, y)
    small(loss="squared_error").fit(X, y)  # the squared error takes any y


# -------------------------------------------------------------- early stopping
def _spy_on_validation_split(monkeypatch):
    """Record the validation rows fine-tuning holds out."""
    seen = []
    real = sk_dbn._finetune.validation_split

    def spy(*args, **kwargs):
        parts = real(*args, **kwargs)
        seen.append(parts)
        return parts

    monkeypatch.setattr(sk_dbn._finetune, "validation_split", spy)
    return seen


@pytest.mark.parametrize("weighted", [False, True])
def test_early_stopping_records_validation_r2_and_restores_the_best(
        monkeypatch, weighted):
    X, y = linear_data(100, noise=1.0, seed=4)
    w = np.random.default_rng(4).uniform(0.2, 3.0, 100) if weighted else None
    seen = _spy_on_validation_split(monkeypatch)
    params = dict(hidden_layer_sizes=(32,), early_stopping=True,
                  validation_fraction=0.3, learning_rate_init=0.05,
                  n_iter_no_change=5, max_iter=200, random_state=0)
    reg = DBNRegressor(**params).fit(X, y, sample_weight=w)
    (_, X_val, _, y_val, _, w_val), = seen
    assert X_val.shape[0] == 30
    assert reg.best_loss_ is None and len(reg.validation_scores_) == reg.n_iter_
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    best = int(np.argmax(reg.validation_scores_))
    # the scores fell after the best epoch: restoring it is not a no-op
    assert reg.validation_scores_[-1] < reg.best_validation_score_
    assert reg.n_iter_ >= best + 1 + 5
    # the restored network scores the best R² (weighted, with weights) on the
    # held-out rows
    if weighted:
        np.testing.assert_allclose(w_val, w[[np.flatnonzero((X == x).all(1))[0]
                                             for x in X_val]])
    assert r2_score(y_val, reg.predict(X_val), sample_weight=w_val) == \
        pytest.approx(reg.best_validation_score_, rel=1e-10)
    # and is the network of that epoch: a fit stopped there
    ref = DBNRegressor(**{**params, "max_iter": best + 1,
                          "n_iter_no_change": 1000}).fit(X, y, sample_weight=w)
    for a, b in zip(network_params(reg), network_params(ref)):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_needs_two_validation_rows_for_r2():
    """BUG (see the report): R² of a single row is undefined (NaN, with an
    UndefinedMetricWarning). With one validation row every validation score is
    NaN, best_validation_score_ stays -inf, no epoch counts as an improvement or
    a non-improvement, the fit runs all max_iter epochs and keeps the last
    weights. MLPRegressor raises "The validation set is too small" for fewer
    than 2 validation rows; either that, or finite scores, would do."""
    X, y = linear_data(10)
    reg = small(early_stopping=True, validation_fraction=0.1, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # UndefinedMetricWarning
        try:
            reg.fit(X, y)
        except ValueError as exc:
            assert "validation" in str(exc)
            return
    assert np.isfinite(reg.validation_scores_).all()
    assert np.isfinite(reg.best_validation_score_)


# ------------------------------------------------------------- pre-training
def test_rbm_init_on_standardised_x_uses_gaussian_visible_units():
    X, y = linear_data(80)
    X = StandardScaler().fit_transform(X)
    reg = DBNRegressor((6,), init="rbm", activation="logistic", max_iter=3,
                       random_state=0)
    reg.initialize(X, y)
    assert reg.pretrainer_.visible_units_ == "gaussian"
    assert reg.pretrainer_.hidden_units == "bernoulli"
    np.testing.assert_array_equal(reg.coefs_[0], reg.pretrainer_.coefs_[0])
    np.testing.assert_array_equal(reg.intercepts_[0], reg.pretrainer_.intercepts_[0])
    assert reg.coefs_[0] is not reg.pretrainer_.coefs_[0]
    reg.fit(X, y)
    assert np.isfinite(reg.predict(X)).all()
    # a ReLU regressor pre-trains NReLU units
    relu = DBNRegressor((6,), init="rbm", max_iter=3, random_state=0).fit(X, y)
    assert relu.pretrainer_.hidden_units == "relu"
    assert relu.pretrainer_.visible_units_ == "gaussian"


# ------------------------------------------------------------ meta-estimators
def test_pipeline_with_standard_scaler():
    X, y = linear_data(200, noise=0.1)
    X = 100 * X + 50  # far from standardised
    pipe = make_pipeline(StandardScaler(), DBNRegressor(
        (16,), learning_rate_init=0.01, max_iter=150, random_state=0))
    pipe.fit(X[:150], y[:150])
    assert pipe.score(X[150:], y[150:]) > 0.9
    Xs = StandardScaler().fit(X[:150]).transform(X[150:])
    np.testing.assert_array_equal(pipe.predict(X[150:]), pipe[-1].predict(Xs))


def test_transformed_target_regressor():
    X, y = linear_data(200, noise=0.1)
    y = 1000 * y + 5000
    ttr = TransformedTargetRegressor(
        regressor=DBNRegressor((16,), learning_rate_init=0.01, max_iter=150,
                               random_state=0),
        transformer=StandardScaler()).fit(X[:150], y[:150])
    assert ttr.score(X[150:], y[150:]) > 0.9
    scaler = ttr.transformer_
    np.testing.assert_allclose(
        ttr.predict(X[150:]),
        scaler.inverse_transform(ttr.regressor_.predict(X[150:])[:, None])[:, 0],
        rtol=1e-12)


# --------------------------------------------- divergence means divergence
def _mlp_and_dbn(**params):
    shared = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0, **params)
    return MLPRegressor(**shared), DBNRegressor(init="xavier_uniform", **shared)


def test_ordered_targets_without_shuffling_are_not_divergence():
    # sorted targets from ~0 to 1e4: the first mini-batch's loss is no reference
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 1.0, 400)
    X = np.column_stack([t, rng.normal(size=400)])
    y = 1e4 * t**4
    for est in _mlp_and_dbn(shuffle=False, batch_size=20):
        est.fit(X, y)  # MLPRegressor trains; so must DBNRegressor
        assert np.isfinite(est.loss_)


def test_warm_start_on_targets_at_a_new_scale_is_not_divergence():
    X, y = linear_data(n=200)
    for est in _mlp_and_dbn(warm_start=True):
        est.fit(X, y)
        est.fit(X, y * 3000)  # the previous fit's loss is no reference
        assert est.n_iter_ > 0 and np.isfinite(est.loss_)


def test_partial_fit_stream_of_growing_scale_is_not_divergence():
    X, y = linear_data(n=400)
    for est in _mlp_and_dbn():
        for k, scale in enumerate([1, 10, 100, 1000, 10_000]):
            rows = slice(80 * k, 80 * (k + 1))
            est.partial_fit(X[rows], scale * y[rows])
        assert np.isfinite(est.loss_)


@pytest.mark.parametrize(("dtype", "scale"), [(np.float32, 1e20),
                                              (np.float64, 1e200)])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_targets_whose_squared_error_overflows_are_named(dtype, scale, solver):
    X, y = linear_data(n=60)
    est = small(solver=solver)
    with pytest.raises(ValueError, match=r"scale of y \(max \|y\|") as info:
        est.fit(X.astype(dtype), (y * scale).astype(dtype))
    assert "learning_rate_init" not in str(info.value)
    assert not hasattr(est, "coefs_")
