"""Property tests: for random pairs of broadcastable shapes, + - * / give the
broadcast shape, and each input's gradient has that input's shape and equals
PyTorch's (float64, to 1e-10)."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import retrograd as rg

from oracle import assert_close

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}

SHAPE_PAIRS = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=4)


@settings(max_examples=40, deadline=None)
@given(shapes=SHAPE_PAIRS, op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2**16))
def test_binary_op_broadcasting_and_gradients(shapes, op, seed):
    (shape_a, shape_b), result_shape = shapes
    rng = np.random.default_rng(seed)
    a_values = rng.uniform(0.5, 2.0, shape_a) * rng.choice([-1.0, 1.0], shape_a)
    b_values = rng.uniform(0.5, 2.0, shape_b) * rng.choice([-1.0, 1.0], shape_b)
    fn = OPS[op]

    a, b = rg.tensor(a_values, requires_grad=True), rg.tensor(b_values, requires_grad=True)
    ta, tb = torch.tensor(a_values, requires_grad=True), torch.tensor(b_values, requires_grad=True)
    out, expected = fn(a, b), fn(ta, tb)
    assert out.shape == np.broadcast_shapes(shape_a, shape_b) == result_shape
    assert_close(out, expected, f"{op} forward")

    seed_grad = rng.standard_normal(result_shape)
    out.backward(rg.tensor(seed_grad))
    expected.backward(torch.tensor(seed_grad))
    for name, ours, theirs, shape in (("a", a, ta, shape_a), ("b", b, tb, shape_b)):
        assert ours.grad.shape == shape, f"{op}: gradient of {name} has shape {ours.grad.shape}, not {shape}"
        assert ours.grad.dtype == rg.float64
        assert_close(ours.grad, theirs.grad, f"{op}: gradient of {name}")


@settings(max_examples=20, deadline=None)
@given(shapes=SHAPE_PAIRS, seed=st.integers(0, 2**16))
def test_broadcast_gradients_match_pytorch_in_a_longer_expression(shapes, seed):
    """A broadcast input reused several times: its gradient sums over every use."""
    (shape_a, shape_b), _ = shapes
    rng = np.random.default_rng(seed)
    a_values, b_values = rng.uniform(0.5, 2.0, shape_a), rng.uniform(0.5, 2.0, shape_b)
    results = []
    for lib in (rg, torch):
        a = lib.tensor(a_values, requires_grad=True)
        b = lib.tensor(b_values, requires_grad=True)
        out = ((a * b - a) / (b + 1) + a * a * b).sum()
        out.backward()
        results.append((a.grad, b.grad))
    assert results[0][0].shape == shape_a and results[0][1].shape == shape_b
    assert_close(results[0][0], results[1][0], "gradient of a")
    assert_close(results[0][1], results[1][1], "gradient of b")
