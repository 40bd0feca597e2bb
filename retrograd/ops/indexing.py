"""Indexing: ``x[index]`` and ``x[index] = value``, gather and scatter,
index_select, index_add, masked_fill and masked_select, take_along_dim,
repeat_interleave, one_hot and nonzero.

Reading at integer positions and adding into positions are each other's
backward. ``AdvancedIndex`` (NumPy advanced indexing) and ``TakeAt`` read;
``AccumulateAt`` adds values into zeros at flat positions, summing repeated
positions with one ``bincount`` (or a sort and ``add.reduceat`` when the
positions are few). ``IndexPut`` writes values at an index and backs
``__setitem__`` and ``scatter``. Each backward is built from these ops, so
gradients of every order stay exact.

Index semantics follow PyTorch rather than NumPy where the two differ: integers
are applied first as basic indexing, so ``x[0, :, [1, 2]]`` has shape
``[x.shape[1], 2]``.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from . import elementwise as ew
from .common import Tensor, _wrap, normalize_dim
from .shape import Slice

# ------------------------------------------------------------ flat positions


def _flat_positions(shape: tuple, index) -> np.ndarray:
    """For each element of ``array[index]`` (``array`` of ``shape``), its position
    in the flattened array, without making an array of the input's size: the
    index picks from zero-stride views of one coordinate ramp per dimension."""
    strides = np.cumprod((1,) + shape[:0:-1], dtype=np.int64)[::-1] if shape else ()
    total = None
    for d, (size, stride) in enumerate(zip(shape, strides, strict=True)):
        ramp = (np.arange(size, dtype=np.int64) * stride).reshape((size,) + (1,) * (len(shape) - d - 1))
        term = np.broadcast_to(ramp, shape)[index]
        total = term if total is None else total + term
    if total is None:  # a 0-d array
        total = np.zeros((), dtype=np.int64)[index]
    return np.asarray(total)


def _accumulate(values: np.ndarray, positions: np.ndarray, size: int) -> np.ndarray:
    """A flat array of ``size`` zeros with ``values`` added at ``positions`` (repeats add up)."""
    positions = positions.ravel()
    values = values.ravel()
    if positions.size * 4 < size:
        # Few positions in a large array: sum each run of a sorted copy
        # instead of counting over the whole array in float64.
        out = np.zeros(size, dtype=values.dtype)
        if positions.size:
            order = np.argsort(positions, kind="stable")
            ordered = positions[order]
            starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
            out[ordered[starts]] = np.add.reduceat(values[order], starts)
        return out
    return np.bincount(positions, weights=values, minlength=size).astype(values.dtype, copy=False)


class TakeAt(Op):
    """The elements at flat ``positions`` of the input, in the positions' shape."""

    __slots__ = ("input_shape",)

    def forward(self, a, positions):
        self.input_shape = a.shape
        self.saved = positions
        return np.take(a, positions)

    def backward(self, grad):
        return AccumulateAt.apply(grad, positions=self.saved, shape=self.input_shape)


class AccumulateAt(Op):
    """Zeros of ``shape`` with the input's elements added at flat ``positions``."""

    __slots__ = ()

    def forward(self, a, positions, shape):
        self.saved = positions
        return _accumulate(a, positions, int(np.prod(shape, dtype=np.int64))).reshape(shape)

    def backward(self, grad):
        return TakeAt.apply(grad, positions=self.saved)


class AdvancedIndex(Op):
    """``a[index]`` for an index holding integer or bool arrays (NumPy's advanced indexing)."""

    __slots__ = ("input_shape",)

    def forward(self, a, index):
        self.input_shape = a.shape
        self.saved = index
        return a[index]

    def backward(self, grad):
        positions = _flat_positions(self.input_shape, self.saved)
        return AccumulateAt.apply(grad, positions=positions, shape=self.input_shape)


class IndexPut(Op):
    """A copy of ``a`` with ``values`` (already of the indexed shape) written at
    the index, applied in ``stages`` (a basic index, then an advanced one)."""

    __slots__ = ("input_shape",)

    def forward(self, a, values, stages):
        self.input_shape = a.shape
        self.saved = stages
        out = a.copy()
        _write(out, stages, values)
        return out

    def backward(self, grad):
        stages = self.saved
        grad_input = grad_values = None
        if self.next_edges[0] is not None:
            written = np.zeros(self.input_shape, dtype=bool)
            _write(written, stages, True)
            grad_input = ew.where(written, 0.0, grad)
        if self.next_edges[1] is not None:
            grad_values = _index_in_stages(grad, stages)
        return grad_input, grad_values


def _write(array: np.ndarray, stages: tuple, values) -> None:
    """``array[stage_1][stage_2] = values`` in place. Basic indexing gives a view,
    so writing through the first stage reaches ``array``."""
    if len(stages) == 1:
        array[stages[0]] = values
    else:
        array[stages[0]][stages[1]] = values


def _index_in_stages(t: Tensor, stages: tuple) -> Tensor:
    """``t[stage_1][stage_2]``, each stage a basic index (a view) or an advanced one."""
    for stage in stages:
        is_advanced = any(isinstance(item, np.ndarray) for item in stage)
        t = AdvancedIndex.apply(t, index=stage) if is_advanced else Slice.apply(t, index=stage)
    return t


# --------------------------------------------------------- parsing an index


def _index_array(x, op: str, what: str = "index", check_dtype: bool = True) -> np.ndarray:
    """An integer or bool array from a Tensor, array or (nested) list (any dtype
    if not ``check_dtype``: the caller checks it)."""
    if isinstance(x, Tensor):
        array = x._data
    elif isinstance(x, np.ndarray):
        array = x
    else:
        try:
            array = np.asarray(_untensor(x))
        except (ValueError, TypeError):
            raise IndexError(f"{op}: cannot use {type(x).__name__} {x!r} as an {what}") from None
        if array.size == 0 and array.dtype.kind == "f":
            array = array.astype(np.int64)
    if check_dtype and array.dtype.kind not in "biu":
        raise IndexError(
            f"{op}: tensors used as indices must be long, int, byte or bool tensors, got dtype {array.dtype}"
        )
    return array


def _untensor(x):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return [_untensor(item) for item in x]
    return x


def _check_bounds(array: np.ndarray, size: int, dim: int, op: str, error=IndexError, negative: bool = True) -> None:
    """Every index in ``array`` within ``[-size, size)`` (``[0, size)`` if not ``negative``)."""
    if array.size == 0:
        return
    low, high = int(array.min()), int(array.max())
    if high >= size:
        bad = high
    elif low < (-size if negative else 0):
        bad = low
    else:
        return
    prefix = f"{op}(): " if op else ""
    raise error(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {size}")


def _convert_item(item):
    """One entry of an index as an int, slice, None, Ellipsis, bool, or an integer/bool array."""
    if item is None or item is Ellipsis or isinstance(item, slice):
        return item
    if isinstance(item, (bool, np.bool_)):
        return bool(item)
    if isinstance(item, (int, np.integer)):
        return int(item)
    if isinstance(item, (Tensor, np.ndarray, list, tuple)):
        array = _index_array(item, "index")
        if array.ndim == 0:
            return bool(array) if array.dtype.kind == "b" else int(array)
        return array
    raise IndexError(
        f"index: only integers, slices (`:`), ellipsis (`...`), None and integer or boolean tensors are "
        f"valid indices, got {type(item).__name__}"
    )


def _parse_index(index, shape: tuple) -> tuple:
    """Split ``index`` into a basic stage (ints, slices, None) and an advanced
    stage (arrays, with full slices elsewhere), as PyTorch applies them.

    Returns the tuple of stages to apply one after the other (at least one).
    """
    items = [_convert_item(item) for item in (index if type(index) is tuple else (index,))]
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError("index: an index can only have a single ellipsis ('...')")
    consumed = sum(_dims_taken(item) for item in items)
    ndim = len(shape)
    if consumed > ndim:
        if ndim == 0:
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python to convert a 0-dim tensor to a number"
            )
        raise IndexError(f"index: too many indices for tensor of dimension {ndim}")
    basic, advanced = [], []
    dim = 0
    for item in items:
        if item is Ellipsis:
            rest = ndim - consumed
            basic += [slice(None)] * rest
            advanced += [slice(None)] * rest
            dim += rest
        elif item is None or item is True:
            basic.append(None)
            advanced.append(slice(None))
        elif item is False:  # a new dimension of size 0
            basic.append(None)
            advanced.append(np.zeros(0, dtype=np.int64))
        elif isinstance(item, int):
            size = shape[dim]
            if not -size <= item < size:
                raise IndexError(f"index {item} is out of bounds for dimension {dim} with size {size}")
            basic.append(item)
            dim += 1
        elif isinstance(item, slice):
            if item.step is not None and int(item.step) <= 0:
                raise ValueError(f"index: step must be greater than zero, got {item.step}")
            basic.append(item)
            advanced.append(slice(None))
            dim += 1
        elif item.dtype.kind == "b":
            covered = shape[dim : dim + item.ndim]
            if item.shape != covered:
                raise IndexError(
                    f"The shape of the mask {list(item.shape)} at index {dim} does not match the shape of the "
                    f"indexed tensor {list(shape)} at index {dim}"
                )
            basic += [slice(None)] * item.ndim
            advanced.append(item)
            dim += item.ndim
        else:
            _check_bounds(item, shape[dim], dim, "")
            basic.append(slice(None))
            advanced.append(item)
            dim += 1
    has_advanced = any(isinstance(item, np.ndarray) for item in advanced)
    stages = []
    if not has_advanced or any(item is None or not _is_full_slice(item) for item in basic):
        stages.append(tuple(basic))
    if has_advanced:
        while _is_full_slice(advanced[-1]):
            advanced.pop()
        stages.append(tuple(advanced))
    return tuple(stages)


def _dims_taken(item) -> int:
    if item is None or item is Ellipsis or isinstance(item, bool):
        return 0
    if isinstance(item, np.ndarray) and item.dtype.kind == "b":
        return item.ndim
    return 1


def _is_full_slice(item) -> bool:
    return isinstance(item, slice) and item == slice(None)


# -------------------------------------------------------- x[index], x[index] = v


def getitem(self: Tensor, index) -> Tensor:
    """``x[index]``: ints, slices (positive steps), None, Ellipsis, integer or
    bool tensors, arrays or lists, in any mix; a view for basic indices."""
    if type(index) is int and self._data.ndim:
        size = self._data.shape[0]
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {size}")
        return Slice.apply(self, index=(index,))
    if type(index) is tuple and _is_simple(index, self._data.shape):
        return Slice.apply(self, index=index)
    return _index_in_stages(self, _parse_index(index, self._data.shape))


def _is_simple(index: tuple, shape: tuple) -> bool:
    """Ints in range and slices without a step, one per leading dimension: the
    common ``x[:, t]`` that needs no parsing."""
    if len(index) > len(shape):
        return False
    for item, size in zip(index, shape):
        kind = type(item)
        if kind is int:
            if not -size <= item < size:
                return False
        elif kind is not slice or item.step is not None:
            return False
    return True


def setitem(self: Tensor, index, value) -> None:
    """``x[index] = value``: write a number or a tensor broadcast to the indexed
    shape, in place; differentiable w.r.t. ``value`` and the rest of ``x``."""
    stages = _parse_index(index, self._data.shape)
    if isinstance(value, Tensor):
        target_shape = np.broadcast_to(np.empty((), dtype=bool), self._data.shape)
        for stage in stages:
            target_shape = target_shape[stage]
        value = _fit_value(value, target_shape.shape)
        raw = value._data
    elif isinstance(value, numbers.Number) or (isinstance(value, np.ndarray) and value.ndim == 0):
        raw = value
    else:
        value = _wrap(np.asarray(_untensor(value), dtype=self._data.dtype))
        return setitem(self, index, value)

    def written(source, value):
        if isinstance(value, Tensor):
            values = value.to(source.dtype)
        else:
            values = _wrap(np.asarray(value, dtype=source._data.dtype))
        indexed_shape = _indexed_shape(source._data.shape, stages)
        if values._data.shape != indexed_shape:
            values = values.expand(indexed_shape)
        return IndexPut.apply(source, values, stages=stages)

    def fast(array):
        _write(array, stages, raw)

    ew.apply_inplace(self, ew._Compute(written, value), "setitem", fast)


def _indexed_shape(shape: tuple, stages: tuple) -> tuple:
    indexed = np.broadcast_to(np.empty((), dtype=bool), shape)
    for stage in stages:
        indexed = indexed[stage]
    return indexed.shape


def _fit_value(value: Tensor, shape: tuple) -> Tensor:
    """``value`` with surplus leading size-1 dimensions dropped, checked to broadcast to ``shape``."""
    value_shape = value._data.shape
    lead = 0
    while len(value_shape) - lead > len(shape) and value_shape[lead] == 1:
        lead += 1
    trimmed = value_shape[lead:]
    try:
        np.broadcast_shapes(trimmed, shape)
        fits = np.broadcast_shapes(trimmed, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"setitem: shape mismatch: value tensor of shape {list(value_shape)} cannot be broadcast to "
            f"indexing result of shape {list(shape)}"
        )
    return value.reshape(trimmed) if lead else value


# ------------------------------------------------------------ gather, scatter


def _along_dim(index: np.ndarray, dim: int) -> tuple:
    """The advanced index that picks ``index[i]`` along ``dim`` and coordinate
    ``i[d]`` along every other dimension d (PyTorch's gather/scatter rule)."""
    ndim = index.ndim
    return tuple(
        index if d == dim else np.arange(index.shape[d]).reshape((-1,) + (1,) * (ndim - d - 1)) for d in range(ndim)
    )


def _check_gather_index(op: str, input: Tensor, dim: int, index: np.ndarray, src: Tensor | None = None) -> None:
    shape = input._data.shape
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {index.dtype}")
    if index.ndim != len(shape):
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as input tensor "
            f"(index shape {list(index.shape)}, input shape {list(shape)})"
        )
    if src is not None and src._data.ndim != index.ndim:
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as src tensor "
            f"(index shape {list(index.shape)}, src shape {list(src.shape)})"
        )
    for d in range(index.ndim if index.size else 0):
        if d != dim and index.shape[d] > shape[d]:
            raise RuntimeError(
                f"{op}(): Size does not match at dimension {d} expected index {list(index.shape)} to be no "
                f"larger than input {list(shape)} apart from dimension {dim}"
            )
        if src is not None and index.shape[d] > src._data.shape[d]:
            raise RuntimeError(
                f"{op}(): Expected index {list(index.shape)} to be no larger than src {list(src.shape)} "
                f"at dimension {d}"
            )
    _check_bounds(index, shape[dim] if shape else 1, dim, op, error=RuntimeError, negative=False)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` (for dim 0): values picked along ``dim``."""
    dim = normalize_dim(dim, input._data.ndim, "gather")
    index_array = _index_array(index, "gather", check_dtype=False)
    _check_gather_index("gather", input, dim, index_array)
    if input._data.ndim == 0:
        return AdvancedIndex.apply(input.reshape(1), index=(index_array.reshape(()),))
    return AdvancedIndex.apply(input, index=_along_dim(index_array, dim))


def _scatter_source(op: str, input: Tensor, dim: int, index: np.ndarray, src) -> Tensor:
    """``src`` (a tensor or a number) cut to the index's shape and cast to the input's dtype."""
    if not isinstance(src, Tensor):
        if not isinstance(src, numbers.Number):
            raise TypeError(f"{op}(): src must be a Tensor or a number, got {type(src).__name__}")
        return _wrap(np.full(index.shape, src, dtype=input._data.dtype))
    _check_gather_index(op, input, dim, index, src)
    if src._data.shape != index.shape:
        src = Slice.apply(src, index=tuple(slice(0, n) for n in index.shape))
    return src.to(input._data.dtype)


def _scatter_prepare(op: str, input: Tensor, dim: int, index) -> tuple:
    dim = normalize_dim(dim, input._data.ndim, op)
    index_array = _index_array(index, op, check_dtype=False)
    _check_gather_index(op, input, dim, index_array)
    return dim, index_array


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or the number ``value``) written
    along ``dim`` at ``index``: ``out[index[i][j]][j] = src[i][j]`` for dim 0.
    ``reduce="add"`` adds instead of writing."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected a src tensor or a value")
    if reduce == "add":
        return scatter_add(input, dim, index, src if isinstance(src, Tensor) else _full_like_index(input, index, src))
    if reduce is not None:
        raise RuntimeError(f"scatter(): reduce argument must be either 'add' or None here, got {reduce!r}")
    dim, index_array = _scatter_prepare("scatter", input, dim, index)
    src = _scatter_source("scatter", input, dim, index_array, src)
    if index_array.size == 0:
        return input.clone()
    return IndexPut.apply(input, src, stages=(_along_dim(index_array, dim),))


def _full_like_index(input: Tensor, index, value) -> Tensor:
    return _wrap(np.full(_index_array(index, "scatter").shape, value, dtype=input._data.dtype))


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added along ``dim`` at ``index``; repeated indices add up."""
    dim, index_array = _scatter_prepare("scatter_add", input, dim, index)
    src = _scatter_source("scatter_add", input, dim, index_array, src)
    if index_array.size == 0:
        return input.clone()
    positions = _flat_positions(input._data.shape, _along_dim(index_array, dim))
    return ew.add(input, AccumulateAt.apply(src, positions=positions, shape=input._data.shape))


def scatter_(self: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None) -> Tensor:
    def scattered(source, src):
        return scatter(source, dim, index, src, value=value, reduce=reduce)

    return ew.apply_inplace(self, ew._Compute(scattered, src), "scatter_")


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    def added(source, src):
        return scatter_add(source, dim, index, src)

    return ew.apply_inplace(self, ew._Compute(added, src), "scatter_add_")


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` after broadcasting ``input`` and ``indices`` in every dimension
    but ``dim``; without ``dim``, both are flattened."""
    index_array = _index_array(indices, "take_along_dim", check_dtype=False)
    if index_array.dtype.kind not in "iu":
        raise RuntimeError(f"take_along_dim(): dtype of indices should be int64 but got {index_array.dtype}")
    if dim is None:
        return gather(input.reshape(-1), 0, index_array.reshape(-1))
    ndim = input._data.ndim
    if index_array.ndim != ndim:
        raise RuntimeError(
            f"take_along_dim(): input and indices should have the same number of dimensions, but got "
            f"{ndim} dimensions for input, and {index_array.ndim} dimensions for indices"
        )
    dim = normalize_dim(dim, ndim, "take_along_dim")
    input_shape, index_shape = list(input._data.shape), list(index_array.shape)
    input_shape[dim] = index_shape[dim] = 1
    try:
        common = list(np.broadcast_shapes(tuple(input_shape), tuple(index_shape)))
    except ValueError:
        raise RuntimeError(
            f"take_along_dim(): shapes of input {list(input.shape)} and indices {list(index_array.shape)} "
            f"cannot be broadcast outside dimension {dim}"
        ) from None
    common[dim] = input._data.shape[dim]
    if tuple(common) != input._data.shape:
        input = input.expand(common)
    common[dim] = index_array.shape[dim]
    return gather(input, dim, np.broadcast_to(index_array, common))


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements at ``index`` of the flattened input, in the index's shape."""
    index_array = _index_array(index, "take")
    _check_bounds(index_array, input._data.size, 0, "take")
    return TakeAt.apply(input, positions=index_array % max(input._data.size, 1))


# -------------------------------------------------- index_select, index_add


def _vector_index(index, op: str, size: int, dim: int, bounds_error=IndexError) -> np.ndarray:
    index_array = _index_array(index, op, check_dtype=False)
    if index_array.dtype.kind not in "iu":
        raise IndexError(f"{op}(): Expected dtype int32 or int64 for index, got {index_array.dtype}")
    if index_array.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {list(index_array.shape)}")
    index_array = index_array.reshape(-1)
    _check_bounds(index_array, size, dim, op, error=bounds_error)
    return index_array


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices at ``index`` (a vector) along ``dim``."""
    ndim = input._data.ndim
    dim = normalize_dim(dim, ndim, "index_select")
    if ndim == 0:
        index_array = _vector_index(index, "index_select", 1, 0)
        return AdvancedIndex.apply(input.reshape(1), index=(index_array,)).reshape(())
    index_array = _vector_index(index, "index_select", input._data.shape[dim], dim)
    return AdvancedIndex.apply(input, index=(slice(None),) * dim + (index_array,))


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source[..., i, ...]`` added at
    ``input[..., index[i], ...]`` along ``dim``; repeated indices add up."""
    shape = input._data.shape
    dim = normalize_dim(dim, len(shape), "index_add")
    source_shape = source._data.shape
    size = shape[dim] if shape else 1
    index_array = _vector_index(index, "index_add", size, dim, bounds_error=RuntimeError)
    expected = list(shape) if shape else [1]
    expected[dim] = len(index_array)
    if list(source_shape or (1,)) != expected:
        raise RuntimeError(
            f"index_add(): source of shape {list(source_shape)} does not fit: expected shape {expected} "
            f"(the input's shape {list(shape)} with dimension {dim} the index's length)"
        )
    if alpha != 1:
        source = ew.mul(source, alpha)
    source = source.to(input._data.dtype).reshape(tuple(expected))
    # source[..., i, ...] goes to input[..., index[i], ...]: the gather/scatter
    # index with index[i] repeated across the other dimensions.
    spread = np.broadcast_to(index_array.reshape((-1,) + (1,) * (len(expected) - dim - 1)), expected)
    positions = _flat_positions(shape or (1,), _along_dim(spread, dim))
    return ew.add(input, AccumulateAt.apply(source, positions=positions, shape=shape))


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    def added(target, source):
        return index_add(target, dim, index, source, alpha=alpha)

    return ew.apply_inplace(self, ew._Compute(added, source), "index_add_")


def repeat_interleave(input: Tensor, repeats, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """Each element (each slice along ``dim``) repeated ``repeats`` times in a row;
    ``repeats`` is a number or one count per slice. Without ``dim`` the input is flattened."""
    if dim is None:
        input, dim = input.reshape(-1), 0
    dim = normalize_dim(dim, input._data.ndim, "repeat_interleave")
    size = input._data.shape[dim] if input._data.ndim else 1
    counts = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu":
        raise RuntimeError(f"repeat_interleave: repeats must be integers, got dtype {counts.dtype}")
    if counts.ndim > 1 or (counts.ndim == 1 and counts.size not in (1, size)):
        raise RuntimeError(
            f"repeat_interleave: repeats must have the same size as input along dim ({size}), "
            f"got shape {list(counts.shape)}"
        )
    if (counts < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    positions = np.repeat(np.arange(size), counts.reshape(-1) if counts.size != 1 else int(counts.reshape(-1)[0]))
    if output_size is not None and len(positions) != output_size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the {len(positions)} elements")
    if input._data.ndim == 0:
        input = input.reshape(1)
    return index_select(input, dim, positions)


# -------------------------------------------------------------------- masks


def _bool_mask(mask, op: str) -> np.ndarray:
    array = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if array.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {array.dtype}")
    return array


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``input`` with ``value`` (a number or a 0-d tensor) wherever ``mask`` is True."""
    mask_array = _bool_mask(mask, "masked_fill")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                f"masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s)."
            )
        value = value.to(input._data.dtype)
    elif isinstance(value, numbers.Number):
        value = _wrap(np.asarray(value, dtype=input._data.dtype))
    else:
        raise TypeError(f"masked_fill: value must be a number or a 0-d Tensor, got {type(value).__name__}")
    try:
        np.broadcast_shapes(mask_array.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_fill: the mask of shape {list(mask_array.shape)} does not broadcast with the input's "
            f"shape {list(input.shape)}"
        ) from None
    return ew.where(mask_array, value, input)


def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    mask_array = _bool_mask(mask, "masked_fill_")
    try:
        fits = np.broadcast_shapes(mask_array.shape, self._data.shape) == self._data.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"masked_fill_: the mask of shape {list(mask_array.shape)} cannot be broadcast to the tensor's "
            f"shape {list(self.shape)}"
        )

    def filled(source, value):
        return masked_fill(source, mask_array, value)

    def fast(array):
        raw = value._data if isinstance(value, Tensor) else value
        np.copyto(array, raw, casting="unsafe", where=np.broadcast_to(mask_array, array.shape))

    return ew.apply_inplace(self, ew._Compute(filled, value), "masked_fill_", fast)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` (broadcast with it) is True, as a 1-d tensor."""
    mask_array = _bool_mask(mask, "masked_select")
    try:
        shape = np.broadcast_shapes(mask_array.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_select: the mask of shape {list(mask_array.shape)} does not broadcast with the input's "
            f"shape {list(input.shape)}"
        ) from None
    if input._data.shape != shape:
        input = input.expand(shape)
    mask_array = np.broadcast_to(mask_array, shape)
    if not shape:
        return AdvancedIndex.apply(input.reshape(1), index=(mask_array.reshape(1),))
    return AdvancedIndex.apply(input, index=(mask_array,))


# --------------------------------------------------- non-differentiable helpers


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``nn.functional.one_hot``: an int64 tensor of shape ``tensor.shape + (num_classes,)``
    with a 1 at each class index (``num_classes=-1`` takes the largest class + 1)."""
    classes = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if classes.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor, got dtype {classes.dtype}")
    if num_classes == -1:
        if classes.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
        num_classes = int(classes.max()) + 1
    if classes.size:
        if classes.min() < 0:
            raise RuntimeError(f"one_hot: Class values must be non-negative, got {int(classes.min())}.")
        if classes.max() >= num_classes:
            raise RuntimeError(
                f"one_hot: Class values must be smaller than num_classes ({num_classes}), got {int(classes.max())}."
            )
    return _wrap((classes[..., None] == np.arange(num_classes)).astype(dtypes.int64))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """The indices of the non-zero elements: an int64 tensor [n, ndim], or one vector per dimension."""
    if as_tuple:
        if input._data.ndim == 0:
            return (_wrap(np.flatnonzero(input._data.reshape(1)).astype(dtypes.int64)),)
        return tuple(_wrap(i.astype(dtypes.int64)) for i in np.nonzero(input._data))
    return _wrap(np.argwhere(input._data).astype(dtypes.int64))


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)


__all__ = [
    "argwhere", "gather", "index_add", "index_select", "masked_fill", "masked_select", "nonzero",
    "repeat_interleave", "scatter", "scatter_add", "take", "take_along_dim",
]  # fmt: skip
TENSOR_METHODS = {name: globals()[name] for name in __all__}
TENSOR_METHODS.update(index_add_=index_add_, masked_fill_=masked_fill_, scatter_=scatter_, scatter_add_=scatter_add_)
OPERATORS = {"__getitem__": getitem, "__setitem__": setitem}
