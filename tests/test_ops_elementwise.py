"""Arithmetic ops: gradcheck, gradgradcheck and PyTorch comparison over broadcast,
size-0/size-1 and non-contiguous shapes."""

import numpy as np
import pytest

import retrograd as rg

from oracle import Case, check_case, parametrize_cases

BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)), ((0, 3), (3,)), ((), (2, 2))]


def _binary_cases(name, fn, **kwargs):
    return [Case(f"{name}{list(a)}x{list(b)}", fn, shapes=(a, b), **kwargs) for a, b in BROADCAST_PAIRS]


CASES = [
    *_binary_cases("add", lambda lib, x, y: x + y),
    *_binary_cases("sub", lambda lib, x, y: x - y),
    *_binary_cases("mul", lambda lib, x, y: x * y),
    *_binary_cases("div", lambda lib, x, y: x / y, make_inputs=None, low=0.5, high=2.0),
    *_binary_cases("pow", lambda lib, x, y: x**y, low=0.5, high=2.0),
    Case("add_alpha", lambda lib, x, y: lib.add(x, y, alpha=-2.5), shapes=((3, 4), (4,))),
    Case("sub_alpha", lambda lib, x, y: lib.sub(x, y, alpha=0.5), shapes=((3, 4), (4,))),
    Case("add_scalar", lambda lib, x: x + 1.5),
    Case("radd_scalar", lambda lib, x: 1.5 + x),
    Case("sub_scalar", lambda lib, x: x - 1.5),
    Case("rsub_scalar", lambda lib, x: 1.5 - x),
    Case("mul_scalar", lambda lib, x: x * -3.0),
    Case("rmul_scalar", lambda lib, x: 3 * x),
    Case("div_scalar", lambda lib, x: x / 3.0),
    Case("rdiv_scalar", lambda lib, x: 3.0 / x, low=0.5, high=2.0),
    Case("pow_scalar", lambda lib, x: x**3),
    Case("pow_scalar_fractional", lambda lib, x: x**2.5, low=0.5, high=2.0),
    Case("pow_scalar_negative", lambda lib, x: x**-1.5, low=0.5, high=2.0),
    Case("pow_scalar_zero", lambda lib, x: x**0),
    Case("rpow_scalar", lambda lib, x: 2.0**x),
    Case("neg", lambda lib, x: -x),
    Case("exp", lambda lib, x: x.exp()),
    Case("log", lambda lib, x: lib.log(x), low=0.5, high=3.0),
    Case("where", lambda lib, x, y: lib.where(x > 0, x, y), shapes=((3, 4), (4,))),
    Case("where_scalar", lambda lib, x: lib.where(x > 0, x, 0.0)),
    Case("clone", lambda lib, x: x.clone() * 2),
    Case("size0", lambda lib, x: (x * 2).exp(), shapes=((0, 4),)),
    Case("size1", lambda lib, x: x * x, shapes=((1, 1),)),
    Case("scalar0d", lambda lib, x: x * x, shapes=((),)),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_elementwise(case, layout):
    check_case(case, layout=layout)


def test_integer_division_gives_default_float():
    a = rg.tensor([1, 2, 3])
    assert (a / 2).dtype == rg.float32
    assert (a / a).dtype == rg.float32
    assert rg.div(rg.tensor([7, -7]), 2, rounding_mode="floor").tolist() == [3, -4]
    assert rg.div(rg.tensor([7, -7]), 2, rounding_mode="trunc").tolist() == [3, -3]


def test_dtype_promotion_follows_pytorch():
    f32 = rg.ones(2)
    assert (f32 + rg.tensor([1, 2])).dtype == rg.float32
    assert (f32 + rg.tensor(1.0, dtype=rg.float64)).dtype == rg.float32  # 0-d does not promote within a category
    assert (f32 + rg.ones(2, dtype=rg.float64)).dtype == rg.float64
    assert (rg.tensor([1, 2]) + 1.5).dtype == rg.float32
    assert (rg.tensor([1, 2]) * 2).dtype == rg.int64


def test_mixed_dtype_gradients_keep_each_input_dtype():
    a = rg.ones(3, requires_grad=True)
    b = rg.ones(3, dtype=rg.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == rg.float32 and b.grad.dtype == rg.float64


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"add.*\[2, 3\].*\[4\]"):
        rg.ones(2, 3) + rg.ones(4)


def test_comparisons_are_bool_and_not_differentiable():
    x = rg.tensor([1.0, -1.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == rg.bool and not mask.requires_grad
    assert mask.tolist() == [True, False]
    assert (x == x).tolist() == [True, True]


def test_numpy_array_on_the_left_defers_to_tensor():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, rg.Tensor)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]
