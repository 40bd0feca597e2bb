"""``GradientClipping``: rescale the gradients between ``backward()`` and the optimizer step."""

from __future__ import annotations

import math
from typing import Any

from ...nn.utils import clip_grad_norm_
from .base import Callback


class GradientClipping(Callback):
    """Clip the total ``norm_type``-norm of the model's gradients to ``max_norm``
    with ``retrograd.nn.utils.clip_grad_norm_`` before every optimizer step. The
    norm before clipping is logged as ``"grad_norm"`` in the batch logs.
    ``fit(..., grad_clip=max_norm)`` adds one of these."""

    order = -10  # before any callback that looks at the gradients the step will use

    def __init__(self, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> None:
        super().__init__()
        if not max_norm > 0:
            raise ValueError(f"GradientClipping: max_norm must be positive, got {max_norm!r}")
        self.max_norm = float(max_norm)
        self.norm_type = float(norm_type)
        self.error_if_nonfinite = error_if_nonfinite

    def on_after_backward(self, batch: int, logs: dict[str, Any]) -> None:
        if self.trainer.skip_step:
            return
        parameters = [p for p in self.model.parameters() if p.grad is not None]
        if not parameters:
            logs["grad_norm"] = math.nan
            return
        total = clip_grad_norm_(parameters, self.max_norm, self.norm_type, self.error_if_nonfinite)
        logs["grad_norm"] = float(total.item())
