"""Rendering an ``Explanation`` as terminal text, Markdown or a self-contained HTML page.

Rendering happens in two stages: ``document`` turns the explanation into a
list of blocks (headings, paragraphs, equations, tables) whose cells hold
the worked arithmetic as strings, and one writer per format lays the blocks
out. Every number shown is a value the engine produced (or, for the local
derivative column and the terms of a sum, arithmetic on such values that
the text displays).
"""

# The text is mathematics: the minus sign, ×, σ, ∂ and subscripts are meant.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .explain import Explanation, LayerTrace, ParameterUpdate

__all__ = ["document", "number", "render", "render_html", "render_markdown", "render_text"]

MINUS = "\u2212"  # the typographic minus sign


# --------------------------------------------------------------------------- blocks
@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Paragraph:
    text: str


@dataclass
class Equation:
    text: str


@dataclass
class Facts:
    pairs: list[tuple[str, str]]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


Block = Heading | Paragraph | Equation | Facts | Table


# --------------------------------------------------------------------------- numbers
def number(value: float, digits: int = 6) -> str:
    """``value`` to ``digits`` significant digits, with a typographic minus and a
    trailing ``.0`` on whole numbers (``1.0``, ``0.34``, ``−0.1792``)."""
    value = float(value)
    if value == 0:
        return "0.0"
    text = f"{value:.{digits}g}"
    if not any(mark in text for mark in ".en"):  # not 1.5, 1e-08, inf, nan
        text += ".0"
    return text.replace("-", MINUS)


class _Numbers:
    """Formatting helpers bound to one precision."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __call__(self, value: float) -> str:
        return number(value, self.digits)

    def factor(self, value: float) -> str:
        """A number as an operand: negative numbers in parentheses."""
        text = self(value)
        return f"({text})" if text.startswith(MINUS) else text

    def vector(self, values) -> str:
        return "[" + ", ".join(self(v) for v in np.ravel(values)) + "]"

    def matrix(self, values) -> str:
        values = np.asarray(values)
        if values.ndim == 1 or values.shape[0] == 1:
            return self.vector(values)
        return "[" + ", ".join(self.vector(row) for row in values) + "]"

    def sum_of_products(self, left, right) -> str:
        return " + ".join(f"{self.factor(a)}×{self.factor(b)}" for a, b in zip(left, right, strict=True))


# --------------------------------------------------------------------------- the document
_ACTIVATION_FORMULA = {
    "identity": "a = z",
    "sigmoid": "a = σ(z) = 1/(1 + e^(−z))",
    "tanh": "a = tanh(z)",
    "relu": "a = max(0, z)",
    "softmax": "a = softmax(z), aⱼ = e^zⱼ / Σₖ e^zₖ",
}
_ACTIVATION_OF_Z = {"identity": "z", "sigmoid": "σ(z)", "tanh": "tanh(z)", "relu": "max(0, z)", "softmax": "softmax(z)"}
_LOCAL_FORMULA = {
    "identity": "∂a/∂z = 1",
    "sigmoid": "∂a/∂z = σ(z)(1 − σ(z)) = a(1 − a)",
    "tanh": "∂a/∂z = 1 − tanh²(z) = 1 − a²",
    "relu": "∂a/∂z = 1 where z > 0, else 0",
    "softmax": "∂aₖ/∂zⱼ = aₖ(1[k = j] − aⱼ)",
}
_LOSS_NAME = {"squared_error": "squared error", "mse": "mean squared error (MSELoss)", "cross_entropy": "cross-entropy"}


def _loss_formula(kind: str, batch: int, softmax_in_model: bool) -> str:
    over_batch = f" averaged over the N = {batch} inputs" if batch > 1 else ""
    if kind == "squared_error":
        return f"L = ½ Σⱼ (tⱼ − yⱼ)²{over_batch}"
    if kind == "mse":
        return "L = (1/M) Σ (y − t)², M = number of outputs × inputs"
    source = "p = the softmax layer's output" if softmax_in_model else "p = softmax(y), y the logits"
    return f"L = −Σⱼ tⱼ log pⱼ{over_batch}, {source}"


def _optimizer_rule(explanation: Explanation, n: _Numbers) -> str:
    trace = explanation.optimizer
    hyper = trace.updates[0].hyper
    if trace.kind == "adam":
        beta1, beta2 = hyper["betas"]
        return (
            f"Adam: m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², w ← w − lr·m̂/(√v̂ + ε) with "
            f"m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ); lr = {n(hyper['lr'])}, β1 = {n(beta1)}, β2 = {n(beta2)}, "
            f"ε = {n(hyper['eps'])}"
        )
    if hyper["momentum"] != 0:
        return (
            f"SGD with momentum: v ← μ·v + (1 − d)·g (v = g on the first step), w ← w − lr·v; "
            f"lr = {n(hyper['lr'])}, μ = {n(hyper['momentum'])}, d = {n(hyper['dampening'])}"
        )
    return f"SGD: w ← w − lr × ∂L/∂w, lr = {n(hyper['lr'])}"


def _layer_title(layer: LayerTrace) -> str:
    out_features, in_features = layer.weight.shape
    bias = "" if layer.bias is not None else ", no bias"
    return f"Linear {in_features} → {out_features}{bias}, then {layer.activation}"


def _with_sample(batch: int, sample: int, cells: list[str]) -> list[str]:
    return ([str(sample + 1)] if batch > 1 else []) + cells


def _sample_header(batch: int, header: list[str]) -> list[str]:
    return (["input"] if batch > 1 else []) + header


def _setup(explanation: Explanation, n: _Numbers) -> list[Block]:
    layers = explanation.layers
    batch = layers[0].input.shape[0]
    facts = [("network", "; ".join(f"layer {layer.number}: {_layer_title(layer)}" for layer in layers))]
    for layer in layers:
        facts.append((f"W{layer.number} ({layer.weight_name})", n.matrix(layer.weight)))
        if layer.bias is not None:
            facts.append((f"b{layer.number} ({layer.bias_name})", n.vector(layer.bias)))
    facts += [
        ("input x" if batch == 1 else f"inputs x (N = {batch})", n.matrix(layers[0].input)),
        ("target t", n.matrix(explanation.loss.target)),
        (
            "loss",
            f"{_LOSS_NAME[explanation.loss.kind]}: {_loss_formula(explanation.loss.kind, batch, explanation.loss.softmax_in_model)}",
        ),
        ("optimizer", _optimizer_rule(explanation, n)),
    ]
    return [
        Heading(2, "Setup"),
        Facts(facts),
        Paragraph(
            "Notation: W1[j,i] is the weight from input i to unit j of layer 1, b1[j] that unit's bias; "
            "units and inputs are numbered from 1. z is a unit's weighted sum, a its activation, "
            "δ = ∂L/∂z its delta."
        ),
    ]


def _forward(explanation: Explanation, n: _Numbers) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, "1. Forward pass"),
        Paragraph("Each unit adds up its weighted inputs, z = Σᵢ W[j,i]·xᵢ + b[j], and applies its activation."),
    ]
    for layer in explanation.layers:
        batch, units = layer.z.shape
        source = "x" if layer.number == 1 else f"a{layer.number - 1}"
        blocks.append(Heading(3, f"Layer {layer.number}: {_layer_title(layer)}"))
        blocks.append(
            Equation(
                f"z{layer.number} = W{layer.number}·{source}"
                + (f" + b{layer.number}" if layer.bias is not None else "")
                + f", {_ACTIVATION_FORMULA[layer.activation]}"
            )
        )
        rows = []
        for sample in range(batch):
            exp_sum = float(np.exp(layer.z[sample]).sum())
            for j in range(units):
                terms = n.sum_of_products(layer.weight[j], layer.input[sample])
                if layer.bias is not None:
                    terms += f" + {n.factor(layer.bias[j])}"
                z, a = layer.z[sample, j], layer.a[sample, j]
                weighted = f"{terms} = {n(z)}"
                if layer.activation == "identity":
                    activation = f"{n(a)}"
                elif layer.activation == "softmax":
                    activation = f"e^{n.factor(z)} / {n(exp_sum)} = {n(a)}"
                elif layer.activation == "relu":
                    activation = f"max(0, {n(z)}) = {n(a)}"
                else:
                    symbol = "σ" if layer.activation == "sigmoid" else "tanh"
                    activation = f"{symbol}({n(z)}) = {n(a)}"
                rows.append(_with_sample(batch, sample, [str(j + 1), weighted, activation]))
        header = ["unit", "weighted sum z", f"activation a = {_ACTIVATION_OF_Z[layer.activation]}"]
        blocks.append(Table(_sample_header(batch, header), rows))
    return blocks


def _loss(explanation: Explanation, n: _Numbers) -> list[Block]:
    loss = explanation.loss
    batch, units = loss.output.shape
    blocks: list[Block] = [Heading(2, "2. Loss"), Equation(_loss_formula(loss.kind, batch, loss.softmax_in_model))]
    rows = []
    if loss.kind == "cross_entropy":
        p = loss.probabilities
        for sample in range(batch):
            for j in range(units):
                cells = [str(j + 1), n(p[sample, j]), n(loss.target[sample, j])]
                if not loss.softmax_in_model:
                    cells.insert(1, n(loss.output[sample, j]))
                rows.append(_with_sample(batch, sample, cells))
        header = ["unit", "output y = p", "target t"]
        if not loss.softmax_in_model:
            header[1:2] = ["output y (logit)", "probability p = softmax(y)"]
        blocks.append(Table(_sample_header(batch, header), rows))
        hits = [(t, pj) for t, pj in zip(loss.target.ravel(), p.ravel(), strict=True) if t != 0]
        terms = " + ".join(f"{n.factor(t)}×log {n(pj)}" for t, pj in hits)
        divide = f") / {batch}" if batch > 1 else ")"
        blocks.append(Equation(f"L = −({terms}{divide} = {n(loss.value)}"))
        return blocks
    error = loss.target - loss.output
    for sample in range(batch):
        for j in range(units):
            rows.append(
                _with_sample(
                    batch,
                    sample,
                    [str(j + 1), n(loss.output[sample, j]), n(loss.target[sample, j]), n(error[sample, j])],
                )
            )
    blocks.append(Table(_sample_header(batch, ["unit", "output y", "target t", "error t − y"]), rows))
    squares = " + ".join(f"{n.factor(e)}²" for e in error.ravel())
    if loss.kind == "squared_error":
        squares = squares if error.size == 1 else f"({squares})"
        divide = f" / {batch}" if batch > 1 else ""
        blocks.append(Equation(f"L = ½ × {squares}{divide} = {n(loss.value)}"))
    else:
        blocks.append(Equation(f"L = ({squares}) / {error.size} = {n(loss.value)}"))
    return blocks


def _upstream_cells(explanation: Explanation, position: int, n: _Numbers) -> tuple[str, list[list[str]]]:
    """How ∂L/∂a arrives at a layer, and the worked value for every (sample, unit)."""
    layers = explanation.layers
    layer = layers[position]
    batch, units = layer.a.shape
    cells = [[""] * units for _ in range(batch)]
    if position < len(layers) - 1:
        above = layers[position + 1]
        formula = f"∂L/∂a{layer.number}[j] = Σₖ W{above.number}[k,j] × δ{above.number}[k]  (the weights as they were before the update)"
        for sample in range(batch):
            for j in range(units):
                terms = n.sum_of_products(above.weight[:, j], above.delta[sample])
                cells[sample][j] = f"{terms} = {n(layer.grad_a[sample, j])}"
        return formula, cells
    loss = explanation.loss
    y, t, grad = loss.output, loss.target, layer.grad_a
    per_batch = f"/{batch}" if batch > 1 else ""
    for sample in range(batch):
        for j in range(units):
            if loss.kind == "squared_error":
                work = f"−({n(t[sample, j])} − {n.factor(y[sample, j])}){per_batch}"
            elif loss.kind == "mse":
                work = f"2×({n(y[sample, j])} − {n.factor(t[sample, j])})/{y.size}"
            elif loss.softmax_in_model:
                if t[sample, j] == 0:
                    cells[sample][j] = f"{n(grad[sample, j])} (t = 0)"
                    continue
                work = f"−{n.factor(t[sample, j])}/{n(y[sample, j])}{per_batch}"
            else:
                work = f"({n(loss.probabilities[sample, j])} − {n(t[sample, j])}){per_batch}"
            cells[sample][j] = f"{work} = {n(grad[sample, j])}"
    divide = "/N" if batch > 1 else ""
    formula = {
        "squared_error": f"∂L/∂a = ∂L/∂y = −(t − y){divide}",
        "mse": "∂L/∂a = ∂L/∂y = 2(y − t)/M",
        "cross_entropy": f"∂L/∂a = ∂L/∂p = −t/p{divide}"
        if loss.softmax_in_model
        else f"∂L/∂a = ∂L/∂y = (p − t){divide}  (cross-entropy over logits)",
    }[loss.kind]
    return formula, cells


def _backward_layer(explanation: Explanation, position: int, n: _Numbers) -> list[Block]:
    layer = explanation.layers[position]
    batch, units = layer.z.shape
    where = "output layer" if position == len(explanation.layers) - 1 else "hidden layer"
    blocks: list[Block] = [Heading(3, f"Layer {layer.number} ({where}): {layer.activation}")]
    upstream_formula, upstream = _upstream_cells(explanation, position, n)
    blocks.append(Equation(f"from above: {upstream_formula}"))
    blocks.append(Equation(f"local: {_LOCAL_FORMULA[layer.activation]}"))
    local = layer.local_derivative
    rows = []
    if layer.activation == "softmax":
        weighted = np.einsum("nk,nk->n", layer.a, layer.grad_a)
        combined = explanation.loss.kind == "cross_entropy"
        for sample in range(batch):
            for j in range(units):
                a, g = layer.a[sample, j], layer.grad_a[sample, j]
                delta = f"{n.factor(a)}×({n(g)} − {n.factor(weighted[sample])}) = {n(layer.delta[sample, j])}"
                row = [str(j + 1), upstream[sample][j], n(a), delta]
                if combined:
                    t = explanation.loss.target[sample, j]
                    difference = f"({n(a)} − {n(t)})/{batch}" if batch > 1 else f"{n(a)} − {n(t)}"
                    row.append(f"{difference} = {n(layer.delta[sample, j])}")
                rows.append(_with_sample(batch, sample, row))
        blocks.append(
            Equation(
                "chain rule through the softmax Jacobian: δⱼ = Σₖ ∂L/∂aₖ · aₖ(1[k = j] − aⱼ) "
                "= aⱼ(∂L/∂aⱼ − Σₖ aₖ ∂L/∂aₖ)"
            )
        )
        for sample in range(batch):
            terms = n.sum_of_products(layer.a[sample], layer.grad_a[sample])
            which = f" for input {sample + 1}" if batch > 1 else ""
            blocks.append(Equation(f"Σₖ aₖ ∂L/∂aₖ{which} = {terms} = {n(weighted[sample])}"))
        header = ["unit", "∂L/∂a (from above)", "a = p", "δ = a(∂L/∂a − Σ a ∂L/∂a)"]
        if combined:
            blocks.append(
                Paragraph("With cross-entropy this collapses to the famous shortcut δ = p − t (the last column).")
            )
            header.append("shortcut δ = p − t")
        blocks.append(Table(_sample_header(batch, header), rows))
    else:
        for sample in range(batch):
            for j in range(units):
                a, z = layer.a[sample, j], layer.z[sample, j]
                d = local[sample, j]
                if layer.activation == "sigmoid":
                    local_cell = f"{n(a)}×(1 − {n(a)}) = {n(d)}"
                elif layer.activation == "tanh":
                    local_cell = f"1 − {n.factor(a)}² = {n(d)}"
                elif layer.activation == "relu":
                    local_cell = "1 (z > 0)" if z > 0 else "0 (z ≤ 0)"
                else:
                    local_cell = "1.0"
                delta = f"{n.factor(layer.grad_a[sample, j])} × {n.factor(d)} = {n(layer.delta[sample, j])}"
                rows.append(_with_sample(batch, sample, [str(j + 1), upstream[sample][j], local_cell, delta]))
        header = ["unit", "∂L/∂a (from above)", "∂a/∂z (local)", "δ = ∂L/∂a × ∂a/∂z"]
        blocks.append(Table(_sample_header(batch, header), rows))

    source = "x" if layer.number == 1 else f"a{layer.number - 1}"
    blocks.append(
        Paragraph(
            f"Gradients of layer {layer.number}'s parameters: ∂L/∂W{layer.number}[j,i] = δⱼ × {source}ᵢ"
            + (", ∂L/∂b[j] = δⱼ" if layer.bias is not None else "")
            + (" (summed over the inputs of the batch)" if batch > 1 else "")
            + "."
        )
    )
    rows = []
    out_features, in_features = layer.weight.shape
    for j in range(out_features):
        for i in range(in_features):
            terms = n.sum_of_products(layer.delta[:, j], layer.input[:, i])
            rows.append([f"W{layer.number}[{j + 1},{i + 1}]", f"{terms} = {n(layer.grad_weight[j, i])}"])
    if layer.bias is not None:
        for j in range(out_features):
            terms = " + ".join(n.factor(d) for d in layer.delta[:, j])
            value = n(layer.grad_bias[j])
            rows.append([f"b{layer.number}[{j + 1}]", value if batch == 1 else f"{terms} = {value}"])
    blocks.append(Table(["parameter", "gradient ∂L/∂w"], rows))
    return blocks


def _backward(explanation: Explanation, n: _Numbers) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, "3. Backward pass"),
        Paragraph(
            "From the output down, the chain rule turns the gradient arriving from above (∂L/∂a) and the "
            "activation's local derivative (∂a/∂z) into each unit's delta δ = ∂L/∂z = ∂L/∂a × ∂a/∂z. "
            "A weight's gradient is its unit's delta times the input it multiplies; a bias's is the delta."
        ),
    ]
    for position in reversed(range(len(explanation.layers))):
        blocks += _backward_layer(explanation, position, n)
    return blocks


def _element_labels(update: ParameterUpdate) -> list[tuple[str, tuple]]:
    if update.old.ndim == 2:
        return [
            (f"{update.label}[{j + 1},{i + 1}]", (j, i))
            for j in range(update.old.shape[0])
            for i in range(update.old.shape[1])
        ]
    return [(f"{update.label}[{j + 1}]", (j,)) for j in range(update.old.shape[0])]


def _update(explanation: Explanation, n: _Numbers) -> list[Block]:
    trace = explanation.optimizer
    blocks: list[Block] = [Heading(2, "4. Update"), Equation(_optimizer_rule(explanation, n))]
    rows = []
    if trace.kind == "adam":
        first = trace.updates[0]
        beta1, beta2 = first.hyper["betas"]
        t = first.state_after["step"]
        blocks.append(
            Equation(f"step t = {int(t)}: bias corrections 1 − β1ᵗ = {n(1 - beta1**t)}, 1 − β2ᵗ = {n(1 - beta2**t)}")
        )
        header = [
            "parameter",
            "old w",
            "gradient g",
            "m = β1·m + (1 − β1)·g",
            "v = β2·v + (1 − β2)·g²",
            "m̂",
            "v̂",
            "new w = w − lr·m̂/(√v̂ + ε)",
        ]
        for update in trace.updates:
            m_old = update.state_before.get("exp_avg", np.zeros_like(update.old))
            v_old = update.state_before.get("exp_avg_sq", np.zeros_like(update.old))
            m, v = update.state_after["exp_avg"], update.state_after["exp_avg_sq"]
            hyper = update.hyper
            for label, index in _element_labels(update):
                g = update.grad[index]
                m_hat = m[index] / (1 - beta1**t)
                v_hat = v[index] / (1 - beta2**t)
                rows.append(
                    [
                        label,
                        n(update.old[index]),
                        n(g),
                        f"{n(beta1)}×{n.factor(m_old[index])} + {n(1 - beta1)}×{n.factor(g)} = {n(m[index])}",
                        f"{n(beta2)}×{n.factor(v_old[index])} + {n(1 - beta2)}×{n.factor(g)}² = {n(v[index])}",
                        n(m_hat),
                        n(v_hat),
                        f"{n(update.old[index])} − {n(hyper['lr'])}×{n.factor(m_hat)}/(√{n(v_hat)} + {n(hyper['eps'])}) = {n(update.new[index])}",
                    ]
                )
    elif trace.updates[0].hyper["momentum"] != 0:
        header = ["parameter", "old w", "gradient g", "velocity v", "new w = w − lr·v"]
        for update in trace.updates:
            hyper = update.hyper
            v_old = update.state_before.get("momentum_buffer")
            v = update.state_after["momentum_buffer"]
            for label, index in _element_labels(update):
                g = update.grad[index]
                if v_old is None:
                    velocity = f"g = {n(v[index])} (first step)"
                else:
                    velocity = f"{n(hyper['momentum'])}×{n.factor(v_old[index])} + {n(1 - hyper['dampening'])}×{n.factor(g)} = {n(v[index])}"
                rows.append(
                    [
                        label,
                        n(update.old[index]),
                        n(g),
                        velocity,
                        f"{n(update.old[index])} − {n(hyper['lr'])}×{n.factor(v[index])} = {n(update.new[index])}",
                    ]
                )
    else:
        header = ["parameter", "old w", "lr × ∂L/∂w", "new w = w − lr × ∂L/∂w"]
        for update in trace.updates:
            lr = update.hyper["lr"]
            step = trace.displayed_step(update)
            for label, index in _element_labels(update):
                rows.append(
                    [
                        label,
                        n(update.old[index]),
                        f"{n(lr)} × {n.factor(update.grad[index])} = {n(step[index])}",
                        f"{n(update.old[index])} − {n.factor(step[index])} = {n(update.new[index])}",
                    ]
                )
    blocks.append(Table(header, rows))
    return blocks


def document(explanation: Explanation, digits: int = 6) -> list[Block]:
    """The explanation as a list of blocks, shared by all output formats."""
    n = _Numbers(digits)
    blocks: list[Block] = [Heading(1, explanation.title)]
    if explanation.description:
        blocks.append(Paragraph(explanation.description))
    blocks += _setup(explanation, n)
    blocks += _forward(explanation, n)
    blocks += _loss(explanation, n)
    blocks += _backward(explanation, n)
    blocks += _update(explanation, n)
    blocks += [Paragraph(note) for note in explanation.notes]
    return blocks


# --------------------------------------------------------------------------- writers
def render_text(explanation: Explanation, digits: int = 6, width: int = 100) -> str:
    """Plain text for a terminal: underlined headings, aligned tables."""
    lines: list[str] = []
    previous_was_equation = False
    for block in document(explanation, digits):
        if isinstance(block, Heading):
            if block.level == 1:
                lines += [block.text, "=" * len(block.text)]
            elif block.level == 2:
                lines += [block.text, "-" * len(block.text)]
            else:
                lines.append(block.text)
        elif isinstance(block, Paragraph):
            lines += textwrap.wrap(block.text, width, break_on_hyphens=False)
        elif isinstance(block, Equation):
            if previous_was_equation:
                lines.pop()  # consecutive equations stand together
            lines.append("  " + block.text)
        elif isinstance(block, Facts):
            key_width = max(len(key) for key, _ in block.pairs)
            for key, value in block.pairs:
                wrapped = textwrap.wrap(value, max(width - key_width - 4, 30), break_on_hyphens=False) or [""]
                lines.append(f"  {key:<{key_width}}  {wrapped[0]}")
                lines += [" " * (key_width + 4) + more for more in wrapped[1:]]
        else:
            widths = [max(len(row[c]) for row in [block.header, *block.rows]) for c in range(len(block.header))]
            for index, row in enumerate([block.header, *block.rows]):
                lines.append(("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))).rstrip())
                if index == 0:
                    lines.append("  " + "  ".join("-" * w for w in widths))
        lines.append("")
        previous_was_equation = isinstance(block, Equation)
    return "\n".join(lines)


def _markdown_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def render_markdown(explanation: Explanation, digits: int = 6) -> str:
    """GitHub-flavoured Markdown: headings, pipe tables, equations as code spans."""
    lines: list[str] = []
    for block in document(explanation, digits):
        if isinstance(block, Heading):
            lines.append("#" * block.level + " " + _markdown_cell(block.text))
        elif isinstance(block, Paragraph):
            lines.append(_markdown_cell(block.text))
        elif isinstance(block, Equation):
            lines.append(f"`{block.text}`")
        elif isinstance(block, Facts):
            lines += [f"- **{_markdown_cell(key)}**: {_markdown_cell(value)}" for key, value in block.pairs]
        else:
            lines.append("| " + " | ".join(_markdown_cell(cell) for cell in block.header) + " |")
            lines.append("|" + "|".join("---" for _ in block.header) + "|")
            lines += ["| " + " | ".join(_markdown_cell(cell) for cell in row) + " |" for row in block.rows]
        lines.append("")
    return "\n".join(lines)


_STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 2rem auto; max-width: 72rem; padding: 0 1.5rem; color: #1f2328; background: #ffffff;
       line-height: 1.5; }
h1 { font-size: 1.8rem; border-bottom: 3px solid #3b6fd8; padding-bottom: .3rem; }
h2 { font-size: 1.35rem; margin-top: 2.2rem; color: #2450a8; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.1rem; margin: 1.4rem 0 .4rem; }
p.eq { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; background: #f3f6fc;
       border-left: 4px solid #3b6fd8; padding: .35rem .8rem; margin: .4rem 0; white-space: pre-wrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.2rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .65rem; text-align: left; vertical-align: top; }
th { background: #eef2f8; font-weight: 600; }
td { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
tbody tr:nth-child(even) td { background: #f8fafc; }
"""


def render_html(explanation: Explanation, digits: int = 6) -> str:
    """A self-contained HTML5 page: inline CSS, no scripts, no external resources."""
    body: list[str] = []
    section_open = False
    for block in document(explanation, digits):
        if isinstance(block, Heading):
            if block.level == 2:
                if section_open:
                    body.append("</section>")
                body.append("<section>")
                section_open = True
            body.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Equation):
            body.append(f'<p class="eq">{html.escape(block.text)}</p>')
        elif isinstance(block, Facts):
            items = "".join(f"<dt>{html.escape(key)}</dt><dd>{html.escape(value)}</dd>" for key, value in block.pairs)
            body.append(f'<dl class="facts">{items}</dl>')
        else:
            header = "".join(f'<th scope="col">{html.escape(cell)}</th>' for cell in block.header)
            rows = "\n".join(
                "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in block.rows
            )
            body.append(f"<table>\n<thead><tr>{header}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>")
    if section_open:
        body.append("</section>")
    content = "\n".join(body)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(explanation.title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{content}\n</main>\n</body>\n</html>\n"
    )


_WRITERS = {"text": render_text, "markdown": render_markdown, "html": render_html}


def render(explanation: Explanation, fmt: str = "text", digits: int = 6) -> str:
    """``render_text``, ``render_markdown`` or ``render_html`` by name."""
    if fmt not in _WRITERS:
        raise ValueError(f"render: fmt must be one of {', '.join(_WRITERS)}, got {fmt!r}")
    return _WRITERS[fmt](explanation, digits=digits)
