"""Plots of a training run, written as PNG files with matplotlib.

Figures are drawn on matplotlib's Agg canvas directly (``Figure`` +
``FigureCanvasAgg``, never ``pyplot``), so plotting works without a display,
leaves the user's pyplot backend and open figures alone, and frees each
figure as soon as it is written. Files are written atomically: a crash
mid-write never leaves a truncated PNG behind.

* ``plot_metric(history, "loss", path)``: a logged value per epoch, training
  against validation (``val_loss``) when both were recorded;
* ``plot_confusion_matrix(matrix, class_names, path)``: counts, with each
  row shaded by the fraction of that true class;
* ``plot_predictions(images, predicted, true, class_names, path)``: a grid of
  images titled with the predicted label, green when right and red when wrong;
* ``plot_decision_boundary(model, x, y, path)``: the class regions of a model
  on 2-D inputs, with the data on top.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.files import atomic_write

__all__ = [
    "history_series",
    "plot_metric",
    "plot_confusion_matrix",
    "plot_predictions",
    "plot_decision_boundary",
]

_DPI = 100
_RIGHT = (0.10, 0.50, 0.22)  # green
_WRONG = (0.81, 0.13, 0.18)  # red


def _new_figure(width: float, height: float):
    """A ``Figure`` attached to an Agg canvas (matplotlib imported only now)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "retrograd.report needs matplotlib to draw plots: pip install matplotlib (or retrograd[plot])"
        ) from error
    figure = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: str | os.PathLike, tight: bool = True) -> Path:
    destination = Path(path)
    with atomic_write(destination) as file:
        figure.savefig(file, format="png", dpi=_DPI, bbox_inches="tight" if tight else None)
    return destination


def history_series(history: Any) -> tuple[list[int], dict[str, list[float]]]:
    """``(epochs, values)`` of a ``History``, of the dict its ``state_dict()``
    gives (``{"epoch": [...], "history": {...}}``), or of a plain
    ``{name: [values]}`` dict. Epochs are 1-based, as progress output prints them."""
    if hasattr(history, "state_dict") and hasattr(history, "history"):
        history = history.state_dict()
    if not isinstance(history, Mapping):
        raise TypeError(f"expected a History or a dict of per-epoch values, got {type(history).__name__}")
    if "history" in history and "epoch" in history:
        values = {name: list(series) for name, series in history["history"].items()}
        epochs = [int(epoch) + 1 for epoch in history["epoch"]]
    else:
        values = {name: list(series) for name, series in history.items()}
        longest = max((len(series) for series in values.values()), default=0)
        epochs = list(range(1, longest + 1))
    return epochs, values


def plot_metric(history: Any, name: str, path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Draw ``name`` (``"loss"``, ``"accuracy"`` ...) per epoch, with
    ``val_<name>`` beside it when recorded, and write the PNG to ``path``."""
    epochs, values = history_series(history)
    series = [
        (label, values[key]) for label, key in (("training", name), ("validation", f"val_{name}")) if key in values
    ]
    if not series:
        recorded = ", ".join(values) or "nothing"
        raise ValueError(f"plot_metric: no {name!r} or 'val_{name}' in the history (recorded: {recorded})")
    figure = _new_figure(6.0, 4.0)
    axes = figure.add_subplot()
    for label, points in series:
        # A resumed run may have recorded a value only from some epoch on: align on the last epochs.
        xs = epochs[-len(points) :] if len(points) <= len(epochs) else list(range(1, len(points) + 1))
        axes.plot(xs, points, marker="o", markersize=3, label=label)
    axes.set_xlabel("epoch")
    axes.set_ylabel(name)
    axes.set_title(title or f"{name} per epoch")
    axes.grid(True, alpha=0.3)
    if len(epochs) <= 20:
        axes.set_xticks(epochs)
    axes.legend()
    return _save(figure, path)


def plot_confusion_matrix(
    matrix: Any, class_names: Sequence[str] | None, path: str | os.PathLike, *, title: str = "Confusion matrix"
) -> Path:
    """Draw a ``(C, C)`` confusion matrix (rows: true class, columns:
    predicted) with the counts written in the cells, and write the PNG."""
    counts = np.asarray(matrix)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ValueError(f"plot_confusion_matrix: expected a non-empty square matrix, got shape {counts.shape}")
    size = counts.shape[0]
    names = _class_names(class_names, size, "plot_confusion_matrix")
    # Shade by the fraction of each true class, so rare and common classes read alike.
    row_totals = counts.sum(axis=1, keepdims=True)
    fractions = np.divide(counts, row_totals, out=np.zeros(counts.shape), where=row_totals > 0)

    side = max(4.5, 0.6 * size + 2.0)
    figure = _new_figure(side + 1.0, side)
    axes = figure.add_subplot()
    image = axes.imshow(fractions, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="fraction of the true class")
    font_size = 9 if size <= 10 else 7 if size <= 20 else 5
    if size <= 30:
        for i in range(size):
            for j in range(size):
                color = "white" if fractions[i, j] > 0.5 else "black"
                axes.text(j, i, str(counts[i, j]), ha="center", va="center", color=color, fontsize=font_size)
    axes.set_xticks(range(size), names, rotation=45, ha="right", fontsize=font_size + 1)
    axes.set_yticks(range(size), names, fontsize=font_size + 1)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    accuracy = np.trace(counts) / counts.sum() if counts.sum() else math.nan
    axes.set_title(f"{title} (accuracy {accuracy:.2%})")
    return _save(figure, path)


def plot_predictions(
    images: Any,
    predicted: Any,
    true: Any,
    class_names: Sequence[str] | None,
    path: str | os.PathLike,
    *,
    columns: int = 8,
    max_images: int = 32,
) -> Path:
    """Draw up to ``max_images`` images in a grid, each titled with its
    predicted label (and the true one when wrong), green when right and red
    when wrong, and write the PNG.

    ``images`` are ``(N, H, W)``, ``(N, C, H, W)`` with 1 or 3 channels, or
    ``(N, H * W)`` flattened square images."""
    pictures = _as_pictures(np.asarray(_array(images)))
    predicted_labels = np.asarray(_array(predicted)).reshape(-1).astype(np.int64)
    true_labels = np.asarray(_array(true)).reshape(-1).astype(np.int64)
    if not len(pictures) == len(predicted_labels) == len(true_labels):
        raise ValueError(
            f"plot_predictions: got {len(pictures)} images, {len(predicted_labels)} predicted and "
            f"{len(true_labels)} true labels; expected one of each per image"
        )
    if len(pictures) == 0:
        raise ValueError("plot_predictions: no images to draw")
    highest = int(max(predicted_labels.max(), true_labels.max())) + 1
    names = _class_names(class_names, highest, "plot_predictions")
    count = min(len(pictures), max_images)
    columns = min(columns, count)
    rows = math.ceil(count / columns)

    # One mosaic image in one axes: much faster to draw than a subplot per picture.
    # Each cell is a label band, then the picture in a green or red frame.
    tiles = _rgb_tiles(pictures[:count])
    _, height, width, _ = tiles.shape
    frame, gap, band = max(2, height // 14), max(3, height // 7), round(0.45 * height)
    cell_height, cell_width = band + height + 2 * frame + gap, width + 2 * frame + gap
    canvas = np.ones((rows * cell_height, columns * cell_width, 3))
    figure = _new_figure(1.45 * columns, 1.45 * columns * canvas.shape[0] / canvas.shape[1] + 0.4)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0 - 0.4 / figure.get_figheight()))
    labels = []
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * cell_height + band, column * cell_width + gap // 2
        guess, answer = int(predicted_labels[index]), int(true_labels[index])
        colour = _RIGHT if guess == answer else _WRONG
        canvas[top : top + height + 2 * frame, left : left + width + 2 * frame] = colour
        canvas[top + frame : top + frame + height, left + frame : left + frame + width] = tiles[index]
        text = names[guess] if guess == answer else f"{names[guess]}\n(true: {names[answer]})"
        labels.append((left + frame + width / 2, top - frame, text, colour))
    axes.imshow(canvas, interpolation="nearest")
    for x, y, text, colour in labels:
        axes.text(x, y, text, ha="center", va="bottom", color=colour, fontsize=7, linespacing=1.1)
    axes.set_axis_off()
    wrong = int((predicted_labels[:count] != true_labels[:count]).sum())
    figure.suptitle(f"Predictions on test samples: {count - wrong} of {count} right", fontsize=11, y=0.995)
    return _save(figure, path, tight=False)


def _rgb_tiles(pictures: np.ndarray) -> np.ndarray:
    """``(N, H, W, 3)`` pictures in [0, 1] (grey repeated into the three
    channels), scaled up by whole pixels to at least 28 pixels a side so that
    small images (8x8 digits) stay legible next to their labels."""
    values = pictures.astype(np.float64)
    low, high = values.min(), values.max()
    values = (values - low) / (high - low) if high > low else np.zeros_like(values)
    if values.ndim == 3:
        values = np.repeat(values[..., None], 3, axis=3)
    scale = max(1, math.ceil(28 / max(values.shape[1], values.shape[2])))
    return values.repeat(scale, axis=1).repeat(scale, axis=2)


def plot_decision_boundary(
    predict_classes: Callable[[np.ndarray], np.ndarray],
    x: Any,
    y: Any,
    path: str | os.PathLike,
    *,
    class_names: Sequence[str] | None = None,
    resolution: int = 200,
    title: str = "Decision regions",
) -> Path:
    """Shade the class that ``predict_classes`` (a function from an ``(M, 2)``
    float32 array of points to ``(M,)`` class indices) gives each point of a
    grid around the 2-D data ``x``, draw the samples coloured by their class
    ``y`` on top, and write the PNG."""
    points = np.asarray(_array(x), dtype=np.float64)
    labels = np.asarray(_array(y)).reshape(-1).astype(np.int64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: expected 2-D points of shape (N, 2), got shape {points.shape}")
    if len(points) != len(labels) or len(points) == 0:
        raise ValueError(f"plot_decision_boundary: got {len(points)} points and {len(labels)} labels")
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-6)
    grid_x, grid_y = np.meshgrid(
        np.linspace(low[0] - margin[0], high[0] + margin[0], resolution),
        np.linspace(low[1] - margin[1], high[1] + margin[1], resolution),
    )
    grid = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(np.float32)
    regions = np.asarray(predict_classes(grid)).reshape(grid_x.shape)
    classes = int(max(labels.max(), regions.max())) + 1

    figure = _new_figure(5.5, 5.0)
    axes = figure.add_subplot()
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    # One distinct colour per class (the first of tab10/tab20), shared by regions and points.
    palette = colormaps["tab10" if classes <= 10 else "tab20"].colors
    colormap = ListedColormap(palette[:classes]) if classes <= len(palette) else "viridis"
    axes.contourf(grid_x, grid_y, regions, levels=np.arange(classes + 1) - 0.5, cmap=colormap, alpha=0.3)
    scatter = axes.scatter(
        points[:, 0], points[:, 1], c=labels, cmap=colormap, vmin=-0.5, vmax=classes - 0.5, s=12, edgecolors="k"
    )
    names = _class_names(class_names, classes, "plot_decision_boundary") if class_names else None
    handles, _ = scatter.legend_elements()
    axes.legend(handles, names or [str(c) for c in range(len(handles))], loc="best", fontsize=8)
    axes.set_title(title)
    return _save(figure, path)


def _array(value: Any) -> Any:
    """NumPy data of a retrograd Tensor (or the value itself)."""
    return value.numpy() if hasattr(value, "numpy") and not isinstance(value, np.ndarray) else value


def _as_pictures(images: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` grey or ``(N, H, W, 3)`` colour pictures from the accepted layouts."""
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(
                f"plot_predictions: flattened images must be square (H * W with H == W), got {images.shape[1]} values"
            )
        return images.reshape(len(images), side, side)
    if images.ndim == 3:
        return images
    if images.ndim == 4 and images.shape[1] == 1:
        return images[:, 0]
    if images.ndim == 4 and images.shape[1] == 3:
        return images.transpose(0, 2, 3, 1)
    raise ValueError(
        f"plot_predictions: expected images (N, H, W), (N, 1 or 3, H, W) or (N, H*W), got shape {images.shape}"
    )


def _class_names(class_names: Sequence[str] | None, count: int, caller: str) -> list[str]:
    if class_names is None:
        return [str(index) for index in range(count)]
    names = [str(name) for name in class_names]
    if len(names) < count:
        raise ValueError(f"{caller}: got {len(names)} class names for {count} classes")
    return names[:count]
