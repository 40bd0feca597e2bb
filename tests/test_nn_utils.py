"""nn.utils: gradient clipping and parameter/vector conversion against PyTorch."""

import math

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd import nn
from retrograd.nn import utils

SHAPES = [(3, 4), (5,), (2, 2, 2), ()]


def make_params(dtypes=None, scale=1.0, seed=0):
    """The same parameters with the same gradients in retrograd and PyTorch."""
    rng = np.random.default_rng(seed)
    dtypes = dtypes or [np.float64] * len(SHAPES)
    ours, theirs = [], []
    for shape, dtype in zip(SHAPES, dtypes):
        value = rng.standard_normal(shape).astype(dtype)
        grad = (rng.standard_normal(shape) * scale).astype(dtype)
        p = nn.Parameter(rg.tensor(value))
        p.grad = rg.tensor(grad)
        q = torch.nn.Parameter(torch.tensor(value))
        q.grad = torch.tensor(grad)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


def assert_grads_close(ours, theirs, rtol=1e-12):
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf, "inf", 0.0, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    ours, theirs = make_params(scale=3.0)
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, rg.Tensor) and total.shape == () and total.dtype == rg.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    assert_grads_close(ours, theirs)


def test_clip_grad_norm_float32_and_mixed_dtypes():
    ours, theirs = make_params(dtypes=[np.float32] * 4, scale=2.0)
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.dtype == rg.float32
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    assert_grads_close(ours, theirs, rtol=1e-6)
    assert all(p.grad.dtype == rg.float32 for p in ours)

    ours, theirs = make_params(dtypes=[np.float32, np.float64, np.float32, np.float64], scale=2.0)
    total = utils.clip_grad_norm_(ours, 1.0, norm_type=3.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=3.0)
    assert total.dtype == rg.float64 and expected.dtype == torch.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    assert_grads_close(ours, theirs, rtol=1e-6)


def test_clip_grad_norm_accepts_a_tensor_a_generator_and_skips_missing_grads():
    ours, theirs = make_params()
    ours[1].grad, theirs[1].grad = None, None
    total = utils.clip_grad_norm_(iter(ours), 0.1)
    expected = torch.nn.utils.clip_grad_norm_(iter(theirs), 0.1)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    assert ours[1].grad is None
    single = ours[0]
    before = np.linalg.norm(single.grad.numpy())
    norm = utils.clip_grad_norm_(single, 1e-3)
    assert norm.item() == pytest.approx(before, rel=1e-12)
    assert np.linalg.norm(single.grad.numpy()) == pytest.approx(1e-3, rel=1e-3)


def test_clip_grad_norm_without_gradients_is_zero():
    total = utils.clip_grad_norm_([nn.Parameter(rg.ones(2))], 1.0)
    assert total.item() == 0.0 and total.dtype == rg.float32
    with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
        utils.clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_norm_non_finite():
    p = nn.Parameter(rg.ones(3))
    p.grad = rg.tensor([1.0, math.inf, 0.0])
    with pytest.raises(
        RuntimeError, match=r"The total norm of order 2.0 for gradients from `parameters` is non-finite"
    ):
        utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    total = utils.clip_grad_norm_([p], 1.0)
    assert math.isinf(total.item())
    q = torch.nn.Parameter(torch.ones(3))
    q.grad = torch.tensor([1.0, math.inf, 0.0])
    torch.nn.utils.clip_grad_norm_([q], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())  # scaled by 1/inf, as PyTorch does


def test_clip_grad_norm_keeps_grad_identity():
    ours, _ = make_params(scale=5.0)
    grads = [p.grad for p in ours]
    utils.clip_grad_norm_(ours, 0.1)
    assert all(p.grad is g for p, g in zip(ours, grads))


def test_get_total_norm_and_clip_grads_with_norm_match_pytorch():
    ours, theirs = make_params(scale=2.0)
    total = utils.get_total_norm([p.grad for p in ours], norm_type=1.5)
    expected = torch.nn.utils.get_total_norm([q.grad for q in theirs], norm_type=1.5)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    utils.clip_grads_with_norm_(ours, 0.7, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.7, expected)
    assert_grads_close(ours, theirs)


@pytest.mark.parametrize("clip_value", [0.3, 5.0])
def test_clip_grad_value_matches_pytorch(clip_value):
    ours, theirs = make_params()
    assert utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert_grads_close(ours, theirs)


def test_parameters_to_vector_and_back_match_pytorch():
    ours, theirs = make_params()
    vector = utils.parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vector.detach().numpy(), expected.detach().numpy())
    assert vector.requires_grad  # differentiable, as in PyTorch
    for p in ours:
        p.grad = None
    weights = rg.arange(vector.shape[0], dtype=rg.float64)
    (vector * weights).sum().backward()
    offset = 0
    for p, shape in zip(ours, SHAPES):
        size = int(np.prod(shape))
        np.testing.assert_array_equal(p.grad.numpy(), np.arange(offset, offset + size).reshape(shape))
        offset += size


def test_vector_to_parameters_shares_memory_with_the_vector():
    ours, theirs = make_params()
    source = np.linspace(-1.0, 1.0, sum(int(np.prod(s)) for s in SHAPES))
    vec = rg.tensor(source)
    utils.vector_to_parameters(vec, ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(source), theirs)
    for p, q in zip(ours, theirs):
        assert isinstance(p, nn.Parameter) and p.shape == q.shape
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    vec._data[0] = 100.0
    assert ours[0]._data[0, 0] == 100.0
    with pytest.raises(TypeError, match=r"expected retrograd.Tensor, but got: ndarray"):
        utils.vector_to_parameters(source, ours)
    with pytest.raises(RuntimeError, match=r"expected a 1-D vector of 26 elements .* got shape \[3\]"):
        utils.vector_to_parameters(rg.ones(3), ours)
