"""Stochastic gradient descent (momentum, Nesterov) and Adam, updating in place.

The updates are scikit-learn's ``SGDOptimizer`` and ``AdamOptimizer`` formulas,
written with the in-place operators of the parameters' namespace. An optimizer's
state (velocities, moments, step count) lives in a plain ``dict`` of lists of
arrays, so an estimator can keep it as fitted state that pickle, joblib and skops
round-trip; ``update(params, grads)`` changes ``params`` and the state in place.

For numpy the update walks cache-sized chunks of each array
(:meth:`sk_dbn._ops.NumpyOps.chunks`), so its passes over a chunk run while it
is in cache; other namespaces update whole arrays. Fine-tuning (SGD or Adam)
and contrastive divergence (SGD with momentum) share them.
"""

import math

from ._base import writeable
from ._ops import ops_of


class _Optimizer:
    """State access shared by the optimizers (for undoing a diverged epoch)."""

    _arrays = ()

    def arrays(self):
        """Every state array, in a fixed order."""
        return [a for key in self._arrays for a in self.state[key]]

    def steps(self):
        """Number of updates made (Adam's ``t``; 0 for SGD)."""
        return self.state.get("t", 0)

    def set_steps(self, t):
        if "t" in self.state:
            self.state["t"] = t

    def iteration_ends(self, time_step):
        """Called after each epoch with the samples seen so far (``t_``)."""

    def trigger_stopping(self, message, verbose):
        """No improvement for ``n_iter_no_change`` epochs: True to stop (the
        schedule can instead lower its step and go on, returning False)."""
        if verbose:
            print(message + " Stopping.")
        return True


class SGD(_Optimizer):
    """SGD with (Nesterov) momentum, as in scikit-learn's ``SGDOptimizer``.

    ``v <- momentum * v - lr * g``; then ``p <- p + v`` (classical) or
    ``p <- p + momentum * v - lr * g`` (Nesterov).

    ``lr`` follows ``schedule``, with ``MLPClassifier``'s meanings:
    ``"constant"`` keeps ``learning_rate``; ``"invscaling"`` sets it to
    ``learning_rate / (t + 1) ** power_t`` at the end of each epoch, ``t`` being
    the samples seen so far; ``"adaptive"`` divides it by 5 each time the
    training loss (or validation score) stops improving, and stops training
    once it is at most 1e-6. The rate is computed from ``learning_rate`` and
    what the schedule has seen -- ``time_step`` (the samples seen at the end of
    the last epoch of this optimizer, 0 for a new one) and the number of
    adaptive divisions, kept in ``state`` -- so it resumes between
    ``partial_fit`` calls and follows a changed ``learning_rate_init``.
    """

    _arrays = ("velocity",)

    def __init__(self, params, state, learning_rate, momentum=0.9, nesterov=True,
                 schedule="constant", power_t=0.5, time_step=0):
        self.learning_rate_init = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov and momentum > 0
        self.schedule = schedule
        self.power_t = power_t
        if state is None or "velocity" not in state:
            xp = ops_of(params[0]).xp
            state, time_step = {"velocity": [xp.zeros_like(p) for p in params]}, 0
        state["velocity"] = writeable(state["velocity"])
        state.setdefault("divisions", 0)
        self.state = state
        self.time_step = time_step

    @property
    def learning_rate(self):
        """The step size of the next update."""
        if self.schedule == "invscaling" and self.time_step:
            return self.learning_rate_init / (self.time_step + 1) ** self.power_t
        if self.schedule == "adaptive":
            return self.learning_rate_init / 5.0 ** self.state["divisions"]
        return self.learning_rate_init

    def iteration_ends(self, time_step):
        self.time_step = time_step

    def trigger_stopping(self, message, verbose):
        if self.schedule != "adaptive":
            return super().trigger_stopping(message, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(message + " Learning rate too small. Stopping.")
            return True
        self.state["divisions"] += 1
        if verbose:
            print(message + f" Setting learning rate to {self.learning_rate:f}")
        return False

    def update(self, params, grads):
        """One step. With ``learning_rate=1`` the caller has folded the step size
        into ``grads``, and the step skips a pass over them."""
        ops = ops_of(params[0])
        lr = self.learning_rate
        for p, g, v in zip(params, grads, self.state["velocity"]):
            mom = ops.scalar(self.momentum, p)
            for pc, gc, vc in ops.chunks(p, g, v):
                step = gc if lr == 1 else ops.scalar(lr, gc) * gc
                vc *= mom
                vc -= step
                if self.nesterov:
                    pc -= step
                    pc += mom * vc
                else:
                    pc += vc


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015), as in scikit-learn's ``AdamOptimizer``.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``p <- p - lr_t m / (sqrt(v) + eps)`` with
    ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``.
    """

    _arrays = ("m", "v")

    def __init__(self, params, state, learning_rate, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        if state is None or "m" not in state:
            xp = ops_of(params[0]).xp
            state = {
                "t": 0,
                "m": [xp.zeros_like(p) for p in params],
                "v": [xp.zeros_like(p) for p in params],
            }
        state["m"], state["v"] = writeable(state["m"]), writeable(state["v"])
        # a model saved by sk_dbn 0.1.0 kept the moments divided by 1 - beta
        for key in ("m", "v"):
            scale = state.pop(f"{key}_scale", None)
            if scale is not None:
                for a in state[key]:
                    a *= ops_of(a).scalar(scale, a)
        self.state = state

    def update(self, params, grads):
        """One step."""
        ops = ops_of(params[0])
        self.state["t"] += 1
        t, b1, b2 = self.state["t"], self.beta_1, self.beta_2
        lr = self.learning_rate * math.sqrt(1 - b2**t) / (1 - b1**t)
        for p, g, m, v in zip(params, grads, self.state["m"], self.state["v"]):
            s = ops.scalar
            for pc, gc, mc, vc in ops.chunks(p, g, m, v):
                mc *= s(b1, mc)  # m <- b1 m + (1 - b1) g
                mc += s(1 - b1, gc) * gc
                vc *= s(b2, vc)  # v <- b2 v + (1 - b2) g^2
                vc += s(1 - b2, gc) * (gc * gc)
                u = s(lr, mc) * mc  # p <- p - lr m / (sqrt(v) + eps)
                u /= ops.sqrt(vc) + s(self.epsilon, vc)
                pc -= u


def make_optimizer(solver, params, state, *, learning_rate_init, momentum=0.9,
                   nesterovs_momentum=True, learning_rate="constant", power_t=0.5,
                   beta_1=0.9, beta_2=0.999, epsilon=1e-8, time_step=0):
    """The optimizer ``solver`` (``"sgd"`` or ``"adam"``) with scikit-learn's
    hyperparameters, resuming ``state`` if given (``time_step``: the samples
    seen by the fits before)."""
    if solver == "adam":
        return Adam(params, state, learning_rate_init, beta_1, beta_2, epsilon)
    return SGD(params, state, learning_rate_init, momentum, nesterovs_momentum,
               learning_rate, power_t, time_step)
