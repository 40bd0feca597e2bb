"""``ModelCheckpoint``: save the training state at the end of epochs."""

from __future__ import annotations

import math
import os
import warnings
from typing import Any

from ... import io
from .base import Callback, monitor_mode


class ModelCheckpoint(Callback):
    """Write a checkpoint at the end of each epoch (every ``save_freq`` epochs).

    ``filepath`` may hold ``str.format`` fields filled from the epoch number
    (1-based, as printed) and the epoch logs: ``"ckpt-{epoch:03d}-{val_loss:.3f}.safetensors"``.
    With ``save_best_only`` a file is written only when ``monitor`` improves on
    the best value so far (``mode`` as in ``EarlyStopping``). The file is a full
    ``Trainer.save_checkpoint`` (model, optimizer, scheduler, random generators,
    callback states: everything ``fit(resume_from=...)`` needs), or with
    ``save_weights_only`` the model's ``state_dict`` alone (``retrograd.io.save``).
    Every write is atomic; missing directories are created. ``last_path`` is the last file written.
    """

    order = 10  # after the other callbacks, so the checkpoint holds the state they leave

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: int = 1,
    ) -> None:
        super().__init__()
        if not isinstance(save_freq, int) or save_freq < 1:
            raise ValueError(f"ModelCheckpoint: save_freq must be a positive number of epochs, got {save_freq!r}")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = monitor_mode(monitor, mode, "ModelCheckpoint")
        self.save_freq = save_freq
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_path: str | None = None

    def _improves(self, value: float) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if (epoch + 1) % self.save_freq != 0:
            return
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(
                    f"ModelCheckpoint: can save best model only with {self.monitor!r} available in the epoch "
                    f"logs (available: {', '.join(logs)}); skipping",
                    RuntimeWarning,
                    stacklevel=2,
                )
                return
            if not self._improves(value):
                return
            previous, self.best = self.best, value
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {previous:.5f} to {value:.5f}")
        path = self._format_path(epoch, logs)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        if self.save_weights_only:
            io.save(self.model.state_dict(), path)
        else:
            self.trainer.save_checkpoint(path)
        self.last_path = path
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved checkpoint to {path}")

    def _format_path(self, epoch: int, logs: dict[str, Any]) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"ModelCheckpoint: cannot fill in filepath {self.filepath!r} from the epoch number and the logs "
                f"({', '.join(logs)}): {error!r}"
            ) from None

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "last_path": self.last_path}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state["best"]
        self.last_path = state["last_path"]
