"""The run report: one Markdown page (and optionally a self-contained HTML
page) that says what was trained, how training went and how good the result is.

A ``RunSummary`` holds the facts: the configuration, the per-epoch
``History``, the final test metrics, the confusion matrix with the class
names, and the plots already written beside the report. ``render_markdown``
and ``render_html`` turn it into text; ``write_report`` writes
``report.md`` (and ``report.html``, with the plots embedded so the one file can
be mailed or archived) atomically into the run's folder.
"""

from __future__ import annotations

import base64
import html
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.files import atomic_write
from .plots import history_series

__all__ = ["RunSummary", "per_class_metrics", "render_markdown", "render_html", "write_report"]


@dataclass
class RunSummary:
    """Everything a run report shows.

    ``config``: the settings, in display order. ``history``: a ``History`` or
    its ``state_dict()``. ``test_metrics``: final scores on the test split
    (``"loss"``, ``"accuracy"`` ...). ``confusion``: the ``(C, C)`` matrix on
    the test split (rows true, columns predicted) for the per-class table.
    ``plots``: caption -> file name relative to the report's folder.
    ``notes``: sentences shown under the title (where the data came from,
    training time ...). ``epoch_seconds``: wall time of each epoch.
    """

    title: str
    config: Mapping[str, Any]
    history: Any
    test_metrics: Mapping[str, float]
    confusion: np.ndarray | None = None
    class_names: Sequence[str] | None = None
    plots: Mapping[str, str] = field(default_factory=dict)
    notes: Sequence[str] = ()
    epoch_seconds: Sequence[float] = ()


def per_class_metrics(confusion: Any) -> list[dict[str, float]]:
    """Precision, recall, F1 and support (number of true samples) of each
    class of a confusion matrix (rows true, columns predicted); a ratio with
    nothing to count (a class never predicted, say) is 0, as in scikit-learn."""
    matrix = np.asarray(confusion, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"per_class_metrics: expected a square confusion matrix, got shape {matrix.shape}")
    hits = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return [
        {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for p, r, f, s in zip(precision, recall, f1, actual)
    ]


# ------------------------------------------------------------------ shared content


def _format_value(name: str, value: Any) -> str:
    """A logged number as the tables show it: accuracies as percentages, the
    learning rate in short scientific form, other floats with 4 decimals,
    lists (such as the gradient-flow findings of an epoch) as their items."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) or "none"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if name == "lr":
        return f"{value:.3g}"
    if "acc" in name:
        return f"{100 * value:.2f}%"
    return f"{value:.4f}"


def _epoch_table(summary: RunSummary) -> tuple[list[str], list[list[str]]]:
    epochs, values = history_series(summary.history)
    names = list(values)
    header = ["epoch", *names]
    seconds = list(summary.epoch_seconds)
    if seconds:
        header.append("time (s)")
    rows = []
    for row_index, epoch in enumerate(epochs):
        row = [str(epoch)]
        for name in names:
            series = values[name]
            # Series recorded only from some epoch on are aligned on the last epochs.
            offset = len(epochs) - len(series)
            row.append(_format_value(name, series[row_index - offset]) if row_index >= offset else "")
        if seconds:
            offset = len(epochs) - len(seconds)
            row.append(f"{seconds[row_index - offset]:.1f}" if row_index >= offset else "")
        rows.append(row)
    return header, rows


def _class_table(summary: RunSummary) -> tuple[list[str], list[list[str]]] | None:
    if summary.confusion is None:
        return None
    scores = per_class_metrics(summary.confusion)
    names = list(summary.class_names) if summary.class_names is not None else [str(i) for i in range(len(scores))]
    rows = [
        [names[i], f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"])]
        for i, s in enumerate(scores)
    ]
    supports = np.array([s["support"] for s in scores])
    macro = [np.mean([s[key] for s in scores]) for key in ("precision", "recall", "f1")]
    rows.append(["**macro average**", *(f"{value:.3f}" for value in macro), str(int(supports.sum()))])
    return ["class", "precision", "recall", "F1", "support"], rows


def _metric_rows(summary: RunSummary) -> list[list[str]]:
    rows = [[name, _format_value(name, value)] for name, value in summary.test_metrics.items()]
    if summary.confusion is not None:
        scores = per_class_metrics(summary.confusion)
        for key in ("precision", "recall", "f1"):
            rows.append([f"macro {key}", f"{np.mean([s[key] for s in scores]):.4f}"])
    return rows


def _headline(summary: RunSummary) -> str:
    parts = []
    if "accuracy" in summary.test_metrics:
        parts.append(f"test accuracy **{_format_value('accuracy', summary.test_metrics['accuracy'])}**")
    if "loss" in summary.test_metrics:
        parts.append(f"test loss {_format_value('loss', summary.test_metrics['loss'])}")
    epochs, _ = history_series(summary.history)
    parts.append(f"{len(epochs)} epoch{'s' if len(epochs) != 1 else ''}")
    sentence = ", ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


# ------------------------------------------------------------------ Markdown


def _markdown_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], right_align_from: int = 1) -> str:
    align = ["---" if i < right_align_from else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(_markdown_cell(cell) for cell in header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_markdown_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(summary: RunSummary) -> str:
    """The report as Markdown; plots are linked by their relative file names."""
    out = [f"# {summary.title}", "", _headline(summary), ""]
    out += [f"- {note}" for note in summary.notes]
    if summary.notes:
        out.append("")
    out += ["## Test metrics", "", _markdown_table(["metric", "value"], _metric_rows(summary)), ""]
    if summary.plots:
        out += ["## Plots", ""]
        for caption, file_name in summary.plots.items():
            out += [f"### {caption}", "", f"![{caption}]({file_name})", ""]
    classes = _class_table(summary)
    if classes is not None:
        out += ["## Per-class metrics (test split)", "", _markdown_table(*classes), ""]
    out += ["## Training, epoch by epoch", "", _markdown_table(*_epoch_table(summary)), ""]
    config_rows = [[f"`{key}`", _config_value(value)] for key, value in summary.config.items()]
    out += ["## Configuration", "", _markdown_table(["setting", "value"], config_rows, right_align_from=2), ""]
    return "\n".join(out)


def _config_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Mapping):
        return ", ".join(f"{key} {_config_value(item)}" for key, item in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


# ------------------------------------------------------------------ HTML

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1f2328; line-height: 1.5; }
h1 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f6f8fa; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; flex: 1 1 26rem; }
figcaption { color: #59636e; font-size: .9rem; }
img { max-width: 100%; }
code { background: #f6f8fa; padding: 0 .2rem; }
"""


def _html_inline(text: str) -> str:
    """Escape ``text`` and turn Markdown's ``**bold**`` and ```code``` into HTML."""
    escaped = html.escape(str(text))
    for marker, tag in (("**", "strong"), ("`", "code")):
        pieces = escaped.split(marker)
        if len(pieces) % 2 == 1:  # only when every marker is paired
            escaped = "".join(
                piece if index % 2 == 0 else f"<{tag}>{piece}</{tag}>" for index, piece in enumerate(pieces)
            )
    return escaped


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_html_inline(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{_html_inline(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(summary: RunSummary, base_dir: str | os.PathLike | None = None) -> str:
    """The report as one HTML page. With ``base_dir`` (the folder holding the
    plots) the PNGs are embedded as data URIs, so the page stands alone;
    without it they are linked by file name."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(summary.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(summary.title)}</h1>",
        f"<p>{_html_inline(_headline(summary))}</p>",
    ]
    if summary.notes:
        parts.append("<ul>" + "".join(f"<li>{_html_inline(note)}</li>" for note in summary.notes) + "</ul>")
    parts += ["<h2>Test metrics</h2>", _html_table(["metric", "value"], _metric_rows(summary))]
    if summary.plots:
        parts.append('<h2>Plots</h2><div class="plots">')
        for caption, file_name in summary.plots.items():
            source = html.escape(file_name, quote=True)
            if base_dir is not None:
                data = base64.b64encode((Path(base_dir) / file_name).read_bytes()).decode("ascii")
                source = f"data:image/png;base64,{data}"
            alt = html.escape(caption, quote=True)
            parts.append(
                f'<figure><img src="{source}" alt="{alt}"><figcaption>{html.escape(caption)}</figcaption></figure>'
            )
        parts.append("</div>")
    classes = _class_table(summary)
    if classes is not None:
        parts += ["<h2>Per-class metrics (test split)</h2>", _html_table(*classes)]
    parts += ["<h2>Training, epoch by epoch</h2>", _html_table(*_epoch_table(summary))]
    config_rows = [[f"`{key}`", _config_value(value)] for key, value in summary.config.items()]
    parts += ["<h2>Configuration</h2>", _html_table(["setting", "value"], config_rows), "</body></html>", ""]
    return "\n".join(parts)


def write_report(summary: RunSummary, out_dir: str | os.PathLike, *, include_html: bool = True) -> list[Path]:
    """Write ``report.md`` (and ``report.html`` with the plots embedded) into
    ``out_dir``, each atomically; returns the paths written. The plots named
    in ``summary.plots`` must already be in ``out_dir``."""
    directory = Path(out_dir)
    missing = [name for name in summary.plots.values() if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"write_report: plots not found in {directory}: {', '.join(missing)}")
    written = []
    pages = [("report.md", render_markdown(summary))]
    if include_html:
        pages.append(("report.html", render_html(summary, directory)))
    for file_name, text in pages:
        path = directory / file_name
        with atomic_write(path) as file:
            file.write(text.encode("utf-8"))
        written.append(path)
    return written
