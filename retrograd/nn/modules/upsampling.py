"""``Upsample``: resize the spatial dimensions by a size or a scale factor
(nearest-neighbour modes), with PyTorch's arguments and repr."""

from __future__ import annotations

from ...ops import conv as F
from ...tensor import Tensor
from .module import Module

__all__ = ["Upsample"]


class Upsample(Module):
    """Nearest-neighbour resizing of (N, C, d1[, d2[, d3]]) inputs to ``size`` or by ``scale_factor``.

    ``mode`` is ``'nearest'`` or ``'nearest-exact'``.
    """

    def __init__(
        self,
        size=None,
        scale_factor=None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"
