"""Parameter values: what the constraints cannot say is checked by hand, and a
transformer ``init``'s own parameters are checked as its ``fit`` checks them.

The constraints themselves are covered by ``check_param_validation`` in
``test_common.py``. Here: ``hidden_layer_sizes`` (any array-like, its elements
checked by hand), the activation parameters, and a ``StackedRBMTransformer``
passed as ``init``, whose bad parameters are refused before any work with
scikit-learn's ``InvalidParameterError`` naming ``init__<param>``, whichever way
they arrive (constructor, ``set_params``, ``GridSearchCV``).
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from sk_dbn import DBNClassifier, DBNRegressor, StackedRBMTransformer
from sk_dbn.utils._sklearn import InvalidParameterError

# the fits here run an epoch or two to reach the checks
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")


def _digits(n=200, dtype=np.float64):
    X, y = load_digits(return_X_y=True)
    return X[:n].astype(dtype), y[:n]


# ------------------------------------------------------------ hidden_layer_sizes
# The constraints accept any array-like for hidden_layer_sizes; its elements are
# checked by hand. The last four are rejected by the constraints themselves.
BAD_HIDDEN_LAYER_SIZES = [(0,), (), [], (3, -1), (3, 0), (2.5,), (True,), True,
                          (3, None), [[3]], np.array([4, -4]),
                          "abc", 0, -2, None]


FIT_METHODS = [(DBNClassifier, "fit"), (DBNClassifier, "partial_fit"),
               (DBNClassifier, "initialize"), (StackedRBMTransformer, "fit"),
               (StackedRBMTransformer, "partial_fit"),
               (StackedRBMTransformer, "fit_transform")]


@pytest.mark.parametrize("value", BAD_HIDDEN_LAYER_SIZES, ids=repr)
@pytest.mark.parametrize(("Estimator", "method"), FIT_METHODS,
                         ids=lambda v: getattr(v, "__name__", v))
def test_invalid_hidden_layer_sizes(Estimator, method, value):
    X, y = _digits(30)
    est = Estimator(value)
    kwargs = {"classes": np.unique(y)} if (
        Estimator is DBNClassifier and method == "partial_fit") else {}
    args = (X, y) if Estimator is DBNClassifier else (X,)
    if Estimator is DBNClassifier and isinstance(value, (tuple, list)) and not value:
        # no hidden layer is a valid network (as in MLPClassifier), but not one
        # that the default init="rbm" can pre-train
        with pytest.raises(ValueError, match="no hidden layer to pre-train"):
            getattr(est, method)(*args, **kwargs)
        return
    with pytest.raises(InvalidParameterError, match="hidden_layer_sizes"):
        getattr(est, method)(*args, **kwargs)


@pytest.mark.parametrize("value", [(3,), 3, [3, 2], np.array([3, 2]), (np.int32(3),)],
                         ids=repr)
@pytest.mark.parametrize("Estimator", [DBNClassifier, StackedRBMTransformer])
def test_valid_hidden_layer_sizes_spellings(Estimator, value):
    X, y = _digits(30)
    est = Estimator(value, random_state=0)
    est.set_params(**({"max_iter": 1} if Estimator is DBNClassifier
                      else {"n_iter": 1}))
    est.fit(X / 16, y)
    sizes = [int(s) for s in np.atleast_1d(value)]
    assert [W.shape[1] for W in est.coefs_][: len(sizes)] == sizes



# ------------------------------------------------------- activation parameters
@pytest.mark.parametrize(
    ("param", "value"),
    [("negative_slope", -0.1), ("negative_slope", 1.0), ("negative_slope", "1/3"),
     ("maxout_pieces", 1), ("maxout_pieces", 2.0), ("maxout_pieces", "2")],
)
def test_invalid_activation_parameters(param, value):
    X, y = _digits(40)
    with pytest.raises(ValueError, match=param):
        DBNClassifier((4,), init="zeros", **{param: value}).fit(X, y)


# ------------------------------------------- a transformer init's own parameters
BAD_TRANSFORMER_PARAMS = [
    ("n_iter", -3), ("learning_rate", -0.05), ("momentum", 1.5), ("cd_k", 0),
    ("batch_size", 0), ("visible_units", "poisson"), ("hidden_units", "tanh"),
    ("weight_decay", -1.0), ("persistent", "yes"), ("init", "glorot"),
    ("hidden_layer_sizes", (4, 0)), ("hidden_layer_sizes", (2.5,)),
]


def _refused_before_any_work(monkeypatch):
    """Fail the test if pre-training starts (the check must come first)."""
    def no_training(*args, **kwargs):
        raise AssertionError("pre-training ran before the parameters were checked")
    monkeypatch.setattr(StackedRBMTransformer, "_fit", no_training)


@pytest.mark.parametrize(("param", "value"), BAD_TRANSFORMER_PARAMS, ids=repr)
@pytest.mark.parametrize("Network", [DBNClassifier, DBNRegressor])
@pytest.mark.parametrize("method", ["fit", "initialize", "partial_fit"])
def test_transformer_init_params_are_checked_as_its_fit_checks_them(
        monkeypatch, Network, method, param, value):
    X, y = _digits(40)
    X = X / 16
    # the transformer's own fit refuses the value ...
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter|{param}"):
        StackedRBMTransformer(**{"hidden_layer_sizes": (4,), param: value}).fit(X)
    _refused_before_any_work(monkeypatch)
    stack = StackedRBMTransformer(**{"hidden_layer_sizes": (4,), param: value})
    net = Network((4,), init=stack)
    kwargs = {"classes": np.unique(y)} if (
        Network is DBNClassifier and method == "partial_fit") else {}
    # ... and the network names it as init__<param>
    with pytest.raises(InvalidParameterError, match=f"init__{param}") as info:
        getattr(net, method)(X, y, **kwargs)
    assert Network.__name__ in str(info.value)
    assert not hasattr(net, "coefs_")


@pytest.mark.parametrize(("param", "value"), BAD_TRANSFORMER_PARAMS[:6], ids=repr)
def test_set_params_and_grid_search_cannot_bypass_the_check(monkeypatch, param,
                                                            value):
    X, y = _digits(60)
    X = X / 16
    _refused_before_any_work(monkeypatch)
    clf = DBNClassifier((4,), init=StackedRBMTransformer((4,), n_iter=1))
    clf.set_params(**{f"init__{param}": value})
    with pytest.raises(InvalidParameterError, match=f"init__{param}"):
        clf.fit(X, y)
    search = GridSearchCV(DBNClassifier((4,), init=StackedRBMTransformer((4,))),
                          {f"init__{param}": [value]}, cv=2, error_score="raise")
    with pytest.raises(InvalidParameterError, match=f"init__{param}"):
        search.fit(X, y)


def test_valid_transformer_init_params_still_fit():
    X, y = _digits(60)
    clf = DBNClassifier((4,), init=StackedRBMTransformer(4, n_iter=1, cd_k=2,
                                                         momentum=0.0),
                        max_iter=2, random_state=0)
    clf.set_params(init__batch_size=8).fit(X / 16, y)
    assert clf.pretrainer_.batch_size == 8


# ------------------------------------------- combinations, before any work
@pytest.mark.parametrize(("params", "message"), [
    (dict(solver="lbfgs", dropout=0.5), "dropout=0.5 needs a stochastic solver"),
    (dict(early_stopping=True, validation_fraction=0.99),
     "validation set is too large.*Decrease validation_fraction"),
])
@pytest.mark.parametrize("Network", [DBNClassifier, DBNRegressor])
def test_parameter_combinations_are_refused_before_pre_training(
        monkeypatch, Network, params, message):
    X, y = _digits(40)
    _refused_before_any_work(monkeypatch)
    with pytest.raises(ValueError, match=message):
        Network((4,), init="rbm", **params).fit(X / 16, y)


# ------------------------------------------------- shared ranges and defaults
@pytest.mark.parametrize("Estimator", [DBNClassifier, DBNRegressor,
                                       StackedRBMTransformer])
def test_momentum_range_is_mlps_closed_unit_interval(Estimator):
    """[0, 1] for every estimator, as MLPClassifier's momentum."""
    from sklearn.neural_network import MLPClassifier

    X, y = _digits(40)
    fit_args = (X / 16,) if Estimator is StackedRBMTransformer else (X / 16, y)
    kwargs = dict(n_iter=1) if Estimator is StackedRBMTransformer else dict(
        solver="sgd", init="xavier_uniform", max_iter=1)
    MLPClassifier(momentum=1.0, solver="sgd", max_iter=1).fit(X / 16, y)
    Estimator(4, momentum=1.0, **kwargs).fit(*fit_args)
    with pytest.raises(InvalidParameterError, match="'momentum' parameter"):
        Estimator(4, momentum=1.5, **kwargs).fit(*fit_args)


def test_activation_defaults_are_the_shared_constants():
    import inspect

    from sk_dbn._activations import LEAKY_SLOPE, MAXOUT_PIECES
    from sk_dbn.initializers import calculate_gain, lsuv

    defaults = inspect.signature(lsuv).parameters
    assert defaults["negative_slope"].default == LEAKY_SLOPE
    assert defaults["maxout_pieces"].default == MAXOUT_PIECES
    assert calculate_gain("leaky_relu") == calculate_gain("leaky_relu", LEAKY_SLOPE)
    # the defaults are the constant itself, not a number equal to it today
    assert defaults["negative_slope"].default is LEAKY_SLOPE
    assert calculate_gain("maxout") == calculate_gain("maxout", MAXOUT_PIECES)
    for Network in (DBNClassifier, DBNRegressor):
        params = Network().get_params()
        assert (params["negative_slope"], params["maxout_pieces"]) == (
            LEAKY_SLOPE, MAXOUT_PIECES)


def test_calculate_gain_reads_the_shared_slope(monkeypatch):
    import sk_dbn.initializers as initializers

    monkeypatch.setattr(initializers, "LEAKY_SLOPE", 0.2)
    assert initializers.calculate_gain("leaky_relu") == initializers.calculate_gain(
        "leaky_relu", 0.2)


def test_private_scikit_learn_names_come_through_one_module():
    """Only sk_dbn/utils/_sklearn.py imports private scikit-learn names."""
    import ast
    from pathlib import Path

    import sk_dbn

    root = Path(sk_dbn.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path == root / "utils" / "_sklearn.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "sklearn"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private or any(p.startswith("_") for p in node.module.split(".")):
                    offenders.append(f"{path.relative_to(root)}: {node.module}")
    assert not offenders, offenders


def test_a_bool_batch_size_is_the_int_it_equals():
    # bool is an int to the constraints (and to MLPClassifier): True fits as 1
    X = load_digits().data[:40] / 16
    fits = [StackedRBMTransformer((4,), n_iter=1, batch_size=b, random_state=0)
            .fit(X) for b in (True, 1)]
    np.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])
