"""The gradient-flow monitor: per layer and per training step, how large the
gradients are, how large the weights are and how much each step changes them,
and how the activations behave (dead ReLU units, saturated sigmoid/tanh);
then, in plain words, what looks wrong (see ``advice.py``).

In a hand-written loop::

    monitor = GradientFlowMonitor(model)
    with monitor:                       # attach() ... detach()
        for inputs, target in loader:
            loss = loss_fn(model(inputs), target)
            optimizer.zero_grad()
            loss.backward()
            monitor.after_backward()    # gradients as backward left them, weights before the step
            optimizer.step()
            monitor.after_step()        # the step's ||Δw|| / ||w||
    print(monitor.summary())
    monitor.plot("gradient_flow.png")

With ``retrograd.train.fit``, pass ``GradientFlowCallback()`` in ``callbacks``.

A recorded step costs a few dot products per layer (gradient, weight and
update norms), one copy of the weights to measure the update, and two dot
products and a max per activation module, all on arrays already in memory.
``every=N`` records one step in N, and the hooks return at once on the other
steps: the default of 10 keeps a Fashion-MNIST MLP epoch within a few percent
of its time without the monitor, ``every=1`` costs 20-30%
(``bench/monitor_overhead.py``).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..nn.modules import activation as _activation
from ..nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from ..nn.modules.module import Module
from ..nn.modules.normalization import GroupNorm, LayerNorm
from ..tensor import Tensor
from ..train.callbacks.base import Callback
from .advice import (
    DYING_ACTIVATIONS,
    ActivationRecord,
    Finding,
    FlowRecord,
    Thresholds,
    find_problems,
    findings_to_markdown,
    finite_median,
    render_findings,
)

__all__ = ["GradientFlowMonitor", "GradientFlowCallback"]

# The hidden-layer activations whose outputs are summarised. ReLU6 subclasses
# Hardtanh, so it comes first: the first match names the kind.
_ACTIVATIONS = (
    _activation.ReLU6,
    _activation.ReLU,
    _activation.LeakyReLU,
    _activation.PReLU,
    _activation.ELU,
    _activation.GELU,
    _activation.SiLU,
    _activation.Mish,
    _activation.Softplus,
    _activation.Sigmoid,
    _activation.Tanh,
    _activation.Hardtanh,
)
_NORMALIZATIONS = (BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, GroupNorm)

# Fields of the per-layer table, one (layers, fields) block per recorded step.
_GRAD, _BIAS_GRAD, _WEIGHT, _UPDATE, _NONFINITE = range(5)
# Fields of an activation site's table, one row per recorded step.
_STEP, _MEAN, _STD, _DEAD, _SATURATED = range(5)


class _Rows:
    """A table that grows one NaN-filled row at a time, in a preallocated array
    that doubles when full (no per-step allocation)."""

    def __init__(self, row_shape: tuple[int, ...], capacity: int = 64) -> None:
        self._array = np.full((capacity, *row_shape), np.nan)
        self.count = 0

    def append(self) -> np.ndarray:
        if self.count == len(self._array):
            grown = np.full((2 * len(self._array), *self._array.shape[1:]), np.nan)
            grown[: self.count] = self._array
            self._array = grown
        row = self._array[self.count]
        self.count += 1
        return row

    @property
    def values(self) -> np.ndarray:
        return self._array[: self.count]


def _sum_of_squares(arrays: Iterable[np.ndarray]) -> float:
    """Σ x² over all entries of ``arrays``: one dot product each. A float32 sum
    that overflows while every entry is finite is redone in float64, so only
    genuinely non-finite values give inf or NaN."""
    total = 0.0
    for array in arrays:
        flat = array.reshape(-1)
        square = float(np.dot(flat, flat))
        if not math.isfinite(square) and np.isfinite(flat).all():
            wide = flat.astype(np.float64)
            square = float(np.dot(wide, wide))
        total += square
    return total


class _Layer:
    """One monitored layer: its weights and biases, and the copy of the weights
    taken before an optimizer step."""

    def __init__(self, name: str, module: Module, recurse: bool) -> None:
        self.name = name
        self.module = module
        self.type_name = type(module).__name__
        named = list(module.named_parameters(recurse=recurse))
        self.weights = [p for key, p in named if not key.rsplit(".", 1)[-1].startswith("bias")]
        self.biases = [p for key, p in named if key.rsplit(".", 1)[-1].startswith("bias")]
        matrix = next((p for p in self.weights if p.ndim >= 2), None)
        # Fan-in as nn.init computes it: input features times the kernel size.
        self.fan_in = float(matrix.shape[1] * math.prod(matrix.shape[2:])) if matrix is not None else math.nan
        self.conv_like = matrix is not None and matrix.ndim >= 3
        self.weight_numel = float(sum(p.numel() for p in self.weights))
        self._snapshot: list[np.ndarray] = []

    def gradient_norms(self, row: np.ndarray) -> None:
        """Write the weight and bias gradient norms (NaN without gradients) into ``row``."""
        for params, field in ((self.weights, _GRAD), (self.biases, _BIAS_GRAD)):
            grads = [p.grad._data for p in params if p.grad is not None]
            if grads:
                row[field] = math.sqrt(_sum_of_squares(grads))
                if not math.isfinite(row[field]):
                    row[_NONFINITE] = 1.0
        if math.isnan(row[_NONFINITE]):
            row[_NONFINITE] = 0.0

    def take_snapshot(self) -> None:
        if len(self._snapshot) != len(self.weights) or any(
            copy.shape != p.shape or copy.dtype != p.dtype for copy, p in zip(self._snapshot, self.weights)
        ):
            self._snapshot = [np.empty_like(p._data) for p in self.weights]
        for copy, p in zip(self._snapshot, self.weights):
            np.copyto(copy, p._data)

    def update_norm(self) -> float:
        """||w_now - w_snapshot||, reusing the snapshot's memory for the difference."""
        for copy, p in zip(self._snapshot, self.weights):
            np.subtract(p._data, copy, out=copy)
        return math.sqrt(_sum_of_squares(self._snapshot))


class _ActivationSite:
    """One call of an activation module per forward pass (a module called twice
    per pass gives two sites, ``name`` and ``name#2``)."""

    def __init__(self, name: str, kind: str, follows: _Layer | None) -> None:
        self.name = name
        self.kind = kind
        self.follows = follows
        # Units are channels (axis 1) after a convolution, features (last axis) otherwise.
        self.unit_axis = 1 if follows is not None and follows.conv_like else -1
        self.rows = _Rows((5,))
        self._ones = np.ones(0)

    def statistics(self, values: np.ndarray) -> tuple[float, float, float, float]:
        """(mean, std, share of dead units, share of saturated outputs)."""
        flat = values.reshape(-1)
        if self._ones.shape != flat.shape or self._ones.dtype != flat.dtype:
            self._ones = np.ones_like(flat)
        # Sum and sum of squares as two BLAS dot products: a few times cheaper
        # than ndarray.mean and ndarray.std, and precise enough for a summary.
        mean = float(np.dot(flat, self._ones)) / flat.size
        mean_square = float(np.dot(flat, flat)) / flat.size
        std = math.sqrt(max(mean_square - mean * mean, 0.0)) if math.isfinite(mean_square) else math.nan
        dead = saturated = math.nan
        if self.kind in DYING_ACTIVATIONS:
            if values.ndim < 2:
                dead = float(np.count_nonzero(values <= 0)) / values.size
            else:
                unit_axis = self.unit_axis % values.ndim
                others = tuple(axis for axis in range(values.ndim) if axis != unit_axis)
                # A unit is dead when its largest output over the batch is 0 (NaN counts as alive).
                dead = float(np.count_nonzero(values.max(axis=others) <= 0)) / values.shape[unit_axis]
        elif self.kind == "Sigmoid":
            saturated = float(np.count_nonzero(np.abs(values - 0.5) > 0.49)) / values.size
        elif self.kind == "Tanh":
            saturated = float(np.count_nonzero(np.abs(values) > 0.99)) / values.size
        return mean, std, dead, saturated


class GradientFlowMonitor:
    """Records, per layer and training step, the gradient norm of the weights
    and of the biases, the weight norm, the update-to-weight ratio
    ``||Δw|| / ||w||``, and for each activation module the mean and std of its
    output, the share of dead ReLU units and of saturated sigmoid/tanh outputs.

    ``layers``: the modules to monitor, as names (``model.named_modules()``)
    or modules; by default every module that holds parameters itself (Linear,
    Conv, BatchNorm, RNN ...). A given container counts as one layer with all
    its parameters. ``every``: record one training step in ``every`` (use 1
    for short runs; the default of 10 keeps the cost at a few percent).
    ``track_activations``: hook the activation modules (ReLU, Sigmoid, Tanh,
    GELU ...); activations applied as functions inside ``forward`` are not
    seen. ``track_updates``: copy the weights before each recorded step to
    measure the true update (any optimizer, momentum and clipping included).
    ``thresholds``: the limits ``report`` applies (``advice.Thresholds``).

    Call ``after_backward()`` after ``loss.backward()`` (before clipping to see
    the raw gradients, after it to see what the step will use) and
    ``after_step()`` after ``optimizer.step()``. Hooks are live between
    ``attach()`` and ``detach()`` (or inside ``with monitor:``).
    """

    def __init__(
        self,
        model: Module,
        every: int = 10,
        layers: Sequence[str | Module] | None = None,
        track_activations: bool = True,
        track_updates: bool = True,
        thresholds: Thresholds | None = None,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"GradientFlowMonitor: model must be a retrograd.nn.Module, got {type(model).__name__}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"GradientFlowMonitor: every must be a positive int, got {every!r}")
        if thresholds is not None and not isinstance(thresholds, Thresholds):
            raise TypeError(
                f"GradientFlowMonitor: thresholds must be a retrograd.diagnose.advice.Thresholds, "
                f"got {type(thresholds).__name__}"
            )
        self.model = model
        self.every = every
        self.track_activations = bool(track_activations)
        self.track_updates = bool(track_updates)
        self.thresholds = thresholds or Thresholds()
        self._layers = _select_layers(model, layers)
        self._normalization = any(isinstance(module, _NORMALIZATIONS) for module in model.modules())
        # Each activation module with the monitored layer registered just before
        # it: what it "follows" unless the first recorded forward pass shows otherwise.
        self._activation_modules: list[tuple[str, Module, str, _Layer | None]] = []
        layer_of = {id(layer.module): layer for layer in self._layers}
        previous = None
        for name, module in model.named_modules():
            previous = layer_of.get(id(module), previous)
            if (kind := _activation_kind(module)) is not None:
                self._activation_modules.append((name or type(module).__name__, module, kind, previous))
        self._attached = False
        self._activation_handles: list = []
        self._order_handles: list = []
        self.reset()

    # ------------------------------------------------------------------ hooks
    @property
    def attached(self) -> bool:
        return self._attached

    def attach(self) -> GradientFlowMonitor:
        """Install the forward hooks (activation statistics, and until the first
        recorded step, the layers' forward order). Idempotent."""
        if self._attached:
            return self
        self._attached = True
        self._install_order_hooks()
        if self.track_activations:
            for name, module, kind, follows in self._activation_modules:
                hook = self._activation_hook(name, kind, follows)
                self._activation_handles.append(module.register_forward_hook(hook))
        return self

    def detach(self) -> None:
        """Remove every hook; the recorded data stays."""
        self._remove_order_hooks()
        for handle in self._activation_handles:
            handle.remove()
        self._activation_handles = []
        self._attached = False

    def _install_order_hooks(self) -> None:
        if self._attached and not self._order_known and not self._order_handles:
            for index, layer in enumerate(self._layers):
                self._order_handles.append(layer.module.register_forward_pre_hook(self._layer_hook(index)))

    def _remove_order_hooks(self) -> None:
        for handle in self._order_handles:
            handle.remove()
        self._order_handles = []

    def __enter__(self) -> GradientFlowMonitor:
        return self.attach()

    def __exit__(self, *exc_info) -> None:
        self.detach()

    def _layer_hook(self, index: int):
        def note_layer(module, args):
            if self._recording and is_grad_enabled():
                if index not in self._seen_layers:
                    self._seen_layers.add(index)
                    self._forward_order.append(index)
                self._last_layer = index

        return note_layer

    def _activation_hook(self, name: str, kind: str, registered_after: _Layer | None):
        def summarise_output(module, args, output):
            if not (self._recording and is_grad_enabled() and isinstance(output, Tensor)) or output.numel() == 0:
                return
            calls = self._calls.get(name, 0) + 1
            self._calls[name] = calls
            key = name if calls == 1 else f"{name}#{calls}"
            site = self._sites.get(key)
            if site is None:
                follows = self._layers[self._last_layer] if self._last_layer is not None else registered_after
                site = self._sites[key] = _ActivationSite(key, kind, follows)
            with np.errstate(all="ignore"):
                self._pending[key] = site.statistics(output._data)

        return summarise_output

    # ------------------------------------------------------------------ recording
    def reset(self) -> None:
        """Forget everything recorded and restart the step count at 0."""
        self.step_count = 0
        self._recording = True  # whether the step now under way is one to record
        self._steps = _Rows((1,))
        self._table = _Rows((len(self._layers), 5))
        self._sites: dict[str, _ActivationSite] = {}
        self._pending: dict[str, tuple[float, float, float, float]] = {}
        self._calls: dict[str, int] = {}
        self._forward_order: list[int] = []
        self._seen_layers: set[int] = set()
        self._order_known = False
        self._last_layer: int | None = None
        self._update_row: np.ndarray | None = None
        self._install_order_hooks()

    def after_backward(self) -> None:
        """Record this step's gradients and weights (and the activations of its
        forward pass); call after ``loss.backward()``. Counts one training step."""
        self._update_row = None
        if self._recording:
            self._steps.append()[0] = self.step_count
            block = self._table.append()
            with np.errstate(all="ignore"):  # huge or NaN gradients are what is being looked for
                for layer, row in zip(self._layers, block):
                    layer.gradient_norms(row)
                    if layer.weights:
                        row[_WEIGHT] = math.sqrt(_sum_of_squares(p._data for p in layer.weights))
                    if self.track_updates:
                        layer.take_snapshot()
            if self.track_updates:
                self._update_row = block
            for key, (mean, std, dead, saturated) in self._pending.items():
                self._sites[key].rows.append()[:] = (self.step_count, mean, std, dead, saturated)
            if self._forward_order:
                # One forward pass showed the layers' order: the order hooks have done their job.
                self._order_known = True
                self._last_layer = None
                self._remove_order_hooks()
        self._pending = {}
        self._calls = {}
        self.step_count += 1
        self._recording = self.step_count % self.every == 0

    def after_step(self) -> None:
        """Record the update the optimizer just made (``||Δw|| / ||w||`` per
        layer); call after ``optimizer.step()``. Does nothing on steps that
        were not recorded."""
        block, self._update_row = self._update_row, None
        if block is None:
            return
        for layer, row in zip(self._layers, block):
            if layer.weights:
                with np.errstate(all="ignore"):
                    row[_UPDATE] = layer.update_norm() / row[_WEIGHT] if row[_WEIGHT] > 0 else math.nan

    # ------------------------------------------------------------------ results
    @property
    def layer_names(self) -> tuple[str, ...]:
        """The monitored layers, in the order the forward pass runs them."""
        return tuple(self._layers[i].name for i in self._order())

    def _order(self) -> list[int]:
        """Layer indices in forward order (as first seen); layers never seen run last, in registration order."""
        seen = self._forward_order
        return seen + [i for i in range(len(self._layers)) if i not in self._seen_layers]

    @property
    def history(self) -> FlowRecord:
        """A copy of everything recorded, as the arrays ``advice.find_problems`` reads."""
        order = self._order()
        table = self._table.values[:, order]
        layers = [self._layers[i] for i in order]
        activations = tuple(
            ActivationRecord(
                name=site.name,
                kind=site.kind,
                follows=site.follows.name if site.follows is not None else None,
                steps=site.rows.values[:, _STEP].astype(np.int64),
                mean=site.rows.values[:, _MEAN].copy(),
                std=site.rows.values[:, _STD].copy(),
                dead=site.rows.values[:, _DEAD].copy(),
                saturated=site.rows.values[:, _SATURATED].copy(),
            )
            for site in self._sites.values()
        )
        return FlowRecord(
            layer_names=tuple(layer.name for layer in layers),
            layer_types=tuple(layer.type_name for layer in layers),
            fan_in=np.array([layer.fan_in for layer in layers]),
            weight_numel=np.array([layer.weight_numel for layer in layers]),
            steps=self._steps.values[:, 0].astype(np.int64),
            grad_norm=table[:, :, _GRAD].copy(),
            bias_grad_norm=table[:, :, _BIAS_GRAD].copy(),
            weight_norm=table[:, :, _WEIGHT].copy(),
            update_ratio=table[:, :, _UPDATE].copy(),
            grad_nonfinite=table[:, :, _NONFINITE] == 1.0,
            activations=activations,
            normalization=self._normalization,
        )

    def report(self, thresholds: Thresholds | None = None) -> list[Finding]:
        """The problems found in the recorded steps (most recent window), critical first."""
        return find_problems(self.history, thresholds or self.thresholds)

    def summary(self, thresholds: Thresholds | None = None) -> str:
        """A plain-text report: a table per layer and per activation, then the findings."""
        record = self.history
        if len(record) == 0:
            return "Gradient flow: nothing recorded yet (call after_backward() after each loss.backward())."
        window = (thresholds or self.thresholds).window
        lines = [
            f"Gradient flow: {len(record)} recorded steps (one in {self.every}) of {self.step_count}; "
            f"medians over the last {min(window, len(record))}.",
            "",
        ]
        lines.extend(_text_table(*_layer_table(record, window)))
        if record.activations:
            lines.append("")
            lines.extend(_text_table(*_activation_table(record, window)))
        lines += ["", render_findings(self.report(thresholds))]
        if len(record) < (thresholds or self.thresholds).min_steps:
            lines.append(_too_few_steps(len(record), thresholds or self.thresholds, self.every))
        return "\n".join(lines)

    def to_markdown(self, image: str | None = None, thresholds: Thresholds | None = None) -> str:
        """The same report as a Markdown section for a run report (``image``: a
        plot's path to show above the tables)."""
        record = self.history
        lines = ["## Gradient flow", ""]
        if len(record) == 0:
            return "\n".join([*lines, "Nothing recorded."])
        window = (thresholds or self.thresholds).window
        lines += [
            f"{len(record)} recorded steps (one in {self.every}) of {self.step_count}; "
            f"medians over the last {min(window, len(record))}.",
            "",
        ]
        if image is not None:
            lines += [f"![Gradient norm by layer]({image})", ""]
        lines.extend(_markdown_table(*_layer_table(record, window)))
        if record.activations:
            lines.append("")
            lines.extend(_markdown_table(*_activation_table(record, window)))
        lines += ["", "### Findings", "", findings_to_markdown(self.report(thresholds))]
        if len(record) < (thresholds or self.thresholds).min_steps:
            lines += ["", _too_few_steps(len(record), thresholds or self.thresholds, self.every)]
        return "\n".join(lines)

    def plot(self, path: str | os.PathLike | None = None, title: str | None = None):
        """Gradient norm of each layer's weights over training (log scale, one
        line per layer, early layers dark, late ones light) next to a bar chart
        of each layer's mean gradient norm. Writes a PNG to ``path`` if given;
        returns the matplotlib ``Figure``."""
        try:
            from matplotlib.figure import Figure
        except ImportError as error:
            raise ImportError(
                "GradientFlowMonitor.plot needs matplotlib: pip install matplotlib (or retrograd[plot])"
            ) from error
        record = self.history
        if len(record) == 0:
            raise ValueError("GradientFlowMonitor.plot: nothing recorded yet (call after_backward() after backward)")
        return _plot(Figure, record, path, title)

    def __repr__(self) -> str:
        state = "attached" if self.attached else "detached"
        return (
            f"GradientFlowMonitor({type(self.model).__name__}, layers={len(self._layers)}, every={self.every}, "
            f"recorded={self._steps.count}, {state})"
        )


def _too_few_steps(recorded: int, thresholds: Thresholds, every: int) -> str:
    return (
        f"Note: only {recorded} recorded step(s); the rules need at least {thresholds.min_steps} "
        f"(train longer{' or record more often with a smaller every' if every > 1 else ''})."
    )


def _select_layers(model: Module, layers: Sequence[str | Module] | None) -> list[_Layer]:
    if layers is None:
        selected = [
            _Layer(name or type(module).__name__, module, recurse=False)
            for name, module in model.named_modules()
            if any(p.requires_grad for p in module.parameters(recurse=False))
        ]
        if not selected:
            raise ValueError("GradientFlowMonitor: the model has no parameters that require grad")
        return selected
    if isinstance(layers, (str, Module)):
        layers = [layers]
    names_by_module = {id(module): name for name, module in model.named_modules()}
    modules_by_name = dict(model.named_modules())
    selected = []
    for layer in layers:
        if isinstance(layer, str):
            if layer not in modules_by_name:
                raise ValueError(f"GradientFlowMonitor: layers: the model has no module named {layer!r}")
            name, module = layer, modules_by_name[layer]
        elif isinstance(layer, Module):
            if id(layer) not in names_by_module:
                raise ValueError(f"GradientFlowMonitor: layers: {type(layer).__name__} is not a module of the model")
            name, module = names_by_module[id(layer)], layer
        else:
            raise TypeError(
                f"GradientFlowMonitor: layers must hold module names or Modules, got {type(layer).__name__}"
            )
        if not any(True for _ in module.parameters()):
            raise ValueError(
                f"GradientFlowMonitor: layer {name!r} ({type(module).__name__}) has no parameters; "
                "monitor the modules that hold weights (Linear, Conv2d, BatchNorm1d ...)"
            )
        selected.append(_Layer(name or type(module).__name__, module, recurse=True))
    if not selected:
        raise ValueError("GradientFlowMonitor: layers is empty")
    return selected


def _activation_kind(module: Module) -> str | None:
    for cls in _ACTIVATIONS:
        if isinstance(module, cls):
            return cls.__name__
    return None


# --------------------------------------------------------------------------- tables
def _format(value: float, percent: bool = False) -> str:
    if not np.isfinite(value):
        return "-" if np.isnan(value) else str(value)
    return f"{value:.0%}" if percent else f"{value:.2e}"


def _window_median(values: np.ndarray, window: int) -> np.ndarray:
    return finite_median(values[-window:])


def _layer_table(record: FlowRecord, window: int) -> tuple[list[str], list[list[str]]]:
    header = ["layer", "type", "grad norm", "bias grad norm", "weight norm", "update ratio"]
    grad, bias = _window_median(record.grad_norm, window), _window_median(record.bias_grad_norm, window)
    weight, update = _window_median(record.weight_norm, window), _window_median(record.update_ratio, window)
    rows = [
        [name, kind, _format(grad[i]), _format(bias[i]), _format(weight[i]), _format(update[i])]
        for i, (name, kind) in enumerate(zip(record.layer_names, record.layer_types))
    ]
    return header, rows


def _activation_table(record: FlowRecord, window: int) -> tuple[list[str], list[list[str]]]:
    header = ["activation", "after", "mean", "std", "dead units", "saturated"]
    rows = []
    for site in record.activations:
        stats = _window_median(np.stack([site.mean, site.std, site.dead, site.saturated], axis=1), window)
        rows.append(
            [
                f"{site.name} ({site.kind})",
                site.follows or "-",
                f"{stats[0]:.3f}",
                f"{stats[1]:.3f}",
                _format(stats[2], percent=True),
                _format(stats[3], percent=True),
            ]
        )
    return header, rows


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines.extend("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)
    return lines


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


# --------------------------------------------------------------------------- plot
def _plot(figure_class, record: FlowRecord, path, title: str | None):
    import matplotlib
    from matplotlib.ticker import MaxNLocator

    # Fixed margins rather than a layout engine: laying out log axes that span
    # many decades costs seconds, and the labels here have a known size.
    labels = [f"{name} ({kind})" for name, kind in zip(record.layer_names, record.layer_types)]
    small = len(labels) <= 14
    # Three columns placed in inches: the lines, their legend (as wide as its
    # longest label), and after room for its tick labels, the bars.
    columns = {"lines": 6.0, "legend": 0.4 + max(map(len, labels)) * (0.07 if small else 0.06), "bars": 4.2}
    gaps = {"left": 0.8, "lines": 0.15, "legend": 1.0, "bars": 0.2}
    width, height = sum(columns.values()) + sum(gaps.values()), 5.2
    bottom, top = 1.05, 0.8 if title else 0.45
    figure = figure_class(figsize=(width, height))
    axes, x = {}, gaps["left"]
    for name in ("lines", "legend", "bars"):
        axes[name] = figure.add_axes(
            (x / width, bottom / height, columns[name] / width, (height - bottom - top) / height)
        )
        x += columns[name] + gaps[name]
    lines_axes, legend_axes, bars_axes = axes["lines"], axes["legend"], axes["bars"]
    colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, len(record.layer_names)))
    grads = np.where(np.isfinite(record.grad_norm), record.grad_norm, np.nan)

    for index, label in enumerate(labels):
        lines_axes.plot(record.steps, grads[:, index], color=colors[index], linewidth=1.2, label=label)
    _log_scale(lines_axes, grads, nonpositive="mask")  # a zero gradient leaves a gap in its line
    lines_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    lines_axes.set_xlabel("training step")
    lines_axes.set_ylabel("gradient norm of the weights")
    lines_axes.set_title("Gradient norm by layer over training")
    lines_axes.grid(True, which="major", alpha=0.3)
    legend_axes.axis("off")
    legend_axes.legend(
        *lines_axes.get_legend_handles_labels(),
        fontsize="small" if small else "x-small",
        loc="upper left",
        borderaxespad=0.0,
        title="input → output",
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a layer that never got a gradient has no mean
        means = np.nanmean(grads, axis=0)
    positions = np.arange(len(record.layer_names))
    bars_axes.bar(positions, np.where(np.isfinite(means), means, 0.0), color=colors)
    _log_scale(bars_axes, means, nonpositive="clip")  # bars start at the bottom of the axis
    bars_axes.set_xticks(positions, record.layer_names, rotation=60, ha="right", fontsize="small")
    bars_axes.set_ylabel("mean gradient norm", labelpad=2)
    bars_axes.set_title("Mean gradient norm per layer (input → output)")
    bars_axes.grid(True, axis="y", which="major", alpha=0.3)

    if title:
        figure.suptitle(title)
    if path is not None:
        figure.savefig(os.fspath(path), dpi=100)
    return figure


def _log_scale(axes, values: np.ndarray, nonpositive: str) -> None:
    """A log y axis for ``values`` (zeros and NaNs are left out of the plot), or
    a note on a linear axis when there is no positive value to show."""
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size == 0:
        note = {"transform": axes.transAxes, "ha": "center", "va": "center", "backgroundcolor": "white"}
        axes.text(0.5, 0.5, "no non-zero gradient recorded", **note)
        return
    axes.set_yscale("log", nonpositive=nonpositive)
    if positive.max() > 1e3 * positive.min():
        from matplotlib.ticker import NullLocator

        # Unlabelled minor ticks over many decades only cost drawing time.
        axes.yaxis.set_minor_locator(NullLocator())


# --------------------------------------------------------------------------- fit callback
class GradientFlowCallback(Callback):
    """A ``GradientFlowMonitor`` for ``retrograd.train.fit``: attaches when
    training begins, records the raw gradients after each ``backward()``
    (before clipping or any other callback touches them) and each step's
    update, and after each epoch adds ``logs["gradient_flow"]``, the kinds of
    the problems found so far (``[]`` when healthy; kept in the History).

    When training ends it detaches, keeps the findings in ``self.findings``
    (and in the final logs as ``"gradient_flow_findings"``), writes the plot to
    ``plot_path`` and the Markdown report to ``markdown_path`` if given, and
    prints the summary when ``verbose``. The monitor stays in ``self.monitor``
    for anything else (``plot``, ``history`` ...). Arguments as ``GradientFlowMonitor``.
    """

    # Before TerminateOnNaN (-20) and GradientClipping (-10), so the gradients
    # are recorded as backward produced them, and before History (-30), so the
    # epoch's "gradient_flow" entry reaches it.
    order = -40

    def __init__(
        self,
        every: int = 10,
        layers: Sequence[str | Module] | None = None,
        track_activations: bool = True,
        track_updates: bool = True,
        thresholds: Thresholds | None = None,
        plot_path: str | os.PathLike | None = None,
        markdown_path: str | os.PathLike | None = None,
        verbose: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"GradientFlowCallback: every must be a positive int, got {every!r}")
        self.options: dict[str, Any] = {
            "every": every,
            "layers": layers,
            "track_activations": track_activations,
            "track_updates": track_updates,
            "thresholds": thresholds,
        }
        self.plot_path = plot_path
        self.markdown_path = markdown_path
        self.verbose = verbose
        self.monitor: GradientFlowMonitor | None = None
        self.findings: list[Finding] = []

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if self.monitor is None or self.monitor.model is not self.model:
            self.monitor = GradientFlowMonitor(self.model, **self.options)
        self.monitor.attach()

    def on_after_backward(self, batch: int, logs: dict[str, Any]) -> None:
        self.monitor.after_backward()

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        self.monitor.after_step()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        logs["gradient_flow"] = [finding.kind for finding in self.monitor.report()]

    def on_train_end(self, logs: dict[str, Any]) -> None:
        monitor = self.monitor
        monitor.detach()
        self.findings = monitor.report()
        logs["gradient_flow_findings"] = self.findings
        if len(monitor.history) == 0:
            return
        image = None
        if self.plot_path is not None:
            monitor.plot(self.plot_path)
            image = os.fspath(self.plot_path)
            if self.markdown_path is not None:
                image = os.path.relpath(image, os.path.dirname(os.path.abspath(self.markdown_path)))
        if self.markdown_path is not None:
            with open(self.markdown_path, "w", encoding="utf-8") as file:
                file.write(monitor.to_markdown(image=image) + "\n")
        if self.verbose:
            print(monitor.summary())
