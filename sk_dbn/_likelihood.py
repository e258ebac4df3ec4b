"""How well a Bernoulli-Bernoulli RBM models data: pseudo-likelihood and AIS.

Parameters are in the ``coefs_`` orientation: ``W`` (n_visible, n_hidden), hidden
biases ``b_h``, visible biases ``b_v``; ``p(v) = exp(-F(v)) / Z`` with the free
energy ``F(v) = -v.b_v - sum_j softplus(b_h_j + (v W)_j)``. Everything here is
computed in float64 whatever the weights' dtype: these are evaluations, not
training, and ``log Z`` sums hundreds of terms.
"""

import numpy as np
from scipy.special import expit, logsumexp

from ._ops import ops_of
from ._rbm import visible_bias_from_data

CHUNK = 1024
"""Rows per chunk of the pseudo-likelihood (its work is rows x visible x hidden)."""

AIS_SEGMENTS = ((0.5, 500), (0.9, 4000), (1.0, 10000))
"""Salakhutdinov & Murray's (2008) schedule: 500 inverse temperatures up to 0.5,
4000 up to 0.9, 10000 up to 1; :func:`ais_betas` keeps these proportions."""


def _softplus(x):
    return np.logaddexp(0.0, x)


def free_energy(visible_term, hidden_input):
    """The free energy ``F(v) = -v.b_v - sum_j softplus(x_j)`` of visible vectors,
    one per row, from ``visible_term = v.b_v`` and ``hidden_input = v W + b_h``
    (arrays of any namespace).

    Taking the two terms rather than ``v`` lets the pseudo-likelihood evaluate
    ``F`` at a vector with one unit flipped by updating them, not by a product.
    """
    ops = ops_of(hidden_input)
    return -visible_term - ops.xp.sum(ops.softplus(hidden_input), axis=1)


def _dense64(V):
    V = V.toarray() if hasattr(V, "toarray") else V
    return np.asarray(V, dtype=np.float64)


def pseudo_log_likelihood(V, W, b_h, b_v):
    """``sum_i log p(v_i | v_-i)`` for each row of ``V``, exactly.

    ``p(v_i | v_-i) = sigmoid(F(v') - F(v))`` where ``v'`` is ``v`` with unit ``i``
    replaced by ``1 - v_i`` (scikit-learn's ``BernoulliRBM.score_samples`` uses
    ``n_features`` times this term for one randomly chosen ``i``; here every unit's
    term is summed, so the result is deterministic and its expected value).
    Computed in float64 (where the device has it) in the namespace and on the
    device of the weights.
    """
    ops = ops_of(W)
    xp, wide = ops.xp, ops.float64(W)
    W, b_h, b_v = (xp.astype(a, wide) for a in (W, b_h, b_v))
    parts = []
    for start in range(0, V.shape[0], CHUNK):
        rows = ops.rows(V, start, start + CHUNK)
        rows = xp.astype(rows.toarray() if hasattr(rows, "toarray") else rows, wide)
        vb, X = rows @ b_v, rows @ W + b_h
        F = free_energy(vb, X)
        flip = 1.0 - 2.0 * rows  # v' - v, unit by unit
        total = xp.zeros(rows.shape[0], dtype=wide, device=getattr(W, "device", None))
        for i in range(W.shape[0]):
            d = flip[:, i]
            # v' differs from v in unit i only: v'.b_v and v'W + b_h by one term
            delta = free_energy(vb + d * b_v[i], X + d[:, None] * W[i, :]) - F
            total -= ops.softplus(-delta)  # log sigmoid(F(v') - F(v))
        parts.append(total)
    return xp.concat(parts) if len(parts) > 1 else parts[0]


def ais_betas(n_betas):
    """Exactly ``n_betas`` (at least 2) inverse temperatures from 0 to 1, denser
    near 1 (see :data:`AIS_SEGMENTS`).

    The ``n_betas - 1`` steps are shared among the segments in proportion to
    theirs, by largest remainder; a segment left without a step is crossed by
    the next one's first, and the last segment (up to 1) always has one.
    """
    sizes = np.array([n for _, n in AIS_SEGMENTS], dtype=np.float64)
    share = sizes * (n_betas - 1) / sizes.sum()
    steps = np.floor(share).astype(int)
    for i in np.argsort(-(share - steps), kind="stable")[:n_betas - 1 - steps.sum()]:
        steps[i] += 1
    if steps[-1] == 0:  # the end at 1 needs a step: from the largest segment
        steps[np.argmax(steps)] -= 1
        steps[-1] = 1
    betas, low = [np.zeros(1)], 0.0
    for (high, _), k in zip(AIS_SEGMENTS, steps):
        if k:
            betas.append(np.linspace(low, high, k + 1)[1:])
            low = high
    return np.concatenate(betas)


def ais_log_partition(W, b_h, b_v, *, base_bias, n_chains, n_betas, rng):
    """``(log Z, standard error)`` by annealed importance sampling.

    Salakhutdinov & Murray (2008): the base model has zero weights and visible
    biases ``base_bias`` (its partition function is exact); ``n_chains``
    independent runs anneal from it to the RBM through ``n_betas`` intermediate
    distributions ``p_k(v, h) ∝ exp((1 - b_k) v.base_bias + b_k (v W h + v.b_v +
    h.b_h))``, one Gibbs step at each. ``Z`` is estimated without bias by the mean
    importance weight, so ``log Z`` is, if anything, underestimated; the standard
    error of ``log Z`` is the delta-method one, ``std(w) / (sqrt(M) mean(w))``.
    """
    W, b_h, b_v, base = (np.asarray(a, dtype=np.float64)
                         for a in (W, b_h, b_v, base_bias))
    n_visible, n_hidden = W.shape
    log_z_base = n_hidden * np.log(2.0) + _softplus(base).sum()
    betas = ais_betas(n_betas)
    v = (rng.random((n_chains, n_visible)) < expit(base)).astype(np.float64)
    log_w = np.zeros(n_chains)
    visible_gain = b_v - base  # d/d beta of the visible term
    for k in range(1, betas.size):
        beta, prev = betas[k], betas[k - 1]
        X = v @ W + b_h
        log_w += (beta - prev) * (v @ visible_gain)
        log_w += _softplus(beta * X).sum(axis=1) - _softplus(prev * X).sum(axis=1)
        if k + 1 < betas.size:  # a Gibbs step that leaves p_k invariant
            h = (rng.random((n_chains, n_hidden)) < expit(beta * X)).astype(np.float64)
            field = (1.0 - beta) * base + beta * (h @ W.T + b_v)
            v = (rng.random((n_chains, n_visible)) < expit(field)).astype(np.float64)
    log_mean = logsumexp(log_w) - np.log(n_chains)
    r = np.exp(log_w - log_w.max())
    std_err = float(np.std(r) / (np.sqrt(n_chains) * np.mean(r)))
    return float(log_z_base + log_mean), std_err


def log_likelihood(V, W, b_h, b_v, *, n_chains, n_betas, rng):
    """``(mean log p(v) over the rows of V, standard error)``: the free energies
    exactly, ``log Z`` by :func:`ais_log_partition` from a base model with the
    column means of ``V`` as its marginals."""
    base = visible_bias_from_data(np.asarray(V.mean(axis=0)).ravel(), np.float64)
    log_z, std_err = ais_log_partition(W, b_h, b_v, base_bias=base,
                                       n_chains=n_chains, n_betas=n_betas, rng=rng)
    return mean_unnormalised_log_prob(V, W, b_h, b_v) - log_z, std_err


def mean_unnormalised_log_prob(V, W, b_h, b_v):
    """Mean of ``-F(v)`` over the rows of ``V``."""
    W, b_h, b_v = (np.asarray(a, dtype=np.float64) for a in (W, b_h, b_v))
    total = 0.0
    for start in range(0, V.shape[0], CHUNK):
        rows = _dense64(V[start:start + CHUNK])
        total -= float(np.sum(free_energy(rows @ b_v, rows @ W + b_h)))
    return total / V.shape[0]
