"""Tests of the RBM layer maths in sk_dbn._rbm.

The central checks use a tiny Bernoulli RBM (6 visible, 3 hidden units) whose
log-likelihood and its gradient are computed exactly by enumerating all 2**6 visible
vectors: contrastive divergence must raise the exact log-likelihood, and a CD-k
estimate with large k must agree with the exact gradient.
"""

import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, logsumexp
from sklearn.neural_network import BernoulliRBM

from sk_dbn import StackedRBMTransformer, _likelihood, _rbm, _standardize
from sk_dbn._base import copy_arrays
from sk_dbn._rng import device_draws

N_VISIBLE, N_HIDDEN = 6, 3
def _free_energy(V, W, b_h, b_v):
    """The free energy of each row of ``V`` (:func:`sk_dbn._likelihood.free_energy`)."""
    return _likelihood.free_energy(V @ b_v, V @ W + b_h)


ALL_V = np.array(list(itertools.product([0.0, 1.0], repeat=N_VISIBLE)))
ALL_H = np.array(list(itertools.product([0.0, 1.0], repeat=N_HIDDEN)))
PROTOTYPES = np.array(
    [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0]], dtype=float
)



def _noisy_prototypes(n, flip=0.05, seed=0):
    """Binary data from three prototypes, each bit flipped with probability flip."""
    rng = np.random.default_rng(seed)
    data = PROTOTYPES[rng.integers(0, len(PROTOTYPES), n)]
    return np.abs(data - (rng.random(data.shape) < flip))


def _log_z(W, b_h, b_v):
    return logsumexp(-_free_energy(ALL_V, W, b_h, b_v))


def _exact_log_likelihood(data, W, b_h, b_v):
    """Mean log p(v) over the rows of data, by enumerating all visible vectors."""
    return float(np.mean(-_free_energy(data, W, b_h, b_v)) - _log_z(W, b_h, b_v))


def _exact_gradient(data, W, b_h, b_v):
    """Exact gradient of the mean log-likelihood w.r.t. (W, b_h, b_v).

    dW = <v p(h|v)^T>_data - sum_v p(v) v p(h|v)^T, and likewise for the biases.
    """
    neg_f = -_free_energy(ALL_V, W, b_h, b_v)
    p_v = np.exp(neg_f - logsumexp(neg_f))
    h_data = expit(data @ W + b_h)
    h_model = expit(ALL_V @ W + b_h)
    g_W = data.T @ h_data / len(data) - (ALL_V * p_v[:, None]).T @ h_model
    g_bh = h_data.mean(axis=0) - p_v @ h_model
    g_bv = data.mean(axis=0) - p_v @ ALL_V
    return g_W, g_bh, g_bv


def _cosine(a, b):
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _relative_error(estimate, exact):
    return float(np.linalg.norm(np.asarray(estimate, dtype=np.float64) - exact)
                 / np.linalg.norm(exact))


def _cd(data, W, b_h, b_v, k, seed=0, chain=None, visible_units="bernoulli",
        hidden_units="bernoulli"):
    n = len(data)
    ws = _rbm.CDWorkspace(n, W.shape[0], W.shape[1], like=W)
    ws.V[:n] = data
    return _cd_gradient(ws, n, W, b_h, b_v, k=k, chain=chain,
                        draws=_draws(np.random.default_rng(seed)),
                        visible_units=visible_units, hidden_units=hidden_units)


def _draws(rng):
    """The numpy generator ``rng`` as the RBM code draws from it."""
    return device_draws(rng, np.empty(0))


def _cd_gradient(ws, n, W, b_h, b_v, **gibbs):
    """Copies of the CD-k estimate of the log-likelihood gradient for the batch
    in ``ws.V[:n]``: the Gibbs phases, then their statistics over ``n`` rows."""
    V, H = _rbm.gibbs_phases(ws, ws.V[:n], W, b_h, b_v, **gibbs)
    return [g.copy() for g in _rbm.cd_statistics(ws, V, H, 1.0 / n)]


# ------------------------------------------------------------------ exact formulas
def test_free_energy_matches_sum_over_hidden_states():
    rng = np.random.default_rng(0)
    W = rng.normal(0, 1, (N_VISIBLE, N_HIDDEN))
    b_h, b_v = rng.normal(0, 1, N_HIDDEN), rng.normal(0, 1, N_VISIBLE)
    # E(v, h) = -v.b_v - h.b_h - v W h;  F(v) = -log sum_h exp(-E(v, h))
    neg_energy = (ALL_V @ b_v)[:, None] + (ALL_H @ b_h)[None, :] + ALL_V @ W @ ALL_H.T
    expected = -logsumexp(neg_energy, axis=1)
    np.testing.assert_allclose(_free_energy(ALL_V, W, b_h, b_v), expected,
                               rtol=1e-12, atol=1e-12)
    # and the joint partition function agrees with the one from free energies
    assert _log_z(W, b_h, b_v) == pytest.approx(logsumexp(neg_energy), rel=1e-12)


def test_exact_gradient_helper_is_the_derivative():
    # the reference gradient used below is itself checked by finite differences
    rng = np.random.default_rng(1)
    data = _noisy_prototypes(20)
    params = [rng.normal(0, 1, (N_VISIBLE, N_HIDDEN)), rng.normal(0, 1, N_HIDDEN),
              rng.normal(0, 1, N_VISIBLE)]
    grads = _exact_gradient(data, *params)
    eps = 1e-6
    for p, g in zip(params, grads):
        for idx in [(0,), (-1,)] if p.ndim == 1 else [(0, 0), (5, 2), (3, 1)]:
            old = p[idx]
            p[idx] = old + eps
            up = _exact_log_likelihood(data, *params)
            p[idx] = old - eps
            down = _exact_log_likelihood(data, *params)
            p[idx] = old
            assert (up - down) / (2 * eps) == pytest.approx(g[idx], abs=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_up_and_down(dtype):
    rng = np.random.default_rng(2)
    V = rng.random((7, 5)).astype(dtype)
    H = rng.random((7, 4)).astype(dtype)
    W = rng.normal(0, 1, (5, 4)).astype(dtype)
    b_h, b_v = rng.normal(0, 1, 4).astype(dtype), rng.normal(0, 1, 5).astype(dtype)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    cases = [
        (_rbm.up(V, W, b_h, "bernoulli"), expit(V @ W + b_h)),
        (_rbm.up(V, W, b_h, "relu"), np.maximum(V @ W + b_h, 0)),
        (_rbm.down(H, W, b_v, "bernoulli"), expit(H @ W.T + b_v)),
        (_rbm.down(H, W, b_v, "gaussian"), H @ W.T + b_v),
    ]
    for got, expected in cases:
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


def test_visible_bias_from_data():
    p = np.array([0.5, 0.25, 0.9, 0.0, 1.0])
    for dtype in (np.float32, np.float64):
        b = _rbm.visible_bias_from_data(p, dtype)
        assert b.dtype == dtype
        assert np.isfinite(b).all()
        # log(p / (1 - p)): sigmoid of the bias gives back the mean activity
        np.testing.assert_allclose(expit(b[:3].astype(np.float64)), p[:3], rtol=1e-6)
        assert b[0] == 0
        # p = 0 and p = 1 are clipped to a finite, large-magnitude bias
        assert b[3] < -5
        assert b[4] > 5
        assert b[3] == pytest.approx(-b[4])


def test_reconstruction_error():
    rng = np.random.default_rng(3)
    V = rng.random((10, 6))
    W = rng.normal(0, 1, (6, 4))
    b_h, b_v = rng.normal(0, 1, 4), rng.normal(0, 1, 6)
    V0 = V.copy()
    for visible, down_act in (("bernoulli", expit), ("gaussian", lambda z: z)):
        for hidden, up_act in (("bernoulli", expit),
                               ("relu", lambda z: np.maximum(z, 0))):
            R = down_act(up_act(V @ W + b_h) @ W.T + b_v)
            expected = np.mean((R - V) ** 2)
            got = _rbm.reconstruction_error(V, W, b_h, b_v, visible, hidden)
            assert got == pytest.approx(expected, rel=1e-12)
    assert np.array_equal(V, V0)


# ------------------------------------------------------------- sampling helpers
def test_sample_hidden_bernoulli():
    rng = np.random.default_rng(4)
    n = 4000
    P = np.tile(np.array([0.0, 0.1, 0.5, 0.9, 1.0]), (n, 1))
    out = np.empty_like(P)
    noise = np.empty_like(P)
    _rbm.sample_hidden(P, None, "bernoulli", _draws(rng), noise, out=out)
    assert set(np.unique(out)) <= {0.0, 1.0}
    freq = out.mean(axis=0)
    sigma = np.sqrt(P[0] * (1 - P[0]) / n)
    assert np.all(np.abs(freq - P[0]) <= 4 * sigma)


def test_sample_hidden_nrelu():
    # NReLU: h = max(0, z + sqrt(sigmoid(z)) eps); its mean is
    # z Phi(z / s) + s phi(z / s) with s = sqrt(sigmoid(z))
    rng = np.random.default_rng(5)
    n = 20000
    z = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    Z = np.tile(z, (n, 1))
    out, noise = np.empty_like(Z), np.empty_like(Z)
    _rbm.sample_hidden(None, Z, "relu", _draws(rng), noise, out=out)
    assert np.all(out >= 0)
    s = np.sqrt(expit(z))
    mean = z * stats.norm.cdf(z / s) + s * stats.norm.pdf(z / s)
    second = (z**2 + s**2) * stats.norm.cdf(z / s) + z * s * stats.norm.pdf(z / s)
    sigma = np.sqrt((second - mean**2) / n)
    assert np.all(np.abs(out.mean(axis=0) - mean) <= 4 * sigma)
    # positive pre-activations are mostly kept, very negative ones mostly zeroed
    assert (out[:, 4] > 0).mean() > 0.99
    assert (out[:, 0] > 0).mean() < 0.05


def test_sample_visible():
    rng = np.random.default_rng(6)
    n = 4000
    P = np.tile(np.array([0.2, 0.7]), (n, 1))
    noise = np.empty_like(P)
    # Gaussian visibles keep their mean (noise-free reconstruction)
    M = P.copy()
    assert np.array_equal(_rbm.sample_visible(M, "gaussian", _draws(rng), noise), P)
    # Bernoulli visibles are sampled in place
    S = _rbm.sample_visible(P.copy(), "bernoulli", _draws(rng), noise)
    assert set(np.unique(S)) == {0.0, 1.0}
    assert np.all(np.abs(S.mean(axis=0) - [0.2, 0.7]) < 4 * np.sqrt(0.25 / n))


# ---------------------------------------------------------------- CD correctness
def test_cd_training_raises_exact_log_likelihood():
    data = _noisy_prototypes(60, seed=0)
    rng = np.random.default_rng(0)
    W = 0.01 * rng.standard_normal((N_VISIBLE, N_HIDDEN))
    b_h = np.zeros(N_HIDDEN)
    b_v = _rbm.visible_bias_from_data(data.mean(axis=0), np.float64)
    # with W ~ 0 this is the best independent-units model of the data
    ll_start = _exact_log_likelihood(data, W, b_h, b_v)

    layer = _rbm.new_layer(data, W, visible_units="bernoulli",
                           hidden_units="bernoulli")
    layer["b_visible"] = b_v
    ws = _rbm.CDWorkspace(len(data), N_VISIBLE, N_HIDDEN, like=W)
    history = []
    for step in range(500):  # full-batch epochs
        _rbm.train_epoch(layer, data, ws, rng=rng, draws=_draws(rng),
                         session=_NoSession(),
                         learning_rate=0.1, momentum=0.5, weight_decay=0.0, k=1,
                         persistent=False, probe=data)
        if step % 100 == 99:
            history.append(_exact_log_likelihood(data, layer["W"],
                                                 layer["b_hidden"],
                                                 layer["b_visible"]))

    # three hidden units capture the three prototypes: well over a nat better
    assert history[-1] > ll_start + 1.0
    assert max(history) == pytest.approx(history[-1], abs=0.1)


@pytest.mark.parametrize(
    "params",
    [{}, {"cd_k": 5}, {"persistent": True, "momentum": 0.5}],
    ids=["cd1", "cd5", "pcd"],
)

def test_stacked_transformer_raises_exact_log_likelihood(params):
    data = _noisy_prototypes(60, seed=1)
    independent = _exact_log_likelihood(
        data, np.zeros((N_VISIBLE, N_HIDDEN)), np.zeros(N_HIDDEN),
        _rbm.visible_bias_from_data(data.mean(axis=0), np.float64),
    )
    lls = []
    for n_iter in (1, 50):
        rbm = StackedRBMTransformer((N_HIDDEN,), visible_units="bernoulli",
                                    n_iter=n_iter, learning_rate=0.1, batch_size=10,
                                    random_state=0, **params).fit(data)
        lls.append(_exact_log_likelihood(data, rbm.coefs_[0], rbm.intercepts_[0],
                                         rbm.intercepts_visible_[0]))
    assert lls[1] > lls[0] + 0.5
    assert lls[1] > independent + 0.8


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("persistent", [False, True])
def test_cd_k_large_k_follows_exact_gradient(persistent, dtype):
    # Strong weights: a model far from the data, where CD-1 is visibly biased.
    rng = np.random.default_rng(0)
    W = rng.normal(0, 2.0, (N_VISIBLE, N_HIDDEN))
    b_h, b_v = rng.normal(0, 1, N_HIDDEN), rng.normal(0, 1, N_VISIBLE)
    data = PROTOTYPES[np.arange(12) % 3]
    exact = _exact_gradient(data, W, b_h, b_v)

    # many chains: the data repeated, so the data term is exact too
    big = np.tile(data, (400, 1)).astype(dtype)
    params = [p.astype(dtype) for p in (W, b_h, b_v)]
    chain = np.zeros((len(big), N_HIDDEN), dtype=dtype) if persistent else None
    estimate = _cd(big, *params, k=100, chain=chain)

    for name, g, e in zip(("W", "b_hidden", "b_visible"), estimate, exact):
        assert g.dtype == dtype
        assert g.shape == e.shape
        assert _cosine(g, e) > 0.99, name
        assert _relative_error(g, e) < 0.1, name
    if persistent:
        # the persistent chains were advanced in place
        assert chain.any()
        assert set(np.unique(chain)) <= {0, 1}

    if not persistent:
        # the comparison is not trivial: CD-1 is far off here
        cd1 = _cd(big, *params, k=1)
        assert _relative_error(cd1[0], exact[0]) > 0.3


def test_cd_gradient_data_term_is_exact():
    # With a model whose negative phase is trivial to predict (W = 0, b_v very
    # negative: reconstructions are all-zero), CD-1 is data term minus a known one.
    data = _noisy_prototypes(50, seed=2)
    W = np.zeros((N_VISIBLE, N_HIDDEN))
    b_h = np.array([-1.0, 0.0, 2.0])
    b_v = np.full(N_VISIBLE, -50.0)
    gW, gbh, gbv = _cd(data, W, b_h, b_v, k=1)
    # v_k = 0 exactly, so <v h>_model = 0 and <h>_model = sigmoid(b_h)
    np.testing.assert_allclose(gW, data.T @ expit(data @ W + b_h) / len(data))
    np.testing.assert_allclose(gbh, np.zeros(N_HIDDEN), atol=1e-12)
    np.testing.assert_allclose(gbv, data.mean(axis=0))


def test_cd_gradient_relu_and_gaussian_are_finite():
    rng = np.random.default_rng(7)
    V = rng.standard_normal((40, 5))
    W = 0.1 * rng.standard_normal((5, 4))
    b_h, b_v = np.zeros(4), np.zeros(5)
    for hidden in ("bernoulli", "relu"):
        for k, chain in ((1, None), (3, None), (2, np.zeros((40, 4)))):
            grads = _cd(V, W, b_h, b_v, k=k, chain=chain, visible_units="gaussian",
                        hidden_units=hidden)
            assert all(np.isfinite(g).all() for g in grads)
            assert all(np.abs(g).max() > 0 for g in grads)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("mom", [0.9, 0.0])
def test_train_epoch_is_momentum_step_on_cd_gradient(weight_decay, dtype, mom):
    rng = np.random.default_rng(8)
    data = _noisy_prototypes(30, seed=3).astype(dtype)
    params = [rng.normal(size=(N_VISIBLE, N_HIDDEN)), rng.normal(size=N_HIDDEN),
              rng.normal(size=N_VISIBLE)]
    params = [p.astype(dtype) for p in params]
    velocities = [rng.normal(size=p.shape).astype(dtype) for p in params]
    lr = 0.1
    gibbs = dict(k=2, chain=None, visible_units="bernoulli", hidden_units="bernoulli")

    # the epoch draws its row order first, then the Gibbs chain from the same rng
    chain_rng = np.random.default_rng(5)
    order = chain_rng.permutation(len(data))
    ws = _rbm.CDWorkspace(len(data), N_VISIBLE, N_HIDDEN, like=params[0])
    ws.V[: len(data)] = data[order]
    grads = _cd_gradient(ws, len(data), *params, draws=_draws(chain_rng), **gibbs)
    expected_v = [mom * v + lr * g for v, g in zip(velocities, grads)]
    # L2 weight decay on the weights only
    expected_v[0] -= lr * weight_decay * params[0]
    expected_p = [p + v for p, v in zip(params, expected_v)]

    layer = _rbm.new_layer(data, params[0].copy(), visible_units="bernoulli",
                           hidden_units="bernoulli")
    layer.update(b_hidden=params[1].copy(), b_visible=params[2].copy(),
                 velocity=copy_arrays(velocities))
    epoch_rng = np.random.default_rng(5)
    _rbm.train_epoch(layer, data, ws, rng=epoch_rng, draws=_draws(epoch_rng),
                     session=_NoSession(), learning_rate=lr, momentum=mom,
                     weight_decay=weight_decay, k=2, persistent=False, probe=data)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    new = [layer["W"], layer["b_hidden"], layer["b_visible"]]
    for p, v, ep, ev in zip(new, layer["velocity"], expected_p, expected_v):
        assert p.dtype == dtype
        assert v.dtype == dtype
        np.testing.assert_allclose(v, ev, rtol=tol, atol=tol)
        np.testing.assert_allclose(p, ep, rtol=tol, atol=tol)


class _NoSession:
    """Stands in for the estimators' TrainingSession: no Ctrl-C is pending."""

    def check(self):
        pass


# ---------------------------------------------------------- standardisation folding
def _random_layer(rng, n_visible=5, n_hidden=4, dtype=np.float64):
    W = rng.normal(0, 0.5, (n_visible, n_hidden)).astype(dtype)
    b_h = rng.normal(0, 1, n_hidden).astype(dtype)
    b_v = rng.normal(0, 1, n_visible).astype(dtype)
    mean = rng.normal(0, 100, n_visible).astype(dtype)
    scale = rng.uniform(0.5, 50, n_visible).astype(dtype)
    return W, b_h, b_v, mean, scale


def test_fold_unfold_are_inverse():
    rng = np.random.default_rng(9)
    W, b_h, b_v, mean, scale = _random_layer(rng)
    raw = _standardize.fold_standardization(W, b_h, b_v, mean, scale)
    back = _standardize.unfold_standardization(*raw, mean, scale)
    for a, b in zip(back, (W, b_h, b_v)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    again = _standardize.fold_standardization(*back, mean, scale)
    for a, b in zip(again, raw):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    # folding changes something (it is not the identity)
    assert not np.allclose(raw[0], W)


@pytest.mark.parametrize("hidden_units", ["bernoulli", "relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_folded_up_pass_on_raw_data(hidden_units, dtype):
    rng = np.random.default_rng(10)
    W, b_h, b_v, mean, scale = _random_layer(rng, dtype=dtype)
    X_raw = (mean + scale * rng.standard_normal((30, 5))).astype(dtype)
    W_raw, b_h_raw, b_v_raw = _standardize.fold_standardization(W, b_h, b_v, mean,
                                                                scale)
    for p in (W_raw, b_h_raw, b_v_raw):
        assert p.dtype == dtype
    standardized = _rbm.up((X_raw - mean) / scale, W, b_h, hidden_units)
    folded = _rbm.up(X_raw, W_raw, b_h_raw, hidden_units)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(folded, standardized, rtol=tol, atol=tol)
    # the raw visible bias is the raw-space mean of the reconstruction at h = 0
    np.testing.assert_allclose(b_v_raw, mean + scale * b_v, rtol=tol)
    h = rng.random((3, 4)).astype(dtype)
    recon_raw = mean + scale * _rbm.down(h, W, b_v, "gaussian")
    np.testing.assert_allclose(
        _rbm.down(h, W_raw * np.square(scale)[:, None], b_v_raw, "gaussian"),
        recon_raw, rtol=tol, atol=tol * 100,
    )


# ------------------------------------------------------------------- orientation
def test_coefs_orientation_is_bernoulli_rbm_components_transposed():
    rng = np.random.default_rng(11)
    X = (rng.random((50, 8)) < 0.3).astype(float)
    skl = BernoulliRBM(n_components=5, n_iter=3, random_state=0).fit(X)
    coefs = skl.components_.T
    assert coefs.shape == (8, 5)  # (n_visible, n_hidden) = (fan_in, fan_out)
    # the up-pass with converted weights is BernoulliRBM's transform
    np.testing.assert_allclose(_rbm.up(X, coefs, skl.intercept_hidden_, "bernoulli"),
                               skl.transform(X), rtol=1e-12)
    # and the down-pass its mean visible reconstruction
    H = skl.transform(X)
    expected = expit(H @ skl.components_ + skl.intercept_visible_)
    np.testing.assert_allclose(
        _rbm.down(H, coefs, skl.intercept_visible_, "bernoulli"), expected,
        rtol=1e-12,
    )
