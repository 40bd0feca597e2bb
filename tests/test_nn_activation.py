"""Activation layers and the functions of ``nn.functional`` built on top of the
ops (prelu, the softmax family, normalize, cosine_similarity): values and
gradients against PyTorch (gradcheck, gradgradcheck, 1e-10 in float64 through
the oracle; modules in train and eval mode), reprs, in-place flags, PReLU's
parameter, the implicit softmax dimension, and errors."""

import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn import functional as RF
from retrograd.nn.modules import activation as act

from oracle import Case, assert_close, check_case, parametrize_cases

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def nn_of(lib):
    """Where the layers live: ``torch.nn`` or retrograd's activation module."""
    return torch.nn if lib is torch else act


def F(lib):
    return TF if lib is torch else RF


def away_from_kinks(shape, kinks=(0.0,), low=-3.0, high=3.0):
    """Uniform inputs pushed at least 0.1 away from each kink."""

    def make(rng):
        x = rng.uniform(low, high, size=shape)
        for kink in kinks:
            near = np.abs(x - kink) < 0.1
            x[near] = kink + np.where(x[near] >= kink, 0.2, -0.2)
        return [x]

    return make


def layer(name, *args, **kwargs):
    """``fn(lib, x)`` applying layer ``name`` built with the given arguments."""
    return lambda lib, x: getattr(nn_of(lib), name)(*args, **kwargs)(x)


def prelu_layer(lib, x, weight):
    """A PReLU whose slopes are the (differentiable) input ``weight``."""
    module = nn_of(lib).PReLU(weight.shape[0], dtype=lib.float64)
    module._parameters["weight"] = weight
    return module(x)


def prelu_inputs(shape, slopes):
    def make(rng):
        (x,) = away_from_kinks(shape)(rng)
        return [x, rng.uniform(-0.5, 0.8, size=slopes)]

    return make


SHAPES = [(3, 4), (2, 3, 2), (0, 3), ()]

MODULE_CASES = [
    *[
        Case(f"{name}{list(shape)}", fn, shapes=(shape,), make_inputs=away_from_kinks(shape, kinks))
        for shape in SHAPES
        for name, fn, kinks in [
            ("ReLU", layer("ReLU"), (0.0,)),
            ("ReLU6", layer("ReLU6"), (0.0, 6.0)),
            ("LeakyReLU", layer("LeakyReLU", 0.2), (0.0,)),
            ("ELU", layer("ELU", alpha=0.7), (0.0,)),
            ("GELU", layer("GELU"), ()),
            ("GELU_tanh", layer("GELU", approximate="tanh"), ()),
            ("SiLU", layer("SiLU"), ()),
            ("Mish", layer("Mish"), ()),
            ("Sigmoid", layer("Sigmoid"), ()),
            ("Tanh", layer("Tanh"), ()),
            ("Softplus", layer("Softplus", beta=2.0, threshold=3.0), (1.5,)),
            ("Hardtanh", layer("Hardtanh", -0.5, 1.5), (-0.5, 1.5)),
            ("LogSigmoid", layer("LogSigmoid"), ()),
        ]
    ],
    *[
        Case(f"{name}{list(shape)}", fn, shapes=(shape,))
        for shape in [(3, 4), (2, 3, 2), (4,), (0, 3)]
        for name, fn in [
            ("Softmax", layer("Softmax", dim=-1)),
            ("Softmax_dim0", layer("Softmax", dim=0)),
            ("LogSoftmax", layer("LogSoftmax", dim=-1)),
            ("Softmin", layer("Softmin", dim=0)),
        ]
    ],
    Case("PReLU_shared[3, 4]", prelu_layer, shapes=((3, 4),), make_inputs=prelu_inputs((3, 4), 1)),
    Case("PReLU_channels[2, 3, 4]", prelu_layer, shapes=((2, 3, 4),), make_inputs=prelu_inputs((2, 3, 4), 3)),
    Case("PReLU_channels[2, 3, 2, 2]", prelu_layer, shapes=((2, 3, 2, 2),), make_inputs=prelu_inputs((2, 3, 2, 2), 3)),
    Case("PReLU_channels[4, 3]", prelu_layer, shapes=((4, 3),), make_inputs=prelu_inputs((4, 3), 3)),
    Case("PReLU_1d[5]", prelu_layer, shapes=((5,),), make_inputs=prelu_inputs((5,), 1)),
    Case("PReLU_0d", prelu_layer, shapes=((),), make_inputs=prelu_inputs((), 1)),
    Case("PReLU_empty[0, 3]", prelu_layer, shapes=((0, 3),), make_inputs=prelu_inputs((0, 3), 3)),
]

FUNCTIONAL_CASES = [
    Case("prelu_scalar_weight", lambda lib, x, w: F(lib).prelu(x, w), make_inputs=lambda rng: [
        away_from_kinks((2, 3))(rng)[0], np.asarray(rng.uniform(0, 1))]),
    Case("normalize", lambda lib, x: F(lib).normalize(x), shapes=((3, 4),)),
    Case("normalize_p1_dim0", lambda lib, x: F(lib).normalize(x, p=1.0, dim=0),
         make_inputs=away_from_kinks((3, 4), low=0.2, high=2.0)),
    Case("normalize_p3_last", lambda lib, x: F(lib).normalize(x, p=3, dim=-1), shapes=((2, 3, 4),)),
    Case("normalize_below_eps", lambda lib, x: F(lib).normalize(x * 1e-3, eps=1.0), shapes=((3, 4),)),
    Case("cosine_similarity", lambda lib, a, b: F(lib).cosine_similarity(a, b), shapes=((3, 4), (3, 4))),
    Case("cosine_similarity_broadcast", lambda lib, a, b: F(lib).cosine_similarity(a, b, dim=-1),
         shapes=((2, 3, 4), (3, 4))),
    Case("softmin_dtype", lambda lib, x: F(lib).softmin(x, 1, dtype=lib.float64), shapes=((3, 4),)),
    Case("log_softmax_functional", lambda lib, x: F(lib).log_softmax(x, dim=0), shapes=((3, 4),)),
    Case("relu_functional", lambda lib, x: F(lib).relu(x), make_inputs=away_from_kinks((3, 4))),
]  # fmt: skip


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(MODULE_CASES + FUNCTIONAL_CASES))
def test_activation(case, layout):
    check_case(case, layout=layout)


def test_cosine_similarity_clamps_small_norms_like_pytorch():
    # PyTorch clamps the norms under no_grad, so the gradient is not the derivative
    # of the clamped function (gradcheck does not apply); it is matched exactly instead.
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)) * 1e-4, rng.standard_normal((3, 4))
    results = []
    for lib in (rg, torch):
        x1 = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        x2 = lib.tensor(b, dtype=lib.float64, requires_grad=True)
        out = F(lib).cosine_similarity(x1, x2, eps=0.01)
        out.sum().backward()
        results.append((out, x1.grad, x2.grad))
    for what, ours, theirs in zip(("value", "gradient of x1", "gradient of x2"), *results, strict=True):
        assert_close(ours, theirs, f"cosine_similarity below eps: {what}")


# ------------------------------------------------- modules against PyTorch's

LAYERS = [
    ("ReLU", (), {}),
    ("ReLU6", (), {}),
    ("LeakyReLU", (0.05,), {}),
    ("PReLU", (3, 0.1), {}),
    ("PReLU", (), {"init": -0.3}),
    ("ELU", (), {"alpha": 1.5}),
    ("GELU", ("tanh",), {}),
    ("SiLU", (), {}),
    ("Mish", (), {}),
    ("Sigmoid", (), {}),
    ("Tanh", (), {}),
    ("Softplus", (0.5, 2.0), {}),
    ("Softmax", (1,), {}),
    ("LogSoftmax", (-1,), {}),
    ("Softmin", (2,), {}),
    ("Hardtanh", (-2.0, 2.0), {}),
    ("LogSigmoid", (), {}),
]


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize(("name", "args", "kwargs"), LAYERS, ids=[f"{n}{a}" for n, a, _ in LAYERS])
def test_layers_match_pytorch_in_train_and_eval_mode(name, args, kwargs, training):
    rg.set_default_dtype(rg.float64)  # as the oracle sets PyTorch's (the fixture restores it)
    ours = getattr(act, name)(*args, **kwargs).train(training)
    theirs = getattr(torch.nn, name)(*args, **kwargs).train(training)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    data = np.random.default_rng(0).uniform(-4, 4, size=(2, 3, 5))
    x = rg.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    out, expected = ours(x), theirs(t)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-8, atol=1e-12)
    seed = np.random.default_rng(1).standard_normal(expected.shape)
    out.backward(rg.tensor(seed))
    expected.backward(torch.tensor(seed))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-12)
    for (key, parameter), (torch_key, torch_parameter) in zip(
        ours.named_parameters(), theirs.named_parameters(), strict=True
    ):
        assert key == torch_key
        np.testing.assert_allclose(parameter.grad.numpy(), torch_parameter.grad.numpy(), rtol=1e-8, atol=1e-12)


REPRS = [
    ("ReLU", ()), ("ReLU", (True,)), ("ReLU6", ()), ("ReLU6", (True,)), ("LeakyReLU", ()),
    ("LeakyReLU", (0.2, True)), ("PReLU", ()), ("PReLU", (3, 0.1)), ("ELU", ()), ("ELU", (0.5, True)),
    ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("SiLU", (True,)), ("Mish", ()), ("Mish", (True,)),
    ("Sigmoid", ()), ("Tanh", ()), ("Softplus", ()), ("Softplus", (2, 10)), ("Softmax", ()), ("Softmax", (1,)),
    ("LogSoftmax", (-1,)), ("Softmin", (0,)), ("Hardtanh", ()), ("Hardtanh", (-2, 3, True)),
    ("Hardtanh", (-2.5, 3.5)), ("LogSigmoid", ()),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args"), REPRS, ids=[f"{n}{a}" for n, a in REPRS])
def test_repr_matches_pytorch(name, args):
    assert repr(getattr(act, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_every_layer_is_exported_and_exists_in_pytorch():
    assert sorted(act.__all__) == sorted(name for name in act.__all__ if hasattr(torch.nn, name))
    for name in act.__all__:
        assert issubclass(getattr(act, name), rg.nn.Module)


# ----------------------------------------------------------------- in place


@pytest.mark.parametrize(
    ("name", "args"),
    [("ReLU", (True,)), ("ReLU6", (True,)), ("LeakyReLU", (0.1, True)), ("ELU", (1.0, True)), ("SiLU", (True,)),
     ("Mish", (True,)), ("Hardtanh", (-1.0, 1.0, True))],
)  # fmt: skip
def test_inplace_layers_overwrite_their_input_and_keep_gradients_right(name, args):
    data = np.random.default_rng(0).uniform(-3, 3, size=(3, 4))
    x = rg.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    hidden, torch_hidden = x * 2, t * 2
    out = getattr(act, name)(*args)(hidden)
    expected = getattr(torch.nn, name)(*args)(torch_hidden)
    assert out is hidden
    assert_close(hidden, torch_hidden, f"{name}: value written in place")
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    assert_close(x.grad, t.grad, f"{name}: gradient through the in-place layer")


def test_inplace_layer_under_no_grad_writes_into_the_array():
    x = rg.tensor([-1.0, 2.0, -3.0])
    array = x.numpy()
    with rg.no_grad():
        act.ReLU(inplace=True)(x)
    assert array.tolist() == [0.0, 2.0, 0.0]


def test_functional_relu_inplace_flag():
    x = rg.tensor([-1.0, 2.0])
    assert RF.relu(x) is not x
    assert RF.relu(x, inplace=True) is x
    assert x.tolist() == [0.0, 2.0]


# --------------------------------------------------------------------- PReLU


def test_prelu_parameter_layout_and_initialisation():
    module = act.PReLU(3, init=0.1)
    assert list(module.state_dict()) == ["weight"]
    assert module.weight.shape == (3,) and module.weight.dtype == rg.float32
    np.testing.assert_allclose(module.weight.detach().numpy(), 0.1)
    assert module.weight.requires_grad
    assert act.PReLU(dtype=rg.float64).weight.dtype == rg.float64
    module.weight.data = rg.zeros(3)
    module.reset_parameters()
    np.testing.assert_allclose(module.weight.detach().numpy(), 0.1)


def test_prelu_loads_a_pytorch_state_dict():
    theirs = torch.nn.PReLU(4, dtype=torch.float32)
    with torch.no_grad():
        theirs.weight.uniform_(-1, 1)
    ours = act.PReLU(4)
    ours.load_state_dict({key: rg.tensor(value.numpy()) for key, value in theirs.state_dict().items()})
    data = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(rg.tensor(data)).detach().numpy(), theirs(torch.tensor(data)).detach().numpy())


@pytest.mark.parametrize(
    ("input_shape", "weight", "error", "match"),
    [
        ((4,), rg.ones(4), RuntimeError, "parameter numbers = 4 and channel size = 1"),
        ((4, 3), rg.ones(4), RuntimeError, "parameter numbers = 4 and channel size = 3"),
        ((), rg.ones(2), RuntimeError, "Not allow zero-dim input tensor"),
        ((4, 3, 2), rg.ones(3, 1), RuntimeError, "Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2"),
        ((4, 3), rg.ones(3, dtype=rg.float64), RuntimeError, "Type promoting not supported. Got float32 and float64"),
        ((4, 3), 0.25, TypeError, "prelu\\(\\): argument 'weight' must be Tensor, not float"),
    ],
)
def test_prelu_errors(input_shape, weight, error, match):
    with pytest.raises(error, match=match):
        RF.prelu(rg.randn(input_shape), weight)


def test_prelu_gradient_at_zero_is_the_slope_as_in_pytorch():
    results = []
    for lib in (rg, torch):
        x = lib.tensor([0.0, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([0.3], dtype=lib.float64, requires_grad=True)
        F(lib).prelu(x, w).sum().backward()
        results.append((x.grad, w.grad))
    (x_grad, w_grad), (torch_x_grad, torch_w_grad) = results
    assert_close(x_grad, torch_x_grad, "prelu input gradient at 0")
    assert_close(w_grad, torch_w_grad, "prelu weight gradient")


# ----------------------------------------------------------- softmax family


@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax", "Softmin"])
def test_implicit_softmax_dimension_warns_and_matches_pytorch(name, ndim):
    data = np.random.default_rng(0).standard_normal((2, 3, 4, 5)[:ndim])
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        ours = getattr(act, name)()(rg.tensor(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch.nn, name)()(torch.tensor(data))
    assert_close(ours, theirs, f"{name} with the implicit dim")


def test_functional_softmax_takes_dtype_and_warns_at_the_callers_line():
    x = rg.randn(2, 3)
    assert RF.softmax(x, 1, dtype=rg.float64).dtype == rg.float64
    with pytest.warns(UserWarning) as record:
        RF.log_softmax(x)
    assert record[0].filename == __file__


# -------------------------------------------------------------------- errors


def test_layer_argument_errors():
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(1\) must be greater than min_val \(1\)"):
        act.Hardtanh(1, 1)
    with pytest.raises(RuntimeError, match="gelu: approximate argument must be either 'none' or 'tanh'"):
        act.GELU("fast")(rg.randn(3))
    with pytest.raises(IndexError, match="softmax: dimension out of range"):
        act.Softmax(dim=2)(rg.randn(3, 4))


def test_hardtanh_deprecated_keywords():
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        module = act.Hardtanh(min_value=-2.0)
    assert module.min_val == -2.0
    with pytest.warns(FutureWarning, match="`max_value` is deprecated"):
        assert act.Hardtanh(max_value=3.0).max_val == 3.0


def test_cosine_similarity_and_normalize_errors():
    with pytest.raises(RuntimeError, match=r"cosine_similarity: x1 of shape \[3, 4\] and x2 of shape \[2, 4\]"):
        RF.cosine_similarity(rg.randn(3, 4), rg.randn(2, 4))
    with pytest.raises(NotImplementedError, match="normalize: the out= argument"):
        RF.normalize(rg.randn(3), dim=0, out=rg.empty(3))


def test_functional_namespace_mirrors_pytorch():
    missing = [name for name in RF.__all__ if not hasattr(TF, name)]
    assert not missing
    for name in RF.__all__:
        assert callable(getattr(RF, name)), name
