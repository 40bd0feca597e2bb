"""``Callback``: code the training loop calls at fixed points, and
``CallbackList``, which calls a list of them in order.

The points, in the order a training run reaches them::

    on_train_begin(logs)
        on_epoch_begin(epoch, logs)
            on_batch_begin(batch, logs)        # before the forward pass
            on_after_backward(batch, logs)     # gradients computed, step not taken
            on_batch_end(batch, logs)          # after the optimizer step
        on_epoch_end(epoch, logs)              # after validation
    on_train_end(logs)

``epoch`` and ``batch`` count from 0. Batch logs hold ``"batch"``, ``"size"``
(samples in the batch) and, from ``on_after_backward`` on, ``"loss"`` (this
batch's loss) and, at ``on_batch_end``, ``"skipped"``; epoch logs hold the
epoch's mean ``"loss"``, each metric, ``"val_loss"`` and ``"val_<metric>"``
when there is validation data, and ``"lr"``, the learning rate of the first
parameter group at the start of the epoch.

A callback reaches the training run through ``self.trainer``: its ``model``,
``optimizer``, ``epoch`` and ``batch``, and two flags: setting
``trainer.stop_training = True`` ends training after the current batch (the
epoch is then finished off: validation and ``on_epoch_end`` still run), and
setting ``trainer.skip_step = True`` in ``on_after_backward`` skips this
batch's optimizer step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Callback:
    """Base class of callbacks: every hook does nothing until overridden.

    ``order`` places the callback among the others at each hook (lower runs
    earlier; equal orders keep the list's order). Schedulers and gradient
    handling run early, checkpoints late (so they save the state every other
    callback left at the end of the epoch), progress output last.

    Callbacks with state that a resumed run needs (counters, best values)
    return it from ``state_dict`` (numbers, strings, lists, dicts, tensors) and
    take it back in ``load_state_dict``; ``Trainer.save_checkpoint`` stores it.
    """

    order: int = 0

    def __init__(self) -> None:
        self.trainer = None

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    @property
    def model(self):
        return self.trainer.model if self.trainer is not None else None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        pass

    def on_train_end(self, logs: dict[str, Any]) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        pass

    def on_after_backward(self, batch: int, logs: dict[str, Any]) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class CallbackList:
    """Callbacks called together, sorted by ``order`` (stable)."""

    def __init__(self, callbacks: Iterable[Callback], trainer) -> None:
        callbacks = list(callbacks)
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be instances of retrograd.train.Callback, got {type(callback).__name__}"
                )
            callback.set_trainer(trainer)
        self.callbacks = sorted(callbacks, key=lambda callback: callback.order)

    def __iter__(self):
        return iter(self.callbacks)

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs)

    def on_after_backward(self, batch: int, logs: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.on_after_backward(batch, logs)

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)


def monitor_mode(monitor: str, mode: str, caller: str) -> str:
    """``"min"`` or ``"max"``: ``mode`` itself, or for ``"auto"`` the natural
    direction of ``monitor`` (accuracies, precisions, recalls and F1 scores up; anything else down)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{caller}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    increasing = ("acc", "precision", "recall", "f1", "auc")
    return "max" if any(word in monitor for word in increasing) else "min"
