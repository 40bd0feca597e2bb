"""Making tensors: from data, filled, ranges, and random."""

from __future__ import annotations

import numpy as np

from . import dtypes
from .random import numpy_generator
from .tensor import Tensor, _shape_arg, _wrap, as_array


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = _wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype) -> np.dtype:
    dtype = dtypes.to_dtype(dtype)
    return dtype if dtype is not None else dtypes.get_default_dtype()


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array, a Tensor).

    Python floats become the default dtype (float32), Python ints int64, and
    NumPy arrays keep their dtype, as in PyTorch.
    """
    return _leaf(as_array(data, dtype), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when no cast is needed."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return _wrap(data)
    return _wrap(as_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return _wrap(array)


def zeros(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _leaf(np.zeros(_shape_arg(size, "zeros"), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _leaf(np.ones(_shape_arg(size, "ones"), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _leaf(np.empty(_shape_arg(size, "empty"), dtype=_float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Filled with ``fill_value``; the dtype follows it (bool, int64 or the default float)."""
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = dtypes.bool
        elif isinstance(fill_value, (int, np.integer)):
            dtype = dtypes.int64
        else:
            dtype = dtypes.get_default_dtype()
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _leaf(np.full(_shape_arg((size,), "full"), fill_value, dtype=dtypes.to_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``[start, end)`` in steps; integers give int64, otherwise the default float dtype."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        dtype = dtypes.int64 if all(isinstance(v, (int, np.integer)) for v in values) else dtypes.get_default_dtype()
    return _leaf(np.arange(*values, dtype=dtypes.to_dtype(dtype)), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _leaf(np.linspace(start, end, int(steps), dtype=_float_dtype(dtype)), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.logspace(start, end, int(steps), base=base, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Uniform on [0, 1)."""
    dtype = _float_dtype(dtype)
    array = numpy_generator(generator).random(_shape_arg(size, "rand"), dtype=np.float64).astype(dtype, copy=False)
    return _leaf(array, requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Standard normal."""
    dtype = _float_dtype(dtype)
    array = numpy_generator(generator).standard_normal(_shape_arg(size, "randn")).astype(dtype, copy=False)
    return _leaf(array, requires_grad)


def randint(
    low, high=None, size=None, *, generator=None, dtype=None, requires_grad: bool = False, device=None
) -> Tensor:
    """Integers uniform on ``[low, high)``; ``randint(high, size)`` starts at 0."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low=0, high, size)")
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint: missing 'high'")
    if low >= high:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    array = numpy_generator(generator).integers(low, high, size=_shape_arg((size,), "randint"))
    return _leaf(array.astype(dtypes.to_dtype(dtype) or dtypes.int64), requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None) -> Tensor:
    return _wrap(numpy_generator(generator).permutation(int(n)).astype(dtypes.to_dtype(dtype) or dtypes.int64))


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None) -> Tensor:
    """Normal samples: with tensors for ``mean``/``std`` their shapes, else ``size``."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = np.broadcast_shapes(np.shape(m), np.shape(s)) if size is None else _shape_arg((size,), "normal")
    dtype = dtypes.to_dtype(dtype) or (mean.dtype if isinstance(mean, Tensor) else dtypes.get_default_dtype())
    return _wrap((numpy_generator(generator).standard_normal(shape) * s + m).astype(dtype))


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability ``input`` (or ``p``), else 0, in ``input``'s dtype."""
    probability = input._data if p is None else p
    draws = numpy_generator(generator).random(input._data.shape) < probability
    return _wrap(draws.astype(input._data.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Sample category indices from (unnormalised) probabilities along the last dim."""
    probs = np.asarray(input._data, dtype=np.float64)
    if probs.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {list(input.shape)}")
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or element < 0")
    rows = probs.reshape(-1, probs.shape[-1])
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample {num_samples} > {rows.shape[1]} categories without replacement")
    rng = numpy_generator(generator)
    samples = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for i, row in enumerate(rows):
        total = row.sum()
        if total <= 0:
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
        samples[i] = rng.choice(row.size, size=num_samples, replace=replacement, p=row / total)
    return _wrap(samples.reshape(*probs.shape[:-1], num_samples))


def _like(fn):
    def like(input: Tensor, *, dtype=None, requires_grad: bool = False, **kwargs) -> Tensor:
        return fn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad, **kwargs)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with the shape (and, by default, dtype) of ``input``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(input: Tensor, fill_value, *, dtype=None, requires_grad: bool = False) -> Tensor:
    return full(input.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, *, dtype=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype)
