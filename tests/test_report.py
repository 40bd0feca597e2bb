"""retrograd.report: PNG plots and the Markdown/HTML run report."""

import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib.image as mpimg

import retrograd as rg
from retrograd.report import (
    RunSummary,
    history_series,
    per_class_metrics,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_metric,
    plot_predictions,
    render_html,
    render_markdown,
    write_report,
)
from retrograd.train import History

CLASSES = ["T-shirt/top", "Trouser", "Pull<over>"]


def _history(epochs: int = 4) -> History:
    history = History()
    for epoch in range(epochs):
        history.on_epoch_end(
            epoch,
            {
                "loss": 1.0 / (epoch + 1),
                "accuracy": 0.5 + 0.1 * epoch,
                "val_loss": 1.2 / (epoch + 1),
                "val_accuracy": 0.45 + 0.1 * epoch,
                "lr": 1e-3,
            },
        )
    return history


def _assert_picture(path, min_height=100, min_width=100):
    """A PNG with real content: big enough, and not one flat colour."""
    assert path.is_file() and path.stat().st_size > 1000
    pixels = mpimg.imread(path)
    assert pixels.shape[0] >= min_height and pixels.shape[1] >= min_width
    assert pixels[..., :3].std() > 0.02
    return pixels


def _no_temporary_files(directory):
    assert not [path.name for path in directory.iterdir() if path.name.endswith(".part")]


# ---------------------------------------------------------------- history_series


def test_history_series_accepts_history_state_dict_and_plain_dict():
    history = _history(3)
    epochs, values = history_series(history)
    assert epochs == [1, 2, 3]
    assert values["val_accuracy"] == pytest.approx([0.45, 0.55, 0.65])
    assert history_series(history.state_dict()) == (epochs, values)
    epochs, values = history_series({"loss": [3.0, 2.0]})
    assert epochs == [1, 2] and values == {"loss": [3.0, 2.0]}


def test_history_series_rejects_other_things():
    with pytest.raises(TypeError, match="History or a dict"):
        history_series([1, 2, 3])


# ---------------------------------------------------------------- plots


def test_plot_metric_draws_training_and_validation(tmp_path):
    path = plot_metric(_history(), "loss", tmp_path / "loss.png")
    _assert_picture(path)
    _no_temporary_files(tmp_path)


def test_plot_metric_without_validation_and_in_new_folder(tmp_path):
    path = plot_metric({"accuracy": [0.2, 0.6, 0.7]}, "accuracy", tmp_path / "deep" / "folder" / "acc.png")
    _assert_picture(path)


def test_plot_metric_names_what_was_recorded_when_the_metric_is_missing(tmp_path):
    with pytest.raises(ValueError, match=r"no 'f1'.*recorded: loss, accuracy"):
        plot_metric(_history(), "f1", tmp_path / "f1.png")
    assert not (tmp_path / "f1.png").exists()


def test_plot_confusion_matrix_with_class_names(tmp_path):
    matrix = np.array([[50, 3, 0], [2, 40, 8], [0, 5, 45]])
    path = plot_confusion_matrix(matrix, CLASSES, tmp_path / "confusion.png")
    _assert_picture(path, 300, 300)


def test_plot_confusion_matrix_checks_its_input(tmp_path):
    with pytest.raises(ValueError, match="square matrix"):
        plot_confusion_matrix(np.ones((2, 3)), None, tmp_path / "c.png")
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        plot_confusion_matrix(np.eye(3, dtype=int), ["a", "b"], tmp_path / "c.png")


def test_plot_predictions_marks_right_and_wrong(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((10, 1, 28, 28)).astype(np.float32)
    predicted = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    true = np.array([0, 1, 2, 0, 1, 2, 0, 1, 1, 2])
    pixels = _assert_picture(plot_predictions(images, predicted, true, CLASSES, tmp_path / "pred.png", columns=5))
    # The frames are green for right answers and red for wrong ones: both colours appear.
    red = (pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    green = (pixels[..., 1] > 0.4) & (pixels[..., 0] < 0.2) & (pixels[..., 2] < 0.3)
    assert red.sum() > 50 and green.sum() > 50


def test_plot_predictions_accepts_tensors_and_flattened_images(tmp_path):
    images = rg.rand(6, 64)
    labels = rg.tensor([0, 1, 2, 3, 4, 5])
    _assert_picture(plot_predictions(images, labels, labels, None, tmp_path / "flat.png"), 80, 80)


def test_plot_predictions_checks_lengths_and_layouts(tmp_path):
    with pytest.raises(ValueError, match="3 images, 2 predicted and 3 true labels"):
        plot_predictions(np.zeros((3, 8, 8)), [0, 1], [0, 1, 1], None, tmp_path / "p.png")
    with pytest.raises(ValueError, match="must be square"):
        plot_predictions(np.zeros((3, 10)), [0, 1, 1], [0, 1, 1], None, tmp_path / "p.png")
    with pytest.raises(ValueError, match=r"expected images"):
        plot_predictions(np.zeros((3, 2, 4, 4)), [0, 1, 1], [0, 1, 1], None, tmp_path / "p.png")


def test_plot_decision_boundary(tmp_path):
    x, y = rg.data.make_moons(200, noise=0.1, seed=0)

    def above_the_line(points):
        return (points[:, 1] < 0.25).astype(np.int64)

    path = plot_decision_boundary(above_the_line, x, y, tmp_path / "regions.png", class_names=["upper", "lower"])
    _assert_picture(path)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plot_decision_boundary(above_the_line, np.zeros((5, 3)), np.zeros(5), tmp_path / "bad.png")


def test_plots_leave_pyplot_alone(tmp_path):
    import matplotlib
    import matplotlib.pyplot as plt

    backend = matplotlib.get_backend()
    plot_metric(_history(), "accuracy", tmp_path / "a.png")
    assert plt.get_fignums() == []
    assert matplotlib.get_backend() == backend


def test_missing_matplotlib_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="needs matplotlib"):
        plot_metric(_history(), "loss", tmp_path / "loss.png")


# ---------------------------------------------------------------- per-class metrics


def test_per_class_metrics_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    true = rng.integers(0, 4, 300)
    predicted = np.where(rng.random(300) < 0.7, true, rng.integers(0, 4, 300))
    predicted[predicted == 3] = 2  # class 3 is never predicted: its precision is 0, not NaN
    matrix = np.zeros((4, 4), dtype=np.int64)
    np.add.at(matrix, (true, predicted), 1)
    ours = per_class_metrics(matrix)
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        true, predicted, labels=range(4), zero_division=0
    )
    assert [row["precision"] for row in ours] == pytest.approx(precision)
    assert [row["recall"] for row in ours] == pytest.approx(recall)
    assert [row["f1"] for row in ours] == pytest.approx(f1)
    assert [row["support"] for row in ours] == list(support)


def test_per_class_metrics_rejects_non_square():
    with pytest.raises(ValueError, match="square"):
        per_class_metrics(np.ones((2, 3)))


# ---------------------------------------------------------------- the report


def _summary(tmp_path, **changes) -> RunSummary:
    plot_metric(_history(), "loss", tmp_path / "loss.png")
    fields = {
        "title": "A test run",
        "config": {"data": "fashion-mnist", "lr": 0.001, "hidden": [256, 128], "samples": {"train": 10}},
        "history": _history(),
        "test_metrics": {"loss": 0.31234, "accuracy": 0.8912},
        "confusion": np.array([[8, 2, 0], [1, 9, 0], [0, 3, 7]]),
        "class_names": CLASSES,
        "plots": {"Loss": "loss.png"},
        "notes": ["Trained on **real** data."],
        "epoch_seconds": [1.0, 2.0, 3.0, 4.0],
    }
    fields.update(changes)
    return RunSummary(**fields)


def test_markdown_report_lists_metrics_tables_and_plots(tmp_path):
    text = render_markdown(_summary(tmp_path))
    assert text.startswith("# A test run\n")
    assert "Test accuracy **89.12%**, test loss 0.3123, 4 epochs." in text
    assert "| accuracy | 89.12% |" in text
    assert "![Loss](loss.png)" in text
    # per class: Trouser has precision 9/14 and recall 9/10
    assert "| Trouser | 0.643 | 0.900 | 0.750 | 10 |" in text
    assert "| **macro average** |" in text
    # epoch table with the time column; accuracies as percentages
    assert "| epoch | loss | accuracy | val_loss | val_accuracy | lr | time (s) |" in text
    assert "| 4 | 0.2500 | 80.00% | 0.3000 | 75.00% | 0.001 | 4.0 |" in text
    assert "| `hidden` | 256, 128 |" in text
    assert "| `samples` | train 10 |" in text
    assert "- Trained on **real** data." in text


def test_markdown_report_without_confusion_or_plots(tmp_path):
    text = render_markdown(_summary(tmp_path, confusion=None, plots={}, epoch_seconds=()))
    assert "Per-class" not in text and "## Plots" not in text and "time (s)" not in text


def test_html_report_is_self_contained_and_escaped(tmp_path):
    page = render_html(_summary(tmp_path), tmp_path)
    assert page.startswith("<!DOCTYPE html>")
    assert 'src="data:image/png;base64,' in page
    assert "Pull&lt;over&gt;" in page and "Pull<over>" not in page
    assert "<strong>real</strong>" in page
    linked = render_html(_summary(tmp_path))
    assert 'src="loss.png"' in linked


def test_write_report_writes_both_pages_atomically(tmp_path):
    written = write_report(_summary(tmp_path), tmp_path)
    assert [path.name for path in written] == ["report.md", "report.html"]
    assert "89.12%" in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "89.12%" in (tmp_path / "report.html").read_text(encoding="utf-8")
    _no_temporary_files(tmp_path)
    only_markdown = tmp_path / "md"
    only_markdown.mkdir()
    (only_markdown / "loss.png").write_bytes((tmp_path / "loss.png").read_bytes())
    assert [p.name for p in write_report(_summary(tmp_path), only_markdown, include_html=False)] == ["report.md"]


def test_write_report_needs_its_plots(tmp_path):
    summary = _summary(tmp_path, plots={"Accuracy": "accuracy.png"})
    with pytest.raises(FileNotFoundError, match=r"plots not found .*accuracy\.png"):
        write_report(summary, tmp_path)
    assert not (tmp_path / "report.md").exists()
