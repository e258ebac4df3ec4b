"""Subnormal floats are flushed to zero while training, and only then."""

import contextlib
import threading
import time
import warnings

import numpy as np
import pytest

import sk_dbn._rbm
import sk_dbn._transaction
from sk_dbn import DBNClassifier, StackedRBMTransformer, _fpenv
from sk_dbn._optimizers import Adam

needs_ftz = pytest.mark.skipif(
    not _fpenv.supported(), reason="FTZ/DAZ is only set on x86-64 Linux with glibc"
)


def test_no_flushing_outside_a_fit():
    assert not _fpenv._flushes()  # nothing left switched on at import


@needs_ftz
def test_context_sets_and_restores_the_bits():
    with _fpenv.flush_denormals():
        assert _fpenv._flushes()
        with _fpenv.flush_denormals():  # nested: still on
            assert _fpenv._flushes()
        assert _fpenv._flushes()  # the inner block did not switch it off
    assert not _fpenv._flushes()
    with pytest.raises(RuntimeError), _fpenv.flush_denormals():
        raise RuntimeError("boom")
    assert not _fpenv._flushes()  # restored on an exception too


@needs_ftz
def test_bits_already_set_by_the_caller_stay_set():
    lib = _fpenv._load()
    _fpenv._set_ftz_daz(lib, True)
    try:
        with _fpenv.flush_denormals():
            pass
        assert _fpenv._flushes()
    finally:
        _fpenv._set_ftz_daz(lib, False)
    assert not _fpenv._flushes()


@needs_ftz
@pytest.mark.parametrize("estimator", [
    DBNClassifier((3,), init="xavier_uniform", max_iter=2),
    DBNClassifier((3,), init=StackedRBMTransformer((3,), n_iter=2), max_iter=2),
    StackedRBMTransformer((3,), n_iter=2),
])
def test_fits_flush_and_put_the_bits_back(monkeypatch, estimator):
    seen = []

    def spy_on(owner, name):
        original = getattr(owner, name)

        def spy(*args, **kwargs):
            seen.append(_fpenv._flushes())
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, spy)

    spy_on(Adam, "update")  # fine-tuning steps
    spy_on(sk_dbn._rbm, "gibbs_phases")  # pre-training steps
    X = np.random.default_rng(0).random((30, 4))
    y = np.arange(30) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X, y)
    assert not _fpenv._flushes()
    assert seen and all(seen)


def _fit_with_a_dead_input():
    """Fit where one input is always 0: its weights get only the L2 gradient and
    Adam (with a large epsilon) shrinks them geometrically into the subnormals."""
    rng = np.random.default_rng(0)
    X = rng.random((20, 3)).astype(np.float32)
    X[:, 0] = 0
    y = (X[:, 1] > 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DBNClassifier(
            (4,), init="xavier_uniform", batch_size=1, max_iter=90, alpha=1.0,
            learning_rate_init=0.5, epsilon=1.0, shuffle=False, tol=0,
            n_iter_no_change=10**6, random_state=0,
        ).fit(X, y)


def _subnormals(arrays):
    return sum(int(((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)).sum())
               for a in arrays)


@needs_ftz
def test_weights_of_a_dead_input_do_not_become_subnormal(monkeypatch):
    clf = _fit_with_a_dead_input()
    assert _subnormals(clf.coefs_ + clf.intercepts_) == 0
    assert np.abs(clf.coefs_[0][0]).max() < 1e-30  # they did shrink
    # the same fit without flushing leaves subnormal weights (the test has teeth)
    monkeypatch.setattr(sk_dbn._transaction, "flush_denormals", contextlib.nullcontext)
    clf_off = _fit_with_a_dead_input()
    assert _subnormals(clf_off.coefs_) > 0
    # and the rest of the network is the same, up to those tiny weights
    for a, b in zip(clf.coefs_ + clf.intercepts_, clf_off.coefs_ + clf_off.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-30)


@needs_ftz
def test_threads_that_probe_together_all_flush(monkeypatch):
    """Regression: the first use of :func:`flush_denormals` from several threads at
    once. The one-time probe used to mark the platform "unsupported" while it ran,
    so every thread but the prober went on without flushing."""
    monkeypatch.setattr(_fpenv, "_libm", None)  # back to "not probed yet"
    works = _fpenv._works

    def slow_works(lib):  # widen the race window so the test is deterministic
        time.sleep(0.05)
        return works(lib)

    monkeypatch.setattr(_fpenv, "_works", slow_works)
    n_threads = 8
    barrier = threading.Barrier(n_threads)
    flushed = [None] * n_threads

    def worker(i):
        barrier.wait(timeout=10)
        with _fpenv.flush_denormals():
            flushed[i] = bool(_fpenv._flushes())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert flushed == [True] * n_threads
    assert _fpenv._libm  # the probe's result was published
    assert not _fpenv._flushes()  # and this thread was left alone


@needs_ftz
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_seeded_fits_started_together_in_threads_equal_the_fit_alone(monkeypatch):
    solo = _fit_with_a_dead_input()
    monkeypatch.setattr(_fpenv, "_libm", None)  # first use happens in the threads
    works = _fpenv._works
    monkeypatch.setattr(_fpenv, "_works", lambda lib: time.sleep(0.05) or works(lib))
    barrier = threading.Barrier(4)
    fitted = [None] * 4

    def worker(i):
        barrier.wait(timeout=10)
        fitted[i] = _fit_with_a_dead_input()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for clf in fitted:
        for a, b in zip(clf.coefs_ + clf.intercepts_, solo.coefs_ + solo.intercepts_):
            np.testing.assert_array_equal(a, b)
