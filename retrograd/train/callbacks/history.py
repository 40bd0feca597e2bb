"""``History``: the record of a training run, one entry per epoch. ``fit``
returns it; every ``Trainer`` keeps one, which continues across ``fit`` calls
and resumed runs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .base import Callback, monitor_mode


class History(Callback):
    """``history[name]`` is the list of a logged value (``"loss"``,
    ``"val_accuracy"``, ``"lr"`` ...) over the epochs in ``epoch`` (0-based
    indices, as the callbacks see them)."""

    order = -30  # records the epoch's logs before checkpoints save this record

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch.append(epoch)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(value)

    def __getitem__(self, name: str) -> list[float]:
        return self.history[name]

    def __contains__(self, name: str) -> bool:
        return name in self.history

    def __len__(self) -> int:
        return len(self.epoch)

    def best(self, monitor: str = "val_loss", mode: str = "auto") -> tuple[int, float]:
        """``(epoch, value)`` of the best value of ``monitor`` (lowest, or highest
        for ``mode="max"``; ``"auto"`` picks the direction from the name)."""
        if monitor not in self.history:
            raise KeyError(f"History.best: no {monitor!r} recorded; recorded: {', '.join(self.history) or 'nothing'}")
        direction = monitor_mode(monitor, mode, "History.best")
        values = self.history[monitor]
        epochs = self.epoch[-len(values) :]
        candidates = [(value, epoch) for value, epoch in zip(values, epochs) if not math.isnan(value)]
        if not candidates:
            raise ValueError(f"History.best: every recorded {monitor!r} is NaN")
        value, epoch = min(candidates) if direction == "min" else max(candidates, key=lambda pair: (pair[0], -pair[1]))
        return epoch, value

    def plot(self, names: Sequence[str] | None = None, ax=None):
        """Plot the recorded curves (all of them, or ``names``) against the epoch
        number with matplotlib; returns the axes."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:
            raise ImportError("History.plot needs matplotlib (pip install matplotlib)") from error
        if ax is None:
            _, ax = plt.subplots()
        for name in names if names is not None else list(self.history):
            values = self.history[name]
            epochs = [epoch + 1 for epoch in self.epoch[-len(values) :]]
            ax.plot(epochs, values, label=name)
        ax.set_xlabel("epoch")
        ax.legend()
        return ax

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": list(self.epoch), "history": {name: list(values) for name, values in self.history.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = list(state["epoch"])
        self.history = {name: list(values) for name, values in state["history"].items()}

    def __repr__(self) -> str:
        last = {name: values[-1] for name, values in self.history.items() if values}
        return f"History(epochs={len(self.epoch)}, last={last})"
