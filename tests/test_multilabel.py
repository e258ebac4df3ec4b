"""Tests of DBNClassifier on multilabel targets (a 0/1 indicator matrix): one
logistic output per label, the binary cross-entropy summed over labels, as
MLPClassifier does."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _checks import given_network, network_params, start_both
from scipy.special import expit
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier

import sk_dbn._finetune
from sk_dbn import DBNClassifier, StackedRBMTransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def multilabel_data(n=120, n_labels=3, seed=0):
    """X in [0, 1]^6 and labels that are (mostly) thresholds of its features."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 6))
    Y = np.column_stack([X[:, 0] > 0.5, X[:, 1] + X[:, 2] > 1.0,
                         X[:, 3] < 0.3, X[:, 4] > 0.7][:n_labels]).astype(int)
    return X, Y


def small(**params):
    return DBNClassifier(**{"hidden_layer_sizes": (8,), "init": "xavier_uniform",
                            "learning_rate_init": 0.02, "max_iter": 5,
                            "random_state": 0, **params})


# ------------------------------------------------ MLPClassifier, step for step
@pytest.mark.parametrize("batch_size", [40, 7], ids=["full_batch", "mini_batch"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_same_as_mlp_classifier_step_for_step(weighted, batch_size):
    rng = np.random.default_rng(1)
    n, sizes = 30, [4, 5, 3, 3]
    X = rng.normal(size=(n, 4))
    Y = (X[:, :3] + 0.5 * rng.normal(size=(n, 3)) > 0).astype(int)
    w = rng.uniform(0.2, 3.0, n) if weighted else None  # no zeros: see below
    coefs, intercepts = given_network(sizes, rng)
    params = dict(hidden_layer_sizes=(5, 3), solver="sgd", momentum=0.0,
                  shuffle=False, learning_rate_init=0.1, alpha=0.3,
                  activation="tanh", batch_size=batch_size, random_state=0)
    dbn, mlp = start_both(DBNClassifier(init="zeros", **params),
                          MLPClassifier(**params), X, Y, coefs, intercepts, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # MLP clips batch_size
        for epoch in range(3):
            dbn.partial_fit(X, Y, sample_weight=w)
            mlp.partial_fit(X, Y, sample_weight=w, classes=[0, 1, 2])
            for a, b in zip(network_params(dbn), network_params(mlp), strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
            if not weighted or batch_size >= n:
                # (with weights and several batches the epoch's loss weighs the
                # batches by their sums of weights, scikit-learn by their rows;
                # tests/test_regressor.py checks that case batch by batch)
                assert dbn.loss_ == pytest.approx(mlp.loss_, rel=1e-10)
            assert dbn.t_ == mlp.t_ == n * (epoch + 1)
    assert dbn.out_activation_ == mlp.out_activation_ == "logistic"
    np.testing.assert_array_equal(dbn.classes_, mlp.classes_)
    assert dbn.n_outputs_ == mlp.n_outputs_ == 3
    np.testing.assert_allclose(dbn.predict_proba(X), mlp.predict_proba(X),
                               rtol=1e-10)
    np.testing.assert_array_equal(dbn.predict(X), mlp.predict(X))


# ----------------------------------------------------------- fitted attributes
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shapes_dtypes_and_attributes(dtype):
    X, Y = multilabel_data(60, n_labels=4)
    X = X.astype(dtype)
    clf = small().fit(X, Y)
    np.testing.assert_array_equal(clf.classes_, np.arange(4))
    assert clf.n_outputs_ == 4 and clf.out_activation_ == "logistic"
    assert clf.coefs_[-1].shape == (8, 4)
    pred, proba, log_proba = (clf.predict(X), clf.predict_proba(X),
                              clf.predict_log_proba(X))
    assert pred.shape == proba.shape == log_proba.shape == (60, 4)
    assert set(np.unique(pred)) <= {0, 1}
    assert np.issubdtype(pred.dtype, np.integer)
    assert proba.dtype == log_proba.dtype == dtype
    # one probability per label: rows need not sum to 1
    assert not np.allclose(proba.sum(axis=1), 1.0)
    H = expit(X @ clf.coefs_[0] + clf.intercepts_[0])
    logits = H @ clf.coefs_[1] + clf.intercepts_[1]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(proba, expit(logits), rtol=tol)
    np.testing.assert_allclose(log_proba, np.log(expit(logits)), rtol=tol)
    np.testing.assert_array_equal(pred, (logits > 0).astype(int))


def test_two_label_columns_are_multilabel_not_binary():
    X, Y = multilabel_data(60, n_labels=2)
    clf = small().fit(X, Y)
    assert clf.n_outputs_ == 2 and clf.predict(X).shape == (60, 2)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    # a single label column is an ordinary binary problem
    binary = small().fit(X, Y[:, 0])
    assert binary.n_outputs_ == 1 and binary.predict(X).shape == (60,)
    assert binary.predict_proba(X).shape == (60, 2)


def test_log_proba_is_finite_for_confident_labels():
    X, Y = multilabel_data(60)
    clf = small().fit(X, Y)
    for W in clf.coefs_:
        W *= 200.0
    with np.errstate(divide="raise", over="raise"):
        log_proba = clf.predict_log_proba(X)
    assert np.isfinite(log_proba).all() and log_proba.min() < -50


def test_score_is_subset_accuracy():
    X, Y = multilabel_data(200, n_labels=3)
    clf = small(max_iter=20).fit(X[:100], Y[:100])
    pred = clf.predict(X[100:])
    per_label = (pred == Y[100:]).mean()
    subset = accuracy_score(Y[100:], pred)
    assert subset < per_label  # the two differ here
    assert clf.score(X[100:], Y[100:]) == pytest.approx(subset, rel=1e-12)
    w = np.random.default_rng(0).uniform(0.1, 2.0, 100)
    assert clf.score(X[100:], Y[100:], sample_weight=w) == pytest.approx(
        accuracy_score(Y[100:], pred, sample_weight=w), rel=1e-12)


def test_learns_independent_labels():
    X, Y = multilabel_data(400, n_labels=3, seed=2)
    clf = small(hidden_layer_sizes=(16,), max_iter=200,
                learning_rate_init=0.01).fit(X[:300], Y[:300])
    assert (clf.predict(X[300:]) == Y[300:]).mean() > 0.9
    assert clf.score(X[300:], Y[300:]) > 0.75


# ----------------------------------------------------------------- partial_fit
def test_partial_fit_multilabel():
    X, Y = multilabel_data(60)
    with pytest.raises(ValueError, match="classes must be passed"):
        small().partial_fit(X, Y)
    clf = small().partial_fit(X[:30], Y[:30], classes=[0, 1, 2])
    assert clf.n_iter_ == 1 and clf.t_ == 30
    np.testing.assert_array_equal(clf.classes_, np.arange(3))
    before = [a.copy() for a in network_params(clf)]
    clf.partial_fit(X[30:], Y[30:])
    assert clf.t_ == 60 and len(clf.loss_curve_) == 2
    assert not np.array_equal(before[0], clf.coefs_[0])
    # the kind of target and the number of labels are fixed by the first call
    with pytest.raises(ValueError, match="multilabel"):
        clf.partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="labels"):
        clf.partial_fit(X, Y[:, :2])
    # and the failed calls changed nothing
    assert clf.t_ == 60 and len(clf.loss_curve_) == 2
    single = small().partial_fit(X, Y[:, 0], classes=[0, 1])
    with pytest.raises(ValueError, match="single-label"):
        single.partial_fit(X, Y)
    assert single.n_outputs_ == 1 and single.t_ == 60


def test_partial_fit_classes_of_a_multilabel_y_are_its_columns():
    X, Y = multilabel_data(60)
    # whatever is passed (here class labels that are no column indices)
    clf = small().partial_fit(X, Y, classes=["a", "b"])
    np.testing.assert_array_equal(clf.classes_, np.arange(3))


def test_warm_start_refuses_another_kind_of_target():
    X, Y = multilabel_data(60)
    clf = small(warm_start=True).fit(X, Y)
    with pytest.raises(ValueError, match="refit without warm_start"):
        clf.fit(X, Y[:, 0])
    clf.set_params(warm_start=False).fit(X, Y[:, 0])
    assert clf.n_outputs_ == 1


# -------------------------------------------------------------- early stopping
def test_early_stopping_scores_subset_accuracy_and_restores_the_best(monkeypatch):
    X, Y = multilabel_data(200, n_labels=3, seed=5)
    flip = np.random.default_rng(5).random(Y.shape) < 0.15  # label noise
    Y = np.where(flip, 1 - Y, Y)
    seen = []
    real = sk_dbn._finetune.validation_split

    def spy(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(sk_dbn._finetune, "validation_split", spy)
    params = dict(hidden_layer_sizes=(32,), early_stopping=True,
                  validation_fraction=0.25, learning_rate_init=0.05,
                  n_iter_no_change=4, max_iter=200)
    clf = small(**params).fit(X, Y)
    (_, X_val, _, Y_val, _, _), = seen
    assert Y_val.shape == (50, 3)
    assert len(clf.validation_scores_) == clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert accuracy_score(Y_val, clf.predict(X_val)) == pytest.approx(
        clf.best_validation_score_, rel=1e-12)
    best = int(np.argmax(clf.validation_scores_))
    assert clf.n_iter_ > best + 1  # the last epoch is not the best one
    ref = small(**{**params, "max_iter": best + 1, "n_iter_no_change": 1000}
                ).fit(X, Y)
    for a, b in zip(network_params(clf), network_params(ref)):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------- unlabelled rows
def test_a_row_of_markers_is_unlabelled():
    X, Y = multilabel_data(80)
    masked = Y.copy()
    masked[40:] = -1
    # without pre-training, unlabelled rows take no part at all
    semi = small(unlabeled=-1).fit(X, masked)
    alone = small().fit(X[:40], Y[:40])
    for a, b in zip(network_params(semi), network_params(alone), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(semi.classes_, np.arange(3))
    assert semi.score(X, masked) == semi.score(X[:40], Y[:40])
    # with pre-training, they reach it (and nothing else)
    stack = StackedRBMTransformer((8,), n_iter=2, random_state=1)
    semi = small(init=stack, unlabeled=-1).fit(X, masked)
    pre = StackedRBMTransformer((8,), n_iter=2, random_state=1).fit(X)
    alone = small(init=pre).fit(X[:40], Y[:40])
    np.testing.assert_array_equal(semi.pretrainer_.coefs_[0], pre.coefs_[0])
    for a, b in zip(network_params(semi), network_params(alone), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_row_with_some_markers_is_not_unlabelled():
    X, Y = multilabel_data(40)
    Y = Y.copy()
    Y[0, 0] = -1  # no indicator matrix any more, and no unlabelled row either
    with pytest.raises(ValueError, match="multilabel-indicator"):
        small(unlabeled=-1).fit(X, Y)
    Y[0] = -1
    clf = small(unlabeled=-1, max_iter=3).fit(X, Y)
    assert clf.t_ == 3 * 39


def test_a_sparse_indicator_matrix_with_unlabelled_rows():
    # fit and score take a sparse y with rows of markers as they take a dense one
    X, Y = multilabel_data(80)
    masked = Y.copy()
    masked[40:] = -1
    dense = small(unlabeled=-1).fit(X, masked)
    sparse = small(unlabeled=-1).fit(X, sp.csr_matrix(masked))
    for a, b in zip(network_params(dense), network_params(sparse), strict=True):
        np.testing.assert_array_equal(a, b)
    expected = dense.score(X[:40], Y[:40])
    assert dense.score(X, sp.csr_matrix(masked)) == expected
    assert dense.score(X, masked) == expected


def test_a_sparse_indicator_is_predicted_as_one_as_in_mlpclassifier():
    X, Y = multilabel_data(80)
    sparse = small().fit(X, sp.csr_matrix(Y))
    dense = small().fit(X, Y)
    pred = sparse.predict(X)
    mlp = MLPClassifier((4,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp_pred = mlp.fit(X, sp.csr_matrix(Y)).predict(X)
    assert sp.issparse(pred) and pred.format == mlp_pred.format == "csr"
    np.testing.assert_array_equal(pred.toarray(), dense.predict(X))
    assert isinstance(dense.predict(X), np.ndarray)
    # the fitted kind of output stays through warm_start, as the binarizer does
    sparse.set_params(warm_start=True).fit(X, Y)
    assert sp.issparse(sparse.predict(X))
    assert sparse.score(X, Y) == accuracy_score(Y, sparse.predict(X).toarray())


def test_the_marker_of_a_multilabel_y_must_be_a_number():
    X, Y = multilabel_data(40)
    Y[20:] = -1
    for y in (Y, sp.csr_matrix(Y)):
        clf = small(unlabeled="-1")
        with pytest.raises(ValueError, match="unlabeled='-1' is a str, but the "
                                             "labels in y are numbers"):
            clf.fit(X, y)
        assert not hasattr(clf, "coefs_")


def test_partial_fit_batches_without_labels():
    # a first one initialises (pre-training on it), a later one is a no-op
    X, Y = multilabel_data(80)
    masked = Y.copy()
    masked[:40] = -1
    stack = StackedRBMTransformer((8,), n_iter=2, random_state=1)
    clf = small(init=stack, unlabeled=-1).partial_fit(X[:40], masked[:40],
                                                      classes=[0, 1, 2])
    np.testing.assert_array_equal(clf.classes_, np.arange(3))
    assert clf.n_iter_ == clf.t_ == 0
    clf.partial_fit(X[40:], masked[40:])
    assert clf.t_ == 40
    before = [a.copy() for a in network_params(clf)]
    clf.partial_fit(X[:40], masked[:40])
    assert clf.t_ == 40
    for a, b in zip(network_params(clf), before, strict=True):
        np.testing.assert_array_equal(a, b)
