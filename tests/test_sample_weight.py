"""Tests of ``sample_weight`` in DBNClassifier, DBNRegressor and
StackedRBMTransformer.

The meaning is MLPClassifier's: each mini-batch's loss is the weighted mean of
its rows' losses and its L2 term is divided by the sum of its weights. The RBM
statistics are weighted means too (CD's negative phase weighted by its row's
weight, PCD's chains equally). So:

- a row of weight 0 is exactly a row that is not there (bit-identical fits, even
  with mini-batches and RBM sampling: such rows are dropped first);
- an integer weight is exactly the row repeated for a full-batch fit with a
  deterministic initialisation, and in distribution otherwise (the tests of the
  latter are designed to fail when the weights are ignored);
- pre-training sees every row's weight, fine-tuning the labelled rows' only.
"""

import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from _checks import given_network, network_params, start_both
from scipy.special import expit
from sklearn.base import clone
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sk_dbn._dbn
from sk_dbn import (
    DBNClassifier,
    DBNRegressor,
    StackedRBMTransformer,
    _likelihood,
    _rbm,
    _standardize,
)
from sk_dbn._rng import device_draws

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _free_energy(V, W, b_h, b_v):
    """The free energy of each row of ``V`` (:func:`sk_dbn._likelihood.free_energy`)."""
    return _likelihood.free_energy(V @ b_v, V @ W + b_h)


def data(n=48, n_features=5, seed=0):
    """X in [0, 1], binary, 3-class, multilabel and real targets, and integer
    weights 0..3 with zeros at the start, in the middle and at the end."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features))
    targets = {
        "binary": (X[:, 0] + X[:, 1] > 1).astype(int),
        "multiclass": np.digitize(X[:, 2], [0.33, 0.66]),
        "multilabel": (X[:, :3] > 0.5).astype(int),
        "real": X @ rng.normal(size=n_features),
        "real_2": X @ rng.normal(size=(n_features, 2)),
    }
    w = rng.integers(1, 4, n).astype(float)
    w[[0, 1, n // 2, n - 1]] = 0.0
    return X, targets, w


def assert_same_network(a, b, rtol=None):
    for u, v in zip(network_params(a), network_params(b), strict=True):
        if rtol is None:
            np.testing.assert_array_equal(u, v)
        else:
            np.testing.assert_allclose(u, v, rtol=rtol, atol=rtol)


# ------------------------------------------- MLPClassifier's meaning, step for step
@pytest.mark.parametrize("batch_size", [40, 7], ids=["full_batch", "mini_batch"])
@pytest.mark.parametrize("n_classes", [2, 3], ids=["binary", "multiclass"])
def test_weighted_classifier_same_as_mlp_classifier(n_classes, batch_size):
    """Weighted batches of a binary (one logistic unit) and a multiclass (softmax)
    classifier, step for step as MLPClassifier's, L2 term included (the
    multilabel and regression cases: test_multilabel.py, test_regressor.py)."""
    rng = np.random.default_rng(5)
    n, sizes = 30, [4, 5, 1 if n_classes == 2 else n_classes]
    X = rng.normal(size=(n, 4))
    y = np.digitize(X[:, 0] + 0.5 * rng.normal(size=n),
                    [0.0] if n_classes == 2 else [-0.5, 0.5])
    w = rng.uniform(0.2, 3.0, n)  # no zeros: scikit-learn keeps them in batches
    coefs, intercepts = given_network(sizes, rng)
    params = dict(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0,
                  shuffle=False, learning_rate_init=0.1, alpha=0.3,
                  activation="tanh", batch_size=batch_size, random_state=0)
    dbn, mlp = start_both(DBNClassifier(init="zeros", **params),
                          MLPClassifier(**params), X, y, coefs, intercepts, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # MLP clips batch_size
        for _ in range(3):
            dbn.partial_fit(X, y, sample_weight=w)
            mlp.partial_fit(X, y, sample_weight=w, classes=np.arange(n_classes))
            for a, b in zip(network_params(dbn), network_params(mlp), strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
            if batch_size >= n:  # (several weighted batches: test_regressor.py)
                assert dbn.loss_ == pytest.approx(mlp.loss_, rel=1e-10)
    np.testing.assert_allclose(dbn.predict_proba(X), mlp.predict_proba(X),
                               rtol=1e-10)


# ------------------------------------------------- weight 0 == the row dropped
NETWORKS = {
    "classifier_rbm": lambda: DBNClassifier(
        (6,), init=StackedRBMTransformer((6,), n_iter=3, batch_size=8),
        batch_size=8, max_iter=4, random_state=0),
    "classifier_rbm_early_stopping": lambda: DBNClassifier(
        (6,), init="rbm", batch_size=8, max_iter=4, early_stopping=True,
        validation_fraction=0.25, random_state=0),
    "classifier_lsuv_multiclass": lambda: DBNClassifier(
        (6,), init="lsuv", activation="tanh", batch_size=8, max_iter=4,
        random_state=0),
    "classifier_multilabel": lambda: DBNClassifier(
        (6,), init="rbm", batch_size=8, max_iter=4, random_state=0),
    "regressor_lsuv": lambda: DBNRegressor(
        (6,), init="lsuv", batch_size=8, max_iter=4, random_state=0),
    "regressor_rbm_2_outputs": lambda: DBNRegressor(
        (6,), init="rbm", activation="logistic", batch_size=8, max_iter=4,
        random_state=0),
    "regressor_rbm_gaussian": lambda: DBNRegressor(
        (6,), init="rbm", batch_size=8, max_iter=4, random_state=0),
}
TARGET_OF = {"classifier_lsuv_multiclass": "multiclass",
             "classifier_multilabel": "multilabel", "regressor_lsuv": "real",
             "regressor_rbm_2_outputs": "real_2", "regressor_rbm_gaussian": "real"}


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("name", NETWORKS)
def test_zero_weight_is_a_dropped_row_bit_for_bit(name, sparse):
    X, targets, w = data()
    y = targets[TARGET_OF.get(name, "binary")]
    keep = w > 0
    if name.endswith("gaussian"):  # real-valued X: Gaussian visible units
        X = 4 * X - 2
    Xa = sp.csr_matrix(X) if sparse else X
    weighted = NETWORKS[name]().fit(Xa, y, sample_weight=w)
    dropped = NETWORKS[name]().fit(Xa[np.flatnonzero(keep)], y[keep],
                                   sample_weight=w[keep])
    assert_same_network(weighted, dropped)
    assert weighted.t_ == dropped.t_
    assert weighted.loss_curve_ == dropped.loss_curve_
    if hasattr(weighted, "pretrainer_"):
        assert weighted.pretrainer_.visible_units_ == (
            "gaussian" if name.endswith("gaussian") else "bernoulli")
        for a, b in zip(weighted.pretrainer_.coefs_, dropped.pretrainer_.coefs_):
            np.testing.assert_array_equal(a, b)
    # partial_fit too (its first call initialises, pre-training included)
    if not weighted.early_stopping:
        classes = np.unique(y) if y.ndim == 1 else np.arange(y.shape[1])
        extra = {} if "regressor" in name else {"classes": classes}
        a = NETWORKS[name]().partial_fit(Xa, y, sample_weight=w, **extra)
        b = NETWORKS[name]().partial_fit(Xa[np.flatnonzero(keep)], y[keep],
                                         sample_weight=w[keep], **extra)
        a.partial_fit(Xa, y, sample_weight=w)
        b.partial_fit(Xa[np.flatnonzero(keep)], y[keep], sample_weight=w[keep])
        assert_same_network(a, b)


STACKS = {
    "bernoulli": dict(),
    "gaussian_relu": dict(visible_units="gaussian", hidden_units="relu"),
    "pcd3": dict(persistent=True, cd_k=3, momentum=0.5),
}


@pytest.mark.parametrize("kind", STACKS)
def test_zero_weight_is_a_dropped_row_in_the_stack(kind):
    X, _, w = data()
    keep = w > 0
    params = dict(hidden_layer_sizes=(6, 4), n_iter=3, batch_size=8,
                  random_state=0, **STACKS[kind])
    a = StackedRBMTransformer(**params).fit(X, sample_weight=w)
    b = StackedRBMTransformer(**params).fit(X[keep], sample_weight=w[keep])
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    for u, v in zip(a.intercepts_visible_, b.intercepts_visible_):
        np.testing.assert_array_equal(u, v)
    a.partial_fit(X, sample_weight=w)
    b.partial_fit(X[keep], sample_weight=w[keep])
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.reconstruction_error_ == b.reconstruction_error_


# ------------------------------------- integer weight == the row repeated (exact)
# batch_size=1000 makes one batch of every row of each fit (scikit-learn's
# warning says it is clipped)
@pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")
@pytest.mark.parametrize("init", ["xavier_uniform", "lsuv"])
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel", "real",
                                    "real_2"])
def test_integer_weights_are_repeated_rows_for_a_full_batch_fit(target, init):
    X, targets, w = data()
    y = targets[target]
    rep = np.repeat(np.arange(X.shape[0]), w.astype(int))
    Est = DBNRegressor if target.startswith("real") else DBNClassifier
    params = dict(hidden_layer_sizes=(6,), init=init, activation="tanh",
                  batch_size=1000, max_iter=30, learning_rate_init=0.02,
                  alpha=0.1, random_state=0)
    weighted = Est(**params).fit(X, y, sample_weight=w)
    repeated = Est(**params).fit(X[rep], y[rep])
    assert_same_network(weighted, repeated, rtol=1e-7)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_,
                               rtol=1e-7)
    assert weighted.n_iter_ == repeated.n_iter_
    # and the weights matter: an unweighted fit is far from both
    plain = Est(**params).fit(X, y)
    assert not np.allclose(plain.coefs_[0], weighted.coefs_[0], rtol=1e-3)
    # the same fit with weights of another scale differs only by the L2 term;
    # with alpha=0 not at all
    params["alpha"] = 0.0
    a = Est(**params).fit(X, y, sample_weight=w)
    b = Est(**params).fit(X, y, sample_weight=2.5 * w)
    assert_same_network(a, b, rtol=1e-9)


def test_weighted_moments_and_initial_visible_biases_are_those_of_repeated_rows():
    X, _, w = data()
    keep = w > 0
    rep = np.repeat(np.arange(X.shape[0]), w.astype(int))
    Z = 100 * X - 30  # real-valued: Gaussian visible units
    for A in (X, Z):
        got, want = _standardize.moments(A[keep], w[keep]), _standardize.moments(A[rep])
        assert got["n"] == want["n"] == w.sum()
        np.testing.assert_allclose(got["mean"], want["mean"], rtol=1e-12)
        np.testing.assert_allclose(got["m2"], want["m2"], rtol=1e-12)
    # the fitted stacks start from the same standardisation and visible biases
    params = dict(hidden_layer_sizes=(4,), n_iter=1, random_state=0)
    a = StackedRBMTransformer(**params).fit(Z, sample_weight=w)
    b = StackedRBMTransformer(**params).fit(Z[rep])
    assert a.visible_units_ == "gaussian"
    for key in ("mean", "m2"):
        np.testing.assert_allclose(a._layers[0]["moments"][key],
                                   b._layers[0]["moments"][key], rtol=1e-12)
    W0 = np.zeros((X.shape[1], 3))
    a = _rbm.new_layer(X[keep], W0, visible_units="bernoulli",
                       hidden_units="bernoulli", sample_weight=w[keep])
    b = _rbm.new_layer(X[rep], W0, visible_units="bernoulli",
                       hidden_units="bernoulli")
    np.testing.assert_allclose(a["b_visible"], b["b_visible"], rtol=1e-12)
    c = _rbm.new_layer(X[keep], W0, visible_units="bernoulli",
                       hidden_units="bernoulli")
    assert not np.allclose(a["b_visible"], c["b_visible"], rtol=1e-3)


@pytest.mark.parametrize("scale", [1e-3, 1e3])
@pytest.mark.parametrize(
    "what", ["stack_bernoulli", "stack_gaussian", "stack_gaussian_relu",
             "regressor_rbm_gaussian", "classifier_lsuv", "regressor_he"])
def test_only_relative_weights_matter_without_l2(what, scale):
    """Every statistic is a weighted mean, so multiplying all weights by a
    constant changes nothing (for the networks: with alpha=0, as the L2 term is
    divided by the sum of the weights).

    BUG (see the report) for the ``*gaussian*`` cases with ``scale=1e-3``: the
    standardisation of Gaussian visible units takes the variance as
    ``m2 / max(n, 1)`` (sk_dbn._standardize.standardization), but with weights ``n`` is
    their sum, which can be below 1; the features are then scaled by
    ``sqrt(n)`` times their standard deviation, and pre-training (and the
    network it initialises) depends on the scale of the weights."""
    X, targets, w = data()
    Z = 4 * X - 2
    if what.startswith("stack"):
        params = dict(hidden_layer_sizes=(5, 3), n_iter=3, batch_size=8,
                      random_state=0)
        if what == "stack_bernoulli":
            A = X
        else:
            A, params["visible_units"] = Z, "gaussian"
        if what.endswith("relu"):
            params["hidden_units"] = "relu"
        a = StackedRBMTransformer(**params).fit(A, sample_weight=w)
        b = StackedRBMTransformer(**params).fit(A, sample_weight=scale * w)
        np.testing.assert_allclose(b.transform(A), a.transform(A), rtol=1e-9,
                                   atol=1e-12)
        return
    if what == "regressor_rbm_gaussian":
        est, A, y = DBNRegressor((5,), init="rbm"), Z, targets["real"]
    elif what == "classifier_lsuv":
        est, A, y = DBNClassifier((5,), init="lsuv"), Z, targets["multiclass"]
    else:
        est, A, y = DBNRegressor((5,)), Z, targets["real_2"]
    est.set_params(alpha=0.0, batch_size=8, max_iter=4, random_state=0)
    a = clone(est).fit(A, y, sample_weight=w)
    b = clone(est).fit(A, y, sample_weight=scale * w)
    assert_same_network(a, b, rtol=1e-9)


@pytest.mark.parametrize("scale", [2.0**124, 2.0**-133], ids=["2e37", "1e-40"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("what", ["stack", "classifier_rbm", "regressor_sgd"])
def test_extreme_weight_scales_change_nothing_but_the_l2_strength(what, dtype,
                                                                  scale):
    """Weights of 2e37 (whose sums overflow float32) or 1e-40 (subnormal in
    float32) train as weights of 1: the maths sees only their ratios to their
    sums, and the L2 term alpha / sum(w) (MLPClassifier's meaning), which the
    test keeps fixed by scaling alpha alike. A power of two scales exactly, so
    the fits are bit-identical."""
    X, targets, w = data()
    X = X.astype(dtype)
    if what == "stack":
        params = dict(hidden_layer_sizes=(5,), n_iter=2, batch_size=8,
                      random_state=0)
        a = StackedRBMTransformer(**params).fit(X, sample_weight=w)
        b = StackedRBMTransformer(**params).fit(X, sample_weight=scale * w)
        np.testing.assert_array_equal(a.transform(X), b.transform(X))
        return
    if what == "classifier_rbm":
        est, y = DBNClassifier((5,), init=StackedRBMTransformer(5, n_iter=1)), \
            targets["multiclass"]
    else:
        est, y = DBNRegressor((5,), solver="sgd"), targets["real"]
    est.set_params(batch_size=8, max_iter=4, random_state=0, alpha=0.01)
    a = clone(est).fit(X, y, sample_weight=w)
    b = clone(est).set_params(alpha=0.01 * scale).fit(X, y, sample_weight=scale * w)
    assert_same_network(a, b)
    assert np.isfinite(b.loss_)


def test_tiny_weights_in_float32_name_alpha_not_the_learning_rate():
    """At a fixed alpha, weights of 1e-40 make the L2 term alpha / sum(w) about
    1e36: too large for float32 (as in MLPClassifier, the scale of the weights
    sets the L2 strength); the error says so, with no ZeroDivisionError. In
    float64 the same fit trains."""
    X, targets, w = data()
    est = DBNRegressor((5,), init="xavier_uniform", batch_size=8, max_iter=3,
                       random_state=0)
    est.fit(X, targets["real"], sample_weight=1e-40 * w)
    assert np.isfinite(est.loss_)
    with pytest.raises(ValueError, match=r"alpha=0.0001 \(the L2 penalty is too "
                                         r"large.*sample_weight") as info:
        clone(est).fit(X.astype(np.float32), targets["real"],
                       sample_weight=1e-40 * w)
    assert "learning_rate_init" not in str(info.value)


def test_weighted_partial_fits_merge_the_moments_of_all_weighted_rows():
    X, _, w = data()
    Z = 100 * X - 30
    stack = StackedRBMTransformer((4,), visible_units="gaussian", random_state=0)
    for part in np.array_split(np.arange(X.shape[0]), 3):
        stack.partial_fit(Z[part], sample_weight=w[part])
    want = _standardize.moments(Z[w > 0], w[w > 0])
    got = stack._layers[0]["moments"]
    assert got["n"] == pytest.approx(want["n"], rel=1e-12)
    np.testing.assert_allclose(got["mean"], want["mean"], rtol=1e-12)
    np.testing.assert_allclose(got["m2"], want["m2"], rtol=1e-10)


# ----------------------------------------------------- RBM statistics, exactly
def _tiny_rbm(rng, n_visible=4, n_hidden=3):
    return (rng.normal(0, 1, (n_visible, n_hidden)), rng.normal(0, 1, n_hidden),
            rng.normal(0, 1, n_visible))


def test_weighted_cd_statistics_are_those_of_repeated_rows_with_the_same_samples():
    rng = np.random.default_rng(0)
    V = (rng.random((7, 4)) < 0.5).astype(float)
    w = np.array([3.0, 1.0, 2.0, 1.0, 4.0, 1.0, 2.0])
    W, b_h, b_v = _tiny_rbm(rng)
    n = V.shape[0]
    ws = _rbm.CDWorkspace(n, 4, 3, like=W)
    ws.V[:n] = V
    Vs, Hs = _rbm.gibbs_phases(ws, ws.V[:n], W, b_h, b_v, k=1, chain=None,
                               draws=device_draws(rng, V),
                               visible_units="bernoulli", hidden_units="bernoulli")
    V0, Vk, H0, Hk = (a.copy() for a in ws.batch(n))
    weighted = [g.copy() for g in _rbm.cd_statistics(ws, Vs, Hs, w / w.sum())]
    # every copy of a row with that row's negative-phase sample
    rep = np.repeat(np.arange(n), w.astype(int))
    N = rep.shape[0]
    ws2 = _rbm.CDWorkspace(N, 4, 3, like=W)
    ws2.V[:N], ws2.V[N:], ws2.H[:N], ws2.H[N:] = V0[rep], Vk[rep], H0[rep], Hk[rep]
    repeated = _rbm.cd_statistics(ws2, ws2.V, ws2.H, 1.0 / N)
    for a, b in zip(weighted, repeated):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    # and by the formulas: weighted means of both phases
    np.testing.assert_allclose(
        weighted[0], (V0.T * w) @ H0 / w.sum() - (Vk.T * w) @ Hk / w.sum(),
        rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(weighted[1], w @ (H0 - Hk) / w.sum(), atol=1e-15)
    np.testing.assert_allclose(weighted[2], w @ (V0 - Vk) / w.sum(), atol=1e-15)


CHAIN_V = np.array([[1, 0, 1, 0], [0, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 1],
                    [1, 0, 0, 1], [0, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1],
                    [1, 1, 1, 1], [0, 0, 0, 0]], dtype=float)
"""The fake negative-phase visibles of PCD's chains 0, 1, ... (no data row's)."""


def _fake_phases(ws, V0, W, b_hidden, b_visible, *, chain, **_):
    """Deterministic stand-in for gibbs_phases: CD's negative sample of a data
    row ``v`` is ``1 - v`` (its own row's), PCD's chain ``j`` is
    ``CHAIN_V[j]``; hidden means as the real phases take them."""
    n = V0.shape[0]
    _, Vk, H0, Hk = ws.batch(n)
    Vk[...] = CHAIN_V[:n] if chain is not None else 1.0 - V0
    H0[...] = expit(V0 @ W + b_hidden)
    Hk[...] = expit(Vk @ W + b_hidden)
    return ws.V[: 2 * n], ws.H[: 2 * n]


def _reference_epoch(params, V, w, order, batch_size, lr, persistent):
    """The weighted CD epoch by its definition, batch by batch, momentum 0."""
    W, b_h, b_v = (p.copy() for p in params)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        V0, wb = V[idx], w[idx]
        Vk = CHAIN_V[: len(idx)] if persistent else 1.0 - V0
        neg = np.full(len(idx), 1.0 / len(idx)) if persistent else wb / wb.sum()
        pos = wb / wb.sum()
        H0, Hk = expit(V0 @ W + b_h), expit(Vk @ W + b_h)
        W += lr * ((V0.T * pos) @ H0 - (Vk.T * neg) @ Hk)
        b_h += lr * (pos @ H0 - neg @ Hk)
        b_v += lr * (pos @ V0 - neg @ Vk)
    return W, b_h, b_v


class _NoSession:
    def check(self):
        pass


def _train_epoch(params, V, w, batch_size, persistent, seed):
    layer = _rbm.new_layer(V, params[0].copy(), visible_units="bernoulli",
                           hidden_units="bernoulli")
    layer.update(b_hidden=params[1].copy(), b_visible=params[2].copy())
    ws = _rbm.CDWorkspace(batch_size, 4, 3, like=params[0])
    rng = np.random.default_rng(seed)
    _rbm.train_epoch(layer, V, ws, rng=rng, draws=device_draws(rng, V),
                     session=_NoSession(), learning_rate=0.3, momentum=0.0,
                     weight_decay=0.0, k=1, persistent=persistent, probe=V,
                     sample_weight=w)
    return layer["W"], layer["b_hidden"], layer["b_visible"]


@pytest.mark.parametrize("batch_size", [10, 4], ids=["full_batch", "mini_batch"])
@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
def test_train_epoch_weights_both_phases_of_cd_and_pcd_chains_equally(
        monkeypatch, persistent, batch_size):
    monkeypatch.setattr(_rbm, "gibbs_phases", _fake_phases)
    rng = np.random.default_rng(1)
    V = (rng.random((10, 4)) < 0.5).astype(float)
    w = rng.uniform(0.2, 4.0, 10)
    params = _tiny_rbm(rng)
    got = _train_epoch(params, V, w, batch_size, persistent, seed=3)
    order = np.random.default_rng(3).permutation(10)  # the epoch's row order
    want = _reference_epoch(params, V, w, order, batch_size, 0.3, persistent)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    # not the unweighted epoch
    plain = _reference_epoch(params, V, np.ones(10), order, batch_size, 0.3,
                             persistent)
    assert not np.allclose(got[0], plain[0], rtol=1e-4)


def test_train_epoch_weighted_full_batch_equals_repeated_rows(monkeypatch):
    monkeypatch.setattr(_rbm, "gibbs_phases", _fake_phases)
    rng = np.random.default_rng(2)
    V = (rng.random((6, 4)) < 0.5).astype(float)
    w = np.array([1.0, 3.0, 2.0, 1.0, 4.0, 2.0])
    rep = np.repeat(np.arange(6), w.astype(int))
    params = _tiny_rbm(rng)
    a = _train_epoch(params, V, w, 64, False, seed=0)
    b = _train_epoch(params, V[rep], None, 64, False, seed=0)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


# --------------------------------- integer weight == repeated, in distribution
# Identical inputs with different targets: at x_A the targets 0 and 1 weigh 3:1,
# at x_B 1:3. A fit of the weighted rows, like one of the repeated rows, predicts
# their weighted means (0.25 and 0.75); one that ignores the weights, 0.5. (Over
# seeds 0-9 every prediction came within 0.07 of its target; the weighted fits,
# whose mini-batch losses are ratios of weighted sums, lean slightly to 0.5.)
X_A, X_B = [1.0, 0.0], [0.0, 1.0]


def _ambiguous_data(m=8):
    X = np.array([X_A, X_A, X_B, X_B] * m)
    y = np.array([0, 1, 0, 1] * m)
    w = np.array([3.0, 1.0, 1.0, 3.0] * m)
    return X, y, w


@pytest.mark.parametrize(
    ("Est", "init"),
    [(DBNRegressor, "he_uniform"), (DBNClassifier, "xavier_uniform"),
     (DBNClassifier, "rbm")])
def test_mini_batch_fits_learn_the_weighted_mean(Est, init):
    X, y, w = _ambiguous_data()
    rep = np.repeat(np.arange(len(y)), w.astype(int))

    def fitted_means(X, y, w=None):
        est = Est((4,), init=init, batch_size=16, max_iter=100,
                  learning_rate_init=0.01, n_iter_no_change=np.inf,
                  random_state=0).fit(X, y, sample_weight=w)
        if Est is DBNRegressor:
            return est.predict(np.array([X_A, X_B]))
        return est.predict_proba(np.array([X_A, X_B]))[:, 1]

    np.testing.assert_allclose(fitted_means(X, y, w), [0.25, 0.75], atol=0.1)
    np.testing.assert_allclose(fitted_means(X[rep], y[rep]), [0.25, 0.75],
                               atol=0.1)
    np.testing.assert_allclose(fitted_means(X, y), [0.5, 0.5], atol=0.1)


# Patterns A and B weighted 3:1 (or A repeated three times): an RBM trained on
# them gives A about three times B's probability, p(A)/p(B) = exp(F(B) - F(A))
# exactly; unweighted about 1. CD-5 on mini-batches of 4; the log-ratio is
# averaged over the last 20 epochs and 3 seeds. Over the 8 seed triples of seeds
# 0-23 these averages ranged over 1.9-4.8 weighted, 2.3-5.4 repeated and
# 0.53-1.27 unweighted (the independent-units model the visible biases start
# from, on the weighted means, gives 81; one that never learns stays near it).
PATTERN_A, PATTERN_B = np.array([1.0, 1, 0, 0]), np.array([0.0, 0, 1, 1])


def _mean_log_ratio(X, w, seeds=(0, 1, 2)):
    logs = []
    for seed in seeds:
        rbm = StackedRBMTransformer((3,), visible_units="bernoulli", n_iter=60,
                                    batch_size=4, learning_rate=0.15, cd_k=5,
                                    momentum=0.5, random_state=seed)
        rbm.fit(X, sample_weight=w)
        for _ in range(20):
            rbm.partial_fit(X, sample_weight=w)
            F = _free_energy(np.array([PATTERN_A, PATTERN_B]), rbm.coefs_[0],
                                 rbm.intercepts_[0], rbm.intercepts_visible_[0])
            logs.append(F[1] - F[0])
    return float(np.mean(logs))


def test_rbm_learns_the_weighted_pattern_probabilities():
    X = np.array([PATTERN_A, PATTERN_B] * 4)
    w = np.array([3.0, 1.0] * 4)
    repeated = np.array([PATTERN_A, PATTERN_A, PATTERN_A, PATTERN_B] * 4)
    weighted = np.exp(_mean_log_ratio(X, w))
    assert 1.5 < weighted < 8, weighted
    assert 1.5 < np.exp(_mean_log_ratio(repeated, None)) < 8
    assert 0.3 < np.exp(_mean_log_ratio(X, None)) < 1.5


# ----------------------------------------------- weights of unlabelled rows
def _partly_labelled(n=60, n_labelled=20):
    X, targets, w = data(n)
    y = targets["multiclass"].copy()
    y[n_labelled:] = -1
    return X, targets["multiclass"], y, w


def test_pretraining_gets_every_rows_weight_fine_tuning_the_labelled_ones():
    # with unlabeled_loss=None; the unlabelled rows' term: test_semisupervised.py
    X, y, y_masked, w = _partly_labelled()
    stack = StackedRBMTransformer((6,), n_iter=2, batch_size=8, random_state=1)
    semi = DBNClassifier((6,), init=stack, unlabeled=-1, unlabeled_loss=None,
                         batch_size=8, max_iter=4,
                         random_state=0).fit(X, y_masked, sample_weight=w)
    pre = StackedRBMTransformer((6,), n_iter=2, batch_size=8,
                                random_state=1).fit(X, sample_weight=w)
    for a, b in zip(semi.pretrainer_.coefs_ + semi.pretrainer_.intercepts_,
                    pre.coefs_ + pre.intercepts_):
        np.testing.assert_array_equal(a, b)
    labelled = slice(0, 20)
    alone = DBNClassifier((6,), init=pre, batch_size=8, max_iter=4,
                          random_state=0).fit(X[labelled], y[labelled],
                                              sample_weight=w[labelled])
    assert_same_network(semi, alone)
    # the weights of the unlabelled rows mattered to pre-training
    other = w.copy()
    other[30:40] = 3.0 - other[30:40]
    changed = DBNClassifier((6,), init=stack, unlabeled=-1, unlabeled_loss=None,
                            batch_size=8, max_iter=4, random_state=0).fit(
                                X, y_masked, sample_weight=other)
    assert not np.array_equal(changed.pretrainer_.coefs_[0],
                              semi.pretrainer_.coefs_[0])


@pytest.mark.parametrize("init", ["rbm", "lsuv"])
def test_spies_see_which_rows_and_weights_reach_each_stage(monkeypatch, init):
    X, _, y_masked, w = _partly_labelled()
    seen = {}

    def spy(name, real, key):
        def wrapper(*args, **kwargs):
            seen[name] = (args, kwargs)
            return real(*args, **kwargs)
        monkeypatch.setattr(sk_dbn._dbn if key == "module" else key, name,
                            wrapper)

    spy("initial_weights", sk_dbn._dbn.initial_weights, "module")
    spy("fine_tune", sk_dbn._dbn.fine_tune, "module")
    spy("_fit", StackedRBMTransformer._fit, StackedRBMTransformer)
    DBNClassifier((6,), init=init, unlabeled=-1, max_iter=2,
                  random_state=0).fit(X, y_masked, sample_weight=w)
    every, labelled = w > 0, (w > 0) & (y_masked != -1)
    # LSUV and pre-training: every row of non-zero weight, with its weight
    args, kwargs = seen["initial_weights"]
    np.testing.assert_array_equal(args[2], X[every])
    np.testing.assert_array_equal(kwargs["sample_weight"], w[every])
    if init == "rbm":
        args, kwargs = seen["_fit"]
        np.testing.assert_array_equal(args[1], X[every])
        np.testing.assert_array_equal(kwargs["sample_weight"], w[every])
    else:
        assert "_fit" not in seen
    # fine-tuning: the labelled ones, and the unlabelled ones in their term
    args, kwargs = seen["fine_tune"]
    np.testing.assert_array_equal(args[2], X[labelled])
    np.testing.assert_array_equal(kwargs["sample_weight"], w[labelled])
    term = kwargs["unlabelled"]
    unlabelled = (w > 0) & (y_masked == -1)
    np.testing.assert_array_equal(term.X[term.unlabelled], X[unlabelled])
    np.testing.assert_array_equal(term.sample_weight[term.unlabelled],
                                  w[unlabelled])


# ------------------------------------------------------------ invalid weights
def _fitters():
    X, targets, _ = data(20)
    y, yr = targets["binary"], targets["real"]
    clf = DBNClassifier((4,), init="xavier_uniform", max_iter=2)
    reg = DBNRegressor((4,), max_iter=2)
    stack = StackedRBMTransformer((4,), n_iter=1)
    return {
        "classifier.fit": lambda w: clf.fit(X, y, sample_weight=w),
        "classifier.partial_fit": lambda w: clf.partial_fit(
            X, y, sample_weight=w, classes=[0, 1]),
        "classifier.initialize": lambda w: clf.initialize(X, y, sample_weight=w),
        "regressor.fit": lambda w: reg.fit(X, yr, sample_weight=w),
        "regressor.partial_fit": lambda w: reg.partial_fit(X, yr, sample_weight=w),
        "regressor.initialize": lambda w: reg.initialize(X, yr, sample_weight=w),
        "stack.fit": lambda w: stack.fit(X, sample_weight=w),
        "stack.partial_fit": lambda w: stack.partial_fit(X, sample_weight=w),
    }


BAD_WEIGHTS = {
    "negative": (np.r_[np.ones(19), -1.0], "(?i)negative"),
    "all_zero": (np.zeros(20), "non-zero|zero"),
    "too_short": (np.ones(19), "shape|number of samples|inconsistent"),
    "2d": (np.ones((20, 1)), "1D|1d|shape"),
    "nan": (np.r_[np.ones(19), np.nan], "NaN|infinity|finite"),
    "inf": (np.r_[np.ones(19), np.inf], "NaN|infinity|finite"),
}


@pytest.mark.parametrize("bad", BAD_WEIGHTS)
@pytest.mark.parametrize("call", list(_fitters()))
def test_invalid_weights_raise(call, bad):
    w, match = BAD_WEIGHTS[bad]
    with pytest.raises(ValueError, match=match):
        _fitters()[call](w.copy())


@pytest.mark.parametrize("Est", [DBNClassifier, DBNRegressor, StackedRBMTransformer])
def test_a_fit_with_invalid_weights_leaves_the_model_as_it_was(Est):
    X, targets, _ = data(20)
    args = (X,) if Est is StackedRBMTransformer else (
        X, targets["real" if Est is DBNRegressor else "binary"])
    est = Est(4, **({"n_iter": 2} if Est is StackedRBMTransformer else
                    {"init": "xavier_uniform", "max_iter": 2}), random_state=0)
    est.fit(*args)
    before = joblib.hash(est)
    for bad in (np.r_[np.ones(19), -1.0], np.zeros(20)):
        with pytest.raises(ValueError, match="(?i)negative|zero"):
            est.fit(*args, sample_weight=bad)
        with pytest.raises(ValueError, match="(?i)negative|zero"):
            est.partial_fit(*args, sample_weight=bad)
        assert joblib.hash(est) == before


def test_errors_after_dropping_zero_weight_rows_name_the_weights():
    """BUG (see the report): when rows of weight 0 are dropped, the errors that
    follow describe the data that is left as if it were the caller's ``y``:
    "y has no labelled row: all 20 rows are unlabeled=-1." for a y with 10
    labelled rows (of weight 0) among 30. The message should name the sample
    weights, the actual cause."""
    X, targets, _ = data(30)
    y = targets["binary"].copy()
    y[10:] = -1
    w = np.r_[np.zeros(10), np.ones(20)]  # every labelled row weighs 0
    clf = DBNClassifier((4,), init="rbm", unlabeled=-1, max_iter=2)
    with pytest.raises(ValueError, match="(?i)weight"):
        clf.fit(X, y, sample_weight=w)


def test_a_class_whose_rows_all_weigh_zero_is_a_class_never_predicted():
    # its label still names a class, as in MLPClassifier and LogisticRegression
    # (predict_proba has the same columns in every cross-validation fold), and
    # the one class left is learnt, as scikit-learn's
    # check_classifiers_one_label_sample_weights asks
    X, targets, _ = data(30)
    y = targets["binary"]
    w = np.where(y == 1, 0.0, 1.0)  # every row of class 1 weighs 0
    clf = DBNClassifier((4,), init="rbm", max_iter=50, random_state=0).fit(
        X, y, sample_weight=w)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    np.testing.assert_array_equal(clf.predict(X), np.zeros(30))
    y3 = np.arange(30) % 3
    w3 = np.where(y3 == 2, 0.0, 1.0)
    clf = DBNClassifier((4,), init="xavier_uniform", max_iter=50,
                        random_state=0).fit(X, y3, sample_weight=w3)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (30, 3)
    assert 2 not in clf.predict(X)
    # no labelled row left to fine-tune on: said so
    partial = np.where(np.arange(30) < 10, y3, -1)
    with pytest.raises(ValueError, match="Every labelled row has sample_weight 0"):
        DBNClassifier((4,), unlabeled=-1).fit(
            X, partial, sample_weight=(partial == -1).astype(float))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_callers_weights_are_never_modified(dtype):
    X, targets, w = data()
    X = X.astype(dtype)
    original = w.copy()
    frozen = w.copy()
    frozen.flags.writeable = False  # a read-only array is accepted as it is
    for weights in (w, frozen):
        DBNClassifier((4,), init="rbm", batch_size=8, max_iter=2,
                      random_state=0).fit(X, targets["binary"], sample_weight=weights)
        DBNRegressor((4,), init="lsuv", batch_size=8, max_iter=2,
                     random_state=0).fit(X, targets["real"], sample_weight=weights)
        reg = DBNRegressor((4,), max_iter=2, early_stopping=True, random_state=0)
        reg.fit(X, targets["real"], sample_weight=weights)
        stack = StackedRBMTransformer((4,), n_iter=2, random_state=0)
        stack.fit(X, sample_weight=weights).partial_fit(X, sample_weight=weights)
        np.testing.assert_array_equal(weights, original)
        assert weights.dtype == np.float64
    assert w.flags.writeable and not frozen.flags.writeable


# ------------------------------------------------------------ metadata routing
def test_pipeline_routes_sample_weight_to_the_network():
    X, targets, w = data()
    y = targets["real"]
    X = 10 * X - 3

    def reg():
        return DBNRegressor((6,), batch_size=8, max_iter=4, random_state=0)

    direct = reg().fit(StandardScaler().fit_transform(X), y, sample_weight=w)
    unweighted = reg().fit(StandardScaler().fit_transform(X), y)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False),
                             reg().set_fit_request(sample_weight=True))
        pipe.fit(X, y, sample_weight=w)
        assert_same_network(pipe[-1], direct)
        assert not np.array_equal(pipe[-1].coefs_[0], unweighted.coefs_[0])
        # an unrequested weight raises, as scikit-learn specifies
        with pytest.raises(UnsetMetadataPassedError, match="DBNRegressor.fit"):
            make_pipeline(StandardScaler().set_fit_request(sample_weight=False),
                          reg()).fit(X, y, sample_weight=w)
        with pytest.raises(TypeError, match="not routed to any object"):
            make_pipeline(reg().set_fit_request(sample_weight=False)).fit(
                X, y, sample_weight=w)
    # without routing, the step__param form
    pipe = make_pipeline(StandardScaler(), reg())
    pipe.fit(X, y, dbnregressor__sample_weight=w)
    assert_same_network(pipe[-1], direct)


def test_pipeline_routes_sample_weight_to_the_stack_and_the_classifier():
    X, targets, w = data()
    y = targets["binary"]

    def stack():
        return StackedRBMTransformer((6,), n_iter=3, batch_size=8, random_state=0)

    def clf():
        return DBNClassifier((4,), init="xavier_uniform", max_iter=3,
                             random_state=0)

    pre = stack().fit(X, sample_weight=w)
    direct = clf().fit(pre.transform(X), y, sample_weight=w)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(stack().set_fit_request(sample_weight=True),
                             clf().set_fit_request(sample_weight=True))
        pipe.fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(pipe[0].transform(X), pre.transform(X))
    assert_same_network(pipe[-1], direct)


def test_grid_search_routes_sample_weight_to_fit_and_score():
    X, targets, w = data(60)
    y = targets["binary"]
    params = dict(hidden_layer_sizes=(6,), init="xavier_uniform", batch_size=8,
                  max_iter=4, learning_rate_init=0.05, random_state=0)
    grid = {"alpha": [1e-4, 1.0]}
    cv = KFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = DBNClassifier(**params).set_fit_request(sample_weight=True)
        clf.set_score_request(sample_weight=True)
        search = GridSearchCV(clf, grid, cv=cv).fit(X, y, sample_weight=w)
        with pytest.raises(UnsetMetadataPassedError, match="DBNClassifier"):
            GridSearchCV(DBNClassifier(**params), grid, cv=cv).fit(
                X, y, sample_weight=w)
    best = DBNClassifier(**params, **search.best_params_).fit(X, y, sample_weight=w)
    assert_same_network(search.best_estimator_, best)
    # every fold was fitted and scored with its rows' weights
    for i, alpha in enumerate(grid["alpha"]):
        for k, (train, test) in enumerate(cv.split(X)):
            fold = DBNClassifier(**params, alpha=alpha).fit(
                X[train], y[train], sample_weight=w[train])
            assert search.cv_results_[f"split{k}_test_score"][i] == pytest.approx(
                fold.score(X[test], y[test], sample_weight=w[test]), rel=1e-12)
