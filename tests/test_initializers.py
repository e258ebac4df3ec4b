"""Tests of sk_dbn.initializers: distributions, scales, bounds, orthogonality, LSUV.

The random schemes are checked on large, asymmetric shapes (300x400 and 400x300) so
that a fan_in/fan_out mix-up changes the expected scale by a factor 4/3 in variance,
far beyond the sampling error of 120 000 draws.
"""

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit

from sk_dbn import initializers as inits
from sk_dbn.initializers import (
    INITIALIZERS,
    calculate_gain,
    constant,
    get_initializer,
    lecun_normal,
    lsuv,
    orthogonal,
    zeros,
)

SHAPES = [(300, 400), (400, 300)]


# Standard deviation of a standard normal truncated to [-2, 2] (computed by scipy,
# independently of the constant in the module under test).
TRUNC_STD = stats.truncnorm(-2, 2).std()


def _normal_dist(std):
    return stats.norm(loc=0.0, scale=std)


def _uniform_dist(limit):
    return stats.uniform(loc=-limit, scale=2 * limit)


def _truncnorm_dist(std):
    # N(0, 1) truncated to [-2, 2], rescaled so that its std is `std`
    return stats.truncnorm(-2, 2, loc=0.0, scale=std / TRUNC_STD)


def _truncnorm_parent_dist(std):
    # N(0, std**2) truncated to [-2 std, 2 std], not rescaled (TensorFlow 1's
    # truncated_normal): its own std is TRUNC_STD * std
    return stats.truncnorm(-2, 2, loc=0.0, scale=std)


# name -> (options passed, function (fan_in, fan_out, gain) -> frozen distribution,
#          whether the scheme takes `gain`)
RANDOM_SCHEMES = {
    "normal": ({"std": 0.3}, lambda fi, fo, g: _normal_dist(0.3), False),
    "uniform": ({"limit": 0.2}, lambda fi, fo, g: _uniform_dist(0.2), False),
    "truncated_normal": (
        {"std": 0.3},
        lambda fi, fo, g: _truncnorm_dist(0.3 * g),
        True,
    ),
}
for _name in ("xavier_normal", "glorot_normal"):
    RANDOM_SCHEMES[_name] = (
        {}, lambda fi, fo, g: _normal_dist(g * np.sqrt(2.0 / (fi + fo))), True
    )
for _name in ("xavier_uniform", "glorot_uniform"):
    RANDOM_SCHEMES[_name] = (
        {}, lambda fi, fo, g: _uniform_dist(g * np.sqrt(6.0 / (fi + fo))), True
    )
for _name in ("he_normal", "kaiming_normal"):
    RANDOM_SCHEMES[_name] = ({}, lambda fi, fo, g: _normal_dist(g * np.sqrt(2.0 / fi)),
                             True)
for _name in ("he_uniform", "kaiming_uniform"):
    RANDOM_SCHEMES[_name] = (
        {}, lambda fi, fo, g: _uniform_dist(g * np.sqrt(6.0 / fi)), True
    )
RANDOM_SCHEMES["lecun_normal"] = (
    {}, lambda fi, fo, g: _normal_dist(g * np.sqrt(1.0 / fi)), True
)
RANDOM_SCHEMES["lecun_uniform"] = (
    {}, lambda fi, fo, g: _uniform_dist(g * np.sqrt(3.0 / fi)), True
)
# keras' VarianceScaling() default: truncated normal whose *result* has variance
# 1 / fan_in
RANDOM_SCHEMES["variance_scaling"] = (
    {}, lambda fi, fo, g: _truncnorm_dist(np.sqrt(1.0 / fi)), False
)
# the lecture slide's prettytensor xavier_init(uniform=False): the *parent* normal
# has std sqrt(3 / (fan_in + fan_out)), cut at 2 of its std, not rescaled
RANDOM_SCHEMES["prettytensor_xavier_normal"] = (
    {}, lambda fi, fo, g: _truncnorm_parent_dist(g * np.sqrt(3.0 / (fi + fo))), True
)

# squared scale of the orthogonal schemes' singular values
ORTHOGONAL = {"orthogonal": 1.0, "orthogonal_relu": 2.0}
UNIFORM_SCHEMES = [n for n in RANDOM_SCHEMES if n.endswith("uniform")]
SCALED_SCHEMES = [n for n, spec in RANDOM_SCHEMES.items() if spec[2]] + [*ORTHOGONAL]
ALL_RANDOM = [*RANDOM_SCHEMES, *ORTHOGONAL]


def _draw(name, shape, gain=None, random_state=0, dtype=np.float64):
    options = dict(RANDOM_SCHEMES[name][0]) if name in RANDOM_SCHEMES else {}
    if gain is not None:
        options["gain"] = gain
    return INITIALIZERS[name](*shape, random_state=random_state, dtype=dtype,
                              **options)


def _expected_dist(name, shape, gain):
    return RANDOM_SCHEMES[name][1](*shape, 1.0 if gain is None else gain)


def _gains(name):
    return [None, 1.7] if RANDOM_SCHEMES[name][2] else [None]


def _ids(value):
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return None


DIST_CASES = [
    (name, shape, gain)
    for name in RANDOM_SCHEMES
    for shape in SHAPES
    for gain in _gains(name)
]


def test_registry_covers_every_scheme_and_alias():
    expected = {"zeros", "constant", *ALL_RANDOM}
    assert set(INITIALIZERS) == expected
    assert INITIALIZERS["glorot_normal"] is INITIALIZERS["xavier_normal"]
    assert INITIALIZERS["glorot_uniform"] is INITIALIZERS["xavier_uniform"]
    assert INITIALIZERS["kaiming_normal"] is INITIALIZERS["he_normal"]
    assert INITIALIZERS["kaiming_uniform"] is INITIALIZERS["he_uniform"]
    # the module-level names are the registered functions
    for name, fn in INITIALIZERS.items():
        assert getattr(inits, name) is fn


@pytest.mark.parametrize(("name", "shape", "gain"), DIST_CASES, ids=_ids)
def test_random_scheme_matches_distribution(name, shape, gain):
    W = _draw(name, shape, gain=gain)
    assert W.shape == shape
    _assert_distribution(W, _expected_dist(name, shape, gain), (name, shape, gain))


def _assert_distribution(W, dist, label):
    w = W.ravel()
    n = w.size

    # Kolmogorov-Smirnov against the intended distribution (seeded: deterministic)
    result = stats.kstest(w, dist.cdf)
    assert result.pvalue > 1e-3, (label, result)

    # sample variance within 4 sigma of the formula; for a zero-mean distribution
    # Var(s^2) ~= (mu4 - sigma^4) / n (= 2 sigma^4 / n for a normal, and
    # 4 limit^4 / (45 n) for U[-limit, limit])
    var = dist.var()
    mu4 = dist.moment(4)
    sigma_var = np.sqrt((mu4 - var**2) / (n - 1))
    assert abs(w.var(ddof=1) - var) < 4 * sigma_var, (label, w.var(), var)

    # and the mean within 4 sigma of 0
    assert abs(w.mean()) < 4 * np.sqrt(var / n)


@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
def test_variance_formula_sigma_for_uniform_and_normal(shape):
    # The sigma used above, checked against the closed forms quoted in the issue.
    n = shape[0] * shape[1]
    limit = 0.2
    u = _uniform_dist(limit)
    assert np.isclose(np.sqrt((u.moment(4) - u.var() ** 2) / n),
                      limit**2 * np.sqrt(4 / (45 * n)))
    g = _normal_dist(0.3)
    assert np.isclose(np.sqrt((g.moment(4) - g.var() ** 2) / n),
                      0.09 * np.sqrt(2 / n))


@pytest.mark.parametrize(("fan_in", "fan_out"), SHAPES)
def test_fan_in_is_used_not_fan_out(fan_in, fan_out):
    # The He and LeCun schemes scale with fan_in only: on the transposed shape the
    # variance must change by the ratio of the fan_ins, not stay the same.
    for name, var_fn in [
        ("he_normal", lambda fi: 2.0 / fi),
        ("he_uniform", lambda fi: 2.0 / fi),
        ("lecun_normal", lambda fi: 1.0 / fi),
        ("lecun_uniform", lambda fi: 1.0 / fi),
    ]:
        W = INITIALIZERS[name](fan_in, fan_out, random_state=1)
        assert abs(W.var() / var_fn(fan_in) - 1) < 0.03, name
        assert abs(W.var() / var_fn(fan_out) - 1) > 0.2, name
    # the Xavier schemes use both, so they are symmetric in the two fans
    for name in ("xavier_normal", "xavier_uniform"):
        W = INITIALIZERS[name](fan_in, fan_out, random_state=1)
        assert abs(W.var() / (2.0 / (fan_in + fan_out)) - 1) < 0.03, name
    # He with mode="fan_out" (torch's kaiming_*_ mode) scales with fan_out only
    for name in ("he_normal", "he_uniform", "kaiming_normal", "kaiming_uniform"):
        W = INITIALIZERS[name](fan_in, fan_out, mode="fan_out", random_state=1)
        assert abs(W.var() / (2.0 / fan_out) - 1) < 0.03, name
        assert abs(W.var() / (2.0 / fan_in) - 1) > 0.2, name


UNIFORM_CASES = [
    (name, shape, gain)
    for name in UNIFORM_SCHEMES
    for shape in SHAPES
    for gain in _gains(name)
]


@pytest.mark.parametrize(("name", "shape", "gain"), UNIFORM_CASES, ids=_ids)
def test_uniform_bounds(name, shape, gain):
    W = _draw(name, shape, gain=gain, random_state=3)
    limit = _expected_dist(name, shape, gain).support()[1]
    assert np.abs(W).max() <= limit
    # the bound is tight: 120 000 draws come within 0.1% of both ends
    assert W.max() > 0.999 * limit
    assert W.min() < -0.999 * limit


@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
@pytest.mark.parametrize(("std", "gain"), [(0.3, 1.0), (0.05, 3.0), (1.0, 1.0)])
def test_truncated_normal_bounds(shape, std, gain):
    W = inits.truncated_normal(*shape, std=std, gain=gain, random_state=4)
    bound = 2 * std * gain / 0.87962566103423978
    assert np.abs(W).max() <= bound * (1 + 1e-12)
    assert np.abs(W).max() > 0.99 * bound
    # the *resulting* std is the requested one (not std * 0.88)
    assert abs(W.std() / (std * gain) - 1) < 0.01


# ------------------------------------------- options: std_of, mode, variance_scaling
# keras' VarianceScaling: variance scale / n, n chosen by mode ...
VS_VARIANCE = {
    "fan_in": lambda fi, fo, scale: scale / fi,
    "fan_out": lambda fi, fo, scale: scale / fo,
    "fan_avg": lambda fi, fo, scale: 2.0 * scale / (fi + fo),
}
# ... drawn from one of three distributions of that variance
VS_DIST = {
    "truncated_normal": lambda var: _truncnorm_dist(np.sqrt(var)),
    "untruncated_normal": lambda var: _normal_dist(np.sqrt(var)),
    "uniform": lambda var: _uniform_dist(np.sqrt(3.0 * var)),
}


def _vs_case(mode, distribution, scale=2.5):
    options = {"scale": scale, "mode": mode, "distribution": distribution}
    return ("variance_scaling", options,
            lambda fi, fo: VS_DIST[distribution](VS_VARIANCE[mode](fi, fo, scale)))


# (name, options, (fan_in, fan_out) -> frozen distribution)
OPTION_CASES = [
    ("he_normal", {"mode": "fan_in"},
     lambda fi, fo: _normal_dist(np.sqrt(2.0 / fi))),
    ("he_normal", {"mode": "fan_out"},
     lambda fi, fo: _normal_dist(np.sqrt(2.0 / fo))),
    ("he_normal", {"mode": "fan_out", "gain": 1.7},
     lambda fi, fo: _normal_dist(1.7 * np.sqrt(2.0 / fo))),
    ("he_uniform", {"mode": "fan_out"},
     lambda fi, fo: _uniform_dist(np.sqrt(6.0 / fo))),
    ("he_uniform", {"mode": "fan_out", "gain": 1.7},
     lambda fi, fo: _uniform_dist(1.7 * np.sqrt(6.0 / fo))),
    ("truncated_normal", {"std": 0.3, "std_of": "result"},
     lambda fi, fo: _truncnorm_dist(0.3)),
    ("truncated_normal", {"std": 0.3, "std_of": "parent"},
     lambda fi, fo: _truncnorm_parent_dist(0.3)),
    ("truncated_normal", {"std": 0.3, "std_of": "parent", "gain": 1.7},
     lambda fi, fo: _truncnorm_parent_dist(0.3 * 1.7)),
    *[_vs_case(mode, dist) for mode in VS_VARIANCE for dist in VS_DIST],
    _vs_case("fan_avg", "truncated_normal", scale=0.5),
]


def _option_id(case):
    name, options, _ = case
    return "-".join([name, *(f"{k}={v}" for k, v in options.items())])


@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
@pytest.mark.parametrize("case", OPTION_CASES, ids=_option_id)
def test_option_matches_distribution(case, shape):
    name, options, dist_fn = case
    W = INITIALIZERS[name](*shape, random_state=13, **options)
    assert W.shape == shape
    _assert_distribution(W, dist_fn(*shape), (name, options, shape))


# every scheme whose distribution is bounded: the uniform ones and the truncated
# normals of either kind
BOUNDED_CASES = [
    case for case in OPTION_CASES
    if np.isfinite(case[2](*SHAPES[0]).support()[1])
] + [
    (name, {}, lambda fi, fo, name=name: _expected_dist(name, (fi, fo), None))
    for name in ("variance_scaling", "prettytensor_xavier_normal")
]


@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
@pytest.mark.parametrize("case", BOUNDED_CASES, ids=_option_id)
def test_bounded_option_reaches_its_bound(case, shape):
    name, options, dist_fn = case
    W = INITIALIZERS[name](*shape, random_state=14, **options)
    bound = dist_fn(*shape).support()[1]
    assert np.abs(W).max() <= bound * (1 + 1e-12)
    assert W.max() > 0.99 * bound
    assert W.min() < -0.99 * bound


@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
def test_truncated_normal_std_of_parent_is_tensorflow1(shape):
    # TensorFlow 1's truncated_normal(stddev=s): N(0, s^2) with values beyond 2 s
    # redrawn and not rescaled, so its std is ~0.88 s
    kw = dict(std=0.3, gain=1.5, random_state=4)
    result = inits.truncated_normal(*shape, **kw)
    parent = inits.truncated_normal(*shape, std_of="parent", **kw)
    # the same draws, one rescaled by 1/s and the other not
    np.testing.assert_allclose(parent, TRUNC_STD * result, rtol=1e-12)
    assert np.abs(parent).max() <= 2 * 0.45
    assert abs(parent.std() / (TRUNC_STD * 0.45) - 1) < 0.01
    assert abs(parent.std() / 0.45 - 1) > 0.1


@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
def test_prettytensor_xavier_normal_is_the_slides_scheme(shape):
    fan_in, fan_out = shape
    # xavier_init(n_inputs, n_outputs, uniform=False) returns
    # truncated_normal_initializer(stddev=sqrt(3 / (n_inputs + n_outputs)))
    stddev = np.sqrt(3.0 / (fan_in + fan_out))
    W = inits.prettytensor_xavier_normal(fan_in, fan_out, random_state=9)
    np.testing.assert_array_equal(
        W, inits.truncated_normal(fan_in, fan_out, std=stddev, std_of="parent",
                                  random_state=9))
    assert np.abs(W).max() <= 2 * stddev
    assert abs(W.std() / (0.87962566103423978 * stddev) - 1) < 0.01
    # which is 16% more variance than xavier_normal's 2 / (fan_in + fan_out)
    assert abs(W.var() * (fan_in + fan_out) / 2 - 1.16) < 0.02


@pytest.mark.parametrize("mode", VS_VARIANCE)
def test_variance_scaling_truncated_normal_is_keras(mode):
    # keras: stddev = sqrt(scale / n) / 0.87962566103423978, then a normal of that
    # stddev truncated at 2 stddev (TensorFlow semantics)
    fan_in, fan_out = 7, 13
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
    stddev = np.sqrt(2.5 / n[mode]) / 0.87962566103423978
    W = inits.variance_scaling(fan_in, fan_out, scale=2.5, mode=mode, random_state=5)
    np.testing.assert_allclose(
        W, inits.truncated_normal(fan_in, fan_out, std=stddev, std_of="parent",
                                  random_state=5), rtol=1e-14)
    np.testing.assert_array_equal(
        W, inits.truncated_normal(fan_in, fan_out, std=np.sqrt(2.5 / n[mode]),
                                  random_state=5))


# the fan-scaled schemes as variance_scaling calls (gain 1)
SPECIAL_CASES = [
    ("xavier_normal", {}, 1.0, "fan_avg", "untruncated_normal"),
    ("xavier_uniform", {}, 1.0, "fan_avg", "uniform"),
    ("he_normal", {}, 2.0, "fan_in", "untruncated_normal"),
    ("he_normal", {"mode": "fan_out"}, 2.0, "fan_out", "untruncated_normal"),
    ("he_uniform", {}, 2.0, "fan_in", "uniform"),
    ("he_uniform", {"mode": "fan_out"}, 2.0, "fan_out", "uniform"),
    ("lecun_normal", {}, 1.0, "fan_in", "untruncated_normal"),
    ("lecun_uniform", {}, 1.0, "fan_in", "uniform"),
]


@pytest.mark.parametrize(("name", "options", "scale", "mode", "distribution"),
                         SPECIAL_CASES)
def test_fan_scaled_schemes_are_variance_scaling(name, options, scale, mode,
                                                 distribution):
    for shape in [(7, 13), (13, 7)]:
        W = INITIALIZERS[name](*shape, random_state=3, **options)
        V = inits.variance_scaling(*shape, scale=scale, mode=mode,
                                   distribution=distribution, random_state=3)
        np.testing.assert_array_equal(W, V)
        # a gain g is a scale g**2 (equal up to the last bit)
        W = INITIALIZERS[name](*shape, random_state=3, gain=1.7, **options)
        V = inits.variance_scaling(*shape, scale=scale * 1.7**2, mode=mode,
                                   distribution=distribution, random_state=3)
        np.testing.assert_allclose(W, V, rtol=1e-14)


def test_seeded_fan_scaled_streams_are_unchanged():
    # Fits seeded before variance_scaling existed start from the same weights: the
    # schemes still draw seeded standard normals (or uniforms on [0, 1)) and
    # multiply them by gain * sqrt(c / n), computed as before.
    fan_in, fan_out = 7, 13
    z = np.random.default_rng(21).standard_normal((fan_in, fan_out))
    u = np.random.default_rng(21).random((fan_in, fan_out))

    def uni(limit):
        return u * (2.0 * limit) - limit

    expected = {
        ("xavier_normal", 1.0): z * np.sqrt(2.0 / (fan_in + fan_out)),
        ("xavier_uniform", 1.0): uni(np.sqrt(6.0 / (fan_in + fan_out))),
        ("he_normal", 1.0): z * np.sqrt(2.0 / fan_in),
        ("he_uniform", 1.0): uni(np.sqrt(6.0 / fan_in)),
        ("lecun_normal", 1.0): z * np.sqrt(1.0 / fan_in),
        ("lecun_uniform", 1.0): uni(np.sqrt(3.0 / fan_in)),
        ("xavier_normal", 1.7): z * (1.7 * np.sqrt(2.0 / (fan_in + fan_out))),
        ("he_uniform", 1.7): uni(1.7 * np.sqrt(6.0 / fan_in)),
    }
    for (name, gain), W in expected.items():
        np.testing.assert_array_equal(
            INITIALIZERS[name](fan_in, fan_out, gain=gain, random_state=21), W,
            err_msg=f"{name} gain={gain}")


@pytest.mark.parametrize(("fn", "options", "match"), [
    (inits.he_normal, {"mode": "fan_avg"}, "mode"),
    (inits.he_uniform, {"mode": "FAN_IN"}, "mode"),
    (inits.variance_scaling, {"mode": "fan_sum"}, "mode"),
    (inits.variance_scaling, {"distribution": "normal"}, "distribution"),
    (inits.variance_scaling, {"distribution": None}, "distribution"),
    (inits.variance_scaling, {"scale": 0.0}, "scale"),
    (inits.variance_scaling, {"scale": -1.0}, "scale"),
    (inits.variance_scaling, {"scale": np.nan}, "scale"),
    (inits.truncated_normal, {"std_of": "both"}, "std_of"),
], ids=lambda v: v.__name__ if callable(v) else None)
def test_bad_option_raises_value_error(fn, options, match):
    with pytest.raises(ValueError, match=match):
        fn(4, 3, random_state=0, **options)


@pytest.mark.parametrize("name", ORTHOGONAL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("gain", [1.0, calculate_gain("tanh")])
@pytest.mark.parametrize(("fan_in", "fan_out"), [*SHAPES, (200, 200)])
def test_orthogonal(fan_in, fan_out, gain, dtype, name):
    W = INITIALIZERS[name](fan_in, fan_out, gain=gain, random_state=5, dtype=dtype)
    assert W.shape == (fan_in, fan_out)
    assert W.dtype == dtype
    # every singular value is `gain` (times sqrt(2) for orthogonal_relu)
    scale2 = ORTHOGONAL[name] * gain**2
    atol = 1e-5 if dtype == np.float32 else 1e-10
    if fan_in <= fan_out:
        G = W.astype(np.float64) @ W.T.astype(np.float64)
    else:
        G = W.T.astype(np.float64) @ W.astype(np.float64)
    np.testing.assert_allclose(G, scale2 * np.eye(min(fan_in, fan_out)),
                               atol=atol * scale2)
    np.testing.assert_allclose(np.linalg.svd(W.astype(np.float64), compute_uv=False),
                               np.sqrt(scale2),
                               rtol=1e-4 if dtype == np.float32 else 1e-10)


def test_orthogonal_relu_is_orthogonal_times_sqrt2():
    for shape in [(4, 6), (6, 4)]:
        for gain in (1.0, 1.5):
            np.testing.assert_array_equal(
                inits.orthogonal_relu(*shape, gain=gain, random_state=2),
                orthogonal(*shape, gain=np.sqrt(2.0) * gain, random_state=2))


@pytest.mark.parametrize("name", ORTHOGONAL)
@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
def test_orthogonal_is_not_degenerate(shape, name):
    # entries look like a Haar matrix: mean ~0, each of variance 1/max(fan_in, fan_out)
    # (times the squared scale)
    W = INITIALIZERS[name](*shape, random_state=6)
    var = ORTHOGONAL[name] / max(shape)
    assert abs(W.mean()) < 4 * np.sqrt(var / W.size)
    assert abs(W.var() / var - 1) < 0.02


@pytest.mark.parametrize("name", SCALED_SCHEMES)
@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
def test_gain_multiplies(name, shape):
    base = _draw(name, shape, gain=1.0, random_state=7)
    scaled = _draw(name, shape, gain=2.5, random_state=7)
    np.testing.assert_allclose(scaled, 2.5 * base, rtol=1e-12, atol=1e-15)


def test_default_scales():
    # Hinton's guide defaults: normal std=0.01, uniform limit=0.05, truncated 0.01
    W = inits.normal(300, 400, random_state=0)
    assert abs(W.std() / 0.01 - 1) < 0.01
    W = inits.uniform(300, 400, random_state=0)
    assert np.abs(W).max() <= 0.05
    assert np.abs(W).max() > 0.0499
    W = inits.truncated_normal(300, 400, random_state=0)
    assert abs(W.std() / 0.01 - 1) < 0.01


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_dtype_and_shape(name, dtype):
    W = INITIALIZERS[name](30, 40, random_state=0, dtype=dtype)
    assert W.dtype == dtype
    assert W.shape == (30, 40)
    assert np.isfinite(W).all()


@pytest.mark.parametrize("name", sorted(ALL_RANDOM))
def test_float32_has_the_intended_scale(name):
    W = _draw(name, (300, 400), dtype=np.float32, random_state=8)
    if name in ORTHOGONAL:
        # 300 orthonormal rows of length 400, times the scale
        expected_var = ORTHOGONAL[name] / 400
    else:
        expected_var = _expected_dist(name, (300, 400), None).var()
    assert abs(W.astype(np.float64).var() / expected_var - 1) < 0.03


@pytest.mark.parametrize("name", sorted(ALL_RANDOM))
def test_seed_reproducibility(name):
    a = _draw(name, (40, 30), random_state=11)
    b = _draw(name, (40, 30), random_state=11)
    c = _draw(name, (40, 30), random_state=12)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # no two entries equal by construction: the draw is not degenerate
    assert np.unique(a).size == a.size
    # a Generator passed in is consumed: two draws from it differ
    rng = np.random.default_rng(0)
    assert not np.array_equal(_draw(name, (40, 30), random_state=rng),
                              _draw(name, (40, 30), random_state=rng))


def test_zeros_and_constant():
    Z = zeros(3, 5, dtype=np.float32)
    assert Z.shape == (3, 5)
    assert Z.dtype == np.float32
    assert not Z.any()
    C = constant(4, 2, value=0.25)
    assert C.shape == (4, 2)
    assert C.dtype == np.float64
    assert np.all(C == 0.25)
    assert not constant(2, 2).any()  # default value 0
    # through the registry, with the common contract
    C = INITIALIZERS["constant"](2, 3, random_state=0, dtype=np.float32, value=-1.5)
    assert C.dtype == np.float32
    assert np.all(C == -1.5)


@pytest.mark.parametrize("bad", [np.int64, bool, "U3", object])
@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_a_dtype_that_is_not_floating_raises_value_error(name, bad):
    # an integer dtype would truncate the weights to zeros, a bool one to True
    with pytest.raises(ValueError, match="dtype must be a floating dtype"):
        INITIALIZERS[name](4, 3, random_state=0, dtype=bad)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_bad_shape_raises_value_error(name, bad):
    # every scheme validates its shape before using it in a formula
    with pytest.raises(ValueError, match="fan_in"):
        INITIALIZERS[name](bad, 3)
    with pytest.raises(ValueError, match="fan_out"):
        INITIALIZERS[name](3, bad)


def test_get_initializer():
    for name, fn in INITIALIZERS.items():
        assert get_initializer(name) is fn
    assert get_initializer("glorot_uniform") is inits.xavier_uniform
    assert get_initializer("kaiming_normal") is inits.he_normal

    def my_init(fan_in, fan_out, *, random_state=None, dtype=np.float64):
        return np.ones((fan_in, fan_out), dtype=dtype)

    assert get_initializer(my_init) is my_init
    assert get_initializer(inits.orthogonal) is inits.orthogonal
    with pytest.raises(ValueError, match="not_a_scheme"):
        get_initializer("not_a_scheme")
    with pytest.raises(ValueError, match="Unknown initializer"):
        get_initializer("Xavier_Normal")
    with pytest.raises(ValueError, match="Unknown initializer"):
        get_initializer(3)


@pytest.mark.parametrize(
    ("activation", "param", "expected"),
    [
        ("identity", None, 1.0),
        ("linear", None, 1.0),
        ("logistic", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5.0 / 3.0),
        ("relu", None, np.sqrt(2.0)),
        ("leaky_relu", None, np.sqrt(2.0 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, np.sqrt(2.0 / (1 + 0.2**2))),
        ("leaky_relu", 1.0, 1.0),
        ("leaky_relu", 0.0, np.sqrt(2.0)),
        ("leaky_relu", 1 / 3, np.sqrt(2.0 / (1 + 1 / 9))),
        # maxout: 1 / sqrt(E[M_k^2]), closed forms for k = 2, 3, 4
        ("maxout", None, 1.0),
        ("maxout", 2, 1.0),
        ("maxout", 3, 1 / np.sqrt(1 + np.sqrt(3) / (2 * np.pi))),
        ("maxout", np.int64(4), 1 / np.sqrt(1 + np.sqrt(3) / np.pi)),
    ],
)
def test_calculate_gain(activation, param, expected):
    assert calculate_gain(activation, param) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("k", [2, 3, 5, 10, 50])
def test_calculate_gain_maxout_matches_monte_carlo(k):
    # E[M_k^2] for M_k the max of k iid standard normals, estimated by sampling
    M = np.random.default_rng(k).standard_normal((400_000, k)).max(axis=1)
    second_moment = np.mean(M**2)
    stderr = np.std(M**2) / np.sqrt(M.shape[0])
    gain = calculate_gain("maxout", k)
    assert abs(gain**-2 - second_moment) < 4 * stderr
    # the gain is what keeps the second moment: maxout units of lecun_normal
    # weights times the gain, on unit-second-moment inputs, output it again
    rng = np.random.default_rng(100 + k)
    X = rng.standard_normal((2000, 400))
    W = lecun_normal(400, 300 * k, random_state=rng, gain=gain)
    out = (X @ W).reshape(2000, k, 300).max(axis=1)
    assert np.mean(out**2) == pytest.approx(1.0, abs=0.03)


def test_calculate_gain_maxout_is_deterministic_and_decreasing():
    gains = [calculate_gain("maxout", k) for k in range(2, 12)]
    assert gains == [calculate_gain("maxout", k) for k in range(2, 12)]
    assert all(a > b for a, b in zip(gains, gains[1:]))
    # far beyond the usual k the integral still finds the narrow peak
    assert calculate_gain("maxout", 10**6) ** -2 == pytest.approx(23.709, rel=1e-3)


@pytest.mark.parametrize("param", [1, 0, 2.5, "3", True])
def test_calculate_gain_maxout_bad_pieces(param):
    with pytest.raises(ValueError, match="pieces"):
        calculate_gain("maxout", param)


def test_calculate_gain_bad_name():
    with pytest.raises(ValueError, match="softplus"):
        calculate_gain("softplus")


# ----------------------------------------------------------------------------- LSUV
def _act(name, Z, slope=0.01):
    return {
        "identity": lambda z: z,
        "logistic": expit,
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0),
        "leaky_relu": lambda z: np.where(z > 0, z, slope * z),
    }[name](Z)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation",
                         ["identity", "logistic", "tanh", "relu", "leaky_relu"])
def test_lsuv_unit_variance(activation, dtype):
    rng = np.random.default_rng(0)
    sizes = [20, 50, 40, 30, 3]
    # probe data far from unit variance, so every layer needs rescaling
    X = (3.0 * rng.standard_normal((400, sizes[0])) + 1.0).astype(dtype)
    coefs = [orthogonal(a, b, random_state=i, dtype=dtype)
             for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
    intercepts = [(0.05 * rng.standard_normal(b)).astype(dtype) for b in sizes[1:]]
    out_W, biases = coefs[-1].copy(), [b.copy() for b in intercepts]
    tol = 0.1

    variances = lsuv(coefs, intercepts, X, activation, tol=tol)

    assert len(variances) == len(sizes) - 2  # hidden layers only
    for v in variances:
        assert abs(v - 1) < tol
    # recompute independently: the affine output of every hidden layer has
    # (whole-batch) variance within tol of 1
    A = X.astype(np.float64)
    for i, (W, b) in enumerate(zip(coefs[:-1], intercepts[:-1])):
        assert W.dtype == dtype
        Z = A @ W.astype(np.float64) + b
        assert abs(Z.var() - 1) < tol, (i, Z.var())
        assert Z.var() == pytest.approx(variances[i], rel=1e-3)
        A = _act(activation, Z)
    # the output layer and all biases are untouched
    assert np.array_equal(coefs[-1], out_W)
    for b, b0 in zip(intercepts, biases):
        assert np.array_equal(b, b0)


def test_lsuv_only_rescales():
    # LSUV multiplies each hidden layer's weights by a scalar: the direction is kept
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 10)) * 5
    coefs = [orthogonal(10, 20, random_state=0), orthogonal(20, 2, random_state=1)]
    before = coefs[0].copy()
    lsuv(coefs, [np.zeros(20), np.zeros(2)], X, "tanh")
    ratio = coefs[0] / before
    assert np.allclose(ratio, ratio.flat[0])
    assert ratio.flat[0] < 0.5  # the inputs had variance 25: weights shrink


def test_lsuv_negative_slope_changes_the_next_layers_input():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 10)) - 1.0  # mostly negative pre-activations
    sizes = [10, 12, 8, 2]

    def network():
        return ([orthogonal(a, b, random_state=i)
                 for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))],
                [np.zeros(b) for b in sizes[1:]])

    scales = {}
    for slope in (0.01, 1 / 3):
        coefs, intercepts = network()
        lsuv(coefs, intercepts, X, "leaky_relu", negative_slope=slope)
        H = _act("leaky_relu", X @ coefs[0], slope)
        assert abs((H @ coefs[1]).var() - 1) < 0.1  # measured on this slope
        scales[slope] = np.abs(coefs[1]).sum()
    assert scales[0.01] != pytest.approx(scales[1 / 3], rel=1e-3)


@pytest.mark.parametrize("pieces", [2, 3])
def test_lsuv_maxout_rescales_each_piece(pieces):
    rng = np.random.default_rng(3)
    X = 4.0 * rng.standard_normal((400, 20)) + 1.0
    m = [16, 10]
    # a hidden layer of m units has m * pieces columns, piece-major; piece p of
    # the first layer starts p + 1 times larger, so each needs its own scale
    coefs = [np.concatenate([(p + 1) * orthogonal(20, m[0], random_state=p)
                             for p in range(pieces)], axis=1),
             np.concatenate([orthogonal(m[0], m[1], random_state=10 + p)
                             for p in range(pieces)], axis=1),
             orthogonal(m[1], 3, random_state=20)]
    intercepts = [np.zeros(W.shape[1]) for W in coefs]
    before = [W.copy() for W in coefs]
    variances = lsuv(coefs, intercepts, X, "maxout", maxout_pieces=pieces)
    A = X
    for i, (W, W0) in enumerate(zip(coefs[:-1], before)):
        Z = A @ W
        blocks = [slice(p * m[i], (p + 1) * m[i]) for p in range(pieces)]
        for block in blocks:
            assert abs(Z[:, block].var() - 1) < 0.1
            ratio = W[:, block] / W0[:, block]  # each piece only rescaled
            np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-12)
        worst = max((Z[:, b].var() for b in blocks), key=lambda v: abs(v - 1))
        assert variances[i] == pytest.approx(worst, rel=1e-6)
        A = Z.reshape(400, pieces, m[i]).max(axis=1)
    np.testing.assert_array_equal(coefs[-1], before[-1])
    # pieces that started at different scales got different factors
    factors = [coefs[0][0, p * 16] / before[0][0, p * 16] for p in range(pieces)]
    assert 1.5 < factors[0] / factors[1] < 2.7


def test_lsuv_maxout_pieces_must_fit_the_network():
    coefs = [orthogonal(5, 8), orthogonal(4, 2)]
    with pytest.raises(ValueError, match="maxout_pieces"):
        lsuv(coefs, [np.zeros(8), np.zeros(2)], np.ones((10, 5)), "maxout",
             maxout_pieces=4)
