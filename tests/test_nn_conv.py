"""Convolution, pooling and upsampling layers against PyTorch: the same weights
(copied through NumPy) give the same outputs, input gradients and parameter
gradients in float64; state_dict keys and shapes, reprs, default
initialisation and argument errors follow PyTorch."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn.modules import conv, pooling, upsampling

from oracle import torch

pytestmark = [
    pytest.mark.skipif(torch is None, reason="PyTorch is the oracle"),
    # PyTorch warns that padding='same' with an even kernel copies its input.
    pytest.mark.filterwarnings("ignore:Using padding='same'"),
]

RTOL = 1e-8

LAYERS = {
    "Conv1d": conv.Conv1d,
    "Conv2d": conv.Conv2d,
    "ConvTranspose2d": conv.ConvTranspose2d,
    "MaxPool1d": pooling.MaxPool1d,
    "MaxPool2d": pooling.MaxPool2d,
    "AvgPool1d": pooling.AvgPool1d,
    "AvgPool2d": pooling.AvgPool2d,
    "AdaptiveAvgPool2d": pooling.AdaptiveAvgPool2d,
    "AdaptiveMaxPool2d": pooling.AdaptiveMaxPool2d,
    "Upsample": upsampling.Upsample,
}

# (layer name, constructor args, constructor kwargs, input shape)
CONFIGS = [
    ("Conv1d", (3, 4, 3), {}, (2, 3, 9)),
    ("Conv1d", (4, 6, 2), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False}, (2, 4, 10)),
    ("Conv1d", (3, 4, 4), {"padding": "same"}, (3, 7)),
    ("Conv2d", (3, 8, 3), {}, (2, 3, 8, 8)),
    ("Conv2d", (3, 8, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "bias": False}, (2, 3, 9, 7)),
    ("Conv2d", (4, 6, 3), {"padding": "same", "dilation": 2, "groups": 2}, (2, 4, 7, 7)),
    ("Conv2d", (4, 8, 3), {"groups": 4, "padding": "valid"}, (4, 6, 6)),
    ("ConvTranspose2d", (4, 6, 3), {}, (2, 4, 5, 5)),
    ("ConvTranspose2d", (4, 6, (3, 2)), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, (2, 4, 4, 5)),
    ("ConvTranspose2d", (3, 2, 2), {"dilation": 2, "bias": False}, (3, 4, 4)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 10)),
    ("MaxPool2d", (2,), {}, (2, 3, 8, 8)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "dilation": 1, "ceil_mode": True}, (2, 3, 8, 7)),
    ("AvgPool1d", (3,), {"stride": 1, "padding": 1, "count_include_pad": False}, (2, 3, 8)),
    ("AvgPool2d", (2,), {}, (2, 3, 8, 8)),
    ("AvgPool2d", ((3, 2),), {"stride": 2, "padding": 1, "ceil_mode": True, "divisor_override": 4}, (2, 3, 7, 8)),
    ("AdaptiveAvgPool2d", ((3, 5),), {}, (2, 3, 7, 8)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 6, 6)),
    ("AdaptiveMaxPool2d", ((None, 3),), {}, (2, 3, 5, 7)),
    ("Upsample", (), {"scale_factor": 2}, (2, 3, 4, 4)),
    ("Upsample", (), {"size": (5, 7), "mode": "nearest-exact"}, (2, 3, 3, 4)),
]


def _pair(name, args, kwargs):
    """The same layer in both libraries, in float64, with PyTorch's parameters copied into ours."""
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    float64 = {"dtype": rg.float64} if name.startswith("Conv") else {}
    ours = LAYERS[name](*args, **kwargs, **float64)
    ours.load_state_dict(
        {key: rg.from_numpy(value.detach().numpy().copy()) for key, value in theirs.state_dict().items()}
    )
    return ours, theirs


def _close(ours, theirs, what):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=RTOL, atol=1e-12, err_msg=what)


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "shape"), CONFIGS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIGS)]
)
def test_layer_matches_pytorch(name, args, kwargs, shape):
    ours, theirs = _pair(name, args, kwargs)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x_ours, x_theirs = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    _close(out_ours.detach(), out_theirs, f"{name}: output")
    seed = rng.standard_normal(tuple(out_theirs.shape))
    out_ours.backward(rg.tensor(seed))
    out_theirs.backward(torch.tensor(seed))
    _close(x_ours.grad, x_theirs.grad, f"{name}: input gradient")
    ours_params, theirs_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert ours_params.keys() == theirs_params.keys()
    for key, param in ours_params.items():
        _close(param.grad, theirs_params[key].grad, f"{name}: gradient of {key}")


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "shape"), CONFIGS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIGS)]
)
def test_state_dict_and_repr_match_pytorch(name, args, kwargs, shape):
    ours, theirs = LAYERS[name](*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key, value in theirs_state.items():
        assert tuple(ours_state[key].shape) == tuple(value.shape), key
    assert repr(ours) == repr(theirs)


def test_return_indices_layers_match_pytorch():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 7))
    for name, args in [("MaxPool2d", (3, 2, 1)), ("AdaptiveMaxPool2d", ((3, 2),))]:
        ours = LAYERS[name](*args, return_indices=True)
        theirs = getattr(torch.nn, name)(*args, return_indices=True)
        (out, indices), (expected, expected_indices) = ours(rg.tensor(x)), theirs(torch.tensor(x))
        _close(out, expected, f"{name}: output")
        np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


def test_conv_transpose_output_size_picks_the_output_padding():
    ours, theirs = _pair("ConvTranspose2d", (2, 3, 3), {"stride": 2})
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    for size in [(9, 9), (10, 9), (1, 3, 10, 10)]:
        expected = theirs(torch.tensor(x), output_size=size)
        _close(ours(rg.tensor(x), output_size=size), expected, f"output_size={size}")
    with pytest.raises(
        ValueError, match=r"requested an output size of \(12, 12\), but valid sizes range from \[9, 9\] to \[10, 10\]"
    ):
        ours(rg.tensor(x), output_size=(12, 12))


@pytest.mark.parametrize(
    ("layer", "fan_in"),
    [
        (lambda: conv.Conv2d(16, 32, 5), 16 * 25),
        (lambda: conv.Conv1d(12, 24, 3, groups=3), 4 * 3),
        (lambda: conv.ConvTranspose2d(16, 12, 3, groups=2), 6 * 9),
    ],
)
def test_default_initialisation_is_uniform_within_one_over_sqrt_fan_in(layer, fan_in):
    module = layer()
    bound = 1 / math.sqrt(fan_in)
    for values in (module.weight.detach().numpy(), module.bias.detach().numpy()):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.8 * bound  # spread over the range, not concentrated
    assert module.weight.dtype == rg.float32


def test_layers_keep_float32_and_run_unbatched():
    layer = conv.Conv2d(3, 4, 3, padding=1)
    out = pooling.MaxPool2d(2)(layer(rg.randn(3, 8, 8)))
    assert out.shape == (4, 4, 4) and out.dtype == rg.float32


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: conv.Conv2d(3, 8, 3, groups=2), "in_channels must be divisible by groups"),
        (lambda: conv.Conv2d(4, 9, 3, groups=2), "out_channels must be divisible by groups"),
        (lambda: conv.Conv2d(4, 8, 3, groups=0), "groups must be a positive integer"),
        (lambda: conv.Conv2d(4, 8, 3, padding="full"), "Invalid padding string 'full'"),
        (lambda: conv.Conv2d(4, 8, 3, padding="same", stride=2), "padding='same' is not supported for strided"),
        (lambda: conv.Conv2d(4, 8, 3, padding_mode="mirror"), "padding_mode must be one of"),
        (lambda: conv.ConvTranspose2d(4, 8, 3, padding_mode="reflect"), 'Only "zeros" padding mode is supported'),
    ],
)
def test_bad_constructor_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_channel_mismatch_names_the_shapes():
    layer = conv.Conv2d(3, 8, 3)
    with pytest.raises(RuntimeError, match=r"expected input\[2, 4, 10, 10\] to have 3 channels, but got 4 channels"):
        layer(rg.randn(2, 4, 10, 10))
