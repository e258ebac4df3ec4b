"""The estimators on PyTorch arrays through scikit-learn's array API.

With ``sklearn.set_config(array_api_dispatch=True)`` every method computes in the
namespace and on the device of its input. These tests fit the same model on
numpy and on torch tensors and compare every method; they run on the CPU and,
where CUDA exists, the same tests run with ``device="cuda"``. scikit-learn's own
array-API checks (``array_api_strict``, torch) run in ``tests/test_common.py``.

Comparing a fit across backends needs the same random numbers on both: a torch
fit draws from a ``torch.Generator`` of its own (seeded from ``random_state``),
so the comparisons switch it to the draws of the host generator moved to the
device (``same_draws``): the mathematics is then the only difference, and a
float64 fit must agree to rounding. Fits with the torch generator itself are
checked for what they promise: the same int seed, the same bits.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import sk_dbn._rng
from sk_dbn import (
    DBNClassifier,
    DBNRegressor,
    StackedRBMTransformer,
    move_estimator_to,
)
from sk_dbn._ops import to_device, to_host


def _cuda_available():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


# (namespace, device): torch on the CPU and on a GPU, and array_api_strict (the
# standard and nothing more, so no torch-only method can slip into the maths)
BACKENDS = [
    pytest.param(("torch", "cpu"), id="torch-cpu"),
    pytest.param(("torch", "cuda"), id="torch-cuda", marks=pytest.mark.skipif(
        not _cuda_available(), reason="no CUDA device")),
    pytest.param(("array_api_strict", None), id="array_api_strict"),
]
TORCH = [p for p in BACKENDS if p.values[0][0] == "torch"]
DTYPES = ["float32", "float64"]
# relative tolerance of a short fit compared across backends: float64 agrees to
# rounding; float32 carries BLAS-order differences through a few epochs
RTOL = {"float32": 2e-3, "float64": 1e-8}


@pytest.fixture(autouse=True)
def _dispatch():
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(params=BACKENDS)
def backend(request):
    name, device = request.param
    xp = pytest.importorskip(name)
    if name == "torch":
        xp.set_num_threads(1)  # as BLAS in the other tests: tiny matrices
    return _Backend(xp, device)


@pytest.fixture(params=TORCH)
def on_torch(request):
    return _Backend(pytest.importorskip("torch"), request.param[1])


@pytest.fixture
def same_draws(monkeypatch):
    """A torch fit draws the host generator's numbers (moved to its device)."""
    monkeypatch.setattr(sk_dbn._rng, "is_torch_array", lambda a: False)


class _Backend:
    def __init__(self, xp, device):
        self.xp, self.device = xp, device

    def __call__(self, a):
        """``a`` (numpy) in this namespace, on this device."""
        return self.xp.asarray(np.ascontiguousarray(a), device=self.device)

    def is_here(self, a, dtype=None):
        """``a`` is an array of this namespace, on this device (of ``dtype``)."""
        module = type(a).__module__.split(".")[0]
        here = module == self.xp.__name__.split(".")[0]
        if here and self.device is not None:
            here = a.device.type == self.device
        return here and (dtype is None or str(a.dtype).endswith(dtype))

    def assert_here(self, a, dtype=None):
        assert self.is_here(a, dtype), (type(a), getattr(a, "device", None),
                                        getattr(a, "dtype", None))


def _data(dtype, n=200):
    X, y = load_digits(return_X_y=True)
    return (X[:n] / 16).astype(dtype), y[:n]


def _assert_close(a, b, dtype):
    np.testing.assert_allclose(to_host(a), to_host(b), rtol=RTOL[dtype],
                               atol=RTOL[dtype] * 1e-2)


# every part of fine-tuning that runs on the device; the RBM-initialised one and
# dropout draw random numbers, the others are deterministic given the shuffle
CLASSIFIERS = {
    "adam": dict(init="xavier_uniform", max_iter=4),
    "sgd-nesterov": dict(init="he_normal", activation="relu", solver="sgd",
                         momentum=0.9, nesterovs_momentum=True,
                         learning_rate="invscaling", max_iter=4),
    "sgd-adaptive": dict(init="lecun_normal", activation="tanh", solver="sgd",
                         learning_rate="adaptive", nesterovs_momentum=False,
                         max_iter=4),
    "lsuv-maxout": dict(init="lsuv", activation="maxout", max_iter=3),
    "dropout": dict(init="orthogonal", dropout=0.3, max_iter=3),
    "lbfgs": dict(init="xavier_normal", solver="lbfgs", max_iter=15),
    "early-stopping": dict(init="xavier_uniform", early_stopping=True,
                           n_iter_no_change=2, max_iter=6),
    "rbm": dict(init=StackedRBMTransformer((12,), n_iter=2, batch_size=20),
                activation="logistic", max_iter=3),
    "rbm-pcd-tanh": dict(init=StackedRBMTransformer((12,), n_iter=2, cd_k=2,
                                                    persistent=True),
                         activation="tanh", max_iter=3),
}


def _classifier(name, **extra):
    return DBNClassifier((12,), random_state=0, batch_size=32,
                         **(CLASSIFIERS[name] | extra))


def _compare_networks(host, fitted, dtype, backend):
    for wa, wb in zip(host.coefs_ + host.intercepts_,
                      fitted.coefs_ + fitted.intercepts_):
        backend.assert_here(wb, dtype)
        _assert_close(wa, wb, dtype)
    assert host.n_iter_ == fitted.n_iter_
    assert isinstance(fitted.loss_, float)
    _assert_close(host.loss_, fitted.loss_, dtype)
    if hasattr(host, "loss_curve_"):  # not with L-BFGS
        _assert_close(host.loss_curve_, fitted.loss_curve_, dtype)


def _skip_sampled_float32(dtype, sampled):
    if dtype == "float32" and sampled:
        # CD samples units by comparing probabilities with uniform numbers: in
        # float32 the backends' probabilities differ in the last bits, so a unit
        # can flip and the trajectories part (float64 checks the mathematics)
        pytest.skip("sampled trajectories are compared in float64")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_matches_numpy(name, dtype, backend, same_draws):
    _skip_sampled_float32(dtype, name.startswith("rbm"))
    X, y = _data(dtype)
    host = _classifier(name).fit(X, y)
    Xd = backend(X)
    fitted = _classifier(name).fit(Xd, backend(y))
    _compare_networks(host, fitted, dtype, backend)
    assert isinstance(fitted.classes_, np.ndarray)  # labels stay on the host
    for method in ("predict_proba", "predict_log_proba"):
        out = getattr(fitted, method)(Xd)
        backend.assert_here(out, dtype)
        _assert_close(getattr(host, method)(X), out, dtype)
    pred = fitted.predict(Xd)
    backend.assert_here(pred)
    # labels agree wherever the probabilities are not tied to rounding
    proba = np.sort(host.predict_proba(X), axis=1)
    clear = proba[:, -1] - proba[:, -2] > 1e-3
    np.testing.assert_array_equal(to_host(pred)[clear], host.predict(X)[clear])
    assert fitted.score(Xd, backend(y)) == pytest.approx(host.score(X, y), abs=0.02)


@pytest.mark.parametrize("dtype", DTYPES)
def test_partial_fit_and_string_labels(dtype, backend, same_draws):
    X, y = _data(dtype)
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six",
                       "seven", "eight", "nine"])[y]
    host, fitted = _classifier("adam"), _classifier("adam")
    Xd = backend(X)
    for _ in range(3):
        host.partial_fit(X, labels, classes=np.unique(labels))
        fitted.partial_fit(Xd, labels, classes=np.unique(labels))
    # a batch in the other float dtype trains in the model's
    other = X.astype(np.float32 if dtype == "float64" else np.float64)
    host.partial_fit(other, labels)
    fitted.partial_fit(backend(other), labels)
    _compare_networks(host, fitted, dtype, backend)
    pred = fitted.predict(Xd)  # string classes come back as numpy, as labels do
    assert pred.dtype == labels.dtype
    assert np.mean(pred == host.predict(X)) > 0.97


def test_partial_fit_takes_classes_of_the_namespace(backend):
    X, y = _data("float64")
    Xd, yd = backend(X), backend(y)
    fits = [_classifier("adam").partial_fit(Xd, yd, classes=classes)
            for classes in (backend(np.unique(y)), np.unique(y))]
    assert isinstance(fits[0].classes_, np.ndarray)  # labels stay on the host
    np.testing.assert_array_equal(fits[0].classes_, fits[1].classes_)
    for wa, wb in zip(fits[0].coefs_, fits[1].coefs_):
        np.testing.assert_array_equal(to_host(wa), to_host(wb))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("noise", [0.0, 0.5], ids=["", "consistency"])
@pytest.mark.parametrize("kind", ["label_spreading", "pseudo_label"])
def test_unlabelled_rows_in_fine_tuning_match_numpy(kind, noise, dtype, backend,
                                                    same_draws):
    X, y = _data(dtype)
    y_partial = np.where(np.arange(len(y)) < 40, y, -1)
    params = dict(init="xavier_uniform", unlabeled=-1, unlabeled_loss=kind,
                  unlabeled_ramp=(0, 2), dropout=0.1, max_iter=4,
                  unlabeled_noise=noise)
    host = _classifier("adam", **params).fit(X, y_partial)
    fitted = _classifier("adam", **params).fit(backend(X), backend(y_partial))
    _compare_networks(host, fitted, dtype, backend)


@pytest.mark.parametrize("params", [
    dict(init="rbm", activation="logistic"),
    dict(init="xavier_uniform", unlabeled=-1, unlabeled_ramp=(0, 0)),
    dict(init="xavier_uniform", unlabeled=-1, unlabeled_ramp=(0, 0),
         unlabeled_noise=0.5),
    dict(init="lsuv", solver="lbfgs", max_iter=15),
], ids=["rbm", "unlabelled", "consistency", "lbfgs"])
def test_a_refit_failing_half_way_on_the_device_keeps_the_model(params, backend,
                                                                monkeypatch):
    """A fit on the device is a transaction too: a refit that raises in its
    third mini-batch (or L-BFGS evaluation) leaves the fitted arrays and the
    predictions as they were."""
    import sk_dbn._finetune

    X, y = _data(np.float64)
    if "unlabeled" in params:
        y = np.where(np.arange(len(y)) < 40, y, -1)
    Xd, yd = backend(X), backend(y)
    clf = DBNClassifier((6,), random_state=0, batch_size=40,
                        **({"max_iter": 3} | params)).fit(Xd, yd)
    before = [to_host(a).copy() for a in clf.coefs_ + clf.intercepts_]
    proba = to_host(clf.predict_proba(Xd))
    real, calls = sk_dbn._finetune.loss_and_gradients, []

    def fail_on_the_third_call(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("failed half-way")
        return real(*args, **kwargs)

    monkeypatch.setattr(sk_dbn._finetune, "loss_and_gradients",
                        fail_on_the_third_call)
    with pytest.raises(RuntimeError, match="half-way"):
        clf.set_params(random_state=1).fit(Xd, yd)
    for a, b in zip(clf.coefs_ + clf.intercepts_, before):
        np.testing.assert_array_equal(to_host(a), b)
    np.testing.assert_array_equal(to_host(clf.predict_proba(Xd)), proba)


@pytest.mark.parametrize("noise", [0.0, 0.5], ids=["", "consistency"])
@pytest.mark.parametrize("kind", ["label_spreading", "pseudo_label"])
def test_unlabelled_mini_batches_move_nothing_to_the_device(kind, noise, backend,
                                                            monkeypatch):
    """The unlabelled rows' term moves each pass's row order and each
    spreading's labels (and the consistency term's noise scale, once), never a
    mini-batch's rows, targets, weights or noise."""
    import sk_dbn._semisupervised as semi

    moved = []

    def counted(a, like):
        moved.append(a)
        return to_device(a, like)

    monkeypatch.setattr(semi, "to_device", counted)
    X, y = _data(np.float64)
    y_partial = np.where(np.arange(len(y)) < 40, y, -1)
    epochs = 4  # 160 unlabelled rows in batches of 8: 20 a pass, 80 in all
    DBNClassifier((12,), unlabeled=-1, unlabeled_loss=kind, unlabeled_ramp=(0, 0),
                  batch_size=8, max_iter=epochs, random_state=0,
                  unlabeled_noise=noise).fit(
        backend(X), backend(y_partial), sample_weight=backend(np.ones(len(y))))
    spreadings = -(-epochs // semi.SPREAD_EVERY) if kind == "label_spreading" else 0
    # the weights and an empty queue at the start (and the noise scale), a row
    # order a pass
    assert len(moved) <= 2 + (noise > 0) + (epochs + 1) + 2 * spreadings


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [
    dict(init="xavier_uniform"),
    dict(init="rbm", activation="logistic", loss="poisson"),
    dict(init="he_uniform", solver="sgd", activation="relu", dropout=0.2),
    dict(init="lsuv", solver="lbfgs", max_iter=15),
], ids=["adam", "rbm-poisson", "sgd-dropout", "lsuv-lbfgs"])
def test_regressor_matches_numpy(kwargs, dtype, backend, same_draws):
    _skip_sampled_float32(dtype, kwargs["init"] == "rbm")
    X, y = _data(dtype)
    Y = np.column_stack([y / 9, X[:, 20] + 0.1]).astype(dtype)
    if kwargs.get("loss") == "poisson":
        Y = Y[:, 0] + 0.05
    params = dict(hidden_layer_sizes=(10,), random_state=0, batch_size=40,
                  max_iter=4, learning_rate_init=0.01) | kwargs
    host = DBNRegressor(**params).fit(X, Y)
    Xd = backend(X)
    fitted = DBNRegressor(**params).fit(Xd, backend(Y))
    _compare_networks(host, fitted, dtype, backend)
    out = fitted.predict(Xd)
    backend.assert_here(out, dtype)
    assert out.shape == host.predict(X).shape
    _assert_close(host.predict(X), out, dtype)
    if kwargs.get("solver") != "lbfgs":
        fitted.partial_fit(Xd, backend(Y))
        host.partial_fit(X, Y)
        _assert_close(host.predict(X), fitted.predict(Xd), dtype)


STACKS = {
    "bernoulli": dict(hidden_layer_sizes=(16, 8), n_iter=3),
    "pcd-relu": dict(hidden_layer_sizes=(16,), n_iter=3, persistent=True, cd_k=2,
                     hidden_units="relu", learning_rate=0.01),
    "gaussian": dict(hidden_layer_sizes=(16,), n_iter=3, visible_units="gaussian",
                     learning_rate=0.01, momentum=0.5, weight_decay=1e-4),
}


def _start(name, X):
    """States to start a Gibbs step from: binary for Bernoulli visible units."""
    return X if name == "gaussian" else (X > 0.5) * 1.0


@pytest.mark.parametrize("name", STACKS)
def test_stack_fit_matches_numpy(name, backend, same_draws):
    X, _ = _data("float64")
    host = StackedRBMTransformer(random_state=0, batch_size=25, **STACKS[name])
    fitted = StackedRBMTransformer(random_state=0, batch_size=25, **STACKS[name])
    host.fit(X)
    Xd = backend(X)
    fitted.fit(Xd)
    for wa, wb in zip(host.coefs_ + host.intercepts_ + host.intercepts_visible_,
                      fitted.coefs_ + fitted.intercepts_ + fitted.intercepts_visible_):
        backend.assert_here(wb, "float64")
        _assert_close(wa, wb, "float64")
    host.partial_fit(X)
    fitted.partial_fit(Xd)
    _assert_close(host.coefs_[0], fitted.coefs_[0], "float64")
    # the generative methods draw the same numbers too
    start = _start(name, X[:5])
    _assert_close(host.gibbs(start), fitted.gibbs(backend(start)), "float64")
    _assert_close(host.sample(3, n_steps=5, random_state=1),
                  fitted.sample(3, n_steps=5, random_state=1), "float64")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", STACKS)
def test_stack_methods_match_numpy(name, dtype, backend):
    """The deterministic methods of a numpy-fitted stack, moved to the device."""
    X, _ = _data(dtype)
    host = StackedRBMTransformer(random_state=0, **STACKS[name]).fit(X)
    moved = move_estimator_to(host, backend.xp, device=backend.device)
    Xd = backend(X)
    H = moved.transform(Xd)
    backend.assert_here(H, dtype)
    _assert_close(host.transform(X), H, dtype)
    back = moved.inverse_transform(H)
    backend.assert_here(back, dtype)
    _assert_close(host.inverse_transform(host.transform(X)), back, dtype)
    g = moved.gibbs(backend(_start(name, X[:4])))
    backend.assert_here(g, dtype)
    assert tuple(g.shape) == (4, X.shape[1])
    s = moved.sample(2, n_steps=3, random_state=0)
    backend.assert_here(s, dtype)
    if len(host.coefs_) == 1:  # BernoulliRBM's names, arrays of the namespace
        for attr in ("components_", "intercept_hidden_", "intercept_visible_"):
            backend.assert_here(getattr(moved, attr), dtype)
            _assert_close(getattr(host, attr), getattr(moved, attr), dtype)
    if name == "bernoulli":
        scores = moved.score_samples(Xd)
        backend.assert_here(scores, "float64")
        _assert_close(host.score_samples(X), scores, dtype)
        assert moved.log_likelihood(Xd[:50, ...], n_chains=4, n_betas=20,
                                    random_state=0) == pytest.approx(
            host.log_likelihood(X[:50], n_chains=4, n_betas=20, random_state=0),
            rel=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_stack_fitted_elsewhere_initialises_the_network_here(dtype, backend):
    # pre-trained on one namespace or device, fine-tuned on another: the
    # network starts from the stack's weights, moved to the data's place
    X, y = _data(dtype)
    host_stack = StackedRBMTransformer(12, n_iter=2, random_state=0).fit(X)
    device_stack = move_estimator_to(host_stack, backend.xp, device=backend.device)
    for stack, data in ((host_stack, backend(X)), (device_stack, X)):
        net = DBNClassifier((12,), init=stack, random_state=0).initialize(data, y)
        for W in net.coefs_ + net.intercepts_:
            if data is X:
                assert isinstance(W, np.ndarray) and W.dtype == X.dtype
            else:
                backend.assert_here(W, dtype)
        _assert_close(host_stack.coefs_[0], net.coefs_[0], dtype)
        _assert_close(host_stack.intercepts_[0], net.intercepts_[0], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_seeded_refits_are_bit_identical(dtype, on_torch):
    """With the torch generator itself: RBM pre-training, dropout, shuffling."""
    torch = on_torch.xp
    X, y = _data(dtype)
    Xd, yd = on_torch(X), on_torch(y)

    def fit(seed=7):
        return DBNClassifier((12,), init=StackedRBMTransformer((12,), n_iter=2),
                             dropout=0.2, max_iter=3, random_state=seed).fit(Xd, yd)

    a, b = fit(), fit()
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        on_torch.assert_here(wa, dtype)
        assert torch.equal(wa, wb)
    assert torch.equal(a.predict_proba(Xd), b.predict_proba(Xd))
    s = StackedRBMTransformer((12,), n_iter=2, persistent=True, random_state=3)
    first = s.fit(Xd).coefs_[0].clone()
    assert torch.equal(first, s.fit(Xd).coefs_[0])
    assert torch.equal(s.sample(2, n_steps=4, random_state=0),
                       s.sample(2, n_steps=4, random_state=0))
    assert not torch.equal(a.coefs_[0], fit(seed=8).coefs_[0])


def test_torch_generator_trains_like_numpy(on_torch):
    """The torch generator's draws are other numbers from the same distributions:
    CD on them learns as much as on numpy's (an untrained RBM scores about
    ``64 log(1/2) = -44`` nats per row here, a trained one about -21, and fits
    with different seeds differ by about 1)."""
    X, _ = load_digits(return_X_y=True)
    X = (X[:300] > 8).astype(np.float64)

    def score(data):
        rbm = StackedRBMTransformer((16,), n_iter=10, batch_size=20,
                                    random_state=0).fit(data)
        return float(rbm.score_samples(data).mean())

    assert score(on_torch(X)) == pytest.approx(score(X), abs=1.5)


def test_move_estimator_to_numpy_and_back(backend):
    X, y = _data("float32")
    Xd, yd = backend(X), backend(y)
    clf = DBNClassifier((12,), init=StackedRBMTransformer((12,), n_iter=2),
                        max_iter=3, random_state=0).fit(Xd, yd)
    host = move_estimator_to(clf, np)
    assert all(isinstance(w, np.ndarray) and w.dtype == np.float32
               for w in host.coefs_ + host.intercepts_)
    assert isinstance(host.pretrainer_.coefs_[0], np.ndarray)
    backend.assert_here(clf.coefs_[0])  # the original is unchanged
    # the numpy model pickles without any device array inside, and predicts
    blob = pickle.dumps(host)
    assert backend.xp.__name__.encode() not in blob
    loaded = pickle.loads(blob)
    expected = to_host(clf.predict_proba(Xd))
    with sklearn.config_context(array_api_dispatch=False):
        np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-5,
                                   atol=1e-7)
    back = move_estimator_to(loaded, backend.xp, device=backend.device)
    backend.assert_here(back.coefs_[0], "float32")
    assert backend.xp.all(back.predict_proba(Xd) == clf.predict_proba(Xd))
    back.partial_fit(Xd, yd)  # and it trains on, on the device
    backend.assert_here(back.coefs_[0], "float32")


def test_inputs_of_another_namespace_are_refused(backend):
    X, y = _data("float64")
    Xd = backend(X)
    clf = DBNClassifier((8,), max_iter=2, random_state=0).fit(Xd, backend(y))
    with pytest.raises(ValueError, match="same namespace"):
        clf.predict(X)
    with sklearn.config_context(array_api_dispatch=False):
        with pytest.raises(ValueError, match="move_estimator_to"):
            clf.predict(X)
    host = DBNClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="same namespace"):
        host.predict(Xd)
    stack = StackedRBMTransformer((8,), n_iter=1, random_state=0).fit(Xd)
    with pytest.raises(ValueError, match="same namespace"):
        stack.transform(X)
    with pytest.raises(ValueError, match="same namespace"):
        stack.inverse_transform(np.zeros((2, 8)))
    for method, call in (("log_likelihood", lambda: stack.log_likelihood(X)),
                         ("score_samples", lambda: stack.score_samples(X)),
                         ("gibbs", lambda: stack.gibbs(X))):
        with pytest.raises(ValueError, match=rf"\.{method}\(\) must use the same"):
            call()


def test_sparse_and_numpy_inputs_stay_on_numpy():
    torch = pytest.importorskip("torch")
    X, y = _data("float64")
    sparse = DBNClassifier((8,), max_iter=2, random_state=0).fit(sp.csr_matrix(X), y)
    assert isinstance(sparse.coefs_[0], np.ndarray)
    assert isinstance(sparse.predict_proba(sp.csr_matrix(X)), np.ndarray)
    clf = DBNClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    with sklearn.config_context(array_api_dispatch=False):
        # without the dispatch a CPU tensor is converted, as any array-like
        plain = DBNClassifier((8,), max_iter=2, random_state=0).fit(
            torch.asarray(X), torch.asarray(y))
        assert isinstance(plain.coefs_[0], np.ndarray)
        np.testing.assert_array_equal(plain.predict_proba(X), clf.predict_proba(X))


def test_sample_weight_and_gradient_norms_on_device(backend, same_draws):
    X, y = _data("float64")
    w = np.random.default_rng(0).uniform(0.5, 2, size=len(y))
    params = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    host = DBNClassifier(**params).fit(X, y, sample_weight=w)
    fitted = DBNClassifier(**params).fit(backend(X), backend(y),
                                         sample_weight=backend(w))
    _compare_networks(host, fitted, "float64", backend)
    np.testing.assert_allclose(host.gradient_norms_, fitted.gradient_norms_,
                               rtol=1e-8)
