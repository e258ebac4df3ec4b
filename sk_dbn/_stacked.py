"""StackedRBMTransformer: greedy layer-wise RBM pre-training as a transformer."""

import time
import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_array, gen_batches
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _rbm
from ._base import (
    POSITIVE_INT,
    DivergenceError,
    InterruptGuard,
    TrainingInterruptedWarning,
    VersionedStateMixin,
    all_finite,
    check_hidden_layer_sizes,
    copy_arrays,
    restore_arrays,
    writeable,
)
from ._fpenv import flush_denormals
from ._network import forward_chunked
from ._rng import check_generator
from .initializers import INITIALIZERS, get_initializer
from .utils._sklearn import Interval, StrOptions, _fit_context

_PROBE_ROWS = 1000
_GAUSSIAN_LR_FACTOR = 0.1
_DIVERGED = 1e6


def _load_rows(X, idx, out, standardization):
    """Rows ``idx`` of dense or sparse ``X`` into the dense buffer ``out``,
    standardised in place when the layer has Gaussian visible units."""
    if sp.issparse(X):
        out[...] = X[idx].toarray()
    else:
        np.take(X, idx, axis=0, out=out)
    if standardization is not None:
        out -= standardization[0]
        out /= standardization[1]
    return out


class StackedRBMTransformer(
    VersionedStateMixin,
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

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(256,)
        Number of hidden units of each RBM, bottom to top.
    visible_units : {"auto", "bernoulli", "gaussian"}, default="auto"
        Units of the first RBM's visible layer. ``"bernoulli"`` needs ``X`` in
        [0, 1]; ``"gaussian"`` takes any real data and standardises each feature
        internally (the standardisation is folded into the fitted weights, so
        ``coefs_`` act on raw ``X``); ``"auto"`` picks ``"bernoulli"`` when ``X``
        lies in [0, 1] and ``"gaussian"`` otherwise. Higher layers have Bernoulli
        visible units over Bernoulli hidden units below them and (standardised)
        Gaussian ones over ReLU units.
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
        bit-identical refits.
    verbose : int, default=0
        Print one line per epoch and layer when > 0.

    Attributes
    ----------
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape (fan_in, fan_out): the weights of RBM ``i`` in
        network orientation (see :func:`~sk_dbn._rbm.components_to_coefs` for the
        ``BernoulliRBM.components_`` orientation).
    intercepts_ : list of ndarray
        Hidden biases of each RBM, shape (fan_out,).
    intercepts_visible_ : list of ndarray
        Visible biases of each RBM, shape (fan_in,), in the raw space of that
        layer's input (for Gaussian units: the mean reconstruction at ``h = 0``).
    visible_units_ : str
        The visible units chosen for the first RBM (``"auto"`` resolved).
    n_iter_ : int
        Epochs each layer was trained for (fewer than ``n_iter`` only when training
        was interrupted: the minimum over layers).
    reconstruction_error_ : list of list of float
        Per layer, the mean squared error of the mean-field reconstruction of (up
        to 1000 rows of) that layer's input after each epoch.
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
        "momentum": [Interval(Real, 0, 1, closed="left")],
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
    def fit(self, X, y=None):
        """Train every RBM layer, greedily from the bottom.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : StackedRBMTransformer
            The fitted transformer.
        """
        self._fit(X, incremental=False)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One more CD pass over ``X`` for every layer (initialising on first call).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : None
            Ignored.

        Returns
        -------
        self : StackedRBMTransformer
            The updated transformer.
        """
        self._fit(X, incremental=True)
        return self

    def _fit(self, X, incremental):
        """Validate, initialise (if needed) and train; return True if interrupted."""
        first = not (incremental and hasattr(self, "coefs_"))
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=first
        )
        sizes = check_hidden_layer_sizes(self.hidden_layer_sizes)
        if not first and sizes != [W.shape[1] for W in self.coefs_]:
            raise ValueError(
                "hidden_layer_sizes changed since the first partial_fit: "
                f"{sizes} != {[W.shape[1] for W in self.coefs_]}"
            )
        n_epochs = 1 if incremental else self.n_iter
        epochs_done = 0 if first else self.n_iter_
        rng = check_generator(self.random_state, step=epochs_done)
        visible_units = self._resolve_visible_units(X)
        if first:
            self.visible_units_ = visible_units
            for name in ("coefs_", "intercepts_", "intercepts_visible_",
                         "reconstruction_error_", "_standardization", "_velocities",
                         "_chains"):
                setattr(self, name, [])
        interrupted = False
        completed = []
        layer_input = X
        with InterruptGuard() as guard, flush_denormals():
            for i, n_hidden in enumerate(sizes):
                if first:
                    self._init_layer(i, layer_input, n_hidden, rng)
                if not interrupted:
                    try:
                        self._train_layer(i, layer_input, epochs_done, n_epochs, rng,
                                          guard)
                    except KeyboardInterrupt:
                        interrupted = True
                    except DivergenceError:
                        self.n_iter_ = min(len(e) for e in self.reconstruction_error_)
                        raise
                completed.append(len(self.reconstruction_error_[i]))
                if i + 1 < len(sizes):
                    layer_input = self._up(i, layer_input)
        self.n_iter_ = min(completed)
        if interrupted:
            warnings.warn(
                f"{type(self).__name__}: training interrupted; kept the weights of the "
                f"last completed mini-batch (epochs completed per layer: {completed}).",
                TrainingInterruptedWarning,
                stacklevel=3,
            )
        return interrupted

    def _resolve_visible_units(self, X):
        data = X.data if sp.issparse(X) else X
        in_unit = data.size == 0 or (data.min() >= 0 and data.max() <= 1)
        if self.visible_units == "auto":
            return "bernoulli" if in_unit else "gaussian"
        if self.visible_units == "bernoulli" and not in_unit:
            raise ValueError(
                "visible_units='bernoulli' needs X in [0, 1]; got values in "
                f"[{data.min():.3g}, {data.max():.3g}]. Scale X (e.g. MinMaxScaler) "
                "or use visible_units='gaussian'."
            )
        return self.visible_units

    def _layer_visible_units(self, i):
        if i == 0:
            return self.visible_units_
        return "bernoulli" if self.hidden_units == "bernoulli" else "gaussian"

    def _init_layer(self, i, A, n_hidden, rng):
        """Initial parameters of layer ``i`` from its input ``A`` (appended)."""
        dtype = A.dtype
        n_visible = A.shape[1]
        W = np.asarray(
            get_initializer(self.init)(n_visible, n_hidden, random_state=rng,
                                       dtype=dtype),
            dtype=dtype,
        )
        if W.shape != (n_visible, n_hidden):
            raise ValueError(
                f"init returned shape {W.shape}; expected {(n_visible, n_hidden)}"
            )
        if not np.isfinite(W).all():
            raise ValueError(f"init={self.init!r} returned non-finite weights.")
        b_h = np.zeros(n_hidden, dtype=dtype)
        mean = np.asarray(A.mean(axis=0), dtype=np.float64).ravel()
        if self._layer_visible_units(i) == "bernoulli":
            standardization = None
            b_v = _rbm.visible_bias_from_data(mean, dtype)
        else:
            sq = A.multiply(A).mean(axis=0) if sp.issparse(A) else np.square(A).mean(0)
            var = np.asarray(sq, dtype=np.float64).ravel() - mean**2
            var = np.maximum(var, 0)
            if i == 0:
                # the user's features: each in its own units
                scale = np.sqrt(var)
                scale[scale < 1e-8 * np.maximum(1.0, np.abs(mean))] = 1.0
            else:
                # NReLU outputs of the layer below share one scale; dividing a
                # rarely-active unit by its own tiny std would blow it up
                scale = np.full_like(var, np.sqrt(var.mean()) or 1.0)
            standardization = (mean.astype(dtype), scale.astype(dtype))
            b_v = np.zeros(n_visible, dtype=dtype)
        self._standardization.append(standardization)
        params = [W, b_h, b_v]
        self._velocities.append([np.zeros_like(p) for p in params])
        self._chains.append(None)
        self.reconstruction_error_.append([])
        self._set_layer_params(i, params, append=True)

    def _layer_params(self, i):
        """Layer ``i``'s parameters in its training (standardised) space, writable."""
        params = [self.coefs_[i], self.intercepts_[i], self.intercepts_visible_[i]]
        if self._standardization[i] is not None:
            return list(_rbm.unfold_standardization(*params, *self._standardization[i]))
        return writeable(params)

    def _set_layer_params(self, i, params, append=False):
        if self._standardization[i] is not None:
            params = _rbm.fold_standardization(*params, *self._standardization[i])
        for name, p in zip(("coefs_", "intercepts_", "intercepts_visible_"), params):
            if append:
                getattr(self, name).append(p)
            else:
                getattr(self, name)[i] = p

    def _train_layer(self, i, A, epochs_done, n_epochs, rng, guard):
        """Run ``n_epochs`` epochs of CD on layer ``i``; its input is ``A``."""
        n_samples = A.shape[0]
        params = self._layer_params(i)
        velocities = writeable(self._velocities[i])
        W = params[0]
        standardization = self._standardization[i]
        batch_size = min(self.batch_size, n_samples)
        ws = _rbm.CDWorkspace(batch_size, W.shape[0], W.shape[1], W.dtype)
        chain = None
        if self.persistent:
            chain = self._chains[i]
            if chain is None or chain.shape[0] < batch_size:
                chain = np.zeros((batch_size, W.shape[1]), dtype=W.dtype)
            elif not chain.flags.writeable:
                chain = chain.copy()
        n_probe = min(n_samples, _PROBE_ROWS)
        probe = _load_rows(A, np.arange(n_probe),
                           np.empty((n_probe, W.shape[0]), W.dtype), standardization)
        # Hinton's guide: Gaussian visible units need a learning rate one or two
        # orders of magnitude smaller (the reconstruction sums over all hidden units).
        learning_rate = self.learning_rate * (
            _GAUSSIAN_LR_FACTOR if standardization is not None else 1.0
        )
        # everything an epoch changes, so a diverged epoch can be undone
        tracked = params + velocities + ([] if chain is None else [chain])
        try:
            # overflow inside a diverging epoch is detected below and reported as
            # a ValueError naming the learning rate, not as a RuntimeWarning
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for epoch in range(epochs_done, epochs_done + n_epochs):
                    self._cd_epoch(
                        i, A, epoch, ws, params, velocities, chain, tracked, probe,
                        learning_rate, rng, guard,
                    )
        finally:
            self._set_layer_params(i, params)
            self._velocities[i] = velocities
            self._chains[i] = chain

    def _cd_epoch(self, i, A, epoch, ws, params, velocities, chain, tracked, probe,
                  learning_rate, rng, guard):
        """One pass of CD over ``A`` for layer ``i``; undone if it diverges."""
        start = time.time()
        n_samples = A.shape[0]
        W, b_h, b_v = params
        visible, hidden = self._layer_visible_units(i), self.hidden_units
        standardization = self._standardization[i]
        momentum = min(0.5, self.momentum) if epoch < 5 else self.momentum
        snapshot = copy_arrays(tracked)
        order = rng.permutation(n_samples)
        for batch in gen_batches(n_samples, ws.H_sample.shape[0]):
            idx = order[batch]
            n = idx.shape[0]
            _load_rows(A, idx, ws.V[:n], standardization)
            _rbm.cd_update(
                ws, n, params, velocities, learning_rate=learning_rate,
                momentum=momentum, weight_decay=self.weight_decay, k=self.cd_k,
                chain=chain, rng=rng, visible_units=visible, hidden_units=hidden,
            )
            guard.check()
        error = _rbm.reconstruction_error(probe, W, b_h, b_v, visible, hidden)
        # standardised data reconstructed by its mean has error <= 1, so anything
        # beyond _DIVERGED is runaway weights, not slow learning
        if not (error < _DIVERGED and all_finite(params)):
            restore_arrays(tracked, snapshot)
            raise DivergenceError(
                f"Pre-training diverged in RBM layer {i} at epoch {epoch + 1}: the "
                f"reconstruction error became {error:.3g}.",
                parameter="learning_rate", value=self.learning_rate,
            )
        self.reconstruction_error_[i].append(error)
        if self.verbose:
            print(
                f"[{type(self).__name__}] layer {i}, epoch {epoch + 1}, "
                f"reconstruction error = {error:.6f}, {time.time() - start:.2f} s"
            )

    def _up(self, i, A):
        """Mean-field output of layer ``i`` for input ``A``."""
        act = _rbm.HIDDEN_ACTIVATION[self.hidden_units]
        return forward_chunked(A, self.coefs_[i : i + 1], self.intercepts_[i : i + 1],
                               [act])

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
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False
        )
        act = _rbm.HIDDEN_ACTIVATION[self.hidden_units]
        return forward_chunked(
            X.astype(self.coefs_[0].dtype, copy=False), self.coefs_, self.intercepts_,
            [act] * len(self.coefs_),
        )

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
        for i in range(len(self.coefs_) - 1, -1, -1):
            W = self.coefs_[i]
            standardization = self._standardization[i]
            if standardization is not None:
                W = W * np.square(standardization[1])[:, None]
            H = _rbm.down(H, W, self.intercepts_visible_[i],
                          self._layer_visible_units(i))
        return H

    def _check_top(self, X):
        H = check_array(X, accept_sparse="csr", dtype=self.coefs_[-1].dtype)
        if H.shape[1] != self.coefs_[-1].shape[1]:
            raise ValueError(
                f"X has {H.shape[1]} features, but inverse_transform expects "
                f"{self.coefs_[-1].shape[1]} (the top layer's size)."
            )
        return H

    @property
    def _n_features_out(self):
        return self.coefs_[-1].shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
