"""The maths of one restricted Boltzmann machine layer.

Weights are in (n_visible, n_hidden) orientation (the ``coefs_`` orientation of the
network), so the up-pass is the network's forward layer. Visible units are
``"bernoulli"`` (data in [0, 1]) or ``"gaussian"`` (unit variance: the data is
standardised, see :mod:`sk_dbn._standardize`); hidden units are
``"bernoulli"`` or ``"relu"`` (noisy rectified linear units, Nair & Hinton 2010).

Contrastive divergence runs on preallocated buffers (:class:`CDWorkspace`) for
numpy data and on the data's device for any other array-API namespace (the
primitives of :mod:`sk_dbn._ops`): the positive and negative statistics of a
batch are one GEMM of stacked matrices, ``[V0; Vk].T @ [H0; -Hk]``, and the
sampling compares random numbers drawn in float64 (so that float32 and float64
fits with one seed make the same random decisions) with the working dtype's
probabilities. The updates are :class:`~sk_dbn._optimizers.SGD` with momentum,
the optimizer fine-tuning uses.

A layer's training state is a plain dict (see :func:`new_layer`): its parameters
in the training space (standardised for Gaussian visible units), the running
moments of its input, the momentum velocities and the persistent chains. The
layer trains itself (:func:`train_layer`, epoch by epoch); the estimator decides
what an epoch's error means (divergence, its verbose line) and folds the
standardisation into raw-space parameters when it commits them
(:func:`raw_params`).
"""

import copy

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_batches

from ._activations import make_activation
from ._base import all_finite
from ._network import affine, forward_layer
from ._ops import numpy_dtype, ops_of, to_device, to_host
from ._optimizers import SGD
from ._rng import device_draws
from ._standardize import (
    fold_standardization,
    load_rows,
    max_sq_norm,
    moments,
    standardization,
)

GAUSSIAN_LR_FACTOR = 0.1
"""Learning-rate factor of layers with Gaussian visible units (Hinton's guide: their
reconstruction is an unbounded sum over all hidden units, and full-size steps
make it oscillate and diverge)."""

PROBE_ROWS = 1000
"""Rows of the input on which each epoch's reconstruction error is measured."""

DIVERGED = 1e6
"""Reconstruction error of standardised data beyond which a layer has diverged
(reconstructing every row by the mean gives at most 1)."""


HIDDEN_ACTIVATION = {"bernoulli": make_activation("logistic"),
                     "relu": make_activation("relu")}
VISIBLE_ACTIVATION = {"bernoulli": make_activation("logistic"),
                      "gaussian": make_activation("identity")}


def up(V, W, b_hidden, hidden_units, out=None):
    """Mean-field hidden activations: ``sigmoid(V W + b)`` or ``max(0, V W + b)``."""
    return forward_layer(V, W, b_hidden, HIDDEN_ACTIVATION[hidden_units], out=out)


def down(H, W, b_visible, visible_units, out=None):
    """Mean-field visible reconstruction: ``sigmoid(H W.T + c)`` or ``H W.T + c``."""
    return forward_layer(H, W.T, b_visible, VISIBLE_ACTIVATION[visible_units], out=out)


def down_raw(layer, H, b_visible):
    """Mean visible states of ``layer`` in raw input space given hidden ``H``.

    With standardised (Gaussian) visibles ``x = m + s (h W_std.T + c_std)``, which
    is ``h (s W_std).T + c_raw`` for the raw-space visible bias ``b_visible``.
    """
    std = standardization(layer)
    W = layer["W"] if std is None else layer["W"] * std[1][:, None]
    return down(H, W, b_visible, layer["visible_units"])


def _value_range(X):
    """``(min, max)`` of the values of dense (any namespace) or sparse ``X``, as
    floats; None when it has none."""
    data = X.data if sp.issparse(X) else X
    if not data.shape[0] or not np.prod(data.shape):
        return None
    xp = ops_of(data).xp
    return float(xp.min(data)), float(xp.max(data))


def in_unit_interval(X):
    """Whether every value of dense or sparse ``X`` lies in [0, 1]: the states
    and probabilities of Bernoulli visible units."""
    bounds = _value_range(X)
    return bounds is None or (bounds[0] >= 0 and bounds[1] <= 1)


def check_unit_interval(X, what, advice):
    """A ``ValueError`` naming ``what`` and the range of ``X`` (then ``advice``)
    unless ``X`` lies in [0, 1]."""
    if not in_unit_interval(X):
        low, high = _value_range(X)
        raise ValueError(
            f"{what} needs X in [0, 1]; got values in [{low:.3g}, {high:.3g}]. "
            f"{advice}"
        )


def visible_bias_from_data(p, dtype):
    """Hinton's initial visible bias ``log(p / (1 - p))`` for mean activities ``p``."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-3, 1 - 1e-3)
    return np.log(p / (1 - p)).astype(dtype)


class CDWorkspace:
    """Buffers for CD-k on batches of at most ``batch_size`` rows, in the
    namespace and on the device of ``like`` (written into for numpy data only:
    other namespaces get new arrays from each operation).

    ``V[:n]`` holds the data batch ``V0`` and ``V[n:2n]`` the negative-phase
    visibles; ``H`` likewise holds hidden means. ``grads`` receive the CD estimate
    of the log-likelihood gradient for ``(W, b_hidden, b_visible)``.
    """

    def __init__(self, batch_size, n_visible, n_hidden, like):
        ops = self.ops = ops_of(like)
        dtype, device = like.dtype, getattr(like, "device", None)

        def empty(shape, dtype=dtype):
            return ops.empty(shape, dtype, device)

        self.V = empty((2 * batch_size, n_visible))
        self.H = empty((2 * batch_size, n_hidden))
        self.H_sample = empty((batch_size, n_hidden))
        # random draws are float64 whatever the dtype (see draw_random)
        wide = ops.float64(like)
        self.noise_h = empty((batch_size, n_hidden), wide)
        self.noise_v = empty((batch_size, n_visible), wide)
        self.grads = [empty((n_visible, n_hidden)), empty((n_hidden,)),
                      empty((n_visible,))]
        self.ones = ops.xp.ones(2 * batch_size, dtype=dtype, device=device)
        self.signs = empty((2 * batch_size,))

    def batch(self, n):
        """Buffers ``(V0, Vk, H0, Hk)`` for a batch of ``n`` rows."""
        V, H = self.V, self.H
        return V[:n, ...], V[n : 2 * n, ...], H[:n, ...], H[n : 2 * n, ...]


def draw_random(draws, out, normal=False):
    """Uniform [0, 1) (or standard normal) draws of the float64 buffer ``out``'s
    shape (into it, for numpy), from the device generator ``draws``
    (:func:`sk_dbn._rng.device_draws`).

    Drawn in float64 whatever the working dtype, and only then compared with
    or cast into it: numpy's float32 draws are other numbers from another
    stretch of the stream, so a float32 fit would make other random decisions
    than a float64 fit with the same seed. This way the two agree but for a
    draw that falls within rounding of its probability.
    """
    return draws.normal(out) if normal else draws.uniform(out)


def sample_hidden(H_mean, Z, hidden_units, draws, noise, out):
    """Sampled hidden states given their means ``H_mean`` (and pre-activations
    ``Z``), into ``out`` where the namespace allows.

    Bernoulli: ``h = [u < p]``. NReLU: ``h = max(0, z + sqrt(sigmoid(z)) * eps)``
    with ``z`` the pre-activation, which for ``z > 0`` equals ``H_mean`` and for
    ``z <= 0`` only matters through the noise; ``Z`` is the pre-activation buffer.
    ``noise`` is a float64 buffer for the draws (see :func:`draw_random`).
    """
    ops = ops_of(out)
    if hidden_units == "bernoulli":
        u = draw_random(draws, noise)
        return ops.less(u, H_mean, out=out)
    eps = draw_random(draws, noise, normal=True)
    out = ops.expit(Z, out=out)
    out = ops.sqrt(out, out=out)
    out = ops.multiply(out, eps, out=out)
    out += Z
    return ops.maximum(out, ops.scalar(0, out), out=out)


def sample_visible(V_mean, visible_units, draws, noise):
    """Sampled Bernoulli visibles (in place, where the namespace allows);
    Gaussian visibles keep their mean.

    Noise-free Gaussian reconstructions are what Hinton's practical guide recommends
    for unit-variance Gaussian visible units: the noise only slows learning.
    ``noise`` is a float64 buffer for the draws (see :func:`draw_random`).
    """
    if visible_units == "bernoulli":
        u = draw_random(draws, noise)
        return ops_of(V_mean).less(u, V_mean, out=V_mean)
    return V_mean


def gibbs_phases(ws, V0, W, b_hidden, b_visible, *, k, chain, draws,
                 visible_units, hidden_units):
    """Positive and negative phase of CD-k (or PCD-k with ``chain``).

    ``V0`` is the data batch (in ``ws.V[:n]`` for numpy). Gibbs chains start from
    hidden samples of the data (CD) or from the persistent hidden states
    ``chain[:n]`` (PCD, which are then advanced in place). Each step samples
    ``v ~ p(v | h)`` and takes ``p(h | v)``; the statistics use hidden means
    (Rao-Blackwellised), so with large ``k`` the estimate is unbiased for the
    exact gradient. Returns the stacks ``([V0; Vk], [H0; Hk])`` (``ws.V[:2n]`` and
    ``ws.H[:2n]`` for numpy).
    """
    ops = ws.ops
    n = V0.shape[0]
    _, Vk, H0, Hk = ws.batch(n)
    noise_h, noise_v = ws.noise_h[:n, ...], ws.noise_v[:n, ...]
    relu = hidden_units == "relu"
    persistent = chain is not None

    def up_rows(V, H, sample_into):
        # hidden means of the rows V (into H); with sample_into, also hidden
        # states for the last n rows (NReLU noise needs the pre-activation)
        sample = None
        if relu:
            H = affine(V, W, b_hidden, out=H)
            if sample_into is not None:
                sample = sample_hidden(None, H[-n:, ...], hidden_units, draws,
                                       noise_h, out=sample_into)
            H = ops.maximum(H, ops.scalar(0, H), out=H)
        else:
            H = up(V, W, b_hidden, hidden_units, out=H)
            if sample_into is not None:
                sample = sample_hidden(H[-n:, ...], None, hidden_units, draws,
                                       noise_h, out=sample_into)
        return H, sample

    if persistent:
        H_sample = chain[:n, ...]
    else:  # positive phase first: the chain starts from its sample
        H0, H_sample = up_rows(V0, H0, ws.H_sample[:n, ...])
    for step in range(k):
        Vk = down(H_sample, W, b_visible, visible_units, out=Vk)
        Vk = sample_visible(Vk, visible_units, draws, noise_v)
        if step == k - 1 and persistent:
            # PCD: the data's up-pass waited till now to share this product,
            # [V0; Vk] @ W in one GEMM (same random draws, in the same order)
            V = ops.stacked([V0, Vk], ws.V[: 2 * n, ...])
            H, H_sample = up_rows(V, ws.H[: 2 * n, ...], H_sample)
            chain[:n, ...] = H_sample
            return V, H
        Hk, new_sample = up_rows(Vk, Hk, H_sample if step < k - 1 else None)
        H_sample = H_sample if new_sample is None else new_sample
    return (ops.stacked([V0, Vk], ws.V[: 2 * n, ...]),
            ops.stacked([H0, Hk], ws.H[: 2 * n, ...]))


def cd_statistics(ws, V, H, scale, negative=None):
    """CD statistics of the batch, times ``scale``, in ``ws.grads`` (the list's
    entries are set).

    ``V`` and ``H`` are the stacks of :func:`gibbs_phases`. The weight term is
    one GEMM, ``[V0; Vk].T @ [scale H0; -negative Hk]`` (positive and negative
    phase in a single product); scaling the (2n, n_hidden) hidden block before
    the product is cheaper than scaling the (n_visible, n_hidden) result. The
    bias terms are GEMVs with the vector of these row scales. ``scale`` (and
    ``negative``, ``scale`` by default) is a number or one per row: sample
    weights. Overwrites ``H`` (for numpy).
    """
    ops = ws.ops
    n = V.shape[0] // 2
    signs = ops.filled([(scale, n), (scale if negative is None else negative, n)],
                       ws.signs)
    signs[n:, ...] *= -1
    H *= signs[:, None]
    gW, gbh, gbv = ws.grads
    ws.grads[0] = ops.matmul(V.T, H, out=gW)
    ws.grads[1] = ops.matmul(ws.ones[: 2 * n, ...], H, out=gbh)
    ws.grads[2] = ops.matmul(signs, V, out=gbv)
    return ws.grads


def rbm_to_network(coefs, intercepts, activation):
    """Map the weights of stacked RBMs to a network with ``activation`` (copies).

    For ``"tanh"`` the exact identity ``tanh(x / 2) = 2 sigmoid(x) - 1`` is used, so
    that every tanh layer outputs ``2 h - 1`` where ``h`` is the RBM's hidden
    probability: the first layer takes ``(W / 2, b / 2)``; a higher layer, whose
    input is ``2 h - 1`` instead of ``h``, takes ``(W / 4, b / 2 + W.sum(0) / 4)``.
    Every other activation takes copies of the weights as they are (ReLU networks
    get them from NReLU RBMs). ``activation`` is an activation object of
    :mod:`sk_dbn._activations`.
    """
    if activation.name != "tanh":
        xp = ops_of(coefs[0]).xp
        return ([xp.asarray(W, copy=True) for W in coefs],
                [xp.asarray(b, copy=True) for b in intercepts])
    new_coefs, new_intercepts = [], []
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        if i == 0:
            new_coefs.append(W / 2)
            new_intercepts.append(b / 2)
        else:
            new_coefs.append(W / 4)
            new_intercepts.append(b / 2 + ops_of(W).xp.sum(W, axis=0) / 4)
    return new_coefs, new_intercepts


def reconstruction_error(V, W, b_hidden, b_visible, visible_units, hidden_units,
                         sample_weight=None):
    """Mean squared error of the mean-field reconstruction ``down(up(V))`` (the
    rows weighted by ``sample_weight``)."""
    R = down(up(V, W, b_hidden, hidden_units), W, b_visible, visible_units)
    R -= V
    ops = ops_of(R)
    per_row = ops.xp.mean(ops.multiply(R, R, out=R), axis=1)
    return float(ops.mean_loss(per_row, sample_weight))


# ---------------------------------------------------------------- the layer
def new_layer(A, W, *, visible_units, hidden_units, shared_scale=False,
              sample_weight=None):
    """Training state of an RBM over input ``A`` with initial weights ``W``.

    Hidden biases start at 0; Bernoulli visible biases at ``log(p / (1 - p))``
    (Hinton's guide), Gaussian ones at 0 in the standardised space. Means and
    moments of ``A`` are weighted by ``sample_weight``.
    """
    ops = ops_of(W)
    dtype, device = W.dtype, getattr(W, "device", None)
    n_visible, n_hidden = W.shape
    gaussian = visible_units == "gaussian"
    layer = {
        "visible_units": visible_units,
        "hidden_units": hidden_units,
        "shared_scale": shared_scale,
        "moments": moments(A, sample_weight) if gaussian else None,
        "W": W,
        "b_hidden": ops.zeros((n_hidden,), dtype, device),
        "b_visible": ops.zeros((n_visible,), dtype, device),
        "velocity": None,
        "chain": None,
        "errors": [],
        "max_sq_norm": 0.0,
    }
    if gaussian:
        layer["max_sq_norm"] = max_sq_norm(A, standardization(layer))
        if hidden_units == "relu":
            # > 1: the Gibbs chain v -> max(0, v W) W.T amplifies (see
            # train_layer)
            layer["initial_gain"] = float(np.linalg.norm(
                to_host(W).astype(np.float64), 2))
    else:
        mean = moments(A, sample_weight)["mean"]
        layer["b_visible"] = to_device(
            visible_bias_from_data(mean, numpy_dtype(W.dtype)), W)
    return layer


def copy_layer(layer):
    """A deep copy of a layer's training state (training never shares arrays)."""
    return copy.deepcopy(layer)


def raw_params(layer):
    """``(W, b_hidden, b_visible)`` acting on the raw (unstandardised) input."""
    params = layer["W"], layer["b_hidden"], layer["b_visible"]
    std = standardization(layer)
    return tuple(params) if std is None else fold_standardization(*params, *std)


def probe_rows(layer, A):
    """The first :data:`PROBE_ROWS` rows of ``A``, standardised like training
    data: each epoch's reconstruction error is measured on them."""
    n_probe = min(A.shape[0], PROBE_ROWS)
    W = layer["W"]
    out = ops_of(W).empty((n_probe, A.shape[1]), W.dtype, getattr(W, "device", None))
    return load_rows(A, to_device(np.arange(n_probe), W), out,
                     standardization(layer))


def train_epoch(layer, A, ws, *, rng, draws, session, learning_rate, momentum,
                weight_decay, k, persistent, probe, sample_weight=None,
                probe_weight=None):
    """One epoch of CD-k (or PCD-k) over ``A``, in place; returns the error.

    ``ws`` is a :class:`CDWorkspace` for this layer; the row order comes from
    ``rng`` (the host's generator), the Gibbs samples from ``draws`` (the
    generator on the data's device, :func:`sk_dbn._rng.device_draws`);
    ``session.check()`` runs after every mini-batch. The step is SGD with
    ``momentum`` on the negative CD gradient plus ``weight_decay * W``. With
    ``sample_weight``, a batch's data statistics are its rows' weighted mean, and
    so are the negative ones of CD (each row's chain stands for that row); PCD's
    chains, which belong to no row, count equally. Returns the reconstruction
    error of ``probe`` (see :func:`probe_rows`), weighted by ``probe_weight``.
    """
    n_samples = A.shape[0]
    std = standardization(layer)
    params = [layer["W"], layer["b_hidden"], layer["b_visible"]]
    ops = ws.ops
    # the step size is folded into the statistics (one GEMM scale) and the
    # decay, so the momentum step skips a pass over the weights
    optimizer = SGD(params, None if layer["velocity"] is None
                    else {"velocity": layer["velocity"]},
                    1.0, momentum, nesterov=False)
    layer["velocity"] = optimizer.state["velocity"]
    batch_size = ws.H_sample.shape[0]
    chain = None
    if persistent:
        chain = layer["chain"]
        if chain is None or chain.shape[0] < batch_size:
            chain = layer["chain"] = ops.zeros((batch_size, params[0].shape[1]),
                                               params[0].dtype,
                                               getattr(params[0], "device", None))
    decay = learning_rate * weight_decay  # L2 on the weights only
    order = to_device(rng.permutation(n_samples), params[0])
    for batch in gen_batches(n_samples, batch_size):
        idx = order[batch]
        n = idx.shape[0]
        V0 = load_rows(A, idx, ws.V[:n, ...], std)
        V, H = gibbs_phases(ws, V0, *params, k=k, chain=chain, draws=draws,
                            visible_units=layer["visible_units"],
                            hidden_units=layer["hidden_units"])
        if sample_weight is None:  # lr times the descent direction
            grads = cd_statistics(ws, V, H, -learning_rate / n)
        else:
            w = ops.take(sample_weight, idx)
            grads = cd_statistics(ws, V, H, w * (-learning_rate / ops.xp.sum(w)),
                                  -learning_rate / n if persistent else None)
        optimizer.update(params, grads, [decay, None, None] if decay else None)
        session.check()
    return reconstruction_error(probe, *params, layer["visible_units"],
                                layer["hidden_units"], probe_weight)


def learning_rate_factor(layer, batch_size):
    """The factor of ``learning_rate`` used for a layer, by its units.

    Bernoulli visible units: 1. Gaussian visible units:
    :data:`GAUSSIAN_LR_FACTOR` (Hinton's guide), and with NReLU hidden units at
    most ``1 / n_visible``: the hidden units are unbounded, so a step's effect on
    them grows with ``||v||^2``, which is ``n_visible`` on average for
    standardised data and far more for the heavy-tailed rows of unscaled data
    (raw pixels, or the NReLU outputs of the layer below); full-size steps then
    feed back through ever larger hidden activities and diverge. So the factor
    is ``1 / max(n_visible, max_row ||v||^2 / batch_size)``: a mini-batch's mean
    ``||v||^2`` is about ``n_visible``, and at most the largest row's over the
    batch size when one outlier dominates it.
    """
    if layer["visible_units"] != "gaussian":
        return 1.0
    if layer["hidden_units"] == "relu":
        load = max(layer["W"].shape[0], layer["max_sq_norm"] / batch_size)
        return min(GAUSSIAN_LR_FACTOR, 1.0 / load)
    return GAUSSIAN_LR_FACTOR


def train_layer(layer, A, n_epochs, *, rng, session, learning_rate, momentum,
                weight_decay, batch_size, cd_k, persistent, sample_weight=None):
    """Train ``layer`` on the rows of ``A`` (weighted by ``sample_weight``) for
    ``n_epochs`` epochs of CD-``cd_k`` (PCD with ``persistent``), yielding each
    epoch's reconstruction error once it is recorded in ``layer["errors"]``.

    Hinton's schedules: momentum ``min(0.5, momentum)`` for the first 5 epochs
    of the layer, and :func:`learning_rate_factor` times ``learning_rate``.
    The caller decides what an error means (see :func:`diverged`); a generator,
    so it can stop the training between epochs.
    """
    W = layer["W"]
    ws = CDWorkspace(min(int(batch_size), A.shape[0]), *W.shape, like=W)
    draws = device_draws(rng, W)
    rate = learning_rate * learning_rate_factor(layer, ws.H_sample.shape[0])
    probe = probe_rows(layer, A)
    probe_weight = (None if sample_weight is None
                    else sample_weight[: probe.shape[0]])
    for _ in range(n_epochs):
        epoch = len(layer["errors"])
        error = train_epoch(
            layer, A, ws, rng=rng, draws=draws, session=session, learning_rate=rate,
            momentum=min(0.5, momentum) if epoch < 5 else momentum,
            weight_decay=weight_decay, k=cd_k, persistent=persistent, probe=probe,
            sample_weight=sample_weight, probe_weight=probe_weight,
        )
        layer["errors"].append(error)
        yield error


def diverged(layer, error):
    """Whether a layer whose last epoch ended with reconstruction ``error`` has
    diverged: an error beyond :data:`DIVERGED`, or parameters that are not
    finite."""
    return not (error < DIVERGED and all_finite(
        [layer["W"], layer["b_hidden"], layer["b_visible"]]))
