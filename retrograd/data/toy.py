"""Small 2-D classification sets for trying models and drawing decision
boundaries: moons, circles, XOR, spirals and Gaussian blobs.

Each ``make_*`` returns ``(X, y)`` as Tensors: ``X`` float32 of shape
``(n_samples, 2)`` (``n_features`` for blobs) and ``y`` int64 class indices.
Classes are as balanced as ``n_samples`` allows and the samples come
shuffled. ``seed`` fixes the draw; without it the default generator is used,
so ``retrograd.manual_seed`` makes it repeat. Wrap the result in
``TensorDataset(X, y)`` for a ``DataLoader``.
"""

from __future__ import annotations

import numpy as np

from .. import random as _random
from ..tensor import Tensor, _wrap

__all__ = ["make_moons", "make_circles", "make_xor", "make_spiral", "make_blobs"]


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed) if seed is not None else _random.default_generator.numpy


def _check(caller: str, n_samples: int, noise: float, n_classes: int = 1) -> None:
    if not isinstance(n_samples, (int, np.integer)) or n_samples < n_classes:
        raise ValueError(f"{caller}: n_samples must be an integer >= {n_classes}, got {n_samples!r}")
    if noise < 0:
        raise ValueError(f"{caller}: noise must be non-negative, got {noise}")


def _class_sizes(n_samples: int, n_classes: int) -> np.ndarray:
    """Split ``n_samples`` over classes as evenly as possible (the first classes get the extra ones)."""
    return np.full(n_classes, n_samples // n_classes) + (np.arange(n_classes) < n_samples % n_classes)


def _finish(points: np.ndarray, labels: np.ndarray, noise: float, rng: np.random.Generator) -> tuple[Tensor, Tensor]:
    """Add Gaussian noise, shuffle, and hand back float32/int64 tensors."""
    if noise:
        points = points + noise * rng.standard_normal(points.shape)
    order = rng.permutation(len(labels))
    return _wrap(points[order].astype(np.float32)), _wrap(labels[order].astype(np.int64))


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: int | None = None) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles (scikit-learn's layout): class 0 the upper
    arc of the unit circle, class 1 the lower arc shifted to ``(1, 0.5)``."""
    _check("make_moons", n_samples, noise, 2)
    rng = _rng(seed)
    n_outer, n_inner = _class_sizes(n_samples, 2)
    outer = np.linspace(0, np.pi, n_outer)
    inner = np.linspace(0, np.pi, n_inner)
    points = np.concatenate(
        [np.stack([np.cos(outer), np.sin(outer)], 1), np.stack([1 - np.cos(inner), 0.5 - np.sin(inner)], 1)]
    )
    labels = np.repeat([0, 1], [n_outer, n_inner])
    return _finish(points, labels, noise, rng)


def make_circles(
    n_samples: int = 100, noise: float = 0.0, seed: int | None = None, factor: float = 0.5
) -> tuple[Tensor, Tensor]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``."""
    _check("make_circles", n_samples, noise, 2)
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must be in [0, 1), got {factor}")
    rng = _rng(seed)
    n_outer, n_inner = _class_sizes(n_samples, 2)
    outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    points = np.concatenate(
        [np.stack([np.cos(outer), np.sin(outer)], 1), factor * np.stack([np.cos(inner), np.sin(inner)], 1)]
    )
    labels = np.repeat([0, 1], [n_outer, n_inner])
    return _finish(points, labels, noise, rng)


def make_xor(n_samples: int = 100, noise: float = 0.0, seed: int | None = None) -> tuple[Tensor, Tensor]:
    """Points spread uniformly over the four quadrants of ``[-1, 1]^2`` (equal
    numbers in each); the class is 1 where the coordinates' signs differ."""
    _check("make_xor", n_samples, noise, 2)
    rng = _rng(seed)
    quadrant = np.repeat(np.arange(4), _class_sizes(n_samples, 4))
    signs = np.stack([np.where(quadrant % 2 == 0, 1.0, -1.0), np.where(quadrant < 2, 1.0, -1.0)], 1)
    points = signs * rng.uniform(0.0, 1.0, size=(n_samples, 2))
    labels = (signs[:, 0] != signs[:, 1]).astype(np.int64)
    return _finish(points, labels, noise, rng)


def make_spiral(
    n_samples: int = 300, noise: float = 0.2, seed: int | None = None, n_arms: int = 3
) -> tuple[Tensor, Tensor]:
    """``n_arms`` spiral arms winding out of the origin, one class per arm.

    Along an arm the radius grows from 0 to 1 while the angle turns through
    4 radians; ``noise`` is the standard deviation of Gaussian jitter added to
    that angle (the classic CS231n construction)."""
    _check("make_spiral", n_samples, noise, n_arms)
    if n_arms < 2:
        raise ValueError(f"make_spiral: n_arms must be at least 2, got {n_arms}")
    rng = _rng(seed)
    labels = np.repeat(np.arange(n_arms), _class_sizes(n_samples, n_arms))
    # Position along each arm in [0, 1], per arm from its first to its last point.
    sizes = _class_sizes(n_samples, n_arms)
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    along = (np.arange(n_samples) - starts) / np.maximum(np.repeat(sizes, sizes) - 1, 1)
    angle = 4.0 * (labels + along) + noise * rng.standard_normal(n_samples)
    points = along[:, None] * np.stack([np.sin(angle), np.cos(angle)], 1)
    return _finish(points, labels, 0.0, rng)


def make_blobs(
    n_samples: int = 100,
    noise: float = 1.0,
    seed: int | None = None,
    centers: int | np.ndarray = 3,
    n_features: int = 2,
    center_box: tuple[float, float] = (-10.0, 10.0),
) -> tuple[Tensor, Tensor]:
    """Isotropic Gaussian blobs, one class per center; ``noise`` is each blob's
    standard deviation. ``centers`` is a count (drawn uniformly in
    ``center_box``) or an array of center coordinates."""
    given = np.asarray(centers, dtype=np.float64)
    n_classes = int(given) if given.ndim == 0 else len(given)
    if n_classes < 1:
        raise ValueError(f"make_blobs: need at least one center, got centers={centers!r}")
    _check("make_blobs", n_samples, noise, n_classes)
    rng = _rng(seed)
    if given.ndim == 0:
        means = rng.uniform(*center_box, size=(n_classes, n_features))
    elif given.ndim == 2:
        means = given
    else:
        raise ValueError(
            f"make_blobs: centers must be a count or a (n_centers, n_features) array, got shape {given.shape}"
        )
    labels = np.repeat(np.arange(n_classes), _class_sizes(n_samples, n_classes))
    return _finish(means[labels], labels, noise, rng)
