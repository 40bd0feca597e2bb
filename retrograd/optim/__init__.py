"""Optimizers with PyTorch's names, arguments, update rules and state dicts, the
learning-rate schedulers (``retrograd.optim.lr_scheduler``) and L1/L2 loss
penalties (``retrograd.optim.regularization``)."""

from . import lr_scheduler, regularization
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler", "regularization"]
