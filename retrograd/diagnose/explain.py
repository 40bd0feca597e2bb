"""``explain``: one real training step of a small network, told step by step.

The network runs on retrograd's own engine: forward hooks capture each
layer's input, weighted sums ``z`` and activations ``a`` (with
``retain_grad`` on both), ``loss.backward()`` fills ``z.grad``, ``a.grad`` and
every parameter's ``.grad``, and ``optimizer.step()`` makes the update, whose
state (velocity; Adam's moments) is read back from the optimizer. An
``Explanation`` holds those engine values; ``render`` only formats and labels
them. The one thing computed here for display is the local derivative
``∂a/∂z`` (from the captured ``z`` and ``a``), and ``chain_rule_delta`` lets a
reader (and the tests) check that upstream × local equals the engine's
``∂L/∂z``.

Supported: an ``nn.Sequential`` of ``Linear`` layers, each optionally followed
by one activation module (Sigmoid, Tanh, ReLU, Identity, and Softmax as the
last one), or a single ``Linear``; losses ``squared_error`` (½ Σ (t − y)²,
averaged over the batch), ``mse`` (``MSELoss``) and ``cross_entropy``;
optimizers SGD (with or without momentum) and Adam.
"""

# The text is mathematics: the minus sign, ×, σ, ∂ and subscripts are meant.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import dtypes, nn, optim
from ..autograd.grad_mode import no_grad
from ..creation import tensor as new_tensor
from ..ops import reduction
from ..tensor import Tensor
from .render import render as _render_explanation

__all__ = [
    "ACTIVATIONS",
    "EXAMPLES",
    "LOSSES",
    "Explanation",
    "ExplainConfigError",
    "LayerTrace",
    "LossTrace",
    "OptimizerTrace",
    "ParameterUpdate",
    "build_from_config",
    "explain",
    "explain_config",
    "main_explain",
    "run_explain",
]

ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "softmax")
LOSSES = ("squared_error", "mse", "cross_entropy")
OPTIMIZERS = ("sgd", "adam")

# Activation module class names (retrograd.nn's, as in PyTorch) and the kind each one is.
_KIND_OF_CLASS = {"Identity": "identity", "Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu", "Softmax": "softmax"}
_CLASS_OF_KIND = {kind: name for name, kind in _KIND_OF_CLASS.items()}


class ExplainConfigError(ValueError):
    """A model, loss, optimizer or JSON description that ``explain`` cannot explain."""


# --------------------------------------------------------------------------- traces
@dataclass
class LayerTrace:
    """One ``Linear`` layer and the activation after it, with the engine's values.

    Arrays have a leading batch dimension ``N``; ``K`` is the layer's number of
    units (``out_features``)."""

    number: int  # 1-based position among the Linear layers
    module_name: str  # the Linear's name inside the model ("0", "fc1"; "" for a bare Linear)
    activation: str  # one of ACTIVATIONS
    weight_name: str  # the weight's name in model.named_parameters()
    bias_name: str | None
    input: np.ndarray  # (N, in): what the layer received
    weight: np.ndarray  # (K, in), before the update
    bias: np.ndarray | None  # (K,), before the update
    z: np.ndarray  # (N, K): weighted sums, the Linear's output
    a: np.ndarray  # (N, K): activations, the activation module's output
    grad_a: np.ndarray  # (N, K): ∂L/∂a, read from a.grad
    delta: np.ndarray  # (N, K): δ = ∂L/∂z, read from z.grad
    grad_weight: np.ndarray  # weight.grad
    grad_bias: np.ndarray | None  # bias.grad

    @property
    def local_derivative(self) -> np.ndarray:
        """∂a/∂z from the captured ``z`` and ``a``: shape (N, K), or for softmax
        its Jacobian, shape (N, K, K) with ``[n, k, j] = ∂a_k/∂z_j``."""
        a = self.a
        if self.activation == "sigmoid":
            return a * (1 - a)
        if self.activation == "tanh":
            return 1 - a * a
        if self.activation == "relu":
            return (self.z > 0).astype(a.dtype)
        if self.activation == "softmax":
            return a[:, :, None] * (np.eye(a.shape[1], dtype=a.dtype) - a[:, None, :])
        return np.ones_like(a)

    @property
    def chain_rule_delta(self) -> np.ndarray:
        """Upstream × local: ``∂L/∂a · ∂a/∂z`` (a Jacobian-vector product for softmax).
        Equals the engine's ``delta`` up to rounding."""
        local = self.local_derivative
        if self.activation == "softmax":
            return np.einsum("nk,nkj->nj", self.grad_a, local)
        return self.grad_a * local


@dataclass
class LossTrace:
    """The loss: its kind, the network's output ``y``, the target and the engine's value."""

    kind: str  # one of LOSSES
    output: np.ndarray  # (N, K): y, the network's output
    target: np.ndarray  # (N, K): t (one-hot rows or probabilities for cross-entropy)
    value: float  # the engine's loss
    grad_output: np.ndarray  # (N, K): ∂L/∂y, read from y.grad
    probabilities: np.ndarray | None = None  # (N, K): softmax of the logits, for cross-entropy
    softmax_in_model: bool = False  # cross-entropy over a Softmax layer's output (else over logits)


@dataclass
class ParameterUpdate:
    """One parameter before and after ``optimizer.step()``, with the optimizer's state."""

    name: str  # name in model.named_parameters()
    label: str  # short label used in the text, "W1" or "b1"
    layer: int  # 1-based layer number
    old: np.ndarray
    grad: np.ndarray
    new: np.ndarray
    hyper: dict[str, Any]  # the param group's settings (lr, momentum, betas, eps, ...)
    state_before: dict[str, np.ndarray | float]
    state_after: dict[str, np.ndarray | float]


@dataclass
class OptimizerTrace:
    """Which optimizer made the update, and every parameter's update."""

    kind: str  # "sgd" or "adam"
    updates: list[ParameterUpdate]

    def displayed_step(self, update: ParameterUpdate) -> np.ndarray:
        """The step the text shows being subtracted (``new = old − step``),
        computed from the optimizer's state by its documented rule."""
        hyper = update.hyper
        if self.kind == "adam":
            m, v, t = update.state_after["exp_avg"], update.state_after["exp_avg_sq"], update.state_after["step"]
            beta1, beta2 = hyper["betas"]
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            return hyper["lr"] * m_hat / (np.sqrt(v_hat) + hyper["eps"])
        if hyper["momentum"] != 0:
            return hyper["lr"] * update.state_after["momentum_buffer"]
        return hyper["lr"] * update.grad


@dataclass
class Explanation:
    """Everything one training step did, as the engine computed it."""

    title: str
    description: str
    layers: list[LayerTrace]
    loss: LossTrace
    optimizer: OptimizerTrace
    notes: list[str] = field(default_factory=list)

    def render(self, fmt: str = "text", digits: int = 6) -> str:
        """The explanation as ``"text"`` (aligned tables), ``"markdown"`` or ``"html"``."""
        return _render_explanation(self, fmt, digits=digits)


# --------------------------------------------------------------------------- the model's structure
@dataclass
class _PlannedLayer:
    name: str
    linear: nn.Linear
    activation: str
    activation_module: nn.Module | None


def _activation_kind(module: nn.Module) -> str | None:
    kind = getattr(module, "explain_kind", None) or _KIND_OF_CLASS.get(type(module).__name__)
    return kind if kind in ACTIVATIONS else None


def _plan_layers(model: nn.Module) -> list[_PlannedLayer]:
    """Pair every Linear with the activation module that follows it (identity when none does)."""
    if isinstance(model, nn.Linear):
        return [_PlannedLayer("", model, "identity", None)]
    if not isinstance(model, nn.Sequential):
        raise ExplainConfigError(
            f"explain: model must be an nn.Sequential of Linear layers and activations or a single nn.Linear, "
            f"got {type(model).__name__}"
        )
    plan: list[_PlannedLayer] = []
    previous_was_activation = False
    for name, child in model.named_children():
        if isinstance(child, nn.Linear):
            plan.append(_PlannedLayer(name, child, "identity", None))
            previous_was_activation = False
            continue
        kind = _activation_kind(child)
        if kind is None:
            raise ExplainConfigError(
                f"explain: model entry {name!r} is {type(child).__name__}; expected Linear or one of the "
                f"activations {', '.join(_KIND_OF_CLASS)}"
            )
        if not plan:
            raise ExplainConfigError(f"explain: model entry {name!r} ({type(child).__name__}) comes before any Linear")
        if previous_was_activation:
            raise ExplainConfigError(
                f"explain: model entry {name!r} ({type(child).__name__}) follows another activation; "
                "each Linear may be followed by at most one activation"
            )
        if kind == "softmax" and getattr(child, "dim", -1) not in (-1, 1, None):
            raise ExplainConfigError(f"explain: Softmax {name!r} must act over the last dimension, got dim={child.dim}")
        plan[-1].activation = kind
        plan[-1].activation_module = child
        previous_was_activation = True
    if not plan:
        raise ExplainConfigError("explain: the model has no Linear layer")
    for layer in plan[:-1]:
        if layer.activation == "softmax":
            raise ExplainConfigError(
                f"explain: Softmax may only end the network, found one after Linear {layer.name!r}"
            )
    return plan


# --------------------------------------------------------------------------- inputs and targets
def _as_batch(values, name: str, dtype) -> np.ndarray:
    array = np.asarray(values._data if isinstance(values, Tensor) else values, dtype=dtype)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array[None, :]
    elif array.ndim != 2:
        raise ExplainConfigError(
            f"explain: {name} must be a vector or a (batch, features) matrix, got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ExplainConfigError(f"explain: {name} contains a non-finite number")
    return array


def _target_batch(target, loss: str, batch: int, outputs: int, dtype) -> np.ndarray:
    """The target as an (N, K) matrix. For cross-entropy, integers with one
    entry per input row are class indices and become one-hot rows."""
    raw = target._data if isinstance(target, Tensor) else np.asarray(target)
    if loss == "cross_entropy" and raw.dtype.kind in "iu" and raw.ndim <= 1 and raw.size == batch:
        classes = raw.reshape(-1)
        if np.any((classes < 0) | (classes >= outputs)):
            raise ExplainConfigError(
                f"explain: class indices must lie in [0, {outputs - 1}] for {outputs} outputs, got {classes.tolist()}"
            )
        return np.eye(outputs, dtype=dtype)[classes]
    array = _as_batch(raw, "target", dtype)
    if outputs == 1 and array.shape == (1, batch):  # one number per input row
        array = array.reshape(batch, 1)
    if array.shape != (batch, outputs):
        raise ExplainConfigError(
            f"explain: target must have shape ({batch}, {outputs}) to match the network's output "
            f"(or a vector of {outputs} for a single input), got shape {raw.shape}"
        )
    if loss == "cross_entropy" and (np.any(array < 0) or not np.allclose(array.sum(axis=1), 1)):
        raise ExplainConfigError(
            "explain: a cross-entropy target must be class indices (one integer per input row) "
            "or rows of probabilities summing to 1"
        )
    return array


# --------------------------------------------------------------------------- the loss
def _loss(kind: str, y: Tensor, t: Tensor, softmax_in_model: bool) -> Tensor:
    """The loss as retrograd ops on the network output ``y`` (a batch of rows)."""
    batch = y.shape[0]
    if kind == "squared_error":
        return ((t - y) ** 2).sum() * (0.5 / batch)
    if kind == "mse":
        return ((y - t) ** 2).mean()
    log_p = y.log() if softmax_in_model else reduction.log_softmax(y, -1)
    return -(t * log_p).sum() / batch


# --------------------------------------------------------------------------- optimizer state
def _check_optimizer(optimizer) -> str:
    if type(optimizer) is optim.SGD:
        kind = "sgd"
    elif type(optimizer) is optim.Adam:
        kind = "adam"
    else:
        raise ExplainConfigError(
            f"explain: optimizer must be retrograd.optim.SGD or Adam, got {type(optimizer).__name__}"
        )
    for group in optimizer.param_groups:
        unsupported = [
            setting
            for setting in ("weight_decay", "nesterov", "maximize", "amsgrad")
            if group.get(setting, False) not in (0, False)
        ]
        if unsupported:
            raise ExplainConfigError(
                f"explain: the optimizer's {', '.join(unsupported)} setting is not explained; turn it off"
            )
    return kind


def _state_snapshot(state: Mapping) -> dict[str, np.ndarray | float]:
    snapshot = {}
    for key, value in state.items():
        if isinstance(value, Tensor):
            value = value._data
        snapshot[key] = float(value) if np.ndim(value) == 0 else np.array(value, copy=True)
    return snapshot


# --------------------------------------------------------------------------- explain
def explain(
    model: nn.Module,
    input,
    target,
    loss: str = "squared_error",
    optimizer: optim.Optimizer | None = None,
    lr: float = 0.1,
    *,
    title: str = "One training step, explained",
    description: str = "",
) -> Explanation:
    """Run ONE real training step of ``model`` and record every value it produced.

    ``input`` is a vector or an (N, features) batch; ``target`` matches the
    network's output (for ``cross_entropy`` it may be class indices). Without
    an ``optimizer`` a plain ``SGD(model.parameters(), lr=lr)`` is used. The
    model's parameters ARE updated, as in training; gradients are zeroed first.
    """
    if loss not in LOSSES:
        raise ExplainConfigError(f"explain: loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    plan = _plan_layers(model)
    names = {id(p): name for name, p in model.named_parameters()}
    if optimizer is None:
        optimizer = optim.SGD(model.parameters(), lr=lr)
    kind = _check_optimizer(optimizer)
    hyper_of = {id(p): group for group in optimizer.param_groups for p in group["params"]}
    missing = [name for name, p in model.named_parameters() if id(p) not in hyper_of]
    if missing:
        raise ExplainConfigError(f"explain: the optimizer does not update the parameters {', '.join(missing)}")

    dtype = plan[0].linear.weight.dtype
    x = _as_batch(input, "input", dtype)
    in_features = plan[0].linear.in_features
    if x.shape[1] != in_features:
        raise ExplainConfigError(f"explain: input has {x.shape[1]} features, the first Linear expects {in_features}")
    softmax_in_model = plan[-1].activation == "softmax"
    t = _target_batch(target, loss, x.shape[0], plan[-1].linear.out_features, dtype)

    # Forward, capturing each layer's input, z and a with hooks; retain their gradients.
    captured: dict[int, dict[str, Tensor]] = {}
    handles = []

    def on_linear(position: int):
        def hook(module, args, output):
            output.retain_grad()
            captured[position] = {"input": args[0], "z": output, "a": output}

        return hook

    def on_activation(position: int):
        def hook(module, args, output):
            output.retain_grad()
            captured[position]["a"] = output

        return hook

    for position, layer in enumerate(plan):
        handles.append(layer.linear.register_forward_hook(on_linear(position)))
        if layer.activation_module is not None:
            handles.append(layer.activation_module.register_forward_hook(on_activation(position)))
    optimizer.zero_grad()
    weights_before = {id(p): np.array(p._data, copy=True) for p in model.parameters()}
    try:
        y = model(new_tensor(x))
    finally:
        for handle in handles:
            handle.remove()
    target_tensor = new_tensor(t)
    loss_tensor = _loss(loss, y, target_tensor, softmax_in_model)
    loss_tensor.backward()

    params = list(model.parameters())
    states_before = {id(p): _state_snapshot(optimizer.state.get(p, {})) for p in params}
    optimizer.step()
    states_after = {id(p): _state_snapshot(optimizer.state.get(p, {})) for p in params}

    layers = []
    updates = []
    for position, layer in enumerate(plan):
        values = captured[position]
        linear = layer.linear
        bias = linear.bias
        number = position + 1
        layers.append(
            LayerTrace(
                number=number,
                module_name=layer.name,
                activation=layer.activation,
                weight_name=names[id(linear.weight)],
                bias_name=names[id(bias)] if bias is not None else None,
                input=np.array(values["input"]._data, copy=True),
                weight=weights_before[id(linear.weight)],
                bias=weights_before[id(bias)] if bias is not None else None,
                z=np.array(values["z"]._data, copy=True),
                a=np.array(values["a"]._data, copy=True),
                grad_a=np.array(values["a"].grad._data, copy=True),
                delta=np.array(values["z"].grad._data, copy=True),
                grad_weight=np.array(linear.weight.grad._data, copy=True),
                grad_bias=np.array(bias.grad._data, copy=True) if bias is not None else None,
            )
        )
        for param, label in ((linear.weight, f"W{number}"), (bias, f"b{number}")):
            if param is None:
                continue
            group = hyper_of[id(param)]
            updates.append(
                ParameterUpdate(
                    name=names[id(param)],
                    label=label,
                    layer=number,
                    old=weights_before[id(param)],
                    grad=np.array(param.grad._data, copy=True),
                    new=np.array(param._data, copy=True),
                    hyper={key: value for key, value in group.items() if key != "params"},
                    state_before=states_before[id(param)],
                    state_after=states_after[id(param)],
                )
            )

    probabilities = None
    if loss == "cross_entropy":
        with no_grad():
            probabilities = y._data.copy() if softmax_in_model else reduction.softmax(y.detach(), -1)._data
    loss_trace = LossTrace(
        kind=loss,
        output=np.array(y._data, copy=True),
        target=t,
        value=float(loss_tensor.item()),
        grad_output=layers[-1].grad_a,
        probabilities=probabilities,
        softmax_in_model=softmax_in_model,
    )
    return Explanation(title, description, layers, loss_trace, OptimizerTrace(kind, updates))


# --------------------------------------------------------------------------- JSON descriptions
_TOP_KEYS = {"title", "description", "layers", "input", "target", "loss", "optimizer", "lr"}
_LAYER_KEYS = {"weights", "biases", "activation"}
_OPTIMIZER_KEYS = {"sgd": {"name", "momentum", "dampening"}, "adam": {"name", "betas", "eps"}}


def _fail(where: str, message: str):
    raise ExplainConfigError(f"{where}: {message}")


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(where, f"expected a number, got {json.dumps(value)}")
    if not math.isfinite(value):
        _fail(where, f"expected a finite number, got {value}")
    return float(value)


def _vector(value, where: str) -> list[float]:
    if not isinstance(value, list) or not value:
        _fail(where, f"expected a non-empty list of numbers, got {json.dumps(value)}")
    return [_number(v, f"{where}[{i}]") for i, v in enumerate(value)]


def _matrix(value, where: str) -> list[list[float]]:
    if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
        _fail(where, f"expected a non-empty list of rows (lists of numbers), got {json.dumps(value)}")
    rows = [_vector(row, f"{where}[{i}]") for i, row in enumerate(value)]
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        _fail(where, f"rows must all have the same length, got lengths {[len(row) for row in rows]}")
    return rows


def _check_keys(mapping: Mapping, allowed: set, where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        _fail(where, f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(allowed))}")


def _validated(config) -> dict:
    """Check a JSON description and return it normalised; errors name the offending path."""
    if not isinstance(config, Mapping):
        _fail("explain JSON", f"expected an object at the top level, got {type(config).__name__}")
    _check_keys(config, _TOP_KEYS, "explain JSON")
    for key in ("layers", "input", "target"):
        if key not in config:
            _fail("explain JSON", f"missing required key {key!r}")

    layers_json = config["layers"]
    if not isinstance(layers_json, list) or not layers_json:
        _fail("layers", "expected a non-empty list of layer objects")
    inputs = config["input"]
    if isinstance(inputs, list) and inputs and isinstance(inputs[0], list):
        batch = _matrix(inputs, "input")
    else:
        batch = [_vector(inputs, "input")]
    width = len(batch[0])
    layers = []
    for index, layer in enumerate(layers_json):
        where = f"layers[{index}]"
        if not isinstance(layer, Mapping):
            _fail(where, f"expected an object with weights/biases/activation, got {json.dumps(layer)}")
        _check_keys(layer, _LAYER_KEYS, where)
        if "weights" not in layer:
            _fail(where, "missing required key 'weights'")
        weights = _matrix(layer["weights"], f"{where}.weights")
        source = "the input" if index == 0 else f"layers[{index - 1}]"
        if len(weights[0]) != width:
            _fail(
                f"{where}.weights",
                f"expected rows of {width} numbers (one per output of {source}), got rows of {len(weights[0])}",
            )
        biases = layer.get("biases")
        if biases is not None:
            biases = _vector(biases, f"{where}.biases")
            if len(biases) != len(weights):
                _fail(f"{where}.biases", f"expected {len(weights)} numbers (one per row of weights), got {len(biases)}")
        activation = layer.get("activation", "identity")
        if activation not in ACTIVATIONS:
            _fail(f"{where}.activation", f"expected one of {', '.join(ACTIVATIONS)}, got {json.dumps(activation)}")
        if activation == "softmax" and index != len(layers_json) - 1:
            _fail(f"{where}.activation", "softmax may only be used by the last layer")
        layers.append({"weights": weights, "biases": biases, "activation": activation})
        width = len(weights)

    loss = config.get("loss", "squared_error")
    if loss not in LOSSES:
        _fail("loss", f"expected one of {', '.join(LOSSES)}, got {json.dumps(loss)}")
    target = _numbers(config["target"], "target")

    lr = _number(config.get("lr", 0.1), "lr")
    if lr < 0:
        _fail("lr", f"expected a non-negative learning rate, got {lr}")
    optimizer = config.get("optimizer", "sgd")
    if isinstance(optimizer, str):
        optimizer = {"name": optimizer}
    if not isinstance(optimizer, Mapping) or optimizer.get("name") not in OPTIMIZERS:
        _fail(
            "optimizer",
            f'expected "sgd", "adam" or an object {{"name": "sgd" | "adam", ...}}, got {json.dumps(optimizer)}',
        )
    _check_keys(optimizer, _OPTIMIZER_KEYS[optimizer["name"]], "optimizer")
    settings = {"lr": lr}
    for key in ("momentum", "dampening", "eps"):
        if key in optimizer:
            settings[key] = _number(optimizer[key], f"optimizer.{key}")
            if settings[key] < 0:
                _fail(f"optimizer.{key}", f"expected a non-negative number, got {settings[key]}")
    if "betas" in optimizer:
        betas = _vector(optimizer["betas"], "optimizer.betas")
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            _fail("optimizer.betas", f"expected two numbers in [0, 1), got {betas}")
        settings["betas"] = tuple(betas)

    for key in ("title", "description"):
        if key in config and not isinstance(config[key], str):
            _fail(key, f"expected a string, got {json.dumps(config[key])}")
    return {
        "title": config.get("title", "One training step, explained"),
        "description": config.get("description", ""),
        "layers": layers,
        "input": batch,
        "target": target,
        "loss": loss,
        "optimizer": optimizer["name"],
        "settings": settings,
    }


def _numbers(value, where: str, depth: int = 0):
    """A number, or a (nested, at most two levels) non-empty list of numbers."""
    if isinstance(value, list):
        if not value or depth == 2:
            _fail(where, f"expected a number or a non-empty list of numbers, got {json.dumps(value)}")
        return [_numbers(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _number(value, where)


def _activation_module(kind: str) -> nn.Module:
    if kind == "identity":
        return nn.Identity()
    cls = getattr(nn, _CLASS_OF_KIND[kind])
    return cls(dim=-1) if kind == "softmax" else cls()


def build_from_config(config) -> dict:
    """Check a JSON description (a dict) and build what ``explain`` takes:
    ``{"model", "input", "target", "loss", "optimizer", "title", "description"}``.
    Parameters are float64 so every printed digit is the engine's exact value."""
    spec = _validated(config)
    modules: list[nn.Module] = []
    for layer in spec["layers"]:
        weights = np.asarray(layer["weights"], dtype=np.float64)
        linear = nn.Linear(weights.shape[1], weights.shape[0], bias=layer["biases"] is not None, dtype=dtypes.float64)
        with no_grad():
            linear.weight.copy_(new_tensor(weights))
            if layer["biases"] is not None:
                linear.bias.copy_(new_tensor(np.asarray(layer["biases"], dtype=np.float64)))
        modules.append(linear)
        if layer["activation"] != "identity":
            modules.append(_activation_module(layer["activation"]))
    model = nn.Sequential(*modules)
    settings = spec["settings"]
    if spec["optimizer"] == "adam":
        optimizer = optim.Adam(model.parameters(), **settings)
    else:
        optimizer = optim.SGD(model.parameters(), **settings)
    return {
        "model": model,
        "input": np.asarray(spec["input"], dtype=np.float64),
        "target": np.asarray(spec["target"]),
        "loss": spec["loss"],
        "optimizer": optimizer,
        "title": spec["title"],
        "description": spec["description"],
    }


def explain_config(config) -> Explanation:
    """``explain`` for a JSON description (a dict, or JSON text)."""
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except json.JSONDecodeError as error:
            raise ExplainConfigError(f"explain JSON: not valid JSON: {error}") from None
    return explain(**build_from_config(config))


# --------------------------------------------------------------------------- built-in examples
EXAMPLES: dict[str, dict] = {
    "neuron": {
        "title": "One training step, explained: a linear neuron",
        "description": (
            "The textbook two-input linear neuron: weights 0.5 and −0.2, no bias, inputs 1.0 and 0.8, "
            "target 0.6, squared-error loss ½(t − y)², plain gradient descent with learning rate 0.1."
        ),
        "layers": [{"weights": [[0.5, -0.2]], "activation": "identity"}],
        "input": [1.0, 0.8],
        "target": [0.6],
        "loss": "squared_error",
        "optimizer": "sgd",
        "lr": 0.1,
    },
    "sigmoid-2-2-1": {
        "title": "One training step, explained: a 2-2-1 sigmoid network",
        "description": (
            "The classic worked example: inputs 0.35 and 0.9, target 0.5, two sigmoid hidden units and one "
            "sigmoid output, no biases, squared-error loss ½(t − y)², gradient descent with learning rate 1."
        ),
        "layers": [
            {"weights": [[0.1, 0.8], [0.4, 0.6]], "activation": "sigmoid"},
            {"weights": [[0.3, 0.9]], "activation": "sigmoid"},
        ],
        "input": [0.35, 0.9],
        "target": [0.5],
        "loss": "squared_error",
        "optimizer": "sgd",
        "lr": 1.0,
    },
    "softmax": {
        "title": "One training step, explained: a softmax classifier",
        "description": (
            "Three inputs, three classes: one Linear layer with biases, softmax, cross-entropy against the "
            "one-hot target of class 3, gradient descent with learning rate 0.5."
        ),
        "layers": [
            {
                "weights": [[0.2, -0.5, 0.1], [0.4, 0.3, -0.2], [-0.3, 0.2, 0.5]],
                "biases": [0.1, 0.0, -0.1],
                "activation": "softmax",
            }
        ],
        "input": [1.0, 2.0, 0.5],
        "target": [0.0, 0.0, 1.0],
        "loss": "cross_entropy",
        "optimizer": "sgd",
        "lr": 0.5,
    },
}


# --------------------------------------------------------------------------- command line
FORMATS = ("text", "markdown", "html")


def run_explain(example: str | None, weights_json: str | None, fmt: str = "text") -> str:
    """The ``retrograd explain`` command's work: explain a built-in example (by
    name) or a JSON description (a file path, or JSON text starting with ``{``),
    rendered as ``fmt`` ("text", "markdown" or "html")."""
    if fmt not in FORMATS:
        raise ExplainConfigError(f"explain: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if (example is None) == (weights_json is None):
        raise ExplainConfigError(
            "explain: give either a built-in example name or a JSON description, not both or neither"
        )
    if example is not None:
        if example not in EXAMPLES:
            raise ExplainConfigError(f"explain: unknown example {example!r}; choose one of {', '.join(EXAMPLES)}")
        return explain_config(EXAMPLES[example]).render(fmt)
    text = weights_json
    if not weights_json.lstrip().startswith("{"):
        try:
            text = Path(weights_json).read_text(encoding="utf-8")
        except OSError as error:
            raise ExplainConfigError(f"explain: cannot read {weights_json}: {error.strerror}") from None
    return explain_config(text).render(fmt)


def main_explain(argv: Sequence[str] | None = None) -> int:
    """``retrograd explain [EXAMPLE] [--json FILE] [--format text|markdown|html] [--output FILE]``;
    returns the exit status (0, or 2 for a bad request)."""
    parser = argparse.ArgumentParser(
        prog="retrograd explain",
        description="Explain one training step of a small network: forward pass, loss, backward pass, update.",
    )
    parser.add_argument("example", nargs="?", help=f"a built-in example: {', '.join(EXAMPLES)}")
    parser.add_argument("--json", dest="weights_json", metavar="FILE", help="a JSON description of your own network")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    parser.add_argument("--list", action="store_true", help="list the built-in examples and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, config in EXAMPLES.items():
            print(f"{name:15} {config['description']}")
        return 0
    try:
        result = run_explain(args.example, args.weights_json, args.format)
    except ExplainConfigError as error:
        print(f"retrograd explain: {error}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_text(result, encoding="utf-8")
    else:
        sys.stdout.write(result)
    return 0
