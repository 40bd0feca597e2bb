"""Preprocessing: torchvision-style transforms that also work on whole batches.

Every transform here is a callable on one sample, as in torchvision, and has
a ``batch(x)`` method doing the same to a batch (first dimension = samples)
in whole-array NumPy. Datasets that fetch batches at once (``ArrayDataset``,
``TransformDataset``, the image datasets) use ``batch`` whenever every
transform they hold sets ``supports_batches``; a plain function is applied
sample by sample.

Images are channel-first (``(C, H, W)``, batches ``(N, C, H, W)``) except the
raw input of ``ToTensor``, which takes ``(H, W)`` or ``(H, W, C)`` uint8
images as they are stored on disk. Random transforms draw from a
``retrograd.Generator`` (the default one unless given), so
``retrograd.manual_seed`` makes them repeat.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np

from .. import dtypes
from .. import random as _random
from ..tensor import Tensor, _wrap

__all__ = [
    "supports_batches",
    "Compose",
    "ToTensor",
    "Normalize",
    "Standardize",
    "OneHot",
    "RandomCrop",
    "RandomHorizontalFlip",
]


def supports_batches(transform: Callable | None) -> bool:
    """True when ``transform`` has a ``batch`` method equivalent to mapping it over samples."""
    return transform is None or bool(getattr(transform, "supports_batches", False))


def _unwrap(x) -> tuple[np.ndarray, bool]:
    """The array behind ``x`` and whether ``x`` was a Tensor (to give back the same kind)."""
    if isinstance(x, Tensor):
        return x._data, True
    return np.asarray(x), False


def _rewrap(array: np.ndarray, as_tensor: bool):
    return _wrap(array) if as_tensor else array


def _output_float_dtype(dtype: np.dtype) -> np.dtype:
    return dtype if dtype.kind == "f" else dtypes.get_default_dtype()


class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    @property
    def supports_batches(self) -> bool:
        return all(supports_batches(t) for t in self.transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def batch(self, x):
        if not self.supports_batches:
            plain = [type(t).__name__ for t in self.transforms if not supports_batches(t)]
            raise TypeError(
                f"Compose.batch: {', '.join(plain)} cannot transform a whole batch; map over samples instead"
            )
        for t in self.transforms:
            x = t.batch(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


class ToTensor:
    """A uint8 image ``(H, W)`` or ``(H, W, C)`` to a ``(C, H, W)`` tensor of the
    default float dtype scaled to ``[0, 1]`` (torchvision's ``ToTensor`` on arrays).

    Non-uint8 arrays are moved to channel-first order but keep their values and
    dtype, as in torchvision. ``batch`` takes ``(N, H, W)`` or ``(N, H, W, C)``.
    """

    supports_batches = True

    def __call__(self, pic) -> Tensor:
        array = self._check(pic, "ToTensor", (2, 3))
        channels_first = array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)
        return _wrap(self._to_float(channels_first))

    def batch(self, pics) -> Tensor:
        array = self._check(pics, "ToTensor.batch", (3, 4))
        channels_first = array[:, None] if array.ndim == 3 else np.moveaxis(array, -1, 1)
        return _wrap(self._to_float(channels_first))

    @staticmethod
    def _check(pic, caller: str, ndims: tuple[int, int]) -> np.ndarray:
        if not isinstance(pic, np.ndarray):
            raise TypeError(f"{caller}: pic should be a NumPy ndarray, got {type(pic).__name__}")
        if pic.ndim not in ndims:
            raise ValueError(f"{caller}: pic should be {ndims[0]} or {ndims[1]} dimensional, got {pic.ndim} dimensions")
        return pic

    @staticmethod
    def _to_float(array: np.ndarray) -> np.ndarray:
        if array.dtype == np.uint8:
            # A division in the output dtype rounds exactly as torchvision's ``.div(255)``.
            dtype = dtypes.get_default_dtype()
            return np.divide(array, dtype.type(255), dtype=dtype, order="C")
        return np.ascontiguousarray(array)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` for each channel ``c`` of a float image
    ``(..., C, H, W)``: one sample or a batch alike (torchvision's ``Normalize``)."""

    supports_batches = True

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor):
        array, was_tensor = _unwrap(tensor)
        if array.dtype.kind != "f":
            raise TypeError(f"Normalize: input should be a float tensor, got {array.dtype}")
        if array.ndim < 3:
            raise ValueError(
                f"Normalize: expected a tensor image of size (..., C, H, W), got shape {tuple(array.shape)}"
            )
        mean = np.asarray(self.mean, dtype=array.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=array.dtype).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(
                f"Normalize: std evaluated to zero after conversion to {array.dtype}, leading to division by zero"
            )
        channels = array.shape[-3]
        for name, values in (("mean", mean), ("std", std)):
            if values.shape[0] not in (1, channels):
                raise ValueError(
                    f"Normalize: {name} has {values.shape[0]} values for an image with {channels} channels"
                )
        if self.inplace:
            np.subtract(array, mean, out=array)
            np.divide(array, std, out=array)
            return tensor
        return _rewrap((array - mean) / std, was_tensor)

    batch = __call__

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Standardize:
    """Zero mean and unit variance using statistics of the training data.

    ``fit(train)`` measures the mean and (population) standard deviation of
    ``train`` (samples along the first dimension) and ``transform(x)`` applies
    ``(x - mean) / std`` to any data afterwards. Fit on the training split
    only and apply the same fitted object to validation and test data: using
    their own statistics would leak information about them into training.

    ``per`` chooses what shares a statistic:

    * ``"feature"``: every position of a sample (``mean`` has a sample's shape);
    * ``"channel"``: every channel (the second dimension of ``(N, C, ...)``);
    * ``"global"``: all values (one mean and one std).

    A feature that is constant in the training data (std 0) is only centred.
    """

    supports_batches = True
    _MODES = ("feature", "channel", "global")

    def __init__(self, per: str = "feature"):
        if per not in self._MODES:
            raise ValueError(f"Standardize: per must be one of {self._MODES}, got {per!r}")
        self.per = per
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, x) -> Standardize:
        array, _ = _unwrap(x)
        minimum_ndim = 2 if self.per == "channel" else 1
        if array.ndim < minimum_ndim or array.shape[0] == 0:
            raise ValueError(
                f"Standardize.fit: expected a non-empty batch of samples (first dimension) "
                f"{'with channels in the second dimension ' if self.per == 'channel' else ''}got shape {array.shape}"
            )
        if self.per == "feature":
            axes = (0,)
        elif self.per == "channel":
            axes = (0, *range(2, array.ndim))
        else:
            axes = tuple(range(array.ndim))
        # Accumulate in float64: a float32 sum over 47 million pixels loses digits.
        mean = array.mean(axis=axes, dtype=np.float64, keepdims=True)
        std = array.std(axis=axes, dtype=np.float64, keepdims=True)
        std[std == 0] = 1.0
        if self.per == "global":
            self.mean, self.std = mean.reshape(()), std.reshape(())
        else:
            # Drop the sample dimension: the statistics broadcast against one sample and against batches.
            self.mean, self.std = mean[0], std[0]
        return self

    def transform(self, x):
        if self.mean is None:
            raise RuntimeError("Standardize: call fit(train_data) before transforming data")
        array, was_tensor = _unwrap(x)
        trailing = self.mean.shape
        if self.per != "global" and (array.ndim < len(trailing) or not _broadcasts(array.shape, trailing)):
            raise ValueError(
                f"Standardize: fitted on samples of shape {_sample_shape(trailing)}, got input of shape {array.shape}"
            )
        dtype = _output_float_dtype(array.dtype)
        out = (array - self.mean.astype(dtype)) / self.std.astype(dtype)
        return _rewrap(out.astype(dtype, copy=False), was_tensor)

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    __call__ = transform
    batch = transform

    def __repr__(self) -> str:
        fitted = "fitted" if self.mean is not None else "not fitted"
        return f"Standardize(per={self.per!r}, {fitted})"


def _broadcasts(shape: tuple, statistic_shape: tuple) -> bool:
    """Whether a statistic of ``statistic_shape`` (ones where it was reduced) fits the trailing dims of ``shape``."""
    tail = shape[len(shape) - len(statistic_shape) :]
    return all(s == 1 or s == t for s, t in zip(statistic_shape, tail))


def _sample_shape(statistic_shape: tuple) -> str:
    return "(" + ", ".join("*" if s == 1 else str(s) for s in statistic_shape) + ")"


class OneHot:
    """Class indices (a number, an array or a tensor of them) to one-hot vectors
    of length ``num_classes`` in ``dtype`` (the default float dtype unless given)."""

    supports_batches = True

    def __init__(self, num_classes: int, dtype=None):
        if not isinstance(num_classes, numbers.Integral) or num_classes <= 0:
            raise ValueError(f"OneHot: num_classes must be a positive integer, got {num_classes!r}")
        self.num_classes = int(num_classes)
        self.dtype = dtypes.to_dtype(dtype)

    def __call__(self, target) -> Tensor:
        labels, _ = _unwrap(target)
        if labels.dtype.kind not in "iu":
            raise TypeError(f"OneHot: expected integer class indices, got {labels.dtype}")
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"OneHot: class indices must be in [0, {self.num_classes - 1}], got values in [{labels.min()}, {labels.max()}]"
            )
        dtype = self.dtype or dtypes.get_default_dtype()
        return _wrap(np.equal.outer(labels, np.arange(self.num_classes)).astype(dtype))

    batch = __call__

    def __repr__(self) -> str:
        return f"OneHot(num_classes={self.num_classes})"


def _pair(size, name: str, caller: str) -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) in (1, 2):
        return (int(size[0]), int(size[0])) if len(size) == 1 else (int(size[0]), int(size[1]))
    raise ValueError(f"{caller}: {name} must be an int or a sequence of 1 or 2 ints, got {size!r}")


class RandomCrop:
    """Crop a random ``size`` window out of images ``(..., H, W)``, after
    optional ``padding`` (torchvision's ``RandomCrop``).

    ``padding``: an int for all sides, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``; ``pad_if_needed`` pads images smaller than
    the crop; ``padding_mode`` is ``"constant"`` (with ``fill``), ``"edge"``,
    ``"reflect"`` or ``"symmetric"``. A 4-D input is a batch ``(N, C, H, W)``:
    each image gets its own window, cut out in one vectorised gather.
    """

    supports_batches = True
    _PADDING_MODES = ("constant", "edge", "reflect", "symmetric")

    def __init__(
        self,
        size,
        padding=None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
        generator: _random.Generator | None = None,
    ):
        self.size = _pair(size, "size", "RandomCrop")
        if padding_mode not in self._PADDING_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {self._PADDING_MODES}, got {padding_mode!r}")
        self.padding = self._padding_per_side(padding)
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = generator

    @staticmethod
    def _padding_per_side(padding) -> tuple[int, int, int, int]:
        """``padding`` as (left, top, right, bottom)."""
        if padding is None:
            return (0, 0, 0, 0)
        if isinstance(padding, numbers.Integral):
            return (int(padding),) * 4
        if isinstance(padding, Sequence) and len(padding) == 2:
            return (int(padding[0]), int(padding[1])) * 2
        if isinstance(padding, Sequence) and len(padding) == 4:
            return tuple(int(p) for p in padding)
        raise ValueError(f"RandomCrop: padding must be an int or a sequence of 2 or 4 ints, got {padding!r}")

    def __call__(self, img):
        array, was_tensor = _unwrap(img)
        if array.ndim == 4:
            return self.batch(img)
        if array.ndim not in (2, 3):
            raise ValueError(
                f"RandomCrop: expected an image (H, W) or (C, H, W) or a batch (N, C, H, W), got shape {array.shape}"
            )
        padded = self._pad(array)
        rng = (self.generator or _random.default_generator).numpy
        (top_range, left_range), (h, w) = self._ranges(padded), self.size
        top, left = int(rng.integers(0, top_range)), int(rng.integers(0, left_range))
        return _rewrap(np.ascontiguousarray(padded[..., top : top + h, left : left + w]), was_tensor)

    def batch(self, imgs):
        array, was_tensor = _unwrap(imgs)
        if array.ndim < 3:
            raise ValueError(f"RandomCrop.batch: expected a batch (N, ..., H, W), got shape {array.shape}")
        padded = self._pad(array)
        rng = (self.generator or _random.default_generator).numpy
        (top_range, left_range), (h, w) = self._ranges(padded), self.size
        n = padded.shape[0]
        tops = rng.integers(0, top_range, size=n)
        lefts = rng.integers(0, left_range, size=n)
        # Every h x w window of every image as a view; pick one window per image.
        flat = padded.reshape(n, -1, *padded.shape[-2:])
        windows = np.lib.stride_tricks.sliding_window_view(flat, (h, w), axis=(2, 3))
        crops = windows[np.arange(n), :, tops, lefts]
        return _rewrap(crops.reshape(*padded.shape[:-2], h, w), was_tensor)

    def _pad(self, array: np.ndarray) -> np.ndarray:
        left, top, right, bottom = self.padding
        h, w = self.size
        if self.pad_if_needed:
            height, width = array.shape[-2] + top + bottom, array.shape[-1] + left + right
            grow_h, grow_w = max(h - height, 0), max(w - width, 0)
            top, bottom, left, right = top + grow_h, bottom + grow_h, left + grow_w, right + grow_w
        if not any((left, top, right, bottom)):
            return array
        widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
        if self.padding_mode == "constant":
            return np.pad(array, widths, mode="constant", constant_values=self.fill)
        return np.pad(array, widths, mode=self.padding_mode)

    def _ranges(self, padded: np.ndarray) -> tuple[int, int]:
        """How many window positions there are vertically and horizontally."""
        height, width = padded.shape[-2:]
        h, w = self.size
        if h > height or w > width:
            raise ValueError(
                f"RandomCrop: required crop size {(h, w)} is larger than input image size {(height, width)}"
            )
        return height - h + 1, width - w + 1

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror images ``(..., H, W)`` left to right with probability ``p``; a
    4-D input is a batch ``(N, C, H, W)`` and each image is flipped or not on its own."""

    supports_batches = True

    def __init__(self, p: float = 0.5, generator: _random.Generator | None = None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be a probability in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def __call__(self, img):
        array, was_tensor = _unwrap(img)
        if array.ndim == 4:
            return self.batch(img)
        if array.ndim < 2:
            raise ValueError(f"RandomHorizontalFlip: expected an image (..., H, W), got shape {array.shape}")
        rng = (self.generator or _random.default_generator).numpy
        if rng.random() < self.p:
            return _rewrap(np.ascontiguousarray(array[..., ::-1]), was_tensor)
        return img

    def batch(self, imgs):
        array, was_tensor = _unwrap(imgs)
        if array.ndim < 3:
            raise ValueError(f"RandomHorizontalFlip.batch: expected a batch (N, ..., H, W), got shape {array.shape}")
        rng = (self.generator or _random.default_generator).numpy
        flip = rng.random(array.shape[0]) < self.p
        flip = flip.reshape(-1, *([1] * (array.ndim - 1)))
        return _rewrap(np.where(flip, array[..., ::-1], array), was_tensor)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"
