"""Making tensors: from data, filled, ranges, and random."""

from __future__ import annotations

import numpy as np

from . import dtypes
from .random import numpy_generator
from .tensor import Tensor, _leaf, _shape_arg, _wrap, as_array


def _float_dtype(dtype) -> np.dtype:
    dtype = dtypes.to_dtype(dtype)
    return dtype if dtype is not None else dtypes.get_default_dtype()


def _random_float_dtype(dtype, caller: str) -> np.dtype:
    dtype = _float_dtype(dtype)
    if dtype.kind != "f":
        raise RuntimeError(f"{caller}: expected a floating point dtype, got {dtype} (use randint for integers)")
    return dtype


def _number(value, argument: str, caller: str):
    """A Python number from a number or a one-element Tensor."""
    if isinstance(value, Tensor):
        if value._data.size != 1:
            raise RuntimeError(f"{caller}: {argument} must be a number, got a tensor of shape {list(value.shape)}")
        return value._data.item()
    return value.item() if isinstance(value, np.generic) else value


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
    fill_value = _number(fill_value, "fill_value", "full")
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = dtypes.bool
        elif isinstance(fill_value, (int, np.integer)):
            dtype = dtypes.int64
        else:
            dtype = dtypes.get_default_dtype()
    return _leaf(np.full(_shape_arg((size,), "full"), fill_value, dtype=dtypes.to_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``[start, end)`` in steps; integers give int64, otherwise the default float dtype."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, name, "arange") for v, name in ((start, "start"), (end, "end"), (step, "step")))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange: upper bound and larger bound inconsistent with step sign (start={start}, end={end}, step={step})"
        )
    if dtype is None:
        integral = all(isinstance(v, int) and not isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.int64 if integral else dtypes.get_default_dtype()
    dtype = dtypes.to_dtype(dtype)
    if dtype.kind == "f":  # start + i * step in double precision, then rounded, as PyTorch does
        return _leaf(np.arange(start, end, step, dtype=np.float64).astype(dtype), requires_grad)
    return _leaf(np.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    Computed like PyTorch's kernel (in the output dtype, the first half counted
    from ``start`` and the second from ``end``), so the values match exactly.
    """
    start, end = _number(start, "start", "linspace"), _number(end, "end", "linspace")
    steps = int(steps)
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    dtype = _float_dtype(dtype)
    compute = dtype if dtype.kind == "f" else np.dtype(np.float64)
    if steps <= 1:
        return _leaf(np.full(steps, start, dtype=compute).astype(dtype), requires_grad)
    first, last = compute.type(start), compute.type(end)
    step = (last - first) / compute.type(steps - 1)
    index = np.arange(steps)
    halfway = steps // 2
    values = np.where(
        index < halfway,
        first + step * index.astype(compute),
        last - step * (steps - index - 1).astype(compute),
    ).astype(compute)
    return _leaf(values.astype(dtype), requires_grad)


def logspace(
    start, end, steps: int, base: float = 10.0, dtype=None, requires_grad: bool = False, device=None
) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    exponents = linspace(start, end, steps, dtype=np.float64)._data
    return _leaf(np.power(float(base), exponents).astype(_float_dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Uniform on [0, 1)."""
    dtype = _random_float_dtype(dtype, "rand")
    array = numpy_generator(generator).random(_shape_arg(size, "rand"), dtype=np.float64).astype(dtype, copy=False)
    return _leaf(array, requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Standard normal."""
    dtype = _random_float_dtype(dtype, "randn")
    array = numpy_generator(generator).standard_normal(_shape_arg(size, "randn")).astype(dtype, copy=False)
    return _leaf(array, requires_grad)


def randint(
    low=0, high=None, size=None, *, generator=None, dtype=None, requires_grad: bool = False, device=None
) -> Tensor:
    """Integers uniform on ``[low, high)``; ``randint(high, size)`` starts at 0."""
    if size is None:
        if not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low=0, high, size) with size a tuple of ints")
        low, high, size = 0, low, high
    elif high is None:  # randint(10, size=(3,))
        low, high = 0, low
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
    if np.any(np.asarray(s) < 0):
        raise RuntimeError("normal: expects std >= 0.0")
    if size is None and not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        raise TypeError("normal: with a number mean and std, pass size")
    shape = np.broadcast_shapes(np.shape(m), np.shape(s)) if size is None else _shape_arg((size,), "normal")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    dtype = dtypes.to_dtype(dtype) or (tensors[0].dtype if tensors else dtypes.get_default_dtype())
    return _wrap((numpy_generator(generator).standard_normal(shape) * s + m).astype(dtype))


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability ``input`` (or ``p``), else 0, in ``input``'s dtype."""
    probability = input._data if p is None else p
    if np.any((np.asarray(probability) < 0) | (np.asarray(probability) > 1)):
        raise RuntimeError("bernoulli: expects p to be in [0, 1]")
    draws = numpy_generator(generator).random(input._data.shape) < probability
    return _wrap(draws.astype(input._data.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Sample category indices from (unnormalised) probabilities along the last dim.

    With replacement: inverse-CDF sampling, all rows at once. Without: the
    exponential-race trick (the ``num_samples`` smallest of ``Exp(1) / p``),
    which draws categories one after another in proportion to what is left.
    """
    probs = np.asarray(input._data, dtype=np.float64)
    if probs.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {list(input.shape)}")
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or element < 0")
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {num_samples})")
    rows = probs.reshape(-1, probs.shape[-1])
    n_rows, n_categories = rows.shape
    if not replacement and num_samples > n_categories:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement "
            f"({num_samples} > {n_categories})"
        )
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    rng = numpy_generator(generator)
    if replacement:
        cdf = np.cumsum(rows / totals[:, None], axis=1)
        cdf[:, -1] = 1.0
        # One searchsorted over all rows: row i's CDF and draws shifted into [i, i + 1].
        offsets = np.arange(n_rows)[:, None]
        draws = rng.random((n_rows, num_samples)) + offsets
        samples = np.searchsorted((cdf + offsets).ravel(), draws.ravel(), side="right").reshape(draws.shape)
        samples = np.minimum(samples - offsets * n_categories, n_categories - 1)
    else:
        if ((rows > 0).sum(axis=1) < num_samples).any():
            raise RuntimeError(
                "multinomial: invalid multinomial distribution (with replacement=False, "
                "not enough non-negative category to sample)"
            )
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(rows.shape) / rows
        samples = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    return _wrap(samples.astype(np.int64).reshape(*probs.shape[:-1], num_samples))


def _like(fn):
    def like(
        input: Tensor, *, dtype=None, requires_grad: bool = False, device=None, memory_format=None, **kwargs
    ) -> Tensor:
        return fn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad, **kwargs)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with the shape (and, by default, dtype) of ``input``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(
    input: Tensor, fill_value, *, dtype=None, requires_grad: bool = False, device=None, memory_format=None
) -> Tensor:
    return full(input.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, dtype=None, generator=None, device=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, generator=generator)
