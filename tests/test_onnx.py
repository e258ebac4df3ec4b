"""ONNX export through skl2onnx (``sk_dbn.onnx``): onnxruntime computes what
the estimators compute. The configurations are built by
``benchmarks/onnx_agreement.py``, which prints their differences.

For every hidden activation, binary, multiclass and multilabel classifiers,
single-output, multi-output and Poisson regressors and every kind of
StackedRBMTransformer, in float32 and float64, on data with rows far outside the
training scale (every sigmoid saturates there): labels equal, probabilities
and transforms within 1e-5 (float32) or 1e-10 (float64) relative. Values below
the smallest normal float are not compared relatively: their digits are gone
in the estimator's own arithmetic. Regression outputs are
compared relative to their largest magnitude, since a value near 0 is the
difference of larger ones.
"""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sk_dbn import (
    DBNClassifier,
    DBNRegressor,
    StackedRBMTransformer,
    move_estimator_to,
)

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")
import sk_dbn.onnx  # noqa: E402,F401  (registers the converters)
from benchmarks.onnx_agreement import (  # noqa: E402  (the configurations)
    ACTIVATION_IDS,
    ACTIVATIONS,
    DTYPES,
    classifier,
    classifier_case,
    features,
    fit,
    regressor,
    regressor_case,
    run,
    targets,
    to_onnx,
    transformer_case,
    with_saturating_rows,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RTOL = {np.float32: 1e-5, np.float64: 1e-10}


# ------------------------------------------------------------------- helpers
def assert_close(actual, expected, dtype, scale=False):
    """Within ``RTOL[dtype]`` relative, entry by entry (values below the
    smallest normal float: absolutely, within it), or, with ``scale``, relative
    to the largest finite ``|expected|``."""
    assert actual.dtype == expected.dtype == dtype
    expected_finite = expected[np.isfinite(expected)]
    floor = np.finfo(dtype).tiny
    if scale and expected_finite.size:
        floor = RTOL[dtype] * np.abs(expected_finite).max()
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=floor)


def assert_close_proba(actual, expected, dtype):
    """Probabilities within ``RTOL[dtype]`` relative, in the tails relative to
    ``-ln p``: there a probability's relative error is its logit's absolute
    error, and a logit of 50 is only known to 4e-6 in float32."""
    assert actual.dtype == expected.dtype == dtype
    scale = np.maximum(1, -np.log(np.maximum(expected, np.finfo(dtype).tiny)))
    np.testing.assert_array_less(
        np.abs(actual - expected),
        RTOL[dtype] * scale * expected + np.finfo(dtype).tiny)


def assert_classifier_matches(clf, onx, X, dtype):
    labels, proba = run(onx, X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    assert_close_proba(proba, clf.predict_proba(X), dtype)


# ------------------------------------------------------------- classifiers
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("activation, params", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_classifier(activation, params, kind, dtype):
    clf, (labels, proba), (expected_labels, expected) = classifier_case(
        activation, params, kind, dtype)
    assert clf.coefs_[0].dtype == dtype
    np.testing.assert_array_equal(labels, expected_labels)
    assert_close_proba(proba, expected, dtype)


def test_saturating_rows_reach_the_tails():
    """The test data does what it is for: hidden sigmoids saturate, and the
    smallest probabilities lie far below float32's epsilon."""
    X = features(np.float32)
    Xs = with_saturating_rows(X)
    clf = fit(classifier("logistic", {}), X, targets("binary", X))
    H = 0.5 + 0.5 * np.tanh(0.5 * (Xs @ clf.coefs_[0] + clf.intercepts_[0]))
    assert ((H == 0) | (H == 1)).any()
    clf = fit(classifier("relu", {}), X, targets("binary", X))
    assert clf.predict_proba(Xs).min() < 1e-20


def test_classifier_zipmap_options():
    X = features(np.float32)
    clf = fit(classifier("relu", {}), X, targets("multiclass", X))
    Xs = with_saturating_rows(X)
    expected = clf.predict_proba(Xs)

    labels, dicts = run(to_onnx(clf, X), Xs)  # zipmap=True, the default
    np.testing.assert_array_equal(labels, clf.predict(Xs))
    assert list(dicts[0]) == list(clf.classes_)
    proba = np.array([[row[c] for c in clf.classes_] for row in dicts],
                     dtype=np.float32)
    assert_close_proba(proba, expected, np.float32)

    labels, *columns = run(to_onnx(clf, X, options={"zipmap": "columns"}), Xs)
    np.testing.assert_array_equal(labels, clf.predict(Xs))
    assert_close_proba(np.column_stack(columns), expected, np.float32)

    out = run(to_onnx(clf, X, options={"zipmap": False, "output_class_labels": True}),
              Xs)
    np.testing.assert_array_equal(out[2], clf.classes_)
    np.testing.assert_array_equal(out[0], clf.predict(Xs))

    labels, _ = run(to_onnx(clf, X, options={"zipmap": False, "nocl": True}), Xs)
    np.testing.assert_array_equal(labels, np.searchsorted(clf.classes_,
                                                          clf.predict(Xs)))


def test_multilabel_zipmap():
    X = features(np.float32)
    clf = fit(classifier("tanh", {}), X, targets("multilabel", X))
    Xs = with_saturating_rows(X)
    labels, dicts = run(to_onnx(clf, X), Xs)
    np.testing.assert_array_equal(labels, clf.predict(Xs))
    proba = np.array([[row[j] for j in range(3)] for row in dicts],
                     dtype=np.float32)
    assert_close_proba(proba, clf.predict_proba(Xs), np.float32)


@pytest.mark.parametrize("classes, expected", [
    (np.array([0.0, 1.0, 2.0]), np.array([0, 1, 2])),
    (np.array([False, True]), np.array([0, 1])),
    (np.array([-5, 10]), np.array([-5, 10])),
], ids=["integral_floats", "bool", "negative_ints"])
def test_label_types(classes, expected):
    X = features(np.float32)
    y = classes[np.arange(X.shape[0]) % classes.shape[0]]
    clf = fit(classifier("relu", {}), X, y)
    labels, _ = run(to_onnx(clf, X, options={"zipmap": False}), X)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, expected[np.searchsorted(
        clf.classes_, clf.predict(X))])


# -------------------------------------------------------------- regressors
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("kind", ["single", "multioutput", "poisson"])
@pytest.mark.parametrize("activation, params", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_regressor(activation, params, kind, dtype):
    _, values, expected = regressor_case(activation, params, kind, dtype)
    assert values.shape == expected.shape
    assert_close(values, expected, dtype, scale=True)


# ------------------------------------------------------------- transformer
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("visible_units", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("hidden_units", ["bernoulli", "relu"])
def test_transformer(hidden_units, visible_units, dtype):
    _, H, expected = transformer_case(hidden_units, visible_units, dtype)
    assert_close(H, expected, dtype, scale=hidden_units == "relu")


# ------------------------------------------------------- inside scikit-learn
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_pipeline_of_scaler_rbm_and_classifier(dtype):
    X = features(dtype)
    y = targets("multiclass", X)
    pipe = fit(make_pipeline(MinMaxScaler(), StackedRBMTransformer((6,), n_iter=3,
                                                                   random_state=0),
                             classifier("logistic", {})), X, y)
    assert pipe[-1].coefs_[0].dtype == dtype
    onx = to_onnx(pipe, X, options={id(pipe[-1]): {"zipmap": False}})
    assert_classifier_matches(pipe, onx, with_saturating_rows(X), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_column_transformer_with_rbm_then_regressor(dtype):
    X = features(dtype)
    y = X @ [1.0, -2.0, 0.5, 0.0, 1.0]
    columns = ColumnTransformer([
        ("scaled", StandardScaler(), [0, 1]),
        ("rbm", make_pipeline(MinMaxScaler(), StackedRBMTransformer(
            (4,), hidden_units="relu", n_iter=3, random_state=0)), [2, 3, 4]),
    ])
    pipe = fit(make_pipeline(columns, regressor("leaky_relu", {})), X, y)
    Xs = with_saturating_rows(X)
    (values,) = run(to_onnx(pipe, X), Xs)
    assert_close(values[:, 0], pipe.predict(Xs), dtype, scale=True)


# ------------------------------------------------------------ input dtypes
def test_float64_model_with_float32_sample_computes_in_float64():
    X = features(np.float64)
    clf = fit(classifier("logistic", {}), X, targets("multiclass", X))
    onx = to_onnx(clf, X.astype(np.float32))  # zipmap works: float32 outputs
    gemm = next(n for n in onx.graph.node if n.op_type == "Gemm")
    weights = next(t for t in onx.graph.initializer if t.name == gemm.input[1])
    assert weights.data_type == skl2onnx.proto.onnx_proto.TensorProto.DOUBLE
    X32 = with_saturating_rows(X).astype(np.float32)
    labels, dicts = run(onx, X32)
    np.testing.assert_array_equal(labels, clf.predict(X32))
    proba = np.array([[row[c] for c in clf.classes_] for row in dicts],
                     dtype=np.float32)
    assert_close_proba(proba, clf.predict_proba(X32).astype(np.float32),
                       np.float32)


def test_float32_model_with_float64_sample():
    X = features(np.float32)
    reg = fit(regressor("tanh", {}), X, X[:, :2])
    Xs = with_saturating_rows(X)
    (values,) = run(to_onnx(reg, X.astype(np.float64)), Xs.astype(np.float64))
    assert values.dtype == np.float64
    # computed in float32, as the model does: exactly float32 values
    np.testing.assert_array_equal(values.astype(np.float32), values)
    assert_close(values.astype(np.float32), reg.predict(Xs), np.float32,
                 scale=True)


def test_float64_zipmap_is_refused_clearly():
    X = features(np.float64)
    clf = fit(classifier("relu", {}), X, targets("binary", X))
    with pytest.raises(ValueError, match="ZipMap takes float32 probabilities"):
        to_onnx(clf, X)


# ------------------------------------------------------------ bad requests
@pytest.mark.parametrize("model, options", [
    (DBNClassifier(), None), (DBNClassifier(), {"zipmap": False}),
    (DBNRegressor(), None), (StackedRBMTransformer(), None),
], ids=["classifier", "classifier_no_zipmap", "regressor", "transformer"])
def test_unfitted_model_is_refused(model, options):
    with pytest.raises(NotFittedError, match="before converting it to ONNX"):
        to_onnx(model, features(np.float32), options=options)


class _Swish:
    name = "swish"
    width_factor = 1


@pytest.mark.parametrize("make", [
    lambda X: fit(classifier("relu", {}), X, targets("binary", X)),
    lambda X: fit(regressor("relu", {}), X, X[:, 0]),
    lambda X: fit(StackedRBMTransformer((3,), n_iter=1, random_state=0), X),
], ids=["classifier", "regressor", "transformer"])
def test_unknown_activation_is_refused(make, monkeypatch):
    X = features(np.float32)
    model = make(X)
    monkeypatch.setattr(model, "_hidden_activation", lambda *args: _Swish())
    with pytest.raises(ValueError, match="cannot convert the hidden activation"):
        to_onnx(model, X)


def test_the_export_computes_with_the_fitted_activation():
    # a fitted network keeps its activation whatever set_params changed since
    X = features(np.float32)
    clf = fit(classifier("maxout", {}), X, targets("binary", X))
    clf.set_params(maxout_pieces=3, activation="tanh")
    onx = to_onnx(clf, X, options={id(clf): {"zipmap": False}})
    labels, proba = run(onx, X)
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=1e-5, atol=1e-7)


def test_a_model_of_another_namespace_is_refused_with_the_way_out():
    torch = pytest.importorskip("torch")
    X = features(np.float32)
    reg = fit(regressor("relu", {}), X, X[:, 0])
    on_torch = move_estimator_to(reg, torch)
    with pytest.raises(ValueError, match=r"arrays of torch.*move_estimator_to"):
        to_onnx(on_torch, X)
    back = move_estimator_to(on_torch, np)
    np.testing.assert_allclose(run(to_onnx(back, X), X)[0].ravel(), reg.predict(X),
                               rtol=1e-5, atol=1e-6)


def test_wrong_input_width_is_refused():
    X = features(np.float32)
    reg = fit(regressor("relu", {}), X, X[:, 0])
    with pytest.raises(ValueError, match="has 3 features.*fitted on 5"):
        skl2onnx.to_onnx(reg, X[:1, :3])


def test_missing_skl2onnx_says_how_to_install():
    code = ("import sys; sys.modules['skl2onnx'] = None\n"
            "try:\n    import sk_dbn.onnx\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert '".[onnx]"' in out
