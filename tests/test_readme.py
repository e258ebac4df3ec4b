"""Every Python block of the README runs as printed, warns about nothing, and
prints what its comments say it prints.

Each block runs on its own, as a script in a fresh interpreter in an empty
directory (as a user who copies it would run it). A ``print`` line whose comment
reads ``# ≈ x`` (or ``# R² ≈ x``) must print a number within 0.02 of ``x``; one
whose comment is a literal (``# (1797, 64)``, ``# {...}``), on its line or alone on
the next, must print it.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
TOLERANCE = 0.02


def _needs(block):
    """The optional packages a block imports."""
    wanted = {"skops": "skops", "dask": "dask", "dask_ml": "dask_ml",
              "torch": "torch"}
    return [name for module, name in wanted.items()
            if re.search(rf"^\s*(from|import) {module}\b", block, flags=re.M)]


def _expected_outputs(block):
    """For each ``print`` line, in order: ``(kind, value)`` from its comment (or
    from a comment alone on the next line), None when it has none."""
    lines = block.splitlines()
    expected = []
    for i, line in enumerate(lines):
        if not re.match(r"\s*print\(", line):
            continue
        match = re.search(r"\)\s*#\s*(.*)$", line)
        if match is None and i + 1 < len(lines):
            match = re.match(r"\s*#\s*(.*)$", lines[i + 1])
        if match is None:
            expected.append(None)
            continue
        comment = match.group(1).strip()
        approx = re.search(r"≈\s*(-?[\d.]+)", comment)
        expected.append(("approx", float(approx.group(1))) if approx
                        else ("literal", comment))
    return expected


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[
    "-".join([f"block{i}", *_needs(block)]) for i, block in enumerate(BLOCKS)])
def test_readme_block_runs_as_printed(block, tmp_path):
    for name in _needs(block):
        pytest.importorskip(name)
    script = tmp_path / "snippet.py"
    script.write_text(block, encoding="utf-8")
    env = dict(os.environ, PYTHONWARNINGS="default", MPLBACKEND="Agg",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("SCIPY_ARRAY_API", None)  # set by this checkout's conftest, not by users
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    # a README example prints what it teaches, not warnings
    warned = re.findall(r"^.*\b\w*Warning\b:.*$", result.stderr, flags=re.M)
    assert not warned, "\n".join(warned)
    printed = result.stdout.strip().splitlines()
    expected = _expected_outputs(block)
    assert len(printed) == len(expected), result.stdout  # one line per print
    for line, promise in zip(printed, expected):
        if promise is None:
            continue
        kind, value = promise
        if kind == "literal":
            assert line.strip() == value, (line, value)
        else:
            number = float(re.findall(r"-?[\d.]+", line)[-1])
            assert abs(number - value) <= TOLERANCE, (line, value)
