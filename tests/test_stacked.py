"""Tests of StackedRBMTransformer (the sklearn estimator checks are in test_common)."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline

from sk_dbn import StackedRBMTransformer, _rbm, _standardize
from sk_dbn.initializers import normal

# Settings that learn visibly within a few epochs on 500 digits (batch 10, lr 0.1).
FAST = dict(n_iter=5, learning_rate=0.1, batch_size=10, random_state=0)



@pytest.fixture(scope="module")
def digits():
    """First 500 digits scaled to [0, 1] (float64, read-only)."""
    X = load_digits().data[:500] / 16.0
    X.flags.writeable = False
    return X


def _fitted_arrays(est):
    return [*est.coefs_, *est.intercepts_, *est.intercepts_visible_]


def _mse(A, B):
    return float(np.mean((np.asarray(A, dtype=np.float64) - B) ** 2))


def _up_chain(X, est, act):
    A = np.asarray(X, dtype=np.float64)
    for W, b in zip(est.coefs_, est.intercepts_):
        A = act(A @ W.astype(np.float64) + b)
    return A


# ------------------------------------------------------------------- fitted state
def test_fitted_attributes(digits):
    est = StackedRBMTransformer((32, 16), **FAST).fit(digits)
    assert est.n_features_in_ == 64
    assert not hasattr(est, "feature_names_in_")  # no names given
    assert [W.shape for W in est.coefs_] == [(64, 32), (32, 16)]
    assert [b.shape for b in est.intercepts_] == [(32,), (16,)]
    assert [b.shape for b in est.intercepts_visible_] == [(64,), (32,)]
    assert est.visible_units_ == "bernoulli"
    assert est.n_iter_ == 5
    assert len(est.reconstruction_error_) == 2
    assert all(len(errors) == 5 for errors in est.reconstruction_error_)
    assert all(isinstance(e, float) for errors in est.reconstruction_error_
               for e in errors)
    assert all(isinstance(a, np.ndarray) for a in _fitted_arrays(est))
    assert all(np.isfinite(a).all() for a in _fitted_arrays(est))


def test_int_hidden_layer_sizes(digits):
    est = StackedRBMTransformer(8, n_iter=1, random_state=0).fit(digits)
    assert [W.shape for W in est.coefs_] == [(64, 8)]
    assert est.transform(digits).shape == (500, 8)


def test_init_names_and_callables(digits):
    calls = []

    def recording_init(fan_in, fan_out, *, random_state=None, dtype=np.float64):
        calls.append((fan_in, fan_out, np.dtype(dtype)))
        return normal(fan_in, fan_out, random_state=random_state, dtype=dtype)

    X32 = digits.astype(np.float32)
    StackedRBMTransformer((16, 8), init=recording_init, n_iter=1,
                          random_state=0).fit(X32)
    # called once per layer, in (fan_in, fan_out) orientation, in the data dtype
    assert calls == [(64, 16, np.dtype(np.float32)), (16, 8, np.dtype(np.float32))]

    for init in ("xavier_uniform", "orthogonal", "he_normal"):
        est = StackedRBMTransformer((16,), init=init, n_iter=1, random_state=0)
        assert np.isfinite(est.fit_transform(digits)).all()
    # the initial scale matters: a 'constant' init never breaks symmetry, so every
    # hidden unit learns the same weights
    est = StackedRBMTransformer((4,), init="constant", n_iter=2,
                                random_state=0).fit(digits)
    W = est.coefs_[0]
    assert np.allclose(W, W[:, :1])

    def wrong_shape(fan_in, fan_out, *, random_state=None, dtype=np.float64):
        return np.zeros((fan_out, fan_in), dtype=dtype)

    with pytest.raises(ValueError, match="shape"):
        StackedRBMTransformer((16,), init=wrong_shape, n_iter=1).fit(digits)


# ------------------------------------------------------------ BernoulliRBM's names
@pytest.mark.parametrize("hidden_layer_sizes", [16, (16,)])
def test_one_layer_stack_has_bernoulli_rbm_attributes(digits, hidden_layer_sizes):
    # BernoulliRBM(n_components=16) and StackedRBMTransformer(16): the same
    # names, shapes, orientation and meaning
    skl = BernoulliRBM(n_components=16, n_iter=2, random_state=0).fit(digits)
    est = StackedRBMTransformer(hidden_layer_sizes, **FAST).fit(digits)
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        assert getattr(est, name).shape == getattr(skl, name).shape
        assert getattr(est, name).dtype == getattr(skl, name).dtype
    np.testing.assert_array_equal(est.components_, est.coefs_[0].T)
    np.testing.assert_array_equal(est.intercept_hidden_, est.intercepts_[0])
    np.testing.assert_array_equal(est.intercept_visible_, est.intercepts_visible_[0])
    for rbm in (skl, est):  # BernoulliRBM's up-pass, for both
        np.testing.assert_allclose(
            rbm.transform(digits),
            expit(digits @ rbm.components_.T + rbm.intercept_hidden_), rtol=1e-10)
    # and its mean visible reconstruction, expit(h @ components_ + intercept_visible_)
    H = est.transform(digits)
    np.testing.assert_allclose(est.inverse_transform(H),
                               expit(H @ est.components_ + est.intercept_visible_),
                               rtol=1e-10)
    # a BernoulliRBM given these parameters computes the stack's features
    skl.components_ = est.components_.copy()
    skl.intercept_hidden_ = est.intercept_hidden_.copy()
    skl.intercept_visible_ = est.intercept_visible_.copy()
    np.testing.assert_allclose(skl.transform(digits), est.transform(digits),
                               rtol=1e-12)
    # views of the fitted state that cannot desynchronise it
    with pytest.raises(ValueError, match="read-only"):
        est.components_[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        est.intercept_hidden_ += 1.0


def test_bernoulli_rbm_names_of_a_deeper_or_unfitted_stack(digits):
    deep = StackedRBMTransformer((16, 8), **{**FAST, "n_iter": 1}).fit(digits)
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        with pytest.raises(AttributeError, match=r"this stack has 2: .*coefs_\[i\]"):
            getattr(deep, name)
        assert not hasattr(deep, name)
        with pytest.raises(NotFittedError):
            getattr(StackedRBMTransformer(16), name)
    # they are properties: nothing is stored twice (nor pickled twice)
    assert "components_" not in vars(deep)


# ------------------------------------------------------------------------ dtypes
def test_float32_preserved_and_close_to_float64(digits):
    X32 = digits.astype(np.float32)
    est64 = StackedRBMTransformer((32, 16), **FAST).fit(digits)
    est32 = StackedRBMTransformer((32, 16), **FAST).fit(X32)

    assert all(a.dtype == np.float32 for a in _fitted_arrays(est32))
    assert all(a.dtype == np.float64 for a in _fitted_arrays(est64))
    H32 = est32.transform(X32)
    assert H32.dtype == np.float32
    assert est32.inverse_transform(H32).dtype == np.float32
    assert clone(est32).fit_transform(X32).dtype == np.float32

    # float32 computation is accurate: the same model evaluated in float64
    H32_in_64 = _up_chain(digits, est32, expit)
    np.testing.assert_allclose(H32, H32_in_64, atol=1e-5)

    # Training in float32 learns like training in float64 (the same model, up to
    # float32 precision: see the next test)
    for e32, e64 in zip(est32.reconstruction_error_[0],
                        est64.reconstruction_error_[0]):
        assert e32 == pytest.approx(e64, rel=1e-3)
    rec32 = _mse(est32.inverse_transform(H32), digits)
    rec64 = _mse(est64.inverse_transform(est64.transform(digits)), digits)
    assert rec32 == pytest.approx(rec64, rel=1e-3)


@pytest.mark.parametrize("params", [
    {}, {"persistent": True, "momentum": 0.5},
    {"hidden_units": "relu"},
    {"hidden_units": "relu", "persistent": True, "cd_k": 2, "momentum": 0.5},
    {"visible_units": "gaussian"},
    {"visible_units": "gaussian", "hidden_units": "relu"},
    {"hidden_layer_sizes": (16, 8)},
], ids=["cd", "pcd", "nrelu-cd", "nrelu-pcd2", "gaussian", "gaussian-nrelu",
        "two-layers"])
def test_float32_fit_is_the_float64_fit(digits, params):
    # as scikit-learn's BernoulliRBM test of dtype consistency: the same data and
    # seed in float32 and float64 give the same model within float32 precision.
    # The random draws (uniforms, NReLU normals) used to be made in the working
    # dtype: other numbers, and the two fits drifted apart entirely.
    X = digits[:100] if params.get("visible_units") != "gaussian" else \
        digits[:100] * 16 * 3 + 5
    kwargs = {"hidden_layer_sizes": (16,), "n_iter": 5, "batch_size": 5,
              "random_state": 42, **params}
    est64 = StackedRBMTransformer(**kwargs).fit(X)
    est32 = StackedRBMTransformer(**kwargs).fit(X.astype(np.float32))
    for a32, a64 in zip(_fitted_arrays(est32), _fitted_arrays(est64)):
        assert a32.dtype == np.float32
        np.testing.assert_allclose(a32, a64, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(est32.transform(X.astype(np.float32)),
                               est64.transform(X), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(est32.reconstruction_error_,
                               est64.reconstruction_error_, rtol=1e-4)
    # and so do their Gibbs steps (the Gaussian noise of gibbs too)
    close = np.isclose(est32.gibbs(X.astype(np.float32)), est64.gibbs(X),
                       rtol=1e-3, atol=1e-4)
    assert close.mean() > 0.99


def test_float64_model_transforms_float32_input(digits):
    est = StackedRBMTransformer((16,), **FAST).fit(digits)
    H = est.transform(digits.astype(np.float32))
    assert H.dtype == np.float64
    np.testing.assert_allclose(H, est.transform(digits), atol=1e-6)


# ----------------------------------------------------------------- reproducibility
@pytest.mark.parametrize(
    "params",
    [{}, {"persistent": True, "cd_k": 2}, {"hidden_units": "relu"}],
    ids=["cd1", "pcd2", "relu"],
)
def test_same_seed_bit_identical(digits, params):
    kwargs = {**FAST, "n_iter": 2, **params}
    a = StackedRBMTransformer((16, 8), **kwargs).fit(digits)
    b = StackedRBMTransformer((16, 8), **kwargs).fit(digits)
    for x, y in zip(_fitted_arrays(a), _fitted_arrays(b)):
        assert np.array_equal(x, y)
    assert a.reconstruction_error_ == b.reconstruction_error_
    # refitting the same instance starts afresh and gives the same result again
    first = [x.copy() for x in _fitted_arrays(a)]
    a.fit(digits)
    for x, y in zip(_fitted_arrays(a), first):
        assert np.array_equal(x, y)
    # another seed gives another model
    c = StackedRBMTransformer((16, 8), **{**kwargs, "random_state": 1}).fit(digits)
    for x, y in zip(c.coefs_, a.coefs_):
        assert not np.allclose(x, y)


def test_transform_is_deterministic(digits):
    est = StackedRBMTransformer((16, 8), **FAST).fit(digits)
    H1, H2 = est.transform(digits), est.transform(digits)
    assert np.array_equal(H1, H2)
    # mean-field hidden probabilities of the top layer, layer by layer
    np.testing.assert_allclose(H1, _up_chain(digits, est, expit), rtol=1e-10)
    assert np.all((H1 > 0) & (H1 < 1))
    # fit_transform gives the transform of the fitted model
    est2 = clone(est)
    np.testing.assert_allclose(est2.fit_transform(digits), est2.transform(digits))
    np.testing.assert_allclose(est2.transform(digits), H1)


# ------------------------------------------------------------------- partial_fit
def test_partial_fit(digits):
    est = StackedRBMTransformer((16, 8), **FAST)
    assert est.partial_fit(digits[:200]) is est
    assert est.n_iter_ == 1
    assert [len(e) for e in est.reconstruction_error_] == [1, 1]
    before = [x.copy() for x in _fitted_arrays(est)]
    assert est.partial_fit(digits[200:400]) is est
    assert est.n_iter_ == 2
    assert [len(e) for e in est.reconstruction_error_] == [2, 2]
    for x, y in zip(est.coefs_, before[:2]):
        assert x.shape == y.shape
        assert not np.allclose(x, y)
    # partial_fit after fit continues training (no re-initialisation)
    fitted = StackedRBMTransformer((16, 8), **FAST).fit(digits)
    W = fitted.coefs_[0].copy()
    fitted.partial_fit(digits)
    assert fitted.n_iter_ == FAST["n_iter"] + 1
    assert len(fitted.reconstruction_error_[0]) == FAST["n_iter"] + 1
    assert not np.array_equal(fitted.coefs_[0], W)


def test_partial_fit_reproducible_and_checked(digits):
    a = StackedRBMTransformer((8,), **FAST)
    b = StackedRBMTransformer((8,), **FAST)
    for est in (a, b):
        est.partial_fit(digits[:250]).partial_fit(digits[250:])
    assert np.array_equal(a.coefs_[0], b.coefs_[0])
    with pytest.raises(ValueError, match="features"):
        a.partial_fit(digits[:, :10])
    a.set_params(hidden_layer_sizes=(9,))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        a.partial_fit(digits)


# -------------------------------------------------------------- input handling
@pytest.mark.parametrize("kind", ["dense64", "dense32", "csr", "gaussian",
                                  "gaussian_csr"])
def test_input_never_modified(digits, kind):
    X = np.array(digits)  # writeable copy
    if kind == "dense32":
        X = X.astype(np.float32)
    if kind.startswith("gaussian"):
        X = X * 16 + 3.0  # not in [0, 1]: standardised internally
    if kind.endswith("csr"):
        X = sp.csr_matrix(X)
    snapshot = X.copy()

    def unchanged():
        if sp.issparse(X):
            return (np.array_equal(X.data, snapshot.data)
                    and np.array_equal(X.indices, snapshot.indices)
                    and np.array_equal(X.indptr, snapshot.indptr))
        return np.array_equal(X, snapshot)

    est = StackedRBMTransformer((8, 4), **{**FAST, "n_iter": 2})
    est.fit(X)
    assert unchanged()
    est.partial_fit(X)
    assert unchanged()
    est.transform(X)
    assert unchanged()
    clone(est).fit_transform(X)
    assert unchanged()
    StackedRBMTransformer((8,), persistent=True, **{**FAST, "n_iter": 1}).fit(X)
    assert unchanged()


def test_read_only_input(digits):
    # the module fixture is read-only: fitting must not need to write into it
    est = StackedRBMTransformer((8,), **{**FAST, "n_iter": 1}).fit(digits)
    assert est.transform(digits).shape == (500, 8)


@pytest.mark.parametrize("scale", [1.0, 16.0], ids=["bernoulli", "gaussian"])
def test_sparse_same_as_dense(digits, scale):
    X = digits * scale
    dense = StackedRBMTransformer((16, 8), **FAST).fit(X)
    sparse = StackedRBMTransformer((16, 8), **FAST).fit(sp.csr_matrix(X))
    assert sparse.visible_units_ == dense.visible_units_
    for x, y in zip(_fitted_arrays(sparse), _fitted_arrays(dense)):
        np.testing.assert_allclose(x, y, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sparse.transform(sp.csr_matrix(X)),
                               dense.transform(X), rtol=1e-7, atol=1e-9)
    # a model fitted on dense data transforms sparse input identically
    np.testing.assert_allclose(dense.transform(sp.csr_matrix(X)), dense.transform(X),
                               rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ visible units
def test_visible_units_auto(digits):
    fit = dict(n_iter=1, random_state=0)
    assert StackedRBMTransformer((4,), **fit).fit(digits).visible_units_ == "bernoulli"
    raw = digits * 16
    assert StackedRBMTransformer((4,), **fit).fit(raw).visible_units_ == "gaussian"
    shifted = digits - 0.01
    assert StackedRBMTransformer((4,), **fit).fit(shifted).visible_units_ == "gaussian"
    # explicit choices are kept
    est = StackedRBMTransformer((4,), visible_units="gaussian", **fit).fit(digits)
    assert est.visible_units_ == "gaussian"
    # Bernoulli units for data out of [0, 1] is an error that says what to do
    for bad in (raw, shifted):
        with pytest.raises(ValueError, match="visible_units"):
            StackedRBMTransformer((4,), visible_units="bernoulli", **fit).fit(bad)


@pytest.mark.parametrize("hidden_units", ["bernoulli", "relu"])
def test_gaussian_on_unscaled_data(digits, hidden_units):
    X_raw = digits * 16
    X_big = X_raw * 1000 + 5e3  # far from unit scale, with a large offset
    params = dict(hidden_units=hidden_units, **{**FAST, "learning_rate": 0.05})
    big = StackedRBMTransformer((16, 8), **params).fit(X_big)
    assert big.visible_units_ == "gaussian"
    assert all(np.isfinite(a).all() for a in _fitted_arrays(big))
    assert np.isfinite(big.reconstruction_error_).all()
    H = big.transform(X_big)
    assert np.isfinite(H).all()
    # standardisation happens inside: the affine change of units is invisible, up
    # to the rounding of the statistics (1e-13), which can flip a binary sample
    # whose uniform draw lies that close to its probability, and then the chains
    # part ways: the features agree closely, not bit for bit
    small = StackedRBMTransformer((16, 8), **params).fit(X_raw)
    assert np.mean(np.abs(H - small.transform(X_raw))) < 0.05
    # the reconstruction is in raw units, roughly centred on the data
    R = big.inverse_transform(H)
    assert R.shape == X_big.shape
    assert np.isfinite(R).all()
    assert abs(R.mean() - X_big.mean()) < 0.2 * X_big.std()


@pytest.mark.parametrize("hidden_units", ["bernoulli", "relu"])
def test_gaussian_visible_biases_start_at_the_mean(hidden_units):
    # at 0 in the standardised space: the reconstruction at h = 0 is the mean,
    # whatever the features' offset and scale, so the fit does not see them
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)) * [1.0, 3.0, 0.2, 1.0, 5.0] + [0, 2, -1, 0.5, 9]
    params = dict(visible_units="gaussian", hidden_units=hidden_units,
                  batch_size=50, random_state=0)
    still = StackedRBMTransformer(4, n_iter=1, learning_rate=1e-12, **params).fit(X)
    np.testing.assert_allclose(still.intercepts_visible_[0], X.mean(axis=0),
                               atol=1e-6 * X.std(axis=0).max())
    assert still.reconstruction_error_[0][0] == pytest.approx(1.0, abs=0.05)
    H = StackedRBMTransformer(4, n_iter=3, **params).fit(X).transform(X)
    for scale, shift in ((7.0, 0.0), (1.0, 5.0), (1.0, -0.5), (0.01, 0.0)):
        moved = StackedRBMTransformer(4, n_iter=3, **params).fit(X * scale + shift)
        np.testing.assert_allclose(moved.transform(X * scale + shift), H, atol=1e-6)


def test_gaussian_training_improves_reconstruction(digits):
    X = digits * 16000 + 5e3
    est = StackedRBMTransformer((32,), **{**FAST, "n_iter": 10}).fit(X)
    errors = est.reconstruction_error_[0]
    assert errors[-1] < 0.6 * errors[0]
    # and the raw-space reconstruction beats predicting the mean image
    R = est.inverse_transform(est.transform(X))
    assert _mse(R, X) < 0.7 * _mse(X.mean(axis=0), X)


# ------------------------------------------------------------------ hidden units
def test_relu_hidden_units(digits):
    est = StackedRBMTransformer((32, 16), hidden_units="relu", **FAST).fit(digits)
    H = est.transform(digits)
    assert H.shape == (500, 16)
    assert np.isfinite(H).all()
    assert H.min() == 0  # rectified
    assert (H > 0).mean() > 0.1  # not dead
    relu = lambda Z: np.maximum(Z, 0)  # noqa: E731
    np.testing.assert_allclose(H, _up_chain(digits, est, relu), rtol=1e-10,
                               atol=1e-12)
    for errors in est.reconstruction_error_:
        assert np.isfinite(errors).all()
        assert errors[-1] < errors[0]
    R = est.inverse_transform(H)
    assert R.shape == digits.shape
    assert np.all((R >= 0) & (R <= 1))  # Bernoulli visible units at the bottom


@pytest.mark.parametrize(
    "params",
    [{"persistent": True, "momentum": 0.5}, {"cd_k": 3},
     {"persistent": True, "cd_k": 2, "momentum": 0.5}],
    ids=["pcd1", "cd3", "pcd2"],
)
def test_persistent_and_cd_k(digits, params):
    # (persistent chains need moderate momentum: with 0.9 the model moves faster
    # than the chains mix, for this implementation and any other)
    est = StackedRBMTransformer((32,), **{**FAST, "n_iter": 8, **params}).fit(digits)
    errors = est.reconstruction_error_[0]
    assert np.isfinite(errors).all()
    assert errors[-1] < 0.8 * errors[0]
    # the option changes the training
    cd1 = StackedRBMTransformer((32,), **{**FAST, "n_iter": 8}).fit(digits)
    assert not np.allclose(est.coefs_[0], cd1.coefs_[0])
    # and still learns a useful model
    R = est.inverse_transform(est.transform(digits))
    assert _mse(R, digits) < 0.8 * _mse(digits.mean(axis=0), digits)


# ----------------------------------------------------------- reconstructions
def test_reconstruction_error_decreases(digits):
    est = StackedRBMTransformer((32,), **{**FAST, "n_iter": 8}).fit(digits)
    errors = est.reconstruction_error_[0]
    assert len(errors) == 8
    assert est.n_iter_ == 8
    # decreasing-ish: clearly lower at the end, and most steps go down
    assert errors[-1] < 0.8 * errors[0]
    assert min(errors) == pytest.approx(errors[-1], rel=0.05)
    assert np.sum(np.diff(errors) < 0) >= 5
    # reconstruction_error_ is the error of the mean-field reconstruction
    R = est.inverse_transform(est.transform(digits))
    assert _mse(R, digits) == pytest.approx(errors[-1], rel=1e-6)


def test_inverse_transform(digits):
    est = StackedRBMTransformer((32, 16), **{**FAST, "n_iter": 8}).fit(digits)
    H = est.transform(digits)
    R = est.inverse_transform(H)
    assert R.shape == digits.shape
    assert np.all((R >= 0) & (R <= 1))
    # mean-field top-down pass: sigmoid(H W.T + c), layer by layer
    A = H
    for W, c in zip(est.coefs_[::-1], est.intercepts_visible_[::-1]):
        A = expit(A @ W.T + c)
    np.testing.assert_allclose(R, A, rtol=1e-10)
    # the reconstruction of the training data beats the mean image
    assert _mse(R, digits) < 0.9 * _mse(digits.mean(axis=0), digits)
    with pytest.raises(ValueError, match="features"):
        est.inverse_transform(np.zeros((2, 32)))


# -------------------------------------------------------- names and set_output
def test_get_feature_names_out_and_pandas_output(digits):
    est = StackedRBMTransformer((16, 5), **{**FAST, "n_iter": 1}).fit(digits)
    names = est.get_feature_names_out()
    assert list(names) == [f"stackedrbmtransformer{i}" for i in range(5)]

    columns = [f"pixel_{i}" for i in range(64)]
    df = pd.DataFrame(digits, columns=columns, index=np.arange(500) + 1000)
    est = StackedRBMTransformer((16, 5), **{**FAST, "n_iter": 1}).fit(df)
    assert list(est.feature_names_in_) == columns
    est.set_output(transform="pandas")
    out = est.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    assert list(out.index) == list(df.index)
    default = est.set_output(transform="default").transform(df)
    assert isinstance(default, np.ndarray)
    np.testing.assert_allclose(out.to_numpy(), default)


# ------------------------------------------------------------------ verbose
def test_verbose_prints_one_line_per_epoch_and_layer(digits, capsys):
    StackedRBMTransformer((8, 4), verbose=1, **{**FAST, "n_iter": 3}).fit(digits)
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert len(lines) == 2 * 3
    assert "layer 0" in lines[0]
    assert "layer 1" in lines[-1]
    assert "reconstruction error" in lines[0]


# ----------------------------------------------------------------- pipeline
def test_pipeline_with_logistic_regression():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    pipe = Pipeline([
        ("rbm", StackedRBMTransformer((64,), n_iter=10, learning_rate=0.1,
                                      batch_size=10, random_state=0)),
        ("clf", LogisticRegression(max_iter=1000)),
    ]).fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.85


# ------------------------------------- Gaussian standardisation (numerically stable)
def _offset_data(offset, spread, dtype, n=200, n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    return (offset + spread * rng.standard_normal((n, n_features))).astype(dtype)


@pytest.mark.parametrize("offset, spread, dtype", [
    (1e12, 100.0, np.float64),
    (300.0, 0.01, np.float32),
    (1.7e18, 1e15, np.float64),  # nanosecond timestamps, months apart
])
def test_gaussian_statistics_are_stable_for_large_offsets(offset, spread, dtype):
    X = _offset_data(offset, spread, dtype)
    est = StackedRBMTransformer((5,), visible_units="gaussian", n_iter=3,
                                random_state=0).fit(X)
    mean, scale = est._layers[0]["moments"]["mean"], None
    var = est._layers[0]["moments"]["m2"] / est._layers[0]["moments"]["n"]
    scale = np.sqrt(var)
    X64 = X.astype(np.float64)
    np.testing.assert_allclose(mean, X64.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(scale, X64.std(axis=0), rtol=1e-4)
    H = est.transform(X)
    assert np.isfinite(H).all()
    assert H.std(axis=0).max() > 1e-3  # the rows are told apart, not constant


@pytest.mark.parametrize("offset, dtype", [(1e10, np.float64), (1e12, np.float64),
                                           (1e5, np.float32)])
def test_gaussian_features_with_large_offsets_keep_their_spread(offset, dtype):
    # 1e10 +- 100 and 1e12 +- 100 got scale 1 (a 'constant feature' cutoff at
    # 1e-8 |mean|), and the reconstruction error was 1900-3700, not 0.8. The
    # offset must not matter: the model learns what it learns on centred data.
    # correlated features (two factors and noise): a structure to learn
    rng = np.random.default_rng(0)
    centred = 100.0 * (rng.standard_normal((300, 2)) @ rng.standard_normal((2, 4))
                       + 0.3 * rng.standard_normal((300, 4)))
    X = (offset + centred).astype(dtype)
    # (from weights near 0 the chain takes some 20 epochs to leave the
    # symmetric start)
    params = dict(visible_units="gaussian", n_iter=30, random_state=0)
    est = StackedRBMTransformer((5,), **params).fit(X)
    ref = StackedRBMTransformer((5,), **params).fit(centred.astype(dtype))
    assert est.reconstruction_error_[0][-1] < 1.0
    assert est.reconstruction_error_[0][-1] == pytest.approx(
        ref.reconstruction_error_[0][-1], rel=0.1)
    # (a Bernoulli draw lying within rounding of its probability can flip, and
    # the two fits part ways: compare what they learn, not their weights) the
    # transform keeps what the raw data's reconstruction needs, in raw units
    H = est.transform(X)
    assert H.std(axis=0).min() > 1e-3  # the rows are told apart
    R = est.inverse_transform(H).astype(np.float64) - offset
    R_ref = ref.inverse_transform(ref.transform(centred.astype(dtype)))
    assert _mse(R, centred) == pytest.approx(_mse(R_ref, centred), rel=0.1)
    assert _mse(R, centred) < 0.9 * _mse(centred.mean(axis=0), centred)


def test_constant_means_no_spread_the_dtype_can_represent():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5000, 3))  # more than one chunk of the moments
    # a float64 constant whose moments carry rounding noise (tens of ulps), a
    # float64 feature 1e16 +- 1 (the floats there are 2 apart: its values are
    # 1e16 and its neighbours) and an ordinary feature
    X64 = np.column_stack([np.full(5000, 0.1), 1e16 + z[:, 0], 3 + z[:, 1]])
    # float32 1e8 +- 2 (floats 8 apart) and 300 +- 0.01 (floats 3e-5 apart)
    X32 = np.column_stack([1e8 + 2 * z[:, 0], 300 + 0.01 * z[:, 1]]).astype(
        np.float32)
    for X, constant in ((X64, [True, True, False]), (X32, [True, False])):
        est = StackedRBMTransformer((3,), visible_units="gaussian", n_iter=1,
                                    random_state=0).fit(X)
        _, scale = _standardize.standardization(est._layers[0])
        std = X.astype(np.float64).std(axis=0)
        np.testing.assert_allclose(scale, np.where(constant, 1.0, std), rtol=1e-4)
        assert np.isfinite(est.transform(X)).all()


def test_partial_fit_one_row_first_does_not_freeze_the_scale():
    X = _offset_data(50.0, 20.0, np.float64, n=300)
    est = StackedRBMTransformer((4,), visible_units="gaussian", batch_size=10,
                                random_state=0)
    est.partial_fit(X[:1])
    for start in range(1, 300, 30):
        est.partial_fit(X[start : start + 30])  # trains without diverging
    moments = est._layers[0]["moments"]
    assert moments["n"] == 300
    np.testing.assert_allclose(moments["mean"], X.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(np.sqrt(moments["m2"] / 300), X.std(axis=0),
                               rtol=1e-10)


def test_changing_statistics_keep_the_raw_space_function():
    def raw_step(layer):
        """The raw-space change that adding the velocities would make."""
        moved = _rbm.copy_layer(layer)
        for name, v in zip(("W", "b_hidden", "b_visible"), layer["velocity"]):
            moved[name] = moved[name] + v
        return [b - a for a, b in zip(_rbm.raw_params(layer), _rbm.raw_params(moved))]

    X = _offset_data(5.0, 2.0, np.float64, n=50)
    est = StackedRBMTransformer((3,), visible_units="gaussian", n_iter=1,
                                random_state=0).fit(X)
    layer = _rbm.copy_layer(est._layers[0])
    rng = np.random.default_rng(1)
    layer["velocity"] = [rng.normal(size=a.shape) for a in
                         (layer["W"], layer["b_hidden"], layer["b_visible"])]
    before, step_before = _rbm.raw_params(layer), raw_step(layer)
    _standardize.add_rows(layer, X[:20] * 3 + 7)  # moves mean and scale
    assert not np.allclose(_standardize.standardization(layer)[1],
                           _standardize.standardization(est._layers[0])[1])
    for a, b in zip(before, _rbm.raw_params(layer)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(step_before, raw_step(layer)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_nrelu_pretraining_on_raw_digits_at_defaults(seed):
    X = load_digits().data  # 0..16, unscaled
    est = StackedRBMTransformer(hidden_units="relu", random_state=seed).fit(X)
    assert np.isfinite(est.transform(X)).all()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_nrelu_dbn_pretraining_on_raw_digits_at_defaults():
    from sk_dbn import DBNClassifier

    X, y = load_digits(return_X_y=True)  # 0..16, unscaled
    for seed in range(3):
        clf = DBNClassifier(init="rbm", activation="relu", random_state=seed)
        clf.initialize(X, y)  # pre-training at its defaults
        assert np.isfinite(clf.predict_proba(X)).all()
    clf = DBNClassifier((64, 64), init="rbm", activation="relu", max_iter=5,
                        random_state=0).fit(X[:1200], y[:1200])
    assert clf.score(X[1200:], y[1200:]) > 0.8


def test_gaussian_nrelu_init_too_large_is_named():
    X = np.random.default_rng(0).standard_normal((8, 4))
    est = StackedRBMTransformer((4,), visible_units="gaussian", hidden_units="relu",
                                init="he_normal", learning_rate=1e-9, persistent=True,
                                cd_k=2, batch_size=2, n_iter=2, random_state=0)
    try:
        est.fit(X)
    except ValueError as exc:  # the chain amplified: the init is named, not the rate
        assert "init='he_normal'" in str(exc)
        assert "learning_rate" not in str(exc)
