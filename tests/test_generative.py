"""The stack as a generative model: score_samples, gibbs, sample, log_likelihood.

The likelihoods are checked on a tiny Bernoulli RBM (8 visible, 4 hidden units)
whose distribution is enumerated exactly over all 2**8 visible vectors.
"""

import itertools
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import BernoulliRBM

from sk_dbn import StackedRBMTransformer, _likelihood, _rbm
from sk_dbn.diagnostics import rbm_log_likelihood

N_VISIBLE, N_HIDDEN = 8, 4
def _free_energy(V, W, b_h, b_v):
    """The free energy of each row of ``V`` (:func:`sk_dbn._likelihood.free_energy`)."""
    return _likelihood.free_energy(V @ b_v, V @ W + b_h)


ALL_V = np.array(list(itertools.product([0.0, 1.0], repeat=N_VISIBLE)))


def _binary_data(n=300, seed=0):
    """Noisy copies of three prototypes (each bit flipped with probability 0.1)."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((3, N_VISIBLE)) < 0.5
    data = prototypes[rng.integers(0, 3, n)]
    return (data ^ (rng.random(data.shape) < 0.1)).astype(np.float64)


@pytest.fixture(scope="module")
def fitted():
    X = _binary_data()
    est = StackedRBMTransformer((N_HIDDEN,), n_iter=30, learning_rate=0.1,
                                random_state=0).fit(X)
    return est, X


def _params(est):
    return est.coefs_[0], est.intercepts_[0], est.intercepts_visible_[0]


def _exact_log_z(W, b_h, b_v):
    return float(logsumexp(-_free_energy(ALL_V, W, b_h, b_v)))


def _random_rbm(seed=1, scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, scale, (N_VISIBLE, N_HIDDEN)), rng.normal(0, 1, N_HIDDEN),
            rng.normal(0, 1, N_VISIBLE))


# ------------------------------------------------------------------------- AIS
def _assert_ais_agrees(log_partition, W, b_h, b_v, base):
    """The AIS estimate lies within 3 standard errors of the exact log Z, and that
    error bar is tight (< 0.05 nats), so a bias of 0.1 nats cannot pass."""
    log_z, err = log_partition(W, b_h, b_v, base_bias=base, n_chains=400,
                               n_betas=1000, rng=np.random.default_rng(0))
    exact = _exact_log_z(W, b_h, b_v)
    assert 3 * err < 0.05
    assert abs(log_z - exact) < 3 * err + 1e-3, (log_z, exact, err)


@pytest.mark.parametrize("base", ["zeros", "data"])
@pytest.mark.parametrize("scale", [0.5, 1.5])
def test_ais_log_partition_matches_enumeration(base, scale):
    W, b_h, b_v = _random_rbm(scale=scale)
    base_bias = (np.zeros(N_VISIBLE) if base == "zeros" else
                 _rbm.visible_bias_from_data(_binary_data().mean(axis=0), np.float64))
    _assert_ais_agrees(_likelihood.ais_log_partition, W, b_h, b_v, base_bias)


def test_ais_check_catches_a_biased_estimator():
    # the check above fails for an estimator off by 0.1 nats (for example one
    # whose base model's partition function does not match its base rate)
    W, b_h, b_v = _random_rbm()

    def biased(*args, **kwargs):
        log_z, err = _likelihood.ais_log_partition(*args, **kwargs)
        return log_z + 0.1, err

    with pytest.raises(AssertionError):
        _assert_ais_agrees(biased, W, b_h, b_v, np.zeros(N_VISIBLE))


def _assert_log_likelihood_agrees(log_likelihood, X, W, b_h, b_v):
    """``log_likelihood(X, n_chains=400, random_state=0)`` lies within 3 (tight)
    standard errors of the exact mean log-likelihood of ``X`` under the RBM."""
    exact = float(np.mean(-_free_energy(X, W, b_h, b_v))) - _exact_log_z(W, b_h,
                                                                             b_v)
    ll, err = log_likelihood(X, n_chains=400, random_state=0)
    assert 3 * err < 0.05
    assert abs(ll - exact) < 3 * err + 1e-3


def test_log_likelihood_method_matches_enumeration(fitted):
    est, X = fitted
    _assert_log_likelihood_agrees(est.log_likelihood, X, *_params(est))
    # reproducible for an int random_state
    assert est.log_likelihood(X, n_chains=50, random_state=3) == \
        est.log_likelihood(X, n_chains=50, random_state=3)


def test_rbm_log_likelihood_of_a_bernoulli_rbm_matches_enumeration():
    # scikit-learn's BernoulliRBM scored by the public function: its own
    # components_ and intercepts, the stack's AIS
    X = _binary_data()
    rbm = BernoulliRBM(N_HIDDEN, learning_rate=0.1, n_iter=20,
                       random_state=0).fit(X)
    W, b_h, b_v = rbm.components_.T, rbm.intercept_hidden_, rbm.intercept_visible_
    _assert_log_likelihood_agrees(partial(rbm_log_likelihood, rbm), X, W, b_h, b_v)
    # float32 data (and weights) are scored in float64 all the same
    ll64 = rbm_log_likelihood(rbm, X, n_chains=10, n_betas=20, random_state=0)
    ll32 = rbm_log_likelihood(rbm, X.astype(np.float32), n_chains=10, n_betas=20,
                              random_state=0)
    assert ll32 == pytest.approx(ll64, rel=1e-6)


def test_rbm_log_likelihood_of_a_stack_is_its_method(fitted):
    est, X = fitted
    kwargs = dict(n_chains=20, n_betas=50, random_state=3)
    assert rbm_log_likelihood(est, X, **kwargs) == est.log_likelihood(X, **kwargs)


def test_rbm_log_likelihood_checks_its_input():
    X = _binary_data()
    rbm = BernoulliRBM(N_HIDDEN, n_iter=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"rbm_log_likelihood .*\[0, 1\]"):
        rbm_log_likelihood(rbm, X * 16)
    for bad in (2.5, "3", 1):
        with pytest.raises(ValueError, match="'n_chains' parameter of "
                           "rbm_log_likelihood must be an int"):
            rbm_log_likelihood(rbm, X, n_chains=bad)
    with pytest.raises(ValueError, match="features"):
        rbm_log_likelihood(rbm, X[:, :3])
    with pytest.raises(NotFittedError):
        rbm_log_likelihood(BernoulliRBM(), X)
    with pytest.raises(TypeError, match="BernoulliRBM"):
        rbm_log_likelihood(LogisticRegression(), X)


@pytest.mark.parametrize("n_betas", [2, 3, 4, 35, 100, 999, 1000, 5000])
def test_ais_betas_schedule(n_betas):
    betas = _likelihood.ais_betas(n_betas)
    assert betas[0] == 0 and betas[-1] == 1 and np.all(np.diff(betas) > 0)
    assert betas.size == n_betas  # as many as log_likelihood's n_betas says
    if n_betas >= 100:  # denser near 1, as Salakhutdinov & Murray's
        assert np.diff(betas)[-1] < np.diff(betas)[0]


# ----------------------------------------------------------- pseudo-likelihood
def test_score_samples_matches_brute_force(fitted):
    est, X = fitted
    W, b_h, b_v = _params(est)
    log_p = -_free_energy(ALL_V, W, b_h, b_v)
    index = {tuple(v): k for k, v in enumerate(ALL_V)}
    expected = np.zeros(ALL_V.shape[0])
    for k, v in enumerate(ALL_V):
        for i in range(N_VISIBLE):
            flipped = v.copy()
            flipped[i] = 1 - v[i]
            other = log_p[index[tuple(flipped)]]
            expected[k] += log_p[k] - np.logaddexp(log_p[k], other)
    np.testing.assert_allclose(est.score_samples(ALL_V), expected, rtol=1e-10,
                               atol=1e-10)


def test_score_samples_is_bernoulli_rbms_expected_value(fitted):
    # BernoulliRBM scores n_features * log p(x_i | x_-i) for one random unit i; the
    # mean of its score over all units is our exact sum
    est, X = fitted
    rbm = BernoulliRBM(N_HIDDEN, random_state=0).fit(X)
    W, b_h, b_v = _params(est)
    rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_ = W.T, b_h, b_v
    rbm.random_state = np.random.RandomState(0)  # a new unit at every call
    draws = np.mean([rbm.score_samples(X[:20]) for _ in range(3000)], axis=0)
    np.testing.assert_allclose(draws, est.score_samples(X[:20]), rtol=0.05)


def test_score_samples_needs_bernoulli_units():
    X = _binary_data()
    for params in (dict(visible_units="gaussian"), dict(hidden_units="relu")):
        est = StackedRBMTransformer((3,), n_iter=1, random_state=0, **params).fit(X)
        assert not hasattr(est, "score_samples")
        with pytest.raises(AttributeError):
            est.score_samples(X)
        with pytest.raises(ValueError, match="Bernoulli-Bernoulli"):
            est.log_likelihood(X)
        assert np.isfinite(est.gibbs(X)).all()
        assert np.isfinite(est.sample(2, n_steps=3, random_state=0)).all()


# ------------------------------------------------------------- gibbs and sample
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gibbs_shapes_dtypes_values_and_reproducibility(dtype):
    X = _binary_data().astype(dtype)
    a = StackedRBMTransformer((N_HIDDEN, 3), n_iter=2, random_state=0).fit(X)
    b = StackedRBMTransformer((N_HIDDEN, 3), n_iter=2, random_state=0).fit(X)
    first = a.gibbs(X)
    assert first.shape == X.shape and first.dtype == dtype
    assert set(np.unique(first)) <= {0.0, 1.0}
    second = a.gibbs(X)
    assert not np.array_equal(first, second)  # fresh numbers every call
    np.testing.assert_array_equal(b.gibbs(X), first)  # and the same sequence
    np.testing.assert_array_equal(b.gibbs(X), second)
    # a refit starts the sequence again, whatever was called before it
    np.testing.assert_array_equal(a.fit(X).gibbs(X), first)


def test_gibbs_moves_towards_the_model():
    # from the data the chain stays close to the data: most bits survive a step
    X = _binary_data()
    est = StackedRBMTransformer((N_HIDDEN,), n_iter=30, learning_rate=0.1,
                                random_state=0).fit(X)
    assert np.mean(est.gibbs(X) == X) > 0.75


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_shapes_dtypes_values_and_reproducibility(dtype):
    X = _binary_data().astype(dtype)
    est = StackedRBMTransformer((N_HIDDEN, 3), n_iter=2, random_state=0).fit(X)
    S = est.sample(5, n_steps=20, random_state=1)
    assert S.shape == (5, N_VISIBLE) and S.dtype == dtype
    assert np.all((S >= 0) & (S <= 1))
    np.testing.assert_array_equal(est.sample(5, n_steps=20, random_state=1), S)
    assert not np.array_equal(est.sample(5, n_steps=20, random_state=2), S)
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)


def test_samples_of_a_one_layer_stack_follow_the_model(fitted):
    # long chains from a one-layer RBM: the sampled visible probabilities average
    # to the model's marginals, computed by enumeration
    est, _ = fitted
    W, b_h, b_v = _params(est)
    log_p = -_free_energy(ALL_V, W, b_h, b_v)
    marginals = np.exp(log_p - logsumexp(log_p)) @ ALL_V
    S = est.sample(4000, n_steps=50, random_state=0)
    np.testing.assert_allclose(S.mean(axis=0), marginals, atol=0.03)


def _uses_an_rbm(rbm, X):
    """Code written for BernoulliRBM: features, pseudo-likelihood, a Gibbs step."""
    H = rbm.fit(X).transform(X)
    scores = rbm.score_samples(X)
    V = rbm.gibbs(X)
    return H.shape, scores.shape, V.shape, bool(np.all((V == 0) | (V == 1)))


def test_drop_in_replacement_for_bernoulli_rbm():
    X = _binary_data()
    theirs = _uses_an_rbm(BernoulliRBM(5, n_iter=3, random_state=0), X)
    ours = _uses_an_rbm(StackedRBMTransformer((5,), n_iter=3, random_state=0), X)
    assert ours == theirs == ((X.shape[0], 5), (X.shape[0],), X.shape, True)


# ------------------------------------------------------------- input checks
def _refit(X, **params):
    return StackedRBMTransformer((N_HIDDEN,), n_iter=2, random_state=0,
                                 **params).fit(X)


@pytest.mark.parametrize("method", ["score_samples", "log_likelihood", "gibbs"])
def test_bernoulli_visible_states_must_lie_in_unit_interval(method):
    # pixels 0..16 scored by a model fitted on pixels / 16 gave about +90 nats of
    # log-likelihood; now any value out of [0, 1] is refused, as fit refuses it
    X = _binary_data()
    est, twin = _refit(X), _refit(X)
    call = getattr(est, method)
    for bad in (X * 16, X - 0.5, sp.csr_matrix(X * 16)):
        with pytest.raises(ValueError, match=r"needs X in \[0, 1\]") as exc:
            call(bad)
        assert method in str(exc.value)
    # a refused call changes nothing: gibbs's sequence of draws goes on as if it
    # had not happened
    np.testing.assert_array_equal(est.gibbs(X), twin.gibbs(X))
    # values in [0, 1] (probabilities, not only states) are accepted
    assert np.all(np.isfinite(call(np.full_like(X[:5], 0.3))))


def test_gaussian_visible_states_may_be_any_real():
    X = _binary_data()
    est = _refit(X, visible_units="gaussian")
    assert np.isfinite(est.gibbs(X * 16 - 3)).all()


@pytest.mark.parametrize("method, name, low", [
    ("sample", "n_samples", 1), ("sample", "n_steps", 0),
    ("log_likelihood", "n_chains", 2), ("log_likelihood", "n_betas", 2),
])
def test_counts_are_integers_as_scikit_learn_checks_them(fitted, method, name, low):
    # sample(2.5) gave 2 rows, sample("3") 3, n_steps=1.9 one step: int()
    # truncated whatever it was given
    est, X = fitted
    calls = {"sample": lambda **kw: est.sample(**{"n_samples": 2, "n_steps": 1,
                                                  **kw}),
             "log_likelihood": lambda **kw: est.log_likelihood(
                 X, **{"n_chains": 2, "n_betas": 2, "random_state": 0, **kw})}
    call = calls[method]
    for bad in (2.5, 1.9, 3.0, np.float64(3), "3", None, low - 1):
        with pytest.raises(ValueError, match=f"'{name}' parameter of "
                           f"StackedRBMTransformer.{method} must be an int"):
            call(**{name: bad})
    call(**{name: np.int64(low + 1)})  # numpy integers are integers
    if method == "sample":
        assert est.sample(np.int32(3), n_steps=0).shape == (3, N_VISIBLE)
