"""The hand-written PyTorch epochs that ``benchmarks/bench_array_api.py`` times
sk_dbn against compute what they claim (a few rows; no timing)."""

import math

import pytest

torch = pytest.importorskip("torch")
ref = pytest.importorskip("benchmarks._torch_reference")


def test_manual_backward_matches_autograd():
    gen = ref.generator("cpu")
    net = ref.AdamNet((6, 5, 4, 3), gen, dtype=torch.float64)
    for b in net.intercepts:  # nonzero biases, so their gradients are tested
        b.copy_(torch.rand(b.shape, generator=gen, dtype=b.dtype))
    X = torch.rand(7, 6, generator=gen, dtype=torch.float64)
    Y = torch.eye(3, dtype=torch.float64)[torch.tensor([0, 1, 2, 2, 1, 0, 1])]
    alpha = 0.3
    loss, grads = ref.loss_and_gradients(net, X, Y, alpha)

    params = [p.clone().requires_grad_() for p in net.params]
    n_layers = len(net.coefs)
    A = X
    for i, (W, b) in enumerate(zip(params[:n_layers], params[n_layers:])):
        A = A @ W + b
        if i < n_layers - 1:
            A = torch.sigmoid(A)
    data_loss = torch.nn.functional.cross_entropy(A, Y.argmax(1))
    penalty = 0.5 * alpha * sum((W**2).sum() for W in params[:n_layers]) / X.shape[0]
    expected = torch.autograd.grad(data_loss + penalty, params)

    assert torch.allclose(loss, data_loss.detach())
    for got, want in zip(grads, expected):
        assert torch.allclose(got, want)


def test_adam_step_is_scikit_learns():
    gen = ref.generator("cpu")
    net = ref.AdamNet((4, 3), gen, dtype=torch.float64)
    p0 = [p.clone() for p in net.params]
    g = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in p0]
    ref.adam_step(net, g, learning_rate=0.1)
    ref.adam_step(net, g, learning_rate=0.1)
    for p, expected, grad in zip(net.params, p0, g):
        for t in (1, 2):  # the same gradient twice: closed-form moments
            m, v = (1 - 0.9**t) * grad, (1 - 0.999**t) * grad**2
            lr_t = 0.1 * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
            expected = expected - lr_t * m / (v.sqrt() + 1e-8)
        assert torch.allclose(p, expected)


def test_epochs_run_on_a_few_rows():
    gen = ref.generator("cpu")
    X = torch.rand(20, 6, generator=gen)
    rbm = ref.new_rbm(X, 4, gen)
    W0 = rbm[0].clone()
    W, b_hidden, b_visible, chain = ref.rbm_pcd1_epoch(rbm, X, 8, 0.05, gen)
    assert (W.shape, b_hidden.shape, b_visible.shape, chain.shape) == (
        (6, 4), (4,), (6,), (8, 4))
    assert all(torch.isfinite(t).all() for t in (W, b_hidden, b_visible))
    assert not torch.equal(W, W0)
    assert set(chain.unique().tolist()) <= {0.0, 1.0}

    net = ref.AdamNet((6, 5, 3), gen)
    Y = torch.eye(3)[torch.arange(20) % 3]
    losses = [float(ref.adam_epoch(net, X, Y, 8, gen)) for _ in range(3)]
    assert all(0 < v < 10 for v in losses)
    assert net.t == 9  # 3 batches (8, 8, 4 rows) an epoch
