"""The training loop: ``Trainer`` and the one-call ``fit``, ``evaluate`` and ``predict``.

Each mini-batch of ``fit`` is the loop one writes by hand in PyTorch::

    model.train()
    outputs = model(*inputs)
    loss = loss_fn(outputs, target)
    optimizer.zero_grad()
    loss.backward()
    # callbacks' on_after_backward: gradient clipping, non-finite loss checks
    optimizer.step()

and validation runs under ``no_grad`` with ``model.eval()``. Full-batch,
mini-batch and stochastic gradient descent differ only in ``batch_size``
(``None`` for the whole dataset, or 1).

Data may be a ``DataLoader`` (used as it is), a ``Dataset``, a tuple of
arrays or tensors ``(X, y)`` (batched here with ``batch_size`` and
``shuffle``), or any iterable of batches that can be iterated once per
epoch. In every batch the last element is the target and the others are the
model's inputs.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import io
from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..creation import as_tensor
from ..nn.modules.module import Module
from ..ops.shape import cat
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from ..utils.data import DataLoader, Dataset, IterableDataset, TensorDataset
from .callbacks import (
    Callback,
    CallbackList,
    GradientClipping,
    History,
    LearningRateScheduler,
    ProgressBar,
)
from .metrics import Metric, get_metric

__all__ = ["Trainer", "fit", "evaluate", "predict"]

MetricSpec = str | Metric | Callable[[Any, Any], Any]


class Trainer:
    """A model with its loss, optimizer, metrics and callbacks, and the loops
    that train (``fit``), score (``evaluate``) and run (``predict``) it.

    ``loss(outputs, target)`` must return a scalar Tensor (a module such as
    ``nn.CrossEntropyLoss()`` or any function). ``metrics`` are names
    (``"accuracy"``, ``"top_k_accuracy"``, ``"precision"``, ``"recall"``,
    ``"f1"``), ``retrograd.train.metrics.Metric`` objects, or functions
    ``fn(outputs, target) -> number`` averaged over the samples.
    ``scheduler`` is stepped once per epoch (``scheduler_interval="batch"``:
    after every optimizer step); a ``ReduceLROnPlateau`` gets
    ``scheduler_monitor`` (by default ``"val_loss"`` when there is validation
    data, else ``"loss"``). ``grad_clip`` clips the gradients' total 2-norm to
    that value before each step.

    During ``fit``, callbacks see the trainer: ``epoch`` and ``batch`` (0-based),
    ``epochs_completed``, ``params``, and the flags ``stop_training`` (set it to
    end training after the current batch) and ``skip_step`` (set it in
    ``on_after_backward`` to skip this batch's optimizer step).
    """

    def __init__(
        self,
        model: Module,
        loss: Callable[[Any, Any], Tensor] | None = None,
        optimizer: Optimizer | None = None,
        *,
        metrics: Sequence[MetricSpec] = ("accuracy",),
        callbacks: Iterable[Callback] = (),
        scheduler=None,
        scheduler_interval: str = "epoch",
        scheduler_monitor: str | None = None,
        grad_clip: float | None = None,
        verbose: int = 1,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model must be a retrograd.nn.Module, got {type(model).__name__}")
        if loss is not None and not callable(loss):
            raise TypeError(f"Trainer: loss must be callable as loss(outputs, target), got {type(loss).__name__}")
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError(f"Trainer: optimizer must be a retrograd.optim.Optimizer, got {type(optimizer).__name__}")
        if isinstance(metrics, (str, Metric)) or callable(metrics):
            metrics = (metrics,)
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.metrics = list(metrics)
        self._new_metrics()  # reject unknown names and duplicates now, not after the first epoch
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback instances, got {type(callback).__name__}")
        if scheduler is not None:
            LearningRateScheduler(scheduler, scheduler_interval)  # validates both now
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.scheduler_monitor = scheduler_monitor
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"Trainer: grad_clip must be a positive max norm, got {grad_clip!r}")
        self.grad_clip = grad_clip
        _check_verbose(verbose, "Trainer")
        self.verbose = verbose

        self.history = History()
        # Shuffles the data the trainer batches itself. Seeded by the first fit:
        # from its seed, or from the default generator (so retrograd.manual_seed
        # fixes it), unless a checkpoint restored its state first.
        self.generator = _random.Generator()
        self._generator_ready = False
        self.train_loader: Iterable | None = None
        self.params: dict[str, Any] = {}
        self.stop_training = False
        self.skip_step = False
        self.stop_reason: str | None = None
        self.epoch = 0
        self.batch = 0
        self.epochs_completed = 0
        self._tracker: _Tracker | None = None

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        train_data,
        *,
        epochs: int = 1,
        val_data=None,
        batch_size: int | None = 32,
        shuffle: bool = True,
        seed: int | None = None,
        initial_epoch: int = 0,
        resume_from: str | os.PathLike | None = None,
        verbose: int | None = None,
    ) -> History:
        """Train for epochs ``initial_epoch .. epochs - 1`` and return the ``History``.

        ``batch_size`` and ``shuffle`` apply to data given as a Dataset or
        arrays (``batch_size=None``: one batch of everything); a DataLoader
        keeps its own. ``seed`` seeds retrograd's default generator (dropout,
        random ops) and the shuffling generator (the trainer's, or the given
        DataLoader's), so a run repeats bit for bit; seed before building the
        model to fix its initial weights too. ``resume_from`` loads a checkpoint
        written by ``save_checkpoint`` or ``ModelCheckpoint`` and continues
        after its last epoch, exactly as the uninterrupted run would have.
        """
        if self.loss is None or self.optimizer is None:
            raise ValueError("Trainer.fit: needs a loss and an optimizer (Trainer(model, loss, optimizer))")
        _check_count(epochs, "epochs")
        _check_count(initial_epoch, "initial_epoch")
        verbose = self.verbose if verbose is None else _check_verbose(verbose, "Trainer.fit")

        self.train_loader = make_loader(train_data, batch_size, shuffle, self.generator, "fit", once_per_epoch=True)
        val_loader = None
        if val_data is not None:
            val_loader = make_loader(val_data, batch_size, False, None, "fit (val_data)", once_per_epoch=True)
        if seed is not None:
            _random.manual_seed(seed)
            for generator in self._generators().values():
                generator.manual_seed(_derived_seed(seed))
        elif not self._generator_ready:
            self.generator.manual_seed(int(_random.default_generator.numpy.integers(2**63)))
        self._generator_ready = True

        callbacks = self._callback_list(verbose, has_validation=val_loader is not None)
        self.params = {
            "epochs": epochs,
            "steps": _length(self.train_loader),
            "samples": _sample_count(self.train_loader),
            "verbose": verbose,
        }
        if resume_from is not None:
            if initial_epoch != 0:
                raise ValueError(
                    "Trainer.fit: give resume_from or initial_epoch, not both (the checkpoint has the epoch)"
                )
            self.load_checkpoint(resume_from)
            initial_epoch = self.epochs_completed
        else:
            self.epochs_completed = initial_epoch

        train_metrics, val_metrics = self._new_metrics(), self._new_metrics()
        self.stop_training = False
        self.stop_reason = None
        logs: dict[str, Any] = {}
        try:
            callbacks.on_train_begin({})
            for epoch in range(initial_epoch, epochs):
                if self.stop_training:
                    break
                self.epoch = epoch
                callbacks.on_epoch_begin(epoch, {})
                learning_rate = self.optimizer.param_groups[0]["lr"]
                logs = self._train_epoch(callbacks, train_metrics)
                if val_loader is not None:
                    val_logs = self._evaluate_loader(val_loader, val_metrics, "fit (val_data)")
                    logs.update({f"val_{name}": value for name, value in val_logs.items()})
                logs["lr"] = learning_rate
                self.epochs_completed = epoch + 1
                callbacks.on_epoch_end(epoch, logs)
            callbacks.on_train_end(logs)
        finally:
            for callback in callbacks:
                if isinstance(callback, ProgressBar):
                    callback.close()
            self._tracker = None
        return self.history

    def _callback_list(self, verbose: int, has_validation: bool) -> CallbackList:
        callbacks: list[Callback] = [self.history]
        if self.scheduler is not None:
            monitor = self.scheduler_monitor or ("val_loss" if has_validation else "loss")
            callbacks.append(LearningRateScheduler(self.scheduler, self.scheduler_interval, monitor))
        if self.grad_clip is not None:
            callbacks.append(GradientClipping(self.grad_clip))
        callbacks.extend(self.callbacks)
        if verbose:
            callbacks.append(ProgressBar(verbose))
        return CallbackList(callbacks, self)

    def _train_epoch(self, callbacks: CallbackList, metrics: list[Metric]) -> dict[str, Any]:
        tracker = self._tracker = _Tracker(metrics, has_loss=True)
        for batch_index, batch in enumerate(self.train_loader):
            self.batch = batch_index
            inputs, target = split_batch(batch, "fit")
            if target is None:
                raise ValueError("fit: each batch must hold the model's inputs and a target, got a single element")
            size = _batch_len(inputs)
            logs: dict[str, Any] = {"batch": batch_index, "size": size}
            callbacks.on_batch_begin(batch_index, logs)
            outputs = self.train_step(inputs, target, callbacks, logs)
            if not logs["skipped"]:
                tracker.update(logs["loss"], outputs, target, size)
            callbacks.on_batch_end(batch_index, logs)
            if self.stop_training:
                break
        return tracker.logs()

    def train_step(self, inputs: tuple[Tensor, ...], target: Tensor, callbacks: CallbackList, logs: dict[str, Any]):
        """One optimization step on one batch; returns the model's outputs. Sets
        ``logs["loss"]`` and ``logs["skipped"]``. Override to change what a step does."""
        self.model.train()
        outputs = self.model(*inputs)
        loss = self._compute_loss(outputs, target, "fit")
        self.optimizer.zero_grad()
        loss.backward()
        logs["loss"] = float(loss.item())
        self.skip_step = False
        callbacks.on_after_backward(self.batch, logs)
        if not self.skip_step:
            self.optimizer.step()
        logs["skipped"] = self.skip_step
        return outputs

    def _compute_loss(self, outputs, target, caller: str) -> Tensor:
        loss = self.loss(outputs, target)
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            what = f"a tensor of shape {tuple(loss.shape)}" if isinstance(loss, Tensor) else type(loss).__name__
            raise TypeError(
                f"{caller}: the loss function must return a scalar Tensor (reduction='mean' or 'sum'), got {what}"
            )
        return loss

    def running_logs(self) -> dict[str, Any]:
        """The current epoch's loss and metrics so far (what the progress bar shows)."""
        return self._tracker.logs() if self._tracker is not None else {}

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(self, data, *, batch_size: int | None = 32) -> dict[str, float]:
        """The mean loss (when the trainer has one) and each metric over ``data``,
        in eval mode and without recording gradients."""
        loader = make_loader(data, batch_size, False, None, "evaluate")
        return self._evaluate_loader(loader, self._new_metrics(), "evaluate")

    def _evaluate_loader(self, loader: Iterable, metrics: list[Metric], caller: str) -> dict[str, float]:
        tracker = _Tracker(metrics, has_loss=self.loss is not None)
        with _eval_mode(self.model), no_grad():
            for batch in loader:
                inputs, target = split_batch(batch, caller)
                outputs = self.model(*inputs)
                loss_value = None
                if self.loss is not None and target is not None:
                    loss_value = float(self._compute_loss(outputs, target, caller).item())
                tracker.update(loss_value, outputs, target, _batch_len(inputs))
        return tracker.logs()

    def predict(self, data, *, batch_size: int | None = 32):
        """The model's outputs for every sample of ``data``, batch after batch
        in eval mode without gradients, concatenated along dimension 0 (a tuple
        of such tensors for a model returning a tuple). Targets in ``data`` are ignored."""
        loader = make_loader(data, batch_size, False, None, "predict")
        outputs = []
        with _eval_mode(self.model), no_grad():
            for batch in loader:
                inputs, _ = split_batch(batch, "predict")
                outputs.append(self.model(*inputs))
        if not outputs:
            raise ValueError("predict: the data yielded no batches")
        if isinstance(outputs[0], Tensor):
            return cat(outputs, 0)
        if isinstance(outputs[0], (tuple, list)):
            return tuple(cat(list(parts), 0) for parts in zip(*outputs))
        raise TypeError(
            f"predict: the model returned {type(outputs[0]).__name__}, expected a Tensor or a tuple of them"
        )

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path: str | os.PathLike, extra: Any = None) -> None:
        """Write everything a resumed run needs to ``path`` (atomically): model,
        optimizer, scheduler, the number of completed epochs, the random
        generators (the default one and the shuffling ones), the history and
        the state of the callbacks, and ``extra`` (any JSON-like value)."""
        states = {key: state for key, callback in self._stateful_callbacks() if (state := callback.state_dict())}
        io.save_checkpoint(
            path,
            model=self.model,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            epoch=self.epochs_completed,
            extra={"callbacks": states, "user": extra},
            generators=self._generators(),
        )

    def load_checkpoint(self, path: str | os.PathLike) -> dict[str, Any]:
        """Restore what ``save_checkpoint`` wrote; ``fit(initial_epoch=trainer.epochs_completed)``
        (or ``fit(resume_from=path)``, which does both) then continues the run.
        Returns the checkpoint's contents (see ``retrograd.io.load_checkpoint``),
        with the ``extra`` given to ``save_checkpoint`` under ``"extra"``."""
        info = io.load_checkpoint(path, self.model, self.optimizer, self.scheduler, generators=self._generators())
        saved = info["extra"] if isinstance(info["extra"], dict) else {}
        states = saved.get("callbacks", {})
        for key, callback in self._stateful_callbacks():
            if key in states:
                callback.load_state_dict(states[key])
        self.epochs_completed = info["epoch"] or 0
        self._generator_ready = True
        info["extra"] = saved.get("user")
        return info

    def _stateful_callbacks(self) -> list[tuple[str, Callback]]:
        """The history and the user's callbacks under stable keys: the class name,
        with ``#2``, ``#3`` ... for repeats."""
        keyed, seen = [("History", self.history)], {}
        for callback in self.callbacks:
            name = type(callback).__name__
            seen[name] = seen.get(name, 0) + 1
            keyed.append((name if seen[name] == 1 else f"{name}#{seen[name]}", callback))
        return keyed

    def _generators(self) -> dict[str, _random.Generator]:
        """The generators that shuffle the training data: the trainer's own, and
        the training DataLoader's when it brings one."""
        generators = {"shuffle": self.generator}
        loader_generator = getattr(self.train_loader, "generator", None)
        if isinstance(loader_generator, _random.Generator) and loader_generator is not self.generator:
            generators["train_loader"] = loader_generator
        return generators

    # ------------------------------------------------------------------ helpers
    def _new_metrics(self) -> list[Metric]:
        """Fresh metric objects (copies of given ``Metric`` objects, so training
        and validation keep separate counts)."""
        metrics = [copy.deepcopy(spec) if isinstance(spec, Metric) else get_metric(spec) for spec in self.metrics]
        names = [metric.name for metric in metrics]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates or "loss" in names:
            raise ValueError(f"Trainer: metric names must be unique and not 'loss', got {names}")
        return metrics

    def __repr__(self) -> str:
        return (
            f"Trainer(model={type(self.model).__name__}, loss={_name_of(self.loss)}, "
            f"optimizer={type(self.optimizer).__name__}, metrics={[m.name for m in self._new_metrics()]})"
        )


class _Tracker:
    """The running mean loss (weighted by batch size) and metrics of one pass over the data."""

    def __init__(self, metrics: list[Metric], has_loss: bool) -> None:
        self.metrics = metrics
        for metric in metrics:
            metric.reset()
        self.has_loss = has_loss
        self.loss_sum = 0.0
        self.samples = 0

    def update(self, loss_value: float | None, outputs, target, size: int) -> None:
        if loss_value is not None:
            self.loss_sum += loss_value * size
            self.samples += size
        if target is not None:
            with no_grad():
                for metric in self.metrics:
                    metric.update(outputs, target)

    def logs(self) -> dict[str, float]:
        logs = {}
        if self.has_loss:
            logs["loss"] = self.loss_sum / self.samples if self.samples else float("nan")
        for metric in self.metrics:
            logs[metric.name] = metric.compute()
        return logs


@contextlib.contextmanager
def _eval_mode(model: Module):
    """``model.eval()`` inside the block; the model's previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


# ------------------------------------------------------------------ data


def make_loader(
    data, batch_size: int | None, shuffle: bool, generator, caller: str, once_per_epoch: bool = False
) -> Iterable:
    """An iterable of batches from ``data``: a DataLoader as it is; a Dataset,
    or a tuple (or a list of only arrays and tensors) of fields whose rows are
    the samples, in a DataLoader with ``batch_size`` (``None``: all samples in
    one batch) and ``shuffle`` drawing from ``generator``; any other iterable
    (a list of batches, say) as it is. ``once_per_epoch`` refuses one-shot iterators, which would be empty
    after the first epoch."""
    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1):
        raise ValueError(f"{caller}: batch_size must be a positive integer or None (full batch), got {batch_size!r}")
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (Tensor, np.ndarray)):
        data = (data,)
    if isinstance(data, tuple) or (
        isinstance(data, list) and data and all(isinstance(item, (Tensor, np.ndarray)) for item in data)
    ):
        if not data:
            raise ValueError(f"{caller}: got an empty tuple of arrays")
        dataset = TensorDataset(*(as_tensor(field) for field in data))
    elif isinstance(data, Dataset) or (
        not isinstance(data, list) and hasattr(data, "__getitem__") and hasattr(data, "__len__")
    ):
        dataset = data
    elif isinstance(data, Iterable):
        if once_per_epoch and iter(data) is data:
            raise TypeError(
                f"{caller}: got a one-shot iterator ({type(data).__name__}), which is empty after the first epoch; "
                "pass a DataLoader, a Dataset, arrays (X, y) or a list of batches"
            )
        return data
    else:
        raise TypeError(
            f"{caller}: expected a DataLoader, a Dataset, a tuple of arrays or tensors (X, y), or an iterable of "
            f"batches; got {type(data).__name__}"
        )
    if isinstance(dataset, IterableDataset):
        return DataLoader(dataset, batch_size=batch_size or 1)
    if batch_size is None:
        batch_size = max(1, len(dataset))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator if shuffle else None)


def split_batch(batch, caller: str) -> tuple[tuple[Tensor, ...], Tensor | None]:
    """``(inputs, target)`` of a batch: its last element is the target and the
    others the model's inputs; a batch of one element (or a bare tensor) has no target."""
    if isinstance(batch, (Tensor, np.ndarray)):
        return (as_tensor(batch),), None
    if isinstance(batch, Mapping) or not isinstance(batch, Sequence) or isinstance(batch, str) or len(batch) == 0:
        raise TypeError(
            f"{caller}: a batch must be a tensor or a sequence (inputs..., target) of tensors, got "
            f"{type(batch).__name__}{' (empty)' if isinstance(batch, Sequence) else ''}; give the DataLoader a "
            "collate_fn that returns one"
        )
    fields = tuple(field if isinstance(field, Tensor) else as_tensor(field) for field in batch)
    if len(fields) == 1:
        return fields, None
    return fields[:-1], fields[-1]


def _batch_len(inputs: tuple[Tensor, ...]) -> int:
    first = inputs[0]
    return first.shape[0] if first.ndim else 1


def _length(loader) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def _sample_count(loader) -> int | None:
    """The samples one epoch of ``loader`` yields, when that is known."""
    if isinstance(loader, DataLoader):
        if loader.batch_size is not None and loader.drop_last:
            steps = _length(loader)
            return None if steps is None else steps * loader.batch_size
        return _length(loader.dataset) if loader.batch_size is not None or loader.batch_sampler is not None else None
    return None


def _check_count(value, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"Trainer.fit: {name} must be a non-negative integer, got {value!r}")


def _check_verbose(verbose, caller: str) -> int:
    if verbose not in (0, 1, 2):
        raise ValueError(
            f"{caller}: verbose must be 0 (silent), 1 (progress bar and summary) or 2 (summary only), got {verbose!r}"
        )
    return int(verbose)


def _derived_seed(seed: int) -> int:
    """A seed for the shuffling stream, derived from ``seed`` but independent of the default generator's stream."""
    state = np.random.SeedSequence([int(seed) & (2**64 - 1), 0x5EED]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def _name_of(obj) -> str:
    if obj is None:
        return "None"
    return getattr(obj, "__name__", type(obj).__name__)


# ------------------------------------------------------------------ one-call API


def fit(
    model: Module,
    train_data,
    *,
    loss: Callable[[Any, Any], Tensor],
    optimizer: Optimizer,
    epochs: int = 1,
    val_data=None,
    metrics: Sequence[MetricSpec] = ("accuracy",),
    callbacks: Iterable[Callback] = (),
    batch_size: int | None = 32,
    shuffle: bool = True,
    seed: int | None = None,
    verbose: int = 1,
    scheduler=None,
    scheduler_interval: str = "epoch",
    grad_clip: float | None = None,
    initial_epoch: int = 0,
    resume_from: str | os.PathLike | None = None,
) -> History:
    """Train ``model`` on ``train_data`` and return the ``History``: a ``Trainer``
    built from the arguments, then ``Trainer.fit``. See ``Trainer`` for the arguments."""
    trainer = Trainer(
        model,
        loss,
        optimizer,
        metrics=metrics,
        callbacks=callbacks,
        scheduler=scheduler,
        scheduler_interval=scheduler_interval,
        grad_clip=grad_clip,
        verbose=verbose,
    )
    return trainer.fit(
        train_data,
        epochs=epochs,
        val_data=val_data,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        initial_epoch=initial_epoch,
        resume_from=resume_from,
    )


def evaluate(
    model: Module,
    data,
    *,
    loss: Callable[[Any, Any], Tensor] | None = None,
    metrics: Sequence[MetricSpec] = ("accuracy",),
    batch_size: int | None = 32,
) -> dict[str, float]:
    """``{"loss": ..., "<metric>": ...}`` of ``model`` over ``data`` (eval mode, no gradients)."""
    return Trainer(model, loss, metrics=metrics, verbose=0).evaluate(data, batch_size=batch_size)


def predict(model: Module, data, *, batch_size: int | None = 32):
    """``model``'s outputs for all of ``data``, concatenated (eval mode, no gradients)."""
    return Trainer(model, metrics=(), verbose=0).predict(data, batch_size=batch_size)
