"""dtypes as module attributes (``retrograd.float32`` ...), the default floating
dtype, and the small set of type-promotion rules that differ from NumPy's."""

from __future__ import annotations

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)

_FLOATING = (float16, float32, float64)
_default_dtype = float32


def set_default_dtype(dtype) -> None:
    """Set the dtype that Python floats become (float32 unless changed)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype not in _FLOATING:
        raise TypeError(f"set_default_dtype: only floating dtypes are supported, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """The dtype that Python floats and float-valued factories produce."""
    return _default_dtype


def is_floating_point(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def to_dtype(dtype) -> np.dtype | None:
    """Normalise anything NumPy understands as a dtype (or None) to ``np.dtype``."""
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r}") from None
