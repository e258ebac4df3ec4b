"""Everything the demo prints about its results, as functions of the measurements.

No sentence here is fixed in advance: each is chosen and filled in from the
:class:`~sk_dbn._demo.results.Table` just measured, so a run whose numbers tell
another story prints another story. The functions take tables and return lines
(or sentences), so they can be tested on synthetic tables.
"""

import textwrap

import numpy as np

from .results import (
    COLLAPSE_RATIO,
    FALLING_DEFINITION,
    FALLING_FRACTION,
    MIN_GAP,
    PRETRAIN_DEFINITION,
    TOWARD_ZERO,
    at_chance,
    best_rows,
    clearly_above,
    clearly_more_accurate,
    compare,
    epochs_to,
)

WIDTH = 88

PAPER_TABLE = {
    "LSUV": {"maxout": 93, "ReLU": 92, "VLReLU": 92, "tanh": 89, "sigmoid": "n/c"},
    "OrthoNorm": {"maxout": 93, "ReLU": 91, "VLReLU": 92, "tanh": 89,
                  "sigmoid": "n/c"},
    "OrthoNorm-MSRA": {"maxout": None, "ReLU": 91, "VLReLU": 93, "tanh": None,
                       "sigmoid": "n/c"},
    "Xavier": {"maxout": 91, "ReLU": 90, "VLReLU": 92, "tanh": 89, "sigmoid": "n/c"},
    "MSRA (He)": {"maxout": "n/c", "ReLU": 90, "VLReLU": 92, "tanh": 89,
                  "sigmoid": "n/c"},
}
"""Mishkin & Matas (2015), test accuracy (%) of FitNet4 on CIFAR-10, as the lecture
slide shows it: whole percents, "n/c" where training did not converge, None where
the paper has no entry ("-"). Transcribed from the lecture's slide at
https://youngminpark2559.github.io/prac_ml/shkim/010-lec-002 (the paper's decimals
were not available where this was written)."""

PAPER_SOURCE = ("Mishkin & Matas (2015), FitNet4 on CIFAR-10, test accuracy % as on "
                "the lecture slide")


# ------------------------------------------------------------------ formatting
def quick_caveat(table, quick):
    """A line to put before the commentary of a quick run with under-trained
    cells (empty otherwise)."""
    if quick and any(c.under_trained for c in table.cells.values()):
        return ["  (--quick: what follows describes under-trained networks; the full "
                "run is the one to read)"]
    return []


def wrap(sentences, indent="  - "):
    """Bullet-wrapped lines, one bullet per sentence."""
    lines = []
    for sentence in sentences:
        lines += textwrap.wrap(sentence, WIDTH, initial_indent=indent,
                               subsequent_indent=" " * len(indent))
    return lines


def _nc_text(cell, digits):
    """``"n/c (0.10)"``: n/c with the mean test accuracy of the seeds that did not
    diverge (``"diverged"`` when all did)."""
    if all(f.diverged for f in cell.fits):
        return "diverged"
    return f"n/c ({cell.mean_all:.{digits}f})"


def _marks(cell):
    return ("†" if cell.n_nc and not cell.all_nc else "") + (
        "*" if cell.falling else "") + ("°" if cell.pretrain_under_trained else "")


def accuracy(cell):
    """For prose: ``"0.931"``, ``"n/c (0.102)"`` or ``"0.620 (1 of 3 seeds n/c)"``,
    with the table's marks for a loss or a pre-training still improving."""
    if cell.all_nc:
        text = _nc_text(cell, 3)
    else:
        text = f"{cell.mean:.3f}"
        if cell.n_nc:
            text += f" ({cell.n_nc} of {len(cell.fits)} seeds n/c)"
    return text + _marks(cell).replace("†", "")


def cell_text(cell):
    """A table entry: ``mean ± std`` over the converged seeds and its marks."""
    text = _nc_text(cell, 2)
    if not cell.all_nc:
        text = f"{cell.mean:.3f}"
        if len(cell.fits) > 1:
            text += f" ± {cell.std:.3f}"
    marks = _marks(cell)
    return text + (" " + marks if marks else "")


def row_label(table, row, quick):
    """The row's label; in quick mode marked when any of its cells is
    under-trained (:attr:`Cell.under_trained <sk_dbn._demo.results.Cell>`)."""
    if quick and any(c.under_trained for c in table.row(row).values()):
        return f"{row} (under-trained)"
    return str(row)


def format_table(table, *, quick=False, column_label=str, corner="init",
                 extra=None):
    """The table as aligned text lines; ``extra`` adds leading columns:
    ``[(header, {row: text})]``."""
    extra = extra or []
    labels = [row_label(table, r, quick) for r in table.rows]
    headers = [h for h, _ in extra] + [column_label(c) for c in table.columns]
    body = [[values[r] for _, values in extra]
            + [cell_text(table.cells[r, c]) for c in table.columns]
            for r in table.rows]
    return aligned(corner, labels, headers, body)


def aligned(corner, labels, headers, body):
    """Lines of a text table: ``labels`` down the left under ``corner``,
    ``headers`` across, ``body`` (one list of strings per label) right-aligned."""
    first = max(len(corner), *map(len, labels)) + 2
    widths = [max(len(h), *(len(b[j]) for b in body)) + 2
              for j, h in enumerate(headers)]
    lines = [corner.ljust(first) + "".join(h.rjust(w) for h, w in
                                            zip(headers, widths))]
    lines.append("-" * len(lines[0]))
    for label, cells in zip(labels, body):
        lines.append(label.ljust(first) + "".join(c.rjust(w) for c, w in
                                                  zip(cells, widths)))
    return lines


def legend(table, *, quick=False, column_label=str):
    """Footnotes for the marks the table uses (and only those)."""
    cells = [(r, c, table.cells[r, c]) for r in table.rows for c in table.columns]
    lines = []
    partial = [f"{r} x {column_label(c)} ({cell.n_nc} of {len(cell.fits)})"
               for r, c, cell in cells if cell.n_nc and not cell.all_nc]
    if partial:
        lines.append("† some seeds n/c, mean ± std over the others: "
                     + ", ".join(partial))
    if any(cell.falling for _, _, cell in cells):
        lines.append(f"* {FALLING_DEFINITION} (a longer run would score higher)")
    if any(cell.pretrain_under_trained for _, _, cell in cells):
        lines.append(f"° {PRETRAIN_DEFINITION}")
    if quick and any(cell.under_trained for _, _, cell in cells):
        lines.append("(under-trained), in --quick: a row with * or °, or with an "
                     "n/c cell whose loss fell by more than "
                     f"{FALLING_FRACTION:.0%} of the input-blind loss over its "
                     "epochs (leaving a plateau); its numbers say little: run "
                     "without --quick")
    return wrap(lines, indent="  ")


# ------------------------------------------------------------- shared phrases
def _join(items):
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _where(cells):
    """``"0.931 under Adam and n/c under SGD"`` for ``{column: cell}``."""
    return _join(f"{accuracy(cell)} under {col}" for col, cell in cells.items())


def _verdict(cell):
    if cell.all_nc:
        return "n/c"
    return "trains" if cell.trains else "mixed"


def _gradient_ratio(cell):
    """Mean over fits of the first epoch's gradient norm of the bottom layer over
    the output layer's (None without such fits)."""
    ratios = [f.gradient_norms[0] / f.gradient_norms[-1] for f in cell.fits
              if len(f.gradient_norms) > 1 and f.gradient_norms[-1] > 0]
    return float(np.mean(ratios)) if ratios else None


def _layer_mean(stats, key):
    return float(np.mean([s[key] for s in stats]))


# ------------------------------------------------------ 1. the storyline
# Its comparisons are of test accuracy over every seed, n/c or not (the table
# shows n/c cells with their accuracy): "beats", "below", "level" and "best"
# always agree with the numbers printed beside them.
def initial_columns(table):
    """Extra columns for the storyline table: saturation and spread at init."""
    initial = table.notes["initial"]
    saturated = {r: f"{_layer_mean(initial[r], 'saturated'):.0%}" for r in table.rows}
    spread = {r: f"{initial[r][-1]['std']:.2g}" for r in table.rows}
    return [("saturated at init", saturated), ("top spread at init", spread)]


def zeros_sentence(table, width):
    cells = table.row("zeros")
    units = [f.distinct_units for c in cells.values() for f in c.fits
             if f.distinct_units is not None]
    best = {col: max(table.column(col).values(), key=_rank_all) for col in cells}
    if all(at_chance(c, table.chance) for c in cells.values()):
        text = f"zeros stays at chance ({_where(cells)})"
    else:
        above = {col: c for col, c in cells.items() if not at_chance(c, table.chance)}
        text = (f"zeros rises above chance ({table.chance:.3f}) under "
                f"{_join(above)} ({_where(above)}), ")
        below = [col for col in above if clearly_more_accurate(best[col], above[col])]
        text += "far below the best start" if below else "level with the best start"
        text += f" ({_where({c: best[c] for c in above})})"
    if units and max(units) == 1:
        text += (f": after training every hidden layer still has a single distinct "
                 f"unit, its {width} units identical, so each layer acts as one unit "
                 "(the symmetry is never broken)")
        if not all(at_chance(c, table.chance) for c in cells.values()):
            text += "; one unit per layer can still pass one number about the input on"
    elif units:
        text += f"; after training a hidden layer has up to {max(units)} distinct units"
    return text + "."


def _rank(cell):
    """For ranking converged accuracies: n/c below everything."""
    return -1.0 if cell.all_nc else cell.mean


def _rank_all(cell):
    """For ranking test accuracies, n/c seeds included (diverged: last)."""
    return -1.0 if np.isnan(cell.mean_all) else cell.mean_all


def saturation_sentence(table, big="N(0, 1)", ref="xavier_normal"):
    initial = table.notes["initial"]
    sat, sat_ref = (_layer_mean(initial[r], "saturated") for r in (big, ref))
    cells, refs = table.row(big), table.row(ref)
    text = (f"{big} starts {sat:.0%} of the sigmoid outputs saturated (within 0.01 "
            f"of 0 or 1; {ref}: {sat_ref:.0%})")
    trains = [col for col, c in cells.items() if not c.all_nc]
    if not trains:
        return f"{text}, and it does not train ({_where(cells)}), as the lecture warns."
    good = [col for col in trains if not clearly_more_accurate(refs[col], cells[col])]
    text += f"; it reaches {_where(cells)}"
    worse = [col for col in cells if col not in good]
    if good:
        text += f" — no worse than {ref} under {_join(good)}"
        if worse:
            text += (f" (below it under {_join(worse)}: "
                     f"{_where({c: refs[c] for c in worse})})")
        text += ": here the lecture's warning does not bite"
        r_big = _gradient_ratio(cells[good[-1]])
        r_ref = _gradient_ratio(refs[good[-1]])
        if r_big is not None and r_ref is not None and r_big > r_ref:
            text += (f". Its large weights also amplify the error sent down: in the "
                     f"first epoch under {good[-1]} the bottom layer's gradient is "
                     f"{r_big:.2g} x the output layer's, against {r_ref:.2g} x from "
                     f"{ref}")
    else:
        text += f", below {ref} ({_where(refs)}), as the lecture warns"
    return text + "."


def collapse_sentence(table, small="N(0, 0.01²)", ref="xavier_normal"):
    initial = table.notes["initial"]
    spread, spread_ref = (initial[r][-1]["std"] for r in (small, ref))
    cells = table.row(small)
    collapsed = spread < COLLAPSE_RATIO * spread_ref
    text = (f"{small} {'collapses' if collapsed else 'shrinks'} the signal: the top "
            f"hidden layer's outputs spread by {spread:.2g} around their mean at init "
            f"({ref}: {spread_ref:.2g}); it gives {_where(cells)}")
    chance = {col: at_chance(c, table.chance) for col, c in cells.items()}
    if all(chance.values()):
        text += ", chance level, as the lecture says"
    elif "Adam" in cells and "SGD" in cells and chance["SGD"] and not chance["Adam"]:
        text += (": at chance under SGD, but Adam scales each weight's step by the "
                 "size of that weight's own recent gradients, so even tiny gradients "
                 "move the weights")
    return text + "."


def scaled_sentence(table, xavier="xavier_normal", he="he_normal"):
    xs, hs = table.row(xavier), table.row(he)
    parts = []
    for col in table.columns:
        parts.append(f"under {col} {accuracy(hs[col])} from {he}, "
                     f"{accuracy(xs[col])} from {xavier} — "
                     + comparison_phrase(compare(hs[col], xs[col]), he, xavier))
    text = f"The fan-scaled starts on sigmoids: {_join(parts)}"
    ratios = {r: _gradient_ratio(table.cells[r, "SGD"]) for r in (xavier, he)
              if "SGD" in table.columns}
    if len(ratios) == 2 and None not in ratios.values():
        text += (f". Both variances are derived for units with slope 1 at 0; a "
                 f"sigmoid's is 1/4, and in the first SGD epoch the bottom layer's "
                 f"gradient is {ratios[xavier]:.2g} x the output layer's from "
                 f"{xavier}, {ratios[he]:.2g} x from {he}")
    return text + "."


def rbm_sentence(table, rbm="rbm"):
    cells = table.row(rbm)
    others = [r for r in table.rows if r != rbm]
    parts = []
    for col, cell in cells.items():
        column = table.column(col)
        best_other = max(others, key=lambda r: _rank_all(column[r]))
        if cell.all_nc:
            parts.append(f"n/c under {col}")
        elif clearly_more_accurate(cell, column[best_other]):
            parts.append(f"under {col} the best start of all ({accuracy(cell)}; next "
                         f"{best_other}, {accuracy(column[best_other])})")
        elif clearly_more_accurate(column[best_other], cell):
            parts.append(f"under {col} {accuracy(cell)}, below {best_other} "
                         f"({accuracy(column[best_other])})")
        else:
            parts.append(f"under {col} {accuracy(cell)}, level with the best "
                         f"({best_other}, {accuracy(column[best_other])})")
    text = "RBM pre-training: " + "; ".join(parts)
    if any(c.pretrain_under_trained for c in cells.values()):
        text += " (its pre-training was under-trained: see °)"
    return text + "."


def optimiser_sentence(table):
    """Rows whose verdict depends on the optimiser, and why that can be."""
    if len(table.columns) != 2:
        return None
    a, b = table.columns
    differ = []
    for row in table.rows:
        ca, cb = table.cells[row, a], table.cells[row, b]
        chance_a, chance_b = (at_chance(c, table.chance) for c in (ca, cb))
        if chance_a != chance_b:
            differ.append(f"{row} ({a} {accuracy(ca)}, {b} {accuracy(cb)})")
    if not differ:
        return (f"{a} and {b} agree on which starts leave chance level.")
    return (f"{a} and {b} tell different stories for {_join(differ)}. Adam divides "
            "each weight's step by a running size of its own gradients, so layers "
            "whose gradients vanished still take full-size steps; SGD's steps shrink "
            "with the gradients — the setting of the classic experiments, where these "
            "effects were found.")


def storyline_commentary(table, width):
    sentences = [zeros_sentence(table, width), saturation_sentence(table),
                 collapse_sentence(table), scaled_sentence(table),
                 rbm_sentence(table), optimiser_sentence(table)]
    return wrap([s for s in sentences if s])


# ------------------------------------ 2. Glorot & Bengio (2010), their conditions
# A lesson says the reference start (xavier_uniform) does better than another;
# its verdict in a column comes from compare(): margins between converged seeds
# only, "clearly" only beyond the seeds' spread.
VERDICTS = {"a": "holds", "a only": "holds", "a?": "unclear", "level": "does not hold",
            "neither": "does not hold", "b?": "does not hold", "b": "reversed",
            "b only": "reversed"}
"""The lesson "a does better than b" for each :class:`~.results.Comparison` kind."""
VERDICT_ORDER = ("holds", "unclear", "does not hold", "reversed")

GLOROT_REF = "xavier_uniform"
GLOROT_LESSONS = {
    "standard": "Glorot & Bengio's normalized start (xavier_uniform) does better "
                "than their standard one",
    "N(0, 1)": "N(0, 1) saturates the units and does worse than xavier_uniform",
    "N(0, 0.01²)": "N(0, 0.01²) collapses the signal and does worse than "
                   "xavier_uniform",
}
"""The lessons the part tests, by the start they set against xavier_uniform."""


def _points(x):
    return f"{100 * abs(x):.1f}"


def comparison_phrase(cmp, a, b):
    """What :func:`~.results.compare` found, in words, for cells labelled ``a``
    and ``b``: "clearly" only for a margin beyond the seeds' spread."""
    if cmp.kind == "neither":
        return "neither converges"
    if cmp.kind.endswith("only"):
        return f"only {a if cmp.kind == 'a only' else b} converges"
    if cmp.kind == "level":
        return (f"level: {_points(cmp.gap)} points apart, not above the "
                f"{_points(MIN_GAP)} a clear margin needs")
    ahead = a if cmp.kind.startswith("a") else b
    if not cmp.kind.endswith("?"):
        return (f"{ahead} clearly ahead by {_points(cmp.gap)} points, more than "
                f"the seeds' spread ({_points(cmp.spread)})")
    if cmp.seeds < 2:
        return f"{ahead} ahead by {_points(cmp.gap)} points (one seed: no spread)"
    return (f"{ahead} ahead by {_points(cmp.gap)} points, within the seeds' "
            f"spread ({_points(cmp.spread)})")


def lesson_verdict(table, better, worse, column):
    """``(verdict, evidence)`` of "``better`` does better than ``worse``" in
    ``column``."""
    a, b = table.cells[better, column], table.cells[worse, column]
    cmp = compare(a, b)
    return VERDICTS[cmp.kind], (f"{accuracy(a)} vs {accuracy(b)}: "
                                + comparison_phrase(cmp, better, worse))


def _by_optimiser(table):
    """``{optimiser: [columns]}`` in the table's order."""
    groups = {}
    for column in table.columns:
        groups.setdefault(column[1], []).append(column)
    return groups


def lesson_sentence(table, worse, claim, better=GLOROT_REF):
    parts = []
    for opt, columns in _by_optimiser(table).items():
        clauses = []
        for column in columns:
            verdict, evidence = lesson_verdict(table, better, worse, column)
            clauses.append(f"{column[0]}: {verdict} ({evidence})")
        parts.append(f"under {opt}, " + "; ".join(clauses))
    return f"Lesson: {claim}. " + ". ".join(p[0].upper() + p[1:] for p in parts) + "."


def _inside(table, row, column):
    return table.notes["inside"][row, column]


def spread_sentence(table, act="tanh", opt="SGD"):
    """Glorot & Bengio's Figure 6: the standard start shrinks the signal layer by
    layer, the normalized one keeps it."""
    column = (act, opt)
    std, ref = (_inside(table, r, column).spread_init for r in ("standard", GLOROT_REF))
    text = (f"At init, the {act} network's top hidden layer spreads its outputs "
            f"{std:.2g} x as widely as its first from standard, {ref:.2g} x from "
            f"{GLOROT_REF}")
    if std < ref and std < 1:
        text += (": the standard start shrinks the signal layer by layer, the "
                 "normalized one keeps more of it, as the paper's Figure 6 shows")
    else:
        text += ": not the shrinking from the standard start the paper's Figure 6 shows"
    return text + "."


def speed_sentence(table, worse="standard", opt="SGD"):
    """Glorot & Bengio: the normalized start also trains faster."""
    half = table.baseline / 2
    parts = []
    for column in [c for c in table.columns if c[1] == opt]:
        said = []
        for row in (GLOROT_REF, worse):
            curve = table.cells[row, column].mean_curve()
            epoch = epochs_to(curve, half)
            said.append(f"{row} by epoch {epoch}" if epoch
                        else f"{row} not within its {len(curve)} epochs")
        parts.append(f"{column[0]}: {_join(said)}")
    return (f"The mean training loss under plain {opt} falls below half the "
            "input-blind loss — " + "; ".join(parts) + ".")


def glorot_saturation_sentence(table, big="N(0, 1)", opt="SGD"):
    acts = [c[0] for c in table.columns if c[1] == opt]
    inside = {a: _inside(table, big, (a, opt)) for a in acts}
    ref = {a: _inside(table, GLOROT_REF, (a, opt)) for a in acts}
    start = _join(f"{inside[a].saturated_init:.0%} of the top {a} layer's outputs"
                  for a in acts)
    text = (f"{big} starts with {start} saturated (within 0.01 of the bounds; "
            f"{GLOROT_REF}: {_join(f'{ref[a].saturated_init:.0%}' for a in acts)})")
    text += ("; after the plain-SGD budget: "
             + _join(f"{inside[a].saturated_end:.0%} ({a})" for a in acts))
    return text + "."


def collapse_glorot_sentence(table, small="N(0, 0.01²)", opt="SGD"):
    acts = [c[0] for c in table.columns if c[1] == opt]
    parts, collapsed = [], []
    for act in acts:
        top = _inside(table, small, (act, opt)).top_std_init
        ref = _inside(table, GLOROT_REF, (act, opt)).top_std_init
        parts.append(f"{top:.2g} on the {act} network ({GLOROT_REF}: {ref:.2g})")
        if top < COLLAPSE_RATIO * ref:
            collapsed.append(act)
    text = f"{small}: the top hidden layer's outputs spread by {_join(parts)} at init"
    if collapsed:
        text += (f" — less than {COLLAPSE_RATIO:g} x {GLOROT_REF}'s, collapsed, on "
                 f"the {_join(collapsed)} network" + "s" * (len(collapsed) > 1))
    else:
        text += f" — not below {COLLAPSE_RATIO:g} x {GLOROT_REF}'s: no collapse"
    return text + "."


def toward_zero_sentence(table, row="standard", column=("sigmoid", "SGD")):
    """Glorot & Bengio's Figure 2: from the standard start, a deep sigmoid
    network's top hidden layer is driven to 0 while the loss stays on a plateau."""
    inside, cell = _inside(table, row, column), table.cells[row, column]
    text = (f"On the {column[0]} network under plain {column[1]}, from {row}, the "
            f"top hidden layer's mean output went from {inside.top_mean_init:.2f} at "
            f"init to {inside.top_mean_end:.2f}")
    if inside.driven_toward_zero and cell.all_nc:
        text += (f" (below {TOWARD_ZERO:g} x its start) while the network stayed on "
                 f"the plateau ({accuracy(cell)}): the saturation toward 0 that "
                 "Glorot & Bengio saw (their Figure 2)")
    elif inside.driven_toward_zero:
        text += (f", driven toward 0 (below {TOWARD_ZERO:g} x its start), but the "
                 f"network trained ({accuracy(cell)}): no lasting plateau")
    else:
        text += (f", not driven toward 0 (the paper saw it pushed there), with "
                 f"{accuracy(cell)}")
    return text + "."


def glorot_gradient_sentence(table, row=GLOROT_REF, opt="SGD"):
    """Why a normalized start need not suit a sigmoid: its slope is at most 1/4."""
    ratios = {c[0]: _gradient_ratio(table.cells[row, c]) for c in table.columns
              if c[1] == opt}
    if None in ratios.values() or not {"sigmoid", "tanh"} <= set(ratios):
        return None
    text = (f"In the first {opt} epoch from {row}, the bottom layer's gradient is "
            f"{ratios['sigmoid']:.2g} x the output layer's on the sigmoid network, "
            f"{ratios['tanh']:.2g} x on the tanh one")
    if ratios["sigmoid"] < ratios["tanh"]:
        text += (": the normalized variance assumes units of slope 1 at 0, a "
                 "sigmoid's is 1/4, and the error shrinks on its way down")
    return text + "."


def glorot_summary(table):
    """Where each lesson holds, and where not, in one sentence."""
    found = {}
    for worse in GLOROT_LESSONS:
        for column in table.columns:
            verdict, _ = lesson_verdict(table, GLOROT_REF, worse, column)
            found.setdefault(verdict, {}).setdefault(worse, []).append(
                f"{column[0]} with {column[1]}")
    said = [f"{verdict} against " + _join(
                f"{worse} ({', '.join(columns)})"
                for worse, columns in found[verdict].items())
            for verdict in VERDICT_ORDER if verdict in found]
    return (f"In short, the lesson that {GLOROT_REF} does better "
            + "; ".join(said) + ".")


def glorot_commentary(table):
    sentences = [lesson_sentence(table, worse, claim)
                 for worse, claim in GLOROT_LESSONS.items()]
    sentences += [speed_sentence(table), spread_sentence(table),
                  glorot_saturation_sentence(table),
                  collapse_glorot_sentence(table), toward_zero_sentence(table),
                  glorot_gradient_sentence(table), glorot_summary(table)]
    return wrap([s for s in sentences if s])


def inside_table(table, opt="SGD"):
    """The hidden layers of the plain-SGD networks: at init, and after training
    (``→``), one row per start and activation."""
    labels, body = [], []
    for act in [c[0] for c in table.columns if c[1] == opt]:
        for row in table.rows:
            inside = _inside(table, row, (act, opt))
            ratio = _gradient_ratio(table.cells[row, (act, opt)])
            labels.append(f"{row}, {act}")
            body.append([
                f"{inside.top_std_init:.2g}", f"{inside.spread_init:.2g}",
                f"{inside.saturated_init:.0%} → {inside.saturated_end:.0%}",
                f"{inside.top_mean_init:.2f} → {inside.top_mean_end:.2f}",
                "-" if ratio is None else f"{ratio:.2g}"])
    headers = ["top std", "top/first std", "top saturated", "top mean",
               "gradient bottom/out"]
    return aligned("init, activation", labels, headers, body)


INSIDE_LEGEND = (
    "top: the top (last) hidden layer, first: the first, on the training rows, "
    "mean over seeds; std: the spread of a layer's outputs at init; saturated: "
    "outputs within 0.01 of the activation's bounds; a → b: at init → after the "
    "plain-SGD budget (diverged seeds left out); gradient bottom/out: the first "
    "epoch's gradient norm of the bottom layer's weights over the output layer's"
)


# -------------------------------------------------- 2. Mishkin & Matas' table
def column_sentence(table, column):
    cells = table.column(column)
    nc = [r for r, c in cells.items() if c.all_nc]
    if len(nc) == len(cells):
        return f"{column}: n/c from every start."
    best = best_rows(cells)
    text = f"{column}: best {_join(f'{r} ({accuracy(cells[r])})' for r in best)}"
    rest = [r for r in cells if r not in best and r not in nc]
    if rest:
        worst = min(rest, key=lambda r: _rank(cells[r]))
        text += f"; lowest {worst} ({accuracy(cells[worst])})"
    if nc:
        text += f"; n/c: {_join(nc)}"
    return text + "."


def paper_comparison(table, paper=None):
    """How the measured table compares with the paper's, cell by cell (n/c or
    not) and column by column (which rows are best)."""
    paper = PAPER_TABLE if paper is None else paper
    agree, differ = 0, []
    best_lines, spreads = [], []
    for column in table.columns:
        entries = {r: paper.get(r, {}).get(column) for r in table.rows}
        entries = {r: v for r, v in entries.items() if v is not None}
        for row, value in entries.items():
            ours = table.cells[row, column].all_nc
            if ours == (value == "n/c"):
                agree += 1
            else:
                differ.append(
                    f"{row} x {column} (paper {value}, here "
                    f"{accuracy(table.cells[row, column])})")
        numbers = {r: v for r, v in entries.items() if v != "n/c"}
        if numbers:
            top = max(numbers.values())
            paper_best = [r for r, v in numbers.items() if v == top]
            # the best here among the starts the paper reports
            ours = best_rows({r: c for r, c in table.column(column).items()
                              if r in entries})
            best_lines.append(
                f"{column}: paper's best {_join(paper_best)} ({top}); here "
                f"{_join(ours) if ours else 'none converges'} — "
                + _best_agreement(table.column(column), paper_best, ours, numbers))
        here = [table.cells[r, column].mean for r in numbers
                if not table.cells[r, column].all_nc]
        if len(numbers) > 1 and len(here) > 1:
            paper_spread = max(numbers.values()) - min(numbers.values())
            spreads.append(f"{column} paper {paper_spread}, here "
                           f"{100 * (max(here) - min(here)):.0f}")
    total = agree + len(differ)
    sentences = []
    if total:
        text = f"Converged or not: agrees with the paper on {agree} of {total} cells"
        text += (f"; differs on {_join(differ)}." if differ else ".")
        sentences.append(text)
    if best_lines:
        sentences.append("Best start per column: " + "; ".join(best_lines) + ".")
    if spreads:
        sentences.append("Best minus worst converged start, in points, among the "
                         "starts the paper reports: " + "; ".join(spreads) + ".")
    return sentences


def _best_agreement(cells, paper_best, ours, reported):
    """Whether the best starts here are the paper's: "agrees" only when they are
    the same among the starts the paper reports; else what differs, and where
    each of the paper's best stands here."""
    same = [r for r in paper_best if r in ours]
    missing = [r for r in paper_best if r not in ours]
    extra = [r for r in ours if r in reported and r not in paper_best]
    if not missing and not extra:
        return "agrees"
    converged = [r for r in cells if not cells[r].all_nc]
    lowest = min(converged, key=lambda r: cells[r].mean) if converged else None
    where = _join(f"{r} ({accuracy(cells[r])}"
                  + (", the lowest here" if r == lowest else "") + ")"
                  for r in missing)
    text = f"agrees on {_join(same)}, " if same else "differs: "
    if missing:
        text += f"not on the paper's {where}"
    if extra:
        text += ("; " if missing else "") + f"here also {_join(extra)}"
    return text


def table_commentary(table):
    return wrap([column_sentence(table, c) for c in table.columns]
                + paper_comparison(table))


def paper_lines(columns, rows):
    """The paper's numbers for ``columns`` (those it has), as a small table."""
    cols = [c for c in columns if any(c in PAPER_TABLE.get(r, {}) for r in rows)]
    first = max(map(len, rows)) + 2
    lines = ["init".ljust(first) + "".join(c.rjust(9) for c in cols)]
    for r in rows:
        values = [PAPER_TABLE.get(r, {}).get(c) for c in cols]
        lines.append(r.ljust(first) + "".join(
            ("-" if v is None else str(v)).rjust(9) for v in values))
    return lines


# -------------------------------------------------- 3. He et al.'s depth
def depth_commentary(table, xavier="xavier_normal", he="he_normal"):
    deep, shallow = max(table.columns), min(table.columns)
    x, h = table.cells[xavier, deep], table.cells[he, deep]
    sentences = []
    if x.all_nc and h.trains:
        verdict = "reproduced"
    elif clearly_above(h, x):
        verdict = "partly reproduced"
    else:
        verdict = "not reproduced"
    sentences.append(
        f"He et al. (2015): with 30 ReLU layers, Xavier's start stalls while theirs "
        f"trains. At {deep} layers here: {xavier} {accuracy(x)}, {he} "
        f"{accuracy(h)} — {verdict}.")
    for row in table.rows:
        if row in (xavier, he):
            continue
        cell = table.cells[row, deep]
        against = [f"against {r} ({accuracy(table.cells[r, deep])}): "
                   + comparison_phrase(compare(cell, table.cells[r, deep]), row, r)
                   for r in (xavier, he)]
        sentences.append(f"{row} at {deep} layers: {accuracy(cell)}; "
                         + "; ".join(against) + ".")
    xs, hs = table.cells[xavier, shallow], table.cells[he, shallow]
    text = f"At {shallow} layers: {xavier} {accuracy(xs)}, {he} {accuracy(hs)}"
    if xs.trains and hs.trains:
        half = table.baseline / 2
        ex, eh = (epochs_to(c.mean_curve(), half) for c in (xs, hs))
        text += " — both train"
        if ex is not None and eh is not None and ex != eh:
            faster, slower = (he, xavier) if eh < ex else (xavier, he)
            text += (f"; {faster} halves the input-blind loss by epoch {min(ex, eh)}, "
                     f"{slower} by epoch {max(ex, eh)}")
    sentences.append(text + ".")
    return wrap(sentences)


# ------------------------------------------------------- 4. few labels
def few_labels_commentary(table, rbm="rbm"):
    """RBM pre-training against each random start, per optimiser: the accuracy
    differences at each label count, where both converged (:func:`compare`)."""
    sentences = []
    for opt in dict.fromkeys(opt for opt, _ in table.columns):
        cols = [c for c in table.columns if c[0] == opt]
        parts = []
        for other in table.rows:
            if other != rbm:
                parts.append(f"minus {other}'s: " + _gaps(table, rbm, other, cols))
        sentences.append(f"Under {opt}, {rbm}'s test accuracy "
                         + "; ".join(parts) + ".")
    return wrap(sentences)


def _gaps(table, a, b, columns):
    """``"+8 at 20, +11 at 50 labels (...)"``: a's accuracy minus b's at each
    label count where both converged, how many of those margins are clear, and
    where one or neither converged."""
    found = {col: compare(table.cells[a, col], table.cells[b, col])
             for col in columns}
    margins = [(n, c) for (_, n), c in found.items() if c.gap is not None]
    said = []
    if margins:
        ahead = sum(c.kind == "a" for _, c in margins)
        behind = sum(c.kind == "b" for _, c in margins)
        said.append(", ".join(f"{100 * c.gap:+.0f}" + " points" * (k == 0)
                              + f" at {n}" + " labels" * (k == 0)
                              for k, (n, c) in enumerate(margins))
                    + f" ({a} clearly ahead, beyond the seeds' spread, at {ahead} "
                    f"of these {len(margins)} label counts, clearly behind at "
                    f"{behind})")
    for kind, words in (("a only", f"only {a} converges"),
                        ("b only", f"only {b} converges"),
                        ("neither", "neither converges")):
        counts = [str(n) for (_, n), c in found.items() if c.kind == kind]
        if counts:
            said.append(f"{words} at {_join(counts)} labels")
    return "; ".join(said)
