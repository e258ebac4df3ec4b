"""The pre-training stack of a network estimator's ``init``.

``init`` pre-trains when it is ``"rbm"`` (a default :class:`StackedRBMTransformer`
with the network's hidden sizes), an unfitted transformer (cloned, then fitted on
the training rows with its own parameters), or a fitted one, bare or wrapped in
``sklearn.frozen.FrozenEstimator`` (its weights are copied; it is never refitted
or modified). Here the stack is resolved, checked against the network and, when
needed, fitted.
"""

from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from ._base import DivergenceError, check_hidden_layer_sizes
from ._stacked import StackedRBMTransformer


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


def pretrained_weights(init, X, sizes, activation, *, rng, session, verbose=0,
                       sample_weight=None):
    """``(coefs, intercepts, fitted)`` of the stack ``init`` stands for.

    ``fitted`` is the stack fitted here on ``X`` with ``sample_weight`` (None
    when ``init`` was already fitted or frozen: its weights are used as they
    are). ``coefs`` and
    ``intercepts`` are the stack's own arrays; the caller copies them.
    Raises a ``ValueError`` naming both values when the stack does not match the
    network (hidden sizes, hidden units, input width).
    """
    if not sizes:
        raise ValueError("hidden_layer_sizes=() has no hidden layer to pre-train; "
                         "init='rbm' and StackedRBMTransformer inits need at least "
                         "one (use a registry init for a network without hidden "
                         "layers).")
    stack, frozen = _resolve(init, sizes, activation, rng, verbose)
    _check_matches(stack, init, sizes, activation)
    if frozen:
        if stack.n_features_in_ != X.shape[1]:
            raise ValueError(
                f"init is a StackedRBMTransformer fitted on {stack.n_features_in_} "
                f"features, but X has {X.shape[1]}; fit it on data with the "
                "classifier's features."
            )
        return stack.coefs_, stack.intercepts_, None
    try:
        session.interrupted |= stack._fit(X, incremental=False,
                                          sample_weight=sample_weight)
    except DivergenceError as exc:
        raise _renamed(exc, init, stack) from exc
    return stack.coefs_, stack.intercepts_, stack


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
    return stack, False


def _check_matches(stack, init, sizes, activation):
    """The stack's hidden layers must be the network's, with suitable units."""
    if isinstance(init, str):
        return
    wanted = hidden_units_for(activation)  # first: maxout fits no stack at all
    fitted = _is_fitted(stack)
    stack_sizes = ([W.shape[1] for W in stack.coefs_] if fitted
                   else check_hidden_layer_sizes(stack.hidden_layer_sizes))
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
