"""Tests of DBNClassifier: initialisation methods, fine-tuning, scikit-learn usage."""

import copy
import functools
import re
import warnings

import numpy as np
import pytest
from _checks import (
    assert_same_predictions,
    full_batch_gradients,
    given_network,
    network_params,
    start_both,
)
from scipy.special import expit, softmax
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from sk_dbn import DBNClassifier, StackedRBMTransformer
from sk_dbn._activations import make_activation
from sk_dbn._rbm import rbm_to_network
from sk_dbn.initializers import INITIALIZERS, normal

ACTIVATIONS = ["logistic", "tanh", "relu", "leaky_relu", "identity"]


def _act(clf, Z):
    """Textbook hidden activations of ``clf``, independent of the package (maxout:
    the max over the piece-major column blocks of ``Z``)."""
    name = clf.activation
    if name in ("logistic", "sigmoid"):
        return expit(Z)
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, 0)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, clf.negative_slope * Z)
    if name == "maxout":
        return Z.reshape(Z.shape[0], clf.maxout_pieces, -1).max(axis=1)
    if name == "identity":
        return Z
    raise AssertionError(name)


def hidden_preactivations(clf, X):
    """Affine outputs ``A W + b`` of every hidden layer, with plain numpy."""
    out, A = [], X
    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        Z = A @ W + b
        out.append(Z)
        A = _act(clf, Z)
    return out


def hidden_outputs(clf, X):
    return [_act(clf, Z) for Z in hidden_preactivations(clf, X)]


@functools.cache
def _digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def digits(n=300):
    X, y = _digits()
    return X[:n].copy(), y[:n].copy()


def blobs(n=60, seed=0):
    """Two well separated Gaussian blobs in 4-D."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 4)) + 3.0 * y[:, None]
    return X, y


def small(pretrain_n_iter=2, **params):
    """A small, fast classifier; ``params`` override the defaults, and
    ``init="rbm"`` pre-trains for ``pretrain_n_iter`` epochs."""
    params = {**dict(hidden_layer_sizes=(16,), init="xavier_uniform", max_iter=10,
                     learning_rate_init=0.03, random_state=0), **params}
    if isinstance(params["init"], str) and params["init"] == "rbm":
        relu = params.get("activation") in ("relu", "leaky_relu")
        params["init"] = StackedRBMTransformer(
            params["hidden_layer_sizes"], hidden_units="relu" if relu else "bernoulli",
            n_iter=pretrain_n_iter)
    return DBNClassifier(**params)


pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


# ------------------------------------------------------------------------ LSUV
@pytest.mark.parametrize("hidden", [(12, 10), (16, 8, 6)])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_lsuv_unit_variance_of_every_hidden_layer(activation, hidden):
    X, y = digits(200)  # <= 512 samples: the probe batch is all of X
    clf = small(hidden_layer_sizes=hidden, init="lsuv", activation=activation)
    clf.initialize(X, y)
    assert clf.n_iter_ == 0 and clf.loss_curve_ == []
    Zs = hidden_preactivations(clf, X)
    assert len(Zs) == len(hidden)
    for Z in Zs:
        assert abs(Z.var() - 1.0) < 0.1
    # biases untouched (zero), the weights only rescaled: still orthogonal up to a
    # scalar; the output layer is plain orthogonal
    for i, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        np.testing.assert_array_equal(b, 0)
        gram = W.T @ W if W.shape[0] >= W.shape[1] else W @ W.T
        scale = gram[0, 0]
        np.testing.assert_allclose(gram, scale * np.eye(gram.shape[0]), atol=1e-10)
        if i == len(clf.coefs_) - 1:
            np.testing.assert_allclose(scale, 1.0, rtol=1e-10)


def test_lsuv_on_a_subset_probe_still_gives_unit_variance_on_the_data():
    X, y = digits(1797)  # > 512: a random probe batch of 512 rows
    clf = small(hidden_layer_sizes=(20, 12), init="lsuv", activation="tanh")
    clf.initialize(X, y)
    for Z in hidden_preactivations(clf, X):
        assert abs(Z.var() - 1.0) < 0.25


def test_lsuv_differs_from_plain_orthogonal():
    X, y = digits(200)
    X = X * 5.0  # inputs far from unit scale, so the rescaling must act
    lsuv = small(init="lsuv", hidden_layer_sizes=(10, 8)).initialize(X, y)
    orth = small(init="orthogonal", hidden_layer_sizes=(10, 8)).initialize(X, y)
    assert abs(hidden_preactivations(orth, X)[0].var() - 1.0) > 0.5
    assert abs(hidden_preactivations(lsuv, X)[0].var() - 1.0) < 0.1


# ------------------------------------------------------------------------- RBM
def test_rbm_init_logistic_matches_pretrainer_and_is_never_changed():
    X, y = digits(200)
    clf = small(hidden_layer_sizes=(12, 8), init="rbm", activation="logistic",
                pretrain_n_iter=3, max_iter=5)
    clf.initialize(X, y)
    pre = clf.pretrainer_
    assert pre.hidden_units == "bernoulli"
    assert list(pre.hidden_layer_sizes) == [12, 8]
    np.testing.assert_allclose(hidden_outputs(clf, X)[-1], pre.transform(X),
                               rtol=1e-10, atol=1e-12)
    # hidden layers are copies of the RBM weights; output layer: xavier_uniform,
    # zero bias
    for i in range(2):
        np.testing.assert_array_equal(clf.coefs_[i], pre.coefs_[i])
        np.testing.assert_array_equal(clf.intercepts_[i], pre.intercepts_[i])
    limit = np.sqrt(6.0 / (8 + clf.n_outputs_))
    assert np.abs(clf.coefs_[-1]).max() <= limit
    assert np.abs(clf.coefs_[-1]).std() > 0
    np.testing.assert_array_equal(clf.intercepts_[-1], 0)

    pre_coefs = copy.deepcopy(pre.coefs_)
    pre_intercepts = copy.deepcopy(pre.intercepts_)
    initial_coefs = copy.deepcopy(clf.coefs_)
    H_before = pre.transform(X)

    clf.fit(X, y)  # same int seed: the same pre-training, then fine-tuning
    pre = clf.pretrainer_
    for i in range(2):
        # fine-tuning changed the network ...
        assert not np.allclose(clf.coefs_[i], initial_coefs[i])
        # ... and never the pre-trained stack
        np.testing.assert_array_equal(pre.coefs_[i], pre_coefs[i])
        np.testing.assert_array_equal(pre.intercepts_[i], pre_intercepts[i])
        assert not np.shares_memory(pre.coefs_[i], clf.coefs_[i])
        assert not np.shares_memory(pre.intercepts_[i], clf.intercepts_[i])
    np.testing.assert_array_equal(pre.transform(X), H_before)


def test_rbm_init_tanh_outputs_are_two_h_minus_one():
    X, y = digits(200)
    clf = small(hidden_layer_sizes=(12, 8, 6), init="rbm", activation="tanh",
                pretrain_n_iter=2)
    clf.initialize(X, y)
    pre = clf.pretrainer_
    assert pre.hidden_units == "bernoulli"
    # the RBM's hidden probabilities, layer by layer
    H, probs = X, []
    for W, b in zip(pre.coefs_, pre.intercepts_):
        H = expit(H @ W + b)
        probs.append(H)
    for tanh_out, h in zip(hidden_outputs(clf, X), probs):
        np.testing.assert_allclose(tanh_out, 2 * h - 1, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hidden_outputs(clf, X)[-1], 2 * pre.transform(X) - 1,
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "activation, units",
    [("relu", "relu"), ("leaky_relu", "relu"), ("identity", "bernoulli")],
)
def test_rbm_init_other_activations(activation, units):
    X, y = digits(200)
    clf = small(hidden_layer_sizes=(12, 8), init="rbm", activation=activation,
                pretrain_n_iter=2)
    clf.initialize(X, y)
    pre = clf.pretrainer_
    # NReLU pre-training for (leaky) ReLU networks
    assert pre.hidden_units == units
    # the hidden layers start from copies of the RBM weights
    for i in range(2):
        np.testing.assert_array_equal(clf.coefs_[i], pre.coefs_[i])
        np.testing.assert_array_equal(clf.intercepts_[i], pre.intercepts_[i])
        assert not np.shares_memory(clf.coefs_[i], pre.coefs_[i])
    H = hidden_outputs(clf, X)[-1]
    if activation == "relu":
        np.testing.assert_allclose(H, pre.transform(X), rtol=1e-10, atol=1e-12)
    assert np.all(np.isfinite(H)) and H.std() > 0
    clf.fit(X, y)
    assert np.isfinite(clf.loss_)


@pytest.mark.parametrize("activation", ["logistic", "identity", "relu"])
def test_rbm_to_network_copies_for_other_activations(activation):
    rng = np.random.default_rng(0)
    coefs = [rng.normal(size=(5, 4)), rng.normal(size=(4, 3))]
    intercepts = [rng.normal(size=4), rng.normal(size=3)]
    new_coefs, new_intercepts = rbm_to_network(coefs, intercepts,
                                               make_activation(activation))
    for a, b in zip(coefs + intercepts, new_coefs + new_intercepts):
        np.testing.assert_array_equal(a, b)
        assert not np.shares_memory(a, b)


def test_rbm_to_network_tanh_identity():
    rng = np.random.default_rng(1)
    sizes = [6, 5, 4, 3]
    coefs = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    intercepts = [rng.normal(size=b) for b in sizes[1:]]
    originals = copy.deepcopy(coefs + intercepts)
    new_coefs, new_intercepts = rbm_to_network(coefs, intercepts,
                                               make_activation("tanh"))
    X = rng.random((10, 6))
    H, T = X, X
    for W, b, W2, b2 in zip(coefs, intercepts, new_coefs, new_intercepts):
        H = expit(H @ W + b)
        T = np.tanh(T @ W2 + b2)
        np.testing.assert_allclose(T, 2 * H - 1, rtol=1e-12, atol=1e-14)
    for a, b in zip(coefs + intercepts, originals):  # inputs not modified
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------- zeros
@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_zeros_init_never_breaks_symmetry(activation):
    X, y = digits(300)
    params = dict(hidden_layer_sizes=(16, 12), activation=activation, max_iter=20,
                  learning_rate_init=0.05)
    clf = small(init="zeros", **params).fit(X, y)
    assert clf.n_iter_ > 1
    if activation == "logistic":
        # training did move the hidden weights (for tanh, zero weights give zero
        # hidden outputs and zero gradients: they never move at all)
        assert all(np.abs(W).max() > 1e-3 for W in clf.coefs_[:-1])
    else:
        assert all(np.abs(W).max() == 0 for W in clf.coefs_[:-1])

    def assert_identical_units(M, axis):
        # identical up to the rounding of the matrix products (BLAS may treat
        # columns in different blocks); symmetry breaking would be O(|M|)
        first = np.take(M, [0], axis=axis)
        np.testing.assert_allclose(M, np.broadcast_to(first, M.shape), rtol=1e-9,
                                   atol=1e-12)

    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        # every hidden unit has the same incoming weights and bias ...
        assert_identical_units(W, axis=1)
        assert_identical_units(b, axis=0)
    # ... and the same outgoing weights
    assert_identical_units(clf.coefs_[-1], axis=0)
    X_test, y_test = _digits()[0][1000:1400], _digits()[1][1000:1400]
    good = small(init="xavier_uniform", **params).fit(X, y)
    assert clf.score(X_test, y_test) < 0.4
    assert good.score(X_test, y_test) > clf.score(X_test, y_test) + 0.4


# ---------------------------------------------------------- seeds and dtypes
@pytest.mark.parametrize(
    "init", ["xavier_uniform", "he_normal", "truncated_normal", "orthogonal", "lsuv",
             "rbm"],
)
def test_same_int_seed_is_bit_identical(init):
    X, y = digits(150)
    params = dict(hidden_layer_sizes=(10, 6), init=init, max_iter=3, batch_size=32)
    a = small(**params, random_state=7).fit(X, y)
    b = small(**params, random_state=7).fit(X, y)
    c = small(**params, random_state=8).fit(X, y)
    for Wa, Wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert np.array_equal(Wa, Wb)
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


@pytest.mark.parametrize("init", ["xavier_uniform", "he_normal", "normal", "lsuv"])
def test_float32_keeps_dtype_and_is_close_to_float64(init):
    X, y = digits(150)
    params = dict(hidden_layer_sizes=(10,), init=init, max_iter=5, batch_size=50)
    # same seed: the same initial network, up to float32 rounding
    init32 = small(**params).initialize(X.astype(np.float32), y)
    init64 = small(**params).initialize(X, y)
    for W32, W64 in zip(init32.coefs_, init64.coefs_):
        assert W32.dtype == np.float32
        np.testing.assert_allclose(W32, W64, rtol=1e-6, atol=1e-7)
    clf32 = small(**params).fit(X.astype(np.float32), y)
    clf64 = small(**params).fit(X, y)
    for p in clf32.coefs_ + clf32.intercepts_:
        assert p.dtype == np.float32
    for p in clf64.coefs_ + clf64.intercepts_:
        assert p.dtype == np.float64
    X32 = X.astype(np.float32)
    proba32 = clf32.predict_proba(X32)
    assert proba32.dtype == np.float32
    assert clf32.predict_log_proba(X32).dtype == np.float32
    # float64 input to a float32 model still gives float32 out
    assert clf32.predict_proba(X).dtype == np.float32
    # ... and after fine-tuning still the same network up to float32 rounding
    for W32, W64 in zip(clf32.coefs_, clf64.coefs_):
        np.testing.assert_allclose(W32, W64, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(proba32, clf64.predict_proba(X), atol=1e-4)


def test_float32_rbm_init_keeps_dtype_and_accuracy():
    X, y = digits(300)
    # the RBM's Gibbs sampling draws its random numbers in the working dtype, so
    # the two fits differ like two seeds; both must train as well
    params = dict(hidden_layer_sizes=(16,), init="rbm", max_iter=30)
    clf32 = small(**params).fit(X.astype(np.float32), y)
    clf64 = small(**params).fit(X, y)
    for p in (clf32.coefs_ + clf32.intercepts_ + clf32.pretrainer_.coefs_
              + clf32.pretrainer_.intercepts_):
        assert p.dtype == np.float32
    assert clf32.predict_proba(X).dtype == np.float32
    assert clf32.score(X, y) > 0.95
    assert abs(clf32.score(X, y) - clf64.score(X, y)) < 0.03


# -------------------------------------------------------- training behaviour
def test_convergence_warning_when_max_iter_reached():
    X, y = digits(150)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        clf = small(max_iter=3).fit(X, y)
    assert clf.n_iter_ == 3


def test_no_convergence_warning_when_loss_stops_improving():
    X, y = digits(150)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = small(max_iter=50, tol=10.0, n_iter_no_change=2).fit(X, y)
    # as in MLPClassifier: stop after n_iter_no_change + 1 epochs without an
    # improvement of tol (here: after the first epoch, none can improve by 10)
    assert clf.n_iter_ == 4


def test_nonfinite_loss_raises_value_error_naming_learning_rate():
    X, y = digits(300)
    clf = small(init="xavier_uniform", activation="identity", solver="sgd",
                learning_rate_init=1000.0, max_iter=50, n_iter_no_change=100)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="learning_rate_init"):
            clf.fit(X * 1000.0, y)
    assert not hasattr(clf, "coefs_")  # a failed first fit leaves it unfitted


def test_fit_uses_the_initial_network_and_one_sgd_step():
    """With one full batch, fit's first epoch is one plain gradient step."""
    X, y = digits(120)
    params = dict(hidden_layer_sizes=(8, 5), init="he_uniform", solver="sgd",
                  momentum=0.0, learning_rate_init=0.1, alpha=0.01,
                  batch_size=120, max_iter=1, shuffle=False)
    init = small(**params).initialize(X, y)
    coefs, intercepts = init.coefs_, init.intercepts_
    loss, cg, ig = full_batch_gradients(init, X, y, alpha=0.01)
    clf = small(**params).fit(X, y)
    assert clf.n_iter_ == 1 and clf.t_ == 120
    np.testing.assert_allclose(clf.loss_curve_[0], loss, rtol=1e-10)
    np.testing.assert_allclose(clf.gradient_norms_[0],
                               [np.linalg.norm(g) for g in cg], rtol=1e-10)
    for W, W0, g in zip(clf.coefs_, coefs, cg):
        np.testing.assert_allclose(W, W0 - 0.1 * g, rtol=1e-10, atol=1e-13)
    for b, b0, g in zip(clf.intercepts_, intercepts, ig):
        np.testing.assert_allclose(b, b0 - 0.1 * g, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_training_reduces_loss(solver):
    X, y = digits(300)
    clf = small(solver=solver, learning_rate_init=0.3 if solver == "sgd" else 0.03,
                max_iter=15).fit(X, y)
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.score(X, y) > 0.9


# ------------------------------------------------------------------ partial_fit
def test_partial_fit():
    X, y = digits(200)
    classes = np.unique(y)
    clf = small()
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    # the first batch need not contain every class
    first = y < 5
    clf.partial_fit(X[first], y[first], classes=classes)
    np.testing.assert_array_equal(clf.classes_, classes)
    assert clf.n_outputs_ == 10
    assert clf.n_iter_ == 1 and clf.t_ == first.sum()
    coefs_before = copy.deepcopy(clf.coefs_)
    losses = []
    for k in range(2, 6):
        clf.partial_fit(X, y)
        assert clf.n_iter_ == 1  # as MLPClassifier: the epochs of this call
        assert clf.t_ == first.sum() + (k - 1) * 200
        losses.append(clf.loss_)
    assert len(clf.loss_curve_) == 5
    assert losses[-1] < losses[0]
    assert not np.allclose(clf.coefs_[0], coefs_before[0])
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X[:5], np.array([0, 1, 2, 3, 42]))
    with pytest.raises(ValueError):
        small().partial_fit(X[:10], y[:10] + 100, classes=classes)


def test_partial_fit_continues_after_fit():
    X, y = digits(150)
    clf = small(max_iter=3).fit(X, y)
    t = clf.t_
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 1 and clf.t_ == t + 150
    assert len(clf.loss_curve_) == 4


def test_warm_start_continues_loss_curve():
    X, y = digits(150)
    clf = small(max_iter=3, warm_start=True).fit(X, y)
    curve = list(clf.loss_curve_)
    weights = copy.deepcopy(clf.coefs_)
    clf.set_params(max_iter=2)
    clf.fit(X, y)
    # as MLPClassifier: n_iter_ counts this fit's epochs, the curve runs on
    mlp = MLPClassifier((8,), max_iter=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y).set_params(max_iter=2).fit(X, y)
    assert clf.n_iter_ == mlp.n_iter_ == 2
    assert len(clf.loss_curve_) == len(mlp.loss_curve_) == 5
    assert clf.loss_curve_[:3] == curve
    # continued from the fitted weights, not re-initialised: its first new epoch
    # starts near where the first fit ended
    assert clf.loss_curve_[3] < curve[0]
    assert not np.array_equal(clf.coefs_[0], weights[0])
    # without warm_start, fit starts over
    clf.set_params(warm_start=False, max_iter=2)
    clf.fit(X, y)
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2


# --------------------------------------------------------------- early stopping
def test_early_stopping_attributes():
    X, y = digits(300)
    clf = small(early_stopping=True, validation_fraction=0.2, max_iter=8).fit(X, y)
    assert isinstance(clf.validation_scores_, list)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    # 20% of 300 held out: trained on 240 samples per epoch
    assert clf.t_ == 240 * clf.n_iter_

    plain = small(max_iter=8).fit(X, y)
    assert plain.validation_scores_ is None
    assert plain.best_validation_score_ is None
    assert plain.best_loss_ == min(plain.loss_curve_)


def test_early_stopping_stops_and_restores_best_weights():
    X, y = digits(300)
    clf = small(early_stopping=True, validation_fraction=0.2, max_iter=200,
                n_iter_no_change=3, learning_rate_init=0.05).fit(X, y)
    assert clf.n_iter_ < 200
    best_epoch = int(np.argmax(clf.validation_scores_))
    # stopped n_iter_no_change + 1 epochs without an improvement of tol
    assert clf.n_iter_ >= best_epoch + 1 + 3
    # the restored weights are those of the best epoch: refit for exactly that
    # many epochs (same seed, same split) without early stopping of its own
    ref = small(early_stopping=True, validation_fraction=0.2,
                max_iter=best_epoch + 1, n_iter_no_change=1000,
                learning_rate_init=0.05).fit(X, y)
    for W, W_ref in zip(clf.coefs_, ref.coefs_):
        np.testing.assert_array_equal(W, W_ref)


# ---------------------------------------------------- VLReLU and maxout units
def _wide_data(n=400, n_features=300, seed=0):
    """Standard normal inputs, many features: weight statistics are sharp."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n_features)), np.arange(n) % 3


@pytest.mark.parametrize(
    ("init", "std"),
    [("xavier_normal", np.sqrt(2 / (300 + 100))), ("he_normal", np.sqrt(2 / 300)),
     ("lecun_uniform", np.sqrt(1 / 300))],
)
def test_maxout_init_draws_each_piece_as_a_layer_of_m_units(init, std):
    X, y = _wide_data()
    clf = small(hidden_layer_sizes=(100, 40), init=init, activation="maxout",
                maxout_pieces=3).initialize(X, y)
    # (fan_in, m * k) weights and m * k zero biases; the next layer's fan_in is m
    assert [W.shape for W in clf.coefs_] == [(300, 300), (100, 120), (40, 3)]
    assert [b.shape for b in clf.intercepts_] == [(300,), (120,), (3,)]
    assert all(np.all(b == 0) for b in clf.intercepts_)
    W = clf.coefs_[0]
    pieces = W.reshape(300, 3, 100)  # piece-major: [:, p] is piece p
    for p in range(3):
        # Glorot's fan_out is m = 100, not m * k = 300 (std 0.0816, not 0.0577)
        assert pieces[:, p].std() == pytest.approx(std, rel=0.03)
        np.testing.assert_array_equal(pieces[:, p], W[:, p * 100 : (p + 1) * 100])
    # independent draws: pieces of a unit are uncorrelated
    corr = np.corrcoef(pieces[:, 0].ravel(), pieces[:, 1].ravel())[0, 1]
    assert abs(corr) < 0.02


def test_maxout_orthogonal_init_gives_orthogonal_pieces():
    X, y = _wide_data(n_features=30)
    clf = small(hidden_layer_sizes=(20, 50), init="orthogonal", activation="maxout",
                maxout_pieces=2).initialize(X, y)
    # layer 1: fan_in 30 >= m 20, each piece has orthonormal columns; layer 2:
    # fan_in 20 <= m 50, each piece has orthonormal rows
    for W, k, rows in ((clf.coefs_[0], 2, False), (clf.coefs_[1], 2, True)):
        m = W.shape[1] // k
        for p in range(k):
            P = W[:, p * m : (p + 1) * m]
            gram = P @ P.T if rows else P.T @ P
            np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-12)
        assert not np.allclose(W[:, :m], W[:, m:])


def test_maxout_callable_init_is_called_once_per_piece():
    X, y = digits(60)
    calls = []

    def recording(fan_in, fan_out, *, random_state=None, dtype=np.float64):
        calls.append((fan_in, fan_out))
        return np.full((fan_in, fan_out), len(calls), dtype=dtype)

    clf = small(hidden_layer_sizes=(5, 4), init=recording, activation="maxout",
                maxout_pieces=3).initialize(X, y)
    assert calls == [(64, 5)] * 3 + [(5, 4)] * 3 + [(4, 10)]
    # call p fills piece p: columns p*m to (p+1)*m
    np.testing.assert_array_equal(clf.coefs_[0][0], np.repeat([1, 2, 3], 5))
    np.testing.assert_array_equal(clf.coefs_[1][0], np.repeat([4, 5, 6], 4))


@pytest.mark.parametrize("pieces", [2, 3])
def test_maxout_lsuv_gives_every_piece_unit_variance(pieces):
    X, y = digits(200)
    clf = small(hidden_layer_sizes=(12, 10), init="lsuv", activation="maxout",
                maxout_pieces=pieces).initialize(X, y)
    for Z, m in zip(hidden_preactivations(clf, X), (12, 10)):
        assert Z.shape == (200, m * pieces)
        for p in range(pieces):
            assert abs(Z[:, p * m : (p + 1) * m].var() - 1.0) < 0.1


@pytest.mark.parametrize(
    "params",
    [dict(activation="maxout", maxout_pieces=3, init="he_uniform"),
     dict(activation="leaky_relu", negative_slope=1 / 3, init="he_uniform"),
     dict(activation="leaky_relu", negative_slope=0.0, init="lsuv")],
    ids=["maxout3", "vlrelu", "leaky0"],
)
def test_activation_parameters_reach_prediction_and_training(params):
    X, y = digits(300)
    clf = small(hidden_layer_sizes=(16, 8), max_iter=20, **params).fit(X, y)
    # the network predicts with its own activation (numpy reference)
    H = hidden_outputs(clf, X)[-1]
    logits = H @ clf.coefs_[-1] + clf.intercepts_[-1]
    np.testing.assert_allclose(clf.predict_proba(X), softmax(logits, axis=1),
                               rtol=1e-9, atol=1e-12)
    assert clf.score(X, y) > 0.9
    # and trains with it: other parameters give another fit
    other = dict(negative_slope=0.2) if "negative_slope" in params else dict(
        maxout_pieces=2)
    assert small(hidden_layer_sizes=(16, 8), max_iter=20,
                 **{**params, **other}).fit(X, y).loss_curve_ != clf.loss_curve_


def test_maxout_float32_partial_fit_and_refit_are_consistent():
    X, y = digits(200)
    params = dict(hidden_layer_sizes=(12,), init="lsuv", activation="maxout",
                  max_iter=3)
    a = small(**params).fit(X.astype(np.float32), y)
    assert all(W.dtype == np.float32 for W in a.coefs_ + a.intercepts_)
    assert a.predict_proba(X.astype(np.float32)).dtype == np.float32
    b = small(**params).fit(X.astype(np.float32), y)
    assert a.loss_curve_ == b.loss_curve_  # bit-identical refits
    c = small(**params)
    for _ in range(3):
        c.partial_fit(X, y, classes=np.unique(y))
    assert c.coefs_[0].shape == (64, 24) and len(c.loss_curve_) == 3


@pytest.mark.parametrize(
    "init",
    ["rbm", StackedRBMTransformer((6,), n_iter=1),
     StackedRBMTransformer((6,), hidden_units="relu", n_iter=1)],
    ids=["rbm", "bernoulli-stack", "relu-stack"],
)
def test_maxout_with_rbm_init_raises(init):
    X, y = digits(60)
    clf = DBNClassifier((6,), init=init, activation="maxout")
    with pytest.raises(ValueError, match="an RBM has no maxout units"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")
    fitted = StackedRBMTransformer((6,), n_iter=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match="activation='maxout' cannot start from"):
        DBNClassifier((6,), init=FrozenEstimator(fitted), activation="maxout").fit(X, y)


@pytest.mark.parametrize("change", [dict(maxout_pieces=3), dict(activation="relu")])
def test_a_fitted_network_keeps_its_activation_until_a_new_fit(change):
    """One rule for both estimators: a fitted model computes with what it was
    fitted with (the transformer with its fitted units); changed activation
    parameters take effect at the next fit that starts a new network, and
    partial_fit / warm_start, which continue the fitted one, refuse them."""
    X, y = digits(100)
    clf = small(hidden_layer_sizes=(6,), activation="maxout", max_iter=2).fit(X, y)
    proba = clf.predict_proba(X)
    clf.set_params(**change)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    clf.set_params(warm_start=True)
    with pytest.raises(ValueError, match="refit without warm_start"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="refit without warm_start"):
        clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)  # unchanged
    clf.set_params(activation="maxout", maxout_pieces=2)
    clf.fit(X, y)  # the same network again: continues
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 4
    clf.set_params(warm_start=False, **change)
    refit = clf.fit(X, y)  # a new network, with the new activation
    assert str(refit._hidden_activation()) != "maxout (2 pieces)"
    # the transformer predicts from its fitted units too
    stack = StackedRBMTransformer(4, n_iter=1, random_state=0).fit(X)
    H = stack.transform(X)
    stack.set_params(hidden_units="relu")
    np.testing.assert_array_equal(stack.transform(X), H)
    with pytest.raises(ValueError, match="partial_fit continues the same stack"):
        stack.partial_fit(X)


# --------------------------------------------------- every init, API details
INIT_NAMES = sorted(INITIALIZERS) + ["lsuv", "rbm"]


@pytest.mark.parametrize(
    "init", [*INIT_NAMES, functools.partial(normal, std=0.1)],
    ids=[*INIT_NAMES, "partial(normal)"],
)
def test_every_init_fits(init):
    X, y = blobs()
    # 40 epochs: with 20, a seed whose two CD epochs on Gaussian blobs start
    # fine-tuning far off can end at 0.87 (seen for seed 0 of 8)
    clf = small(hidden_layer_sizes=(6, 4), init=init, max_iter=40,
                learning_rate_init=0.05).fit(X, y)
    assert clf.n_layers_ == 4
    assert [W.shape for W in clf.coefs_] == [(4, 6), (6, 4), (4, 1)]
    assert all(np.isfinite(p).all() for p in clf.coefs_ + clf.intercepts_)
    assert hasattr(clf, "pretrainer_") == (init == "rbm")
    assert set(clf.predict(X)) <= {0, 1}
    if init not in ("zeros", "constant"):  # the symmetric ones learn slowly
        assert clf.score(X, y) > 0.9


def test_callable_init_is_used():
    X, y = digits(100)
    named = small(init="normal", hidden_layer_sizes=(10, 6)).initialize(X, y)
    same = small(init=functools.partial(normal, std=0.01),
                 hidden_layer_sizes=(10, 6)).initialize(X, y)
    wide = small(init=functools.partial(normal, std=0.1),
                 hidden_layer_sizes=(10, 6)).initialize(X, y)
    for a, b, c in zip(named.coefs_, same.coefs_, wide.coefs_):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(c, 10 * a, rtol=1e-12)


def test_callable_init_with_wrong_shape_raises():
    X, y = digits(60)

    def transposed(fan_in, fan_out, *, random_state=None, dtype=np.float64):
        return np.ones((fan_out, fan_in), dtype=dtype)

    with pytest.raises(ValueError, match="shape"):
        small(init=transposed, hidden_layer_sizes=(5,)).fit(X, y)


def test_sigmoid_alias_equals_logistic():
    X, y = digits(100)
    a = small(activation="sigmoid", max_iter=3).fit(X, y)
    b = small(activation="logistic", max_iter=3).fit(X, y)
    for Wa, Wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(Wa, Wb)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_binary_string_labels():
    X, y01 = blobs(80)
    y = np.array(["no", "yes"])[y01]
    clf = small(hidden_layer_sizes=(6, 4), max_iter=15).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    assert clf.n_layers_ == 4
    pred = clf.predict(X)
    assert set(pred) <= {"no", "yes"}
    assert clf.score(X, y) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(pred, clf.classes_[np.argmax(proba, axis=1)])
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-10,
                               atol=1e-12)
    assert clf.gradient_norms_.shape == (len(clf.loss_curve_), clf.n_layers_ - 1)
    assert np.all(np.isfinite(clf.gradient_norms_)) and np.all(clf.gradient_norms_ > 0)


def test_multiclass_outputs():
    X, y = digits(300)
    clf = small(max_iter=5).fit(X, y)
    assert clf.n_outputs_ == 10 and clf.out_activation_ == "softmax"
    assert clf.n_layers_ == 3
    assert clf.n_features_in_ == 64
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-10,
                               atol=1e-12)
    assert clf.gradient_norms_.shape == (5, 2)
    assert len(clf.loss_curve_) == 5 and clf.loss_ == clf.loss_curve_[-1]
    assert clf.t_ == 5 * 300


# --------------------------------------------------------- scikit-learn usage
def test_pipeline_on_digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    pipe = Pipeline([
        ("scale", MinMaxScaler()),
        ("dbn", DBNClassifier((32,), init=StackedRBMTransformer((32,), n_iter=3),
                              max_iter=15, learning_rate_init=0.01, random_state=0)),
    ])
    pipe.fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.9
    assert hasattr(pipe.named_steps["dbn"], "pretrainer_")


def _grid_search(n_jobs):
    X, y = digits(300)
    grid = GridSearchCV(small(), {"init": INIT_NAMES}, cv=3, n_jobs=n_jobs)
    return grid.fit(X, y)


def test_grid_search_over_init_ranks_zeros_last():
    grid = _grid_search(n_jobs=1)
    results = grid.cv_results_
    inits = list(results["param_init"])
    assert sorted(inits) == sorted(INIT_NAMES)
    ranks = results["rank_test_score"]
    scores = results["mean_test_score"]
    assert np.all(np.isfinite(scores))  # every init fitted on every fold
    zeros = inits.index("zeros")
    assert ranks[zeros] == ranks.max()
    # only the other symmetric scheme (constant, 0 by default) ties with it
    worst = {inits[i] for i in np.flatnonzero(ranks == ranks.max())}
    assert worst <= {"zeros", "constant"}
    others = [s for name, s in zip(inits, scores) if name not in worst]
    assert scores[zeros] + 0.2 < min(others)
    assert grid.best_params_["init"] not in ("zeros", "constant")

    parallel = _grid_search(n_jobs=2)
    np.testing.assert_array_equal(parallel.cv_results_["mean_test_score"],
                                  results["mean_test_score"])
    np.testing.assert_array_equal(parallel.cv_results_["rank_test_score"], ranks)


@pytest.fixture(scope="module")
def fitted():
    X, y = digits(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = small(hidden_layer_sizes=(12, 8), init="rbm", max_iter=4).fit(X, y)
    return clf, X, y


def test_clone(fitted):
    clf, X, y = fitted
    cloned = clone(clf)
    assert not hasattr(cloned, "coefs_")
    params, cloned_params = clf.get_params(), cloned.get_params()
    init, cloned_init = params.pop("init"), cloned_params.pop("init")
    assert cloned_params == params
    if isinstance(init, str):
        assert cloned_init == init
    else:  # an estimator parameter is cloned too
        assert cloned_init is not init
        assert cloned_init.get_params() == init.get_params()
    cloned.fit(X, y)  # same int seed: the same model
    assert_same_predictions(clf, cloned, X)


@pytest.mark.parametrize(("params", "category", "message"), [
    (dict(max_iter=2), ConvergenceWarning, "Maximum iterations"),
    (dict(solver="lbfgs", max_iter=2), ConvergenceWarning, "lbfgs failed to converge"),
    (dict(batch_size=10_000, max_iter=50), UserWarning, "going to be clipped"),
])
@pytest.mark.parametrize("how", ["fit", "grid_search"])
def test_warnings_point_at_the_users_call(params, category, message, how):
    """A filter by module and the printed line name the caller's code, not
    scikit-learn's fit wrapper or sk_dbn's internals."""
    X, y = digits(60)
    clf = small(init="xavier_uniform", **params)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        if how == "fit":
            clf.fit(X, y)
        else:
            GridSearchCV(clf, {"alpha": [1e-4]}, cv=2).fit(X, y)
    seen = [w for w in record if issubclass(w.category, category)
            and message in str(w.message)]
    assert seen
    assert {w.filename for w in seen} == {__file__}


# ------------------------------------------------- the same as scikit-learn's
def test_hidden_layer_sizes_as_in_mlp():
    X, y = digits(60)
    # no hidden layer (a softmax regression) and any ordered sequence
    clf = small(hidden_layer_sizes=()).fit(X, y)
    assert [W.shape for W in clf.coefs_] == [(64, 10)]
    assert small(hidden_layer_sizes=range(3, 5)).fit(X, y).coefs_[1].shape == (3, 4)
    with pytest.raises(ValueError, match="no hidden layer to pre-train"):
        DBNClassifier((), init="rbm").fit(X, y)


def test_batch_size_larger_than_the_data_is_clipped_with_mlps_warning():
    X, y = digits(60)
    for est in (small(batch_size=100), MLPClassifier((4,), batch_size=100,
                                                     max_iter=2)):
        with pytest.warns(UserWarning, match="It is going to be clipped"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(X, y)
    # a bool is an int to scikit-learn's constraints: True is a batch of 1
    assert small(batch_size=True, max_iter=1).fit(X[:20], y[:20]).t_ == 20


@pytest.mark.parametrize("classes, match", [
    ([], "non-empty 1-d"),
    ([[0, 1]], "non-empty 1-d"),
    (3, "non-empty 1-d"),
    ([0, 1, np.nan], "NaN"),
    ([0, 1, np.inf], "infinity"),
    (["a", 1], "Mix of label input types"),
    ([0], r"labels \[1\] not in classes \[0\]"),
])
@pytest.mark.filterwarnings(  # scikit-learn's own check of NaN/inf classes
    "ignore:invalid value encountered in cast:RuntimeWarning")
def test_partial_fit_classes_are_validated(classes, match):
    X, y = digits(20)
    with pytest.raises(ValueError, match=match):
        small().partial_fit(X, y % 2, classes=classes)


@pytest.mark.parametrize("label", [7, "cat"])
def test_one_class_trains_step_for_step_as_mlp_classifier(label):
    # as MLPClassifier: one logistic output unit, trained towards 0 (its label
    # binarizer's code for a lone class), and the class always predicted
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 4))
    y = np.full(20, label)
    coefs, intercepts = given_network([4, 3, 1], rng)
    params = dict(hidden_layer_sizes=(3,), activation="tanh", solver="sgd",
                  momentum=0.0, learning_rate_init=0.1, alpha=0.01, shuffle=False,
                  batch_size=20, random_state=0)
    dbn, mlp = start_both(DBNClassifier(init="zeros", **params),
                          MLPClassifier(**params), X, y, coefs, intercepts)
    for epoch in range(3):
        dbn.partial_fit(X, y)
        mlp.partial_fit(X, y, classes=[label])
        for a, b in zip(network_params(dbn), network_params(mlp), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        assert dbn.loss_ == pytest.approx(mlp.loss_, rel=1e-10)
        assert dbn.t_ == mlp.t_ == 20 * (epoch + 1)
    np.testing.assert_array_equal(dbn.classes_, mlp.classes_)
    assert dbn.n_outputs_ == mlp.n_outputs_ == 1
    assert dbn.out_activation_ == mlp.out_activation_ == "logistic"
    np.testing.assert_array_equal(dbn.predict(X), mlp.predict(X))
    # MLPClassifier's predict_proba has a second column, of no class; here one
    # column per class of classes_, as predict_proba documents
    np.testing.assert_array_equal(dbn.predict_proba(X), np.ones((20, 1)))
    np.testing.assert_array_equal(dbn.predict_log_proba(X), np.zeros((20, 1)))


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("init", ["xavier_uniform", "lsuv", "rbm"])
def test_one_class_fits_and_predicts_it_as_mlp_classifier(init, solver):
    X, _ = digits(40)
    X_new = digits(60)[0][40:]
    y = np.full(40, 3)
    mlp = MLPClassifier((4,), solver=solver, max_iter=5, random_state=0).fit(X, y)
    for params in ({}, {"warm_start": True}, {"early_stopping": True}):
        dbn = small(init=init, solver=solver, max_iter=5, **params).fit(X, y)
        dbn.fit(X, y)  # again: warm_start continues, as MLPClassifier does
        np.testing.assert_array_equal(dbn.classes_, mlp.classes_)
        np.testing.assert_array_equal(dbn.predict(X_new), mlp.predict(X_new))
        np.testing.assert_array_equal(dbn.predict(X_new), np.full(20, 3))
        assert dbn.predict_proba(X_new).shape == (20, 1)
        assert dbn.score(X, y) == mlp.score(X, y) == 1.0
    # a new class in a warm_start refit is MLPClassifier's error, as ever
    with pytest.raises(ValueError, match="warm_start can only be used"):
        dbn.set_params(early_stopping=False, warm_start=True).fit(X, y % 2 + 3)


def _error(call):
    """The message of the ``ValueError`` that ``call()`` raises."""
    with pytest.raises(ValueError) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize("first, then", [
    (2, 3), (3, 2), ("abc", "abd"), ("multilabel 2", "multilabel 3")])
def test_other_classes_in_a_warm_start_fit_raise_mlps_error(first, then):
    # as MLPClassifier: the classes of y must be those of the previous fit,
    # fewer as well as more, in its words
    X, y = digits(60)

    def labels(kind):
        if kind == "multilabel 2":
            return np.column_stack([y % 2, y > 4]).astype(int)
        if kind == "multilabel 3":
            return np.column_stack([y % 2, y > 4, y == 3]).astype(int)
        return y % kind if isinstance(kind, int) else np.array(list(kind))[y % 3]

    dbn = small(warm_start=True, max_iter=2).fit(X, labels(first))
    mlp = MLPClassifier((4,), warm_start=True, max_iter=2).fit(X, labels(first))
    before = dbn.predict_proba(X)
    expected = _error(lambda: mlp.fit(X, labels(then)))
    assert expected.startswith("warm_start can only be used where `y` has the "
                               "same classes as in the previous call to fit.")
    assert _error(lambda: dbn.fit(X, labels(then))) == expected
    with pytest.raises(ValueError, match=re.escape(expected)):
        dbn.fit(X, labels(then))
    np.testing.assert_array_equal(dbn.predict_proba(X), before)


def test_warm_start_with_the_same_classes_continues():
    X, y = digits(60)
    clf = small(warm_start=True, max_iter=2).fit(X, y % 3)
    assert clf.fit(X[::-1], (y % 3)[::-1]).t_ == 4 * 60  # the classes in any order


def test_verbose_prints_the_validation_score_as_mlp(capsys):
    X, y = digits(120)
    small(early_stopping=True, verbose=1, max_iter=2).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("Validation score: ") == 2
    assert out.count("Iteration ") == 2


@pytest.mark.parametrize("init", ["rbm", "transformer"])
def test_verbose_shows_pre_training_whatever_the_init(capsys, init):
    X, y = digits(120)
    stack = StackedRBMTransformer((6,), n_iter=2) if init == "transformer" else init
    clf = DBNClassifier((6,), init=stack, verbose=1, max_iter=1, random_state=0)
    clf.fit(X, y)
    out = capsys.readouterr().out
    assert out.count("[StackedRBMTransformer] layer 0, epoch") == (
        2 if init == "transformer" else 20)
    assert out.count("Iteration ") == 1
