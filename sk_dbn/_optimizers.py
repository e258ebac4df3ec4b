"""Stochastic gradient descent (momentum, Nesterov) and Adam, updating in place.

An optimizer's state (velocities, moments, step count) lives in a plain ``dict`` of
lists of arrays, created by ``init_state(params)``, so an estimator can keep it as
fitted state that pickle, joblib and skops round-trip; ``update(params, grads)``
changes ``params`` and the state in place using preallocated scratch buffers, so one
update allocates nothing.
"""

import numpy as np


def _writeable(arrays):
    """The arrays, copied only where read-only (e.g. loaded with mmap_mode='r')."""
    return [a if a.flags.writeable else a.copy() for a in arrays]


class SGD:
    """SGD with (Nesterov) momentum, as in scikit-learn's ``SGDOptimizer``.

    ``v <- momentum * v - lr * g``; then ``p <- p + v`` (classical) or
    ``p <- p + momentum * v - lr * g`` (Nesterov).
    """

    def __init__(self, params, state, learning_rate, momentum=0.9, nesterov=True):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov and momentum > 0
        if state is None or "velocity" not in state:
            state = {"velocity": [np.zeros_like(p) for p in params]}
        state["velocity"] = _writeable(state["velocity"])
        self.state = state
        self._scratch = [np.empty_like(p) for p in params]

    def update(self, params, grads):
        for p, g, v, s in zip(params, grads, self.state["velocity"], self._scratch):
            lr, mom = p.dtype.type(self.learning_rate), p.dtype.type(self.momentum)
            v *= mom
            np.multiply(g, lr, out=s)
            v -= s
            if self.nesterov:
                p -= s
                np.multiply(v, mom, out=s)
            else:
                s[...] = v
            p += s


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
        state["m"], state["v"] = _writeable(state["m"]), _writeable(state["v"])
        self.state = state
        self._scratch = [np.empty_like(p) for p in params]

    def update(self, params, grads):
        self.state["t"] += 1
        t, b1, b2 = self.state["t"], self.beta_1, self.beta_2
        lr_t = self.learning_rate * np.sqrt(1 - b2**t) / (1 - b1**t)
        for p, g, m, v, s in zip(
            params, grads, self.state["m"], self.state["v"], self._scratch
        ):
            f = p.dtype.type
            # m <- b1 m + (1 - b1) g, written as m += (1 - b1) (g - m)
            np.subtract(g, m, out=s)
            s *= f(1 - b1)
            m += s
            # v <- b2 v + (1 - b2) g^2
            np.multiply(g, g, out=s)
            s *= f(1 - b2)
            v *= f(b2)
            v += s
            np.sqrt(v, out=s)
            s += f(self.epsilon)
            np.divide(m, s, out=s)
            s *= f(lr_t)
            p -= s
