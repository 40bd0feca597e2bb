"""``LearningRateScheduler``: step a ``retrograd.optim.lr_scheduler`` scheduler
from the training loop."""

from __future__ import annotations

from typing import Any

from ...optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from ...optim.optimizer import Optimizer
from .base import Callback


class LearningRateScheduler(Callback):
    """Call ``scheduler.step()`` at the end of every epoch (``interval="epoch"``)
    or after every optimizer step (``interval="batch"``, for ``OneCycleLR`` and
    warm-ups counted in steps). A ``ReduceLROnPlateau`` is stepped with the
    value of ``monitor`` from the epoch logs (or the batch's loss with
    ``interval="batch"``).

    ``fit(..., scheduler=...)`` adds one of these itself; the scheduler's state
    then travels in the checkpoint's ``scheduler`` entry. One added by hand
    saves its scheduler's state among the callback states.
    """

    order = -10  # before checkpoints, so they save the stepped scheduler

    def __init__(self, scheduler: LRScheduler, interval: str = "epoch", monitor: str = "val_loss") -> None:
        super().__init__()
        if isinstance(scheduler, Optimizer) or not all(
            hasattr(scheduler, name) for name in ("step", "state_dict", "load_state_dict")
        ):
            raise TypeError(
                f"LearningRateScheduler: expected a retrograd.optim.lr_scheduler scheduler, got {type(scheduler).__name__}"
            )
        if interval not in ("epoch", "batch"):
            raise ValueError(f"LearningRateScheduler: interval must be 'epoch' or 'batch', got {interval!r}")
        self.scheduler = scheduler
        self.interval = interval
        self.monitor = monitor if interval == "epoch" else "loss"

    def _step(self, logs: dict[str, Any], where: str) -> None:
        if isinstance(self.scheduler, ReduceLROnPlateau):
            if self.monitor not in logs:
                raise KeyError(
                    f"LearningRateScheduler: ReduceLROnPlateau monitors {self.monitor!r}, which is not in the "
                    f"{where} logs (available: {', '.join(logs)}); pass val_data to fit or choose another monitor"
                )
            self.scheduler.step(logs[self.monitor])
        else:
            self.scheduler.step()

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        if self.interval == "batch":
            self._step(logs, "batch")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.interval == "epoch":
            self._step(logs, "epoch")

    def state_dict(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])
