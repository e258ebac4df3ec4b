"""Helpers several test modules share: finite differences, exact equality of
two models' predictions, and two networks (sk_dbn's and scikit-learn's) started
from the same weights."""

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


def assert_same_predictions(a, b, X):
    """``a`` and ``b`` predict exactly alike on ``X`` (labels, probabilities and
    log-probabilities, bit for bit)."""
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.predict_log_proba(X), b.predict_log_proba(X))


def full_batch_gradients(clf, X, y, alpha):
    """``(loss, coef_grads, intercept_grads)`` of classifier ``clf``'s current
    network on the whole batch ``(X, y)`` with L2 term ``alpha``: what one plain
    SGD step of a full-batch fit follows (computed on copies of the weights)."""
    from sk_dbn._network import loss_and_gradients

    coefs = [W.copy() for W in clf.coefs_]
    intercepts = [b.copy() for b in clf.intercepts_]
    n = X.shape[0]
    widths = [W.shape[1] for W in coefs]
    coef_grads = [np.empty_like(W) for W in coefs]
    intercept_grads = [np.empty_like(b) for b in intercepts]
    loss, _ = loss_and_gradients(
        [X] + [np.empty((n, w), dtype=X.dtype) for w in widths],
        np.searchsorted(clf.classes_, y), coefs, intercepts,
        clf._hidden_activation(), alpha,
        [np.empty((n, w), dtype=X.dtype) for w in widths], coef_grads,
        intercept_grads)
    return loss, coef_grads, intercept_grads


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
