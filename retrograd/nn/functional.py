"""``retrograd.nn.functional``: PyTorch's ``torch.nn.functional`` namespace.

Almost everything here is an op from ``retrograd.ops`` imported under
PyTorch's name, grouped by family. The few functions defined below are the
ones whose ``nn.functional`` signature differs from the op's (``relu`` takes
``inplace``, the softmaxes pick a dimension when none is given) or that
``nn.functional`` builds from other ops (``prelu``, ``softmin``,
``normalize``, ``cosine_similarity``).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..ops import elementwise as _elementwise
from ..ops import pointwise as _pointwise
from ..ops import reduction as _reduction
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention
from ..ops.conv import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    interpolate,
    max_pool1d,
    max_pool2d,
)
from ..ops.indexing import one_hot
from ..ops.linalg import linear
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    logsigmoid,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.normalization import batch_norm, dropout1d, dropout2d, dropout3d, embedding, group_norm, layer_norm
from ..ops.pointwise import (
    dropout,
    elu,
    elu_,
    gelu,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    mish,
    relu6,
    relu_,
    sigmoid,
    silu,
    softplus,
    tanh,
)
from ..ops.shape import pad
from ..tensor import Tensor

__all__ = [
    # linear layers
    "linear",
    # activations
    "elu", "elu_", "gelu", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "logsigmoid", "mish", "prelu",
    "relu", "relu6", "relu_", "sigmoid", "silu", "softplus", "tanh",
    # softmax family
    "log_softmax", "softmax", "softmin",
    # dropout
    "dropout", "dropout1d", "dropout2d", "dropout3d",
    # convolution, pooling, resampling
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "conv1d", "conv2d", "conv_transpose1d",
    "conv_transpose2d", "interpolate", "max_pool1d", "max_pool2d",
    # normalisation and embedding
    "batch_norm", "embedding", "group_norm", "layer_norm", "normalize",
    # attention
    "multi_head_attention_forward", "scaled_dot_product_attention",
    # distances
    "cosine_similarity",
    # losses
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "kl_div", "l1_loss",
    "mse_loss", "nll_loss", "smooth_l1_loss",
    # utilities
    "one_hot", "pad",
]  # fmt: skip


# ------------------------------------------------------------------ activations


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``; with ``inplace`` the input itself is overwritten and returned."""
    return relu_(input) if inplace else _pointwise.relu(input)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``input`` where it is positive, ``weight * input`` elsewhere. ``weight``
    holds one slope, or one per channel (dimension 1 of the input)."""
    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"prelu(): argument '{name}' must be Tensor, not {type(value).__name__}")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype} and {weight.dtype}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        if input.ndim == 0:
            raise RuntimeError(f"prelu: Not allow zero-dim input tensor (with {weight.numel()} slopes).")
        raise RuntimeError(
            "prelu: Mismatch of parameter numbers and input channel size. "
            f"Found parameter numbers = {weight.numel()} and channel size = {channels}."
        )
    if weight.numel() == 1:
        slope = weight.reshape(())
    else:
        slope = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    return _elementwise.where(input._data > 0, input, slope * input)


# --------------------------------------------------------------- softmax family


def _implicit_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's (deprecated) choice of dimension when none is given."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(input) / sum(exp(input))`` along ``dim`` (cast to ``dtype`` first if given)."""
    if dim is None:
        dim = _implicit_softmax_dim("softmax", input.ndim, _stacklevel)
    return _reduction.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``log(softmax(input))`` along ``dim``, computed stably."""
    if dim is None:
        dim = _implicit_softmax_dim("log_softmax", input.ndim, _stacklevel)
    return _reduction.log_softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-input)`` along ``dim``."""
    if dim is None:
        dim = _implicit_softmax_dim("softmin", input.ndim, _stacklevel)
    return _reduction.softmax(-input, dim, dtype=dtype)


# ------------------------------------------------------------ norms, distances


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """``input`` divided by its ``p``-norm along ``dim``, or by ``eps`` where the norm is smaller."""
    if out is not None:
        raise NotImplementedError("normalize: the out= argument is not supported; use the returned tensor")
    return input / _reduction.norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)


def _clamped_below(norm: Tensor, eps: float) -> Tensor:
    """``norm`` with values below ``eps`` raised to ``eps``, while the gradient
    flows to ``norm`` unchanged (PyTorch clamps the norm in place under no_grad)."""
    detached = norm.detach()
    return norm + (detached.clamp_min(eps) - detached)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 * x2) / (max(|x1|, eps) * max(|x2|, eps))`` along ``dim``, after
    broadcasting; each input is divided by its norm first, which keeps the result in [-1, 1]."""
    try:
        shape = np.broadcast_shapes(x1._data.shape, x2._data.shape)
    except ValueError:
        raise RuntimeError(
            f"cosine_similarity: x1 of shape {list(x1.shape)} and x2 of shape {list(x2.shape)} do not broadcast"
        ) from None
    x1, x2 = x1.expand(shape), x2.expand(shape)
    norm1 = _clamped_below(_reduction.norm(x1, 2, dim, keepdim=True), eps)
    norm2 = _clamped_below(_reduction.norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)
