"""Shared test configuration.

BLAS runs single-threaded in tests: the matrices are tiny, and several test
processes (pytest-xdist workers, joblib workers) each spinning a BLAS thread pool
on 2 cores slow everything down by orders of magnitude.
"""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    with threadpool_limits(limits=1, user_api="blas"):
        yield
