"""Dataset loaders: Fashion-MNIST and MNIST (IDX files), scikit-learn's 8x8
digits, MNIST-1D (generated locally) and the 2-D toy sets of ``toy``.

The ``load_*`` functions return ``(train, test)``: two ``TensorDataset``s of
float32 inputs and int64 labels, ready for a ``DataLoader`` (or, with
``return_arrays=True``, ``((x_train, y_train), (x_test, y_test))`` as NumPy
arrays). ``MNIST`` and ``FashionMNIST`` are torchvision-style classes that
keep the raw uint8 images and apply ``transform``/``target_transform``.

Where files are looked for and how downloads are verified: see ``files``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import random as _python_random
import types
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..tensor import _wrap
from ..utils.data.dataset import TensorDataset
from . import files
from .files import Fetch, RemoteFile
from .idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, read_idx
from .toy import make_blobs, make_circles, make_moons, make_spiral, make_xor
from .transforms import Standardize
from .wrappers import ArrayDataset

__all__ = [
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

logger = logging.getLogger(__name__)

_EXTRA_HINT = "pip install retrograd[datasets]"


@dataclass(frozen=True)
class _IDXSource:
    """Where an IDX dataset is found or fetched, and what its files are."""

    folder: str
    mirrors: tuple[str, ...]
    sha256: dict[str, str]
    train: tuple[str, str]  # (images, labels) file names
    test: tuple[str, str]
    num_classes: int = 10


_TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
_TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

# The official host serves plain HTTP; the SHA-256 check is what guarantees the content.
FASHION_MNIST_SOURCE = _IDXSource(
    folder="fashion-mnist",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    sha256={
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    train=_TRAIN_FILES,
    test=_TEST_FILES,
)

MNIST_SOURCE = _IDXSource(
    folder="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    sha256={
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    train=_TRAIN_FILES,
    test=_TEST_FILES,
)


def _idx_paths(source: _IDXSource, train: bool, root, download: bool, fetch: Fetch | None) -> list[Path]:
    """The (images, labels) files of one split: found on the search path, or downloaded."""
    names = source.train if train else source.test
    dirs = files.search_dirs(source.folder, root)
    for directory in dirs:
        paths = files.locate(names, directory)
        if paths is not None:
            return paths
    if not download:
        searched = "\n  ".join(str(d) for d in dirs)
        raise FileNotFoundError(
            f"{source.folder}: files {', '.join(names)} not found in any of:\n  {searched}\n"
            "Put them in one of these folders (or point $RETROGRAD_DATA at a folder holding "
            f"'{source.folder}/'), or pass download=True."
        )
    target = dirs[-1]
    paths = []
    for name in names:
        existing = files.locate([name], target)
        if existing is not None:
            paths.append(existing[0])
        else:
            logger.info("downloading %s into %s", name, target)
            paths.append(files.download(RemoteFile(name, source.sha256[name]), source.mirrors, target, fetch))
    return paths


def _read_idx_split(source: _IDXSource, train: bool, root, download: bool, fetch: Fetch | None):
    """``(images uint8 (N, H, W), labels int64 (N,))`` of one split, validated."""
    images_path, labels_path = _idx_paths(source, train, root, download, fetch)
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if len(images) != len(labels):
        raise IDXError(f"{labels_path} holds {len(labels)} labels but {images_path} holds {len(images)} images")
    if labels.size and labels.max() >= source.num_classes:
        raise IDXError(f"{labels_path}: labels must be in [0, {source.num_classes - 1}], found {labels.max()}")
    return images, labels.astype(np.int64)


class MNIST(ArrayDataset):
    """The MNIST handwritten digits, torchvision-style.

    ``data`` holds the uint8 images ``(N, 28, 28)`` and ``targets`` the int64
    labels; a sample is ``(image, label)`` with the raw ``(28, 28)`` uint8
    array and a Python int, after ``transform``/``target_transform`` (e.g.
    ``transforms.ToTensor()`` for a ``(1, 28, 28)`` float tensor in [0, 1]).
    ``root=None`` searches the standard folders (see ``retrograd.data.files``);
    ``download`` fetches missing files (checksum-verified), ``fetch`` replaces
    the HTTP client.
    """

    source = MNIST_SOURCE
    classes: ClassVar[list[str]] = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = True,
        *,
        fetch: Fetch | None = None,
    ):
        images, labels = _read_idx_split(self.source, train, root, download, fetch)
        super().__init__(images, labels, transform, target_transform)
        self.root = root
        self.train = train

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}(split={split}, samples={len(self)})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grey images of 10 kinds of clothing, with
    MNIST's layout and file format (see ``MNIST`` for the arguments)."""

    source = FASHION_MNIST_SOURCE
    classes: ClassVar[list[str]] = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]


def _to_float_images(images: np.ndarray, scale: float, flatten: bool) -> np.ndarray:
    """``(N, H, W)`` images to float32 ``values / scale``, as ``(N, 1, H, W)`` or ``(N, H*W)``."""
    x = np.divide(images, np.float32(scale), dtype=np.float32)
    return x.reshape(len(x), -1) if flatten else x[:, None]


def _package(x_train, y_train, x_test, y_test, normalize: bool, return_arrays: bool):
    """Standardise with the training split's statistics if asked, and wrap as datasets."""
    if normalize:
        stats = Standardize("global").fit(x_train)
        mean, std = np.float32(stats.mean), np.float32(stats.std)
        for x in (x_train, x_test):  # in place: these arrays were made here
            np.subtract(x, mean, out=x)
            np.divide(x, std, out=x)
    if return_arrays:
        return (x_train, y_train), (x_test, y_test)
    return TensorDataset(_wrap(x_train), _wrap(y_train)), TensorDataset(_wrap(x_test), _wrap(y_test))


def _load_idx_dataset(source, root, flatten, normalize, download, return_arrays, fetch):
    train_images, train_labels = _read_idx_split(source, True, root, download, fetch)
    test_images, test_labels = _read_idx_split(source, False, root, download, fetch)
    return _package(
        _to_float_images(train_images, 255, flatten),
        train_labels,
        _to_float_images(test_images, 255, flatten),
        test_labels,
        normalize,
        return_arrays,
    )


def load_fashion_mnist(
    root: str | os.PathLike | None = None,
    *,
    flatten: bool = False,
    normalize: bool = False,
    download: bool = True,
    return_arrays: bool = False,
    fetch: Fetch | None = None,
):
    """Fashion-MNIST as ``(train, test)`` datasets: 60000 and 10000 images,
    float32 ``(N, 1, 28, 28)`` in [0, 1] (``(N, 784)`` with ``flatten``), int64 labels.

    ``normalize`` standardises both splits with the mean and std of the
    training images (the test split never contributes to the statistics).
    """
    return _load_idx_dataset(FASHION_MNIST_SOURCE, root, flatten, normalize, download, return_arrays, fetch)


def load_mnist(
    root: str | os.PathLike | None = None,
    *,
    flatten: bool = False,
    normalize: bool = False,
    download: bool = True,
    return_arrays: bool = False,
    fetch: Fetch | None = None,
):
    """MNIST as ``(train, test)`` datasets, laid out as ``load_fashion_mnist``."""
    return _load_idx_dataset(MNIST_SOURCE, root, flatten, normalize, download, return_arrays, fetch)


def _optional_import(module: str, package: str, caller: str):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{caller} needs the '{package}' package: {_EXTRA_HINT}") from error


def _stratified_split(labels: np.ndarray, test_size: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with each class split in the ratio ``test_size``, both shuffled."""
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = round(test_size * len(members))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def load_digits(
    *,
    test_size: float = 0.2,
    seed: int = 0,
    flatten: bool = True,
    normalize: bool = False,
    return_arrays: bool = False,
):
    """scikit-learn's 1797 handwritten digits (8x8, 16 grey levels) as
    ``(train, test)`` datasets: float32 ``(N, 64)`` in [0, 1] (``(N, 1, 8, 8)``
    without ``flatten``) and int64 labels, split with each digit in the ratio
    ``test_size``, reproducibly for a given ``seed``."""
    if not 0 < test_size < 1:
        raise ValueError(f"load_digits: test_size must be in (0, 1), got {test_size}")
    sklearn_datasets = _optional_import("sklearn.datasets", "scikit-learn", "load_digits")
    images, labels = sklearn_datasets.load_digits(return_X_y=True)
    x = _to_float_images(images.reshape(-1, 8, 8), 16, flatten)
    y = labels.astype(np.int64)
    train, test = _stratified_split(y, test_size, np.random.default_rng(seed))
    return _package(x[train], y[train], x[test], y[test], normalize, return_arrays)


# mnist1d.data.get_dataset_args() of the package (without its download URL),
# kept here so that a cached dataset loads without importing the package; a
# test checks that they agree.
_MNIST1D_DEFAULTS = {
    "num_samples": 5000,
    "train_split": 0.8,
    "template_len": 12,
    "padding": [36, 60],
    "scale_coeff": 0.4,
    "max_translation": 48,
    "corr_noise_scale": 0.25,
    "iid_noise_scale": 0.02,
    "shear_scale": 0.75,
    "shuffle_seq": False,
    "final_seq_length": 40,
    "seed": 42,
}


def load_mnist1d(
    root: str | os.PathLike | None = None,
    *,
    num_samples: int = 5000,
    train_split: float = 0.8,
    seed: int = 42,
    return_arrays: bool = False,
    **options,
):
    """MNIST-1D (Greydanus, 2020): 1-D signals of length 40 drawn from ten digit
    templates, generated with the ``mnist1d`` package, as ``(train, test)``
    datasets of float32 ``(N, 40)`` signals and int64 labels.

    The defaults are the package's standard 4000/1000 split. Other generator
    settings (``template_len``, ``padding``, ``scale_coeff``,
    ``max_translation``, ``corr_noise_scale``, ``iid_noise_scale``,
    ``shear_scale``, ``shuffle_seq``, ``final_seq_length``) go in
    ``options``. Generated arrays are cached as ``.npz`` in ``root`` (default
    ``<user cache>/mnist1d``), keyed by the settings.
    """
    settings = dict(_MNIST1D_DEFAULTS)
    unknown = sorted(set(options) - set(settings))
    if unknown:
        raise TypeError(f"load_mnist1d: unknown options {unknown}; known: {sorted(settings)}")
    settings.update(options, num_samples=num_samples, train_split=train_split, seed=seed)
    if num_samples < 10:
        raise ValueError(f"load_mnist1d: num_samples must be at least 10 (one per class), got {num_samples}")

    # The key holds every generator setting and the package's version (read
    # from its metadata: importing the package takes seconds, and a cache hit
    # must not need it).
    key = json.dumps({"settings": settings, "version": _package_version("mnist1d")}, sort_keys=True)
    directory = Path(root).expanduser() if root is not None else files.cache_dir() / "mnist1d"
    path = directory / f"mnist1d-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    arrays = _read_npz(path, ("x", "y", "x_test", "y_test"))
    if arrays is None:
        data_module = _optional_import("mnist1d.data", "mnist1d", "load_mnist1d")
        arrays = _generate_mnist1d(data_module, settings)
        with files.atomic_write(path) as file:
            np.savez(file, **arrays)
    x, y, x_test, y_test = (arrays[name] for name in ("x", "y", "x_test", "y_test"))
    return _package(x, y, x_test, y_test, normalize=False, return_arrays=return_arrays)


def _package_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _generate_mnist1d(data_module, settings: dict) -> dict[str, np.ndarray]:
    """Run the generator, leaving NumPy's and Python's global random state as
    they were (the package reseeds both)."""
    numpy_state, python_state = np.random.get_state(), _python_random.getstate()
    try:
        generated = data_module.make_dataset(types.SimpleNamespace(**settings))
    finally:
        np.random.set_state(numpy_state)
        _python_random.setstate(python_state)
    return {
        "x": np.ascontiguousarray(generated["x"], dtype=np.float32),
        "y": np.asarray(generated["y"], dtype=np.int64),
        "x_test": np.ascontiguousarray(generated["x_test"], dtype=np.float32),
        "y_test": np.asarray(generated["y_test"], dtype=np.int64),
    }


def _read_npz(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The named arrays of a cached ``.npz`` (never unpickling), or None when
    it is missing or unreadable (then it is regenerated and replaced)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in names}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        logger.warning("ignoring unreadable cache file %s (%s); regenerating it", path, error)
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return arrays
