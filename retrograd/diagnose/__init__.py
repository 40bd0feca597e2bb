"""Tools that make backpropagation visible.

- ``explain``: one real training step of a small network, told step by step
  (forward pass, loss, backward pass with every delta, update) from the
  engine's own values, as terminal text, Markdown or an HTML page.
- ``draw_graph``: the backward graph of a computation as Graphviz DOT, SVG or
  PNG, with op names, shapes and gradient norms.
- ``GradientFlowMonitor`` / ``GradientFlowCallback``: per-layer gradient and
  weight norms, update ratios, dead and saturated units over training, with
  vanishing/exploding-gradient detection and advice in plain words.
- ``detect_anomaly`` (also ``retrograd.detect_anomaly``): names the op and the
  line of user code that first produced a NaN or Inf.
"""

from ..autograd.anomaly import detect_anomaly
from ..autograd.gradcheck import gradcheck, gradgradcheck
from .advice import Finding, FlowRecord, Thresholds, find_problems
from .explain import (
    EXAMPLES,
    ExplainConfigError,
    Explanation,
    build_from_config,
    explain,
    explain_config,
    main_explain,
    run_explain,
)
from .gradient_flow import GradientFlowCallback, GradientFlowMonitor
from .graph import draw_graph, record_modules, watch_gradients
from .render import render, render_html, render_markdown, render_text

__all__ = [
    "EXAMPLES",
    "ExplainConfigError",
    "Explanation",
    "Finding",
    "FlowRecord",
    "GradientFlowCallback",
    "GradientFlowMonitor",
    "Thresholds",
    "build_from_config",
    "detect_anomaly",
    "draw_graph",
    "explain",
    "explain_config",
    "find_problems",
    "gradcheck",
    "gradgradcheck",
    "main_explain",
    "record_modules",
    "render",
    "render_html",
    "render_markdown",
    "render_text",
    "run_explain",
    "watch_gradients",
]
