"""Dropout layers: ``Dropout`` (single elements) and ``Dropout1d``,
``Dropout2d``, ``Dropout3d`` (whole channels).

While the module is training, each zeroes its input's elements (or channels)
with probability ``p`` and scales the rest by ``1 / (1 - p)``; in evaluation
mode it returns its input unchanged. Masks come from retrograd's default
generator, so ``retrograd.manual_seed`` makes them repeat.
"""

from __future__ import annotations

import numbers

from ...ops.normalization import dropout1d, dropout2d, dropout3d
from ...ops.pointwise import dropout
from ...tensor import Tensor
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not isinstance(p, numbers.Real) or isinstance(p, bool):
            raise TypeError(f"{type(self).__name__}: dropout probability p must be a number, got {type(p).__name__}")
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` while training."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` input while training."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` input while training."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input while training."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout3d(input, self.p, self.training, self.inplace)
