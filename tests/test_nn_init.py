"""nn.init: gains and fans against PyTorch, distribution statistics on large
tensors, exact patterns (eye, dirac), orthogonality, and in-place semantics."""

import math

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd import nn
from retrograd.nn import init

NONLINEARITIES = [
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_matches_pytorch(nonlinearity):
    assert init.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)


@pytest.mark.parametrize("slope", [0, 0.2, 1, 3.5])
def test_leaky_relu_gain_with_slope(slope):
    assert init.calculate_gain("leaky_relu", slope) == torch.nn.init.calculate_gain("leaky_relu", slope)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="negative_slope x not a valid number"):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 4, 3, 2), (2, 3, 1, 1, 4), (4, 0)])
def test_fan_in_and_fan_out_match_pytorch(shape):
    ours = init._calculate_fan_in_and_fan_out(rg.empty(shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(rg.empty(3))
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(rg.empty(3, 3), mode="fan_avg")


def uniform_std(bound):
    return bound / math.sqrt(3.0)


def check_moments(tensor, mean, std, tol=0.02):
    values = tensor.detach().numpy().astype(np.float64)
    assert abs(values.mean() - mean) < tol * max(std, 1e-12) * 3 + 1e-12
    assert abs(values.std() / std - 1) < tol


def test_uniform_and_normal_statistics():
    t = rg.empty(400, 500)
    assert init.uniform_(t, -2.0, 3.0) is t
    values = t.numpy()
    assert values.min() >= -2.0 and values.max() <= 3.0
    check_moments(t, 0.5, 5.0 / math.sqrt(12.0))
    init.normal_(t, 1.5, 0.25)
    check_moments(t, 1.5, 0.25)
    assert t.dtype == rg.float32


def test_trunc_normal_bounds_and_moments():
    t = rg.empty(500, 400, dtype=rg.float64)
    init.trunc_normal_(t, mean=0.5, std=2.0, a=-1.0, b=3.0)
    values = t.numpy()
    assert values.min() >= -1.0 and values.max() <= 3.0
    mean, std = truncated_normal_moments(0.5, 2.0, -1.0, 3.0)
    assert abs(values.mean() - mean) < 0.01 and abs(values.std() / std - 1) < 0.01


def test_trunc_normal_narrow_interval_in_the_tail():
    # Little of the mass lies in [a, b]: the uniform-proposal branch.
    t = rg.empty(300, 300, dtype=rg.float64)
    init.trunc_normal_(t, mean=0.0, std=1.0, a=1.5, b=2.5)
    values = t.numpy()
    assert values.min() >= 1.5 and values.max() <= 2.5
    mean, std = truncated_normal_moments(0.0, 1.0, 1.5, 2.5)
    assert abs(values.mean() - mean) < 0.005 and abs(values.std() / std - 1) < 0.02
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(rg.empty(10), mean=10.0, std=1.0, a=-2.0, b=2.0)


def truncated_normal_moments(mean, std, a, b):
    """Mean and standard deviation of N(mean, std^2) truncated to [a, b]."""
    alpha, beta = (a - mean) / std, (b - mean) / std

    def pdf(x):
        return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

    def cdf(x):
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    z = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / z
    variance = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - shift**2
    return mean + std * shift, std * math.sqrt(variance)


def test_constant_zeros_ones_eye_match_pytorch():
    t = rg.empty(3, 5)
    assert init.constant_(t, 0.25) is t and np.all(t.numpy() == 0.25)
    assert np.all(init.zeros_(t).numpy() == 0) and np.all(init.ones_(t).numpy() == 1)
    np.testing.assert_array_equal(init.eye_(t).numpy(), torch.nn.init.eye_(torch.empty(3, 5)).numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(rg.empty(2, 2, 2))


@pytest.mark.parametrize(("shape", "groups"), [((4, 3, 5), 1), ((6, 2, 3, 3), 2), ((4, 4, 3, 2, 3), 4)])
def test_dirac_matches_pytorch(shape, groups):
    ours = init.dirac_(rg.ones(shape), groups=groups)
    theirs = torch.nn.init.dirac_(torch.ones(shape), groups=groups)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_dirac_errors():
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
        init.dirac_(rg.empty(2, 2))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(rg.empty(3, 2, 3), groups=2)


def test_xavier_statistics():
    t = rg.empty(300, 200, 3)  # fan_in 600, fan_out 900
    std = math.sqrt(2.0 / 1500)
    init.xavier_uniform_(t, gain=2.0)
    assert np.abs(t.numpy()).max() <= 2.0 * math.sqrt(3.0) * std
    check_moments(t, 0.0, 2.0 * std)
    init.xavier_normal_(t)
    check_moments(t, 0.0, std)


@pytest.mark.parametrize(
    ("a", "mode", "nonlinearity"),
    [
        (0, "fan_in", "leaky_relu"),
        (math.sqrt(5), "fan_in", "leaky_relu"),
        (0, "fan_out", "relu"),
        (0, "fan_in", "tanh"),
    ],
)
def test_kaiming_statistics(a, mode, nonlinearity):
    t = rg.empty(400, 250, 2)  # fan_in 500, fan_out 800
    fan = 500 if mode == "fan_in" else 800
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    assert np.abs(t.numpy()).max() <= math.sqrt(3.0) * std * (1 + 1e-6)
    check_moments(t, 0.0, std)
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    check_moments(t, 0.0, std)


def test_kaiming_on_zero_element_tensor_is_a_no_op():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        t = init.kaiming_uniform_(rg.empty(0, 3))
    assert t.shape == (0, 3)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (3, 2, 4), (8, 2, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    t = init.orthogonal_(rg.empty(shape, dtype=rg.float64), gain=2.0)
    flat = t.numpy().reshape(shape[0], -1) / 2.0
    rows, cols = flat.shape
    product = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(product, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_is_uniform_not_biased_by_qr_signs():
    # With the sign correction, the diagonal of Q has no preferred sign.
    diagonals = [np.diag(init.orthogonal_(rg.empty(4, 4, dtype=rg.float64)).numpy()) for _ in range(400)]
    assert abs(np.mean(np.sign(diagonals))) < 0.1
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(rg.empty(3))


def test_sparse_zeroes_a_fraction_of_each_column():
    t = init.sparse_(rg.empty(10, 300), sparsity=0.35, std=0.5)
    zeros_per_column = (t.numpy() == 0).sum(axis=0)
    assert np.all(zeros_per_column == math.ceil(0.35 * 10))
    nonzero = t.numpy()[t.numpy() != 0]
    assert abs(nonzero.std() / 0.5 - 1) < 0.05


def test_draws_follow_the_default_generator_and_a_given_one():
    rg.manual_seed(7)
    first = init.normal_(rg.empty(5)).numpy().copy()
    rg.manual_seed(7)
    np.testing.assert_array_equal(init.normal_(rg.empty(5)).numpy(), first)
    generator = rg.Generator().manual_seed(3)
    own = init.uniform_(rg.empty(5), generator=generator).numpy().copy()
    np.testing.assert_array_equal(own, init.uniform_(rg.empty(5), generator=rg.Generator().manual_seed(3)).numpy())


def test_writes_in_place_without_recording():
    p = nn.Parameter(rg.zeros(4, 4))
    alias = p.detach()  # shares the array
    version = p._version
    init.normal_(p)
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    np.testing.assert_array_equal(alias.numpy(), p.detach().numpy())
    assert p._version > version


def test_bad_tensors_are_rejected():
    with pytest.raises(TypeError, match="uniform_: expected a retrograd Tensor, got ndarray"):
        init.uniform_(np.zeros(3))
    with pytest.raises(TypeError, match="normal_: expected a floating point tensor, got dtype int64"):
        init.normal_(rg.zeros(3, dtype=rg.int64))
    with pytest.raises(RuntimeError, match=r"normal expects std >= 0.0, but found std -1"):
        init.normal_(rg.zeros(3), std=-1)
