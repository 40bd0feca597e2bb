"""Reductions, the softmax family, cumulative ops and sorting.

A reduction's backward broadcasts the incoming gradient back over the reduced
dimensions. Ops that pick elements (``max(dim)``, ``topk``, ``sort``) return
their values through a gather along one dimension, whose backward scatters the
gradient to the picked positions; reductions whose result merely equals some
elements (``amax``, ``max()``, ``median()``) share the gradient evenly among
the tied positions, as PyTorch does.

Every backward rule is written with retrograd ops, so gradients taken with
``create_graph=True`` are themselves differentiable.
"""

from __future__ import annotations

import builtins
import collections
import math
import warnings

import numpy as np

from .. import dtypes
from ..autograd.engine import sum_to_shape
from ..autograd.function import Op
from ..autograd.grad_mode import GradMode
from .common import Tensor, _wrap, normalize_dim, normalize_dims
from .elementwise import where
from .pointwise import maximum, minimum
from .shape import Expand

# Named results like ``torch.return_types``: ``values, indices = x.max(0)`` or ``x.max(0).values``.
max_result = collections.namedtuple("max", ("values", "indices"))
min_result = collections.namedtuple("min", ("values", "indices"))
median_result = collections.namedtuple("median", ("values", "indices"))
sort_result = collections.namedtuple("sort", ("values", "indices"))
topk_result = collections.namedtuple("topk", ("values", "indices"))


# ------------------------------------------------------------------------- helpers


def _reduction_dims(dim, ndim: int, op: str) -> tuple[int, ...] | None:
    """``dim`` as a sorted tuple of non-negative dims, or None for all of them.

    As in PyTorch, an empty tuple also means all dimensions, and a 0-d tensor
    accepts dim 0 or -1 (which reduce its single element).
    """
    if dim is None:
        return None
    dims = normalize_dims(dim, ndim, op)
    if not dims or ndim == 0:
        return None
    return dims


def _kept_shape(shape: tuple, dims: tuple | None) -> tuple:
    """``shape`` with the reduced dimensions set to 1 (what keepdim=True gives)."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _reduced_shape(shape: tuple, dims: tuple | None, keepdim: bool) -> tuple:
    if keepdim:
        return _kept_shape(shape, dims)
    if dims is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _reduced_count(shape: tuple, dims: tuple | None) -> int:
    """How many elements each output element of a reduction over ``dims`` summarises."""
    sizes = shape if dims is None else [shape[d] for d in dims]
    return math.prod(sizes)


def _expand_back(grad: Tensor, shape: tuple, dims: tuple | None) -> Tensor:
    """A reduction's gradient (or output) broadcast back over the reduced dimensions."""
    if dims is not None:  # reduced over all dimensions, it has one element and broadcasts as it is
        kept = _kept_shape(shape, dims)
        if grad._data.shape != kept:
            grad = grad.reshape(kept)
    if grad._data.shape == shape:
        return grad
    # The shapes are compatible by construction, so ``expand``'s argument
    # checks have nothing to catch: ``Expand`` directly, or with no graph to
    # build, the broadcast view it makes.
    if not GradMode.enabled:
        return _wrap(_broadcast_view(grad._data, shape))
    return Expand.apply(grad, shape=shape)


def _broadcast_view(array: np.ndarray, shape: tuple) -> np.ndarray:
    """``np.broadcast_to(array, shape)``. The gradient of a full reduction has
    one element, and its read-only all-zero-strides view is built directly:
    ``np.broadcast_to`` sets up an iterator that costs more than a small
    reduction's whole backward."""
    if array.size != 1:
        return np.broadcast_to(array, shape)
    view = np.ndarray(shape, array.dtype, buffer=array, strides=(0,) * len(shape))
    view.flags.writeable = False
    return view


def _check_nonempty(op: str, shape: tuple, dims: tuple | None) -> None:
    """Reductions without an identity (max, argmax, ...) refuse empty slices, as in PyTorch."""
    if dims is None:
        if math.prod(shape) == 0:
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return
    for d in dims:
        if shape[d] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


def _divide_or_zero(numerator: Tensor, denominator: Tensor) -> Tensor:
    """``numerator / denominator``, and 0 where the denominator is 0.

    The zero positions divide by 1 instead, so no inf or NaN appears even in
    the derivatives of this expression (a plain ``where`` over ``n / d`` would
    send 0 * inf = NaN into the second derivative).
    """
    zero = denominator._data == 0
    if not zero.any():
        return numerator / denominator
    return where(zero, 0.0, numerator / where(zero, 1.0, denominator))


def _sign(x: Tensor) -> Tensor:
    """sign(x) as a constant: its derivative is zero wherever it exists."""
    return _wrap(np.sign(x._data))


def _abs_power(x: Tensor, exponent: float) -> Tensor:
    """``|x| ** exponent`` with 0 where x is 0, free of inf/NaN in its derivatives."""
    zero = x._data == 0
    magnitude = where(zero, 1.0, x * _sign(x))
    return where(zero, 0.0, magnitude**exponent)


def _along(dim: int, ndim: int, index) -> tuple:
    """An indexing tuple that applies ``index`` (a slice) along ``dim`` only."""
    return (slice(None),) * dim + (index,) + (slice(None),) * (ndim - dim - 1)


def _positions(shape: tuple, dim: int) -> np.ndarray:
    """0, 1, ... along ``dim``, shaped to broadcast against an array of ``shape``."""
    view = [1] * len(shape)
    view[dim] = shape[dim]
    return np.arange(shape[dim]).reshape(view)


# ------------------------------------------------ gather and scatter along a dim


class _GatherAlongDim(Op):
    """``np.take_along_axis``: the values of ``max(dim)``, ``topk``, ``sort``.

    The indices never repeat along ``dim`` in these uses, which is what lets
    the backward be a plain scatter (no accumulation needed).
    """

    __slots__ = ("dim", "input_shape")

    def forward(self, a, indices, dim):
        self.dim = dim
        self.input_shape = a.shape
        self.saved = indices
        return np.take_along_axis(a, indices, axis=dim)

    def backward(self, grad):
        return _ScatterAlongDim.apply(grad, indices=self.saved, dim=self.dim, shape=self.input_shape)


class _ScatterAlongDim(Op):
    """Zeros of ``shape`` with ``source`` written at ``indices`` along ``dim``
    (indices unique along dim); its backward gathers the gradient back."""

    __slots__ = ("dim",)

    def forward(self, source, indices, dim, shape):
        self.dim = dim
        self.saved = indices
        out = np.zeros(shape, dtype=source.dtype)
        np.put_along_axis(out, indices, source, axis=dim)
        return out

    def backward(self, grad):
        return _GatherAlongDim.apply(grad, indices=self.saved, dim=self.dim)


def _gather_values(input: Tensor, indices: np.ndarray, dim: int) -> Tensor:
    return _GatherAlongDim.apply(input, indices=indices, dim=dim)


# ------------------------------------------------------------------- sum, mean


class Sum(Op):
    __slots__ = ("dims", "input_shape")

    def forward(self, a, dims, keepdim, dtype):
        self.input_shape = a.shape
        self.dims = dims
        if dtype is None and a.dtype.kind in "biu":
            dtype = dtypes.int64
        # ``np.add.reduce`` is what ``np.sum`` calls, without its Python wrapper.
        return np.asarray(np.add.reduce(a, axis=dims, dtype=dtype, keepdims=keepdim))

    def backward(self, grad):
        return _expand_back(grad, self.input_shape, self.dims)


class Mean(Op):
    __slots__ = ("count", "dims", "input_shape")

    def forward(self, a, dims, keepdim, dtype):
        self.input_shape = a.shape
        self.dims = dims
        self.count = _reduced_count(a.shape, dims)
        total = np.add.reduce(a, axis=dims, dtype=dtype, keepdims=keepdim)  # np.sum without its wrapper
        if self.count:
            return np.asarray(total / self.count)
        with np.errstate(divide="ignore", invalid="ignore"):  # an empty slice's mean is NaN
            return np.asarray(total / self.count)

    def backward(self, grad):
        # Dividing before expanding gives the same values with one division
        # per output element instead of one per input element.
        if self.count:
            grad = grad / self.count if GradMode.enabled else _wrap(grad._data / self.count)
        return _expand_back(grad, self.input_shape, self.dims)


class NanSum(Op):
    """Sum treating NaN as zero; NaN positions get no gradient."""

    __slots__ = ("dims",)

    def forward(self, a, dims, keepdim, dtype):
        self.dims = dims
        self.saved = ~np.isnan(a)
        if dtype is None and a.dtype.kind in "biu":
            dtype = dtypes.int64
        return np.asarray(np.nansum(a, axis=dims, keepdims=keepdim, dtype=dtype))

    def backward(self, grad):
        present = self.saved
        return _expand_back(grad, present.shape, self.dims) * _wrap(present.astype(grad.dtype))


class NanMean(Op):
    """Mean of the non-NaN elements; each gets ``1 / count`` of the gradient."""

    __slots__ = ("dims",)

    def forward(self, a, dims, keepdim):
        self.dims = dims
        present = ~np.isnan(a)
        count = np.sum(present, axis=dims, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):  # an all-NaN slice's mean is NaN
            self.saved = present / count
            mean = np.nansum(a, axis=dims, keepdims=True) / count
        return np.asarray(mean.astype(a.dtype, copy=False).reshape(_reduced_shape(a.shape, dims, keepdim)))

    def backward(self, grad):
        share = self.saved
        return _expand_back(grad, share.shape, self.dims) * _wrap(share.astype(grad.dtype))


class SumToSize(Op):
    """Sum a broadcast array back to ``shape``: the engine's unbroadcast step."""

    __slots__ = ("input_shape",)

    def forward(self, a, shape):
        self.input_shape = a.shape
        return sum_to_shape(a, shape)

    def backward(self, grad):
        return grad.expand(self.input_shape)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` (an int, a tuple of ints, or None for all); integers sum to int64."""
    dims = _reduction_dims(dim, input._data.ndim, "sum")
    return Sum.apply(input, dims=dims, keepdim=keepdim, dtype=dtypes.to_dtype(dtype))


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    if input._data.dtype.kind != "f" and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {input.dtype}"
        )
    dims = _reduction_dims(dim, input._data.ndim, "mean")
    return Mean.apply(input, dims=dims, keepdim=keepdim, dtype=dtypes.to_dtype(dtype))


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``sum`` that treats NaN as zero."""
    dims = _reduction_dims(dim, input._data.ndim, "nansum")
    return NanSum.apply(input, dims=dims, keepdim=keepdim, dtype=dtypes.to_dtype(dtype))


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``mean`` of the elements that are not NaN (NaN where a slice has none)."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got {input.dtype}")
    dims = _reduction_dims(dim, input._data.ndim, "nanmean")
    return NanMean.apply(input, dims=dims, keepdim=keepdim)


def sum_to_size(input: Tensor, *size) -> Tensor:
    """Sum ``input`` down to ``size``, which it must be broadcastable from."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(map(int, size))
    if input._data.shape == size:
        return input
    return SumToSize.apply(input, shape=size)


# ------------------------------------------------------------------------ prod


def _exclusive_products(a: np.ndarray, axis: int) -> np.ndarray:
    """For every i along ``axis``, the product of all the other elements there.

    The product of the elements before i times the product of those after i:
    two cumulative products and no division, so zeros are handled exactly.
    """
    n = a.shape[axis]
    if n == 0:
        return np.ones_like(a)
    ones = np.ones(_kept_shape(a.shape, (axis,)), dtype=a.dtype)
    before = np.cumprod(a[_along(axis, a.ndim, slice(None, -1))], axis=axis)
    after = np.flip(np.cumprod(np.flip(a[_along(axis, a.ndim, slice(1, None))], axis), axis=axis), axis)
    return np.concatenate([ones, before], axis=axis) * np.concatenate([after, ones], axis=axis)


def _first_along(mask: np.ndarray, dim: int) -> np.ndarray:
    """Where ``mask`` holds for the first time along ``dim``."""
    return mask & (np.cumsum(mask, axis=dim) == 1)


def _product_of_others(x: Tensor, dim: int) -> Tensor:
    """``prod_{j != i} x_j`` along ``dim`` for every i: the gradient of ``prod``.

    Without recording it is computed exactly in NumPy. When the graph is
    recorded (``create_graph=True``) it must stay an expression in ops that is
    correct in a neighbourhood of x, zeros included. Where a slice has a zero
    at position m, the product of the others is ``prod(rest)`` at m and
    ``x_m * (product of the others of rest)`` elsewhere, with ``rest`` = x with
    that zero replaced by 1; repeating this removes one zero per slice per
    round, until no zeros are left and ``prod(x) / x`` is safe.
    """
    if not GradMode.enabled:
        return _wrap(_exclusive_products(x._data, dim))
    layers = []
    zero = x._data == 0
    while zero.any():
        first_zero = _first_along(zero, dim)
        zero_value = prod(where(first_zero, x, 1.0), dim, keepdim=True)  # x_m, or 1 without a zero
        x = where(first_zero, 1.0, x)
        layers.append((first_zero, prod(x, dim, keepdim=True), zero_value))
        zero = zero & ~first_zero
    others = prod(x, dim, keepdim=True) / x
    for first_zero, product_of_rest, zero_value in reversed(layers):
        others = where(first_zero, product_of_rest, zero_value * others)
    return others


class Prod(Op):
    __slots__ = ("dims",)
    save_inputs = True
    save_output = True

    def forward(self, a, dims, keepdim, dtype):
        self.dims = dims
        if dtype is None and a.dtype.kind in "biu":
            dtype = dtypes.int64
        return np.asarray(np.prod(a, axis=dims, keepdims=keepdim, dtype=dtype))

    def backward(self, grad):
        (x,) = self.saved_inputs
        shape = x._data.shape
        if not shape:
            return grad
        grad = _expand_back(grad, shape, self.dims)
        if not (x._data == 0).any():
            return grad * _expand_back(self.output(), shape, self.dims) / x
        if self.dims is None:
            return grad * _product_of_others(x.reshape(-1), 0).reshape(shape)
        return grad * _product_of_others(x, self.dims[0])


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over one dimension ``dim``, or over all of them; integers multiply to int64."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod(): dim must be an int (prod reduces one dimension or all), got {dim!r}")
    dims = None
    if dim is not None:
        d = normalize_dim(dim, input._data.ndim, "prod")
        dims = (d,) if input._data.ndim else None
    return Prod.apply(input, dims=dims, keepdim=keepdim, dtype=dtypes.to_dtype(dtype))


# ----------------------------------------------------------------- var and std


def _variance(a: np.ndarray, dims, correction, keepdim: bool) -> np.ndarray:
    """Sum of squared deviations over ``max(0, N - correction)``, PyTorch's estimator."""
    count = _reduced_count(a.shape, dims)
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = a - np.sum(a, axis=dims, keepdims=True) / count
        squares = np.sum(centred * centred, axis=dims, keepdims=keepdim)
        return np.asarray(squares / builtins.max(count - correction, 0))


def _variance_backward(grad: Tensor, x: Tensor, dims, correction) -> Tensor:
    """d var / dx = 2 (x - mean) / (N - correction), for a gradient already expanded to x's shape."""
    degrees_of_freedom = builtins.max(_reduced_count(x._data.shape, dims) - correction, 0)
    scale = 2.0 / degrees_of_freedom if degrees_of_freedom else math.inf
    return grad * (x - mean(x, dims, keepdim=True)) * scale


class Var(Op):
    __slots__ = ("correction", "dims")
    save_inputs = True

    def forward(self, a, dims, correction, keepdim):
        self.dims = dims
        self.correction = correction
        return _variance(a, dims, correction, keepdim)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return _variance_backward(_expand_back(grad, x._data.shape, self.dims), x, self.dims, self.correction)


class Std(Op):
    """sqrt(var); where the deviation is 0 the gradient is 0, as PyTorch's subgradient."""

    __slots__ = ("correction", "dims")
    save_inputs = True
    save_output = True

    def forward(self, a, dims, correction, keepdim):
        self.dims = dims
        self.correction = correction
        return np.sqrt(_variance(a, dims, correction, keepdim))

    def backward(self, grad):
        (x,) = self.saved_inputs
        shape = x._data.shape
        std = _expand_back(self.output(), shape, self.dims)
        grad_var = _divide_or_zero(_expand_back(grad, shape, self.dims), std * 2.0)
        return _variance_backward(grad_var, x, self.dims, self.correction)


def _variance_arguments(op: str, input: Tensor, dim, unbiased, correction) -> tuple:
    """PyTorch's two spellings: ``correction=`` and the legacy ``unbiased`` flag,
    which may also stand in dim's place (``x.var(False)``)."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f"{op}(): got the unbiased flag twice (as dim={dim} and unbiased={unbiased})")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass either unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    elif isinstance(correction, bool):
        correction = int(correction)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}(): std and var only support floating point dtypes, got {input.dtype}")
    dims = _reduction_dims(dim, input._data.ndim, op)
    if _reduced_count(input._data.shape, dims) - correction <= 0:
        warnings.warn(
            f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).",
            UserWarning,
            stacklevel=3,
        )
    return dims, correction


def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 unless given, or unbiased=False)."""
    dims, correction = _variance_arguments("var", input, dim, unbiased, correction)
    return Var.apply(input, dims=dims, correction=correction, keepdim=keepdim)


def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation: the square root of ``var`` with the same arguments."""
    dims, correction = _variance_arguments("std", input, dim, unbiased, correction)
    return Std.apply(input, dims=dims, correction=correction, keepdim=keepdim)


def var_mean(
    input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over the same dimensions."""
    dims, correction = _variance_arguments("var_mean", input, dim, unbiased, correction)
    return Var.apply(input, dims=dims, correction=correction, keepdim=keepdim), mean(input, dims, keepdim)


def std_mean(
    input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over the same dimensions."""
    dims, correction = _variance_arguments("std_mean", input, dim, unbiased, correction)
    return Std.apply(input, dims=dims, correction=correction, keepdim=keepdim), mean(input, dims, keepdim)


# ---------------------------------------------------------------- max and min


class SelectingReduction(Op):
    """A reduction whose result is one of its input's values (``amax``, ``amin``,
    ``max()``, ``min()``, ``median()``): the gradient goes to the positions that
    hold the result, shared evenly among ties.

    With ``nan_shares`` a NaN result sends its gradient to the NaN positions
    (PyTorch's rule for ``max()``/``min()``/``median()``); without it a slice
    whose result is NaN gets a NaN gradient (its rule for ``amax``/``amin``).
    """

    __slots__ = ("dims", "nan_shares")
    save_inputs = True
    save_output = True

    def forward(self, a, select, dims, keepdim, nan_shares):
        self.dims = dims
        self.nan_shares = nan_shares
        return np.asarray(select(a, axis=dims, keepdims=keepdim))

    def backward(self, grad):
        (x,) = self.saved_inputs
        a = x._data
        result = self.output()._data.reshape(_kept_shape(a.shape, self.dims))
        chosen = a == result
        if self.nan_shares:
            chosen |= np.isnan(a) & np.isnan(result)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = chosen / np.sum(chosen, axis=self.dims, keepdims=True)
        return _expand_back(grad, a.shape, self.dims) * _wrap(share.astype(a.dtype, copy=False))


def _values_and_indices(op: str, input: Tensor, dim, keepdim: bool, arg: object, result_type) -> tuple:
    """``(values, indices)`` of the element that ``arg`` (np.argmax ...) picks along ``dim``."""
    if input._data.ndim == 0:
        normalize_dim(dim, 0, op)
        values, indices = _values_and_indices(op, input.reshape(1), 0, False, arg, result_type)
        return result_type(values.reshape(()), indices.reshape(()))
    d = normalize_dim(dim, input._data.ndim, op)
    _check_nonempty(op, input._data.shape, (d,))
    indices = np.expand_dims(arg(input._data, axis=d), d).astype(np.int64, copy=False)
    values = _gather_values(input, indices, d)
    if not keepdim:
        values = values.reshape(_reduced_shape(input._data.shape, (d,), False))
        indices = indices.squeeze(d)
    return result_type(values, _wrap(indices))


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (default: all); ties share the gradient evenly."""
    dims = _reduction_dims(dim, input._data.ndim, "amax")
    _check_nonempty("amax", input._data.shape, dims)
    return SelectingReduction.apply(input, select=np.max, dims=dims, keepdim=keepdim, nan_shares=False)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (default: all); ties share the gradient evenly."""
    dims = _reduction_dims(dim, input._data.ndim, "amin")
    _check_nonempty("amin", input._data.shape, dims)
    return SelectingReduction.apply(input, select=np.min, dims=dims, keepdim=keepdim, nan_shares=False)


def max(input: Tensor, dim=None, keepdim: bool = False):
    """``max(input)``: the largest element (ties share the gradient);
    ``max(input, dim)``: a named tuple ``(values, indices)`` along ``dim``
    (the gradient goes to the first largest element);
    ``max(input, other)``: the elementwise ``maximum``."""
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    if dim is None:
        _check_nonempty("max", input._data.shape, None)
        return SelectingReduction.apply(input, select=np.max, dims=None, keepdim=False, nan_shares=True)
    return _values_and_indices("max", input, dim, keepdim, np.argmax, max_result)


def min(input: Tensor, dim=None, keepdim: bool = False):
    """``min(input)``, ``min(input, dim)`` -> ``(values, indices)``, or the elementwise ``minimum``."""
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    if dim is None:
        _check_nonempty("min", input._data.shape, None)
        return SelectingReduction.apply(input, select=np.min, dims=None, keepdim=False, nan_shares=True)
    return _values_and_indices("min", input, dim, keepdim, np.argmin, min_result)


def _arg_extremum(op: str, arg, input: Tensor, dim, keepdim: bool) -> Tensor:
    a = input._data
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        index = np.asarray(arg(a), dtype=np.int64)
        return _wrap(index.reshape((1,) * a.ndim if keepdim else ()))
    d = normalize_dim(dim, a.ndim, op)
    if a.ndim == 0:
        return _wrap(np.zeros((), dtype=np.int64))
    _check_nonempty(op, a.shape, (d,))
    return _wrap(np.asarray(arg(a, axis=d, keepdims=keepdim), dtype=np.int64))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (the first one among ties), flattened when ``dim`` is None."""
    return _arg_extremum("argmax", np.argmax, input, dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (the first one among ties), flattened when ``dim`` is None."""
    return _arg_extremum("argmin", np.argmin, input, dim, keepdim)


# ------------------------------------------------- logsumexp and the softmaxes


class LogSumExp(Op):
    """log(sum(exp(x))), computed as m + log(sum(exp(x - m))) with m the slice's maximum."""

    __slots__ = ("dims",)
    save_inputs = True
    save_output = True

    def forward(self, a, dims, keepdim):
        self.dims = dims
        peak = np.max(a, axis=dims, keepdims=True, initial=-np.inf)
        peak = np.where(np.isfinite(peak), peak, 0).astype(a.dtype, copy=False)  # all -inf, or an inf: no shift
        with np.errstate(divide="ignore"):
            total = np.log(np.sum(np.exp(a - peak), axis=dims, keepdims=True)) + peak
        return total.reshape(_reduced_shape(a.shape, dims, keepdim))

    def backward(self, grad):
        (x,) = self.saved_inputs
        shape = x._data.shape
        result = _expand_back(self.output(), shape, self.dims)
        return _expand_back(grad, shape, self.dims) * (x - result).exp()


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """Numerically stable ``log(sum(exp(input), dim))``; integers compute in the default float dtype."""
    if input._data.dtype.kind != "f":
        input = input.to(dtypes.get_default_dtype())
    dims = _reduction_dims(dim, input._data.ndim, "logsumexp")
    return LogSumExp.apply(input, dims=dims, keepdim=keepdim)


class Softmax(Op):
    __slots__ = ("dim",)
    save_output = True

    def forward(self, a, dim):
        self.dim = dim
        with np.errstate(invalid="ignore"):  # a slice of only -inf gives NaN, as in PyTorch
            exps = np.exp(a - np.max(a, axis=dim, keepdims=True, initial=-np.inf))
            return exps / np.sum(exps, axis=dim, keepdims=True)

    def backward(self, grad):
        y = self.output()
        return y * (grad - (grad * y).sum(self.dim, keepdim=True))


class LogSoftmax(Op):
    __slots__ = ("dim",)
    save_output = True

    def forward(self, a, dim):
        self.dim = dim
        with np.errstate(divide="ignore", invalid="ignore"):  # a slice of only -inf gives NaN, as in PyTorch
            shifted = a - np.max(a, axis=dim, keepdims=True, initial=-np.inf)
            return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))

    def backward(self, grad):
        return grad - self.output().exp() * grad.sum(self.dim, keepdim=True)


def _softmax_family(op_class, name: str, input: Tensor, dim: int, dtype) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(
            f"{name}(): expected a floating point input, got {input.dtype} (pass dtype= to compute in a float dtype)"
        )
    if dim is None:
        raise TypeError(f"{name}(): missing the required argument 'dim'")
    d = normalize_dim(dim, input._data.ndim, name)
    if input._data.ndim == 0:
        return op_class.apply(input.reshape(1), dim=0).reshape(())
    return op_class.apply(input, dim=d)


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, shifted by the maximum for stability."""
    return _softmax_family(Softmax, "softmax", input, dim, dtype)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim``, computed stably."""
    return _softmax_family(LogSoftmax, "log_softmax", input, dim, dtype)


# ------------------------------------------------------- cumulative sum and product


class CumSum(Op):
    """Running sum along ``dim`` (from the end when ``reverse``); the backward is
    the running sum in the other direction."""

    __slots__ = ("dim", "reverse")

    def forward(self, a, dim, reverse, dtype):
        self.dim = dim
        self.reverse = reverse
        if a.ndim == 0:
            return a.astype(dtype or a.dtype)
        if reverse:
            return np.flip(np.cumsum(np.flip(a, dim), axis=dim, dtype=dtype), dim)
        return np.cumsum(a, axis=dim, dtype=dtype)

    def backward(self, grad):
        return CumSum.apply(grad, dim=self.dim, reverse=not self.reverse, dtype=None)


def _reverse_cumsum(x: Tensor, dim: int) -> Tensor:
    return CumSum.apply(x, dim=dim, reverse=True, dtype=None)


def _cumprod_backward(grad: Tensor, x: Tensor, output: Tensor, dim: int) -> Tensor:
    """grad_i = sum_{k >= i} grad_k * prod_{j <= k, j != i} x_j, without dividing by zero.

    With m the first zero of a slice: before m, the sum is
    ``reverse_cumsum(grad * output) / x`` (x_i is no zero there); at m it is
    ``prod_{j < m} x_j * sum_{k >= m} grad_k * prod_{m < j <= k} x_j``; after m
    every term holds the factor x_m = 0, so the value is 0 there, but its
    derivative is not: when the graph is recorded that part is kept as
    ``prod_{j <= m} x_j`` times the same rule applied to the part after m.
    """
    if not (x._data == 0).any():
        return _reverse_cumsum(grad * output, dim) / x
    shape = x._data.shape
    positions = _positions(shape, dim)
    zero = x._data == 0
    first_zero = np.where(zero.any(axis=dim, keepdims=True), np.argmax(zero, axis=dim, keepdims=True), shape[dim])
    before, at, after = positions < first_zero, positions == first_zero, positions > first_zero
    result = where(before, _reverse_cumsum(grad * output, dim) / where(before, x, 1.0), 0.0)
    head = prod(where(before, x, 1.0), dim, keepdim=True)
    tail = where(after, x, 1.0)
    tail_products = cumprod(tail, dim)
    from_first_zero = sum(where(positions >= first_zero, grad * tail_products, 0.0), dim, keepdim=True)
    result = result + where(at, head * from_first_zero, 0.0)
    if GradMode.enabled:
        through_first_zero = prod(where(positions <= first_zero, x, 1.0), dim, keepdim=True)
        result = result + where(after, through_first_zero * _cumprod_backward(grad, tail, tail_products, dim), 0.0)
    return result


class CumProd(Op):
    __slots__ = ("dim",)
    save_inputs = True
    save_output = True

    def forward(self, a, dim, dtype):
        self.dim = dim
        if a.ndim == 0:
            return a.astype(dtype or a.dtype)
        return np.cumprod(a, axis=dim, dtype=dtype)

    def backward(self, grad):
        (x,) = self.saved_inputs
        if x._data.ndim == 0:
            return grad
        return _cumprod_backward(grad, x, self.output(), self.dim)


def _cumulative_arguments(name: str, input: Tensor, dim, dtype) -> tuple[Tensor, int, np.dtype | None]:
    if dim is None:
        raise TypeError(f"{name}(): missing the required argument 'dim'")
    d = normalize_dim(dim, input._data.ndim, name)
    dtype = dtypes.to_dtype(dtype)
    if dtype is not None and dtype != input._data.dtype:
        input = input.to(dtype)
    if input._data.dtype.kind in "biu":
        dtype = dtypes.int64
    return input, d, dtype


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along ``dim``; integers and bools accumulate in int64."""
    input, d, dtype = _cumulative_arguments("cumsum", input, dim, dtype)
    return CumSum.apply(input, dim=d, reverse=False, dtype=dtype)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along ``dim``; the gradient is exact where the input holds zeros."""
    input, d, dtype = _cumulative_arguments("cumprod", input, dim, dtype)
    return CumProd.apply(input, dim=d, dtype=dtype)


# ------------------------------------------------------------------------ norm


class Norm(Op):
    """The vector p-norm over ``dims``. Its gradient at a zero vector is 0 (not NaN),
    and for p = ±inf it is shared evenly among the elements of largest (smallest)
    magnitude, as in PyTorch."""

    __slots__ = ("dims", "p")
    save_inputs = True
    save_output = True

    def forward(self, a, p, dims, keepdim):
        self.p = p
        self.dims = dims
        magnitude = np.abs(a)
        with np.errstate(divide="ignore"):
            if p == math.inf:
                out = np.max(magnitude, axis=dims, keepdims=keepdim)
            elif p == -math.inf:
                out = np.min(magnitude, axis=dims, keepdims=keepdim)
            elif p == 0:
                out = np.sum(a != 0, axis=dims, keepdims=keepdim)
            elif p == 1:
                out = np.sum(magnitude, axis=dims, keepdims=keepdim)
            elif p == 2:
                out = np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
            else:
                out = np.sum(magnitude**p, axis=dims, keepdims=keepdim) ** (1.0 / p)
        return np.asarray(out, dtype=a.dtype)

    def backward(self, grad):
        (x,) = self.saved_inputs
        p, dims, shape = self.p, self.dims, x._data.shape
        if p == 0:
            return None  # piecewise constant: PyTorch sends no gradient either
        grad = _expand_back(grad, shape, dims)
        if p == 1:
            return grad * _sign(x)
        norm = _expand_back(self.output(), shape, dims)
        if builtins.abs(p) == math.inf:
            chosen = np.abs(x._data) == norm._data
            share = np.sign(x._data) * chosen / np.sum(chosen, axis=dims, keepdims=True)
            return grad * _wrap(share.astype(x._data.dtype, copy=False))
        if p == 2:
            return x * _divide_or_zero(grad, norm)
        if p < 1:
            return _sign(x) * _abs_power(x, p - 1) * grad * norm ** (1 - p)
        return _sign(x) * _abs_power(x, p - 1) * _divide_or_zero(grad, norm ** (p - 1))


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The p-norm of ``input`` over ``dim`` (default: all elements, flattened).

    ``p`` is a number (2, 1, inf, -inf, 0 or any other) or ``"fro"`` (the
    2-norm of the elements; with a dim it takes an int or a pair of dims).
    """
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("norm(): the nuclear norm (p='nuc') is not supported")
        if p != "fro":
            raise RuntimeError(f"norm(): Order {p} not supported (expected a number, 'fro' or 'nuc')")
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) > 2:
            raise RuntimeError(f"norm(): the Frobenius norm takes one or two dims, got {list(dim)}")
        p = 2
    p = float(p)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"norm(): expected a floating point input, got {input.dtype}")
    if dtype is not None:
        input = input.to(dtype)
    dims = _reduction_dims(dim, input._data.ndim, "norm")
    if p < 0 or p == math.inf:
        # no identity for these: an empty slice has no norm
        empty = input._data.size == 0 if dims is None else builtins.any(input._data.shape[d] == 0 for d in dims)
        if empty:
            raise RuntimeError(f"norm(): cannot compute the {p:g} norm over an empty dimension (it has no identity)")
    return Norm.apply(input, p=p, dims=dims, keepdim=keepdim)


# ------------------------------------------------------------ all, any, counting


def _logical_reduction(name: str, reduce, input: Tensor, dim, keepdim: bool) -> Tensor:
    a = input._data
    if dim is None:
        dims = None
    else:
        dims = normalize_dims(dim, a.ndim, name)  # an empty tuple reduces nothing here, as in PyTorch
        if a.ndim == 0:
            dims = None
    result = np.asarray(reduce(a, axis=dims, keepdims=keepdim))
    return _wrap(result.astype(np.uint8) if a.dtype == np.uint8 else result)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether every element over ``dim`` is nonzero (bool; uint8 for uint8 input)."""
    return _logical_reduction("all", np.all, input, dim, keepdim)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether some element over ``dim`` is nonzero (bool; uint8 for uint8 input)."""
    return _logical_reduction("any", np.any, input, dim, keepdim)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """How many elements over ``dim`` (an int, a tuple, or None for all) are nonzero, as int64."""
    dims = _reduction_dims(dim, input._data.ndim, "count_nonzero")
    return _wrap(np.asarray(np.count_nonzero(input._data, axis=dims), dtype=np.int64))


# --------------------------------------------------------------- sorting, median


def _argsort(a: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """A stable sort's order along ``dim``: equal elements keep their order, NaN counts as largest."""
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    # Sorting the reversed array ascending and reading the result backwards
    # keeps equal elements in their original order.
    reversed_order = np.argsort(np.flip(a, dim), axis=dim, kind="stable")
    return a.shape[dim] - 1 - np.flip(reversed_order, dim)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> tuple:
    """Sorted values along ``dim`` and the indices they came from, as ``(values, indices)``.
    The sort is always stable; the values are differentiable."""
    if input._data.ndim == 0:
        normalize_dim(dim, 0, "sort")
        return sort_result(input.reshape(()), _wrap(np.zeros((), dtype=np.int64)))
    d = normalize_dim(dim, input._data.ndim, "sort")
    order = _argsort(input._data, d, descending).astype(np.int64, copy=False)
    return sort_result(_gather_values(input, order, d), _wrap(order))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (stably)."""
    if input._data.ndim == 0:
        normalize_dim(dim, 0, "argsort")
        return _wrap(np.zeros((), dtype=np.int64))
    d = normalize_dim(dim, input._data.ndim, "argsort")
    return _wrap(_argsort(input._data, d, descending).astype(np.int64, copy=False))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> tuple:
    """The ``k`` largest (or smallest) elements along ``dim`` as ``(values, indices)``,
    in sorted order; among equal elements the earlier ones come first."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("topk(): bool tensors are not supported")
    if input._data.ndim == 0:
        normalize_dim(dim, 0, "topk")
        if k not in (0, 1):
            raise RuntimeError(f"topk(): selected index k out of range (k={k}, but the tensor has 1 element)")
        return topk_result(input.reshape(()), _wrap(np.zeros((), dtype=np.int64)))
    d = normalize_dim(dim, input._data.ndim, "topk")
    size = input._data.shape[d]
    if not 0 <= k <= size:
        raise RuntimeError(f"topk(): selected index k out of range (k={k}, but dimension {d} has size {size})")
    order = _argsort(input._data, d, descending=largest)[_along(d, input._data.ndim, slice(0, k))]
    order = order.astype(np.int64, copy=False)
    return topk_result(_gather_values(input, order, d), _wrap(order))


def _lower_median(a: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    """The lower of the two middle values (PyTorch's median), NaN if there is a NaN."""
    flat = a.reshape(-1)
    if flat.size == 0:
        return np.asarray(np.nan, dtype=a.dtype if a.dtype.kind == "f" else dtypes.float64)
    value = np.partition(flat, (flat.size - 1) // 2)[(flat.size - 1) // 2]
    if a.dtype.kind == "f" and np.isnan(flat).any():
        value = np.nan
    return np.asarray(value, dtype=a.dtype).reshape((1,) * a.ndim if keepdims else ())


def _median_indices(a: np.ndarray, axis: int) -> np.ndarray:
    """Per slice, the index of the lower median (of the first NaN where a slice has one)."""
    order = np.argsort(a, axis=axis, kind="stable")
    middle = np.take(order, [(a.shape[axis] - 1) // 2], axis=axis)
    if a.dtype.kind != "f":
        return middle.squeeze(axis)
    nan = np.isnan(a)
    return np.where(nan.any(axis=axis), np.argmax(nan, axis=axis), middle.squeeze(axis))


def median(input: Tensor, dim=None, keepdim: bool = False):
    """``median(input)``: the lower median of all elements (ties share the gradient);
    ``median(input, dim)``: ``(values, indices)`` along ``dim``. NaN propagates."""
    if dim is None:
        return SelectingReduction.apply(input, select=_lower_median, dims=None, keepdim=False, nan_shares=True)
    return _values_and_indices("median", input, dim, keepdim, _median_indices, median_result)


__all__ = [
    "sum", "mean", "nansum", "nanmean", "sum_to_size", "prod", "var", "std", "var_mean", "std_mean",
    "amax", "amin", "max", "min", "argmax", "argmin", "logsumexp", "softmax", "log_softmax",
    "cumsum", "cumprod", "norm", "all", "any", "count_nonzero", "sort", "argsort", "topk", "median",
]  # fmt: skip
TENSOR_METHODS = {name: globals()[name] for name in __all__ if name not in ("var_mean", "std_mean")}
