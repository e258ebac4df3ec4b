"""Helpers several test modules share: finite differences, and two networks
(sk_dbn's and scikit-learn's) started from the same weights."""

import numpy as np


def numeric_gradient(objective, params, h=1e-6):
    """Central differences of ``objective()`` with respect to every entry of
    ``params`` (arrays changed in place and restored), flattened in order."""
    numeric = []
    for p in params:
        flat = p.reshape(-1)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + h
            plus = objective()
            flat[k] = orig - h
            minus = objective()
            flat[k] = orig
            numeric.append((plus - minus) / (2 * h))
    return np.array(numeric)


def relative_error(numeric, analytic):
    """``|numeric - analytic| / (|numeric| + |analytic|)``."""
    return np.linalg.norm(numeric - analytic) / (
        np.linalg.norm(numeric) + np.linalg.norm(analytic))


def network_params(est):
    """A fitted network's weights and biases, in one list."""
    return est.coefs_ + est.intercepts_


def given_network(sizes, rng):
    """Weights and (non-zero) biases that both estimators start from."""
    coefs = [rng.normal(size=(a, b)) / np.sqrt(a) for a, b in zip(sizes, sizes[1:])]
    intercepts = [0.3 * rng.normal(size=b) for b in sizes[1:]]
    return coefs, intercepts


def start_both(dbn, mlp, X, y, coefs, intercepts, sample_weight=None):
    """``dbn`` initialised to ``(coefs, intercepts)`` without training (then its
    partial_fit only fine-tunes), and ``mlp`` made to draw exactly those arrays
    as its initial weights."""
    dbn.initialize(X, y, sample_weight=sample_weight)
    for p, v in zip(network_params(dbn), coefs + intercepts, strict=True):
        p[...] = v
    given = iter(list(zip(coefs, intercepts)))
    mlp._init_coef = lambda fan_in, fan_out, dtype: tuple(
        np.array(a, dtype=dtype) for a in next(given))
    return dbn, mlp
