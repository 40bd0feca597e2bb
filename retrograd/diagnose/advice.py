"""Findings about gradient flow, in plain words: what the recorded numbers say
(vanishing or exploding gradients, dead ReLUs, saturated sigmoid/tanh units,
oversized updates), why it probably happens, and what to try.

``find_problems(record)`` reads a ``FlowRecord`` (the arrays a
``GradientFlowMonitor`` keeps) and returns ``Finding`` objects. Every rule
looks at the most recent ``Thresholds.window`` recorded steps and fires only
when its condition holds in at least ``Thresholds.sustain`` of those steps, so
a single noisy batch never raises an alarm; non-finite gradients are the one
exception and are reported wherever they occur.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ActivationRecord",
    "Finding",
    "FlowRecord",
    "Thresholds",
    "find_problems",
    "finite_median",
    "render_findings",
    "findings_to_markdown",
]

VANISHING = "vanishing_gradients"
EXPLODING = "exploding_gradients"
DEAD_RELU = "dead_relu"
SATURATION = "saturation"
LARGE_UPDATES = "large_updates"

SEVERITIES = ("critical", "warning")

# Activation modules whose units can die (output exactly 0 for every input) and
# those that saturate (output pinned near a bound where the derivative vanishes).
DYING_ACTIVATIONS = frozenset({"ReLU", "ReLU6"})
SATURATING_ACTIVATIONS = frozenset({"Sigmoid", "Tanh"})

# RMS(weight) * sqrt(fan_in) right after the common initialisations, to judge
# the scale the monitored weights start at.
HE_GAIN = math.sqrt(2.0)
PYTORCH_DEFAULT_GAIN = 1.0 / math.sqrt(3.0)


@dataclass(frozen=True)
class Thresholds:
    """The numbers the rules compare against (see docs/gradient_flow.md)."""

    window: int = 20  # recorded steps examined, the most recent ones
    sustain: float = 0.8  # share of those steps in which a condition must hold
    min_steps: int = 5  # fewer valid steps than this: no verdict
    vanishing_ratio: float = 1e-3  # a layer's gradient norm / the last layer's, below this: vanishing
    vanishing_floor: float = 1e-7  # gradient norm below this: vanishing whatever the last layer does
    exploding_ratio: float = 1e3  # a layer's gradient norm / the last layer's, above this: exploding
    exploding_norm: float = 1e3  # gradient norm above this: exploding
    growth_factor: float = 10.0  # total gradient norm rising this much across the window ...
    growth_fraction: float = 0.6  # ... with at least this share of steps rising: exploding
    dead_fraction: float = 0.5  # share of dead ReLU units above this: dead ReLUs
    saturation_fraction: float = 0.5  # share of saturated sigmoid/tanh outputs above this: saturation
    update_ratio: float = 0.1  # ||Δw|| / ||w|| per step above this: updates too large

    def __post_init__(self) -> None:
        if not (isinstance(self.window, int) and self.window >= 2):
            raise ValueError(f"Thresholds: window must be an int >= 2, got {self.window!r}")
        if not (isinstance(self.min_steps, int) and self.min_steps >= 2):
            raise ValueError(f"Thresholds: min_steps must be an int >= 2, got {self.min_steps!r}")
        for name in ("sustain", "growth_fraction", "dead_fraction", "saturation_fraction"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"Thresholds: {name} must be in (0, 1], got {value!r}")
        for name in ("vanishing_ratio", "vanishing_floor", "exploding_ratio", "exploding_norm", "update_ratio"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"Thresholds: {name} must be positive, got {value!r}")
        if not self.growth_factor > 1:
            raise ValueError(f"Thresholds: growth_factor must be > 1, got {self.growth_factor!r}")


@dataclass(frozen=True, eq=False)  # arrays: no element-wise ==
class ActivationRecord:
    """Statistics of one activation module's output, one row per recorded step.

    ``dead`` is the share of units that are zero for every sample of the batch
    (ReLU and ReLU6, NaN for other activations); ``saturated`` the share of
    outputs within 0.01 of a bound (sigmoid < 0.01 or > 0.99, |tanh| > 0.99;
    NaN for other activations). ``follows`` names the monitored layer that ran
    just before it.
    """

    name: str
    kind: str
    follows: str | None
    steps: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    dead: np.ndarray
    saturated: np.ndarray

    @property
    def label(self) -> str:
        after = f" after {self.follows}" if self.follows else ""
        return f"{self.name} ({self.kind}{after})"


@dataclass(frozen=True, eq=False)
class FlowRecord:
    """What a ``GradientFlowMonitor`` recorded: arrays of shape (steps, layers),
    layers in the order the forward pass runs them.

    ``grad_norm`` is the 2-norm of the gradient of each layer's weights (every
    parameter not named ``bias*``), ``bias_grad_norm`` that of its biases,
    ``weight_norm`` the weights' norm before the step and ``update_ratio``
    ``||Δw|| / ||w||`` of the step (NaN where not measured; every norm is NaN
    where the layer got no gradient), and ``grad_nonfinite`` marks the layers
    whose gradient held a NaN or inf. ``fan_in`` is the
    fan-in of the layer's weight matrix or kernel (NaN for layers without one,
    such as BatchNorm); these "matrix layers" are the ones compared with each
    other for vanishing and exploding gradients.
    """

    layer_names: tuple[str, ...]
    layer_types: tuple[str, ...]
    fan_in: np.ndarray
    weight_numel: np.ndarray
    steps: np.ndarray
    grad_norm: np.ndarray
    bias_grad_norm: np.ndarray
    weight_norm: np.ndarray
    update_ratio: np.ndarray
    grad_nonfinite: np.ndarray
    activations: tuple[ActivationRecord, ...] = ()
    normalization: bool = False

    @property
    def matrix_layers(self) -> np.ndarray:
        """Indices of the layers with a weight matrix or kernel, in forward order."""
        return np.flatnonzero(np.isfinite(self.fan_in))

    def __len__(self) -> int:
        return len(self.steps)


@dataclass(frozen=True)
class Finding:
    """One problem found in the recorded gradient flow."""

    kind: str
    severity: str
    layers: tuple[str, ...]
    evidence: dict[str, float]
    message: str
    causes: tuple[str, ...]
    remedies: tuple[str, ...]

    @property
    def title(self) -> str:
        return self.kind.replace("_", " ").replace("relu", "ReLU units")

    def __str__(self) -> str:
        lines = [f"[{self.severity}] {self.title}: {', '.join(self.layers)}", f"  {self.message}"]
        if self.causes:
            lines.append("  Likely causes:")
            lines.extend(f"    - {cause}" for cause in self.causes)
        if self.remedies:
            lines.append("  What to try:")
            lines.extend(f"    - {remedy}" for remedy in self.remedies)
        return "\n".join(lines)

    def to_markdown(self) -> str:
        lines = [f"**{self.title.capitalize()}** ({self.severity}) in {', '.join(f'`{n}`' for n in self.layers)}.", ""]
        lines.append(self.message)
        if self.causes:
            lines += ["", "Likely causes:", ""] + [f"- {cause}" for cause in self.causes]
        if self.remedies:
            lines += ["", "What to try:", ""] + [f"- {remedy}" for remedy in self.remedies]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "layers": list(self.layers),
            "evidence": dict(self.evidence),
            "message": self.message,
            "causes": list(self.causes),
            "remedies": list(self.remedies),
        }


def render_findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No gradient-flow problems found."
    return "\n\n".join(str(finding) for finding in findings)


def findings_to_markdown(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No gradient-flow problems found."
    return "\n\n".join(finding.to_markdown() for finding in findings)


# --------------------------------------------------------------------------- rules
def find_problems(record: FlowRecord, thresholds: Thresholds | None = None) -> list[Finding]:
    """Every rule's finding for ``record``, the critical ones first."""
    thresholds = thresholds or Thresholds()
    if len(record) == 0:
        return []
    context = _Context(record)
    findings = [
        _exploding(record, thresholds, context),
        _vanishing(record, thresholds, context),
        _dead_relu(record, thresholds, context),
        _saturation(record, thresholds, context),
        _large_updates(record, thresholds, context),
    ]
    findings = [finding for finding in findings if finding is not None]
    return sorted(findings, key=lambda finding: SEVERITIES.index(finding.severity))


def _recent(array: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    return array[-thresholds.window :]


def _sustained(condition: np.ndarray, valid: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """Per column: the condition held in at least ``sustain`` of the valid rows,
    and there were at least ``min_steps`` valid rows."""
    counts = valid.sum(axis=0)
    hits = (condition & valid).sum(axis=0)
    return (counts >= thresholds.min_steps) & (hits >= thresholds.sustain * counts)


def finite_median(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Median of the finite values (NaN where there are none)."""
    finite = np.where(np.isfinite(values), values, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are expected here
        return np.nanmedian(finite, axis=axis)


def _ratios_to_last(grads: np.ndarray) -> np.ndarray:
    """Each column divided by the last column, NaN where that is not a positive finite number."""
    last = grads[:, -1:]
    with np.errstate(all="ignore"):
        ratios = grads / last
    return np.where((last > 0) & np.isfinite(last), ratios, np.nan)


def _vanishing(record: FlowRecord, thresholds: Thresholds, context: _Context) -> Finding | None:
    matrix = record.matrix_layers
    if len(matrix) == 0:
        return None
    grads = _recent(record.grad_norm[:, matrix], thresholds)
    finite = np.isfinite(grads)
    below_floor = _sustained(grads < thresholds.vanishing_floor, finite, thresholds)
    low_ratio = np.zeros(len(matrix), dtype=bool)
    ratios = _ratios_to_last(grads)
    if len(matrix) >= 2:
        low_ratio = _sustained(ratios < thresholds.vanishing_ratio, np.isfinite(ratios), thresholds)
    involved = below_floor | low_ratio
    if not involved.any():
        return None

    names = [record.layer_names[i] for i in matrix]
    medians = finite_median(grads)
    median_ratios = finite_median(ratios)
    first, last = names[0], names[-1]
    evidence = {
        "first_layer_grad_norm": float(medians[0]),
        "last_layer_grad_norm": float(medians[-1]),
        "first_to_last_ratio": float(median_ratios[0]) if len(matrix) >= 2 else math.nan,
        "layers_affected": int(involved.sum()),
        "steps_examined": len(grads),
    }
    if below_floor.all():
        message = (
            f"The gradients of every weight layer are practically zero (median norm {medians.max():.1e} or less, "
            f"below {thresholds.vanishing_floor:.0e}) over the last {len(grads)} recorded steps: nothing is learning."
        )
    else:
        message = (
            f"The gradient shrinks on its way back through the network: the first layer ({first}) gets a gradient "
            f"of norm {medians[0]:.1e}, {_times(median_ratios[0])} the last layer's ({last}, {medians[-1]:.1e}), "
            f"median over the last {len(grads)} recorded steps; {int(involved.sum())} of {len(matrix)} weight layers "
            f"are below {thresholds.vanishing_ratio:.0e} of the last layer or under {thresholds.vanishing_floor:.0e}. "
            "These layers barely change, so the early layers stay close to their random initial weights."
        )
    critical = bool(below_floor.any()) or bool(np.nanmin(median_ratios[:-1], initial=np.inf) < 1e-6)
    return Finding(
        kind=VANISHING,
        severity="critical" if critical else "warning",
        layers=tuple(name for name, hit in zip(names, involved) if hit),
        evidence=evidence,
        message=message,
        causes=tuple(context.vanishing_causes()),
        remedies=tuple(context.vanishing_remedies()),
    )


def _exploding(record: FlowRecord, thresholds: Thresholds, context: _Context) -> Finding | None:
    reasons: list[str] = []
    evidence: dict[str, float] = {}
    layers: set[int] = set()
    critical = False

    # Non-finite gradients anywhere in the run: the clearest sign, reported even
    # when later steps are finite again (a skipped batch, a restarted run).
    bad = record.grad_nonfinite
    if bad.any():
        critical = True
        first_row = int(np.flatnonzero(bad.any(axis=1))[0])
        layers.update(np.flatnonzero(bad[first_row]).tolist())
        evidence["first_nonfinite_step"] = int(record.steps[first_row])
        reasons.append(f"gradients became NaN or infinite at step {int(record.steps[first_row])}")
        before = _total_norm(record.grad_norm[:first_row])
        before = before[np.isfinite(before)]
        if len(before) >= 2:
            evidence["total_grad_norm_before"] = float(before[-1])
            reasons.append(
                f"just before, the total gradient norm was {before[-1]:.1e} "
                f"(it was {before[0]:.1e} when recording started)"
            )

    grads = _recent(record.grad_norm, thresholds)
    finite = np.isfinite(grads)
    huge = _sustained(grads > thresholds.exploding_norm, finite, thresholds)
    if huge.any():
        layers.update(np.flatnonzero(huge).tolist())
        evidence["max_median_grad_norm"] = float(np.nanmax(finite_median(grads)[huge]))
        reasons.append(
            f"{int(huge.sum())} layer(s) have gradient norms above {thresholds.exploding_norm:.0e} "
            f"(median up to {evidence['max_median_grad_norm']:.1e})"
        )

    matrix = record.matrix_layers
    if len(matrix) >= 2:
        ratios = _ratios_to_last(grads[:, matrix])
        growing_back = _sustained(ratios > thresholds.exploding_ratio, np.isfinite(ratios), thresholds)
        if growing_back.any():
            layers.update(matrix[growing_back].tolist())
            worst = float(np.nanmax(finite_median(ratios)[growing_back]))
            evidence["max_ratio_to_last_layer"] = worst
            reasons.append(
                f"the gradient grows on its way back: early layers get up to {worst:.1e} times "
                "the last layer's gradient norm"
            )

    total = _total_norm(grads)
    total = total[np.isfinite(total)]
    if len(total) >= max(thresholds.min_steps, 3):
        third = max(1, len(total) // 3)
        start, end = np.median(total[:third]), np.median(total[-third:])
        rising = float(np.mean(np.diff(total) > 0))
        if start > 0 and end / start >= thresholds.growth_factor and rising >= thresholds.growth_fraction:
            layers.update(range(len(record.layer_names)))
            evidence["growth_factor"] = float(end / start)
            reasons.append(
                f"the total gradient norm rose {end / start:.0f}-fold over the last {len(total)} recorded steps, "
                f"rising in {rising:.0%} of them"
            )

    if not reasons:
        return None
    evidence["steps_examined"] = len(grads)
    names = tuple(record.layer_names[i] for i in sorted(layers))
    message = "Gradients explode: " + "; ".join(reasons) + ". Each step then throws the weights far off."
    return Finding(
        kind=EXPLODING,
        severity="critical" if critical else "warning",
        layers=names,
        evidence=evidence,
        message=message,
        causes=tuple(context.exploding_causes(bool(bad.any()))),
        remedies=tuple(context.exploding_remedies()),
    )


def _total_norm(grads: np.ndarray) -> np.ndarray:
    """The norm of all layers' weight gradients together, per step (NaN-free columns only count)."""
    with np.errstate(all="ignore"):
        squares = np.where(np.isnan(grads), 0.0, grads) ** 2
        return np.sqrt(squares.sum(axis=1))


def _recent_activation(
    values: np.ndarray, site: ActivationRecord, record: FlowRecord, thresholds: Thresholds
) -> np.ndarray:
    """The site's most recent values as a column, NaN at steps whose gradients
    were not finite: once weights hold NaN or inf, activations say nothing
    about the units themselves."""
    broken_steps = record.steps[record.grad_nonfinite.any(axis=1)]
    values = np.where(np.isin(site.steps, broken_steps), np.nan, values)
    return _recent(values, thresholds)[:, None]


def _dead_relu(record: FlowRecord, thresholds: Thresholds, context: _Context) -> Finding | None:
    sites = [site for site in record.activations if site.kind in DYING_ACTIVATIONS]
    hits, medians = [], []
    for site in sites:
        dead = _recent_activation(site.dead, site, record, thresholds)
        if _sustained(dead > thresholds.dead_fraction, np.isfinite(dead), thresholds)[0]:
            hits.append(site)
            medians.append(float(finite_median(dead)[0]))
    if not hits:
        return None
    worst = max(medians)
    described = ", ".join(f"{site.label}: {median:.0%}" for site, median in zip(hits, medians))
    message = (
        f"More than {thresholds.dead_fraction:.0%} of the units of {len(hits)} ReLU layer(s) output zero for every "
        f"sample of the batch (median share of dead units over the last recorded steps: {described}). A dead unit "
        "passes no gradient back, so its incoming weights stop learning."
    )
    return Finding(
        kind=DEAD_RELU,
        severity="critical" if worst >= 0.99 else "warning",
        layers=tuple(site.name for site in hits),
        evidence={f"dead_fraction[{site.name}]": median for site, median in zip(hits, medians)},
        message=message,
        causes=tuple(context.dead_relu_causes()),
        remedies=(
            "Use LeakyReLU, ELU or GELU, whose gradient is never exactly zero.",
            "Lower the learning rate: one oversized step can push a unit's bias so low it never fires again.",
            "Initialise with He (kaiming) init and zero biases: nn.init.kaiming_normal_(w, nonlinearity='relu').",
            "Put BatchNorm1d before the ReLU, so each unit's input stays centred around zero.",
        ),
    )


def _saturation(record: FlowRecord, thresholds: Thresholds, context: _Context) -> Finding | None:
    sites = [site for site in record.activations if site.kind in SATURATING_ACTIVATIONS]
    hits, medians = [], []
    for site in sites:
        saturated = _recent_activation(site.saturated, site, record, thresholds)
        if _sustained(saturated > thresholds.saturation_fraction, np.isfinite(saturated), thresholds)[0]:
            hits.append(site)
            medians.append(float(finite_median(saturated)[0]))
    if not hits:
        return None
    described = ", ".join(f"{site.label}: {median:.0%}" for site, median in zip(hits, medians))
    message = (
        f"More than {thresholds.saturation_fraction:.0%} of the outputs of {len(hits)} sigmoid/tanh layer(s) sit "
        f"at their bounds (sigmoid < 0.01 or > 0.99, |tanh| > 0.99; median share: {described}). There the derivative "
        "is almost zero, so little gradient gets through."
    )
    return Finding(
        kind=SATURATION,
        severity="warning",
        layers=tuple(site.name for site in hits),
        evidence={f"saturated_fraction[{site.name}]": median for site, median in zip(hits, medians)},
        message=message,
        causes=tuple(context.saturation_causes()),
        remedies=(
            "Use ReLU-family activations (ReLU, LeakyReLU, GELU) in hidden layers; they do not saturate for positive inputs.",
            "Use Xavier (Glorot) init for sigmoid/tanh layers: nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain('tanh')).",
            "Standardise the inputs (zero mean, unit variance) and add BatchNorm1d before the activation.",
        ),
    )


def _large_updates(record: FlowRecord, thresholds: Thresholds, context: _Context) -> Finding | None:
    matrix = record.matrix_layers
    if len(matrix) == 0:
        return None
    ratios = _recent(record.update_ratio[:, matrix], thresholds)
    large = _sustained(ratios > thresholds.update_ratio, np.isfinite(ratios), thresholds)
    if not large.any():
        return None
    medians = finite_median(ratios)[large]
    names = tuple(record.layer_names[i] for i in matrix[large])
    message = (
        f"Each optimizer step changes the weights of {len(names)} layer(s) by more than "
        f"{thresholds.update_ratio:.0%} of their norm (median ||Δw||/||w|| up to {medians.max():.2f}); "
        "healthy training usually changes them by about 0.1% (1e-3) per step."
    )
    return Finding(
        kind=LARGE_UPDATES,
        severity="warning",
        layers=names,
        evidence={f"update_ratio[{name}]": float(value) for name, value in zip(names, medians)},
        message=message,
        causes=("The learning rate is too high for this model and optimizer.",),
        remedies=(
            "Lower the learning rate (by 3-10x), or warm it up over the first steps (retrograd.optim.lr_scheduler).",
            "Clip the gradient norm: retrograd.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).",
        ),
    )


def _share(ratio: float) -> str:
    """A fraction as a percentage, or as "N times" once it is absurdly large."""
    return f"{ratio:.1%}" if ratio < 10 else f"{ratio:.1e} times"


def _times(ratio: float) -> str:
    if not math.isfinite(ratio):
        return "an undefined fraction of"
    return f"{1 / ratio:.1e} times smaller than" if ratio < 1 else f"{ratio:.1e} times"


# --------------------------------------------------------------------------- causes
@dataclass
class _Context:
    """Facts about the monitored model that decide which causes and remedies apply."""

    record: FlowRecord
    kinds: set[str] = field(init=False)
    gain: float = field(init=False)
    depth: int = field(init=False)
    update_ratio: float = field(init=False)

    def __post_init__(self) -> None:
        record = self.record
        self.kinds = {site.kind for site in record.activations}
        matrix = record.matrix_layers
        self.depth = len(matrix)
        self.gain = math.nan
        self.update_ratio = math.nan
        if len(matrix):
            # RMS of the weights times sqrt(fan-in) at the first recorded step:
            # 1.41 after He init, about 1 after Xavier, 0.58 after PyTorch's default.
            with np.errstate(all="ignore"):
                rms = record.weight_norm[0, matrix] / np.sqrt(record.weight_numel[matrix])
                gains = rms * np.sqrt(record.fan_in[matrix])
            self.gain = float(finite_median(gains))
            self.update_ratio = float(finite_median(finite_median(record.update_ratio[:, matrix]), axis=0))

    @property
    def saturating(self) -> bool:
        return bool(self.kinds & SATURATING_ACTIVATIONS)

    @property
    def expected_gain(self) -> float:
        """The gain the usual init gives for these activations: He for the ReLU
        family, Xavier (about 1) for sigmoid and tanh or when unknown."""
        rectifiers = self.kinds - SATURATING_ACTIVATIONS - {"Hardtanh"}
        return HE_GAIN if rectifiers else 1.0

    @property
    def dead_share(self) -> float:
        return self._largest_median("dead", DYING_ACTIVATIONS)

    @property
    def saturated_share(self) -> float:
        return self._largest_median("saturated", SATURATING_ACTIVATIONS)

    def _largest_median(self, statistic: str, kinds: frozenset[str]) -> float:
        """The largest median of ``statistic`` over the activation sites of ``kinds`` (NaN if none)."""
        shares = [finite_median(getattr(site, statistic))[()] for site in self.record.activations if site.kind in kinds]
        shares = [float(share) for share in shares if np.isfinite(share)]
        return max(shares) if shares else math.nan

    def _gain_text(self) -> str:
        return (
            f"the weights start with RMS x sqrt(fan_in) = {self.gain:.2f} "
            f"(He init gives {HE_GAIN:.2f}, Xavier about 1, PyTorch's default Linear init {PYTORCH_DEFAULT_GAIN:.2f})"
        )

    def vanishing_causes(self) -> list[str]:
        causes = []
        dead = self.dead_share
        units_dead = bool(np.isfinite(dead) and dead > 0.5)
        if units_dead:
            causes.append(
                f"Dead ReLU units: in some layers {dead:.0%} of the units never fire, and a unit that does not "
                "fire passes no gradient back."
            )
        if self.saturating:
            names = " and ".join(sorted(self.kinds & SATURATING_ACTIVATIONS))
            share = self.saturated_share
            saturated = f"; {share:.0%} of their outputs are saturated" if np.isfinite(share) and share > 0.05 else ""
            causes.append(
                f"Saturating activations ({names}): their derivative is at most 0.25 (sigmoid) or 1 (tanh) and "
                f"near zero at the bounds, and the backward pass multiplies one such factor per layer{saturated}."
            )
        if np.isfinite(self.gain) and self.gain < 0.8 * self.expected_gain:
            causes.append(
                f"Initial weights too small for this depth: {self._gain_text()}; each layer then shrinks the signal."
            )
        if self.depth >= 6 and not self.record.normalization and not units_dead:
            causes.append(
                f"Depth: {self.depth} weight layers in a chain with no normalization layers, so the per-layer "
                "shrinking compounds."
            )
        if not causes:
            causes.append("Each layer's backward pass multiplies the gradient by a factor below 1, and it compounds.")
        return causes

    def vanishing_remedies(self) -> list[str]:
        remedies = []
        if np.isfinite(self.dead_share) and self.dead_share > 0.5:
            remedies.append("Use LeakyReLU, ELU or GELU, and zero initial biases, so that units cannot die.")
        if self.saturating:
            remedies.append("Use ReLU-family activations (ReLU, LeakyReLU, GELU) in the hidden layers.")
        remedies.append(
            "Initialise for the activation: He (kaiming) init for ReLU, "
            "nn.init.kaiming_normal_(w, nonlinearity='relu'); Xavier for tanh/sigmoid, nn.init.xavier_uniform_(w)."
        )
        if not self.record.normalization:
            remedies.append(
                "Add normalization between layers: nn.BatchNorm1d (or nn.LayerNorm) before each activation."
            )
        remedies.append("Add residual connections (x + f(x)) so the gradient has a short path back to early layers.")
        return remedies

    def exploding_causes(self, nonfinite: bool) -> list[str]:
        causes = []
        if np.isfinite(self.gain) and self.gain > 1.5 * HE_GAIN:
            # Oversized weights make every update huge too; blaming the learning rate would mislead.
            causes.append(f"Initial weights too large: {self._gain_text()}; each layer then amplifies the signal.")
        elif np.isfinite(self.update_ratio) and self.update_ratio > 0.01:
            causes.append(
                f"A learning rate too high: steps change the weights by {_share(self.update_ratio)} of their norm "
                "(median), which feeds back into ever larger gradients."
            )
        else:
            causes.append("A learning rate too high: each overshooting step makes the next gradient larger.")
        if self.depth >= 6 and not self.record.normalization:
            causes.append(f"Depth: {self.depth} weight layers without normalization, so per-layer growth compounds.")
        if nonfinite:
            causes.append("Less often: a NaN or inf in the data, or a log(0) or division by zero in a custom loss.")
        return causes

    def exploding_remedies(self) -> list[str]:
        remedies = [
            "Clip the gradient norm before each step: retrograd.nn.utils.clip_grad_norm_(model.parameters(), "
            "max_norm=1.0), or fit(..., grad_clip=1.0).",
            "Lower the learning rate (by 3-10x), or warm it up over the first steps.",
            "Initialise with He (kaiming) or Xavier init instead of larger weights.",
        ]
        if not self.record.normalization:
            remedies.append("Add normalization layers (nn.BatchNorm1d, nn.LayerNorm).")
        return remedies

    def dead_relu_causes(self) -> list[str]:
        causes = []
        if np.isfinite(self.update_ratio) and self.update_ratio > 0.01:
            causes.append(
                f"A learning rate too high: steps change the weights by {_share(self.update_ratio)} of their norm "
                "(median), enough to push units permanently negative."
            )
        causes.append("Large negative biases, or weights initialised with the wrong scale.")
        if not self.record.normalization:
            causes.append("Inputs to the ReLUs that drift negative, with no normalization to re-centre them.")
        return causes

    def saturation_causes(self) -> list[str]:
        causes = []
        if np.isfinite(self.gain) and self.gain > 1.2:
            causes.append(f"Initial weights too large for sigmoid/tanh: {self._gain_text()}.")
        causes.append("Inputs that are not standardised (large values push the pre-activations far from zero).")
        if not self.record.normalization:
            causes.append("No normalization before the activations.")
        return causes
