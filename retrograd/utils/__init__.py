"""Utilities laid out as in PyTorch: ``retrograd.utils.data`` is the data pipeline
(datasets, samplers, ``DataLoader``)."""

from . import data

__all__ = ["data"]
