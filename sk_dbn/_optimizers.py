"""Stochastic gradient descent (momentum, Nesterov) and Adam, updating in place.

An optimizer's state (velocities, moments, step count) lives in a plain ``dict`` of
lists of arrays, so an estimator can keep it as fitted state that pickle, joblib and
skops round-trip; ``update(params, grads)`` changes ``params`` and the state in
place. The optimizers only update: the loss keeps its own books (the L2 term, the
gradient norms), and fine-tuning (SGD or Adam) and contrastive divergence (SGD with
momentum) share them.
"""

import numpy as np

from ._base import writeable


class SGD:
    """SGD with (Nesterov) momentum, as in scikit-learn's ``SGDOptimizer``.

    ``v <- momentum * v - lr * g``; then ``p <- p + v`` (classical) or
    ``p <- p + momentum * v - lr * g`` (Nesterov). ``momentum`` and
    ``learning_rate`` are plain attributes, so a schedule may change them between
    steps.
    """

    def __init__(self, params, state, learning_rate, momentum=0.9, nesterov=True):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        if state is None or "velocity" not in state:
            state = {"velocity": [np.zeros_like(p) for p in params]}
        state["velocity"] = writeable(state["velocity"])
        self.state = state

    def update(self, params, grads):
        """One step on every ``(param, grad)`` pair."""
        f = params[0].dtype.type
        lr, mom = f(self.learning_rate), f(self.momentum)
        for p, g, v in zip(params, grads, self.state["velocity"]):
            if not mom:  # v = -lr g, p += v: two passes
                np.multiply(g, -lr, out=v)
                p += v
                continue
            step = g * lr
            v *= mom
            v -= step
            if self.nesterov:
                p -= step
                p += v * mom
            else:
                p += v


class Adam:
    """Adam (Kingma & Ba 2015), as in scikit-learn's ``AdamOptimizer``.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``p <- p - lr_t m / (sqrt(v) + eps)`` with
    ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``.
    """

    def __init__(self, params, state, learning_rate, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        if state is None or "m" not in state:
            state = {
                "t": 0,
                "m": [np.zeros_like(p) for p in params],
                "v": [np.zeros_like(p) for p in params],
            }
        state["m"], state["v"] = writeable(state["m"]), writeable(state["v"])
        self.state = state

    def update(self, params, grads):
        """One step on every ``(param, grad)`` pair."""
        self.state["t"] += 1
        t, b1, b2 = self.state["t"], self.beta_1, self.beta_2
        f = params[0].dtype.type
        lr = f(self.learning_rate * np.sqrt(1 - b2**t) / (1 - b1**t))
        eps = f(self.epsilon)
        for p, g, m, v in zip(params, grads, self.state["m"], self.state["v"]):
            m *= f(b1)
            m += g * f(1 - b1)
            v *= f(b2)
            v += np.square(g) * f(1 - b2)
            denominator = np.sqrt(v)
            denominator += eps
            p -= lr * m / denominator


def make_optimizer(solver, params, state, est):
    """The optimizer ``solver`` of estimator ``est``, resuming ``state`` if given."""
    if solver == "adam":
        return Adam(params, state, est.learning_rate_init, est.beta_1, est.beta_2,
                    est.epsilon)
    return SGD(params, state, est.learning_rate_init, est.momentum,
               est.nesterovs_momentum)
