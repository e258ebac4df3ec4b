"""The one owner of initial weights, for both estimators.

``init`` is dispatched here (a registry name or callable, ``"lsuv"``, or
pre-trained RBM weights), and what an initializer returns is checked here: a dense
array of the expected shape with finite values, copied (so training never writes
into the caller's array, and two layers never share memory).
"""

import numpy as np
import scipy.sparse as sp

from ._rbm import rbm_to_network
from .initializers import get_initializer, lsuv, orthogonal, xavier_uniform

LSUV_BATCH = 512
LSUV_TOL = 0.1
LSUV_MAX_TRIALS = 10


def draw_weights(init, fan_in, fan_out, *, rng, dtype, layer):
    """Weights of shape ``(fan_in, fan_out)`` from ``init``, checked and copied.

    Raises a ``ValueError`` naming ``init`` and ``layer`` when the initializer
    returns something other than a finite dense array of that shape.
    """
    W = get_initializer(init)(fan_in, fan_out, random_state=rng, dtype=dtype)
    where = f"init={init!r} for layer {layer} (fan_in={fan_in}, fan_out={fan_out})"
    if sp.issparse(W):
        raise ValueError(f"{where} returned a sparse matrix; it must return a dense "
                         "array.")
    try:
        W = np.array(W, dtype=dtype, order="C", copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} returned something that is not a numeric "
                         f"array: {exc}") from None
    if W.shape != (fan_in, fan_out):
        raise ValueError(f"{where} returned an array of shape {W.shape}; expected "
                         f"{(fan_in, fan_out)} (fan_in, fan_out).")
    if not np.isfinite(W).all():
        raise ValueError(f"{where} returned non-finite values (NaN or inf).")
    return W


def random_network(init, layer_sizes, activation, *, rng, dtype):
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
        pieces = [draw_weights(init, a, b, rng=rng, dtype=dtype, layer=i)
                  for _ in range(k)]
        coefs.append(pieces[0] if k == 1 else np.concatenate(pieces, axis=1))
        intercepts.append(np.zeros(k * b, dtype=dtype))
    return coefs, intercepts


def lsuv_network(layer_sizes, X, activation, *, rng, dtype, sample_weight=None):
    """Orthogonal weights rescaled by LSUV on up to ``LSUV_BATCH`` rows of ``X``
    (their variances weighted by ``sample_weight``)."""
    coefs, intercepts = random_network(orthogonal, layer_sizes, activation, rng=rng,
                                       dtype=dtype)
    n = X.shape[0]
    probe, weights = X, sample_weight
    if n > LSUV_BATCH:
        rows = np.sort(rng.permutation(n)[:LSUV_BATCH])
        probe = X[rows]
        weights = None if sample_weight is None else sample_weight[rows]
    lsuv(coefs, intercepts, probe, activation, tol=LSUV_TOL,
         max_trials=LSUV_MAX_TRIALS, sample_weight=weights)
    return coefs, intercepts


def pretrained_network(rbm_coefs, rbm_intercepts, activation, n_outputs, *, rng,
                       dtype):
    """Hidden layers from RBM weights (copied, see :func:`rbm_to_network`), and a
    ``xavier_uniform`` output layer with zero bias."""
    coefs, intercepts = rbm_to_network(rbm_coefs, rbm_intercepts, activation)
    coefs = [np.asarray(W, dtype=dtype) for W in coefs]
    intercepts = [np.asarray(b, dtype=dtype) for b in intercepts]
    coefs.append(draw_weights(xavier_uniform, coefs[-1].shape[1], n_outputs, rng=rng,
                              dtype=dtype, layer=len(coefs)))
    intercepts.append(np.zeros(n_outputs, dtype=dtype))
    return coefs, intercepts


def initial_network(init, layer_sizes, X, activation, *, rng, pretrain=None,
                    sample_weight=None):
    """``(coefs, intercepts)`` of a new network, as ``init`` makes them.

    With ``pretrain`` (the estimator's pre-training, for ``init="rbm"`` or a
    :class:`StackedRBMTransformer`), ``pretrain(X, rng)`` returns the hidden
    layers' RBM weights and biases; the estimator owns the stack (and passes it
    the sample weights). LSUV weights its variances by ``sample_weight``.
    """
    dtype = X.dtype
    if pretrain is not None:
        rbm_coefs, rbm_intercepts = pretrain(X, rng)
        return pretrained_network(rbm_coefs, rbm_intercepts, activation,
                                  layer_sizes[-1], rng=rng, dtype=dtype)
    if init == "lsuv":
        return lsuv_network(layer_sizes, X, activation, rng=rng, dtype=dtype,
                            sample_weight=sample_weight)
    return random_network(init, layer_sizes, activation, rng=rng, dtype=dtype)
