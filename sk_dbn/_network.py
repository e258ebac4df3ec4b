"""Forward pass, backward pass and loss of a feed-forward network.

Pure functions on lists of arrays, shared by the classifier's fine-tuning and
prediction, by LSUV's variance probe and by the RBM up-pass. Weights are in
(fan_in, fan_out) orientation. The last layer has no activation: it produces logits,
and the loss is computed from them (never from rounded probabilities).

Hidden activations are the objects of :mod:`sk_dbn._activations`. A hidden layer
of ``m`` units has ``m * activation.width_factor`` pre-activations (``fan_out`` of
its weights): ``m`` except for maxout, whose ``k`` pieces per unit make ``m * k``.
"""

from ._ops import ops_of


def affine(A, W, b, out=None):
    """``A @ W + b`` (``A`` dense or a scipy sparse matrix), into ``out`` where
    the namespace allows."""
    Z = ops_of(W).matmul(A, W, out=out)
    Z += b
    return Z


def forward_layer(A, W, b, activation, out=None, pre=None):
    """One layer: ``activation(A @ W + b)``, into ``out`` where the namespace
    allows.

    ``pre`` (of shape ``(n, W.shape[1])``) receives the pre-activations of an
    activation that keeps them (maxout, for its backward pass); elementwise
    activations work in ``out`` and leave ``pre`` alone.
    """
    Z = affine(A, W, b, out=activation.pre_buffer(out, pre))
    return activation.forward(Z, out=out)


def forward(activations, coefs, intercepts, activation, pre=None, dropout=None):
    """Set ``activations[1:]`` from ``activations[0]``; the last entry gets logits.

    ``activations`` is a list of ``len(coefs) + 1`` arrays (``activations[0]`` the
    input batch, the others buffers of matching shape, replaced by the results
    where the namespace does not write into them); ``pre[i]``, if given, is a
    buffer of layer ``i``'s pre-activation shape, set to them for an activation
    that keeps them (maxout). With ``dropout = (masks, dropped)``, the layer above
    hidden layer ``i`` reads ``dropped[i] = activations[i + 1] * masks[i]``
    (``masks[i]`` holds 0 for a dropped unit, ``1 / (1 - p)`` for a kept one:
    inverted dropout) while ``activations[i + 1]`` keeps the layer's output.
    """
    last = len(coefs) - 1
    A = activations[0]
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        if i == last:
            activations[i + 1] = affine(A, W, b, out=activations[i + 1])
            continue
        Z = affine(A, W, b, out=activation.pre_buffer(activations[i + 1],
                                                      None if pre is None else pre[i]))
        if pre is not None and activation.keeps_pre_activations:
            pre[i] = Z
        A = activations[i + 1] = activation.forward(Z, out=activations[i + 1])
        if dropout is not None:
            A = dropout[1][i] = ops_of(W).multiply(A, dropout[0][i],
                                                    out=dropout[1][i])
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
    ops = ops_of(logits)
    if logits.shape[1] == 1:
        # expit(-z), not 1 - expit(z): the small probability keeps its digits
        z = logits[:, 0]
        return ops.xp.stack([ops.expit(-z), ops.expit(z)], axis=1)
    return ops.softmax(logits)


def logits_to_log_proba(logits):
    """Log class probabilities from logits, computed stably."""
    ops = ops_of(logits)
    if logits.shape[1] == 1:
        z = logits[:, 0]
        return ops.xp.stack([ops.log_expit(-z), ops.log_expit(z)], axis=1)
    return logits - ops.logsumexp(logits)


def output_function(name):
    """The output layer's link from the last layer's pre-activations to
    predictions (``out_activation_``): ``"softmax"``, ``"logistic"``,
    ``"identity"`` or ``"exp"``. Each is the canonical link of its loss, so the
    gradient of the loss with respect to the pre-activations is ``prediction -
    target``."""
    return _OUTPUT_FUNCTIONS[name]


_OUTPUT_FUNCTIONS = {
    "softmax": lambda Z: ops_of(Z).softmax(Z),
    "logistic": lambda Z: ops_of(Z).expit(Z),
    "identity": lambda Z: Z,
    "exp": lambda Z: ops_of(Z).exp(Z),
}


def softmax_and_logsumexp(ops, Z, delta):
    """``(log-sum-exp of each row of Z, the softmax of Z written into delta)``:
    the two halves of a softmax cross-entropy and its gradient."""
    # by hand: scipy's logsumexp costs more in Python overhead than the
    # arithmetic on these (n, n_classes) arrays
    xp = ops.xp
    zmax = xp.max(Z, axis=1, keepdims=True)
    delta = ops.subtract(Z, zmax, out=delta)
    delta = ops.exp(delta, out=delta)
    total = xp.sum(delta, axis=1, keepdims=True)
    delta /= total
    return (xp.log(total) + zmax)[:, 0], delta


def _softmax_rows(ops, Z, y, delta):
    lse, delta = softmax_and_logsumexp(ops, Z, delta)
    return lse - ops.picked(Z, y), ops.minus_one_hot(delta, y)


def _logistic_rows(ops, Z, Y, delta):
    # -log p(y|z) = log(1 + e^z) - y z per label, summed over labels
    Y = ops.xp.astype(ops.xp.reshape(Y, Z.shape), Z.dtype)
    losses = ops.xp.sum(ops.softplus(Z), axis=1) - ops.rowdot(Y, Z)
    delta = ops.expit(Z, out=delta)
    delta -= Y
    return losses, delta


def _squared_rows(ops, Z, Y, delta):
    delta = ops.subtract(Z, ops.xp.reshape(Y, Z.shape), out=delta)
    return 0.5 * ops.rowdot(delta, delta), delta


def _poisson_rows(ops, Z, Y, delta):
    # half the Poisson deviance of the mean exp(z): exp(z) - y z + y log y - y
    Y = ops.xp.reshape(Y, Z.shape)
    delta = ops.exp(Z, out=delta)
    losses = ops.xp.sum(delta + ops.xlogy(Y, Y) - Y - Y * Z, axis=1)
    delta -= Y
    return losses, delta


_ROW_LOSSES = {
    "softmax": _softmax_rows,
    "logistic": _logistic_rows,
    "identity": _squared_rows,
    "exp": _poisson_rows,
}


def output_loss_delta(logits, y, delta, sample_weight=None, output=None):
    """``(mean loss, delta)`` of the targets ``y`` given the last layer's
    pre-activations.

    ``output`` is the output activation (see :func:`output_function`) and names
    the loss it is the canonical link of: ``"softmax"`` -- cross-entropy of
    integer class indices ``y``; ``"logistic"`` -- binary cross-entropy summed
    over the columns (one column of 0/1 labels for two classes, or a multilabel
    indicator matrix); ``"identity"`` -- half the squared error summed over the
    outputs; ``"exp"`` -- half the Poisson deviance summed over the outputs. The
    default is the classifier's: ``"logistic"`` for one column, else
    ``"softmax"``. A callable ``output(ops, logits, y, delta)`` is a loss of its
    own (the unlabelled rows' terms of :mod:`sk_dbn._semisupervised`): it
    returns ``(the loss of each row, delta)``, as the built-in ones do.

    ``delta`` (written into where the namespace allows) is ``prediction - y``:
    the gradient of each row's loss with respect to its pre-activations,
    unweighted. The mean loss over the rows, weighted by ``sample_weight`` if
    given, is a float for numpy and a 0-d float64 array on the data's device
    otherwise (no transfer to the host).
    """
    if output is None:
        output = "logistic" if logits.shape[1] == 1 else "softmax"
    ops = ops_of(logits)
    rows = output if callable(output) else _ROW_LOSSES[output]
    losses, delta = rows(ops, logits, y, delta)
    return ops.mean_loss(losses, sample_weight), delta


def l2_penalty(sum_of_squares, alpha, n):
    """The L2 term of the loss, ``0.5 * alpha * sum(||W||^2) / n``.

    ``n`` is the number of rows of the batch, or the sum of their sample weights.
    """
    return 0.5 * alpha * sum_of_squares / n


def loss_and_gradients(
    activations, y, coefs, intercepts, activation, alpha, deltas, coef_grads,
    intercept_grads, scratch=None, *, output=None, sample_weight=None, dropout=None,
    report=1.0,
):
    """Forward, loss and backward for one batch: the gradients in
    ``coef_grads`` and ``intercept_grads`` (lists whose entries are set).

    The loss is ``mean loss + 0.5 * alpha * sum(||W||^2) / n`` (the convention
    of scikit-learn's ``MLPClassifier`` and ``MLPRegressor``, so ``alpha`` means
    the same); with ``sample_weight`` the mean is weighted and ``n`` is the sum
    of the weights. ``output`` names the output activation and loss (see
    :func:`output_loss_delta`); ``report`` scales the mean loss in the returned
    value (``MLPRegressor`` reports the squared error averaged over the outputs,
    while the gradient is that of their sum). ``deltas[i]`` has the shape of
    layer ``i``'s pre-activations, ``(n, coefs[i].shape[1])``, and ``scratch[i]``
    (a work buffer) that of ``activations[i + 1]``; the two shapes differ only for
    maxout layers, whose pre-activations the forward pass keeps in ``deltas``.
    ``dropout = (masks, dropped)`` trains the thinned network of the given masks
    (see :func:`forward`): the gradient is that of the network with those units
    removed and the kept ones scaled by ``1 / (1 - p)``.

    Returns ``(loss, sum_of_squares)``: the loss (a float for numpy, a 0-d
    array on the device otherwise) and ``sum(||W||^2)`` of the weights it was
    taken at.
    """
    forward(activations, coefs, intercepts, activation, pre=deltas, dropout=dropout)
    # the input each layer saw: the dropped-out outputs with dropout
    inputs = activations if dropout is None else [activations[0], *dropout[1]]
    ops = ops_of(coefs[0])
    n = activations[0].shape[0]
    loss, deltas[-1] = output_loss_delta(activations[-1], y, deltas[-1],
                                         sample_weight, output)
    loss = report * loss
    if sample_weight is None:
        deltas[-1] *= ops.scalar(1.0 / n, deltas[-1])
    else:
        n = ops.xp.sum(sample_weight)
        deltas[-1] *= ops.xp.astype(sample_weight / n, deltas[-1].dtype)[:, None]
    squares = sum(ops.sum_squares(W) for W in coefs) if alpha else 0.0
    if alpha:
        loss = loss + l2_penalty(squares, alpha, n)
    ones = ops.xp.ones(activations[0].shape[0], dtype=deltas[-1].dtype,
                       device=_device(deltas[-1]))
    for i in range(len(coefs) - 1, -1, -1):
        A, delta = inputs[i], deltas[i]
        coef_grads[i] = ops.matmul(A.T, delta, out=coef_grads[i])
        if alpha:
            coef_grads[i] = ops.axpy(ops.scalar(alpha / n, coefs[i]), coefs[i],
                                     coef_grads[i])
        # column sums as a GEMV
        intercept_grads[i] = ops.matmul(ones, delta, out=intercept_grads[i])
        if i > 0:
            deltas[i - 1] = activation.backward(
                activations[i], delta, coefs[i], deltas[i - 1],
                None if scratch is None else scratch[i - 1])
            if dropout is not None:  # the mask of a unit covers all its pieces
                mask = dropout[0][i - 1]
                below = ops.xp.reshape(deltas[i - 1],
                                       (mask.shape[0], -1, mask.shape[1]))
                below = ops.multiply(below, mask[:, None, :], out=below)
                deltas[i - 1] = ops.xp.reshape(below, deltas[i - 1].shape)
    return loss, squares


def _device(a):
    return getattr(a, "device", None)


class BackpropWorkspace:
    """Preallocated per-fit buffers for mini-batch backprop.

    Holds the input batch (dense ``X``), each layer's activations, deltas
    (pre-activation width, see :func:`loss_and_gradients`) and a scratch buffer,
    at ``batch_size`` rows, in the weights' namespace and on their device;
    :meth:`batch` returns views for the rows of one batch, so a numpy fit
    allocates them once (other namespaces get new arrays from each operation,
    and these buffers are only their starting shapes). A hidden layer's output
    width is the next layer's ``fan_in``.
    """

    def __init__(self, batch_size, X, coefs, dropout=0.0):
        ops = self.ops = ops_of(coefs[0])
        dtype, device = coefs[0].dtype, _device(coefs[0])

        def empty(*shape):
            return ops.empty(shape, dtype, device)

        self.batch_size = batch_size
        pre_widths = [W.shape[1] for W in coefs]
        widths = [W.shape[0] for W in coefs[1:]] + pre_widths[-1:]
        self.x = None if not ops.dense(X) else empty(batch_size, X.shape[1])
        self.activations = [empty(batch_size, w) for w in widths]
        self.deltas = [empty(batch_size, w) for w in pre_widths]
        self.scratch = [empty(batch_size, w) for w in widths]
        self.grads = [empty(*W.shape) for W in coefs] + [empty(w) for w in pre_widths]
        self.dropout = dropout
        hidden = widths[:-1] if dropout else []
        self.masks = [empty(batch_size, w) for w in hidden]
        self.dropped = [empty(batch_size, w) for w in hidden]

    def batch(self, X, idx):
        """``(activations, deltas, scratch)`` for rows ``idx`` (an integer array
        of ``X``'s namespace) of ``X``."""
        n = idx.shape[0]
        A0 = self.ops.take(X, idx, out=None if self.x is None else self.x[:n, ...])
        return (
            [A0] + [a[:n, ...] for a in self.activations],
            [d[:n, ...] for d in self.deltas],
            [s[:n, ...] for s in self.scratch],
        )

    def draw_dropout(self, n, draws):
        """Fresh inverted-dropout masks for a batch of ``n`` rows, as
        ``(masks, dropped)`` for :func:`loss_and_gradients` (None without
        dropout): each unit is kept with probability ``1 - dropout``, and a kept
        unit's output is scaled by ``1 / (1 - dropout)``. ``draws`` is the fit's
        generator on the data's device (:func:`sk_dbn._rng.device_draws`)."""
        if not self.dropout:
            return None
        ops, keep = self.ops, 1.0 - self.dropout
        masks = []
        for m in self.masks:
            m = draws.uniform(m[:n, ...])
            m = ops.less(m, ops.scalar(keep, m), out=m)
            m *= ops.scalar(1.0 / keep, m)
            masks.append(m)
        return masks, [d[:n, ...] for d in self.dropped]


def iter_forward(X, coefs, intercepts, activations, chunk_size=2048):
    """Yield, per chunk of rows of ``X``, the list of every layer's output.

    ``activations[i]`` follows layer ``i``. Only one chunk is in memory at a time,
    so the memory used does not grow with ``n_samples``.
    """
    for start in range(0, X.shape[0], chunk_size):
        A = ops_of(coefs[0]).rows(X, start, start + chunk_size)
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
    ops = ops_of(coefs[0])
    width = coefs[-1].shape[1] // activations[-1].width_factor
    out = ops.empty((X.shape[0], width), coefs[0].dtype, _device(coefs[0]))
    start = 0
    for outputs in iter_forward(X, coefs, intercepts, activations, chunk_size):
        stop = start + outputs[-1].shape[0]
        out[start:stop, ...] = outputs[-1]
        start = stop
    return out
