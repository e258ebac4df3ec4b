"""Tests of the network maths: activations, forward/backward pass, loss, optimizers."""

import numpy as np
import pytest
import scipy.sparse as sp
from _checks import numeric_gradient, relative_error
from scipy.special import xlogy

from sk_dbn._activations import (
    IDENTITY,
    LEAKY_SLOPE,
    as_activation,
    canonical,
    make_activation,
    piece,
)
from sk_dbn._network import (
    BackpropWorkspace,
    affine,
    check_widths,
    forward,
    forward_chunked,
    forward_layer,
    logits_to_log_proba,
    logits_to_proba,
    loss_and_gradients,
    output_function,
    output_loss_delta,
)
from sk_dbn._optimizers import SGD, Adam

ELEMENTWISE = {
    "logistic": make_activation("logistic"),
    "tanh": make_activation("tanh"),
    "relu": make_activation("relu"),
    "leaky_relu": make_activation("leaky_relu"),
    "vlrelu": make_activation("leaky_relu", negative_slope=1 / 3),
    "leaky_relu_0": make_activation("leaky_relu", negative_slope=0.0),
    "identity": make_activation("identity"),
}
"""Elementwise activations under test, by test id (VLReLU: Graham 2014's 1/3)."""

ACTIVATIONS = {
    **ELEMENTWISE,
    "maxout2": make_activation("maxout", maxout_pieces=2),
    "maxout3": make_activation("maxout", maxout_pieces=3),
}


# --------------------------------------------------------------------- references
def reference_activation(act, Z):
    """Textbook activations, written independently of the package.

    Maxout: ``Z`` has ``k * m`` columns, piece-major (column ``p * m + j`` is
    piece ``p`` of unit ``j``), and the result is the max over the pieces.
    """
    if act.name == "identity":
        return Z.copy()
    if act.name == "logistic":
        return 1.0 / (1.0 + np.exp(-Z))
    if act.name == "tanh":
        return np.tanh(Z)
    if act.name == "relu":
        return np.where(Z > 0, Z, 0.0)
    if act.name == "leaky_relu":
        return np.where(Z > 0, Z, act.negative_slope * Z)
    if act.name == "maxout":
        n, width = Z.shape
        return Z.reshape(n, act.pieces, width // act.pieces).max(axis=1)
    raise AssertionError(act)


def reference_forward(X, coefs, intercepts, activation):
    """Hidden outputs and logits, with plain numpy."""
    outputs = []
    A = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = A @ W + b
        A = Z if i == len(coefs) - 1 else reference_activation(activation, Z)
        outputs.append(A)
    return outputs


def reference_loss(X, y, coefs, intercepts, activation, alpha):
    """Mean cross-entropy (+ MLPClassifier's L2 term), from naive formulas."""
    logits = reference_forward(X, coefs, intercepts, activation)[-1]
    n = X.shape[0]
    if logits.shape[1] == 1:
        p1 = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        ce = -np.mean(y * np.log(p1) + (1 - y) * np.log(1 - p1))
    else:
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        ce = -np.mean(np.log(p[np.arange(n), y]))
    return ce + 0.5 * alpha * sum(np.sum(W**2) for W in coefs) / n


def make_network(layer_sizes, rng, scale=1.0, dtype=np.float64, activation=IDENTITY):
    """Random weights; hidden layers get ``width_factor`` pre-activations per unit."""
    k, last = activation.width_factor, len(layer_sizes) - 2
    widths = [b * (1 if i == last else k) for i, b in enumerate(layer_sizes[1:])]
    coefs = [
        (scale * rng.standard_normal((a, w)) / np.sqrt(a)).astype(dtype)
        for a, w in zip(layer_sizes[:-1], widths)
    ]
    intercepts = [(0.3 * rng.standard_normal(w)).astype(dtype) for w in widths]
    return coefs, intercepts


def buffers(n, coefs, dtype=np.float64):
    """Output buffers: a hidden layer's width is the next layer's fan_in."""
    widths = [W.shape[0] for W in coefs[1:]] + [coefs[-1].shape[1]]
    return [np.empty((n, w), dtype=dtype) for w in widths]


def pre_buffers(n, coefs, dtype=np.float64):
    """Delta buffers: each layer's pre-activation width."""
    return [np.empty((n, W.shape[1]), dtype=dtype) for W in coefs]


def kink_distance(act, Z):
    """How far the pre-activations ``Z`` are from a kink of ``act``: |z| for the
    rectifiers, the gap between a maxout unit's two largest pieces."""
    if act.name == "maxout":
        n, width = Z.shape
        top = np.sort(Z.reshape(n, act.pieces, width // act.pieces), axis=1)
        return (top[:, -1] - top[:, -2]).min()
    return np.abs(Z).min()


def min_kink_distance(X, coefs, intercepts, activation):
    """Smallest distance to a kink of any hidden unit on X."""
    smallest = np.inf
    A = X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        Z = A @ W + b
        smallest = min(smallest, kink_distance(activation, Z))
        A = reference_activation(activation, Z)
    return smallest


# -------------------------------------------------------------------- activations
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activations_match_textbook_formulas_in_place(name):
    act = ELEMENTWISE[name]
    rng = np.random.default_rng(0)
    Z = rng.normal(scale=3.0, size=(20, 7))
    expected = reference_activation(act, Z)
    buf = Z.copy()
    out = act.forward(buf)
    # in place: the pre-activation buffer is overwritten and returned
    assert out is buf
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivatives_match_numerical_derivative(name):
    act = ELEMENTWISE[name]
    rng = np.random.default_rng(1)
    Z = rng.normal(scale=2.0, size=(30, 6))
    Z[np.abs(Z) < 1e-2] = 0.5  # keep away from the (leaky) relu kink
    h = 1e-6
    numerical = (
        reference_activation(act, Z + h) - reference_activation(act, Z - h)
    ) / (2 * h)
    A = act.forward(Z.copy())
    delta = rng.normal(size=Z.shape)
    expected = delta * numerical
    out = act.derivative(A, delta)
    # written in terms of the output A, in place in delta
    assert out is delta
    np.testing.assert_allclose(out, expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_keep_float32(name):
    act = ACTIVATIONS[name]
    k = act.width_factor
    Z = np.linspace(-3, 3, 12 * k, dtype=np.float32).reshape(3, 4 * k)
    A = act.forward(Z.copy())
    assert A.dtype == np.float32 and A.shape == (3, 4)
    W_above = np.ones((4, 2), dtype=np.float32)
    out = act.backward(A, np.ones((3, 2), np.float32), W_above, Z.copy(),
                       np.empty_like(A))
    assert out.dtype == np.float32 and out.shape == Z.shape


def test_relu_derivative_is_zero_for_inactive_units():
    relu = make_activation("relu")
    A = relu.forward(np.array([[-2.0, 0.0, 3.0]]))
    delta = relu.derivative(A, np.array([[5.0, 5.0, 5.0]]))
    np.testing.assert_array_equal(delta, [[0.0, 0.0, 5.0]])


def test_leaky_relu_slope():
    vlrelu = make_activation("leaky_relu", negative_slope=1 / 3)
    A = vlrelu.forward(np.array([[-3.0, 0.0, 6.0]]))
    np.testing.assert_allclose(A, [[-1.0, 0.0, 6.0]], rtol=1e-15)
    delta = vlrelu.derivative(A, np.array([[3.0, 3.0, 3.0]]))
    np.testing.assert_allclose(delta, [[1.0, 1.0, 3.0]], rtol=1e-15)
    # slope 0 is the ReLU, derivative included (0 on the flat side, also at 0)
    zero = make_activation("leaky_relu", negative_slope=0.0)
    A = zero.forward(np.array([[-2.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(A, [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(zero.derivative(A, np.full((1, 3), 5.0)),
                                  [[0.0, 0.0, 5.0]])


def test_logistic_is_stable_for_extreme_inputs():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        A = make_activation("logistic").forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(A, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hidden_logistic_error_is_an_ulp_of_one_as_documented(dtype):
    """0.5 + 0.5 tanh(z / 2): absolute error within machine epsilon, not
    relative (small outputs lose digits and round to 0, as the module says)."""
    from scipy.special import expit

    z = np.linspace(-60, 60, 20001)
    A = make_activation("logistic").forward(z.astype(dtype))
    eps = np.finfo(dtype).eps
    assert np.abs(A - expit(z)).max() <= eps
    tail = make_activation("logistic").forward(np.array([-17.0], dtype=dtype))[0]
    if dtype == np.float32:  # the documented example
        assert tail == pytest.approx(5.96e-8, rel=1e-2)
        assert expit(-17.0) == pytest.approx(4.14e-8, rel=1e-2)
    assert make_activation("logistic").forward(np.array([-40.0], dtype=dtype))[0] == 0
    # and the module says so, instead of promising the last bits
    import sk_dbn._activations as activations

    assert "last bits" not in activations.__doc__
    assert "5.96e-8" in activations.__doc__ and "4.14e-8" in activations.__doc__


def test_leaky_relu_forward_makes_no_temporary_the_size_of_its_input():
    import tracemalloc

    Z = np.random.default_rng(0).normal(size=(1000, 1000))  # 8 MB
    expected = np.where(Z > 0, Z, 0.2 * Z)
    leaky = make_activation("leaky_relu", negative_slope=0.2)
    tracemalloc.start()
    try:
        out = leaky.forward(Z)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out is Z
    np.testing.assert_array_equal(Z, expected)
    assert peak < Z.nbytes / 8  # one cache-sized scratch, not a copy of Z


def test_sigmoid_alias():
    assert canonical("sigmoid") == "logistic"
    assert canonical("tanh") == "tanh"
    assert make_activation("sigmoid") == make_activation("logistic")


def test_activation_objects():
    # immutable values: equal parameters, equal objects; parameters travel along
    assert make_activation("leaky_relu", 1 / 3) == make_activation("leaky_relu", 1 / 3)
    assert make_activation("leaky_relu", 1 / 3) != make_activation("leaky_relu")
    assert make_activation("leaky_relu").negative_slope == LEAKY_SLOPE
    maxout = make_activation("maxout", maxout_pieces=4)
    assert (maxout.name, maxout.pieces, maxout.width_factor) == ("maxout", 4, 4)
    tanh = make_activation("tanh", negative_slope=0.5, maxout_pieces=9)
    assert tanh == make_activation("tanh") and tanh.width_factor == 1
    assert as_activation(maxout) is maxout
    assert as_activation("maxout", maxout_pieces=3).pieces == 3
    with pytest.raises(AttributeError):
        maxout.pieces = 2
    with pytest.raises(ValueError, match="Unknown activation 'softplus'"):
        make_activation("softplus")
    for bad in (-0.1, 1.0, 2, "0.1", None, True):
        with pytest.raises(ValueError, match="negative_slope must be"):
            make_activation("leaky_relu", negative_slope=bad)
    for bad in (1, 0, 2.0, "2", True):
        with pytest.raises(ValueError, match="maxout_pieces must be"):
            make_activation("maxout", maxout_pieces=bad)


# ------------------------------------------------------------------------- maxout
def test_maxout_piece_layout():
    # column p * m + j is piece p of unit j: unit j's output is the max of
    # Z[:, j], Z[:, m + j], Z[:, 2m + j]
    maxout = make_activation("maxout", maxout_pieces=3)
    m = 4
    Z = np.zeros((2, 3 * m))
    Z[0, 0 * m + 1] = 5.0   # piece 0 of unit 1
    Z[0, 2 * m + 3] = 7.0   # piece 2 of unit 3
    Z[1, 1 * m + 0] = -1.0  # piece 1 of unit 0 (not the max: the others are 0)
    Z[1, :m] = -2.0         # row 1: piece 0 of every unit below 0
    A = maxout.forward(Z)
    np.testing.assert_array_equal(A, [[0, 5, 0, 7], [0, 0, 0, 0]])
    np.testing.assert_array_equal(piece(Z, 2, 3), Z[:, 2 * m : 3 * m])
    out = np.full((2, m), np.nan)
    assert maxout.forward(Z, out=out) is out
    with pytest.raises(ValueError, match="multiple of 3"):
        maxout.forward(np.zeros((2, 7)))


def test_maxout_backward_routes_to_the_winning_piece():
    maxout = make_activation("maxout", maxout_pieces=2)
    Z = np.array([[1.0, 1.5, 2.0, 0.5],      # unit 0: piece 1 wins, unit 1: piece 0
                  [3.0, 3.0, 3.0, 3.0]])     # ties: piece 0 takes it all
    A = maxout.forward(Z)
    W_above = np.eye(2)                      # the gradient w.r.t. A is delta_above
    delta_above = np.array([[10.0, 20.0], [30.0, 40.0]])
    out = maxout.backward(A, delta_above, W_above, Z.copy(), np.empty_like(A))
    np.testing.assert_array_equal(out, [[0.0, 20.0, 10.0, 0.0],
                                        [30.0, 40.0, 0.0, 0.0]])
    # each unit's gradient arrives once: the sum over pieces is the upstream one
    np.testing.assert_array_equal(out[:, :2] + out[:, 2:], delta_above)


# ------------------------------------------------------------------ forward pass
def test_affine_dense_sparse_and_out():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(9, 5))
    A[A < 0.3] = 0
    W, b = rng.normal(size=(5, 4)), rng.normal(size=4)
    expected = A @ W + b
    np.testing.assert_allclose(affine(A, W, b), expected, rtol=1e-12)
    out = np.empty((9, 4))
    res = affine(A, W, b, out=out)
    assert res is out
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    res_sparse = affine(sp.csr_matrix(A), W, b)
    assert isinstance(res_sparse, np.ndarray)
    np.testing.assert_allclose(res_sparse, expected, rtol=1e-12)
    out2 = np.empty((9, 4))
    affine(sp.csr_matrix(A), W, b, out=out2)
    np.testing.assert_allclose(out2, expected, rtol=1e-12)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_layer_and_forward_match_reference(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(3)
    X = rng.normal(size=(11, 6))
    coefs, intercepts = make_network([6, 5, 4, 3], rng, activation=act)
    np.testing.assert_allclose(
        forward_layer(X, coefs[0], intercepts[0], act),
        reference_activation(act, X @ coefs[0] + intercepts[0]),
        rtol=1e-12, atol=1e-15,
    )
    acts = [X, *buffers(11, coefs)]
    pre = pre_buffers(11, coefs)
    logits = forward(acts, coefs, intercepts, act, pre=pre)
    expected = reference_forward(X, coefs, intercepts, act)
    assert logits is acts[-1]
    for got, want in zip(acts[1:], expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    if act.width_factor > 1:  # maxout keeps the pre-activations in ``pre``
        np.testing.assert_allclose(pre[0], X @ coefs[0] + intercepts[0], rtol=1e-12)


@pytest.mark.parametrize("chunk_size", [1, 7, 50, 2048])
def test_forward_chunked_matches_unchunked(chunk_size):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 6))
    tanh = ELEMENTWISE["tanh"]
    coefs, intercepts = make_network([6, 5, 4, 3], rng)
    expected = reference_forward(X, coefs, intercepts, tanh)[-1]
    got = forward_chunked(X, coefs, intercepts, [tanh, tanh, IDENTITY],
                          chunk_size=chunk_size)
    assert got.shape == (50, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    # per-layer activations are honoured (a different one for each layer)
    relu, logistic = ELEMENTWISE["relu"], ELEMENTWISE["logistic"]
    mixed = forward_chunked(X, coefs, intercepts, [relu, logistic, IDENTITY],
                            chunk_size=chunk_size)
    H = reference_activation(relu, X @ coefs[0] + intercepts[0])
    H = reference_activation(logistic, H @ coefs[1] + intercepts[1])
    np.testing.assert_allclose(mixed, H @ coefs[2] + intercepts[2], rtol=1e-12)
    # a maxout top layer: the output has one column per unit, not per piece
    maxout = ACTIVATIONS["maxout3"]
    top = forward_chunked(X, [coefs[0][:, :3]], [intercepts[0][:3]], [maxout],
                          chunk_size=chunk_size)
    np.testing.assert_allclose(
        top, reference_activation(maxout, X @ coefs[0][:, :3] + intercepts[0][:3]),
        rtol=1e-12)


def test_forward_chunked_sparse_and_float32():
    rng = np.random.default_rng(5)
    X = rng.random((40, 8))
    X[X < 0.6] = 0
    coefs, intercepts = make_network([8, 5, 2], rng)
    acts = [ELEMENTWISE["logistic"], IDENTITY]
    dense = forward_chunked(X, coefs, intercepts, acts, chunk_size=16)
    sparse = forward_chunked(sp.csr_matrix(X), coefs, intercepts, acts, chunk_size=16)
    np.testing.assert_allclose(sparse, dense, rtol=1e-12)
    c32 = [W.astype(np.float32) for W in coefs]
    i32 = [b.astype(np.float32) for b in intercepts]
    out32 = forward_chunked(X.astype(np.float32), c32, i32, acts, chunk_size=16)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, dense, rtol=1e-4, atol=1e-5)
    # the input is never modified
    X_before = X.copy()
    forward_chunked(X, coefs, intercepts, acts)
    np.testing.assert_array_equal(X, X_before)


def test_check_widths():
    rng = np.random.default_rng(6)
    maxout = make_activation("maxout", maxout_pieces=3)
    coefs, _ = make_network([5, 4, 3, 2], rng, activation=maxout)
    assert [W.shape for W in coefs] == [(5, 12), (4, 9), (3, 2)]
    check_widths(coefs, maxout)
    with pytest.raises(ValueError, match="Hidden layer 1 has 12 pre-activations"):
        check_widths(coefs, make_activation("maxout", maxout_pieces=2))
    with pytest.raises(ValueError, match="maxout_pieces"):
        check_widths(coefs, ELEMENTWISE["relu"])
    check_widths(make_network([5, 4, 2], rng)[0], ELEMENTWISE["relu"])


def test_workspace_shapes_for_maxout():
    rng = np.random.default_rng(7)
    maxout = make_activation("maxout", maxout_pieces=2)
    coefs, _ = make_network([5, 4, 3, 2], rng, activation=maxout)
    X = rng.normal(size=(30, 5))
    ws = BackpropWorkspace(8, X, coefs)
    acts, deltas, scratch = ws.batch(X, np.arange(6))
    assert [a.shape for a in acts] == [(6, 5), (6, 4), (6, 3), (6, 2)]
    assert [d.shape for d in deltas] == [(6, 8), (6, 6), (6, 2)]
    assert [s.shape for s in scratch] == [(6, 4), (6, 3), (6, 2)]
    assert [g.shape for g in ws.grads] == [(5, 8), (4, 6), (3, 2), (8,), (6,), (2,)]


# ------------------------------------------------------------- output and loss
def test_logits_to_proba_and_log_proba_multiclass():
    rng = np.random.default_rng(6)
    logits = rng.normal(scale=4, size=(10, 4))
    proba = logits_to_proba(logits)
    e = np.exp(logits)
    np.testing.assert_allclose(proba, e / e.sum(1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(logits_to_log_proba(logits), np.log(proba), rtol=1e-10)


def test_logits_to_proba_and_log_proba_binary():
    z = np.array([[-3.0], [0.0], [2.5]])
    proba = logits_to_proba(z)
    assert proba.shape == (3, 2)
    p1 = 1 / (1 + np.exp(-z[:, 0]))
    np.testing.assert_allclose(proba[:, 1], p1, rtol=1e-12)
    np.testing.assert_allclose(proba[:, 0], 1 - p1, rtol=1e-12)
    np.testing.assert_allclose(logits_to_log_proba(z), np.log(proba), rtol=1e-10)


@pytest.mark.parametrize("n_out", [1, 3])
def test_log_proba_is_finite_for_extreme_logits(n_out):
    if n_out == 1:
        logits = np.array([[800.0], [-800.0]])
    else:
        logits = np.array([[-800.0, 800.0, -800.0], [800.0, -800.0, -800.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        log_proba = logits_to_log_proba(logits)
    assert np.all(np.isfinite(log_proba))
    assert np.all(log_proba <= 0)
    # the certain class has log probability 0, the impossible one a huge negative
    np.testing.assert_allclose(log_proba.max(axis=1), 0.0, atol=1e-12)
    assert log_proba.min() < -500


@pytest.mark.parametrize("n_out", [1, 4])
def test_output_loss_delta(n_out):
    rng = np.random.default_rng(7)
    n = 12
    logits = rng.normal(scale=2, size=(n, n_out))
    n_classes = 2 if n_out == 1 else n_out
    y = np.arange(n) % n_classes
    delta = np.empty_like(logits)
    loss, _ = output_loss_delta(logits, y, delta)
    proba = logits_to_proba(logits)
    onehot = np.eye(n_classes)[y]
    np.testing.assert_allclose(loss, -np.mean(np.log(proba[np.arange(n), y])),
                               rtol=1e-12)
    expected = (proba - onehot)[:, 1:] if n_out == 1 else proba - onehot
    np.testing.assert_allclose(delta, expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("n_out", [1, 3])
def test_output_loss_is_finite_for_confident_wrong_logits(n_out):
    logits = np.full((2, n_out), -1000.0)
    logits[:, -1] = 1000.0
    y = np.zeros(2, dtype=np.intp)  # always the class with logit -1000
    delta = np.empty_like(logits)
    with np.errstate(over="raise", invalid="raise"):
        loss, _ = output_loss_delta(logits, y, delta)
    np.testing.assert_allclose(loss, 2000.0 if n_out > 1 else 1000.0, rtol=1e-12)
    assert np.all(np.isfinite(delta))


# ----------------------------------------------------------- gradient checking
def _all_params(coefs, intercepts):
    return coefs + intercepts


def _gradient_check_setup(activation, n_out, seed):
    """A 2-hidden-layer float64 network with no hidden unit near a kink."""
    n, sizes = 9, [5, 6, 4, n_out]
    n_classes = 2 if n_out == 1 else n_out
    for s in range(seed, seed + 200):
        rng = np.random.default_rng(s)
        X = rng.normal(size=(n, sizes[0]))
        y = rng.permutation(np.arange(n) % n_classes)
        coefs, intercepts = make_network(sizes, rng, scale=1.2, activation=activation)
        if min_kink_distance(X, coefs, intercepts, activation) > 1e-3:
            return X, y, coefs, intercepts
    raise AssertionError("no kink-free network found")  # pragma: no cover


def _grads(X, y, coefs, intercepts, activation, alpha, dtype=np.float64, *,
           output=None, sample_weight=None):
    """``(loss, coef_grads + intercept_grads, activations)`` of one batch (its
    rows weighted by ``sample_weight``; ``output`` as for ``loss_and_gradients``)."""
    n = X.shape[0]
    cg = [np.empty_like(W) for W in coefs]
    ig = [np.empty_like(b) for b in intercepts]
    acts = [X, *buffers(n, coefs, dtype)]
    loss, _ = loss_and_gradients(acts, y, coefs, intercepts, activation, alpha,
                              pre_buffers(n, coefs, dtype), cg, ig,
                              buffers(n, coefs, dtype), output=output,
                              sample_weight=sample_weight)
    return loss, cg + ig, acts


@pytest.mark.parametrize("n_out", [1, 3], ids=["binary", "multiclass"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_loss_and_gradients_finite_differences(name, n_out):
    activation = ACTIVATIONS[name]
    alpha = 0.3
    X, y, coefs, intercepts = _gradient_check_setup(activation, n_out, seed=10)
    loss, grads, acts = _grads(X, y, coefs, intercepts, activation, alpha)

    # the loss itself is the textbook one (cross-entropy + MLPClassifier's L2 term)
    np.testing.assert_allclose(
        loss, reference_loss(X, y, coefs, intercepts, activation, alpha), rtol=1e-12
    )
    # the forward pass left the activations in the buffers
    np.testing.assert_allclose(
        acts[-1], reference_forward(X, coefs, intercepts, activation)[-1], rtol=1e-12
    )

    analytic = np.concatenate([g.ravel() for g in grads])
    numeric = numeric_gradient(
        lambda: reference_loss(X, y, coefs, intercepts, activation, alpha),
        _all_params(coefs, intercepts))
    rel = relative_error(numeric, analytic)
    assert np.linalg.norm(analytic) > 1e-3  # a non-trivial gradient
    assert rel < 1e-6, rel
    if activation.width_factor > 1:
        # every maxout piece that wins somewhere learns: no piece is left out
        for W_grad in grads[:2]:
            for p in range(activation.pieces):
                assert np.abs(piece(W_grad, p, activation.pieces)).max() > 0


def test_l2_term_gradient_scales_with_alpha():
    """The gradients with and without alpha differ by exactly alpha * W / n."""
    tanh = ELEMENTWISE["tanh"]
    X, y, coefs, intercepts = _gradient_check_setup(tanh, 3, seed=0)
    n = X.shape[0]
    loss0, g0, _ = _grads(X, y, coefs, intercepts, tanh, 0.0)
    loss1, g1, _ = _grads(X, y, coefs, intercepts, tanh, 2.0)
    penalty = sum(np.sum(W**2) for W in coefs) / n
    np.testing.assert_allclose(loss1 - loss0, penalty, rtol=1e-10)
    L = len(coefs)
    for W, a, b in zip(coefs, g0[:L], g1[:L]):
        np.testing.assert_allclose(b - a, 2.0 * W / n, rtol=1e-9, atol=1e-14)
    for a, b in zip(g0[L:], g1[L:]):  # biases are not penalised
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["logistic", "maxout3"])
def test_loss_and_gradients_sparse_input_matches_dense(name):
    act = ACTIVATIONS[name]
    X, y, coefs, intercepts = _gradient_check_setup(act, 3, seed=0)
    X = np.where(X > 0.2, X, 0.0)
    l_d, g_d, _ = _grads(X, y, coefs, intercepts, act, 0.1)
    l_s, g_s, _ = _grads(sp.csr_matrix(X), y, coefs, intercepts, act, 0.1)
    np.testing.assert_allclose(l_s, l_d, rtol=1e-12)
    for a, b in zip(g_d, g_s):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["tanh", "vlrelu", "maxout2"])
def test_loss_and_gradients_float32_close_to_float64(name):
    act = ACTIVATIONS[name]
    X, y, coefs, intercepts = _gradient_check_setup(act, 3, seed=0)
    out = {}
    for dtype in (np.float64, np.float32):
        c = [W.astype(dtype) for W in coefs]
        b = [v.astype(dtype) for v in intercepts]
        loss, grads, _ = _grads(X.astype(dtype), y, c, b, act, 0.1, dtype)
        out[dtype] = (loss, grads)
    assert all(g.dtype == np.float32 for g in out[np.float32][1])
    np.testing.assert_allclose(out[np.float32][0], out[np.float64][0], rtol=1e-5)
    for g32, g64 in zip(out[np.float32][1], out[np.float64][1]):
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)


# ------------------------------------------------------------------- optimizers
def reference_sgd(params, grads_seq, lr, momentum, nesterov):
    """scikit-learn's SGDOptimizer update rule, written out plainly."""
    params = [p.copy() for p in params]
    velocities = [np.zeros_like(p) for p in params]
    for grads in grads_seq:
        updates = [momentum * v - lr * g for v, g in zip(velocities, grads)]
        velocities = updates
        if nesterov:
            updates = [momentum * v - lr * g for v, g in zip(velocities, grads)]
        params = [p + u for p, u in zip(params, updates)]
    return params


def reference_adam(params, grads_seq, lr, beta_1, beta_2, epsilon):
    """Kingma & Ba (2015), Algorithm 1 (efficient form), written out plainly."""
    params = [p.copy() for p in params]
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    for t, grads in enumerate(grads_seq, start=1):
        ms = [beta_1 * m + (1 - beta_1) * g for m, g in zip(ms, grads)]
        vs = [beta_2 * v + (1 - beta_2) * g**2 for v, g in zip(vs, grads)]
        lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        params = [p - lr_t * m / (np.sqrt(v) + epsilon)
                  for p, m, v in zip(params, ms, vs)]
    return params, ms, vs


def _params_and_grads(rng, n_steps, dtype=np.float64, large=False):
    shapes = [(4, 3), (3,)] + ([(257, 769)] if large else [])
    params = [rng.normal(size=shape).astype(dtype) for shape in shapes]
    grads_seq = [
        [rng.normal(size=p.shape).astype(dtype) for p in params] for _ in range(n_steps)
    ]
    return params, grads_seq


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_reference(momentum, nesterov):
    rng = np.random.default_rng(20)
    # a large array too, in case updates are done in pieces
    params, grads_seq = _params_and_grads(rng, n_steps=5, large=True)
    expected = reference_sgd(params, grads_seq, 0.1, momentum, nesterov)
    opt = SGD(params, None, learning_rate=0.1, momentum=momentum, nesterov=nesterov)
    ids = [id(p) for p in params]
    for grads in grads_seq:
        opt.update(params, grads)
    assert [id(p) for p in params] == ids  # updated in place
    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_sgd_nesterov_differs_from_classical():
    rng = np.random.default_rng(21)
    params, grads_seq = _params_and_grads(rng, n_steps=3)
    a = reference_sgd(params, grads_seq, 0.1, 0.9, nesterov=True)
    b = reference_sgd(params, grads_seq, 0.1, 0.9, nesterov=False)
    assert not np.allclose(a[0], b[0])  # the test above really tells them apart


def test_adam_matches_reference():
    rng = np.random.default_rng(22)
    params, grads_seq = _params_and_grads(rng, n_steps=6, large=True)
    kwargs = dict(beta_1=0.8, beta_2=0.95, epsilon=1e-6)
    expected, ms, vs = reference_adam(params, grads_seq, 0.01, **kwargs)
    opt = Adam(params, None, 0.01, **kwargs)
    for grads in grads_seq:
        opt.update(params, grads)
    assert opt.state["t"] == 6
    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # the moments are scikit-learn's, kept divided by (1 - beta)
    m, v = opt.moments()
    for got, want in zip(m + v, ms + vs):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert (opt.state["m_scale"], opt.state["v_scale"]) == (1 - 0.8, 1 - 0.95)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_matches_scikit_learns_optimizer_bit_for_bit(nesterov, dtype):
    from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

    rng = np.random.default_rng(27)
    params, grads_seq = _params_and_grads(rng, n_steps=4, dtype=dtype, large=True)
    ref = [p.copy() for p in params]
    theirs = SGDOptimizer(ref, learning_rate_init=0.01, momentum=0.9,
                          nesterov=nesterov)
    ours = SGD(params, None, 0.01, momentum=0.9, nesterov=nesterov)
    for grads in grads_seq:
        theirs.update_params(ref, [g.copy() for g in grads])
        ours.update(params, grads)
    for a, b in zip(params, ref):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_matches_scikit_learns_optimizer(dtype):
    """To rounding: the moments are kept divided by (1 - beta), two passes less
    per step. (scikit-learn's float32 step is float64 arithmetic: its step size
    is a numpy float64; sk_dbn keeps float32 in float32.)"""
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

    rng = np.random.default_rng(26)
    params, grads_seq = _params_and_grads(rng, n_steps=4, dtype=dtype, large=True)
    ref = [p.copy() for p in params]
    theirs = AdamOptimizer(ref, learning_rate_init=0.01)
    ours = Adam(params, None, 0.01)
    for grads in grads_seq:
        theirs.update_params(ref, [g.copy() for g in grads])
        ours.update(params, grads)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(
        rtol=1e-5, atol=1e-6)
    for a, b in zip(params, ref):
        np.testing.assert_allclose(a, b, **tol)
    for a, b in zip(ours.moments()[0] + ours.moments()[1], theirs.ms + theirs.vs):
        np.testing.assert_allclose(a, b, **tol)


def test_adam_state_of_other_betas_is_rescaled():
    """Moments kept under other betas (set_params between partial_fit calls)
    are brought to the new scale: the moments themselves carry on."""
    rng = np.random.default_rng(25)
    params, grads_seq = _params_and_grads(rng, n_steps=1)
    opt = Adam(params, None, 0.01, beta_1=0.9, beta_2=0.999)
    opt.update(params, grads_seq[0])
    before = opt.moments()
    again = Adam(params, opt.state, 0.01, beta_1=0.5, beta_2=0.99)
    assert (again.state["m_scale"], again.state["v_scale"]) == (0.5, 1 - 0.99)
    for a, b in zip(again.moments()[0] + again.moments()[1], before[0] + before[1]):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_adam_state_without_scales_holds_the_moments_themselves():
    """A state saved before the moments were kept divided (no ``m_scale``)
    holds scikit-learn's moments: they are divided on load, not misread."""
    rng = np.random.default_rng(24)
    params, grads_seq = _params_and_grads(rng, n_steps=1)
    opt = Adam(params, None, 0.01)
    opt.update(params, grads_seq[0])
    m, v = opt.moments()
    old = {"t": opt.state["t"], "m": [a.copy() for a in m], "v": [a.copy() for a in v]}
    loaded = Adam(params, old, 0.01)
    for a, b in zip(loaded.moments()[0] + loaded.moments()[1], m + v):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_adam_first_step_moves_every_parameter_by_learning_rate():
    # with bias correction, the first Adam step is lr * sign(g) (up to epsilon)
    params = [np.zeros((2, 2)), np.zeros(3)]
    grads = [np.array([[3.0, -0.2], [1e-3, -50.0]]), np.array([1.0, -1.0, 2.0])]
    Adam(params, None, 0.05, epsilon=1e-12).update(params, grads)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p, -0.05 * np.sign(g), rtol=1e-6)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_optimizer_state_resumes_exactly(kind):
    """A new optimizer built on the saved state continues the same trajectory."""
    rng = np.random.default_rng(23)
    params, grads_seq = _params_and_grads(rng, n_steps=6)

    def make(p, state):
        if kind == "sgd":
            return SGD(p, state, 0.05, momentum=0.9, nesterov=True)
        return Adam(p, state, 0.05)

    straight = [p.copy() for p in params]
    opt = make(straight, None)
    for grads in grads_seq:
        opt.update(straight, grads)

    resumed = [p.copy() for p in params]
    opt = make(resumed, None)
    for grads in grads_seq[:3]:
        opt.update(resumed, grads)
    state = opt.state
    # as after loading with joblib mmap_mode="r": read-only state arrays
    originals = [a for v in state.values() if isinstance(v, list) for a in v]
    for a in originals:
        a.flags.writeable = False
    frozen = [a.copy() for a in originals]
    opt = make(resumed, state)
    for grads in grads_seq[3:]:
        opt.update(resumed, grads)
    for got, want in zip(resumed, straight):
        np.testing.assert_array_equal(got, want)
    # the read-only originals were copied, not written to
    for a, b in zip(originals, frozen):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_optimizers_keep_float32(kind):
    rng = np.random.default_rng(24)
    params, grads_seq = _params_and_grads(rng, n_steps=3, dtype=np.float32)
    ref = [p.astype(np.float64) for p in params]
    g64 = [[g.astype(np.float64) for g in gs] for gs in grads_seq]
    if kind == "sgd":
        opt = SGD(params, None, 0.1, momentum=0.9, nesterov=False)
        expected = reference_sgd(ref, g64, 0.1, 0.9, nesterov=False)
    else:
        opt = Adam(params, None, 0.1)
        expected = reference_adam(ref, g64, 0.1, 0.9, 0.999, 1e-8)[0]
    for grads in grads_seq:
        opt.update(params, grads)
    for p, e in zip(params, expected):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, e, rtol=1e-5, atol=1e-6)
    state_arrays = opt.state["velocity"] if kind == "sgd" else opt.state["m"]
    assert all(a.dtype == np.float32 for a in state_arrays)


# ------------------------- regression, multilabel and softmax outputs, weighted
# The outputs DBNRegressor (identity: squared error; exp: Poisson) and a
# multilabel DBNClassifier (logistic: one binary cross-entropy per label) use, and
# softmax, each with non-uniform sample weights (one of them 0) and alpha > 0.
# The reference is scikit-learn's own loss functions: our objective is exactly
# MLP's, except that the squared error is summed over the outputs (its gradient
# is MLPRegressor's; MLPRegressor *reports* the mean, see test_regressor.py).
OUTPUTS = {  # output -> number of output units
    "identity": 3,
    "exp": 2,
    "logistic": 3,
    "softmax": 4,
}


def reference_output(output, Z):
    """The output link, written independently of the package."""
    if output == "identity":
        return Z.copy()
    if output == "exp":
        return np.exp(Z)
    if output == "logistic":
        return 1.0 / (1.0 + np.exp(-Z))
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _targets(output, n, n_out, rng):
    """Targets in the form the loss takes: real values, counts (zeros among
    them), a 0/1 indicator matrix, or class indices."""
    if output == "identity":
        return rng.normal(size=(n, n_out))
    if output == "exp":
        Y = rng.poisson(1.5, size=(n, n_out)).astype(float)
        Y[0, 0] = 0.0  # xlogy(0, 0) = 0
        return Y
    if output == "logistic":
        Y = (rng.random((n, n_out)) < 0.5).astype(float)
        Y[0], Y[1] = 0.0, 1.0  # an all-zero and an all-one row
        return Y
    return rng.permutation(np.arange(n) % n_out)


def _weights(n, rng):
    """Non-uniform, summing to far from n, with one zero."""
    w = rng.uniform(0.2, 4.0, size=n)
    w[2] = 0.0
    return w


def reference_weighted_loss(output, X, Y, w, coefs, intercepts, activation, alpha):
    """scikit-learn's LOSS_FUNCTIONS with sample weights, plus
    ``0.5 * alpha * ||W||^2 / sum(w)``; the squared error summed over outputs."""
    from sklearn.neural_network._base import LOSS_FUNCTIONS

    Z = reference_forward(X, coefs, intercepts, activation)[-1]
    P = reference_output(output, Z)
    if output == "identity":
        data = Z.shape[1] * LOSS_FUNCTIONS["squared_error"](Y, P, w)
    elif output == "exp":
        data = LOSS_FUNCTIONS["poisson"](Y, P, w)
    elif output == "logistic":
        data = LOSS_FUNCTIONS["binary_log_loss"](Y, P, w)
    else:
        data = LOSS_FUNCTIONS["log_loss"](np.eye(Z.shape[1])[Y], P, w)
    total = X.shape[0] if w is None else w.sum()
    return data + 0.5 * alpha * sum(np.sum(W**2) for W in coefs) / total


def _output_check_setup(activation, output, seed=30, n=10):
    """A 2-hidden-layer float64 network, targets and weights, no unit near a kink."""
    n_out = OUTPUTS[output]
    sizes = [5, 6, 4, n_out]
    for s in range(seed, seed + 200):
        rng = np.random.default_rng(s)
        X = rng.normal(size=(n, sizes[0]))
        # small output weights: exp(z) stays moderate for the Poisson loss
        coefs, intercepts = make_network(sizes, rng, scale=1.2, activation=activation)
        coefs[-1] *= 0.5
        if min_kink_distance(X, coefs, intercepts, activation) > 1e-3:
            return X, _targets(output, n, n_out, rng), _weights(n, rng), coefs, \
                intercepts
    raise AssertionError("no kink-free network found")  # pragma: no cover


@pytest.mark.parametrize("name", ["tanh", "relu"])
@pytest.mark.parametrize("output", OUTPUTS)
def test_weighted_output_losses_finite_differences(output, name):
    activation = ACTIVATIONS[name]
    alpha = 0.7
    X, Y, w, coefs, intercepts = _output_check_setup(activation, output)

    def objective():
        return reference_weighted_loss(output, X, Y, w, coefs, intercepts,
                                       activation, alpha)

    loss, grads, acts = _grads(X, Y, coefs, intercepts, activation, alpha,
                               output=output, sample_weight=w)
    # the objective is scikit-learn's weighted loss, L2 term over sum(w)
    np.testing.assert_allclose(loss, objective(), rtol=1e-12)
    analytic = np.concatenate([g.ravel() for g in grads])
    rel = relative_error(numeric_gradient(objective, coefs + intercepts), analytic)
    assert np.linalg.norm(analytic) > 1e-3
    assert rel < 1e-6, rel


@pytest.mark.parametrize("output", OUTPUTS)
def test_output_loss_delta_is_prediction_minus_target(output):
    """``delta`` is the unweighted ``link(z) - y`` (the canonical-link gradient of
    each row's loss); the returned loss is the weighted mean of the rows'."""
    rng = np.random.default_rng(31)
    n, n_out = 9, OUTPUTS[output]
    Z = rng.normal(size=(n, n_out))
    Y, w = _targets(output, n, n_out, rng), _weights(n, rng)
    onehot = np.eye(n_out)[Y] if output == "softmax" else Y
    P = reference_output(output, Z)
    np.testing.assert_allclose(output_function(output)(Z.copy()), P, rtol=1e-12)
    delta = np.empty_like(Z)
    loss, _ = output_loss_delta(Z, Y, delta, sample_weight=w, output=output)
    np.testing.assert_allclose(delta, P - onehot, rtol=1e-10, atol=1e-14)
    # per-row losses from textbook formulas, summed over the outputs
    if output == "identity":
        rows = 0.5 * ((Z - Y) ** 2).sum(axis=1)
    elif output == "exp":
        rows = (np.exp(Z) - Y * Z + xlogy(Y, Y) - Y).sum(axis=1)
    elif output == "logistic":
        rows = -(Y * np.log(P) + (1 - Y) * np.log(1 - P)).sum(axis=1)
    else:
        rows = -np.log(P[np.arange(n), Y])
    np.testing.assert_allclose(loss, np.dot(w, rows) / w.sum(), rtol=1e-12)
    unweighted, _ = output_loss_delta(Z, Y, np.empty_like(Z), output=output)
    np.testing.assert_allclose(unweighted, rows.mean(), rtol=1e-12)


@pytest.mark.parametrize("output", OUTPUTS)
def test_sample_weights_are_normalised_and_count_rows(output):
    """The data term is a weighted mean (scaling all weights changes nothing) and
    the L2 term is divided by the sum of the weights; so a weight of 0 is a
    dropped row and an integer weight the row repeated (for one batch)."""
    tanh = ACTIVATIONS["tanh"]
    X, Y, w, coefs, intercepts = _output_check_setup(tanh, output)
    w = np.round(w)  # integers, w[2] == 0
    assert w[2] == 0 and set(w) > {0.0, 1.0}

    def run(alpha, weights=w, rows=slice(None)):
        return _grads(X[rows], Y[rows], coefs, intercepts, tanh, alpha,
                      output=output, sample_weight=weights)[:2]

    loss0, grads0 = run(0.0)
    loss_s, grads_s = run(0.0, 7.3 * w)
    np.testing.assert_allclose(loss_s, loss0, rtol=1e-12)
    for a, b in zip(grads0, grads_s):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-14)

    # the L2 term and its gradient, over sum(w) (not the number of rows)
    alpha, L = 0.5, len(coefs)
    loss, grads = run(alpha)
    np.testing.assert_allclose(
        loss - loss0, 0.5 * alpha * sum(np.sum(W**2) for W in coefs) / w.sum(),
        rtol=1e-10)
    for W, a, b in zip(coefs, grads0[:L], grads[:L]):
        np.testing.assert_allclose(b - a, alpha * W / w.sum(), rtol=1e-8,
                                   atol=1e-14)

    rep = np.repeat(np.arange(X.shape[0]), w.astype(int))
    loss_r, grads_r = run(alpha, None, rep)
    np.testing.assert_allclose(loss_r, loss, rtol=1e-12)
    for a, b in zip(grads, grads_r):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-14)
    keep = w > 0
    loss_d, grads_d = run(alpha, w[keep], keep)
    np.testing.assert_allclose(loss_d, loss, rtol=1e-12)
    for a, b in zip(grads, grads_d):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-14)

    # and the weights matter: uniform weights give another loss and gradient
    loss_u, grads_u = run(alpha, np.ones_like(w))
    assert abs(loss_u - loss) > 1e-3
    assert not np.allclose(grads_u[0], grads[0])


@pytest.mark.parametrize("output", OUTPUTS)
def test_weighted_gradients_float32_close_to_float64(output):
    tanh = ACTIVATIONS["tanh"]
    X, Y, w, coefs, intercepts = _output_check_setup(tanh, output)
    out = {}
    for dtype in (np.float64, np.float32):
        c = [W.astype(dtype) for W in coefs]
        b = [v.astype(dtype) for v in intercepts]
        y = Y if output == "softmax" else Y.astype(dtype)
        out[dtype] = _grads(X.astype(dtype), y, c, b, tanh, 0.2, dtype,
                            output=output, sample_weight=w.astype(dtype))[:2]
    assert all(g.dtype == np.float32 for g in out[np.float32][1])
    np.testing.assert_allclose(out[np.float32][0], out[np.float64][0], rtol=1e-5)
    for g32, g64 in zip(out[np.float32][1], out[np.float64][1]):
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)
