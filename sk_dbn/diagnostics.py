"""Look inside a network: per-layer activation statistics, gradient norms, filters.

The functions here answer the question that initialisation is about — *what do the
hidden layers do with the data?* — for a fitted :class:`~sk_dbn.DBNClassifier`, for
one that has only been set up by :meth:`~sk_dbn.DBNClassifier.initialize` (so the
*initial* distributions can be seen), and for a fitted
:class:`~sk_dbn.StackedRBMTransformer`. scikit-learn's ``MLPClassifier`` and
``MLPRegressor`` work too (they have the same ``coefs_`` / ``intercepts_`` /
``activation``), and so does a :class:`~sklearn.pipeline.Pipeline` ending in any of
these. :func:`rbm_log_likelihood` estimates how well an RBM -- a stack's bottom
one, or scikit-learn's ``BernoulliRBM`` -- models data.

The plot helpers need matplotlib, an optional dependency (the ``plot`` extra:
``python -m pip install ".[plot]"`` from the checkout, or ``pip install
matplotlib``). It is imported only when a plot function is called.
"""

import math

import numpy as np
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from ._activations import make_activation
from ._base import check_predict_input
from ._dbn import DBNClassifier, DBNRegressor
from ._generative import bernoulli_log_likelihood
from ._network import iter_forward
from ._stacked import StackedRBMTransformer

__all__ = [
    "activation_statistics",
    "plot_activation_histograms",
    "plot_gradient_norms",
    "plot_rbm_filters",
    "rbm_log_likelihood",
]

_CHUNK = 2048

# Output range of the bounded activations, for saturation and histogram ranges.
_BOUNDS = {"logistic": (0.0, 1.0), "tanh": (-1.0, 1.0)}
_RECTIFIED = ("relu", "leaky_relu")


def _pyplot():
    """Import ``matplotlib.pyplot`` or explain how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The sk_dbn plot functions need matplotlib, which is not installed. "
            "Install it with: python -m pip install '.[plot]' from the sk_dbn "
            "checkout, or pip install matplotlib"
        ) from exc
    return plt


# ----------------------------------------------------------------- the network
def _unwrap(estimator, X):
    """``(last step, X transformed by the steps before it)`` for a Pipeline."""
    if isinstance(estimator, Pipeline):
        if len(estimator.steps) > 1:
            X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    return estimator, X


def _hidden_layers(estimator):
    """``(coefs, intercepts, activation)`` of the hidden layers of ``estimator``,
    the activation as an object of :mod:`sk_dbn._activations`.

    A :class:`~sk_dbn.StackedRBMTransformer` has only hidden layers; a network
    classifier's last layer (the output) is left out.
    """
    stack = isinstance(estimator, StackedRBMTransformer)
    activation = getattr(estimator, "activation", None)
    if not stack and activation is None:  # said before any "not fitted"
        raise TypeError(
            f"{type(estimator).__name__} is not supported: expected a DBNClassifier, "
            "a StackedRBMTransformer or an estimator with coefs_, intercepts_ and "
            "activation (such as MLPClassifier)."
        )
    check_is_fitted(estimator, "coefs_")
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    if stack:  # every layer is a hidden layer
        return list(coefs), list(intercepts), estimator._hidden_activation()
    if hasattr(estimator, "_hidden_activation"):  # with its slope, its pieces
        activation = estimator._hidden_activation()
    else:
        activation = make_activation(activation)
    return list(coefs[:-1]), list(intercepts[:-1]), activation


def _iter_chunks(estimator, X):
    """Yield, per chunk of rows, the list of every hidden layer's output.

    The network's own chunked forward pass (:func:`sk_dbn._network.iter_forward`),
    so the memory used does not grow with ``n_samples``.
    """
    estimator, X = _unwrap(estimator, X)
    coefs, intercepts, activation = _hidden_layers(estimator)
    if not coefs:
        raise ValueError(f"{type(estimator).__name__} has no hidden layer.")
    X = check_predict_input(estimator, X)
    for outputs in iter_forward(X, coefs, intercepts, [activation] * len(coefs),
                                chunk_size=_CHUNK):
        yield activation.name, outputs


def _hidden_outputs(estimator, X):
    """``(activation, [output of each hidden layer on X])``."""
    activation, layers = None, None
    for act, chunk in _iter_chunks(estimator, X):
        activation = act
        if layers is None:
            layers = [[a] for a in chunk]
        else:
            for parts, a in zip(layers, chunk):
                parts.append(a)
    return activation, [np.concatenate(parts) for parts in layers]


def _saturated_mask(A, activation, margin):
    low, high = _BOUNDS[activation]
    return (A <= low + margin) | (A >= high - margin)


def _dead_mask(A, activation):
    return A == 0 if activation == "relu" else A <= 0


def activation_statistics(estimator, X, *, saturation_margin=0.01):
    """Per hidden layer: mean, spread, saturation and dead units on ``X``.

    Works on a fitted :class:`~sk_dbn.DBNClassifier`, on one set up by
    :meth:`~sk_dbn.DBNClassifier.initialize` (the network *before* fine-tuning),
    on a fitted :class:`~sk_dbn.StackedRBMTransformer` (the mean-field up-pass),
    on scikit-learn's ``MLPClassifier`` / ``MLPRegressor``, and on a
    :class:`~sklearn.pipeline.Pipeline` ending in one of these (``X`` then goes
    through the steps before it first).

    Parameters
    ----------
    estimator : estimator
        The network to inspect (see above).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Input data; rows are forwarded in chunks, so any number of them is fine.
    saturation_margin : float, default=0.01
        A ``logistic`` or ``tanh`` output counts as saturated when it lies within
        this distance of the activation's bounds (0 and 1, or -1 and 1), where the
        derivative is nearly zero.

    Returns
    -------
    stats : list of dict
        One dict per hidden layer, bottom to top, with keys:

        - ``"layer"`` (int): 1 for the first hidden layer, and so on;
        - ``"activation"`` (str): the canonical activation name;
        - ``"n_units"`` (int): width of the layer (for maxout, the number of
          units ``m``, whose output is the max over their pieces);
        - ``"mean"``, ``"std"`` (float): over all outputs of the layer (all
          samples and all units);
        - ``"saturated"`` (float): fraction of outputs within
          ``saturation_margin`` of the bounds (``logistic`` and ``tanh``;
          ``nan`` for other activations);
        - ``"dead"`` (float): fraction of outputs in the flat part of a rectifier,
          exactly 0 for ``relu`` and ``<= 0`` for ``leaky_relu`` (``nan`` for
          other activations; ``maxout`` has no flat part, as one of a unit's
          pieces always passes its gradient back, and no bounds, so both
          ``"saturated"`` and ``"dead"`` are ``nan`` for it);
        - ``"dead_units"`` (float): fraction of units that are dead on *every*
          row of ``X`` (``nan`` for non-rectifiers).

        ``pandas.DataFrame(stats)`` turns it into a table.

    See Also
    --------
    plot_activation_histograms : the distributions these numbers summarise.
    DBNClassifier.initialize : set up a network without fine-tuning it.

    Notes
    -----
    A saturated sigmoid or tanh unit passes almost no gradient back (its
    derivative is below 0.01 for the sigmoid, 0.02 for tanh), and a dead ReLU
    unit none at all; a layer whose
    outputs all sit near one value (a small ``std``) carries almost no
    information forward. Good initialisations keep every layer away from these
    three states.

    Examples
    --------
    >>> from functools import partial
    >>> from sklearn.datasets import load_digits
    >>> from sk_dbn import DBNClassifier
    >>> from sk_dbn.diagnostics import activation_statistics
    >>> from sk_dbn.initializers import normal
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> big = DBNClassifier((100, 100), init=partial(normal, std=1.0),
    ...                     random_state=0).initialize(X, y)
    >>> stats = activation_statistics(big, X)  # N(0, 1): many sigmoids stuck at 0 or 1
    >>> [(s["layer"], s["saturated"] > 0.2) for s in stats]
    [(1, True), (2, True)]
    >>> small = DBNClassifier((100, 100), init="normal", random_state=0)
    >>> stats = activation_statistics(small.initialize(X, y), X)  # N(0, 0.01^2)
    >>> [(round(s["mean"], 2), s["std"] < 0.05) for s in stats]  # all near 0.5
    [(0.5, True), (0.5, True)]
    >>> sorted(stats[0])
    ['activation', 'dead', 'dead_units', 'layer', 'mean', 'n_units', 'saturated', 'std']
    """
    margin = float(saturation_margin)
    if not 0 <= margin < 1:
        raise ValueError(
            f"saturation_margin must be in [0, 1); got {saturation_margin!r}"
        )
    totals, activation = None, None
    for activation, outputs in _iter_chunks(estimator, X):
        totals = _accumulate(totals, activation, outputs, margin)
    if totals is None or totals[0]["rows"] == 0:
        raise ValueError("X has no rows.")
    return _finish(totals, activation)


def _accumulate(totals, activation, outputs, margin):
    """Add one chunk of hidden-layer outputs to the running per-layer totals."""
    if totals is None:
        totals = [
            {"rows": 0, "sum": 0.0, "sumsq": 0.0, "saturated": 0, "dead": 0,
             "alive": np.zeros(A.shape[1], dtype=bool)}
            for A in outputs
        ]
    for t, A in zip(totals, outputs):
        A64 = A.astype(np.float64, copy=False)
        t["rows"] += A.shape[0]
        t["sum"] += float(A64.sum())
        t["sumsq"] += float(np.vdot(A64, A64))
        if activation in _BOUNDS:
            t["saturated"] += int(
                np.count_nonzero(_saturated_mask(A, activation, margin))
            )
        if activation in _RECTIFIED:
            dead = _dead_mask(A, activation)
            t["dead"] += int(np.count_nonzero(dead))
            t["alive"] |= ~dead.all(axis=0)
    return totals


def _finish(totals, activation):
    """The list of per-layer dicts of :func:`activation_statistics`."""
    bounded, rectified = activation in _BOUNDS, activation in _RECTIFIED
    stats = []
    for i, t in enumerate(totals):
        n_units = t["alive"].shape[0]
        size = t["rows"] * n_units
        mean = t["sum"] / size
        var = max(t["sumsq"] / size - mean * mean, 0.0)
        stats.append({
            "layer": i + 1,
            "activation": activation,
            "n_units": n_units,
            "mean": mean,
            "std": math.sqrt(var),
            "saturated": t["saturated"] / size if bounded else math.nan,
            "dead": t["dead"] / size if rectified else math.nan,
            "dead_units": float(np.mean(~t["alive"])) if rectified else math.nan,
        })
    return stats


# ----------------------------------------------------------------------- plots
def _summary(stats):
    text = f"mean {stats['mean']:.2f}, std {stats['std']:.2f}"
    if not math.isnan(stats["saturated"]):
        text += f"\n{100 * stats['saturated']:.0f}% saturated"
    if not math.isnan(stats["dead"]):
        text += f"\n{100 * stats['dead']:.0f}% dead"
    return text


def plot_activation_histograms(
    estimator, X, *, bins=50, value_range=None, axes=None, label=None
):
    """One histogram of the outputs of each hidden layer on ``X``.

    The classic picture of why initialisation matters: with sigmoid units and
    weights drawn from N(0, 1) the outputs pile up at 0 and 1 (saturated); with
    N(0, 0.01^2) they collapse onto 0.5; with Xavier they spread over the range.
    For ReLU layers the spike at exactly 0 is left out of the bars (its height is
    written in the panel as "dead"), so the positive part can be compared: with
    He weights it keeps its width through a deep stack, with Xavier it shrinks
    layer by layer.

    Parameters
    ----------
    estimator : estimator
        A :class:`~sk_dbn.DBNClassifier` (fitted or set up by
        :meth:`~sk_dbn.DBNClassifier.initialize`), a fitted
        :class:`~sk_dbn.StackedRBMTransformer`, or anything
        :func:`activation_statistics` accepts.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Input data.
    bins : int, default=50
        Number of bins of each histogram.
    value_range : tuple of float, default=None
        ``(low, high)`` of the x axes. By default the activation's bounds for
        ``logistic`` and ``tanh``; for other activations the range of all hidden
        outputs (the 0.5th to 99.5th percentile), the same for every layer so
        that shrinking or growing distributions show.
    axes : array-like of matplotlib Axes, default=None
        One Axes per hidden layer to draw into (for example a row of a grid that
        compares initialisations). By default a new figure with one row.
    label : str, default=None
        Written as the y label of the first Axes (for example the name of the
        initialisation).

    Returns
    -------
    axes : ndarray of matplotlib Axes
        The Axes drawn into, one per hidden layer.

    See Also
    --------
    activation_statistics : the numbers written in each panel.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_dbn import DBNClassifier
    >>> from sk_dbn.diagnostics import plot_activation_histograms
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> clf = DBNClassifier((64, 64, 64), init="xavier_uniform", random_state=0)
    >>> axes = plot_activation_histograms(clf.initialize(X, y), X, label="xavier")
    >>> [ax.get_title() for ax in axes]
    ['layer 1', 'layer 2', 'layer 3']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    plt = _pyplot()
    activation, outputs = _hidden_outputs(estimator, X)
    stats = _finish(_accumulate(None, activation, outputs, 0.01), activation)
    n_layers = len(outputs)
    if axes is None:
        fig, axes = plt.subplots(
            1, n_layers, figsize=(2.6 * n_layers + 0.6, 2.8), squeeze=False,
            sharey=True, layout="constrained",
        )
        fig.suptitle(f"{activation} hidden layers")
        axes = axes[0]
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.shape[0] != n_layers:
        raise ValueError(
            f"axes has {axes.shape[0]} Axes but the network has {n_layers} hidden "
            "layers; pass one Axes per hidden layer."
        )
    if value_range is None:
        if activation in _BOUNDS:
            value_range = _BOUNDS[activation]
        else:
            values = np.concatenate([A.ravel() for A in outputs])
            low, high = np.percentile(values, [0.5, 99.5])
            if activation in _RECTIFIED:
                low = min(low, 0.0)
            if not high > low:
                high = low + 1.0
            value_range = (float(low), float(high))
    for i, (ax, A, s) in enumerate(zip(axes, outputs, stats)):
        values = A.ravel()
        if activation == "relu":  # the spike at exactly 0 (leaky ReLU has none)
            values = values[~_dead_mask(values, activation)]
        weights = np.full(values.shape[0], 1.0 / A.size)
        ax.hist(values, bins=bins, range=value_range, weights=weights,
                color="C0", edgecolor="none")
        ax.set_xlim(*value_range)
        ax.set_title(f"layer {i + 1}")
        ax.set_xlabel(_summary(s), fontsize="small")
    if label is not None:
        axes[0].set_ylabel(label)
    return axes


def plot_gradient_norms(estimator, *, ax=None, log_scale=True):
    """Per-layer weight-gradient norms over the fine-tuning epochs.

    Draws one line per layer from the fitted attribute ``gradient_norms_`` of a
    :class:`~sk_dbn.DBNClassifier` (per epoch, the mean over mini-batches of the
    Frobenius norm of each layer's weight gradient). Lines that sit decades below
    the others, or fall towards zero, are vanishing gradients: the layers they
    belong to barely learn.

    Parameters
    ----------
    estimator : DBNClassifier or Pipeline
        A fitted classifier, or a Pipeline ending in one.
    ax : matplotlib Axes, default=None
        Where to draw; by default a new figure.
    log_scale : bool, default=True
        Logarithmic y axis (gradient norms span decades).

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn into.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_dbn import DBNClassifier
    >>> from sk_dbn.diagnostics import plot_gradient_norms
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = DBNClassifier((32, 32), init="he_normal", activation="relu",
    ...                     max_iter=5, random_state=0)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # ConvergenceWarning: only 5 epochs
    ...     ax = plot_gradient_norms(clf.fit(X / 16, y))
    >>> [line.get_label() for line in ax.get_lines()]
    ['layer 1 (64 → 32)', 'layer 2 (32 → 32)', 'output (32 → 10)']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    plt = _pyplot()
    if isinstance(estimator, Pipeline):
        estimator = estimator[-1]
    if not isinstance(estimator, (DBNClassifier, DBNRegressor)):
        raise TypeError(
            f"{type(estimator).__name__} is not supported: plot_gradient_norms "
            "needs a DBNClassifier or DBNRegressor (or a Pipeline ending in one)."
        )
    check_is_fitted(estimator, "coefs_")
    norms = getattr(estimator, "gradient_norms_", None)
    if norms is None:
        raise TypeError(
            f"{type(estimator).__name__} has no gradient_norms_; plot_gradient_norms "
            "needs a DBNClassifier or DBNRegressor fitted by 'sgd' or 'adam' "
            "(L-BFGS records none)."
        )
    norms = np.asarray(norms, dtype=np.float64)
    if norms.shape[0] == 0:
        raise ValueError(
            "gradient_norms_ is empty: the network has not been fine-tuned yet "
            "(initialize() only sets it up); call fit or partial_fit first."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    epochs = np.arange(1, norms.shape[0] + 1)
    n_layers = norms.shape[1]
    for i in range(n_layers):
        fan_in, fan_out = estimator.coefs_[i].shape
        name = "output" if i == n_layers - 1 else f"layer {i + 1}"
        if i < n_layers - 1 and fan_out != estimator.coefs_[i + 1].shape[0]:
            units = estimator.coefs_[i + 1].shape[0]  # maxout: units x pieces
            fan_out = f"{units}×{fan_out // units}"
        ax.plot(epochs, norms[:, i], marker="o" if len(epochs) < 30 else None,
                markersize=3, label=f"{name} ({fan_in} → {fan_out})",
                color=plt.get_cmap("viridis")(i / max(n_layers - 1, 1)))
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean ‖∂loss/∂W‖ per mini-batch")
    ax.legend(fontsize="small")
    return ax


def _first_layer_weights(estimator):
    """First-layer weights in (n_visible, n_hidden) orientation."""
    if isinstance(estimator, Pipeline):
        estimator = estimator[-1]
    if isinstance(estimator, np.ndarray):
        W = estimator
    elif hasattr(estimator, "coefs_"):
        W = estimator.coefs_[0]
    elif hasattr(estimator, "components_"):  # sklearn.neural_network.BernoulliRBM
        W = np.asarray(estimator.components_).T
    else:
        raise TypeError(
            f"{type(estimator).__name__} is not supported: expected a fitted "
            "StackedRBMTransformer, DBNClassifier, BernoulliRBM or a weight array "
            "of shape (n_visible, n_hidden)."
        )
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"expected 2-d weights; got shape {W.shape}")
    return W


def plot_rbm_filters(estimator, *, n_filters=64, image_shape=None, fig=None,
                     cmap="RdBu_r"):
    """Show first-layer weights as images: one tile per hidden unit (per piece
    of a maxout unit).

    Each hidden unit of the first layer has one weight per input pixel; drawn as
    an image, the weights of a unit pre-trained as an RBM on images look like
    strokes or blobs (the features it detects), while random initial weights look
    like noise. Each tile has its own symmetric colour scale (red positive, blue
    negative).

    Parameters
    ----------
    estimator : estimator or ndarray
        A fitted :class:`~sk_dbn.StackedRBMTransformer`, a
        :class:`~sk_dbn.DBNClassifier` (its ``coefs_[0]``; pass
        ``clf.pretrainer_`` for the weights as pre-trained, before fine-tuning),
        scikit-learn's ``BernoulliRBM``, or an array of shape
        (n_visible, n_hidden).
    n_filters : int, default=64
        Number of hidden units to show (the first ones).
    image_shape : tuple of int, default=None
        ``(height, width)`` of an input image; by default the square root of the
        number of inputs when that is an integer.
    fig : matplotlib Figure, default=None
        Figure to draw into (it is filled with a grid of Axes); by default a new
        one.
    cmap : str, default="RdBu_r"
        A diverging colour map.

    Returns
    -------
    fig : matplotlib Figure
        The figure drawn into.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_dbn import StackedRBMTransformer
    >>> from sk_dbn.diagnostics import plot_rbm_filters
    >>> X = load_digits().data / 16
    >>> rbm = StackedRBMTransformer((36,), n_iter=3, random_state=0).fit(X)
    >>> fig = plot_rbm_filters(rbm)
    >>> len(fig.axes)
    36
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
    """
    plt = _pyplot()
    W = _first_layer_weights(estimator)
    n_visible, n_hidden = W.shape
    if image_shape is None:
        side = math.isqrt(n_visible)
        if side * side != n_visible:
            raise ValueError(
                f"Cannot guess the image shape of {n_visible} inputs; pass "
                "image_shape=(height, width)."
            )
        image_shape = (side, side)
    image_shape = tuple(int(s) for s in image_shape)
    if math.prod(image_shape) != n_visible:
        raise ValueError(
            f"image_shape {image_shape} has {math.prod(image_shape)} pixels but the "
            f"first layer has {n_visible} inputs."
        )
    n = min(int(n_filters), n_hidden)
    if n < 1:
        raise ValueError(f"n_filters must be at least 1; got {n_filters!r}")
    n_cols = math.ceil(math.sqrt(n))
    n_rows = math.ceil(n / n_cols)
    if fig is None:
        fig = plt.figure(figsize=(0.7 * n_cols + 0.2, 0.7 * n_rows + 0.5))
    axes = fig.subplots(
        n_rows, n_cols, squeeze=False,
        gridspec_kw={"wspace": 0.08, "hspace": 0.08, "left": 0.02, "right": 0.98,
                     "bottom": 0.02, "top": 1 - 0.45 / fig.get_figheight()},
    )
    for k, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if k >= n:
            ax.remove()
            continue
        w = W[:, k].reshape(image_shape)
        limit = float(np.abs(w).max()) or 1.0
        ax.imshow(w, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
    return fig


# ------------------------------------------------------------ RBM likelihood
def rbm_log_likelihood(estimator, X, *, n_chains=100, n_betas=1000,
                       random_state=None):
    """Average log-likelihood of ``X`` under a fitted RBM, by AIS.

    The same estimate as :meth:`sk_dbn.StackedRBMTransformer.log_likelihood`
    (which this calls for a stack: its bottom RBM), for scikit-learn's
    ``BernoulliRBM`` too, so the two can be compared on the same data: the free
    energy is exact, the partition function is estimated by annealed importance
    sampling (Salakhutdinov & Murray, 2008) from a base model with the data's
    marginal probabilities as visible biases.

    Parameters
    ----------
    estimator : StackedRBMTransformer or BernoulliRBM
        A fitted :class:`~sk_dbn.StackedRBMTransformer` whose bottom RBM has
        Bernoulli visible and hidden units, or a fitted
        :class:`sklearn.neural_network.BernoulliRBM` (its ``components_``,
        ``intercept_hidden_`` and ``intercept_visible_``).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data, in [0, 1] (binary for a likelihood proper; values outside
        are a ``ValueError``). The base model of AIS takes its column means.
    n_chains : int, default=100
        How many independent AIS runs (>= 2): more shrink the error bar.
    n_betas : int, default=1000
        How many inverse temperatures each run passes (>= 2): more shrink the
        downward bias of ``log Z``.
    random_state : int, RandomState instance or None, default=None
        Seed of the AIS runs: an int gives the same estimate every time.

    Returns
    -------
    log_likelihood : float
        The average over the rows of ``X`` of ``log p(x)``, in nats.
    std_err : float
        Its standard error, that of the estimate of ``log Z``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.neural_network import BernoulliRBM
    >>> from sk_dbn import StackedRBMTransformer
    >>> from sk_dbn.diagnostics import rbm_log_likelihood
    >>> X = (load_digits().data[:300] > 8).astype(float)
    >>> theirs = BernoulliRBM(32, n_iter=5, random_state=0).fit(X)
    >>> ours = StackedRBMTransformer(32, n_iter=5, random_state=0).fit(X)
    >>> scores = [rbm_log_likelihood(rbm, X, n_chains=20, n_betas=200,
    ...                              random_state=0) for rbm in (theirs, ours)]
    >>> [bool(ll < 0 and err > 0) for ll, err in scores]
    [True, True]
    """
    if isinstance(estimator, StackedRBMTransformer):
        return estimator.log_likelihood(X, n_chains=n_chains, n_betas=n_betas,
                                        random_state=random_state)
    if not isinstance(estimator, BernoulliRBM):
        raise TypeError(
            f"{type(estimator).__name__} is not supported: expected a fitted "
            "StackedRBMTransformer or sklearn.neural_network.BernoulliRBM."
        )
    check_is_fitted(estimator)
    X = validate_data(estimator, X, accept_sparse="csr",
                      dtype=[np.float64, np.float32], reset=False)
    return bernoulli_log_likelihood(
        X, estimator.components_.T, estimator.intercept_hidden_,
        estimator.intercept_visible_, n_chains=n_chains, n_betas=n_betas,
        random_state=random_state, caller="rbm_log_likelihood")
