"""Pre-training on unlabelled rows, and pre-training you can reuse and tune.

``init`` may be a StackedRBMTransformer (unfitted: fitted inside ``fit``; fitted or
frozen: used as it is) and ``unlabeled`` marks rows that only pre-training and
LSUV see.
"""

import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate

import sk_dbn._semisupervised as semisupervised
from sk_dbn import DBNClassifier, StackedRBMTransformer
from sk_dbn._activations import make_activation
from sk_dbn._ops import get_ops
from sk_dbn._rng import device_draws
from sk_dbn._semisupervised import (
    PSEUDO_LABEL_ROWS,
    SOFT_TARGETS,
    UnlabelledTerm,
    ramp_weight,
    spread_labels,
    unlabelled_batch_size,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_LABELLED = 60


@pytest.fixture(scope="module")
def data():
    """300 digits rows in [0, 1]; the first N_LABELLED keep their label."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    y_masked = y.copy()
    y_masked[N_LABELLED:] = -1
    return X, y, y_masked


def stack(**params):
    return StackedRBMTransformer((12,), **{"n_iter": 2, **params})


def clf(**params):
    """A small classifier; with ``unlabeled``, its unlabelled rows serve
    pre-training only (``unlabeled_loss=None``) unless ``params`` say otherwise."""
    return DBNClassifier((12,), **{"init": stack(random_state=1), "max_iter": 5,
                                   "random_state": 0, "unlabeled_loss": None,
                                   **params})


def assert_same_network(a, b):
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(u, v)


# ------------------------------------------------ unlabelled rows: pre-training only
@pytest.mark.parametrize("early_stopping", [False, True])
def test_unlabelled_rows_reach_pretraining_and_nothing_else(data, early_stopping):
    X, y, y_masked = data
    semi = clf(unlabeled=-1, early_stopping=early_stopping).fit(X, y_masked)
    # the same pre-training, then a fit on the labelled rows alone
    pre = stack(random_state=1).fit(X)
    alone = clf(init=pre, early_stopping=early_stopping).fit(X[:N_LABELLED],
                                                             y[:N_LABELLED])
    assert_same_network(semi, alone)
    np.testing.assert_array_equal(semi.pretrainer_.coefs_[0], pre.coefs_[0])
    np.testing.assert_array_equal(semi.classes_, np.arange(10))
    assert semi.t_ == alone.t_
    if not early_stopping:
        assert semi.t_ == semi.n_iter_ * N_LABELLED
    assert semi.n_features_in_ == X.shape[1]


def test_the_marker_value_does_not_matter(data):
    X, y, y_masked = data
    a = clf(unlabeled=-1).fit(X, y_masked)
    strings = np.where(y_masked == -1, "?", y.astype(str)).astype(object)
    b = clf(unlabeled="?").fit(X, strings)
    assert_same_network(a, b)
    assert list(b.classes_) == [str(k) for k in range(10)]


def test_adding_unlabelled_rows_changes_the_pretrained_weights(data):
    X, y, y_masked = data
    labelled = clf(unlabeled=-1).fit(X[:N_LABELLED], y_masked[:N_LABELLED])
    more = clf(unlabeled=-1).fit(X, y_masked)
    assert not np.array_equal(labelled.pretrainer_.coefs_[0],
                              more.pretrainer_.coefs_[0])
    assert labelled.pretrainer_.reconstruction_error_ is not None


def test_lsuv_probe_sees_unlabelled_rows(data):
    X, y, y_masked = data
    a = DBNClassifier((12,), init="lsuv", unlabeled=-1, random_state=0)
    b = clone(a)
    a.initialize(X[:N_LABELLED], y_masked[:N_LABELLED])
    b.initialize(X, y_masked)
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])


def test_unlabelled_rows_are_ignored_without_pretraining(data):
    X, y, y_masked = data
    a = DBNClassifier((12,), init="xavier_uniform", unlabeled=-1,
                      unlabeled_loss=None, max_iter=5,
                      random_state=0).fit(X, y_masked)
    b = clone(a).set_params(unlabeled=None).fit(X[:N_LABELLED], y[:N_LABELLED])
    assert_same_network(a, b)


def test_partial_fit_pretrains_on_all_rows_of_the_first_call(data):
    X, y, y_masked = data
    classes = np.arange(-1, 10)  # the marker, if listed, is not a class
    est = clf(unlabeled=-1).partial_fit(X, y_masked, classes=classes)
    np.testing.assert_array_equal(est.classes_, np.arange(10))
    pre = stack(random_state=1).fit(X)
    np.testing.assert_array_equal(est.pretrainer_.coefs_[0], pre.coefs_[0])
    assert est.t_ == N_LABELLED
    est.partial_fit(X, y_masked)
    assert est.t_ == 2 * N_LABELLED


def test_initialize_and_sparse_input(data):
    X, y, y_masked = data
    dense = clf(unlabeled=-1).initialize(X, y_masked)
    sparse = clf(unlabeled=-1).initialize(sp.csr_matrix(X), y_masked)
    np.testing.assert_allclose(dense.coefs_[0], sparse.coefs_[0], rtol=1e-10)
    assert dense.n_iter_ == 0 and dense.classes_.tolist() == list(range(10))


def test_score_leaves_unlabelled_rows_out(data):
    X, y, y_masked = data
    est = clf(unlabeled=-1).fit(X, y_masked)
    labelled = slice(0, N_LABELLED)
    assert est.score(X, y_masked) == est.score(X[labelled], y[labelled])
    assert est.score(X, y_masked) == np.mean(est.predict(X[labelled]) == y[labelled])
    weights = np.arange(X.shape[0], dtype=float)
    assert est.score(X, y_masked, sample_weight=weights) == est.score(
        X[labelled], y[labelled], sample_weight=weights[labelled])
    with pytest.raises(ValueError, match="no labelled row to score"):
        est.score(X[N_LABELLED:], y_masked[N_LABELLED:])
    # cross-validation on partly labelled rows scores each fold's labelled rows
    cv = cross_validate(clf(unlabeled=-1), X, y_masked, cv=3, return_estimator=True,
                        return_indices=True)
    for fold, est, test in zip(cv["test_score"], cv["estimator"],
                               cv["indices"]["test"]):
        test = test[y_masked[test] != -1]
        assert fold == np.mean(est.predict(X[test]) == y[test])


@pytest.mark.parametrize("container", ["dataframe", "list"])
def test_score_leaves_unlabelled_rows_out_of_any_container(data, container):
    pd = pytest.importorskip("pandas")
    X, _, y_masked = data
    wrap = {"dataframe": pd.DataFrame, "list": lambda a: a.tolist()}[container]
    est = clf(unlabeled=-1).fit(X, y_masked)
    assert est.score(wrap(X), y_masked) == est.score(X, y_masked)
    scores = cross_val_score(clf(unlabeled=-1), wrap(X), y_masked, cv=3,
                             error_score="raise")
    np.testing.assert_array_equal(
        scores, cross_val_score(clf(unlabeled=-1), X, y_masked, cv=3))


def test_minus_one_is_an_ordinary_label_by_default(data):
    X, y, _ = data
    y_pm = np.where(y < 5, -1, 1)
    est = DBNClassifier((12,), init="xavier_uniform", max_iter=20,
                        learning_rate_init=0.03, random_state=0).fit(X, y_pm)
    np.testing.assert_array_equal(est.classes_, [-1, 1])
    assert est.score(X, y_pm) > 0.8
    assert est.t_ == est.n_iter_ * X.shape[0]


def test_a_fit_without_labels_is_refused(data):
    X, y, y_masked = data
    est = clf(unlabeled=-1)
    for method in (est.fit, est.initialize):
        with pytest.raises(ValueError, match="no labelled row"):
            method(X, np.full(X.shape[0], -1))
    assert not hasattr(est, "coefs_")
    # one labelled class fits, as MLPClassifier fits one class
    one_class = np.where(np.arange(X.shape[0]) < 5, 3, -1)
    np.testing.assert_array_equal(est.fit(X, one_class).predict(X[:3]), [3, 3, 3])


# ------------------------------------------------ the marker, checked against y
def _labels(kind, y_masked):
    """``y_masked`` (-1: unlabelled) written as ``kind`` of labels."""
    if kind == "int":
        return y_masked.copy()
    if kind == "str":  # the marker written as "-1"
        return y_masked.astype(str)
    if kind == "str ?":  # the marker written as "?"
        return np.where(y_masked == -1, "?", y_masked.astype(str))
    if kind == "object str":
        return y_masked.astype(str).astype(object)
    assert kind == "object int"
    return y_masked.astype(object)


@pytest.mark.parametrize("method", ["fit", "partial_fit", "initialize", "score"])
@pytest.mark.parametrize("marker, kind, match", [
    ("-1", "int", r"unlabeled='-1' is a str, but the labels in y are numbers"),
    ("?", "object int", r"unlabeled='\?' is a str, but the labels in y are numbers"),
    (-1, "str", r"unlabeled=-1 is a number, but y holds it as the string '-1'"),
    (-1, "object str", r"unlabeled=-1 is a number, but y holds it as the string"),
    (-1, "str ?", r"unlabeled=-1 is a number, but the labels in y are strings"),
    (False, "int", r"unlabeled=False is a bool, which equals the label 0"),
    (True, "int", r"unlabeled=True is a bool, which equals the label 1"),
])
def test_a_marker_that_cannot_mark_y_is_refused_by_name(data, method, marker, kind,
                                                       match):
    # without the check, the rows meant as unlabelled became a class (or class 0
    # became unlabelled, for False)
    X, _, y_masked = data
    y = _labels(kind, y_masked)
    snapshot = y.copy()
    if method == "score":
        est = clf(unlabeled=-1).fit(X, y_masked).set_params(unlabeled=marker)
        before = joblib.hash(est)
        with pytest.raises(ValueError, match=match):
            est.score(X, y)
        assert joblib.hash(est) == before
    else:
        est = clf(unlabeled=marker)
        extra = {"classes": np.unique(y[:N_LABELLED])} if method == "partial_fit" \
            else {}
        with pytest.raises(ValueError, match=match):
            getattr(est, method)(X, y, **extra)
        assert not hasattr(est, "coefs_")
    np.testing.assert_array_equal(y, snapshot)


@pytest.mark.parametrize("marker", [np.nan, np.inf])
def test_a_marker_that_is_not_finite_is_refused_by_name(data, marker):
    # y cannot hold it: "Input y contains NaN" named y, not unlabeled
    X, _, y_masked = data
    y = np.where(y_masked == -1, marker, y_masked)
    est = clf(unlabeled=marker)
    with pytest.raises(ValueError, match=rf"'unlabeled' parameter .* Got {marker} "):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


def test_a_number_marks_string_labels_in_an_object_array(data):
    # scikit-learn's semi-supervised convention: object y, -1 for no label
    X, y, y_masked = data
    a = clf(unlabeled=-1).fit(X, y_masked)
    labels = y.astype(str).astype(object)
    labels[N_LABELLED:] = -1
    b = clf(unlabeled=-1).fit(X, labels)
    assert_same_network(a, b)
    assert list(b.classes_) == [str(k) for k in range(10)]
    assert b.score(X, labels) == a.score(X, y_masked)
    c = clf(unlabeled=-1.0).fit(X, y_masked)  # -1.0 == -1
    assert_same_network(a, c)


def test_classes_of_only_the_marker_are_refused(data):
    X, _, y_masked = data
    est = clf(unlabeled=-1)
    with pytest.raises(ValueError, match=r"classes holds no class: only the marker "
                                         r"unlabeled=-1"):
        est.partial_fit(X, y_masked, classes=[-1])
    assert not hasattr(est, "coefs_")


# ------------------------------------------------ partial_fit batches without labels
def test_a_first_partial_fit_without_labels_initialises_only(data):
    # as initialize does: pre-training on every row of the batch, no fine-tuning
    X, y, y_masked = data
    est = clf(unlabeled=-1).partial_fit(X, np.full(X.shape[0], -1),
                                        classes=np.arange(-1, 10))
    ref = clf(unlabeled=-1).initialize(X, y_masked)
    assert_same_network(est, ref)
    np.testing.assert_array_equal(est.pretrainer_.coefs_[0], ref.pretrainer_.coefs_[0])
    np.testing.assert_array_equal(est.classes_, np.arange(10))
    assert est.n_iter_ == est.t_ == 0 and est.loss_curve_ == []
    # then the labelled rows of a later batch fine-tune as after initialize
    est.partial_fit(X, y_masked)
    ref.partial_fit(X, y_masked)
    assert_same_network(est, ref)
    assert est.t_ == N_LABELLED


def test_a_later_partial_fit_without_labels_changes_nothing(data):
    X, _, y_masked = data
    est = clf(unlabeled=-1).partial_fit(X, y_masked, classes=np.arange(10))
    before = joblib.hash(est)
    unlabelled = slice(N_LABELLED, None)
    assert est.partial_fit(X[unlabelled], y_masked[unlabelled]) is est
    assert joblib.hash(est) == before
    # the batch is still checked
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[unlabelled, :5], y_masked[unlabelled])
    with pytest.raises(ValueError, match="unlabeled=-1 is a number"):
        est.partial_fit(X[unlabelled], y_masked[unlabelled].astype(str))
    assert joblib.hash(est) == before


def test_streaming_with_few_labels(data):
    # 10 % labels in batches of 10: many a batch (the first too) has none
    X, y, _ = data
    y_few = np.where(np.random.default_rng(0).random(y.shape[0]) < 0.1, y, -1)
    y_few[:10] = -1
    batches = [slice(start, start + 10) for start in range(0, y.shape[0], 10)]
    assert sum((y_few[b] == -1).all() for b in batches) >= 5
    est = clf(unlabeled=-1)
    for b in batches:
        est.partial_fit(X[b], y_few[b], classes=np.arange(10))
    assert est.t_ == (y_few != -1).sum()
    assert est.pretrainer_.n_features_in_ == X.shape[1]


# ------------------------------------------- a fitted or frozen transformer as init
@pytest.mark.parametrize("frozen", [False, True])
def test_fitted_or_frozen_init_is_used_as_is_and_never_changed(data, frozen):
    X, y, y_masked = data
    pre = stack(random_state=3).fit(X)
    before = joblib.hash(pre)
    init = FrozenEstimator(pre) if frozen else pre
    est = clf(init=init, activation="tanh").fit(X[:N_LABELLED], y[:N_LABELLED])
    assert joblib.hash(pre) == before
    assert not hasattr(est, "pretrainer_")
    # the network started from the transformer's weights (tanh: W / 2)
    start = clf(init=init, activation="tanh").initialize(X[:N_LABELLED],
                                                         y[:N_LABELLED])
    np.testing.assert_array_equal(start.coefs_[0], pre.coefs_[0] / 2)
    assert not np.shares_memory(start.coefs_[0], pre.coefs_[0])
    assert joblib.hash(pre) == before


def test_float32_data_with_a_float64_stack(data):
    X, y, _ = data
    pre = stack(random_state=3).fit(X)
    est = clf(init=FrozenEstimator(pre)).fit(X.astype(np.float32), y)
    assert est.coefs_[0].dtype == np.float32
    assert pre.coefs_[0].dtype == np.float64


def _count_pretraining(monkeypatch):
    calls = []
    real = StackedRBMTransformer._fit

    def counted(self, X, incremental, sample_weight=None):
        calls.append(X.shape[0])
        return real(self, X, incremental, sample_weight)

    monkeypatch.setattr(StackedRBMTransformer, "_fit", counted)
    return calls


def test_grid_search_with_a_frozen_stack_pretrains_zero_times(data, monkeypatch):
    X, y, _ = data
    pre = stack(random_state=0).fit(X)
    before = joblib.hash(pre)
    calls = _count_pretraining(monkeypatch)
    search = GridSearchCV(clf(init=FrozenEstimator(pre)),
                          {"learning_rate_init": [1e-3, 1e-2]}, cv=3).fit(X, y)
    assert calls == []
    assert joblib.hash(pre) == before
    assert search.best_estimator_.init.estimator is pre


def test_grid_search_with_an_unfitted_stack_pretrains_once_per_fit(data, monkeypatch):
    X, y, _ = data
    calls = _count_pretraining(monkeypatch)
    search = GridSearchCV(clf(), {"init__learning_rate": [0.01, 0.1]},
                          cv=3).fit(X, y)
    assert len(calls) == 2 * 3 + 1  # every candidate and fold, and the refit
    assert search.best_params_["init__learning_rate"] in (0.01, 0.1)
    assert search.best_estimator_.pretrainer_.learning_rate == \
        search.best_params_["init__learning_rate"]
    # the estimator's own init was cloned, never fitted
    assert not hasattr(search.estimator.init, "coefs_")


def test_get_params_and_clone_expose_the_transformer():
    est = DBNClassifier((8,), init=StackedRBMTransformer((8,), n_iter=3))
    params = est.get_params(deep=True)
    assert params["init__n_iter"] == 3 and "init__learning_rate" in params
    copy = clone(est)
    assert isinstance(copy.init, StackedRBMTransformer) and copy.init is not est.init
    assert copy.init.get_params() == est.init.get_params()
    copy.set_params(init__learning_rate=0.2)
    assert copy.init.learning_rate == 0.2 and est.init.learning_rate == 0.05


def test_unseeded_stack_is_seeded_from_the_classifier(data):
    X, y, y_masked = data
    est = DBNClassifier((12,), init=StackedRBMTransformer((12,), n_iter=2),
                        unlabeled=-1, max_iter=3, random_state=5)
    a = clone(est).fit(X, y_masked)
    b = clone(est).fit(X, y_masked)
    assert_same_network(a, b)
    assert est.init.random_state is None


# ---------------------------------------------------------------- mismatches
@pytest.mark.parametrize("fitted", [False, True])
def test_mismatched_sizes_and_units_are_refused(data, fitted):
    X, y, _ = data

    def maybe_fit(s):
        return s.fit(X) if fitted else s

    est = DBNClassifier((12, 6), init=maybe_fit(stack()))
    with pytest.raises(ValueError, match=r"hidden layers \[12\].*hidden_layer_sizes "
                                         r"is \[12, 6\]"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")
    with pytest.raises(ValueError, match="hidden_units='bernoulli'.*activation="
                                         "'relu'.*use hidden_units='relu'"):
        DBNClassifier((12,), init=maybe_fit(stack()), activation="relu").fit(X, y)
    with pytest.raises(ValueError, match="hidden_units='relu'.*activation="
                                         "'logistic'.*use hidden_units='bernoulli'"):
        DBNClassifier((12,), init=maybe_fit(stack(hidden_units="relu"))).fit(X, y)


def test_mismatched_input_width_is_refused(data):
    X, y, _ = data
    pre = stack().fit(X[:, :40])
    for init in (pre, FrozenEstimator(pre)):
        with pytest.raises(ValueError, match="fitted on 40 features, but X has 64"):
            DBNClassifier((12,), init=init).fit(X, y)


@pytest.mark.parametrize("frozen", [False, True], ids=["fitted", "frozen"])
def test_fitted_init_must_have_seen_the_same_feature_names(data, frozen):
    pd = pytest.importorskip("pandas")
    X, y, _ = data
    X = X[:, :4]
    names = ["a", "b", "c", "d"]
    fitted = StackedRBMTransformer(3, n_iter=2, random_state=0).fit(
        pd.DataFrame(X, columns=names))
    init = FrozenEstimator(fitted) if frozen else fitted
    net = DBNClassifier((3,), init=init, max_iter=2)
    # the same columns, another order: the weights would land on other features
    with pytest.raises(ValueError, match=r"fitted on the features \['a', 'b', 'c', "
                                         r"'d'\], but X has the features \['d'"):
        net.fit(pd.DataFrame(X[:, ::-1], columns=names[::-1]), y)
    assert not hasattr(net, "coefs_")
    net.fit(pd.DataFrame(X, columns=names), y)  # the same order is fine
    # names on one side only: scikit-learn's warnings, as transform gives them
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        DBNClassifier((3,), init=init, max_iter=2).fit(X, y)
    unnamed = StackedRBMTransformer(3, n_iter=2, random_state=0).fit(X)
    with pytest.warns(UserWarning, match="fitted without feature names"):
        DBNClassifier((3,), init=unnamed, max_iter=2).fit(
            pd.DataFrame(X, columns=names), y)


def test_errors_of_the_transformers_own_checks_name_init_parameters(data):
    X, y, _ = data
    net = DBNClassifier((4,), init=StackedRBMTransformer(
        4, visible_units="bernoulli", n_iter=1))
    with pytest.raises(ValueError, match=r"init__visible_units='bernoulli' needs X "
                                         r"in \[0, 1\].*init__visible_units="
                                         "'gaussian'"):
        net.fit(X * 16, y)
    bad_init = StackedRBMTransformer(4, init=lambda fan_in, fan_out, **kw: None,
                                     n_iter=1)
    with pytest.raises(ValueError, match=r"init__init=<function"):
        DBNClassifier((4,), init=bad_init).fit(X, y)


def test_frozen_init_must_be_a_fitted_stack(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="unfitted StackedRBMTransformer"):
        DBNClassifier((12,), init=FrozenEstimator(stack())).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        other = FrozenEstimator(LogisticRegression(max_iter=5).fit(X, y))
    with pytest.raises(ValueError, match="must wrap a StackedRBMTransformer"):
        DBNClassifier((12,), init=other).fit(X, y)


@pytest.mark.parametrize("stage", ["pre-training", "mismatch"])
def test_a_refit_failing_half_way_keeps_the_model(data, stage):
    # a fit through a transformer init is a transaction like any other
    X, y, y_masked = data
    est = clf(unlabeled=-1).fit(X, y_masked)
    before = est.predict_proba(X)
    pre = est.pretrainer_
    if stage == "pre-training":  # pre-training diverges inside the refit
        est.set_params(init__learning_rate=1e30)
        with pytest.raises(ValueError, match="init__learning_rate"):
            est.fit(X * 1e3, y_masked)
    else:  # the transformer no longer matches the network
        est.set_params(init=stack(hidden_units="relu"))
        with pytest.raises(ValueError, match="hidden_units='relu'"):
            est.fit(X, y_masked)
    np.testing.assert_array_equal(est.predict_proba(X), before)
    assert est.pretrainer_ is pre


# ------------------------------------------------ unlabelled rows in fine-tuning
def semi(loss="label_spreading", **params):
    """A classifier whose unlabelled rows enter fine-tuning from the first epoch."""
    return clf(**{"unlabeled": -1, "unlabeled_loss": loss, "unlabeled_ramp": (0, 2),
                  **params})


BOTH = pytest.mark.parametrize("loss", ["label_spreading", "pseudo_label"])


def test_the_ramp():
    assert [ramp_weight(t, 3.0, (2, 6)) for t in range(8)] == [
        0, 0, 0, 0.75, 1.5, 2.25, 3, 3]
    assert [ramp_weight(t, 2.0, (3, 3)) for t in range(5)] == [0, 0, 0, 2, 2]
    assert ramp_weight(0, 1.0, (0, 0)) == 1.0


@pytest.mark.parametrize("n_out", [1, 4])
def test_pseudo_labels_are_the_argmax(n_out):
    Z = np.random.default_rng(0).normal(size=(9, n_out))
    output = "logistic" if n_out == 1 else "softmax"
    delta = np.empty_like(Z)
    losses, delta = PSEUDO_LABEL_ROWS[output](get_ops(np), Z, None, delta)
    if n_out == 1:  # one logistic unit: the pseudo-label is the rounded output
        target = (Z > 0).astype(float)
        np.testing.assert_allclose(delta, expit(Z) - target)
        np.testing.assert_allclose(losses, -(target * log_expit(Z) + (1 - target)
                                             * log_expit(-Z)).sum(axis=1))
    else:
        P = softmax(Z, axis=1)
        onehot = np.eye(n_out)[Z.argmax(axis=1)]
        np.testing.assert_allclose(delta, P - onehot)
        np.testing.assert_allclose(losses, -np.log(P.max(axis=1)))


@pytest.mark.parametrize("output", ["softmax", "logistic"])
def test_soft_targets_rows_are_the_cross_entropy_and_its_gradient(output):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(7, 3))
    prediction, rows = SOFT_TARGETS[output]
    Q = prediction(get_ops(np), rng.normal(size=(7, 3)))
    losses, delta = rows(get_ops(np), Z, Q, np.empty_like(Z))
    if output == "softmax":
        np.testing.assert_allclose(Q.sum(axis=1), 1)
        expected = -(Q * log_softmax(Z, axis=1)).sum(axis=1)
        np.testing.assert_allclose(delta, softmax(Z, axis=1) - Q)
    else:
        expected = -(Q * log_expit(Z) + (1 - Q) * log_expit(-Z)).sum(axis=1)
        np.testing.assert_allclose(delta, expit(Z) - Q)
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    # one-hot targets give the hard cross-entropy of the labelled rows
    if output == "softmax":
        onehot = np.eye(3)[[0, 2, 1, 1, 0, 2, 2]]
        hard, _ = PSEUDO_LABEL_ROWS["softmax"](get_ops(np), onehot * 50, None,
                                               np.empty_like(Z))
        soft, _ = rows(get_ops(np), onehot * 50, onehot, np.empty_like(Z))
        np.testing.assert_allclose(soft, hard, atol=1e-12)


class _FixedNoise:
    """Draws that hand out the rows of ``E`` as the noise, and nothing else."""

    def __init__(self, E):
        self.E = E

    def normal(self, out):
        out[...] = self.E[:out.shape[0]]
        return out


@pytest.mark.parametrize("weighted", [False, True])
def test_the_consistency_term_and_its_gradient(weighted, monkeypatch):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 4)) * [1.0, 2.0, 0.5, 3.0] + [0.0, 5.0, -1.0, 0.0]
    w = rng.uniform(0.2, 3, size=30) if weighted else None
    term = _term("pseudo_label", X, w, noise=0.7, shuffle=False)
    ww = np.ones(30) if w is None else w
    sd = np.sqrt(ww @ (X - ww @ X / ww.sum()) ** 2 / ww.sum())
    np.testing.assert_allclose(term._device["scale"], 0.7 * sd, rtol=1e-12)
    E = rng.normal(size=(26, 4))
    params = term.coefs + term.intercepts
    grads = [np.zeros_like(p) for p in params]
    value = term.add(grads, rng, _FixedNoise(E), epoch=0)

    def logits_of(A):
        for W, b in zip(term.coefs[:-1], term.intercepts[:-1]):
            A = np.tanh(A @ W + b)
        return A @ term.coefs[-1] + term.intercepts[-1]

    clean = logits_of(X[4:])
    Q = softmax(clean, axis=1)
    noisy = log_softmax(logits_of(X[4:] + 0.7 * sd * E), axis=1)
    wu = ww[4:]
    pseudo = -log_softmax(clean, axis=1)[np.arange(26), clean.argmax(axis=1)]
    consistency = -(Q * noisy).sum(axis=1)
    expected = 2 * (wu @ pseudo + wu @ consistency) / wu.sum()
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    # the gradient by central differences, the targets held fixed (Q as above)
    fixed = {"softmax": (lambda ops, Z: Q, SOFT_TARGETS["softmax"][1])}
    monkeypatch.setattr(semisupervised, "SOFT_TARGETS", fixed)
    _assert_central_differences(params, grads, rng, lambda: term.add(
        [np.zeros_like(q) for q in params], rng, _FixedNoise(E), epoch=0))


def test_spread_labels_and_their_certainty():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    F = np.repeat(centres, 12, axis=0) + rng.normal(scale=0.3, size=(36, 2))
    labels = np.full(36, -1)
    labels[[0, 12]] = [0, 1]  # the third cluster has no labelled row
    pseudo, certainty = spread_labels(F, labels, n_classes=3)
    np.testing.assert_array_equal(pseudo[:24], np.repeat([0, 1], 12))
    assert (certainty[:24] > 0.5).all() and (certainty <= 1).all()
    np.testing.assert_array_equal(certainty[24:], 0)  # not reached: no weight


def _term(loss, X, w, rng_seed=0, **kwargs):
    """A term over all rows of ``X`` (unlabelled but the first 4) of a small
    float64 network, weight 2 at every epoch."""
    rng = np.random.default_rng(rng_seed)
    sizes = [X.shape[1], 7, 5, 3]
    coefs = [rng.normal(scale=0.8, size=s) for s in zip(sizes[:-1], sizes[1:])]
    intercepts = [rng.normal(scale=0.1, size=s) for s in sizes[1:]]
    labels = np.full(X.shape[0], -1)
    labels[:4] = [0, 1, 2, 0]
    rows = np.arange(4, X.shape[0])
    return UnlabelledTerm(loss, 2.0, (0, 0), X, rows, w, labels=labels, n_classes=3,
                          batch_size=rows.shape[0], coefs=coefs,
                          intercepts=intercepts,
                          activation=make_activation("tanh", 0.01, 2),
                          output="softmax", dropout=0.0,
                          **{"shuffle": True, **kwargs})


def _add(term, grads, seed, epoch):
    rng = np.random.default_rng(seed)
    return term.add(grads, rng, device_draws(rng, term.coefs[0]), epoch=epoch)


def _assert_central_differences(params, grads, rng, value, eps=1e-6):
    """``grads`` match central differences of ``value()`` in up to 6 entries
    of each of ``params`` (changed in place and restored)."""
    for p, g in zip(params, grads):
        for k in rng.choice(p.size, size=min(p.size, 6), replace=False):
            flat = p.reshape(-1)
            old = flat[k]
            values = []
            for step in (eps, -eps):
                flat[k] = old + step
                values.append(value())
            flat[k] = old
            np.testing.assert_allclose(g.reshape(-1)[k],
                                       (values[0] - values[1]) / (2 * eps),
                                       rtol=1e-5, atol=1e-8)


@BOTH
@pytest.mark.parametrize("weighted", [False, True])
def test_the_term_and_its_gradient(loss, weighted):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    w = rng.uniform(0.2, 3, size=30) if weighted else None
    term = _term(loss, X, w)
    params = term.coefs + term.intercepts
    grads = [np.zeros_like(p) for p in params]
    value = _add(term, grads, seed=2, epoch=0)
    # the value: 2 * sum(w c loss) / sum(w) over the unlabelled rows
    logits = X[4:]
    for W, b in zip(term.coefs[:-1], term.intercepts[:-1]):
        logits = np.tanh(logits @ W + b)
    logits = logits @ term.coefs[-1] + term.intercepts[-1]
    log_p = log_softmax(logits, axis=1)
    if loss == "pseudo_label":
        target, c = logits.argmax(axis=1), np.ones(26)
    else:
        target, c = term._pseudo[4:], term._certainty[4:]
        assert 0 < c.min() and c.max() <= 1
    ww = np.ones(26) if w is None else w[4:]
    expected = 2 * np.sum(ww * c * -log_p[np.arange(26), target]) / ww.sum()
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    # the gradient, by central differences (the pseudo-labels held fixed)
    _assert_central_differences(params, grads, rng, lambda: _add(
        term, [np.zeros_like(q) for q in params], seed=2, epoch=0))


def test_no_weight_no_term():
    X = np.random.default_rng(1).normal(size=(30, 4))
    term = _term("pseudo_label", X, None)
    term.ramp = (3, 5)
    grads = [np.ones(1)]
    assert _add(term, grads, seed=0, epoch=2) == 0.0
    assert grads == [np.ones(1)] and term._queue.shape == (0,)  # nothing drawn
    assert term.ramping(4) and not term.ramping(5)


def test_unlabelled_batch_size():
    assert unlabelled_batch_size("auto", 3000) == 200
    assert unlabelled_batch_size("auto", 50) == 50
    assert unlabelled_batch_size(64, 3000) == 64


@BOTH
def test_the_unlabelled_rows_change_the_fit_and_make_the_epoch(data, loss):
    X, y, y_masked = data
    off = clf(unlabeled=-1).fit(X, y_masked)
    on = semi(loss).fit(X, y_masked)
    assert not np.array_equal(on.coefs_[0], off.coefs_[0])
    # an epoch: one labelled mini-batch of 60 for each unlabelled one of 200
    # (240 unlabelled rows: 2 mini-batches), so the labelled rows pass twice
    assert on.t_ == on.n_iter_ * 2 * N_LABELLED
    assert off.t_ == off.n_iter_ * N_LABELLED
    # refits with an int random_state are bit-identical
    assert_same_network(on, clone(on).fit(X, y_masked))


@BOTH
def test_without_unlabelled_rows_the_option_changes_nothing(data, loss):
    X, y, _ = data
    assert_same_network(semi(loss).fit(X, y), clf(unlabeled=-1).fit(X, y))


@BOTH
@pytest.mark.parametrize("params", [{"solver": "sgd", "learning_rate_init": 0.05},
                                    {"solver": "adam", "dropout": 0.5},
                                    {"solver": "sgd", "learning_rate": "adaptive",
                                     "dropout": 0.2}])
def test_stochastic_solvers_and_dropout(data, loss, params):
    X, y, y_masked = data
    on = semi(loss, **params).fit(X, y_masked)
    off = clf(unlabeled=-1, **params).fit(X, y_masked)
    assert not np.array_equal(on.coefs_[0], off.coefs_[0])
    assert np.isfinite(on.loss_curve_).all()
    assert_same_network(on, clone(on).fit(X, y_masked))


def test_label_spreading_is_the_default(data):
    X, y, y_masked = data
    assert DBNClassifier().unlabeled_loss == "label_spreading"
    default = DBNClassifier((12,), init=stack(random_state=1), max_iter=5,
                            unlabeled=-1, random_state=0).fit(X, y_masked)
    assert_same_network(default, clf(unlabeled=-1, unlabeled_loss="label_spreading",
                                     unlabeled_ramp=(10, 60)).fit(X, y_masked))


@BOTH
def test_where_the_option_does_not_apply_it_changes_nothing(data, loss):
    # L-BFGS (as early_stopping, it ignores it), no marker, a multilabel y for
    # label spreading: the unlabelled rows serve pre-training only
    X, y, y_masked = data
    for params in ({"solver": "lbfgs", "max_iter": 3}, {"unlabeled": None}):
        assert_same_network(semi(loss, **params).fit(X, y_masked),
                            clf(**{"unlabeled": -1, **params}).fit(X, y_masked))
    Y = np.column_stack([y % 2, y > 4])
    Y[N_LABELLED:] = -1
    on, off = semi(loss).fit(X, Y), clf(unlabeled=-1).fit(X, Y)
    assert on.n_outputs_ == 2
    assert np.array_equal(on.coefs_[0], off.coefs_[0]) == (loss == "label_spreading")


def test_bad_parameters_are_refused_by_name(data):
    X, _, y_masked = data
    est = semi().fit(X, y_masked)
    before = joblib.hash(est)
    for params, match in [({"unlabeled_ramp": (5, 2)}, r"unlabeled_ramp=\(5, 2\)"),
                          ({"unlabeled_ramp": (1.5, 2)}, "pair of ints"),
                          ({"unlabeled_ramp": 3}, "unlabeled_ramp")]:
        with pytest.raises(ValueError, match=match):
            est.set_params(**params).fit(X, y_masked)
        est.set_params(**semi().get_params())
        assert joblib.hash(est) == before
    with pytest.raises(ValueError, match="unlabeled_loss"):
        semi("entropy").fit(X, y_masked)
    with pytest.raises(ValueError, match="unlabeled_weight"):
        semi(unlabeled_weight=-1).fit(X, y_masked)
    with pytest.raises(ValueError, match="unlabeled_noise"):
        semi(unlabeled_noise=-0.5).fit(X, y_masked)


def test_no_stopping_verdict_while_the_weight_ramps(data):
    X, y, y_masked = data
    params = {"n_iter_no_change": 1, "tol": 1e3, "max_iter": 30}
    # no epoch improves by tol: the first epoch (from inf) and two more
    assert clf(unlabeled=-1, **params).fit(X, y_masked).n_iter_ == 3
    # epochs 0..7 ramp up and count for nothing; then the same verdict
    est = semi(unlabeled_ramp=(3, 8), **params).fit(X, y_masked)
    assert est.n_iter_ == 8 + 2
    early = semi(unlabeled_ramp=(3, 8), early_stopping=True, **params)
    assert early.fit(X, y_masked).n_iter_ >= 9


def test_early_stopping_validates_on_labelled_rows_only(data, monkeypatch):
    X, y, y_masked = data
    seen = []
    real = DBNClassifier._validation_score

    def recording(self, state, X_val, y_val, w_val=None):
        seen.append((X_val.shape[0], y_val.copy()))
        return real(self, state, X_val, y_val, w_val)

    monkeypatch.setattr(DBNClassifier, "_validation_score", recording)
    est = semi(early_stopping=True, validation_fraction=0.2).fit(X, y_masked)
    assert seen and all(n == 12 for n, _ in seen)  # 20 % of the 60 labelled rows
    assert est.validation_scores_ is not None
    assert seen[0][1].min() >= 0


def test_unlabelled_rows_carry_their_sample_weights(data):
    X, y, y_masked = data
    pre = FrozenEstimator(stack(random_state=1).fit(X))  # pre-training apart
    w = np.ones(X.shape[0])
    base = semi(init=pre).fit(X, y_masked, sample_weight=w)
    # the unlabelled mean is weighted: scaling every unlabelled weight changes
    # nothing, reweighting them does
    w3 = np.where(y_masked == -1, 3.0, 1.0)
    scaled = semi(init=pre).fit(X, y_masked, sample_weight=w3)
    for a, b in zip(base.coefs_, scaled.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    w_r = np.where(y_masked == -1, np.linspace(0.1, 2, X.shape[0]), 1.0)
    other = semi(init=pre).fit(X, y_masked, sample_weight=w_r)
    assert not np.allclose(base.coefs_[0], other.coefs_[0])
    # a row of weight 0 is a row that is not there
    w0 = np.ones(X.shape[0])
    w0[-50:] = 0
    a = semi(init=pre).fit(X, y_masked, sample_weight=w0)
    b = semi(init=pre).fit(X[:-50], y_masked[:-50])
    assert_same_network(a, b)


def _record_epochs(monkeypatch):
    epochs = []
    real = UnlabelledTerm.add

    def add(self, grads, rng, draws, epoch):
        if not epochs or epochs[-1] != epoch:
            epochs.append(epoch)
        return real(self, grads, rng, draws, epoch)

    monkeypatch.setattr(UnlabelledTerm, "add", add)
    return epochs


def test_partial_fit_and_warm_start_resume_the_ramp(data, monkeypatch):
    X, y, y_masked = data
    epochs = _record_epochs(monkeypatch)
    est = semi(unlabeled_ramp=(0, 10))
    for _ in range(3):
        est.partial_fit(X, y_masked, classes=np.arange(10))
    assert epochs == [0, 1, 2] and len(est.loss_curve_) == 3
    # the unlabelled rows of each batch contribute
    off = clf(unlabeled=-1)
    for _ in range(3):
        off.partial_fit(X, y_masked, classes=np.arange(10))
    assert not np.array_equal(est.coefs_[0], off.coefs_[0])
    assert est.t_ == 3 * 2 * N_LABELLED
    epochs.clear()
    warm = semi(unlabeled_ramp=(0, 10), warm_start=True, max_iter=3,
                n_iter_no_change=np.inf).fit(X, y_masked)
    warm.set_params(max_iter=2).fit(X, y_masked)
    assert epochs == [0, 1, 2, 3, 4] and len(warm.loss_curve_) == 5


@BOTH
def test_a_failing_fit_changes_nothing(data, loss):
    X, y, y_masked = data
    est = semi(loss).fit(X, y_masked)
    before, snapshot = joblib.hash(est), (X.copy(), y_masked.copy())
    with pytest.raises(ValueError, match="diverged"):
        est.set_params(learning_rate_init=1e8, solver="sgd", momentum=0.0,
                       warm_start=True).fit(X * 1e4, y_masked)
    est.set_params(**semi(loss).get_params())
    assert joblib.hash(est) == before
    np.testing.assert_array_equal(X, snapshot[0])
    np.testing.assert_array_equal(y_masked, snapshot[1])


@BOTH
def test_float32_sparse_and_binary(data, loss):
    X, y, y_masked = data
    est = semi(loss).fit(X.astype(np.float32), y_masked)
    assert est.coefs_[0].dtype == np.float32 and est.predict_proba(X).dtype == \
        np.float32
    dense = semi(loss).fit(X, y_masked)
    sparse = semi(loss).fit(sp.csr_matrix(X), y_masked)
    np.testing.assert_allclose(dense.coefs_[0], sparse.coefs_[0], rtol=1e-6,
                               atol=1e-9)
    binary = np.where(y_masked == -1, -1, y_masked % 2)
    on = semi(loss).fit(X, binary)
    assert on.n_outputs_ == 1
    assert not np.array_equal(on.coefs_[0],
                              clf(unlabeled=-1).fit(X, binary).coefs_[0])


def test_grid_search_over_the_option(data):
    X, y, y_masked = data
    grid = {"unlabeled_loss": [None, "pseudo_label", "label_spreading"],
            "unlabeled_weight": [0.5, 2.0], "unlabeled_ramp": [(0, 0), (1, 3)],
            "unlabeled_noise": [0.0, 0.5]}
    search = GridSearchCV(semi(max_iter=2), grid, cv=2).fit(X, y_masked)
    assert len(search.cv_results_["params"]) == 24
    assert search.best_params_["unlabeled_ramp"] in grid["unlabeled_ramp"]
    assert search.best_estimator_.unlabeled_loss in grid["unlabeled_loss"]


# ------------------------------------------------------------ the consistency term
@pytest.mark.parametrize("params", [
    {"unlabeled_loss": None},
    {"solver": "lbfgs", "max_iter": 5},
], ids=["unlabeled_loss=None", "lbfgs"])
def test_the_noise_is_ignored_where_the_unlabelled_rows_stay_out(data, params):
    X, _, y_masked = data
    off = semi(**params).fit(X, y_masked)
    on = semi(unlabeled_noise=0.5, **params).fit(X, y_masked)
    assert_same_network(on, off)


def test_the_noise_is_ignored_by_label_spreading_of_multilabel_targets(data):
    X, y, _ = data
    Y = np.column_stack([y % 2, y > 4]).astype(int)
    Y[N_LABELLED:] = -1
    off = semi().fit(X, Y)
    assert_same_network(semi(unlabeled_noise=0.5).fit(X, Y), off)
    # pseudo-labels have multilabel targets: there the noise enters
    on = semi("pseudo_label", unlabeled_noise=0.5).fit(X, Y)
    assert not np.array_equal(on.coefs_[0], semi("pseudo_label").fit(X, Y).coefs_[0])


@pytest.mark.parametrize("params", [
    {},
    {"solver": "sgd", "dropout": 0.3},
    {"early_stopping": True, "validation_fraction": 0.3},
    {"sample_weight": True},
    {"sparse": True},
    {"warm_start": True},
    {"partial_fit": True},
    {"binary": True},
], ids=["adam", "sgd-dropout", "early_stopping", "sample_weight", "sparse",
        "warm_start", "partial_fit", "binary"])
def test_the_consistency_term_trains_with_every_mini_batch_option(data, params):
    X, _, y_masked = data
    params = dict(params)
    weights = params.pop("sample_weight", False)
    sample_weight = np.arange(X.shape[0]) % 3 + 1.0 if weights else None
    if params.pop("sparse", False):
        X = sp.csr_matrix(X)
    if params.pop("binary", False):
        y_masked = np.where(y_masked == -1, -1, y_masked % 2)
    incremental = params.pop("partial_fit", False)

    def fitted(noise):
        est = semi(unlabeled_noise=noise, unlabeled_ramp=(0, 0), **params)
        if incremental:  # two batches, each with labelled rows
            for half in (slice(0, None, 2), slice(1, None, 2)):
                est.partial_fit(X[half], y_masked[half], classes=np.unique(
                    y_masked[y_masked != -1]))
            return est
        est.fit(X, y_masked, sample_weight=sample_weight)
        if params.get("warm_start"):
            est.fit(X, y_masked, sample_weight=sample_weight)
        return est

    on, off = fitted(0.5), fitted(0.0)
    assert all(np.isfinite(a).all() for a in on.coefs_ + on.intercepts_)
    assert np.isfinite(on.loss_curve_).all()
    assert not np.array_equal(on.coefs_[0], off.coefs_[0])
    # a refit with the same int random_state is the same fit, bit for bit
    assert_same_network(fitted(0.5), on)


def test_the_sparse_and_dense_fits_with_noise_are_the_same(data):
    X, _, y_masked = data
    dense = semi(unlabeled_noise=0.5).fit(X, y_masked)
    sparse = semi(unlabeled_noise=0.5).fit(sp.csr_matrix(X), y_masked)
    for a, b in zip(dense.coefs_ + dense.intercepts_,
                    sparse.coefs_ + sparse.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_a_marker_the_labels_dtype_cannot_hold_is_refused():
    # uint8 stores -1 as 255 and bool has no -1: no row could carry the marker,
    # and the rows meant as unlabelled would quietly become a class
    X = np.random.default_rng(0).random((30, 4))
    for y in (np.arange(30, dtype=np.uint8) % 3, np.arange(30) % 2 == 0):
        with pytest.raises(ValueError, match="cannot be held by the labels' dtype"):
            DBNClassifier((4,), unlabeled=-1).fit(X, y)


@pytest.mark.parametrize("classes", [
    np.array(["a", "b", "c", -1], dtype=object), ["a", "b", "c", -1],
    [-1, "c", "b", "a"]])
def test_a_number_marker_listed_among_string_classes_is_dropped(classes):
    X = np.random.default_rng(0).random((30, 4))
    y = np.array(["a", "b", "c"] * 10, dtype=object)
    y[::2] = -1  # scikit-learn's semi-supervised convention
    clf = DBNClassifier((4,), init="xavier_uniform", unlabeled=-1, random_state=0)
    clf.partial_fit(X, y, classes=classes)
    assert clf.classes_.tolist() == ["a", "b", "c"]
