"""The unlabelled rows' term of fine-tuning: pseudo-labels, by the network or by
label spreading.

With ``DBNClassifier(unlabeled=..., unlabeled_loss=...)`` the rows without a label
enter fine-tuning too. Each mini-batch of labelled rows is joined by a mini-batch
of unlabelled rows, and the loss of the step is

    L = L_labelled + alpha(t) * L_unlabelled

where ``L_labelled`` is the labelled rows' loss (their weighted mean
cross-entropy, as without the option), ``alpha(t)`` the ramp of
:func:`ramp_weight` over the epoch ``t`` and ``L_unlabelled`` the cross-entropy
of the unlabelled rows of the batch against pseudo-labels, held fixed (no
gradient flows through them):

- ``"pseudo_label"`` (Lee 2013): the network's own current prediction, the
  argmax class (for logistic outputs, each output rounded to 0 or 1), from the
  same forward pass; ``L_unlabelled`` is the weighted mean over the rows.
- ``"label_spreading"`` (Iscen et al. 2019): the classes that scikit-learn's
  ``LabelSpreading(kernel="knn")`` spreads from the labelled rows over a
  k-nearest-neighbour graph of every training row's top hidden layer, recomputed
  every :data:`SPREAD_EVERY` epochs as the features change. Each row counts with
  its certainty ``c = 1 - H(p) / log(n_classes)`` (``p`` the spread
  distribution, ``H`` its entropy; 0 for a row the graph does not reach):
  ``L_unlabelled = sum(w c loss) / sum(w)``.

With ``unlabeled_noise = s > 0`` the same unlabelled mini-batch adds a second
term, ``alpha(t) * L_consistency`` (a Pi-model: Sajjadi et al. 2016, Laine &
Aila 2017): the cross-entropy between the network's output on the rows, held
fixed, and its output on the rows plus Gaussian noise ``N(0, (s sigma_f)^2)``
per feature ``f`` (``sigma_f`` its standard deviation over the training rows),
weighted by the rows' sample weights.

:class:`UnlabelledTerm` is the one hook of the fine-tuning loop
(:func:`sk_dbn._finetune.fine_tune_sgd`): it sets how many mini-batches an epoch
has, and, given the gradient buffers of a labelled mini-batch, draws the next
unlabelled mini-batch, runs the same forward and backward pass on it
(:func:`sk_dbn._network.loss_and_gradients`), adds ``alpha(t)`` times its
gradient to the buffers and returns ``alpha(t)`` times its loss.

The arrays may be of any array-API namespace: the unlabelled mini-batches run on
the data's device; the bookkeeping (which rows, their pseudo-labels, weights and
certainties) is on the host, with copies on the device moved once (the weights),
once a pass over the unlabelled rows (their order) or once a spreading (the
labels and certainties), so that no mini-batch moves anything; label spreading
runs on the host, on the features read back once per spreading.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.semi_supervised import LabelSpreading

from ._network import (
    BackpropWorkspace,
    _logistic_rows,
    _softmax_rows,
    forward,
    forward_chunked,
    loss_and_gradients,
    softmax_and_logsumexp,
)
from ._ops import numpy_dtype, ops_of, to_device, to_host
from ._standardize import moments

UNLABELED_LOSSES = ("pseudo_label", "label_spreading")
"""The values of ``unlabeled_loss`` (None: the unlabelled rows stay out of
fine-tuning)."""

SPREAD_EVERY = 5
"""Epochs between two label spreadings of ``"label_spreading"`` (the first at the
first epoch of a fit whose weight is not 0)."""


def ramp_weight(epoch, weight, ramp):
    """The weight ``alpha(t)`` of the unlabelled rows' term at epoch ``t``.

    ``ramp = (t1, t2)``: 0 before epoch ``t1``, rising linearly to ``weight`` at
    epoch ``t2`` and ``weight`` from there on (Lee 2013); ``t1 == t2`` is a step.
    ``epoch`` counts from 0: the epochs of stochastic fine-tuning completed
    before the current one, over every fit of a ``warm_start`` or
    ``partial_fit`` sequence (``len(loss_curve_)``).
    """
    start, end = ramp
    if epoch < start:
        return 0.0
    if epoch >= end:
        return float(weight)
    return float(weight) * (epoch - start) / (end - start)


def _pseudo_label_softmax(ops, Z, _, delta):
    # cross-entropy against each row's own argmax class, as if it were its label
    return _softmax_rows(ops, Z, ops.xp.argmax(Z, axis=1), delta)


def _pseudo_label_logistic(ops, Z, _, delta):
    # each logistic output against itself rounded to 0 or 1
    return _logistic_rows(ops, Z, ops.xp.astype(Z > 0, Z.dtype), delta)


def _soft_target_softmax(ops, Z, Q, delta):
    # cross-entropy against a distribution Q per row: logsumexp(Z) - <Q, Z>
    lse, delta = softmax_and_logsumexp(ops, Z, delta)
    delta -= Q
    return lse - ops.rowdot(Q, Z), delta


SOFT_TARGETS = {"softmax": (lambda ops, Z: ops.softmax(Z), _soft_target_softmax),
                "logistic": (lambda ops, Z: ops.expit(Z), _logistic_rows)}
"""Per output activation: the network's output from its logits, and the loss of
each row against such an output held fixed (the cross-entropy of the consistency
term), in the contract of :data:`PSEUDO_LABEL_ROWS`."""


PSEUDO_LABEL_ROWS = {"softmax": _pseudo_label_softmax,
                     "logistic": _pseudo_label_logistic}
"""Per output activation: the loss of each unlabelled row against its own
prediction, with its gradient with respect to the logits written into
``delta`` (the contract of the row losses of
:func:`sk_dbn._network.output_loss_delta`; the targets argument is unused)."""


def spread_labels(features, labels, n_classes):
    """``(pseudo, certainty)`` of every row by label spreading over ``features``.

    ``labels`` holds each row's class index, -1 for an unlabelled row.
    ``LabelSpreading(kernel="knn")`` at scikit-learn's defaults (7 neighbours,
    ``alpha=0.2``) spreads them over the k-nearest-neighbour graph of the rows;
    ``pseudo`` is each row's most probable class and ``certainty`` is ``1 -
    H(p) / log(n_classes)`` of its spread distribution ``p`` (0 for a row the
    graph does not reach, whose ``p`` is all zeros).
    """
    with warnings.catch_warnings():  # a graph not converged in 30 steps is fine
        warnings.simplefilter("ignore", ConvergenceWarning)
        spreading = LabelSpreading(kernel="knn").fit(features, labels)
    P = spreading.label_distributions_
    pseudo = spreading.classes_[np.argmax(P, axis=1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(P > 0, P * np.log(P), 0.0).sum(axis=1)
    certainty = 1.0 - entropy / np.log(n_classes)
    certainty[P.sum(axis=1) == 0] = 0.0
    return pseudo.astype(np.intp), np.clip(certainty, 0.0, 1.0)


def unlabelled_batch_size(batch_size, n_unlabelled):
    """Rows of each unlabelled mini-batch: ``batch_size`` (``"auto"``: 200), at
    most ``n_unlabelled``.

    It is resolved against the unlabelled rows, not the labelled ones: with 38
    labelled rows (mini-batches of 38) the unlabelled mini-batches still have
    200 rows.
    """
    size = 200 if batch_size == "auto" else int(batch_size)
    return min(size, n_unlabelled)


class UnlabelledTerm:
    """The unlabelled rows' term of every labelled mini-batch of a fine-tuning.

    Holds the training data ``X``, the indices ``rows`` of its unlabelled rows
    (numpy), the weights ``sample_weight`` of all rows (None for all 1), for
    ``"label_spreading"`` the class index of every row of ``X`` (``labels``, -1
    for the unlabelled ones) and the number of classes, and a workspace for
    the unlabelled mini-batches; the network's ``coefs`` and ``intercepts`` are
    those being trained (updated in place by the optimiser). The unlabelled
    mini-batches run through the unlabelled rows in a random order (with
    ``shuffle``), a fresh one each time every row has been used.
    """

    def __init__(self, kind, weight, ramp, X, rows, sample_weight, *, labels,
                 n_classes, batch_size, coefs, intercepts, activation, output,
                 dropout, shuffle, noise=0.0):
        self.kind, self.weight = kind, float(weight)
        self.ramp = tuple(int(t) for t in ramp)
        self.X, self.unlabelled = X, rows
        self.sample_weight = None if sample_weight is None else to_host(
            sample_weight)
        like = coefs[0]  # the device's copies, moved once (or once a spreading)
        self._device = {"weight": to_device(self.sample_weight, like)}
        self.labels, self.n_classes = labels, n_classes
        self.coefs, self.intercepts = coefs, intercepts
        self.activation, self.shuffle = activation, shuffle
        self.output = output
        self.ws = BackpropWorkspace(batch_size, X, coefs, dropout)
        self._queue = np.empty(0, dtype=np.intp)
        self._device_queue = to_device(self._queue, like)
        self._spread_at, self._pseudo, self._certainty = None, None, None
        self.noise = float(noise)
        if self.noise:
            # the noise's scale per feature, s * sigma_f, moved once
            stats = moments(X, self._device["weight"])
            scale = self.noise * np.sqrt(stats["m2"] / stats["n"])
            self._device["scale"] = to_device(
                scale.astype(numpy_dtype(like.dtype)), like)
            self._draw = ops_of(like).empty((self.ws.batch_size, X.shape[1]),
                                            like.dtype, getattr(like, "device",
                                                                None))

    def alpha(self, epoch):
        """``alpha(t)`` at ``epoch`` (see :func:`ramp_weight`)."""
        return ramp_weight(epoch, self.weight, self.ramp)

    def ramping(self, epoch):
        """True while the ramp has not reached its final weight at ``epoch``:
        the objective still changes from epoch to epoch, so no stopping rule
        can judge it yet."""
        return self.alpha(epoch) < self.weight

    def labelled_order(self, order, batch_size, rng):
        """The labelled rows of one epoch, in mini-batch order.

        An epoch is a pass over the unlabelled rows as well as the labelled
        ones: it has as many mini-batches as the larger of the two fills, so
        when the unlabelled rows fill more, ``order`` (a pass over the labelled
        rows) is followed by further passes, each in a fresh order, and cut to
        that many full mini-batches of ``batch_size`` rows.
        """
        n = order.shape[0]
        n_batches = max(-(-n // batch_size),
                        -(-self.unlabelled.shape[0] // self.ws.batch_size))
        need = n_batches * batch_size
        if need <= n:
            return order
        passes = [order]
        for _ in range(-(-need // n) - 1):
            passes.append(rng.permutation(n) if self.shuffle else np.arange(n))
        return np.concatenate(passes)[:need]

    def _next_rows(self, rng):
        """The rows of the next unlabelled mini-batch, on the host and on the
        device (each pass over the unlabelled rows moves there once)."""
        n, size = self.unlabelled.shape[0], self.ws.batch_size
        while self._queue.shape[0] < size:
            order = self.unlabelled[rng.permutation(n) if self.shuffle
                                    else np.arange(n)]
            self._queue = np.concatenate([self._queue, order])
            self._device_queue = ops_of(self.coefs[0]).xp.concat(
                [self._device_queue, to_device(order, self.coefs[0])])
        rows, self._queue = self._queue[:size], self._queue[size:]
        device_rows = self._device_queue[:size]
        self._device_queue = self._device_queue[size:]
        return rows, device_rows

    def _spread(self, epoch):
        """Spread the labels over the current top hidden layer of every row."""
        n_hidden = len(self.coefs) - 1
        features = self.X if n_hidden == 0 else forward_chunked(
            self.X, self.coefs[:-1], self.intercepts[:-1],
            [self.activation] * n_hidden)
        self._pseudo, self._certainty = spread_labels(to_host(features),
                                                      self.labels, self.n_classes)
        like = self.coefs[0]
        self._device["pseudo"] = to_device(self._pseudo, like)
        self._device["certainty"] = to_device(self._certainty, like)
        self._spread_at = epoch

    def _targets(self, idx, device_idx, epoch):
        """``(targets, output loss, row weights, factor of alpha)`` of the rows
        ``idx``: the targets and weights (None for all 1) on the device, taken
        there at ``device_idx``; the factor from the host's bookkeeping."""
        ops = ops_of(self.coefs[0])
        w = None if self.sample_weight is None else self.sample_weight[idx]
        dw = self._row_weights(device_idx)
        if self.kind == "pseudo_label":
            rows = PSEUDO_LABEL_ROWS["logistic" if self.output == "logistic"
                                     else "softmax"]
            return None, rows, dw, 1.0
        if self._spread_at is None or epoch >= self._spread_at + SPREAD_EVERY:
            self._spread(epoch)
        c = self._certainty[idx]
        total = float(c.sum() if w is None else (c * w).sum())
        factor = total / (idx.shape[0] if w is None else float(w.sum()))
        weights = None
        if total:
            weights = ops.take(self._device["certainty"], device_idx)
            weights = weights if dw is None else weights * dw
        targets = ops.take(self._device["pseudo"], device_idx)
        return targets, self.output, weights, factor

    def add(self, grads, rng, draws, epoch):
        """Add ``alpha(epoch)`` times the gradient of the next unlabelled
        mini-batch's loss to ``grads`` (the labelled mini-batch's, coefs then
        intercepts: a list whose entries are set) and return ``alpha(epoch)``
        times that loss (0.0, and nothing drawn, while ``alpha`` is 0). ``rng``
        draws the rows, ``draws`` (on the device) the dropout masks. Nothing
        moves between host and device here but each pass's row order and each
        spreading's labels."""
        alpha = self.alpha(epoch)
        if alpha == 0.0:
            return 0.0
        idx, device_idx = self._next_rows(rng)
        # the batch's rows, taken once: the pseudo-label term leaves them as
        # they are, the consistency term then adds its noise to them
        batch = self.ws.batch(self.X, device_idx)
        loss = self._pseudo_label_term(idx, device_idx, batch, alpha, grads,
                                       draws, epoch)
        if self.noise:
            loss = loss + self._consistency_term(device_idx, batch, alpha, grads,
                                                 draws)
        return loss

    def _pseudo_label_term(self, idx, device_idx, batch, alpha, grads, draws,
                           epoch):
        """Add ``alpha`` times the gradient of the rows' loss against their
        pseudo-labels to ``grads``; return ``alpha`` times that loss."""
        targets, output, weights, factor = self._targets(idx, device_idx, epoch)
        alpha *= factor
        if alpha == 0.0:  # no row of the batch is reached by label spreading
            return 0.0
        return self._add_scaled(alpha, grads, *batch, targets, output, weights,
                                draws)

    def _consistency_term(self, device_idx, batch, alpha, grads, draws):
        """Add ``alpha`` times the gradient of the consistency loss of the rows
        (their output, held fixed, against the output on the rows plus noise) to
        ``grads``; return ``alpha`` times that loss."""
        ops = ops_of(self.coefs[0])
        activations, deltas, scratch = batch
        if not ops.dense(activations[0]):  # sparse rows (numpy only)
            activations[0] = activations[0].toarray()
        output = "logistic" if self.output == "logistic" else "softmax"
        prediction, rows = SOFT_TARGETS[output]
        targets = prediction(ops, forward(activations, self.coefs,
                                          self.intercepts, self.activation,
                                          pre=deltas))
        noise = draws.normal(self._draw[:activations[0].shape[0], ...])
        noise *= self._device["scale"]
        activations[0] += noise
        return self._add_scaled(alpha, grads, activations, deltas, scratch,
                                targets, rows, self._row_weights(device_idx),
                                draws)

    def _row_weights(self, device_idx):
        """The sample weights of the rows at ``device_idx``, on the device
        (None for all 1)."""
        if self.sample_weight is None:
            return None
        return ops_of(self.coefs[0]).take(self._device["weight"], device_idx)

    def _add_scaled(self, alpha, grads, activations, deltas, scratch, targets,
                    output, weights, draws):
        """Backprop the batch in ``activations[0]`` against ``targets`` and add
        ``alpha`` times its gradient to ``grads``; return ``alpha`` times its
        loss."""
        n_layers = len(self.coefs)
        coef_grads, intercept_grads = self.ws.grads[:n_layers], self.ws.grads[
            n_layers:]
        loss, _ = loss_and_gradients(
            activations, targets, self.coefs, self.intercepts,
            self.activation, 0.0, deltas, coef_grads, intercept_grads, scratch,
            output=output, sample_weight=weights,
            dropout=self.ws.draw_dropout(activations[0].shape[0], draws))
        ops = ops_of(self.coefs[0])
        for i, extra in enumerate(coef_grads + intercept_grads):
            grads[i] = ops.axpy(ops.scalar(alpha, extra), extra, grads[i])
        return alpha * loss
