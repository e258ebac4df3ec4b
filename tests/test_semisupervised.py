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
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate

from sk_dbn import DBNClassifier, StackedRBMTransformer

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
    return DBNClassifier((12,), **{"init": stack(random_state=1), "max_iter": 5,
                                   "random_state": 0, **params})


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
    a = DBNClassifier((12,), init="xavier_uniform", unlabeled=-1, max_iter=5,
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
