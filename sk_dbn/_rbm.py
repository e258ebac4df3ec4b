"""The maths of one restricted Boltzmann machine layer.

Weights are in (n_visible, n_hidden) orientation (the ``coefs_`` orientation of the
network), so the up-pass is the network's forward layer. Visible units are
``"bernoulli"`` (data in [0, 1]) or ``"gaussian"`` (unit variance: the caller
standardises the data, see :func:`fold_standardization`); hidden units are
``"bernoulli"`` or ``"relu"`` (noisy rectified linear units, Nair & Hinton 2010).

Contrastive divergence runs on preallocated buffers (:class:`CDWorkspace`): the
positive and negative statistics of a batch are one GEMM of stacked matrices,
``[V0; Vk].T @ [H0; -Hk]``, all sampling writes into float buffers of the working
dtype, and parameter updates run over cache-sized chunks.
"""

import numpy as np
from scipy.special import expit

from ._inplace import chunks, scratch_for
from ._network import affine, forward_layer

HIDDEN_ACTIVATION = {"bernoulli": "logistic", "relu": "relu"}
VISIBLE_ACTIVATION = {"bernoulli": "logistic", "gaussian": "identity"}


def up(V, W, b_hidden, hidden_units, out=None):
    """Mean-field hidden activations: ``sigmoid(V W + b)`` or ``max(0, V W + b)``."""
    return forward_layer(V, W, b_hidden, HIDDEN_ACTIVATION[hidden_units], out=out)


def down(H, W, b_visible, visible_units, out=None):
    """Mean-field visible reconstruction: ``sigmoid(H W.T + c)`` or ``H W.T + c``."""
    return forward_layer(H, W.T, b_visible, VISIBLE_ACTIVATION[visible_units], out=out)


def components_to_coefs(components):
    """Convert RBM ``components_`` (n_hidden, n_visible) to ``coefs_`` orientation.

    scikit-learn's ``BernoulliRBM`` stores ``components_`` as (n_components,
    n_features); networks here use (fan_in, fan_out) = (n_visible, n_hidden).
    """
    return np.ascontiguousarray(np.asarray(components).T)


def free_energy(V, W, b_hidden, b_visible):
    """Free energy of Bernoulli-Bernoulli RBM visible vectors (one per row).

    ``F(v) = -v.c - sum_j log(1 + exp(b_j + (v W)_j))``, so ``p(v) ∝ exp(-F(v))``.
    """
    return -(V @ b_visible) - np.logaddexp(0, V @ W + b_hidden).sum(axis=1)


def visible_bias_from_data(p, dtype):
    """Hinton's initial visible bias ``log(p / (1 - p))`` for mean activities ``p``."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-3, 1 - 1e-3)
    return np.log(p / (1 - p)).astype(dtype)


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


class CDWorkspace:
    """Preallocated buffers for CD-k on batches of at most ``batch_size`` rows.

    ``V[:n]`` holds the data batch ``V0`` and ``V[n:2n]`` the negative-phase
    visibles; ``H`` likewise holds hidden means. ``grads`` receive the CD estimate
    of the log-likelihood gradient for ``(W, b_hidden, b_visible)``.
    """

    def __init__(self, batch_size, n_visible, n_hidden, dtype):
        self.V = np.empty((2 * batch_size, n_visible), dtype=dtype)
        self.H = np.empty((2 * batch_size, n_hidden), dtype=dtype)
        self.H_sample = np.empty((batch_size, n_hidden), dtype=dtype)
        self.noise_h = np.empty((batch_size, n_hidden), dtype=dtype)
        self.noise_v = np.empty((batch_size, n_visible), dtype=dtype)
        self.grads = [
            np.empty((n_visible, n_hidden), dtype=dtype),
            np.empty(n_hidden, dtype=dtype),
            np.empty(n_visible, dtype=dtype),
        ]
        self.chunk = scratch_for(self.grads)
        self.ones = np.ones(2 * batch_size, dtype=dtype)
        self.signs = np.empty(2 * batch_size, dtype=dtype)

    def batch(self, n):
        """Views ``(V0, Vk, H0, Hk)`` for a batch of ``n`` rows."""
        return self.V[:n], self.V[n : 2 * n], self.H[:n], self.H[n : 2 * n]


def _random(rng, out, normal=False):
    if normal:
        return rng.standard_normal(out=out, dtype=out.dtype)
    return rng.random(out=out, dtype=out.dtype)


def sample_hidden(H_mean, Z, hidden_units, rng, noise, out):
    """Sample hidden states given their means ``H_mean`` (and pre-activations ``Z``).

    Bernoulli: ``h = [u < p]``. NReLU: ``h = max(0, z + sqrt(sigmoid(z)) * eps)``
    with ``z`` the pre-activation, which for ``z > 0`` equals ``H_mean`` and for
    ``z <= 0`` only matters through the noise; ``Z`` is the pre-activation buffer.
    """
    if hidden_units == "bernoulli":
        _random(rng, noise)
        return np.less(noise, H_mean, out=out)
    _random(rng, noise, normal=True)
    expit(Z, out=out)
    np.sqrt(out, out=out)
    out *= noise
    out += Z
    return np.maximum(out, 0, out=out)


def sample_visible(V_mean, visible_units, rng, noise):
    """Sample Bernoulli visibles in place; Gaussian visibles keep their mean.

    Noise-free Gaussian reconstructions are what Hinton's practical guide recommends
    for unit-variance Gaussian visible units: the noise only slows learning.
    """
    if visible_units == "bernoulli":
        _random(rng, noise)
        np.less(noise, V_mean, out=V_mean)
    return V_mean


def gibbs_phases(ws, n, W, b_hidden, b_visible, *, k, chain, rng, visible_units,
                 hidden_units):
    """Positive and negative phase of CD-k (or PCD-k with ``chain``) in ``ws``.

    ``ws.V[:n]`` must hold the data batch. Gibbs chains start from hidden samples
    of the data (CD) or from the persistent hidden states ``chain[:n]`` (PCD, which
    are then advanced in place). Each step samples ``v ~ p(v | h)`` and takes
    ``p(h | v)``; the statistics use hidden means (Rao-Blackwellised), so with
    large ``k`` the estimate is unbiased for the exact gradient. Leaves
    ``[V0; Vk]`` in ``ws.V[:2n]`` and ``[H0; Hk]`` in ``ws.H[:2n]``.
    """
    V0, Vk, H0, Hk = ws.batch(n)
    noise_h, noise_v = ws.noise_h[:n], ws.noise_v[:n]
    relu = hidden_units == "relu"
    persistent = chain is not None

    def up_rows(V, H, sample_into):
        # hidden means of the rows V, into H; with sample_into, also draw hidden
        # states for the last n rows (NReLU noise needs the pre-activation)
        if relu:
            affine(V, W, b_hidden, out=H)
            if sample_into is not None:
                sample_hidden(None, H[-n:], hidden_units, rng, noise_h, out=sample_into)
            np.maximum(H, 0, out=H)
        else:
            up(V, W, b_hidden, hidden_units, out=H)
            if sample_into is not None:
                sample_hidden(H[-n:], None, hidden_units, rng, noise_h, out=sample_into)

    if persistent:
        H_sample = chain[:n]
    else:  # positive phase first: the chain starts from its sample
        H_sample = ws.H_sample[:n]
        up_rows(V0, H0, H_sample)
    for step in range(k):
        down(H_sample, W, b_visible, visible_units, out=Vk)
        sample_visible(Vk, visible_units, rng, noise_v)
        if step == k - 1 and persistent:
            # PCD: the data's up-pass waited till now to share this product,
            # [V0; Vk] @ W in one GEMM (same random draws, in the same order)
            up_rows(ws.V[: 2 * n], ws.H[: 2 * n], H_sample)
        else:
            up_rows(Vk, Hk, H_sample if step < k - 1 else None)


def _statistics(ws, n, scale):
    """CD statistics of the batch, times ``scale``, in ``ws.grads``.

    The weight term is one GEMM of the stacked batches,
    ``[V0; Vk].T @ [scale H0; -scale Hk]`` (positive and negative phase in a
    single product); scaling the (2n, n_hidden) hidden block before the product is
    cheaper than scaling the (n_visible, n_hidden) result. The bias terms are
    GEMVs with a vector of ``+-scale``. Overwrites ``ws.H[:2n]``.
    """
    V, H = ws.V[: 2 * n], ws.H[: 2 * n]
    signs = ws.signs[: 2 * n]
    signs[:n], signs[n:] = scale, -scale
    H *= signs[:, None]
    gW, gbh, gbv = ws.grads
    np.dot(V.T, H, out=gW)
    np.dot(ws.ones[: 2 * n], H, out=gbh)
    np.dot(signs, V, out=gbv)
    return ws.grads


def cd_gradient(ws, n, W, b_hidden, b_visible, **gibbs):
    """CD-k estimate of the log-likelihood gradient for ``(W, b_hidden, b_visible)``.

    Runs :func:`gibbs_phases` (keyword arguments ``k, chain, rng, visible_units,
    hidden_units``) and returns ``ws.grads`` = ``(<v h>_data - <v h>_model) / n``
    and the bias terms.
    """
    gibbs_phases(ws, n, W, b_hidden, b_visible, **gibbs)
    return _statistics(ws, n, 1.0 / n)


def cd_update(ws, n, params, velocities, *, learning_rate, momentum, weight_decay,
              **gibbs):
    """One CD step: ``v <- m v + lr (grad - wd W)``, ``p <- p + v`` for each param.

    Weight decay (L2) applies to the weights only. ``grad`` is the estimate of
    :func:`cd_gradient`; the whole update of each parameter runs chunk by chunk
    (:mod:`sk_dbn._inplace`) so it reads and writes each array from memory once.
    Without momentum there is no velocity: ``p <- p + lr (grad - wd W)``.
    """
    gibbs_phases(ws, n, *params, **gibbs)
    grads = _statistics(ws, n, learning_rate / n)  # lr * grad
    f = params[0].dtype.type
    mom = f(momentum)
    decays = (f(learning_rate * weight_decay), f(0), f(0))
    for p, g, v, decay in zip(params, grads, velocities, decays):
        for pc, gc, vc in chunks(p, g, v):
            if decay:  # gc <- lr grad - lr wd W, weight decay
                s = ws.chunk[: pc.shape[0]]
                np.multiply(pc, decay, out=s)
                gc -= s
            if mom:
                vc *= mom
                vc += gc
                pc += vc
            else:
                pc += gc


def reconstruction_error(V, W, b_hidden, b_visible, visible_units, hidden_units):
    """Mean squared error of the mean-field reconstruction ``down(up(V))``."""
    R = down(up(V, W, b_hidden, hidden_units), W, b_visible, visible_units)
    R -= V
    return float(np.mean(np.square(R, out=R)))
