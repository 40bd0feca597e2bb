"""The ops behind the normalisation, embedding and channel-dropout layers:
``batch_norm``, ``layer_norm``, ``group_norm``, ``embedding`` and
``dropout1d/2d/3d``, with ``torch.nn.functional``'s signatures.

``batch_norm`` and ``layer_norm`` are each one fused op. Forward computes the
mean, the inverse standard deviation and the normalised input ``x_hat`` once;
backward uses the closed form of the gradient (means over the values each
statistic summarises)::

    g = grad * weight
    d_input = inv_std * (g - mean(g) - x_hat * mean(g * x_hat))
    d_weight = sum(grad * x_hat),  d_bias = sum(grad)

With given statistics (``batch_norm`` in evaluation mode) the two mean terms
drop out. The backward is written with retrograd ops. A plain backward takes
``x_hat`` and ``inv_std`` as constants (``x_hat`` rebuilt from the saved mean
and ``inv_std``, so no second input-sized array is kept); with
``create_graph=True`` it recomputes them from the input with retrograd ops, so
second derivatives see how they depend on it.

``group_norm`` normalises channel groups with the layer-norm op over a
``(N, groups, -1)`` view of its input and applies the per-channel affine
part with ordinary ops.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import _jit, random
from ..autograd.function import Op
from ..autograd.grad_mode import GradMode
from .common import Tensor, _wrap

# ------------------------------------------------------------ fused normalisation


def _moments(x: np.ndarray, dims: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, ``x - mean`` and biased variance over ``dims`` (kept as size-1 dims)."""
    if x.size == 0:  # statistics of empty slices are NaN (without NumPy's warning)
        undefined = np.full(tuple(1 if d in dims else s for d, s in enumerate(x.shape)), np.nan, dtype=x.dtype)
        return undefined, x - undefined, undefined
    mean = np.mean(x, axis=dims, keepdims=True)
    centered = x - mean
    variance = np.mean(np.square(centered), axis=dims, keepdims=True)
    return mean, centered, variance


def _sum_over(t: Tensor, dims: tuple[int, ...]) -> Tensor:
    """``t`` summed over ``dims`` (no dims: ``t`` itself, where ``sum`` would reduce all)."""
    return t.sum(dims) if dims else t


class _Normalization(Op):
    """``(x - mean) * inv_std * weight + bias``; subclasses choose the statistics.

    The inputs are ``x`` followed by the weight and the bias when given
    (``has_weight``, ``has_bias``). Statistics broadcast against ``x`` over
    ``stat_dims``; the weight and bias broadcast against ``x`` once reshaped
    to ``param_view`` and get their gradients summed over ``param_sum_dims``.
    ``batch_stats`` says whether the statistics were computed from ``x``
    (so the gradient flows through them) or given (running statistics).
    """

    __slots__ = ("batch_stats", "eps", "has_bias", "has_weight", "param_sum_dims", "param_view", "stat_dims")
    save_inputs = True
    # True where the weight varies along the dims the statistics summarise
    # (layer norm); otherwise (batch norm) it factors out of those means.
    weight_varies_over_stats = False

    def _normalize(self, params, mean, centered, variance) -> np.ndarray:
        """The output; ``mean`` and ``inv_std`` stay for backward (which rebuilds
        ``x_hat`` from them rather than keeping a second input-sized array)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            inv_std = 1.0 / np.sqrt(variance + self.eps)
        self.saved = (mean, inv_std)
        out = np.multiply(centered, inv_std, out=centered)  # centered is a fresh array: reuse it
        if self.has_weight:
            out *= params[0].reshape(self.param_view)
        if self.has_bias:
            out += params[-1].reshape(self.param_view)
        return out

    def _normalized(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``x_hat`` and ``inv_std`` for backward: constants in a plain backward;
        rebuilt from ``x`` with ops when the backward itself is recorded
        (``create_graph=True``), so second derivatives see how they depend on ``x``."""
        mean, inv_std = self.saved
        if not GradMode.enabled:
            x_hat = x._data - mean
            x_hat *= inv_std
            return _wrap(x_hat), _wrap(inv_std)
        if self.batch_stats:
            centered = x - x.mean(self.stat_dims, keepdim=True)
            inv_std = ((centered * centered).mean(self.stat_dims, keepdim=True) + self.eps).rsqrt()
        else:
            centered = x - _wrap(mean)
            inv_std = _wrap(inv_std)
        return centered * inv_std, inv_std

    def _grad_input(self, grad, x_hat, inv_std, weight, grad_x_hat) -> Tensor:
        """``inv_std * (g - mean(g) - x_hat * mean(g * x_hat))`` with ``g = grad * weight``
        (just ``g * inv_std`` for given statistics). A weight that is constant over
        the statistics' dims moves out of the means into the final scale."""
        scale = inv_std
        if weight is not None:
            weight = weight if weight.shape == self.param_view else weight.reshape(self.param_view)
            if self.weight_varies_over_stats:
                grad = grad * weight
                grad_x_hat = grad * x_hat
            else:
                scale = inv_std * weight
        if not self.batch_stats:
            return grad * scale
        dims = self.stat_dims
        return (grad - grad.mean(dims, keepdim=True) - x_hat * grad_x_hat.mean(dims, keepdim=True)) * scale

    def backward(self, grad):
        x, *params = self.saved_inputs
        weight = params[0] if self.has_weight else None
        x_hat, inv_std = self._normalized(x)
        wants_input = self.next_edges[0] is not None
        wants_weight = self.has_weight and self.next_edges[1] is not None
        wants_bias = self.has_bias and self.next_edges[-1] is not None
        # grad * x_hat gives the weight's gradient and, unless the weight must
        # multiply in first, the second mean of the input's gradient.
        grad_x_hat = grad * x_hat if wants_weight or (wants_input and self.batch_stats) else None
        grads = [self._grad_input(grad, x_hat, inv_std, weight, grad_x_hat) if wants_input else None]
        if self.has_weight:
            grads.append(_sum_over(grad_x_hat, self.param_sum_dims).reshape(weight.shape) if wants_weight else None)
        if self.has_bias:
            grads.append(_sum_over(grad, self.param_sum_dims).reshape(params[-1].shape) if wants_bias else None)
        return tuple(grads)


class BatchNorm(_Normalization):
    """Batch normalisation of ``(N, C, *)`` over every dimension but the channels.

    In training the statistics come from the batch and the running ones are
    updated in place (the variance unbiased, as in PyTorch); otherwise the
    running statistics normalise.
    """

    __slots__ = ()
    backward_name = "NativeBatchNormBackward0"

    def forward(self, x, *params, running_mean, running_var, training, momentum, eps, has_weight, has_bias):
        self.stat_dims = self.param_sum_dims = (0, *range(2, x.ndim))
        self.param_view = (x.shape[1],) + (1,) * (x.ndim - 2)
        self.eps = eps
        self.has_weight = has_weight
        self.has_bias = has_bias
        self.batch_stats = training
        if training:
            mean, centered, variance = _moments(x, self.stat_dims)
            count = x.size // x.shape[1] if x.shape[1] else 0
            if count > 0:
                if running_mean is not None:
                    running_mean *= 1 - momentum
                    running_mean += momentum * mean.reshape(-1)
                if running_var is not None:
                    running_var *= 1 - momentum
                    running_var += (momentum * count / max(count - 1, 1)) * variance.reshape(-1)
        else:
            # Copies: backward must see these values even if the buffers change before it runs.
            mean = running_mean.reshape(self.param_view).copy()
            variance = running_var.reshape(self.param_view)
            centered = x - mean
        return self._normalize(params, mean, centered, variance)


class LayerNorm(_Normalization):
    """Normalisation of each sample over its last ``normalized_ndim`` dimensions;
    the weight and bias have the shape of those dimensions.

    The work runs on a ``(rows, width)`` view of the input, one row per
    sample. Forward saves each row's mean and inverse standard deviation (in
    the input's dtype); a plain backward rebuilds ``x_hat`` from them and
    makes the two row means of the closed form with ``einsum`` (no
    temporaries), or runs the row kernel. With ``create_graph=True`` the
    backward is the differentiable one of ``_Normalization``.
    """

    __slots__ = ()
    backward_name = "NativeLayerNormBackward0"
    weight_varies_over_stats = True

    def forward(self, x, *params, normalized_ndim, eps, has_weight, has_bias):
        lead = x.ndim - normalized_ndim
        self.stat_dims = tuple(range(lead, x.ndim))
        self.param_sum_dims = tuple(range(lead))
        self.param_view = x.shape[lead:]
        self.eps = eps
        self.has_weight = has_weight
        self.has_bias = has_bias
        self.batch_stats = True
        rows = x.reshape(-1, math.prod(self.param_view))
        weight = params[0].reshape(-1) if has_weight else None
        bias = params[-1].reshape(-1) if has_bias else None
        out, mean, inv_std = _layer_norm_rows(rows, weight, bias, eps)
        self.saved = (mean, inv_std)
        return out.reshape(x.shape)

    def backward(self, grad):
        if GradMode.enabled:
            return super().backward(grad)
        x, *params = self.saved_inputs
        mean, inv_std = self.saved
        edges = self.next_edges
        wants_weight = self.has_weight and edges[1] is not None
        wants_bias = self.has_bias and edges[-1] is not None
        width = math.prod(self.param_view)
        weight = params[0]._data.reshape(-1) if self.has_weight else None
        grad_rows = grad._data.reshape(-1, width)
        rows = x._data.reshape(-1, width)
        grad_input, grad_weight, grad_bias = _layer_norm_backward_rows(
            grad_rows, rows, mean, inv_std, weight, edges[0] is not None, wants_weight, wants_bias
        )
        grads = [None if grad_input is None else _wrap(grad_input.reshape(x._data.shape))]
        if self.has_weight:
            grads.append(None if grad_weight is None else _wrap(grad_weight.reshape(self.param_view)))
        if self.has_bias:
            grads.append(None if grad_bias is None else _wrap(grad_bias.reshape(self.param_view)))
        return tuple(grads)


# Row kernels of layer_norm (float32): each row is read from memory once and
# stays in cache for its second pass. Partial sums of the weight and bias
# gradients are kept per block of rows, a fixed number of blocks, so the
# result does not depend on the number of threads.
_GRAD_BLOCKS = 16
# The row sums may be added in any order (so they vectorize); no other
# fast-math liberty is taken, so NaN and inf propagate as in NumPy.
_SUMS_IN_ANY_ORDER = {"reassoc", "contract"}


@_jit.kernel(parallel=True, fastmath=_SUMS_IN_ANY_ORDER)
def _layer_norm_forward_kernel(rows, weight, bias, eps, out, mean, inv_std):  # pragma: no cover - compiled by Numba
    n, width = rows.shape
    zero = rows.dtype.type(0.0)
    one = rows.dtype.type(1.0)
    per_element = rows.dtype.type(1.0 / width)
    eps = rows.dtype.type(eps)
    for i in _jit.prange(n):
        total = zero
        for j in range(width):
            total += rows[i, j]
        shift = total * per_element
        squares = zero
        for j in range(width):
            centered = rows[i, j] - shift
            squares += centered * centered
        scale = one / np.sqrt(squares * per_element + eps)
        mean[i] = shift
        inv_std[i] = scale
        for j in range(width):
            out[i, j] = (rows[i, j] - shift) * scale * weight[j] + bias[j]


@_jit.kernel(parallel=True, fastmath=_SUMS_IN_ANY_ORDER)
def _layer_norm_backward_kernel(
    grad, rows, mean, inv_std, weight, grad_input, weight_partials, bias_partials
):  # pragma: no cover - compiled by Numba
    n, width = rows.shape
    blocks = weight_partials.shape[0]
    zero = rows.dtype.type(0.0)
    per_element = rows.dtype.type(1.0 / width)
    for block in _jit.prange(blocks):
        for i in range(block * n // blocks, (block + 1) * n // blocks):
            shift = mean[i]
            scale = inv_std[i]
            sum_g = zero
            sum_g_x_hat = zero
            for j in range(width):
                x_hat = (rows[i, j] - shift) * scale
                weight_partials[block, j] += grad[i, j] * x_hat
                bias_partials[block, j] += grad[i, j]
                g = grad[i, j] * weight[j]
                sum_g += g
                sum_g_x_hat += g * x_hat
            mean_g = sum_g * per_element
            mean_g_x_hat = sum_g_x_hat * per_element
            for j in range(width):
                x_hat = (rows[i, j] - shift) * scale
                grad_input[i, j] = scale * (grad[i, j] * weight[j] - mean_g - x_hat * mean_g_x_hat)


def _layer_norm_rows(rows: np.ndarray, weight, bias, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``layer_norm`` of each row of ``rows`` (n, width): the output and each
    row's mean and inverse standard deviation, as (n,) arrays."""
    n, width = rows.shape
    dtype = rows.dtype
    if rows.size == 0:  # statistics of empty rows are NaN (without NumPy's warning)
        undefined = np.full(n, np.nan, dtype=dtype)
        return np.empty_like(rows), undefined, undefined.copy()
    kernel = _layer_norm_forward_kernel.compiled(rows.size) if dtype == np.float32 else None
    if kernel is not None:
        out = np.empty((n, width), dtype=dtype)
        mean = np.empty(n, dtype=dtype)
        inv_std = np.empty(n, dtype=dtype)
        ones = np.ones(width, dtype=dtype) if weight is None or bias is None else None
        kernel(
            np.ascontiguousarray(rows),
            ones if weight is None else weight,
            np.zeros_like(ones) if bias is None else bias,
            eps,
            out,
            mean,
            inv_std,
        )
        return out, mean, inv_std
    mean = np.add.reduce(rows, axis=1) / dtype.type(width)
    out = rows - mean[:, None]
    variance = np.einsum("ij,ij->i", out, out) / dtype.type(width)
    variance += dtype.type(eps)
    inv_std = np.sqrt(variance, out=variance)
    np.reciprocal(inv_std, out=inv_std)
    out *= inv_std[:, None]
    if weight is not None:
        out *= weight
    if bias is not None:
        out += bias
    return out, mean, inv_std


def _layer_norm_backward_rows(grad, rows, mean, inv_std, weight, wants_input, wants_weight, wants_bias) -> tuple:
    """The gradients of ``layer_norm`` over rows (n, width), in NumPy: the input's
    ``inv_std * (g - mean(g) - x_hat * mean(g * x_hat))`` with ``g = grad * weight``,
    the weight's ``sum(grad * x_hat)`` and the bias's ``sum(grad)`` over rows
    (None for those not wanted)."""
    n, width = rows.shape
    dtype = rows.dtype
    kernel = _layer_norm_backward_kernel.compiled(rows.size) if dtype == np.float32 and rows.size else None
    if kernel is not None and grad.dtype == dtype:
        grad_input = np.empty((n, width), dtype=dtype)
        blocks = min(n, _GRAD_BLOCKS)
        weight_partials = np.zeros((blocks, width), dtype=dtype)
        bias_partials = np.zeros((blocks, width), dtype=dtype)
        kernel(
            np.ascontiguousarray(grad),
            np.ascontiguousarray(rows),
            mean,
            inv_std,
            np.ones(width, dtype=dtype) if weight is None else weight,
            grad_input,
            weight_partials,
            bias_partials,
        )
        return (
            grad_input if wants_input else None,
            np.add.reduce(weight_partials, axis=0) if wants_weight else None,
            np.add.reduce(bias_partials, axis=0) if wants_bias else None,
        )
    x_hat = rows - mean[:, None]
    x_hat *= inv_std[:, None]
    grad_weight = np.einsum("ij,ij->j", grad, x_hat) if wants_weight else None
    grad_bias = np.add.reduce(grad, axis=0) if wants_bias else None
    if not wants_input:
        return None, grad_weight, grad_bias
    g = grad * weight if weight is not None else grad.copy()  # g is changed in place below
    mean_g = np.add.reduce(g, axis=1, keepdims=True) / dtype.type(width)
    mean_g_x_hat = np.einsum("ij,ij->i", g, x_hat)[:, None] / dtype.type(width)
    g -= mean_g
    x_hat *= mean_g_x_hat
    g -= x_hat
    g *= inv_std[:, None]
    return g, grad_weight, grad_bias


# ------------------------------------------------------------------ argument checks


def _require_input(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {input.dtype}")
    return input


def _check_same_dtype(input: Tensor, other: Tensor | None, name: str, op: str) -> None:
    if other is None:
        return
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor or None, got {type(other).__name__}")
    if other._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"{op}: expected {name} to have the input's dtype {input.dtype}, got {other.dtype} "
            "(all inputs must share the same dtype)"
        )


def _check_eps(eps, op: str) -> float:
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool):
        raise TypeError(f"{op}: expected eps to be a number, got {type(eps).__name__}")
    return float(eps)


def _verify_batch_size(size: list[int], op: str) -> None:
    """PyTorch's check that each statistic summarises more than one value."""
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"{op}: Expected more than 1 value per channel when training, got input size {size}")


# ----------------------------------------------------------------- public functions


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of ``input`` ``(N, C, *)`` over the batch and
    spatial dimensions, then scale by ``weight`` and shift by ``bias`` ``(C,)``.

    In training the batch statistics normalise, and the running statistics
    (when given) are updated in place: ``running = (1 - momentum) * running +
    momentum * batch``, with the unbiased batch variance. Otherwise
    ``running_mean`` and ``running_var`` normalise.
    """
    op = "batch_norm"
    _require_input(input, op)
    shape = list(input._data.shape)
    if len(shape) < 2:
        raise RuntimeError(
            f"{op}: expected an input of shape (N, C, *) with at least 2 dimensions, "
            f"got a {len(shape)}D input of shape {shape}"
        )
    channels = shape[1]
    for name, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _check_same_dtype(input, tensor, name, op)
        if tensor is not None and tensor._data.size != channels:
            raise RuntimeError(f"{op}: {name} should contain {channels} elements not {tensor._data.size}")
    for name, tensor in (("running_mean", running_mean), ("running_var", running_var)):
        if tensor is not None and tensor._requires_grad and GradMode.enabled:
            raise RuntimeError(
                f"{op}: the function is not differentiable with respect to argument '{name}'. "
                "This input cannot have requires_grad True."
            )
    if not isinstance(momentum, numbers.Real) or isinstance(momentum, bool):
        raise TypeError(
            f"{op}: expected momentum to be a number, got {type(momentum).__name__} "
            "(BatchNorm modules turn momentum=None into a cumulative average factor)"
        )
    if training:
        _verify_batch_size(shape, op)
    elif running_mean is None or running_var is None:
        missing = "running_mean" if running_mean is None else "running_var"
        raise RuntimeError(f"{op}: {missing} must be defined in evaluation mode")
    params = [t for t in (weight, bias) if t is not None]
    return BatchNorm.apply(
        input,
        *params,
        running_mean=None if running_mean is None else running_mean._data,
        running_var=None if running_var is None else running_var._data,
        training=bool(training),
        momentum=float(momentum),
        eps=_check_eps(eps, op),
        has_weight=weight is not None,
        has_bias=bias is not None,
    )


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample over its trailing ``normalized_shape`` dimensions,
    then apply the element-wise ``weight`` and ``bias`` (of that shape)."""
    op = "layer_norm"
    _require_input(input, op)
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    try:
        normalized_shape = tuple(int(s) for s in normalized_shape)
    except TypeError:
        raise TypeError(f"{op}: normalized_shape must be a sequence of ints, got {normalized_shape!r}") from None
    if not normalized_shape:
        raise RuntimeError(
            f"{op}: Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
            "element, but got normalized_shape = []"
        )
    shape = input._data.shape
    k = len(normalized_shape)
    if len(shape) < k or shape[len(shape) - k :] != normalized_shape:
        raise RuntimeError(
            f"{op}: Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(shape)}"
        )
    for name, tensor in (("weight", weight), ("bias", bias)):
        _check_same_dtype(input, tensor, name, op)
        if tensor is not None and tensor._data.shape != normalized_shape:
            raise RuntimeError(
                f"{op}: Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(tensor.shape)} and normalized_shape = {list(normalized_shape)}"
            )
    params = [t for t in (weight, bias) if t is not None]
    return LayerNorm.apply(
        input,
        *params,
        normalized_ndim=k,
        eps=_check_eps(eps, op),
        has_weight=weight is not None,
        has_bias=bias is not None,
    )


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the channels of ``input`` ``(N, C, *)`` into ``num_groups`` groups,
    normalise each group of each sample over its channels and spatial
    positions, then apply the per-channel ``weight`` and ``bias`` ``(C,)``."""
    op = "group_norm"
    _require_input(input, op)
    shape = list(input._data.shape)
    if len(shape) < 2:
        raise RuntimeError(f"{op}: Expected at least 2 dimensions for input tensor but received {len(shape)}")
    if not isinstance(num_groups, numbers.Integral) or isinstance(num_groups, bool) or num_groups <= 0:
        raise ValueError(f"{op}: num_groups must be a positive integer, got {num_groups!r}")
    batch, channels = shape[:2]
    if channels % num_groups:
        raise RuntimeError(
            f"{op}: Expected number of channels in input to be divisible by num_groups, but got input of "
            f"shape {shape} and num_groups={num_groups}"
        )
    for name, tensor in (("weight", weight), ("bias", bias)):
        _check_same_dtype(input, tensor, name, op)
        if tensor is not None and tensor._data.shape != (channels,):
            raise RuntimeError(
                f"{op}: Expected {name} to be a vector of size equal to the number of channels in input, "
                f"but got {name} of shape {list(tensor.shape)} and input of shape {shape}"
            )
    _verify_batch_size([batch * channels // num_groups, num_groups, *shape[2:]], op)
    group_size = channels // num_groups * math.prod(shape[2:])
    grouped = input.reshape(batch, int(num_groups), group_size)
    out = LayerNorm.apply(grouped, normalized_ndim=1, eps=_check_eps(eps, op), has_weight=False, has_bias=False)
    out = out.reshape(shape)
    view = (channels,) + (1,) * (len(shape) - 2)
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out


# ------------------------------------------------------------------------ embedding


class Embedding(Op):
    """Rows of the table ``weight`` at integer ``indices``: ``weight[indices]``.

    Backward sums the gradient rows of repeated indices into the table's
    shape, after scaling each by ``row_scale`` (0 for the padding index,
    ``1 / count`` with ``scale_grad_by_freq``) when given.
    """

    __slots__ = ("num_rows",)
    backward_name = "EmbeddingBackward0"

    def forward(self, weight, indices, row_scale):
        self.num_rows = weight.shape[0]
        self.saved = (indices, row_scale)
        return np.take(weight, indices, axis=0)

    def backward(self, grad):
        indices, row_scale = self.saved
        if row_scale is not None:
            grad = grad * _wrap(row_scale.astype(grad.dtype, copy=False)[..., None])
        return EmbeddingScatter.apply(grad, indices=indices, num_rows=self.num_rows)


class EmbeddingScatter(Op):
    """A table of ``num_rows`` zero rows with each row of the input added at its
    index (repeated indices add up). The rows are sorted by index and each run
    of equal indices summed by one ``add.reduceat``, so the work is
    proportional to the rows looked up, not to the table (a float64
    ``bincount`` over every element measured 5x slower). Its backward reads
    the rows back with ``Embedding``."""

    __slots__ = ()
    backward_name = "EmbeddingDenseBackward0"

    def forward(self, rows, indices, num_rows):
        self.saved = indices
        width = rows.shape[-1]
        out = np.zeros((num_rows, width), dtype=rows.dtype)
        if indices.size == 0 or width == 0:
            return out
        flat = indices.reshape(-1)
        order = np.argsort(flat, kind="stable")  # stable: each index's rows add in input order
        sorted_indices = flat[order]
        run_starts = np.flatnonzero(np.concatenate(([True], sorted_indices[1:] != sorted_indices[:-1])))
        out[sorted_indices[run_starts]] = np.add.reduceat(rows.reshape(-1, width)[order], run_starts, axis=0)
        return out

    def backward(self, grad):
        return Embedding.apply(grad, indices=self.saved, row_scale=None)


def _embedding_renorm(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale, in place, every referenced row whose ``norm_type``-norm exceeds
    ``max_norm`` down to norm ``max_norm`` (PyTorch's ``embedding_renorm_``)."""
    rows = np.unique(indices)
    if rows.size == 0:
        return
    table = weight._data
    norms = np.linalg.norm(table[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    if too_long.any():
        scale = max_norm / (norms[too_long] + 1e-7)
        table[rows[too_long]] *= scale.astype(table.dtype)[:, None]
        weight._version += 1


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """The rows of ``weight`` ``(num_embeddings, embedding_dim)`` at the integer
    indices in ``input``: an output of shape ``input.shape + (embedding_dim,)``.

    The row at ``padding_idx`` gets no gradient. ``max_norm`` first rescales
    (in place) the referenced rows whose norm exceeds it. With
    ``scale_grad_by_freq`` each row's gradient is divided by how often its
    index occurs in ``input``. ``sparse`` is accepted for compatibility; the
    gradient is always a dense tensor.
    """
    return _embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, "embedding")


def _embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, op: str) -> Tensor:
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: expected weight to be a Tensor, got {type(weight).__name__}")
    if weight._data.ndim != 2:
        raise RuntimeError(f"{op}: 'weight' must be 2-D, got a weight of shape {list(weight.shape)}")
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor of indices, got {type(input).__name__}")
    indices = input._data
    if indices.dtype not in (np.int64, np.int32):
        raise RuntimeError(
            f"{op}: Expected tensor for argument 'indices' to have one of the following scalar types: "
            f"Long, Int; but got {input.dtype} instead"
        )
    num_rows = weight._data.shape[0]
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= num_rows:
            bad = low if low < 0 else high
            raise IndexError(
                f"{op}: index out of range in self: index {bad} is outside [0, {num_rows}) (num_embeddings={num_rows})"
            )
    if padding_idx is not None:
        if not -num_rows <= padding_idx < num_rows:
            raise AssertionError(f"{op}: Padding_idx must be within num_embeddings, got {padding_idx} for {num_rows}")
        padding_idx = padding_idx % num_rows
    if max_norm is not None:
        _embedding_renorm(weight, indices, float(max_norm), float(norm_type))
    row_scale = None
    if scale_grad_by_freq or padding_idx is not None:
        row_scale = np.ones(indices.shape)
        if scale_grad_by_freq:
            counts = np.bincount(indices.reshape(-1), minlength=num_rows)
            row_scale = 1.0 / counts[indices]
        if padding_idx is not None:
            row_scale[indices == padding_idx] = 0.0
    return Embedding.apply(weight, indices=indices, row_scale=row_scale)


# ------------------------------------------------------------------ channel dropout


def _check_probability(p, op: str) -> float:
    if not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise TypeError(f"{op}: expected dropout probability p to be a number, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched: bool) -> Tensor:
    """Zero whole channels (``input[n, c]``, or ``input[c]`` unbatched) with
    probability ``p`` and scale the kept ones by ``1 / (1 - p)``."""
    if not training or p == 0:
        return input
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"dropout: expected a floating-point tensor while training, got {input.dtype}")
    shape = input._data.shape
    channel_dims = 2 if batched else 1
    mask_shape = shape[:channel_dims] + (1,) * (len(shape) - channel_dims)
    dtype = input._data.dtype
    if p == 1:
        mask = np.zeros(mask_shape, dtype=dtype)
    else:
        keep = random.numpy_generator().random(mask_shape, dtype=np.float32) >= p
        mask = keep * dtype.type(1.0 / (1.0 - p))
    return input.mul_(_wrap(mask)) if inplace else input * _wrap(mask)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` (or unbatched ``(C, L)``) input with
    probability ``p``, scaling the rest by ``1 / (1 - p)``, while training."""
    p = _check_probability(p, "dropout1d")
    _require_input(input, "dropout1d")
    ndim = input._data.ndim
    if ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an "
            "optional batch dimension (i.e. 2D or 3D inputs)."
        )
    return _feature_dropout(input, p, training, inplace, batched=ndim == 3)


def _warn_unexpected_rank(ndim: int, spatial_dims: int) -> None:
    """PyTorch's deprecation warning for ``dropout2d``/``dropout3d`` given an
    input of neither (C, *spatial) nor (N, C, *spatial) rank."""
    op = f"dropout{spatial_dims}d"
    warnings.warn(
        f"{op}: Received a {ndim}-D input to {op}, which is deprecated and will result in an "
        "error in a future release. To retain the behavior and silence this warning, please use dropout "
        f"instead. Note that {op} exists to provide channel-wise dropout on inputs with {spatial_dims} spatial "
        "dimensions, a channel dimension, and an optional batch dimension "
        f"(i.e. {spatial_dims + 1}D or {spatial_dims + 2}D inputs).",
        stacklevel=3,
    )


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` input with probability ``p``,
    scaling the rest by ``1 / (1 - p)``, while training. As in PyTorch, a 3D
    input is taken as ``(N, C, L)`` (with a warning)."""
    p = _check_probability(p, "dropout2d")
    _require_input(input, "dropout2d")
    ndim = input._data.ndim
    if ndim not in (3, 4):
        _warn_unexpected_rank(ndim, spatial_dims=2)
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d "
            "instead.",
            stacklevel=2,
        )
    if ndim < 2:
        raise RuntimeError(f"dropout2d: expected an input with at least 2 dimensions (N, C, ...), got {ndim}D")
    return _feature_dropout(input, p, training, inplace, batched=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``)
    input with probability ``p``, scaling the rest by ``1 / (1 - p)``, while training."""
    p = _check_probability(p, "dropout3d")
    _require_input(input, "dropout3d")
    ndim = input._data.ndim
    if ndim not in (4, 5):
        _warn_unexpected_rank(ndim, spatial_dims=3)
    if ndim < 1:
        raise RuntimeError("dropout3d: expected an input with at least 1 dimension, got a 0-d tensor")
    return _feature_dropout(input, p, training, inplace, batched=ndim == 5)


__all__ = ["batch_norm", "dropout1d", "dropout2d", "dropout3d", "embedding", "group_norm", "layer_norm"]
