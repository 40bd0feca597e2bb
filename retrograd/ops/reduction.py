"""Reductions: sum, mean, and reducing a broadcast gradient back to a shape.

Backward of a reduction expands the gradient back over the reduced dimensions.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from .common import Tensor, normalize_dims


def _kept_shape(shape: tuple, dims: tuple | None) -> tuple:
    """``shape`` with the reduced dimensions set to 1 (what keepdim=True gives)."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


class Sum(Op):
    __slots__ = ("dims", "input_shape")

    def forward(self, a, dims, keepdim, dtype):
        self.input_shape = a.shape
        self.dims = dims
        if dtype is None and a.dtype.kind in "biu":
            dtype = dtypes.int64
        return np.asarray(np.sum(a, axis=dims, keepdims=keepdim, dtype=dtype))

    def backward(self, grad):
        return grad.reshape(_kept_shape(self.input_shape, self.dims)).expand(self.input_shape)


class Mean(Op):
    __slots__ = ("count", "dims", "input_shape")

    def forward(self, a, dims, keepdim, dtype):
        self.input_shape = a.shape
        self.dims = dims
        self.count = a.size if dims is None else int(np.prod([a.shape[d] for d in dims]))
        return np.asarray(np.mean(a, axis=dims, keepdims=keepdim, dtype=dtype))

    def backward(self, grad):
        grad = grad.reshape(_kept_shape(self.input_shape, self.dims)).expand(self.input_shape)
        return grad / self.count if self.count else grad


class SumToSize(Op):
    """Sum a broadcast array back to ``shape``: the engine's unbroadcast step."""

    __slots__ = ("input_shape",)

    def forward(self, a, shape):
        self.input_shape = a.shape
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, size in enumerate(shape) if size == 1 and a.shape[lead + i] != 1
        )
        out = np.sum(a, axis=axes, keepdims=True) if axes else a
        return out.reshape(shape)

    def backward(self, grad):
        return grad.expand(self.input_shape)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` (an int, a tuple of ints, or None for all)."""
    dims = normalize_dims(dim, input._data.ndim, "sum")
    return Sum.apply(input, dims=dims, keepdim=keepdim, dtype=dtypes.to_dtype(dtype))


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    if input._data.dtype.kind != "f" and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {input.dtype}"
        )
    dims = normalize_dims(dim, input._data.ndim, "mean")
    return Mean.apply(input, dims=dims, keepdim=keepdim, dtype=dtypes.to_dtype(dtype))


def sum_to_size(input: Tensor, *size) -> Tensor:
    """Sum ``input`` down to ``size``, which it must be broadcastable from."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    if input._data.shape == size:
        return input
    return SumToSize.apply(input, shape=size)


__all__ = ["mean", "sum", "sum_to_size"]
TENSOR_METHODS = {"sum": sum, "mean": mean, "sum_to_size": sum_to_size}
