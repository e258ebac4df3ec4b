"""The demo (``python -m sk_dbn``): its definitions, and the text it derives from
its measurements, on synthetic tables; then the whole pipeline at a tiny size."""

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from sk_dbn._demo import runs as _demo_runs
from sk_dbn._demo import text as _demo_text
from sk_dbn._demo.results import (
    NC_FRACTION,
    Cell,
    Fit,
    Table,
    best_rows,
    chance_accuracy,
    clearly_above,
    epochs_to,
    input_blind_loss,
    pretraining_under_trained,
    still_falling,
)

LN10 = math.log(10)


def fit(acc=0.9, loss=0.1, curve=None, grads=(), units=None, pre=None):
    """A synthetic :class:`Fit`; ``acc=None`` is a diverged fit."""
    if acc is None:
        return Fit(None, None)
    curve = (LN10, LN10 / 2, loss, loss) if curve is None else curve
    return Fit(acc, loss, tuple(curve), tuple(grads), units, pre)


def flat(lines):
    """The wrapped lines as one string with single spaces."""
    return " ".join(" ".join(lines).split())


def stalled(acc=0.1):
    return fit(acc, LN10, curve=(LN10,) * 4)


def cell(*fits):
    return Cell(list(fits), LN10)


def table(cells, rows=None, columns=None, notes=None):
    rows = rows or list(dict.fromkeys(r for r, _ in cells))
    columns = columns or list(dict.fromkeys(c for _, c in cells))
    return Table(rows, columns, dict(cells), 0.1, LN10, dict(notes or {}))


# ------------------------------------------------------------------ definitions
def test_input_blind_loss_and_chance():
    y = np.arange(100) % 10
    assert input_blind_loss(y) == pytest.approx(LN10)
    assert input_blind_loss(np.zeros(5)) == 0
    assert chance_accuracy([0, 0, 1], [0, 1, 1, 1]) == 0.25


def test_not_converged_is_divergence_or_a_loss_near_the_input_blind_one():
    c = cell(fit(None), fit(0.3, NC_FRACTION * LN10), fit(0.9, 0.99 * NC_FRACTION
                                                           * LN10))
    assert [c.not_converged(f) for f in c.fits] == [True, True, False]
    assert c.n_nc == 2 and not c.all_nc and not c.trains
    assert c.mean == 0.9 and c.std == 0
    assert c.mean_all == pytest.approx(0.6)  # the n/c seed counts, the diverged not
    assert cell(fit(None), stalled()).all_nc


def test_still_falling_looks_at_the_last_quarter():
    assert still_falling([2.3, 1.0, 0.6, 0.4], LN10)  # fell 0.2 in the last epoch
    assert not still_falling([2.3, 1.0, 0.41, 0.4], LN10)
    assert not still_falling([2.3], LN10)
    assert not still_falling([2.3] * 8, LN10)


def test_pretraining_under_trained_sees_plateaus_and_falls():
    assert pretraining_under_trained([0.075, 0.076, 0.073])  # still on its plateau
    assert pretraining_under_trained([0.08, 0.05, 0.04, 0.03])  # still falling
    assert not pretraining_under_trained([0.08, 0.04, 0.03, 0.029, 0.0288])
    assert not pretraining_under_trained(None)


def test_clearly_above_and_best_rows():
    a, b = cell(fit(0.95), fit(0.96)), cell(fit(0.90), fit(0.91))
    close = cell(fit(0.955), fit(0.95))
    assert clearly_above(a, b) and not clearly_above(b, a)
    assert not clearly_above(a, close) and not clearly_above(close, a)
    nc = cell(stalled(), stalled())
    assert clearly_above(b, nc) and not clearly_above(nc, b)
    assert best_rows({"a": a, "b": b, "close": close, "nc": nc}) == ["a", "close"]
    assert best_rows({"nc": nc}) == []
    # one converged seed has no spread to judge by: nothing is clearly above
    one_high, one_low = cell(fit(0.95)), cell(fit(0.80))
    assert not clearly_above(one_high, one_low)
    assert best_rows({"high": one_high, "low": one_low}) == ["high", "low"]


def test_epochs_to():
    assert epochs_to([2.3, 1.5, 1.0, 0.5], 1.1) == 3
    assert epochs_to([2.3, 2.3], 1.0) is None


# --------------------------------------------------------------- table cells
def test_cell_text():
    assert _demo_text.cell_text(cell(fit(0.9), fit(0.92))) == "0.910 ± 0.010"
    assert _demo_text.cell_text(cell(stalled(0.104))) == "n/c (0.10)"
    assert _demo_text.cell_text(cell(fit(None), fit(None))) == "diverged"
    assert _demo_text.cell_text(cell(fit(0.9), stalled())) == "0.900 ± 0.000 †"
    falling = fit(0.8, 0.5, curve=(2.3, 1.5, 1.0, 0.5))
    assert _demo_text.cell_text(cell(falling)) == "0.800 *"
    under = fit(0.9, pre=(0.075, 0.075, 0.074))
    assert _demo_text.cell_text(cell(under)) == "0.900 °"
    assert _demo_text.accuracy(cell(fit(0.9), stalled())) == "0.900 (1 of 2 seeds n/c)"


def test_format_table_and_legend_mark_what_they_use():
    falling = fit(0.8, 0.5, curve=(2.3, 1.5, 1.0, 0.5))
    t = table({("a", "x"): cell(fit(0.9)), ("a", "y"): cell(falling),
               ("b", "x"): cell(fit(0.9)), ("b", "y"): cell(stalled())})
    lines = _demo_text.format_table(t)
    assert lines[0].split() == ["init", "x", "y"]
    assert [line.split()[0] for line in lines[2:]] == ["a", "b"]
    legend = " ".join(_demo_text.legend(t))
    assert "still falling" in legend and "†" not in legend and "°" not in legend
    quick = _demo_text.format_table(t, quick=True)
    assert "a (under-trained)" in quick[2] and "under-trained" not in quick[3]
    assert "under-trained" not in " ".join(lines)
    assert _demo_text.quick_caveat(t, True) and not _demo_text.quick_caveat(t, False)


def test_an_nc_cell_leaving_its_plateau_is_under_trained():
    flat_nc = stalled()
    leaving = fit(0.2, 2.21, curve=(2.30, 2.27, 2.24, 2.22, 2.21))
    assert not cell(flat_nc).under_trained
    assert cell(leaving).all_nc and not cell(leaving).falling
    assert cell(leaving).nc_moving and cell(leaving).under_trained
    t = table({("flat", "x"): cell(flat_nc), ("leaving", "x"): cell(leaving)})
    labels = [line.split()[0:2] for line in _demo_text.format_table(t, quick=True)]
    assert labels[2] == ["flat", "n/c"] and labels[3] == ["leaving", "(under-trained)"]
    assert "leaving a plateau" in " ".join(_demo_text.legend(t, quick=True))


# ------------------------------------------------------------- the storyline
STATS = [{"saturated": 0.0, "std": 0.15}] * 2


def storyline(overrides=None, initial=None):
    """A storyline table where everything trains, with ``overrides``."""
    cells = {(r, c): cell(fit(0.9), fit(0.9)) for r in _demo_runs.STORYLINE_ROWS
             for c in ("Adam", "SGD")}
    cells.update(overrides or {})
    notes = {"initial": {r: STATS for r in _demo_runs.STORYLINE_ROWS}}
    notes["initial"].update(initial or {})
    return table(cells, notes=notes)


def test_scaled_sentence_names_the_winner_the_table_shows():
    xavier_wins = storyline({("xavier_normal", "SGD"): cell(fit(0.95), fit(0.96)),
                             ("he_normal", "SGD"): cell(fit(0.80), fit(0.81))})
    text = _demo_text.scaled_sentence(xavier_wins)
    assert "under SGD 0.805 from he_normal, 0.955 from xavier_normal — " \
           "xavier_normal clearly ahead by 15.0 points" in text
    assert "he_normal clearly ahead" not in text
    he_wins = storyline({("xavier_normal", "SGD"): cell(stalled(), stalled()),
                         ("he_normal", "SGD"): cell(fit(0.80), fit(0.81))})
    text = _demo_text.scaled_sentence(he_wins)
    assert "— only he_normal converges" in text and "points" not in text.split(
        "under SGD")[1].split(". ")[0]
    assert "under Adam 0.900 from he_normal, 0.900 from xavier_normal — level" in text
    neither = storyline({(r, "SGD"): cell(stalled(0.12), stalled(0.12))
                         for r in ("xavier_normal", "he_normal")})
    assert "— neither converges" in _demo_text.scaled_sentence(neither)


def test_saturation_sentence_follows_the_measurements():
    initial = {"N(0, 1)": [{"saturated": 0.4, "std": 0.4}] * 2}
    trains = storyline(initial=initial)
    text = _demo_text.saturation_sentence(trains)
    assert "40%" in text and "does not bite" in text
    assert "as the lecture warns" not in text
    fails = storyline({("N(0, 1)", c): cell(stalled(), stalled())
                       for c in ("Adam", "SGD")}, initial)
    text = _demo_text.saturation_sentence(fails)
    assert "does not train" in text and "does not bite" not in text
    worse = storyline({("N(0, 1)", c): cell(fit(0.5), fit(0.52))
                       for c in ("Adam", "SGD")}, initial)
    text = _demo_text.saturation_sentence(worse)
    assert "as the lecture warns" in text and "does not bite" not in text


def test_storyline_compares_the_accuracies_it_prints():
    """An n/c cell is shown with its accuracy: a converged cell below it is not
    'no worse' (found in a --quick run: N(0, 1) 0.489 against n/c (0.549))."""
    initial = {"N(0, 1)": [{"saturated": 0.2, "std": 0.4}] * 2}
    t = storyline({("N(0, 1)", "Adam"): cell(fit(0.489, 1.5)),
                   ("xavier_normal", "Adam"): cell(fit(0.549, 0.99 * LN10)),
                   ("he_normal", "Adam"): cell(fit(0.582, 1.4))}, initial)
    text = _demo_text.saturation_sentence(t)
    assert "no worse than xavier_normal under Adam" not in text
    assert "no worse than xavier_normal under SGD (below it under Adam: n/c (0.549) " \
        "under Adam)" in " ".join(text.split())
    assert "under Adam 0.582 from he_normal, n/c (0.549) from xavier_normal — only " \
        "he_normal converges" in " ".join(_demo_text.scaled_sentence(t).split())


def test_zeros_sentence():
    one_unit = [fit(0.1, LN10, units=1), fit(0.1, LN10, units=1)]
    chance = storyline({("zeros", c): cell(*one_unit) for c in ("Adam", "SGD")})
    text = _demo_text.zeros_sentence(chance, 64)
    assert text.startswith("zeros stays at chance")
    assert "single distinct unit" in text and "64 units" in text
    above = storyline({("zeros", "Adam"): cell(fit(0.35, 1.8, units=1)),
                       ("zeros", "SGD"): cell(*one_unit)})
    text = _demo_text.zeros_sentence(above, 64)
    assert "rises above chance" in text and "under Adam" in text
    assert "stays at chance" not in text and "far below the best start" in text


def test_collapse_and_optimiser_sentences():
    initial = {"N(0, 0.01²)": [{"saturated": 0.0, "std": 1e-3}] * 2}
    t = storyline({("N(0, 0.01²)", "SGD"): cell(stalled(), stalled()),
                   ("N(0, 0.01²)", "Adam"): cell(stalled(0.3), stalled(0.3))},
                  initial)
    text = _demo_text.collapse_sentence(t)
    assert "collapses" in text and "Adam scales each weight's step" in text
    text = _demo_text.optimiser_sentence(t)
    assert "N(0, 0.01²)" in text and "xavier_normal" not in text
    agree = _demo_text.optimiser_sentence(storyline())
    assert "agree" in agree and "different stories" not in agree


def test_rbm_sentence():
    best = storyline({("rbm", "SGD"): cell(fit(0.97), fit(0.97))})
    assert "under SGD the best start of all" in _demo_text.rbm_sentence(best)
    worse = storyline({("rbm", "SGD"): cell(fit(0.5), fit(0.5))})
    assert "below" in _demo_text.rbm_sentence(worse)


# --------------------------------------------- Mishkin & Matas' table
def lecture_table(overrides=None):
    cells = {}
    for row, values in _demo_text.PAPER_TABLE.items():
        for col, value in values.items():
            cells[row, col] = cell(stalled()) if value == "n/c" else cell(fit(0.9))
    cells.update(overrides or {})
    return table(cells, rows=list(_demo_text.PAPER_TABLE),
                 columns=list(_demo_run_columns()))


def _demo_run_columns():
    return ["maxout", "ReLU", "VLReLU", "tanh", "sigmoid"]


def test_paper_comparison_counts_agreement_and_names_disagreement():
    text = flat(_demo_text.paper_comparison(lecture_table()))
    assert "agrees with the paper on 23 of 23 cells" in text  # 2 "-" entries
    assert "differs on" not in text
    text = flat(_demo_text.paper_comparison(
        lecture_table({("Xavier", "sigmoid"): cell(fit(0.8))})))
    assert "on 22 of 23 cells" in text and "Xavier x sigmoid (paper n/c" in text
    text = flat(_demo_text.paper_comparison(
        lecture_table({("Xavier", "ReLU"): cell(fit(0.5))})))
    assert "ReLU paper 2, here 40" in text and "tanh paper 0, here 0" in text
    assert "sigmoid: n/c from every start." in flat(
        _demo_text.table_commentary(lecture_table()))


def test_best_start_agrees_only_when_the_best_are_the_same():
    best = {"LSUV": cell(fit(0.97), fit(0.97)), "Xavier": cell(fit(0.95), fit(0.95)),
            "OrthoNorm": cell(fit(0.97), fit(0.97)),
            "MSRA (He)": cell(fit(0.96), fit(0.96))}
    t = lecture_table({(r, "tanh"): c for r, c in best.items()})
    text = flat(_demo_text.paper_comparison(t))
    assert "here LSUV and OrthoNorm — agrees on LSUV and OrthoNorm, not on the " \
           "paper's Xavier (0.950) and MSRA (He) (0.960)" in text
    t.cells["OrthoNorm-MSRA", "tanh"] = cell(fit(0.96), fit(0.96))
    text = flat(_demo_text.paper_comparison(t))
    assert "not on the paper's Xavier (0.950, the lowest here) and MSRA (He)" in text
    text = flat(_demo_text.paper_comparison(lecture_table()))
    # "here" names the best among the starts the paper reports (not, on tanh or
    # maxout, OrthoNorm-MSRA)
    assert "(89); here LSUV, OrthoNorm, Xavier and MSRA (He) — agrees." in text
    assert "here LSUV, OrthoNorm and Xavier — agrees on LSUV and OrthoNorm, here " \
           "also Xavier" in text  # maxout: the paper has Xavier at 91


def test_column_sentence():
    t = lecture_table({("LSUV", "ReLU"): cell(fit(0.97), fit(0.97)),
                       ("Xavier", "ReLU"): cell(fit(0.5), fit(0.5))})
    text = _demo_text.column_sentence(t, "ReLU")
    assert text.startswith("ReLU: best LSUV (0.970)")
    assert "lowest Xavier (0.500)" in text


# ------------------------------------------------------------- depth
def depth_table(x30, h30, x10=None, h10=None):
    cells = {(r, d): cell(fit(0.9)) for r in _demo_runs.DEPTH_ROWS for d in (30, 10)}
    cells["xavier_normal", 30], cells["he_normal", 30] = x30, h30
    if x10 is not None:
        cells["xavier_normal", 10], cells["he_normal", 10] = x10, h10
    return table(cells, rows=list(_demo_runs.DEPTH_ROWS), columns=[30, 10])


def test_depth_commentary_reproduced_or_not():
    text = flat(_demo_text.depth_commentary(
        depth_table(cell(stalled()), cell(fit(0.9)))))
    assert "— reproduced" in text
    text = flat(_demo_text.depth_commentary(
        depth_table(cell(fit(0.9)), cell(stalled()))))
    assert "not reproduced" in text and "— reproduced" not in text


def test_depth_commentary_says_which_is_faster_from_the_curves():
    fast = fit(0.95, 0.05, curve=(2.3, 0.9, 0.3, 0.05))
    slow = fit(0.93, 0.1, curve=(2.3, 2.2, 1.5, 0.9, 0.1))
    text = flat(_demo_text.depth_commentary(
        depth_table(cell(stalled()), cell(fit(0.9)), x10=cell(slow),
                    h10=cell(fast))))
    assert "both train" in text
    assert "he_normal halves the input-blind loss by epoch 2" in text
    assert "xavier_normal by epoch 4" in text


def test_depth_commentary_weighs_other_rows_by_the_rule():
    """A start 14 points ahead of Xavier is "clearly ahead", not "like" it."""
    cells = {(r, d): cell(fit(0.8), fit(0.81)) for r in _demo_runs.DEPTH_ROWS
             for d in (30, 10)}
    other = next(r for r in _demo_runs.DEPTH_ROWS
                 if r not in ("xavier_normal", "he_normal"))
    cells[other, 30] = cell(fit(0.94), fit(0.95))
    text = flat(_demo_text.depth_commentary(table(
        cells, rows=list(_demo_runs.DEPTH_ROWS), columns=[30, 10])))
    assert f"{other} clearly ahead by 14.0 points" in text
    assert " like " not in text


def test_glorot_part_runs_under_the_papers_conditions():
    """Part 2 is the lecture's setting: five sigmoid or tanh hidden layers on 784
    inputs, plain SGD without momentum in mini-batches of 10 (Adam beside it)."""
    net = _demo_runs.GLOROT["full"]["net"]
    assert len(net.hidden) == 5 and net.params["batch_size"] == 10
    columns = _demo_runs.glorot_columns()
    assert {_demo_runs.GLOROT_ACTIVATIONS[a] for a, _ in columns} == {"logistic",
                                                                    "tanh"}
    data = _demo_runs.with_784_pixels(_demo_runs.load_data("digits"))
    assert data.X_train.shape[1] == data.X_test.shape[1] == 784
    sgd = [c for c in columns if c[1] == "SGD"]
    for column in sgd:
        clf = _demo_runs.make_classifier("xavier_uniform",
                                         _demo_runs.glorot_net(net, column), 0)
        params = clf.get_params()
        assert (params["solver"], params["momentum"], params["batch_size"]) == (
            "sgd", 0.0, 10)
        assert params["hidden_layer_sizes"] == net.hidden
        assert params["activation"] in ("logistic", "tanh")


# ------------------------------------------------------------- few labels
def test_few_labels_commentary_counts_leads():
    columns = [("Adam", 20), ("Adam", 50), ("SGD", 20), ("SGD", 50)]
    cells = {}
    for col in columns:
        cells["rbm", col] = cell(fit(0.8), fit(0.8))
        cells["xavier_normal", col] = cell(fit(0.6), fit(0.6))
        cells["lsuv", col] = cell(fit(0.8), fit(0.8))
    cells["lsuv", ("SGD", 50)] = cell(fit(0.9), fit(0.9))
    text = flat(_demo_text.few_labels_commentary(
        table(cells, rows=["rbm", "xavier_normal", "lsuv"], columns=columns)))
    assert "minus xavier_normal's: +20 points at 20 labels, +20 at 50 (rbm clearly " \
           "ahead, beyond the seeds' spread, at 2 of these 2 label counts, clearly " \
           "behind at 0)" in text
    assert "minus lsuv's: +0 points at 20 labels, -10 at 50 (rbm clearly ahead, " \
           "beyond the seeds' spread, at 0 of these 2 label counts, clearly behind " \
           "at 1)" in text


def test_few_labels_commentary_takes_no_margin_over_nc_cells():
    columns = [("SGD", 20), ("SGD", 50), ("SGD", 150)]
    cells = {}
    for col in columns:
        cells["rbm", col] = cell(fit(0.6), fit(0.62))
        cells["xavier_normal", col] = cell(stalled(0.2), stalled(0.2))
    cells["xavier_normal", ("SGD", 150)] = cell(fit(0.5), fit(0.5))
    text = flat(_demo_text.few_labels_commentary(
        table(cells, rows=["rbm", "xavier_normal"], columns=columns)))
    assert "minus xavier_normal's: +11 points at 150 labels (rbm clearly ahead, " \
           "beyond the seeds' spread, at 1 of these 1 label counts" in text
    assert "only rbm converges at 20 and 50 labels." in text
    assert "+40" not in text and "+41" not in text


# --------------------------------------------------------- the whole demo
TINY = {
    "STORYLINE": {"quick": {"net": _demo_runs.Net((4, 4), {"activation": "logistic"},
                                                  3, 2), "seeds": (0,)}},
    "GLOROT": {"quick": {"net": _demo_runs.Net((4,) * 2, {"batch_size": 10}, 2),
                         "seeds": (0,)}},
    "TABLE": {"quick": {"net": _demo_runs.Net((4,) * 3, _demo_runs.SGD, 2),
                        "seeds": (0,)}},
    "DEPTH": {"quick": {"width": 4, "depths": (4, 2), "epochs": 2, "seeds": (0,)}},
    "FEW_LABELS": {"quick": {"net": _demo_runs.Net((8,), {"activation": "logistic"},
                                                   3, 2),
                             "counts": (20, 30), "seeds": (0,)}},
}


def test_the_demo_end_to_end_at_a_tiny_size(monkeypatch, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from sk_dbn._demo.cli import main

    for name, value in TINY.items():
        monkeypatch.setattr(_demo_runs, name, value)
    assert main(["--quick", "--n-jobs", "1", "--plots", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "n/c (not converged)" in out
    for header in ("1. The lecture's storyline", "2. Glorot & Bengio (2010) under",
                   "3. Mishkin & Matas", "4. He et al. (2015)'s depth",
                   "5. Few labels"):
        assert header in out
    lines = out.splitlines()
    for row in [*_demo_runs.STORYLINE_ROWS, *_demo_runs.GLOROT_ROWS,
                *_demo_runs.TABLE_ROWS,
                *_demo_runs.DEPTH_ROWS, *_demo_runs.FEW_LABELS_ROWS]:
        assert any(line.startswith(row + " ") for line in lines), row
    header = next(line for line in lines if line.split()[:2] == ["init", "maxout"])
    assert header.split()[1:] == list(_demo_runs.TABLE_COLUMNS)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted([
        "storyline_activations.png", "storyline_loss_curves.png",
        "storyline_gradient_norms.png", "glorot_loss_curves.png", "lecture_table.png",
        "depth_loss_curves.png", "few_labels.png", "rbm_filters.png"])


def test_only_runs_the_parts_asked_for(monkeypatch, capsys):
    from sk_dbn._demo.cli import main

    for name, value in TINY.items():
        monkeypatch.setattr(_demo_runs, name, value)
    assert main(["--quick", "--n-jobs", "1", "--only", "depth"]) == 0
    out = capsys.readouterr().out
    assert "4. He et al." in out and "1. The lecture" not in out


def test_help_and_bad_parts(capsys):
    from sk_dbn._demo.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--quick" in out and "--plots" in out and "--only" in out
    with pytest.raises(SystemExit) as exc:
        main(["--only", "storyline,nope"])
    assert exc.value.code == 2
    assert "unknown part(s) 'nope'" in capsys.readouterr().err


def test_the_demo_prints_no_warnings(monkeypatch, recwarn):
    """Few labelled rows make one batch of all of them, not a clipped batch."""
    from sk_dbn._demo.cli import main

    for name, value in TINY.items():
        monkeypatch.setattr(_demo_runs, name, value)
    assert main(["--quick", "--n-jobs", "1", "--only", "labels"]) == 0
    assert [str(w.message) for w in recwarn] == []


@pytest.mark.slow
def test_quick_demo_prints_no_warnings():
    """``python -m sk_dbn --quick`` as a user runs it: nothing on stderr."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "sk_dbn", "--quick"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "done in" in result.stdout


# ------------------------------------------ Glorot & Bengio's conditions
def test_compare_judges_margins_between_converged_seeds_only():
    from sk_dbn._demo.results import compare

    a, b = cell(fit(0.95), fit(0.96)), cell(fit(0.90), fit(0.91))
    assert compare(a, b).kind == "a" and compare(b, a).kind == "b"
    assert compare(a, b).gap == pytest.approx(0.05)
    wide = cell(fit(0.85), fit(0.99))  # mean 0.92, std 0.07: the gap is inside it
    assert compare(wide, b).kind == "a?"
    assert compare(cell(fit(0.95)), cell(fit(0.90))).kind == "a?"  # one seed
    assert compare(cell(fit(0.905), fit(0.905)), b).kind == "level"
    nc = cell(stalled(0.6), stalled(0.6))  # n/c, though more accurate than b
    assert compare(nc, b).kind == "b only" and compare(nc, b).gap is None
    assert compare(b, nc).kind == "a only"
    assert compare(nc, cell(stalled())).kind == "neither"
    assert compare(cell(fit(0.9), stalled()), b).seeds == 1


def glorot_stats(top_std=0.3, first_std=0.4, sat=0.0, mean=0.5):
    return [{"std": first_std, "saturated": sat, "mean": mean},
            {"std": top_std, "saturated": sat, "mean": mean}]


def glorot_table(cells=None, inside=None):
    """A synthetic table of the Glorot part: everything trains to 0.9 and keeps
    its signal, with ``cells`` and ``inside`` ({(row, column): Inside})."""
    from sk_dbn._demo.results import Inside

    columns = _demo_runs.glorot_columns()
    all_cells = {(r, c): cell(fit(0.9), fit(0.9)) for r in _demo_runs.GLOROT_ROWS
                 for c in columns}
    all_cells.update(cells or {})
    same = Inside((glorot_stats(),) * 2, (glorot_stats(),) * 2)
    notes = {"inside": {key: same for key in all_cells}}
    notes["inside"].update(inside or {})
    return table(all_cells, rows=list(_demo_runs.GLOROT_ROWS), columns=columns,
                 notes=notes)


TANH_SGD, SIGMOID_SGD = ("tanh", "SGD"), ("sigmoid", "SGD")


def clause(text, column):
    """The clause of a lesson sentence about ``column``."""
    act, opt = column
    after = flat([text]).split(f"Under {opt}, ")[1]
    return after.split(f"{act}: ")[1].split("; ")[0].split(". Under")[0]


def test_lesson_holds_only_beyond_the_seeds_spread():
    t = glorot_table({("xavier_uniform", TANH_SGD): cell(fit(0.98), fit(0.98)),
                      ("standard", TANH_SGD): cell(fit(0.95), fit(0.96))})
    text = _demo_text.lesson_sentence(t, "standard", "claim")
    said = clause(text, TANH_SGD)
    assert said.startswith("holds (0.980 vs 0.955: xavier_uniform clearly ahead by "
                           "2.5 points, more than the seeds' spread (0.5")
    assert "does not hold (0.900 vs 0.900: level" in clause(text, SIGMOID_SGD)
    assert "clearly" not in clause(text, SIGMOID_SGD)


def test_lesson_within_the_spread_or_one_seed_is_unclear_not_clear():
    t = glorot_table({("xavier_uniform", TANH_SGD): cell(fit(0.99), fit(0.91)),
                      ("standard", TANH_SGD): cell(fit(0.93), fit(0.93))})
    said = clause(_demo_text.lesson_sentence(t, "standard", "claim"), TANH_SGD)
    assert said.startswith("unclear") and "within the seeds' spread" in said
    assert "clearly" not in said
    one = glorot_table({("xavier_uniform", TANH_SGD): cell(fit(0.99)),
                        ("standard", TANH_SGD): cell(fit(0.93))})
    said = clause(_demo_text.lesson_sentence(one, "standard", "claim"), TANH_SGD)
    assert said.startswith("unclear") and "one seed: no spread" in said


def test_lesson_with_nc_cells_has_no_margin():
    t = glorot_table({("xavier_uniform", TANH_SGD): cell(fit(0.9), fit(0.9)),
                      ("N(0, 1)", TANH_SGD): cell(stalled(0.3), stalled(0.3)),
                      ("xavier_uniform", SIGMOID_SGD): cell(stalled(), stalled()),
                      ("N(0, 1)", SIGMOID_SGD): cell(fit(0.94), fit(0.95))})
    text = _demo_text.lesson_sentence(t, "N(0, 1)", "claim")
    said = clause(text, TANH_SGD)
    assert said == "holds (0.900 vs n/c (0.300): only xavier_uniform converges)"
    said = clause(text, SIGMOID_SGD)
    assert said == "reversed (n/c (0.100) vs 0.945: only N(0, 1) converges)"
    both = glorot_table({("xavier_uniform", TANH_SGD): cell(stalled(0.5)),
                         ("standard", TANH_SGD): cell(stalled(0.2))})
    said = clause(_demo_text.lesson_sentence(both, "standard", "claim"), TANH_SGD)
    assert said.startswith("does not hold") and "neither converges" in said
    assert "points" not in said


def test_glorot_summary_groups_the_verdicts():
    t = glorot_table({("xavier_uniform", TANH_SGD): cell(fit(0.98), fit(0.98)),
                      ("standard", TANH_SGD): cell(fit(0.95), fit(0.95)),
                      ("N(0, 1)", SIGMOID_SGD): cell(fit(0.95), fit(0.95))})
    text = " ".join(_demo_text.glorot_summary(t).split())
    assert "does better holds against standard (tanh with SGD)" in text
    assert "reversed against N(0, 1) (sigmoid with SGD)" in text
    assert "unclear" not in text


def test_glorot_mechanism_sentences_follow_the_statistics():
    from sk_dbn._demo.results import Inside

    shrinks = Inside((glorot_stats(top_std=0.02, first_std=0.2),) * 2,
                     (glorot_stats(),) * 2)
    t = glorot_table(inside={("standard", TANH_SGD): shrinks})
    assert "as the paper's Figure 6 shows" in _demo_text.spread_sentence(t)
    assert "not the shrinking" in _demo_text.spread_sentence(glorot_table())
    to_zero = Inside((glorot_stats(mean=0.5),) * 2, (glorot_stats(mean=0.1),) * 2)
    plateau = glorot_table({("standard", SIGMOID_SGD): cell(stalled(), stalled())},
                           {("standard", SIGMOID_SGD): to_zero})
    text = _demo_text.toward_zero_sentence(plateau)
    assert "from 0.50 at init to 0.10" in text and "their Figure 2" in text
    trains = glorot_table(inside={("standard", SIGMOID_SGD): to_zero})
    assert "no lasting plateau" in _demo_text.toward_zero_sentence(trains)
    assert "not driven toward 0" in _demo_text.toward_zero_sentence(glorot_table())
    tiny = Inside((glorot_stats(top_std=0.001),) * 2, (glorot_stats(),) * 2)
    t = glorot_table(inside={("N(0, 0.01²)", TANH_SGD): tiny})
    text = _demo_text.collapse_glorot_sentence(t)
    assert "collapsed, on the tanh network." in text
    assert "no collapse" in _demo_text.collapse_glorot_sentence(glorot_table())


# ------------------------------------------------------------ install wording
def test_plots_without_matplotlib_says_how_to_install_from_the_checkout(
        monkeypatch, capsys, tmp_path):
    from sk_dbn._demo import cli

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert cli.main(["--plots", str(tmp_path), "--quick"]) == 2
    err = capsys.readouterr().err
    assert "python -m pip install '.[plot]' from the checkout" in err
    assert "pip install sk_dbn" not in err


def test_plots_into_a_path_that_cannot_be_a_directory_fails_before_the_run(
        monkeypatch, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    from sk_dbn._demo import cli

    monkeypatch.setattr(cli, "load_data", lambda *a: pytest.fail("the run began"))
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert cli.main(["--plots", str(blocker / "figs"), "--quick"]) == 2
    assert "cannot write figures there" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--n-jobs", "0"], "--n-jobs 0 runs nothing"),
    (["--plots", ""], "--plots needs a directory name"),
    (["--only", "storyline,"], "unknown part(s) ''"),
])
def test_bad_option_values_are_one_line_errors(argv, message, capsys):
    from sk_dbn._demo import cli

    with pytest.raises(SystemExit) as exc:
        cli.parse_args(["--quick", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_no_install_instruction_names_a_package_index_release():
    """sk_dbn installs from a checkout: nothing tells a user to
    ``pip install sk_dbn`` (or an extra of it by that name), which would fail."""
    root = Path(__file__).resolve().parents[1]
    files = [root / "README.md", *sorted((root / "docs").rglob("*.rst")),
             *sorted((root / "sk_dbn").rglob("*.py")),
             *sorted((root / "examples").rglob("*.py"))]
    wrong = re.compile(r"pip install\s+['\"]?sk[_-]dbn")
    offenders = [str(f.relative_to(root)) for f in files
                 if wrong.search(f.read_text(encoding="utf-8"))]
    assert offenders == []
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "git clone" in readme and "python -m venv" in readme
