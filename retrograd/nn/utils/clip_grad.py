"""Gradient clipping: rescale or clamp the ``.grad`` of parameters in place,
between ``backward()`` and the optimizer step."""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

import numpy as np

from ... import dtypes
from ...tensor import Tensor, _wrap

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]

TensorOrTensors = Tensor | Iterable[Tensor]


def _as_list(tensors: TensorOrTensors) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _vector_norm(array: np.ndarray, norm_type: float) -> np.ndarray:
    """The ``norm_type``-norm of all entries of ``array``, in its dtype."""
    flat = array.reshape(-1)
    if norm_type == 2.0:
        return np.sqrt(np.dot(flat, flat))
    magnitudes = np.abs(flat)
    if norm_type == math.inf:
        return magnitudes.max(initial=0)
    if norm_type == -math.inf:
        return magnitudes.min() if magnitudes.size else np.array(math.inf, dtype=array.dtype)
    if norm_type == 0.0:
        return np.array(np.count_nonzero(flat), dtype=array.dtype)
    if norm_type == 1.0:
        return magnitudes.sum()
    return (magnitudes**norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(
    tensors: TensorOrTensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach: bool | None = None
) -> Tensor:
    """The ``norm_type``-norm of all entries of ``tensors`` taken together, as a
    0-d Tensor (``norm_type`` may be ``inf``). ``foreach`` is accepted for
    compatibility; the computation is always one NumPy call per tensor."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _wrap(np.array(0.0, dtype=dtypes.get_default_dtype()))
    norms = [_vector_norm(t._data, norm_type) for t in tensors]
    stacked = np.stack([np.asarray(n) for n in norms]).astype(np.result_type(*[t.dtype for t in tensors]))
    total = np.asarray(_vector_norm(stacked, norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return _wrap(total)


def clip_grads_with_norm_(
    parameters: TensorOrTensors, max_norm: float, total_norm: Tensor, foreach: bool | None = None
) -> None:
    """Scale every gradient by ``max_norm / (total_norm + 1e-6)`` when that is below 1."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coefficient = np.minimum(float(max_norm) / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # a non-finite norm gives NaN gradients, silently as in PyTorch
        for grad in grads:
            np.multiply(grad._data, coefficient, out=grad._data, casting="same_kind")
            grad._version += 1


def clip_grad_norm_(
    parameters: TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale the gradients of ``parameters`` in place so that their total
    ``norm_type``-norm (all gradients taken together as one vector) is at most
    ``max_norm``. Returns the total norm before clipping, as a Tensor."""
    if isinstance(parameters, types.GeneratorType):
        parameters = list(parameters)
        if not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient entry of ``parameters`` to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for param in _as_list(parameters):
        grad = param.grad
        if grad is not None:
            np.clip(grad._data, -clip_value, clip_value, out=grad._data)
            grad._version += 1
