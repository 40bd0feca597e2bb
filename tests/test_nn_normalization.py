"""BatchNorm1d/2d/3d, LayerNorm and GroupNorm against PyTorch: the same
weights, several training steps then evaluation, comparing outputs, input and
parameter gradients and the running statistics after every step; gradcheck
through each layer; reprs, state_dict keys and errors."""

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from retrograd.nn.modules.container import Sequential
from retrograd.nn.modules.normalization import GroupNorm, LayerNorm

from oracle import Case, check_case, parametrize_cases

OURS = {
    "BatchNorm1d": BatchNorm1d,
    "BatchNorm2d": BatchNorm2d,
    "BatchNorm3d": BatchNorm3d,
    "LayerNorm": LayerNorm,
    "GroupNorm": GroupNorm,
}
RTOL = 1e-8


def both(name, *args, **kwargs):
    """The same layer in retrograd and PyTorch (float64), ours loaded with
    PyTorch's state through NumPy after PyTorch's parameters were randomised."""
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in theirs.parameters():
            param.copy_(torch.rand(param.shape, generator=generator) + 0.5)
    ours = OURS[name](*args, **kwargs, dtype=rg.float64)
    ours.load_state_dict({key: value.numpy() for key, value in theirs.state_dict().items()})
    return ours, theirs


def close(ours, theirs, what):
    np.testing.assert_allclose(
        np.asarray(ours.detach().numpy()), theirs.detach().numpy(), rtol=RTOL, atol=1e-12, err_msg=what
    )


def step(ours, theirs, shape, rng, what):
    """One forward/backward with the same input and output gradient; compare
    everything a training step touches."""
    x = rng.standard_normal(shape) * 2 + 0.5
    seed = rng.standard_normal(shape)
    ours_x = rg.from_numpy(x.copy()).requires_grad_()
    theirs_x = torch.from_numpy(x.copy()).requires_grad_()
    ours_out, theirs_out = ours(ours_x), theirs(theirs_x)
    close(ours_out, theirs_out, f"{what}: output")
    ours_out.backward(rg.from_numpy(seed))
    theirs_out.backward(torch.from_numpy(seed))
    close(ours_x.grad, theirs_x.grad, f"{what}: input gradient")
    for (name, param), (_, their_param) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        close(param.grad, their_param.grad, f"{what}: gradient of {name}")
    ours_buffers, theirs_buffers = dict(ours.named_buffers()), dict(theirs.named_buffers())
    assert ours_buffers.keys() == theirs_buffers.keys()
    for name, buffer in ours_buffers.items():
        if name == "num_batches_tracked":
            assert buffer.dtype == rg.int64 and buffer.item() == theirs_buffers[name].item(), what
        else:
            close(buffer, theirs_buffers[name], f"{what}: {name}")


BATCH_NORM_CONFIGS = [
    ("BatchNorm1d", (8, 3), {}),
    ("BatchNorm1d", (6, 3, 5), {}),
    ("BatchNorm1d", (6, 3, 5), {"momentum": None}),
    ("BatchNorm1d", (6, 3), {"affine": False}),
    ("BatchNorm1d", (6, 3), {"bias": False, "eps": 1e-3, "momentum": 0.3}),
    ("BatchNorm1d", (6, 3, 2), {"track_running_stats": False}),
    ("BatchNorm2d", (4, 3, 3, 2), {}),
    ("BatchNorm2d", (4, 3, 3, 2), {"momentum": None, "affine": False}),
    ("BatchNorm3d", (2, 3, 2, 2, 2), {}),
]


@pytest.mark.parametrize(("name", "shape", "kwargs"), BATCH_NORM_CONFIGS, ids=lambda v: str(v))
def test_batch_norm_training_then_eval_matches_pytorch(name, shape, kwargs):
    ours, theirs = both(name, shape[1], **kwargs)
    rng = np.random.default_rng(0)
    for i in range(3):
        step(ours, theirs, shape, rng, f"training step {i}")
    ours.eval()
    theirs.eval()
    for i in range(2):
        step(ours, theirs, shape, rng, f"eval step {i}")


def test_cumulative_average_with_momentum_none():
    layer = BatchNorm1d(2, momentum=None, affine=False, dtype=rg.float64)
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((5, 2)) * (i + 1) + i for i in range(4)]
    for batch in batches:
        layer(rg.from_numpy(batch))
    np.testing.assert_allclose(layer.running_mean.numpy(), np.mean([b.mean(0) for b in batches], axis=0))
    np.testing.assert_allclose(layer.running_var.numpy(), np.mean([b.var(0, ddof=1) for b in batches], axis=0))
    assert layer.num_batches_tracked.item() == 4


def test_eval_without_running_stats_uses_batch_statistics():
    layer = BatchNorm1d(3, track_running_stats=False).eval()
    out = layer(rg.randn(16, 3) * 5 + 2).detach().numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    assert layer.running_mean is None and layer.num_batches_tracked is None


def test_eval_mode_does_not_touch_running_stats():
    layer = BatchNorm2d(2)
    layer(rg.randn(4, 2, 3, 3))
    saved = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    layer.eval()
    layer(rg.randn(4, 2, 3, 3))
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), saved[key])


LAYER_CONFIGS = [
    ("LayerNorm", (4, 5), (5,), {}),
    ("LayerNorm", (2, 3, 4), ((3, 4),), {}),
    ("LayerNorm", (2, 2, 3, 4), ((2, 3, 4),), {"eps": 1e-3}),
    ("LayerNorm", (3, 4), (4,), {"elementwise_affine": False}),
    ("LayerNorm", (3, 4), (4,), {"bias": False}),
    ("GroupNorm", (3, 6), (3, 6), {}),
    ("GroupNorm", (2, 6, 4), (2, 6), {}),
    ("GroupNorm", (2, 4, 3, 3), (4, 4), {"eps": 1e-3}),
    ("GroupNorm", (2, 4, 3), (1, 4), {"affine": False}),
    ("GroupNorm", (2, 4, 3), (2, 4), {"bias": False}),
]


@pytest.mark.parametrize(("name", "shape", "args", "kwargs"), LAYER_CONFIGS, ids=lambda v: str(v))
def test_per_sample_norms_match_pytorch_in_train_and_eval(name, shape, args, kwargs):
    ours, theirs = both(name, *args, **kwargs)
    rng = np.random.default_rng(1)
    for i in range(2):
        step(ours, theirs, shape, rng, f"training step {i}")
    ours.eval()
    theirs.eval()
    step(ours, theirs, shape, rng, "eval")


# ------------------------------------------------------- gradcheck through layers


def layer_with(lib, name, *args, weight, bias, **kwargs):
    """The layer with its parameters replaced by the given tensors, so gradients
    and gradcheck reach them through the layer's own forward."""
    layer = (getattr(torch.nn, name) if lib is torch else OURS[name])(*args, **kwargs, dtype=lib.float64)
    layer._parameters["weight"] = weight
    layer._parameters["bias"] = bias
    return layer


def _layer_case(label, name, args, input_shape, param_shape, train=True, **kwargs):
    def fn(lib, x, w, b):
        layer = layer_with(lib, name, *args, weight=w, bias=b, **kwargs)
        if not train:
            with torch.no_grad() if lib is torch else rg.no_grad():
                layer.running_mean.copy_(lib.linspace(-1, 1, args[0], dtype=lib.float64))
                layer.running_var.copy_(lib.linspace(0.5, 2, args[0], dtype=lib.float64))
            layer.eval()
        return layer(x)

    return Case(label, fn, shapes=(input_shape, param_shape, param_shape))


LAYER_CASES = [
    _layer_case("BatchNorm1d_train_2d", "BatchNorm1d", (3,), (4, 3), (3,)),
    _layer_case("BatchNorm1d_train_3d", "BatchNorm1d", (2,), (3, 2, 4), (2,)),
    _layer_case("BatchNorm1d_eval", "BatchNorm1d", (3,), (4, 3), (3,), train=False),
    _layer_case("BatchNorm2d_train", "BatchNorm2d", (2,), (2, 2, 2, 3), (2,)),
    _layer_case("BatchNorm2d_eval", "BatchNorm2d", (2,), (2, 2, 2, 3), (2,), train=False),
    _layer_case("BatchNorm3d_train", "BatchNorm3d", (2,), (2, 2, 2, 1, 2), (2,)),
    _layer_case("LayerNorm", "LayerNorm", ((3, 4),), (2, 3, 4), (3, 4)),
    _layer_case("GroupNorm", "GroupNorm", (2, 4), (2, 4, 3), (4,)),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(LAYER_CASES))
def test_layers_gradcheck_and_pytorch(case, layout):
    check_case(case, layout=layout)


# ------------------------------------------------------------ repr and state_dict


MODULE_ARGUMENTS = [
    ("BatchNorm1d", (3,), {}),
    ("BatchNorm2d", (4,), {"eps": 1e-3, "momentum": None, "affine": False, "track_running_stats": False}),
    ("BatchNorm2d", (4,), {"bias": False}),
    ("BatchNorm3d", (2,), {"momentum": 0.5}),
    ("LayerNorm", (5,), {}),
    ("LayerNorm", ([2, 3],), {"elementwise_affine": False, "eps": 1e-6}),
    ("LayerNorm", (4,), {"bias": False}),
    ("GroupNorm", (2, 4), {}),
    ("GroupNorm", (2, 4), {"affine": False, "eps": 1e-3}),
    ("GroupNorm", (2, 4), {"bias": False}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), MODULE_ARGUMENTS, ids=lambda v: str(v))
def test_repr_and_state_dict_layout_match_pytorch(name, args, kwargs):
    ours = OURS[name](*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float32)
    assert repr(ours) == repr(theirs)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key, value in theirs_state.items():
        assert tuple(ours_state[key].shape) == tuple(value.shape), key
        assert str(ours_state[key].dtype) == str(value.dtype).removeprefix("torch."), key
        np.testing.assert_array_equal(ours_state[key].numpy(), value.numpy())


def test_nested_state_dict_round_trip_and_old_version_without_num_batches_tracked():
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    theirs.train()(torch.randn(5, 2))
    ours = Sequential(rg.nn.Linear(2, 3), BatchNorm1d(3))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert ours[1].num_batches_tracked.item() == 1
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # A state dict saved before num_batches_tracked existed (no version metadata) still loads.
    old = {k: v for k, v in ours.state_dict().items() if not k.endswith("num_batches_tracked")}
    fresh = Sequential(rg.nn.Linear(2, 3), BatchNorm1d(3))
    fresh.load_state_dict(old)
    np.testing.assert_array_equal(fresh[1].running_mean.numpy(), ours[1].running_mean.numpy())


def test_casting_keeps_num_batches_tracked_integer_and_reset_restores_defaults():
    layer = BatchNorm1d(3).double()
    assert layer.running_mean.dtype == rg.float64 and layer.num_batches_tracked.dtype == rg.int64
    layer(rg.randn(4, 3, dtype=rg.float64) + 3)
    layer.reset_running_stats()
    assert layer.running_mean.tolist() == [0, 0, 0] and layer.running_var.tolist() == [1, 1, 1]
    assert layer.num_batches_tracked.item() == 0


def test_float32_layers_keep_float32():
    for layer, shape in ((BatchNorm2d(2), (2, 2, 3, 3)), (LayerNorm(3), (2, 3)), (GroupNorm(1, 2), (2, 2, 3))):
        x = rg.randn(*shape, requires_grad=True)
        out = layer(x)
        out.sum().backward()
        assert out.dtype == rg.float32 and x.grad.dtype == rg.float32
        assert all(p.grad.dtype == rg.float32 for p in layer.parameters())


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: BatchNorm1d(3)(rg.randn(2, 3, 4, 5)), ValueError, r"expected 2D or 3D input \(got 4D input\)"),
        (lambda: BatchNorm1d(3)(rg.randn(3)), ValueError, r"expected 2D or 3D input \(got 1D input\)"),
        (lambda: BatchNorm2d(3)(rg.randn(2, 3, 4)), ValueError, r"expected 4D input \(got 3D input\)"),
        (lambda: BatchNorm3d(3)(rg.randn(2, 3, 4, 4)), ValueError, r"expected 5D input \(got 4D input\)"),
        (lambda: BatchNorm1d(3)(rg.randn(2, 4)), RuntimeError, "running_mean should contain 4 elements not 3"),
        (lambda: BatchNorm1d(3)(rg.randn(1, 3)), ValueError, "more than 1 value per channel"),
        (lambda: GroupNorm(4, 6), ValueError, r"num_channels \(6\) must be divisible by num_groups \(4\)"),
        (lambda: GroupNorm(2, 4)(rg.randn(2, 6)), RuntimeError, "number of channels"),
        (lambda: LayerNorm(4)(rg.randn(2, 3)), RuntimeError, r"normalized_shape=\[4\]"),
    ],
)
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
