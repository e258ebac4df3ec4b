"""Every gallery example runs to the end (the demo: ``tests/test_demo.py``).

Each runs as a script in a subprocess with a headless matplotlib backend, in a
temporary directory, so none of them can rot unnoticed. One BLAS thread per
process keeps them fast on a loaded machine (the networks are small).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))

pytest.importorskip("matplotlib")


def _run(args, cwd, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    )
    return result


def test_there_are_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, tmp_path):
    if path.name == "plot_save_load.py":
        pytest.importorskip("skops")
    _run([str(path)], cwd=tmp_path)
