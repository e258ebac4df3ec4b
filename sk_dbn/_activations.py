"""Activation functions and their derivatives, as small in-place functions.

``ACTIVATIONS[name](Z)`` overwrites the pre-activation ``Z`` with the activation and
returns it. ``DERIVATIVES[name](A, delta)`` multiplies ``delta`` in place by the
derivative, written in terms of the *output* ``A`` so pre-activations need not be
kept.
"""

import numpy as np
from scipy.special import expit

LEAKY_SLOPE = 0.01
"""Negative slope of ``leaky_relu``."""


def _identity(Z):
    return Z


def _logistic(Z):
    return expit(Z, out=Z)


def _tanh(Z):
    return np.tanh(Z, out=Z)


def _relu(Z):
    return np.maximum(Z, 0, out=Z)


def _leaky_relu(Z):
    neg = Z < 0
    Z[neg] *= Z.dtype.type(LEAKY_SLOPE)
    return Z


ACTIVATIONS = {
    "identity": _identity,
    "logistic": _logistic,
    "tanh": _tanh,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
}


def _d_identity(A, delta):
    return delta


def _d_logistic(A, delta):
    # sigma' = A (1 - A)
    delta *= A
    delta -= delta * A
    return delta


def _d_tanh(A, delta):
    # tanh' = 1 - A**2
    delta -= delta * A * A
    return delta


def _d_relu(A, delta):
    delta[A <= 0] = 0
    return delta


def _d_leaky_relu(A, delta):
    delta[A < 0] *= delta.dtype.type(LEAKY_SLOPE)
    return delta


DERIVATIVES = {
    "identity": _d_identity,
    "logistic": _d_logistic,
    "tanh": _d_tanh,
    "relu": _d_relu,
    "leaky_relu": _d_leaky_relu,
}

ALIASES = {"sigmoid": "logistic"}


def canonical(name):
    """Map an activation alias (``"sigmoid"``) to its canonical name."""
    return ALIASES.get(name, name)
