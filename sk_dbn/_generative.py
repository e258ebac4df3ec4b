"""The stack as a generative model: what ``StackedRBMTransformer`` adds to a
feature extractor (``score_samples``, ``gibbs``, ``sample``, ``log_likelihood``).

A mixin over the fitted state of :class:`~sk_dbn.StackedRBMTransformer` (its
``_layers`` and raw-space ``coefs_``, ``intercepts_``, ``intercepts_visible_``);
the maths is in :mod:`sk_dbn._likelihood` and :mod:`sk_dbn._rbm`.
"""

from numbers import Integral

from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from . import _likelihood, _rbm
from ._base import check_predict_input
from ._ops import ops_of, to_host
from ._rng import check_generator, device_draws
from ._standardize import standardization
from .utils._sklearn import Interval, validate_parameter_constraints

SAMPLING_STEP = 2**32
"""Offset of the seeds of ``gibbs`` calls (``partial_fit`` uses small steps)."""


def _bernoulli_bottom(est):
    """Whether the bottom RBM has Bernoulli visible and hidden units (True while
    unfitted, so that calling the method raises ``NotFittedError``)."""
    if not hasattr(est, "_layers"):
        return True
    layer = est._layers[0]
    if layer["visible_units"] == "bernoulli" and layer["hidden_units"] == "bernoulli":
        return True
    raise AttributeError(
        "score_samples is defined for a Bernoulli-Bernoulli bottom RBM (its "
        "pseudo-likelihood flips binary units); this one has "
        f"visible_units={layer['visible_units']!r}, "
        f"hidden_units={layer['hidden_units']!r}."
    )


class GenerativeMixin:
    """``score_samples``, ``gibbs``, ``sample`` and ``log_likelihood``."""

    @available_if(_bernoulli_bottom)
    def score_samples(self, X):
        """Pseudo-log-likelihood of each row under the bottom RBM.

        ``sum_i log p(x_i | x_-i)`` over all visible units ``i``, where the other
        state of unit ``i`` is ``1 - x_i``. ``BernoulliRBM.score_samples`` has the
        same expected value but draws one unit per row at random (times
        ``n_features``); this sum is exact and deterministic. Only the bottom RBM
        models the input itself (the layers above model its features), so it is
        the one scored. Available for Bernoulli visible and hidden units only.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data in [0, 1] (a ``ValueError`` otherwise: values outside it are no
            states of Bernoulli units, and their score would be meaningless).

        Returns
        -------
        pseudo_likelihood : ndarray of shape (n_samples,)
            Pseudo-log-likelihood per row, in nats (float64).

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sk_dbn import StackedRBMTransformer
        >>> X = (load_digits().data[:300] > 8).astype(float)
        >>> rbm = StackedRBMTransformer((32,), n_iter=5, random_state=0).fit(X)
        >>> scores = rbm.score_samples(X[:3])
        >>> scores.shape, bool((scores < 0).all())
        ((3,), True)
        """
        X = self._check_visible_states(X, "score_samples")
        return _likelihood.pseudo_log_likelihood(
            X, self.coefs_[0], self.intercepts_[0], self.intercepts_visible_[0])

    def gibbs(self, v):
        """One Gibbs step of the bottom RBM: ``v -> h -> v``, sampled.

        As ``BernoulliRBM.gibbs``: hidden states are sampled given ``v``, then
        visible states given them. Bernoulli units give 0/1 values; NReLU hidden
        units ``max(0, x + noise)``; Gaussian visible units their mean plus unit
        noise in the standardised space (``scale`` times it in input space). Each
        call draws fresh numbers, reproducibly for an int ``random_state``.

        Parameters
        ----------
        v : {array-like, sparse matrix} of shape (n_samples, n_features)
            Visible states to start from: in [0, 1] for Bernoulli visible units
            (a ``ValueError`` otherwise), any real values for Gaussian ones.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features)
            Visible states after one step, in the dtype of the fitted weights.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sk_dbn import StackedRBMTransformer
        >>> X = (load_digits().data[:300] > 8).astype(float)
        >>> rbm = StackedRBMTransformer((32,), n_iter=5, random_state=0).fit(X)
        >>> v = rbm.gibbs(X[:2])
        >>> v.shape, sorted(set(v.ravel().tolist())) == [0.0, 1.0]
        ((2, 64), True)
        """
        V = self._check_visible_states(v, "gibbs")
        self._n_gibbs_calls = getattr(self, "_n_gibbs_calls", 0) + 1
        rng = check_generator(self.random_state,
                              step=SAMPLING_STEP + self._n_gibbs_calls)
        draws = device_draws(rng, self.coefs_[0])
        H = _sample_up(self._layers[0], self.coefs_[0], self.intercepts_[0], V,
                       draws)
        return _sample_down(self._layers[0], H, self.intercepts_visible_[0], draws,
                            noise=True)

    def sample(self, n_samples, *, n_steps=1000, random_state=None):
        """Draw samples from the stack as a deep belief network.

        ``n_samples`` independent Gibbs chains run ``n_steps`` steps in the top RBM
        (started from random binary states of its visible layer); its hidden
        states are then sampled once more and one top-down pass carries them to
        input space: sampled states through the layers between (means for
        Gaussian ones), and the bottom layer's mean -- probabilities for
        Bernoulli visible units, as deep-belief-network samples are usually
        shown (their average over samples is the model's marginal).

        Parameters
        ----------
        n_samples : int
            Number of samples (independent chains), at least 1.
        n_steps : int, default=1000
            Gibbs steps in the top RBM, at least 0. Counts must be integers (an
            ``InvalidParameterError``, a ``ValueError``, otherwise: ``2.5`` or
            ``"3"`` are not rounded).
        random_state : int, RandomState instance or None, default=None
            Seeds the chains; an int gives the same samples every time.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            Samples in input space, in the dtype of the fitted weights.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sk_dbn import StackedRBMTransformer
        >>> X = (load_digits().data[:300] > 8).astype(float)
        >>> rbm = StackedRBMTransformer((32,), n_iter=5, random_state=0).fit(X)
        >>> rbm.sample(4, n_steps=100, random_state=0).shape
        (4, 64)
        """
        check_is_fitted(self)
        _check_counts(f"{type(self).__name__}.sample", n_samples=(n_samples, 1),
                      n_steps=(n_steps, 0))
        n_samples, n_steps = int(n_samples), int(n_steps)
        top, W, b_h, b_v = (self._layers[-1], self.coefs_[-1], self.intercepts_[-1],
                            self.intercepts_visible_[-1])
        draws = device_draws(check_generator(random_state), W)
        ops = ops_of(W)
        shape, device = (n_samples, W.shape[0]), getattr(W, "device", None)
        u = draws.uniform(ops.empty(shape, ops.float64(W), device))
        V = ops.less(u, 0.5, out=ops.empty(shape, W.dtype, device))
        for _ in range(n_steps):
            V = _sample_down(top, _sample_up(top, W, b_h, V, draws), b_v, draws)
        H = _sample_up(top, W, b_h, V, draws)
        for i in range(len(self._layers) - 1, -1, -1):
            layer, b_v = self._layers[i], self.intercepts_visible_[i]
            H = (_rbm.down_raw(layer, H, b_v) if i == 0
                 else _sample_down(layer, H, b_v, draws))
        return H

    def log_likelihood(self, X, *, n_chains=100, n_betas=1000, random_state=None):
        """Average log-likelihood of ``X`` under the bottom RBM, by AIS.

        ``log p(x) = -F(x) - log Z``: the free energy is exact, the partition
        function ``Z`` is estimated by annealed importance sampling (Salakhutdinov
        & Murray, ICML 2008) from a base model with the data's marginal
        probabilities as visible biases. The defaults take a few seconds for a
        784 x 500 layer on 2 cores; more chains shrink the error bar, more
        inverse temperatures the (downward) bias of ``log Z``. Bernoulli visible
        and hidden units only (the bottom RBM: the one that models ``X``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data in [0, 1] (a ``ValueError`` otherwise); its column means also
            set the base model.
        n_chains : int, default=100
            Independent AIS runs, at least 2.
        n_betas : int, default=1000
            Intermediate distributions (inverse temperatures), at least 2, spaced
            as in Salakhutdinov & Murray: denser near the RBM.
        random_state : int, RandomState instance or None, default=None
            Seeds the AIS runs.

        Returns
        -------
        log_likelihood : float
            Mean log-likelihood per row, in nats.
        std_err : float
            Standard error of the estimate (that of ``log Z``); ± 3 of them is a
            conventional error bar.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sk_dbn import StackedRBMTransformer
        >>> X = (load_digits().data[:300] > 8).astype(float)
        >>> rbm = StackedRBMTransformer((32,), n_iter=5, random_state=0).fit(X)
        >>> ll, err = rbm.log_likelihood(X, n_chains=20, n_betas=200, random_state=0)
        >>> bool(ll < 0 and err > 0)
        True
        """
        X = check_predict_input(self, X, "log_likelihood")
        layer = self._layers[0]
        if (layer["visible_units"], layer["hidden_units"]) != ("bernoulli",
                                                                "bernoulli"):
            raise ValueError(
                "log_likelihood needs a Bernoulli-Bernoulli bottom RBM (its "
                "partition function is what AIS estimates here); this one has "
                f"visible_units={layer['visible_units']!r}, "
                f"hidden_units={layer['hidden_units']!r}.")
        return bernoulli_log_likelihood(
            X, self.coefs_[0], self.intercepts_[0], self.intercepts_visible_[0],
            n_chains=n_chains, n_betas=n_betas, random_state=random_state,
            caller=f"{type(self).__name__}.log_likelihood")

    def _check_visible_states(self, X, method):
        """``X`` validated for the fitted stack; in [0, 1] if the bottom RBM has
        Bernoulli visible units."""
        X = check_predict_input(self, X, method)
        if self._layers[0]["visible_units"] == "bernoulli":
            _check_bernoulli_states(X, f"{type(self).__name__}.{method}")
        return X


def bernoulli_log_likelihood(X, W, b_h, b_v, *, n_chains, n_betas, random_state,
                             caller):
    """``(mean log-likelihood, standard error)`` of the rows of ``X`` under a
    Bernoulli-Bernoulli RBM ``(W, b_h, b_v)`` in ``coefs_`` orientation, by AIS
    (:func:`sk_dbn._likelihood.log_likelihood`), after checking the counts and
    that ``X`` (already validated as an array) lies in [0, 1]; ``caller`` names
    the public function or method in the messages."""
    _check_counts(caller, n_chains=(n_chains, 2), n_betas=(n_betas, 2))
    _check_bernoulli_states(X, caller)
    # an evaluation in float64 on the host (AIS runs chains of single steps)
    X, W, b_h, b_v = (to_host(a) for a in (X, W, b_h, b_v))
    return _likelihood.log_likelihood(
        X, W, b_h, b_v, n_chains=int(n_chains), n_betas=int(n_betas),
        rng=check_generator(random_state))


def _check_bernoulli_states(X, caller):
    _rbm.check_unit_interval(
        X, f"{caller} (Bernoulli visible units)",
        "Scale X as the training data was (e.g. pixels 0..16 divided by 16).")


def _check_counts(caller, **counts):
    """scikit-learn's validation of integer arguments, ``name=(value, minimum)``:
    an ``InvalidParameterError`` (a ``ValueError``) naming ``caller`` for a
    float, a string or a value below the minimum, instead of truncating it."""
    validate_parameter_constraints(
        {name: [Interval(Integral, low, None, closed="left")]
         for name, (_, low) in counts.items()},
        {name: value for name, (value, _) in counts.items()},
        caller_name=caller)


def _empty_pair(ops, like):
    """A float64 buffer for the draws and one in ``like``'s dtype, of its shape
    and on its device."""
    device = getattr(like, "device", None)
    return (ops.empty(like.shape, ops.float64(like), device),
            ops.empty(like.shape, like.dtype, device))


def _sample_up(layer, W, b_h, V, draws):
    """Sampled hidden states of ``layer`` given raw visible states ``V`` (the
    training's sampler, :func:`sk_dbn._rbm.sample_hidden`), from the device
    generator ``draws``."""
    ops = ops_of(W)
    Z = ops.matmul(V, W)
    Z += b_h
    mean = ops.expit(Z) if layer["hidden_units"] == "bernoulli" else None
    return _rbm.sample_hidden(mean, Z, layer["hidden_units"], draws,
                              *_empty_pair(ops, Z))


def _sample_down(layer, H, b_v, draws, noise=False):
    """Sampled visible states of ``layer`` (:func:`sk_dbn._rbm.sample_visible`:
    Bernoulli draws, the mean for Gaussian units), plus unit noise in the
    standardised space for Gaussian units if ``noise``."""
    V = _rbm.down_raw(layer, H, b_v)
    ops = ops_of(V)
    wide, _ = _empty_pair(ops, V)
    V = _rbm.sample_visible(V, layer["visible_units"], draws, wide)
    if noise and layer["visible_units"] == "gaussian":
        eps = _rbm.draw_random(draws, wide, normal=True)
        V = ops.add(V, ops.multiply(eps, standardization(layer)[1]), out=V)
    return V
