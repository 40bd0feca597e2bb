"""User-defined ops with ``retrograd.autograd.Function``, checked against
finite differences and against the same Function written for PyTorch."""

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd import autograd

from oracle import assert_close


def make_cube(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

    return Cube


def make_exp(lib):
    """Saves its output: double backward must see the output connected to the node."""

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result

    return Exp


def make_scaled_product(lib):
    """Two outputs, a non-tensor argument, and a None gradient for it."""

    class ScaledProduct(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return a * b * scale, a + b

        @staticmethod
        def backward(ctx, grad_product, grad_sum):
            a, b = ctx.saved_tensors
            return grad_product * b * ctx.scale + grad_sum, grad_product * a * ctx.scale + grad_sum, None

    return ScaledProduct


def test_cube_passes_gradcheck_and_gradgradcheck():
    x = rg.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    cube = make_cube(rg)
    assert autograd.gradcheck(cube.apply, (x,))
    assert autograd.gradgradcheck(cube.apply, (x,))


def test_function_output_has_the_function_node():
    x = rg.ones(2, requires_grad=True)
    y = make_cube(rg).apply(x)
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "CubeBackward"
    assert y.grad_fn.next_functions[0][0].variable is x


def test_double_backward_through_a_function_that_saves_its_output():
    values = np.array([0.5, -1.0, 2.0])
    results = []
    for lib in (rg, torch):
        x = lib.tensor(values, requires_grad=True)
        y = make_exp(lib).apply(x * 2)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        results.append((g, gg))
    assert_close(results[0][0], results[1][0], "first derivative")
    assert_close(results[0][1], results[1][1], "second derivative")


def test_multiple_outputs_and_non_tensor_arguments():
    a_values, b_values = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    results = []
    for lib in (rg, torch):
        a = lib.tensor(a_values, requires_grad=True)
        b = lib.tensor(b_values, requires_grad=True)
        product, total = make_scaled_product(lib).apply(a, b, 0.5)
        (product * total).sum().backward()
        results.append((product, total, a.grad, b.grad))
    for name, ours, theirs in zip(["product", "sum", "a.grad", "b.grad"], *results, strict=True):
        assert_close(ours, theirs, name)


def test_only_one_output_used_gets_zeros_for_the_other():
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    b = rg.tensor([3.0, 4.0], requires_grad=True)
    product, _ = make_scaled_product(rg).apply(a, b, 2.0)
    product.sum().backward()  # grad_sum is materialised as zeros
    assert a.grad.tolist() == [6.0, 8.0]


def test_set_materialize_grads_false_passes_none():
    received = []

    class TwoOutputs(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            received.append((grad_a is None, grad_b is None))
            return grad_a * 2

    x = rg.ones(2, requires_grad=True)
    first, _ = TwoOutputs.apply(x)
    first.sum().backward()
    assert received == [(False, True)]
    assert x.grad.tolist() == [2.0, 2.0]


def test_needs_input_grad_in_forward_and_backward():
    seen = {}

    class Mix(rg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, factor):
            seen["forward"] = ctx.needs_input_grad
            return a * b * factor

        @staticmethod
        def backward(ctx, grad):
            seen["backward"] = ctx.needs_input_grad
            return grad, None, None

    a, b = rg.ones(2, requires_grad=True), rg.ones(2)
    Mix.apply(a, b, 3.0).sum().backward()
    assert seen == {"forward": (True, False, False), "backward": (True, False, False)}


def test_forward_runs_without_recording():
    class Inspect(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            inner = x * 2
            assert not inner.requires_grad and not rg.is_grad_enabled()
            return inner

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = rg.ones(2, requires_grad=True)
    Inspect.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and rg.is_grad_enabled()


def test_without_inputs_that_require_grad_outputs_are_plain():
    y = make_cube(rg).apply(rg.tensor([2.0]))
    assert not y.requires_grad and y.tolist() == [8.0]
    with rg.no_grad():
        assert not make_cube(rg).apply(rg.ones(1, requires_grad=True)).requires_grad


def test_mark_non_differentiable():
    class SortLike(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            order = rg.tensor(np.argsort(x.detach().numpy()).astype(np.float64))
            ctx.mark_non_differentiable(order)
            return x * 2, order

        @staticmethod
        def backward(ctx, grad, grad_order):
            assert grad_order.tolist() == [0.0, 0.0, 0.0]
            return grad * 2

    x = rg.tensor([3.0, 1.0, 2.0], requires_grad=True)
    doubled, order = SortLike.apply(x)
    assert doubled.requires_grad and not order.requires_grad
    doubled.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_returning_an_input_unchanged_makes_a_new_node_output():
    class Identity(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 5

    x = rg.ones(2, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and y.grad_fn.name() == "IdentityBackward"
    assert np.shares_memory(y.detach().numpy(), x.detach().numpy())
    y.sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_saved_tensor_changed_in_place_is_detected():
    x = rg.ones(3, requires_grad=True)
    h = x * 2
    y = make_cube(rg).apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*saved tensor 0 of CubeBackward"):
        y.sum().backward()


def test_saved_output_changed_in_place_is_detected():
    x = rg.ones(3, requires_grad=True)
    y = make_exp(rg).apply(x)
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"output 0 of ExpBackward.*version 1"):
        y.sum().backward()


def test_second_backward_through_a_function_without_retain_graph():
    x = rg.ones(2, requires_grad=True)
    y = make_cube(rg).apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"CubeBackward.*second time"):
        y.backward()
    z = make_cube(rg).apply(x).sum()
    z.backward(retain_graph=True)
    z.backward()


def test_wrong_number_of_gradients_is_an_error():
    class TooMany(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    class ExtraNone(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad, None  # extra Nones are allowed, as in PyTorch

    x = rg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"TooManyBackward returned an incorrect number of gradients"):
        TooMany.apply(x).sum().backward()
    ExtraNone.apply(x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_gradient_of_the_wrong_shape_is_an_error():
    class BadShape(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return rg.ones(5)

    with pytest.raises(RuntimeError, match=r"BadShapeBackward returned an invalid gradient.*\[5\].*\[2, 3\]"):
        BadShape.apply(rg.ones(2, 3, requires_grad=True)).sum().backward()


def test_broadcast_gradient_is_summed_to_the_input_shape():
    class Spread(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad.expand(4, 3)  # broadcastable to the input's shape (3,)

    x = rg.ones(3, requires_grad=True)
    Spread.apply(x).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]
