"""InterruptGuard: Ctrl-C deferred to mini-batch boundaries, a second one aborts.

Real signals are sent with ``os.kill``. Their Python handler runs in the main thread
at a later bytecode boundary, so each test waits (briefly) for its effect. Every
test runs with a recording handler installed (the ``outer`` fixture), so that a
SIGINT the guard fails to catch is recorded instead of stopping pytest.
"""

import os
import signal
import threading
import time

import pytest

from sk_dbn._interrupt import InterruptGuard, TrainingAborted


class _Recorder:
    """A SIGINT handler that only counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, signum, frame):
        self.calls += 1


@pytest.fixture
def outer():
    """Install a recording SIGINT handler for the test, restore the original after.

    ``signal.signal`` is looked up now, in case the test monkeypatches it.
    """
    set_handler = signal.signal
    recorder = _Recorder()
    original = set_handler(signal.SIGINT, recorder)
    try:
        yield recorder
    finally:
        set_handler(signal.SIGINT, original)


def _sigint(until=lambda: False, timeout=1.0):
    """Send SIGINT to this process; wait until ``until()`` or for ``timeout`` s."""
    os.kill(os.getpid(), signal.SIGINT)
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        time.sleep(0.001)  # a bytecode boundary: pending handlers run here


def test_training_aborted_is_a_keyboard_interrupt():
    assert issubclass(TrainingAborted, KeyboardInterrupt)


def test_first_ctrl_c_is_deferred_a_second_aborts(outer):
    with InterruptGuard() as guard:
        assert not guard.requested
        guard.check()  # nothing pending: no exception
        _sigint(until=lambda: guard.requested)
        assert guard.requested
        with pytest.raises(KeyboardInterrupt) as info:
            guard.check()
        assert type(info.value) is KeyboardInterrupt  # a plain one, not an abort
        # catch any KeyboardInterrupt, so that a wrong one fails the test instead
        # of stopping pytest
        with pytest.raises(KeyboardInterrupt) as info:
            _sigint()  # raised from the handler, long before the timeout
        assert type(info.value) is TrainingAborted
    assert outer.calls == 0  # both signals went to the guard


def test_ignored_sigint_stays_ignored(outer):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the fixture restores it
    with InterruptGuard() as guard:
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        _sigint(timeout=0.02)
        assert not guard.requested
        guard.check()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_previous_handler_is_restored(outer):
    with InterruptGuard() as guard:
        assert signal.getsignal(signal.SIGINT) == guard._handler
    assert signal.getsignal(signal.SIGINT) is outer
    with pytest.raises(RuntimeError), InterruptGuard():
        raise RuntimeError("boom")
    assert signal.getsignal(signal.SIGINT) is outer
    with pytest.raises(KeyboardInterrupt) as info, InterruptGuard() as guard:
        _sigint(until=lambda: guard.requested)
        _sigint()
    assert type(info.value) is TrainingAborted
    assert signal.getsignal(signal.SIGINT) is outer
    assert outer.calls == 0


def test_nested_guards_restore_in_turn(outer):
    with InterruptGuard() as guard_out:
        with InterruptGuard() as guard_in:
            assert signal.getsignal(signal.SIGINT) == guard_in._handler
            _sigint(until=lambda: guard_in.requested)
            assert guard_in.requested and not guard_out.requested
        assert signal.getsignal(signal.SIGINT) == guard_out._handler
    assert signal.getsignal(signal.SIGINT) is outer


def test_nothing_is_installed_outside_the_main_thread(outer):
    inside, leave = threading.Event(), threading.Event()
    result = {}

    def worker():
        try:
            with InterruptGuard() as guard:
                inside.set()
                leave.wait(timeout=5)
                guard.check()
            result["requested"] = guard.requested
        except BaseException as exc:  # reported by the main thread
            result["error"] = exc

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert inside.wait(timeout=5)
        assert signal.getsignal(signal.SIGINT) is outer
        _sigint(until=lambda: outer.calls)  # goes to the main thread's handler
        assert outer.calls == 1
    finally:
        leave.set()
        thread.join(timeout=5)
    assert result == {"requested": False}
    assert signal.getsignal(signal.SIGINT) is outer


def test_handler_set_from_c_is_left_alone(outer, monkeypatch):
    get_handler = signal.getsignal
    with monkeypatch.context() as patch:
        patch.setattr(signal, "getsignal", lambda signum: None)
        with InterruptGuard() as guard:
            assert get_handler(signal.SIGINT) is outer
        guard.check()
    assert get_handler(signal.SIGINT) is outer


@pytest.mark.parametrize("error", [ValueError, TypeError])
def test_refused_handler_installs_nothing(outer, monkeypatch, error):
    def refuse(signum, handler):
        raise error("not on this host")

    with monkeypatch.context() as patch:
        patch.setattr(signal, "signal", refuse)
        with InterruptGuard() as guard:  # neither enter nor exit raises
            pass
        guard.check()
    assert signal.getsignal(signal.SIGINT) is outer
