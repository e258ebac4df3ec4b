"""StackedRBMTransformer: greedy layer-wise RBM pre-training as a transformer."""

import time
from numbers import Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _rbm
from ._base import (
    POSITIVE_INT,
    DivergenceError,
    TrainingInterruptedWarning,
    VersionedStateMixin,
    check_hidden_layer_sizes,
    check_predict_input,
    check_sample_weight,
    max_abs,
    select_rows,
    warn,
)
from ._generative import GenerativeMixin
from ._namespace import check_same_place, data_namespace
from ._network import forward_chunked
from ._ops import numpy_dtype, ops_of, to_device
from ._rng import check_generator
from ._standardize import add_rows
from ._transaction import TrainingSession, divergence_causes, transaction
from .initializers import INITIALIZERS, _draw_weights
from .utils._sklearn import Interval, StrOptions, _fit_context, array_namespace

FIT_ADVICE = "Scale X (e.g. MinMaxScaler) or use visible_units='gaussian'."


class StackedRBMTransformer(
    VersionedStateMixin,
    GenerativeMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Stack of restricted Boltzmann machines trained greedily, layer by layer.

    Layer ``i`` is an RBM trained with contrastive divergence (CD-k, or persistent
    CD) on the mean-field output of layer ``i - 1``. :meth:`transform` is the
    deterministic mean-field up-pass through every layer; :meth:`inverse_transform`
    the mean-field down-pass back to input space. The fitted weights use the
    (fan_in, fan_out) orientation of a feed-forward network, so they can initialise
    one directly (see :class:`~sk_dbn.DBNClassifier` with ``init="rbm"``).

    It is a generative model too: :meth:`score_samples` (pseudo-likelihood) and
    :meth:`gibbs` as in ``BernoulliRBM``, :meth:`sample` draws from the whole
    stack as a deep belief network, and :meth:`log_likelihood` estimates the
    bottom RBM's log-likelihood by annealed importance sampling.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(256,)
        Number of hidden units of each RBM, bottom to top. An int ``n`` (or
        ``(n,)``) is one RBM with ``n`` hidden units, what ``BernoulliRBM``
        calls ``n_components=n``; the fitted stack then also has its
        ``components_``, ``intercept_hidden_`` and ``intercept_visible_``.
    visible_units : {"auto", "bernoulli", "gaussian"}, default="auto"
        Units of the first RBM's visible layer. ``"bernoulli"`` needs ``X`` in
        [0, 1]; ``"gaussian"`` takes any real data and standardises each feature
        internally (the standardisation is folded into the fitted weights, so
        ``coefs_`` act on raw ``X``); ``"auto"`` picks ``"bernoulli"`` when ``X``
        lies in [0, 1] and ``"gaussian"`` otherwise (and keeps that choice:
        later :meth:`partial_fit` batches must then lie in [0, 1] too). Higher
        layers have Bernoulli visible units over Bernoulli hidden units below them
        and (standardised) Gaussian ones over ReLU units.

        A Bernoulli unit models a probability, so ``"bernoulli"`` refuses data
        outside [0, 1] with a ``ValueError``: that is why
        ``StackedRBMTransformer(visible_units="bernoulli")`` cannot pass the
        scikit-learn estimator checks that fit on negative (standard normal)
        data. ``"auto"`` and ``"gaussian"`` pass them.
    hidden_units : {"bernoulli", "relu"}, default="bernoulli"
        Hidden units of every RBM: binary stochastic units, or noisy rectified
        linear units (Nair & Hinton 2010), whose mean-field output is
        ``max(0, x)``: the right pre-training for a ReLU network.
    init : str or callable, default="normal"
        Initial weights: a name in :data:`sk_dbn.initializers.INITIALIZERS` or a
        callable with the initializer contract. The default ``"normal"`` draws
        N(0, 0.01^2), as Hinton's practical guide recommends. Hidden biases start
        at 0 and visible biases at ``log(p / (1 - p))`` with ``p`` the mean of
        each (Bernoulli) visible unit on the data.
    learning_rate : float, default=0.05
        Step size of the CD updates (gradients are averaged over the batch). RBMs
        with Gaussian visible units use a tenth of it, as Hinton's practical guide
        advises: their reconstruction is an unbounded sum over all hidden units,
        and full-size steps make it oscillate and diverge.
    batch_size : int, default=32
        Mini-batch size.
    n_iter : int, default=20
        Epochs (passes over the data) per layer.
    cd_k : int, default=1
        Gibbs steps of contrastive divergence. CD-1 is the practical standard.
    persistent : bool, default=False
        Use persistent chains (PCD, Tieleman 2008) for the negative phase, as
        scikit-learn's ``BernoulliRBM`` does. PCD wants small steps: the chains
        must keep up with the changing model, and with high momentum they lag
        (on a tiny RBM whose likelihood can be enumerated, PCD with momentum 0.9
        lowers it where CD-1 raises it); consider ``momentum=0.5``.
    momentum : float, default=0.9
        Momentum of the updates after the first 5 epochs of each layer; during
        those 5 it is ``min(0.5, momentum)`` (Hinton's schedule).
    weight_decay : float, default=2e-4
        L2 penalty on the weights (not biases), within Hinton's 1e-4..1e-2.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, shuffling and Gibbs sampling. An int gives
        bit-identical refits, and the same model for float32 and float64 data
        up to float32 precision (the random numbers are drawn in float64
        whatever the dtype).
    verbose : int, default=0
        Print one line per epoch and layer when > 0.

    Attributes
    ----------
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape (fan_in, fan_out): the weights of RBM ``i`` in
        network orientation, (n_visible, n_hidden): ``coefs_[i].T`` is in the
        (n_components, n_features) orientation of ``BernoulliRBM.components_``.
    intercepts_ : list of ndarray
        Hidden biases of each RBM, shape (fan_out,).
    intercepts_visible_ : list of ndarray
        Visible biases of each RBM, shape (fan_in,), in the raw space of that
        layer's input (for Gaussian units: the mean reconstruction at ``h = 0``).
    components_ : ndarray of shape (n_components, n_features)
        ``BernoulliRBM``'s name, for a one-layer stack (``n_components`` is its
        hidden size): ``coefs_[0].T``, as a read-only view. ``transform(X)`` is
        ``expit(X @ components_.T + intercept_hidden_)`` (``max(0, ...)`` for
        ReLU hidden units; for Gaussian visible units these parameters act on
        raw ``X``). A stack of several RBMs raises an ``AttributeError`` that
        points to ``coefs_``, ``intercepts_`` and ``intercepts_visible_``.
    intercept_hidden_ : ndarray of shape (n_components,)
        ``BernoulliRBM``'s name, for a one-layer stack: ``intercepts_[0]``, as a
        read-only view.
    intercept_visible_ : ndarray of shape (n_features,)
        ``BernoulliRBM``'s name, for a one-layer stack: ``intercepts_visible_[0]``,
        as a read-only view.
    visible_units_ : str
        The visible units chosen for the first RBM (``"auto"`` resolved).
    n_iter_ : int
        Epochs each layer has been trained for (the minimum over layers):
        ``n_iter`` after :meth:`fit` (fewer only when training was interrupted),
        plus one for each :meth:`partial_fit` call since.
    reconstruction_error_ : list of list of float
        Per layer, the mean squared error of the mean-field reconstruction of (up
        to 1000 rows of) that layer's input after each epoch; for Gaussian
        visible units, of the input standardised (1 is the error of
        reconstructing every row as the mean).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.neural_network.BernoulliRBM : a single Bernoulli RBM (PCD only).
    DBNClassifier : a network initialised by this transformer, then fine-tuned.

    Notes
    -----
    CD-k estimates the gradient of the log-likelihood,
    :math:`\\partial \\log p(v) / \\partial W = \\langle v h^T\\rangle_{data} -
    \\langle v h^T\\rangle_{model}`, by starting a Gibbs chain at the data and
    running ``k`` steps; the statistics use hidden probabilities (means), visible
    samples for Bernoulli units and the noise-free mean for Gaussian units. The
    update is ``v <- m v + lr (grad - weight_decay W)``, ``W <- W + v``.

    Gaussian visible units see each feature standardised by its mean and
    standard deviation, accumulated in float64 with a numerically stable
    (pairwise, centred) update, so offsets such as ``1e12 +- 100`` keep their
    spread. A feature counts as constant, and is scaled by 1, when its values
    are all equal or its spread is below the resolution of ``X``'s dtype at its
    offset: ``1e10 +- 100`` is constant in float32 (whose floats are 1024 apart
    there), not in float64. :meth:`partial_fit` keeps these statistics running
    over all the rows seen so far; when a batch changes them, the parameters
    are re-expressed under the new standardisation so that the transform of raw
    data is unchanged, and a first batch of a single row does not freeze a
    scale.

    A fit is a transaction: if it raises, the transformer is left exactly as it
    was (unfitted, or with its previous model); the caller's arrays are never
    modified. Ctrl-C stops at the end of the current mini-batch and keeps what
    was trained until then (with a ``TrainingInterruptedWarning``); a second
    Ctrl-C aborts the fit at once and leaves the transformer as it was.

    References: Hinton, Osindero & Teh (2006), A fast learning algorithm for deep
    belief nets; Hinton (2010), A Practical Guide to Training Restricted Boltzmann
    Machines; Nair & Hinton (2010), Rectified linear units improve restricted
    Boltzmann machines.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_dbn import StackedRBMTransformer
    >>> X = load_digits().data / 16
    >>> rbm = StackedRBMTransformer((64, 32), n_iter=2, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (1797, 32)
    >>> rbm.inverse_transform(rbm.transform(X[:2])).shape
    (2, 64)
    >>> rbm.sample(3, n_steps=10, random_state=0).shape
    (3, 64)
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", POSITIVE_INT],
        "visible_units": [StrOptions({"auto", "bernoulli", "gaussian"})],
        "hidden_units": [StrOptions({"bernoulli", "relu"})],
        "init": [StrOptions(set(INITIALIZERS)), callable],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [POSITIVE_INT],
        "n_iter": [POSITIVE_INT],
        "cd_k": [POSITIVE_INT],
        "persistent": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(256,),
        *,
        visible_units="auto",
        hidden_units="bernoulli",
        init="normal",
        learning_rate=0.05,
        batch_size=32,
        n_iter=20,
        cd_k=1,
        persistent=False,
        momentum=0.9,
        weight_decay=2e-4,
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.visible_units = visible_units
        self.hidden_units = hidden_units
        self.init = init
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.cd_k = cd_k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Train every RBM layer, greedily from the bottom.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in every statistic of the fit (None: all 1): the
            CD statistics of each mini-batch are weighted means, and so are the
            initial visible biases and the standardisation of Gaussian visible
            units. Rows of weight 0 are dropped.

        Returns
        -------
        self : StackedRBMTransformer
            The fitted transformer.
        """
        if self._fit(X, incremental=False, sample_weight=sample_weight):
            self._warn_interrupted()
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """One more CD pass over ``X`` for every layer (initialising on first call).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, as for :meth:`fit`.

        Returns
        -------
        self : StackedRBMTransformer
            The updated transformer.
        """
        if self._fit(X, incremental=True, sample_weight=sample_weight):
            self._warn_interrupted()
        return self

    def _fit(self, X, incremental, sample_weight=None):
        """Validate, initialise (if needed), train, commit; True if interrupted
        (the caller says so: the transformer, or a network pre-training it)."""
        with transaction(self):
            first = not (incremental and hasattr(self, "_layers"))
            sizes = check_hidden_layer_sizes(self.hidden_layer_sizes,
                                             type(self).__name__)
            X, w, visible_units = self._validate_fit_data(X, sample_weight, first,
                                                          sizes)
            layers = [] if first else [_rbm.copy_layer(a) for a in self._layers]
            rng = check_generator(self.random_state,
                                  step=0 if first else self.n_iter_)
            n_epochs = 1 if incremental else self.n_iter
            with TrainingSession() as session:
                A = X
                for i, n_hidden in enumerate(sizes):
                    if first:
                        layers.append(self._new_layer(i, A, w, n_hidden,
                                                      visible_units, rng))
                    elif not session.interrupted:
                        add_rows(layers[i], A, w)
                    if not session.interrupted:
                        with session.stage():
                            self._train_layer(i, layers[i], A, n_epochs, rng, session,
                                              w)
                    if i + 1 < len(sizes):
                        A = self._up(layers[i], A)
            self._commit(layers, visible_units)
        return session.interrupted

    def _warn_interrupted(self):
        warn(f"{type(self).__name__}: training interrupted; kept the weights of the "
             "last completed mini-batch (epochs completed per layer: "
             f"{[len(e) for e in self.reconstruction_error_]}).",
             TrainingInterruptedWarning)

    def _train_layer(self, index, layer, A, n_epochs, rng, session, sample_weight):
        """``n_epochs`` epochs of layer ``index`` on its input ``A``: the
        divergence check and the verbose line after each."""
        start = time.time()
        for error in _rbm.train_layer(
                layer, A, n_epochs, rng=rng, session=session,
                learning_rate=self.learning_rate, momentum=self.momentum,
                weight_decay=self.weight_decay, batch_size=self.batch_size,
                cd_k=self.cd_k, persistent=self.persistent,
                sample_weight=sample_weight):
            epoch = len(layer["errors"])
            if _rbm.diverged(layer, error):
                raise DivergenceError(
                    f"Pre-training diverged in RBM layer {index} at epoch {epoch}: "
                    f"the reconstruction error became {error:.3g}.",
                    self._divergence_causes(index, layer, A))
            if self.verbose:
                print(f"[StackedRBMTransformer] layer {index}, epoch {epoch}, "
                      f"reconstruction error = {error:.6f}, "
                      f"{time.time() - start:.2f} s")
            start = time.time()

    def _divergence_causes(self, index, layer, A):
        """Why layer ``index`` diverged: ``init`` when its weights started too
        large for a Gaussian-NReLU chain, else the learning rate (and, for the
        first layer, the data's scale: a higher layer's input ``A`` is the output
        of the layers below, large only when their weights grew large)."""
        gain = layer.get("initial_gain", 0.0)
        if gain >= 1:
            return [("init", self.init,
                     "the initial weights are too large for Gaussian visible and "
                     "NReLU hidden units: their Gibbs chain amplifies when the "
                     "largest singular value of W exceeds 1 (it was "
                     f"{gain:.3g}); use a small-scale init such as the default "
                     "'normal'")]
        if index > 0:
            return [("learning_rate", self.learning_rate,
                     f"lower learning_rate (the input of layer {index}, the "
                     "output of the layers below, reached max |h| = "
                     f"{max_abs(A):.3g})")]
        return divergence_causes(A, learning_rate=("learning_rate",
                                                   self.learning_rate))

    def _validate_fit_data(self, X, sample_weight, first, sizes):
        """``(X, sample_weight, visible_units)`` for a fit: rows of weight 0
        dropped before anything looks at them."""
        xp, _ = data_namespace(X)
        X = validate_data(self, X, accept_sparse="csr",
                          dtype=[xp.float64, xp.float32], reset=first)
        if not first:
            check_same_place(self, X, "partial_fit")
        w = check_sample_weight(sample_weight, X)
        if w is not None:
            X, w = select_rows(w > 0, X, w)
            w = to_device(w, X)  # one move to the data's device
        if first:
            return X, w, self._resolve_visible_units(X)
        fitted = [a["W"].shape[1] for a in self._layers]
        if sizes != fitted:
            raise ValueError(
                f"hidden_layer_sizes={sizes} differs from the fitted stack's "
                f"{fitted}; partial_fit continues the same stack (use fit to start "
                "a new one)."
            )
        units = self._layers[0]["hidden_units"]
        if self.hidden_units != units or self.visible_units not in (
                "auto", self.visible_units_):
            raise ValueError(
                f"hidden_units={self.hidden_units!r}, visible_units="
                f"{self.visible_units!r} differ from the fitted stack's "
                f"({units!r}, {self.visible_units_!r}); partial_fit continues the "
                "same stack (use fit to start a new one)."
            )
        X = ops_of(X).astype(X, self._layers[0]["W"].dtype)
        if self.visible_units_ == "bernoulli":
            _rbm.check_unit_interval(X, "visible_units='bernoulli' (resolved at the "
                                     "first fit)", FIT_ADVICE)
        return X, w, self.visible_units_

    def _resolve_visible_units(self, X):
        if self.visible_units == "auto":
            return "bernoulli" if _rbm.in_unit_interval(X) else "gaussian"
        if self.visible_units == "bernoulli":
            _rbm.check_unit_interval(X, "visible_units='bernoulli'", FIT_ADVICE)
        return self.visible_units

    def _new_layer(self, i, A, sample_weight, n_hidden, visible_units, rng):
        """Training state of layer ``i`` over its input ``A`` (rows weighted by
        ``sample_weight``), weights from init."""
        # drawn on the host (a seed gives the same weights on every backend),
        # moved once to the data's device
        W = to_device(_draw_weights(self.init, A.shape[1], n_hidden, rng=rng,
                                    dtype=numpy_dtype(A.dtype), layer=i), A)
        below = visible_units if i == 0 else (
            "bernoulli" if self.hidden_units == "bernoulli" else "gaussian")
        return _rbm.new_layer(A, W, visible_units=below,
                              hidden_units=self.hidden_units, shared_scale=i > 0,
                              sample_weight=sample_weight)

    def _up(self, layer, A):
        """Mean-field output of ``layer`` for its raw input ``A``."""
        W, b, _ = _rbm.raw_params(layer)
        return forward_chunked(A, [W], [b],
                               [_rbm.HIDDEN_ACTIVATION[layer["hidden_units"]]])

    def _commit(self, layers, visible_units):
        """Assign the fitted state: raw-space parameters of every layer."""
        raw = [_rbm.raw_params(a) for a in layers]
        self._layers = layers
        self.coefs_ = [W for W, _, _ in raw]
        self.intercepts_ = [b for _, b, _ in raw]
        self.intercepts_visible_ = [c for _, _, c in raw]
        self.visible_units_ = visible_units
        self.reconstruction_error_ = [list(a["errors"]) for a in layers]
        self.n_iter_ = min(len(a["errors"]) for a in layers)
        self._n_gibbs_calls = 0  # gibbs() draws afresh from each fitted state

    # ------------------------------------------------------------ transforming
    def transform(self, X):
        """Mean-field hidden activations of the top layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        H : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            Deterministic: hidden probabilities (Bernoulli units) or ``max(0, x)``
            (ReLU units), in the dtype of the fitted weights.
        """
        X = check_predict_input(self, X, "transform")
        return forward_chunked(X, self.coefs_, self.intercepts_,
                               [self._hidden_activation()] * len(self.coefs_))

    def _hidden_activation(self):
        """The activation of every fitted layer's mean-field up-pass (from the
        fitted state, not from ``hidden_units``)."""
        return _rbm.HIDDEN_ACTIVATION[self._layers[0]["hidden_units"]]

    def inverse_transform(self, X):
        """Mean-field top-down reconstruction in input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, hidden_layer_sizes[-1])
            Top-layer activations (e.g. the output of :meth:`transform`).

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            Reconstructed inputs: probabilities for Bernoulli visible units, means
            for Gaussian ones.
        """
        check_is_fitted(self)
        H = self._check_top(X)
        for layer, b_visible in zip(self._layers[::-1],
                                    self.intercepts_visible_[::-1]):
            H = _rbm.down_raw(layer, H, b_visible)
        return H

    def _check_top(self, X):
        xp, _ = data_namespace(X)
        H = check_array(X, accept_sparse="csr", dtype=[xp.float64, xp.float32])
        check_same_place(self, H, "inverse_transform")
        H = ops_of(H).astype(H, self.coefs_[-1].dtype)
        if H.shape[1] != self.coefs_[-1].shape[1]:
            raise ValueError(
                f"X has {H.shape[1]} features, but inverse_transform expects "
                f"{self.coefs_[-1].shape[1]} (the top layer's size)."
            )
        return H

    @property
    def _n_features_out(self):
        return self.coefs_[-1].shape[1]

    # ------------------------------------------------------ BernoulliRBM's names
    @property
    def components_(self):
        """``coefs_[0].T`` of a one-layer stack (BernoulliRBM's name)."""
        return _read_only(self._single_rbm("components_")[0].T)

    @property
    def intercept_hidden_(self):
        """``intercepts_[0]`` of a one-layer stack (BernoulliRBM's name)."""
        return _read_only(self._single_rbm("intercept_hidden_")[1])

    @property
    def intercept_visible_(self):
        """``intercepts_visible_[0]`` of a one-layer stack (BernoulliRBM's name)."""
        return _read_only(self._single_rbm("intercept_visible_")[2])

    def _single_rbm(self, name):
        """``(W, b_hidden, b_visible)`` of the one RBM of a fitted one-layer stack,
        for BernoulliRBM's attribute ``name``; an ``AttributeError`` that names
        the general attributes for a deeper stack."""
        check_is_fitted(self)
        if len(self.coefs_) > 1:
            raise AttributeError(
                f"{name} is BernoulliRBM's name for the parameters of a single "
                f"RBM, and this stack has {len(self.coefs_)}: those of layer i are "
                "coefs_[i].T (components_), intercepts_[i] (intercept_hidden_) and "
                "intercepts_visible_[i] (intercept_visible_)."
            )
        return self.coefs_[0], self.intercepts_[0], self.intercepts_visible_[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _read_only(a):
    """A read-only view of ``a``: writing into it would desynchronise the fitted
    state (``coefs_`` and the training state of the layers). Arrays of other
    namespaces have no read-only flag: a copy of those."""
    if not isinstance(a, np.ndarray):
        return array_namespace(a).asarray(a, copy=True)
    view = a.view()
    view.flags.writeable = False
    return view
