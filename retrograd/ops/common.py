"""Small helpers every op family shares: turning operands into Tensors with
PyTorch's dtype promotion, and normalising ``dim`` arguments."""

from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor, _normalize_dim, _wrap

__all__ = [
    "Tensor",
    "_wrap",
    "as_operand",
    "is_scalar",
    "normalize_dim",
    "normalize_dims",
    "promote",
    "python_scalar",
    "result_dtype",
]


_PYTHON_NUMBERS = frozenset((float, int, bool))


def is_scalar(x) -> bool:
    """A Python (or NumPy) number, which ops take as a constant rather than a tensor."""
    return type(x) in _PYTHON_NUMBERS or (isinstance(x, numbers.Number) and not isinstance(x, Tensor))


def python_scalar(x):
    """A NumPy scalar as the Python number it holds (PyTorch treats both alike:
    ``float32_tensor * np.float64(2)`` stays float32), anything else unchanged."""
    if type(x) is Tensor or type(x) in _PYTHON_NUMBERS:  # the common cases, checked cheaply
        return x
    return x.item() if isinstance(x, np.generic) and not isinstance(x, np.bool_) else x


def as_operand(x, op: str) -> Tensor:
    """A Tensor for ``x``: Tensors pass through, arrays and lists are wrapped
    (they never require grad)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, np.generic, list, tuple, numbers.Number)):
        from ..tensor import as_array

        return _wrap(as_array(x))
    raise TypeError(f"{op}: expected a Tensor or a number, got {type(x).__name__}")


def _category(dtype: np.dtype) -> int:
    return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[dtype.kind]


def result_dtype(a: Tensor, b: Tensor) -> np.dtype:
    """PyTorch's promotion for two tensors: a zero-dimensional tensor only
    decides the dtype when it is of a higher category (bool < int < float).
    (Python numbers enter as 0-d tensors of the default float dtype or int64.)"""
    da, db = a._data.dtype, b._data.dtype
    if da == db:
        return da
    a_dimensioned, b_dimensioned = a._data.ndim > 0, b._data.ndim > 0
    if a_dimensioned != b_dimensioned:
        dimensioned, zero_dim = (da, db) if a_dimensioned else (db, da)
        if _category(zero_dim) <= _category(dimensioned):
            return dimensioned
        return zero_dim
    if _category(da) != _category(db):
        return da if _category(da) > _category(db) else db
    return np.promote_types(da, db)


def promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Cast two tensors to their common dtype (differentiably) when they differ."""
    if a._data.dtype == b._data.dtype:
        return a, b
    dtype = result_dtype(a, b)
    return a.to(dtype), b.to(dtype)


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    return _normalize_dim(int(dim), ndim, op)


def normalize_dims(dim, ndim: int, op: str) -> tuple[int, ...] | None:
    """``None`` (all dimensions), an int, or a sequence of ints as a sorted tuple."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (normalize_dim(dim, ndim, op),)
    dims = tuple(normalize_dim(d, ndim, op) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: dim {list(dim)} appears multiple times in the list of dims")
    return tuple(sorted(dims))
