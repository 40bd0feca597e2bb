"""Tools that make backpropagation visible.

- ``explain``: one real training step of a small network, told step by step
  (forward pass, loss, backward pass with every delta, update) from the
  engine's own values, as terminal text, Markdown or an HTML page.
- ``draw_graph``: the backward graph of a computation as Graphviz DOT, SVG or
  PNG, with op names, shapes and gradient norms.
"""

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
from .graph import draw_graph, record_modules, watch_gradients
from .render import render, render_html, render_markdown, render_text

__all__ = [
    "EXAMPLES",
    "ExplainConfigError",
    "Explanation",
    "build_from_config",
    "draw_graph",
    "explain",
    "explain_config",
    "main_explain",
    "record_modules",
    "render",
    "render_html",
    "render_markdown",
    "render_text",
    "run_explain",
    "watch_gradients",
]
