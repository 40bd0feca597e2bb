"""Max pooling's paths: the compiled loop (floating input, when Numba is
available), and in NumPy the running-maximum scan (NaN-free input) and the
argmax over copied windows (input with NaN). All must pick the same first
maximum and match PyTorch's values, indices and gradients, including ties,
padding, dilation, overlapping and large windows, -inf and NaN."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import _jit
from retrograd.ops import conv

torch = pytest.importorskip("torch")

GEOMETRIES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 1, "padding": 1},
    {"kernel_size": (2, 3), "stride": (2, 1), "dilation": (2, 1), "padding": (1, 1)},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 12, "stride": 1},  # 144 kernel positions: the wider position dtype
    {"kernel_size": 3, "stride": 2, "padding": 1},  # overlapping windows: the scatter accumulates
]


@pytest.fixture(params=["compiled", "numpy"])
def path(request, monkeypatch):
    """Run the test on the compiled loop and on the NumPy path."""
    if request.param == "compiled":
        if conv._max_pool_kernel.compiled() is None:
            pytest.skip("compiled kernels unavailable or switched off")
    else:
        monkeypatch.setattr(_jit, "enabled", False)
    return request.param


def _ties(shape, seed=0):
    """Small integers as floats: many windows hold their maximum more than once."""
    return np.random.default_rng(seed).integers(-3, 4, shape).astype(np.float32)


@pytest.mark.parametrize("options", GEOMETRIES, ids=str)
def test_scan_and_argmax_pick_the_same_first_maximum(options):
    x = _ties((2, 3, 13, 14))
    _, _, geometry = conv._pool_geometry(
        rg.tensor(x),
        options["kernel_size"],
        options.get("stride"),
        options.get("padding", 0),
        options.get("dilation", 1),
        options.get("ceil_mode", False),
        2,
        "max_pool2d",
    )
    windows = conv._windows(conv._pad(x, geometry, -np.inf), geometry)
    scan_out, scan_position = conv._first_max_by_scan(windows)
    argmax_out, argmax_position = conv._first_max_by_argmax(windows)
    np.testing.assert_array_equal(scan_out, argmax_out)
    np.testing.assert_array_equal(scan_position, argmax_position)


@pytest.mark.parametrize("options", GEOMETRIES, ids=str)
@pytest.mark.parametrize("special", ["none", "nan", "inf"])
def test_max_pool2d_matches_pytorch(options, special, path):
    x = _ties((2, 3, 13, 14), seed=1)
    if special == "nan":
        x[0, 1, 4, 5] = np.nan
        x[0, 1, 4, 6] = np.nan  # two NaNs in one window: the first one's index
        x[1, 2, 0, 0] = np.nan
    elif special == "inf":
        x[0, 0, :4, :4] = -np.inf  # windows of -inf only: their first input position
        x[1, 1, 5, 5] = np.inf
    ours = rg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, indices = rg.nn.functional.max_pool2d(ours, return_indices=True, **options)
    expected, expected_indices = torch.nn.functional.max_pool2d(theirs, return_indices=True, **options)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    upstream = np.random.default_rng(2).standard_normal(expected.shape).astype(np.float32)
    out.backward(rg.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_integer_input_uses_the_scan():
    x = np.random.default_rng(3).integers(-100, 100, (2, 2, 6, 6)).astype(np.int32)
    out, indices = rg.nn.functional.max_pool2d(rg.tensor(x), 2, return_indices=True)
    expected, expected_indices = torch.nn.functional.max_pool2d(
        torch.tensor(x, dtype=torch.float64), 2, return_indices=True
    )
    np.testing.assert_array_equal(out.numpy(), expected.numpy().astype(np.int32))
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
