"""Callbacks for ``retrograd.train``, one per file, with Keras's names and behaviour.

Write your own by subclassing ``Callback`` and overriding the hooks you need
(see ``base.py`` for the hooks, their order and the logs they receive).
"""

from .base import Callback, CallbackList
from .early_stopping import EarlyStopping
from .grad_clip import GradientClipping
from .history import History
from .lr_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .progress import ProgressBar
from .terminate_on_nan import TerminateOnNaN

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "GradientClipping",
    "TerminateOnNaN",
    "ProgressBar",
]
