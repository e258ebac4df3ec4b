"""How far onnxruntime's outputs are from the estimators' own, per configuration:
the agreement table of the user guide's "Deploying a model" page.

Every configuration that ``tests/test_onnx.py`` checks (it builds them with the
functions here): classifiers (binary, multiclass, multilabel), regressors (one
output, three outputs, Poisson) and transformers (Bernoulli or ReLU hidden
units over Bernoulli or Gaussian visible units), each hidden activation of the
networks (identity, logistic, tanh, relu, leaky_relu with slope 0.2, maxout with
2 and 3 pieces), float32 and float64; small models fitted on 48 rows of 5
Gaussian features, then evaluated on those rows plus copies of some scaled by 20
and by 200, where logistic units saturate and probabilities fall far below
1e-20. For each row of the table, the largest absolute and relative difference
over its configurations (relative over the entries that are normal floats;
regression outputs relative to the batch's largest ``|y|``), and whether every
label was equal.

Needs the ``onnx`` extra. Run: ``python -m benchmarks.onnx_agreement``.
"""

import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sk_dbn import DBNClassifier, DBNRegressor, StackedRBMTransformer

DTYPES = [np.float32, np.float64]
ACTIVATIONS = [
    ("identity", {}), ("logistic", {}), ("tanh", {}), ("relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}), ("maxout", {}),
    ("maxout", {"maxout_pieces": 3}),
]
ACTIVATION_IDS = ["identity", "logistic", "tanh", "relu", "leaky_relu_0.2",
                  "maxout_2", "maxout_3"]
CLASSIFIER_KINDS = ["binary", "multiclass", "multilabel"]
REGRESSOR_KINDS = ["single", "multioutput", "poisson"]
UNIT_KINDS = ["bernoulli", "relu"]  # the transformer's hidden units
VISIBLE_KINDS = ["bernoulli", "gaussian"]


# ------------------------------------------------------------------- helpers
def features(dtype, n=48, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 5)).astype(dtype)


def with_saturating_rows(X):
    """``X`` and copies of some rows scaled by 20 and 200: there every logistic
    unit saturates and the output probabilities reach their tails."""
    return np.vstack([X, 20 * X[:10], 200 * X[:5]]).astype(X.dtype)


def to_onnx(model, X, **kwargs):
    import skl2onnx

    import sk_dbn.onnx  # noqa: F401  (registers the converters)

    return skl2onnx.to_onnx(model, X[:1], **kwargs)


def run(onx, X):
    """onnxruntime's outputs for ``X``, as a list."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # no shape-merge notes on stderr
    session = ort.InferenceSession(onx.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def fit(model, X, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def classifier(activation, params, **kwargs):
    return DBNClassifier((6, 5), init="xavier_uniform", activation=activation,
                         learning_rate_init=0.05, max_iter=10, random_state=0,
                         **params, **kwargs)


def regressor(activation, params, **kwargs):
    return DBNRegressor((6, 5), init="xavier_uniform", activation=activation,
                        learning_rate_init=0.05, max_iter=10, random_state=0,
                        **params, **kwargs)


def targets(kind, X):
    if kind == "binary":
        return np.where(X[:, 0] + X[:, 1] > 0, 7, 3)
    if kind == "multiclass":
        return np.array(["ant", "bee", "cat"])[np.argmax(X[:, :3], axis=1)]
    return (X[:, :3] > 0).astype(int)  # multilabel: 3 labels


# ------------------------------------------------------------ configurations
def classifier_case(activation, params, kind, dtype):
    """The fitted classifier and ``(labels, probabilities)`` from onnxruntime
    and from the estimator, on the rows with saturating ones."""
    X = features(dtype)
    clf = fit(classifier(activation, params), X, targets(kind, X))
    onx = to_onnx(clf, X, options={"zipmap": False})
    Xs = with_saturating_rows(X)
    labels, proba = run(onx, Xs)
    return clf, (labels, proba), (clf.predict(Xs), clf.predict_proba(Xs))


def regressor_case(activation, params, kind, dtype):
    """The fitted regressor and the predictions (2-D) from onnxruntime and
    from the estimator."""
    X = features(dtype)
    if kind == "single":
        reg, y = regressor(activation, params), X @ [1.0, -2.0, 0.5, 0.0, 1.0]
    elif kind == "multioutput":
        reg, y = regressor(activation, params), X[:, :3] * [1.0, -1.0, 2.0]
    else:
        reg = regressor(activation, params, loss="poisson")
        y = np.random.default_rng(1).poisson(np.exp(0.5 * X[:, :2]))
    fit(reg, X, y)
    Xs = with_saturating_rows(X)
    (values,) = run(to_onnx(reg, X), Xs)
    with warnings.catch_warnings():  # the rows scaled by 200 overflow on purpose
        warnings.filterwarnings("ignore", "predict: some Poisson means overflow",
                                RuntimeWarning)
        expected = reg.predict(Xs)
    return reg, values, expected.reshape(Xs.shape[0], -1)


def transformer_case(hidden_units, visible_units, dtype):
    """The fitted transformer and the transform from onnxruntime and from the
    estimator."""
    X = features(dtype)
    if visible_units == "bernoulli":
        X = (1 / (1 + np.exp(-X))).astype(dtype)  # in [0, 1]
    rbm = fit(StackedRBMTransformer((6, 4), visible_units=visible_units,
                                    hidden_units=hidden_units, n_iter=3,
                                    random_state=0), X)
    Xs = with_saturating_rows(X)
    (H,) = run(to_onnx(rbm, X), Xs)
    return rbm, H, rbm.transform(Xs)


def differences(actual, expected, scale=False):
    """``(max absolute, max relative)`` difference: relative over the entries
    whose expected value is a normal float, or, with ``scale``, relative to
    the largest ``|expected|``."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    finite = np.isfinite(expected)
    if not np.array_equal(actual[~finite], expected[~finite]):
        return np.inf, np.inf
    diff = np.abs(actual[finite].astype(np.float64) - expected[finite])
    if scale:
        largest = np.abs(expected[finite]).max(initial=0)
        return float(diff.max(initial=0)), float(diff.max(initial=0) / largest)
    normal = np.abs(expected[finite]) >= np.finfo(expected.dtype).tiny
    rel = diff[normal] / np.abs(expected[finite][normal])
    return float(diff.max(initial=0)), float(rel.max(initial=0))


# --------------------------------------------------------------------- table
def _rows(dtype):
    """``{row label: (abs, rel, labels equal)}`` over the configurations."""
    rows = {}

    def add(label, diffs, equal=None):
        a, r, e = rows.get(label, (0.0, 0.0, equal))
        rows[label] = (max(a, diffs[0]), max(r, diffs[1]),
                       None if equal is None else e and equal)

    for activation, params in ACTIVATIONS:
        for kind in CLASSIFIER_KINDS:
            _, (labels, proba), (want_labels, want_proba) = classifier_case(
                activation, params, kind, dtype)
            add(f"classifier, {kind}: predict_proba",
                differences(proba, want_proba),
                bool(np.array_equal(labels, want_labels)))
        for kind, name in zip(REGRESSOR_KINDS,
                              ["one output", "three outputs", "Poisson"]):
            _, values, expected = regressor_case(activation, params, kind, dtype)
            add(f"regressor, {name}: predict (relative to the largest output)",
                differences(values, expected, scale=True))
    for hidden in UNIT_KINDS:
        for visible in VISIBLE_KINDS:
            _, H, expected = transformer_case(hidden, visible, dtype)
            add(f"transformer, {hidden} hidden units: transform",
                differences(H, expected, scale=hidden == "relu"))
    return rows


def run_table():
    import onnxruntime
    import skl2onnx

    results = {dtype: _rows(dtype) for dtype in DTYPES}
    lines = [
        f"skl2onnx {skl2onnx.__version__}, onnxruntime {onnxruntime.__version__}; "
        "largest differences over the configurations of each row",
        "",
        "| configuration | float32: abs / rel | float64: abs / rel | labels equal |",
        "|---|---|---|---|",
    ]
    for label in results[np.float32]:
        cells = [f"{a:.1e} / {r:.1e}" for a, r, _ in
                 (results[d][label] for d in DTYPES)]
        equal = [results[d][label][2] for d in DTYPES]
        shown = "" if None in equal else "yes" if all(equal) else "NO"
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {shown} |")
    return "\n".join(lines)


def main(argv=None):
    print(run_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
