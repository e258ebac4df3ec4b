"""Saving and loading: pickle, joblib (incl. memory maps), skops, the version stamp.

Every persistence test of the package lives here: both estimators (the classifier
in several configurations, a pre-trained one among them) round-trip through
pickle, joblib (``mmap_mode=None`` and ``"r"``) and skops, and a loaded model
continues with ``partial_fit`` and ``warm_start`` exactly as the original would.
"""

import copy
import pickle
import warnings

import joblib
import numpy as np
import pytest
from _checks import assert_same_predictions
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

import sk_dbn._base
from sk_dbn import DBNClassifier, DBNRegressor, StackedRBMTransformer
from sk_dbn._base import SkDbnVersionWarning

sio = pytest.importorskip("skops.io")


pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:150] / 16.0, y[:150]


def _type_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


SK_DBN_TYPES = {_type_name(DBNClassifier), _type_name(StackedRBMTransformer)}

STACKS = {
    "bernoulli": dict(),
    "gaussian-pcd": dict(visible_units="gaussian", persistent=True, cd_k=2),
    "relu": dict(hidden_units="relu"),
}
CLASSIFIERS = {
    "rbm": dict(init=StackedRBMTransformer((10, 6), n_iter=2)),
    "lsuv": dict(init="lsuv", activation="relu"),
    "sgd-float32": dict(init="he_normal", solver="sgd", activation="tanh"),
    "early-stopping": dict(init="xavier_uniform", early_stopping=True),
    # the activation parameters are plain parameters: the fitted state holds
    # only arrays, so nothing new needs trusting
    "maxout": dict(init="lsuv", activation="maxout", maxout_pieces=3),
    "vlrelu": dict(init="he_normal", activation="leaky_relu", negative_slope=1 / 3),
}


def _stack(name):
    return StackedRBMTransformer((10, 6), n_iter=2, batch_size=16, learning_rate=0.1,
                                 random_state=0, **STACKS[name])


def _classifier(name):
    return DBNClassifier((10, 6), max_iter=3, learning_rate_init=0.02,
                         random_state=0, **CLASSIFIERS[name])


@pytest.fixture(scope="module", params=list(STACKS))
def fitted_stack(request):
    X, _ = _digits()
    if request.param == "gaussian-pcd":
        X = X * 16.0 - 3.0
    return _stack(request.param).fit(X), X


@pytest.fixture(scope="module", params=list(CLASSIFIERS))
def fitted_classifier(request):
    X, y = _digits()
    if request.param == "sgd-float32":
        X = X.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _classifier(request.param).fit(X, y), X, y


def _assert_same_transforms(a, b, X):
    H = a.transform(X)
    np.testing.assert_array_equal(H, b.transform(X))
    assert b.transform(X).dtype == H.dtype
    np.testing.assert_array_equal(a.inverse_transform(H), b.inverse_transform(H))


def _assert_same_arrays(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def _continue_stack(loaded, original, X):
    """partial_fit on a loaded transformer equals partial_fit on the original."""
    reference = copy.deepcopy(original)
    loaded.partial_fit(X)
    reference.partial_fit(X)
    assert loaded.n_iter_ == original.n_iter_ + 1
    _assert_same_arrays(loaded.coefs_, reference.coefs_)
    _assert_same_arrays(loaded.intercepts_visible_, reference.intercepts_visible_)


def _continue_classifier(loaded, original, X, y):
    """partial_fit and warm_start fit work, and match the unsaved model."""
    reference = copy.deepcopy(original)
    # partial_fit does not support early stopping (as in MLPClassifier)
    for est in (loaded, reference):
        est.set_params(early_stopping=False).partial_fit(X, y)
    _assert_same_arrays(loaded.coefs_ + loaded.intercepts_,
                        reference.coefs_ + reference.intercepts_)
    assert loaded.n_iter_ == 1  # the epochs of this call, as in scikit-learn
    assert loaded.t_ == original.t_ + X.shape[0]
    loaded.set_params(warm_start=True, max_iter=1)
    loaded.fit(X, y)
    assert loaded.n_iter_ == 1
    assert len(loaded.loss_curve_) == len(original.loss_curve_) + 2
    assert all(np.isfinite(W).all() for W in loaded.coefs_)


# ------------------------------------------------------------- pickle and joblib
def test_stack_pickle_round_trip(fitted_stack):
    est, X = fitted_stack
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.visible_units_ == est.visible_units_
    assert loaded.reconstruction_error_ == est.reconstruction_error_
    _assert_same_transforms(est, loaded, X)
    _continue_stack(loaded, est, X)


@pytest.mark.parametrize("mmap_mode", [None, "r"])
def test_stack_joblib_round_trip(fitted_stack, tmp_path, mmap_mode):
    est, X = fitted_stack
    path = tmp_path / "stack.joblib"
    joblib.dump(est, path)
    loaded = joblib.load(path, mmap_mode=mmap_mode)
    if mmap_mode == "r":
        assert isinstance(loaded.coefs_[0], np.memmap)
        assert not loaded.coefs_[0].flags.writeable
    _assert_same_transforms(est, loaded, X)
    _continue_stack(loaded, est, X)
    # training the loaded model did not write into the file
    _assert_same_transforms(est, joblib.load(path, mmap_mode=mmap_mode), X)


def test_classifier_pickle_round_trip(fitted_classifier):
    clf, X, y = fitted_classifier
    loaded = pickle.loads(pickle.dumps(clf))
    assert_same_predictions(clf, loaded, X)
    if clf.init == "rbm":
        _assert_same_arrays(loaded.pretrainer_.coefs_, clf.pretrainer_.coefs_)
    _continue_classifier(loaded, clf, X, y)


@pytest.mark.parametrize("mmap_mode", [None, "r"])
def test_classifier_joblib_round_trip(fitted_classifier, tmp_path, mmap_mode):
    clf, X, y = fitted_classifier
    path = tmp_path / "clf.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path, mmap_mode=mmap_mode)
    if mmap_mode == "r":
        # the weights really are read-only memory maps
        assert isinstance(loaded.coefs_[0], np.memmap)
        assert not loaded.coefs_[0].flags.writeable
    assert loaded.coefs_[0].dtype == clf.coefs_[0].dtype
    assert_same_predictions(clf, loaded, X)
    assert loaded.score(X, y) == clf.score(X, y)
    _continue_classifier(loaded, clf, X, y)
    assert_same_predictions(clf, joblib.load(path, mmap_mode=mmap_mode), X)


@pytest.mark.parametrize("fitted", [False, True], ids=["unfitted", "fitted"])
@pytest.mark.parametrize("Estimator", [DBNClassifier, StackedRBMTransformer])
def test_saving_does_not_change_the_estimator(Estimator, fitted):
    X, y = _digits()
    est = Estimator((4,), random_state=0)
    if fitted:
        est.set_params(**({"max_iter": 1} if Estimator is DBNClassifier
                          else {"n_iter": 1}))
        est.fit(X, y)
    before = dict(vars(est))
    pickle.dumps(est)
    copy.deepcopy(est)
    assert vars(est).keys() == before.keys()
    assert "_sk_dbn_version" not in vars(pickle.loads(pickle.dumps(est)))


# ------------------------------------------------------------------------- skops
def _skops_round_trip(est, path):
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    return untrusted, sio.load(path, trusted=untrusted)


def test_skops_stack(fitted_stack, tmp_path):
    est, X = fitted_stack
    untrusted, loaded = _skops_round_trip(est, tmp_path / "stack.skops")
    # only the estimator class: no helper object hides in the fitted state
    assert untrusted == [_type_name(StackedRBMTransformer)]
    assert type(loaded) is StackedRBMTransformer
    _assert_same_transforms(est, loaded, X)
    _continue_stack(loaded, est, X)


def test_skops_classifier(fitted_classifier, tmp_path):
    clf, X, y = fitted_classifier
    untrusted, loaded = _skops_round_trip(clf, tmp_path / "clf.skops")
    expected = {_type_name(DBNClassifier)}
    if hasattr(clf, "pretrainer_"):  # the pre-training stack is part of the state
        expected.add(_type_name(StackedRBMTransformer))
        assert type(loaded.pretrainer_) is StackedRBMTransformer
        _assert_same_arrays(loaded.pretrainer_.coefs_, clf.pretrainer_.coefs_)
    assert sorted(untrusted) == sorted(expected)
    assert_same_predictions(clf, loaded, X)
    _continue_classifier(loaded, clf, X, y)


@pytest.mark.parametrize("final", ["dbn", "logistic"])
def test_skops_pipeline(tmp_path, final):
    X, y = _digits()
    X = X * 16.0  # the scaler matters
    steps = [("scale", MinMaxScaler()),
             ("rbm", StackedRBMTransformer((12,), n_iter=2, random_state=0))]
    if final == "dbn":
        steps.append(("clf", DBNClassifier(
            (8,), init=StackedRBMTransformer((8,), n_iter=1), max_iter=3,
            random_state=0)))
    else:
        steps.append(("clf", LogisticRegression(max_iter=200)))
    pipe = Pipeline(steps).fit(X, y)
    untrusted, loaded = _skops_round_trip(pipe, tmp_path / "pipe.skops")
    expected = SK_DBN_TYPES if final == "dbn" else {
        _type_name(StackedRBMTransformer)}
    assert sorted(untrusted) == sorted(expected)
    assert_same_predictions(pipe, loaded, X)
    np.testing.assert_array_equal(pipe[:-1].transform(X), loaded[:-1].transform(X))


# --------------------------------------------------------------- version stamp
def _saved_by(monkeypatch, est, version, how, tmp_path):
    """Save ``est`` as sk_dbn ``version`` would; return a function loading it."""
    monkeypatch.setattr(sk_dbn._base, "__version__", version)
    path = tmp_path / "model"
    if how == "pickle":
        blob = pickle.dumps(est)
        load = lambda: pickle.loads(blob)  # noqa: E731
    elif how == "joblib":
        joblib.dump(est, path)
        load = lambda: joblib.load(path)  # noqa: E731
    else:
        sio.dump(est, path)
        load = lambda: sio.load(path, trusted=sorted(SK_DBN_TYPES))  # noqa: E731
    monkeypatch.undo()
    return load


@pytest.mark.parametrize("how", ["pickle", "joblib", "skops"])
def test_loading_another_version_warns(monkeypatch, tmp_path, how):
    X, y = _digits()
    clf = DBNClassifier((6,), init=StackedRBMTransformer((6,), n_iter=1), max_iter=1,
                        random_state=0).fit(X, y)
    load = _saved_by(monkeypatch, clf, "0.0.1.dev-other", how, tmp_path)
    with pytest.warns(SkDbnVersionWarning, match="0.0.1.dev-other") as record:
        loaded = load()
    # one warning per sk_dbn object: the classifier and its pretrainer_
    names = {str(w.message).split()[2] for w in record
             if issubclass(w.category, SkDbnVersionWarning)}
    assert names == {"DBNClassifier", "StackedRBMTransformer"}
    assert all(sk_dbn.__version__ in str(w.message) for w in record)
    assert "_sk_dbn_version" not in vars(loaded)
    assert_same_predictions(clf, loaded, X)


def test_loading_an_unstamped_state_warns():
    X, _ = _digits()
    est = StackedRBMTransformer((4,), n_iter=1, random_state=0).fit(X)
    state = est.__getstate__()
    assert state["_sk_dbn_version"] == sk_dbn.__version__
    del state["_sk_dbn_version"]
    blank = StackedRBMTransformer.__new__(StackedRBMTransformer)
    with pytest.warns(SkDbnVersionWarning, match="unknown"):
        blank.__setstate__(state)
    np.testing.assert_array_equal(blank.transform(X), est.transform(X))


@pytest.mark.parametrize("how", ["pickle", "joblib", "skops"])
def test_loading_the_same_version_is_silent(tmp_path, how):
    X, y = _digits()
    est = StackedRBMTransformer((4,), n_iter=1, random_state=0).fit(X)
    path = tmp_path / "model"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if how == "pickle":
            pickle.loads(pickle.dumps(est))
        elif how == "joblib":
            joblib.dump(est, path)
            joblib.load(path)
        else:
            sio.dump(est, path)
            sio.load(path, trusted=[_type_name(StackedRBMTransformer)])


# ---------------------------------------------------------------- regressors
REGRESSORS = {
    "rbm": dict(init="rbm", activation="logistic"),
    "lbfgs": dict(init="lsuv", solver="lbfgs"),
    "poisson-dropout": dict(loss="poisson", dropout=0.3, solver="sgd",
                            learning_rate="invscaling"),
}


@pytest.mark.parametrize("name", list(REGRESSORS))
def test_regressor_round_trips_and_continues(name, tmp_path):
    X, _ = _digits()
    Y = np.column_stack([X[:, 20] + X[:, 21], X[:, 30]]) + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = DBNRegressor((10,), max_iter=3, random_state=0,
                           **REGRESSORS[name]).fit(X, Y)
    untrusted, by_skops = _skops_round_trip(reg, tmp_path / "reg.skops")
    expected = {_type_name(DBNRegressor)}
    if hasattr(reg, "pretrainer_"):
        expected.add(_type_name(StackedRBMTransformer))
    assert sorted(untrusted) == sorted(expected)
    path = tmp_path / "reg.joblib"
    joblib.dump(reg, path)
    for loaded in (pickle.loads(pickle.dumps(reg)), by_skops,
                   joblib.load(path, mmap_mode="r")):
        np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
        if reg.solver != "lbfgs":  # continues exactly as the unsaved model
            reference = copy.deepcopy(reg)
            loaded.partial_fit(X, Y)
            reference.partial_fit(X, Y)
            _assert_same_arrays(loaded.coefs_, reference.coefs_)
