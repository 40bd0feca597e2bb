"""Datasets with PyTorch's semantics: map-style ``Dataset`` (``len`` and
``dataset[i]``), ``IterableDataset`` (a stream), and the wrappers that index,
restrict, join and split them.

Batches are fetched through the ``__getitems__(indices)`` protocol of PyTorch
2.x. The array-backed datasets here answer it with a ``StackedSamples``: it
behaves as the list of samples PyTorch's protocol returns, but holds each field
of the batch as one stacked tensor or array, gathered with a single vectorised
index per field, so ``default_collate`` needs no per-sample loop.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ... import random as _random
from ...autograd.grad_mode import GradMode
from ...creation import randperm
from ...ops.shape import cat
from ...tensor import Tensor, _wrap

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "ConcatDataset",
    "ChainDataset",
    "Subset",
    "random_split",
    "StackedSamples",
]


class Dataset:
    """A map from keys (usually ``0 .. len - 1``) to samples.

    Subclasses implement ``__getitem__`` and usually ``__len__``; they may also
    implement ``__getitems__(indices)`` to fetch a whole batch at once.
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses implement ``__iter__``."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: IterableDataset) -> ChainDataset:
        return ChainDataset([self, other])


class StackedSamples(Sequence):
    """A batch of samples kept as stacked columns (one tensor or array per field).

    As a sequence it is the list of sample tuples that PyTorch's ``__getitems__``
    returns (``len``, indexing and iteration give per-sample tuples), so any
    ``collate_fn`` accepts it; ``default_collate`` takes the columns directly.
    """

    __slots__ = ("columns",)

    def __init__(self, columns: Sequence):
        self.columns = tuple(columns)

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def __getitem__(self, index):
        if isinstance(index, slice):
            return StackedSamples(column[index] for column in self.columns)
        return tuple(column[index] for column in self.columns)

    def __repr__(self) -> str:
        fields = ", ".join(f"{type(c).__name__}{list(c.shape)}" for c in self.columns)
        return f"StackedSamples({fields})"


def take_rows(column, indices: np.ndarray):
    """``column[indices]`` along the first dimension with one vectorised gather.

    A Tensor that needs no gradient is indexed through its array (no graph
    bookkeeping); one that requires grad goes through the differentiable index,
    as ``tensor[indices]`` would.
    """
    if isinstance(column, Tensor):
        if column._requires_grad and GradMode.enabled:
            return column[indices]
        return _wrap(column._data[indices])
    return column[indices]


def overrides_getitem(dataset: Dataset, base: type) -> bool:
    """True when ``dataset``'s class redefines ``__getitem__`` of ``base`` but not
    its ``__getitems__``: then batches must be read through that ``__getitem__``,
    or the subclass's changes would be skipped silently."""
    cls = type(dataset)
    return cls.__getitem__ is not base.__getitem__ and cls.__getitems__ is base.__getitems__


def index_array(indices, caller: str) -> np.ndarray:
    """A list (or array) of sample indices as an int64 array, or a clear error."""
    array = np.asarray(indices)
    if array.size == 0:
        return array.astype(np.int64).reshape(0)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise TypeError(
            f"{caller}: expected a 1-D sequence of integer indices, got {array.dtype} of shape {array.shape}"
        )
    return array.astype(np.int64, copy=False)


class TensorDataset(Dataset):
    """Samples are the rows of equally long tensors: ``dataset[i] == tuple(t[i] for t in tensors)``."""

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for position, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: expected Tensors, got {type(t).__name__} at position {position}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor at position {position} is zero-dimensional (no rows)")
        sizes = [t.shape[0] for t in tensors]
        if any(size != sizes[0] for size in sizes):
            raise ValueError(f"TensorDataset: size mismatch between tensors, first dimensions are {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices):
        if overrides_getitem(self, TensorDataset):
            return [self[i] for i in indices]
        rows = index_array(indices, "TensorDataset.__getitems__")
        return StackedSamples(take_rows(t, rows) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        if overrides_getitem(self, Subset):
            return [self[i] for i in indices]
        mapped = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(mapped)
        return [self.dataset[i] for i in mapped]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after another: index ``i`` runs through the first, then the second, ..."""

    @staticmethod
    def cumsum(sequence: Iterable) -> list[int]:
        return list(itertools.accumulate(len(dataset) for dataset in sequence))

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (use ChainDataset)")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError(
                    f"ConcatDataset: absolute value of index should not exceed dataset length ({idx} for length {len(self)})"
                )
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]

    def __getitems__(self, indices):
        """Fetch each part's share of the batch in one call to that part, then
        restore the requested order (one gather per column when every part
        answers with ``StackedSamples``)."""
        if overrides_getitem(self, ConcatDataset):
            return [self[i] for i in indices]
        positions = index_array(indices, "ConcatDataset.__getitems__")
        total = len(self)
        if positions.size and (positions.min() < -total or positions.max() >= total):
            raise IndexError(f"ConcatDataset: index out of range for a dataset of length {total}")
        positions = np.where(positions < 0, positions + total, positions)
        ends = np.asarray(self.cumulative_sizes)
        part_of = np.searchsorted(ends, positions, side="right")
        starts = np.concatenate(([0], ends[:-1]))
        parts, order = [], []
        for part in np.unique(part_of):
            chosen = np.flatnonzero(part_of == part)
            local = (positions[chosen] - starts[part]).tolist()
            dataset = self.datasets[part]
            if callable(getattr(dataset, "__getitems__", None)):
                parts.append(dataset.__getitems__(local))
            else:
                parts.append([dataset[i] for i in local])
            order.append(chosen)
        if not parts:
            return []
        order = np.concatenate(order)
        if len(parts) == 1:
            return parts[0]
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        stacked = _concatenate_stacked(parts)
        if stacked is not None:
            return StackedSamples(take_rows(column, inverse) for column in stacked.columns)
        samples = [sample for part in parts for sample in part]
        return [samples[i] for i in inverse]


def _concatenate_stacked(parts: list) -> StackedSamples | None:
    """Join ``StackedSamples`` that have the same kinds of columns, else None."""
    if not all(isinstance(part, StackedSamples) for part in parts):
        return None
    width = len(parts[0].columns)
    if any(len(part.columns) != width for part in parts):
        return None
    columns = []
    for field in zip(*(part.columns for part in parts)):
        if all(isinstance(column, Tensor) for column in field):
            columns.append(cat(list(field), 0))
        elif all(isinstance(column, np.ndarray) for column in field):
            columns.append(np.concatenate(field, axis=0))
        else:
            return None
    return StackedSamples(columns)


class ChainDataset(IterableDataset):
    """Iterable datasets one after another, chained lazily."""

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from dataset

    def __len__(self) -> int:
        total = 0
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            total += len(dataset)
        return total


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: _random.Generator | None = _random.default_generator
) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping ``Subset``s.

    ``lengths`` are sizes, or fractions summing to 1: each split gets
    ``floor(fraction * len(dataset))`` and the remainder is dealt out one by
    one, round-robin, from the first split on (PyTorch's rule).
    """
    lengths = list(lengths)
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1 (got {fraction})")
            sizes.append(math.floor(total * fraction))
        for i in range(total - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"random_split: length of split at index {i} is 0. This might result in an empty dataset.",
                    stacklevel=2,
                )
        lengths = sizes
    if any(not float(length).is_integer() or length < 0 for length in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative integers or fractions summing to 1, got {lengths}"
        )
    lengths = [int(length) for length in lengths]
    if sum(lengths) != total:
        raise ValueError(
            f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of the input dataset ({total})"
        )
    indices = randperm(total, generator=generator).tolist()
    return [
        Subset(dataset, indices[end - length : end])
        for end, length in zip(itertools.accumulate(lengths), lengths, strict=True)
    ]
