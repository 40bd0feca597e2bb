"""Loss functions with PyTorch's ``nn.functional`` signatures: regression
(``mse_loss``, ``l1_loss``, ``huber_loss``, ``smooth_l1_loss``),
classification (``cross_entropy``, ``nll_loss``), binary classification
(``binary_cross_entropy``, ``binary_cross_entropy_with_logits``) and
``kl_div``, plus ``logsigmoid``, the stable building block of the logits loss.

Most losses are short compositions of retrograd ops, so their gradients of
every order come for free. Two are fused ops because the composition would be
slow or unstable:

- ``CrossEntropy`` (class-index targets) computes a stable log-softmax,
  picks each target's log-probability, applies class weights, ``ignore_index``
  and label smoothing, and reduces, all in NumPy within one node. Its
  backward is ``softmax(input) * a - b`` with constants ``a`` and ``b`` made
  from the targets: written with retrograd ops when the backward is recorded
  (``create_graph=True``), so it is itself differentiable, and computed in
  place from the saved log-probabilities otherwise.
- ``BinaryCrossEntropy`` clamps each log at -100 and divides its gradient by
  ``max(p (1 - p), 1e-12)``, as PyTorch does, so probabilities of exactly 0 or
  1 give finite values.

Every loss takes ``reduction='none' | 'mean' | 'sum'`` (and the deprecated
``size_average``/``reduce`` pair); ``'mean'`` of the class-index losses
divides by the summed weight of the targets that are not ignored.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import GradMode
from . import elementwise as ew
from .common import Tensor, _wrap, promote
from .pointwise import clamp_min, log1p, sigmoid
from .reduction import log_softmax, softmax

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "logsigmoid",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]
# Losses are functions of ``nn.functional`` only, never Tensor methods.
TENSOR_METHODS: dict = {}


# ------------------------------------------------------- arguments, reduction

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """The ``reduction`` that PyTorch's deprecated ``size_average``/``reduce`` pair stands for."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        reduction = "mean"
    elif reduce:
        reduction = "sum"
    else:
        reduction = "none"
    if emit_warning:
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
            stacklevel=3,
        )
    return reduction


def _reduction_arg(op: str, size_average, reduce, reduction: str, allowed: tuple = _REDUCTIONS) -> str:
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction not in allowed:
        expected = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction (expected one of {expected})")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _require_tensor(value, op: str, argument: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{argument}' must be Tensor, not {type(value).__name__}")
    return value


def _float_operands(op: str, input, target) -> tuple[Tensor, Tensor]:
    """``input`` and ``target`` promoted to their common dtype, which must be floating."""
    a, b = promote(_require_tensor(input, op, "input"), _require_tensor(target, op, "target"))
    if a._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected floating-point input and target, got {input.dtype} and {target.dtype}")
    return a, b


def _regression_operands(op: str, input, target) -> tuple[Tensor, Tensor]:
    """The floating operands of a regression loss, with PyTorch's warning when
    their shapes differ (they then broadcast, silently in the arithmetic)."""
    input, target = _float_operands(op, input, target)
    if input._data.shape != target._data.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )
    return input, target


def _check_same_size(op: str, input: Tensor, target: Tensor, message: str) -> None:
    if input._data.shape != target._data.shape:
        raise ValueError(f"{op}: " + message.format(target=target.shape, input=input.shape))


def _check_broadcasts_to(op: str, name: str, tensor, shape: tuple) -> Tensor:
    """A ``weight`` or ``pos_weight`` must broadcast to the input's shape without enlarging it."""
    _require_tensor(tensor, op, name)
    own = tensor._data.shape
    fits = len(own) <= len(shape) and all(s in (1, t) for s, t in zip(reversed(own), reversed(shape)))
    if not fits:
        raise RuntimeError(f"{op}: {name} of shape {list(own)} cannot be broadcast to the input's shape {list(shape)}")
    return tensor


def _weighted_regression(op: str, loss: Tensor, input: Tensor, weight, reduction: str, mean_over_weights: bool):
    """Reduce an elementwise regression loss, scaled by ``weight`` (of the input's
    shape) if given; PyTorch's weighted 'mean' divides by the sum of the weights
    for mse and l1, and by the element count for huber."""
    if weight is None:
        return _reduce(loss, reduction)
    _require_tensor(weight, op, "weight")
    if weight._data.shape != input._data.shape:
        raise ValueError(
            f"{op}: Weights and input must have the same size (weight {list(weight.shape)}, input {list(input.shape)})."
        )
    loss = loss * weight
    if reduction == "mean" and mean_over_weights:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# ----------------------------------------------------------- regression losses


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Squared error ``(input - target) ** 2``, reduced; ``target`` broadcasts (with a warning)."""
    reduction = _reduction_arg("mse_loss", size_average, reduce, reduction)
    input, target = _regression_operands("mse_loss", input, target)
    difference = input - target
    return _weighted_regression("mse_loss", difference * difference, input, weight, reduction, True)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Absolute error ``|input - target|``, reduced; the gradient where they are equal is 0."""
    reduction = _reduction_arg("l1_loss", size_average, reduce, reduction)
    input, target = _regression_operands("l1_loss", input, target)
    return _weighted_regression("l1_loss", (input - target).abs(), input, weight, reduction, True)


def _check_positive_number(op: str, name: str, value, allow_zero: bool) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be a number, not {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        kind = "negative" if allow_zero else "non-positive"
        raise RuntimeError(f"{op} does not support {kind} values for {name} (got {name}={value}).")


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight: Tensor | None = None
) -> Tensor:
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``, with d = input - target."""
    reduction = _reduction_arg("huber_loss", None, None, reduction)
    _check_positive_number("huber_loss", "delta", delta, allow_zero=False)
    input, target = _regression_operands("huber_loss", input, target)
    difference = input - target
    size = difference.abs()
    loss = ew.where(size._data < delta, difference * difference * 0.5, (size - 0.5 * delta) * delta)
    return _weighted_regression("huber_loss", loss, input, weight, reduction, False)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``; ``beta=0`` is ``l1_loss``."""
    reduction = _reduction_arg("smooth_l1_loss", size_average, reduce, reduction)
    _check_positive_number("smooth_l1_loss", "beta", beta, allow_zero=True)
    input, target = _regression_operands("smooth_l1_loss", input, target)
    difference = input - target
    size = difference.abs()
    if beta == 0:
        return _reduce(size, reduction)
    loss = ew.where(size._data < beta, difference * difference * 0.5 / beta, size - 0.5 * beta)
    return _reduce(loss, reduction)


# --------------------------------------------------- class-index targets


def _log_softmax_array(a: np.ndarray, axis: int) -> np.ndarray:
    """``a - logsumexp(a)`` along ``axis``, shifted by the maximum so no exp overflows."""
    with np.errstate(divide="ignore", invalid="ignore"):
        shifted = a - np.max(a, axis=axis, keepdims=True, initial=-np.inf)
        exps = np.exp(shifted)
        if axis == a.ndim - 1 and a.ndim == 2 and a.shape[1]:
            # Rows of a few classes: one matrix-vector product sums them far
            # faster than a reduction along the last axis does.
            totals = np.matmul(exps, np.ones(a.shape[1], dtype=a.dtype))[:, None]
        else:
            totals = np.add.reduce(exps, axis=axis, keepdims=True)
        shifted -= np.log(totals, out=totals)
        return shifted


class _ClassTargets:
    """Validated class-index targets for an input of shape (N, C, d1, ...): what
    the forward and backward of the class-index losses share.

    ``indices`` (N, 1, d1, ...) holds each target with ignored ones replaced by
    class 0 (so it can index safely), ``valid`` marks the targets that are not
    ignored, ``target_weight`` (N, d1, ...) is the weight of each target's class
    (0 where ignored), and ``total_weight`` their sum: the divisor of 'mean'.
    """

    __slots__ = ("class_weight", "indices", "n_classes", "target_weight", "total_weight", "valid")

    def __init__(
        self, targets: np.ndarray, n_classes: int, ignore_index: int, class_weight: np.ndarray | None, dtype: np.dtype
    ):
        self.n_classes = n_classes
        self.valid = targets != ignore_index
        self.indices = np.where(self.valid, targets, 0).astype(np.intp, copy=False)[:, None]
        self.class_weight = class_weight
        if class_weight is None:
            self.target_weight = self.valid.astype(dtype)
        else:
            self.target_weight = class_weight[self.indices[:, 0]] * self.valid
        self.total_weight = self.target_weight.sum(dtype=dtype)

    def weighted_nll(self, log_probs: np.ndarray) -> np.ndarray:
        """``-target_weight * log_probs[n, t]`` (N, d1, ...): each sample's
        negated log-probability of its target class, weighted (0 where ignored)."""
        picked = np.take_along_axis(log_probs, self.indices, axis=1)[:, 0]
        return -(picked * self.target_weight)

    def class_weight_along(self, ndim: int) -> np.ndarray | None:
        """The class weights shaped (1, C, 1, ...) to broadcast against an (N, C, ...) array."""
        if self.class_weight is None:
            return None
        return self.class_weight.reshape((1, -1) + (1,) * (ndim - 2))

    def one_hot_weights(self, shape: tuple, dtype: np.dtype, scale: float = 1.0) -> np.ndarray:
        """An array of ``shape`` (N, C, ...) holding ``scale * target_weight`` at each
        sample's target class and 0 elsewhere."""
        out = np.zeros(shape, dtype=dtype)
        np.put_along_axis(out, self.indices, (scale * self.target_weight)[:, None].astype(dtype), axis=1)
        return out


def _check_class_weight(op: str, weight, n_classes: int) -> None:
    _require_tensor(weight, op, "weight")
    if weight._data.shape != (n_classes,):
        raise RuntimeError(
            f"{op}: weight tensor should be defined either for all {n_classes} classes or no classes "
            f"but got weight tensor of shape: {list(weight.shape)}"
        )


def _class_targets(op: str, input: Tensor, target, weight, ignore_index: int) -> _ClassTargets:
    """Check the targets (shape, dtype, range) and the class weights of a
    class-index loss; ``input`` is already (N, C, d1, ...)."""
    _require_tensor(target, op, "target")
    targets = target._data
    if targets.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"{op}: expected target dtype to be int64 (Long) or uint8 (Byte) class indices, but got {targets.dtype}"
        )
    n_classes = input._data.shape[1]
    dtype = input._data.dtype
    class_weight = None
    if weight is not None:
        _check_class_weight(op, weight, n_classes)
        if weight._data.dtype != dtype:
            raise RuntimeError(f"{op}: expected weight of dtype {dtype} (the input's dtype), got {weight.dtype}")
        if weight._requires_grad and GradMode.enabled:
            raise RuntimeError(
                f"{op}: the loss is not differentiable with respect to argument 'weight'; "
                "it cannot have requires_grad=True (pass weight.detach())"
            )
        class_weight = weight._data
    outside = (targets != ignore_index) & ((targets < 0) | (targets >= n_classes))
    if outside.any():
        bad = targets[outside].flat[0]
        raise IndexError(
            f"{op}: Target {bad} is out of bounds. Class indices must be in [0, {n_classes}) "
            f"({n_classes} classes) or equal ignore_index ({ignore_index})."
        )
    return _ClassTargets(targets, n_classes, ignore_index, class_weight, dtype)


def _batched_class_input(op: str, input: Tensor, target) -> tuple[Tensor, Tensor, bool]:
    """The input as (N, C, d1, ...) and the target as (N, d1, ...), checking their
    shapes agree; an unbatched (C,) input gets a batch of one (third item True)."""
    _require_tensor(target, op, "target")
    shape, target_shape = input._data.shape, target._data.shape
    if input._data.ndim == 0:
        raise ValueError(f"{op}: Expected 1 or more dimensions (got 0)")
    if input._data.ndim == 1:
        if len(target_shape) > 1:
            raise RuntimeError(
                f"{op}: 0D or 1D target tensor expected, multi-target not supported (got target of shape "
                f"{list(target_shape)} for input of shape {list(shape)})"
            )
        if target_shape not in ((), (1,)):
            raise ValueError(f"{op}: For 1D input, 1D target must have size 1, but got target size: {target_shape[0]}")
        return input.reshape(1, shape[0]), target.reshape(1), True
    if target_shape and target_shape[0] != shape[0]:
        raise ValueError(
            f"{op}: Expected input batch_size ({shape[0]}) to match target batch_size ({target_shape[0]})."
        )
    expected = (shape[0],) + shape[2:]
    if target_shape != expected:
        if input._data.ndim == 2:
            raise RuntimeError(
                f"{op}: 0D or 1D target tensor expected, multi-target not supported (got target of shape "
                f"{list(target_shape)} for input of shape {list(shape)})"
            )
        raise RuntimeError(f"{op}: Expected target size {list(expected)}, got {list(target_shape)}")
    return input, target, False


def _reduce_class_loss(loss: np.ndarray, targets: _ClassTargets, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(total)
    with np.errstate(divide="ignore", invalid="ignore"):  # every target ignored: 0 / 0 = NaN, as in PyTorch
        return np.asarray(total / targets.total_weight, dtype=loss.dtype)


def _spread_class_grad(grad: Tensor, targets: _ClassTargets, reduction: str) -> Tensor:
    """The incoming gradient, shaped to broadcast over the (N, C, ...) input: per
    sample for 'none', divided by the total weight for 'mean' (and zero when every
    target is ignored, as in PyTorch)."""
    if reduction == "none":
        return grad.unsqueeze(1)
    if reduction == "mean":
        total = float(targets.total_weight)
        return grad / total if total != 0 else grad * 0.0
    return grad


class NllLoss(Op):
    """``-weight[t] * input[n, t]`` for each sample's target class t, reduced.
    The gradient is a constant (the negated target weights at the targets)
    times the incoming one, so its own derivatives are exact."""

    __slots__ = ("reduction",)

    def forward(self, log_probs, targets, reduction):
        self.reduction = reduction
        self.saved = targets
        loss = targets.weighted_nll(log_probs)
        return _reduce_class_loss(loss.astype(log_probs.dtype, copy=False), targets, reduction)

    def backward(self, grad):
        targets = self.saved
        shape, dtype = self.input_meta[0]
        picks = targets.one_hot_weights(shape, dtype, scale=-1.0)
        return _spread_class_grad(grad, targets, self.reduction) * _wrap(picks)


class CrossEntropy(Op):
    """Cross entropy of logits (N, C, ...) against class indices, fused.

    Per sample, with log-probabilities ``lp = log_softmax(x)``, target t,
    class weights w (all 1 without ``weight``) and smoothing e over C classes:
    ``loss = -(1 - e) w[t] lp[t] - (e / C) sum_c w[c] lp[c]`` (0 if ignored).
    Its gradient is ``softmax(x) * a - b`` with
    ``a = (1 - e) w[t] + (e / C) sum_c w[c]`` and
    ``b[c] = (1 - e) w[t] [c == t] + (e / C) w[c]`` (both 0 for ignored samples).

    A plain backward takes the softmax from the log-probabilities forward
    saved and works in place on that one array; with ``create_graph=True`` it
    computes ``softmax(input)`` with retrograd ops, so second derivatives flow.
    """

    __slots__ = ("label_smoothing", "reduction")
    backward_name = "CrossEntropyLossBackward0"
    save_inputs = True

    def forward(self, logits, targets, label_smoothing, reduction):
        self.label_smoothing = label_smoothing
        self.reduction = reduction
        log_probs = _log_softmax_array(logits, axis=1)
        self.saved = (targets, log_probs)
        loss = targets.weighted_nll(log_probs)
        if label_smoothing > 0:
            class_weight = targets.class_weight_along(logits.ndim)
            weighted = log_probs if class_weight is None else log_probs * class_weight
            smooth = -weighted.sum(axis=1) * targets.valid
            loss = (1 - label_smoothing) * loss + smooth * (label_smoothing / targets.n_classes)
        return _reduce_class_loss(loss.astype(logits.dtype, copy=False), targets, reduction)

    def _smoothing_terms(self, targets: _ClassTargets, ndim: int) -> tuple[np.ndarray, np.ndarray]:
        """The label-smoothing parts of ``a`` (N, 1, ...) and of ``b`` (broadcasting to (N, C, ...))."""
        share = self.label_smoothing / targets.n_classes
        valid = targets.valid[:, None]
        class_weight = targets.class_weight_along(ndim)
        if class_weight is None:
            return valid * (share * targets.n_classes), valid * share
        return valid * (share * class_weight.sum()), valid * (share * class_weight)

    def backward(self, grad):
        (logits,) = self.saved_inputs
        targets, log_probs = self.saved
        shape, dtype = log_probs.shape, log_probs.dtype
        kept = 1 - self.label_smoothing
        scale = kept * targets.target_weight[:, None]
        smoothing = self.label_smoothing > 0
        if smoothing:
            smooth_scale, smooth_offset = self._smoothing_terms(targets, len(shape))
            scale = scale + smooth_scale
        if GradMode.enabled:
            offset = targets.one_hot_weights(shape, dtype, scale=kept)
            if smoothing:
                offset += smooth_offset.astype(dtype, copy=False)
            local = softmax(logits, 1) * _wrap(scale.astype(dtype, copy=False)) - _wrap(offset)
            return _spread_class_grad(grad, targets, self.reduction) * local
        # No graph to build: the incoming gradient joins the per-sample factors,
        # so the whole gradient is made in one array with one full pass.
        incoming = grad._data
        if self.reduction == "none":
            incoming = incoming[:, None]
        elif self.reduction == "mean":
            total = targets.total_weight
            incoming = incoming / total if total != 0 else incoming * 0
        gradient = np.exp(log_probs)
        gradient *= scale * incoming
        if smoothing:
            gradient -= smooth_offset * incoming
        at_target = np.take_along_axis(gradient, targets.indices, axis=1)
        at_target -= (kept * targets.target_weight[:, None]) * incoming
        np.put_along_axis(gradient, targets.indices, at_target, axis=1)
        return _wrap(gradient)


def _check_label_smoothing(op: str, label_smoothing) -> None:
    if not isinstance(label_smoothing, numbers.Real) or isinstance(label_smoothing, bool):
        raise TypeError(f"{op}(): argument 'label_smoothing' must be a number, not {type(label_smoothing).__name__}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"{op}: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")


def _require_floating_input(op: str, input) -> Tensor:
    _require_tensor(input, op, "input")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {input.dtype}")
    return input


def _class_index_loss(
    op: str, fused: type[Op], input: Tensor, target, weight, ignore_index, reduction: str, **settings
) -> Tensor:
    """Run ``fused`` (``NllLoss`` or ``CrossEntropy``) on the input as (N, C, d1, ...)
    and checked targets; an unbatched input's 'none' loss comes back 0-d."""
    batched, target, unbatched = _batched_class_input(op, input, target)
    targets = _class_targets(op, batched, target, weight, int(ignore_index))
    loss = fused.apply(batched, targets=targets, reduction=reduction, **settings)
    return loss.reshape(()) if unbatched and reduction == "none" else loss


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (C,), (N, C) or
    (N, C, d1, ...) for class indices ``target`` (), (N) or (N, d1, ...)."""
    reduction = _reduction_arg("nll_loss", size_average, reduce, reduction)
    _require_floating_input("nll_loss", input)
    return _class_index_loss("nll_loss", NllLoss, input, target, weight, ignore_index, reduction)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits ``input`` and ``target``, which holds either
    class indices (int64, shaped like ``input`` without the class dimension) or
    class probabilities (floating, shaped like ``input``).

    The class dimension is 1 (0 for an unbatched (C,) input). ``weight`` (C,)
    rescales each class, targets equal to ``ignore_index`` contribute nothing,
    and ``label_smoothing`` mixes the target with the uniform distribution.
    """
    op = "cross_entropy"
    reduction = _reduction_arg(op, size_average, reduce, reduction)
    _check_label_smoothing(op, label_smoothing)
    _require_floating_input(op, input)
    _require_tensor(target, op, "target")
    if target._data.shape == input._data.shape:
        return _cross_entropy_with_probabilities(input, target, weight, ignore_index, reduction, label_smoothing)
    return _class_index_loss(
        op, CrossEntropy, input, target, weight, ignore_index, reduction, label_smoothing=float(label_smoothing)
    )


def _cross_entropy_with_probabilities(
    input: Tensor, target: Tensor, weight, ignore_index: int, reduction: str, label_smoothing: float
) -> Tensor:
    """``-sum_c target[c] * log_softmax(input)[c]`` over the class dimension; 'mean'
    divides by the number of samples (every element but the classes)."""
    op = "cross_entropy"
    if target._data.dtype.kind != "f":
        raise RuntimeError(
            f"{op}: Expected floating point type for target with class probabilities, got {target.dtype}"
        )
    if ignore_index != -100:
        raise RuntimeError(f"{op}: ignore_index is not supported for floating point target")
    if input._data.ndim == 0:
        raise ValueError(f"{op}: Expected 1 or more dimensions (got 0)")
    input, target = promote(input, target)
    class_dim = 0 if input._data.ndim == 1 else 1
    n_classes = input._data.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = log_softmax(input, class_dim) * target
    if weight is not None:
        _check_class_weight(op, weight, n_classes)
        terms = terms * weight.reshape((n_classes,) + (1,) * (input._data.ndim - class_dim - 1))
    if reduction == "none":
        return -terms.sum(class_dim)
    total = -terms.sum()
    if reduction == "sum":
        return total
    samples = input._data.size // n_classes if n_classes else 0
    return total / samples if samples else total * math.nan


# ------------------------------------------------------------ binary targets


class LogSigmoid(Op):
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``: exp only sees -|x|,
    so the result is finite for any x. The gradient is ``sigmoid(-x)``."""

    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a)))

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(1 / (1 + exp(-input)))``, computed stably."""
    return LogSigmoid.apply(_require_floating_input("logsigmoid", input))


# PyTorch divides the gradient by max(p (1 - p), 1e-12), so p of 0 or 1 gives a
# finite gradient; its 1e-12 is a single-precision constant, in every dtype.
_BCE_EPSILON = float(np.float32(1e-12))


class BinaryCrossEntropy(Op):
    """Elementwise ``-(y log(p) + (1 - y) log(1 - p))`` with each log clamped to
    >= -100, as in PyTorch. The gradients are
    ``(p - y) / max(p (1 - p), 1e-12)`` for p and ``log(1 - p) - log(p)`` for y."""

    __slots__ = ()
    save_inputs = True

    def forward(self, p, y):
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 below
            log_p = np.maximum(np.log(p), -100)
            log_q = np.maximum(np.log1p(-p), -100)
        return (y - 1) * log_q - y * log_p

    def backward(self, grad):
        p, y = self.saved_inputs
        grad_p = grad_y = None
        if self.next_edges[0] is not None:
            grad_p = grad * (p - y) / clamp_min(p * (1.0 - p), _BCE_EPSILON)
        if self.next_edges[1] is not None:
            with np.errstate(divide="ignore"):  # p of 0 or 1: an infinite slope, as in PyTorch
                grad_y = grad * (log1p(-p) - p.log())
        return grad_p, grad_y


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross entropy of probabilities ``input`` (in [0, 1]) against
    ``target`` of the same shape, optionally rescaled elementwise by ``weight``
    (broadcast to the input's shape)."""
    op = "binary_cross_entropy"
    reduction = _reduction_arg(op, size_average, reduce, reduction)
    input, target = _float_operands(op, input, target)
    _check_same_size(
        op,
        input,
        target,
        "Using a target size ({target}) that is different to the input size ({input}) is deprecated. "
        "Please ensure they have the same size.",
    )
    probabilities = input._data
    if not ((probabilities >= 0) & (probabilities <= 1)).all():
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * _check_broadcasts_to(op, "weight", weight, input._data.shape)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)`` against ``target``, computed from
    the logits as ``(1 - y) x - l * logsigmoid(x)`` with ``l = 1 + (pos_weight - 1) y``,
    which stays finite for any logit. ``pos_weight`` rescales the positive
    term (broadcast over the last dimension, e.g. one per class) and ``weight``
    each element."""
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction_arg(op, size_average, reduce, reduction)
    input, target = _float_operands(op, input, target)
    _check_same_size(op, input, target, "Target size ({target}) must be the same as input size ({input})")
    log_sigmoid = logsigmoid(input)
    if pos_weight is not None:
        pos_weight = _check_broadcasts_to(op, "pos_weight", pos_weight, input._data.shape)
        log_sigmoid = log_sigmoid * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sigmoid
    if weight is not None:
        loss = loss * _check_broadcasts_to(op, "weight", weight, input._data.shape)
    return _reduce(loss, reduction)


# --------------------------------------------------------------------- kl_div


def _xlogx(x: Tensor) -> Tensor:
    """``x * log(x)`` with 0 where x is 0 (and NaN for negative x), its
    derivatives free of 0 * inf."""
    zero = x._data == 0
    with np.errstate(invalid="ignore"):
        return ew.where(zero, 0.0, x * ew.where(zero, 1.0, x).log())


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """The Kullback-Leibler divergence ``target * (log(target) - input)`` with
    ``input`` given as log-probabilities (and ``target`` too with ``log_target``).

    ``reduction='batchmean'`` divides the sum by the batch size, which is the
    mathematical KL divergence; 'mean' divides by the number of elements and
    warns, as in PyTorch.
    """
    op = "kl_div"
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    else:
        reduction = _reduction_arg(op, None, None, reduction, allowed=(*_REDUCTIONS, "batchmean"))
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support size."
                "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                stacklevel=2,
            )
    _require_tensor(input, op, "input")
    _require_tensor(target, op, "target")
    if input._data.dtype.kind != "f" or target._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: Integral inputs not supported (got {input.dtype} and {target.dtype}).")
    input, target = promote(input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _xlogx(target) - target * input
    if reduction != "batchmean":
        return _reduce(loss, reduction)
    total = loss.sum()
    if input._data.ndim == 0:
        return total
    batch = input._data.shape[0]
    return total / batch if batch else total * math.nan
