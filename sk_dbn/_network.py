"""Forward pass, backward pass and loss of a feed-forward network.

Pure functions on lists of arrays, shared by the classifier's fine-tuning and
prediction, by LSUV's variance probe and by the RBM up-pass. Weights are in
(fan_in, fan_out) orientation. The last layer has no activation: it produces logits,
and the loss is computed from them (never from rounded probabilities).

Hidden activations are the objects of :mod:`sk_dbn._activations`. A hidden layer
of ``m`` units has ``m * activation.width_factor`` pre-activations (``fan_out`` of
its weights): ``m`` except for maxout, whose ``k`` pieces per unit make ``m * k``.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit, logsumexp, softmax, xlogy

from ._inplace import axpy


def affine(A, W, b, out=None):
    """``out = A @ W + b`` (``A`` dense or sparse), written into ``out`` if given."""
    if sp.issparse(A):
        prod = A @ W
        if out is None:
            out = np.asarray(prod)
        else:
            out[...] = prod
    else:
        out = np.dot(A, W, out=out)
    out += b
    return out


def forward_layer(A, W, b, activation, out=None, pre=None):
    """One layer: ``activation(A @ W + b)``, into ``out`` if given.

    ``pre`` (of shape ``(n, W.shape[1])``) receives the pre-activations of an
    activation that keeps them (maxout, for its backward pass); elementwise
    activations work in place in ``out`` and leave ``pre`` alone.
    """
    Z = affine(A, W, b, out=activation.pre_buffer(out, pre))
    return activation.forward(Z, out=out)


def forward(activations, coefs, intercepts, activation, pre=None, dropout=None):
    """Fill ``activations[1:]`` from ``activations[0]``; the last entry gets logits.

    ``activations`` is a list of ``len(coefs) + 1`` arrays (``activations[0]`` the
    input batch, the others preallocated outputs of matching shape); ``pre[i]``,
    if given, is a buffer of layer ``i``'s pre-activation shape (see
    :func:`forward_layer`). With ``dropout = (masks, dropped)``, the layer above
    hidden layer ``i`` reads ``dropped[i] = activations[i + 1] * masks[i]``
    (``masks[i]`` holds 0 for a dropped unit, ``1 / (1 - p)`` for a kept one:
    inverted dropout) while ``activations[i + 1]`` keeps the layer's output.
    """
    last = len(coefs) - 1
    A = activations[0]
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        if i == last:
            affine(A, W, b, out=activations[i + 1])
        else:
            A = forward_layer(A, W, b, activation, out=activations[i + 1],
                              pre=None if pre is None else pre[i])
            if dropout is not None:
                A = np.multiply(A, dropout[0][i], out=dropout[1][i])
    return activations[-1]


def check_widths(coefs, activation):
    """A ``ValueError`` unless every hidden layer has ``width_factor`` times as
    many pre-activations as the next layer has inputs."""
    k = activation.width_factor
    for i, (W, W_next) in enumerate(zip(coefs[:-1], coefs[1:])):
        if W.shape[1] != k * W_next.shape[0]:
            raise ValueError(
                f"Hidden layer {i + 1} has {W.shape[1]} pre-activations for the "
                f"{W_next.shape[0]} inputs of the next layer, but activation "
                f"{activation} takes {k} per unit: the weights were made for "
                "another activation or maxout_pieces (refit after changing them)."
            )


def logits_to_proba(logits):
    """Class probabilities from logits: softmax, or one logistic unit for 2 classes."""
    if logits.shape[1] == 1:
        # expit(-z), not 1 - expit(z): the small probability keeps its digits
        z = logits[:, 0]
        return np.column_stack([expit(-z), expit(z)])
    return softmax(logits, axis=1)


def logits_to_log_proba(logits):
    """Log class probabilities from logits, computed stably."""
    if logits.shape[1] == 1:
        z = logits[:, 0]
        return np.column_stack([log_expit(-z), log_expit(z)])
    return logits - logsumexp(logits, axis=1, keepdims=True)


OUTPUT_FUNCTIONS = {
    "softmax": lambda Z: softmax(Z, axis=1),
    "logistic": expit,
    "identity": lambda Z: Z,
    "exp": np.exp,
}
"""The output layer's link from the last layer's pre-activations to predictions
(``out_activation_``): each is the canonical link of its loss, so the gradient of
the loss with respect to the pre-activations is ``prediction - target``."""


def _softmax_rows(Z, y, delta):
    # log-sum-exp by hand: scipy's logsumexp costs more in Python overhead
    # than the arithmetic on these (n, n_classes) arrays
    rows = np.arange(Z.shape[0])
    zmax = Z.max(axis=1, keepdims=True)
    np.subtract(Z, zmax, out=delta)
    np.exp(delta, out=delta)
    total = delta.sum(axis=1, keepdims=True)
    losses = (np.log(total) + zmax)[:, 0] - Z[rows, y]
    delta /= total
    delta[rows, y] -= 1
    return losses


def _logistic_rows(Z, Y, delta):
    # -log p(y|z) = log(1 + e^z) - y z per label, summed over labels
    Y = Y.reshape(Z.shape)
    losses = np.logaddexp(0, Z).sum(axis=1) - np.einsum("ij,ij->i", Y, Z)
    expit(Z, out=delta)
    delta -= Y
    return losses


def _squared_rows(Z, Y, delta):
    np.subtract(Z, Y.reshape(Z.shape), out=delta)
    return 0.5 * np.einsum("ij,ij->i", delta, delta)


def _poisson_rows(Z, Y, delta):
    # half the Poisson deviance of the mean exp(z): exp(z) - y z + y log y - y
    Y = Y.reshape(Z.shape)
    np.exp(Z, out=delta)
    losses = (delta + xlogy(Y, Y) - Y - Y * Z).sum(axis=1)
    delta -= Y
    return losses


_ROW_LOSSES = {
    "softmax": _softmax_rows,
    "logistic": _logistic_rows,
    "identity": _squared_rows,
    "exp": _poisson_rows,
}


def output_loss_delta(logits, y, delta, sample_weight=None, output=None):
    """Mean loss of the targets ``y`` given the last layer's pre-activations.

    ``output`` is the output activation (a key of :data:`OUTPUT_FUNCTIONS`) and
    names the loss it is the canonical link of: ``"softmax"`` -- cross-entropy of
    integer class indices ``y``; ``"logistic"`` -- binary cross-entropy summed
    over the columns (one column of 0/1 labels for two classes, or a multilabel
    indicator matrix); ``"identity"`` -- half the squared error summed over the
    outputs; ``"exp"`` -- half the Poisson deviance summed over the outputs. The
    default is the classifier's: ``"logistic"`` for one column, else
    ``"softmax"``. A callable ``output(logits, y, delta)`` is a loss of its own
    (the unlabelled rows' terms of :mod:`sk_dbn._semisupervised`): it returns
    the loss of each row and writes its gradient into ``delta``.

    Writes ``prediction - y`` (the gradient of each row's loss with respect to
    its pre-activations, unweighted) into ``delta`` and returns the mean loss
    over the rows, weighted by ``sample_weight`` if given.
    """
    if output is None:
        output = "logistic" if logits.shape[1] == 1 else "softmax"
    losses = (output if callable(output) else _ROW_LOSSES[output])(logits, y, delta)
    if sample_weight is None:
        return float(losses.sum()) / logits.shape[0]
    return float(np.dot(sample_weight, losses)) / float(sample_weight.sum())


def l2_penalty(sum_of_squares, alpha, n):
    """The L2 term of the loss, ``0.5 * alpha * sum(||W||^2) / n``.

    ``n`` is the number of rows of the batch, or the sum of their sample weights.
    """
    return 0.5 * alpha * sum_of_squares / n


def loss_and_gradients(
    activations, y, coefs, intercepts, activation, alpha, deltas, coef_grads,
    intercept_grads, scratch=None, *, output=None, sample_weight=None, dropout=None,
):
    """Forward, loss and backward for one batch; gradients written in place.

    The loss is ``mean loss + 0.5 * alpha * sum(||W||^2) / n`` (the convention
    of scikit-learn's ``MLPClassifier`` and ``MLPRegressor``, so ``alpha`` means
    the same); with ``sample_weight`` the mean is weighted and ``n`` is the sum
    of the weights. ``output`` names the output activation and loss (see
    :func:`output_loss_delta`). ``deltas[i]`` has the shape of layer ``i``'s
    pre-activations, ``(n, coefs[i].shape[1])``, and ``scratch[i]`` (a work
    buffer) that of ``activations[i + 1]``; the two shapes differ only for
    maxout layers, whose pre-activations the forward pass keeps in ``deltas``.
    ``dropout = (masks, dropped)`` trains the thinned network of the given masks
    (see :func:`forward`): the gradient is that of the network with those units
    removed and the kept ones scaled by ``1 / (1 - p)``. (Fine-tuning passes
    ``alpha=0`` and lets the optimiser add the L2 term chunk by chunk, see
    ``sk_dbn._finetune``.)
    """
    forward(activations, coefs, intercepts, activation, pre=deltas, dropout=dropout)
    # the input each layer saw: the dropped-out outputs with dropout
    inputs = activations if dropout is None else [activations[0], *dropout[1]]
    n = activations[0].shape[0]
    loss = output_loss_delta(activations[-1], y, deltas[-1], sample_weight, output)
    dtype = deltas[-1].dtype
    if sample_weight is None:
        deltas[-1] *= dtype.type(1.0 / n)
    else:
        n = float(sample_weight.sum())
        deltas[-1] *= (sample_weight / n).astype(dtype, copy=False)[:, None]
    if alpha:
        loss += l2_penalty(sum(float(np.vdot(W, W)) for W in coefs), alpha, n)
    ones = np.ones(activations[0].shape[0], dtype=dtype)  # column sums as a GEMV
    for i in range(len(coefs) - 1, -1, -1):
        A, delta = inputs[i], deltas[i]
        if sp.issparse(A):
            coef_grads[i][...] = A.T @ delta
        else:
            np.dot(A.T, delta, out=coef_grads[i])
        if alpha:
            axpy(alpha / n, coefs[i], coef_grads[i])
        np.dot(ones, delta, out=intercept_grads[i])
        if i > 0:
            activation.backward(activations[i], delta, coefs[i], deltas[i - 1],
                                None if scratch is None else scratch[i - 1])
            if dropout is not None:  # the mask of a unit covers all its pieces
                mask = dropout[0][i - 1]
                below = deltas[i - 1].reshape(mask.shape[0], -1, mask.shape[1])
                below *= mask[:, None, :]
    return loss


class BackpropWorkspace:
    """Preallocated per-fit buffers for mini-batch backprop.

    Holds the input batch (dense ``X``), each layer's activations, deltas
    (pre-activation width, see :func:`loss_and_gradients`) and a scratch buffer,
    at ``batch_size`` rows; :meth:`batch` returns views for the rows of one
    batch, so a fit allocates them once. A hidden layer's output width is the
    next layer's ``fan_in``.
    """

    def __init__(self, batch_size, X, coefs, dropout=0.0):
        dtype = coefs[0].dtype
        self.batch_size = batch_size
        pre_widths = [W.shape[1] for W in coefs]
        widths = [W.shape[0] for W in coefs[1:]] + pre_widths[-1:]
        self.x = None if sp.issparse(X) else np.empty((batch_size, X.shape[1]), dtype)
        self.activations = [np.empty((batch_size, w), dtype) for w in widths]
        self.deltas = [np.empty((batch_size, w), dtype) for w in pre_widths]
        self.scratch = [np.empty((batch_size, w), dtype) for w in widths]
        self.grads = [np.empty_like(W) for W in coefs] + [
            np.empty(w, dtype) for w in pre_widths
        ]
        self.dropout = dropout
        hidden = widths[:-1] if dropout else []
        self.masks = [np.empty((batch_size, w), dtype) for w in hidden]
        self.dropped = [np.empty((batch_size, w), dtype) for w in hidden]

    def batch(self, X, idx):
        """``(activations, deltas, scratch)`` for rows ``idx`` of ``X``."""
        n = idx.shape[0]
        A0 = X[idx] if self.x is None else np.take(X, idx, axis=0, out=self.x[:n])
        return (
            [A0] + [a[:n] for a in self.activations],
            [d[:n] for d in self.deltas],
            [s[:n] for s in self.scratch],
        )

    def draw_dropout(self, n, rng):
        """Fresh inverted-dropout masks for a batch of ``n`` rows, as
        ``(masks, dropped)`` for :func:`loss_and_gradients` (None without
        dropout): each unit is kept with probability ``1 - dropout``, and a kept
        unit's output is scaled by ``1 / (1 - dropout)``."""
        if not self.dropout:
            return None
        keep = 1.0 - self.dropout
        masks = [m[:n] for m in self.masks]
        for m in masks:
            rng.random(out=m, dtype=m.dtype)
            np.less(m, m.dtype.type(keep), out=m)
            m *= m.dtype.type(1.0 / keep)
        return masks, [d[:n] for d in self.dropped]


def iter_forward(X, coefs, intercepts, activations, chunk_size=2048):
    """Yield, per chunk of rows of ``X``, the list of every layer's output.

    ``activations[i]`` follows layer ``i``. Only one chunk is in memory at a time,
    so the memory used does not grow with ``n_samples``.
    """
    for start in range(0, X.shape[0], chunk_size):
        A = X[start : start + chunk_size]
        outputs = []
        for W, b, act in zip(coefs, intercepts, activations):
            A = forward_layer(A, W, b, act)
            outputs.append(A)
        yield outputs


def forward_chunked(X, coefs, intercepts, activations, chunk_size=2048):
    """Forward ``X`` through all layers, ``activations[i]`` after layer ``i``.

    Rows are processed in chunks (:func:`iter_forward`), so the memory beyond the
    output itself is bounded by ``chunk_size`` times the widest layer, whatever
    ``n_samples``.
    """
    width = coefs[-1].shape[1] // activations[-1].width_factor
    out = np.empty((X.shape[0], width), dtype=coefs[0].dtype)
    start = 0
    for outputs in iter_forward(X, coefs, intercepts, activations, chunk_size):
        out[start : start + outputs[-1].shape[0]] = outputs[-1]
        start += outputs[-1].shape[0]
    return out
