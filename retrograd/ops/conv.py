"""Convolution, transposed convolution, pooling and nearest-neighbour resizing.

How the work is done
--------------------
A convolution reads its input through strided windows: an ``as_strided`` view
of the padded input of shape ``(N, C, kh, kw, OH, OW)`` that costs no memory.
One copy of that view into a column matrix ``(groups, C/groups*kh*kw,
N*OH*OW)`` (im2col) and one matrix product per group with the weight give the
output, so BLAS does the arithmetic in a single large GEMM (groups are a batch
dimension of the product). Putting samples and positions on the long axis
measured faster than a stack of per-sample products, except for convolutions
with very few input channels where both are cheap.

Three NumPy kernels share one geometry (``_Geometry``) and are each other's
derivatives, which makes double backward come for free:

* ``Convolution(x, w)``      -> y, the convolution itself;
* ``ConvTranspose(y, w)``    -> x, its adjoint in x (col2im of ``w^T @ y``),
  which is ``conv_transpose2d`` and the input gradient of a convolution;
* ``ConvWeightGrad(x, y)``   -> w, the weight gradient (columns of x times y).

With ``T(x, w, g) = <g, conv(x, w)>`` each of them is the derivative of ``T``
with respect to one argument, so each backward is written with the other two.

col2im scatters the columns back with one whole-array strided add per kernel
position (``kh*kw`` iterations). On the benchmark shapes this measured faster
than the fully vectorised alternative (a full convolution of the gradient with
the flipped kernel through im2col), which copies ``kh*kw`` times the gradient
and degenerates into matrix-vector products when the input has few channels:
1.6 ms against 25 ms for batch 64, 1->32 channels, 28x28, and a tie (12.7
against 12.9 ms) for 32->64 channels on 14x14.

Pooling uses the same windows: max pooling keeps the flat index of each
window's maximum; its backward scatters the gradient to those indices (a
plain indexed assignment when windows cannot overlap, ``np.bincount`` when
they can) and the backward of that scatter is a gather (both linear, so every
order of derivative works). Average pooling is linear and has a windowed-sum adjoint.
Adaptive average pooling with non-divisible sizes is a product with two small
averaging matrices (rows, then columns). Nearest resizing gathers rows and
columns; its adjoint sums runs of repeated indices with ``np.add.reduceat``.
One-dimensional ops run as two-dimensional ones over a height of 1.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _jit
from ..autograd.function import Op
from ..autograd.grad_mode import GradMode
from .common import Tensor, _wrap

# --------------------------------------------------------------------------- geometry


class _Geometry:
    """Where the windows of a 2-D convolution or pooling lie.

    Every field is a pair (height, width) except ``groups``. ``in_size`` is the
    unpadded input size, ``pad_lo``/``pad_hi`` the zeros (or -inf) added before
    and after it, ``out_size`` the number of windows per dimension.
    """

    __slots__ = ("dilation", "groups", "in_size", "kernel", "out_size", "pad_hi", "pad_lo", "stride")

    def __init__(self, in_size, kernel, stride, dilation, pad_lo, pad_hi, out_size, groups=1):
        self.in_size = tuple(in_size)
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)
        self.dilation = tuple(dilation)
        self.pad_lo = tuple(pad_lo)
        self.pad_hi = tuple(pad_hi)
        self.out_size = tuple(out_size)
        self.groups = groups

    @property
    def padded_size(self) -> tuple[int, int]:
        return tuple(n + lo + hi for n, lo, hi in zip(self.in_size, self.pad_lo, self.pad_hi, strict=True))


def _pad(x: np.ndarray, geometry: _Geometry, value=0) -> np.ndarray:
    """``x`` (N, C, H, W) with ``value`` around it as the geometry asks (no copy if none)."""
    (top, left), (bottom, right) = geometry.pad_lo, geometry.pad_hi
    if not (top or left or bottom or right):
        return x
    n, c, h, w = x.shape
    if value == 0:
        padded = np.zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    else:
        padded = np.full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    padded[:, :, top : top + h, left : left + w] = x
    return padded


def _windows(padded: np.ndarray, geometry: _Geometry) -> np.ndarray:
    """A read-only view (N, C, kh, kw, OH, OW) of every window of ``padded``: no copy."""
    n, c = padded.shape[:2]
    stride_n, stride_c, stride_h, stride_w = padded.strides
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    return as_strided(
        padded,
        shape=(n, c, kh, kw, *geometry.out_size),
        strides=(stride_n, stride_c, stride_h * dh, stride_w * dw, stride_h * sh, stride_w * sw),
        writeable=False,
    )


def _col2im(columns: np.ndarray, geometry: _Geometry) -> np.ndarray:
    """Adjoint of ``_windows`` after padding: add every window entry of ``columns``
    (N, C, kh, kw, OH, OW) back onto the position it was read from, and crop
    the padding. One strided whole-array add per kernel position."""
    n, c = columns.shape[:2]
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    oh, ow = geometry.out_size
    out = np.zeros((n, c, *geometry.padded_size), dtype=columns.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            out[:, :, rows, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += columns[:, :, i, j]
    (top, left), (h, w) = geometry.pad_lo, geometry.in_size
    return out[:, :, top : top + h, left : left + w]


# ------------------------------------------------------------------- convolution kernels


def _im2col(x: np.ndarray, geometry: _Geometry) -> np.ndarray:
    """The column matrices (N, groups, C/groups*kh*kw, OH*OW) of ``x`` (N, C, H, W).

    Sample-major, so building them is one copy in the windows' own order and
    each sample's product ``W @ columns`` lands directly in (N, O, OH*OW),
    the output's layout: no transposing copy on either side of the GEMM."""
    n, c = x.shape[:2]
    (kh, kw), (oh, ow), groups = geometry.kernel, geometry.out_size, geometry.groups
    windows = _windows(_pad(x, geometry), geometry)  # (N, C, kh, kw, OH, OW)
    return windows.reshape(n, groups, c // groups * kh * kw, oh * ow)


def _grouped(weight: np.ndarray, groups: int) -> np.ndarray:
    """The weight (O, C/groups, kh, kw) as one matrix per group (groups, O/groups, C/groups*kh*kw)."""
    out_channels, channels_per_group, kh, kw = weight.shape
    return weight.reshape(groups, out_channels // groups, channels_per_group * kh * kw)


def _conv_forward(columns: np.ndarray, weight: np.ndarray, bias, n: int, geometry: _Geometry) -> np.ndarray:
    """``W @ columns`` per sample and group (+ bias), as (N, O, OH, OW)."""
    out = np.matmul(_grouped(weight, geometry.groups), columns)  # (N, groups, O/groups, OH*OW)
    out = out.reshape(n, weight.shape[0], *geometry.out_size)
    if bias is not None:
        out += bias.reshape(-1, 1, 1)
    return out


# The input gradient's column matrices are built for this many bytes of samples
# at a time: all at once they would be the largest array of a CNN's backward
# (9x the input for a 3x3 kernel), alive next to the forward's saved ones.
_COLUMN_CHUNK_BYTES = 2 << 20


def _conv_transpose(grad: np.ndarray, weight: np.ndarray, bias, geometry: _Geometry) -> np.ndarray:
    """The adjoint of the convolution in its input: ``W^T @ grad`` per sample and
    group, then col2im (+ bias), a chunk of samples at a time."""
    n, out_channels = grad.shape[:2]
    groups = geometry.groups
    in_channels = weight.shape[1] * groups
    positions = geometry.out_size[0] * geometry.out_size[1]
    weight_t = _grouped(weight, groups).transpose(0, 2, 1)  # (groups, C/groups*kh*kw, O/groups)
    dtype = np.result_type(grad, weight)
    out = np.empty((n, in_channels, *geometry.in_size), dtype=dtype)
    sample_bytes = max(1, weight_t.shape[1] * groups * positions * dtype.itemsize)
    chunk = max(1, _COLUMN_CHUNK_BYTES // sample_bytes)
    for start in range(0, n, chunk):
        part = grad[start : start + chunk]
        rows = part.reshape(part.shape[0], groups, out_channels // groups, positions)
        columns = np.matmul(weight_t, rows)  # (chunk, groups, C/groups*kh*kw, OH*OW)
        columns = columns.reshape(part.shape[0], in_channels, *geometry.kernel, *geometry.out_size)
        out[start : start + chunk] = _col2im(columns, geometry)
    if bias is not None:
        out += bias.reshape(-1, 1, 1)
    return out


def _conv_weight_grad(columns: np.ndarray, grad: np.ndarray, geometry: _Geometry) -> np.ndarray:
    """``sum over samples of grad @ columns^T`` per group: the weight gradient (O, C/groups, kh, kw)."""
    n, out_channels = grad.shape[:2]
    groups = geometry.groups
    grad_rows = grad.reshape(n, groups, out_channels // groups, columns.shape[3])
    per_sample = np.matmul(grad_rows, columns.transpose(0, 1, 3, 2))
    patches = columns.shape[2]
    weight_grad = np.add.reduce(per_sample, axis=0)  # (groups, O/groups, C/groups*kh*kw)
    return weight_grad.reshape(out_channels, patches // (geometry.kernel[0] * geometry.kernel[1]), *geometry.kernel)


class Convolution(Op):
    """``y = conv(x, w) (+ b)``. Keeps the column matrix of x when w needs a gradient."""

    __slots__ = ("geometry",)
    save_inputs = True

    def forward(self, x, weight, bias=None, *, geometry, keep_columns):
        self.geometry = geometry
        columns = _im2col(x, geometry)
        self.saved = columns if keep_columns else None
        return _conv_forward(columns, weight, bias, x.shape[0], geometry)

    def backward(self, grad):
        x, weight = self.saved_inputs[:2]
        geometry = self.geometry
        grad_x = grad_w = grad_b = None
        if self.next_edges[0] is not None:
            grad_x = ConvTranspose.apply(grad, weight, geometry=geometry)
        if self.next_edges[1] is not None:
            grad_w = ConvWeightGrad.apply(x, grad, geometry=geometry, columns=self.saved)
        if len(self.next_edges) == 3 and self.next_edges[2] is not None:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b


class ConvTranspose(Op):
    """``x = conv_transpose(y, w) (+ b)``: the adjoint of ``Convolution`` in x."""

    __slots__ = ("geometry",)
    save_inputs = True

    def forward(self, grad, weight, bias=None, *, geometry):
        self.geometry = geometry
        return _conv_transpose(grad, weight, bias, geometry)

    def backward(self, upstream):
        grad, weight = self.saved_inputs[:2]
        geometry = self.geometry
        grad_grad = grad_w = grad_b = None
        if self.next_edges[0] is not None:
            grad_grad = Convolution.apply(upstream, weight, geometry=geometry, keep_columns=False)
        if self.next_edges[1] is not None:
            grad_w = ConvWeightGrad.apply(upstream, grad, geometry=geometry, columns=None)
        if len(self.next_edges) == 3 and self.next_edges[2] is not None:
            grad_b = upstream.sum((0, 2, 3))
        return grad_grad, grad_w, grad_b


class ConvWeightGrad(Op):
    """``w_grad = conv_weight_grad(x, g)``: the derivative of ``<g, conv(x, w)>`` in w."""

    __slots__ = ("geometry",)
    save_inputs = True

    def forward(self, x, grad, *, geometry, columns):
        self.geometry = geometry
        if columns is None:
            columns = _im2col(x, geometry)
        return _conv_weight_grad(columns, grad, geometry)

    def backward(self, upstream):
        x, grad = self.saved_inputs
        geometry = self.geometry
        grad_x = grad_grad = None
        if self.next_edges[0] is not None:
            grad_x = ConvTranspose.apply(grad, upstream, geometry=geometry)
        if self.next_edges[1] is not None:
            grad_grad = Convolution.apply(x, upstream, geometry=geometry, keep_columns=False)
        return grad_x, grad_grad


# ---------------------------------------------------------------------- argument checks


def _int_tuple(value, n: int, name: str, op: str) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints (or of one int) as an ``n``-tuple."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        values = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise RuntimeError(
            f"{op}: expected {name} to be a single integer value or a list of {n} values to match the "
            f"convolution dimensions, but got {name}={list(values)}"
        )
    return values


def _check_tensor(x, name: str, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: argument '{name}' must be a Tensor, not {type(x).__name__}")
    return x


def _check_same_dtype(input: Tensor, other: Tensor, what: str, op: str) -> None:
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{op}: Input type ({input.dtype}) and {what} type ({other.dtype}) should be the same")


def _batched(input: Tensor, spatial: int, op: str, what: str = "input") -> tuple[Tensor, bool]:
    """The input with a batch dimension (added when it is unbatched) and whether one was added."""
    ndim = input._data.ndim
    if ndim == spatial + 2:
        return input, False
    if ndim == spatial + 1:
        return input.reshape((1, *input._data.shape)), True
    raise RuntimeError(
        f"{op}: expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) {what}, "
        f"but got {what} of size {list(input.shape)}"
    )


def _as_2d(t: Tensor) -> Tensor:
    """A 1-D signal (N, C, L) as an image (N, C, 1, L)."""
    shape = t._data.shape
    return t.reshape((*shape[:2], 1, shape[2]))


def _from_2d(t: Tensor) -> Tensor:
    shape = t._data.shape
    return t.reshape((shape[0], shape[1], shape[3]))


def _unbatch(t: Tensor, added: bool) -> Tensor:
    return t.reshape(t._data.shape[1:]) if added else t


def _check_conv_dtypes(input: Tensor, weight: Tensor, bias: Tensor | None, op: str) -> None:
    _check_same_dtype(input, weight, "weight", op)
    if bias is not None:
        _check_same_dtype(input, bias, "bias", op)
    if input._data.dtype.kind not in "fiu":
        raise RuntimeError(f"{op}: not implemented for dtype {input.dtype}")


def _size_text(sizes) -> str:
    return " x ".join(str(s) for s in sizes)


# --------------------------------------------------------------------------- convolution


def _convolution(input, weight, bias, stride, padding, dilation, groups, spatial: int, op: str) -> Tensor:
    _check_tensor(input, "input", op)
    _check_tensor(weight, "weight", op)
    if bias is not None:
        _check_tensor(bias, "bias", op)
    if weight._data.ndim != spatial + 2:
        raise RuntimeError(
            f"{op}: expected weight to be {spatial + 2}D (out_channels, in_channels/groups, kernel...), "
            f"but got weight of size {list(weight.shape)}"
        )
    x, unbatched = _batched(input, spatial, op)
    _check_conv_dtypes(x, weight, bias, op)
    stride = _int_tuple(stride, spatial, "stride", op)
    dilation = _int_tuple(dilation, spatial, "dilation", op)
    groups = int(groups)
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={list(stride)}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: non-positive dilation is not supported, got dilation={list(dilation)}")
    if groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    weight_size = list(weight.shape)
    out_channels, channels_per_group = weight_size[:2]
    kernel = tuple(weight_size[2:])
    if out_channels < groups or out_channels % groups:
        raise RuntimeError(
            f"{op}: Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {weight_size} instead"
        )
    channels = x._data.shape[1]
    if channels != channels_per_group * groups:
        raise RuntimeError(
            f"{op}: Given groups={groups}, weight of size {weight_size}, expected input{list(x.shape)} to have "
            f"{channels_per_group * groups} channels, but got {channels} channels instead"
        )
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != out_channels):
        raise RuntimeError(
            f"{op}: Given weight of size {weight_size}, expected bias to be 1-dimensional with {out_channels} "
            f"elements, but got bias of size {list(bias.shape)} instead"
        )
    pad_lo, pad_hi = _conv_padding(padding, kernel, stride, dilation, spatial, op)
    in_size = x._data.shape[2:]
    extent = [d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]
    padded = [n + lo + hi for n, lo, hi in zip(in_size, pad_lo, pad_hi, strict=True)]
    if any(p < e for p, e in zip(padded, extent, strict=True)):
        raise RuntimeError(
            f"{op}: Calculated padded input size per channel: ({_size_text(padded)}). "
            f"Kernel size: ({_size_text(extent)}). Kernel size can't be greater than actual input size"
        )
    out_size = [(p - e) // s + 1 for p, e, s in zip(padded, extent, stride, strict=True)]
    if spatial == 1:
        x, weight = _as_2d(x), weight.reshape((out_channels, channels_per_group, 1, kernel[0]))
        in_size, kernel, out_size = (1, *in_size), (1, *kernel), (1, *out_size)
        stride, dilation, pad_lo, pad_hi = (1, *stride), (1, *dilation), (0, *pad_lo), (0, *pad_hi)
    geometry = _Geometry(in_size, kernel, stride, dilation, pad_lo, pad_hi, out_size, groups)
    keep_columns = GradMode.enabled and weight._requires_grad
    inputs = (x, weight) if bias is None else (x, weight, bias)
    out = Convolution.apply(*inputs, geometry=geometry, keep_columns=keep_columns)
    if spatial == 1:
        out = _from_2d(out)
    return _unbatch(out, unbatched)


def _conv_padding(padding, kernel, stride, dilation, spatial: int, op: str) -> tuple[tuple, tuple]:
    """Padding before and after the input per dimension, from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * spatial, (0,) * spatial
        if padding != "same":
            raise RuntimeError(f"{op}: Invalid padding string: '{padding}' (expected 'valid' or 'same')")
        if any(s != 1 for s in stride):
            raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions")
        # PyTorch puts the odd element of an odd total padding after the input.
        total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        lo = tuple(t // 2 for t in total)
        return lo, tuple(t - low for t, low in zip(total, lo, strict=True))
    padding = _int_tuple(padding, spatial, "padding", op)
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={list(padding)}")
    return padding, padding


def conv1d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups=1
) -> Tensor:
    """1-D convolution (cross-correlation) of ``input`` (N, C, L) or (C, L) with ``weight`` (O, C/groups, K).

    ``padding`` is an int, a 1-tuple, ``'valid'`` (none) or ``'same'`` (output as long as the input).
    """
    return _convolution(input, weight, bias, stride, padding, dilation, groups, spatial=1, op="conv1d")


def conv2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups=1
) -> Tensor:
    """2-D convolution (cross-correlation) of ``input`` (N, C, H, W) or (C, H, W) with ``weight`` (O, C/groups, kh, kw).

    ``padding`` is an int, a pair, ``'valid'`` (none) or ``'same'`` (output as large as the input).
    """
    return _convolution(input, weight, bias, stride, padding, dilation, groups, spatial=2, op="conv2d")


def _convolution_transpose(
    input, weight, bias, stride, padding, output_padding, groups, dilation, spatial: int, op: str
) -> Tensor:
    _check_tensor(input, "input", op)
    _check_tensor(weight, "weight", op)
    if bias is not None:
        _check_tensor(bias, "bias", op)
    if isinstance(padding, str):
        raise TypeError(f"{op}: argument 'padding' must be an int or a tuple of ints, not str ('{padding}')")
    if weight._data.ndim != spatial + 2:
        raise RuntimeError(
            f"{op}: expected weight to be {spatial + 2}D (in_channels, out_channels/groups, kernel...), "
            f"but got weight of size {list(weight.shape)}"
        )
    x, unbatched = _batched(input, spatial, op)
    _check_conv_dtypes(x, weight, bias, op)
    stride = _int_tuple(stride, spatial, "stride", op)
    padding = _int_tuple(padding, spatial, "padding", op)
    output_padding = _int_tuple(output_padding, spatial, "output_padding", op)
    dilation = _int_tuple(dilation, spatial, "dilation", op)
    groups = int(groups)
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={list(stride)}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: non-positive dilation is not supported, got dilation={list(dilation)}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={list(padding)}")
    if groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    if any(p < 0 or (p >= s and p >= d) for p, s, d in zip(output_padding, stride, dilation, strict=True)):
        raise RuntimeError(
            f"{op}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding={list(output_padding)}, stride={list(stride)}, dilation={list(dilation)}"
        )
    weight_size = list(weight.shape)
    in_channels, out_per_group = weight_size[:2]
    kernel = tuple(weight_size[2:])
    channels = x._data.shape[1]
    if in_channels % groups:
        raise RuntimeError(
            f"{op}: Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {weight_size} instead"
        )
    if channels != in_channels:
        raise RuntimeError(
            f"{op}: Given transposed=1, weight of size {weight_size}, expected input{list(x.shape)} to have "
            f"{in_channels} channels, but got {channels} channels instead"
        )
    out_channels = out_per_group * groups
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != out_channels):
        raise RuntimeError(
            f"{op}: Given transposed=1, weight of size {weight_size}, expected bias to be 1-dimensional with "
            f"{out_channels} elements, but got bias of size {list(bias.shape)} instead"
        )
    # The output is the input of the convolution whose output has the size of ``input``.
    grad_size = x._data.shape[2:]
    out_size = [
        (n - 1) * s - 2 * p + d * (k - 1) + extra + 1
        for n, s, p, d, k, extra in zip(grad_size, stride, padding, dilation, kernel, output_padding, strict=True)
    ]
    if any(n <= 0 for n in out_size):
        raise RuntimeError(
            f"{op}: Given input size per channel: ({_size_text(grad_size)}), calculated output size per channel: "
            f"({_size_text(out_size)}). Output size is too small"
        )
    if spatial == 1:
        x, weight = _as_2d(x), weight.reshape((in_channels, out_per_group, 1, kernel[0]))
        grad_size, kernel, out_size = (1, *grad_size), (1, *kernel), (1, *out_size)
        stride, dilation, padding = (1, *stride), (1, *dilation), (0, *padding)
    geometry = _Geometry(out_size, kernel, stride, dilation, padding, padding, grad_size, groups)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    out = ConvTranspose.apply(*inputs, geometry=geometry)
    if spatial == 1:
        out = _from_2d(out)
    return _unbatch(out, unbatched)


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
) -> Tensor:
    """1-D transposed convolution: ``weight`` is (C_in, C_out/groups, K); the gradient of ``conv1d`` in its input."""
    return _convolution_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, spatial=1, op="conv_transpose1d"
    )


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
) -> Tensor:
    """2-D transposed convolution: ``weight`` is (C_in, C_out/groups, kh, kw); the gradient of ``conv2d`` in its input.

    The output size is ``(in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.
    """
    return _convolution_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, spatial=2, op="conv_transpose2d"
    )


# ------------------------------------------------------------------------------ pooling


def _pool_geometry(input: Tensor, kernel_size, stride, padding, dilation, ceil_mode, spatial: int, op: str):
    """Check a pooling call and return (batched 4-D input, whether unbatched, geometry)."""
    _check_tensor(input, "input", op)
    ndim = input._data.ndim
    shape = input._data.shape
    if ndim not in (spatial + 1, spatial + 2) or any(s == 0 for s in shape[ndim - spatial - 1 :]):
        raise RuntimeError(
            f"{op}: Expected {spatial + 1}D or {spatial + 2}D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got: {list(shape)}"
        )
    kernel = _pool_tuple(kernel_size, spatial, "kernel_size", op)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else stride
    stride = _pool_tuple(stride, spatial, "stride", op)
    padding = _pool_tuple(padding, spatial, "padding", op)
    dilation = _pool_tuple(dilation, spatial, "dilation", op)
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got kernel_size={list(kernel)}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: stride must be greater than zero, but got stride={list(stride)}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: dilation must be greater than zero, but got dilation={list(dilation)}")
    for p, k, d in zip(padding, kernel, dilation, strict=True):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    x, unbatched = _batched(input, spatial, op)
    in_size = x._data.shape[2:]
    out_size = [
        _pooled_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(in_size, kernel, stride, padding, dilation, strict=True)
    ]
    if any(o < 1 for o in out_size):
        channels = x._data.shape[1]
        raise RuntimeError(
            f"{op}: Given input size: ({'x'.join(map(str, (channels, *in_size)))}). "
            f"Calculated output size: ({'x'.join(map(str, (channels, *out_size)))}). Output size is too small"
        )
    if spatial == 1:
        x = _as_2d(x)
        in_size, kernel, stride, padding, dilation, out_size = (
            (1, *in_size), (1, *kernel), (1, *stride), (0, *padding), (1, *dilation), (1, *out_size)
        )  # fmt: skip
    # With ceil_mode the last window may run past the padding: pad enough to read it.
    pad_hi = [
        max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)
        for n, k, s, p, d, o in zip(in_size, kernel, stride, padding, dilation, out_size, strict=True)
    ]
    geometry = _Geometry(in_size, kernel, stride, dilation, padding, pad_hi, out_size)
    return x, unbatched, geometry


def _pool_tuple(value, n: int, name: str, op: str) -> tuple[int, ...]:
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of {n} ints, got {list(values)}")
    return values


def _pooled_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size; in ceil mode the last window must start inside the input or left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _lowest(dtype: np.dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


@_jit.kernel(parallel=True)
def _max_pool_kernel(planes, kh, kw, sh, sw, dh, dw, top, left, out, index):  # pragma: no cover - compiled
    """Max pooling of ``planes`` (P, H, W) into ``out``/``index`` (P, OH, OW),
    PyTorch's loop: only positions inside the input are read (padding is
    -inf), a later value wins when strictly larger or NaN (so the last NaN of a
    window is reported), and a window that never beats -inf reports its first
    input position."""
    height, width = planes.shape[1], planes.shape[2]
    out_h, out_w = out.shape[1], out.shape[2]
    for p in _jit.prange(planes.shape[0]):
        plane = planes[p]
        for oy in range(out_h):
            y_start = oy * sh - top
            # The kernel rows that fall inside the input: i_first <= i < i_stop.
            i_first = (-y_start + dh - 1) // dh if y_start < 0 else 0
            i_stop = min(kh, (height - y_start + dh - 1) // dh)
            for ox in range(out_w):
                x_start = ox * sw - left
                j_first = (-x_start + dw - 1) // dw if x_start < 0 else 0
                j_stop = min(kw, (width - x_start + dw - 1) // dw)
                best = -np.inf
                best_index = (y_start + i_first * dh) * width + x_start + j_first * dw
                for i in range(i_first, i_stop):
                    y = y_start + i * dh
                    for j in range(j_first, j_stop):
                        x = x_start + j * dw
                        value = plane[y, x]
                        # Selects, not a branch: on real data the comparison is
                        # a coin toss, and mispredicted branches cost 3x.
                        take = (value > best) | (value != value)
                        best = value if take else best
                        best_index = y * width + x if take else best_index
                out[p, oy, ox] = best
                index[p, oy, ox] = best_index


@_jit.kernel(parallel=True)
def _max_unpool_kernel(grad, index, out):  # pragma: no cover - compiled
    """``out[p, index[p, k]] += grad[p, k]`` for planes (P, K) into (P, H*W)."""
    for p in _jit.prange(grad.shape[0]):
        for k in range(grad.shape[1]):
            out[p, index[p, k]] += grad[p, k]


def _max_windows(x: np.ndarray, geometry: _Geometry) -> tuple[np.ndarray, np.ndarray]:
    """The max of every window and the flat (H*W) input index of its first maximum."""
    kernel = _max_pool_kernel.compiled(x.size) if x.dtype.kind == "f" and x.size else None
    if kernel is not None:
        n, c, height, width = x.shape
        out = np.empty((n * c, *geometry.out_size), dtype=x.dtype)
        index = np.empty(out.shape, dtype=np.intp)
        (kh, kw), (sh, sw), (dh, dw), (top, left) = geometry.kernel, geometry.stride, geometry.dilation, geometry.pad_lo
        planes = np.ascontiguousarray(x).reshape(n * c, height, width)
        kernel(planes, kh, kw, sh, sw, dh, dw, top, left, out, index)
        return out.reshape(n, c, *geometry.out_size), index.reshape(n, c, *geometry.out_size)
    windows = _windows(_pad(x, geometry, _lowest(x.dtype)), geometry)
    if x.dtype.kind == "f" and np.isnan(x).any():
        out, position = _first_max_by_argmax(windows)
    else:
        out, position = _first_max_by_scan(windows)
    position = position.astype(np.intp, copy=False)  # the index arithmetic below must not overflow
    kw = geometry.kernel[1]
    oh, ow = geometry.out_size
    (sh, sw), (dh, dw), (top, left) = geometry.stride, geometry.dilation, geometry.pad_lo
    rows = np.arange(oh).reshape(-1, 1) * sh - top + (position // kw) * dh
    cols = np.arange(ow) * sw - left + (position % kw) * dw
    # Only a window of -inf values can pick a padding position (its first, in
    # the top or left padding); PyTorch then reports the window's first input
    # row and column: the first ones a dilation step lands on inside the input.
    rows = np.where(rows < 0, _first_inside(np.arange(oh) * sh - top, dh).reshape(-1, 1), rows)
    cols = np.where(cols < 0, _first_inside(np.arange(ow) * sw - left, dw), cols)
    return out, rows * geometry.in_size[1] + cols


def _first_inside(starts: np.ndarray, dilation: int) -> np.ndarray:
    """The first of ``start, start + dilation, ...`` that is >= 0, per window start."""
    steps = np.maximum(-starts + dilation - 1, 0) // dilation
    return starts + steps * dilation


def _first_max_by_scan(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Running maximum over the kernel positions of ``windows`` (N, C, kh, kw, OH, OW),
    for NaN-free input: one whole-array comparison per position straight from
    the strided view, so the windows are never copied. A later position wins
    only when strictly larger, which keeps the first maximum.

    The position is updated arithmetically (``position += larger * (k - position)``):
    masked writes (``copyto(where=)``, boolean indexing) measured 30x slower. Ties
    keep the earlier position; their values are equal (at most the sign of a
    zero can come from the later one)."""
    kh, kw = windows.shape[2:4]
    out = windows[:, :, 0, 0].copy()
    # The narrowest integers that hold a kernel position: these passes are bandwidth-bound.
    position = np.zeros(out.shape, dtype=np.int8 if kh * kw <= 127 else np.int32)
    larger = np.empty(out.shape, dtype=bool)
    step = np.empty_like(position)
    for k in range(1, kh * kw):
        candidate = windows[:, :, k // kw, k % kw]
        np.greater(candidate, out, out=larger)
        np.maximum(candidate, out, out=out)
        np.subtract(k, position, out=step)
        np.multiply(step, larger, out=step)
        position += step
    return out, position


def _first_max_by_argmax(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The maximum and its kernel position through ``argmax`` over a copy of the
    windows: slower, but it handles NaN as PyTorch does (a window with NaN
    reports its last NaN)."""
    n, c, kh, kw, oh, ow = windows.shape
    flat = windows.reshape(n, c, kh * kw, oh, ow)  # one copy, kernel positions on axis 2
    position = flat.argmax(axis=2)
    nan = np.isnan(flat)
    last_nan = kh * kw - 1 - nan[:, :, ::-1].argmax(axis=2)
    position = np.where(nan.any(axis=2), last_nan, position)[:, :, None]
    out = np.take_along_axis(flat, position, axis=2)[:, :, 0]
    return out, position[:, :, 0]


class MaxPool(Op):
    """Max over each window; keeps the flat index of every maximum for backward."""

    __slots__ = ("in_size", "overlapping")

    def forward(self, x, *, geometry, indices_sink):
        out, indices = _max_windows(x, geometry)
        self.in_size = geometry.in_size
        self.overlapping = _windows_overlap(geometry)
        self.saved = indices
        if indices_sink is not None:
            indices_sink.append(indices)
        return out

    def backward(self, grad):
        return MaxPoolScatter.apply(grad, indices=self.saved, in_size=self.in_size, overlapping=self.overlapping)


def _windows_overlap(geometry: _Geometry) -> bool:
    """Whether two windows can share an input element (then the scatter must accumulate)."""
    return any(
        o > 1 and s < d * (k - 1) + 1
        for o, s, d, k in zip(geometry.out_size, geometry.stride, geometry.dilation, geometry.kernel, strict=True)
    )


def _scatter_to_indices(grad: np.ndarray, indices: np.ndarray, in_size, overlapping: bool) -> np.ndarray:
    """Each gradient entry added at its flat (H*W) index in its (sample, channel) plane."""
    n, c = grad.shape[:2]
    plane = in_size[0] * in_size[1]
    kernel = _max_unpool_kernel.compiled(grad.size) if grad.dtype.kind == "f" and grad.size else None
    if kernel is not None:
        out = np.zeros((n * c, plane), dtype=grad.dtype)
        windows = indices.shape[2] * indices.shape[3]
        kernel(
            np.ascontiguousarray(grad).reshape(n * c, windows),
            np.ascontiguousarray(indices, dtype=np.intp).reshape(n * c, windows),
            out,
        )
        return out.reshape(n, c, *in_size)
    if not overlapping:  # every index appears once: a plain scatter
        out = np.zeros((n * c, plane), dtype=grad.dtype)
        windows = indices.shape[2] * indices.shape[3]
        np.put_along_axis(out, indices.reshape(n * c, windows), grad.reshape(n * c, windows), axis=1)
    else:
        offsets = (np.arange(n * c) * plane).reshape(n, c, 1, 1)
        out = np.bincount((indices + offsets).ravel(), weights=grad.ravel(), minlength=n * c * plane)
        out = out.astype(grad.dtype, copy=False)
    return out.reshape(n, c, *in_size)


class MaxPoolScatter(Op):
    """The backward of max pooling: linear in the gradient, its own backward is a gather."""

    __slots__ = ("in_size", "indices", "overlapping")

    def forward(self, grad, *, indices, in_size, overlapping):
        self.indices, self.in_size, self.overlapping = indices, in_size, overlapping
        return _scatter_to_indices(grad, indices, in_size, overlapping)

    def backward(self, upstream):
        return MaxPoolGather.apply(upstream, indices=self.indices, in_size=self.in_size, overlapping=self.overlapping)


class MaxPoolGather(Op):
    """Read each (sample, channel) plane at the saved indices; the adjoint of ``MaxPoolScatter``."""

    __slots__ = ("in_size", "indices", "overlapping")

    def forward(self, x, *, indices, in_size, overlapping):
        self.indices, self.in_size, self.overlapping = indices, in_size, overlapping
        n, c = x.shape[:2]
        plane, windows = x.shape[2] * x.shape[3], indices.shape[2] * indices.shape[3]
        gathered = np.take_along_axis(x.reshape(n * c, plane), indices.reshape(n * c, windows), axis=1)
        return gathered.reshape(indices.shape)

    def backward(self, grad):
        return MaxPoolScatter.apply(grad, indices=self.indices, in_size=self.in_size, overlapping=self.overlapping)


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, spatial, op):
    x, unbatched, geometry = _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, spatial, op)
    if x._data.dtype.kind not in "fiu":
        raise RuntimeError(f"{op}: not implemented for dtype {x.dtype}")
    indices_sink = [] if return_indices else None
    out = MaxPool.apply(x, geometry=geometry, indices_sink=indices_sink)
    if spatial == 1:
        out = _from_2d(out)
    out = _unbatch(out, unbatched)
    if not return_indices:
        return out
    return out, _wrap(indices_sink[0].astype(np.int64, copy=False).reshape(out._data.shape))


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of ``input`` (N, C, L) or (C, L); with ``return_indices`` also the argmax positions."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of ``input`` (N, C, H, W) or (C, H, W); padding counts as -inf.

    With ``return_indices`` also returns each maximum's flat index into its H*W plane.
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


class AvgPool(Op):
    """Windowed sums divided by a per-window divisor; linear, with ``AvgPoolAdjoint`` as backward."""

    __slots__ = ("divisor", "geometry")

    def forward(self, x, *, geometry, divisor):
        self.geometry, self.divisor = geometry, divisor
        n, c = x.shape[:2]
        windows = _windows(_pad(x, geometry), geometry)
        # Summing a contiguous copy over its kernel axis measured ~5x faster than
        # reducing the strided view over its two small kernel axes.
        sums = windows.reshape(n, c, geometry.kernel[0] * geometry.kernel[1], *geometry.out_size).sum(axis=2)
        if x.dtype.kind != "f":  # integer pooling truncates, as PyTorch's integer division does
            return (sums / divisor).astype(x.dtype)
        return sums / divisor.astype(x.dtype)

    def backward(self, grad):
        return AvgPoolAdjoint.apply(grad, geometry=self.geometry, divisor=self.divisor)


class AvgPoolAdjoint(Op):
    """Spread each gradient entry divided by its divisor over its window."""

    __slots__ = ("divisor", "geometry")

    def forward(self, grad, *, geometry, divisor):
        self.geometry, self.divisor = geometry, divisor
        share = grad / divisor.astype(grad.dtype)
        n, c = grad.shape[:2]
        columns = np.broadcast_to(share[:, :, None, None], (n, c, *geometry.kernel, *geometry.out_size))
        return _col2im(columns, geometry)

    def backward(self, upstream):
        return AvgPool.apply(upstream, geometry=self.geometry, divisor=self.divisor)


def _avg_divisor(geometry: _Geometry, count_include_pad: bool, divisor_override) -> np.ndarray:
    """PyTorch's divisor per output position (OH, OW): the window size clipped to the
    padded input, or only its part inside the input, or the override."""
    if divisor_override is not None:
        return np.asarray(float(divisor_override))
    counts = []
    for n, k, s, p, o in zip(
        geometry.in_size, geometry.kernel, geometry.stride, geometry.pad_lo, geometry.out_size, strict=True
    ):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(np.minimum(end, n) - np.maximum(start, 0))
    divisor = (counts[0].reshape(-1, 1) * counts[1]).astype(np.float64)
    divisor[divisor <= 0] = 1.0  # a window wholly in the padding sums to 0; PyTorch gives 0
    return divisor


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, spatial, op):
    x, unbatched, geometry = _pool_geometry(input, kernel_size, stride, padding, 1, ceil_mode, spatial, op)
    if x._data.dtype.kind not in "fiu":
        raise RuntimeError(f"{op}: not implemented for dtype {x.dtype}")
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    divisor = _avg_divisor(geometry, count_include_pad, divisor_override)
    out = AvgPool.apply(x, geometry=geometry, divisor=divisor)
    if spatial == 1:
        out = _from_2d(out)
    return _unbatch(out, unbatched)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True) -> Tensor:
    """Mean over windows of ``input`` (N, C, L) or (C, L)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> Tensor:
    """Mean over windows of ``input`` (N, C, H, W) or (C, H, W).

    ``count_include_pad`` counts the zero padding in the divisor; ``divisor_override`` replaces the divisor.
    """
    return _avg_pool(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2, "avg_pool2d"
    )


# --------------------------------------------------------------------- adaptive pooling


def _adaptive_sizes(input: Tensor, output_size, op: str) -> tuple[Tensor, bool, tuple[int, int]]:
    _check_tensor(input, "input", op)
    shape = input._data.shape
    if input._data.ndim not in (3, 4) or 0 in shape[-3:]:
        raise RuntimeError(
            f"{op}: Expected 3D or 4D tensor with non-zero sizes (other than the batch), but got input of size {list(shape)}"
        )
    if output_size is None or isinstance(output_size, (numbers.Integral, np.integer)):
        output_size = (output_size, output_size)
    output_size = tuple(output_size)
    if len(output_size) != 2:
        raise RuntimeError(f"{op}: output_size must be 2, got {list(output_size)}")
    size = tuple(int(n) if o is None else int(o) for o, n in zip(output_size, shape[-2:], strict=True))
    if any(o < 0 for o in size):
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0, got {list(size)}")
    x, unbatched = _batched(input, 2, op)
    return x, unbatched, size


def _adaptive_bounds(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows: [floor(i*size/out), ceil((i+1)*size/out))."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _averaging_matrix(size: int, out: int) -> np.ndarray:
    """(out, size): row i averages the input entries of adaptive window i."""
    start, end = _adaptive_bounds(size, out)
    positions = np.arange(size)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return inside / (end - start)[:, None]


class SeparableLinear(Op):
    """``rows @ x @ cols.T`` over the last two dimensions. Its adjoint is the same op
    with both matrices transposed, so it is its own backward."""

    __slots__ = ("cols", "rows")

    def forward(self, x, *, rows, cols):
        self.rows, self.cols = rows, cols
        return np.matmul(rows.astype(x.dtype), np.matmul(x, cols.T.astype(x.dtype)))

    def backward(self, grad):
        return SeparableLinear.apply(grad, rows=self.rows.T, cols=self.cols.T)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed ``output_size`` (an int, or a pair whose entries may be None for "keep").

    Window i along a dimension covers ``[floor(i*n/out), ceil((i+1)*n/out))``, as in PyTorch.
    """
    op = "adaptive_avg_pool2d"
    x, unbatched, size = _adaptive_sizes(input, output_size, op)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: not implemented for dtype {x.dtype}")
    in_size = x._data.shape[2:]
    if all(o > 0 and n % o == 0 for n, o in zip(in_size, size, strict=True)):
        # Equal, disjoint windows: plain average pooling.
        kernel = tuple(n // o for n, o in zip(in_size, size, strict=True))
        out = avg_pool2d(x, kernel, kernel)
    else:
        rows, cols = (_averaging_matrix(n, o) for n, o in zip(in_size, size, strict=True))
        out = SeparableLinear.apply(x, rows=rows, cols=cols)
    return _unbatch(out, unbatched)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed ``output_size`` over PyTorch's adaptive windows.

    Windows of different lengths are read as windows of the longest length whose
    surplus entries are masked to -inf.
    """
    op = "adaptive_max_pool2d"
    x, unbatched, size = _adaptive_sizes(input, output_size, op)
    if x._data.dtype.kind not in "fiu":
        raise RuntimeError(f"{op}: not implemented for dtype {x.dtype}")
    (h, w), (oh, ow) = x._data.shape[2:], size
    row_index, row_valid = _adaptive_taps(h, oh)  # (OH, Lh)
    col_index, col_valid = _adaptive_taps(w, ow)  # (OW, Lw)
    indices = row_index[:, None, :, None] * w + col_index[None, :, None, :]  # (OH, OW, Lh, Lw)
    valid = row_valid[:, None, :, None] & col_valid[None, :, None, :]
    taps = indices.shape[2] * indices.shape[3]
    indices, valid = indices.reshape(oh, ow, taps), valid.reshape(oh, ow, taps)
    n, c = x._data.shape[:2]
    values = x._data.reshape(n, c, h * w)[:, :, indices]  # (N, C, OH, OW, taps)
    values = np.where(valid, values, _lowest(x._data.dtype))
    best = values.argmax(axis=-1)
    flat = np.take_along_axis(np.broadcast_to(indices, values.shape), best[..., None], axis=-1)[..., 0]
    flat = np.ascontiguousarray(flat, dtype=np.int64)
    out = MaxPoolGather.apply(x, indices=flat, in_size=(h, w), overlapping=True)
    out = _unbatch(out, unbatched)
    if return_indices:
        return out, _wrap(flat.reshape(out._data.shape))
    return out


def _adaptive_taps(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """(out, longest window) indices of each adaptive window, and which of them are inside it."""
    start, end = _adaptive_bounds(size, out)
    longest = int((end - start).max()) if out else 0
    taps = start[:, None] + np.arange(longest)
    valid = taps < end[:, None]
    return np.minimum(taps, size - 1), valid


# ------------------------------------------------------------------ nearest interpolation


class TakeAlongDim(Op):
    """``np.take(x, index, axis)`` with a non-decreasing index; backward sums the repeats."""

    __slots__ = ("axis", "index", "size")

    def forward(self, x, *, axis, index, size):
        self.axis, self.index, self.size = axis, index, size
        return np.take(x, index, axis=axis)

    def backward(self, grad):
        return TakeAlongDimAdjoint.apply(grad, axis=self.axis, index=self.index, size=self.size)


class TakeAlongDimAdjoint(Op):
    """Sum each run of equal indices into the position it came from (``np.add.reduceat``)."""

    __slots__ = ("axis", "index", "size")

    def forward(self, grad, *, axis, index, size):
        self.axis, self.index, self.size = axis, index, size
        sources, run_starts = np.unique(index, return_index=True)
        shape = list(grad.shape)
        shape[axis] = size
        out = np.zeros(shape, dtype=grad.dtype)
        where = [slice(None)] * grad.ndim
        where[axis] = sources
        if len(index):
            out[tuple(where)] = np.add.reduceat(grad, run_starts, axis=axis)
        return out

    def backward(self, upstream):
        return TakeAlongDim.apply(upstream, axis=self.axis, index=self.index, size=self.size)


def _nearest_source(in_size: int, out_size: int, scale, exact: bool) -> np.ndarray:
    """PyTorch's source index of every output position (computed in float32 as PyTorch does)."""
    positions = np.arange(out_size)
    if not exact and out_size == in_size:
        return positions
    if not exact and out_size == 2 * in_size:
        return positions >> 1
    if scale is not None and scale > 0:
        ratio = np.float32(1.0 / scale)
    else:
        ratio = np.float32(in_size) / np.float32(out_size)
    if exact:
        source = np.floor(((positions + 0.5) * np.float64(ratio)).astype(np.float32))
    else:
        source = np.floor(positions.astype(np.float32) * ratio)
    return np.minimum(source.astype(np.int64), in_size - 1)


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dimensions of ``input`` (N, C, d1[, d2[, d3]]) by nearest neighbour.

    Give either ``size`` or ``scale_factor``. Modes ``'nearest'`` and ``'nearest-exact'``.
    """
    op = "interpolate"
    _check_tensor(input, "input", op)
    ndim = input._data.ndim
    if mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(f"{op}: mode '{mode}' is not implemented (supported: 'nearest', 'nearest-exact')")
    if ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"{op}: Input Error: Only 3D, 4D and 5D input Tensors supported (got {ndim}D) for mode '{mode}'"
        )
    if align_corners is not None:
        raise ValueError(
            f"{op}: align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
        )
    if antialias:
        raise ValueError(f"{op}: antialias is only supported with the linear, bilinear and bicubic modes")
    spatial = ndim - 2
    in_size = input._data.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError(
            f"{op}: either size or scale_factor should be defined"
            if size is None
            else f"{op}: only one of size or scale_factor should be defined"
        )
    if size is not None:
        sizes = _spatial_values(size, spatial, "size", in_size, op)
        out_size = tuple(int(s) for s in sizes)
        scales = (None,) * spatial
    else:
        scales = tuple(float(s) for s in _spatial_values(scale_factor, spatial, "scale_factor", in_size, op))
        out_size = tuple(math.floor(n * s) for n, s in zip(in_size, scales, strict=True))
        if recompute_scale_factor:
            scales = (None,) * spatial
    if any(o <= 0 for o in out_size):
        raise RuntimeError(
            f"{op}: Input and output sizes should be greater than 0, but got input {list(in_size)} output {list(out_size)}"
        )
    out = input
    for axis, (n, o, scale) in enumerate(zip(in_size, out_size, scales, strict=True), start=2):
        index = _nearest_source(n, o, scale, exact=mode == "nearest-exact")
        if n != o or (index != np.arange(n)).any():
            out = TakeAlongDim.apply(out, axis=axis, index=index, size=n)
    return input.clone() if out is input else out


def _spatial_values(value, spatial: int, name: str, in_size, op: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) != spatial:
            raise ValueError(
                f"{op}: Input and output must have the same number of spatial dimensions, but got input with "
                f"spatial dimensions of {list(in_size)} and output {name} of {tuple(value)}."
            )
        return tuple(value)
    return (value,) * spatial


__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "interpolate",
    "max_pool1d",
    "max_pool2d",
]
