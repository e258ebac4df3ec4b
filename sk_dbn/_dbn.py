"""DBNClassifier and DBNRegressor: feed-forward networks whose initial weights are
chosen by name.

Each estimator reads as a recipe -- validate, initial weights, epochs, commit --
over the maths beneath it: :mod:`sk_dbn._initial_weights` (initial weights),
:mod:`sk_dbn._finetune` (epochs), :mod:`sk_dbn._transaction` (the transaction and the
guarded loop) and :mod:`sk_dbn._network` (forward and backward passes, losses).
The two share everything in :class:`_BaseDBN` and differ, as scikit-learn's
``MLPClassifier`` and ``MLPRegressor`` do, only in their output layer, loss and
target handling.
"""

import dataclasses
from numbers import Integral, Real

import numpy as np
from scipy.sparse import csr_matrix, issparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_regressor
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import column_or_1d, validate_data

from ._activations import ACTIVATIONS, IDENTITY, canonical, make_activation
from ._base import (
    POSITIVE_INT,
    TrainingInterruptedWarning,
    VersionedStateMixin,
    all_finite,
    check_hidden_layer_sizes,
    check_predict_input,
    check_sample_weight,
    copy_arrays,
    max_abs,
    select_rows,
    warn,
)
from ._finetune import (
    STOCHASTIC_STATE,
    FineTuning,
    check_validation_size,
    fine_tune,
    stochastic_state,
)
from ._initial_weights import check_init, initial_weights
from ._namespace import _is_numpy, check_same_place, data_namespace
from ._network import (
    check_widths,
    forward_chunked,
    logits_to_log_proba,
    logits_to_proba,
    output_function,
)
from ._ops import numpy_dtype, ops_of, to_device, to_host
from ._rng import check_generator
from ._semisupervised import UNLABELED_LOSSES, UnlabelledTerm, unlabelled_batch_size
from ._stacked import StackedRBMTransformer
from ._transaction import TrainingSession, transaction
from .initializers import INITIALIZERS
from .utils._sklearn import (
    Interval,
    Options,
    StrOptions,
    _fit_context,
    _safe_indexing,
)

_OPTIONAL_STATE = ("pretrainer_", *STOCHASTIC_STATE)
"""Fitted attributes that only some fits have (removed by a fit that has none):
the pre-training stack, and the curves and records of the stochastic solvers."""


def _is_marker(y, marker):
    """Boolean mask of the rows of ``y`` equal to ``marker`` (every entry of a
    row, for a 2-D ``y``, dense or sparse)."""
    if issparse(y):  # an indicator matrix: n_samples x n_labels, small
        y = y.toarray()
    mask = np.asarray(y == marker)
    if mask.shape != y.shape:
        return np.zeros(y.shape[0], dtype=bool)
    return mask.all(axis=1) if mask.ndim == 2 else mask


def _holds(dtype, value):
    """Whether the bool or integer ``dtype`` has ``value`` among its values."""
    if dtype.kind == "b":
        return value in (0, 1)
    info = np.iinfo(dtype)
    return float(value).is_integer() and info.min <= value <= info.max


def _check_marker(y, marker):
    """A ``ValueError`` naming ``unlabeled`` when ``marker`` (not None) cannot
    mark rows of the labels ``y``.

    A bool is refused (``False == 0``: it would take class 0 for unlabelled). A
    number marks numeric labels; a str marks string labels. As in scikit-learn's
    ``SelfTrainingClassifier``, string labels take a number only in an object
    array that can hold it (e.g. -1), and not when ``y`` holds that number
    written as a string (``"-1"``): those rows would become a class.
    """
    if isinstance(marker, bool):
        raise ValueError(
            f"unlabeled={marker!r} is a bool, which equals the label "
            f"{int(marker)}: every row of class {int(marker)} would be taken for "
            "unlabelled. Use a label that no class has, e.g. unlabeled=-1, or None."
        )
    kind = y.dtype.kind
    if kind == "O":
        strings = {v for v in np.asarray(y).ravel() if isinstance(v, str)}
        kind = "U" if strings else "i"
    elif kind == "U":
        strings = np.asarray(y).ravel()
    if kind not in "biufU":
        return
    if isinstance(marker, str):
        if kind != "U":
            raise ValueError(
                f"unlabeled={marker!r} is a str, but the labels in y are numbers "
                f"({y.dtype}): no row can carry it, and the rows meant as "
                "unlabelled would be taken for a class. Use a number, e.g. "
                "unlabeled=-1."
            )
        return
    if kind == "U" and str(marker) in strings:
        raise ValueError(
            f"unlabeled={marker!r} is a number, but y holds it as the string "
            f"{str(marker)!r}: those rows would be taken for a class. Use "
            f"unlabeled={str(marker)!r}."
        )
    if y.dtype.kind in "biu" and not _holds(y.dtype, marker):
        raise ValueError(
            f"unlabeled={marker!r} cannot be held by the labels' dtype "
            f"({y.dtype}): no row can carry it. Pass y in a dtype that holds it "
            "(e.g. y.astype(int)), or use a marker it can hold that no class has."
        )
    if y.dtype.kind == "U":
        raise ValueError(
            f"unlabeled={marker!r} is a number, but the labels in y are strings "
            f"({y.dtype}), which cannot hold it. Use a str, e.g. "
            f"unlabeled={str(marker)!r}, or pass y as an object array whose "
            f"unlabelled rows hold {marker!r} (scikit-learn's semi-supervised "
            "convention)."
        )


def _check_ramp(ramp):
    """A ``ValueError`` naming ``unlabeled_ramp`` unless it is a pair of ints
    ``0 <= t1 <= t2``."""
    try:
        start, end = ramp
        ok = all(isinstance(t, Integral) and not isinstance(t, bool)
                 for t in (start, end)) and 0 <= start <= end
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"unlabeled_ramp={ramp!r} must be a pair of ints (t1, t2) with 0 <= t1 "
            "<= t2: the epochs at which the unlabelled rows' weight starts to rise "
            "from 0 and reaches unlabeled_weight.")


def _partial_fit_available(est):
    """``partial_fit`` exists only for the stochastic solvers, as in
    ``MLPClassifier`` (which also raises its ``ValueError`` for
    ``early_stopping=True`` from ``partial_fit`` itself, see ``_check_params``)."""
    if est.solver == "lbfgs":
        raise AttributeError("partial_fit is only available for stochastic "
                             "optimizers. lbfgs is not stochastic.")
    return True


_SHARED_DOC = """\
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        Optimiser for fine-tuning: ``"lbfgs"`` is full-batch L-BFGS-B through
        ``scipy.optimize`` (often the best for small data sets; it keeps no
        per-epoch curves, so ``loss_curve_``, ``gradient_norms_`` and the
        early-stopping records are not defined, ``early_stopping`` is ignored and
        there is no :meth:`partial_fit`, as in scikit-learn); ``"sgd"`` and
        ``"adam"`` are stochastic, on mini-batches.
    alpha : float, default=1e-4
        L2 penalty, as in scikit-learn's networks: the loss adds
        ``0.5 * alpha * sum(||W||^2) / n_batch`` (``n_batch``: the rows of the
        mini-batch, or the sum of their sample weights).
    batch_size : int or "auto", default="auto"
        Mini-batch size of fine-tuning; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule of ``solver="sgd"``: ``"constant"`` keeps
        ``learning_rate_init``; ``"invscaling"`` uses ``learning_rate_init / (t +
        1) ** power_t`` after each epoch, ``t`` the samples seen; ``"adaptive"``
        divides the step by 5 whenever ``n_iter_no_change`` epochs fail to improve
        the loss (or validation score) by ``tol``, and stops once it is at most
        1e-6.
    learning_rate_init : float, default=1e-3
        Step size of fine-tuning (``"sgd"``, ``"adam"``).
    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.
    max_iter : int, default=200
        Maximum number of fine-tuning epochs of each fit (iterations, for
        ``"lbfgs"``).
    tol : float, default=1e-4
        Minimum improvement of the loss (or validation score) that counts.
    n_iter_no_change : int or np.inf, default=10
        Epochs without such improvement before stopping (``np.inf``: never stop
        before ``max_iter``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its score
        (%(score)s) stops improving and restore the best weights.
        %(split)s :meth:`partial_fit` does not support it.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping.
    shuffle : bool, default=True
        Shuffle the samples every epoch.
    warm_start : bool, default=False
        Continue from the current weights on the next ``fit`` (up to ``max_iter``
        more epochs) instead of re-initialising.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver="sgd"``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's numerical stabiliser.
    max_fun : int, default=15000
        Maximum number of loss evaluations of ``solver="lbfgs"``.
    dropout : float in [0, 1), default=0.0
        Fraction of the hidden units dropped at random during fine-tuning with
        the stochastic solvers (Srivastava et al. 2014): each mini-batch trains
        the network with each hidden unit kept with probability ``1 - dropout``,
        and a kept unit's output scaled by ``1 / (1 - dropout)`` (inverted
        dropout), so prediction uses the whole network unchanged. The masks are
        drawn from ``random_state``. ``solver="lbfgs"`` refuses it (its line
        search needs a deterministic loss).
%(extra)s\
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, pre-training, the validation split and shuffling. An
        int gives bit-identical refits.
    verbose : int, default=0
        Print one line per epoch when > 0.
"""

_INIT_DOC = """\
    init : str, callable or StackedRBMTransformer, default=%(default)r
        How the initial weights are chosen:

        - a name in :data:`~sk_dbn.initializers.INITIALIZERS` (``"zeros"``,
          ``"normal"``, ``"xavier_uniform"``, ``"he_normal"``, ...) or a callable
          ``fn(fan_in, fan_out, *, random_state, dtype)``: every layer's weights
          from it, all biases zero;
        - ``"lsuv"``: orthogonal weights, then :func:`~sk_dbn.initializers.lsuv`
          on a random batch of ``min(512, n_samples)`` training rows with
          ``tol=0.1`` and at most 10 rescalings per layer (the variance weighted
          by the sample weights);
        - an unfitted :class:`StackedRBMTransformer`: greedy RBM pre-training. A
          clone is fitted on every training row%(unlabelled)s with the sample
          weights and its own parameters -- ``init__n_iter``,
          ``init__learning_rate``, ... can be grid-searched -- and copies of its
          weights and hidden biases initialise the hidden layers (mapped exactly
          for ``"tanh"``, see Notes); the output layer is ``xavier_uniform`` with
          zero bias. The fitted clone is kept as ``pretrainer_``. When its
          ``random_state`` is None it is seeded from this estimator's
          ``random_state``.
        - a fitted :class:`StackedRBMTransformer`, or one wrapped in
          ``sklearn.frozen.FrozenEstimator``: its weights are used as they are,
          and it is never refitted or modified. One pre-training then serves many
          fine-tunings, and it can have seen more unlabelled data than ``X``.
          Wrap it in ``FrozenEstimator`` for ``clone`` and ``GridSearchCV``, which
          would otherwise clone it unfitted.
        - ``"rbm"``: shorthand for ``StackedRBMTransformer(hidden_layer_sizes,
          hidden_units=...)`` with its default parameters (its visible units
          resolve to Bernoulli for data in [0, 1], Gaussian otherwise).

        A transformer's hidden layer sizes must be ``hidden_layer_sizes``, and its
        ``hidden_units`` must suit ``activation``: ``"relu"`` (NReLU) for
        ``"relu"`` and ``"leaky_relu"``, ``"bernoulli"`` otherwise (none for
        ``"maxout"``); a fitted one must have been fitted on ``n_features_in_``
        features.

        ``"zeros"`` (and ``"constant"``) are honest: every hidden unit of a layer
        starts, and stays, identical -- symmetry is never broken (but by
        ``dropout``, whose masks differ from unit to unit).
    activation : {"logistic", "sigmoid", "tanh", "relu", "leaky_relu", "maxout", \
"identity"}, default=%(activation)r
        Hidden-layer activation (``"sigmoid"`` is an alias of ``"logistic"``):

        - ``"leaky_relu"``: ``max(z, a z)`` with ``a = negative_slope``; the
          "very leaky" ReLU (VLReLU) of Graham (2014) is
          ``activation="leaky_relu", negative_slope=1/3``;
        - ``"maxout"`` (Goodfellow et al. 2013): each hidden unit outputs the
          max of ``k = maxout_pieces`` affine maps of its input, so a hidden
          layer of ``m`` units has weights of shape ``(fan_in, m * k)`` and
          ``m * k`` biases, and the next layer has ``fan_in = m``. Every piece
          is drawn by ``init`` as the weights of a layer of ``m`` units, and
          ``"lsuv"`` rescales each piece to unit variance. ``init="rbm"`` and
          RBM transformers do not combine with it (an RBM has no maxout units).
    negative_slope : float in [0, 1), default=0.01
        Slope of ``"leaky_relu"`` for negative inputs (0 is the ReLU); ignored by
        other activations.
    maxout_pieces : int >= 2, default=2
        Linear pieces per ``"maxout"`` unit; ignored by other activations.
"""

_ATTRIBUTES_DOC = """\
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape (fan_in, fan_out): the weights of layer ``i``. For
        a maxout hidden layer of ``m`` units and ``k`` pieces, fan_out is
        ``m * k``, piece-major: column ``p * m + j`` is piece ``p`` of unit ``j``
        (``coefs_[i].reshape(fan_in, k, m)[:, p, j]``).
    intercepts_ : list of ndarray
        ``intercepts_[i]`` of shape (fan_out,): the biases of layer ``i`` (the
        same layout).
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output units.
    out_activation_ : str
        The output activation: %(out)s.
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss of each epoch, over all fits of a ``warm_start`` or
        :meth:`partial_fit` sequence (stochastic solvers only; with
        ``dropout``, the loss of the thinned networks trained).
    best_loss_ : float or None
        Best training loss (None with early stopping).
    validation_scores_ : list of float or None
        Validation %(score)s of each epoch (None without early stopping).
    best_validation_score_ : float or None
        Best validation %(score)s (None without early stopping).
    gradient_norms_ : ndarray of shape (len(loss_curve_), n_layers_ - 1)
        Per epoch, the mean over mini-batches of the Frobenius norm of each
        layer's weight gradient: vanishing or exploding gradients show here.
    n_iter_ : int
        Fine-tuning epochs run by the last fit (or :meth:`partial_fit` call).
    t_ : int
        Training samples seen by fine-tuning, over all fits.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.
    pretrainer_ : StackedRBMTransformer
        The pre-training stack this fit fitted (only when ``init`` is ``"rbm"`` or
        an unfitted transformer; a fitted or frozen ``init`` is the stack itself).
"""

_NOTES_DOC = """\
    The network is ``h_0 = x``, ``h_i = f(h_{i-1} W_i + b_i)``, and the output
    applies ``out_activation_`` to ``h_{L-1} W_L + b_L``; the loss is computed
    from these pre-activations.

    With ``init="rbm"`` and ``activation="tanh"``, ``tanh(x / 2) = 2 sigmoid(x) -
    1`` gives tanh layers whose outputs are exactly ``2 h - 1`` for the RBM's
    hidden probabilities ``h``: the first layer takes the RBM's ``(W / 2, b /
    2)``, a higher layer (whose input is ``2 h - 1``) ``(W / 4, b / 2 +
    W.sum(axis=0) / 4)``. ``"identity"`` starts from the RBM's pre-activations,
    ``"leaky_relu"`` from NReLU weights.

    To inspect a network as initialised, before any fine-tuning, call
    :meth:`initialize` instead of :meth:`fit`.

    ``sample_weight`` has ``MLPClassifier``'s meaning: each mini-batch's loss is
    the weighted mean of its rows' losses, and its L2 term is divided by the sum
    of its weights. Rows of weight zero are dropped once their labels are read,
    so they are exactly rows that were never there but for those labels, which
    are among ``classes_`` (as in ``MLPClassifier``); an integer weight is, for a
    full-batch fit, exactly the row repeated (for mini-batches, in distribution).
    Pre-training and LSUV use the same weights.

    :meth:`fit`, :meth:`partial_fit` and :meth:`initialize` are transactions: one
    that raises (bad input, a diverging fit, an ``init`` callable that fails)
    leaves the estimator exactly as it was, unfitted or with its previous
    model; the caller's arrays are never modified. A diverging fit names its
    likely cause (``learning_rate_init``, ``alpha``, the scale of ``X``). Ctrl-C
    stops at the end of the current mini-batch and keeps the weights trained so
    far (the best ones seen, with early stopping) with a
    ``TrainingInterruptedWarning``; a second Ctrl-C aborts the fit at once. A
    Ctrl-C during the RBM pre-training of ``init`` keeps the previous model on a
    refit; a first fit is left as :meth:`initialize` leaves it (pre-trained so
    far, not fine-tuned, ``n_iter_ == 0``), with a warning that says so. A
    Ctrl-C arriving after the last mini-batch (as the last epoch is scored)
    leaves the fit complete, with the warning. Inside a search
    (``GridSearchCV``, ``cross_validate``) a first Ctrl-C ends only the fit
    under way, which the search then scores as it stands: press it twice to
    stop the search.
"""


def _docstring(template, **parts):
    """``template`` with its ``<<name>>`` placeholders replaced by ``parts``."""
    for name, text in parts.items():
        template = template.replace(f"<<{name}>>", text)
    return template


class _BaseDBN(VersionedStateMixin, BaseEstimator):
    """What every sk_dbn network estimator shares: the fit recipe and prediction.

    Subclasses define the targets (``_validate_targets``, ``_y_checks``), the
    output layer and the validation score of early stopping.
    """

    _sparse_labels = False  # a classifier fitted on a sparse label indicator

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", POSITIVE_INT],
        "init": [StrOptions(set(INITIALIZERS) | {"lsuv", "rbm"}), callable,
                 StackedRBMTransformer, FrozenEstimator],
        "activation": [StrOptions(set(ACTIVATIONS) | {"sigmoid"})],
        "negative_slope": [Interval(Real, 0, 1, closed="left")],
        "maxout_pieces": [Interval(Integral, 2, None, closed="left")],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), POSITIVE_INT],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [POSITIVE_INT],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [POSITIVE_INT, Options(Real, {np.inf})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "shuffle": ["boolean"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "max_fun": [POSITIVE_INT],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    _y_checks = {}
    """Keyword arguments of ``validate_data`` for ``y``."""

    def _set_params(self, params):
        """Store the constructor's arguments (``locals()`` of ``__init__``)."""
        for name, value in params.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Initialise the weights by ``init``, then fine-tune with backprop.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (float32 is kept float32 throughout).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: class labels or a label indicator matrix for a classifier
            (rows whose label is ``unlabeled`` serve pre-training and LSUV, and
            fine-tuning through ``unlabeled_loss`` and ``unlabeled_noise``),
            real values for a regressor. As in ``MLPClassifier``, a single class
            fits (:meth:`predict` then returns it, and ``predict_proba`` a
            column of ones), and a ``warm_start`` fit needs the classes of the
            previous fit.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows (None: all 1). Rows of weight 0 are dropped.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def initialize(self, X, y, sample_weight=None):
        """Set up the network as ``init`` makes it, without any fine-tuning.

        Afterwards the estimator predicts with the initial weights, and
        :func:`sk_dbn.diagnostics.activation_statistics` shows the initial
        activation distributions. ``n_iter_`` is 0 and ``loss_curve_`` empty
        (with ``solver="lbfgs"``, which keeps no curves, absent).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (used by ``"lsuv"`` and ``"rbm"``).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, as for :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, as for :meth:`fit`.

        Returns
        -------
        self : object
            The initialised estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from sk_dbn import DBNClassifier
        >>> X = np.random.default_rng(0).random((50, 4)); y = np.arange(50) % 2
        >>> clf = DBNClassifier((3,), init="zeros").initialize(X, y)
        >>> clf.coefs_[0]
        array([[0., 0., 0.],
               [0., 0., 0.],
               [0., 0., 0.],
               [0., 0., 0.]])
        """
        return self._fit(X, y, sample_weight, incremental=False, train=False)

    def _fit(self, X, y, sample_weight, *, incremental, classes=None, train=True):
        """Validate, initial weights, epochs, commit; on error ``self`` is unchanged."""
        with transaction(self) as rollback:
            self._check_params(incremental, train)
            sizes = check_hidden_layer_sizes(self.hidden_layer_sizes,
                                             type(self).__name__, allow_empty=True)
            first = not ((incremental or self.warm_start) and hasattr(self, "coefs_"))
            if not first and sizes != [W.shape[0] for W in self.coefs_[1:]]:
                raise ValueError(
                    f"hidden_layer_sizes={sizes} differs from the fitted network's "
                    f"{[W.shape[0] for W in self.coefs_[1:]]}; partial_fit and "
                    "warm_start continue the same network (refit without warm_start)."
                )
            if not first:
                self._check_same_activation()
            xp, _ = data_namespace(X)
            X_all, y = validate_data(self, X, y, accept_sparse="csr",
                                     dtype=[xp.float64, xp.float32], reset=first,
                                     multi_output=True, **self._y_checks)
            if not first:  # continued on the fitted weights, in their dtype
                check_same_place(self, X_all, "partial_fit" if incremental else "fit")
                X_all = ops_of(X_all).astype(X_all, self.coefs_[0].dtype)
            y = to_host(y)  # the labels and targets are handled on the host
            if y.ndim == 2 and y.shape[1] == 1:
                y = column_or_1d(y, warn=True)
            w_all = check_sample_weight(sample_weight, X_all)
            state = {} if first else self._continued_state(incremental)
            X, targets, w = self._labelled(X_all, y, w_all, allow_none=incremental)
            targets = self._validate_targets(X, targets, state, first, incremental,
                                             classes)
            if w_all is not None and not w_all.all():
                # a row of weight 0 is a row that is not there, but for its
                # label, which is one of the classes as in scikit-learn
                X_all, y, w_all = select_rows(w_all > 0, X_all, y, w_all)
                X, targets, w = select_rows(w > 0, X, targets, w)
                if not (incremental or targets.shape[0]):
                    raise ValueError("Every labelled row has sample_weight 0: "
                                     "there is no row to fine-tune on.")
            # the labelled rows' targets; every row's label (or the marker)
            y, y_all = targets, y
            if not first and y.shape[0] == 0:
                return self  # a later partial_fit batch without labels: a no-op
            # one move each to the data's device: targets and weights
            y, w, w_all = (to_device(a, X_all) for a in (y, w, w_all))
            if train and self.early_stopping and not incremental and (
                    self.solver != "lbfgs"):  # its split, before any work
                check_validation_size(X.shape[0], self.validation_fraction,
                                      self._fine_tuning().min_validation_rows)
            rng = check_generator(self.random_state,
                                  step=0 if first else state["t_"] + 1)
            was_fitted = hasattr(self, "coefs_")
            with TrainingSession() as session:
                if first:
                    state.update(self._initial_state(X_all, w_all, sizes, state,
                                                     rng, session))
                    if session.interrupted:  # Ctrl-C during pre-training
                        return self._end_interrupted_pretraining(
                            state, rollback if was_fitted else None)
                if train and y.shape[0]:  # a first batch without labels: no epoch
                    fine_tune(self._fine_tuning(), state, X, y, sample_weight=w,
                              incremental=incremental, rng=rng, session=session,
                              logits=self._logits, score=self._validation_score,
                              unlabelled=self._unlabelled_term(X_all, y_all, w_all,
                                                               state))
            self._commit(state)
        return self

    def _fine_tuning(self):
        """The hyperparameters of fine-tuning, from the parameters of the same
        names."""
        names = [f.name for f in dataclasses.fields(FineTuning)
                 if f.name not in ("name", "regressor")]
        return FineTuning(**{name: getattr(self, name) for name in names},
                          name=type(self).__name__, regressor=is_regressor(self))

    def _check_params(self, incremental, train):
        """What the parameter constraints cannot say, checked before any work:
        a transformer ``init``'s own parameters, and combinations."""
        check_init(self.init, self)
        if train and self.dropout and self.solver == "lbfgs":
            raise ValueError(
                f"dropout={self.dropout} needs a stochastic solver ('sgd' or "
                "'adam'): L-BFGS's line search needs the same loss at every "
                "evaluation, and dropout draws a new network each time. Use "
                "dropout=0.0 with solver='lbfgs'."
            )
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        if getattr(self, "unlabeled_loss", None) is not None:
            _check_ramp(self.unlabeled_ramp)

    def _end_interrupted_pretraining(self, state, rollback):
        """A Ctrl-C during pre-training leaves no half-made network behind: a
        model fitted before keeps its previous state (``rollback``); an unfitted
        one gets the network as :meth:`initialize` would from the pre-training
        done so far, not fine-tuned."""
        epochs = [len(e) for e in state["pretrainer_"].reconstruction_error_] \
            if "pretrainer_" in state else []
        name = type(self).__name__
        if rollback is not None:
            rollback()
            warn(f"{name}: interrupted during pre-training (epochs completed per RBM "
                 f"layer: {epochs}); this fit changed nothing: the previous model "
                 "is kept.", TrainingInterruptedWarning)
            return self
        self._commit(state)
        warn(f"{name}: interrupted during pre-training (epochs completed per RBM "
             f"layer: {epochs}); the network holds the pre-trained weights so far "
             "and an untrained output layer, as initialize() leaves it: it was not "
             "fine-tuned (n_iter_=0). Fit again to train it.",
             TrainingInterruptedWarning)
        return self

    def _initial_state(self, X, sample_weight, sizes, state, rng, session):
        """Fresh fitted state: initial weights by ``init`` (pre-training and LSUV
        see every row of ``X``, unlabelled ones included), empty curves."""
        layer_sizes = [X.shape[1], *sizes, state["n_outputs_"]]
        activation = self._activation_args()
        n_layers = len(layer_sizes) - 1
        coefs, intercepts, pretrainer = initial_weights(
            self.init, layer_sizes, X, make_activation(*activation), rng=rng,
            session=session, sample_weight=sample_weight, verbose=self.verbose,
            feature_names=getattr(self, "feature_names_in_", None))
        new = {} if pretrainer is None else {"pretrainer_": pretrainer}
        stochastic = {} if self.solver == "lbfgs" else stochastic_state(n_layers)
        return {**new, **stochastic, "coefs_": coefs, "intercepts_": intercepts,
                "_activation": activation, "n_layers_": len(layer_sizes),
                "n_iter_": 0, "t_": 0, "loss_": None}

    def _labelled(self, X, y, sample_weight, allow_none=False):
        """The rows of ``(X, y, sample_weight)`` that have a label (all unless
        ``unlabeled`` marks some); a ``ValueError`` when none has, unless
        ``allow_none`` (then no row at all)."""
        marker = getattr(self, "unlabeled", None)
        if marker is None:
            return X, y, sample_weight
        _check_marker(y, marker)
        unlabelled = _is_marker(y, marker)
        if unlabelled.all() and not allow_none:
            raise ValueError(f"y has no labelled row: all {y.shape[0]} rows are "
                             f"unlabeled={marker!r}.")
        if not unlabelled.any():
            return X, y, sample_weight
        return select_rows(~unlabelled, X, y, sample_weight)

    def _unlabelled_term(self, X, y, sample_weight, state):
        """The unlabelled rows' term of fine-tuning (``unlabeled_loss``, see
        :mod:`sk_dbn._semisupervised`) for the rows of ``(X, y, sample_weight)``
        marked ``unlabeled``; None without the option or such rows, and where
        it does not apply: L-BFGS (no epochs to ramp over, and pseudo-labels
        would change its loss between evaluations), ``"label_spreading"`` for
        a multilabel ``y`` (label spreading has no multilabel targets)."""
        kind = getattr(self, "unlabeled_loss", None)
        if kind is None or self.unlabeled is None or self.solver == "lbfgs" or (
                kind == "label_spreading" and state["n_outputs_"] > 1
                and state["out_activation_"] == "logistic"):
            return None
        rows = np.flatnonzero(_is_marker(y, self.unlabeled))
        if rows.shape[0] == 0:
            return None
        classes = state["classes_"]
        labels = None
        if kind == "label_spreading":  # class indices, -1 for the unlabelled
            labels = np.full(y.shape[0], -1, dtype=np.intp)
            labelled = np.flatnonzero(~_is_marker(y, self.unlabeled))
            labels[labelled] = np.searchsorted(classes, y[labelled])
        return UnlabelledTerm(
            kind, self.unlabeled_weight, self.unlabeled_ramp, X, rows,
            sample_weight, labels=labels, n_classes=max(classes.shape[0], 2),
            batch_size=unlabelled_batch_size(self.batch_size, rows.shape[0]),
            coefs=state["coefs_"], intercepts=state["intercepts_"],
            activation=self._hidden_activation(state),
            output=state["out_activation_"], dropout=self.dropout,
            shuffle=self.shuffle, noise=self.unlabeled_noise)

    def _continued_state(self, incremental):
        """Copies of the fitted state to train on (warm_start or partial_fit)."""
        state = {k: v for k, v in vars(self).items() if k.endswith("_")
                 and not k.startswith("__") and k not in ("n_features_in_",
                                                          "feature_names_in_")}
        state["coefs_"] = copy_arrays(self.coefs_)
        state["intercepts_"] = copy_arrays(self.intercepts_)
        state["_activation"] = getattr(self, "_activation", self._activation_args())
        state["_sparse_labels"] = self._sparse_labels
        if not hasattr(self, "loss_curve_"):  # fitted by L-BFGS
            return state
        state["loss_curve_"] = list(self.loss_curve_)
        if self.validation_scores_ is not None:
            state["validation_scores_"] = list(self.validation_scores_)
        state["_no_improvement_count"] = self._no_improvement_count
        state["_start_loss"] = getattr(self, "_start_loss", None)
        opt = self._optimizer_state if incremental else None
        state["_optimizer_state"] = None if opt is None else {
            k: copy_arrays(v) if isinstance(v, list) else v for k, v in opt.items()}
        return state

    def _commit(self, state):
        """Assign the new fitted state (the only place a fit writes to self)."""
        for name in _OPTIONAL_STATE:
            if name not in state and hasattr(self, name):
                delattr(self, name)
        for name, value in state.items():
            setattr(self, name, value)

    def _activation_args(self):
        """``(name, negative_slope, maxout_pieces)`` of the parameters: the hidden
        activation a new network gets (kept in its fitted state)."""
        return (canonical(self.activation), float(self.negative_slope),
                int(self.maxout_pieces))

    def _hidden_activation(self, state=None):
        """The hidden activation of a network: the fitted one, or that of
        ``state`` (the fitted state of a network being fitted).

        A network computes with the activation it was fitted with, whatever
        ``set_params`` changed since, as :class:`StackedRBMTransformer` does with
        its units: a new ``activation`` (or slope, or pieces) takes effect at the
        next fit that starts a new network.
        """
        state = vars(self) if state is None else state
        # a model saved before the activation was part of the fitted state
        args = state.get("_activation") or self._activation_args()
        activation = make_activation(*args)
        check_widths(state["coefs_"], activation)
        return activation

    def _check_same_activation(self):
        """``warm_start`` and ``partial_fit`` continue the fitted network: its
        activation and the parameters' must agree."""
        fitted, wanted = self._hidden_activation(), make_activation(
            *self._activation_args())
        if fitted != wanted:
            raise ValueError(
                f"The network was fitted with activation {fitted}, but the "
                f"parameters (activation, negative_slope, maxout_pieces) now ask "
                f"for {wanted}; partial_fit and warm_start continue the fitted "
                "network: refit without warm_start to change the activation."
            )

    def _logits(self, X, state=None):
        """The output layer's pre-activations for ``X`` of the fitted network (or
        of ``state``, one being fitted), infinite ones clipped to the largest
        float; a ``ValueError`` when they overflow to NaN."""
        activation = self._hidden_activation(state)
        state = vars(self) if state is None else state
        coefs, intercepts = state["coefs_"], state["intercepts_"]
        with np.errstate(over="ignore", invalid="ignore"):
            logits = forward_chunked(X, coefs, intercepts,
                                     [activation] * (len(coefs) - 1) + [IDENTITY])
        xp = ops_of(logits).xp
        n_bad = int(xp.sum(xp.astype(xp.any(xp.isnan(logits), axis=1), xp.int64)))
        if n_bad:
            raise ValueError(
                f"The network's outputs overflow for {n_bad} rows of X "
                f"(max |x| = {max_abs(X):.3g}): their "
                "pre-activations exceed the largest float. X is far outside the "
                "scale the network was trained on; scale it as the training data."
            )
        # an overflowing (infinite) logit still ranks the classes: clip it to the
        # largest float so probabilities stay finite
        big = float(xp.finfo(logits.dtype).max)
        return xp.clip(logits, -big, big)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags


_CLASSIFIER_DOC = """Neural network classifier with a choice of weight initialisation.

    The initial weights come from ``init``: any scheme of
    :mod:`sk_dbn.initializers` by name or as a callable, ``"lsuv"`` (orthogonal,
    then layer-sequential unit variance), or ``"rbm"`` (greedy RBM pre-training, a
    deep belief network). The whole network is then fine-tuned with backprop on the
    cross-entropy, as scikit-learn's ``MLPClassifier`` does; parameters shared with
    it mean the same. Binary, multiclass and multilabel targets (a 0/1 indicator
    matrix, one logistic output per label) are supported.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(256,)
        Number of units of each hidden layer. 256 logistic units pre-trained as an
        RBM reach ~0.98 test accuracy on the digits data set.
<<init>><<shared>>
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for a multilabel ``y``, the column indices ``0, ...,
        n_labels - 1``, as scikit-learn defines them).
<<attributes>>
    See Also
    --------
    DBNRegressor : the same network for regression.
    StackedRBMTransformer : the greedy RBM pre-training on its own.
    sklearn.neural_network.MLPClassifier : the same network, Glorot-initialised.

    Notes
    -----
<<notes>>
    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_dbn import DBNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = DBNClassifier((64,), init="xavier_uniform", learning_rate_init=0.01,
    ...                     early_stopping=True, random_state=0)
    >>> clf.fit(X[:1500] / 16, y[:1500]).score(X[1500:] / 16, y[1500:]) > 0.85
    True

    Few labels, many unlabelled rows: pre-training, and by default fine-tuning
    (``unlabeled_loss``), use every row.

    >>> from sk_dbn import StackedRBMTransformer
    >>> y_few = y[:1500].copy()
    >>> y_few[200:] = -1                      # only 200 labelled rows
    >>> clf = DBNClassifier((64,), init=StackedRBMTransformer((64,), n_iter=10),
    ...                     unlabeled=-1, random_state=0)
    >>> clf.fit(X[:1500] / 16, y_few).score(X[1500:] / 16, y[1500:]) > 0.75
    True

    Multilabel: one logistic output per column of the indicator matrix.

    >>> import numpy as np
    >>> Y = np.column_stack([y % 2, y > 4])   # odd? greater than 4?
    >>> clf = DBNClassifier((64,), init="xavier_uniform", learning_rate_init=0.01,
    ...                     early_stopping=True, random_state=0)
    >>> clf = clf.fit(X[:1500] / 16, Y[:1500])
    >>> clf.predict(X[1500:1503] / 16).shape
    (3, 2)
"""

_UNLABELED_DOC = """\
    unlabeled : int, float, str or None, default=None
        The label that marks rows without a label, e.g. ``-1`` (scikit-learn's
        semi-supervised convention; for a multilabel ``y``, a row all of whose
        entries are the marker). Unlabelled rows are used by pre-training and by
        LSUV's variance probe (with their sample weights), by fine-tuning only
        with ``unlabeled_loss``, and by nothing else: not by ``classes_``, the
        early-stopping split or ``t_``; :meth:`score` leaves them out.
        ``None``: every row is labelled (so labels {-1, 1} are an ordinary
        binary problem).

        The marker must be able to mark rows of ``y``, or a ``ValueError``
        names it: a finite number for numeric labels (not NaN, which ``y``
        cannot hold: write missing labels as e.g. -1), a str for string labels
        -- or, as scikit-learn's ``SelfTrainingClassifier`` asks, a number in an
        object array of string labels (but not one ``y`` holds as a string,
        ``"-1"`` for -1). A bool is refused: ``False == 0`` would mark class 0.
        A :meth:`partial_fit` batch without a labelled row initialises the
        network when it is the first call and is a no-op after it.
    unlabeled_loss : {"label_spreading", "pseudo_label"} or None, \
default="label_spreading"
        Whether and how the rows marked ``unlabeled`` also enter fine-tuning
        (None: they serve pre-training only; ``bench_semisupervised`` measured
        ``"label_spreading"`` ahead of None at every label count on both of its
        data sets, hence the default). Every mini-batch of labelled rows is then
        joined by ``batch_size`` unlabelled rows (``"auto"``: 200), whose
        cross-entropy against pseudo-labels, weighted by ``alpha(t)``, is added
        to the loss (formulas in Notes):

        - ``"label_spreading"``: the pseudo-label of a row is the class that
          scikit-learn's ``LabelSpreading(kernel="knn")`` spreads from the
          labelled rows over the nearest-neighbour graph of every training
          row's top hidden layer, recomputed every 5 epochs as fine-tuning
          changes it (Iscen et al. 2019); each row counts with the certainty
          of its spread label.
        - ``"pseudo_label"`` (Lee 2013): the network's own current prediction
          (its argmax class; for logistic outputs, each output rounded).

        An epoch is then a pass over the unlabelled rows as well as the
        labelled ones, which repeat when they fill fewer mini-batches:
        ``n_iter_``, ``t_`` (labelled rows, repeats included) and
        ``loss_curve_`` (the whole loss) count such epochs, and a fit takes
        longer (``bench_semisupervised`` gives the times). Without rows marked
        ``unlabeled`` it changes nothing. It is
        ignored, as ``early_stopping`` is, by ``solver="lbfgs"`` (no epochs to
        ramp over, and pseudo-labels would change its loss between
        evaluations), and ``"label_spreading"`` by a multilabel ``y`` (label
        spreading has no multilabel targets; ``"pseudo_label"`` has): there
        the unlabelled rows serve pre-training only.
    unlabeled_weight : float >= 0, default=1.0
        ``alpha_f``, the final weight of the unlabelled rows' term.
    unlabeled_ramp : (int, int), default=(10, 60)
        ``(t1, t2)``: the weight is 0 before epoch ``t1``, rises linearly to
        ``unlabeled_weight`` at epoch ``t2`` and stays there; epochs are counted
        over a ``warm_start`` or :meth:`partial_fit` sequence
        (``len(loss_curve_)``), so the ramp resumes where it stopped. No
        ``n_iter_no_change`` verdict (stopping, or lowering an adaptive step)
        is taken before epoch ``t2``: the loss changes with the weight until
        then.
    unlabeled_noise : float >= 0, default=0.0
        ``s``: with ``s > 0`` each unlabelled mini-batch also adds a
        consistency term (a Pi-model), weighted by the same ``alpha(t)``: the
        cross-entropy between the network's output on the rows, held fixed,
        and its output on the rows plus Gaussian noise of standard deviation
        ``s`` times each feature's standard deviation over the training rows
        (formula in Notes). It asks the network to answer the same near every
        row, labelled or not. 0 leaves it out; it is ignored where the
        unlabelled rows stay out of fine-tuning (``unlabeled_loss=None``,
        L-BFGS, ``"label_spreading"`` for a multilabel ``y``). A fit with it
        costs about one forward and one backward pass more per unlabelled
        mini-batch.
"""

_SEMI_NOTES_DOC = """
    With ``unlabeled_loss``, the loss of a mini-batch of labelled rows ``B_l``
    and unlabelled rows ``B_u`` at epoch ``t`` is

        ``L = sum_{i in B_l} w_i l(x_i, y_i) / sum_{i in B_l} w_i
        + alpha(t) sum_{j in B_u} w_j c_j l(x_j, y^_j) / sum_{j in B_u} w_j``

    plus the L2 term, where ``l`` is the cross-entropy, ``w`` the sample
    weights, ``y^_j`` the pseudo-label and ``c_j`` its weight: for
    ``"pseudo_label"``, ``y^_j = argmax_k p_k(x_j)`` and ``c_j = 1``; for
    ``"label_spreading"``, ``y^_j`` is the most probable class of the spread
    distribution ``q_j`` and ``c_j = 1 - H(q_j) / log K`` (``H`` the entropy,
    ``K`` the number of classes; 0 for a row the graph does not reach). The
    pseudo-labels are constants: no gradient flows through them. The ramp is
    ``alpha(t) = 0`` for ``t < t1``, ``alpha_f (t - t1) / (t2 - t1)`` for
    ``t1 <= t < t2`` and ``alpha_f`` from ``t2`` on (``t`` counts from 0).

    With ``unlabeled_noise = s > 0`` the same rows ``B_u`` add

        ``alpha(t) sum_{j in B_u} w_j l(x_j + s sigma * e_j, p(x_j)) /
        sum_{j in B_u} w_j``

    where ``p(x_j)`` is the network's output on the row (held fixed, without
    dropout), ``l`` the cross-entropy against that distribution (summed over
    the outputs for logistic ones), ``e_j`` a fresh standard normal vector and
    ``sigma`` the standard deviations of the features over the (weighted)
    training rows.
"""


class DBNClassifier(ClassifierMixin, _BaseDBN):
    __doc__ = _docstring(
        _CLASSIFIER_DOC,
        init=_INIT_DOC % {"default": "rbm", "activation": "logistic",
                          "unlabelled": " (unlabelled ones included)"},
        shared=_SHARED_DOC % {
            "score": "accuracy; subset accuracy for multilabel targets",
            "split": "The split is stratified as in ``MLPClassifier``, except "
                     "where a class cannot be represented on both sides (tiny data "
                     "sets) or for multilabel targets: there it is a plain random "
                     "split.",
            "extra": _UNLABELED_DOC},
        attributes=_ATTRIBUTES_DOC % {
            "out": '``"logistic"`` (two classes, or multilabel) or ``"softmax"``',
            "score": "accuracy"},
        notes=_NOTES_DOC + _SEMI_NOTES_DOC)

    _parameter_constraints = {
        **_BaseDBN._parameter_constraints,
        # a finite number (no row of y can be NaN or infinite) or a str
        "unlabeled": [None, Interval(Real, None, None, closed="neither"), str],
        "unlabeled_loss": [None, StrOptions(set(UNLABELED_LOSSES))],
        "unlabeled_weight": [Interval(Real, 0, None, closed="left")],
        "unlabeled_ramp": ["array-like"],
        "unlabeled_noise": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(256,),
        *,
        init="rbm",
        activation="logistic",
        negative_slope=0.01,
        maxout_pieces=2,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=1e-3,
        power_t=0.5,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        max_fun=15000,
        dropout=0.0,
        unlabeled=None,
        unlabeled_loss="label_spreading",
        unlabeled_weight=1.0,
        unlabeled_ramp=(10, 60),
        unlabeled_noise=0.0,
        random_state=None,
        verbose=0,
    ):
        self._set_params(locals())

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch of fine-tuning on the given batch.

        The first call initialises the network exactly as :meth:`fit` would (for
        a pre-training ``init``: pre-training on all rows of this first batch,
        unlabelled ones included) and needs ``classes``; later calls only
        fine-tune, keeping the optimiser state: on the labelled rows, and with
        ``unlabeled_loss`` on the batch's unlabelled rows too.

        A batch without a labelled row (every row ``unlabeled``) fine-tunes
        nothing. As the first call it initialises the network as
        :meth:`initialize` does, pre-training included (``n_iter_`` and ``t_``
        are 0). A later one is a no-op: once fine-tuning has begun, more
        pre-training would undo it, so the estimator is left exactly as it was
        (the batch is still checked).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (``unlabeled`` for rows without one), or a label
            indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows (None: all 1). Rows of weight 0 are dropped.
        classes : array-like of shape (n_classes,), default=None
            All classes that can appear; required on the first call. One class
            is enough, as in ``MLPClassifier``. The ``unlabeled`` marker, if
            listed, is not a class and is dropped. For a multilabel ``y`` the
            classes are its column indices, whatever is passed.

        Returns
        -------
        self : DBNClassifier
            The updated classifier.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _validate_targets(self, X, y, state, first, incremental, classes):
        """``y`` as the loss takes it (class indices, or the indicator matrix in
        ``X``'s dtype); on a first fit, the output layer in ``state``."""
        check_classification_targets(y)
        target = type_of_target(y)
        if target not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                "DBNClassifier supports binary, multiclass and multilabel-indicator "
                f"targets; got {target}."
            )
        if incremental and first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        multilabel = target == "multilabel-indicator"
        if not first and multilabel != (state["n_outputs_"] > 1
                                        and state["out_activation_"] == "logistic"):
            raise ValueError(
                f"y is {target}, but the network was fitted on "
                f"{'multilabel' if not multilabel else 'single-label'} targets; "
                "refit without warm_start to change the kind of target."
            )
        if not (first or incremental) and set(unique_labels(y)) != set(
                state["classes_"]):  # warm_start: MLPClassifier's rule and words
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in "
                f"the previous call to fit. Previously got {state['classes_']}, "
                f"`y` has {unique_labels(y)}"
            )
        if multilabel:
            return self._multilabel_targets(X, y, state, first)
        if classes is not None:
            classes = to_host(classes)  # labels live on the host
            array = np.asarray(classes)
            if array.ndim != 1 or array.shape[0] == 0:
                raise ValueError("classes must be a non-empty 1-d array of labels; "
                                 f"got shape {array.shape}.")
            if self.unlabeled is not None:  # the marker is not a class: out
                # first, from the sequence as given, which still knows a number
                # among strings (as the marker of string labels may be)
                listed = np.array(list(classes), dtype=object)
                classes = listed[~_is_marker(listed, self.unlabeled)].tolist()
                if not classes:
                    raise ValueError(f"classes holds no class: only the marker "
                                     f"unlabeled={self.unlabeled!r}.")
                array = np.asarray(classes)
            check_classification_targets(array)  # NaN, inf, continuous values
            classes = unique_labels(classes)
        if first:
            labels = np.unique(y) if classes is None else classes
            # one class fits, as in MLPClassifier: one logistic unit, trained
            # towards 0 as there, and the class always predicted
            n_out = 1 if labels.shape[0] <= 2 else labels.shape[0]
            state.update(classes_=labels, n_outputs_=n_out,
                         out_activation_="logistic" if n_out == 1 else "softmax",
                         _sparse_labels=False)
        elif classes is not None and not np.array_equal(classes, state["classes_"]):
            raise ValueError(
                f"classes={classes.tolist()} differ from the classes of "
                f"the first partial_fit call, {state['classes_'].tolist()}."
            )
        unknown = np.setdiff1d(np.unique(y), state["classes_"])
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()} not in classes "
                f"{state['classes_'].tolist()}"
                + ("." if first else " (the classes of the first fit, which "
                   "warm_start and partial_fit continue; refit without warm_start "
                   "for new classes).")
            )
        return np.searchsorted(state["classes_"], y)

    @staticmethod
    def _multilabel_targets(X, y, state, first):
        n_labels = y.shape[1]
        if first:  # a sparse indicator is predicted as one (_sparse_labels)
            state.update(classes_=np.arange(n_labels), n_outputs_=n_labels,
                         out_activation_="logistic", _sparse_labels=issparse(y))
        elif n_labels != state["n_outputs_"]:
            raise ValueError(f"y has {n_labels} labels, but the network was "
                             f"fitted on {state['n_outputs_']}.")
        y = y.toarray() if hasattr(y, "toarray") else y
        return np.asarray(y, dtype=numpy_dtype(X.dtype))

    def _predict_encoded(self, X, state=None, multilabel=None):
        """Class indices, or the 0/1 indicator matrix of a multilabel network
        (``multilabel`` None: the fitted network's kind)."""
        logits = self._logits(X, state)
        xp = ops_of(logits).xp
        if multilabel is None:
            multilabel = self._multilabel()
        if multilabel:
            return xp.astype(logits > 0, xp.int64)
        if logits.shape[1] == 1:
            return xp.astype(logits[:, 0] > 0, xp.int64)
        return xp.argmax(logits, axis=1)

    def _multilabel(self):
        """Whether the fitted network is multilabel (one logistic unit per label)."""
        return self.out_activation_ == "logistic" and self.n_outputs_ > 1

    def _validation_score(self, state, X, y, sample_weight=None):
        """Accuracy of the network ``state``, being fitted, on encoded targets
        ``y`` (subset accuracy for an indicator matrix)."""
        pred = self._predict_encoded(X, state, multilabel=y.ndim == 2)
        return float(accuracy_score(y, pred, sample_weight=sample_weight))

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on the labelled rows of ``(X, y)``.

        Rows whose label is ``unlabeled`` have nothing to be compared with and are
        left out, so cross-validation and grid searches on partly labelled data
        score the labelled rows of each held-out fold -- with this method, the
        default ``scoring=None``: a scorer such as ``scoring="accuracy"``
        compares every row and counts the unlabelled ones as errors. For a
        multilabel ``y`` it is the subset accuracy (every label of a row right).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels (``unlabeled`` for rows without one).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy of :meth:`predict` on the labelled rows.

        Examples
        --------
        >>> import numpy as np
        >>> from sk_dbn import DBNClassifier
        >>> X = np.random.default_rng(0).random((60, 4)); y = np.arange(60) % 2
        >>> clf = DBNClassifier((3,), init="xavier_uniform", early_stopping=True,
        ...                     unlabeled=-1, random_state=0).fit(X, y)
        >>> y_partial = np.where(np.arange(60) < 20, y, -1)
        >>> clf.score(X, y_partial) == clf.score(X[:20], y[:20])
        True
        """
        if self.unlabeled is not None:
            y = y if issparse(y) else np.asarray(to_host(y))
            _check_marker(y, self.unlabeled)
            labelled = ~_is_marker(y, self.unlabeled)
            if not labelled.any():
                raise ValueError("y has no labelled row to score: all rows are "
                                 f"unlabeled={self.unlabeled!r}.")
            keep = np.flatnonzero(labelled)
            X = (_safe_indexing(X, keep) if _is_numpy(data_namespace(X)[0])
                 else select_rows(labelled, X)[0])
            y = y[keep]
            if sample_weight is not None:
                sample_weight = np.asarray(to_host(sample_weight))[keep]
        return super().score(X, y, sample_weight=sample_weight)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray or sparse matrix of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels (the class, always, for a classifier fitted on one
            class), or the predicted indicator matrix of a multilabel
            classifier (a CSR matrix when it was fitted on a sparse one, as in
            ``MLPClassifier``).
        """
        encoded = self._predict_encoded(check_predict_input(self, X))
        if encoded.ndim == 2:
            return csr_matrix(to_host(encoded)) if self._sparse_labels else encoded
        if self.classes_.shape[0] == 1:
            encoded = encoded * 0
        return self._labels(encoded)

    def _labels(self, encoded):
        """The class labels of the class indices ``encoded``, in their namespace
        and on their device (numpy for labels that are not numbers)."""
        if isinstance(encoded, np.ndarray):
            return self.classes_[encoded]
        if self.classes_.dtype.kind not in "biuf":
            return self.classes_[to_host(encoded)]
        xp = ops_of(encoded).xp
        return xp.take(to_device(self.classes_, encoded), encoded)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns ordered as ``classes_``; rows sum to 1 (one
            column of ones for a classifier fitted on one class). For a
            multilabel classifier, each label's probability (rows need not sum
            to 1).
        """
        logits = self._logits(check_predict_input(self, X, "predict_proba"))
        if self._multilabel():
            return output_function("logistic")(logits)
        if self.classes_.shape[0] == 1:
            return ops_of(logits).xp.ones_like(logits)
        return logits_to_proba(logits)

    def predict_log_proba(self, X):
        """Log class probabilities, computed stably from the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns ordered as ``classes_`` (each label's, for
            a multilabel classifier).
        """
        logits = self._logits(check_predict_input(self, X, "predict_log_proba"))
        if self._multilabel():
            return ops_of(logits).log_expit(logits)
        if self.classes_.shape[0] == 1:
            return ops_of(logits).xp.zeros_like(logits)
        return logits_to_log_proba(logits)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


_REGRESSOR_DOC = """Neural network regressor with a choice of weight initialisation.

    The same network as :class:`DBNClassifier`, with an identity output layer
    (``exp`` for the Poisson loss) and the squared error, as scikit-learn's
    ``MLPRegressor``: parameters shared with it mean the same. Single- and
    multi-output ``y``. The initial weights come from ``init``: any scheme of
    :mod:`sk_dbn.initializers` by name or as a callable, ``"lsuv"``, or
    ``"rbm"`` (greedy RBM pre-training; real-valued ``X`` gets Gaussian visible
    units).

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Number of units of each hidden layer.
    loss : {"squared_error", "poisson"}, default="squared_error"
        ``"squared_error"``: half the squared error, identity output;
        ``"poisson"``: half the Poisson deviance with a log link (``exp``
        output), for non-negative ``y`` such as counts. As in ``MLPRegressor``,
        ``loss_`` reports the squared error averaged over the outputs, while the
        gradient is that of their sum (so ``alpha`` and the step sizes mean the
        same as there).
<<init>><<shared>>
    Attributes
    ----------
<<attributes>>
    See Also
    --------
    DBNClassifier : the same network for classification.
    StackedRBMTransformer : the greedy RBM pre-training on its own.
    sklearn.neural_network.MLPRegressor : the same network, Glorot-initialised.

    Notes
    -----
<<notes>>
    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_dbn import DBNRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(StandardScaler(), DBNRegressor(
    ...     (32,), learning_rate_init=0.1, early_stopping=True, random_state=0))
    >>> reg.fit(X[:350], y[:350]).score(X[350:], y[350:]) > 0.4
    True
"""


class DBNRegressor(RegressorMixin, _BaseDBN):
    __doc__ = _docstring(
        _REGRESSOR_DOC,
        init=_INIT_DOC % {"default": "xavier_uniform", "activation": "relu",
                          "unlabelled": ""},
        shared=_SHARED_DOC % {
            "score": "R²",
            "split": "The split is a plain random split, as in ``MLPRegressor``.",
            "extra": ""},
        attributes=_ATTRIBUTES_DOC % {
            "out": '``"identity"`` (squared error) or ``"exp"`` (Poisson)',
            "score": "R²"},
        notes=_NOTES_DOC)

    _parameter_constraints = {
        **_BaseDBN._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    _y_checks = {"y_numeric": True}

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        loss="squared_error",
        init="xavier_uniform",
        activation="relu",
        negative_slope=0.01,
        maxout_pieces=2,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=1e-3,
        power_t=0.5,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        max_fun=15000,
        dropout=0.0,
        random_state=None,
        verbose=0,
    ):
        self._set_params(locals())

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of fine-tuning on the given batch.

        The first call initialises the network exactly as :meth:`fit` would;
        later calls only fine-tune, keeping the optimiser state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows (None: all 1). Rows of weight 0 are dropped.

        Returns
        -------
        self : DBNRegressor
            The updated regressor.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _validate_targets(self, X, y, state, first, incremental, classes):
        """``y`` as a 2-D array in ``X``'s dtype; on a first fit, the output
        layer in ``state``."""
        out = self._out_activation()
        if out == "exp" and (y < 0).any():
            raise ValueError("Some value(s) of y are negative which is not allowed "
                             "for Poisson regression.")
        y = np.asarray(y, dtype=numpy_dtype(X.dtype)).reshape(y.shape[0], -1)
        if first:
            state.update(n_outputs_=y.shape[1], out_activation_=out)
        elif y.shape[1] != state["n_outputs_"]:
            raise ValueError(f"y has {y.shape[1]} outputs, but the network was "
                             f"fitted on {state['n_outputs_']}.")
        elif out != state["out_activation_"]:
            raise ValueError(
                f"loss={self.loss!r} needs the output activation {out!r}, but the "
                f"network was fitted with {state['out_activation_']!r}; refit "
                "without warm_start to change the loss."
            )
        return y

    def _out_activation(self):
        """The output activation ``loss`` asks for (its canonical link)."""
        return "exp" if self.loss == "poisson" else "identity"

    def _predict_values(self, X, out, state=None):
        logits = self._logits(X, state)
        with np.errstate(over="ignore"):
            return output_function(out)(logits)

    def _validation_score(self, state, X, y, sample_weight=None):
        """R² of the network ``state`` (being fitted, so with the output ``loss``
        asks for) on the targets ``y``."""
        pred = self._predict_values(X, self._out_activation(), state)
        return float(r2_score(y, pred, sample_weight=sample_weight))

    def predict(self, X):
        """Predict target values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values (1-D for a single output, as in ``MLPRegressor``).
            With ``loss="poisson"``, a mean beyond the dtype's range is ``inf``,
            with a ``RuntimeWarning`` (as ``MLPRegressor``'s overflow warning).
        """
        y = self._predict_values(check_predict_input(self, X), self.out_activation_)
        if self.out_activation_ == "exp" and not all_finite([y]):
            warn("predict: some Poisson means overflow to inf (the exp of their "
                 f"linear predictor is beyond {numpy_dtype(y.dtype)}): those rows "
                 "lie far outside the training data's scale.", RuntimeWarning)
        return ops_of(y).xp.reshape(y, (-1,)) if y.shape[1] == 1 else y

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R² of :meth:`predict` on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R² (averaged uniformly over the outputs), 1 at best.

        Examples
        --------
        >>> import numpy as np
        >>> from sk_dbn import DBNRegressor
        >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = X @ [1, 2, 3]
        >>> reg = DBNRegressor((16,), learning_rate_init=0.01, max_iter=300,
        ...                    random_state=0).fit(X, y)
        >>> reg.score(X, y) > 0.95
        True
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags
