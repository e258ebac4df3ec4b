"""Hidden-layer activations: small immutable objects that carry their parameters.

The estimator builds one object from its ``activation``, ``negative_slope`` and
``maxout_pieces`` (:func:`make_activation`) and passes it wherever the network
code needs the hidden activation: the forward and backward passes, LSUV, the
RBM weight map and the diagnostics. Every object has

- ``name``: the canonical name (``"sigmoid"`` is ``"logistic"``);
- ``width_factor``: pre-activations per unit (``k`` for maxout, else 1), so a
  hidden layer of ``m`` units has weights of shape ``(fan_in, m * width_factor)``;
- ``forward(Z, out=None)``: the layer's output from its pre-activations ``Z``;
- ``pre_buffer(out, pre)``: where the affine part should be written, so that
  elementwise activations work in place in ``out`` and maxout keeps ``Z`` in
  ``pre`` for its backward pass;
- ``backward(A, delta_above, W_above, out, scratch)``: the gradient of the loss
  with respect to this layer's pre-activations, written into ``out``.

Elementwise derivatives are written in terms of the *output* ``A``, so their
pre-activations need not be kept. The objects hold no arrays: they are cheap to
build, compare by value and are never part of a fitted estimator's state.

The hidden logistic function is computed as ``0.5 + 0.5 tanh(z / 2)``: the same
function, and numpy's tanh is vectorised and about five times faster than
``scipy.special.expit`` on float32. It never overflows, and its error is within
a unit in the last place *of 1*: small outputs lose relative precision (float32
logistic(-17) is 5.96e-8 where it is 4.14e-8) and those below about half the
machine epsilon round to 0 (from about z = -17 in float32, z = -37 in float64).
That is harmless for a hidden unit's output, which the next layer adds to terms
of order 1; the probabilities a network returns come from the logits through
``scipy.special.expit``/``softmax``, exact in relative terms.
"""

import numbers
from dataclasses import dataclass

from ._ops import ops_of

LEAKY_SLOPE = 0.01
"""Default negative slope of ``leaky_relu``."""

MAXOUT_PIECES = 2
"""Default number of linear pieces of a maxout unit."""

ALIASES = {"sigmoid": "logistic"}


# ------------------------------------------------- elementwise, parameter-free
# In place where the namespace allows (numpy, and the in-place operators of
# any array), through the primitives of sk_dbn._ops otherwise; each returns the
# array that holds the result.
def _identity(ops, Z):
    return Z


def _logistic(ops, Z):
    Z *= 0.5
    Z = ops.tanh(Z, out=Z)
    Z *= 0.5
    Z += 0.5
    return Z


def _tanh(ops, Z):
    return ops.tanh(Z, out=Z)


def _relu(ops, Z):
    return ops.maximum(Z, ops.scalar(0, Z), out=Z)


_FORWARD = {
    "identity": _identity,
    "logistic": _logistic,
    "tanh": _tanh,
    "relu": _relu,
}


def _scratch(ops, delta, scratch):
    if scratch is None:
        return ops.empty(delta.shape, delta.dtype, getattr(delta, "device", None))
    return scratch


def _d_identity(ops, A, delta, scratch=None):
    return delta


def _d_logistic(ops, A, delta, scratch=None):
    # sigma' = A (1 - A)
    s = ops.subtract(ops.scalar(1, A), A, out=_scratch(ops, delta, scratch))
    s *= A
    delta *= s
    return delta


def _d_tanh(ops, A, delta, scratch=None):
    # tanh' = 1 - A^2
    s = ops.multiply(A, A, out=_scratch(ops, delta, scratch))
    s = ops.subtract(ops.scalar(1, A), s, out=s)
    delta *= s
    return delta


def _d_relu(ops, A, delta, scratch=None):
    # relu' = 1 where A > 0, else 0; A >= 0 so this is sign(A)
    delta *= ops.sign(A, out=_scratch(ops, delta, scratch))
    return delta


_DERIVATIVE = {
    "identity": _d_identity,
    "logistic": _d_logistic,
    "tanh": _d_tanh,
    "relu": _d_relu,
}


def piece(A, p, k):
    """Columns of piece ``p`` of ``k`` in ``A``, a view: ``A[:, p*m:(p+1)*m]`` for
    ``m = A.shape[1] // k`` (the piece-major layout of maxout; all of ``A`` for
    ``k = 1``). ``A`` is a layer's pre-activations, weights or biases."""
    m = A.shape[-1] // k
    return A[..., p * m : (p + 1) * m]


# --------------------------------------------------------------- the objects
@dataclass(frozen=True)
class Elementwise:
    """An activation applied to each pre-activation on its own, in place."""

    name: str
    width_factor = 1
    keeps_pre_activations = False

    @classmethod
    def build(cls, name, negative_slope, maxout_pieces):
        return cls(name)

    def pre_buffer(self, out, pre):
        """Elementwise activations work in place: the affine part goes to ``out``."""
        return out

    def forward(self, Z, out=None):
        """``f(Z)``, in place in ``Z`` (which is ``out`` when the caller gave one)
        where the namespace allows; returns the result."""
        return _FORWARD[self.name](ops_of(Z), Z)

    def derivative(self, A, delta, scratch=None):
        """``delta *= f'``, with ``f'`` written in terms of the output ``A``;
        ``scratch`` is a buffer of ``delta``'s shape (allocated if None).
        Returns the result."""
        return _DERIVATIVE[self.name](ops_of(A), A, delta, scratch)

    def backward(self, A, delta_above, W_above, out, scratch=None):
        """``(delta_above @ W_above.T) * f'(A)`` (into ``out`` where the namespace
        allows): the gradient with respect to this layer's pre-activations from
        the next layer's."""
        out = ops_of(A).matmul(delta_above, W_above.T, out=out)
        return self.derivative(A, out, scratch)

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class LeakyReLU(Elementwise):
    """``max(z, a z)`` for a negative slope ``a`` in [0, 1).

    ``a = 0`` is the ReLU, ``a = 1/3`` the "very leaky" ReLU of Graham (2014).
    """

    name: str = "leaky_relu"
    negative_slope: float = LEAKY_SLOPE

    def __post_init__(self):
        slope = self.negative_slope
        if (isinstance(slope, bool) or not isinstance(slope, numbers.Real)
                or not 0 <= slope < 1):
            raise ValueError(f"negative_slope must be a float in [0, 1); got "
                             f"{slope!r}.")

    @classmethod
    def build(cls, name, negative_slope, maxout_pieces):
        return cls(negative_slope=negative_slope)

    def forward(self, Z, out=None):
        # for 0 <= a < 1, max(z, a z) is z for z >= 0 and a z for z < 0
        return ops_of(Z).leaky_relu(Z, self.negative_slope)

    def derivative(self, A, delta, scratch=None):
        # 1 where A > 0, the slope elsewhere (A > 0 exactly where z > 0, also
        # for a slope of 0, where A >= 0 everywhere)
        ops = ops_of(A)
        a = ops.scalar(self.negative_slope, delta)
        s = ops.greater(A, ops.scalar(0, A), out=_scratch(ops, delta, scratch))
        s *= 1 - a
        s += a
        delta *= s
        return delta

    def __str__(self):
        return f"leaky_relu (negative_slope={self.negative_slope:.3g})"


@dataclass(frozen=True)
class Maxout:
    """Maxout units (Goodfellow et al. 2013): each the max of ``pieces`` linear maps.

    A layer of ``m`` units has ``m * pieces`` pre-activations, laid out
    *piece-major*: column ``p * m + j`` is piece ``p`` of unit ``j`` (a
    ``reshape(n, pieces, m)`` of the pre-activations, or of a weight matrix's
    columns, indexes ``[row, piece, unit]``). The max is then a chain of
    ``np.maximum`` over ``pieces`` contiguous column blocks, two orders of
    magnitude faster than a reduction over a short last axis.

    The backward pass sends each unit's gradient to the piece that won (the
    first one on ties, so it is a subgradient), found again from the kept
    pre-activations by comparison with the output: cheaper than storing an
    argmax in the forward pass, which prediction would pay for too.
    """

    pieces: int = MAXOUT_PIECES
    name = "maxout"
    keeps_pre_activations = True

    def __post_init__(self):
        k = self.pieces
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 2:
            raise ValueError(f"maxout_pieces must be an int >= 2; got {k!r}.")

    @classmethod
    def build(cls, name, negative_slope, maxout_pieces):
        return cls(pieces=maxout_pieces)

    @property
    def width_factor(self):
        return self.pieces

    def pre_buffer(self, out, pre):
        """Maxout keeps its pre-activations: the affine part goes to ``pre``
        (allocated by the caller's ``affine`` if None)."""
        return pre

    def forward(self, Z, out=None):
        """The max over the pieces of ``Z`` (n, m * pieces), into ``out`` (n, m)."""
        k = self.pieces
        n, width = Z.shape
        m = width // k
        if m * k != width:
            raise ValueError(f"maxout with {k} pieces needs a multiple of {k} "
                             f"pre-activations per row; got {width}.")
        ops = ops_of(Z)
        out = ops.maximum(piece(Z, 0, k), piece(Z, 1, k), out=out)
        for p in range(2, k):
            out = ops.maximum(out, piece(Z, p, k), out=out)
        return out

    def backward(self, A, delta_above, W_above, out, scratch=None):
        """The gradient w.r.t. the pre-activations (n, m * pieces), from ``out``,
        which holds the pre-activations of the forward pass on entry (and gets
        the result where the namespace allows).

        ``scratch`` (n, m) receives the gradient w.r.t. the output ``A``; each
        unit's goes to its winning piece, the other pieces get 0.
        """
        k = self.pieces
        ops = ops_of(A)
        grad = ops.matmul(delta_above, W_above.T, out=scratch)
        pieces = []
        for p in range(k):
            Zp = piece(out, p, k)
            Zp = ops.equal(Zp, A, out=Zp)       # 1.0 where piece p won, else 0.0
            Zp = ops.multiply(Zp, grad, out=Zp)
            if p < k - 1:
                grad = ops.subtract(grad, Zp, out=grad)  # claimed: later ties get 0
            pieces.append(Zp)
        return ops.assembled(pieces, out)

    def __str__(self):
        return f"maxout ({self.pieces} pieces)"


ACTIVATIONS = {
    "identity": Elementwise,
    "logistic": Elementwise,
    "tanh": Elementwise,
    "relu": Elementwise,
    "leaky_relu": LeakyReLU,
    "maxout": Maxout,
}
"""The hidden activations by canonical name: the class that builds each."""


def canonical(name):
    """Map an activation alias (``"sigmoid"``) to its canonical name."""
    return ALIASES.get(name, name)


def make_activation(name, negative_slope=LEAKY_SLOPE, maxout_pieces=MAXOUT_PIECES):
    """The activation object for ``name`` (an alias is fine) and its parameters.

    ``negative_slope`` only matters for ``"leaky_relu"``, ``maxout_pieces`` only
    for ``"maxout"``; each is checked by the activation that uses it.
    """
    name = canonical(name)
    try:
        kind = ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown activation {name!r}; use one of "
                         f"{sorted(ACTIVATIONS) + sorted(ALIASES)}.") from None
    return kind.build(name, negative_slope, maxout_pieces)


def as_activation(activation, negative_slope=LEAKY_SLOPE,
                  maxout_pieces=MAXOUT_PIECES):
    """``activation`` itself if it is an activation object, else
    :func:`make_activation` of the name (for public functions taking names)."""
    if isinstance(activation, (Elementwise, Maxout)):
        return activation
    return make_activation(activation, negative_slope, maxout_pieces)


IDENTITY = make_activation("identity")
"""The (absent) activation of an output layer."""
