"""Bad input: every public method of both estimators, row by row.

Each row of the matrix is either handled correctly (what "correct" means is
asserted: finite outputs, probability rows summing to 1, dtype kept, input never
modified) or rejected with a ``ValueError`` whose message names the problem.
Hypothesis tests then throw random small shapes, dtypes, scales and
hyperparameters at both estimators: only the rejections the drawn inputs call
for may come out (an early-stopping split with no training or no validation
row, Bernoulli visible units on X outside [0, 1], ``partial_fit`` with early
stopping, a divergence where the step size or the scale of X makes it
plausible), each with its message, and the estimator stays unfitted.
"""

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted

from sk_dbn import DBNClassifier, DBNRegressor, StackedRBMTransformer
from sk_dbn._base import DivergenceError
from sk_dbn.initializers import INITIALIZERS

N, F, H = 30, 4, 5  # samples, features, top hidden units
CLASSES = np.array([0, 1, 2])

DBN_FIT = ["fit", "partial_fit", "initialize"]
DBN_PREDICT = ["predict", "predict_proba", "predict_log_proba", "score"]
STACK_FIT = ["fit", "partial_fit", "fit_transform"]
STACK_APPLY = ["transform", "inverse_transform"]
ALL_METHODS = (
    [("dbn", m) for m in DBN_FIT + DBN_PREDICT]
    + [("stack", m) for m in STACK_FIT + STACK_APPLY]
)


pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def _data(dtype=np.float64, n=N, f=F, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, f)).astype(dtype), np.arange(n) % 3


def dbn(**params):
    defaults = dict(hidden_layer_sizes=(H,), init="xavier_uniform", max_iter=3,
                    learning_rate_init=0.05, random_state=0)
    params = {**defaults, **params}
    if params["init"] == "rbm":  # a short pre-training
        params["init"] = short_rbm(params["hidden_layer_sizes"],
                                   params.get("activation", "logistic"), n_iter=2)
    return DBNClassifier(**params)


def short_rbm(sizes, activation, **params):
    """The pre-training of ``init="rbm"``, with ``params`` (e.g. fewer epochs)."""
    units = "relu" if activation in ("relu", "leaky_relu") else "bernoulli"
    return StackedRBMTransformer(sizes, hidden_units=units, **params)


def stack(**params):
    defaults = dict(hidden_layer_sizes=(6, H), n_iter=2, batch_size=8,
                    random_state=0)
    return StackedRBMTransformer(**{**defaults, **params})


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {"dbn": dbn().fit(X, y), "stack": stack().fit(X)}


def call(est, method, X, y=None):
    """Call ``method`` the way a user would; fresh estimators get ``classes``."""
    if isinstance(est, DBNClassifier):
        if method == "partial_fit" and not hasattr(est, "coefs_"):
            return est.partial_fit(X, y, classes=CLASSES)
        if method in ("fit", "partial_fit", "initialize", "score"):
            return getattr(est, method)(X, y)
        return getattr(est, method)(X)
    return getattr(est, method)(X)


def target(kind, method, fitted):
    """The estimator a row runs on: fresh for fitting methods, fitted otherwise."""
    if method in ("predict", "predict_proba", "predict_log_proba", "score",
                  "transform", "inverse_transform"):
        return fitted[kind]
    return dbn() if kind == "dbn" else stack()


def width(kind, method):
    """Columns of a valid input: features, or hidden units for inverse_transform."""
    return H if method == "inverse_transform" else F


def _labels(n):
    return np.arange(n) % 3


def _check_output(kind, method, out, est, n, dtype):
    """What a correct answer looks like, method by method."""
    if method in ("fit", "partial_fit", "initialize"):
        assert out is est
        arrays = est.coefs_ + est.intercepts_
        assert all(np.isfinite(a).all() for a in arrays)
        assert est.coefs_[0].dtype == dtype
        return
    if method == "score":
        assert 0.0 <= out <= 1.0
        return
    if method == "predict":
        assert out.shape == (n,)
        assert set(out) <= set(est.classes_)
        return
    assert isinstance(out, np.ndarray) and out.dtype == dtype
    assert np.isfinite(out).all()
    if method == "predict_proba":
        assert out.shape == (n, est.classes_.shape[0])
        assert ((out >= 0) & (out <= 1)).all()
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    elif method == "predict_log_proba":
        assert (out <= 0).all()
    elif method in ("transform", "fit_transform"):
        assert out.shape == (n, H)
    elif method == "inverse_transform":
        assert out.shape == (n, F)


# --------------------------------------------------------------- rejected rows
def _with(value, w):
    X = _data(f=w)[0]
    X[3, w - 1] = value
    return X


REJECTED = {
    "nan": (lambda w: _with(np.nan, w), "NaN"),
    "inf": (lambda w: _with(np.inf, w), "infinity"),
    "-inf": (lambda w: _with(-np.inf, w), "infinity"),
    "empty": (lambda w: np.empty((0, w)), "0 sample"),
    "1-d": (lambda w: _data(f=w)[0][:, 0], "Expected 2D array"),
    "complex": (lambda w: _data(f=w)[0] + 1j, "Complex data not supported"),
    "strings": (lambda w: np.full((N, w), "a", dtype=object),
                "could not convert string to float"),
    "string-dtype": (lambda w: np.full((N, w), "0.5x"),
                     "could not convert string to float"),
}


@pytest.mark.parametrize("row", list(REJECTED))
@pytest.mark.parametrize(("kind", "method"), ALL_METHODS)
def test_rejected_inputs(fitted, kind, method, row):
    make, message = REJECTED[row]
    X = make(width(kind, method))
    est = target(kind, method, fitted)
    with pytest.raises(ValueError, match=message):
        call(est, method, X, _labels(X.shape[0]))


@pytest.mark.parametrize(("kind", "method"), [
    ("dbn", "predict"), ("dbn", "predict_proba"), ("dbn", "predict_log_proba"),
    ("dbn", "score"), ("dbn", "partial_fit"), ("stack", "transform"),
    ("stack", "partial_fit"), ("stack", "inverse_transform"),
])
@pytest.mark.parametrize("n_features", [F - 1, F + 1])
def test_wrong_number_of_features(fitted, kind, method, n_features):
    est = fitted[kind]
    if method == "partial_fit":  # continues the fitted model: shape is checked
        est = dbn().fit(*_data()) if kind == "dbn" else stack().fit(_data()[0])
    w = n_features + (H - F if method == "inverse_transform" else 0)
    X = _data(f=w)[0]
    expected = H if method == "inverse_transform" else F
    with pytest.raises(ValueError, match=rf"X has {w} features.*expect.*{expected}"):
        call(est, method, X, _labels(N))


# ------------------------------------------------------------------- labels (y)
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("method", DBN_FIT + ["score"])
@pytest.mark.parametrize(("y", "message"), [
    (np.where(_labels(N) == 0, np.nan, _labels(N)), "NaN"),
    (np.where(_labels(N) == 0, np.inf, _labels(N)), "infinity"),
    (np.linspace(0, 1, N), "continuous"),
    (np.column_stack([_labels(N)] * 2), r"1d array|multilabel|multioutput"),
    (_labels(N - 1), "inconsistent numbers of samples"),
], ids=["nan", "inf", "continuous", "2-d", "wrong-length"])
def test_rejected_labels(fitted, method, y, message):
    X = _data()[0]
    est = fitted["dbn"] if method == "score" else dbn()
    with pytest.raises(ValueError, match=message):
        call(est, method, X, y)


@pytest.mark.parametrize("method", DBN_FIT)
@pytest.mark.parametrize("init", ["xavier_uniform", "lsuv", "rbm"])
def test_one_class_fits_and_predicts_it(method, init):
    # as MLPClassifier (tests/test_dbn.py compares the two)
    X = _data()[0]
    snapshot = X.copy()
    est = dbn(init=init)
    if method == "partial_fit":
        est.partial_fit(X, np.full(N, 7), classes=[7])
    else:
        getattr(est, method)(X, np.full(N, 7))
    _check_output("dbn", method, est, est, N, np.float64)
    np.testing.assert_array_equal(est.classes_, [7])
    np.testing.assert_array_equal(est.predict(X), np.full(N, 7))
    for predict in DBN_PREDICT:
        _check_output("dbn", predict, call(est, predict, X, np.full(N, 7)), est, N,
                      np.float64)
    assert _unchanged(X, snapshot)


def test_one_class_in_a_batch_is_fine_when_classes_are_known(fitted):
    X = _data()[0]
    clf = dbn().partial_fit(X, np.zeros(N, dtype=int), classes=CLASSES)
    _check_output("dbn", "predict_proba", clf.predict_proba(X), clf, N, np.float64)
    assert clf.predict_proba(X).shape == (N, 3)
    assert fitted["dbn"].score(X, np.zeros(N, dtype=int)) >= 0  # one class in y


def test_labels_outside_classes_are_rejected():
    X, y = _data()
    with pytest.raises(ValueError, match=r"labels \[2\] not in classes"):
        dbn().partial_fit(X, y, classes=[0, 1])
    clf = dbn().partial_fit(X, y, classes=CLASSES)
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, y + 3)
    with pytest.raises(ValueError, match="classes must be passed"):
        dbn().partial_fit(X, y)


@pytest.mark.parametrize("method", DBN_FIT)
def test_string_labels(method):
    X, y = _data()
    names = np.array(["cat", "dog", "emu"])
    y_str = names[y]
    clf = call(dbn(), method, X, y_str) if method != "partial_fit" else \
        dbn().partial_fit(X, y_str, classes=names)
    np.testing.assert_array_equal(clf.classes_, names)
    pred = clf.predict(X)
    assert pred.dtype.kind == "U" and set(pred) <= set(names)
    assert 0 <= clf.score(X, y_str) <= 1
    _check_output("dbn", "predict_proba", clf.predict_proba(X), clf, N, np.float64)
    # the same network as with integer labels: labels are only names
    ints = call(dbn(), method, X, y) if method != "partial_fit" else \
        dbn().partial_fit(X, y, classes=CLASSES)
    np.testing.assert_array_equal(clf.predict_proba(X), ints.predict_proba(X))
    # pandas string and categorical labels too
    for labels in (pd.Series(y_str, dtype="string"),
                   pd.Series(y_str, dtype="category")):
        got = dbn().fit(X, labels)
        np.testing.assert_array_equal(got.predict(X), dbn().fit(X, y_str).predict(X))


# ------------------------------------------------------------ handled shapes
@pytest.mark.parametrize("init", ["xavier_uniform", "lsuv", "rbm"])
def test_one_sample(fitted, init):
    X, _ = _data(n=1)
    # fit learns its one class ...
    np.testing.assert_array_equal(dbn(init=init).fit(X, [0]).predict(X), [0])
    # ... and partial_fit with known classes all of them
    clf = dbn(init=init).partial_fit(X, [1], classes=CLASSES)
    for method in DBN_PREDICT:
        _check_output("dbn", method, call(clf, method, X, [1]), clf, 1, np.float64)
    for method in DBN_PREDICT:
        out = call(fitted["dbn"], method, X, [1])
        _check_output("dbn", method, out, fitted["dbn"], 1, np.float64)
    for scale in (1.0, 10.0):  # Bernoulli and Gaussian visible units
        for method in STACK_FIT:
            est = stack()
            out = call(est, method, X * scale)
            if method == "fit_transform":
                _check_output("stack", method, out, est, 1, np.float64)
            assert all(np.isfinite(W).all() for W in est.coefs_)
            _check_output("stack", "transform", est.transform(X), est, 1, np.float64)
    est = fitted["stack"]
    Hx = est.transform(X)
    _check_output("stack", "transform", Hx, est, 1, np.float64)
    _check_output("stack", "inverse_transform", est.inverse_transform(Hx), est, 1,
                  np.float64)


@pytest.mark.parametrize("scale", [1.0, 10.0], ids=["bernoulli", "gaussian"])
@pytest.mark.parametrize("init", ["xavier_uniform", "lsuv", "rbm"])
def test_one_feature(init, scale):
    X, y = _data(f=1)
    X *= scale
    for method in DBN_FIT:
        clf = call(dbn(init=init), method, X, y)
        _check_output("dbn", method, clf, clf, N, np.float64)
        for predict in DBN_PREDICT:
            _check_output("dbn", predict, call(clf, predict, X, y), clf, N, np.float64)
    for method in STACK_FIT:
        est = stack(hidden_layer_sizes=(3, H))
        call(est, method, X)
        H1 = est.transform(X)
        assert H1.shape == (N, H) and np.isfinite(H1).all()
        R = est.inverse_transform(H1)
        assert R.shape == (N, 1) and np.isfinite(R).all()


# ----------------------------------------------------------- dtypes of X
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("kind", "method"), ALL_METHODS)
def test_float_dtype_is_kept(kind, method, dtype):
    X, y = _data(dtype)
    if method in DBN_PREDICT or method in STACK_APPLY:
        est = (dbn().fit(X, y) if kind == "dbn" else stack().fit(X))
    else:
        est = target(kind, method, {})
    if method == "inverse_transform":
        X = est.transform(X)
    out = call(est, method, X, y)
    _check_output(kind, method, out, est, N, dtype)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, bool, np.float16])
def test_other_numeric_dtypes_become_float64(fitted, dtype):
    X = (_data()[0] * 2).astype(dtype)
    y = _labels(N)
    clf = dbn().fit(X, y)
    assert clf.coefs_[0].dtype == np.float64
    _check_output("dbn", "predict_proba", clf.predict_proba(X), clf, N, np.float64)
    est = stack().fit(X)
    _check_output("stack", "transform", est.transform(X), est, N, np.float64)
    _check_output("dbn", "predict_proba", fitted["dbn"].predict_proba(X),
                  fitted["dbn"], N, np.float64)


def test_numeric_object_array_is_converted(fitted):
    X, y = _data()
    Xo = X.astype(object)
    clf = dbn().fit(Xo, y)
    ref = dbn().fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(Xo), ref.predict_proba(X))
    for kind, method in ALL_METHODS:
        est = target(kind, method, fitted)
        Xm = est.transform(X).astype(object) if method == "inverse_transform" else Xo
        _check_output(kind, method, call(est, method, Xm, y), est, N, np.float64)


def test_model_dtype_wins_at_predict_time():
    X, y = _data()
    clf32 = dbn().fit(X.astype(np.float32), y)
    clf64 = dbn().fit(X, y)
    assert clf32.predict_proba(X).dtype == np.float32
    assert clf64.predict_proba(X.astype(np.float32)).dtype == np.float64
    est32 = stack().fit(X.astype(np.float32))
    assert est32.transform(X).dtype == np.float32
    assert est32.inverse_transform(est32.transform(X).astype(np.float64)).dtype == \
        np.float32


@pytest.mark.parametrize("model", ["classifier", "regressor"])
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_training_continues_in_the_model_dtype(model, how):
    # a float64 model continued on float32 X (or the reverse) trains as on X
    # cast to its dtype, as MLPClassifier accepts it
    X, y = _data()
    make = dbn if model == "classifier" else (
        lambda: DBNRegressor((H,), init="xavier_uniform", max_iter=3,
                             random_state=0))
    for fitted_dtype, other in ((np.float64, np.float32), (np.float32, np.float64)):
        a, b = (make().fit(X.astype(fitted_dtype), y) for _ in range(2))
        X_other = X.astype(other)
        if how == "partial_fit":
            a.partial_fit(X_other, y)
            b.partial_fit(X_other.astype(fitted_dtype), y)
        else:
            a.set_params(warm_start=True).fit(X_other, y)
            b.set_params(warm_start=True).fit(X_other.astype(fitted_dtype), y)
        assert a.coefs_[0].dtype == fitted_dtype
        for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            np.testing.assert_array_equal(wa, wb)


# ----------------------------------------------------------- magnitudes
@pytest.mark.filterwarnings("error::RuntimeWarning")  # no overflow, no 0/0
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1e6, -1e6, 1e-30], ids=["1e6", "-1e6", "1e-30"])
def test_huge_and_tiny_values(fitted, scale, dtype):
    X, y = _data()
    X = (X * scale).astype(dtype)
    snapshot = X.copy()
    for init in ("xavier_uniform", "lsuv", "rbm", "zeros"):
        for method in DBN_FIT:
            clf = call(dbn(init=init), method, X, y)
            _check_output("dbn", method, clf, clf, N, dtype)
            for predict in DBN_PREDICT:
                out = call(clf, predict, X, y)
                _check_output("dbn", predict, out, clf, N, dtype)
    for hidden_units in ("bernoulli", "relu"):
        for method in STACK_FIT:
            est = stack(hidden_units=hidden_units)
            call(est, method, X)
            Hx = est.transform(X)
            _check_output("stack", "transform", Hx, est, N, dtype)
            _check_output("stack", "inverse_transform", est.inverse_transform(Hx),
                          est, N, dtype)
    # models fitted on ordinary data meet extreme inputs
    for kind, method in ALL_METHODS:
        if method in DBN_PREDICT or method in STACK_APPLY:
            est = fitted[kind]
            Xm = (np.full((N, H), scale, dtype) if method == "inverse_transform"
                  else X)
            _check_output(kind, method, call(est, method, Xm, y), est, N, np.float64)
    np.testing.assert_array_equal(X, snapshot)


# --------------------------------------------------------------- containers
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "csr_array"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_input(fmt, dtype):
    X, y = _data(dtype)
    X[X < 0.5] = 0
    make = sp.csr_array if fmt == "csr_array" else getattr(sp, f"{fmt}_matrix")
    Xs = make(X)
    before = Xs.copy()
    for init in ("xavier_uniform", "lsuv", "rbm"):
        for method in DBN_FIT:
            clf_s = call(dbn(init=init), method, Xs, y)
            clf_d = call(dbn(init=init), method, X, y)
            for predict in DBN_PREDICT:
                out = call(clf_s, predict, Xs, y)
                _check_output("dbn", predict, out, clf_s, N, dtype)
            np.testing.assert_allclose(clf_s.predict_proba(Xs), clf_d.predict_proba(X),
                                       rtol=1e-4, atol=1e-6)
    for method in STACK_FIT:
        est_s, est_d = stack(), stack()
        call(est_s, method, Xs)
        call(est_d, method, X)
        Hs = est_s.transform(Xs)
        _check_output("stack", "transform", Hs, est_s, N, dtype)
        np.testing.assert_allclose(Hs, est_d.transform(X), rtol=1e-4, atol=1e-6)
    assert (Xs != before).nnz == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_input_to_inverse_transform(dtype):
    # every other method takes sparse input; so does inverse_transform
    est = stack().fit(_data(dtype)[0])
    Hd = est.transform(_data(dtype)[0])
    Hd[Hd < 0.5] = 0
    R = est.inverse_transform(sp.csr_matrix(Hd))
    _check_output("stack", "inverse_transform", R, est, N, dtype)
    np.testing.assert_allclose(R, est.inverse_transform(Hd), rtol=1e-5)


@pytest.mark.parametrize("init", ["xavier_uniform", "lsuv", "rbm"])
def test_read_only_memmapped_input(tmp_path, fitted, init):
    X, y = _data()
    path = tmp_path / "X.npy"
    np.save(path, X)
    Xm = np.load(path, mmap_mode="r")
    assert not Xm.flags.writeable
    for method in DBN_FIT:
        clf = call(dbn(init=init), method, Xm, y)
        ref = call(dbn(init=init), method, X, y)
        np.testing.assert_array_equal(clf.predict_proba(Xm), ref.predict_proba(X))
        clf.partial_fit(Xm, y)  # continuing from memory-mapped data, too
    for method in STACK_FIT:
        est, ref = stack(persistent=True), stack(persistent=True)
        call(est, method, Xm)
        call(ref, method, X)
        np.testing.assert_array_equal(est.transform(Xm), ref.transform(X))
        est.partial_fit(Xm)
    Hm_path = tmp_path / "H.npy"
    np.save(Hm_path, fitted["stack"].transform(X))
    Hm = np.load(Hm_path, mmap_mode="r")
    _check_output("stack", "inverse_transform", fitted["stack"].inverse_transform(Hm),
                  fitted["stack"], N, np.float64)
    for method in DBN_PREDICT:
        _check_output("dbn", method, call(fitted["dbn"], method, Xm, y),
                      fitted["dbn"], N, np.float64)
    np.testing.assert_array_equal(np.load(path), X)


# ------------------------------------------------------------------- pandas
COLUMNS = ["alpha", "beta", "gamma", "delta"]


def _frame(X):
    return pd.DataFrame(X, columns=COLUMNS)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dataframe_feature_names_kept(dtype):
    X, y = _data(dtype)
    df = _frame(X)
    for method in DBN_FIT:
        clf = call(dbn(), method, df, pd.Series(y))
        np.testing.assert_array_equal(clf.feature_names_in_, COLUMNS)
        assert clf.coefs_[0].dtype == dtype
        ref = call(dbn(), method, X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # names match: no warning
            for predict in DBN_PREDICT:
                out = call(clf, predict, df, y)
                _check_output("dbn", predict, out, clf, N, dtype)
            np.testing.assert_array_equal(clf.predict_proba(df), ref.predict_proba(X))
    for method in STACK_FIT:
        est = stack()
        call(est, method, df)
        np.testing.assert_array_equal(est.feature_names_in_, COLUMNS)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            Hx = est.transform(df)
            _check_output("stack", "transform", Hx, est, N, dtype)
            names = est.get_feature_names_out()
            R = est.inverse_transform(pd.DataFrame(Hx, columns=names))
            _check_output("stack", "inverse_transform", R, est, N, dtype)


@pytest.mark.parametrize(("kind", "method"), [
    ("dbn", "predict"), ("dbn", "predict_proba"), ("dbn", "predict_log_proba"),
    ("dbn", "score"), ("dbn", "partial_fit"), ("stack", "transform"),
    ("stack", "partial_fit"),
])
def test_dataframe_feature_names_checked(kind, method):
    X, y = _data()
    df = _frame(X)
    est = dbn().fit(df, y) if kind == "dbn" else stack().fit(df)
    renamed = df.rename(columns={"beta": "BETA"})
    with pytest.raises(ValueError, match="feature names should match"):
        call(est, method, renamed, y)
    with pytest.raises(ValueError, match="same order"):
        call(est, method, df[COLUMNS[::-1]], y)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        call(est, method, X, y)
    # fitted without names, given names: warns as scikit-learn does
    plain = dbn().fit(X, y) if kind == "dbn" else stack().fit(X)
    with pytest.warns(UserWarning, match="fitted without feature names"):
        call(plain, method, df, y)


def test_dataframe_rejections():
    X, y = _data()
    with_na = _frame(X).astype("Float64")
    with_na.iloc[2, 1] = pd.NA
    with_str = _frame(X).assign(beta="x")
    for df, message in ((with_na, "NaN"), (with_str, "could not convert")):
        with pytest.raises(ValueError, match=message):
            dbn().fit(df, y)
        with pytest.raises(ValueError, match=message):
            stack().fit(df)
    with pytest.raises(ValueError, match="NaN"):
        dbn().fit(_frame(X), pd.Series(y, dtype=float).where(y > 0))


# --------------------------------------------------------------- value ranges
def test_bernoulli_visible_units_need_unit_range_on_every_call():
    X = _data()[0]
    with pytest.raises(ValueError, match=r"visible_units='bernoulli'.*\[0, 1\]"):
        stack(visible_units="bernoulli").fit(X * 3)
    est = stack(visible_units="bernoulli").partial_fit(X)
    # a later batch outside [0, 1] is as invalid for Bernoulli units as the first
    with pytest.raises(ValueError, match=r"visible_units='bernoulli'.*\[0, 1\]"):
        est.partial_fit(X * 3)


# ------------------------------------------------------- the property test
INITS = sorted(INITIALIZERS) + ["lsuv", "rbm"]
FLOATS = st.floats(-1, 1, allow_nan=False, width=32)
SCALES = st.sampled_from([1e-30, 1e-3, 1.0, 1e3, 1e6])
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

SGD_LARGE_X = 100.0
"""``max |x|`` from which plain SGD may diverge at any drawn learning rate: its step
grows with the gradient, which grows with ``|x|`` (the 1e3 and 1e6 scales)."""
ADAM_HUGE_X = 1e4
"""``max |x|`` from which Adam may diverge, at ``learning_rate_init=1.0`` only: its
step is bounded by the learning rate, so only the 1e6 scale makes the logits run
away."""


def _draw_X(data):
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    n = data.draw(st.integers(1, 12), label="n_samples")
    f = data.draw(st.integers(1, 5), label="n_features")
    X = data.draw(hnp.arrays(dtype, (n, f), elements=FLOATS), label="X")
    X *= dtype(data.draw(SCALES, label="scale"))
    if data.draw(st.booleans(), label="into [0, 1]"):
        top = float(np.abs(X).max())
        X = (np.abs(X.astype(np.float64)) / (top if top > 0 else 1.0)).astype(dtype)
    sparse = data.draw(st.booleans(), label="sparse")
    return (sp.csr_matrix(X) if sparse else X), dtype


def _stored(X):
    """The stored values of ``X`` (a sparse matrix's explicit entries)."""
    return X.data if sp.issparse(X) else X


def _x_max(X):
    data = _stored(X)
    return float(np.abs(data).max()) if data.size else 0.0


def _unchanged(X, snapshot):
    if sp.issparse(X):
        return (np.array_equal(X.data, snapshot.data)
                and np.array_equal(X.indices, snapshot.indices))
    return X.dtype == snapshot.dtype and np.array_equal(X, snapshot)


def _assert_rolled_back(est, X, snapshot):
    """After a rejection: the caller's X as it was, the estimator still unfitted."""
    assert _unchanged(X, snapshot)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


def _classifier_rejection(method, y, classes, params, n):
    """``(event, message regex)`` of the rejection the drawn inputs call for, or
    None."""
    if method == "fit" and params["early_stopping"]:
        n_val = math.ceil(params["validation_fraction"] * n)
        if n_val < 1 or n - n_val < 1:  # no training or no validation row left
            return "no early-stopping split", (
                "early_stopping=True needs at least one training and 1 "
                "validation row")
    return None


def _fine_tuning_may_diverge(method, params, X):
    """Whether the drawn hyperparameters and scale make a divergence plausible.

    Only fine-tuning: ``initialize`` does none, and the pre-training of
    a pre-training ``init`` runs at the default ``learning_rate`` (never drawn),
    where it must not diverge. SGD may diverge with a large step or large inputs;
    Adam only with ``learning_rate_init=1.0`` on the largest scale. ``alpha``
    alone never does here: SGD's decay step ``lr / batch_size * alpha`` is at most
    1, short of the overshoot (> 2) ``divergence_causes`` names, and Adam
    normalises its steps.
    """
    if method == "initialize":
        return False
    lr, x_max = params["learning_rate_init"], _x_max(X)
    if params["solver"] == "sgd":
        return lr >= 0.1 or x_max >= SGD_LARGE_X
    return lr >= 1.0 and x_max >= ADAM_HUGE_X


# the drawn batch sizes may exceed the drawn rows: scikit-learn's clipping warning
# is expected there (what the property checks is the fit's outcome)
@pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")
@PROPERTY
@given(data=st.data())
def test_property_classifier(data):
    X, dtype = _draw_X(data)
    n = X.shape[0]
    # mostly every class present (one class fits, as in MLPClassifier)
    n_classes = data.draw(st.sampled_from([2, 3, 2, 1]), label="n_classes")
    order = data.draw(st.permutations(range(n)), label="order")
    labels = np.array(["a", "b", "c"]) if data.draw(
        st.booleans(), label="string labels") else np.array([0, 1, 2])
    classes = labels[:n_classes]
    y = classes[np.asarray(order, dtype=np.int64) % n_classes]
    params = dict(
        hidden_layer_sizes=tuple(data.draw(st.lists(st.integers(1, 5), min_size=1,
                                                    max_size=2))),
        init=data.draw(st.sampled_from(INITS)),
        activation=data.draw(st.sampled_from(
            ["logistic", "tanh", "relu", "leaky_relu", "identity"])),
        solver=data.draw(st.sampled_from(["adam", "sgd"])),
        alpha=data.draw(st.sampled_from([0.0, 1e-4, 1.0])),
        batch_size=data.draw(st.sampled_from(["auto", 1, 3])),
        learning_rate_init=data.draw(st.sampled_from([1e-3, 0.1, 1.0])),
        max_iter=data.draw(st.integers(1, 3)),
        early_stopping=data.draw(st.booleans()),
        # 0.5 and 0.9 leave no training row in the smallest data sets
        validation_fraction=data.draw(st.sampled_from([0.1, 0.5, 0.9])),
        random_state=0,
    )
    if params["init"] == "rbm":
        params["init"] = short_rbm(
            params["hidden_layer_sizes"], params["activation"],
            n_iter=data.draw(st.integers(1, 2)),
            batch_size=data.draw(st.integers(1, 4)))
    method = data.draw(st.sampled_from(DBN_FIT), label="method")
    snapshot = X.copy()
    clf = DBNClassifier(**params)
    if method == "partial_fit" and params["early_stopping"]:
        # as MLPClassifier: partial_fit refuses early stopping
        event("partial_fit refused: early_stopping=True")
        with pytest.raises(ValueError, match="does not support early_stopping"):
            clf.partial_fit(X, y, classes=classes)
        assert not hasattr(clf, "coefs_")
        _assert_rolled_back(clf, X, snapshot)
        return
    expected = _classifier_rejection(method, y, classes, params, n)
    may_diverge = _fine_tuning_may_diverge(method, params, X)
    try:
        if method == "partial_fit":
            clf.partial_fit(X, y, classes=classes)
        else:
            getattr(clf, method)(X, y)
    except ValueError as exc:
        message = str(exc)
        _assert_rolled_back(clf, X, snapshot)
        if isinstance(exc, DivergenceError):
            event(f"rejected: divergence ({params['solver']})")
            assert expected is None and may_diverge, f"unexpected divergence: {exc}"
            # every candidate is named, learning_rate_init first
            assert message.startswith("Fine-tuning diverged"), message
            lr = params["learning_rate_init"]
            assert f"learning_rate_init={lr!r}" in message, message
            assert "the scale of X" in message, message
        else:
            assert expected is not None, f"unexpected rejection: {exc!r}"
            assert re.search(expected[1], message), message
            event(f"rejected: {expected[0]}")
        return
    assert expected is None, f"fitted, but expected a rejection: {expected[0]}"
    event("fitted")
    assert _unchanged(X, snapshot)
    for W in clf.coefs_ + clf.intercepts_:
        assert W.dtype == dtype and np.isfinite(W).all()
    for predict in DBN_PREDICT:
        out = call(clf, predict, X, y)
        _check_output("dbn", predict, out, clf, n, dtype)
    assert _unchanged(X, snapshot)


@PROPERTY
@given(data=st.data())
def test_property_transformer(data):
    X, dtype = _draw_X(data)
    n = X.shape[0]
    sizes = tuple(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=2)))
    params = dict(
        hidden_layer_sizes=sizes,
        visible_units=data.draw(st.sampled_from(["auto", "bernoulli", "gaussian"])),
        hidden_units=data.draw(st.sampled_from(["bernoulli", "relu"])),
        init=data.draw(st.sampled_from(sorted(INITIALIZERS))),
        learning_rate=data.draw(st.sampled_from([0.01, 0.1, 1.0])),
        batch_size=data.draw(st.integers(1, 5)),
        n_iter=data.draw(st.integers(1, 2)),
        cd_k=data.draw(st.integers(1, 2)),
        persistent=data.draw(st.booleans()),
        random_state=0,
    )
    method = data.draw(st.sampled_from(STACK_FIT), label="method")
    stored = _stored(X)
    outside = params["visible_units"] == "bernoulli" and stored.size > 0 and not (
        stored.min() >= 0 and stored.max() <= 1)
    # Gaussian visible units see standardised data, so the scale of X cannot make
    # CD diverge; only a large learning rate can
    may_diverge = not outside and params["learning_rate"] >= 0.1
    snapshot = X.copy()
    est = StackedRBMTransformer(**params)
    try:
        out = getattr(est, method)(X)
    except ValueError as exc:
        message = str(exc)
        _assert_rolled_back(est, X, snapshot)
        if isinstance(exc, DivergenceError):
            event(f"rejected: divergence ({params['hidden_units']} hidden units)")
            assert may_diverge, f"unexpected divergence: {exc}"
            assert message.startswith("Pre-training diverged"), message
            assert f"learning_rate={params['learning_rate']!r}" in message, message
        else:
            assert outside, f"unexpected rejection: {exc!r}"
            assert re.search(r"visible_units='bernoulli' needs X in \[0, 1\]",
                             message), message
            event("rejected: bernoulli visible units need X in [0, 1]")
        return
    assert not outside, "fitted visible_units='bernoulli' on X outside [0, 1]"
    event("fitted")
    assert _unchanged(X, snapshot)
    Hx = est.transform(X)
    assert Hx.shape == (n, sizes[-1]) and Hx.dtype == dtype
    assert np.isfinite(Hx).all()
    if method == "fit_transform":
        np.testing.assert_allclose(out, Hx, rtol=1e-5, atol=1e-6)
    R = est.inverse_transform(Hx)
    assert R.shape == X.shape and R.dtype == dtype and np.isfinite(R).all()
    assert _unchanged(X, snapshot)
