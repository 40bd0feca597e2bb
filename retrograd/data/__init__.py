"""Data for training: everything in ``retrograd.utils.data`` (datasets,
samplers, ``DataLoader``), plus transforms, array-backed datasets and
loaders for common datasets.

    from retrograd.data import DataLoader, load_fashion_mnist
    train, test = load_fashion_mnist()
    loader = DataLoader(train, batch_size=128, shuffle=True)
"""

from ..utils.data import *  # noqa: F403
from ..utils.data import __all__ as _utils_data_all
from . import files, idx, transforms
from .datasets import (
    MNIST,
    FashionMNIST,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_mnist1d,
    make_blobs,
    make_circles,
    make_moons,
    make_spiral,
    make_xor,
)
from .idx import IDXError, read_idx
from .wrappers import ArrayDataset, TransformDataset

__all__ = [
    *_utils_data_all,
    "files",
    "idx",
    "transforms",
    "ArrayDataset",
    "TransformDataset",
    "IDXError",
    "read_idx",
    "MNIST",
    "FashionMNIST",
    "load_mnist",
    "load_fashion_mnist",
    "load_digits",
    "load_mnist1d",
    "make_moons",
    "make_circles",
    "make_xor",
    "make_spiral",
    "make_blobs",
]
