"""What the demo measures, and the definitions it judges the measurements by.

Everything here is plain data and arithmetic, with no training: one :class:`Fit`
per network and seed, a :class:`Cell` per table entry (its fits over the seeds),
and the measurable definitions the demo prints — *n/c*, *still falling*,
*under-trained* — so that the text in :mod:`sk_dbn._demo.text` can be tested on
synthetic tables.
"""

from dataclasses import dataclass, field

import numpy as np

NC_FRACTION = 0.9
"""A fit is n/c (not converged) when its final training cross-entropy is at least
this fraction of the input-blind loss (see :func:`input_blind_loss`)."""

FALLING_FRACTION = 0.02
"""A loss curve is still falling when, over its last quarter, it fell by more than
this fraction of the input-blind loss."""

PRETRAIN_FALLING_FRACTION = 0.1
"""RBM pre-training is still improving when, over its last quarter of epochs, the
first RBM's reconstruction error fell by more than this fraction of itself..."""

PRETRAIN_MIN_DROP = 0.5
"""... or when its final reconstruction error is above this fraction of the error
after its first epoch (an RBM's error sits on a plateau for its first epochs
before it falls, so a short run can look flat)."""

MIN_GAP = 0.01
"""Two accuracies differ clearly when their means differ by more than this and by
more than the sum of their standard deviations over seeds."""

COLLAPSE_RATIO = 0.1
"""A start collapses the signal when, at init, its top hidden layer's outputs
spread (std) by less than this fraction of their spread from Xavier's start."""

TOWARD_ZERO = 0.5
"""A sigmoid layer is driven toward 0 when its mean output after training is below
this fraction of its mean output at init."""

CHANCE_MARGIN = 0.05
"""An accuracy within this of the chance level counts as "at chance"."""

NC_DEFINITION = (
    f"n/c (not converged): the fit diverged (a non-finite loss), or its final "
    f"training cross-entropy is at least {NC_FRACTION:g} x that of predicting the "
    f"training class frequencies for every input"
)
FALLING_DEFINITION = (
    f"still falling: over the last quarter of the epochs the training loss fell by "
    f"more than {FALLING_FRACTION:.0%} of that input-blind loss"
)
PRETRAIN_DEFINITION = (
    f"RBM pre-training under-trained: the first RBM's reconstruction error ended "
    f"above {PRETRAIN_MIN_DROP:g} x its value after the first epoch, or fell by more "
    f"than {PRETRAIN_FALLING_FRACTION:.0%} over the last quarter of the epochs"
)


def input_blind_loss(y):
    """Cross-entropy (nats) of predicting the class frequencies of ``y`` for every
    row of ``y``: the best a network that ignores its input can do."""
    _, counts = np.unique(np.asarray(y), return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def chance_accuracy(y_train, y_test):
    """Test accuracy of always predicting the most frequent training class."""
    labels, counts = np.unique(np.asarray(y_train), return_counts=True)
    return float(np.mean(np.asarray(y_test) == labels[np.argmax(counts)]))


def _last_quarter_drop(values):
    """How much ``values`` fell over its last quarter (at least one step)."""
    values = list(values)
    if len(values) < 2:
        return 0.0
    k = max(1, len(values) // 4)
    return float(values[-1 - k] - values[-1])


def _first_to_last_drop(values):
    return float(values[0] - values[-1]) if len(values) > 1 else 0.0


def still_falling(curve, baseline):
    """Whether the loss ``curve`` was still falling clearly when it stopped."""
    return _last_quarter_drop(curve) > FALLING_FRACTION * baseline


def pretraining_under_trained(errors):
    """Whether RBM pre-training with reconstruction ``errors`` (one per epoch)
    stopped early: barely below its first epoch, or still falling clearly."""
    if errors is None:
        return False
    if len(errors) < 2 or errors[-1] > PRETRAIN_MIN_DROP * errors[0]:
        return True
    k = max(1, len(errors) // 4)
    return _last_quarter_drop(errors) > PRETRAIN_FALLING_FRACTION * errors[-1 - k]


@dataclass(frozen=True)
class Fit:
    """One trained network (one seed): what the demo keeps of it.

    ``accuracy`` and ``train_loss`` are None when the fit diverged.
    ``train_loss`` is the cross-entropy on the training rows without the L2 term;
    ``loss_curve`` the estimator's per-epoch loss; ``gradient_norms`` its first
    epoch's per-layer gradient norms; ``distinct_units`` the largest number of
    distinct units (weight columns) in a hidden layer after training;
    ``pretrain_errors`` the first RBM's reconstruction error per epoch (None
    without pre-training).
    """

    accuracy: float | None
    train_loss: float | None
    loss_curve: tuple = ()
    gradient_norms: tuple = ()
    distinct_units: int | None = None
    pretrain_errors: tuple | None = None
    seconds: float = 0.0

    @property
    def diverged(self):
        return self.accuracy is None


@dataclass
class Cell:
    """The fits of one table entry over the seeds, judged against ``baseline``
    (the input-blind loss of the training rows)."""

    fits: list
    baseline: float

    def not_converged(self, fit):
        return fit.diverged or fit.train_loss >= NC_FRACTION * self.baseline

    @property
    def converged(self):
        return [f for f in self.fits if not self.not_converged(f)]

    @property
    def n_nc(self):
        return len(self.fits) - len(self.converged)

    @property
    def all_nc(self):
        return not self.converged

    @property
    def trains(self):
        """Converged on every seed."""
        return self.n_nc == 0

    @property
    def mean(self):
        """Mean test accuracy over the converged seeds (nan when none)."""
        ok = [f.accuracy for f in self.converged]
        return float(np.mean(ok)) if ok else float("nan")

    @property
    def std(self):
        ok = [f.accuracy for f in self.converged]
        return float(np.std(ok)) if ok else float("nan")

    @property
    def falling(self):
        """Some seed's loss was still falling when the budget ran out (n/c ones
        included: they may be about to leave their plateau)."""
        return any(still_falling(f.loss_curve, self.baseline) for f in self.fits
                   if not f.diverged)

    @property
    def pretrain_under_trained(self):
        return any(pretraining_under_trained(f.pretrain_errors) for f in self.fits)

    @property
    def nc_moving(self):
        """Some n/c seed's loss fell by more than :data:`FALLING_FRACTION` of the
        input-blind loss over its epochs: it may be leaving a plateau."""
        return any(_first_to_last_drop(f.loss_curve) > FALLING_FRACTION * self.baseline
                   for f in self.fits if not f.diverged and self.not_converged(f))

    @property
    def under_trained(self):
        """Still falling, pre-training under-trained, or n/c but moving: a longer
        budget could change this cell's verdict."""
        return self.falling or self.pretrain_under_trained or self.nc_moving

    def _finished(self):
        return [f.accuracy for f in self.fits if not f.diverged]

    @property
    def mean_all(self):
        """Mean test accuracy over every seed that did not diverge, n/c or not."""
        ok = self._finished()
        return float(np.mean(ok)) if ok else float("nan")

    @property
    def std_all(self):
        ok = self._finished()
        return float(np.std(ok)) if ok else float("nan")

    def mean_curve(self):
        """Mean loss curve over the seeds that did not diverge (may be empty)."""
        curves = [f.loss_curve for f in self.fits if not f.diverged and f.loss_curve]
        if not curves:
            return np.array([])
        n = min(len(c) for c in curves)
        return np.mean([c[:n] for c in curves], axis=0)


def clearly_above(a, b):
    """Whether cell ``a``'s accuracy is clearly above cell ``b``'s, by
    :func:`compare`'s rule (n/c is below anything that converged; between
    converged cells, a margin beyond :data:`MIN_GAP` and the seeds' spread, with
    at least two converged seeds each)."""
    return compare(a, b).kind in ("a", "a only")


def clearly_more_accurate(a, b):
    """Whether cell ``a``'s test accuracy over all seeds that did not diverge (n/c
    or not) is clearly above cell ``b``'s."""
    gap = a.mean_all - b.mean_all
    return bool(gap > MIN_GAP and gap > a.std_all + b.std_all)


@dataclass(frozen=True)
class Comparison:
    """Cell ``a`` against cell ``b`` (:func:`compare`).

    ``kind`` is one of ``"neither"`` (both n/c), ``"a only"`` / ``"b only"``
    (only one converged), ``"a"`` / ``"b"`` (clearly above the other), ``"a?"`` /
    ``"b?"`` (above by more than :data:`MIN_GAP`, but within the seeds' spread or
    with one seed) and ``"level"``. ``gap`` (a's mean accuracy minus b's) and
    ``spread`` (the sum of their standard deviations) are over the converged
    seeds, and None unless both cells converged.
    """

    kind: str
    gap: float | None = None
    spread: float | None = None
    seeds: int = 0


def compare(a, b):
    """How cell ``a``'s test accuracy stands against cell ``b``'s, judged only
    between converged seeds: a margin is *clear* when it exceeds :data:`MIN_GAP`
    and the sum of the two standard deviations, each over at least two converged
    seeds (one seed has no spread to judge by)."""
    if a.all_nc or b.all_nc:
        kind = ("neither" if a.all_nc and b.all_nc
                else "b only" if a.all_nc else "a only")
        return Comparison(kind)
    gap, spread = a.mean - b.mean, a.std + b.std
    seeds = min(len(a.converged), len(b.converged))
    if abs(gap) <= MIN_GAP:
        kind = "level"
    else:
        kind = "a" if gap > 0 else "b"
        if seeds < 2 or abs(gap) <= spread:
            kind += "?"
    return Comparison(kind, gap, spread, seeds)


def best_rows(cells):
    """Labels of the cells (``{label: Cell}``) that no other cell is clearly above,
    among those that converged (empty when every cell is n/c)."""
    return [label for label, cell in cells.items() if not cell.all_nc
            and not any(clearly_above(other, cell) for other in cells.values())]


def at_chance(cell, chance):
    """Whether the mean test accuracy of the seeds that did not diverge (n/c or
    not) is within :data:`CHANCE_MARGIN` of ``chance`` (or every seed diverged)."""
    return not cell.mean_all > chance + CHANCE_MARGIN


def epochs_to(curve, level):
    """First epoch (1-based) at which ``curve`` is below ``level``; None if never."""
    below = np.flatnonzero(np.asarray(curve) < level)
    return int(below[0]) + 1 if below.size else None


@dataclass(frozen=True)
class Inside:
    """Hidden-layer statistics of a cell's fits, one entry per seed:
    ``initial`` as initialised and ``final`` after training (None for a fit that
    diverged), each a list of :func:`sk_dbn.diagnostics.activation_statistics`'
    per-layer dicts, bottom to top. The properties are means over the seeds."""

    initial: tuple
    final: tuple

    @staticmethod
    def _mean(values):
        values = [v for v in values if v is not None and np.isfinite(v)]
        return float(np.mean(values)) if values else float("nan")

    def _top(self, stats, key):
        return self._mean([s[-1][key] for s in stats if s is not None])

    @property
    def saturated_init(self):
        """Fraction of the top hidden layer's outputs saturated at init."""
        return self._top(self.initial, "saturated")

    @property
    def saturated_end(self):
        return self._top(self.final, "saturated")

    @property
    def top_mean_init(self):
        """The top hidden layer's mean output at init."""
        return self._top(self.initial, "mean")

    @property
    def top_mean_end(self):
        return self._top(self.final, "mean")

    @property
    def top_std_init(self):
        """The spread (std) of the top hidden layer's outputs at init."""
        return self._top(self.initial, "std")

    @property
    def spread_init(self):
        """The std of the top hidden layer's outputs over the first's, at init:
        below 1 the signal shrinks on its way up."""
        return self._mean([s[-1]["std"] / s[0]["std"] if s[0]["std"] > 0
                           else float("nan") for s in self.initial])

    @property
    def driven_toward_zero(self):
        """The top layer's mean output fell below :data:`TOWARD_ZERO` x its value
        at init (for a sigmoid: saturating at 0)."""
        return bool(self.top_mean_end < TOWARD_ZERO * self.top_mean_init)


@dataclass
class Table:
    """A measured table: ``cells[(row, column)]``, in the given orders."""

    rows: list
    columns: list
    cells: dict
    chance: float
    baseline: float
    notes: dict = field(default_factory=dict)

    def column(self, column):
        return {row: self.cells[row, column] for row in self.rows}

    def row(self, row):
        return {column: self.cells[row, column] for column in self.columns}
