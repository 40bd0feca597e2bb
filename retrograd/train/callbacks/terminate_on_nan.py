"""``TerminateOnNaN``: react to a loss that is NaN or infinite."""

from __future__ import annotations

import math
import warnings
from typing import Any

from .base import Callback


class TerminateOnNaN(Callback):
    """When a batch's loss is not finite, do not apply its update, and then

    * ``action="stop"`` (the default): stop training, with a warning naming the
      epoch and batch (``trainer.stop_reason`` keeps the message);
    * ``action="skip"``: go on with the next batch, with a warning;
      ``skipped`` lists the ``(epoch, batch)`` pairs (0-based) that were skipped.

    Skipped batches count in neither the epoch's loss nor its metrics.
    """

    order = -20  # before gradient clipping and anything else that handles the gradients

    def __init__(self, action: str = "stop") -> None:
        super().__init__()
        if action not in ("stop", "skip"):
            raise ValueError(f"TerminateOnNaN: action must be 'stop' or 'skip', got {action!r}")
        self.action = action
        self.skipped: list[tuple[int, int]] = []

    def on_after_backward(self, batch: int, logs: dict[str, Any]) -> None:
        loss = logs.get("loss")
        if loss is None or math.isfinite(loss):
            return
        trainer = self.trainer
        trainer.skip_step = True
        where = f"epoch {trainer.epoch + 1}, batch {batch + 1}"
        if self.action == "stop":
            trainer.stop_training = True
            trainer.stop_reason = (
                f"non-finite loss ({loss}) at {where}: training stopped, this batch's update not applied"
            )
            warnings.warn(f"TerminateOnNaN: {trainer.stop_reason}", RuntimeWarning, stacklevel=2)
        else:
            self.skipped.append((trainer.epoch, batch))
            warnings.warn(
                f"TerminateOnNaN: non-finite loss ({loss}) at {where}: batch skipped", RuntimeWarning, stacklevel=2
            )
