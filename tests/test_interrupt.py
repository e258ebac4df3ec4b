"""Ctrl-C during training: a warning, and a consistent model of whole mini-batches.

A ``KeyboardInterrupt`` is raised from a patched batch function (the classifier's
``loss_and_gradients``, the RBM layer's ``gibbs_phases``) on its N-th call, so exactly
N - 1 mini-batches were completed. The reference for "the weights of the last
completed mini-batch" is an uninterrupted run with the same seed, recording the
parameters handed to the batch function at the start of every call: the
parameters at the start of call N are the state after N - 1 batches.

A real SIGINT (``os.kill``) is only deferred by the estimators' ``InterruptGuard``
to the end of the running batch, so there the N-th batch completes and the model
holds the state after N batches.
"""

import os
import signal
import threading

import numpy as np
import pytest
from sklearn.datasets import load_digits

import sk_dbn._finetune
import sk_dbn._rbm
from sk_dbn import DBNClassifier, StackedRBMTransformer
from sk_dbn._base import TrainingInterruptedWarning

N_SAMPLES = 60
BATCH = 20  # 3 mini-batches per epoch


pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:N_SAMPLES] / 16.0, y[:N_SAMPLES] % 3


def classifier(pretrain_n_iter=2, **params):
    """A small classifier; ``init="rbm"`` pre-trains ``pretrain_n_iter`` epochs in
    mini-batches of ``BATCH``."""
    params = {**dict(hidden_layer_sizes=(8, 6), init="xavier_uniform",
                     batch_size=BATCH, max_iter=4, learning_rate_init=0.05,
                     random_state=0), **params}
    if params["init"] == "rbm":
        params["init"] = StackedRBMTransformer(params["hidden_layer_sizes"],
                                               n_iter=pretrain_n_iter, batch_size=BATCH)
    return DBNClassifier(**params)


def stack(**params):
    defaults = dict(hidden_layer_sizes=(8, 6), batch_size=BATCH, n_iter=2,
                    learning_rate=0.1, random_state=0)
    return StackedRBMTransformer(**{**defaults, **params})


class _Interrupt:
    """Wrap ``module.name``; act on the ``at``-th call (1-based), record params.

    ``mode`` is ``"raise"`` (raise KeyboardInterrupt instead of the call),
    ``"sigint"`` (send a real SIGINT to this process, then make the call) or
    ``"record"`` (never interrupt). ``params_of`` extracts, from the call's
    arguments, the parameter arrays to copy at the start of each call.
    """

    def __init__(self, monkeypatch, module, name, params_of, at=None, mode="record"):
        self.real = getattr(module, name)
        self.params_of = params_of
        self.at, self.mode = at, mode
        self.calls = 0
        self.states = []  # states[k]: parameters after k completed calls
        monkeypatch.setattr(module, name, self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        self.states.append([np.array(p, copy=True) for p in self.params_of(args)])
        if self.calls == self.at:
            if self.mode == "raise":
                raise KeyboardInterrupt
            if self.mode == "sigint":
                os.kill(os.getpid(), signal.SIGINT)
        return self.real(*args, **kwargs)


def _dbn_params(args):
    # loss_and_gradients(activations, y, coefs, intercepts, ...)
    return [*args[2], *args[3]]


def _rbm_params(args):
    # gibbs_phases(ws, n, W, b_hidden, b_visible, ...)
    return list(args[2:5])


def _assert_all_equal(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)


def _assert_finite(arrays):
    for a in arrays:
        assert np.isfinite(a).all()


def _needs_main_thread():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be installed in the main thread")


# ----------------------------------------------------------------- fine-tuning
@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("at", [2, 5])
def test_keyboard_interrupt_during_fine_tuning(monkeypatch, data, solver, at):
    X, y = data
    ref = _Interrupt(monkeypatch, sk_dbn._finetune, "loss_and_gradients", _dbn_params)
    reference = classifier(solver=solver).fit(X, y)
    assert ref.calls == 4 * 3  # max_iter epochs of 3 batches, no interruption

    spy = _Interrupt(monkeypatch, sk_dbn._finetune, "loss_and_gradients", _dbn_params,
                     at=at, mode="raise")
    clf = classifier(solver=solver)
    with pytest.warns(TrainingInterruptedWarning, match="interrupted"):
        assert clf.fit(X, y) is clf
    assert spy.calls == at

    done = at - 1  # completed mini-batches
    _assert_all_equal(clf.coefs_ + clf.intercepts_, ref.states[done])
    assert clf.n_iter_ == done // 3  # completed epochs only
    assert len(clf.loss_curve_) == clf.n_iter_
    assert clf.gradient_norms_.shape[0] == clf.n_iter_
    assert clf.t_ == done * BATCH
    if clf.n_iter_:
        assert clf.loss_curve_ == reference.loss_curve_[: clf.n_iter_]
    _assert_finite(clf.coefs_ + clf.intercepts_)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= set(clf.classes_)


def test_keyboard_interrupt_during_partial_fit(monkeypatch, data):
    X, y = data
    ref = _Interrupt(monkeypatch, sk_dbn._finetune, "loss_and_gradients", _dbn_params)
    classifier().partial_fit(X, y, classes=np.unique(y))
    _Interrupt(monkeypatch, sk_dbn._finetune, "loss_and_gradients", _dbn_params, at=3,
               mode="raise")
    clf = classifier()
    with pytest.warns(TrainingInterruptedWarning):
        clf.partial_fit(X, y, classes=np.unique(y))
    _assert_all_equal(clf.coefs_ + clf.intercepts_, ref.states[2])
    assert clf.n_iter_ == 0 and clf.t_ == 2 * BATCH and clf.loss_curve_ == []
    clf.predict(X)
    # training can go on afterwards
    monkeypatch.undo()
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 1
    _assert_finite(clf.coefs_ + clf.intercepts_)


# ------------------------------------------------------------------ pre-training
def test_keyboard_interrupt_during_dbn_pre_training(monkeypatch, data):
    X, y = data
    ref = _Interrupt(monkeypatch, sk_dbn._rbm, "gibbs_phases", _rbm_params)
    reference = classifier(init="rbm").fit(X, y)
    assert ref.calls == 2 * 2 * 3  # 2 layers x pretrain_n_iter x 3 batches

    at = 8  # layer 0 done (6 batches), layer 1 after one batch
    _Interrupt(monkeypatch, sk_dbn._rbm, "gibbs_phases", _rbm_params, at=at,
               mode="raise")
    fine_tuning = _Interrupt(monkeypatch, sk_dbn._finetune, "loss_and_gradients",
                             _dbn_params)
    clf = classifier(init="rbm")
    with pytest.warns(TrainingInterruptedWarning) as record:
        clf.fit(X, y)
    assert fine_tuning.calls == 0  # no fine-tuning after an interrupted pre-training
    # one warning, at the classifier's level, saying what the model is
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith("DBNClassifier: interrupted during pre-training")
    assert "[2, 0]" in message and "not fine-tuned" in message

    pre = clf.pretrainer_
    np.testing.assert_array_equal(pre.coefs_[0], reference.pretrainer_.coefs_[0])
    np.testing.assert_array_equal(pre.intercepts_[0],
                                  reference.pretrainer_.intercepts_[0])
    W, b_hidden, b_visible = ref.states[at - 1]
    np.testing.assert_array_equal(pre.coefs_[1], W)
    np.testing.assert_array_equal(pre.intercepts_[1], b_hidden)
    np.testing.assert_array_equal(pre.intercepts_visible_[1], b_visible)
    assert [len(e) for e in pre.reconstruction_error_] == [2, 0]
    assert pre.n_iter_ == 0  # the top layer completed no epoch
    # the network starts from the pre-trained weights, and is not fine-tuned
    _assert_all_equal(clf.coefs_[:2], pre.coefs_)
    assert clf.n_iter_ == 0 and clf.t_ == 0 and clf.loss_curve_ == []
    _assert_finite(clf.coefs_ + clf.intercepts_)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)


def test_keyboard_interrupt_during_pre_training_of_a_refit_keeps_the_old_model(
        monkeypatch, data):
    X, y = data
    clf = classifier(init="rbm").fit(X, y)
    before = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    proba = clf.predict_proba(X)
    _Interrupt(monkeypatch, sk_dbn._rbm, "gibbs_phases", _rbm_params, at=3,
               mode="raise")
    with pytest.warns(TrainingInterruptedWarning,
                      match="changed nothing: the previous model is kept"):
        assert clf.fit(X[::-1], y[::-1]) is clf
    assert set(before) == {k for k in vars(clf) if k.endswith("_")}
    for name, value in before.items():
        assert getattr(clf, name) is value, name
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize("persistent", [False, True])
def test_keyboard_interrupt_during_stack_training(monkeypatch, data, persistent):
    X, _ = data
    ref = _Interrupt(monkeypatch, sk_dbn._rbm, "gibbs_phases", _rbm_params)
    stack(persistent=persistent).fit(X)
    at = 5  # layer 0, second epoch, second batch
    _Interrupt(monkeypatch, sk_dbn._rbm, "gibbs_phases", _rbm_params, at=at,
               mode="raise")
    est = stack(persistent=persistent)
    with pytest.warns(TrainingInterruptedWarning, match="interrupted"):
        assert est.fit(X) is est
    W, b_hidden, b_visible = ref.states[at - 1]
    np.testing.assert_array_equal(est.coefs_[0], W)
    np.testing.assert_array_equal(est.intercepts_[0], b_hidden)
    np.testing.assert_array_equal(est.intercepts_visible_[0], b_visible)
    assert [len(e) for e in est.reconstruction_error_] == [1, 0]
    assert est.n_iter_ == 0
    # every layer exists (the untrained top one at its initial weights)
    assert [c.shape for c in est.coefs_] == [(64, 8), (8, 6)]
    _assert_finite(est.coefs_ + est.intercepts_ + est.intercepts_visible_)
    H = est.transform(X)
    assert H.shape == (N_SAMPLES, 6) and np.isfinite(H).all()
    assert np.isfinite(est.inverse_transform(H)).all()


def test_keyboard_interrupt_during_stack_partial_fit(monkeypatch, data):
    X, _ = data
    est = stack().partial_fit(X)
    before = [c.copy() for c in est.coefs_]
    _Interrupt(monkeypatch, sk_dbn._rbm, "gibbs_phases", _rbm_params, at=1,
               mode="raise")
    with pytest.warns(TrainingInterruptedWarning):
        est.partial_fit(X)
    # nothing completed in this call: the model is the one before it
    _assert_all_equal(est.coefs_, before)
    assert est.n_iter_ == 1
    est.transform(X)


# ------------------------------------------------------------------- real SIGINT
def test_sigint_during_fine_tuning_stops_at_the_batch_boundary(monkeypatch, data):
    _needs_main_thread()
    X, y = data
    ref = _Interrupt(monkeypatch, sk_dbn._finetune, "loss_and_gradients", _dbn_params)
    classifier().fit(X, y)
    handler = signal.getsignal(signal.SIGINT)
    at = 5
    spy = _Interrupt(monkeypatch, sk_dbn._finetune, "loss_and_gradients", _dbn_params,
                     at=at, mode="sigint")
    clf = classifier()
    with pytest.warns(TrainingInterruptedWarning, match="interrupted"):
        clf.fit(X, y)
    assert spy.calls == at  # stopped right after the batch during which SIGINT came
    # the interrupted batch was completed: the state after `at` batches
    _assert_all_equal(clf.coefs_ + clf.intercepts_, ref.states[at])
    assert clf.n_iter_ == at // 3 and clf.t_ == at * BATCH
    assert signal.getsignal(signal.SIGINT) is handler  # the handler is restored
    clf.predict(X)


def test_sigint_during_pre_training_stops_at_the_batch_boundary(monkeypatch, data):
    _needs_main_thread()
    X, _ = data
    ref = _Interrupt(monkeypatch, sk_dbn._rbm, "gibbs_phases", _rbm_params)
    stack().fit(X)
    handler = signal.getsignal(signal.SIGINT)
    at = 2
    spy = _Interrupt(monkeypatch, sk_dbn._rbm, "gibbs_phases", _rbm_params, at=at,
                     mode="sigint")
    est = stack()
    with pytest.warns(TrainingInterruptedWarning, match="interrupted"):
        est.fit(X)
    assert spy.calls == at
    np.testing.assert_array_equal(est.coefs_[0], ref.states[at][0])
    assert est.n_iter_ == 0
    assert signal.getsignal(signal.SIGINT) is handler
    assert np.isfinite(est.transform(X)).all()


def test_sigint_after_the_last_check_is_reported_not_lost(monkeypatch, data):
    # Ctrl-C while the last epoch is scored (after its last mini-batch) stops
    # nothing: the fit completes, keeps every epoch, and says so
    _needs_main_thread()
    X, y = data
    full = classifier(early_stopping=True, max_iter=3).fit(X, y)
    scores = []
    original = DBNClassifier._validation_score

    def scored(self, *args, **kwargs):
        scores.append(1)
        if len(scores) == 3:  # the last epoch's
            signal.raise_signal(signal.SIGINT)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DBNClassifier, "_validation_score", scored)
    handler = signal.getsignal(signal.SIGINT)
    clf = classifier(early_stopping=True, max_iter=3)
    with pytest.warns(TrainingInterruptedWarning, match="as training ended"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    _assert_all_equal(clf.coefs_ + clf.intercepts_, full.coefs_ + full.intercepts_)
    assert signal.getsignal(signal.SIGINT) is handler


def test_sigint_handler_restored_after_normal_and_failed_fits(data):
    _needs_main_thread()
    X, y = data
    handler = signal.getsignal(signal.SIGINT)
    classifier(init="rbm", max_iter=1).fit(X, y)
    assert signal.getsignal(signal.SIGINT) is handler
    with pytest.raises(ValueError):
        # no labelled row (one class, which failed here before, now fits)
        classifier(init="rbm", unlabeled=-1).fit(X, np.full(N_SAMPLES, -1))
    assert signal.getsignal(signal.SIGINT) is handler
    stack(n_iter=1).fit(X)
    assert signal.getsignal(signal.SIGINT) is handler


def test_ignored_sigint_stays_ignored_during_a_fit(monkeypatch, data):
    _needs_main_thread()
    X, y = data
    seen = []
    real = sk_dbn._finetune.loss_and_gradients

    def spy(*args, **kwargs):
        seen.append(signal.getsignal(signal.SIGINT))
        if len(seen) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # ignored: the fit goes on
        return real(*args, **kwargs)

    monkeypatch.setattr(sk_dbn._finetune, "loss_and_gradients", spy)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        clf = classifier().fit(X, y)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert all(h is signal.SIG_IGN for h in seen)
    assert clf.n_iter_ == 4


@pytest.mark.parametrize("fitted", [False, True])
def test_second_ctrl_c_aborts_at_once_and_rolls_back(monkeypatch, data, fitted):
    _needs_main_thread()
    X, y = data
    clf = classifier(init="rbm", pretrain_n_iter=10**6, max_iter=2)
    if fitted:
        clf.set_params(init__n_iter=1).fit(X, y)
        clf.set_params(init__n_iter=10**6)
        proba = clf.predict_proba(X)
    calls = {"n": 0}
    real = sk_dbn._rbm.gibbs_phases

    def two_ctrl_c(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # both arrive inside one (long) mini-batch
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(sk_dbn._rbm, "gibbs_phases", two_ctrl_c)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert calls["n"] == 3  # aborted inside the batch, not after 10**6 epochs
    assert signal.getsignal(signal.SIGINT) is handler
    if fitted:
        np.testing.assert_array_equal(clf.predict_proba(X), proba)
    else:
        assert not hasattr(clf, "coefs_")
