"""ONNX export of fitted sk_dbn estimators, through skl2onnx.

Importing this module registers a shape calculator and a converter for
:class:`~sk_dbn.DBNClassifier`, :class:`~sk_dbn.DBNRegressor` and
:class:`~sk_dbn.StackedRBMTransformer` with skl2onnx, so that
``skl2onnx.to_onnx(model, X[:1])`` converts a fitted one, alone or as a step of
a ``Pipeline`` or ``ColumnTransformer`` among scikit-learn transformers. The
module has nothing else to call. It needs the ``onnx`` extra (skl2onnx, onnx,
and onnxruntime to run the graphs): ``python -m pip install ".[onnx]"`` from
the sk_dbn checkout.

What the graphs compute
-----------------------
The same functions as the estimators, node for node: every hidden activation
(``identity``, ``logistic``, ``tanh``, ``relu``, ``leaky_relu`` with its
``negative_slope``, ``maxout`` with its ``maxout_pieces``), logistic units as
``0.5 + 0.5 tanh(z / 2)`` as sk_dbn computes them, infinite logits clipped to
the largest float. A classifier has skl2onnx's two outputs, the labels and the
probabilities, with the options of ``MLPClassifier``'s converter: ``zipmap``
(True, False or ``"columns"``), ``output_class_labels`` and ``nocl``. Labels
come from the logits, as in :meth:`~sk_dbn.DBNClassifier.predict`: ``z > 0``
for one logistic unit, the first largest logit otherwise, and a multilabel
classifier's label output is its 0/1 indicator matrix. Output probabilities
(``expit``, softmax) are computed from exponentials that keep their relative
precision in the tails, where onnxruntime's ``Sigmoid`` kernels keep only an
absolute one (they return 0 below about -16 in float32, -37 in float64). A
regressor has one output, ``(n_samples, n_outputs)`` (``exp`` of the logits
for ``loss="poisson"``); a transformer one,
:meth:`~sk_dbn.StackedRBMTransformer.transform`'s mean-field up-pass. A row
whose logits are NaN, for which the estimators raise, gives NaN.

Precision
---------
The graph computes in the model's dtype: the weights are stored unrounded, as
float (a float32 model) or double (a float64 model). Its inputs and outputs
have the type of the sample or ``initial_types`` given to skl2onnx, as for
every skl2onnx converter; a different input type is cast to the model's dtype
first, and the outputs are cast back. So a float64 model is exported with a
float64 sample, ``to_onnx(model, X[:1].astype(np.float64))``, for a graph
that is double from end to end; given a float32 sample it computes in double
but returns float32. ONNX's ``ZipMap`` takes float32 probabilities only: a
classifier with float64 outputs needs ``options={"zipmap": False}`` (or
``"columns"``).

Errors
------
Converting an unfitted estimator raises sklearn's ``NotFittedError``; a hidden
activation the converter does not know, weights that do not match the
activation's parameters, a model fitted on arrays of another library than
numpy (move it first with ``move_estimator_to(model, numpy)``), or an input of
the wrong width raise a ``ValueError`` that says which. The graph computes
with the activation the model was fitted with, as ``predict`` does.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> from skl2onnx import to_onnx
>>> from sklearn.datasets import load_digits
>>> from sk_dbn import DBNClassifier
>>> import sk_dbn.onnx  # registers the converters
>>> X, y = load_digits(return_X_y=True)
>>> X = (X / 16).astype(np.float32)
>>> clf = DBNClassifier((32,), init="xavier_uniform", early_stopping=True,
...                     random_state=0).fit(X, y)
>>> onx = to_onnx(clf, X[:1], options={"zipmap": False})
>>> session = ort.InferenceSession(onx.SerializeToString(),
...                                providers=["CPUExecutionProvider"])
>>> labels, proba = session.run(None, {"X": X})
>>> bool((labels == clf.predict(X)).all())
True
>>> bool(np.allclose(proba, clf.predict_proba(X), rtol=1e-5, atol=0))
True
"""

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._activations import IDENTITY
from ._dbn import DBNClassifier, DBNRegressor
from ._network import check_widths
from ._stacked import StackedRBMTransformer

_INSTALL = ('sk_dbn.onnx needs skl2onnx and onnx (and onnxruntime to run the '
            'graphs): install the "onnx" extra, python -m pip install ".[onnx]" '
            'from the sk_dbn checkout, or pip install skl2onnx onnxruntime.')
try:
    from onnx import TensorProto
    from onnx.numpy_helper import from_array
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
        guess_proto_type,
    )
    from skl2onnx.common.utils import check_input_and_output_types
except ImportError as exc:  # pragma: no cover - the tests need skl2onnx
    raise ImportError(_INSTALL) from exc

# The one name from outside skl2onnx's public API: the parser skl2onnx itself
# gives every classifier that declares a ``zipmap`` option. sk_dbn's classifier
# parser checks the model first, then hands over to it (it reads ``classes_``,
# so an unfitted model would fail there with an unrelated message).
from skl2onnx._parse import _parse_sklearn_classifier  # noqa: E402

__all__ = []

_PROTO = {np.dtype(np.float32): TensorProto.FLOAT,
          np.dtype(np.float64): TensorProto.DOUBLE}
_INPUT_TYPES = [FloatTensorType, DoubleTensorType, Int64TensorType]


# ------------------------------------------------------------- graph building
class _Graph:
    """Adds nodes and constants, under fresh names, to the graph skl2onnx builds."""

    def __init__(self, scope, container):
        self.scope = scope
        self.container = container

    def constant(self, value, dtype=None):
        """The name of a new initializer holding ``value`` (in ``dtype``)."""
        value = np.asarray(value, dtype=dtype)
        name = self.scope.get_unique_variable_name("c")
        if value.dtype.kind in "OSU":
            self.container.add_initializer(
                name, TensorProto.STRING, list(value.shape),
                [str(v).encode("utf-8") for v in value.ravel()])
        else:
            self.container.add_initializer(name, None, None, from_array(value))
        return name

    def __call__(self, op, *inputs, out=None, **attrs):
        """Add node ``op(*inputs)`` and return its output's name (``out`` if
        given, else a fresh one)."""
        if out is None:
            out = self.scope.get_unique_variable_name(op.lower())
        self.container.add_node(op, list(inputs), [out],
                                name=self.scope.get_unique_operator_name(op),
                                **attrs)
        return out


_HIDDEN = ("identity", "logistic", "tanh", "relu", "leaky_relu", "maxout")
"""The hidden activations the converter knows (:func:`_layer_output`)."""


def _layer_output(g, Z, act, W):
    """The output of a layer of weights ``W`` and activation ``act``
    from its pre-activations ``Z``, computed as sk_dbn computes it."""
    dtype = W.dtype
    if act.name == "identity":
        return Z
    if act.name == "logistic":
        # 0.5 + 0.5 tanh(z / 2); the layer's Gemm has halved z already
        half = g.constant(0.5, dtype)
        return g("Add", g("Mul", g("Tanh", Z), half), half)
    if act.name == "tanh":
        return g("Tanh", Z)
    if act.name == "relu":
        return g("Relu", Z)
    if act.name == "leaky_relu":
        # max(z, a z) (ONNX's LeakyRelu takes its slope as a float32
        # attribute, which a float64 model would feel)
        return g("Max", Z, g("Mul", Z, g.constant(act.negative_slope, dtype)))
    # maxout, piece-major: columns p*m .. (p+1)*m - 1 are piece p of the m units
    m = W.shape[1] // act.pieces
    axis = g.constant([1], np.int64)
    return g("Max", *[g("Slice", Z, g.constant([p * m], np.int64),
                        g.constant([(p + 1) * m], np.int64), axis)
                      for p in range(act.pieces)])


def _forward(g, A, coefs, intercepts, activations):
    """``activations[i](A W_i + b_i)`` layer after layer, as
    :func:`sk_dbn._network.forward_chunked`."""
    for W, b, act in zip(coefs, intercepts, activations):
        # a logistic layer needs z / 2: alpha = beta = 0.5 halve it exactly
        scale = 0.5 if act.name == "logistic" else 1.0
        Z = g("Gemm", A, g.constant(W), g.constant(b), alpha=scale, beta=scale)
        A = _layer_output(g, Z, act, W)
    return A


def _logits(g, model, X):
    """The network's output pre-activations, infinite ones clipped to the
    largest float (as ``_BaseDBN._logits``)."""
    act = model._hidden_activation()
    layers = [act] * (len(model.coefs_) - 1) + [IDENTITY]
    Z = _forward(g, X, model.coefs_, model.intercepts_, layers)
    dtype = _dtype(model)
    big = np.finfo(dtype).max
    return g("Min", g("Max", Z, g.constant(-big, dtype)), g.constant(big, dtype))


def _dtype(model):
    """The model's dtype: its weights'."""
    return model.coefs_[0].dtype


def _expit(g, z, dtype):
    """``exp(min(z, 0)) / (1 + exp(-|z|))``: the logistic function with the
    relative precision of ``exp`` in both tails."""
    one = g.constant(1, dtype)
    zero = g.constant(0, dtype)
    return g("Div", g("Exp", g("Min", z, zero)),
             g("Add", one, g("Exp", g("Neg", g("Abs", z)))))


def _input(g, operator, model):
    """The operator's input in the model's dtype."""
    name = operator.inputs[0].full_name
    to = _PROTO[_dtype(model)]
    if guess_proto_type(operator.inputs[0].type) == to:
        return name
    return g("Cast", name, to=to)


def _output(g, Y, variable, model):
    """Write ``Y`` (in the model's dtype) to the output ``variable``, cast to
    its declared type."""
    to = guess_proto_type(variable.type)
    if to == _PROTO[_dtype(model)]:
        g("Identity", Y, out=variable.full_name)
    else:
        g("Cast", Y, out=variable.full_name, to=to)


# ------------------------------------------------------------------- checks
def _check(model):
    """A clear error unless ``model`` is fitted and convertible."""
    check_is_fitted(model, msg="This %(name)s instance is not fitted yet: fit it "
                               "before converting it to ONNX.")
    if not isinstance(model.coefs_[0], np.ndarray):
        raise ValueError(
            f"{type(model).__name__} was fitted on arrays of "
            f"{type(model.coefs_[0]).__module__.split('.')[0]}: move it to numpy "
            "before converting it to ONNX, with "
            "sk_dbn.move_estimator_to(model, numpy)."
        )
    act = model._hidden_activation()
    name = getattr(act, "name", None)
    if name not in _HIDDEN:
        raise ValueError(
            f"sk_dbn.onnx cannot convert the hidden activation {name or act!r} of "
            f"{type(model).__name__}: it converts {', '.join(_HIDDEN)}."
        )
    check_widths(model.coefs_, act)


def _check_input(operator, model):
    check_input_and_output_types(operator, good_input_types=_INPUT_TYPES)
    shape = operator.inputs[0].type.shape
    width = shape[1] if len(shape) > 1 else None
    if isinstance(width, numbers.Integral) and width != model.n_features_in_:
        raise ValueError(
            f"The ONNX input has {width} features, but {type(model).__name__} "
            f"was fitted on {model.n_features_in_}."
        )
    return operator.inputs[0].get_first_dimension()


def _label_classes(model, nocl):
    """The labels the graph outputs, as int64 or str: ``classes_`` (indices
    with the ``nocl`` option), as skl2onnx's classifiers output them."""
    classes = np.asarray(model.classes_)
    if nocl:
        return np.arange(classes.shape[0], dtype=np.int64)
    if classes.dtype.kind in "iubf":  # float labels are integral (or y would
        return classes.astype(np.int64)  # have been continuous)
    return classes.astype(str)


def _nocl(scope, model):
    return scope.get_options(model, dict(nocl=False))["nocl"]


# ------------------------------------------------------------ the classifier
def _parse_classifier(scope, model, inputs, custom_parsers=None):
    _check(model)
    return _parse_sklearn_classifier(scope, model, inputs,
                                     custom_parsers=custom_parsers)


def _classifier_shapes(operator):
    model = operator.raw_operator
    _check(model)
    n = _check_input(operator, model)
    if model._multilabel():
        operator.outputs[0].type = Int64TensorType([n, model.n_outputs_])
        operator.outputs[1].type.shape = [n, model.n_outputs_]
        return
    classes = _label_classes(model, _nocl(operator.scope_inst, model))
    kind = StringTensorType if classes.dtype.kind == "U" else Int64TensorType
    operator.outputs[0].type = kind([n])
    operator.outputs[1].type.shape = [n, classes.shape[0]]


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    proba_var = operator.outputs[1]
    if (container.get_options(model, dict(zipmap=True))["zipmap"] is True
            and guess_proto_type(proba_var.type) == TensorProto.DOUBLE):
        raise ValueError(
            "ONNX's ZipMap takes float32 probabilities only: convert this "
            f"{type(model).__name__} with options={{'zipmap': False}} (or "
            "'columns') for float64 outputs, or with a float32 sample for "
            "float32 outputs."
        )
    g = _Graph(scope, container)
    dtype = _dtype(model)
    z = _logits(g, model, _input(g, operator, model))
    if model._multilabel():
        g("Cast", g("Greater", z, g.constant(0, dtype)),
          out=operator.outputs[0].full_name, to=TensorProto.INT64)
        _output(g, _expit(g, z, dtype), proba_var, model)
        return
    if model.n_outputs_ == 1:  # one logistic unit: [expit(-z), expit(z)]
        positive = g("Greater", z, g.constant(0, dtype))
        index = g("Reshape", g("Cast", positive, to=TensorProto.INT64),
                  g.constant([-1], np.int64))
        proba = g("Concat", _expit(g, g("Neg", z), dtype), _expit(g, z, dtype),
                  axis=1)
    else:
        index = g("ArgMax", z, axis=1, keepdims=0)
        proba = g("Softmax", z, axis=1)
    classes = _label_classes(model, _nocl(scope, model))
    g("Gather", g.constant(classes), index, out=operator.outputs[0].full_name,
      axis=0)
    _output(g, proba, proba_var, model)


# ------------------------------------------- the regressor and the transformer
def _one_output_shapes(width):
    def shapes(operator):
        model = operator.raw_operator
        _check(model)
        n = _check_input(operator, model)
        operator.outputs[0].type.shape = [n, width(model)]
    return shapes


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    g = _Graph(scope, container)
    y = _logits(g, model, _input(g, operator, model))
    if model.out_activation_ == "exp":
        y = g("Exp", y)
    _output(g, y, operator.outputs[0], model)


def _convert_transformer(scope, operator, container):
    model = operator.raw_operator
    g = _Graph(scope, container)
    act = model._hidden_activation()
    H = _forward(g, _input(g, operator, model), model.coefs_, model.intercepts_,
                 [act] * len(model.coefs_))
    _output(g, H, operator.outputs[0], model)


update_registered_converter(
    DBNClassifier, "SkDbnDBNClassifier", _classifier_shapes, _convert_classifier,
    parser=_parse_classifier,
    options={"zipmap": [True, False, "columns"],
             "output_class_labels": [False, True],
             "nocl": [True, False]},
)
update_registered_converter(
    DBNRegressor, "SkDbnDBNRegressor",
    _one_output_shapes(lambda model: model.n_outputs_), _convert_regressor,
)
update_registered_converter(
    StackedRBMTransformer, "SkDbnStackedRBMTransformer",
    _one_output_shapes(lambda model: model.coefs_[-1].shape[1]),
    _convert_transformer,
)
