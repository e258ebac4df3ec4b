"""Every gallery example and the ``python -m sk_dbn`` demo run to the end.

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


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, tmp_path):
    if path.name == "plot_save_load.py":
        pytest.importorskip("skops")
    _run([str(path)], cwd=tmp_path)


def test_demo_quick_with_plots(tmp_path):
    from sk_dbn.__main__ import COLUMNS, ROWS

    result = _run(["-m", "sk_dbn", "--quick", "--n-jobs", "1", "--plots",
                   str(tmp_path / "figures")], cwd=tmp_path)
    out = result.stdout
    assert "held-out test accuracy" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("init"))
    assert header.split()[1:] == COLUMNS
    for label, _ in ROWS:
        row = next(line for line in lines if line.startswith(label + " "))
        cells = row[len(label):].split()
        assert len(cells) == len(COLUMNS)
        # zeros never breaks symmetry: chance level on 10 balanced classes
        if label == "zeros":
            assert all(float(c) < 0.2 for c in cells)
    figures = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    assert figures == sorted([
        "activations_logistic.png", "activations_relu.png", "activations_tanh.png",
        "gradient_norms_logistic.png", "init_activation_table.png",
        "rbm_filters.png",
    ])


def test_demo_help(capsys):
    from sk_dbn.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--quick" in out and "--plots" in out
