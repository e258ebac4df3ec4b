"""The one owner of a network's initial weights: ``init`` is resolved here.

:func:`initial_weights` makes the weights and biases of a new
:class:`~sk_dbn.DBNClassifier` or :class:`~sk_dbn.DBNRegressor` by ``init``:

- a registry name or a callable: every layer drawn by it (checked and copied,
  see :func:`sk_dbn.initializers._draw_weights`), all biases zero;
- ``"lsuv"``: orthogonal weights rescaled by :func:`sk_dbn.initializers.lsuv`
  on a batch of the training rows;
- ``"rbm"`` (a default :class:`~sk_dbn.StackedRBMTransformer` with the
  network's hidden sizes), an unfitted transformer (a clone, fitted here on the
  training rows with its own parameters), or a fitted one, bare or wrapped in
  ``sklearn.frozen.FrozenEstimator`` (used as it is, never refitted or
  modified): the hidden layers from copies of the stack's weights
  (:func:`sk_dbn._rbm.rbm_to_network`), a ``xavier_uniform`` output layer.

It returns the stack it fitted, if any, for the estimator to keep; nothing here
calls back into the estimator. :func:`check_init` validates a transformer
``init`` exactly as the transformer's own ``fit`` would, with its parameters
named ``init__<name>``, before a fit does any work.
"""

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from ._base import (
    DivergenceError,
    check_hidden_layer_sizes,
    rename_parameters,
    select_rows,
    warn,
)
from ._ops import numpy_dtype, ops_of, to_device, to_host
from ._rbm import rbm_to_network
from ._stacked import StackedRBMTransformer
from .initializers import _draw_weights, lsuv, orthogonal, xavier_uniform
from .utils._sklearn import validate_parameter_constraints

LSUV_BATCH = 512
LSUV_TOL = 0.1
LSUV_MAX_TRIALS = 10


def initial_weights(init, layer_sizes, X, activation, *, rng, session,
                    sample_weight=None, verbose=0, feature_names=None):
    """``(coefs, intercepts, pretrainer)`` of a new network, as ``init`` makes them.

    ``layer_sizes`` is ``[n_features, *hidden_layer_sizes, n_outputs]``;
    ``activation`` the hidden activation object; ``X`` (with ``sample_weight``)
    the rows pre-training and LSUV see, ``feature_names`` the network's
    ``feature_names_in_`` (None without names), which a fitted transformer must
    share. ``pretrainer`` is the stack fitted here (None unless ``init`` is
    ``"rbm"`` or an unfitted transformer). A first Ctrl-C during pre-training is
    recorded in ``session.interrupted``.
    """
    # drawn on the host from the fit's numpy generator (a seed gives the same
    # initial weights on every backend), moved once to the data's device
    dtype = numpy_dtype(X.dtype)
    if is_pretraining(init):
        stack, fitted_here = _pretrained_stack(
            init, X, layer_sizes[1:-1], activation, rng=rng, session=session,
            verbose=verbose, sample_weight=sample_weight,
            feature_names=feature_names)
        coefs, intercepts = _pretrained_network(
            stack.coefs_, stack.intercepts_, activation, layer_sizes[-1], rng=rng,
            like=X)
        return coefs, intercepts, stack if fitted_here else None
    if isinstance(init, str) and init == "lsuv":
        coefs, intercepts = _lsuv_network(layer_sizes, X, activation, rng=rng,
                                          dtype=dtype, sample_weight=sample_weight)
    else:
        coefs, intercepts = _moved(*_random_network(
            init, layer_sizes, activation, rng=rng, dtype=dtype), X)
    return coefs, intercepts, None


def check_init(init, estimator):
    """Validate a :class:`~sk_dbn.StackedRBMTransformer` ``init`` as its own
    ``fit`` does, naming its parameters ``init__<name>`` as ``set_params`` and
    ``GridSearchCV`` do (scikit-learn's ``InvalidParameterError``). Other
    ``init`` values are left to the estimator's own constraints."""
    if not isinstance(init, StackedRBMTransformer):
        return
    prefix = "init__"
    params = init.get_params(deep=False)
    validate_parameter_constraints(
        {prefix + k: v for k, v in init._parameter_constraints.items()},
        {prefix + k: v for k, v in params.items()},
        caller_name=type(estimator).__name__,
    )
    check_hidden_layer_sizes(params["hidden_layer_sizes"], type(estimator).__name__,
                             name=prefix + "hidden_layer_sizes")


def is_pretraining(init):
    """Whether ``init`` asks for RBM pre-training (any frozen estimator does: it
    is checked to be a fitted transformer when the weights are drawn)."""
    return isinstance(init, (StackedRBMTransformer, FrozenEstimator)) or (
        isinstance(init, str) and init == "rbm")


def hidden_units_for(activation):
    """The RBM hidden units whose weights suit a network with ``activation`` (an
    activation object); a ``ValueError`` for maxout, which no RBM has."""
    if activation.name == "maxout":
        raise ValueError(
            "activation='maxout' cannot start from RBM weights (init='rbm' or a "
            "StackedRBMTransformer): an RBM has no maxout units, so pre-training "
            "gives no weights for the pieces of a unit. Use a registry init (for "
            "example init='he_normal') or init='lsuv'."
        )
    return "relu" if activation.name in ("relu", "leaky_relu") else "bernoulli"


# ------------------------------------------------------------ random weights
def _random_network(init, layer_sizes, activation, *, rng, dtype):
    """``(coefs, intercepts)`` with every layer's weights from ``init``, zero biases.

    A hidden layer of ``m`` units with ``k = activation.width_factor`` pieces per
    unit (maxout) gets ``k`` independent draws ``init(fan_in, m)``, side by side:
    piece ``p`` is the column block ``p*m:(p+1)*m``. Each piece is then exactly
    what ``init`` makes for a layer of ``m`` units (an orthogonal matrix, or
    Glorot's variance with ``fan_out = m``: a unit passes its gradient back
    through one piece only).
    """
    coefs, intercepts = [], []
    last = len(layer_sizes) - 2
    for i, (a, b) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        k = 1 if i == last else activation.width_factor
        pieces = [_draw_weights(init, a, b, rng=rng, dtype=dtype, layer=i)
                  for _ in range(k)]
        coefs.append(pieces[0] if k == 1 else np.concatenate(pieces, axis=1))
        intercepts.append(np.zeros(k * b, dtype=dtype))
    return coefs, intercepts


def _lsuv_network(layer_sizes, X, activation, *, rng, dtype, sample_weight=None):
    """Orthogonal weights rescaled by LSUV on up to ``LSUV_BATCH`` rows of ``X``
    (their variances weighted by ``sample_weight``)."""
    coefs, intercepts = _moved(*_random_network(
        orthogonal, layer_sizes, activation, rng=rng, dtype=dtype), X)
    n = X.shape[0]
    probe, weights = X, sample_weight
    if n > LSUV_BATCH:
        rows = np.sort(rng.permutation(n)[:LSUV_BATCH])
        keep = np.zeros(n, dtype=bool)
        keep[rows] = True
        probe, weights = select_rows(keep, X, sample_weight)
    lsuv(coefs, intercepts, probe, activation, tol=LSUV_TOL,
         max_trials=LSUV_MAX_TRIALS, sample_weight=weights)
    return coefs, intercepts


# ------------------------------------------------------------ RBM pre-training
def _pretrained_network(rbm_coefs, rbm_intercepts, activation, n_outputs, *, rng,
                        like):
    """Hidden layers from RBM weights (copied, see :func:`rbm_to_network`), and a
    ``xavier_uniform`` output layer with zero bias, in the dtype, namespace and
    on the device of ``like`` (a stack fitted on another namespace or device
    is moved there through the host)."""
    coefs, intercepts = rbm_to_network(rbm_coefs, rbm_intercepts, activation)
    coefs = [_placed_like(W, like) for W in coefs]
    intercepts = [_placed_like(b, like) for b in intercepts]
    dtype = numpy_dtype(like.dtype)
    W, b = _draw_weights(xavier_uniform, coefs[-1].shape[1], n_outputs, rng=rng,
                         dtype=dtype, layer=len(coefs)), np.zeros(n_outputs, dtype)
    return coefs + [to_device(W, like)], intercepts + [to_device(b, like)]


def _placed_like(a, like):
    """``a`` in the dtype, namespace and on the device of ``like``."""
    ops = ops_of(like)
    if ops_of(a) is not ops or str(getattr(a, "device", None)) != str(
            getattr(like, "device", None)):
        a = to_device(to_host(a), like)
    return ops.xp.astype(a, like.dtype)


def _moved(coefs, intercepts, like):
    """The host arrays ``coefs`` and ``intercepts`` on the device of ``like``."""
    return ([to_device(W, like) for W in coefs],
            [to_device(b, like) for b in intercepts])


def _pretrained_stack(init, X, sizes, activation, *, rng, session, verbose=0,
                      sample_weight=None, feature_names=None):
    """``(stack, fitted_here)``: the fitted stack ``init`` stands for.

    A stack fitted here is fitted on ``X`` with ``sample_weight``; its own
    errors name its parameters as the network's (``init__<name>``). A fitted or
    frozen ``init`` is returned as it is (its arrays are the caller's to copy).
    Raises a ``ValueError`` naming both values when the stack does not match
    the network (hidden sizes, hidden units, input features).
    """
    if not sizes:
        raise ValueError("hidden_layer_sizes=() has no hidden layer to pre-train; "
                         "init='rbm' and StackedRBMTransformer inits need at least "
                         "one (use a registry init for a network without hidden "
                         "layers).")
    stack, frozen = _resolve(init, sizes, activation, rng, verbose)
    _check_matches(stack, init, sizes, activation)
    if frozen:
        _check_same_features(stack, X.shape[1], feature_names)
        return stack, False
    try:
        session.interrupted |= stack._fit(X, incremental=False,
                                          sample_weight=sample_weight)
    except DivergenceError as exc:
        raise _renamed(exc, init, stack) from exc
    except ValueError as exc:
        if isinstance(init, str):
            raise
        names = {p: f"init__{p}" for p in stack.get_params(deep=False)}
        raise type(exc)(rename_parameters(str(exc), names)) from exc
    return stack, True


def _check_same_features(stack, n_features, feature_names):
    """A fitted stack must have seen the network's features, by number and, as
    ``transform`` checks them, by name and order."""
    if stack.n_features_in_ != n_features:
        raise ValueError(
            f"init is a StackedRBMTransformer fitted on {stack.n_features_in_} "
            f"features, but X has {n_features}; fit it on data with the "
            "network's features."
        )
    fitted = getattr(stack, "feature_names_in_", None)
    if fitted is not None and feature_names is not None:
        if not np.array_equal(fitted, feature_names):
            raise ValueError(
                "init is a StackedRBMTransformer fitted on the features "
                f"{list(fitted)}, but X has the features {list(feature_names)}: "
                "its weights would be copied by position. Give X the transformer's "
                "columns in its order (or fit the transformer on X's)."
            )
    elif fitted is not None:
        warn("X does not have valid feature names, but init (a "
             "StackedRBMTransformer) was fitted with feature names", UserWarning)
    elif feature_names is not None:
        warn("X has feature names, but init (a StackedRBMTransformer) was fitted "
             "without feature names", UserWarning)


def _resolve(init, sizes, activation, rng, verbose):
    """``(stack, frozen)``: the transformer to use, and whether it is used as is."""
    if isinstance(init, str):
        return StackedRBMTransformer(
            sizes, hidden_units=hidden_units_for(activation),
            random_state=_seed(rng), verbose=verbose), False
    if isinstance(init, FrozenEstimator):
        if not isinstance(init.estimator, StackedRBMTransformer):
            raise ValueError("init=FrozenEstimator(...) must wrap a "
                             "StackedRBMTransformer; got "
                             f"{type(init.estimator).__name__}.")
        if not _is_fitted(init.estimator):
            raise ValueError("init is a FrozenEstimator of an unfitted "
                             "StackedRBMTransformer; fit the transformer before "
                             "freezing it, or pass it unfrozen to fit it here.")
        return init.estimator, True
    if _is_fitted(init):
        return init, True
    stack = clone(init)
    if stack.random_state is None:
        # seeded from the network's random_state, so its refits are bit-identical
        stack.set_params(random_state=_seed(rng))
    if verbose and not stack.verbose:  # the network's verbose shows pre-training
        stack.set_params(verbose=verbose)
    return stack, False


def _check_matches(stack, init, sizes, activation):
    """The stack's hidden layers must be the network's, with suitable units."""
    if isinstance(init, str):
        return
    wanted = hidden_units_for(activation)  # first: maxout fits no stack at all
    fitted = _is_fitted(stack)
    stack_sizes = ([W.shape[1] for W in stack.coefs_] if fitted
                   else check_hidden_layer_sizes(stack.hidden_layer_sizes,
                                                 type(stack).__name__))
    if stack_sizes != sizes:
        raise ValueError(
            f"init is a StackedRBMTransformer with hidden layers {stack_sizes}, but "
            f"hidden_layer_sizes is {sizes}; give both the same sizes."
        )
    if stack.hidden_units != wanted:
        raise ValueError(
            f"init is a StackedRBMTransformer with hidden_units="
            f"{stack.hidden_units!r}, which does not suit activation="
            f"{activation.name!r}; use hidden_units={wanted!r} (NReLU units for "
            "relu and leaky_relu networks, Bernoulli units otherwise)."
        )


def _renamed(exc, init, stack):
    """A pre-training divergence with the parameters named as the network's
    (``init__learning_rate``, ...)."""
    names = {p: (f"init__{p}", v) for p, v, _ in exc.causes if p}
    if isinstance(init, str):
        return exc.renamed(names, note=(
            "init='rbm' pre-trains with StackedRBMTransformer("
            f"{tuple(stack.hidden_layer_sizes)}, "
            f"hidden_units={stack.hidden_units!r}); to change its parameters, "
            "pass that transformer as init."))
    return exc.renamed(names)


def _is_fitted(stack):
    try:
        check_is_fitted(stack)
    except NotFittedError:
        return False
    return True


def _seed(rng):
    return int(rng.integers(2**31 - 1))
