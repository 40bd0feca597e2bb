"""``ProgressBar``: a live tqdm bar per epoch and one summary line per epoch."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

from .base import Callback

_REFRESH_SECONDS = 0.1  # how often the bar's loss and metrics are recomputed


def format_logs(logs: dict[str, Any]) -> str:
    """``"loss: 0.4123 - accuracy: 0.8750 - ..."`` for the numeric entries of ``logs`` (not ``lr``)."""
    parts = []
    for name, value in logs.items():
        if name == "lr" or not isinstance(value, (int, float)):
            continue
        parts.append(f"{name}: {value:.4f}" if math.isfinite(value) else f"{name}: {value}")
    return " - ".join(parts)


class ProgressBar(Callback):
    """``verbose=1``: during each epoch a tqdm bar on ``bar_file`` (stderr)
    showing samples done, samples per second and the running loss and metrics;
    ``verbose`` 1 or 2: after each epoch one line on ``file`` (stdout)::

        Epoch 3/10 - loss: 0.4123 - accuracy: 0.8750 - val_loss: 0.5012 - val_accuracy: 0.8125 - 0.42s

    ``fit(verbose=...)`` adds one of these; ``verbose=0`` shows nothing.
    """

    order = 20  # last: reports what every other callback did

    def __init__(self, verbose: int = 1, file: TextIO | None = None, bar_file: TextIO | None = None) -> None:
        super().__init__()
        if verbose not in (1, 2):
            raise ValueError(f"ProgressBar: verbose must be 1 (bar and summary) or 2 (summary only), got {verbose!r}")
        self.verbose = verbose
        self.file = file
        self.bar_file = bar_file
        self._bar = None
        self._started = 0.0
        self._last_refresh = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self._started = time.perf_counter()
        if self.verbose != 1:
            return
        params = self.trainer.params
        samples = params.get("samples")
        self._bar = tqdm(
            total=samples if samples is not None else params.get("steps"),
            desc=f"Epoch {epoch + 1}/{params['epochs']}",
            unit=" samples" if samples is not None else " batches",
            leave=False,
            file=self.bar_file or sys.stderr,
            dynamic_ncols=True,
        )
        self._last_refresh = self._started

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        if self._bar is None:
            return
        self._bar.update(logs["size"] if self.trainer.params.get("samples") is not None else 1)
        now = time.perf_counter()
        if now - self._last_refresh >= _REFRESH_SECONDS:
            self._last_refresh = now
            self._bar.set_postfix_str(format_logs(self.trainer.running_logs()), refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elapsed = time.perf_counter() - self._started
        summary = format_logs(logs)
        line = f"Epoch {epoch + 1}/{self.trainer.params['epochs']}"
        if summary:
            line += " - " + summary
        print(f"{line} - {elapsed:.2f}s", file=self.file or sys.stdout, flush=True)

    def close(self) -> None:
        """Close the bar of an epoch that did not finish (training raised an exception)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.close()
        reason = getattr(self.trainer, "stop_reason", None)
        if reason:
            print(f"Training stopped: {reason}", file=self.file or sys.stdout, flush=True)
