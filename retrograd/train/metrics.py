"""Classification metrics: functions over whole arrays, and streaming metric
objects that the training loop updates batch by batch.

Arguments follow the loss convention ``metric(preds, target)``. ``preds`` may be

* scores of shape ``(N, C)`` (logits or probabilities): the prediction is the
  class with the highest score;
* one score per sample, shape ``(N,)`` or ``(N, 1)``, of floating dtype: a
  binary prediction, class 1 where ``score >= threshold`` (0.5 suits
  probabilities; pass ``threshold=0.0`` for logits);
* integer or boolean class labels of shape ``(N,)``.

``target`` holds class labels ``(N,)`` (integers, or floats with integral
values such as BCE targets) or one-hot / probability rows ``(N, C)``.
Tensors, NumPy arrays and lists are accepted. Everything is whole-array NumPy.

The definitions are scikit-learn's (``sklearn.metrics``): ``confusion_matrix``
rows are true classes and columns predicted ones; a precision or recall whose
denominator is zero counts as 0; ``top_k_accuracy`` breaks ties between equal
scores in favour of the higher class index, as scikit-learn does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = [
    "accuracy",
    "top_k_accuracy",
    "confusion_matrix",
    "precision",
    "recall",
    "f1_score",
    "Metric",
    "Accuracy",
    "TopKAccuracy",
    "Precision",
    "Recall",
    "F1Score",
    "MeanMetric",
    "get_metric",
]


# ------------------------------------------------------------------ conversions


def _as_array(value: Any, name: str, caller: str) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    try:
        return np.asarray(value)
    except Exception as error:
        raise TypeError(f"{caller}: {name} must be a Tensor or array-like, got {type(value).__name__}") from error


def _rows_as_labels(value: Any, name: str, caller: str) -> np.ndarray:
    """``value`` as an array, with rows ``(N, C)`` (scores, one-hot or
    probabilities) turned into their argmax labels ``(N,)`` and a column
    ``(N, 1)`` into ``(N,)``; any other shape is left for the caller to check."""
    array = _as_array(value, name, caller)
    if array.ndim == 2 and array.shape[1] > 1:
        return array.argmax(axis=1)
    if array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    return array


def _predicted_labels(preds: Any, threshold: float, caller: str) -> np.ndarray:
    """Class labels ``(N,)`` from scores, binary scores or labels (see the module docstring)."""
    array = _rows_as_labels(preds, "preds", caller)
    if array.ndim != 1:
        raise ValueError(
            f"{caller}: preds must be scores of shape (N, C), binary scores (N,) or (N, 1), or labels (N,); "
            f"got shape {tuple(array.shape)}"
        )
    if array.dtype.kind == "f":
        return (array >= threshold).astype(np.int64)
    if array.dtype.kind not in "biu":
        raise TypeError(f"{caller}: preds must be numbers, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


def _target_labels(target: Any, caller: str) -> np.ndarray:
    """Class labels ``(N,)`` from labels or one-hot / probability rows."""
    array = _rows_as_labels(target, "target", caller)
    if array.ndim != 1:
        raise ValueError(
            f"{caller}: target must be class labels (N,) or one-hot rows (N, C); got shape {tuple(array.shape)}"
        )
    if array.dtype.kind == "f":
        labels = array.astype(np.int64)
        if not np.array_equal(labels, array):
            raise ValueError(
                f"{caller}: target holds non-integral values, not class labels (a classification metric on a "
                "regression target? pass metrics=() to fit for regression)"
            )
        return labels
    if array.dtype.kind not in "biu":
        raise TypeError(f"{caller}: target must be numbers, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


def _check_same_length(pred_labels: np.ndarray, true_labels: np.ndarray, caller: str) -> None:
    if pred_labels.shape[0] != true_labels.shape[0]:
        raise ValueError(f"{caller}: preds has {pred_labels.shape[0]} samples but target has {true_labels.shape[0]}")


def _check_labels(labels: np.ndarray, num_classes: int | None, caller: str) -> None:
    if labels.size and labels.min() < 0:
        raise ValueError(f"{caller}: class labels must be non-negative, got {int(labels.min())}")
    if num_classes is not None and labels.size and labels.max() >= num_classes:
        raise ValueError(f"{caller}: class label {int(labels.max())} is out of range for num_classes={num_classes}")


# ------------------------------------------------------------------ functions


def accuracy(preds: Any, target: Any, *, threshold: float = 0.5) -> float:
    """The fraction of samples whose predicted class equals the target class."""
    pred_labels = _predicted_labels(preds, threshold, "accuracy")
    true_labels = _target_labels(target, "accuracy")
    _check_same_length(pred_labels, true_labels, "accuracy")
    if true_labels.size == 0:
        return math.nan
    return float(np.count_nonzero(pred_labels == true_labels)) / true_labels.size


def _top_k_hits(scores: Any, target: Any, k: int, caller: str) -> np.ndarray:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"{caller}: k must be a positive integer, got {k!r}")
    array = _as_array(scores, "scores", caller)
    if array.ndim != 2:
        raise ValueError(f"{caller}: scores must have shape (N, C), got {tuple(array.shape)}")
    true_labels = _target_labels(target, caller)
    _check_same_length(array, true_labels, caller)
    _check_labels(true_labels, array.shape[1], caller)
    true_scores = np.take_along_axis(array, true_labels[:, None], axis=1)
    # The true class's rank: classes scoring higher, plus equal scores of higher index.
    higher = np.count_nonzero(array > true_scores, axis=1)
    tied_after = np.count_nonzero((array == true_scores) & (np.arange(array.shape[1]) > true_labels[:, None]), axis=1)
    return higher + tied_after < k


def top_k_accuracy(scores: Any, target: Any, k: int = 5) -> float:
    """The fraction of samples whose target class is among the ``k`` highest of ``scores`` ``(N, C)``."""
    hits = _top_k_hits(scores, target, k, "top_k_accuracy")
    return float(hits.mean()) if hits.size else math.nan


def confusion_matrix(preds: Any, target: Any, num_classes: int | None = None, *, threshold: float = 0.5) -> np.ndarray:
    """The ``(C, C)`` int64 matrix whose entry ``[i, j]`` counts samples of true
    class ``i`` predicted as class ``j``. ``C`` is ``num_classes``, or else the
    largest label seen (or the width of 2-D scores) plus one."""
    pred_labels = _predicted_labels(preds, threshold, "confusion_matrix")
    true_labels = _target_labels(target, "confusion_matrix")
    _check_same_length(pred_labels, true_labels, "confusion_matrix")
    if num_classes is None:
        num_classes = _classes_seen(preds, pred_labels, true_labels)
    return _confusion(pred_labels, true_labels, num_classes, "confusion_matrix")


def _classes_seen(preds: Any, pred_labels: np.ndarray, true_labels: np.ndarray) -> int:
    """The number of classes evidenced by a batch: the width of 2-D scores, or the largest label plus one."""
    shape = np.shape(preds._data if isinstance(preds, Tensor) else preds)
    width = shape[1] if len(shape) == 2 and shape[1] > 1 else 0
    largest = max(int(pred_labels.max(initial=-1)), int(true_labels.max(initial=-1)))
    return max(width, largest + 1)


def _confusion(pred_labels: np.ndarray, true_labels: np.ndarray, num_classes: int, caller: str) -> np.ndarray:
    _check_labels(pred_labels, num_classes, caller)
    _check_labels(true_labels, num_classes, caller)
    counts = np.bincount(true_labels * num_classes + pred_labels, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64, copy=False)


_AVERAGES = (None, "macro", "micro")


def _check_average(average: str | None, caller: str) -> None:
    if average not in _AVERAGES:
        raise ValueError(f"{caller}: average must be None (per class), 'macro' or 'micro', got {average!r}")


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with 0 where the denominator is 0 (scikit-learn's zero_division)."""
    safe = np.where(denominator == 0, 1, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


def _scores_from_confusion(matrix: np.ndarray, kind: str, average: str | None, all_classes: bool):
    """Precision, recall or F1 per class (``average=None``), macro- or micro-averaged.
    Macro averages run over every class when ``all_classes``, else over the
    classes that occur in the targets or predictions (as scikit-learn does)."""
    true_positives = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    actual = matrix.sum(axis=1).astype(np.float64)
    if average == "micro":
        true_positives, predicted, actual = true_positives.sum(), predicted.sum(), actual.sum()
    precision_values = _ratio(true_positives, predicted)
    recall_values = _ratio(true_positives, actual)
    if kind == "precision":
        values = precision_values
    elif kind == "recall":
        values = recall_values
    else:
        values = _ratio(2 * precision_values * recall_values, precision_values + recall_values)
    if average == "micro":
        return float(values)
    if average == "macro":
        present = np.ones(matrix.shape[0], dtype=bool) if all_classes else (predicted + actual) > 0
        return float(values[present].mean()) if present.any() else 0.0
    return values


def _classification_score(kind: str, preds, target, num_classes, average, threshold):
    _check_average(average, kind)
    matrix = confusion_matrix(preds, target, num_classes, threshold=threshold)
    return _scores_from_confusion(matrix, kind, average, all_classes=num_classes is not None)


def precision(
    preds: Any, target: Any, num_classes: int | None = None, *, average: str | None = "macro", threshold: float = 0.5
) -> float | np.ndarray:
    """Of the samples predicted as each class, the fraction that belong to it:
    a float64 array of one value per class (``average=None``), their mean
    (``"macro"``) or the ratio of the summed counts (``"micro"``)."""
    return _classification_score("precision", preds, target, num_classes, average, threshold)


def recall(
    preds: Any, target: Any, num_classes: int | None = None, *, average: str | None = "macro", threshold: float = 0.5
) -> float | np.ndarray:
    """Of the samples of each class, the fraction predicted as that class
    (per class, ``"macro"`` or ``"micro"`` as for ``precision``)."""
    return _classification_score("recall", preds, target, num_classes, average, threshold)


def f1_score(
    preds: Any, target: Any, num_classes: int | None = None, *, average: str | None = "macro", threshold: float = 0.5
) -> float | np.ndarray:
    """The harmonic mean of precision and recall (per class, ``"macro"`` or ``"micro"``)."""
    return _classification_score("f1", preds, target, num_classes, average, threshold)


# ------------------------------------------------------------------ streaming metrics


class Metric:
    """A metric accumulated over the batches of an epoch: ``reset()`` at the
    start, ``update(preds, target)`` per batch, ``compute()`` for the value so
    far. ``name`` is its key in the training logs (``"val_" + name`` on
    validation data)."""

    name: str = "metric"

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, preds: Any, target: Any) -> None:
        raise NotImplementedError

    def compute(self) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Accuracy(Metric):
    """Streaming ``accuracy``: correct predictions over samples seen."""

    def __init__(self, threshold: float = 0.5, name: str = "accuracy"):
        self.threshold = threshold
        self.name = name
        self.reset()

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, preds: Any, target: Any) -> None:
        pred_labels = _predicted_labels(preds, self.threshold, self.name)
        true_labels = _target_labels(target, self.name)
        _check_same_length(pred_labels, true_labels, self.name)
        self.correct += int(np.count_nonzero(pred_labels == true_labels))
        self.total += true_labels.size

    def compute(self) -> float:
        return self.correct / self.total if self.total else math.nan


class TopKAccuracy(Metric):
    """Streaming ``top_k_accuracy``."""

    def __init__(self, k: int = 5, name: str | None = None):
        self.k = k
        self.name = name or f"top_{k}_accuracy"
        self.reset()

    def reset(self) -> None:
        self.hits = 0
        self.total = 0

    def update(self, preds: Any, target: Any) -> None:
        hits = _top_k_hits(preds, target, self.k, self.name)
        self.hits += int(np.count_nonzero(hits))
        self.total += hits.size

    def compute(self) -> float:
        return self.hits / self.total if self.total else math.nan


class _ConfusionMetric(Metric):
    """A metric computed from the confusion matrix accumulated over the batches."""

    kind = ""

    def __init__(self, num_classes: int | None = None, average: str = "macro", threshold: float = 0.5, name=None):
        if average is None:
            raise ValueError(
                f"{type(self).__name__}: a logged metric must be one number; use average='macro' or 'micro'"
            )
        _check_average(average, type(self).__name__)
        self.num_classes = num_classes
        self.average = average
        self.threshold = threshold
        self.name = name or (self.kind if average == "macro" else f"{average}_{self.kind}")
        self.reset()

    def reset(self) -> None:
        size = self.num_classes or 0
        self.matrix = np.zeros((size, size), dtype=np.int64)

    def update(self, preds: Any, target: Any) -> None:
        pred_labels = _predicted_labels(preds, self.threshold, self.name)
        true_labels = _target_labels(target, self.name)
        _check_same_length(pred_labels, true_labels, self.name)
        size = self.num_classes or max(self.matrix.shape[0], _classes_seen(preds, pred_labels, true_labels))
        if size > self.matrix.shape[0]:  # a class seen for the first time: grow the matrix
            grown = np.zeros((size, size), dtype=np.int64)
            grown[: self.matrix.shape[0], : self.matrix.shape[0]] = self.matrix
            self.matrix = grown
        self.matrix += _confusion(pred_labels, true_labels, size, self.name)

    def compute(self) -> float:
        if not self.matrix.any():
            return math.nan
        return _scores_from_confusion(self.matrix, self.kind, self.average, all_classes=self.num_classes is not None)


class Precision(_ConfusionMetric):
    """Streaming ``precision`` (``"macro"`` or ``"micro"`` average)."""

    kind = "precision"


class Recall(_ConfusionMetric):
    """Streaming ``recall`` (``"macro"`` or ``"micro"`` average)."""

    kind = "recall"


class F1Score(_ConfusionMetric):
    """Streaming ``f1_score`` (``"macro"`` or ``"micro"`` average)."""

    kind = "f1"


class MeanMetric(Metric):
    """Any function ``fn(outputs, target) -> number`` averaged over the samples
    of the epoch (each batch's value weighted by its size). ``outputs`` and
    ``target`` are passed as the model produced them (Tensors)."""

    def __init__(self, fn: Callable[[Any, Any], Any], name: str | None = None):
        if not callable(fn):
            raise TypeError(f"MeanMetric: fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.reset()

    def reset(self) -> None:
        self.weighted_sum = 0.0
        self.total = 0

    def update(self, preds: Any, target: Any) -> None:
        value = self.fn(preds, target)
        value = float(value.item()) if isinstance(value, Tensor) else float(value)
        shape = np.shape(preds._data if isinstance(preds, Tensor) else preds)
        size = shape[0] if shape else 1
        self.weighted_sum += value * size
        self.total += size

    def compute(self) -> float:
        return self.weighted_sum / self.total if self.total else math.nan


_NAMED_METRICS: dict[str, Callable[[], Metric]] = {
    "accuracy": Accuracy,
    "acc": lambda: Accuracy(name="acc"),
    "top_k_accuracy": TopKAccuracy,
    "precision": Precision,
    "recall": Recall,
    "f1": lambda: F1Score(name="f1"),
    "f1_score": lambda: F1Score(name="f1_score"),
}


def get_metric(spec: str | Metric | Callable) -> Metric:
    """A fresh ``Metric`` from a name (``"accuracy"``, ``"top_k_accuracy"``
    (k=5), ``"precision"``, ``"recall"``, ``"f1"``; macro averages), a
    ``Metric`` (returned as is) or a function ``fn(outputs, target)``."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        if spec not in _NAMED_METRICS:
            raise ValueError(f"unknown metric {spec!r}; known names: {', '.join(_NAMED_METRICS)}, or pass a function")
        return _NAMED_METRICS[spec]()
    if callable(spec):
        return MeanMetric(spec)
    raise TypeError(f"a metric must be a name, a Metric or a function, got {type(spec).__name__}")
