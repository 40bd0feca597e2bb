"""Training: ``fit``/``evaluate``/``predict`` and the ``Trainer`` behind them,
Keras-style callbacks, metrics and the training ``History``.

The loop is PyTorch's (train mode, forward, loss, ``zero_grad``, ``backward``,
``step``; validation in eval mode without gradients); callbacks hook into it at
fixed points. A hand-written loop over the same model and optimizer works just
as well.
"""

from . import callbacks, metrics
from .callbacks import (
    Callback,
    EarlyStopping,
    GradientClipping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    TerminateOnNaN,
)
from .metrics import Metric
from .trainer import Trainer, evaluate, fit, predict

__all__ = [
    "Trainer",
    "fit",
    "evaluate",
    "predict",
    "Callback",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "GradientClipping",
    "TerminateOnNaN",
    "ProgressBar",
    "Metric",
    "callbacks",
    "metrics",
]
