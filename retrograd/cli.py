"""The ``retrograd`` command (also ``python -m retrograd``).

    retrograd train --data fashion-mnist --model mlp --epochs 10 --out runs/fmnist
    retrograd train --out runs/fmnist --resume --epochs 15     # continue that run
    retrograd evaluate --run runs/fmnist                       # test metrics of its best checkpoint
    retrograd demo                                             # Fashion-MNIST MLP, report in runs/demo
    retrograd explain neuron                                   # one training step, every number shown

A run folder (``--out``) holds everything about one training run:

    config.json          the settings, the data's shape and class names
    scaler.safetensors   the input standardisation fitted on the training split
    last.safetensors     full checkpoint after the latest epoch (what --resume continues)
    best.safetensors     full checkpoint of the epoch with the lowest validation loss
    history.json         loss, accuracy and learning rate per epoch
    metrics.json         the test metrics of the trained model, per class too
    loss.png, accuracy.png, confusion_matrix.png, predictions.png (or decision_regions.png)
    report.md, report.html

A bad request (unknown dataset, a negative count, a missing run folder, an
unreadable file) prints one line ``retrograd: error: ...`` on stderr and exits
with status 2; ``retrograd --debug ...`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import __version__, io, nn, optim
from . import random as _random
from .data import files as data_files
from .data import transforms
from .diagnose.explain import EXAMPLES as EXPLAIN_EXAMPLES
from .diagnose.explain import FORMATS as EXPLAIN_FORMATS
from .models import MODELS, build_model
from .tensor import _wrap
from .train import Callback, ModelCheckpoint, Trainer

__all__ = ["main", "CLIError", "DATASETS", "load_splits", "run_training", "evaluate_run", "run_demo"]


class CLIError(Exception):
    """A request the command cannot carry out: printed as one line, exit status 2."""


# ====================================================================== datasets


@dataclass
class Splits:
    """One dataset as the command uses it: float32 inputs and int64 labels for
    training, validation (carved out of the training data) and test."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def is_image(self) -> bool:
        return len(self.sample_shape) == 3


@dataclass(frozen=True)
class DatasetInfo:
    """How to load a dataset: ``load(download, root)`` returns
    ``((x_train, y_train), (x_test, y_test))`` NumPy arrays."""

    load: Callable[[bool, str | None], tuple]
    class_names: tuple[str, ...]
    description: str
    title: str  # the dataset's name in prose


def _idx_images(loader_name: str):
    def load(download: bool, root: str | None):
        from . import data

        loader = getattr(data, loader_name)
        return loader(root, flatten=False, download=download, return_arrays=True)

    return load


def _digits(download: bool, root: str | None):
    from .data import load_digits

    return load_digits(flatten=False, return_arrays=True)


def _mnist1d(download: bool, root: str | None):
    from .data import load_mnist1d

    return load_mnist1d(root, return_arrays=True)


def _toy(maker_name: str, n_train: int = 1000, n_test: int = 500, **options):
    """A 2-D toy set: training and test samples are independent draws (seeds 0 and 1)."""

    def load(download: bool, root: str | None):
        from . import data

        maker = getattr(data, maker_name)
        x_train, y_train = maker(n_train, seed=0, **options)
        x_test, y_test = maker(n_test, seed=1, **options)
        return (x_train.numpy(), y_train.numpy()), (x_test.numpy(), y_test.numpy())

    return load


_DIGIT_NAMES = tuple(str(digit) for digit in range(10))
_FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

DATASETS: dict[str, DatasetInfo] = {
    "fashion-mnist": DatasetInfo(
        _idx_images("load_fashion_mnist"),
        _FASHION_NAMES,
        "Zalando's 28x28 clothing images, 60000 + 10000",
        "Fashion-MNIST",
    ),
    "mnist": DatasetInfo(_idx_images("load_mnist"), _DIGIT_NAMES, "28x28 handwritten digits, 60000 + 10000", "MNIST"),
    "digits": DatasetInfo(
        _digits, _DIGIT_NAMES, "scikit-learn's 1797 8x8 digits, 80/20 split", "scikit-learn's digits"
    ),
    "mnist1d": DatasetInfo(_mnist1d, _DIGIT_NAMES, "MNIST-1D signals of length 40, 4000 + 1000", "MNIST-1D"),
    "moons": DatasetInfo(
        _toy("make_moons", noise=0.2), ("upper", "lower"), "two interleaved half circles (2-D)", "the moons"
    ),
    "circles": DatasetInfo(
        _toy("make_circles", noise=0.1, factor=0.5), ("outer", "inner"), "two concentric circles (2-D)", "the circles"
    ),
    "spiral": DatasetInfo(_toy("make_spiral"), ("arm 1", "arm 2", "arm 3"), "three spiral arms (2-D)", "the spiral"),
    "xor": DatasetInfo(_toy("make_xor", noise=0.05), ("same sign", "different sign"), "the XOR quadrants (2-D)", "XOR"),
    "blobs": DatasetInfo(
        _toy("make_blobs", noise=1.5), ("blob 1", "blob 2", "blob 3"), "three Gaussian blobs (2-D)", "the blobs"
    ),
}

# The data split (validation carve-out) is fixed, so runs with different --seed
# values train and validate on the same samples and are comparable.
_SPLIT_SEED = 0


def load_splits(name: str, *, val_split: float = 0.1, download: bool = False, root: str | None = None) -> Splits:
    """Load dataset ``name`` (a key of ``DATASETS``) and hold out ``val_split``
    of its training samples (a fixed random choice) for validation."""
    if name not in DATASETS:
        raise CLIError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    info = DATASETS[name]
    (x_train, y_train), (x_test, y_test) = info.load(download, root)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(x_train))
    n_val = round(val_split * len(x_train))
    val, train = order[:n_val], order[n_val:]
    return Splits(
        name,
        np.ascontiguousarray(x_train[train], dtype=np.float32),
        y_train[train].astype(np.int64),
        np.ascontiguousarray(x_train[val], dtype=np.float32),
        y_train[val].astype(np.int64),
        np.ascontiguousarray(x_test, dtype=np.float32),
        y_test.astype(np.int64),
        list(info.class_names),
    )


# ====================================================================== run folders

CONFIG_FILE = "config.json"
SCALER_FILE = "scaler.safetensors"
LAST_CHECKPOINT = "last.safetensors"
BEST_CHECKPOINT = "best.safetensors"
HISTORY_FILE = "history.json"
METRICS_FILE = "metrics.json"


def _write_json(path: Path, value: Any) -> None:
    with data_files.atomic_write(path) as file:
        file.write((json.dumps(value, indent=2, default=_json_default) + "\n").encode("utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _read_config(run_dir: Path) -> dict[str, Any]:
    if not run_dir.is_dir():
        raise CLIError(f"run folder {str(run_dir)!r} not found")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise CLIError(f"{str(run_dir)!r} is not a retrograd run folder (it has no {CONFIG_FILE})")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CLIError(f"cannot read {path}: {error}") from None
    if not isinstance(config, dict) or "data" not in config or "model" not in config:
        raise CLIError(f"{path} is not a retrograd run configuration")
    return config


def _save_scaler(scaler: transforms.Standardize, path: Path) -> None:
    io.save({"mean": scaler.mean.astype(np.float64), "std": scaler.std.astype(np.float64)}, path)


def _load_scaler(path: Path) -> transforms.Standardize:
    if not path.is_file():
        raise CLIError(f"{path} not found: the run folder is incomplete")
    state = io.load(path)
    scaler = transforms.Standardize("feature")
    scaler.mean, scaler.std = state["mean"].numpy(), state["std"].numpy()
    return scaler


# ====================================================================== training

DEFAULT_LR = {"sgd": 0.01, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}
SCHEDULES = ("constant", "cosine")


@dataclass
class TrainConfig:
    """The settings of one training run (what ``config.json`` records)."""

    data: str = "fashion-mnist"
    model: str = "mlp"
    epochs: int = 10
    optimizer: str = "adam"
    lr: float | None = None  # None: the optimizer's usual rate (DEFAULT_LR)
    batch_size: int = 128
    seed: int = 0
    val_split: float = 0.1
    schedule: str = "constant"
    weight_decay: float = 0.0
    momentum: float = 0.9
    hidden: list[int] | None = None  # the MLP's hidden layer sizes
    dropout: float = 0.0  # the MLP's dropout after each hidden layer

    def __post_init__(self) -> None:
        if self.lr is None:
            self.lr = DEFAULT_LR[self.optimizer]
        if self.model == "mlp" and self.hidden is None:
            self.hidden = [256, 128]

    def model_options(self) -> dict[str, Any]:
        if self.model != "mlp":
            return {}
        return {"hidden": tuple(self.hidden or (256, 128)), "dropout": self.dropout}

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _make_optimizer(config: TrainConfig, parameters) -> optim.Optimizer:
    name, lr, decay = config.optimizer, config.lr, config.weight_decay
    if name == "sgd":
        return optim.SGD(parameters, lr=lr, momentum=config.momentum, weight_decay=decay)
    if name == "adam":
        return optim.Adam(parameters, lr=lr, weight_decay=decay)
    if name == "adamw":
        return optim.AdamW(parameters, lr=lr, weight_decay=decay or 1e-2)
    if name == "rmsprop":
        return optim.RMSprop(parameters, lr=lr, momentum=config.momentum, weight_decay=decay)
    if name == "adagrad":
        return optim.Adagrad(parameters, lr=lr, weight_decay=decay)
    raise CLIError(f"unknown optimizer {name!r}; choose one of {', '.join(DEFAULT_LR)}")


def _make_scheduler(config: TrainConfig, optimizer: optim.Optimizer):
    if config.schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    return None


class EpochTimer(Callback):
    """Wall time of each epoch (training and validation), kept across resumed runs."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.seconds.append(time.perf_counter() - self._started)

    def state_dict(self) -> dict[str, Any]:
        return {"seconds": list(self.seconds)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seconds = list(state["seconds"])


@dataclass
class RunResult:
    """What ``run_training`` and ``evaluate_run`` found."""

    run_dir: Path
    test_metrics: dict[str, float]
    confusion: np.ndarray
    class_names: list[str]
    checkpoint: Path
    train_seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, flush=True)


def run_training(
    config: TrainConfig,
    out: str | os.PathLike,
    *,
    resume: bool = False,
    quiet: bool = False,
    monitor_gradients: bool = False,
    download: bool = False,
    data_root: str | None = None,
    splits: Splits | None = None,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> RunResult:
    """Train ``config`` into the run folder ``out`` (continuing its last
    checkpoint with ``resume``), then score the trained model on the test
    split and write metrics, plots and the report. ``splits`` supplies
    already-loaded data (else it is loaded here)."""
    run_dir = Path(out)
    if splits is None:
        _say(quiet, f"Loading {config.data} ...")
        splits = load_splits(config.data, val_split=config.val_split, download=download, root=data_root)

    # Standardise with statistics of the training split only: validation and test data never leak into them.
    scaler = transforms.Standardize("feature").fit(splits.x_train)
    x_train, x_val, x_test = scaler(splits.x_train), scaler(splits.x_val), scaler(splits.x_test)
    has_validation = len(x_val) > 0

    _random.manual_seed(config.seed)
    model = _build(config, splits)
    optimizer = _make_optimizer(config, model.parameters())
    scheduler = _make_scheduler(config, optimizer)
    timer = EpochTimer()
    # The lowest validation loss marks the best epoch: unlike accuracy on a small validation
    # split it rarely ties, and it moves with the model's confidence, not only its hard decisions.
    monitor = "val_loss" if has_validation else "loss"
    callbacks: list[Callback] = [
        ModelCheckpoint(run_dir / LAST_CHECKPOINT, save_best_only=False),
        ModelCheckpoint(run_dir / BEST_CHECKPOINT, monitor=monitor, save_best_only=True),
        timer,
    ]
    gradient_flow = None
    if monitor_gradients:
        from .diagnose.gradient_flow import GradientFlowCallback

        gradient_flow = GradientFlowCallback(
            every=10, plot_path=run_dir / "gradient_flow.png", markdown_path=run_dir / "gradient_flow.md", verbose=False
        )
        callbacks.append(gradient_flow)
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        metrics=["accuracy"],
        callbacks=callbacks,
        scheduler=scheduler,
        verbose=0 if quiet else 1,
    )

    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        # A fresh run replaces an earlier one's checkpoints rather than competing with its best value.
        for stale in (LAST_CHECKPOINT, BEST_CHECKPOINT):
            (run_dir / stale).unlink(missing_ok=True)
    record = {
        **config.to_dict(),
        "input_shape": list(splits.sample_shape),
        "num_classes": splits.num_classes,
        "class_names": splits.class_names,
        "samples": {"train": len(x_train), "validation": len(x_val), "test": len(x_test)},
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
        "retrograd": __version__,
    }
    _write_json(run_dir / CONFIG_FILE, record)
    _save_scaler(scaler, run_dir / SCALER_FILE)

    parameters = record["parameters"]
    _say(
        quiet,
        f"Training {config.model} ({parameters:,} parameters) on {config.data}: {len(x_train)} training, "
        f"{len(x_val)} validation, {len(x_test)} test samples; {config.optimizer} lr {config.lr:g}, "
        f"batch {config.batch_size}, {config.epochs} epochs",
    )
    started = time.perf_counter()
    trainer.fit(
        (_wrap(x_train), _wrap(splits.y_train)),
        epochs=config.epochs,
        val_data=(_wrap(x_val), _wrap(splits.y_val)) if has_validation else None,
        batch_size=config.batch_size,
        seed=None if resume else config.seed,
        resume_from=run_dir / LAST_CHECKPOINT if resume else None,
    )
    train_seconds = time.perf_counter() - started
    history = trainer.history
    _write_json(run_dir / HISTORY_FILE, {**history.state_dict(), "epoch_seconds": timer.seconds})

    # The test split scores the model as training left it (no choice among epochs by test or validation data).
    checkpoint = run_dir / LAST_CHECKPOINT
    test_metrics, confusion, predicted = _test(model, x_test, splits.y_test, splits.num_classes, config.batch_size)
    best_epoch = _best_epoch(history, monitor)

    run_notes = list(notes)
    run_notes.append(
        f"Trained {len(history)} epochs in {sum(timer.seconds):.1f} s ({train_seconds:.1f} s in this session)."
    )
    run_notes.append(f"Test metrics are those of the final weights (`{checkpoint.name}`).")
    if best_epoch is not None:
        run_notes.append(f"The lowest {monitor} came at epoch {best_epoch} (`{BEST_CHECKPOINT}`).")
    plots = _draw_plots(run_dir, history, confusion, splits, predicted, model, scaler)
    if gradient_flow is not None and gradient_flow.monitor is not None and len(gradient_flow.monitor.history):
        plots["Gradient norm by layer"] = "gradient_flow.png"
        findings = gradient_flow.findings
        verdict = "; ".join(finding.title for finding in findings) if findings else "no problems found"
        run_notes.append(f"Gradient flow: {verdict} (details in `gradient_flow.md`).")

    metrics_record = {
        "checkpoint": checkpoint.name,
        "best_epoch": best_epoch,
        "test": test_metrics,
        "per_class": _per_class_record(confusion, splits.class_names),
        "confusion_matrix": confusion.tolist(),
        "train_seconds": sum(timer.seconds),
    }
    _write_json(run_dir / METRICS_FILE, metrics_record)

    from .report import RunSummary, write_report

    summary = RunSummary(
        title=title or f"retrograd run: {config.model} on {DATASETS[config.data].title}",
        config=record,
        history=history,
        test_metrics=test_metrics,
        confusion=confusion,
        class_names=splits.class_names,
        plots=plots,
        notes=run_notes,
        epoch_seconds=timer.seconds,
    )
    files = [run_dir / name for name in plots.values()]
    files += write_report(summary, run_dir)
    return RunResult(run_dir, test_metrics, confusion, splits.class_names, checkpoint, train_seconds, files)


def _build(config: TrainConfig, splits: Splits) -> nn.Module:
    try:
        return build_model(config.model, splits.sample_shape, splits.num_classes, **config.model_options())
    except ValueError as error:
        raise CLIError(f"cannot build --model {config.model} for --data {config.data}: {error}") from None


def _test(model: nn.Module, x: np.ndarray, y: np.ndarray, num_classes: int, batch_size: int):
    """``(metrics, confusion matrix, predicted labels)`` of ``model`` on ``(x, y)``."""
    from .train import metrics as metric_functions

    trainer = Trainer(model, nn.CrossEntropyLoss(), metrics=["accuracy"], verbose=0)
    batch = max(batch_size, 256)
    scores = trainer.evaluate((_wrap(x), _wrap(y)), batch_size=batch)
    logits = trainer.predict((_wrap(x),), batch_size=batch)
    predicted = logits.numpy().argmax(axis=1)
    confusion = metric_functions.confusion_matrix(predicted, y, num_classes)
    return {"loss": float(scores["loss"]), "accuracy": float(scores["accuracy"])}, confusion, predicted


def _best_epoch(history, monitor: str) -> int | None:
    if monitor not in history:
        return None
    epoch, _ = history.best(monitor)
    return epoch + 1


def _per_class_record(confusion: np.ndarray, class_names: Sequence[str]) -> dict[str, dict[str, float]]:
    from .report import per_class_metrics

    return dict(zip(class_names, per_class_metrics(confusion)))


def _draw_plots(run_dir: Path, history, confusion, splits: Splits, predicted, model, scaler) -> dict[str, str]:
    from .report import plot_confusion_matrix, plot_decision_boundary, plot_metric, plot_predictions

    plots: dict[str, str] = {}
    plot_metric(history, "loss", run_dir / "loss.png", title="Loss per epoch")
    plots["Loss"] = "loss.png"
    if "accuracy" in history:
        plot_metric(history, "accuracy", run_dir / "accuracy.png", title="Accuracy per epoch")
        plots["Accuracy"] = "accuracy.png"
    plot_confusion_matrix(confusion, splits.class_names, run_dir / "confusion_matrix.png")
    plots["Confusion matrix (test split)"] = "confusion_matrix.png"
    if splits.is_image:
        plot_predictions(
            splits.x_test[:32], predicted[:32], splits.y_test[:32], splits.class_names, run_dir / "predictions.png"
        )
        plots["Predictions on the first test images"] = "predictions.png"
    elif splits.sample_shape == (2,):

        def predict_classes(points: np.ndarray) -> np.ndarray:
            logits = Trainer(model, verbose=0, metrics=()).predict((_wrap(scaler(points)),), batch_size=4096)
            return logits.numpy().argmax(axis=1)

        plot_decision_boundary(
            predict_classes,
            splits.x_test,
            splits.y_test,
            run_dir / "decision_regions.png",
            class_names=splits.class_names,
        )
        plots["Decision regions with the test samples"] = "decision_regions.png"
    return plots


# ====================================================================== evaluate


def evaluate_run(
    run: str | os.PathLike,
    *,
    data: str | None = None,
    checkpoint: str = "last",
    download: bool = False,
    data_root: str | None = None,
) -> RunResult:
    """Load a run folder's model from its ``last`` (final) or ``best`` (lowest
    validation loss) checkpoint and score it on the test split of its dataset (or of ``data``, which must have
    samples of the same shape and the same number of classes)."""
    run_dir = Path(run)
    saved = _read_config(run_dir)
    known = {name: saved[name] for name in TrainConfig.__dataclass_fields__ if name in saved}
    config = TrainConfig(**known)
    path = run_dir / (BEST_CHECKPOINT if checkpoint == "best" else LAST_CHECKPOINT)
    if not path.is_file():
        raise CLIError(f"{str(run_dir)!r} has no checkpoint ({path.name} not found)")

    splits = load_splits(data or config.data, val_split=0.0, download=download, root=data_root)
    expected_shape = tuple(saved.get("input_shape", splits.sample_shape))
    if splits.sample_shape != expected_shape or splits.num_classes != saved.get("num_classes", splits.num_classes):
        raise CLIError(
            f"--data {splits.name} has samples of shape {splits.sample_shape} in {splits.num_classes} classes; "
            f"the model of {str(run_dir)!r} expects {expected_shape} in {saved.get('num_classes')} classes"
        )
    scaler = _load_scaler(run_dir / SCALER_FILE)
    model = _build(config, splits)
    io.load_checkpoint(path, model, restore_rng=False)
    x_test = scaler(splits.x_test)
    test_metrics, confusion, _ = _test(model, x_test, splits.y_test, splits.num_classes, config.batch_size)
    return RunResult(run_dir, test_metrics, confusion, splits.class_names, path)


def _print_evaluation(result: RunResult, data_name: str) -> None:
    from .report import per_class_metrics

    metrics = result.test_metrics
    print(f"Checkpoint: {result.checkpoint}")
    print(f"Test split of {data_name}: {int(result.confusion.sum())} samples")
    print(f"Test accuracy: {100 * metrics['accuracy']:.2f}%   test loss: {metrics['loss']:.4f}")
    print()
    width = max(len("macro avg"), *(len(name) for name in result.class_names))
    print(f"{'class':<{width}}  precision  recall     F1  support")
    scores = per_class_metrics(result.confusion)
    for name, score in zip(result.class_names, scores):
        print(
            f"{name:<{width}}  {score['precision']:9.3f}  {score['recall']:6.3f}  {score['f1']:5.3f}  "
            f"{score['support']:7d}"
        )
    macro = [float(np.mean([score[key] for score in scores])) for key in ("precision", "recall", "f1")]
    print(
        f"{'macro avg':<{width}}  {macro[0]:9.3f}  {macro[1]:6.3f}  {macro[2]:5.3f}  {int(result.confusion.sum()):7d}"
    )


# ====================================================================== demo

DEMO_CONFIG = TrainConfig(
    data="fashion-mnist",
    model="mlp",
    epochs=10,
    optimizer="adam",
    lr=1e-3,
    batch_size=128,
    seed=0,
    val_split=0.1,
    schedule="cosine",
    hidden=[256, 128],
)
# scikit-learn's digits are small (1294 training images, 10 batches of 128):
# there the same network trains for more epochs of smaller batches, with
# dropout against overfitting so few images (see docs/results.md).
DEMO_FALLBACK_EPOCHS = 40
DEMO_FALLBACK_BATCH_SIZE = 32
DEMO_FALLBACK_DROPOUT = 0.2


def run_demo(
    out: str | os.PathLike = "runs/demo", *, epochs: int | None = None, quiet: bool = False, download: bool = False
) -> RunResult:
    """The demo: the 784-256-128-10 MLP on Fashion-MNIST (Adam, lr 1e-3 on a
    cosine schedule, batch 128, inputs standardised with the training split's
    statistics), or on scikit-learn's digits when Fashion-MNIST is not
    installed; report and plots go to ``out``."""
    config = TrainConfig(**DEMO_CONFIG.to_dict())
    notes = []
    try:
        _say(quiet, "Loading Fashion-MNIST ...")
        splits = load_splits(config.data, val_split=config.val_split, download=download)
    except FileNotFoundError:
        places = ", ".join(str(path) for path in data_files.search_dirs("fashion-mnist"))
        note = (
            f"Fashion-MNIST was not found (looked in {places}; install Debian's dataset-fashion-mnist package, "
            "set RETROGRAD_DATA, or pass --download), so the demo trains on scikit-learn's 8x8 digits instead."
        )
        print(f"Note: {note}", flush=True)
        notes.append(note)
        config.data, config.epochs = "digits", DEMO_FALLBACK_EPOCHS
        config.batch_size, config.dropout = DEMO_FALLBACK_BATCH_SIZE, DEMO_FALLBACK_DROPOUT
        splits = load_splits(config.data, val_split=config.val_split)
    if epochs is not None:
        config.epochs = epochs
    result = run_training(
        config,
        out,
        quiet=quiet,
        splits=splits,
        title=f"retrograd demo: an MLP on {DATASETS[config.data].title}",
        notes=notes,
    )
    accuracy = result.test_metrics["accuracy"]
    print(
        f"Final test accuracy: {100 * accuracy:.2f}% on {DATASETS[config.data].title} "
        f"(training took {result.train_seconds:.1f} s)"
    )
    _print_outputs(result)
    return result


def _print_outputs(result: RunResult) -> None:
    report = result.run_dir / "report.md"
    pictures = ", ".join(path.name for path in result.files if path.suffix == ".png")
    print(f"Report: {report} (and {report.with_suffix('.html').name}, self-contained)")
    print(f"Plots in {result.run_dir}: {pictures}")


# ====================================================================== argument parsing


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``retrograd: error: <what> (see '<prog> --help')``, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"retrograd: error: {message} (see '{self.prog} --help')\n")


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a non-negative number, got {text}")
    return value


def _fraction(text: str) -> float:
    value = _non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 256,128, got {text!r}"
        ) from None
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"expected positive layer sizes such as 256,128, got {text!r}")
    return sizes


def _choice(choices: Sequence[str], what: str) -> Callable[[str], str]:
    """A type that names the valid choices in its error (clearer than argparse's quoting)."""

    def parse(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"unknown {what} {text!r}; choose one of {', '.join(choices)}")
        return text

    parse.__name__ = what
    return parse


_DATASET_HELP = "; ".join(f"{name}: {info.description}" for name, info in DATASETS.items())

# Settings of `train` that a resumed run takes from its config.json; given with --resume, they must agree.
_RESUMABLE = (
    "data",
    "model",
    "optimizer",
    "lr",
    "batch_size",
    "seed",
    "val_split",
    "schedule",
    "weight_decay",
    "momentum",
    "hidden",
    "dropout",
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="retrograd",
        description="Train, evaluate and explain neural networks with retrograd's own backpropagation engine.",
        epilog="Run 'retrograd COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"retrograd {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback when a command fails")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser(
        "train",
        help="train a model and write checkpoints, plots and a report",
        description=(
            "Train a classifier; checkpoints (best and last), history, metrics, plots and a Markdown/HTML report "
            "go into the run folder --out. Inputs are standardised with statistics of the training split; "
            "a fixed part of the training data (--val-split) is held out for validation. The final model is "
            "scored on the test split; best.safetensors keeps the epoch with the lowest validation loss."
        ),
        epilog=f"Datasets: {_DATASET_HELP}.",
    )
    train.add_argument(
        "--data", type=_choice(list(DATASETS), "dataset"), metavar="NAME", help="dataset (default: fashion-mnist)"
    )
    train.add_argument(
        "--model",
        type=_choice(list(MODELS), "model"),
        metavar="NAME",
        help="mlp, cnn, lstm or transformer (default: mlp)",
    )
    train.add_argument("--epochs", type=_count(1), metavar="N", help="total number of epochs (default: 10)")
    train.add_argument(
        "--optimizer",
        type=_choice(list(DEFAULT_LR), "optimizer"),
        metavar="NAME",
        help="sgd, adam, adamw, rmsprop or adagrad (default: adam)",
    )
    train.add_argument(
        "--lr",
        type=_positive_float,
        metavar="LR",
        help="learning rate (default: 0.01 for sgd and adagrad, 0.001 for the others)",
    )
    train.add_argument("--batch-size", type=_count(1), metavar="N", help="samples per batch (default: 128)")
    train.add_argument(
        "--seed", type=_count(0), metavar="N", help="seed of the weights' initialisation and of shuffling (default: 0)"
    )
    train.add_argument(
        "--val-split",
        type=_fraction,
        metavar="F",
        help="share of the training data held out for validation (default: 0.1)",
    )
    train.add_argument(
        "--schedule",
        type=_choice(SCHEDULES, "schedule"),
        metavar="NAME",
        help="learning-rate schedule per epoch: constant or cosine (default: constant)",
    )
    train.add_argument(
        "--weight-decay", type=_non_negative_float, metavar="W", help="L2 penalty (default: 0; AdamW: 0.01)"
    )
    train.add_argument("--momentum", type=_fraction, metavar="M", help="momentum of sgd and rmsprop (default: 0.9)")
    train.add_argument(
        "--hidden", type=_sizes, metavar="SIZES", help="hidden layer sizes of the mlp, e.g. 256,128 (default)"
    )
    train.add_argument(
        "--dropout", type=_fraction, metavar="P", help="dropout after each hidden layer of the mlp (default: 0)"
    )
    train.add_argument("--out", metavar="DIR", help="run folder (default: runs/DATA-MODEL)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    train.add_argument("--force", action="store_true", help="overwrite a run already in --out")
    train.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    train.add_argument(
        "--monitor-gradients",
        action="store_true",
        help="record gradient flow per layer; adds a plot and findings to the report",
    )
    train.add_argument("--download", action="store_true", help="download a missing dataset (checksum-verified)")
    train.add_argument(
        "--data-root", metavar="DIR", help="folder holding the dataset's files (default: the standard search path)"
    )

    evaluate = commands.add_parser(
        "evaluate",
        help="score a trained run on its test split",
        description="Load a run's checkpoint and print test accuracy, loss and per-class precision, recall and F1.",
        epilog=f"Datasets: {_DATASET_HELP}.",
    )
    evaluate.add_argument("--run", required=True, metavar="DIR", help="run folder written by 'retrograd train'")
    evaluate.add_argument(
        "--data",
        type=_choice(list(DATASETS), "dataset"),
        metavar="NAME",
        help="score on another dataset with the same sample shape and classes",
    )
    evaluate.add_argument(
        "--checkpoint",
        choices=("last", "best"),
        default="last",
        help="last: the final weights (default, as in the run's report); best: the epoch with the lowest validation loss",
    )
    evaluate.add_argument("--download", action="store_true", help="download a missing dataset (checksum-verified)")
    evaluate.add_argument("--data-root", metavar="DIR", help="folder holding the dataset's files")

    demo = commands.add_parser(
        "demo",
        help="train the demo MLP on Fashion-MNIST and write its report",
        description=(
            "Train a 784-256-128-10 ReLU MLP on Fashion-MNIST (Adam, lr 0.001 on a cosine schedule, batch 128, "
            "10 epochs, inputs standardised with the training split's statistics) and write the report and plots. "
            "Without Fashion-MNIST installed it trains on scikit-learn's 8x8 digits and says so."
        ),
    )
    demo.add_argument("--out", default="runs/demo", metavar="DIR", help="run folder (default: runs/demo)")
    demo.add_argument(
        "--epochs", type=_count(1), metavar="N", help="number of epochs (default: 10; 40 on the digits fallback)"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    demo.add_argument("--download", action="store_true", help="download Fashion-MNIST if it is missing")

    explain = commands.add_parser(
        "explain",
        help="explain one training step of a small network, number by number",
        description=(
            "Run one real training step of a small network and explain it step by step: forward pass, loss, "
            "backward pass (every delta, by the chain rule) and the update of every weight."
        ),
        epilog="Examples: "
        + "; ".join(f"{name}: {config['description']}" for name, config in EXPLAIN_EXAMPLES.items()),
    )
    explain.add_argument(
        "example",
        nargs="?",
        type=_choice(list(EXPLAIN_EXAMPLES), "example"),
        metavar="EXAMPLE",
        help=f"a built-in example: {', '.join(EXPLAIN_EXAMPLES)} (default: neuron)",
    )
    explain.add_argument(
        "--example",
        dest="example_option",
        type=_choice(list(EXPLAIN_EXAMPLES), "example"),
        metavar="NAME",
        help="the same, as an option",
    )
    explain.add_argument(
        "--weights", "--json", dest="weights", metavar="FILE", help="a JSON description of your own network and weights"
    )
    explain.add_argument("--format", choices=EXPLAIN_FORMATS, default="text", help="output format (default: text)")
    explain.add_argument(
        "--out", "--output", dest="out", metavar="FILE", help="write to FILE instead of standard output"
    )
    explain.add_argument("--list", action="store_true", help="list the built-in examples")
    return parser


# ====================================================================== commands


def _cmd_train(args: argparse.Namespace) -> int:
    given = {name: getattr(args, name) for name in _RESUMABLE + ("epochs",) if getattr(args, name) is not None}
    if args.resume:
        if args.out is None:
            raise CLIError("--resume needs --out, the run folder to continue")
        run_dir = Path(args.out)
        saved = _read_config(run_dir)
        if not (run_dir / LAST_CHECKPOINT).is_file():
            raise CLIError(f"{str(run_dir)!r} has no {LAST_CHECKPOINT} to resume from")
        for name, value in given.items():
            if name != "epochs" and saved.get(name) != value:
                option = "--" + name.replace("_", "-")
                raise CLIError(
                    f"{option} {value} differs from the run being resumed ({option} {saved.get(name)}); "
                    "a resumed run keeps its settings (only --epochs may change)"
                )
        config = TrainConfig(**{name: saved[name] for name in TrainConfig.__dataclass_fields__ if name in saved})
        if "epochs" in given:
            if config.schedule == "cosine" and given["epochs"] != config.epochs:
                raise CLIError(
                    f"the cosine schedule of this run spans {config.epochs} epochs; resume with --epochs {config.epochs}"
                )
            config.epochs = given["epochs"]
    else:
        if args.model not in (None, "mlp") and (args.hidden is not None or args.dropout is not None):
            raise CLIError("--hidden and --dropout apply to --model mlp only")
        config = TrainConfig(**given)
        run_dir = Path(args.out or f"runs/{config.data}-{config.model}")
        if (run_dir / CONFIG_FILE).exists() and not args.force:
            raise CLIError(
                f"{str(run_dir)!r} already holds a run; pass --resume to continue it, --force to overwrite it, "
                "or choose another --out"
            )
    result = run_training(
        config,
        run_dir,
        resume=args.resume,
        quiet=args.quiet,
        monitor_gradients=args.monitor_gradients,
        download=args.download,
        data_root=args.data_root,
    )
    metrics = result.test_metrics
    print(
        f"Test accuracy: {100 * metrics['accuracy']:.2f}%   test loss: {metrics['loss']:.4f}   ({result.checkpoint.name})"
    )
    _print_outputs(result)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    result = evaluate_run(
        args.run, data=args.data, checkpoint=args.checkpoint, download=args.download, data_root=args.data_root
    )
    _print_evaluation(result, args.data or _read_config(Path(args.run))["data"])
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    run_demo(args.out, epochs=args.epochs, quiet=args.quiet, download=args.download)
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from .diagnose import run_explain

    if args.list:
        for name, config in EXPLAIN_EXAMPLES.items():
            print(f"{name:15} {config['description']}")
        return 0
    if args.example and args.example_option and args.example != args.example_option:
        raise CLIError(f"two examples given: {args.example} and --example {args.example_option}")
    example = args.example or args.example_option
    if example is None and args.weights is None:
        example = "neuron"
    if example is not None and args.weights is not None:
        raise CLIError("give a built-in example or --weights FILE, not both")
    text = run_explain(example, args.weights, args.format)
    if args.out:
        with data_files.atomic_write(Path(args.out)) as file:
            file.write(text.encode("utf-8"))
        print(f"Wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


_COMMANDS = {"train": _cmd_train, "evaluate": _cmd_evaluate, "demo": _cmd_demo, "explain": _cmd_explain}


def _one_line(error: BaseException) -> str:
    """The error's message on one line (multi-line messages, such as the list
    of folders searched for a dataset, are joined)."""
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``retrograd`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("retrograd: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`retrograd evaluate ... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    # Bad requests and the library's errors about them (ValueError covers bad
    # files, configurations and ExplainConfigError); anything else is a bug and keeps its traceback.
    except (CLIError, OSError, ValueError, ImportError, io.CheckpointMismatchError, data_files.DownloadError) as error:
        if args.debug:
            raise
        print(f"retrograd: error: {_one_line(error)}", file=sys.stderr)
        return 2
