"""Shared test configuration.

BLAS runs single-threaded in tests: the matrices are tiny, and several test
processes (pytest-xdist workers, joblib workers) each spinning a BLAS thread pool
on 2 cores slow everything down by orders of magnitude.
"""

import signal
import threading

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(autouse=True)
def _sigint_reaches_python():
    """The Ctrl-C tests send real SIGINTs. A test run started as a background job
    of a non-interactive shell inherits SIGINT ignored, and the estimators rightly
    leave an ignored SIGINT ignored; give Python's handler back for each test."""
    main = threading.current_thread() is threading.main_thread()
    if not (main and signal.getsignal(signal.SIGINT) is signal.SIG_IGN):
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
