"""Tests of sk_dbn.diagnostics: activation statistics and the plot helpers."""

import math
import sys
import warnings
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import BernoulliRBM, MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sk_dbn import DBNClassifier, StackedRBMTransformer, diagnostics
from sk_dbn.diagnostics import (
    activation_statistics,
    plot_activation_histograms,
    plot_gradient_norms,
    plot_rbm_filters,
)
from sk_dbn.initializers import normal


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16, y[:400]


def _init(digits, init, activation="logistic", hidden=(32, 32, 32), **params):
    X, y = digits
    return DBNClassifier(hidden, init=init, activation=activation, random_state=0,
                         **params).initialize(X, y)


def _manual_outputs(clf, X, f):
    """Hidden outputs computed independently of sk_dbn's forward pass."""
    outputs, A = [], X
    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        A = f(A @ W + b)
        outputs.append(A)
    return outputs


# ---------------------------------------------------------- activation_statistics
@pytest.mark.parametrize(
    "activation, f",
    [
        ("logistic", expit),
        ("tanh", np.tanh),
        ("relu", lambda z: np.maximum(z, 0)),
        ("leaky_relu", lambda z: np.where(z < 0, 0.01 * z, z)),
        ("identity", lambda z: z),
    ],
)
def test_statistics_match_an_independent_computation(digits, activation, f):
    X, _ = digits
    clf = _init(digits, "lecun_normal", activation)
    stats = activation_statistics(clf, X)
    assert [s["layer"] for s in stats] == [1, 2, 3]
    for s, A in zip(stats, _manual_outputs(clf, X, f)):
        assert s["activation"] == activation
        assert s["n_units"] == A.shape[1]
        assert s["mean"] == pytest.approx(A.mean(), rel=1e-9, abs=1e-12)
        assert s["std"] == pytest.approx(A.std(), rel=1e-7)
        if activation == "logistic":
            expected = np.mean((A <= 0.01) | (A >= 0.99))
            assert s["saturated"] == pytest.approx(expected)
        elif activation == "tanh":
            expected = np.mean((A <= -0.99) | (A >= 0.99))
            assert s["saturated"] == pytest.approx(expected)
        else:
            assert math.isnan(s["saturated"])
        if activation == "relu":
            assert s["dead"] == pytest.approx(np.mean(A == 0))
            assert s["dead_units"] == pytest.approx(np.mean((A == 0).all(axis=0)))
        elif activation == "leaky_relu":
            assert s["dead"] == pytest.approx(np.mean(A <= 0))
        else:
            assert math.isnan(s["dead"]) and math.isnan(s["dead_units"])


def _maxout(k):
    """Max over the piece-major column blocks of k pieces."""
    return lambda Z: Z.reshape(Z.shape[0], k, -1).max(axis=1)


@pytest.mark.parametrize("k", [2, 3])
def test_statistics_of_maxout_layers(digits, k):
    X, _ = digits
    clf = _init(digits, "lecun_normal", "maxout", hidden=(32, 16), maxout_pieces=k)
    stats = activation_statistics(clf, X)
    outputs = _manual_outputs(clf, X, _maxout(k))
    assert [A.shape[1] for A in outputs] == [32, 16]
    for s, A in zip(stats, outputs):
        # a maxout layer's activation is its (n, m) output, the max of the pieces
        assert s["activation"] == "maxout"
        assert s["n_units"] == A.shape[1]
        assert s["mean"] == pytest.approx(A.mean(), rel=1e-9, abs=1e-12)
        assert s["std"] == pytest.approx(A.std(), rel=1e-7)
        # no bounds and no flat part: neither saturated nor dead
        assert math.isnan(s["saturated"])
        assert math.isnan(s["dead"]) and math.isnan(s["dead_units"])
    # the max of pieces of equal variance is biased upwards: E[max(a, b)] > 0
    assert stats[0]["mean"] > 0.1


def test_statistics_use_the_negative_slope(digits):
    X, _ = digits
    clf = _init(digits, "lecun_normal", "leaky_relu", negative_slope=1 / 3)
    stats = activation_statistics(clf, X)
    outputs = _manual_outputs(clf, X, lambda z: np.where(z < 0, z / 3, z))
    for s, A in zip(stats, outputs):
        assert s["mean"] == pytest.approx(A.mean(), rel=1e-9, abs=1e-12)
        assert s["std"] == pytest.approx(A.std(), rel=1e-7)
        assert s["dead"] == pytest.approx(np.mean(A <= 0))
    default = activation_statistics(_init(digits, "lecun_normal", "leaky_relu"), X)
    assert default[0]["mean"] > stats[0]["mean"] + 0.05


def test_chunked_statistics_equal_one_pass(digits, monkeypatch):
    X, _ = digits
    clf = _init(digits, "he_normal", "relu")
    whole = activation_statistics(clf, X)
    monkeypatch.setattr(diagnostics, "_CHUNK", 37)
    chunked = activation_statistics(clf, X)
    for a, b in zip(whole, chunked):
        for key in a:
            if isinstance(a[key], float):
                assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-12,
                                               nan_ok=True)
            else:
                assert a[key] == b[key]


def test_the_classic_pictures_in_numbers(digits):
    """N(0, 1) saturates sigmoids, N(0, 0.01^2) collapses them, Xavier spreads."""
    X, _ = digits
    big = activation_statistics(_init(digits, partial(normal, std=1.0)), X)
    small = activation_statistics(_init(digits, partial(normal, std=0.01)), X)
    xavier = activation_statistics(_init(digits, "xavier_uniform"), X)
    assert all(s["saturated"] > 0.15 for s in big)
    assert all(abs(s["mean"] - 0.5) < 0.01 and s["std"] < 0.03 for s in small)
    assert all(s["saturated"] < 0.01 and s["std"] > 0.05 for s in xavier)
    # ReLU: Xavier shrinks the scale with depth, He keeps it
    he = activation_statistics(_init(digits, "he_normal", "relu", (64,) * 5), X)
    xr = activation_statistics(_init(digits, "xavier_uniform", "relu", (64,) * 5), X)
    assert xr[-1]["std"] < 0.5 * xr[0]["std"]
    assert he[-1]["std"] > 0.6 * he[0]["std"]


def test_zeros_init_relu_is_all_dead(digits):
    X, _ = digits
    stats = activation_statistics(_init(digits, "zeros", "relu"), X)
    assert all(s["dead"] == 1.0 and s["dead_units"] == 1.0 for s in stats)
    assert all(s["mean"] == 0 and s["std"] == 0 for s in stats)


def test_works_after_fit_and_changes(digits):
    X, y = digits
    clf = DBNClassifier((16, 16), init="xavier_uniform", max_iter=3, random_state=0)
    before = activation_statistics(clf.initialize(X, y), X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    after = activation_statistics(clf, X)
    assert len(after) == 2
    assert after[0]["std"] != before[0]["std"]


def test_sigmoid_alias_is_canonical(digits):
    X, _ = digits
    stats = activation_statistics(_init(digits, "xavier_uniform", "sigmoid"), X)
    assert stats[0]["activation"] == "logistic"


@pytest.mark.parametrize("hidden_units, activation", [("bernoulli", "logistic"),
                                                      ("relu", "relu")])
def test_stacked_rbm_transformer(digits, hidden_units, activation):
    X, _ = digits
    rbm = StackedRBMTransformer((20, 10), hidden_units=hidden_units, n_iter=2,
                                random_state=0).fit(X)
    stats = activation_statistics(rbm, X)
    assert [s["n_units"] for s in stats] == [20, 10]
    assert all(s["activation"] == activation for s in stats)
    top = rbm.transform(X)
    assert stats[-1]["mean"] == pytest.approx(top.mean(), rel=1e-9)
    assert stats[-1]["std"] == pytest.approx(top.std(), rel=1e-7)


def test_mlp_classifier_and_pipeline(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((12, 8), max_iter=5, random_state=0).fit(X, y)
    stats = activation_statistics(mlp, X)
    assert [s["n_units"] for s in stats] == [12, 8]
    assert stats[0]["activation"] == "relu"

    halve = FunctionTransformer(lambda A: A / 2)
    clf = DBNClassifier((8,), init="he_normal", random_state=0)
    pipe = make_pipeline(halve, clf)
    pipe.steps[-1][1].initialize(X / 2, y)
    assert activation_statistics(pipe, X) == activation_statistics(clf, X / 2)


def test_float32_and_sparse_input(digits):
    X, y = digits
    X32 = X.astype(np.float32)
    clf32 = DBNClassifier((16,), init="xavier_uniform", random_state=0)
    stats32 = activation_statistics(clf32.initialize(X32, y), X32)
    stats64 = activation_statistics(_init(digits, "xavier_uniform", hidden=(16,)), X)
    assert stats32[0]["mean"] == pytest.approx(stats64[0]["mean"], rel=1e-4)
    clf = _init(digits, "xavier_uniform", hidden=(16,))
    sparse = activation_statistics(clf, sp.csr_matrix(X))
    assert sparse[0]["std"] == pytest.approx(activation_statistics(clf, X)[0]["std"])


def test_errors(digits):
    X, _ = digits
    with pytest.raises(NotFittedError):
        activation_statistics(DBNClassifier(), X)
    clf = _init(digits, "xavier_uniform")
    with pytest.raises(ValueError, match="features"):
        activation_statistics(clf, X[:, :10])
    with pytest.raises(ValueError, match="saturation_margin"):
        activation_statistics(clf, X, saturation_margin=1.5)

    class NoActivation(BaseEstimator):
        def fit(self, X, y=None):  # pragma: no cover - never called
            return self

    other = NoActivation()
    other.coefs_, other.intercepts_ = clf.coefs_, clf.intercepts_
    other.n_features_in_ = 64
    with pytest.raises(TypeError, match="not supported"):
        activation_statistics(other, X)


# ------------------------------------------------------------------------ plots
@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_missing_matplotlib_is_explained(digits, monkeypatch):
    X, _ = digits
    clf = _init(digits, "xavier_uniform")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    for call in (
        lambda: plot_activation_histograms(clf, X),
        lambda: plot_gradient_norms(clf),
        lambda: plot_rbm_filters(clf),
    ):
        with pytest.raises(ImportError, match=r"pip install '\.\[plot\]'"):
            call()


def test_histograms_default_figure(digits, plt):
    X, _ = digits
    axes = plot_activation_histograms(_init(digits, "xavier_uniform"), X, label="x")
    assert [ax.get_title() for ax in axes] == ["layer 1", "layer 2", "layer 3"]
    assert axes[0].get_ylabel() == "x"
    assert axes[0].get_xlim() == (0.0, 1.0)
    # the bars are fractions of all outputs: they sum to 1 for sigmoids
    heights = sum(p.get_height() for p in axes[0].patches)
    assert heights == pytest.approx(1.0)


def test_histograms_relu_leave_out_the_dead(digits, plt):
    X, _ = digits
    clf = _init(digits, "he_normal", "relu")
    fig, row = plt.subplots(1, 3)
    axes = plot_activation_histograms(clf, X, axes=row, bins=20,
                                      value_range=(0, 50))
    assert list(axes) == list(row)
    stats = activation_statistics(clf, X)
    for ax, s in zip(axes, stats):
        heights = sum(p.get_height() for p in ax.patches)
        assert heights == pytest.approx(1 - s["dead"])
        assert "dead" in ax.get_xlabel()


def test_histograms_of_maxout_layers(digits, plt):
    X, _ = digits
    clf = _init(digits, "he_normal", "maxout", hidden=(16, 8), maxout_pieces=3)
    axes = plot_activation_histograms(clf, X, bins=30)
    assert [ax.get_title() for ax in axes] == ["layer 1", "layer 2"]
    low, high = axes[0].get_xlim()
    outputs = _manual_outputs(clf, X, _maxout(3))
    values = np.concatenate([A.ravel() for A in outputs])
    assert (low, high) == pytest.approx(np.percentile(values, [0.5, 99.5]))
    for ax, A in zip(axes, outputs):  # nothing left out: all outputs in range
        heights = sum(p.get_height() for p in ax.patches)
        inside = np.mean((A >= low) & (A <= high))
        assert heights == pytest.approx(inside)
        assert "dead" not in ax.get_xlabel() and "saturated" not in ax.get_xlabel()


def test_histograms_wrong_number_of_axes(digits, plt):
    X, _ = digits
    _, row = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="one Axes per hidden layer"):
        plot_activation_histograms(_init(digits, "xavier_uniform"), X, axes=row)


def _fitted(digits, **params):
    """A small network fitted for a few epochs (no ConvergenceWarning)."""
    clf = DBNClassifier((16, 8), random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(*digits)


def test_gradient_norms(digits, plt):
    clf = _fitted(digits, init="he_normal", activation="relu", max_iter=4)
    ax = plot_gradient_norms(clf)
    lines = ax.get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[0].get_ydata(), clf.gradient_norms_[:, 0])
    assert ax.get_yscale() == "log"
    assert plot_gradient_norms(make_pipeline(clf)).get_lines()


def test_gradient_norms_of_a_maxout_network(digits, plt):
    clf = _fitted(digits, init="lsuv", activation="maxout", max_iter=3)
    assert clf.gradient_norms_.shape == (3, 3)
    assert np.all(clf.gradient_norms_ > 0)
    ax = plot_gradient_norms(clf)
    assert [line.get_label() for line in ax.get_lines()] == [
        "layer 1 (64 → 16×2)", "layer 2 (16 → 8×2)", "output (8 → 10)"]


def test_gradient_norms_errors(digits, plt):
    X, y = digits
    with pytest.raises(ValueError, match="not been fine-tuned"):
        plot_gradient_norms(_init(digits, "xavier_uniform"))
    rbm = StackedRBMTransformer((8,), n_iter=1, random_state=0).fit(X)
    with pytest.raises(TypeError, match="needs a DBNClassifier or DBNRegressor"):
        plot_gradient_norms(rbm)
    lbfgs = _fitted(digits, solver="lbfgs", max_iter=3)
    with pytest.raises(TypeError, match="L-BFGS records none"):
        plot_gradient_norms(lbfgs)


def test_rbm_filters(digits, plt):
    X, y = digits
    rbm = StackedRBMTransformer((10,), n_iter=1, random_state=0).fit(X)
    fig = plot_rbm_filters(rbm)
    assert len(fig.axes) == 10
    image = fig.axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(image, rbm.coefs_[0][:, 0].reshape(8, 8))
    assert len(plot_rbm_filters(rbm, n_filters=4).axes) == 4
    # a weight array, a DBNClassifier, scikit-learn's BernoulliRBM
    assert len(plot_rbm_filters(np.ones((12, 3)), image_shape=(3, 4)).axes) == 3
    assert len(plot_rbm_filters(_init(digits, "xavier_uniform")).axes) == 32
    brbm = BernoulliRBM(n_components=5, n_iter=1, random_state=0).fit(X)
    fig = plot_rbm_filters(brbm)
    np.testing.assert_allclose(fig.axes[2].get_images()[0].get_array(),
                               brbm.components_[2].reshape(8, 8))


def test_rbm_filters_errors(plt):
    with pytest.raises(ValueError, match="image_shape"):
        plot_rbm_filters(np.ones((10, 3)))
    with pytest.raises(ValueError, match="pixels"):
        plot_rbm_filters(np.ones((10, 3)), image_shape=(3, 3))
    with pytest.raises(TypeError, match="not supported"):
        plot_rbm_filters("weights")


def test_a_fitted_estimator_without_layers_is_refused_as_unsupported(digits, plt):
    # a TypeError naming what is accepted, not "not fitted yet"
    X, _ = digits
    rbm = BernoulliRBM(n_components=4, n_iter=1, random_state=0).fit(X)
    for call in (lambda: activation_statistics(rbm, X),
                 lambda: plot_activation_histograms(rbm, X),
                 lambda: plot_gradient_norms(rbm)):
        with pytest.raises(TypeError, match="is not supported"):
            call()


def test_leaky_relu_histograms_keep_the_negative_outputs(digits, plt):
    # only ReLU's spike at exactly 0 is left out of the bars
    X, y = digits
    clf = DBNClassifier((16,), activation="leaky_relu", negative_slope=0.3,
                        init="he_normal", random_state=0).initialize(X, y)
    (ax,) = plot_activation_histograms(clf, X, value_range=(-3.0, 3.0))
    A = np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], 0) + 0.3 * np.minimum(
        X @ clf.coefs_[0] + clf.intercepts_[0], 0)
    left = sum(p.get_height() for p in ax.patches if p.get_x() + p.get_width() <= 0)
    assert left == pytest.approx(np.mean((A >= -3) & (A < 0)), abs=1e-9)
    assert left > 0.1
