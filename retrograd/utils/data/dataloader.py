"""``DataLoader``: batches from a dataset, in the order a sampler gives, put
together by a collate function, with PyTorch's arguments and rules.

Loading runs in the calling process. For datasets that answer
``__getitems__`` with ``StackedSamples`` (``TensorDataset``, ``Subset`` and
``ConcatDataset`` of them, the array-backed datasets of ``retrograd.data``),
one batch costs one vectorised gather per field, so worker processes are
rarely worth their start-up cost; ``num_workers > 0`` is accepted for
compatibility and falls back to loading in the main process, with a warning.
"""

from __future__ import annotations

import collections.abc
import copy
import itertools
import math
import re
import warnings
from collections.abc import Callable, Iterator

import numpy as np

from ... import random as _random
from ...creation import as_tensor, tensor
from ...dtypes import float64
from ...ops.shape import stack
from ...tensor import Tensor
from .dataset import Dataset, IterableDataset, StackedSamples
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]

# NumPy dtypes that hold strings or Python objects, which make no tensor (PyTorch's test).
_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def default_convert(data):
    """NumPy arrays and scalars (also inside mappings and sequences) to tensors;
    everything else unchanged. The collate function when auto-batching is off."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _STRING_OR_OBJECT.search(data.dtype.str) else as_tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data


def default_collate(batch):
    """Put a list of samples together into a batch, by the type of the samples:

    * Tensors are stacked along a new first dimension; NumPy arrays likewise,
      becoming tensors; NumPy scalars become a tensor of their dtype;
    * Python floats a float64 tensor, ints an int64 tensor (bools a bool one);
    * strings and bytes stay a list;
    * mappings, namedtuples and sequences are collated field by field (tuples
      give lists, as in PyTorch).

    A ``StackedSamples`` batch is already column-wise: its columns are returned
    as a list of tensors without touching individual samples.
    """
    if isinstance(batch, StackedSamples):
        return [column if isinstance(column, Tensor) else _array_to_tensor(column) for column in batch.columns]
    if len(batch) == 0:
        raise IndexError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if _STRING_OR_OBJECT.search(elem.dtype.str):
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return as_tensor(np.stack(batch))
    if isinstance(elem, (np.bool_, np.number)):
        return as_tensor(np.asarray(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):  # bools too: tensor() keeps them bool
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _same_mapping(elem, {key: default_collate([sample[key] for sample in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        return fields if isinstance(elem, tuple) else _same_sequence(elem, fields)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def _array_to_tensor(array: np.ndarray):
    if _STRING_OR_OBJECT.search(array.dtype.str):
        raise TypeError(_COLLATE_ERROR.format(array.dtype))
    return as_tensor(array)


def _same_mapping(original: collections.abc.Mapping, values: dict):
    """``values`` in a mapping of ``original``'s type where that type allows it."""
    try:
        if isinstance(original, collections.abc.MutableMapping):
            clone = copy.copy(original)
            clone.update(values)
            return clone
        return type(original)(values)
    except TypeError:
        return values


def _same_sequence(original: collections.abc.Sequence, values: list):
    """``values`` in a sequence of ``original``'s type where that type allows it."""
    try:
        if isinstance(original, collections.abc.MutableSequence):
            clone = copy.copy(original)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(original)(values)
    except TypeError:
        return values


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Arguments and their rules are PyTorch's: ``shuffle`` draws a new order each
    epoch (from ``generator``, or from the default generator so
    ``retrograd.manual_seed`` fixes it); ``sampler`` and ``batch_sampler``
    replace the default order and grouping; ``batch_size=None`` turns
    batching off; ``collate_fn`` builds a batch from the fetched samples.
    ``pin_memory``, ``timeout``, ``prefetch_factor`` and the worker options are
    accepted and have no effect (there is no GPU and no worker process).
    """

    _frozen_attributes = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | None = None,
        batch_sampler: Sampler | None = None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context=None,
        generator: _random.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ):
        if num_workers < 0:
            raise ValueError(
                "DataLoader: num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."
            )
        if timeout < 0:
            raise ValueError("DataLoader: timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "DataLoader: prefetch_factor option could only be specified in multiprocessing. "
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if num_workers > 0:
            warnings.warn(
                f"DataLoader: num_workers={num_workers} is not supported; loading runs in the main process "
                "(batches of array-backed datasets are gathered with one vectorised index per field).",
                stacklevel=2,
            )

        if isinstance(dataset, IterableDataset):  # a stream has no indices to order or group
            for name, value, specified in (
                ("shuffle", shuffle, shuffle not in (None, False)),
                ("sampler", sampler, sampler is not None),
                ("batch_sampler", batch_sampler, batch_sampler is not None),
            ):
                if specified:
                    raise ValueError(
                        f"DataLoader with IterableDataset: expected unspecified {name} option, but got {name}={value}"
                    )
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )

        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = num_workers
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else default_convert)
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in self._frozen_attributes:
            raise ValueError(f"DataLoader: {name} attribute should not be set after DataLoader is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_size is not None or self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def __iter__(self) -> Iterator:
        if isinstance(self.dataset, IterableDataset):
            return self._iterate_stream()
        if self._auto_collation:
            return self._iterate_batches()
        return (self.collate_fn(self.dataset[index]) for index in self.sampler)

    def _iterate_batches(self) -> Iterator:
        dataset, collate_fn = self.dataset, self.collate_fn
        fetch_batch = getattr(dataset, "__getitems__", None)
        if callable(fetch_batch):
            for indices in self.batch_sampler:
                yield collate_fn(fetch_batch(indices))
        else:
            for indices in self.batch_sampler:
                yield collate_fn([dataset[i] for i in indices])

    def _iterate_stream(self) -> Iterator:
        samples = iter(self.dataset)
        if not self._auto_collation:
            yield from (self.collate_fn(sample) for sample in samples)
            return
        while True:
            batch = list(itertools.islice(samples, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)
