"""Shape ops: reshape and view, expand and broadcast.

They move no data where NumPy can return a view; their backward puts the
gradient back into the input's shape.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Op
from .common import Tensor


def _size_arg(shape: tuple, op: str) -> tuple:
    """Accept ``f(2, 3)`` as well as ``f((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be integers, got {shape!r}") from None


class Reshape(Op):
    __slots__ = ("input_shape",)

    def forward(self, a, shape):
        self.input_shape = a.shape
        return np.reshape(a, shape)

    def backward(self, grad):
        return grad.reshape(self.input_shape)


class Expand(Op):
    __slots__ = ("input_shape",)

    def forward(self, a, shape):
        self.input_shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, grad):
        return grad.sum_to_size(self.input_shape)


def reshape(input: Tensor, *shape) -> Tensor:
    shape = _size_arg(shape, "reshape")
    if -1 not in shape and int(np.prod(shape)) != input._data.size:
        raise RuntimeError(
            f"reshape: shape {list(shape)} is invalid for input of size {input._data.size} (shape {list(input.shape)})"
        )
    return Reshape.apply(input, shape=shape)


def view(input: Tensor, *shape) -> Tensor:
    """Like ``reshape`` (retrograd copies when NumPy cannot make a view)."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer)):
        return input.to(shape[0])  # view(dtype)
    return reshape(input, *shape)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other.shape)


def expand(input: Tensor, *shape) -> Tensor:
    """Broadcast to ``shape`` without copying; -1 keeps a dimension's size."""
    shape = _size_arg(shape, "expand")
    ndim = input._data.ndim
    if len(shape) < ndim:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to the number of dimensions in the tensor ({ndim})"
        )
    lead = len(shape) - ndim
    target = list(shape)
    for i, size in enumerate(input._data.shape):
        if target[lead + i] == -1:
            target[lead + i] = size
        elif size != 1 and size != target[lead + i]:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({target[lead + i]}) must match the existing size ({size}) "
                f"at non-singleton dimension {lead + i}. Target sizes: {list(shape)}. Tensor sizes: {list(input.shape)}"
            )
    target = tuple(target)
    if target == input._data.shape:
        return input
    return Expand.apply(input, shape=target)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other.shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


__all__ = ["broadcast_to", "expand", "expand_as", "reshape", "reshape_as", "view", "view_as"]
TENSOR_METHODS = {name: globals()[name] for name in ["expand", "expand_as", "reshape", "reshape_as", "view", "view_as"]}
