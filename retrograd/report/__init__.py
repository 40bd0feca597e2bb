"""Reports of training runs: PNG plots (loss and accuracy curves, confusion
matrix, sample predictions, decision regions) and a Markdown/HTML run report.

matplotlib is needed only for the plots and is imported when the first one
is drawn (``pip install retrograd[plot]``).
"""

from .plots import history_series, plot_confusion_matrix, plot_decision_boundary, plot_metric, plot_predictions
from .report import RunSummary, per_class_metrics, render_html, render_markdown, write_report

__all__ = [
    "history_series",
    "plot_metric",
    "plot_confusion_matrix",
    "plot_predictions",
    "plot_decision_boundary",
    "RunSummary",
    "per_class_metrics",
    "render_markdown",
    "render_html",
    "write_report",
]
