"""Standardisation of Gaussian visible units: running moments and folding.

An RBM layer with Gaussian visible units trains on its input standardised,
``(x - mean) / scale``. The moments are accumulated in float64 with a stable
pairwise update (:func:`moments`, :func:`merge_moments`); :func:`standardization`
turns them into the ``(mean, scale)`` of a layer; :func:`fold_standardization`
and :func:`unfold_standardization` map parameters between the standardised
(training) space and the raw input space; :func:`add_rows` merges a new batch
into a layer's moments without changing the function it computes on raw input;
:func:`load_rows` loads (and standardises) the rows of a mini-batch.

A layer is the training-state dict of :func:`sk_dbn._rbm.new_layer`; only its
``moments``, ``shared_scale``, parameters and velocities are used here.
"""

import numpy as np
import scipy.sparse as sp

from ._ops import numpy_dtype, ops_of, to_device, to_host

MOMENT_CHUNK = 4096
"""Rows per chunk when accumulating the input moments in float64."""


def moments(A, sample_weight=None):
    """``{"n", "mean", "m2", "min", "max"}`` of the columns of ``A``, in float64.

    Chunk by chunk, each chunk's centred sums combined with Chan et al.'s pairwise
    update: stable for features like 1e12 +- 100 (where ``E[x^2] - mean^2`` in
    float32 cancels to noise), and the memory stays bounded for sparse ``A``.
    With ``sample_weight``, ``n`` is the sum of the weights and the moments are
    weighted (an integer weight counts as that many copies of the row); ``min``
    and ``max`` are those of the rows of positive weight, exact: they tell a
    constant feature from one whose ``m2`` is rounding noise (see
    :func:`standardization`).
    """
    stats = {"n": 0.0, "mean": np.zeros(A.shape[1]), "m2": np.zeros(A.shape[1]),
             "min": np.full(A.shape[1], np.inf), "max": np.full(A.shape[1], -np.inf)}
    return merge_moments(stats, A, sample_weight)


def _chunks64(A, sample_weight=None):
    """``(rows, weights)`` of ``A`` in float64 chunks of :data:`MOMENT_CHUNK`
    rows, dense, on ``A``'s device (weights None without ``sample_weight``)."""
    ops = ops_of(A)
    for start in range(0, A.shape[0], MOMENT_CHUNK):
        chunk = ops.rows(A, start, start + MOMENT_CHUNK)
        chunk = chunk.toarray() if sp.issparse(chunk) else chunk
        chunk = ops.xp.astype(chunk, ops.float64(chunk))
        w = None if sample_weight is None else ops.xp.astype(
            ops.rows(sample_weight, start, start + MOMENT_CHUNK), chunk.dtype)
        yield ops, chunk, w


def _where(xp, kept, chunk, fill):
    return chunk if kept is None else xp.where(kept, chunk, fill)


def merge_moments(stats, A, sample_weight=None):
    """``stats`` updated with the rows of ``A`` (a new dict). The sums of each
    chunk are taken on ``A``'s device and combined on the host."""
    n, mean, m2 = stats["n"], stats["mean"].copy(), stats["m2"].copy()
    low, high = stats["min"].copy(), stats["max"].copy()
    for ops, chunk, w in _chunks64(A, sample_weight):
        xp = ops.xp
        if w is None:
            w = xp.ones(chunk.shape[0], dtype=chunk.dtype,
                        device=getattr(chunk, "device", None))
        nb = float(xp.sum(w))
        mean_b = (w @ chunk) / nb
        m2_b = to_host(w @ ((chunk - mean_b) ** 2))
        mean_b = to_host(mean_b)
        total = n + nb
        delta = mean_b - mean
        mean += delta * (nb / total)
        m2 += m2_b + np.square(delta) * (n * nb / total)
        n = total
        if chunk.shape[0]:
            # rows of weight 0 are left out by +-inf, without a data-dependent shape
            kept = None if sample_weight is None else (w > 0)[:, None]
            np.minimum(low, to_host(xp.min(_where(xp, kept, chunk, xp.inf),
                                           axis=0)), out=low)
            np.maximum(high, to_host(xp.max(_where(xp, kept, chunk, -xp.inf),
                                            axis=0)), out=high)
    return {"n": n, "mean": mean, "m2": m2, "min": low, "max": high}


def max_sq_norm(A, std):
    """The largest squared norm of a row of ``A`` standardised by ``std``."""
    largest = 0.0
    for ops, chunk, _ in _chunks64(A):
        mean, scale = (ops.xp.astype(a, chunk.dtype) for a in std)
        Z = (chunk - mean) / scale
        largest = max(largest, float(ops.xp.max(ops.rowdot(Z, Z))))
    return largest


def standardization(layer):
    """``(mean, scale)`` in the layer's dtype, or None for Bernoulli visibles.

    The first layer scales every feature by its own standard deviation, and a
    constant feature by 1: one whose values are all equal, or whose spread is
    below the resolution of the layer's dtype at the feature's offset (the
    spacing of the floats at ``|mean|``, and at least the smallest normal
    float): float32 data at ``1e10 +- 100`` is constant (its floats are 1024
    apart there), float64 data at ``1e12 +- 100`` is not (they are 1.2e-4
    apart). A layer over NReLU units shares one scale, the root of the mean
    variance (dividing a rarely active unit by its own tiny deviation would blow
    it up).
    """
    stats = layer["moments"]
    if stats is None:
        return None
    dtype = layer["W"].dtype
    # n is the sum of the sample weights, which can be below 1
    var = stats["m2"] / (stats["n"] if stats["n"] > 0 else 1.0)
    dtype = numpy_dtype(dtype)
    if layer["shared_scale"]:
        scale = np.full_like(var, np.sqrt(var.mean()) or 1.0)
    else:
        scale = np.sqrt(var)
        resolution = np.maximum(np.spacing(np.abs(stats["mean"]).astype(dtype)),
                                np.finfo(dtype).tiny)
        scale[(stats["max"] == stats["min"]) | (scale <= resolution)] = 1.0
    # on the host, as the moments; used on the layer's device
    return (to_device(stats["mean"].astype(dtype), layer["W"]),
            to_device(scale.astype(dtype), layer["W"]))


def fold_standardization(W, b_hidden, b_visible, mean, scale):
    """Parameters trained on ``(x - mean) / scale`` -> parameters on raw ``x``.

    Up-pass: ``((x - m) / s) W + b = x (W / s) + (b - (m / s) W)``; the visible
    bias becomes the raw-space mean of ``p(x | h = 0)``: ``m + s c``.
    Exact up to rounding; :func:`unfold_standardization` is its inverse.
    """
    W_raw = W / scale[:, None]
    b_h_raw = b_hidden - (mean / scale) @ W
    b_v_raw = mean + scale * b_visible
    return W_raw, b_h_raw, b_v_raw


def unfold_standardization(W_raw, b_h_raw, b_v_raw, mean, scale):
    """Inverse of :func:`fold_standardization`."""
    W = W_raw * scale[:, None]
    b_hidden = b_h_raw + mean @ W_raw
    b_visible = (b_v_raw - mean) / scale
    return W, b_hidden, b_visible


def add_rows(layer, A, sample_weight=None):
    """Merge ``A`` (weighted by ``sample_weight``) into a Gaussian layer's running
    moments, in place.

    The training-space parameters are re-expressed under the new standardisation
    so the function on raw inputs is unchanged (velocities likewise, by the linear
    part of the same map): a first batch of one row does not freeze a scale that
    later batches would blow up.
    """
    if layer["moments"] is None:
        return
    old = standardization(layer)
    raw = fold_standardization(layer["W"], layer["b_hidden"], layer["b_visible"],
                               *old)
    layer["moments"] = merge_moments(layer["moments"], A, sample_weight)
    new = standardization(layer)
    layer["max_sq_norm"] = max(layer["max_sq_norm"], max_sq_norm(A, new))
    layer["W"], layer["b_hidden"], layer["b_visible"] = unfold_standardization(
        *raw, *new)
    if layer["velocity"] is not None:
        # the linear part of unfold(new) o fold(old), applied to the velocities
        (m_old, s_old), (m_new, s_new) = old, new
        vW, vh, vv = layer["velocity"]
        layer["velocity"] = [
            vW * (s_new / s_old)[:, None],
            vh + ((m_new - m_old) / s_old) @ vW,
            vv * (s_old / s_new),
        ]


def load_rows(X, idx, out, std):
    """Rows ``idx`` of dense or sparse ``X``, standardised by ``std`` (into
    ``out`` where the namespace allows)."""
    if sp.issparse(X):
        out[...] = X[idx].toarray()
    else:
        out = ops_of(X).take(X, idx, out=out)
    if std is not None:
        out -= std[0]
        out /= std[1]
    return out
