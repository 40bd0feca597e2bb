"""Affine layers: ``Identity``, ``Linear`` (y = x W^T + b) and ``Bilinear``
(y = x1^T A x2 + b), with PyTorch's parameter shapes and default initialisation."""

from __future__ import annotations

import math

from ... import creation
from ...ops import linalg
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Bilinear", "Identity", "Linear"]


class Identity(Module):
    """Returns its input unchanged; any constructor arguments are ignored
    (so it can stand in for a layer that takes them)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` over the last dimension of ``x``.

    ``weight`` has shape ``(out_features, in_features)`` and ``bias``
    ``(out_features,)``; both start from U(-1/sqrt(in_features),
    1/sqrt(in_features)) as in PyTorch (``kaiming_uniform_`` with a=sqrt(5)
    for the weight).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty((out_features, in_features), dtype=dtype))
        self.register_parameter("bias", Parameter(creation.empty(out_features, dtype=dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise RuntimeError(
                f"Linear: expected input with last dimension of size {self.in_features} (in_features), "
                f"got input of shape {list(shape)}"
            )
        return linalg.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """``y[..., o] = sum_ij x1[..., i] weight[o, i, j] x2[..., j] + bias[o]``.

    ``weight`` has shape ``(out_features, in1_features, in2_features)``; the
    two inputs share their leading (batch) dimensions. Weight and bias start
    from U(-1/sqrt(in1_features), 1/sqrt(in1_features)).
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty((out_features, in1_features, in2_features), dtype=dtype))
        self.register_parameter("bias", Parameter(creation.empty(out_features, dtype=dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.in1_features <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features={self.in1_features})")
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        self._check_inputs(input1, input2)
        batch_shape = tuple(input1.shape[:-1])
        # One einsum over a flattened batch: x1 (b, i), weight (o, i, j), x2 (b, j) -> (b, o).
        x1 = input1.reshape(-1, self.in1_features)
        x2 = input2.reshape(-1, self.in2_features)
        output = linalg.einsum("bi,oij,bj->bo", x1, self.weight, x2)
        if self.bias is not None:
            output = output + self.bias
        return output.reshape(*batch_shape, self.out_features)

    def _check_inputs(self, input1: Tensor, input2: Tensor) -> None:
        if input1.ndim != input2.ndim:
            raise RuntimeError(
                f"Bilinear: input dimensions do not match: got {input1.ndim} ({list(input1.shape)}) "
                f"and {input2.ndim} ({list(input2.shape)})"
            )
        if input1.ndim == 0:
            raise RuntimeError("Bilinear: expected inputs with at least 1 dimension, got 0-d tensors")
        for name, tensor, expected in (("input1", input1, self.in1_features), ("input2", input2, self.in2_features)):
            if tensor.shape[-1] != expected:
                raise RuntimeError(
                    f"Bilinear: {name} size does not match weight size: got {tensor.shape[-1]} but expected "
                    f"{expected} (input shape {list(tensor.shape)})"
                )
        for dim, (size1, size2) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
            if size1 != size2:
                raise RuntimeError(
                    f"Bilinear: input batch dimensions do not match at dim {dim}: got {size1} and {size2}"
                )

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
