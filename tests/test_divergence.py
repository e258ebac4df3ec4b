"""Bad hyperparameters: divergence, extreme pre-activations, hand-checked values.

- A learning rate that makes training diverge gives a ``ValueError`` naming the
  learning-rate parameter and the phase (pre-training or fine-tuning), also when
  RuntimeWarnings are errors; the model never holds NaN or inf weights
  afterwards, and a diverged ``partial_fit`` leaves nothing behind that stops
  training from resuming at a sane learning rate.
- Pre-activations of +-1e3 (float32 and float64) run with RuntimeWarnings as
  errors: the maths is written with ``expit``/``log_expit``/``logsumexp``.
- Data-dependent parameter checks (a non-finite ``init``, a
  ``validation_fraction`` too small for a stratified split) name the parameter
  (the other parameter checks are in ``test_params.py``).
"""

import contextlib
import warnings
from functools import partial

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sk_dbn import DBNClassifier, StackedRBMTransformer
from sk_dbn.initializers import normal, xavier_uniform

DTYPES = [np.float32, np.float64]
ACTIVATIONS = ["logistic", "tanh", "relu", "leaky_relu", "maxout", "identity"]


pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def _digits(n=200, dtype=np.float64):
    X, y = load_digits(return_X_y=True)
    return X[:n].astype(dtype), y[:n]


@contextlib.contextmanager
def _runtime_warnings(strict):
    """RuntimeWarnings as errors (``strict``) or silenced (diverging maths)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "ignore", RuntimeWarning)
        yield


def _fitted_arrays(est):
    names = ("coefs_", "intercepts_", "intercepts_visible_")
    return [a for name in names for a in getattr(est, name, [])]


def _assert_no_nonfinite_weights(est):
    for a in _fitted_arrays(est):
        assert np.isfinite(a).all()


# ------------------------------------------------------------------ pre-training
# Raw digits (0..16) get Gaussian visible units; with learning_rate=1e3 the first
# epoch's reconstruction error explodes (float64: ~1e39, float32: inf).
@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "W-error"])
@pytest.mark.parametrize("hidden_units", ["bernoulli", "relu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_pre_training_divergence_names_learning_rate(dtype, hidden_units, strict):
    X, _ = _digits(dtype=dtype)
    est = StackedRBMTransformer((16, 8), hidden_units=hidden_units,
                                learning_rate=1e3, n_iter=3, random_state=0)
    with _runtime_warnings(strict):
        with pytest.raises(ValueError, match=r"(?i)pre-training.*learning_rate"):
            est.fit(X)
    _assert_no_nonfinite_weights(est)


def test_a_higher_layer_diverging_names_the_learning_rate_not_the_data():
    # data in [0, 1]: an NReLU first layer grows huge weights unseen by its
    # bounded reconstruction, and the layer above diverges on its output
    X = _digits()[0] / 16
    stack = StackedRBMTransformer((8, 8), hidden_units="relu", learning_rate=1e4,
                                  n_iter=2, random_state=0)
    with _runtime_warnings(strict=False):
        with pytest.raises(ValueError, match="layer 1") as exc:
            stack.fit(X)
    assert "learning_rate=10000.0" in str(exc.value)
    assert "scale of X" not in str(exc.value)
    # a higher Gaussian-NReLU layer whose initial weights amplify: init is named
    large = StackedRBMTransformer((8, 8), hidden_units="relu", learning_rate=0.01,
                                  init=partial(normal, std=3.0), n_iter=3,
                                  random_state=0)
    with _runtime_warnings(strict=False):
        with pytest.raises(ValueError, match="layer 1.*Cause: init=") as exc:
            large.fit(X)
    assert "too large for Gaussian visible and NReLU hidden" in str(exc.value)


def test_pre_training_divergence_in_partial_fit_keeps_the_weights():
    X, _ = _digits()
    est = StackedRBMTransformer((16,), learning_rate=0.01, random_state=0)
    est.partial_fit(X)
    before = [a.copy() for a in _fitted_arrays(est)]
    est.set_params(learning_rate=1e3)
    with _runtime_warnings(strict=False):
        with pytest.raises(ValueError, match=r"(?i)pre-training.*learning_rate"):
            est.partial_fit(X)
    # the diverged epoch is rolled back: the model is the one before the call
    for a, b in zip(_fitted_arrays(est), before):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert est.n_iter_ == 1
    assert np.isfinite(est.transform(X)).all()


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "W-error"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dbn_pre_training_divergence_names_init_learning_rate(dtype, strict):
    # the classifier's parameter is init__learning_rate: the message must name
    # the parameter the user of DBNClassifier can change
    X, y = _digits(dtype=dtype)
    clf = DBNClassifier((16,), init=StackedRBMTransformer((16,), learning_rate=1e3,
                                                          n_iter=3),
                        max_iter=2, random_state=0)
    with _runtime_warnings(strict):
        with pytest.raises(ValueError,
                           match=r"(?i)pre-training.*init__learning_rate=1000"):
            clf.fit(X, y)
    _assert_no_nonfinite_weights(clf)
    if hasattr(clf, "pretrainer_"):
        _assert_no_nonfinite_weights(clf.pretrainer_)


# ------------------------------------------------------------------- fine-tuning
def _diverging_classifier(**params):
    # identity units, plain SGD, unscaled input and a huge step: the loss overflows
    # within a few epochs
    defaults = dict(hidden_layer_sizes=(16,), init="xavier_uniform",
                    activation="identity", solver="sgd", learning_rate_init=1e3,
                    max_iter=30, n_iter_no_change=100, random_state=0)
    return DBNClassifier(**{**defaults, **params})


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "W-error"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_fine_tuning_divergence_names_learning_rate_init(dtype, strict):
    X, y = _digits(dtype=dtype)
    X *= 1000
    clf = _diverging_classifier()
    with _runtime_warnings(strict):
        with pytest.raises(ValueError, match=r"(?i)fine-tuning.*learning_rate_init"):
            clf.fit(X, y)
    # a failed first fit leaves the classifier unfitted
    assert not [k for k in vars(clf) if k.endswith("_")]


def test_fine_tuning_divergence_in_partial_fit_keeps_the_weights():
    X, y = _digits()
    clf = _diverging_classifier(learning_rate_init=1e-3)
    clf.partial_fit(X, y, classes=np.unique(y))
    clf.set_params(learning_rate_init=1e6)
    with _runtime_warnings(strict=False):
        for _ in range(20):
            before = [a.copy() for a in clf.coefs_ + clf.intercepts_]
            n_epochs, t = len(clf.loss_curve_), clf.t_
            try:
                clf.partial_fit(X * 1000, y)
            except ValueError as exc:
                assert "learning_rate_init" in str(exc)
                assert "fine-tuning" in str(exc).lower()
                break
        else:
            pytest.fail("partial_fit with learning_rate_init=1e6 never diverged")
    # the diverged call is rolled back entirely
    for a, b in zip(clf.coefs_ + clf.intercepts_, before):
        np.testing.assert_array_equal(a, b)
    assert clf.n_iter_ == 1
    assert len(clf.loss_curve_) == n_epochs and all(np.isfinite(clf.loss_curve_))
    assert clf.t_ >= t  # samples seen, counted as they go


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_divergence_spread_over_calls_is_caught_as_within_one_fit(how, solver):
    # each call's loss judged against the network as it started, not against
    # the loss it has already reached: calls of one epoch diverge where the
    # epochs of one fit do
    from sk_dbn import DBNRegressor

    rng = np.random.default_rng(0)
    X = rng.random((200, 6))
    y = X @ np.arange(1, 7) + 0.1 * rng.standard_normal(200)
    params = dict(solver=solver, learning_rate_init=1e3 if solver == "sgd" else 100.0,
                  random_state=0)
    with _runtime_warnings(strict=False):
        with pytest.raises(ValueError, match="diverged at epoch (\\d+)") as fit_exc:
            DBNRegressor((8,), max_iter=200, **params).fit(X, y)
        epoch = int(str(fit_exc.value).split("epoch ")[1].split(":")[0])
        reg = DBNRegressor((8,), max_iter=1, warm_start=True, **params)
        calls = 0
        while calls < 200:
            calls += 1
            try:
                reg.partial_fit(X, y) if how == "partial_fit" else reg.fit(X, y)
            except ValueError as exc:
                assert "learning_rate_init" in str(exc)
                break
        else:
            pytest.fail("the calls never diverged")
    assert calls == epoch
    _assert_no_nonfinite_weights(reg)


def _optimizer_arrays(clf):
    return [a for v in clf._optimizer_state.values() if isinstance(v, list) for a in v]


def test_fine_tuning_resumes_after_a_diverged_partial_fit():
    # float32, SGD with momentum: the epoch overflows; the rolled-back model must
    # not keep the overflowed optimizer state (velocities), or every later
    # partial_fit diverges again whatever the learning rate
    X, y = _digits(dtype=np.float32)
    X /= 16
    clf = _diverging_classifier(batch_size=20, learning_rate_init=1e-2)
    clf.partial_fit(X, y, classes=np.unique(y))
    clf.set_params(learning_rate_init=1e3)
    with _runtime_warnings(strict=False):
        with pytest.raises(ValueError, match="learning_rate_init"):
            clf.partial_fit(X, y)
    assert all(np.isfinite(a).all() for a in _optimizer_arrays(clf))
    clf.set_params(learning_rate_init=1e-3)
    clf.partial_fit(X, y)  # a sane step size trains again
    _assert_no_nonfinite_weights(clf)
    assert np.isfinite(clf.loss_)


@pytest.mark.parametrize("hidden_units", ["bernoulli", "relu"])
def test_pre_training_resumes_after_a_diverged_partial_fit(hidden_units):
    # the rolled-back layer must not keep the diverged momentum (velocities) or
    # persistent chains, or every later partial_fit diverges again
    X, _ = _digits()
    est = StackedRBMTransformer((16,), hidden_units=hidden_units, persistent=True,
                                learning_rate=0.01, random_state=0)
    est.partial_fit(X)
    est.set_params(learning_rate=1e3)
    with _runtime_warnings(strict=False):
        with pytest.raises(ValueError, match="learning_rate"):
            est.partial_fit(X)
    est.set_params(learning_rate=0.01)
    est.partial_fit(X)  # a sane step size trains again
    assert est.n_iter_ == 2
    _assert_no_nonfinite_weights(est)
    assert np.isfinite(est.transform(X)).all()


# ---------------------------------------------------------------- bad init values
def _nan_init(fan_in, fan_out, *, random_state=None, dtype=np.float64):
    return np.full((fan_in, fan_out), np.nan, dtype=dtype)


def test_non_finite_init_is_named_by_the_classifier():
    X, y = _digits(60)
    with pytest.raises(ValueError, match=r"init.*non-finite"):
        DBNClassifier((4,), init=_nan_init, max_iter=1).fit(X, y)


def test_non_finite_init_is_named_by_the_stack():
    # NaN initial weights are the initializer's fault, not the learning rate's
    X, _ = _digits(60)
    with _runtime_warnings(strict=False):
        with pytest.raises(ValueError, match=r"init.*non-finite|non-finite.*init"):
            StackedRBMTransformer((4,), init=_nan_init, n_iter=1).fit(X)


# ------------------------------------------------------ extreme pre-activations
N, F = 36, 6


def _one_hot(dtype):
    """One-hot rows: each first-layer pre-activation is exactly one weight."""
    X = np.zeros((N, F), dtype=dtype)
    X[np.arange(N), np.arange(N) % F] = 1
    return X, np.arange(N) % 3


def _pm_1e3(shape, dtype):
    """A +-1e3 checkerboard: half the pre-activations +1e3, half -1e3."""
    W = np.full(shape, 1e3, dtype=dtype)
    W[:, 1::2] *= -1
    W[1::2] *= -1
    return W


def _first_layer_pm_1e3(base):
    """An init giving +-1e3 weights to the first layer and ``base`` to the rest."""
    def init(fan_in, fan_out, *, random_state=None, dtype=np.float64):
        if fan_in == F:
            return _pm_1e3((fan_in, fan_out), dtype)
        return base(fan_in, fan_out, random_state=random_state, dtype=dtype)
    return init


def _check_classifier_outputs(clf, X, dtype):
    proba = clf.predict_proba(X)
    log_proba = clf.predict_log_proba(X)
    assert proba.dtype == dtype and log_proba.dtype == dtype
    assert np.isfinite(proba).all() and np.isfinite(log_proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert (log_proba <= 0).all()
    assert set(clf.predict(X)) <= set(clf.classes_)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_pre_activations_classifier(dtype, activation, solver):
    X, y = _one_hot(dtype)
    clf = DBNClassifier((4, 3), init=_first_layer_pm_1e3(xavier_uniform),
                        activation=activation, solver=solver, max_iter=3,
                        random_state=0)
    with _runtime_warnings(strict=True):
        clf.fit(X, y)
        assert all(np.isfinite(clf.loss_curve_))
        _assert_no_nonfinite_weights(clf)
        _check_classifier_outputs(clf, X, dtype)
        # predictions straight from +-1e3 logits, without training
        clf.initialize(X, y)
        clf.coefs_[-1] = _pm_1e3(clf.coefs_[-1].shape, dtype)
        _check_classifier_outputs(clf, X, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_pre_activations_binary_classifier(dtype):
    # two classes use one logistic output unit: logits of +-1e3 and beyond
    X, y = _one_hot(dtype)
    y = y % 2
    clf = DBNClassifier((4,), init=_first_layer_pm_1e3(xavier_uniform),
                        max_iter=3, random_state=0)
    with _runtime_warnings(strict=True):
        clf.fit(X, y)
        _check_classifier_outputs(clf, X, dtype)
        clf.coefs_[-1] = _pm_1e3(clf.coefs_[-1].shape, dtype)
        _check_classifier_outputs(clf, X, dtype)


@pytest.mark.parametrize("persistent", [False, True])
@pytest.mark.parametrize("hidden_units", ["bernoulli", "relu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_pre_activations_stack(dtype, hidden_units, persistent):
    X, _ = _one_hot(dtype)  # in [0, 1]: Bernoulli visible units
    est = StackedRBMTransformer((4, 3), init=_first_layer_pm_1e3(normal),
                                hidden_units=hidden_units, persistent=persistent,
                                n_iter=2, random_state=0)
    with _runtime_warnings(strict=True):
        H = est.fit_transform(X)
        assert H.dtype == dtype and np.isfinite(H).all()
        R = est.inverse_transform(H)
        assert R.dtype == dtype and np.isfinite(R).all()
        _assert_no_nonfinite_weights(est)


@pytest.mark.parametrize("visible_units", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("hidden_units", ["bernoulli", "relu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_pre_activations_transform(dtype, hidden_units, visible_units):
    X, _ = _one_hot(dtype)
    est = StackedRBMTransformer((4, 3), visible_units=visible_units,
                                hidden_units=hidden_units, n_iter=1,
                                random_state=0).fit(X)
    est.coefs_[0] = _pm_1e3(est.coefs_[0].shape, dtype)
    est.intercepts_[0] = np.zeros_like(est.intercepts_[0])
    with _runtime_warnings(strict=True):
        H = est.transform(X)
        assert H.dtype == dtype and np.isfinite(H).all()
        for top in (H, np.full_like(H, 1e3), np.full_like(H, -1e3)):
            R = est.inverse_transform(top)
            assert R.dtype == dtype and np.isfinite(R).all()


@pytest.mark.parametrize(("n_samples", "fraction"), [(60, 0.99), (2, 0.99)])
def test_validation_fraction_too_small_or_large_for_early_stopping(n_samples,
                                                                    fraction):
    # no training or no validation row is left; the message must name the
    # parameter the user set, not train_test_split's test_size
    X, y = _digits(n_samples)
    clf = DBNClassifier((4,), init="zeros", early_stopping=True,
                        validation_fraction=fraction, max_iter=1)
    with pytest.raises(ValueError, match="validation_fraction"):
        clf.fit(X / 16, y)
