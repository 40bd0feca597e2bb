"""Per-sample normalisation layers: ``LayerNorm`` and ``GroupNorm``.

Both normalise with statistics of each sample alone, so they behave the same
in training and evaluation and keep no running statistics.
"""

from __future__ import annotations

import numbers

from ... import creation
from ...ops.normalization import group_norm, layer_norm
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["GroupNorm", "LayerNorm"]


def _register_affine(module: Module, affine: bool, bias: bool, shape, dtype) -> None:
    """Register the learnable ``weight`` and ``bias`` of ``shape`` of a
    normalisation layer, or None in their place (both without ``affine``,
    ``bias`` alone without ``bias``)."""
    if affine:
        module.weight = Parameter(creation.empty(shape, dtype=dtype))
        module.register_parameter("bias", Parameter(creation.empty(shape, dtype=dtype)) if bias else None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module: Module) -> None:
    """Every normalisation layer starts as the identity: weight ones, bias zeros."""
    init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Normalise each sample over its last ``len(normalized_shape)`` dimensions,
    then apply an element-wise ``weight`` (ones) and ``bias`` (zeros) of shape
    ``normalized_shape`` when ``elementwise_affine``."""

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, elementwise_affine, bias, self.normalized_shape, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Split the ``num_channels`` channels into ``num_groups`` groups and
    normalise each group of each sample over its channels and spatial
    positions, then apply a per-channel ``weight`` (ones) and ``bias`` (zeros)
    when ``affine``."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _register_affine(self, affine, bias, num_channels, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.affine:
            _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )
