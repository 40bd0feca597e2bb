"""``EarlyStopping``: stop training when a monitored value stops improving."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ...tensor import _wrap
from .base import Callback, monitor_mode


class EarlyStopping(Callback):
    """Stop once ``monitor`` has not improved for ``patience`` epochs in a row.

    An epoch improves when its value beats the best so far by more than
    ``min_delta`` (lower for ``mode="min"``, higher for ``"max"``; ``"auto"``
    picks from the name). ``baseline``: an epoch counts as an improvement only
    if it also beats the baseline, so training stops when the value has not
    beaten it after ``patience`` epochs. Epochs before ``start_from_epoch``
    are not watched (warm-up). With ``restore_best_weights`` the model gets
    back the weights of its best epoch when training ends. ``stopped_epoch``
    is the (0-based) epoch after which training stopped, or None.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta}")
        self.monitor = monitor
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.mode = monitor_mode(monitor, mode, "EarlyStopping")
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if self.trainer is not None and self.trainer.epochs_completed == 0:
            self._reset()  # a fresh run; a resumed one keeps the loaded state

    def _improves(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if epoch < self.start_from_epoch:
            return
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"EarlyStopping: monitored value {self.monitor!r} is not in the epoch logs "
                f"(available: {', '.join(logs)}); not stopping",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        self.wait += 1
        if self._improves(value, self.best):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = {key: np.array(t._data) for key, t in self.model.state_dict().items()}
            if self.baseline is None or self._improves(value, self.baseline):
                self.wait = 0
                return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            self.trainer.stop_reason = (
                f"early stopping after epoch {epoch + 1}: {self.monitor} did not improve for {self.wait} epochs "
                f"(best {self.best:.6g} at epoch {self.best_epoch + 1 if self.best_epoch is not None else '-'})"
            )
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.trainer.stop_reason}")

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.load_state_dict({key: _wrap(array) for key, array in self.best_weights.items()})

    def state_dict(self) -> dict[str, Any]:
        return {
            "wait": self.wait,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.wait = state["wait"]
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.stopped_epoch = state["stopped_epoch"]
        self.best_weights = state["best_weights"]
