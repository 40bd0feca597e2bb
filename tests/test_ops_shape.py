"""Shape ops: gradcheck, gradgradcheck and PyTorch comparison over size-0, size-1
and non-contiguous shapes, plus PyTorch's edge cases and error messages."""

import warnings

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd.ops import shape as shape_ops

from oracle import Case, assert_close, check_case, parametrize_cases


def pad(lib, x, *args, **kwargs):
    """``nn.functional.pad`` in either library."""
    if lib is torch:
        return torch.nn.functional.pad(x, *args, **kwargs)
    return shape_ops.pad(x, *args, **kwargs)


def weighted_sum(lib, pieces):
    """Combine pieces so each one's gradient differs (pieces may have different shapes)."""
    return lib.cat([(p * (i + 1)).reshape(-1) for i, p in enumerate(pieces)])


def reverse_dims(lib, x):
    with warnings.catch_warnings():  # PyTorch deprecates .T beyond 2-d
        warnings.simplefilter("ignore")
        return x.T


CASES = [
    # permuting dimensions
    Case("permute", lambda lib, x: x.permute(2, 0, 1), shapes=((2, 3, 4),)),
    Case("permute_tuple_negative", lambda lib, x: lib.permute(x, (-1, 0, 1)), shapes=((2, 3, 4),)),
    Case("permute_keyword", lambda lib, x: lib.permute(x, dims=[1, 0])),
    Case("permute_identity", lambda lib, x: x.permute(0, 1) * 2),
    Case("permute_size0", lambda lib, x: x.permute(1, 0), shapes=((0, 3),)),
    Case("transpose", lambda lib, x: x.transpose(0, 2), shapes=((2, 3, 4),)),
    Case("transpose_negative", lambda lib, x: lib.transpose(x, -1, -2), shapes=((2, 3, 4),)),
    Case("transpose_same_dim", lambda lib, x: x.transpose(1, 1) * 1.5),
    Case("swapaxes", lambda lib, x: lib.swapaxes(x, 0, 1)),
    Case("swapdims", lambda lib, x: x.swapdims(0, -1), shapes=((2, 1, 3),)),
    Case("t_2d", lambda lib, x: x.t()),
    Case("t_1d", lambda lib, x: lib.t(x) * 2, shapes=((4,),)),
    Case("t_0d", lambda lib, x: x.t() * 2, shapes=((),)),
    Case("T_2d", lambda lib, x: x.T),
    Case("T_3d", reverse_dims, shapes=((2, 3, 4),)),
    Case("mT", lambda lib, x: x.mT, shapes=((2, 3, 4),)),
    Case("mH", lambda lib, x: x.mH, shapes=((3, 4),)),
    Case("H", lambda lib, x: x.H),
    Case("adjoint", lambda lib, x: lib.adjoint(x), shapes=((2, 3, 4),)),
    Case("movedim", lambda lib, x: x.movedim(0, -1), shapes=((2, 3, 4),)),
    Case("movedim_tuple", lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), shapes=((2, 3, 4),)),
    Case("moveaxis", lambda lib, x: lib.moveaxis(x, 1, 0), shapes=((2, 3, 4),)),
    # adding and removing dimensions
    Case("squeeze_all", lambda lib, x: x.squeeze(), shapes=((1, 3, 1, 2),)),
    Case("squeeze_dim", lambda lib, x: lib.squeeze(x, 2), shapes=((1, 3, 1, 2),)),
    Case("squeeze_dim_not_one", lambda lib, x: x.squeeze(1), shapes=((1, 3, 1, 2),)),
    Case("squeeze_tuple", lambda lib, x: x.squeeze((0, -2)), shapes=((1, 3, 1, 2),)),
    Case("squeeze_0d", lambda lib, x: x.squeeze(0) * 2, shapes=((),)),
    Case("unsqueeze_front", lambda lib, x: x.unsqueeze(0)),
    Case("unsqueeze_back", lambda lib, x: lib.unsqueeze(x, -1)),
    Case("unsqueeze_middle", lambda lib, x: x.unsqueeze(1), shapes=((0, 3),)),
    Case("flatten", lambda lib, x: x.flatten(), shapes=((2, 3, 4),)),
    Case("flatten_range", lambda lib, x: lib.flatten(x, 1, 2), shapes=((2, 3, 4, 1),)),
    Case("flatten_negative", lambda lib, x: x.flatten(-3, -2), shapes=((2, 3, 4),)),
    Case("flatten_one_dim", lambda lib, x: x.flatten(1, 1) * 2, shapes=((2, 3, 4),)),
    Case("flatten_0d", lambda lib, x: x.flatten(), shapes=((),)),
    Case("flatten_size0", lambda lib, x: x.flatten(0, 1), shapes=((0, 3, 2),)),
    Case("unflatten", lambda lib, x: x.unflatten(1, (2, 3)), shapes=((2, 6),)),
    Case("unflatten_infer", lambda lib, x: lib.unflatten(x, -1, (-1, 2)), shapes=((2, 6),)),
    # repeating, flipping, rolling
    Case("repeat", lambda lib, x: x.repeat(2, 3)),
    Case("repeat_new_dims", lambda lib, x: x.repeat(2, 1, 3), shapes=((2, 3),)),
    Case("repeat_zero", lambda lib, x: x.repeat(0, 2), shapes=((2, 3),)),
    Case("repeat_size1", lambda lib, x: x.repeat(3, 1), shapes=((1, 1),)),
    Case("repeat_0d", lambda lib, x: x.repeat(3), shapes=((),)),
    Case("tile", lambda lib, x: x.tile((2,)), shapes=((2, 3),)),
    Case("tile_longer", lambda lib, x: lib.tile(x, (2, 1, 2)), shapes=((2, 3),)),
    Case("flip", lambda lib, x: x.flip(0), shapes=((3, 4),)),
    Case("flip_dims", lambda lib, x: lib.flip(x, (0, -1)), shapes=((2, 3, 4),)),
    Case("flip_keyword", lambda lib, x: lib.flip(x, dims=[1])),
    Case("fliplr", lambda lib, x: lib.fliplr(x)),
    Case("flipud", lambda lib, x: lib.flipud(x)),
    Case("roll", lambda lib, x: x.roll(1, 1)),
    Case("roll_negative_big", lambda lib, x: lib.roll(x, -7, 0)),
    Case("roll_dims", lambda lib, x: x.roll((1, -2), (0, 1)), shapes=((3, 4),)),
    Case("roll_flat", lambda lib, x: x.roll(5), shapes=((3, 4),)),
    Case("roll_size0", lambda lib, x: x.roll(1, 1), shapes=((0, 3),)),
    # triangles
    Case("tril", lambda lib, x: x.tril()),
    Case("tril_diagonal", lambda lib, x: lib.tril(x, -1), shapes=((2, 4, 3),)),
    Case("triu", lambda lib, x: x.triu(1), shapes=((4, 3),)),
    Case("triu_negative", lambda lib, x: lib.triu(x, -2), shapes=((2, 3, 4),)),
    # joining
    Case("cat", lambda lib, x, y: lib.cat([x, y]), shapes=((2, 3), (4, 3))),
    Case("cat_dim1", lambda lib, x, y: lib.cat((x, y, x), dim=1), shapes=((2, 3), (2, 1))),
    Case("cat_negative_dim", lambda lib, x, y: lib.concat([x, y], -1), shapes=((2, 2, 3), (2, 2, 1))),
    Case("cat_size0_piece", lambda lib, x, y: lib.cat([x, y]), shapes=((0, 3), (2, 3))),
    Case("cat_legacy_empty", lambda lib, x, y: lib.cat([x, y, x], 1), shapes=((0,), (2, 3))),
    Case("cat_single", lambda lib, x: lib.concatenate([x]) * 2),
    Case("stack", lambda lib, x, y: lib.stack([x, y]), shapes=((2, 3), (2, 3))),
    Case("stack_last", lambda lib, x, y: lib.stack((x, y, x), dim=-1), shapes=((2, 3), (2, 3))),
    Case("stack_0d", lambda lib, x, y: lib.stack([x, y]), shapes=((), ())),
    Case("stack_size0", lambda lib, x, y: lib.stack([x, y], 1), shapes=((0, 2), (0, 2))),
    Case("hstack", lambda lib, x, y: lib.hstack([x, y]), shapes=((2, 3), (2, 1))),
    Case("hstack_1d", lambda lib, x, y: lib.hstack([x, y]), shapes=((3,), (2,))),
    Case("vstack", lambda lib, x, y: lib.vstack([x, y]), shapes=((3,), (2, 3))),
    Case("dstack", lambda lib, x, y: lib.dstack([x, y]), shapes=((3,), (1, 3))),
    Case("column_stack", lambda lib, x, y: lib.column_stack([x, y]), shapes=((3,), (3, 2))),
    # splitting
    Case("split", lambda lib, x: weighted_sum(lib, x.split(2, 1)), shapes=((3, 5),)),
    Case("split_sections", lambda lib, x: weighted_sum(lib, lib.split(x, [1, 0, 2], 0)), shapes=((3, 4),)),
    Case("split_unused_piece", lambda lib, x: x.split(2)[1] * 3, shapes=((5, 2),)),
    Case("split_with_sizes", lambda lib, x: weighted_sum(lib, x.split_with_sizes([3, 1], -1))),
    Case("chunk", lambda lib, x: weighted_sum(lib, x.chunk(3, 1)), shapes=((2, 5),)),
    Case("chunk_more_than_size", lambda lib, x: weighted_sum(lib, lib.chunk(x, 6)), shapes=((4, 2),)),
    Case("tensor_split", lambda lib, x: weighted_sum(lib, x.tensor_split(3, 1)), shapes=((2, 7),)),
    Case("tensor_split_indices", lambda lib, x: weighted_sum(lib, lib.tensor_split(x, [1, 3, 2])), shapes=((5, 2),)),
    Case("unbind", lambda lib, x: weighted_sum(lib, x.unbind(1)), shapes=((2, 3, 2),)),
    Case("unbind_partly_used", lambda lib, x: lib.unbind(x)[2] * 2 - x.unbind()[0], shapes=((4, 3),)),
    Case("narrow", lambda lib, x: x.narrow(1, 1, 2)),
    Case("narrow_negative_start", lambda lib, x: lib.narrow(x, 0, -2, 2), shapes=((4, 3),)),
    Case("narrow_empty", lambda lib, x: x.narrow(1, 4, 0) * 2),
    Case("select", lambda lib, x: x.select(1, -1), shapes=((2, 3, 4),)),
    # padding
    Case("pad_last_dim", lambda lib, x: pad(lib, x, (1, 2))),
    Case("pad_two_dims_value", lambda lib, x: pad(lib, x, (1, 0, 2, 3), value=1.5)),
    Case("pad_negative_crops", lambda lib, x: pad(lib, x, (-1, 2, 0, -2)), shapes=((3, 4),)),
    Case("pad_only_crops", lambda lib, x: pad(lib, x, (-1, -1)), shapes=((2, 4),)),
    Case("pad_zero", lambda lib, x: pad(lib, x, (0, 0)) * 2),
    Case("pad_size0", lambda lib, x: pad(lib, x, (1, 1, 1, 0)), shapes=((0, 3),)),
    Case("pad_reflect", lambda lib, x: pad(lib, x, (2, 1), mode="reflect"), shapes=((2, 3, 4),)),
    Case("pad_reflect_2d", lambda lib, x: pad(lib, x, (1, 2, 2, 1), mode="reflect"), shapes=((1, 2, 3, 4),)),
    Case("pad_replicate", lambda lib, x: pad(lib, x, (3, 1), mode="replicate"), shapes=((2, 3, 4),)),
    Case("pad_circular", lambda lib, x: pad(lib, x, (1, 2, 2, 0), mode="circular"), shapes=((2, 3, 4),)),
    # view-like shape ops
    Case("reshape", lambda lib, x: x.reshape(4, 3)),
    Case("view_infer", lambda lib, x: x.view(-1, 2)),
    Case("expand", lambda lib, x: x.expand(2, 3, 4), shapes=((3, 1),)),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_shape_op(case, layout):
    check_case(case, layout=layout)


# ----------------------------------------------------------------- semantics


def test_split_chunk_unbind_return_tuples_of_pytorch_shapes():
    x = rg.zeros(5, 4)
    tx = torch.zeros(5, 4)
    for ours, theirs in [
        (x.split(2), tx.split(2)),
        (x.split([1, 4]), tx.split([1, 4])),
        (x.chunk(3, 1), tx.chunk(3, 1)),
        (x.chunk(7), tx.chunk(7)),
        (x.unbind(1), tx.unbind(1)),
        (x.tensor_split(3), tx.tensor_split(3)),
        (rg.zeros(0, 2).chunk(3), torch.zeros(0, 2).chunk(3)),
        (rg.zeros(0).split(2), torch.zeros(0).split(2)),
    ]:
        assert isinstance(ours, tuple)
        assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]


def test_unbind_is_one_node_and_iteration_uses_it():
    x = rg.randn(4, 3, requires_grad=True)
    rows = list(x)
    assert len({id(r.grad_fn) for r in rows}) == 1
    (rows[0] * 2 + rows[3]).sum().backward()
    assert x.grad.tolist() == [[2.0] * 3, [0.0] * 3, [0.0] * 3, [1.0] * 3]


def test_piece_gradient_hooks_and_retain_grad_see_their_own_piece():
    x = rg.randn(4, requires_grad=True)
    a, b = x.split(2)
    b.retain_grad()
    seen = []
    a.register_hook(lambda g: seen.append(g.tolist()))
    (a * 3 + b * 5).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert b.grad.tolist() == [5.0, 5.0]


def test_split_double_backward_through_cat():
    x = rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64, requires_grad=True)
    a, b = x.split([1, 2])
    y = (a**3).sum() + (b**2).sum()
    (g,) = rg.autograd.grad(y, x, create_graph=True)
    (h,) = rg.autograd.grad(g.sum(), x)
    assert h.tolist() == [6.0, 2.0, 2.0]


def test_cat_and_stack_promote_dtypes_like_pytorch():
    assert rg.cat([rg.zeros(2, dtype=rg.int64), rg.zeros(2)]).dtype == rg.float32
    assert rg.cat([rg.zeros(2, dtype=rg.int32), rg.zeros(2, dtype=rg.int64)]).dtype == rg.int64
    assert rg.stack([rg.zeros(2), rg.zeros(2, dtype=rg.float64)]).dtype == rg.float64
    assert rg.cat([rg.zeros(2, dtype=rg.bool), rg.ones(2, dtype=rg.bool)]).dtype == rg.bool


def test_cat_gradient_keeps_each_input_dtype():
    a = rg.ones(2, requires_grad=True)
    b = rg.ones(2, dtype=rg.float64, requires_grad=True)
    rg.cat([a, b]).sum().backward()
    assert a.grad.dtype == rg.float32 and b.grad.dtype == rg.float64


def test_cat_of_legacy_empty_tensors_only():
    out = rg.cat([rg.zeros(0), rg.zeros(0)])
    assert out.shape == (0,)


def test_permute_shares_memory_and_flip_copies():
    x = rg.arange(6.0).reshape(2, 3)
    assert np.shares_memory(x.t().numpy(), x.numpy())
    assert not np.shares_memory(x.flip(0).numpy(), x.numpy())


def test_inverse_of_three_cycle_permutation():
    x = rg.randn(2, 3, 4, 5, requires_grad=True)
    seed = rg.randn(4, 2, 5, 3)
    x.permute(2, 0, 3, 1).backward(seed)
    assert_close(x.grad, torch.from_numpy(seed.numpy()).permute(1, 3, 0, 2), "permute gradient")


def test_in_place_triangles():
    x = rg.ones(2, 2)
    x.tril_()
    assert x.tolist() == [[1.0, 0.0], [1.0, 1.0]]
    y = rg.ones(2, 2, requires_grad=True) * 2
    y.triu_(1)
    y.sum().backward()
    assert y.tolist() == [[0.0, 2.0], [0.0, 0.0]]


def test_narrow_at_the_end_and_past_it():
    x = rg.zeros(3)
    assert x.narrow(0, 3, 0).shape == (0,)
    with pytest.raises(RuntimeError, match=r"narrow: start \(3\) \+ length \(1\) exceeds dimension size \(3\)"):
        x.narrow(0, 3, 1)
    with pytest.raises(IndexError, match=r"narrow: start \(4\) out of range"):
        x.narrow(0, 4, 0)


def test_pad_matches_pytorch_for_integer_tensors():
    x = rg.arange(6).reshape(2, 3)
    ours = shape_ops.pad(x, (1, 1), value=7)
    theirs = torch.nn.functional.pad(torch.arange(6).reshape(2, 3), (1, 1), value=7)
    assert ours.dtype == rg.int64 and ours.tolist() == theirs.tolist()


# -------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda x: x.permute(0, 1), RuntimeError, r"permute.*3 dimensions.*\[0, 1\]"),
        (lambda x: x.permute(0, 1, 1), RuntimeError, r"permute: repeated dim"),
        (lambda x: x.transpose(0, 5), IndexError, r"transpose: dimension out of range.*\[-3, 2\].*5"),
        (lambda x: x.t(), RuntimeError, r"t\(\) expects a tensor with <= 2 dimensions, but self is 3D"),
        (lambda x: x.flatten(2, 1), RuntimeError, r"start_dim cannot come after end_dim"),
        (lambda x: x.unsqueeze(4), IndexError, r"unsqueeze: dimension out of range.*\[-4, 3\]"),
        (lambda x: x.squeeze(3), IndexError, r"squeeze: dimension out of range"),
        (lambda x: x.unflatten(1, (2, 2)), RuntimeError, r"unflatten.*\[2, 2\].*\(3\)"),
        (lambda x: x.movedim((0, 1), 2), RuntimeError, r"movedim.*same number of dims"),
        (lambda x: x.repeat(2, 2), RuntimeError, r"repeat.*\(2\).*\(3\)"),
        (
            lambda x: x.narrow(2, 3, 2),
            RuntimeError,
            r"narrow: start \(3\) \+ length \(2\) exceeds dimension size \(4\)",
        ),
        (lambda x: x.select(1, 3), IndexError, r"select\(\): index 3 out of range.*dimension 1"),
        (lambda x: x.split([1, 2]), RuntimeError, r"split_with_sizes.*sum exactly to 2.*\[1, 2\]"),
        (lambda x: x.split(0), RuntimeError, r"split_size can only be 0 if dimension size is 0"),
        (lambda x: x.chunk(0), RuntimeError, r"chunk expects `chunks` to be greater than 0, got: 0"),
        (lambda x: x.roll((1, 2)), RuntimeError, r"roll: shifts and dimensions must align"),
        (lambda x: x.flip(0, 0), RuntimeError, r"flip: dim \[0, 0\] appears multiple times"),
        (lambda x: x[0, 0].tril(), RuntimeError, r"tril: input tensor must have at least 2 dimensions"),
        (lambda x: x.mT[0, 0].mT, RuntimeError, r"mT is only supported on matrices.*1-D"),
        (lambda x: x.H, RuntimeError, r"H is only supported on matrices \(2-D tensors\). Got 3-D"),
    ],
)
def test_errors_name_op_and_arguments(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(rg.zeros(2, 3, 4))


def test_cat_errors_name_shapes():
    with pytest.raises(
        RuntimeError, match=r"cat: Sizes of tensors must match except in dimension 0.*\[\[2, 3\], \[2, 4\]\]"
    ):
        rg.cat([rg.zeros(2, 3), rg.zeros(2, 4)])
    with pytest.raises(RuntimeError, match=r"same number of dimensions: got 2 and 3.*\[2, 3\] and \[2, 3, 1\]"):
        rg.cat([rg.zeros(2, 3), rg.zeros(2, 3, 1)])
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 1\) cannot be concatenated"):
        rg.cat([rg.zeros(2), rg.zeros(())])
    with pytest.raises(ValueError, match=r"cat\(\): expected a non-empty list of Tensors"):
        rg.cat([])
    with pytest.raises(TypeError, match=r"cat\(\): argument 'tensors' must be a tuple or list of Tensors"):
        rg.cat(rg.zeros(2))
    with pytest.raises(IndexError, match=r"cat: dimension out of range"):
        rg.cat([rg.zeros(2), rg.zeros(2)], dim=1)


def test_stack_error_names_shapes():
    with pytest.raises(
        RuntimeError,
        match=r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[2, 4\] at entry 1",
    ):
        rg.stack([rg.zeros(2, 3), rg.zeros(2, 4)])


def test_pad_errors():
    x = rg.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"pad: Padding length must be divisible by 2"):
        shape_ops.pad(x, (1,))
    with pytest.raises(RuntimeError, match=r"pad: Padding length should be less than or equal to two times"):
        shape_ops.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(RuntimeError, match=r"input size 3, plus negative padding -2 and -2.*dimension 1"):
        shape_ops.pad(x, (-2, -2))
    with pytest.raises(RuntimeError, match=r"pad: padding \(3, 0\) in mode 'reflect' must be at most 2"):
        shape_ops.pad(rg.zeros(1, 2, 3), (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match=r"pad: mode must be"):
        shape_ops.pad(x, (1, 1), mode="mirror")
