"""Module, Parameter and the containers: registration, traversal, state_dict,
casting, hooks and repr, checked against PyTorch on the same architectures."""

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd import nn

from oracle import assert_close

torch_nn = torch.nn


def library(lib):
    """(tensor library, its nn) for writing one model definition for both."""
    return (torch, torch_nn) if lib == "torch" else (rg, nn)


# The oracle sets PyTorch's default dtype to float64; models here are compared in float32.


class Scale(nn.Module):
    """An elementwise layer (y = x * weight + bias) built from arithmetic ops only."""

    def __init__(self, features):
        super().__init__()
        self.weight = nn.Parameter(rg.ones(features))
        self.bias = nn.Parameter(rg.zeros(features))

    def forward(self, x):
        return x * self.weight + self.bias


class TorchScale(torch_nn.Module):
    def __init__(self, features):
        super().__init__()
        self.weight = torch_nn.Parameter(torch.ones(features))
        self.bias = torch_nn.Parameter(torch.zeros(features))

    def forward(self, x):
        return x * self.weight + self.bias


def make_net(lib):
    """The same nested architecture in either library (names, nesting, sharing)."""
    t, tnn = library(lib)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.embed = tnn.Linear(3, 4)
            self.blocks = tnn.ModuleList([tnn.Sequential(tnn.Linear(4, 4), tnn.Identity()), tnn.Linear(4, 4)])
            self.heads = tnn.ModuleDict({"a": tnn.Linear(4, 2), "b": tnn.Linear(4, 1, bias=False)})
            self.register_buffer("scale", t.ones(4))
            self.register_buffer("scratch", t.zeros(2), persistent=False)
            self.register_buffer("empty_slot", None)
            self.extras = tnn.ParameterList([tnn.Parameter(t.zeros(2, 2)), tnn.Parameter(t.zeros(3))])
            self.table = tnn.ParameterDict({"beta": tnn.Parameter(t.zeros(5)), "alpha": tnn.Parameter(t.zeros(1))})
            self.tied = self.embed  # the same module under a second name
            self.gain = tnn.Parameter(t.ones(()))
            self.nothing = None

    return Net()


def shapes(named):
    return [(name, tuple(value.shape)) for name, value in named]


# ------------------------------------------------------------------ registration and traversal
def test_traversal_names_and_shapes_equal_pytorch():
    ours, theirs = make_net("rg"), make_net("torch")
    assert shapes(ours.named_parameters()) == shapes(theirs.named_parameters())
    assert shapes(ours.named_parameters(remove_duplicate=False)) == shapes(
        theirs.named_parameters(remove_duplicate=False)
    )
    assert shapes(ours.named_parameters(prefix="model", recurse=False)) == shapes(
        theirs.named_parameters(prefix="model", recurse=False)
    )
    assert shapes(ours.named_buffers()) == shapes(theirs.named_buffers())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_modules(remove_duplicate=False)] == [
        n for n, _ in theirs.named_modules(remove_duplicate=False)
    ]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert len(list(ours.children())) == len(list(theirs.children()))


def test_state_dict_keys_and_shapes_equal_pytorch():
    ours, theirs = make_net("rg"), make_net("torch")
    assert shapes(ours.state_dict().items()) == shapes(theirs.state_dict().items())
    assert "scratch" not in ours.state_dict()  # non-persistent buffer
    assert "tied.weight" in ours.state_dict()  # shared modules appear under every name, as in PyTorch
    assert list(ours.state_dict(prefix="net.").keys()) == list(theirs.state_dict(prefix="net.").keys())
    assert list(ours.state_dict()._metadata) == list(theirs.state_dict()._metadata)


def test_shared_parameter_is_listed_once():
    net = make_net("rg")
    params = list(net.parameters())
    assert len(params) == len({id(p) for p in params})
    assert net.tied.weight is net.embed.weight
    names = [n for n, _ in net.named_parameters()]
    assert "embed.weight" in names and "tied.weight" not in names


def test_state_dict_values_are_detached_views():
    net = make_net("rg")
    state = net.state_dict()
    weight = state["embed.weight"]
    assert type(weight) is rg.Tensor and not weight.requires_grad
    weight._data[0, 0] = 42.0
    assert net.embed.weight._data[0, 0] == 42.0  # shares memory
    assert net.state_dict(keep_vars=True)["embed.weight"] is net.embed.weight
    destination = OrderedDict()
    assert net.state_dict(destination=destination) is destination


def test_setattr_registers_and_reassigns():
    m = nn.Module()
    m.w = nn.Parameter(rg.ones(2))
    m.child = nn.Linear(2, 2)
    m.buf = nn.Buffer(rg.zeros(2))
    m.quiet = nn.Buffer(rg.zeros(2), persistent=False)
    m.plain = rg.ones(2)  # a plain tensor attribute is not registered
    assert list(m._parameters) == ["w"] and list(m._modules) == ["child"]
    assert list(m._buffers) == ["buf", "quiet"]
    assert list(m.state_dict()) == ["w", "buf", "child.weight", "child.bias"]  # own entries, then children
    m.buf = rg.ones(3)  # assigning a tensor to a buffer name replaces the buffer
    assert m._buffers["buf"].shape == (3,)
    m.w = None
    assert m._parameters["w"] is None and next(iter(m.parameters())) is m.child.weight
    m.child = None
    assert m._modules["child"] is None and list(m.children()) == []
    # An attribute moves between kinds by assignment
    m.buf = nn.Parameter(rg.ones(1))
    assert "buf" in m._parameters and "buf" not in m._buffers


def test_setattr_and_register_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'retrograd.Tensor' as parameter 'weight'"):
        m.weight = rg.ones(2, 2)
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'p'"):
        x = rg.ones(2, requires_grad=True)
        p = nn.Parameter(x)
        p.grad_fn = (x * 2).grad_fn
        m.register_parameter("p", p)
    with pytest.raises(TypeError, match=r"cannot assign 'retrograd.Tensor' object to parameter 'q'"):
        m.register_parameter("q", rg.ones(2))
    with pytest.raises(KeyError, match="attribute 'in_features' already exists"):
        m.register_buffer("in_features", rg.ones(1))
    with pytest.raises(KeyError, match=r'contain "\."'):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="be empty string"):
        m.register_buffer("", None)
    with pytest.raises(TypeError, match="buffer name should be a string"):
        m.register_buffer(3, None)
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(TypeError, match="cannot assign 'list' object to buffer"):
        m.register_buffer("b", [1.0])

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(rg.ones(1))

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Early()


def test_getattr_and_delattr():
    m = nn.Linear(2, 3)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'missing'"):
        _ = m.missing
    del m.bias
    assert "bias" not in m._parameters and list(m.state_dict()) == ["weight"]
    m.register_buffer("stat", rg.zeros(1), persistent=False)
    del m.stat
    assert "stat" not in m._buffers and "stat" not in m._non_persistent_buffers_set
    m.note = "hello"
    del m.note
    assert not hasattr(m, "note")


def test_get_submodule_parameter_buffer():
    net = make_net("rg")
    assert net.get_submodule("blocks.0.0") is net.blocks[0][0]
    assert net.get_submodule("") is net
    assert net.get_parameter("heads.a.bias") is net.heads["a"].bias
    assert net.get_buffer("scale") is net.scale
    with pytest.raises(AttributeError, match="ModuleList has no attribute `7`"):
        net.get_submodule("blocks.7")
    with pytest.raises(AttributeError, match=r"`scale` is not an nn.Module"):
        net.get_submodule("scale")
    with pytest.raises(AttributeError, match=r"`scale` is not an nn.Parameter"):
        net.get_parameter("scale")
    with pytest.raises(AttributeError, match="`gain` is not a buffer"):
        net.get_buffer("gain")


def test_dir_lists_members():
    m = nn.Sequential(nn.Linear(2, 2))
    names = dir(m[0])
    assert "weight" in names and "bias" in names and "forward" in names
    assert "0" not in dir(m)


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
        nn.Module()(rg.ones(1))


# ------------------------------------------------------------------------------ modes, grads
def test_train_eval_propagate():
    net = make_net("rg")
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.blocks.train(False)
    assert not net.blocks[0][1].training and net.heads.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad():
    m = Scale(3)
    m(rg.ones(3)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert np.array_equal(m.weight.grad.numpy(), np.zeros(3))
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first():
    net = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.Identity()))
    visited = []
    net.apply(lambda module: visited.append(type(module).__name__))
    assert visited == ["Linear", "Identity", "Sequential", "Sequential"]


def test_to_float64_keeps_parameter_identity():
    m = Scale(3)
    m.register_buffer("count", rg.zeros(1, dtype=rg.int64))
    m.register_buffer("running", rg.zeros(3))
    weight = m.weight
    m(rg.ones(3)).sum().backward()
    assert m.to(rg.float64) is m
    assert m.weight is weight and isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert m.weight.dtype == rg.float64 and m.weight.grad.dtype == rg.float64
    assert m.running.dtype == rg.float64 and m.count.dtype == rg.int64  # integer buffers keep their dtype
    m.float()
    assert m.weight.dtype == rg.float32 and m.weight is weight
    m.double()
    assert m.bias.dtype == rg.float64
    m.to("cpu")
    m.to(rg.zeros(1, dtype=rg.float32))
    assert m.bias.dtype == rg.float32
    m.to(device="cpu", dtype=rg.float64)
    assert m.bias.dtype == rg.float64
    with pytest.raises(TypeError, match=r"nn.Module.to only accepts floating point or complex dtypes"):
        m.to(rg.int64)
    m.type(rg.float32)
    assert m.count.dtype == rg.float32  # .type casts everything, like PyTorch


def test_deepcopy_gives_independent_parameters():
    net = make_net("rg")
    clone = copy.deepcopy(net)
    assert clone.embed.weight is not net.embed.weight
    assert clone.tied is clone.embed  # sharing is preserved
    assert isinstance(clone.embed.weight, nn.Parameter)
    np.testing.assert_array_equal(clone.embed.weight.detach().numpy(), net.embed.weight.detach().numpy())


# ------------------------------------------------------------------------------ load_state_dict
def test_load_state_dict_from_pytorch_via_numpy():
    ours, theirs = make_net("rg"), make_net("torch").float()
    for p in theirs.parameters():
        torch_nn.init.normal_(p)
    theirs.scale.fill_(3.0)
    arrays = {k: v.numpy() for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(arrays)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), arrays[key], err_msg=key)
    assert isinstance(ours.embed.weight, nn.Parameter)


def test_load_state_dict_copies_in_place_and_casts():
    m = nn.Linear(2, 3)
    weight = m.weight
    state = {"weight": rg.ones(3, 2, dtype=rg.float64), "bias": np.arange(3.0)}
    m.load_state_dict(state)
    assert m.weight is weight and m.weight.dtype == rg.float32
    np.testing.assert_array_equal(m.bias.detach().numpy(), [0.0, 1.0, 2.0])
    state["weight"]._data[0, 0] = 7.0  # copied, not shared
    assert m.weight._data[0, 0] == 1.0


def test_load_state_dict_assign():
    m = nn.Linear(2, 3)
    new_weight = rg.ones(3, 2)
    m.load_state_dict({"weight": new_weight, "bias": rg.zeros(3)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    new_weight._data[0, 0] = 5.0
    assert m.weight._data[0, 0] == 5.0  # shares memory with the loaded tensor


def test_load_state_dict_errors_match_pytorch_wording():
    m = nn.Linear(4, 2)
    bad = {"weight": rg.ones(3, 4), "extra": rg.ones(1)}
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(bad)
    assert str(info.value) == (
        "Error(s) in loading state_dict for Linear:\n"
        '\tMissing key(s) in state_dict: "bias". \n'
        '\tUnexpected key(s) in state_dict: "extra". \n'
        "\tsize mismatch for weight: copying a param with shape [3, 4] from checkpoint, "
        "the shape in current model is [2, 4]."
    )
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        m.load_state_dict(bad, strict=False)  # shape mismatches are errors even when not strict
    with pytest.raises(RuntimeError, match=r"expected retrograd.Tensor or NumPy array from checkpoint but received"):
        m.load_state_dict({"weight": [[1.0] * 4] * 2, "bias": rg.zeros(2)})
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([("weight", rg.ones(2, 4))])


def test_load_state_dict_non_strict_matches_pytorch():
    ours, theirs = make_net("rg"), make_net("torch")
    arrays = {k: v.numpy() for k, v in theirs.state_dict().items()}
    del arrays["heads.a.bias"], arrays["extras.0"]
    arrays["blocks.0.5.weight"] = np.zeros(1)
    arrays["heads.c"] = np.zeros(1)
    torch_state = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}
    ours_result = ours.load_state_dict(arrays, strict=False)
    theirs_result = theirs.load_state_dict(torch_state, strict=False)
    assert ours_result.missing_keys == theirs_result.missing_keys
    assert ours_result.unexpected_keys == theirs_result.unexpected_keys
    assert ours_result == (ours_result.missing_keys, ours_result.unexpected_keys)


def test_load_state_dict_scalar_from_one_element_vector():
    m = nn.Module()
    m.gain = nn.Parameter(rg.zeros(()))
    m.load_state_dict({"gain": rg.tensor([2.5])})
    assert m.gain.item() == 2.5


def test_extra_state_round_trip():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.count = 0

        def get_extra_state(self):
            return {"count": self.count}

        def set_extra_state(self, state):
            self.count = state["count"]

    source, target = Counter(), Counter()
    source.count = 5
    state = source.state_dict()
    assert list(state) == ["_extra_state"]
    target.load_state_dict(state)
    assert target.count == 5
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        target.load_state_dict({})


# ------------------------------------------------------------------------------------- hooks
def test_forward_pre_hook_and_forward_hook_modify_values():
    m = Scale(2)
    calls = []
    pre = m.register_forward_pre_hook(lambda mod, args: (args[0] * 10,))
    post = m.register_forward_hook(lambda mod, args, out: out + 1)
    m.register_forward_hook(lambda mod, args, out: calls.append((args[0].tolist(), out.tolist())))
    out = m(rg.tensor([1.0, 2.0]))
    assert out.tolist() == [11.0, 21.0]
    assert calls == [([10.0, 20.0], [11.0, 21.0])]  # hooks see the modified args and the running output
    pre.remove()
    post.remove()
    assert m(rg.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_hooks_with_kwargs_prepend_and_single_value_return():
    class Shift(nn.Module):
        def forward(self, x, *, shift=0.0):
            return x + shift

    m = Shift()
    order = []
    m.register_forward_pre_hook(lambda mod, args: order.append("second"))
    m.register_forward_pre_hook(lambda mod, args: order.append("first"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"shift": 5.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: out * kwargs["shift"], with_kwargs=True)
    assert m(rg.tensor([1.0]), shift=1.0).tolist() == [30.0]
    assert order == ["first", "second"]
    single = Shift()
    single.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # a non-tuple return becomes (value,)
    assert single(rg.tensor([1.0])).tolist() == [2.0]
    bad = Shift()
    bad.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple of \(new_args, new_kwargs\)"):
        bad(rg.tensor([1.0]))


def test_always_call_forward_hook_runs_when_forward_raises():
    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Broken()
    seen = []
    handle = m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("never"))
    with pytest.raises(ValueError, match="boom"):
        m(rg.ones(1))
    assert seen == [None]
    handle.remove()
    assert handle.id not in m._forward_hooks_always_called


def _run_backward_hooks(lib, pre_scale=None, replace_input_grad=False):
    """Scale layer with full backward (pre-)hooks; returns what the hooks saw and the grads."""
    t = torch if lib == "torch" else rg
    layer = TorchScale(3) if lib == "torch" else Scale(3)
    with t.no_grad():
        layer.weight.copy_(t.tensor([1.0, -2.0, 0.5]))
    seen = {}

    def pre_hook(module, grad_output):
        seen["pre"] = [g.detach().numpy().copy() for g in grad_output]
        return None if pre_scale is None else (grad_output[0] * pre_scale,)

    def hook(module, grad_input, grad_output):
        seen["grad_input"] = [None if g is None else g.detach().numpy().copy() for g in grad_input]
        seen["grad_output"] = [g.detach().numpy().copy() for g in grad_output]
        if replace_input_grad:
            return (grad_input[0] * 0 + 1,)
        return None

    layer.register_full_backward_pre_hook(pre_hook)
    layer.register_full_backward_hook(hook)
    x = t.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    x2 = x * 2  # a non-leaf input, also used outside the layer
    out = layer(x2) + x2
    (out * t.tensor([1.0, 2.0, 3.0])).sum().backward()
    return seen, x.grad.numpy().copy(), layer.weight.grad.numpy().copy()


@pytest.mark.parametrize(("pre_scale", "replace"), [(None, False), (3.0, False), (None, True)])
def test_full_backward_hooks_match_pytorch(pre_scale, replace):
    ours = _run_backward_hooks("rg", pre_scale, replace)
    theirs = _run_backward_hooks("torch", pre_scale, replace)
    for key in ("pre", "grad_input", "grad_output"):
        assert len(ours[0][key]) == len(theirs[0][key])
        for a, b in zip(ours[0][key], theirs[0][key]):
            np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=key)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, err_msg="input grad")
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6, err_msg="weight grad")


def test_full_backward_hook_when_no_input_requires_grad():
    layer = Scale(2)
    seen = []
    layer.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].tolist())))
    layer(rg.ones(2)).sum().backward()
    assert seen == [((None,), [1.0, 1.0])]


def test_full_backward_hook_with_non_tensor_and_multiple_inputs():
    class Mix(nn.Module):
        def forward(self, a, factor, b):
            return a * factor, a * b

    m = Mix()
    seen = {}
    m.register_full_backward_hook(lambda mod, gi, go: seen.update(gi=gi, go=go))
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    b = rg.tensor([3.0, 4.0])  # does not require grad
    first, second = m(a, 5.0, b)
    (first.sum() + 2 * second.sum()).backward()
    assert seen["gi"][1] is None and seen["gi"][2] is None
    assert seen["gi"][0].tolist() == [11.0, 13.0]  # 5 + 2 * b
    assert [g.tolist() for g in seen["go"]] == [[1.0, 1.0], [2.0, 2.0]]


def test_backward_hook_handle_removal_and_wrong_length():
    layer = Scale(2)
    calls = []
    handle = layer.register_full_backward_hook(lambda mod, gi, go: calls.append(1))
    x = rg.ones(2, requires_grad=True)
    layer(x).sum().backward()
    handle.remove()
    layer(x).sum().backward()
    assert calls == [1]
    layer.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    with pytest.raises(
        RuntimeError, match="Backward hook returned an invalid number of grad_input, got 2, but expected 1"
    ):
        layer(x).sum().backward()


# ---------------------------------------------------------------------------------- Parameter
def test_parameter_is_a_leaf_tensor_sharing_data():
    data = rg.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, rg.Tensor) and p.requires_grad and p.is_leaf
    data._data[0] = 9.0
    assert p._data[0] == 9.0
    assert repr(p) == repr(torch_nn.Parameter(torch.tensor([9.0, 2.0])))
    assert repr(p) == "Parameter containing:\ntensor([9., 2.], requires_grad=True)"
    assert type(p * 2) is rg.Tensor and type(p + p) is rg.Tensor
    assert type(p.detach()) is rg.Tensor
    assert not nn.Parameter(rg.ones(1), requires_grad=False).requires_grad
    empty = nn.Parameter()
    assert empty.shape == (0,) and empty.dtype == rg.float32
    assert isinstance(copy.deepcopy(p), nn.Parameter)


def test_parameter_from_non_leaf_is_detached_leaf():
    x = rg.ones(2, requires_grad=True)
    p = nn.Parameter(x * 3)
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    (p * p).sum().backward()
    assert x.grad is None and p.grad.tolist() == [6.0, 6.0]
    with pytest.raises(RuntimeError, match="only tensors of floating point dtype can require gradients"):
        nn.Parameter(rg.tensor([1, 2]))


# ---------------------------------------------------------------------------------- containers
def test_sequential_indexing_slicing_and_editing():
    layers = [nn.Linear(1, 1), nn.Identity(), nn.Linear(1, 2)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    extra = nn.Identity()
    seq.append(extra)
    seq.insert(0, nn.Identity())
    seq.extend([nn.Identity()])
    assert len(seq) == 6 and seq[4] is extra and list(seq._modules) == [str(i) for i in range(6)]
    del seq[0]
    assert seq[0] is layers[0] and list(seq._modules) == [str(i) for i in range(5)]
    seq[1] = nn.Linear(1, 1)
    assert isinstance(seq[1], nn.Linear)
    assert seq.pop(1) is not None and len(seq) == 4
    assert len(seq + nn.Sequential(nn.Identity())) == 5
    assert len(seq * 2) == 8
    named = nn.Sequential(OrderedDict([("first", nn.Linear(1, 2)), ("second", nn.Identity())]))
    assert list(named.state_dict()) == ["first.weight", "first.bias"]
    assert named.first is named[0]


def test_sequential_forward_chains_modules():
    seq = nn.Sequential(Scale(2), Scale(2))
    seq[0].weight.data = rg.tensor([2.0, 3.0])
    seq[1].bias.data = rg.tensor([1.0, 1.0])
    assert seq(rg.tensor([1.0, 1.0])).tolist() == [3.0, 4.0]


def test_module_list_and_dict():
    items = nn.ModuleList([nn.Identity(), nn.Linear(1, 1)])
    items.append(nn.Linear(1, 2))
    items += [nn.Identity()]
    items.insert(1, nn.Linear(2, 2))
    items.extend([nn.Identity()])
    assert len(items) == 6 and isinstance(items[1], nn.Linear) and items[-1] is items[5]
    assert isinstance(items[1:3], nn.ModuleList) and len(items[1:3]) == 2
    del items[0]
    assert list(items._modules) == [str(i) for i in range(5)]
    with pytest.raises(TypeError, match=r"ModuleList.extend should be called with an iterable"):
        items.extend(nn.Identity)
    combined = items + nn.ModuleList([nn.Identity()])
    assert len(combined) == 6

    table = nn.ModuleDict({"b": nn.Linear(1, 1), "a": nn.Identity()})
    table["c"] = nn.Linear(1, 2)
    table.update([("d", nn.Identity())])
    assert list(table) == ["b", "a", "c", "d"] and "a" in table and len(table) == 4
    assert list(table.keys()) == ["b", "a", "c", "d"]
    assert table.pop("a") is not None and "a" not in table
    assert list(table.state_dict()) == ["b.weight", "b.bias", "c.weight", "c.bias"]
    with pytest.raises(ValueError, match="ModuleDict update sequence element #0 has length 1; 2 is required"):
        table.update([("x",)])
    table.clear()
    assert len(table) == 0


def test_parameter_list_and_dict():
    plist = nn.ParameterList([rg.ones(2), nn.Parameter(rg.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in plist)  # plain tensors become Parameters
    plist.append(rg.ones(1))
    assert len(plist) == 3 and list(plist.state_dict()) == ["0", "1", "2"]
    assert isinstance(plist[1:], nn.ParameterList) and len(plist[1:]) == 2
    plist[0] = rg.zeros(4)
    assert plist[0].shape == (4,)
    with pytest.raises(RuntimeError, match=r"ParameterList should not be called."):
        plist(1)

    pdict = nn.ParameterDict({"b": rg.ones(1), "a": rg.ones(2)})  # a plain dict is sorted, as in PyTorch
    assert list(pdict) == ["a", "b"] and isinstance(pdict["a"], nn.Parameter)
    pdict["c"] = nn.Parameter(rg.zeros(3))
    assert list(pdict.keys()) == ["a", "b", "c"] and "c" in pdict
    assert pdict.get("missing") is None and pdict.pop("b").shape == (1,)
    assert list(pdict.state_dict()) == ["a", "c"]
    assert list((pdict | nn.ParameterDict({"z": rg.ones(1)})).keys()) == ["a", "c", "z"]
    with pytest.raises(TypeError, match="not a string"):
        pdict[1] = rg.ones(1)


# ---------------------------------------------------------------------------------------- repr
def make_printable(lib):
    _t, tnn = library(lib)
    return tnn.Sequential(
        tnn.Linear(3, 4),
        tnn.Identity(),
        tnn.Flatten(),
        tnn.Unflatten(1, (2, 2)),
        tnn.ModuleList([tnn.Linear(2, 2) for _ in range(3)] + [tnn.Linear(2, 3, bias=False)]),
        tnn.ModuleDict({"head": tnn.Bilinear(2, 3, 4), "empty": tnn.Sequential(), "none": None}),
        tnn.ModuleList(),
    )


def test_repr_matches_pytorch():
    assert repr(make_printable("rg")) == repr(make_printable("torch"))
    assert repr(make_net("rg")).replace("retrograd.", "torch.") == repr(make_net("torch").float()).replace(
        "torch.FloatTensor", "torch.float32"
    )


def test_extra_repr_multiline():
    class Custom(nn.Module):
        def extra_repr(self):
            return "alpha=1\nbeta=2"

    class TorchCustom(torch_nn.Module):
        def extra_repr(self):
            return "alpha=1\nbeta=2"

    ours, theirs = Custom(), TorchCustom()
    ours.inner, theirs.inner = nn.Linear(1, 1), torch_nn.Linear(1, 1)
    assert repr(ours).replace("Custom", "X") == repr(theirs).replace("TorchCustom", "X")


def test_module_on_scale_matches_torch_numerically():
    ours, theirs = Scale(3), TorchScale(3)
    x = np.arange(6.0).reshape(2, 3)
    assert_close(ours(rg.tensor(x, dtype=rg.float32)), theirs(torch.tensor(x, dtype=torch.float32)), "forward")
