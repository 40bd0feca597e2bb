"""Convolution and pooling ops: gradcheck, gradgradcheck and PyTorch comparison
(values and gradients to 1e-10) over strides, paddings, dilations, groups,
ceil mode, unbatched and size-0 inputs; second derivatives against PyTorch;
argument errors."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops import conv as rg_functional

from oracle import Case, assert_close, check_case, parametrize_cases, torch

# PyTorch warns that padding='same' with an even kernel copies its input.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def F(lib):
    """The functional namespace of either library."""
    return rg_functional if lib is rg else lib.nn.functional


# Every option runs in the contiguous layout; the rows marked ``noncontiguous=True``
# also run on strided inputs (the kernels read windows through strides, so one
# row per op and layout path is enough and keeps the file fast).


def _conv_cases(name, op, shapes, **kwargs):
    """One convolution row with a bias and one without."""
    with_bias = Case(name, lambda lib, x, w, b: getattr(F(lib), op)(x, w, b, **kwargs), shapes=shapes)
    no_bias = Case(
        f"{name}-nobias", lambda lib, x, w: getattr(F(lib), op)(x, w, **kwargs), shapes=shapes[:2], noncontiguous=False
    )
    return [with_bias, no_bias]


def _case(name, op, shapes, noncontiguous=False, **kwargs):
    return Case(name, lambda lib, *xs: getattr(F(lib), op)(*xs, **kwargs), shapes=shapes, noncontiguous=noncontiguous)


CONV2D = [
    *_conv_cases("conv2d", "conv2d", ((2, 2, 4, 4), (3, 2, 3, 3), (3,))),
    *_conv_cases("conv2d-stride2-pad1", "conv2d", ((2, 2, 5, 5), (3, 2, 3, 3), (3,)), stride=2, padding=1),
    _case("conv2d-tuples", "conv2d", ((2, 2, 5, 4), (2, 2, 3, 2), (2,)), stride=(2, 1), padding=(1, 2)),
    _case("conv2d-same", "conv2d", ((2, 2, 4, 5), (2, 2, 3, 3), (2,)), padding="same"),
    _case("conv2d-same-even-kernel", "conv2d", ((1, 2, 4, 5), (2, 2, 2, 4)), padding="same"),
    _case(
        "conv2d-same-dilated",
        "conv2d",
        ((1, 2, 5, 5), (2, 2, 2, 3)),
        padding="same",
        dilation=(3, 2),
        noncontiguous=True,
    ),
    _case("conv2d-valid", "conv2d", ((2, 2, 4, 4), (2, 2, 2, 3)), padding="valid"),
    _case("conv2d-dilation", "conv2d", ((2, 2, 5, 5), (2, 2, 2, 2), (2,)), dilation=2, padding=1),
    _case("conv2d-stride-dilation", "conv2d", ((1, 2, 6, 6), (2, 2, 2, 2)), stride=2, dilation=(2, 3)),
    _case("conv2d-unused-rows", "conv2d", ((1, 2, 6, 5), (2, 2, 2, 2)), stride=3),
    _case("conv2d-groups2", "conv2d", ((2, 4, 4, 4), (4, 2, 2, 2), (4,)), groups=2, noncontiguous=True),
    _case("conv2d-depthwise", "conv2d", ((2, 3, 4, 4), (6, 1, 3, 3), (6,)), groups=3, padding=1),
    _case("conv2d-1x1", "conv2d", ((2, 3, 3, 3), (2, 3, 1, 1), (2,))),
    _case("conv2d-unbatched", "conv2d", ((2, 4, 4), (3, 2, 3, 3), (3,)), padding=1),
    _case("conv2d-size1", "conv2d", ((1, 1, 3, 3), (1, 1, 3, 3), (1,))),
    _case("conv2d-empty-batch", "conv2d", ((0, 2, 4, 4), (3, 2, 3, 3), (3,))),
]

CONV1D = [
    *_conv_cases("conv1d", "conv1d", ((2, 2, 6), (3, 2, 3), (3,))),
    _case(
        "conv1d-stride-pad-dilation",
        "conv1d",
        ((2, 2, 7), (3, 2, 2), (3,)),
        stride=2,
        padding=1,
        dilation=2,
        noncontiguous=True,
    ),
    _case("conv1d-same", "conv1d", ((2, 2, 5), (2, 2, 4)), padding="same"),
    _case("conv1d-groups", "conv1d", ((2, 4, 5), (2, 2, 3), (2,)), groups=2),
    _case("conv1d-unbatched", "conv1d", ((2, 5), (3, 2, 2), (3,))),
]

CONV_TRANSPOSE = [
    *_conv_cases("conv_transpose2d", "conv_transpose2d", ((2, 2, 3, 3), (2, 3, 2, 2), (3,))),
    _case("conv_transpose2d-stride2", "conv_transpose2d", ((2, 2, 3, 3), (2, 2, 3, 3), (2,)), stride=2),
    _case(
        "conv_transpose2d-output-padding",
        "conv_transpose2d",
        ((1, 2, 3, 3), (2, 2, 3, 3), (2,)),
        stride=2,
        padding=1,
        output_padding=1,
    ),
    _case("conv_transpose2d-tuples", "conv_transpose2d", ((1, 2, 3, 2), (2, 2, 2, 3)), stride=(1, 2), padding=(0, 1)),
    _case(
        "conv_transpose2d-groups", "conv_transpose2d", ((2, 4, 3, 3), (4, 1, 2, 2), (2,)), groups=2, noncontiguous=True
    ),
    _case(
        "conv_transpose2d-dilation-output-padding",
        "conv_transpose2d",
        ((1, 2, 3, 3), (2, 2, 2, 2)),
        dilation=2,
        output_padding=1,
    ),
    _case("conv_transpose2d-large-padding", "conv_transpose2d", ((1, 2, 4, 4), (2, 2, 3, 3)), padding=2),
    _case("conv_transpose2d-unbatched", "conv_transpose2d", ((2, 3, 3), (2, 2, 2, 2), (2,)), stride=2),
    _case("conv_transpose1d", "conv_transpose1d", ((2, 2, 4), (2, 3, 3), (3,)), stride=2, output_padding=1),
]

MAX_POOL = [
    _case("max_pool2d", "max_pool2d", ((2, 2, 4, 4),), kernel_size=2),
    _case("max_pool2d-overlapping", "max_pool2d", ((2, 2, 5, 5),), kernel_size=3, stride=1, noncontiguous=True),
    _case(
        "max_pool2d-stride-pad", "max_pool2d", ((2, 2, 5, 5),), kernel_size=3, stride=2, padding=1, noncontiguous=True
    ),
    _case("max_pool2d-ceil", "max_pool2d", ((2, 2, 5, 5),), kernel_size=2, ceil_mode=True),
    _case("max_pool2d-ceil-pad", "max_pool2d", ((1, 2, 6, 5),), kernel_size=3, stride=2, padding=1, ceil_mode=True),
    _case("max_pool2d-dilation", "max_pool2d", ((1, 2, 6, 6),), kernel_size=2, stride=1, dilation=2, padding=1),
    _case("max_pool2d-tuples", "max_pool2d", ((2, 2, 5, 6),), kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
    _case("max_pool2d-unbatched", "max_pool2d", ((2, 4, 4),), kernel_size=2),
    _case("max_pool2d-empty-batch", "max_pool2d", ((0, 2, 4, 4),), kernel_size=2),
    _case("max_pool1d", "max_pool1d", ((2, 3, 6),), kernel_size=2),
    _case(
        "max_pool1d-options",
        "max_pool1d",
        ((2, 2, 7),),
        kernel_size=3,
        stride=2,
        padding=1,
        ceil_mode=True,
        noncontiguous=True,
    ),
    _case("max_pool1d-unbatched", "max_pool1d", ((2, 5),), kernel_size=2, stride=1, dilation=2),
]

AVG_POOL = [
    _case("avg_pool2d", "avg_pool2d", ((2, 2, 4, 4),), kernel_size=2),
    _case("avg_pool2d-overlapping", "avg_pool2d", ((2, 2, 5, 5),), kernel_size=3, stride=1),
    _case("avg_pool2d-pad", "avg_pool2d", ((2, 2, 5, 5),), kernel_size=3, stride=2, padding=1),
    _case(
        "avg_pool2d-pad-exclude",
        "avg_pool2d",
        ((2, 2, 5, 5),),
        kernel_size=3,
        stride=2,
        padding=1,
        count_include_pad=False,
        noncontiguous=True,
    ),
    _case("avg_pool2d-ceil", "avg_pool2d", ((1, 2, 5, 5),), kernel_size=2, ceil_mode=True),
    _case(
        "avg_pool2d-ceil-pad-exclude",
        "avg_pool2d",
        ((1, 2, 6, 5),),
        kernel_size=3,
        stride=2,
        padding=1,
        ceil_mode=True,
        count_include_pad=False,
    ),
    _case("avg_pool2d-divisor", "avg_pool2d", ((1, 2, 4, 5),), kernel_size=(2, 3), stride=1, divisor_override=5),
    _case("avg_pool2d-unbatched", "avg_pool2d", ((2, 4, 4),), kernel_size=2),
    _case("avg_pool2d-empty-batch", "avg_pool2d", ((0, 2, 4, 4),), kernel_size=2),
    _case("avg_pool1d", "avg_pool1d", ((2, 3, 6),), kernel_size=2),
    _case("avg_pool1d-options", "avg_pool1d", ((2, 2, 7),), kernel_size=3, stride=2, padding=1, ceil_mode=True),
    _case(
        "avg_pool1d-exclude-pad", "avg_pool1d", ((2, 5),), kernel_size=2, stride=1, padding=1, count_include_pad=False
    ),
]

ADAPTIVE = [
    _case("adaptive_avg_pool2d-global", "adaptive_avg_pool2d", ((2, 3, 4, 4),), output_size=1),
    _case("adaptive_avg_pool2d-divisible", "adaptive_avg_pool2d", ((2, 2, 4, 6),), output_size=(2, 3)),
    _case("adaptive_avg_pool2d-uneven", "adaptive_avg_pool2d", ((2, 2, 5, 7),), output_size=(3, 4), noncontiguous=True),
    _case("adaptive_avg_pool2d-none", "adaptive_avg_pool2d", ((1, 2, 5, 4),), output_size=(None, 3)),
    _case("adaptive_avg_pool2d-larger", "adaptive_avg_pool2d", ((1, 2, 3, 2),), output_size=(4, 5)),
    _case("adaptive_avg_pool2d-unbatched", "adaptive_avg_pool2d", ((2, 5, 5),), output_size=3),
    _case("adaptive_max_pool2d", "adaptive_max_pool2d", ((2, 2, 5, 7),), output_size=(3, 4), noncontiguous=True),
    _case("adaptive_max_pool2d-global", "adaptive_max_pool2d", ((2, 2, 4, 3),), output_size=1),
    _case("adaptive_max_pool2d-larger", "adaptive_max_pool2d", ((1, 2, 3, 2),), output_size=(4, 3)),
]

INTERPOLATE = [
    _case("interpolate-scale2", "interpolate", ((2, 2, 3, 3),), scale_factor=2),
    _case("interpolate-size", "interpolate", ((2, 2, 3, 4),), size=(5, 7), noncontiguous=True),
    _case("interpolate-down", "interpolate", ((1, 2, 5, 6),), scale_factor=(0.5, 0.7)),
    _case("interpolate-fractional", "interpolate", ((1, 2, 3, 3),), scale_factor=1.7),
    _case("interpolate-exact", "interpolate", ((1, 2, 4, 3),), size=(6, 5), mode="nearest-exact"),
    _case("interpolate-3d", "interpolate", ((2, 2, 4),), scale_factor=3),
    _case("interpolate-recompute", "interpolate", ((1, 2, 3, 3),), scale_factor=1.7, recompute_scale_factor=True),
]

CASES = CONV2D + CONV1D + CONV_TRANSPOSE + MAX_POOL + AVG_POOL + ADAPTIVE + INTERPOLATE


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_conv_ops(case, layout):
    check_case(case, layout=layout)


# ------------------------------------------------------------------ second derivatives


def _double_backward(lib, fn, arrays):
    """Gradients of <grad of <fn(xs), g>, v> with respect to the inputs and g."""
    xs = [lib.tensor(a, requires_grad=True) if lib is rg else torch.tensor(a, requires_grad=True) for a in arrays]
    rng = np.random.default_rng(1)
    out = fn(lib, *xs)
    g_array = rng.standard_normal(tuple(out.shape))
    g = rg.tensor(g_array, requires_grad=True) if lib is rg else torch.tensor(g_array, requires_grad=True)
    grads = lib.autograd.grad((out * g).sum(), xs, create_graph=True)
    total = sum((gx * lib.tensor(rng.standard_normal(tuple(gx.shape)))).sum() for gx in grads)
    return lib.autograd.grad(total, [*xs, g], allow_unused=True)


SECOND_ORDER = [
    ("conv2d", lambda lib, x, w: F(lib).conv2d(x, w, stride=2, padding=1, groups=2), ((2, 4, 5, 5), (4, 2, 3, 3))),
    (
        "conv_transpose2d",
        lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=2, padding=1),
        ((2, 2, 3, 3), (2, 3, 3, 3)),
    ),
    ("max_pool2d", lambda lib, x: F(lib).max_pool2d(x, 3, 1, 1) * x.sum(), ((2, 2, 4, 4),)),
    ("avg_pool2d", lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1) ** 2, ((2, 2, 5, 5),)),
    ("adaptive_avg_pool2d", lambda lib, x: F(lib).adaptive_avg_pool2d(x, 3) ** 2, ((2, 2, 5, 4),)),
    ("interpolate", lambda lib, x: F(lib).interpolate(x, scale_factor=1.5) ** 2, ((2, 2, 3, 3),)),
]


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")
@pytest.mark.parametrize(("name", "fn", "shapes"), SECOND_ORDER, ids=[row[0] for row in SECOND_ORDER])
def test_second_derivatives_match_pytorch(name, fn, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    ours = _double_backward(rg, fn, arrays)
    theirs = _double_backward(torch, fn, arrays)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if b is None:
            assert a is None or not np.any(a.numpy()), f"{name}: input {i} should get no second derivative"
        else:
            assert_close(a, b, f"{name}: second derivative for input {i}")


# ------------------------------------------------------------------------ other checks


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")
@pytest.mark.parametrize(
    ("op", "kwargs", "shape"),
    [
        ("max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 3, 7, 6)),
        ("max_pool2d", {"kernel_size": 2, "ceil_mode": True, "dilation": 2}, (3, 5, 5)),
        ("max_pool1d", {"kernel_size": 3, "stride": 1}, (2, 3, 6)),
        ("adaptive_max_pool2d", {"output_size": (3, 2)}, (2, 2, 5, 5)),
    ],
)
def test_return_indices_match_pytorch(op, kwargs, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    out, indices = getattr(rg_functional, op)(rg.tensor(x), return_indices=True, **kwargs)
    expected_out, expected_indices = getattr(torch.nn.functional, op)(torch.tensor(x), return_indices=True, **kwargs)
    assert_close(out, expected_out, f"{op} values")
    assert indices.dtype == rg.int64
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = rg.zeros(1, 1, 4, 4, requires_grad=True)  # every window is a tie, as after a ReLU
    rg_functional.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_float32_stays_float32_and_matches_pytorch():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 8, 8)).astype(np.float32), rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    xt, wt = rg.tensor(x, requires_grad=True), rg.tensor(w, requires_grad=True)
    out = rg_functional.max_pool2d(rg_functional.conv2d(xt, wt, padding=1), 2)
    out.sum().backward()
    assert out.dtype == rg.float32 and xt.grad.dtype == rg.float32 and wt.grad.dtype == rg.float32
    if torch is not None:
        xr, wr = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        expected = torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(xr, wr, padding=1), 2)
        expected.sum().backward()
        assert_close(out, expected, "float32 forward", tol=1e-4)
        assert_close(wt.grad, wr.grad, "float32 weight gradient", tol=1e-3)


def test_conv_without_grad_records_nothing():
    x, w = rg.randn(2, 3, 5, 5), rg.randn(4, 3, 3, 3, requires_grad=True)
    with rg.no_grad():
        out = rg_functional.conv2d(x, w)
    assert out.grad_fn is None and not out.requires_grad


def test_integer_convolution_and_pooling_follow_pytorch():
    x = rg.arange(32).reshape(1, 2, 4, 4)
    w = rg.ones(1, 2, 2, 2, dtype=rg.int64)
    assert rg_functional.conv2d(x, w).dtype == rg.int64
    assert rg_functional.conv2d(x, w)[0, 0, 0, 0].item() == 0 + 1 + 4 + 5 + 16 + 17 + 20 + 21
    np.testing.assert_array_equal(rg_functional.avg_pool2d(x, 2).numpy()[0, 0], [[2, 4], [10, 12]])
    np.testing.assert_array_equal(rg_functional.max_pool2d(x, 2).numpy()[0, 0], [[5, 7], [13, 15]])


def test_interpolate_returns_a_new_tensor_when_size_is_unchanged():
    x = rg.randn(1, 1, 3, 3, requires_grad=True)
    out = rg_functional.interpolate(x, size=3)
    assert out is not x
    np.testing.assert_array_equal(out.detach().numpy(), x.detach().numpy())


# ------------------------------------------------------------------------------ errors

ERRORS = [
    (
        lambda: rg_functional.conv2d(rg.randn(2, 4, 10, 10), rg.randn(8, 3, 3, 3)),
        r"conv2d: Given groups=1, weight of size \[8, 3, 3, 3\], expected input\[2, 4, 10, 10\] to have 3 channels, "
        r"but got 4 channels instead",
    ),
    (lambda: rg_functional.conv2d(rg.randn(10, 10), rg.randn(8, 3, 3, 3)), r"conv2d: expected 3D \(unbatched\) or 4D"),
    (lambda: rg_functional.conv2d(rg.randn(1, 3, 5, 5), rg.randn(8, 3, 3)), r"conv2d: expected weight to be 4D"),
    (
        lambda: rg_functional.conv2d(rg.randn(2, 3, 2, 2), rg.randn(8, 3, 3, 3)),
        r"conv2d: Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\)",
    ),
    (
        lambda: rg_functional.conv2d(rg.randn(2, 3, 5, 5), rg.randn(8, 3, 3, 3), stride=2, padding="same"),
        "conv2d: padding='same' is not supported for strided convolutions",
    ),
    (
        lambda: rg_functional.conv2d(rg.randn(2, 3, 5, 5), rg.randn(8, 3, 3, 3), padding="full"),
        "conv2d: Invalid padding string: 'full'",
    ),
    (
        lambda: rg_functional.conv2d(rg.randn(2, 4, 5, 5), rg.randn(6, 2, 3, 3), groups=4),
        r"conv2d: Given groups=4, expected weight to be divisible by 4 at dimension 0",
    ),
    (
        lambda: rg_functional.conv2d(rg.randn(2, 4, 5, 5), rg.randn(6, 2, 3, 3), rg.randn(5), groups=2),
        r"expected bias to be 1-dimensional with 6 elements, but got bias of size \[5\]",
    ),
    (lambda: rg_functional.conv2d(rg.randn(1, 3, 5, 5), rg.randn(2, 3, 3, 3), stride=0), "non-positive stride"),
    (lambda: rg_functional.conv2d(rg.randn(1, 3, 5, 5), rg.randn(2, 3, 3, 3), padding=-1), "negative padding"),
    (lambda: rg_functional.conv2d(rg.randn(1, 3, 5, 5), rg.randn(2, 3, 3, 3), stride=(1, 2, 3)), "list of 2 values"),
    (
        lambda: rg_functional.conv2d(rg.randn(1, 3, 5, 5), rg.randn(2, 3, 3, 3, dtype=rg.float64)),
        r"conv2d: Input type \(float32\) and weight type \(float64\) should be the same",
    ),
    (
        lambda: rg_functional.conv1d(rg.randn(2, 3, 1), rg.randn(2, 3, 3)),
        r"conv1d: Calculated padded input size per channel: \(1\). Kernel size: \(3\)",
    ),
    (
        lambda: rg_functional.conv_transpose2d(rg.randn(2, 4, 5, 5), rg.randn(3, 2, 3, 3)),
        r"conv_transpose2d: Given transposed=1, weight of size \[3, 2, 3, 3\], expected input\[2, 4, 5, 5\] to have 3 channels",
    ),
    (
        lambda: rg_functional.conv_transpose2d(rg.randn(2, 4, 5, 5), rg.randn(4, 2, 3, 3), output_padding=1),
        "conv_transpose2d: output padding must be smaller than either stride or dilation",
    ),
    (
        lambda: rg_functional.conv_transpose2d(rg.randn(1, 4, 2, 2), rg.randn(4, 2, 3, 3), padding=3),
        "conv_transpose2d: .*Output size is too small",
    ),
    (
        lambda: rg_functional.max_pool2d(rg.randn(2, 4, 5, 5), 3, padding=2),
        "max_pool2d: pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1",
    ),
    (
        lambda: rg_functional.avg_pool2d(rg.randn(2, 4, 2, 2), 3),
        r"avg_pool2d: Given input size: \(4x2x2\). Calculated output size: \(4x0x0\). Output size is too small",
    ),
    (lambda: rg_functional.max_pool2d(rg.randn(4, 2), 1), r"max_pool2d: Expected 3D or 4D \(batch mode\) tensor"),
    (
        lambda: rg_functional.max_pool2d(rg.randn(2, 3, 5, 5), 2, stride=0),
        "max_pool2d: stride must be greater than zero",
    ),
    (
        lambda: rg_functional.max_pool2d(rg.randn(2, 3, 5, 5), (2, 2, 2)),
        "max_pool2d: kernel_size must either be a single int, or a tuple of 2 ints",
    ),
    (
        lambda: rg_functional.avg_pool2d(rg.randn(2, 3, 5, 5), 2, divisor_override=0),
        "avg_pool2d: divisor must be not zero",
    ),
    (
        lambda: rg_functional.adaptive_avg_pool2d(rg.randn(1, 4, 2, 3), (1, 2, 3)),
        "adaptive_avg_pool2d: output_size must be 2",
    ),
    (
        lambda: rg_functional.interpolate(rg.randn(1, 4, 2, 3)),
        "interpolate: either size or scale_factor should be defined",
    ),
    (
        lambda: rg_functional.interpolate(rg.randn(1, 4, 2, 3), size=3, scale_factor=2),
        "interpolate: only one of size or scale_factor should be defined",
    ),
    (lambda: rg_functional.interpolate(rg.randn(1, 4, 2, 3), size=4, mode="bicubic"), "interpolate: mode 'bicubic'"),
    (lambda: rg_functional.interpolate(rg.randn(4, 3), scale_factor=2), "interpolate: .*Only 3D, 4D and 5D"),
    (
        lambda: rg_functional.interpolate(rg.randn(1, 4, 2, 3), size=(2, 3, 4)),
        "interpolate: Input and output must have the same number of spatial dimensions",
    ),
]


@pytest.mark.parametrize(("call", "message"), ERRORS)
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises((RuntimeError, ValueError, TypeError, NotImplementedError), match=message):
        call()
