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
from .datasets import *  # noqa: F403
from .datasets import __all__ as _datasets_all
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
    *_datasets_all,
]
