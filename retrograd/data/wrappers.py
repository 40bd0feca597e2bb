"""Datasets that apply transforms, sample by sample or a whole batch at once.

Samples are ``(input, target)`` pairs, as in torchvision: ``transform``
applies to the input and ``target_transform`` to the target. When the wrapped
storage fetches a batch as ``StackedSamples`` and both transforms support
batches (see ``transforms.supports_batches``), each transform runs once on the
stacked column; otherwise it runs on every sample.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..tensor import Tensor
from ..utils.data.dataset import Dataset, StackedSamples, index_array, overrides_getitem, take_rows
from .transforms import supports_batches

__all__ = ["ArrayDataset", "TransformDataset"]


def transform_sample(sample, transform: Callable | None, target_transform: Callable | None):
    """Apply ``transform`` to field 0 and ``target_transform`` to field 1 of a
    sample tuple; a sample that is not a tuple is one input."""
    if not isinstance(sample, (tuple, list)):
        if target_transform is not None:
            raise TypeError(
                f"target_transform needs (input, target) samples, got a sample of type {type(sample).__name__}"
            )
        return transform(sample) if transform is not None else sample
    fields = list(sample)
    if transform is not None:
        fields[0] = transform(fields[0])
    if target_transform is not None:
        if len(fields) < 2:
            raise TypeError(f"target_transform needs (input, target) samples, got a sample with {len(fields)} field")
        fields[1] = target_transform(fields[1])
    return tuple(fields)


def transform_batch(fetched, transform: Callable | None, target_transform: Callable | None):
    """The transformed form of a fetched batch: column-wise when possible, else per sample."""
    if transform is None and target_transform is None:
        return fetched
    batched = supports_batches(transform) and supports_batches(target_transform)
    if isinstance(fetched, StackedSamples) and batched:
        columns = list(fetched.columns)
        if transform is not None:
            columns[0] = transform.batch(columns[0])
        if target_transform is not None:
            if len(columns) < 2:
                raise TypeError("target_transform needs (input, target) samples, got samples with 1 field")
            columns[1] = target_transform.batch(columns[1])
        return StackedSamples(columns)
    return [transform_sample(sample, transform, target_transform) for sample in fetched]


class TransformDataset(Dataset):
    """``dataset`` with ``transform`` applied to each sample's input and
    ``target_transform`` to its target (whole batches at once when possible)."""

    def __init__(self, dataset: Dataset, transform: Callable | None = None, target_transform: Callable | None = None):
        self.dataset = dataset
        self.transform = transform
        self.target_transform = target_transform

    def __getitem__(self, index):
        return transform_sample(self.dataset[index], self.transform, self.target_transform)

    def __getitems__(self, indices):
        if overrides_getitem(self, TransformDataset):
            return [self[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            fetched = self.dataset.__getitems__(indices)
        else:
            fetched = [self.dataset[i] for i in indices]
        return transform_batch(fetched, self.transform, self.target_transform)

    def __len__(self) -> int:
        return len(self.dataset)


class ArrayDataset(Dataset):
    """Samples ``(data[i], targets[i])`` from two NumPy arrays (or tensors)
    of equal length, with torchvision's ``transform`` and ``target_transform``.

    Without transforms a sample is the raw row of ``data`` and the target as a
    Python number; a batch is gathered with one fancy index per array.
    """

    def __init__(self, data, targets, transform: Callable | None = None, target_transform: Callable | None = None):
        self.data = data._data if isinstance(data, Tensor) else np.asarray(data)
        self.targets = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
        if self.data.ndim == 0 or self.targets.ndim == 0 or len(self.data) != len(self.targets):
            raise ValueError(
                f"{type(self).__name__}: data and targets need the same length, got shapes "
                f"{self.data.shape} and {self.targets.shape}"
            )
        self.transform = transform
        self.target_transform = target_transform

    def __getitem__(self, index):
        target = self.targets[index]
        sample = (self.data[index], target.item() if target.ndim == 0 else target)
        return transform_sample(sample, self.transform, self.target_transform)

    def __getitems__(self, indices):
        if overrides_getitem(self, ArrayDataset):
            return [self[i] for i in indices]
        rows = index_array(indices, f"{type(self).__name__}.__getitems__")
        fetched = StackedSamples((take_rows(self.data, rows), take_rows(self.targets, rows)))
        return transform_batch(fetched, self.transform, self.target_transform)

    def __len__(self) -> int:
        return len(self.data)
