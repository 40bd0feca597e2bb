"""Flatten parameters into one vector and back (for optimizers and analyses
that work on a single vector of weights)."""

from __future__ import annotations

from collections.abc import Iterable

from ...ops import shape
from ...tensor import Tensor, _wrap

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor
    (differentiable: gradients flow back to the parameters)."""
    return shape.cat([param.reshape(-1) for param in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's values the matching slice of ``vec``; the
    parameters then share memory with ``vec`` (as in PyTorch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected retrograd.Tensor, but got: {type(vec).__name__}")
    parameters = list(parameters)
    needed = sum(param.numel() for param in parameters)
    if vec.ndim != 1 or vec.numel() != needed:
        raise RuntimeError(
            f"vector_to_parameters: expected a 1-D vector of {needed} elements (the parameters' total size), "
            f"got shape {list(vec.shape)}"
        )
    array = vec._data
    pointer = 0
    for param in parameters:
        count = param.numel()
        param.data = _wrap(array[pointer : pointer + count].reshape(param.shape))
        pointer += count
