"""Weight initialisation schemes, by name.

Every initializer follows one contract::

    fn(fan_in, fan_out, *, random_state=None, dtype=np.float64, **options)
        -> ndarray of shape (fan_in, fan_out)

which is the ``np.random.randn(fan_in, fan_out)`` orientation of the classic formulas
(and of ``coefs_`` in :class:`~sk_dbn.DBNClassifier`). :data:`INITIALIZERS` maps
names to functions and :func:`get_initializer` resolves a name or a callable.
:func:`lsuv` is the one data-dependent scheme: it rescales an existing network.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr

from ._activations import LEAKY_SLOPE, MAXOUT_PIECES, as_activation, piece
from ._rng import check_generator

__all__ = [
    "INITIALIZERS",
    "calculate_gain",
    "constant",
    "get_initializer",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "lsuv",
    "normal",
    "orthogonal",
    "orthogonal_relu",
    "prettytensor_xavier_normal",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

# Standard deviation of a standard normal truncated to [-2, 2]:
# sqrt(1 - 2 * 2 * phi(2) / (Phi(2) - Phi(-2))).
_TRUNC = 2.0
_TRUNC_STD = float(
    np.sqrt(
        1.0
        - 2.0
        * _TRUNC
        * np.exp(-0.5 * _TRUNC**2)
        / np.sqrt(2.0 * np.pi)
        / (ndtr(_TRUNC) - ndtr(-_TRUNC))
    )
)


def _check_shape(fan_in, fan_out, dtype):
    """``(fan_in, fan_out)`` as ints; a ``ValueError`` for a size that is not a
    positive integer or a dtype that is not floating (an integer dtype would
    truncate the weights to zeros)."""
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if (not isinstance(value, numbers.Integral) or isinstance(value, bool)
                or value < 1):
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    try:
        floating = np.dtype(dtype).kind == "f"
    except TypeError:
        floating = False
    if not floating:
        raise ValueError(f"dtype must be a floating dtype such as np.float32 or "
                         f"np.float64; got {dtype!r}")
    return int(fan_in), int(fan_out)


def _standard_normal(shape, rng, dtype):
    # drawn in float64 and cast, so the same seed gives the same weights (up to
    # rounding) whatever the dtype: a float32 fit starts where a float64 one does
    return rng.standard_normal(shape).astype(dtype, copy=False)


def _uniform01(shape, rng, dtype):
    return rng.random(shape).astype(dtype, copy=False)


def _normal(fan_in, fan_out, std, random_state, dtype):
    fan_in, fan_out = _check_shape(fan_in, fan_out, dtype)
    W = _standard_normal((fan_in, fan_out), check_generator(random_state), dtype)
    W *= W.dtype.type(std)
    return W


def _uniform(fan_in, fan_out, limit, random_state, dtype):
    fan_in, fan_out = _check_shape(fan_in, fan_out, dtype)
    W = _uniform01((fan_in, fan_out), check_generator(random_state), dtype)
    # u in [0, 1) -> limit * (2u - 1) in [-limit, limit)
    W *= W.dtype.type(2.0 * limit)
    W -= W.dtype.type(limit)
    return W


def _truncated(fan_in, fan_out, factor, random_state, dtype):
    # factor * z, z ~ N(0, 1) with every |z| > 2 redrawn (rejection sampling)
    fan_in, fan_out = _check_shape(fan_in, fan_out, dtype)
    rng = check_generator(random_state)
    z = rng.standard_normal(fan_in * fan_out)
    bad = np.flatnonzero(np.abs(z) > _TRUNC)
    while bad.size:
        z[bad] = rng.standard_normal(bad.size)
        bad = bad[np.abs(z[bad]) > _TRUNC]
    z *= factor
    return z.reshape(fan_in, fan_out).astype(dtype, copy=False)


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


def _check_option(name, value, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def _scaled(fan_in, fan_out, *, scale, mode, distribution, gain, random_state,
            dtype, modes=_MODES):
    """Weights of variance ``gain**2 * scale / n``, with ``n`` chosen by ``mode``.

    The one mechanism behind :func:`variance_scaling` and the fan-scaled schemes
    (Xavier, He, LeCun). ``gain`` multiplies the standard deviation (or limit)
    after the square root, so the schemes keep the streams they had when each
    computed ``gain * sqrt(c / n)`` itself.
    """
    fan_in, fan_out = _check_shape(fan_in, fan_out, dtype)
    _check_option("mode", mode, modes)
    _check_option("distribution", distribution, _DISTRIBUTIONS)
    n = {"fan_in": fan_in, "fan_out": fan_out,
         "fan_avg": (fan_in + fan_out) / 2}[mode]
    if distribution == "uniform":
        # U[-a, a] has variance a**2 / 3
        limit = gain * np.sqrt(3.0 * scale / n)
        return _uniform(fan_in, fan_out, limit, random_state, dtype)
    std = gain * np.sqrt(scale / n)
    if distribution == "untruncated_normal":
        return _normal(fan_in, fan_out, std, random_state, dtype)
    return _truncated(fan_in, fan_out, std / _TRUNC_STD, random_state, dtype)


def zeros(fan_in, fan_out, *, random_state=None, dtype=np.float64):
    """All-zero weights: :math:`W_{ij} = 0`.

    Never breaks symmetry: every hidden unit of a layer computes the same function
    and receives the same gradient, so they stay identical through training.
    Included so that this failure can be seen, not as a recommendation.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Unused; accepted for the common contract.
    dtype : dtype, default=np.float64
        Floating dtype of the result.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> from sk_dbn.initializers import zeros
    >>> zeros(2, 3)
    array([[0., 0., 0.],
           [0., 0., 0.]])
    """
    fan_in, fan_out = _check_shape(fan_in, fan_out, dtype)
    return np.zeros((fan_in, fan_out), dtype=dtype)


def constant(fan_in, fan_out, *, random_state=None, dtype=np.float64, value=0.0):
    """Every weight equal: :math:`W_{ij} = \\text{value}`.

    Like :func:`zeros`, a constant never breaks symmetry.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Unused; accepted for the common contract.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    value : float, default=0.0
        The constant.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> from sk_dbn.initializers import constant
    >>> constant(1, 2, value=0.5)
    array([[0.5, 0.5]])
    """
    fan_in, fan_out = _check_shape(fan_in, fan_out, dtype)
    return np.full((fan_in, fan_out), value, dtype=dtype)


def normal(fan_in, fan_out, *, random_state=None, dtype=np.float64, std=0.01):
    """Zero-mean Gaussian weights: :math:`W_{ij} \\sim \\mathcal{N}(0, \\text{std}^2)`.

    The default ``std=0.01`` is the recommendation of Hinton's *A Practical Guide to
    Training Restricted Boltzmann Machines* (2010) for RBM weights. For a deep
    sigmoid network trained by backprop alone it is too small (activations collapse
    to 0.5 and gradients vanish); ``std=1`` is too large (sigmoids saturate).

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    std : float, default=0.01
        Standard deviation.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> from sk_dbn.initializers import normal
    >>> normal(300, 400, std=0.5, random_state=0).std().round(2)
    np.float64(0.5)
    """
    return _normal(fan_in, fan_out, std, random_state, dtype)


def uniform(fan_in, fan_out, *, random_state=None, dtype=np.float64, limit=0.05):
    """Uniform weights: :math:`W_{ij} \\sim U[-\\text{limit}, \\text{limit})`.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    limit : float, default=0.05
        Half-width of the interval.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> from sk_dbn.initializers import uniform
    >>> bool(abs(uniform(30, 40, limit=0.1, random_state=0)).max() <= 0.1)
    True
    """
    return _uniform(fan_in, fan_out, limit, random_state, dtype)


def truncated_normal(
    fan_in, fan_out, *, random_state=None, dtype=np.float64, std=0.01, gain=1.0,
    std_of="result",
):
    """Truncated Gaussian, cut at two standard deviations of its parent normal.

    Draws :math:`z \\sim \\mathcal{N}(0, 1)` and redraws every :math:`|z| > 2`;
    :math:`s = \\sqrt{1 - 4\\varphi(2) / (\\Phi(2) - \\Phi(-2))} \\approx 0.8796`
    is the standard deviation of this truncated standard normal. ``std_of`` says
    whose standard deviation ``std`` is:

    - ``"result"`` (default): :math:`W = \\text{gain} \\cdot \\text{std} \\cdot z / s`,
      so the standard deviation of the *result* is ``gain * std`` and every
      weight lies within ``2 * gain * std / s``;
    - ``"parent"``: :math:`W = \\text{gain} \\cdot \\text{std} \\cdot z`, a normal
      of standard deviation ``gain * std`` with every value beyond two of its
      standard deviations redrawn and *not* rescaled, as TensorFlow 1's
      ``tf.truncated_normal`` and ``tf.truncated_normal_initializer(stddev=...)``
      draw: every weight lies within ``2 * gain * std`` and the standard
      deviation of the result is ``s * gain * std``.

    Both draw the same :math:`z` for the same seed; they differ by the factor
    :math:`1/s`.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    std : float, default=0.01
        Standard deviation of the result, or of the normal before truncation
        (see ``std_of``).
    gain : float, default=1.0
        Multiplies the standard deviation.
    std_of : {"result", "parent"}, default="result"
        Whether ``std`` is the standard deviation of the truncated result or that
        of the parent normal distribution (TensorFlow 1 semantics).

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    See Also
    --------
    prettytensor_xavier_normal : the ``std_of="parent"`` variant of a lecture slide.
    variance_scaling : a truncated normal whose result has a fan-scaled variance.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_dbn.initializers import truncated_normal
    >>> truncated_normal(300, 400, std=1.0, random_state=0).std().round(2)
    np.float64(1.0)
    >>> W = truncated_normal(300, 400, std=1.0, std_of="parent", random_state=0)
    >>> W.std().round(2)
    np.float64(0.88)
    >>> bool(np.abs(W).max() <= 2.0)
    True
    """
    _check_option("std_of", std_of, ("result", "parent"))
    factor = gain * std / _TRUNC_STD if std_of == "result" else gain * std
    return _truncated(fan_in, fan_out, factor, random_state, dtype)


def variance_scaling(
    fan_in, fan_out, *, random_state=None, dtype=np.float64, scale=1.0,
    mode="fan_in", distribution="truncated_normal",
):
    """Keras' ``VarianceScaling``: weights of variance ``scale / n``.

    :math:`n` is chosen by ``mode``: :math:`n_{in}` (``"fan_in"``),
    :math:`n_{out}` (``"fan_out"``) or :math:`(n_{in} + n_{out}) / 2`
    (``"fan_avg"``); the weights are drawn from ``distribution``:

    - ``"truncated_normal"``: :func:`truncated_normal` with
      ``std=sqrt(scale / n)``, the standard deviation of the *result* (keras
      draws from a normal of standard deviation
      ``sqrt(scale / n) / 0.87962566103423978`` cut at two of its standard
      deviations: the same distribution). Every weight lies within
      :math:`2\\sqrt{\\text{scale}/n} / 0.8796`;
    - ``"untruncated_normal"``: :math:`\\mathcal{N}(0, \\text{scale}/n)`;
    - ``"uniform"``: :math:`\\mathcal{U}[-a, a)` with
      :math:`a = \\sqrt{3\\,\\text{scale}/n}`.

    The registry name ``"variance_scaling"`` is this function at its defaults,
    which are keras' (and equal keras' ``LecunNormal``).

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    scale : float, default=1.0
        Variance times :math:`n`; must be positive.
    mode : {"fan_in", "fan_out", "fan_avg"}, default="fan_in"
        Which :math:`n` divides ``scale``.
    distribution : {"truncated_normal", "untruncated_normal", "uniform"}, \
default="truncated_normal"
        The shape of the distribution. (Keras also reads ``"normal"`` as
        ``"truncated_normal"``; here it is refused, since sk_dbn's
        :func:`normal` is untruncated.)

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Notes
    -----
    The fan-scaled schemes are special cases and are drawn by the same code:
    with gain :math:`g`,

    ==============================  ===============================================
    scheme                          ``variance_scaling`` arguments
    ==============================  ===============================================
    ``xavier_normal``               ``scale=g**2, mode="fan_avg"``, untruncated
    ``xavier_uniform``              ``scale=g**2, mode="fan_avg"``, uniform
    ``he_normal(mode=m)``           ``scale=2 * g**2, mode=m``, untruncated
    ``he_uniform(mode=m)``          ``scale=2 * g**2, mode=m``, uniform
    ``lecun_normal``                ``scale=g**2, mode="fan_in"``, untruncated
    ``lecun_uniform``               ``scale=g**2, mode="fan_in"``, uniform
    ==============================  ===============================================

    With :math:`g = 1` they give the same weights for the same seed; with another
    gain the same distribution (the gain multiplies after the square root, which
    may differ in the last bit).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_dbn.initializers import variance_scaling
    >>> W = variance_scaling(400, 300, scale=2.0, random_state=0)
    >>> (W.std() / np.sqrt(2.0 / 400)).round(2)
    np.float64(1.0)
    >>> W = variance_scaling(400, 300, mode="fan_out", distribution="uniform",
    ...                      random_state=0)
    >>> bool(np.abs(W).max() <= np.sqrt(3.0 / 300))
    True
    """
    if not (isinstance(scale, numbers.Real) and scale > 0):
        raise ValueError(f"scale must be a positive number; got {scale!r}")
    return _scaled(fan_in, fan_out, scale=scale, mode=mode,
                   distribution=distribution, gain=1.0, random_state=random_state,
                   dtype=dtype)


def xavier_normal(fan_in, fan_out, *, random_state=None, dtype=np.float64, gain=1.0):
    """Glorot & Bengio (2010) normal: std = gain * sqrt(2 / (fan_in + fan_out)).

    Keeps the variance of activations and of back-propagated gradients roughly
    constant across layers for symmetric activations near their linear regime
    (tanh, logistic). Alias: ``glorot_normal``.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    gain : float, default=1.0
        Multiplies the standard deviation (see :func:`calculate_gain`).

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> from sk_dbn.initializers import xavier_normal
    >>> xavier_normal(300, 500, random_state=0).std().round(3)
    np.float64(0.05)
    """
    return _scaled(fan_in, fan_out, scale=1.0, mode="fan_avg",
                   distribution="untruncated_normal", gain=gain,
                   random_state=random_state, dtype=dtype)


def xavier_uniform(
    fan_in, fan_out, *, random_state=None, dtype=np.float64, gain=1.0
):
    """Glorot & Bengio (2010) uniform: limit = gain * sqrt(6 / (fan_in + fan_out)).

    :math:`W_{ij} \\sim U[-l, l)`, whose variance :math:`l^2/3 = 2/(n_{in}+n_{out})`
    matches :func:`xavier_normal`. This is scikit-learn's ``MLPClassifier`` scheme
    for tanh and relu (for logistic it uses ``sqrt(2 / (fan_in + fan_out))``, a
    limit smaller by sqrt(3)). Alias: ``glorot_uniform``.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    gain : float, default=1.0
        Multiplies the limit (see :func:`calculate_gain`).

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> from sk_dbn.initializers import xavier_uniform
    >>> bool(abs(xavier_uniform(300, 300, random_state=0)).max() <= 0.1)
    True
    """
    return _scaled(fan_in, fan_out, scale=1.0, mode="fan_avg",
                   distribution="uniform", gain=gain, random_state=random_state,
                   dtype=dtype)


def prettytensor_xavier_normal(
    fan_in, fan_out, *, random_state=None, dtype=np.float64, gain=1.0
):
    """Prettytensor's ``xavier_init(uniform=False)``: truncated, not rescaled.

    The normal branch of the ``xavier_init`` of prettytensor (and of the
    TensorFlow 1 tutorials that copied it) is
    ``tf.truncated_normal_initializer(stddev=sqrt(3 / (n_in + n_out)))``: a
    normal of that standard deviation with every value beyond two of its standard
    deviations redrawn, and not rescaled afterwards. Here that is exactly
    ``truncated_normal(std=gain * sqrt(3 / (fan_in + fan_out)), std_of="parent")``:

    - every weight lies within :math:`2 g \\sqrt{3 / (n_{in} + n_{out})}`;
    - the standard deviation is :math:`s\\,g\\sqrt{3 / (n_{in} + n_{out})}` with
      :math:`s \\approx 0.8796` (see :func:`truncated_normal`), so the variance
      is :math:`\\approx 2.32\\,g^2 / (n_{in} + n_{out})`, 16% more than
      :func:`xavier_normal`'s :math:`2 g^2 / (n_{in} + n_{out})`.

    The uniform branch (``uniform=True``, prettytensor's default) is
    :func:`xavier_uniform`.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    gain : float, default=1.0
        Multiplies the standard deviation of the parent normal (and so the
        bound and the result's standard deviation).

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> import numpy as np
    >>> from sk_dbn.initializers import prettytensor_xavier_normal
    >>> W = prettytensor_xavier_normal(300, 500, random_state=0)
    >>> bool(np.abs(W).max() <= 2 * np.sqrt(3 / 800))
    True
    >>> (W.std() / np.sqrt(3 / 800)).round(2)
    np.float64(0.88)
    """
    fan_in, fan_out = _check_shape(fan_in, fan_out, dtype)
    std = gain * np.sqrt(3.0 / (fan_in + fan_out))
    return truncated_normal(fan_in, fan_out, random_state=random_state, dtype=dtype,
                            std=std, std_of="parent")


_HE_MODES = ("fan_in", "fan_out")


def he_normal(fan_in, fan_out, *, random_state=None, dtype=np.float64, gain=1.0,
              mode="fan_in"):
    """He et al. (2015) normal: std = gain * sqrt(2 / fan_in), or / fan_out.

    The factor 2 compensates for ReLU zeroing half of its inputs, so the variance of
    pre-activations stays constant through a deep ReLU network. With
    ``mode="fan_out"`` the standard deviation is ``gain * sqrt(2 / fan_out)``.
    PyTorch's ``kaiming_normal_(w, a, mode, nonlinearity)`` is
    ``he_normal(gain=calculate_gain(nonlinearity, a) / sqrt(2), mode=mode)``
    (its weight ``w`` is the transpose of this array, (fan_out, fan_in); the
    fans are the same). Alias: ``kaiming_normal``.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    gain : float, default=1.0
        Multiplies the standard deviation.
    mode : {"fan_in", "fan_out"}, default="fan_in"
        ``"fan_in"``: std = gain * sqrt(2 / fan_in), which keeps the variance of
        the activations in the forward pass; ``"fan_out"``: std = gain *
        sqrt(2 / fan_out), which keeps that of the gradients in the backward
        pass (PyTorch's ``mode``).

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> from sk_dbn.initializers import he_normal
    >>> he_normal(200, 500, random_state=0).std().round(2)
    np.float64(0.1)
    >>> he_normal(500, 200, mode="fan_out", random_state=0).std().round(2)
    np.float64(0.1)
    """
    return _scaled(fan_in, fan_out, scale=2.0, mode=mode,
                   distribution="untruncated_normal", gain=gain,
                   random_state=random_state, dtype=dtype, modes=_HE_MODES)


def he_uniform(fan_in, fan_out, *, random_state=None, dtype=np.float64, gain=1.0,
               mode="fan_in"):
    """He et al. (2015) uniform: limit = gain * sqrt(6 / fan_in), or / fan_out.

    Same variance, :math:`2/n_{in}` (:math:`2/n_{out}` with ``mode="fan_out"``),
    as :func:`he_normal`. PyTorch's ``kaiming_uniform_(w, a, mode,
    nonlinearity)`` is ``he_uniform(gain=calculate_gain(nonlinearity, a) /
    sqrt(2), mode=mode)``. Alias: ``kaiming_uniform``.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    gain : float, default=1.0
        Multiplies the limit.
    mode : {"fan_in", "fan_out"}, default="fan_in"
        ``"fan_in"``: limit = gain * sqrt(6 / fan_in); ``"fan_out"``: limit =
        gain * sqrt(6 / fan_out) (see :func:`he_normal`).

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> from sk_dbn.initializers import he_uniform
    >>> bool(abs(he_uniform(600, 10, random_state=0)).max() <= 0.1)
    True
    >>> bool(abs(he_uniform(10, 600, mode="fan_out", random_state=0)).max() <= 0.1)
    True
    """
    return _scaled(fan_in, fan_out, scale=2.0, mode=mode, distribution="uniform",
                   gain=gain, random_state=random_state, dtype=dtype,
                   modes=_HE_MODES)


def lecun_normal(fan_in, fan_out, *, random_state=None, dtype=np.float64, gain=1.0):
    """LeCun et al. (1998) normal: std = gain * sqrt(1 / fan_in).

    This is the classic ``np.random.randn(fan_in, fan_out) / np.sqrt(fan_in)``, often
    mislabelled "Xavier": it preserves the forward variance only (unit-variance
    inputs give unit-variance pre-activations).

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    gain : float, default=1.0
        Multiplies the standard deviation.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> from sk_dbn.initializers import lecun_normal
    >>> lecun_normal(400, 300, random_state=0).std().round(3)
    np.float64(0.05)
    """
    return _scaled(fan_in, fan_out, scale=1.0, mode="fan_in",
                   distribution="untruncated_normal", gain=gain,
                   random_state=random_state, dtype=dtype)


def lecun_uniform(fan_in, fan_out, *, random_state=None, dtype=np.float64, gain=1.0):
    """LeCun et al. (1998) uniform: limit = gain * sqrt(3 / fan_in).

    Same variance, :math:`1/n_{in}`, as :func:`lecun_normal`.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    gain : float, default=1.0
        Multiplies the limit.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> from sk_dbn.initializers import lecun_uniform
    >>> bool(abs(lecun_uniform(300, 10, random_state=0)).max() <= 0.1)
    True
    """
    return _scaled(fan_in, fan_out, scale=1.0, mode="fan_in", distribution="uniform",
                   gain=gain, random_state=random_state, dtype=dtype)


def orthogonal(fan_in, fan_out, *, random_state=None, dtype=np.float64, gain=1.0):
    """Saxe et al. (2014) orthogonal weights, scaled by ``gain``.

    The QR decomposition of a Gaussian matrix, with the signs of ``R``'s diagonal
    folded into ``Q`` so the result is Haar-distributed. Rows are orthonormal when
    ``fan_in <= fan_out`` (``W @ W.T = gain**2 * I``), columns otherwise
    (``W.T @ W = gain**2 * I``).

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    gain : float, default=1.0
        Scale of the singular values.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> import numpy as np
    >>> from sk_dbn.initializers import orthogonal
    >>> W = orthogonal(3, 5, random_state=0)
    >>> np.allclose(W @ W.T, np.eye(3))
    True
    """
    fan_in, fan_out = _check_shape(fan_in, fan_out, dtype)
    rng = check_generator(random_state)
    big, small = max(fan_in, fan_out), min(fan_in, fan_out)
    Q, R = np.linalg.qr(rng.standard_normal((big, small)))
    Q *= np.where(np.diag(R) < 0, -1.0, 1.0)
    Q *= gain
    W = Q if fan_in >= fan_out else Q.T
    return np.ascontiguousarray(W, dtype=dtype)


def orthogonal_relu(
    fan_in, fan_out, *, random_state=None, dtype=np.float64, gain=1.0
):
    """Orthogonal weights scaled by sqrt(2), for ReLU layers ("OrthoNorm-MSRA scaled").

    :func:`orthogonal` with gain ``sqrt(2) * gain``: the orthonormal matrix times
    the ReLU factor of He et al. (MSRA), ``sqrt(2) = calculate_gain("relu")``, as
    in the "OrthoNorm-MSRA scaled" initialisation that Mishkin & Matas (2015)
    compare with LSUV. Every singular value is ``sqrt(2) * gain``.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    random_state : None, int, Generator or RandomState, default=None
        Source of randomness.
    dtype : dtype, default=np.float64
        Floating dtype of the result.
    gain : float, default=1.0
        Multiplies the singular values further.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> import numpy as np
    >>> from sk_dbn.initializers import orthogonal, orthogonal_relu
    >>> W = orthogonal_relu(3, 5, random_state=0)
    >>> np.allclose(W @ W.T, 2 * np.eye(3))
    True
    >>> np.array_equal(W, orthogonal(3, 5, gain=np.sqrt(2), random_state=0))
    True
    """
    return orthogonal(fan_in, fan_out, random_state=random_state, dtype=dtype,
                      gain=calculate_gain("relu") * gain)


INITIALIZERS = {
    "zeros": zeros,
    "constant": constant,
    "normal": normal,
    "uniform": uniform,
    "truncated_normal": truncated_normal,
    "variance_scaling": variance_scaling,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "prettytensor_xavier_normal": prettytensor_xavier_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "kaiming_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "orthogonal": orthogonal,
    "orthogonal_relu": orthogonal_relu,
}
"""Registry of initializers by name (aliases map to the same function)."""

glorot_normal = xavier_normal
glorot_uniform = xavier_uniform
kaiming_normal = he_normal
kaiming_uniform = he_uniform


def get_initializer(init):
    """Resolve an initializer name or callable.

    Parameters
    ----------
    init : str or callable
        A key of :data:`INITIALIZERS`, or a callable with the initializer contract
        ``fn(fan_in, fan_out, *, random_state, dtype) -> (fan_in, fan_out) array``.

    Returns
    -------
    fn : callable

    Examples
    --------
    >>> from sk_dbn.initializers import get_initializer
    >>> get_initializer("glorot_uniform").__name__
    'xavier_uniform'
    """
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown initializer {init!r}; use a callable or one of "
            f"{sorted(INITIALIZERS)}"
        ) from None


def _draw_weights(init, fan_in, fan_out, *, rng, dtype, layer):
    """Weights of shape ``(fan_in, fan_out)`` from ``init``, checked and copied.

    The one place where an initializer is called for an estimator: a
    ``ValueError`` naming ``init`` and ``layer`` when it returns something other
    than a finite dense array of that shape, and a C-contiguous copy in
    ``dtype`` otherwise (training never writes into an array the initializer
    may have kept, and two layers never share memory).
    """
    W = get_initializer(init)(fan_in, fan_out, random_state=rng, dtype=dtype)
    where = f"init={init!r} for layer {layer} (fan_in={fan_in}, fan_out={fan_out})"
    if sp.issparse(W):
        raise ValueError(f"{where} returned a sparse matrix; it must return a dense "
                         "array.")
    try:
        W = np.array(W, dtype=dtype, order="C", copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} returned something that is not a numeric "
                         f"array: {exc}") from None
    if W.shape != (fan_in, fan_out):
        raise ValueError(f"{where} returned an array of shape {W.shape}; expected "
                         f"{(fan_in, fan_out)} (fan_in, fan_out).")
    if not np.isfinite(W).all():
        raise ValueError(f"{where} returned non-finite values (NaN or inf).")
    return W


def calculate_gain(activation, param=None):
    """Recommended gain for an activation function.

    ========================  ==================================================
    activation                gain
    ========================  ==================================================
    identity, logistic        1
    tanh                      5/3
    relu                      sqrt(2)
    leaky_relu                sqrt(2 / (1 + slope**2))
    maxout (k pieces)         1 / sqrt(E[M_k^2]): 1 for k = 2, 0.885 for k = 3
    ========================  ==================================================

    Parameters
    ----------
    activation : {"identity", "linear", "logistic", "sigmoid", "tanh", "relu", \
"leaky_relu", "maxout"}
        The activation that follows the layer.
    param : float or int, default=None
        Negative slope of ``leaky_relu`` (default 0.01), or the number of pieces
        ``k`` of ``maxout`` (an int >= 2, default 2), as in
        :class:`~sk_dbn.DBNClassifier`.

    Returns
    -------
    gain : float

    Notes
    -----
    The gain :math:`g` of an initializer with :math:`\\operatorname{Var}(W) =
    g^2 / n_{in}` keeps the second moment of the layer outputs constant from
    layer to layer: the pre-activations of a unit are then
    :math:`z \\sim \\mathcal{N}(0, g^2 E[h^2])` for inputs :math:`h` of second
    moment :math:`E[h^2]`, and :math:`E[f(z)^2] = E[h^2]` asks for
    :math:`g^2 E[f(u)^2] = 1` with :math:`u \\sim \\mathcal{N}(0, 1)`. For the
    ReLU, :math:`E[\\max(u, 0)^2] = 1/2` gives He's :math:`\\sqrt{2}`; for the
    leaky ReLU, :math:`(1 + a^2)/2`.

    A maxout unit outputs :math:`M_k`, the max of its :math:`k` pieces, which
    given the input are independent Gaussians of the same variance when each
    piece's weights are drawn independently (as :class:`~sk_dbn.DBNClassifier`
    draws them; exactly Gaussian for Gaussian weights, nearly so for wide layers
    otherwise). So the gain is :math:`1 / \\sqrt{E[M_k^2]}` for :math:`M_k` the
    max of :math:`k` iid standard normals, computed here by numerical
    integration of :math:`E[M_k^2] = \\int x^2\\, k\\, \\varphi(x)
    \\Phi(x)^{k-1}\\, dx`. For :math:`k = 2` it is exactly 1: :math:`\\max(a,
    b)^2 + \\min(a, b)^2 = a^2 + b^2`, and :math:`(a, b) \\to (-a, -b)` swaps
    the max and the min, so :math:`E[\\max(a, b)^2] = E[a^2]`. Closed forms
    exist for :math:`k = 3` and :math:`4`: :math:`1 + \\sqrt{3}/(2\\pi)` and
    :math:`1 + \\sqrt{3}/\\pi`. The second moment grows with :math:`k`
    (roughly as :math:`2 \\ln k`), so the gain falls below 1.

    Examples
    --------
    >>> from sk_dbn.initializers import calculate_gain
    >>> calculate_gain("tanh")
    1.6666666666666667
    >>> round(calculate_gain("maxout", 3), 4)
    0.8854
    """
    if activation in ("identity", "linear", "logistic", "sigmoid"):
        return 1.0
    if activation == "tanh":
        return 5.0 / 3.0
    if activation == "relu":
        return float(np.sqrt(2.0))
    if activation == "leaky_relu":
        slope = LEAKY_SLOPE if param is None else float(param)
        return float(np.sqrt(2.0 / (1.0 + slope**2)))
    if activation == "maxout":
        k = MAXOUT_PIECES if param is None else param
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 2:
            raise ValueError(f"calculate_gain('maxout', param) needs the number of "
                             f"pieces, an int >= 2; got {param!r}.")
        return float(1.0 / np.sqrt(_max_normal_second_moment(int(k))))
    raise ValueError(f"Unknown activation {activation!r} for calculate_gain")


def _max_normal_second_moment(k):
    """:math:`E[M_k^2]` for :math:`M_k` the max of ``k`` iid standard normals.

    The density of :math:`M_k` is :math:`k \\varphi(x) \\Phi(x)^{k-1}`; the
    integrand is evaluated in log space (``scipy.special.log_ndtr``), so it
    neither underflows nor overflows, and integrated with ``scipy.integrate.quad``
    over the whole line, split where the density peaks.
    """
    from scipy.integrate import quad
    from scipy.special import log_ndtr

    log_k = np.log(k) - 0.5 * np.log(2.0 * np.pi)

    def integrand(x):
        return x * x * np.exp(log_k - 0.5 * x * x + (k - 1) * log_ndtr(x))

    # the density peaks near sqrt(2 ln k); splitting there keeps quad's
    # infinite-range transforms away from a narrow peak when k is large
    peak = float(np.sqrt(2.0 * np.log(k)))
    total = 0.0
    for low, high in ((-np.inf, 0.0), (0.0, peak), (peak, np.inf)):
        if high > low:
            total += quad(integrand, low, high, epsabs=1e-14, epsrel=1e-12)[0]
    return total


def lsuv(coefs, intercepts, X, activation, *, tol=0.1, max_trials=10,
         negative_slope=LEAKY_SLOPE, maxout_pieces=MAXOUT_PIECES, sample_weight=None):
    """Layer-sequential unit-variance rescaling (Mishkin & Matas 2015, Algorithm 1).

    Starting from (usually orthogonal) weights, for each hidden layer in turn:
    forward the probe batch ``X`` through the layers below, compute the variance
    :math:`v` of this layer's output :math:`XW + b` over the whole batch, and set
    :math:`W \\leftarrow W / \\sqrt{v}`, until :math:`|v - 1| <` ``tol`` or
    ``max_trials`` rescalings. Biases are left untouched, the output layer is not
    rescaled.

    "Output" is the affine output of the layer, before the nonlinearity: the paper's
    Caffe implementation measures the convolution/inner-product blob, with the
    nonlinearity as a separate layer. This is also the only reading that works for
    every activation: a logistic unit's output variance is at most 1/4, so it can
    never be rescaled to 1.

    A maxout layer is rescaled piece by piece: each of its ``k`` pieces (the
    column block ``W[:, p*m:(p+1)*m]``, see :class:`~sk_dbn.DBNClassifier`) gets
    an affine output of unit variance. This is what the authors' Caffe code does
    with their maxout networks, where each piece is an inner-product/convolution
    layer of its own, followed by an element-wise max layer that LSUV skips.

    Parameters
    ----------
    coefs : list of ndarray
        Weights in (fan_in, fan_out) orientation; hidden layers are rescaled in
        place.
    intercepts : list of ndarray
        Biases (unchanged).
    X : ndarray of shape (n_samples, n_features)
        Probe batch.
    activation : str
        Hidden activation name (see :class:`~sk_dbn.DBNClassifier`).
    tol : float, default=0.1
        Tolerance on the variance.
    max_trials : int, default=10
        Maximum rescalings per layer.
    negative_slope : float, default=0.01
        Negative slope of ``"leaky_relu"``.
    maxout_pieces : int, default=2
        Pieces per unit of ``"maxout"``: a hidden layer of ``m`` units has
        ``m * maxout_pieces`` columns.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the rows of ``X`` in the variance (None: all equal).

    Returns
    -------
    variances : list of float
        The final variance of each hidden layer's output on ``X`` (for maxout,
        that of the piece furthest from 1).

    Notes
    -----
    A layer whose output is constant on the batch (for example after a dead ReLU
    layer) has zero variance and cannot be rescaled; the loop then stops for it.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_dbn.initializers import lsuv, orthogonal
    >>> X = np.random.default_rng(0).normal(size=(200, 20))
    >>> coefs = [orthogonal(20, 30, random_state=0), orthogonal(30, 2, random_state=1)]
    >>> intercepts = [np.zeros(30), np.zeros(2)]
    >>> v = lsuv(coefs, intercepts, X, "tanh")
    >>> bool(abs(v[0] - 1) < 0.1)
    True
    """
    from ._network import affine, check_widths
    from ._ops import ops_of

    ops = ops_of(coefs[0])
    xp = ops.xp

    def variance(Z):
        if sample_weight is None:
            return float(xp.var(Z))
        w = xp.astype(sample_weight, ops.float64(Z))
        total = float(xp.sum(w)) * Z.shape[1]
        mean = float(w @ xp.sum(Z, axis=1)) / total
        return float(w @ xp.sum((Z - mean) ** 2, axis=1)) / total

    activation = as_activation(activation, negative_slope, maxout_pieces)
    check_widths(coefs, activation)
    k = activation.width_factor  # one piece, all columns, unless maxout
    A = X
    variances = []
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        Z = affine(A, W, b)
        var = np.array([variance(piece(Z, p, k)) for p in range(k)])
        for _ in range(max_trials):
            todo = (np.abs(var - 1.0) >= tol) & (var > 0) & (var < np.inf)
            if not todo.any():
                break
            for p in np.flatnonzero(todo):
                piece(W, p, k)[...] /= ops.scalar(np.sqrt(var[p]), W)
            Z = affine(A, W, b, out=Z)
            var = np.array([variance(piece(Z, p, k)) for p in range(k)])
        variances.append(float(var[np.argmax(np.abs(var - 1.0))]))
        A = activation.forward(Z)
    return variances
