"""A fit is a transaction: failed fits, init callables, parameters, partial_fit.

Each test names the class of defect it guards against (see the module sections):
1 a failed fit leaves the model as it was; 2 init callables are checked and
copied; 3 parameters (hidden_layer_sizes, switching early_stopping); 4 the
transformer's partial_fit casts and re-checks its batches; 6 divergence names
its cause; 8 no NaN probabilities.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor

import sk_dbn._finetune
from sk_dbn import DBNClassifier, DBNRegressor, StackedRBMTransformer
from sk_dbn._base import DivergenceError, TrainingInterruptedWarning
from sk_dbn.initializers import xavier_uniform

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def _data(n=60, n_features=5, n_classes=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features)).astype(dtype)
    y = np.arange(n) % n_classes
    return X, y


def _state(est):
    """Every array of the fitted state, for bit-identity comparisons."""
    return {k: (v.copy() if isinstance(v, np.ndarray) else
                [a.copy() for a in v] if isinstance(v, list) and v and
                isinstance(v[0], np.ndarray) else v)
            for k, v in vars(est).items() if k.endswith("_")}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        va, vb = a[k], b[k]
        if isinstance(va, np.ndarray):
            assert np.array_equal(va, vb), k
        elif isinstance(va, list) and va and isinstance(va[0], np.ndarray):
            assert all(np.array_equal(x, z) for x, z in zip(va, vb)), k
        elif isinstance(va, float) and np.isnan(va):
            assert np.isnan(vb)
        elif k != "pretrainer_":
            assert va == vb or va is vb, k


def _raising_init(fan_in, fan_out, *, random_state=None, dtype=np.float64):
    raise RuntimeError("init failed")


# --------------------------------------------------------------- class 1: rollback
def test_failed_refit_with_new_features_keeps_old_model():
    X, y = _data()
    clf = DBNClassifier((4,), init="xavier_uniform", max_iter=3, random_state=0)
    clf.fit(X, y)
    before, proba = _state(clf), clf.predict_proba(X)
    X2, y2 = _data(n_features=7, n_classes=4)
    clf.set_params(init=_raising_init)
    with pytest.raises(RuntimeError, match="init failed"):
        clf.fit(X2, y2)
    _assert_same(before, _state(clf))
    assert clf.n_features_in_ == 5 and clf.classes_.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_failed_refit_with_new_classes_keeps_proba_width():
    X, y = _data()
    clf = DBNClassifier((4,), init="xavier_uniform", activation="relu", max_iter=3,
                        random_state=0)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    clf.set_params(solver="sgd", learning_rate_init=1e30, momentum=0.0,
                   max_iter=20)
    with pytest.raises(ValueError, match="diverged"):
        clf.fit(X * 100, np.arange(60) % 5)
    assert clf.predict_proba(X).shape[1] == len(clf.classes_) == 3
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_failed_first_fit_leaves_estimator_unfitted():
    X, y = _data()
    clf = DBNClassifier((4,), init="xavier_uniform", activation="relu", solver="sgd",
                        learning_rate_init=1e30, momentum=0.0, max_iter=20)
    with pytest.raises(ValueError, match="diverged"):
        clf.fit(X * 100, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not [k for k in vars(clf) if k.endswith("_")]


def test_failed_first_fit_after_initialisation_unfitted():
    # the early-stopping split is checked after the weights exist
    X, y = _data(n=1, n_classes=1)
    X, y = np.vstack([X, X]), np.array([0, 1])
    clf = DBNClassifier((3,), init="xavier_uniform", early_stopping=True,
                        validation_fraction=0.99)
    with pytest.raises(ValueError, match="early_stopping"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_failed_partial_fit_or_warm_start_keeps_model(method):
    X, y = _data()
    clf = DBNClassifier((4,), init="xavier_uniform", max_iter=3, random_state=0,
                        warm_start=True)
    clf.partial_fit(X, y, classes=[0, 1, 2]) if method == "partial_fit" \
        else clf.fit(X, y)
    before, proba = _state(clf), clf.predict_proba(X)
    # MLPClassifier's message for a warm_start fit
    match = "not in classes" if method == "partial_fit" else \
        "warm_start can only be used where `y` has the same classes"
    with pytest.raises(ValueError, match=match):
        getattr(clf, method)(X, np.arange(60) % 4)
    _assert_same(before, _state(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # diverging
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_warm_start_or_partial_fit_diverging_after_some_epochs_keeps_model(method):
    # before, a warm-start refit diverging at epoch 10 kept the 6 finite epochs
    # before it: n_iter_, weights and probabilities all changed
    X, y = _data()
    clf = DBNClassifier((4,), init="xavier_uniform", activation="relu", solver="sgd",
                        momentum=0.0, max_iter=3, random_state=0, warm_start=True)
    clf.fit(X, y)
    before, proba = _state(clf), clf.predict_proba(X)
    clf.set_params(learning_rate_init=1e30, max_iter=20)
    with pytest.raises(ValueError, match="diverged"):
        for _ in range(1 if method == "fit" else 20):
            getattr(clf, method)(X * 100, y)
            before, proba = _state(clf), clf.predict_proba(X)
    _assert_same(before, _state(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_stack_divergence_in_upper_layer_first_fit_unfitted(monkeypatch):
    X, _ = _data(n=40)
    import sk_dbn._rbm as rbm

    real = rbm.reconstruction_error
    calls = {"n": 0}

    def spy(V, W, *args):  # layer 1 diverges (error reported as huge)
        calls["n"] += 1
        return 1e9 if W.shape[1] == 2 else real(V, W, *args)

    monkeypatch.setattr(rbm, "reconstruction_error", spy)
    est = StackedRBMTransformer((4, 2), n_iter=2, random_state=0)
    with pytest.raises(ValueError, match="layer 1"):
        est.fit(X)
    with pytest.raises(NotFittedError):
        est.transform(X)


def test_stack_diverging_refit_keeps_old_model():
    X, _ = _data(n=40)
    est = StackedRBMTransformer((4, 3), n_iter=2, random_state=0).fit(X)
    before, H = _state(est), est.transform(X)
    est.set_params(learning_rate=1e30, momentum=0.0)
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X * 50 - 3)
    _assert_same(before, _state(est))
    np.testing.assert_array_equal(est.transform(X), H)


def test_stack_init_that_raises_then_recovers():
    X, _ = _data(n=30)
    est = StackedRBMTransformer((3,), n_iter=1, init=_raising_init)
    for method in ("fit", "partial_fit"):
        with pytest.raises(RuntimeError):
            getattr(est, method)(X)
        with pytest.raises(NotFittedError):
            est.transform(X)
    est.set_params(init="normal")
    assert est.partial_fit(X).transform(X).shape == (30, 3)
    assert est.fit(X).transform(X).shape == (30, 3)


def test_interrupt_with_early_stopping_restores_best(monkeypatch):
    X, y = _data(n=200)
    seen = []

    def score(self, state, X_val, y_val, sample_weight=None):
        seen.append([W.copy() for W in state["coefs_"]])
        return 1.0 if len(seen) == 1 else 0.5  # epoch 1 is the best

    calls = {"n": 0}
    real = sk_dbn._finetune.loss_and_gradients

    def interrupt_later(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 12:  # epoch 4 of 3 batches
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(DBNClassifier, "_validation_score", score)
    monkeypatch.setattr(sk_dbn._finetune, "loss_and_gradients", interrupt_later)
    clf = DBNClassifier((4,), init="xavier_uniform", early_stopping=True,
                        batch_size=60, validation_fraction=0.1, random_state=0)
    with pytest.warns(TrainingInterruptedWarning, match="best validation"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    for W, best in zip(clf.coefs_, seen[0]):
        np.testing.assert_array_equal(W, best)


# -------------------------------------------------------- class 2: init callables
def test_init_callable_array_is_copied_not_trained_in_place():
    X, y = _data()
    shared = xavier_uniform(5, 5, random_state=0)
    original = shared.copy()
    clf = DBNClassifier((5, 5), init=lambda a, b, **kw: shared if a == b == 5
                        else xavier_uniform(a, b, **kw), max_iter=3, random_state=0)
    clf.fit(X, y)
    np.testing.assert_array_equal(shared, original)
    assert not np.shares_memory(clf.coefs_[0], clf.coefs_[1])
    assert not np.array_equal(clf.coefs_[0], clf.coefs_[1])


@pytest.mark.parametrize("estimator", ["dbn", "stack"])
@pytest.mark.parametrize("bad, match", [
    (lambda a, b, **kw: sp.random(a, b, density=0.5, format="csr"), "sparse"),
    (lambda a, b, **kw: [[0.1] * (b + 1)] * a, "shape"),
    (lambda a, b, **kw: [[0.1, 0.2], [0.3]], "array"),
    (lambda a, b, **kw: np.full((a, b), np.nan), "non-finite"),
])
def test_init_callable_bad_return_names_init_and_layer(estimator, bad, match):
    X, y = _data()
    est = (DBNClassifier((4,), init=bad) if estimator == "dbn"
           else StackedRBMTransformer((4,), init=bad))
    with pytest.raises(ValueError, match=match) as info:
        est.fit(X, y)
    assert "init=" in str(info.value) and "layer 0" in str(info.value)
    with pytest.raises(NotFittedError):
        est.transform(X) if estimator == "stack" else est.predict(X)


# ----------------------------------------------------------- class 3: parameters
@pytest.mark.parametrize("sizes", [np.array(4), {4, 3}, {4: 1}, frozenset({2})])
@pytest.mark.parametrize("cls", [DBNClassifier, StackedRBMTransformer])
def test_unordered_or_scalar_array_sizes_are_refused(cls, sizes):
    X, y = _data()
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        cls(sizes).fit(X, y)


def test_ordered_sizes_accepted():
    X, y = _data()
    for sizes in ([3, 2], (3, 2), np.array([3, 2])):
        clf = DBNClassifier(sizes, init="xavier_uniform", max_iter=1).fit(X, y)
        assert [W.shape[1] for W in clf.coefs_] == [3, 2, 3]


def test_switch_early_stopping_between_warm_start_fits():
    X, y = _data(n=90)
    clf = DBNClassifier((4,), init="xavier_uniform", max_iter=3, warm_start=True,
                        random_state=0)
    clf.fit(X, y)
    clf.set_params(early_stopping=True).fit(X, y)
    assert clf.best_loss_ is None and len(clf.validation_scores_) == 3
    clf.set_params(early_stopping=False).fit(X, y)
    assert clf.validation_scores_ is None and np.isfinite(clf.best_loss_)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 9


def test_partial_fit_with_early_stopping_as_mlp():
    X, y = _data()
    message = "partial_fit does not support early_stopping=True"
    with pytest.raises(ValueError, match=message):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    # the same refusal, the same way (partial_fit exists, as MLPClassifier's),
    # for both networks, and the estimator is left as it was
    for est, target in ((DBNClassifier(early_stopping=True), y),
                        (DBNRegressor(early_stopping=True), y * 1.0)):
        assert hasattr(est, "partial_fit")
        kwargs = {"classes": [0, 1, 2]} if isinstance(est, DBNClassifier) else {}
        with pytest.raises(ValueError, match=message):
            est.partial_fit(X, target, **kwargs)
        assert not hasattr(est, "coefs_")
    with pytest.raises(ValueError, match=message):
        MLPRegressor(early_stopping=True).partial_fit(X, y * 1.0)
    clf = DBNClassifier((4,), init="xavier_uniform", random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    clf.set_params(early_stopping=True, warm_start=True, max_iter=2).fit(X, y)
    assert len(clf.validation_scores_) == 2
    clf.set_params(early_stopping=False).partial_fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 4


# ---------------------------------------------- class 4: transformer partial_fit
@pytest.mark.parametrize("first, later", [
    (np.float32, np.float64), (np.float64, np.float32), (np.float32, np.int64),
])
def test_stack_partial_fit_casts_batches_to_model_dtype(first, later):
    X, _ = _data(n=30)
    est = StackedRBMTransformer((3,), visible_units="gaussian", random_state=0)
    est.partial_fit((X * 4).astype(first))
    est.partial_fit((X * 4).astype(later))
    assert est.coefs_[0].dtype == first
    assert est.transform(X).dtype == first


def test_stack_partial_fit_rechecks_bernoulli_range():
    X, _ = _data(n=30)
    est = StackedRBMTransformer((3,), random_state=0).partial_fit(X)
    assert est.visible_units_ == "bernoulli"
    before = _state(est)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        est.partial_fit(X * 100)
    _assert_same(before, _state(est))


# ------------------------------------------------- class 6: divergence names cause
def test_huge_alpha_is_named_not_learning_rate():
    X, y = _data(dtype=np.float32)
    with pytest.raises(ValueError, match="alpha=1e[+]?40") as info:
        DBNClassifier((4,), init="xavier_uniform", alpha=1e40, max_iter=2).fit(X, y)
    assert "learning_rate_init" not in str(info.value)


def test_huge_alpha_with_sgd_is_named():
    X, y = _data()
    with pytest.raises(ValueError, match="alpha=") as info:
        DBNClassifier((4,), init="xavier_uniform", solver="sgd", alpha=1e6,
                      learning_rate_init=0.1, max_iter=200).fit(X, y)
    assert "learning_rate_init" not in str(info.value)


def test_huge_inputs_are_named_as_the_cause():
    X, y = _data()
    with pytest.raises(ValueError, match="scale of X") as info:
        DBNClassifier((4,), init="xavier_uniform", activation="relu", solver="sgd",
                      alpha=0, max_iter=200, random_state=0).fit(X * 1e150, y)
    assert "learning_rate_init" not in str(info.value)


def test_unclear_divergence_lists_the_candidates():
    X, y = _data()
    with pytest.raises(ValueError, match="diverged") as info:
        DBNClassifier((4,), init="xavier_uniform", activation="relu", solver="sgd",
                      momentum=0.0, learning_rate_init=1e30,
                      max_iter=20).fit(X * 100, y)
    message = str(info.value)
    assert "learning_rate_init=1e+30" in message and "scale of X" in message


def test_pretraining_divergence_names_the_pretraining_parameter():
    X, y = _data()
    with pytest.raises(ValueError, match="init__learning_rate=1e[+]30"):
        DBNClassifier((4,), init=StackedRBMTransformer((4,), learning_rate=1e30),
                      max_iter=1).fit(X * 10, y)



def test_pretraining_divergence_with_init_rbm_says_how_to_set_it(monkeypatch):
    # init="rbm" has no init__learning_rate to set: the message names the
    # transformer it stands for (the defaults do not diverge, so fake it)
    def diverge(self, X, incremental, sample_weight=None):
        raise DivergenceError("Pre-training diverged.",
                              [("learning_rate", 0.05, "lower learning_rate")])

    monkeypatch.setattr(StackedRBMTransformer, "_fit", diverge)
    X, y = _data()
    with pytest.raises(ValueError) as info:
        DBNClassifier((4,), init="rbm", max_iter=1).fit(X, y)
    assert ("init__learning_rate=0.05 (lower init__learning_rate)"
            in str(info.value))
    assert ("StackedRBMTransformer((4,), hidden_units='bernoulli'); to change"
            in str(info.value))


# ------------------------------------------------------ class 8: no NaN proba
@pytest.mark.parametrize("kind", ["centred", "signs", "scaled"])
@pytest.mark.parametrize("activation", ["relu", "identity", "leaky_relu",
                                        "logistic", "tanh"])
def test_predict_proba_near_float_max_is_finite_or_a_clear_error(activation, kind):
    X, y = _data()
    clf = DBNClassifier((6,), init="xavier_uniform", activation=activation,
                        max_iter=3, random_state=0).fit(X, y)
    # random signs at +-1.7e308 and X * 1.79e308 gave NaN probabilities before
    huge = {"centred": lambda: (X - 0.5) * 1.7e308,
            "signs": lambda: np.random.default_rng(1).choice(
                [-1.7e308, 1.7e308], size=(200, X.shape[1])),
            "scaled": lambda: X * 1.79e308}[kind]()
    with warnings.catch_warnings():
        # scikit-learn's finiteness check sums X and warns of the overflow
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            proba = clf.predict_proba(huge)
        except ValueError as exc:
            assert "overflow" in str(exc)
            with pytest.raises(ValueError, match="overflow"):
                clf.predict(huge)
            return
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1)


def test_a_loss_far_above_the_initial_networks_is_divergence():
    X = np.full((7, 5), 1e6, np.float32)
    y = np.arange(7) % 2
    clf = DBNClassifier((2, 1), init="glorot_normal", activation="leaky_relu",
                        solver="sgd", alpha=0.0, batch_size=3, learning_rate_init=0.1,
                        max_iter=1, random_state=0)
    with pytest.raises(ValueError, match="diverged"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_overflow_while_scoring_validation_rows_is_divergence():
    X = np.full((7, 2), 1e6, np.float32)
    y = np.arange(7) % 2
    clf = DBNClassifier((1, 4), init="glorot_normal", activation="leaky_relu",
                        solver="sgd", alpha=0.0, batch_size=1, learning_rate_init=1.0,
                        max_iter=1, early_stopping=True, validation_fraction=0.5,
                        random_state=0)
    with pytest.raises(ValueError, match="Fine-tuning diverged"):
        clf.fit(X, y)


# the fit paths added with the regressor, multilabel targets, sample weights,
# L-BFGS, dropout and unlabelled rows in fine-tuning: a refit that fails
# half-way keeps the model
NEW_FIT_PATHS = {
    "regressor": (lambda: DBNRegressor((4,), batch_size=20, max_iter=4), "real", False),
    "regressor_lbfgs": (lambda: DBNRegressor((4,), solver="lbfgs", max_iter=20),
                        "real", False),
    "classifier_lbfgs": (lambda: DBNClassifier((4,), init="xavier_uniform",
                                               solver="lbfgs", max_iter=20),
                         "classes", False),
    "multilabel_dropout": (lambda: DBNClassifier(
        (4,), init="xavier_uniform", dropout=0.5, batch_size=20, max_iter=4),
        "multilabel", False),
    "weighted_rbm": (lambda: DBNClassifier(
        (4,), init=StackedRBMTransformer((4,), n_iter=2), batch_size=20,
        max_iter=4), "classes", True),
    # unlabelled rows in fine-tuning: the first labelled batches run with the
    # unlabelled term (no ramp), the failure comes after it has been added
    "unlabelled_spreading": (lambda: DBNClassifier(
        (4,), init="xavier_uniform", unlabeled=-1, unlabeled_ramp=(0, 0),
        batch_size=10, max_iter=4), "partial", True),
    "unlabelled_pseudo_label": (lambda: DBNClassifier(
        (4,), init="xavier_uniform", unlabeled=-1, unlabeled_loss="pseudo_label",
        unlabeled_ramp=(0, 0), batch_size=10, max_iter=4), "partial", False),
    "unlabelled_consistency": (lambda: DBNClassifier(
        (4,), init="xavier_uniform", unlabeled=-1, unlabeled_noise=0.5,
        unlabeled_ramp=(0, 0), batch_size=10, max_iter=4), "partial", True),
}


@pytest.mark.parametrize("name", list(NEW_FIT_PATHS))
def test_new_fit_paths_failing_half_way_keep_the_model(name, monkeypatch):
    make, target, weighted = NEW_FIT_PATHS[name]
    X, y = _data()
    y = {"classes": y, "real": X @ [1.0, -2.0, 0.5, 0.0, 3.0],
         "multilabel": (X[:, :3] > 0.5).astype(int),
         "partial": np.where(np.arange(X.shape[0]) < 30, y, -1)}[target]
    w = np.arange(X.shape[0]) % 3 + 1.0 if weighted else None
    est = make().set_params(random_state=0).fit(X, y, sample_weight=w)
    before, predictions = _state(est), est.predict(X)
    calls = {"n": 0}
    real = sk_dbn._finetune.loss_and_gradients

    def fail_on_the_third_call(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("failed half-way")
        return real(*args, **kwargs)

    monkeypatch.setattr(sk_dbn._finetune, "loss_and_gradients",
                        fail_on_the_third_call)
    with pytest.raises(RuntimeError, match="half-way"):
        est.set_params(random_state=1).fit(X, y, sample_weight=w)
    assert calls["n"] == 3
    _assert_same(before, _state(est))
    np.testing.assert_array_equal(est.predict(X), predictions)
