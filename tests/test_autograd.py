"""The backward engine: backward/grad arguments, grad modes, hooks, graph reuse,
version counters and in-place rules, anomaly mode, and the walk's scaling and
memory behaviour. Results are compared with PyTorch's."""

import gc
import inspect
import time
import weakref

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd import autograd

from oracle import assert_close


def pair(array, requires_grad=True):
    """The same float64 values as a retrograd and a PyTorch leaf."""
    array = np.asarray(array, dtype=np.float64)
    return (
        rg.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def line_of(marker: str) -> int:
    """The line number in this file of the line containing ``marker``."""
    lines = inspect.getsource(inspect.getmodule(line_of)).splitlines()
    return next(i for i, line in enumerate(lines, 1) if marker in line and "line_of(" not in line)


RNG = np.random.default_rng(0)


# ----------------------------------------------------------------------- backward


def test_backward_accumulates_over_two_calls():
    values = RNG.standard_normal((2, 3))
    for lib, x in zip((rg, torch), pair(values), strict=True):
        (x * x).sum().backward()
        (x.exp() * 2).sum().backward()
        if lib is rg:
            ours = x.grad
        else:
            theirs = x.grad
    assert_close(ours, theirs, "two backward calls")


def test_backward_with_explicit_gradient():
    values, seed = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    x, tx = pair(values)
    (x * x + x).backward(rg.tensor(seed))
    (tx * tx + tx).backward(torch.tensor(seed))
    assert_close(x.grad, tx.grad, "explicit gradient")


def test_non_scalar_backward_without_gradient_names_the_shape():
    x = rg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs.*shape \[2, 3\]"):
        (x * 2).backward()


def test_gradient_of_the_wrong_shape_is_rejected():
    x = rg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mismatch in shape.*\[3\].*\[2\]"):
        (x * 2).backward(rg.ones(3))


def test_gradient_of_another_dtype_is_cast_to_the_output_dtype():
    x = rg.ones(2, requires_grad=True)
    (x * 2).backward(rg.ones(2, dtype=rg.float64))
    assert x.grad.dtype == rg.float32
    assert x.grad.tolist() == [2.0, 2.0]


def test_backward_on_a_tensor_outside_the_graph_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        rg.ones(1).backward()
    with rg.no_grad():
        y = rg.ones(1, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_second_backward_without_retain_graph_fails_once_saved_values_are_freed():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"MulBackward0.*second time.*retain_graph=True"):
        y.backward()


def test_second_backward_works_when_nothing_was_saved():
    x, tx = pair([1.0, 2.0])
    for t in (x, tx):
        y = (t + 1).sum()
        y.backward()
        y.backward()
    assert_close(x.grad, tx.grad, "graph with no saved values")
    assert x.grad.tolist() == [2.0, 2.0]


def test_retain_graph_allows_backward_twice():
    x, tx = pair([1.0, 2.0, 3.0])
    for t in (x, tx):
        y = (t.exp() * t).sum()
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()
    assert_close(x.grad, tx.grad, "three backward calls")


def test_backward_inputs_restricts_accumulation():
    values = RNG.standard_normal(3)
    (a, ta), (b, tb) = pair(values), pair(values + 1)
    for x, y in ((a, b), (ta, tb)):
        h = x * y
        (h * h).sum().backward(inputs=[x])
    assert b.grad is None and tb.grad is None
    assert_close(a.grad, ta.grad, "inputs=[a]")


def test_backward_inputs_fills_non_leaf_grad_like_pytorch():
    x, tx = pair([1.0, 2.0])
    results = []
    for t in (x, tx):
        y = t * 2
        (y * y).sum().backward(inputs=[y])
        results.append((y.grad, t.grad))
    assert_close(results[0][0], results[1][0], "non-leaf input's grad")
    assert results[0][1] is None and results[1][1] is None


def test_backward_inputs_must_not_be_empty():
    x = rg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="should not be empty"):
        (x * 2).sum().backward(inputs=[])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_makes_grad_differentiable():
    x, tx = pair([0.5, -1.5, 2.0])
    for t in (x, tx):
        (t**3).sum().backward(create_graph=True)
        first = t.grad
        assert first.requires_grad
        t.grad = None
        (first * first).sum().backward()  # d/dx (3x^2)^2 = 36 x^3
    assert_close(x.grad, tx.grad, "second derivative through .grad")
    np.testing.assert_allclose(x.grad.numpy(), 36 * np.array([0.5, -1.5, 2.0]) ** 3)


def test_grads_of_two_leaves_never_share_memory():
    a, b = rg.ones(3, requires_grad=True), rg.ones(3, requires_grad=True)
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    (a * 3).sum().backward()
    assert a.grad.tolist() == [4.0, 4.0, 4.0]
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_explicit_gradient_array_is_not_aliased_by_grad():
    x = rg.ones(3, requires_grad=True)
    seed = rg.tensor([1.0, 2.0, 3.0])
    x.backward(seed)
    x.backward(seed)
    assert seed.tolist() == [1.0, 2.0, 3.0]
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


# ------------------------------------------------------------------ autograd.grad


def test_grad_returns_gradients_without_touching_dot_grad():
    values = RNG.standard_normal(4)
    x, tx = pair(values)
    (g,) = autograd.grad((x.exp() * x).sum(), x)
    (tg,) = torch.autograd.grad((tx.exp() * tx).sum(), tx)
    assert_close(g, tg, "autograd.grad")
    assert x.grad is None
    assert not g.requires_grad


def test_grad_with_grad_outputs_and_non_leaf_inputs():
    values, seed = RNG.standard_normal(3), RNG.standard_normal(3)
    x, tx = pair(values)
    h, th = x * 3, tx * 3
    ours = autograd.grad(h.exp(), [h, x], grad_outputs=rg.tensor(seed))
    theirs = torch.autograd.grad(th.exp(), [th, tx], grad_outputs=torch.tensor(seed))
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a, b, "grad w.r.t. a non-leaf and a leaf")


def test_grad_allow_unused_and_materialize_grads():
    x, unused = rg.ones(2, requires_grad=True), rg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"index 1.*not have been used.*allow_unused=True"):
        autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gu is None
    gx, gu = autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    assert gu.tolist() == [0.0, 0.0, 0.0] and gu.dtype == unused.dtype


def test_grad_input_must_require_grad():
    x = rg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad((x * 2).sum(), rg.ones(2))


def test_second_derivatives_match_pytorch():
    xv, yv = RNG.standard_normal(3), RNG.standard_normal(3)
    results = []
    for lib in (rg, torch):
        x = lib.tensor(xv, requires_grad=True)
        y = lib.tensor(yv, requires_grad=True)
        f = (x**3 * y + (x * y).exp()).sum()
        gx, gy = lib.autograd.grad(f, [x, y], create_graph=True)
        gxx, gxy = lib.autograd.grad(gx.sum(), [x, y], retain_graph=True)
        (gyy,) = lib.autograd.grad((gy * gy).sum(), [y])
        results.append((gx, gy, gxx, gxy, gyy))
    for name, a, b in zip(["gx", "gy", "gxx", "gxy", "gyy"], *results, strict=True):
        assert_close(a, b, name)


def test_hessian_vector_product_matches_pytorch():
    a_values, x_values, v = RNG.standard_normal((4, 3)), RNG.standard_normal(3), RNG.standard_normal(3)
    results = []
    for lib in (rg, torch):
        a = lib.tensor(a_values)
        x = lib.tensor(x_values, requires_grad=True)
        f = (a @ x).tanh().sum() + (x**4).sum()
        (g,) = lib.autograd.grad(f, x, create_graph=True)
        (hvp,) = lib.autograd.grad((g * lib.tensor(v)).sum(), x)
        results.append(hvp)
    assert_close(*results, "Hessian-vector product")


def test_gradient_penalty_matches_pytorch():
    """WGAN-GP: the loss contains the norm of a gradient, so backward goes through a backward."""
    w_values, x_values = RNG.standard_normal((3, 2)), RNG.standard_normal((5, 3))
    results = []
    for lib in (rg, torch):
        w = lib.tensor(w_values, requires_grad=True)
        x = lib.tensor(x_values, requires_grad=True)
        critic = (x @ w).tanh().sum()
        (gx,) = lib.autograd.grad(critic, x, create_graph=True)
        penalty = (((gx * gx).sum(1) + 1e-12).sqrt() - 1.0) ** 2
        loss = critic + 10.0 * penalty.mean()
        loss.backward()
        results.append((w.grad, x.grad))
    assert_close(results[0][0], results[1][0], "gradient penalty: d/dw")
    assert_close(results[0][1], results[1][1], "gradient penalty: d/dx")


# ---------------------------------------------------------------------- grad mode


def test_no_grad_and_enable_grad_as_context_managers():
    x = rg.ones(2, requires_grad=True)
    with rg.no_grad():
        assert not (x * 2).requires_grad
        assert not rg.is_grad_enabled()
        with rg.enable_grad():
            assert (x * 2).requires_grad
        assert not rg.is_grad_enabled()
    assert rg.is_grad_enabled() and (x * 2).requires_grad


def test_grad_modes_as_decorators_with_and_without_parentheses():
    x = rg.ones(2, requires_grad=True)

    @rg.no_grad()
    def double(t):
        return t * 2

    @rg.no_grad
    def triple(t):
        return t * 3

    @rg.enable_grad()
    def recorded(t):
        return t * 2

    @rg.inference_mode()
    def inferred(t):
        return t * 2, rg.is_inference_mode_enabled()

    assert double.__name__ == "double"
    assert not double(x).requires_grad and not triple(x).requires_grad
    with rg.no_grad():
        assert recorded(x).requires_grad
    out, in_inference = inferred(x)
    assert not out.requires_grad and in_inference
    assert rg.is_grad_enabled() and not rg.is_inference_mode_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError), rg.no_grad():
        raise ValueError

    @rg.no_grad()
    def fails():
        raise ValueError

    with pytest.raises(ValueError):
        fails()
    assert rg.is_grad_enabled()


def test_set_grad_enabled_as_function_context_and_decorator():
    x = rg.ones(2, requires_grad=True)
    try:
        rg.set_grad_enabled(False)  # immediate effect, like PyTorch's
        assert not rg.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        rg.set_grad_enabled(True)
    with rg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert rg.is_grad_enabled()
    with rg.no_grad(), rg.set_grad_enabled(True):
        assert (x * 2).requires_grad

    @rg.set_grad_enabled(False)
    def evaluate(t):
        return t * 2

    assert rg.is_grad_enabled()  # decorating does not switch the mode
    assert not evaluate(x).requires_grad
    assert rg.is_grad_enabled()


def test_inference_mode_false_leaves_grad_mode_alone():
    with rg.inference_mode():
        assert not rg.is_grad_enabled()
    with rg.inference_mode(False):
        assert rg.is_grad_enabled()
    assert rg.is_grad_enabled()


# -------------------------------------------------------------------------- hooks


def test_hook_on_a_leaf_replaces_its_gradient():
    x, tx = pair([1.0, 2.0])
    for t in (x, tx):
        t.register_hook(lambda g: g * 10)
        (t * t).sum().backward()
    assert_close(x.grad, tx.grad, "leaf hook")


def test_hook_on_a_non_leaf_changes_what_flows_on():
    x, tx = pair([1.0, 2.0])
    seen = []
    for t in (x, tx):
        h = t * 3
        h.register_hook(lambda g: seen.append(g.detach().clone()) or g * 2)
        (h * h).sum().backward()
    assert_close(x.grad, tx.grad, "non-leaf hook")
    assert_close(seen[0], seen[1], "gradient seen by the hook")


def test_hook_removal_through_its_handle():
    x = rg.ones(2, requires_grad=True)
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    h = x * 2
    h_handle = h.register_hook(lambda g: g * 100)
    h_handle.remove()
    h.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_leaf_hook_sees_the_summed_gradient_once():
    calls = []
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: calls.append(g.tolist()))
    (x * 2 + x * 3).sum().backward()
    assert calls == [[5.0, 5.0]]


def test_gradient_seen_by_a_hook_is_not_changed_by_later_accumulation():
    seen = []
    x = rg.ones(2, requires_grad=True)
    x.register_hook(seen.append)
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert seen[0].tolist() == [2.0, 2.0]
    assert x.grad.tolist() == [4.0, 4.0]


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        rg.ones(2).register_hook(lambda g: g)


def test_node_prehook_sees_all_output_gradients():
    x = rg.ones(2, requires_grad=True)
    y = x * 3
    seen = []

    def prehook(grad_outputs):
        seen.append(len(grad_outputs))
        return (grad_outputs[0] * 2,)

    y.grad_fn.register_prehook(prehook)
    y.sum().backward()
    assert seen == [1] and x.grad.tolist() == [6.0, 6.0]


def test_retain_grad_on_a_non_leaf_accumulates_like_pytorch():
    x, tx = pair([1.0, -2.0])
    retained = []
    for t in (x, tx):
        y = t * t
        y.retain_grad()
        assert y.retains_grad
        (y * 3).sum().backward(retain_graph=True)
        (y * 3).sum().backward()
        retained.append(y.grad)
    assert_close(*retained, "retained grad over two backward calls")
    assert retained[0].tolist() == [6.0, 6.0]
    assert not retained[0].requires_grad


# ------------------------------------------------------------------ graph reuse


def test_reused_node_gets_the_sum_of_its_gradients():
    a = rg.tensor(1.5, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_leaf_used_in_several_places_matches_pytorch():
    values = RNG.standard_normal((2, 3))
    x, tx = pair(values)
    for lib, t in ((rg, x), (torch, tx)):
        shared = t.exp()
        out = (shared * t).sum() + (t / (shared + 1)).sum() + (t**2 * shared).sum() + lib.log(t * t + 1).sum()
        out.backward()
    assert_close(x.grad, tx.grad, "leaf in several places")


def test_grad_fn_names_and_next_functions_follow_pytorch():
    x = rg.ones(2, requires_grad=True)
    w = rg.ones(2, requires_grad=True)
    names = {
        "mul": x * w,
        "mul_scalar": x * 2,
        "add": x + w,
        "add_scalar": x + 1,
        "sub": x - w,
        "rsub": 2 - x,
        "div": x / w,
        "pow": x**2,
        "pow_tensor": x**w,
        "rpow": 2**x,
        "neg": -x,
        "exp": x.exp(),
        "log": x.log(),
        "cast": x.double(),
        "clone": x.clone(),
    }
    expected = {
        "mul": "MulBackward0",
        "mul_scalar": "MulBackward0",
        "add": "AddBackward0",
        "add_scalar": "AddBackward0",
        "sub": "SubBackward0",
        "rsub": "RsubBackward1",
        "div": "DivBackward0",
        "pow": "PowBackward0",
        "pow_tensor": "PowBackward1",
        "rpow": "PowBackward2",
        "neg": "NegBackward0",
        "exp": "ExpBackward0",
        "log": "LogBackward0",
        "cast": "ToCopyBackward0",
        "clone": "CloneBackward0",
    }
    assert {k: v.grad_fn.name() for k, v in names.items()} == expected
    y = x * w
    assert repr(y.grad_fn) == "<MulBackward0>"
    (first, _), (second, _) = y.grad_fn.next_functions
    assert first.name() == "AccumulateGrad" and first.variable is x and second.variable is w
    z = y + 1
    assert z.grad_fn.next_functions[0][0] is y.grad_fn
    assert x.is_leaf and not y.is_leaf and rg.ones(2).is_leaf


# --------------------------------------------------------- versions and in-place


def test_in_place_change_of_a_saved_output_is_detected():
    x = rg.ones(3, requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*shape \[3\].*ExpBackward0.*version 1"):
        y.sum().backward()


def test_in_place_change_of_a_saved_input_is_detected():
    x = rg.ones(3, requires_grad=True)
    w = rg.ones(3, requires_grad=True)
    a = x * w
    with rg.no_grad():
        w.add_(1)
    with pytest.raises(
        RuntimeError, match=r"float32 tensor of shape \[3\].*input 1 of MulBackward0.*version 1; expected version 0"
    ):
        a.sum().backward()


def test_changes_through_dot_data_are_not_tracked_as_in_pytorch():
    values = [1.0, 2.0, 3.0]
    (x, tx), (w, tw) = pair(values), pair(values)
    for t, v in ((x, w), (tx, tw)):
        a = t * v
        v.data.mul_(10)  # invisible to the version counter: the new values are used
        a.sum().backward()
    assert_close(x.grad, tx.grad, ".data change")
    assert w._version == 0


def test_in_place_on_a_leaf_that_requires_grad():
    x = rg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf Variable that requires grad.*in-place"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x *= 2
    with rg.no_grad():
        x.add_(1)
        x.mul_(2)
    assert x.tolist() == [4.0, 4.0] and x.is_leaf and x.requires_grad


def test_in_place_ops_on_a_non_leaf_continue_the_graph():
    values = RNG.standard_normal(4)
    x, tx = pair(values)
    for t in (x, tx):
        y = t * 2
        y += 1
        y.mul_(3)
        y.sub_(t)
        y.div_(t * t + 1)
        (y * y).sum().backward()
    assert_close(x.grad, tx.grad, "in-place chain")
    y = x * 2
    y.mul_(3)
    assert y.grad_fn.name() == "MulBackward0" and y._version == 1


def test_in_place_into_a_plain_tensor_from_one_that_requires_grad():
    x, tx = pair([1.0, 2.0])
    for lib, t in ((rg, x), (torch, tx)):
        buffer = lib.zeros(2, dtype=lib.float64)
        buffer.add_(t * t)
        assert buffer.requires_grad and not buffer.is_leaf
        buffer.sum().backward()
    assert_close(x.grad, tx.grad, "accumulating into a buffer")


def test_copy_is_differentiable_with_respect_to_the_source():
    src_values = RNG.standard_normal(3)
    (x, tx), (s, ts) = pair(RNG.standard_normal((2, 3))), pair(src_values)
    for t, src in ((x, s), (tx, ts)):
        y = t * 2
        y.copy_(src * src)  # broadcast over the rows
        assert y.grad_fn.name().endswith("CopyBackwards")
        (y * y).sum().backward()
    assert_close(x.grad, tx.grad, "copy_: old value gets zero")
    assert_close(s.grad, ts.grad, "copy_: source")
    assert x.grad.tolist() == [[0.0] * 3] * 2
    f32 = rg.ones(3, requires_grad=True)
    target = rg.zeros(3, dtype=rg.float64)
    target.copy_(f32 * 2)
    target.sum().backward()
    assert target.dtype == rg.float64 and f32.grad.dtype == rg.float32 and f32.grad.tolist() == [2.0] * 3


def test_fill_and_zero_keep_a_non_leaf_connected_with_zero_gradient():
    x, tx = pair([1.0, 2.0])
    for t in (x, tx):
        y = t * 2
        y.fill_(3.0)
        z = t * 2
        z.zero_()
        (y + z).sum().backward()
    assert_close(x.grad, tx.grad, "fill_/zero_")
    assert x.grad.tolist() == [0.0, 0.0]


def test_in_place_result_must_fit_the_target_dtype():
    counts = rg.tensor([1, 2])
    with pytest.raises(RuntimeError, match=r"can't be cast.*int64"):
        counts.add_(rg.tensor([0.5, 0.5], requires_grad=True))
    with pytest.raises(RuntimeError, match="int64"):
        counts.add_(0.5)
    with pytest.raises(RuntimeError, match=r"doesn't match the broadcast shape|cannot write"):
        rg.ones(3).add_(rg.ones(2, 3))


def test_in_place_without_recording_updates_shared_memory():
    array = np.zeros(3, dtype=np.float32)
    t = rg.from_numpy(array)
    t.add_(2)
    t.mul_(rg.tensor([1.0, 2.0, 3.0]))
    assert array.tolist() == [2.0, 4.0, 6.0]
    assert t._version == 2


# ------------------------------------------------------------------ anomaly mode


def test_anomaly_mode_names_the_op_and_line_of_a_forward_nan():
    x = rg.tensor([-1.0, 1.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info, np.errstate(invalid="ignore"), rg.detect_anomaly():
        rg.log(x)  # forward-nan-marker
    message = str(info.value)
    assert "Log" in message and "nan" in message
    assert f"{__file__}" in message and f"line {line_of('forward-nan-marker')}" in message


def test_anomaly_mode_names_the_op_and_line_of_a_backward_nan():
    x = rg.tensor([0.0, 4.0], requires_grad=True)
    with rg.detect_anomaly():
        y = x**0.5  # backward-nan-marker
        with pytest.raises(FloatingPointError) as info, np.errstate(divide="ignore"):
            y.sum().backward()
    message = str(info.value)
    assert "PowBackward0" in message and ("nan" in message or "inf" in message)
    assert f"line {line_of('backward-nan-marker')}" in message and __file__ in message


def test_without_anomaly_mode_non_finite_values_pass_silently():
    x = rg.tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        (x**0.5).sum().backward()
    assert np.isinf(x.grad.numpy()[0]) and x.grad.numpy()[1] == 0.25
    assert not autograd.is_anomaly_enabled()


def test_detect_anomaly_as_a_decorator():
    @rg.detect_anomaly()
    def compute(t):
        return rg.log(t)

    with pytest.raises(FloatingPointError), np.errstate(invalid="ignore"):
        compute(rg.tensor([-1.0]))
    assert not autograd.is_anomaly_enabled()


# ------------------------------------------------------------------- mixed dtypes


def test_each_input_gets_a_gradient_of_its_own_dtype():
    a = rg.ones(3, requires_grad=True)
    b = rg.ones(3, dtype=rg.float64, requires_grad=True)
    c = rg.ones(1, dtype=rg.float16, requires_grad=True)
    out = (a * b + c).exp() + (a.double() / (b + 1)) - c.float().sum()
    out.sum().backward()
    assert (a.grad.dtype, b.grad.dtype, c.grad.dtype) == (rg.float32, rg.float64, rg.float16)
    assert a.grad.shape == (3,) and c.grad.shape == (1,)

    ta = torch.ones(3, dtype=torch.float32, requires_grad=True)
    tb = torch.ones(3, dtype=torch.float64, requires_grad=True)
    tc = torch.ones(1, dtype=torch.float16, requires_grad=True)
    ((ta * tb + tc).exp() + (ta.double() / (tb + 1)) - tc.float().sum()).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(c.grad.numpy(), tc.grad.numpy(), rtol=1e-3)


def test_requires_grad_only_for_floating_tensors():
    with pytest.raises(RuntimeError, match=r"floating point.*int64"):
        rg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"floating point.*bool"):
        rg.tensor([True]).requires_grad_()


def test_broadcasting_errors_name_the_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"add.*size of tensor a \(3\).*tensor b \(4\).*\[2, 3\].*\[4\]"):
        rg.ones(2, 3) + rg.ones(4)
    with pytest.raises(RuntimeError, match=r"mul.*\[5, 2\].*\[3, 1\]"):
        rg.ones(5, 2) * rg.ones(3, 1)


# ------------------------------------------------- the walk: depth, width, memory


def test_a_chain_of_100000_ops_backpropagates_without_recursion():
    x = rg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def _wide_graph_backward_seconds(n: int) -> float:
    xs = [rg.tensor(float(i), requires_grad=True) for i in range(n)]
    ws = [rg.tensor(2.0, requires_grad=True) for _ in range(n)]
    total = xs[0] * ws[0]
    for x, w in zip(xs[1:], ws[1:], strict=True):
        total = total + x * w
    gc.collect()
    gc.disable()  # a full collection landing in one run would blur the comparison
    try:
        start = time.perf_counter()
        total.backward()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    assert xs[-1].grad.item() == 2.0 and ws[-1].grad.item() == float(n - 1)
    return elapsed


def test_a_wide_graph_backpropagates_in_linear_time():
    """A scaling test, not a timing threshold: 4x the nodes may cost at most 10x (quadratic would be 16x)."""
    small = min(_wide_graph_backward_seconds(1_500) for _ in range(3))
    large = min(_wide_graph_backward_seconds(6_000) for _ in range(3))
    assert large / small < 10, (
        f"backward of 4x the nodes took {large / small:.1f}x as long ({small:.4f}s, {large:.4f}s)"
    )


def test_saved_arrays_are_released_by_backward():
    x = rg.rand(500, 500, requires_grad=True)
    hidden = x.exp()  # ExpBackward0 keeps its output; MulBackward0 keeps hidden
    loss = (hidden * hidden).sum()
    saved = weakref.ref(hidden._data)
    del hidden
    gc.collect()
    assert saved() is not None  # the graph holds it
    loss.backward()
    assert saved() is None  # freed without waiting for loss to go away


def test_retain_graph_keeps_saved_arrays():
    x = rg.rand(100, 100, requires_grad=True)
    hidden = x.exp()
    loss = (hidden * hidden).sum()
    saved = weakref.ref(hidden._data)
    del hidden
    loss.backward(retain_graph=True)
    gc.collect()
    assert saved() is not None
    loss.backward()
    assert saved() is None


def test_in_place_while_recording_updates_every_alias_like_pytorch():
    values = RNG.standard_normal(4)
    (x, tx), (w, tw) = pair(values), pair(values + 2)
    aliases = []
    for t, v in ((x, w), (tx, tw)):
        y = t * 2
        alias = y.detach()  # shares memory with y
        y.mul_(v)
        y.add_(t)
        aliases.append(alias.clone())
        (y * y).sum().backward()
    assert_close(aliases[0], aliases[1], "alias after in-place ops")
    assert_close(x.grad, tx.grad, "gradient of x")
    assert_close(w.grad, tw.grad, "gradient of w")
