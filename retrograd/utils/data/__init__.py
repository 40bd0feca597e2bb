"""The data pipeline with PyTorch's names: datasets, samplers, ``DataLoader``
and the collate functions (also importable as ``retrograd.data``)."""

from . import dataloader, dataset, sampler
from .dataloader import *  # noqa: F403
from .dataset import *  # noqa: F403
from .sampler import *  # noqa: F403

__all__ = [*dataset.__all__, *sampler.__all__, *dataloader.__all__]
