"""Samplers: the order in which a ``DataLoader`` visits a dataset's indices.

The built-in samplers draw a whole epoch of indices as one NumPy array
(``_epoch_indices``) and iterate over it, so ``BatchSampler`` can cut batches
out of that array instead of collecting indices one by one. Randomness comes
from a ``retrograd.Generator``; without one, each epoch seeds a fresh stream
from the default generator, so ``retrograd.manual_seed`` makes runs repeat.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized

import numpy as np

from ... import random as _random
from ...creation import multinomial
from ...tensor import Tensor, _wrap

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


class Sampler:
    """Base class: subclasses implement ``__iter__`` (indices, or lists of
    indices for batch samplers) and, usually, ``__len__``."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class _ArraySampler(Sampler):
    """A sampler whose epoch is one array of indices, drawn all at once."""

    def _epoch_indices(self) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self) -> Iterator[int]:
        yield from self._epoch_indices().tolist()


def _has_array_epochs(sampler) -> bool:
    """True for the built-in samplers (not subclasses that change how they iterate)."""
    return isinstance(sampler, _ArraySampler) and type(sampler).__iter__ is _ArraySampler.__iter__


def _epoch_rng(generator: _random.Generator | None) -> np.random.Generator:
    """The stream one epoch draws from: ``generator``'s own, or a fresh one
    seeded from the default generator (as PyTorch seeds a new generator from it)."""
    if generator is not None:
        return generator.numpy
    return np.random.default_rng(int(_random.default_generator.numpy.integers(2**63)))


class SequentialSampler(_ArraySampler):
    """``0, 1, ..., len(data_source) - 1``, always in that order."""

    def __init__(self, data_source: Sized):
        self.data_source = data_source

    def _epoch_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_ArraySampler):
    """A random order of the dataset's indices.

    Without replacement each index appears once per pass; ``num_samples``
    larger than the dataset chains further permutations. With replacement,
    ``num_samples`` independent uniform draws.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: _random.Generator | None = None,
    ):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got replacement={replacement}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples <= 0:
            raise ValueError(
                f"RandomSampler: num_samples should be a positive integer value, but got num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _epoch_indices(self) -> np.ndarray:
        n = len(self.data_source)
        rng = _epoch_rng(self.generator)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        passes = [rng.permutation(n) for _ in range(self.num_samples // n + 1)]
        return np.concatenate(passes)[: self.num_samples].astype(np.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_ArraySampler):
    """The given ``indices`` in a random order (without replacement)."""

    def __init__(self, indices: Sequence[int], generator: _random.Generator | None = None):
        self.indices = indices
        self.generator = generator

    def _epoch_indices(self) -> np.ndarray:
        indices = np.asarray(self.indices._data if isinstance(self.indices, Tensor) else self.indices)
        order = (self.generator or _random.default_generator).numpy.permutation(len(indices))
        return indices.reshape(-1)[order]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_ArraySampler):
    """``num_samples`` indices drawn from ``0 .. len(weights) - 1`` with
    probabilities proportional to ``weights`` (with or without replacement)."""

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: _random.Generator | None = None,
    ):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(
                f"WeightedRandomSampler: num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"WeightedRandomSampler: replacement should be a boolean value, but got replacement={replacement}"
            )
        array = np.asarray(weights._data if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(
                f"WeightedRandomSampler: weights should be a 1d sequence but given weights have shape {array.shape}"
            )
        self.weights = _wrap(array)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _epoch_indices(self) -> np.ndarray:
        drawn = multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        return drawn._data

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last
    one shorter unless ``drop_last``)."""

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"BatchSampler: batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        if _has_array_epochs(self.sampler):
            # Cut the epoch's index array into batches: no per-index Python work.
            indices = self.sampler._epoch_indices()
            stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
            for start in range(0, stop, self.batch_size):
                yield indices[start : start + self.batch_size].tolist()
            return
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            for batch in zip(*[sampler_iter] * self.batch_size, strict=False):
                yield [*batch]
        else:
            batch = [*itertools.islice(sampler_iter, self.batch_size)]
            while batch:
                yield batch
                batch = [*itertools.islice(sampler_iter, self.batch_size)]

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
