"""The epochs of ``bench_array_api``, hand-written in plain PyTorch.

What a PyTorch user would write for the same two training loops sk_dbn runs:
tensors, matrix products and element-wise operations only, on whatever device
the data lives on; no autograd, no ``torch.optim``, no ``torch.nn``. Each epoch
shuffles with ``torch.randperm`` on the device, and nothing inside the batch
loop moves to the host (the epoch's loss stays a device tensor), so on a GPU the
loop only queues kernels.

- :func:`rbm_pcd1_epoch`: one RBM layer trained by PCD-1 with plain SGD, the
  update of ``StackedRBMTransformer(persistent=True, cd_k=1, momentum=0,
  weight_decay=0)``: the persistent chain holds hidden samples; each batch
  samples visibles from it, takes hidden means of the data and of those
  visibles, resamples the chain, and steps by ``lr`` times the CD gradient
  ``<v h>_data - <v h>_model`` averaged over the batch.
- :func:`adam_epoch`: Adam on a network of logistic hidden layers and a softmax
  output with cross-entropy and an L2 term ``alpha / n`` on the weights, the
  update of ``DBNClassifier(solver="adam")`` (scikit-learn's Adam).

Importing this module imports torch and nothing of sk_dbn or scikit-learn.
"""

import math

import torch


def generator(device, seed=0):
    """A seeded random generator on ``device`` (the global one is left alone)."""
    return torch.Generator(device=device).manual_seed(seed)


# --------------------------------------------------------------------------- RBM
def new_rbm(X, n_hidden, gen):
    """``(W, b_hidden, b_visible, chain)`` for an RBM on the rows of ``X``.

    ``W ~ N(0, 0.01^2)``, hidden biases 0, visible biases ``log(p / (1 - p))``
    of the data's mean activities (Hinton's guide, as sk_dbn); the chain starts
    at zeros, one row per row of a batch (grown by :func:`rbm_pcd1_epoch`).
    """
    dtype, device = X.dtype, X.device
    W = 0.01 * torch.randn(X.shape[1], n_hidden, generator=gen, dtype=dtype,
                           device=device)
    p = X.mean(0).clamp(1e-3, 1 - 1e-3)
    b_hidden = torch.zeros(n_hidden, dtype=dtype, device=device)
    chain = torch.zeros(0, n_hidden, dtype=dtype, device=device)
    return W, b_hidden, torch.log(p / (1 - p)), chain


def _bernoulli(p, gen):
    """States ``[u < p]`` with ``u ~ U[0, 1)``, in ``p``'s dtype."""
    u = torch.rand(p.shape, generator=gen, dtype=p.dtype, device=p.device)
    return (u < p).to(p.dtype)


def rbm_pcd1_epoch(rbm, X, batch_size, learning_rate, gen):
    """One epoch of PCD-1 with plain SGD over the rows of ``X``, in place.

    ``rbm`` is :func:`new_rbm`'s tuple; returns it with the chain advanced.
    """
    W, b_hidden, b_visible, chain = rbm
    if chain.shape[0] < batch_size:
        chain = torch.zeros(batch_size, W.shape[1], dtype=W.dtype, device=W.device)
    order = torch.randperm(X.shape[0], generator=gen, device=X.device)
    for start in range(0, X.shape[0], batch_size):
        V0 = X[order[start:start + batch_size]]
        n = V0.shape[0]
        Vk = _bernoulli(torch.sigmoid(torch.addmm(b_visible, chain[:n], W.T)), gen)
        H0 = torch.sigmoid(torch.addmm(b_hidden, V0, W))
        Hk = torch.sigmoid(torch.addmm(b_hidden, Vk, W))
        chain[:n] = _bernoulli(Hk, gen)
        step = learning_rate / n
        W.addmm_(V0.T, H0, alpha=step).addmm_(Vk.T, Hk, alpha=-step)
        b_hidden.add_(H0.sum(0) - Hk.sum(0), alpha=step)
        b_visible.add_(V0.sum(0) - Vk.sum(0), alpha=step)
    return W, b_hidden, b_visible, chain


# ------------------------------------------------------------------ fine-tuning
class AdamNet:
    """Weights, biases and Adam's moments of a fully connected network.

    Xavier-uniform weights (limit ``sqrt(6 / (fan_in + fan_out))``), zero biases;
    ``sizes`` from input to output, e.g. ``(784, 500, 500, 10)``.
    """

    def __init__(self, sizes, gen, dtype=torch.float32, device="cpu"):
        self.coefs, self.intercepts = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            u = torch.rand(fan_in, fan_out, generator=gen, dtype=dtype, device=device)
            self.coefs.append(u.mul_(2 * limit).sub_(limit))
            self.intercepts.append(torch.zeros(fan_out, dtype=dtype, device=device))
        self.params = self.coefs + self.intercepts
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0


def forward(net, X):
    """Every layer's output for the rows ``X``: logistic hidden layers, then
    the output layer's logits (last)."""
    outputs = [X]
    last = len(net.coefs) - 1
    for i, (W, b) in enumerate(zip(net.coefs, net.intercepts)):
        Z = torch.addmm(b, outputs[-1], W)
        outputs.append(Z if i == last else torch.sigmoid(Z))
    return outputs


def loss_and_gradients(net, X, Y, alpha):
    """Mean softmax cross-entropy of the rows ``X`` with one-hot targets ``Y``
    (a device scalar) and the gradients of that loss plus
    ``0.5 * alpha * sum ||W||^2 / n``, in :attr:`AdamNet.params`' order."""
    outputs = forward(net, X)
    n = X.shape[0]
    log_proba = torch.log_softmax(outputs[-1], dim=1)
    loss = -(Y * log_proba).sum() / n
    delta = (torch.exp(log_proba) - Y) / n  # d loss / d logits
    coef_grads, intercept_grads = [], []
    for i in range(len(net.coefs) - 1, -1, -1):
        W, A = net.coefs[i], outputs[i]
        coef_grads.append(torch.addmm(W, A.T, delta, beta=alpha / n))
        intercept_grads.append(delta.sum(0))
        if i > 0:  # back through the logistic layer below
            delta = (delta @ W.T).mul_(A * (1 - A))
    return loss, coef_grads[::-1] + intercept_grads[::-1]


def adam_step(net, grads, learning_rate=1e-3, beta_1=0.9, beta_2=0.999,
              epsilon=1e-8):
    """One Adam update of every parameter, scikit-learn's form:
    ``p -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``."""
    net.t += 1
    lr = learning_rate * math.sqrt(1 - beta_2**net.t) / (1 - beta_1**net.t)
    for p, g, m, v in zip(net.params, grads, net.m, net.v):
        m.mul_(beta_1).add_(g, alpha=1 - beta_1)
        v.mul_(beta_2).addcmul_(g, g, value=1 - beta_2)
        p.addcdiv_(m, v.sqrt().add_(epsilon), value=-lr)


def adam_epoch(net, X, Y, batch_size, gen, alpha=1e-4):
    """One shuffled epoch of Adam over the rows of ``X`` (targets ``Y`` one-hot,
    on the same device); returns the mean of the batches' losses as a device
    scalar (reading it is the caller's synchronisation)."""
    order = torch.randperm(X.shape[0], generator=gen, device=X.device)
    total = torch.zeros((), dtype=X.dtype, device=X.device)
    n_batches = 0
    for start in range(0, X.shape[0], batch_size):
        idx = order[start:start + batch_size]
        loss, grads = loss_and_gradients(net, X[idx], Y[idx], alpha)
        adam_step(net, grads)
        total += loss
        n_batches += 1
    return total / n_batches
