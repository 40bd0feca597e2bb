"""Identity, Linear, Bilinear, Flatten and Unflatten: values and gradients
against PyTorch with the same weights, gradcheck/gradgradcheck through the
modules, default initialisation, and errors."""

import math

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd import nn

from oracle import Case, assert_close, check_case, parametrize_cases


def nn_of(lib):
    return torch.nn if lib is torch else nn


def with_parameters(module, **params):
    """``module`` with its parameters replaced by the given tensors, so that
    gradients (and gradcheck) reach them through the module's own forward."""
    for name, value in params.items():
        module._parameters[name] = value
    return module


def linear_call(lib, x, weight, bias=None):
    out_features, in_features = weight.shape
    layer = nn_of(lib).Linear(in_features, out_features, bias=bias is not None, dtype=lib.float64)
    return with_parameters(layer, weight=weight, **({"bias": bias} if bias is not None else {}))(x)


def bilinear_call(lib, x1, x2, weight, bias=None):
    out_features, in1, in2 = weight.shape
    layer = nn_of(lib).Bilinear(in1, in2, out_features, bias=bias is not None, dtype=lib.float64)
    return with_parameters(layer, weight=weight, **({"bias": bias} if bias is not None else {}))(x1, x2)


CASES = [
    Case("linear_1d", linear_call, shapes=((4,), (3, 4), (3,))),
    Case("linear_2d", linear_call, shapes=((5, 4), (3, 4), (3,))),
    Case("linear_3d", linear_call, shapes=((2, 5, 4), (3, 4), (3,))),
    Case("linear_no_bias", lambda lib, x, w: linear_call(lib, x, w), shapes=((2, 5, 4), (3, 4))),
    Case("linear_1d_no_bias", lambda lib, x, w: linear_call(lib, x, w), shapes=((4,), (3, 4))),
    Case("linear_empty_batch", linear_call, shapes=((0, 4), (3, 4), (3,))),
    Case("linear_size1", linear_call, shapes=((1, 1), (1, 1), (1,))),
    Case("bilinear_1d", bilinear_call, shapes=((4,), (3,), (2, 4, 3), (2,))),
    Case("bilinear_2d", bilinear_call, shapes=((5, 4), (5, 3), (2, 4, 3), (2,))),
    Case("bilinear_3d", bilinear_call, shapes=((2, 5, 4), (2, 5, 3), (2, 4, 3), (2,))),
    Case(
        "bilinear_no_bias",
        lambda lib, x1, x2, w: bilinear_call(lib, x1, x2, w),
        shapes=((5, 4), (5, 3), (2, 4, 3)),
    ),
    Case("bilinear_empty_batch", bilinear_call, shapes=((0, 4), (0, 3), (2, 4, 3), (2,))),
    Case("bilinear_size1", bilinear_call, shapes=((1, 1), (1, 1), (1, 1, 1), (1,))),
    Case("flatten", lambda lib, x: nn_of(lib).Flatten()(x), shapes=((2, 3, 4, 5),)),
    Case("flatten_range", lambda lib, x: nn_of(lib).Flatten(0, -2)(x), shapes=((2, 3, 4),)),
    Case("unflatten", lambda lib, x: nn_of(lib).Unflatten(1, (3, 4))(x), shapes=((2, 12),)),
    Case("unflatten_inferred", lambda lib, x: nn_of(lib).Unflatten(-1, [2, -1])(x), shapes=((3, 6),)),
    Case("identity", lambda lib, x: nn_of(lib).Identity(7, flag=True)(x) * 2, shapes=((3, 4),)),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_layers(case, layout):
    check_case(case, layout=layout)


def copy_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("input_shape", [(6,), (5, 6), (2, 3, 6)])
def test_linear_with_pytorch_weights(bias, input_shape):
    theirs = torch.nn.Linear(6, 4, bias=bias, dtype=torch.float64)
    ours = nn.Linear(6, 4, bias=bias, dtype=rg.float64)
    copy_from_torch(ours, theirs)
    x = np.random.default_rng(1).standard_normal(input_shape)
    x_ours, x_theirs = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    assert_close(out_ours, out_theirs, "output", tol=1e-12)
    seed = np.random.default_rng(2).standard_normal(out_ours.shape)
    out_ours.backward(rg.tensor(seed))
    out_theirs.backward(torch.tensor(seed))
    assert_close(x_ours.grad, x_theirs.grad, "input gradient", tol=1e-12)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, f"{name} gradient", tol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [(), (5,), (2, 3)])
def test_bilinear_with_pytorch_weights(bias, batch):
    theirs = torch.nn.Bilinear(4, 3, 2, bias=bias, dtype=torch.float64)
    ours = nn.Bilinear(4, 3, 2, bias=bias, dtype=rg.float64)
    copy_from_torch(ours, theirs)
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((*batch, 4)), rng.standard_normal((*batch, 3))
    ours_inputs = [rg.tensor(a, requires_grad=True), rg.tensor(b, requires_grad=True)]
    theirs_inputs = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    out_ours, out_theirs = ours(*ours_inputs), theirs(*theirs_inputs)
    assert_close(out_ours, out_theirs, "output", tol=1e-12)
    out_ours.sum().backward()
    out_theirs.sum().backward()
    for i, (x, y) in enumerate(zip(ours_inputs, theirs_inputs)):
        assert_close(x.grad, y.grad, f"input {i} gradient", tol=1e-12)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, f"{name} gradient", tol=1e-12)


def test_linear_parameters_shapes_dtype_and_default_init():
    layer = nn.Linear(50, 30)
    reference = torch.nn.Linear(50, 30)
    assert list(layer.state_dict()) == list(reference.state_dict()) == ["weight", "bias"]
    assert layer.weight.shape == (30, 50) and layer.bias.shape == (30,)
    assert layer.weight.dtype == rg.float32 and isinstance(layer.weight, nn.Parameter)
    bound = 1 / math.sqrt(50)  # kaiming_uniform_(a=sqrt(5)) and the bias rule both give 1/sqrt(fan_in)
    weights = layer.weight.detach().numpy()
    assert np.abs(weights).max() <= bound and np.abs(layer.bias.detach().numpy()).max() <= bound
    assert abs(weights.std() / (bound / math.sqrt(3)) - 1) < 0.1
    assert nn.Linear(2, 3, bias=False).bias is None
    assert nn.Linear(2, 3, dtype=rg.float64).weight.dtype == rg.float64
    assert repr(nn.Linear(2, 3, bias=False)) == repr(torch.nn.Linear(2, 3, bias=False))


def test_linear_init_is_reproducible():
    rg.manual_seed(11)
    first = nn.Linear(4, 4).weight.detach().numpy().copy()
    rg.manual_seed(11)
    np.testing.assert_array_equal(nn.Linear(4, 4).weight.detach().numpy(), first)
    layer = nn.Linear(4, 4)
    before = layer.weight.detach().numpy().copy()
    layer.reset_parameters()
    assert not np.array_equal(before, layer.weight.detach().numpy())


def test_bilinear_parameters_and_default_init():
    layer = nn.Bilinear(20, 5, 7)
    assert shapes(layer) == shapes(torch.nn.Bilinear(20, 5, 7))
    bound = 1 / math.sqrt(20)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound
    assert repr(layer) == repr(torch.nn.Bilinear(20, 5, 7))
    with pytest.raises(ValueError, match=r"in1_features must be > 0, but got \(in1_features=0\)"):
        nn.Bilinear(0, 2, 3)


def shapes(module):
    return [(name, tuple(value.shape)) for name, value in module.state_dict().items()]


def test_linear_wrong_feature_size_names_layer_and_sizes():
    layer = nn.Linear(4, 3)
    with pytest.raises(
        RuntimeError,
        match=r"Linear: expected input with last dimension of size 4 \(in_features\), got input of shape \[2, 5\]",
    ):
        layer(rg.ones(2, 5))
    with pytest.raises(RuntimeError, match=r"Linear: expected input .* got input of shape \[\]"):
        layer(rg.tensor(1.0))


def test_bilinear_input_errors():
    layer = nn.Bilinear(4, 3, 2)
    with pytest.raises(RuntimeError, match=r"Bilinear: input1 size does not match weight size: got 5 but expected 4"):
        layer(rg.ones(2, 5), rg.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"Bilinear: input2 size does not match weight size: got 4 but expected 3"):
        layer(rg.ones(2, 4), rg.ones(2, 4))
    with pytest.raises(RuntimeError, match="Bilinear: input batch dimensions do not match at dim 0: got 2 and 3"):
        layer(rg.ones(2, 4), rg.ones(3, 3))
    with pytest.raises(RuntimeError, match="Bilinear: input dimensions do not match: got 2"):
        layer(rg.ones(2, 4), rg.ones(3))


def test_identity_returns_its_input():
    x = rg.ones(3)
    assert nn.Identity(54, unused="argument")(x) is x
    assert repr(nn.Identity()) == "Identity()"


def test_flatten_and_unflatten_repr_and_errors():
    assert repr(nn.Flatten(0, 2)) == repr(torch.nn.Flatten(0, 2))
    assert repr(nn.Unflatten(1, (2, 3))) == repr(torch.nn.Unflatten(1, (2, 3)))
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 6)
    with pytest.raises(
        TypeError, match="unflattened_size must be tuple of ints, but found element of type float at pos 1"
    ):
        nn.Unflatten(1, (2, 3.0))


def test_linear_in_a_sequential_trains_like_pytorch():
    ours = nn.Sequential(nn.Linear(3, 5, dtype=rg.float64), nn.Flatten(0), nn.Unflatten(0, (2, 5)))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 5, dtype=torch.float64), torch.nn.Flatten(0), torch.nn.Unflatten(0, (2, 5))
    )
    copy_from_torch(ours, theirs)
    x = np.random.default_rng(4).standard_normal((2, 3))
    out_ours, out_theirs = ours(rg.tensor(x)), theirs(torch.tensor(x))
    assert_close(out_ours, out_theirs, "output", tol=1e-12)
    (out_ours * out_ours).sum().backward()
    (out_theirs * out_theirs).sum().backward()
    assert_close(ours[0].weight.grad, theirs[0].weight.grad, "weight gradient", tol=1e-12)


def test_linear_full_backward_hook_matches_pytorch():
    ours, theirs = nn.Linear(4, 3, dtype=rg.float64), torch.nn.Linear(4, 3, dtype=torch.float64)
    copy_from_torch(ours, theirs)
    seen = {"ours": [], "theirs": []}
    ours.register_full_backward_hook(lambda m, gi, go: seen["ours"].append((gi[0], go[0])))
    theirs.register_full_backward_hook(lambda m, gi, go: seen["theirs"].append((gi[0], go[0])))
    x = np.random.default_rng(5).standard_normal((2, 4))
    weights = np.arange(6.0).reshape(2, 3)
    (ours(rg.tensor(x, requires_grad=True)) * rg.tensor(weights)).sum().backward()
    (theirs(torch.tensor(x, requires_grad=True)) * torch.tensor(weights)).sum().backward()
    (gi_ours, go_ours), (gi_theirs, go_theirs) = seen["ours"][0], seen["theirs"][0]
    assert_close(gi_ours, gi_theirs, "grad_input", tol=1e-12)
    assert_close(go_ours, go_theirs, "grad_output", tol=1e-12)
