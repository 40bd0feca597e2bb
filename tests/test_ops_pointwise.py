"""Pointwise math and activations: gradcheck, gradgradcheck and PyTorch comparison
over every op (with size-0, size-1, 0-d and non-contiguous inputs), PyTorch's
conventions at kinks, ties and NaN, numerical stability, erf accuracy,
in-place variants and dropout."""

import math
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops import pointwise

from oracle import Case, assert_close, check_case, parametrize_cases

torch = pytest.importorskip("torch")
F = torch.nn.functional

UNARY_SHAPES = ((3, 4), (2, 0, 3), (1, 1), ())


def _sampler(shape, low=-2.0, high=2.0, kinks=(), sign_flip=False):
    """Inputs uniform on [low, high], pushed at least 0.05 away from each kink
    (where finite differences would straddle the break), optionally with random
    signs (for domains like |x| >= 0.5)."""

    def make_inputs(rng):
        x = rng.uniform(low, high, size=shape)
        for kink in kinks:
            near = np.abs(x - kink) < 0.05
            x[near] = kink + np.where(x[near] >= kink, 0.1, -0.1)
        if sign_flip:
            x = x * rng.choice([-1.0, 1.0], size=shape)
        return [x]

    return make_inputs


def _unary(name, fn, gradgrad=True, **domain):
    """One case per shape in UNARY_SHAPES for a one-input op."""
    return [
        Case(
            f"{name}{list(shape)}",
            fn,
            shapes=(shape,),
            make_inputs=_sampler(shape, **domain),
            gradgrad=gradgrad,
        )
        for shape in UNARY_SHAPES
    ]


def _nn(lib):
    """Where the activations live: retrograd itself, or torch.nn.functional."""
    return F if lib is torch else lib


INTEGERS = tuple(range(-3, 4))
HALF_INTEGERS = tuple(k + 0.5 for k in range(-3, 3))

UNARY_CASES = [
    *_unary("abs", lambda lib, x: lib.abs(x), kinks=(0.0,)),
    *_unary("abs_method", lambda lib, x: x.abs(), kinks=(0.0,)),
    *_unary("abs_operator", lambda lib, x: abs(x), kinks=(0.0,)),
    *_unary("absolute", lambda lib, x: lib.absolute(x), kinks=(0.0,)),
    *_unary("sign", lambda lib, x: lib.sign(x), kinks=(0.0,)),
    *_unary("sqrt", lambda lib, x: x.sqrt(), low=0.5, high=3.0),
    *_unary("rsqrt", lambda lib, x: lib.rsqrt(x), low=0.5, high=3.0),
    *_unary("square", lambda lib, x: lib.square(x)),
    *_unary("reciprocal", lambda lib, x: x.reciprocal(), low=0.5, high=2.0, sign_flip=True),
    *_unary("log1p", lambda lib, x: lib.log1p(x), low=-0.5, high=3.0),
    *_unary("expm1", lambda lib, x: x.expm1()),
    *_unary("log2", lambda lib, x: lib.log2(x), low=0.5, high=3.0),
    *_unary("log10", lambda lib, x: x.log10(), low=0.5, high=3.0),
    *_unary("exp2", lambda lib, x: lib.exp2(x)),
    *_unary("sin", lambda lib, x: lib.sin(x), low=-4.0, high=4.0),
    *_unary("cos", lambda lib, x: x.cos(), low=-4.0, high=4.0),
    *_unary("tanh", lambda lib, x: lib.tanh(x), low=-3.0, high=3.0),
    *_unary("erf", lambda lib, x: lib.erf(x), low=-3.0, high=3.0),
    *_unary("erfc", lambda lib, x: x.erfc(), low=-3.0, high=3.0),
    *_unary("sigmoid", lambda lib, x: x.sigmoid(), low=-5.0, high=5.0),
    *_unary("logit", lambda lib, x: lib.logit(x), low=0.05, high=0.95),
    *_unary("logit_eps", lambda lib, x: x.logit(eps=0.2), low=0.02, high=0.98, kinks=(0.2, 0.8)),
    *_unary("relu", lambda lib, x: lib.relu(x), kinks=(0.0,)),
    *_unary("relu_method", lambda lib, x: x.relu(), kinks=(0.0,)),
    *_unary("leaky_relu", lambda lib, x: _nn(lib).leaky_relu(x), kinks=(0.0,)),
    *_unary(
        "leaky_relu_slope",
        lambda lib, x: _nn(lib).leaky_relu(x, negative_slope=0.2),
        kinks=(0.0,),
    ),
    *_unary("elu", lambda lib, x: _nn(lib).elu(x), kinks=(0.0,)),
    *_unary("elu_alpha", lambda lib, x: _nn(lib).elu(x, alpha=0.5), kinks=(0.0,)),
    *_unary("hardtanh", lambda lib, x: _nn(lib).hardtanh(x), kinks=(-1.0, 1.0)),
    *_unary(
        "hardtanh_bounds",
        lambda lib, x: _nn(lib).hardtanh(x, -0.5, 1.5),
        kinks=(-0.5, 1.5),
    ),
    *_unary("relu6", lambda lib, x: _nn(lib).relu6(x), low=-2.0, high=8.0, kinks=(0.0, 6.0)),
    *_unary("gelu", lambda lib, x: _nn(lib).gelu(x), low=-4.0, high=4.0),
    *_unary(
        "gelu_tanh",
        lambda lib, x: _nn(lib).gelu(x, approximate="tanh"),
        low=-4.0,
        high=4.0,
    ),
    *_unary("silu", lambda lib, x: _nn(lib).silu(x), low=-4.0, high=4.0),
    *_unary("softplus", lambda lib, x: _nn(lib).softplus(x), low=-4.0, high=4.0),
    *_unary(
        # beta * x crosses the threshold inside the range, so both branches run
        "softplus_beta_threshold",
        lambda lib, x: _nn(lib).softplus(x, beta=2.0, threshold=1.0),
        kinks=(0.5,),
    ),
    *_unary("mish", lambda lib, x: _nn(lib).mish(x), low=-4.0, high=4.0),
    *_unary("clamp", lambda lib, x: lib.clamp(x, -0.5, 0.5), kinks=(-0.5, 0.5)),
    *_unary("clamp_min_only", lambda lib, x: x.clamp(min=-0.5), kinks=(-0.5,)),
    *_unary("clamp_max_only", lambda lib, x: x.clamp(max=0.5), kinks=(0.5,)),
    *_unary("clamp_inverted_bounds", lambda lib, x: x.clamp(1.0, -1.0)),
    *_unary("clip", lambda lib, x: lib.clip(x, max=1, min=-1), kinks=(-1.0, 1.0)),
    *_unary("clamp_min", lambda lib, x: lib.clamp_min(x, 0.25), kinks=(0.25,)),
    *_unary("clamp_max", lambda lib, x: x.clamp_max(0.25), kinks=(0.25,)),
    *_unary("floor", lambda lib, x: lib.floor(x), kinks=INTEGERS),
    *_unary("ceil", lambda lib, x: x.ceil(), kinks=INTEGERS),
    *_unary("trunc", lambda lib, x: lib.trunc(x), kinks=INTEGERS),
    *_unary("fix", lambda lib, x: x.fix(), kinks=INTEGERS),
    *_unary("round", lambda lib, x: lib.round(x), kinks=HALF_INTEGERS),
    *_unary("round_decimals", lambda lib, x: x.round(decimals=1)),
    *_unary("frac", lambda lib, x: lib.frac(x), kinks=INTEGERS),
    *_unary(
        "dropout_eval",
        lambda lib, x: _nn(lib).dropout(x, p=0.4, training=False) * 2,
    ),
    *_unary(
        "dropout_p0",
        lambda lib, x: _nn(lib).dropout(x, p=0.0) * 2,
    ),
]

BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)), ((0, 3), (3,)), ((), (2, 2))]


def _with_ties(shape_a, shape_b):
    """Two inputs that tie in about a third of the broadcast positions."""

    def make_inputs(rng):
        a = rng.uniform(-2.0, 2.0, size=shape_a)
        b = rng.uniform(-2.0, 2.0, size=shape_b)
        tie = rng.random(np.broadcast_shapes(shape_a, shape_b)) < 0.35
        b_full = np.where(tie, np.broadcast_to(a, tie.shape), np.broadcast_to(b, tie.shape))
        return [a, b_full]

    return make_inputs


BINARY_CASES = [
    *[
        Case(f"{name}{list(a)}x{list(b)}", fn, shapes=(a, b))
        for name, fn in [
            ("maximum", lambda lib, x, y: lib.maximum(x, y)),
            ("minimum", lambda lib, x, y: x.minimum(y)),
        ]
        for a, b in BROADCAST_PAIRS
    ],
    # Central differences see half the slope at a tie, as the rule gives; the
    # first derivative jumps there, so these rows check first order only.
    Case("maximum_ties", lambda lib, x, y: lib.maximum(x, y), shapes=((3, 4), (3, 4)), make_inputs=_with_ties((3, 4), (3, 4)), gradgrad=False),
    Case("minimum_ties", lambda lib, x, y: lib.minimum(x, y), shapes=((4,), (3, 4)), make_inputs=_with_ties((4,), (3, 4)), gradgrad=False),
    Case("maximum_ties_broadcast", lambda lib, x, y: x.maximum(y), shapes=((4,), (3, 4)), make_inputs=_with_ties((4,), (3, 4)), gradgrad=False),
    Case("maximum_int_other", lambda lib, x, y: lib.maximum(x, y), make_inputs=lambda rng: [rng.uniform(-2, 2, (3, 4)), rng.integers(-2, 3, (4,))]),
]  # fmt: skip

# (PyTorch's clamp backward fails when the input itself is broadcast to a larger
# shape, so the oracle rows keep the input at the full shape; retrograd's
# broadcast input is checked against finite differences below.)
CLAMP_TENSOR_SHAPES = [
    ((3, 4), (4,), (3, 1)),
    ((3, 4), (3, 4), (3, 4)),
    ((2, 4), (2, 1), ()),
    ((2, 0, 3), (3,), (1, 3)),
    ((1, 1), (1,), (1, 1)),
]

CLAMP_CASES = [
    # random bounds include min > max positions, where the result is max
    *[
        Case(f"clamp_tensors{list(x)}{list(lo)}{list(hi)}", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), shapes=(x, lo, hi))
        for x, lo, hi in CLAMP_TENSOR_SHAPES
    ],
    Case("clamp_tensor_min", lambda lib, x, lo: x.clamp(min=lo), shapes=((3, 4), (4,))),
    Case("clamp_tensor_max", lambda lib, x, hi: lib.clamp(x, max=hi), shapes=((3, 4), (3, 1))),
    Case("clamp_min_tensor", lambda lib, x, lo: lib.clamp_min(x, lo), shapes=((3, 4), (3, 1))),
    Case("clamp_max_tensor", lambda lib, x, hi: x.clamp_max(hi), shapes=((2, 3), (2, 3))),
    Case("clip_tensors", lambda lib, x, lo, hi: x.clip(lo, hi), shapes=((3, 4), (4,), (3, 1))),
    Case("clamp_bounds_only", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), shapes=((3, 4), (4,), (3, 1)), grad_inputs=(1, 2)),
]  # fmt: skip

CASES = UNARY_CASES + BINARY_CASES + CLAMP_CASES


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_pointwise(case, layout):
    check_case(case, layout=layout)


# ------------------------------------------------------ PyTorch's conventions


def _grad_pair(rg_fn, torch_fn, values):
    """Values and gradients (for a sum of the outputs) from both libraries."""
    x = rg.tensor(values, dtype=rg.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    ours, theirs = rg_fn(x), torch_fn(t)
    ours.sum().backward()
    theirs.sum().backward()
    return ours, theirs, x.grad, t.grad


NAN = float("nan")
SPECIAL_POINTS = [
    ("relu", lambda lib, x: lib.relu(x), [0.0, -0.0, 1.0, -1.0, NAN]),
    ("leaky_relu", lambda lib, x: _nn(lib).leaky_relu(x, 0.1), [0.0, 1.0, -1.0, NAN]),
    ("elu", lambda lib, x: _nn(lib).elu(x, alpha=2.0), [0.0, 1.0, -1.0, -800.0, 800.0]),
    ("hardtanh", lambda lib, x: _nn(lib).hardtanh(x), [-1.0, 1.0, 0.0, 2.0, -2.0, NAN]),
    ("relu6", lambda lib, x: _nn(lib).relu6(x), [0.0, 6.0, 3.0, 7.0, -1.0]),
    ("abs", lambda lib, x: lib.abs(x), [0.0, -0.0, 1.0, -1.0]),
    ("sign", lambda lib, x: lib.sign(x), [0.0, 2.0, -3.0, NAN, math.inf]),
    ("clamp", lambda lib, x: lib.clamp(x, -1.0, 1.0), [-1.0, 1.0, 0.0, 2.0, NAN]),
    ("clamp_inverted", lambda lib, x: lib.clamp(x, 1.0, -1.0), [1.0, 0.0, 2.0, -1.0]),
    ("clamp_min", lambda lib, x: x.clamp_min(1.0), [1.0, 0.0, 2.0]),
    ("clamp_max", lambda lib, x: x.clamp_max(1.0), [1.0, 0.0, 2.0]),
    ("softplus_threshold", lambda lib, x: _nn(lib).softplus(x, beta=2, threshold=4), [2.0, 2.0001, 1.9999]),
    ("sqrt_zero", lambda lib, x: lib.sqrt(x), [0.0, 4.0]),
    ("logit_eps_bounds", lambda lib, x: lib.logit(x, eps=0.1), [0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0]),
    ("logit_edges", lambda lib, x: lib.logit(x), [0.0, 1.0, 0.5]),
    ("round_half_even", lambda lib, x: lib.round(x), [0.5, 1.5, 2.5, -0.5, -1.5]),
    ("round_decimals", lambda lib, x: lib.round(x, decimals=2), [1.25, 0.125, 1234.5, -0.125]),
    ("round_negative_decimals", lambda lib, x: lib.round(x, decimals=-2), [1250.0, 1350.0, 15.0]),
    ("floor_inf", lambda lib, x: lib.floor(x), [math.inf, -math.inf, -0.5]),
    ("frac", lambda lib, x: lib.frac(x), [-1.5, 2.25, 3.0]),
    ("erf_extremes", lambda lib, x: lib.erf(x), [0.0, 1e-300, -1e-10, 5.0, -30.0, math.inf, -math.inf]),
    ("erfc_tails", lambda lib, x: lib.erfc(x), [-30.0, -5.0, 0.0, 5.0, 10.0, 26.0, 30.0]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "fn", "values"), SPECIAL_POINTS, ids=[p[0] for p in SPECIAL_POINTS])
def test_values_and_gradients_at_special_points_match_pytorch(name, fn, values):
    ours, theirs, grad, torch_grad = _grad_pair(lambda x: fn(rg, x), lambda t: fn(torch, t), values)
    np.testing.assert_array_equal(np.isnan(ours.detach().numpy()), np.isnan(theirs.detach().numpy()))
    assert_close(ours, theirs, f"{name}: forward", tol=1e-13)
    np.testing.assert_array_equal(
        np.isnan(grad.numpy()), np.isnan(torch_grad.numpy()), err_msg=f"{name}: NaN gradients"
    )
    assert_close(grad, torch_grad, f"{name}: gradient", tol=1e-13)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_propagate_nan_and_send_it_the_gradient_of_both(name):
    a_values, b_values = [NAN, 1.0, 2.0, NAN], [0.0, NAN, 2.0, NAN]
    ours_a = rg.tensor(a_values, dtype=rg.float64, requires_grad=True)
    ours_b = rg.tensor(b_values, dtype=rg.float64, requires_grad=True)
    theirs_a = torch.tensor(a_values, requires_grad=True)
    theirs_b = torch.tensor(b_values, requires_grad=True)
    ours = getattr(rg, name)(ours_a, ours_b)
    theirs = getattr(torch, name)(theirs_a, theirs_b)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_array_equal(ours_a.grad.numpy(), theirs_a.grad.numpy())
    np.testing.assert_array_equal(ours_b.grad.numpy(), theirs_b.grad.numpy())


def test_maximum_and_minimum_split_the_gradient_on_ties():
    a = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = rg.tensor([1.0, 3.0, 2.0], requires_grad=True)
    (rg.maximum(a, b) + 10 * rg.minimum(a, b)).sum().backward()
    assert a.grad.tolist() == [5.5, 10.0, 1.0]
    assert b.grad.tolist() == [5.5, 1.0, 10.0]


def test_clamp_with_inverted_tensor_bounds_takes_max_and_gives_it_the_gradient():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    low = rg.tensor([1.0, 3.0, 0.0], requires_grad=True)
    high = rg.tensor([2.0, 2.5, 2.5], requires_grad=True)
    out = rg.clamp(x, low, high)
    out.sum().backward()
    assert out.tolist() == [1.0, 2.5, 2.5]
    assert x.grad.tolist() == [1.0, 0.0, 0.0]
    assert low.grad.tolist() == [0.0, 0.0, 0.0]
    assert high.grad.tolist() == [0.0, 1.0, 1.0]


def test_clamp_with_tensor_bounds_at_ties_matches_pytorch():
    values = ([-1.0, 0.0, 1.0, 2.0, 0.5], [-1.0, -1.0, 1.0, 0.5, 0.5], [1.0, 0.0, 1.0, 2.0, 0.0])
    ours = [rg.tensor(v, dtype=rg.float64, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out, expected = rg.clamp(*ours), torch.clamp(*theirs)
    assert_close(out, expected, "clamp ties: forward")
    out.sum().backward()
    expected.sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(a.grad, b.grad, f"clamp ties: gradient of input {i}")


def test_clamp_broadcasts_the_input_itself():
    rng = np.random.default_rng(3)
    inputs = [rg.tensor(rng.uniform(-2, 2, shape), requires_grad=True) for shape in ((4,), (2, 1), ())]
    assert rg.clamp(*inputs).shape == (2, 4)
    assert rg.autograd.gradcheck(rg.clamp, inputs)
    assert rg.autograd.gradgradcheck(rg.clamp, inputs)


def test_piecewise_constant_ops_give_zero_gradients_not_none():
    x = rg.tensor([0.3, -1.7, 2.5], requires_grad=True)
    for fn in (rg.sign, rg.floor, rg.ceil, rg.round, rg.trunc, lambda t: t.round(decimals=1)):
        x.grad = None
        y = fn(x)
        assert y.requires_grad
        y.sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("expression", "node"),
    [
        (lambda x: x.relu(), "ReluBackward0"),
        (lambda x: rg.square(x), "PowBackward0"),
        (lambda x: x.clamp(0, 1), "ClampBackward1"),
        (lambda x: x.clamp(rg.zeros(3, dtype=rg.float64)), "ClampBackward0"),
        (lambda x: x.round(), "RoundBackward0"),
        (lambda x: x.round(decimals=1), "RoundBackward1"),
        (lambda x: rg.gelu(x), "GeluBackward0"),
        (lambda x: rg.maximum(x, x), "MaximumBackward0"),
        (lambda x: rg.relu6(x), "HardtanhBackward0"),
    ],
)
def test_grad_fn_names_follow_pytorch(expression, node):
    x = rg.tensor([0.5, -1.0, 2.0], dtype=rg.float64, requires_grad=True)
    assert expression(x).grad_fn.name() == node


# ------------------------------------------------------------------- dtypes

FLOAT_MATH = [
    "sqrt", "rsqrt", "reciprocal", "log1p", "expm1", "log2", "log10", "exp2", "sin", "cos", "tanh", "erf",
    "erfc", "sigmoid", "logit",
]  # fmt: skip
KEEP_INTEGERS = ["abs", "sign", "square", "relu", "floor", "ceil", "round", "trunc", "relu6", "hardtanh"]


@pytest.mark.parametrize("name", FLOAT_MATH)
def test_float_math_of_integers_computes_in_the_default_dtype(name):
    values = [1, 2, 3]
    ours = getattr(rg, name)(rg.tensor(values))
    theirs = getattr(torch, name)(torch.tensor(values))
    assert ours.dtype == rg.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    rg.set_default_dtype(rg.float64)
    assert getattr(rg, name)(rg.tensor(values)).dtype == rg.float64


@pytest.mark.parametrize("name", KEEP_INTEGERS)
def test_integer_dtypes_are_kept(name):
    lib_fn = getattr(rg, name)
    torch_fn = getattr(torch, name, None) or getattr(F, name)
    for dtype, torch_dtype in [(rg.int64, torch.int64), (rg.int32, torch.int32)]:
        ours = lib_fn(rg.tensor([3, -2, 0, 7], dtype=dtype))
        theirs = torch_fn(torch.tensor([3, -2, 0, 7], dtype=torch_dtype))
        assert ours.dtype == dtype
        assert ours.tolist() == theirs.tolist()


def test_clamp_and_maximum_promote_like_pytorch():
    ints = rg.tensor([1, -2, 3])
    assert rg.clamp(ints, min=1).dtype == rg.int64
    assert rg.clamp(ints, min=1.5).dtype == rg.float32
    assert rg.clamp(ints, min=1.5).tolist() == [1.5, 1.5, 3.0]
    assert rg.clamp(rg.tensor([True, False]), min=0).dtype == rg.int64
    assert rg.clamp(ints, min=rg.tensor([0.5])).dtype == rg.float32
    assert rg.clamp(rg.ones(2), rg.tensor(0, dtype=rg.int32), rg.tensor([3], dtype=rg.int64)).dtype == rg.float32
    assert rg.clamp(rg.ones(2), max=rg.tensor(1.0, dtype=rg.float64)).dtype == rg.float32
    assert rg.maximum(ints, rg.tensor([1.0, 2.0, 3.0])).dtype == rg.float32
    assert rg.maximum(ints, rg.tensor([True, False, True])).dtype == rg.int64
    assert rg.hardtanh(ints, -0.5, 0.5).tolist() == [0, 0, 0]


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "erf", "gelu", "silu", "softplus", "mish", "elu", "relu", "sqrt"])
def test_float32_stays_float32_and_agrees_with_float64(name):
    fn = getattr(rg, name)
    x64 = np.linspace(0.1, 4.0, 50)
    ours32 = fn(rg.tensor(x64.astype(np.float32)))
    ours64 = fn(rg.tensor(x64))
    assert ours32.dtype == rg.float32
    np.testing.assert_allclose(ours32.numpy(), ours64.numpy(), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "gelu", "silu", "softplus", "mish", "frac"])
def test_float_only_activations_refuse_integers(name):
    with pytest.raises(NotImplementedError, match=rf"{name}.*int64"):
        getattr(rg, name)(rg.tensor([1, 2]))


# ----------------------------------------------------------------- stability


def test_sigmoid_and_friends_stay_finite_at_extreme_inputs():
    values = [-1000.0, -50.0, 0.0, 50.0, 1000.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        for dtype in (rg.float32, rg.float64):
            x = rg.tensor(values, dtype=dtype, requires_grad=True)
            for fn in (rg.sigmoid, rg.tanh, rg.silu, rg.gelu, rg.mish, rg.softplus, rg.elu, rg.erf):
                x.grad = None
                y = fn(x)
                y.sum().backward()
                assert np.isfinite(y.detach().numpy()).all(), fn.__name__
                assert np.isfinite(x.grad.numpy()).all(), fn.__name__
    s = rg.sigmoid(rg.tensor([-1000.0, 1000.0], dtype=rg.float64))
    assert s.tolist() == [0.0, 1.0]


def test_sigmoid_is_accurate_in_both_tails():
    x = np.array([-700.0, -40.0, -5.0, 5.0, 40.0])
    expected = np.array([math.exp(-700.0), math.exp(-40.0) / (1 + math.exp(-40.0)), 1 / (1 + math.exp(5)), 1 / (1 + math.exp(-5)), 1.0])  # fmt: skip
    np.testing.assert_allclose(rg.sigmoid(rg.tensor(x)).numpy(), expected, rtol=1e-14)


def test_softplus_is_stable_and_honours_the_threshold():
    x = rg.tensor([1e4, -1e4, 25.0, 15.0], dtype=rg.float64, requires_grad=True)
    y = rg.softplus(x)
    assert y.tolist()[:3] == [1e4, 0.0, 25.0]
    assert y.tolist()[3] == pytest.approx(math.log1p(math.exp(15.0)), rel=1e-15)
    y.sum().backward()
    assert x.grad.tolist()[:3] == [1.0, 0.0, 1.0]
    # float32 with a threshold above the range of exp: the smooth branch saturates
    # to inf exactly as in PyTorch, and below the threshold it stays exact
    values = [1e3, 50.0, -50.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours = rg.softplus(rg.tensor(values, dtype=rg.float32), threshold=1e4)
    theirs = F.softplus(torch.tensor(values, dtype=torch.float32), threshold=1e4)
    assert ours.tolist() == theirs.tolist()


def test_logit_with_eps_has_no_nan_second_derivative_at_the_edges():
    x = rg.tensor([0.0, 0.5, 1.0], dtype=rg.float64, requires_grad=True)
    (g,) = rg.autograd.grad(rg.logit(x, eps=0.1).sum(), x, create_graph=True)
    (gg,) = rg.autograd.grad(g.sum(), x)
    assert g.tolist()[0] == 0.0 and g.tolist()[2] == 0.0
    assert np.isfinite(gg.numpy()).all()


# ------------------------------------------------------------------- erf


def test_erf_matches_math_erf_to_a_few_ulps():
    grid = np.concatenate(
        [
            np.linspace(-7.0, 7.0, 20001),
            np.logspace(-310, 1.5, 600),
            -np.logspace(-310, 1.5, 600),
            [0.46875, np.nextafter(0.46875, 1), 4.0, np.nextafter(4.0, 5), 26.0, 27.0, 40.0, 0.0, -0.0],
        ]
    )
    ours = pointwise.erf_array(grid)
    expected = np.array([math.erf(v) for v in grid])
    relative = np.abs(ours - expected) / np.maximum(np.abs(expected), np.finfo(float).tiny)
    assert relative.max() < 2e-15
    complement = pointwise.erf_array(grid, complement=True)
    expected_complement = np.array([math.erfc(v) for v in grid])
    normal = expected_complement > 1e-300  # below that erfc is subnormal and math.erfc itself loses digits
    relative = np.abs(complement - expected_complement)[normal] / expected_complement[normal]
    assert relative.max() < 4e-15


def test_erf_handles_inf_nan_and_empty():
    values = pointwise.erf_array(np.array([np.inf, -np.inf, np.nan]))
    assert values[0] == 1.0 and values[1] == -1.0 and np.isnan(values[2])
    complement = pointwise.erf_array(np.array([np.inf, -np.inf, np.nan]), complement=True)
    assert complement[0] == 0.0 and complement[1] == 2.0 and np.isnan(complement[2])
    assert pointwise.erf_array(np.zeros((0, 3))).shape == (0, 3)
    assert pointwise.erf_array(np.array(0.25)).shape == ()


# ------------------------------------------------- float32 erf, gelu, kernels

FLOAT32_SPECIALS = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1e-30, -1e-30, 1e-45, 3e38, -3e38], dtype=np.float32)


def _float32_grid():
    """A dense grid over [-10, 10], tiny magnitudes of both signs, and the special values."""
    tiny = np.logspace(-45, 0, 400).astype(np.float32)
    return np.concatenate([np.linspace(-10, 10, 400_001, dtype=np.float32), tiny, -tiny, FLOAT32_SPECIALS])


def _ulps(ours: np.ndarray, reference: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """|ours - reference| in float32 ulps of ``scale`` (default: of the reference), finite references only."""
    finite = np.isfinite(reference)
    scale = np.abs(reference if scale is None else scale)[finite].astype(np.float32)
    return np.abs(ours[finite].astype(np.float64) - reference[finite]) / np.spacing(scale).astype(np.float64)


def _assert_same_non_finite(ours: np.ndarray, reference: np.ndarray) -> None:
    special = ~np.isfinite(reference)
    np.testing.assert_array_equal(ours[special], reference[special].astype(ours.dtype))


@pytest.mark.parametrize("complement", [False, True], ids=["erf", "erfc"])
def test_float32_erf_computes_in_float32_to_a_few_ulps(complement):
    grid = _float32_grid()
    ours = pointwise.erf_array(grid, complement=complement)
    assert ours.dtype == np.float32
    exact = pointwise.erf_array(grid.astype(np.float64), complement=complement)
    assert _ulps(ours, exact).max() <= (6 if not complement else 12)
    _assert_same_non_finite(ours, exact)
    # Against PyTorch's float32 kernel, including the sign of erf(-0.0).
    theirs = (torch.erfc if complement else torch.erf)(torch.from_numpy(grid)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(np.signbit(ours[-10:]), np.signbit(theirs[-10:]))
    # The op uses the same path and stays float32.
    tensor = (rg.erfc if complement else rg.erf)(rg.from_numpy(grid))
    assert tensor.dtype == rg.float32
    np.testing.assert_array_equal(tensor.numpy(), ours)
    assert pointwise.erf_array(np.array(0.25, dtype=np.float32)).shape == ()


def _gelu_reference(x: np.ndarray, approximate: str):
    """GELU and its slope in float64, by the NumPy path (which keeps relative
    accuracy in the negative tail, where PyTorch's float64 ``1 + erf`` cancels)."""
    form = pointwise._gelu_tanh_numpy if approximate == "tanh" else pointwise._gelu_exact_numpy
    with np.errstate(invalid="ignore"):
        return form(x.astype(np.float64), True)


# (kernel, approximate) -> (largest error of the output in ulps, of the slope in ulps of 1)
GELU_FLOAT32_BOUNDS = {
    (True, "none"): (1, 1),
    (True, "tanh"): (1, 1),
    (False, "none"): (16, 24),
    (False, "tanh"): (400, 24),  # x^3 rounded to float32 shifts exp(2u) in the far tail, where gelu is < 1e-20
}


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "numpy"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_float32_gelu_and_its_slope_are_accurate(monkeypatch, kernel, approximate):
    if kernel and not rg._jit.numba_available():
        pytest.skip("Numba is not installed")
    monkeypatch.setattr(rg._jit, "enabled", kernel)
    grid = _float32_grid()
    out, slope = pointwise._gelu_arrays(grid, approximate, True)
    assert out.dtype == slope.dtype == np.float32
    exact_out, exact_slope = _gelu_reference(grid, approximate)
    out_bound, slope_bound = GELU_FLOAT32_BOUNDS[kernel, approximate]
    assert _ulps(out, exact_out).max() <= out_bound
    # The slope crosses 0 near x = -0.75, so its error is counted in ulps of 1 (its largest term).
    assert _ulps(slope, exact_slope, np.ones_like(exact_slope)).max() <= slope_bound
    _assert_same_non_finite(out, exact_out)
    _assert_same_non_finite(slope, exact_slope)
    assert np.signbit(out[grid == 0]).tolist() == np.signbit(grid[grid == 0]).tolist()
    # PyTorch's float32 GELU loses up to 1.2e-6 to cancellation in the negative tail
    # (and overflows in its intermediate steps near float32's largest numbers).
    finite = np.isfinite(exact_out) & (np.abs(grid) < 1e30)
    theirs = F.gelu(torch.from_numpy(grid), approximate=approximate).numpy()
    np.testing.assert_allclose(out[finite], theirs[finite], rtol=1e-6, atol=2e-6)


def test_gelu_special_values_follow_pytorch():
    """inf, -inf, NaN and -0.0 as PyTorch's float64 GELU has them (its float32 kernel returns NaN at +inf)."""
    for dtype in (np.float32, np.float64):
        for approximate in ("none", "tanh"):
            values = np.array([np.inf, -np.inf, np.nan, -0.0], dtype=dtype)
            ours = rg.from_numpy(values.copy()).requires_grad_(True)
            theirs = torch.from_numpy(values.astype(np.float64)).requires_grad_(True)
            rg.gelu(ours, approximate=approximate).sum().backward()
            F.gelu(theirs, approximate=approximate).sum().backward()
            expected = F.gelu(theirs.detach(), approximate=approximate).numpy().astype(dtype)
            np.testing.assert_array_equal(rg.gelu(ours.detach(), approximate=approximate).numpy(), expected)
            np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy().astype(dtype))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_kernel_and_numpy_paths_agree(monkeypatch, approximate, dtype):
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 3, 5000), FLOAT32_SPECIALS.astype(np.float64)]).astype(dtype)
    seed = rng.standard_normal(x.shape).astype(dtype)
    results = {}
    for kernel in (True, False):
        monkeypatch.setattr(rg._jit, "enabled", kernel)
        inputs = rg.from_numpy(x.copy()).requires_grad_(True)
        out = rg.gelu(inputs, approximate=approximate)
        out.backward(rg.from_numpy(seed))
        with rg.no_grad():
            inference = rg.gelu(rg.from_numpy(x), approximate=approximate)
        results[kernel] = out.detach().numpy(), inputs.grad.numpy(), inference.numpy()
    for ours, numpy_path in zip(results[True], results[False], strict=True):
        assert ours.dtype == dtype
        tolerance = 2e-6 if dtype == np.float32 else 0.0  # float64 takes the NumPy path either way
        np.testing.assert_allclose(ours, numpy_path, rtol=tolerance, atol=tolerance)
    np.testing.assert_array_equal(results[True][0], results[True][2])  # the same forward with and without the slope


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "numpy"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_float32_gelu_gradients_match_pytorch(monkeypatch, kernel, approximate):
    monkeypatch.setattr(rg._jit, "enabled", kernel)
    rng = np.random.default_rng(4)
    x = rng.normal(0, 2, (16, 64)).astype(np.float32)
    seed = rng.standard_normal(x.shape).astype(np.float32)
    ours = rg.from_numpy(x.copy()).requires_grad_(True)
    theirs = torch.from_numpy(x.copy()).requires_grad_(True)
    # First derivatives with create_graph, then the second derivative through them.
    (our_grad,) = rg.autograd.grad(rg.gelu(ours, approximate=approximate), ours, rg.from_numpy(seed), create_graph=True)
    (their_grad,) = torch.autograd.grad(
        F.gelu(theirs, approximate=approximate), theirs, torch.from_numpy(seed), create_graph=True
    )
    # (PyTorch's float32 tanh form loses up to ~2e-6 to cancellation in the negative tail.)
    np.testing.assert_allclose(our_grad.detach().numpy(), their_grad.detach().numpy(), rtol=1e-5, atol=3e-6)
    (our_second,) = rg.autograd.grad(our_grad.sum(), ours)
    (their_second,) = torch.autograd.grad(their_grad.sum(), theirs)
    np.testing.assert_allclose(our_second.numpy(), their_second.numpy(), rtol=1e-3, atol=1e-5)
    # And a plain backward (the saved slope).
    plain = rg.from_numpy(x.copy()).requires_grad_(True)
    rg.gelu(plain, approximate=approximate).backward(rg.from_numpy(seed))
    assert plain.grad.dtype == rg.float32
    np.testing.assert_allclose(plain.grad.numpy(), their_grad.detach().numpy(), rtol=1e-5, atol=3e-6)


def test_gelu_refuses_to_backward_after_its_input_changed_in_place():
    x = rg.tensor([0.5, -1.0], requires_grad=True)
    y = x * 1.0
    out = rg.gelu(y)
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "broadcast", "0-d"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_plain_backward_matches_pytorch_on_both_paths(monkeypatch, dtype, layout):
    """Zero where the output is <= 0 (also for inf and NaN gradients there), the
    gradient itself where the output is NaN."""
    x = np.array([[-1.0, 0.0, -0.0, 2.0, np.nan, 3.0], [np.inf, -np.inf, 0.5, -2.0, 1e-30, -1e-30]], dtype=dtype)
    seed = np.array([[np.inf, np.nan, 1.0, 2.0, 3.0, np.nan], [1.0, np.inf, -4.0, np.nan, 5.0, 6.0]], dtype=dtype)
    if layout == "transposed":
        x, seed = x.T.copy(), seed.T  # the gradient in a non-contiguous layout
    elif layout == "0-d":
        x, seed = np.array(x[0, 4]), np.array(seed[0, 4])
    theirs = torch.from_numpy(np.array(x)).requires_grad_(True)
    their_seed = torch.from_numpy(np.array(seed))
    if layout == "broadcast":
        seed = np.broadcast_to(seed[:1], x.shape)
        their_seed = their_seed[:1].expand(x.shape)
    torch.relu(theirs).backward(their_seed)
    for kernel in (True, False):
        monkeypatch.setattr(rg._jit, "enabled", kernel)
        ours = rg.from_numpy(np.array(x)).requires_grad_(True)
        rg.relu(ours).backward(rg.from_numpy(seed))
        assert ours.grad.dtype == ours.dtype
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
        assert not np.signbit(ours.grad.numpy()[np.array(x) <= 0]).any()


@pytest.mark.parametrize("name", ["leaky_relu", "sigmoid", "tanh", "relu", "gelu", "elu", "silu", "softplus"])
def test_float32_gradients_stay_float32_and_match_pytorch(name):
    x = np.linspace(-3, 3, 61, dtype=np.float32)
    seed = np.cos(np.arange(61, dtype=np.float32))
    ours = rg.from_numpy(x.copy()).requires_grad_(True)
    theirs = torch.from_numpy(x.copy()).requires_grad_(True)
    getattr(rg, name)(ours).backward(rg.from_numpy(seed))
    getattr(F, name)(theirs).backward(torch.from_numpy(seed))
    assert ours.grad.dtype == rg.float32
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=2e-6, atol=1e-6)


# ----------------------------------------------------------------- dropout


def test_dropout_statistics():
    x = rg.ones(200_000)
    y = rg.dropout(x, p=0.3)
    values = y.numpy()
    zeros = (values == 0).mean()
    assert abs(zeros - 0.3) < 0.005
    np.testing.assert_allclose(values[values != 0], 1 / 0.7, rtol=1e-6)
    assert abs(values.mean() - 1.0) < 0.01
    assert y.dtype == rg.float32


def test_dropout_is_reproducible_under_manual_seed():
    x = rg.randn(50, 40)
    rg.manual_seed(123)
    first = rg.dropout(x, 0.5).numpy()
    second = rg.dropout(x, 0.5).numpy()
    rg.manual_seed(123)
    again = rg.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first == 0, second == 0)


def test_dropout_gradient_uses_the_forward_mask():
    x = rg.tensor(np.random.default_rng(0).uniform(1.0, 2.0, (30, 20)), requires_grad=True)
    y = rg.dropout(x, p=0.4)
    seed = np.random.default_rng(1).standard_normal((30, 20))
    y.backward(rg.tensor(seed))
    mask = y.detach().numpy() / x.detach().numpy()
    assert set(np.round(np.unique(mask), 12)) == {0.0, round(1 / 0.6, 12)}
    np.testing.assert_allclose(x.grad.numpy(), seed * mask, rtol=1e-14)


def test_dropout_passes_gradcheck_and_gradgradcheck_with_a_fixed_mask():
    def fn(x):
        rg.manual_seed(7)
        return rg.dropout(x, p=0.3) * x

    x = rg.tensor(np.random.default_rng(0).uniform(-1, 1, (4, 5)), requires_grad=True)
    assert rg.autograd.gradcheck(fn, (x,))
    assert rg.autograd.gradgradcheck(fn, (x,))


def test_dropout_edge_cases():
    x = rg.randn(3, 4, requires_grad=True)
    assert rg.dropout(x, training=False) is x
    assert rg.dropout(x, p=0.0) is x
    dropped = rg.dropout(x, p=1.0)
    assert dropped.tolist() == [[0.0] * 4] * 3
    dropped.sum().backward()
    assert x.grad.tolist() == [[0.0] * 4] * 3
    assert rg.dropout(rg.tensor([1, 2]), training=False).tolist() == [1, 2]
    assert rg.dropout(rg.zeros(0, 3), p=0.5).shape == (0, 3)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
            rg.dropout(x, p=p)
    with pytest.raises(TypeError, match=r"dropout.*'p'"):
        rg.dropout(x, p="half")
    with pytest.raises(RuntimeError, match=r"dropout.*floating"):
        rg.dropout(rg.tensor([1, 2]), p=0.5)


def test_dropout_inplace():
    x = rg.ones(1000)
    with rg.no_grad():
        out = rg.dropout(x, p=0.5, inplace=True)
    assert out is x
    assert 0 < (x.numpy() == 0).sum() < 1000
    np.testing.assert_allclose(x.numpy()[x.numpy() != 0], 2.0)


# ----------------------------------------------------------------- in-place

INPLACE = [
    # (method name, out-of-place equivalent, arguments, input domain)
    ("abs_", "abs", (), (-2, 2)),
    ("absolute_", "abs", (), (-2, 2)),
    ("sign_", "sign", (), (-2, 2)),
    ("sqrt_", "sqrt", (), (0.5, 2)),
    ("rsqrt_", "rsqrt", (), (0.5, 2)),
    ("square_", "square", (), (-2, 2)),
    ("reciprocal_", "reciprocal", (), (0.5, 2)),
    ("log1p_", "log1p", (), (0.5, 2)),
    ("expm1_", "expm1", (), (-2, 2)),
    ("log2_", "log2", (), (0.5, 2)),
    ("log10_", "log10", (), (0.5, 2)),
    ("exp2_", "exp2", (), (-2, 2)),
    ("sin_", "sin", (), (-2, 2)),
    ("cos_", "cos", (), (-2, 2)),
    ("tanh_", "tanh", (), (-2, 2)),
    ("erf_", "erf", (), (-2, 2)),
    ("erfc_", "erfc", (), (-2, 2)),
    ("sigmoid_", "sigmoid", (), (-2, 2)),
    ("logit_", "logit", (0.1,), (0.05, 0.95)),
    ("relu_", "relu", (), (-2, 2)),
    ("clamp_", "clamp", (-0.5, 0.5), (-2, 2)),
    ("clip_", "clip", (-0.5, 0.5), (-2, 2)),
    ("clamp_min_", "clamp_min", (0.1,), (-2, 2)),
    ("clamp_max_", "clamp_max", (0.1,), (-2, 2)),
    ("floor_", "floor", (), (-2, 2)),
    ("ceil_", "ceil", (), (-2, 2)),
    ("trunc_", "trunc", (), (-2, 2)),
    ("fix_", "fix", (), (-2, 2)),
    ("round_", "round", (), (-2, 2)),
    ("frac_", "frac", (), (-2, 2)),
]
FUNCTIONAL_INPLACE = [
    ("leaky_relu_", "leaky_relu", (0.2,), (-2, 2)),
    ("elu_", "elu", (0.5,), (-2, 2)),
    ("hardtanh_", "hardtanh", (-0.5, 0.5), (-2, 2)),
]


def _inplace_fn(name):
    return getattr(rg.Tensor, name, None) or getattr(rg, name)


@pytest.mark.parametrize(
    ("name", "reference", "args", "domain"), INPLACE + FUNCTIONAL_INPLACE, ids=lambda v: v if isinstance(v, str) else ""
)
def test_inplace_matches_out_of_place_in_value_and_gradient(name, reference, args, domain):
    data = np.random.default_rng(0).uniform(*domain, (3, 4))
    leaf = rg.tensor(data, requires_grad=True)
    y = leaf * 1.0
    out = _inplace_fn(name)(y, *args)
    assert out is y
    out.backward(rg.tensor(np.arange(12.0).reshape(3, 4)))

    leaf_ref = rg.tensor(data, requires_grad=True)
    ref = getattr(rg, reference)(leaf_ref * 1.0, *args)
    ref.backward(rg.tensor(np.arange(12.0).reshape(3, 4)))
    np.testing.assert_array_equal(y.detach().numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(leaf.grad.numpy(), leaf_ref.grad.numpy())


@pytest.mark.parametrize(
    ("name", "reference", "args", "domain"), INPLACE + FUNCTIONAL_INPLACE, ids=lambda v: v if isinstance(v, str) else ""
)
def test_inplace_writes_into_the_array_under_no_grad_and_refuses_grad_leaves(name, reference, args, domain):
    data = np.random.default_rng(0).uniform(*domain, (3, 4))
    leaf = rg.tensor(data, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        _inplace_fn(name)(leaf, *args)
    array = leaf.detach().numpy()  # shares memory with the leaf
    with rg.no_grad():
        out = _inplace_fn(name)(leaf, *args)
    assert out is leaf and leaf._version == 1
    expected = getattr(rg, reference)(rg.tensor(data), *args).numpy()
    np.testing.assert_array_equal(array, expected)
    assert leaf.requires_grad and leaf.grad_fn is None


def test_inplace_bumps_the_version_so_saved_inputs_refuse_to_backward():
    leaf = rg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = leaf * 1.0
    z = y.sin()  # saves y
    y.relu_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_inplace_with_tensor_bounds_that_require_grad():
    x = rg.tensor([0.0, 1.0, 3.0])
    low = rg.tensor([0.5, 0.5, 0.5], requires_grad=True)
    x.clamp_(min=low)
    assert x.tolist() == [0.5, 1.0, 3.0] and x.requires_grad
    x.sum().backward()
    assert low.grad.tolist() == [1.0, 0.0, 0.0]


def test_inplace_integer_rules():
    ints = rg.tensor([3, -2, 0])
    assert ints.relu_().tolist() == [3, 0, 0] and ints.dtype == rg.int64
    assert rg.tensor([3, -2, 0]).abs_().tolist() == [3, 2, 0]
    assert rg.tensor([3, -2, 0]).clamp_(-1, 1).tolist() == [1, -1, 0]
    assert rg.tensor([3, -2, 0]).floor_().tolist() == [3, -2, 0]
    for name in ("sqrt_", "sigmoid_", "tanh_", "erf_", "reciprocal_"):
        with pytest.raises(
            RuntimeError, match=rf"{name}: result type float can't be cast to the desired output type int64"
        ):
            getattr(rg.tensor([1, 2]), name)()
    with pytest.raises(RuntimeError, match="clamp_"):
        rg.tensor([1, 2]).clamp_(min=0.5)


def test_functional_inplace_flags():
    for fn, kwargs in [
        (rg.leaky_relu, {}),
        (rg.elu, {}),
        (rg.hardtanh, {}),
        (rg.relu6, {}),
        (rg.silu, {}),
        (rg.mish, {}),
    ]:
        x = rg.tensor([-1.5, 0.5, 7.0])
        expected = fn(x.clone(), **kwargs)
        assert fn(x, inplace=True, **kwargs) is x
        assert x.tolist() == expected.tolist()


# ------------------------------------------------------------------- errors


def test_errors_name_the_function_and_the_argument():
    x = rg.randn(3)
    with pytest.raises(RuntimeError, match="clamp: At least one of 'min' or 'max' must not be None"):
        rg.clamp(x)
    with pytest.raises(RuntimeError, match="clamp_: At least one"):
        x.clamp_()
    with pytest.raises(TypeError, match="clamp: min and max must both be numbers or both be tensors"):
        rg.clamp(x, 0.0, rg.ones(3))
    with pytest.raises(RuntimeError, match="gelu: approximate argument must be either 'none' or 'tanh', got 'fast'"):
        rg.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="hardtanh: min_val cannot be greater than max_val"):
        rg.hardtanh(x, 1.0, -1.0)
    with pytest.raises(TypeError, match=r"sqrt\(\): argument 'input' must be Tensor, not float"):
        rg.sqrt(4.0)
    with pytest.raises(TypeError, match=r"leaky_relu\(\): argument 'negative_slope' must be a number, not str"):
        rg.leaky_relu(x, "steep")
    with pytest.raises(TypeError, match=r"round\(\): argument 'decimals' must be int"):
        rg.round(x, decimals=1.5)
    with pytest.raises(NotImplementedError, match="round: decimals"):
        rg.round(rg.tensor([1, 2]), decimals=1)
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        rg.relu(rg.tensor([True, False]))
    with pytest.raises(RuntimeError, match=r"maximum.*\[2\].*\[3\]"):
        rg.maximum(rg.ones(2), rg.ones(3))
    with pytest.raises(RuntimeError, match=r"clamp_: .*\[2, 3\]"):
        rg.zeros(2, 3).clamp_(rg.zeros(3, 1, 1))


# ------------------------------------------------------------------- binding


def test_methods_and_exports_mirror_pytorch():
    for name in pointwise.TENSOR_METHODS:
        assert hasattr(torch.Tensor, name), name
        assert getattr(rg.Tensor, name) is pointwise.TENSOR_METHODS[name]
    for name in pointwise.__all__:
        assert hasattr(torch, name) or hasattr(F, name), name
        assert getattr(rg, name) is getattr(pointwise, name)
    for name in ("leaky_relu", "gelu", "dropout", "elu_"):
        assert not hasattr(rg.Tensor, name)
