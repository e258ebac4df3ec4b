"""The demo's figures (``python -m sk_dbn --plots DIR``): one or more per part,
each covering every row the part's text discusses.

They are drawn from the measurements the demo has just printed (loss curves,
gradient norms, the tables); only the activation histograms of the storyline set
up the initial networks again (:meth:`~sk_dbn.DBNClassifier.initialize`).
"""

import os
import sys
import warnings

import numpy as np

from .results import NC_FRACTION
from .runs import OPTIMISERS, make_classifier
from .text import PAPER_TABLE


def write_plots(directory, measured, data, quick, out=sys.stdout):
    """Write the figures of the parts in ``measured`` (``{name: (result,
    setting)}``) into ``directory``; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(directory, exist_ok=True)
    written = []

    def save(fig, name):
        path = os.path.join(directory, name)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
        print(f"  wrote {path}", file=out, flush=True)

    for name, (result, setting) in measured.items():
        for filename, fig in FIGURES[name](result, setting, data, quick, plt):
            save(fig, filename)
    return written


def _suffix(quick):
    return " (--quick: under-trained)" if quick else ""


def _panels(plt, n):
    """A figure with ``n`` side-by-side panels sharing their y axis."""
    fig, axes = plt.subplots(1, n, figsize=(6 * n, 4.2), sharey=True,
                             layout="constrained", squeeze=False)
    return fig, axes[0]


def _loss_axes(ax, table, cells, title):
    """Mean training-loss curves of ``cells`` ({label: Cell}) with the input-blind
    loss and the n/c threshold."""
    for label, cell in cells.items():
        curve = cell.mean_curve()
        if curve.size:
            ax.plot(np.arange(1, curve.size + 1), curve, label=label)
        else:
            ax.plot([], [], label=f"{label} (diverged)")
    ax.axhline(table.baseline, color="grey", ls=":", lw=1)
    ax.axhline(NC_FRACTION * table.baseline, color="grey", ls="--", lw=1)
    ax.set_ylim(0, 1.3 * table.baseline)  # a loss far above it is off the top
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (mean over seeds)")
    ax.grid(alpha=0.3)


# ------------------------------------------------------------------ storyline
def storyline_figures(table, setting, data, quick, plt):
    from ..diagnostics import plot_activation_histograms
    from .runs import STORYLINE_ROWS

    net, seed = setting["net"], setting["seeds"][0]
    X, y = data.X_train, data.y_train
    n_layers = len(net.hidden)
    fig, axes = plt.subplots(len(table.rows), n_layers,
                             figsize=(2.6 * n_layers + 0.8, 1.9 * len(table.rows)),
                             sharey="row", squeeze=False, layout="constrained")
    for row_axes, label in zip(axes, table.rows):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = make_classifier(STORYLINE_ROWS[label], net, seed).initialize(X, y)
        plot_activation_histograms(clf, X, axes=row_axes, label=label)
    fig.suptitle("sigmoid hidden layers as initialised, on the training rows "
                 f"(fraction of outputs per bin){_suffix(quick)}")
    yield "storyline_activations.png", fig

    fig, axes = _panels(plt, len(table.columns))
    for ax, opt in zip(axes, table.columns):
        _loss_axes(ax, table, table.column(opt), f"sigmoid network, {opt}")
    axes[0].legend(fontsize=8)
    fig.suptitle("storyline: training loss (dotted: input-blind loss; dashed: the "
                 f"n/c threshold){_suffix(quick)}")
    yield "storyline_loss_curves.png", fig

    fig, axes = _panels(plt, len(table.columns))
    for ax, opt in zip(axes, table.columns):
        for label, cell in table.column(opt).items():
            norms = [f.gradient_norms for f in cell.fits if len(f.gradient_norms)]
            if norms:
                mean = np.mean(norms, axis=0)
                ax.plot(np.arange(1, mean.size + 1), mean, marker="o", label=label)
                ax.set_xticks(np.arange(1, mean.size + 1))
        ax.set_yscale("log")
        ax.set_xlabel("layer (1 = bottom, last = output)")
        ax.set_title(f"{opt}: first epoch's gradient norm per layer")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean Frobenius norm of the weight gradient")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"storyline: where the gradients vanish{_suffix(quick)}")
    yield "storyline_gradient_norms.png", fig


# ------------------------------------------------------ Glorot & Bengio (2010)
def glorot_figures(table, setting, data, quick, plt):
    fig, axes = _panels(plt, len(table.columns))
    for ax, column in zip(axes, table.columns):
        _loss_axes(ax, table, table.column(column), f"{column[0]}, {column[1]}")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"five hidden layers on 784 pixels: training loss (dotted: "
                 f"input-blind loss; dashed: the n/c threshold){_suffix(quick)}")
    yield "glorot_loss_curves.png", fig


# ---------------------------------------------------------------- the table
def _heat_map(ax, values, labels, rows, columns, title):
    """``values`` (nan: no number) with ``labels`` written in the cells."""
    import matplotlib

    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="lightgrey")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1,
                      aspect="auto")
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(rows)), rows)
    for (i, j), text in np.ndenumerate(labels):
        value = values[i, j]
        ax.text(j, i, text, ha="center", va="center", fontsize=8,
                color="white" if np.isfinite(value) and value <= 0.6 else "black")
    ax.set_title(title)
    return image


def table_figures(table, setting, data, quick, plt):
    rows, columns = table.rows, table.columns
    ours = np.full((len(rows), len(columns)), np.nan)
    ours_text = np.empty(ours.shape, dtype=object)
    paper = np.full(ours.shape, np.nan)
    paper_text = np.empty(ours.shape, dtype=object)
    for (i, r), (j, c) in ((a, b) for a in enumerate(rows) for b in
                           enumerate(columns)):
        cell = table.cells[r, c]
        ours[i, j] = np.nan if cell.all_nc else cell.mean
        ours_text[i, j] = "n/c" if cell.all_nc else f"{cell.mean:.2f}" + (
            "*" if cell.falling else "")
        value = PAPER_TABLE.get(r, {}).get(c)
        paper[i, j] = value / 100 if isinstance(value, int) else np.nan
        paper_text[i, j] = "-" if value is None else str(value)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
    _heat_map(axes[0], ours, ours_text, rows, columns,
              f"{data.name}: {setting['net'].sizes(data.X_train.shape[1])}, SGD"
              f"{_suffix(quick)}")
    image = _heat_map(axes[1], paper, paper_text, rows, columns,
                      "Mishkin & Matas (2015): FitNet4, CIFAR-10 (%)")
    fig.colorbar(image, ax=axes, label="test accuracy")
    yield "lecture_table.png", fig


# ---------------------------------------------------------------- the depth
def depth_figures(table, setting, data, quick, plt):
    fig, axes = _panels(plt, len(table.columns))
    colours = dict(zip(table.rows, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for ax, depth in zip(axes, table.columns):
        for label, cell in table.column(depth).items():
            for k, fit in enumerate(cell.fits):
                if fit.loss_curve:
                    ax.plot(np.arange(1, len(fit.loss_curve) + 1), fit.loss_curve,
                            color=colours[label], lw=1,
                            label=label if k == 0 else None)
        ax.axhline(table.baseline, color="grey", ls=":", lw=1)
        ax.axhline(NC_FRACTION * table.baseline, color="grey", ls="--", lw=1)
        ax.set_ylim(0, 1.3 * table.baseline)
        ax.set_title(f"{depth} hidden layers of {setting['width']} ReLU units")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("training loss (one line per seed)")
    axes[0].legend(fontsize=8)
    fig.suptitle("He et al.'s depth experiment on digits, SGD with momentum "
                 f"(dotted: input-blind loss; dashed: n/c threshold){_suffix(quick)}")
    yield "depth_loss_curves.png", fig


# ---------------------------------------------------------------- few labels
def labels_figures(table, setting, data, quick, plt):
    from ..diagnostics import plot_rbm_filters

    optimisers = [opt for opt in OPTIMISERS if any(c[0] == opt
                                                  for c in table.columns)]
    fig, axes = _panels(plt, len(optimisers))
    for ax, opt in zip(axes, optimisers):
        cols = [c for c in table.columns if c[0] == opt]
        counts = [n for _, n in cols]
        for row in table.rows:
            cells = [table.cells[row, c] for c in cols]
            ax.errorbar(counts, [c.mean_all for c in cells],
                        yerr=[c.std_all for c in cells], marker="o", capsize=3,
                        label=row)
        ax.axhline(table.chance, color="grey", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xticks(counts, [str(n) for n in counts])
        ax.minorticks_off()
        ax.set_xlabel("labelled training rows")
        ax.set_title(f"{opt}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy (all seeds; dotted: chance)")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"few labels, {data.name}: RBM pre-training on every row against "
                 f"random starts{_suffix(quick)}")
    yield "few_labels.png", fig

    stack = table.notes["stack"]
    side = int(round(np.sqrt(data.X_train.shape[1])))
    fig = plot_rbm_filters(stack, n_filters=min(64, stack.coefs_[0].shape[1]),
                           image_shape=(side, side))
    errors = stack.reconstruction_error_[0]
    fig.suptitle(f"first-layer RBM filters after {len(errors)} CD-1 epochs "
                 f"(reconstruction error {errors[0]:.3f} -> {errors[-1]:.3f})"
                 f"{_suffix(quick)}")
    yield "rbm_filters.png", fig


FIGURES = {"storyline": storyline_figures, "glorot": glorot_figures,
           "table": table_figures,
           "depth": depth_figures, "labels": labels_figures}
"""Each part's figures: ``fn(result, setting, data, quick, plt)`` yields
``(file name, figure)``."""
