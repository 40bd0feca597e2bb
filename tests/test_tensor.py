"""The Tensor class: metadata, conversions, autograd flags, copies, printing,
the Python protocols and the new_* factories, compared with PyTorch."""

import copy
import pickle

import numpy as np
import pytest
import torch

import retrograd as rg

from oracle import assert_close


@pytest.fixture
def torch_float32_default():
    """PyTorch with its usual float32 default (the oracle module sets float64)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    yield
    torch.set_default_dtype(previous)


# ----------------------------------------------------------------------- metadata


def test_shape_size_ndim_numel():
    t = rg.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, rg.Size)
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24 and rg.numel(t) == 24
    assert t.element_size() == 4 and t.nbytes == 96
    with pytest.raises(
        IndexError, match=r"size: dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)"
    ):
        t.size(3)


def test_size_behaves_like_torch_size():
    s = rg.zeros(2, 3, 4).shape
    assert repr(s) == "retrograd.Size([2, 3, 4])"
    assert isinstance(s[1:], rg.Size) and s[1:] == (3, 4)
    assert isinstance(s[0], int)
    assert isinstance(s + (5,), rg.Size) and s + (5,) == (2, 3, 4, 5)
    assert isinstance((1,) + s, rg.Size)
    assert s.numel() == 24 and rg.Size([]).numel() == 1
    assert repr(torch.Size([2, 3, 4])).replace("torch", "retrograd") == repr(s)


def test_dtype_and_device():
    assert rg.ones(1).dtype == rg.float32
    assert rg.ones(1, dtype=rg.float64).dtype == rg.float64
    assert rg.ones(1).device == "cpu" and not rg.ones(1).is_cuda
    assert rg.ones(1).is_floating_point() and not rg.tensor([1]).is_floating_point()


@pytest.mark.parametrize(
    ("dtype", "name"),
    [(rg.float32, "FloatTensor"), (rg.float64, "DoubleTensor"), (rg.int64, "LongTensor"), (rg.bool, "BoolTensor")],
)
def test_type_names(dtype, name):
    t = rg.zeros(1, dtype=dtype)
    assert t.type() == f"retrograd.{name}"
    assert rg.zeros(1).type(f"retrograd.{name}").dtype == dtype


# ------------------------------------------------------------------- conversions


def test_item_and_python_number_protocols():
    assert rg.tensor(2.5).item() == 2.5 and isinstance(rg.tensor(2.5).item(), float)
    assert rg.tensor([7]).item() == 7 and isinstance(rg.tensor([7]).item(), int)
    assert float(rg.tensor(2.5)) == 2.5 and int(rg.tensor(2.9)) == 2
    assert [10, 20, 30][rg.tensor(1)] == 20  # __index__
    with pytest.raises(TypeError, match="integer tensors of a single element"):
        [1, 2][rg.tensor(1.0)]
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to a Python scalar"):
        rg.ones(2).item()
    with pytest.raises(RuntimeError, match="2 elements cannot be converted"):
        float(rg.ones(2))
    assert f"{rg.tensor(3.14159):.2f}" == "3.14"


def test_bool_len_iter():
    assert bool(rg.tensor([1.0])) and not bool(rg.tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(rg.ones(2))
    t = rg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and rows[1].tolist() == [3.0, 4.0] and rows[1].requires_grad
    (rows[0] * 2 + rows[2]).sum().backward()
    assert t.grad.tolist() == [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]]
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(rg.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(rg.tensor(1.0))


def test_numpy_shares_memory_and_refuses_tensors_that_require_grad():
    t = rg.zeros(3)
    array = t.numpy()
    array[0] = 5
    assert t.tolist() == [5.0, 0.0, 0.0]
    x = rg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires grad.*detach\(\)\.numpy\(\)"):
        x.numpy()
    assert x.numpy(force=True).tolist() == [1.0, 1.0]


def test_tolist_matches_pytorch():
    values = [[1.5, -2.0], [0.25, 4.0]]
    assert rg.tensor(values).tolist() == torch.tensor(values).tolist()
    assert rg.tensor(3).tolist() == 3
    assert rg.tensor([True, False]).tolist() == [True, False]


def test_array_protocol():
    t = rg.tensor([1.0, 2.0])
    assert np.asarray(t).dtype == np.float32 and np.asarray(t).tolist() == [1.0, 2.0]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.shares_memory(np.asarray(t), t.numpy())
    assert not np.shares_memory(np.array(t, copy=True), t.numpy())


# -------------------------------------------------------------- autograd state


def test_requires_grad_rules():
    x = rg.ones(2)
    x.requires_grad = True
    assert x.requires_grad and x.is_leaf
    x.requires_grad_(False)
    assert not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad = False
    y.requires_grad_(True)  # allowed (a no-op), as in PyTorch
    with pytest.raises(RuntimeError, match=r"only tensors of floating point dtype.*int64"):
        rg.tensor([1, 2]).requires_grad = True


def test_grad_is_none_until_backward_and_can_be_reset():
    x = rg.ones(2, requires_grad=True)
    assert x.grad is None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and x.grad.dtype == x.dtype and not x.grad.requires_grad
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_detach_shares_memory_and_cuts_the_graph():
    x = rg.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert np.shares_memory(d.numpy(), y.detach().numpy())
    x2 = rg.ones(2, requires_grad=True)
    h = x2 * 1
    h.detach_()
    assert h.is_leaf and not h.requires_grad


def test_data_shares_memory_is_detached_and_can_be_replaced():
    x = rg.ones(3, requires_grad=True)
    data = x.data
    assert not data.requires_grad and data.is_leaf
    data.mul_(4)  # allowed even though x is a leaf requiring grad
    assert x.tolist() == [4.0, 4.0, 4.0] and x._version == 0
    x.data = rg.zeros(2, 2)
    assert x.shape == (2, 2) and x.requires_grad and x.is_leaf


def test_deepcopy_of_a_leaf():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    clone = copy.deepcopy(x)
    assert clone is not x and clone.requires_grad and clone.is_leaf
    assert clone.tolist() == [1.0, 2.0] and clone.grad.tolist() == [2.0, 2.0]
    assert not np.shares_memory(clone.detach().numpy(), x.detach().numpy())
    assert clone.grad is not x.grad
    shared = copy.deepcopy([x, x])
    assert shared[0] is shared[1]
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)


def test_pickle_roundtrip_of_a_leaf():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    restored = pickle.loads(pickle.dumps(x))
    assert restored.tolist() == [1.0, 2.0] and restored.requires_grad and restored.dtype == rg.float32


# ------------------------------------------------------------------------- casts


@pytest.mark.parametrize(
    ("method", "dtype"),
    [
        ("float", rg.float32),
        ("double", rg.float64),
        ("half", rg.float16),
        ("long", rg.int64),
        ("int", rg.int32),
        ("short", rg.int16),
        ("char", rg.int8),
        ("byte", rg.uint8),
        ("bool", rg.bool),
    ],
)
def test_cast_methods(method, dtype):
    t = getattr(rg.tensor([0.0, 1.5, 2.0]), method)()
    assert t.dtype == dtype
    assert t.tolist() == getattr(torch.tensor([0.0, 1.5, 2.0]), method)().tolist()


def test_casts_are_differentiable_and_keep_gradient_dtypes():
    x, tx = rg.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    for t in (x, tx):
        d = t.double()
        (d * d).sum().backward()
    assert x.grad.dtype == rg.float32 and x.grad.tolist() == tx.grad.tolist()
    assert x.to(rg.float32) is x and x.to("cpu") is x and x.cpu() is x
    assert x.to(rg.float64).dtype == rg.float64 and x.to(dtype=rg.float16).dtype == rg.float16
    assert x.to(rg.zeros(1, dtype=rg.float64)).dtype == rg.float64
    assert x.type_as(rg.zeros(1, dtype=rg.float64)).dtype == rg.float64
    copied = x.to(rg.float32, copy=True)
    assert copied is not x and copied.requires_grad
    assert not x.long().requires_grad
    with pytest.raises(RuntimeError, match=r"CPU only.*cuda"):
        x.to("cuda")


# -------------------------------------------------------------- copies, in place


def test_clone_is_a_differentiable_copy():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0"
    assert not np.shares_memory(c.detach().numpy(), x.detach().numpy())
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_contiguous():
    base = rg.from_numpy(np.arange(12.0).reshape(3, 4)[:, ::2])
    assert not base.is_contiguous()
    c = base.contiguous()
    assert c.is_contiguous() and c.tolist() == base.tolist()
    assert c.contiguous() is c


def test_copy_fill_zero_without_recording():
    t = rg.zeros(2, 3)
    t.copy_(rg.tensor([1, 2, 3]))  # broadcast and cast
    assert t.tolist() == [[1.0, 2.0, 3.0]] * 2 and t.dtype == rg.float32
    t.fill_(7)
    assert t.tolist() == [[7.0] * 3] * 2
    t.fill_(rg.tensor(2.5))
    assert t.tolist() == [[2.5] * 3] * 2
    assert t.zero_() is t and t.tolist() == [[0.0] * 3] * 2
    with pytest.raises(RuntimeError, match=r"copy_.*\[4\].*\[2, 3\]"):
        t.copy_(rg.ones(4))
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        t.fill_(rg.ones(2))


def test_in_place_ops_bump_the_version():
    t = rg.zeros(2)
    assert t._version == 0
    t.add_(1)
    t += 1
    t.fill_(0)
    assert t._version == 3


# ------------------------------------------------------------------ new_* factories


def test_new_factories_follow_the_source_dtype():
    source = rg.ones(1, dtype=rg.float64)
    for lib_source in (source, torch.ones(1, dtype=torch.float64)):
        assert str(lib_source.new_zeros(2, 3).dtype).endswith("float64")
    assert source.new_zeros(2, 3).shape == (2, 3) and source.new_zeros((2, 3)).dtype == rg.float64
    assert source.new_ones([4]).tolist() == [1.0] * 4
    assert source.new_empty(2).shape == (2,)
    assert source.new_full((2,), 3).tolist() == [3.0, 3.0] and source.new_full((2,), 3).dtype == rg.float64
    assert source.new_tensor([1, 2]).dtype == rg.float64
    assert source.new_zeros(2, dtype=rg.int64).dtype == rg.int64
    assert source.new_ones(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="negative dimension"):
        source.new_zeros(-1)


def test_tensor_constructor_defaults_to_float_like_torch_tensor(torch_float32_default):
    for data in ([1, 2], [[1.5]], 3):
        ours, theirs = rg.Tensor(data), torch.Tensor(data if data != 3 else [3])
        assert ours.dtype == rg.float32 and str(theirs.dtype) == "torch.float32"
    assert rg.Tensor(np.array([1, 2])).dtype == rg.int64  # arrays keep their dtype
    assert rg.Tensor().shape == (0,)


# -------------------------------------------------------------------------- repr

REPR_CASES = [
    ("[0.1, 0.2]", None, False),
    ("[1e-5, 1.0]", None, False),
    ("[1.0, 2.0]", None, False),
    ("3.5", None, False),
    ("[1e10, 1.0]", None, False),
    ("[]", None, False),
    ("[1.0, 2.0]", "float64", False),
    ("[1, 2]", "int32", False),
    ("[1, 100, -5]", None, False),
    ("[True, False]", None, False),
    ("[1.0, float('nan'), float('inf')]", None, False),
    ("[123.456, 1.0]", None, False),
    ("[[1.5, 2.0], [3.0, 4.0]]", None, False),
    ("[1.0, 2.0]", None, True),
    ("list(range(2000))", "float32", False),
    ("[[i / 7 for i in range(10)] for _ in range(3)]", None, False),
    ("[[[i / 3 for i in range(4)] for _ in range(3)] for _ in range(2)]", None, False),
    ("[-1e-6 * i for i in range(13)]", None, False),
]


@pytest.mark.parametrize(("data", "dtype", "requires_grad"), REPR_CASES)
def test_repr_matches_pytorch(data, dtype, requires_grad, torch_float32_default):
    values = eval(data)
    ours = rg.tensor(values, dtype=getattr(rg, dtype) if dtype else None, requires_grad=requires_grad)
    theirs = torch.tensor(values, dtype=getattr(torch, dtype) if dtype else None, requires_grad=requires_grad)
    assert repr(ours) == repr(theirs).replace("torch.", "retrograd.")


def test_repr_of_results_and_special_shapes(torch_float32_default):
    x, tx = rg.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    assert repr(x * 2) == "tensor([2., 2.], grad_fn=<MulBackward0>)" == repr(tx * 2).replace(" object at", "")[:40]
    assert repr(rg.zeros(0, 3)) == repr(torch.zeros(0, 3))
    assert repr(rg.tensor([], dtype=rg.int64)) == "tensor([], dtype=retrograd.int64)"
    rg.set_default_dtype(rg.float64)
    assert repr(rg.tensor([1.0])) == "tensor([1.])"
    assert repr(rg.tensor([1.0], dtype=rg.float32)) == "tensor([1.], dtype=retrograd.float32)"


def test_mixed_dtype_promotion_of_a_zero_dim_tensor_follows_pytorch(torch_float32_default):
    pairs = [
        (rg.tensor([1, 2]) + rg.tensor(1.0, dtype=rg.float64), torch.tensor([1, 2]) + torch.tensor(1.0, dtype=torch.float64)),
        (rg.tensor([1, 2]) + rg.tensor(1.0, dtype=rg.float16), torch.tensor([1, 2]) + torch.tensor(1.0, dtype=torch.float16)),
        (rg.ones(2) + rg.tensor(1.0, dtype=rg.float64), torch.ones(2) + torch.tensor(1.0, dtype=torch.float64)),
        (rg.ones(2) * np.float64(2.0), torch.ones(2) * np.float64(2.0)),
        (rg.ones(2, dtype=rg.float16) * 2.5, torch.ones(2, dtype=torch.float16) * 2.5),
        (rg.where(rg.tensor([True, False]), 1.5, rg.tensor([1, 2])), torch.where(torch.tensor([True, False]), 1.5, torch.tensor([1, 2]))),
    ]  # fmt: skip
    for ours, theirs in pairs:
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        assert_close(ours, theirs.double() if theirs.dtype == torch.float16 else theirs, "promotion", tol=1e-3)
