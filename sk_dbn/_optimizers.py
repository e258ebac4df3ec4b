"""Stochastic gradient descent (momentum, Nesterov) and Adam, updating in place.

The updates are scikit-learn's ``SGDOptimizer`` and ``AdamOptimizer`` formulas,
written with the in-place operators of the parameters' namespace. An optimizer's
state (velocities, moments, step count) lives in a plain ``dict`` of lists of
arrays, so an estimator can keep it as fitted state that pickle, joblib and skops
round-trip; ``update(params, grads, decay, sums)`` changes ``params`` and the
state in place, after adding an L2 term to the gradients and taking the sums of
squares that the loss and the gradient norms need (``decay``, ``sums``).

For numpy the update walks cache-sized chunks of each array
(:meth:`sk_dbn._ops.NumpyOps.chunks`), so its passes over a chunk -- the L2 term,
the sums of squares, the step -- run while it is in cache, and it writes its
intermediate results into two preallocated work buffers instead of new arrays;
other namespaces update whole arrays and compute the intermediates as new
arrays. (``benchmarks.paired_fits``, two runs of 7 rounds on a 2-core AMD EPYC,
against the same updates in whole-array passes: chunks made a 784-500-500-10
Adam epoch 2-3 % faster in float32 and 1-2 % in float64, and the RBM at its
defaults 1 % slower; fine-tuning is where the time goes.) Fine-tuning (SGD or
Adam) and contrastive divergence (SGD with momentum) share them. SGD is
scikit-learn's arithmetic exactly; Adam keeps its moments pre-divided (see
:class:`Adam`), the same steps up to rounding.
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

    def _chunks(self, arrays, k, decay, sums):
        """The chunks of ``arrays = (p, g, ...)`` with the work buffers
        (:meth:`sk_dbn._ops.NumpyOps.chunks`), each made ready for the step.

        While a chunk is in cache: ``g += decay[k] * p`` (an L2 term, unless
        ``decay`` or ``decay[k]`` is None), then, unless ``sums`` or
        ``sums[k]`` is None, the sum of squares of ``g`` added to
        ``sums[k][0]`` and, with an L2 term (the penalty's), that of ``p``
        (before the step) to ``sums[k][1]``. The values may be 0-d arrays on
        the device.
        """
        ops = ops_of(arrays[0])
        c = None if decay is None or decay[k] is None else ops.scalar(decay[k],
                                                                      arrays[0])
        total = None if sums is None else sums[k]
        for chunk in ops.chunks(*arrays, scratch=self._scratch):
            p, g, work = chunk[0], chunk[1], chunk[len(arrays)]
            if c is not None:
                g += ops.multiply(p, c, out=work)
            if total is not None:
                total[0] = total[0] + ops.sum_squares(g)
                if c is not None:
                    total[1] = total[1] + ops.sum_squares(p)
            yield chunk

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
        self._scratch = ops_of(params[0]).scratch_for(params, 2)
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

    def update(self, params, grads, decay=None, sums=None):
        """One step (see :meth:`_Optimizer._chunks` for ``decay`` and ``sums``).
        With ``learning_rate=1`` the caller has folded the step size into
        ``grads`` (and ``decay``), and the step skips a pass over them."""
        ops = ops_of(params[0])
        lr = self.learning_rate
        for k, arrays in enumerate(zip(params, grads, self.state["velocity"])):
            rate, mom = (ops.scalar(c, arrays[0]) for c in (lr, self.momentum))
            for pc, gc, vc, w1, w2 in self._chunks(arrays, k, decay, sums):
                step = gc if lr == 1 else ops.multiply(gc, rate, out=w1)
                vc *= mom  # v <- momentum v - lr g
                vc -= step
                if self.nesterov:  # p <- p + (momentum v - lr g)
                    u = ops.multiply(vc, mom, out=w2)
                    u -= step
                    pc += u
                else:  # p <- p + v
                    pc += vc


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015), as in scikit-learn's ``AdamOptimizer``.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``p <- p - lr_t m / (sqrt(v) + eps)`` with
    ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``.

    The moments are stored divided by ``1 - b1`` and ``1 - b2``
    (``state["m"] = m / (1 - b1)``, ``state["v"] = v / (1 - b2)``; the divisors
    are kept as ``state["m_scale"]`` and ``state["v_scale"]``): then
    ``m' <- b1 m' + g`` and ``v' <- b2 v' + g^2`` take two passes less over the
    weights per step, and ``p <- p - lr' m' / (sqrt(v') + eps')`` with
    ``lr' = lr_t (1 - b1) / sqrt(1 - b2)``, ``eps' = eps / sqrt(1 - b2)`` is the
    same step up to rounding. (``benchmarks.paired_fits``: scikit-learn's
    formulas as written made a fine-tuning epoch of 784-500-500-10 5-6 %
    slower in float64, 3-4 % in float32, on a 2-core AMD EPYC: the two passes
    go to memory, as a chunk of the four arrays overflows the L2 cache.)
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
        # moments kept under other betas (set_params between partial_fit calls)
        # are brought to this optimizer's scale; a state without a scale holds
        # the moments of the formulas (a model saved before they were divided)
        for key, scale in (("m", 1 - beta_1), ("v", 1 - beta_2)):
            old = state.get(f"{key}_scale", 1.0)
            if old != scale:
                for a in state[key]:
                    a *= ops_of(a).scalar(old / scale, a)
            state[f"{key}_scale"] = scale
        self.state = state
        self._scratch = ops_of(params[0]).scratch_for(params, 1)

    def moments(self):
        """``(m, v)``: the moments of scikit-learn's formulas (copies)."""
        return tuple([a * ops_of(a).scalar(self.state[f"{key}_scale"], a)
                      for a in self.state[key]] for key in ("m", "v"))

    def update(self, params, grads, decay=None, sums=None):
        """One step (see :meth:`_Optimizer._chunks` for ``decay`` and
        ``sums``)."""
        ops = ops_of(params[0])
        self.state["t"] += 1
        t, b1, b2 = self.state["t"], self.beta_1, self.beta_2
        lr = (self.learning_rate * math.sqrt(1 - b2**t) / (1 - b1**t)
              * (1 - b1) / math.sqrt(1 - b2))
        eps = self.epsilon / math.sqrt(1 - b2)
        arrays = zip(params, grads, self.state["m"], self.state["v"])
        for k, chunked in enumerate(arrays):
            p = chunked[0]
            b1_, b2_, eps_, lr_ = (ops.scalar(c, p) for c in (b1, b2, eps, lr))
            for pc, gc, mc, vc, work in self._chunks(chunked, k, decay, sums):
                mc *= b1_  # m' <- b1 m' + g
                mc += gc
                vc *= b2_  # v' <- b2 v' + g^2
                vc += ops.multiply(gc, gc, out=work)
                u = ops.sqrt(vc, out=work)  # p <- p - lr' m' / (sqrt(v') + eps')
                u += eps_
                u = ops.divide(mc, u, out=u)
                u *= lr_
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
