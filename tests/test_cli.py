"""The ``retrograd`` command: argument handling, train/resume/evaluate on small
data, demo fallback, explain; and the model zoo it builds."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg
from retrograd import cli
from retrograd.data import files as data_files
from retrograd.models import MODELS, build_model

REPO = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    """``retrograd ARGV`` in this process: ``(status, stdout, stderr)``."""
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, *fragments):
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("retrograd: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def parse_error(capsys, *argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(argv))
    _, err = capsys.readouterr()
    return exit_info.value.code, err


# ---------------------------------------------------------------- arguments and errors


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["train", "--data", "imagenet"], ["unknown dataset 'imagenet'", "fashion-mnist", "moons"]),
        (["train", "--epochs", "-1"], ["--epochs", "must be at least 1, got -1"]),
        (["train", "--epochs", "many"], ["--epochs", "expected an integer"]),
        (["train", "--lr", "0"], ["--lr", "must be a positive number"]),
        (["train", "--model", "resnet"], ["unknown model 'resnet'", "transformer"]),
        (["train", "--val-split", "1.5"], ["--val-split", "must be in [0, 1)"]),
        (["train", "--hidden", "256,x"], ["--hidden"]),
        (["train", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["evaluate"], ["--run"]),
        (["explain", "--format", "pdf"], ["--format", "invalid choice"]),
        (["frobnicate"], ["invalid choice: 'frobnicate'"]),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(capsys, argv, fragments):
    status, err = parse_error(capsys, *argv)
    assert_one_line_error(status, err, *fragments)
    assert "--help" in err


def test_errors_found_while_running_give_one_line_and_status_2(capsys, tmp_path):
    status, _, err = run(capsys, "evaluate", "--run", str(tmp_path / "missing"))
    assert_one_line_error(status, err, "run folder", "not found")
    status, _, err = run(capsys, "evaluate", "--run", str(tmp_path))
    assert_one_line_error(status, err, "not a retrograd run folder")
    status, _, err = run(capsys, "explain", "--weights", str(tmp_path / "nowhere.json"))
    assert_one_line_error(status, err, "cannot read", "nowhere.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    status, _, err = run(capsys, "explain", "--weights", str(tmp_path / "bad.json"))
    assert_one_line_error(status, err)
    status, _, err = run(capsys, "train", "--resume", "--out", str(tmp_path / "none"), "--quiet")
    assert_one_line_error(status, err, "not found")
    status, _, err = run(capsys, "train", "--model", "cnn", "--data", "moons", "--quiet", "--out", str(tmp_path / "x"))
    assert_one_line_error(status, err, "cannot build --model cnn for --data moons")


def test_missing_dataset_is_a_one_line_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(data_files, "SYSTEM_DATA_DIRS", ())
    monkeypatch.delenv("RETROGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    status, _, err = run(capsys, "train", "--data", "mnist", "--quiet", "--out", str(tmp_path / "run"))
    assert_one_line_error(status, err, "mnist: files", "not found", "download=True")


@pytest.mark.parametrize("command", ["train", "evaluate", "demo", "explain"])
def test_every_command_has_complete_help(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    parser = cli.build_parser()
    subparser = parser._subparsers._group_actions[0].choices[command]
    for action in subparser._actions:
        for option in action.option_strings:
            assert option in out
        if action.help and action.help != "==SUPPRESS==":
            assert action.help.split()[0] in out


def test_top_level_help_lists_the_commands(capsys):
    status, out, _ = run(capsys)
    assert status == 2
    for command in ("train", "evaluate", "demo", "explain"):
        assert command in out


def test_python_dash_m_reports_errors_without_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for argv, fragment in [
        (["train", "--data", "nope"], "unknown dataset 'nope'"),
        (["evaluate", "--run", str(tmp_path / "absent")], "not found"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "retrograd", *argv], capture_output=True, text=True, env=env, timeout=120
        )
        assert result.returncode == 2
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and fragment in result.stderr


def test_debug_flag_shows_the_traceback(tmp_path):
    with pytest.raises(cli.CLIError, match="not found"):
        cli.main(["--debug", "evaluate", "--run", str(tmp_path / "absent")])


# ---------------------------------------------------------------- explain


def test_explain_prints_the_neuron_example(capsys):
    status, out, _ = run(capsys, "explain", "neuron")
    assert status == 0
    for number in ("0.34", "0.526", "\u22120.1792"):  # the text uses the minus sign U+2212
        assert number in out
    assert run(capsys, "explain", "--example", "neuron")[1] == out
    assert run(capsys, "explain")[1] == out  # the neuron is the default


def test_explain_writes_markdown_to_a_file(capsys, tmp_path):
    target = tmp_path / "softmax.md"
    status, out, _ = run(capsys, "explain", "--example", "softmax", "--format", "markdown", "--out", str(target))
    assert status == 0 and str(target) in out
    assert target.read_text(encoding="utf-8").startswith("#")


def test_explain_rejects_an_example_and_weights_together(capsys, tmp_path):
    status, _, err = run(capsys, "explain", "neuron", "--weights", str(tmp_path / "w.json"))
    assert_one_line_error(status, err, "not both")


def test_explain_list(capsys):
    status, out, _ = run(capsys, "explain", "--list")
    assert status == 0 and "sigmoid-2-2-1" in out and "softmax" in out


# ---------------------------------------------------------------- train, resume, evaluate


def train(capsys, out, *extra):
    status, stdout, err = run(
        capsys, "train", "--data", "digits", "--quiet", "--batch-size", "64", "--out", str(out), *extra
    )
    assert status == 0, err
    return stdout


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One two-epoch MLP run on digits, shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("runs") / "digits"
    assert (
        cli.main(["train", "--data", "digits", "--epochs", "2", "--quiet", "--batch-size", "64", "--out", str(out)])
        == 0
    )
    return out


def test_train_writes_checkpoints_history_metrics_plots_and_report(digits_run):
    for name in (
        "config.json",
        "scaler.safetensors",
        "last.safetensors",
        "best.safetensors",
        "history.json",
        "metrics.json",
        "loss.png",
        "accuracy.png",
        "confusion_matrix.png",
        "predictions.png",
        "report.md",
        "report.html",
    ):
        assert (digits_run / name).is_file(), name
    config = json.loads((digits_run / "config.json").read_text())
    assert config["data"] == "digits" and config["model"] == "mlp" and config["hidden"] == [256, 128]
    assert config["input_shape"] == [1, 8, 8] and config["num_classes"] == 10
    history = json.loads((digits_run / "history.json").read_text())
    assert history["epoch"] == [0, 1] and len(history["history"]["val_accuracy"]) == 2
    assert len(history["epoch_seconds"]) == 2
    metrics = json.loads((digits_run / "metrics.json").read_text())
    accuracy = metrics["test"]["accuracy"]
    assert 0.6 < accuracy <= 1.0
    assert sum(row["support"] for row in metrics["per_class"].values()) == 359
    report = (digits_run / "report.md").read_text(encoding="utf-8")
    assert f"Test accuracy **{100 * accuracy:.2f}%**" in report
    assert "| **macro average** |" in report and "![Confusion matrix (test split)](confusion_matrix.png)" in report
    assert not [p for p in digits_run.iterdir() if p.name.endswith(".part")]


def test_train_refuses_to_overwrite_a_run_without_force(capsys, digits_run):
    status, _, err = run(capsys, "train", "--data", "digits", "--quiet", "--out", str(digits_run))
    assert_one_line_error(status, err, "already holds a run", "--resume", "--force")


def test_evaluate_reads_the_run_back(capsys, digits_run):
    status, out, _ = run(capsys, "evaluate", "--run", str(digits_run))
    assert status == 0
    metrics = json.loads((digits_run / "metrics.json").read_text())
    assert f"Test accuracy: {100 * metrics['test']['accuracy']:.2f}%" in out
    assert f"test loss: {metrics['test']['loss']:.4f}" in out
    assert "last.safetensors" in out  # the final weights, as the report scores them
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("class"))
    assert [line.split()[0] for line in lines[header + 1 : header + 11]] == [str(d) for d in range(10)]
    assert lines[header + 11].startswith("macro avg")


def test_evaluate_the_best_checkpoint(capsys, digits_run):
    status, out, _ = run(capsys, "evaluate", "--run", str(digits_run), "--checkpoint", "best")
    assert status == 0 and "best.safetensors" in out and "Test accuracy:" in out
    metrics = json.loads((digits_run / "metrics.json").read_text())
    history = json.loads((digits_run / "history.json").read_text())
    val_loss = history["history"]["val_loss"]
    assert metrics["best_epoch"] == 1 + val_loss.index(min(val_loss))


def test_evaluate_rejects_data_of_another_shape(capsys, digits_run):
    status, _, err = run(capsys, "evaluate", "--run", str(digits_run), "--data", "moons")
    assert_one_line_error(status, err, "expects (1, 8, 8) in 10 classes")


def test_resume_continues_exactly_where_the_run_stopped(capsys, tmp_path, digits_run):
    train(capsys, tmp_path / "resumed", "--epochs", "1")
    train(capsys, tmp_path / "resumed", "--resume", "--epochs", "2")
    straight = json.loads((digits_run / "history.json").read_text())
    resumed = json.loads((tmp_path / "resumed" / "history.json").read_text())
    assert resumed["epoch"] == [0, 1]
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert resumed["history"][name] == straight["history"][name]
    assert len(resumed["epoch_seconds"]) == 2
    assert "2 epochs" in (tmp_path / "resumed" / "report.md").read_text(encoding="utf-8")


def test_resume_keeps_the_runs_settings(capsys, digits_run):
    status, _, err = run(capsys, "train", "--resume", "--out", str(digits_run), "--lr", "0.5", "--quiet")
    assert_one_line_error(status, err, "--lr 0.5 differs", "--lr 0.001")


def test_train_on_moons_draws_decision_regions(capsys, tmp_path):
    out = tmp_path / "moons"
    status, stdout, err = run(
        capsys, "train", "--data", "moons", "--epochs", "2", "--quiet", "--out", str(out), "--lr", "0.01"
    )
    assert status == 0, err
    assert (out / "decision_regions.png").is_file() and not (out / "predictions.png").exists()
    assert "Test accuracy:" in stdout and "report.md" in stdout
    assert json.loads((out / "metrics.json").read_text())["test"]["accuracy"] > 0.75


def test_progress_output_and_gradient_monitor(capsys, tmp_path):
    out = tmp_path / "xor"
    status, stdout, err = run(
        capsys, "train", "--data", "xor", "--epochs", "1", "--monitor-gradients", "--out", str(out)
    )
    assert status == 0
    assert "Epoch 1/1" in stdout and "Test accuracy:" in stdout
    assert "samples" in err  # the tqdm bar
    assert (out / "gradient_flow.png").is_file() and (out / "gradient_flow.md").is_file()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Gradient flow:" in report and "gradient_flow.png" in report


# ---------------------------------------------------------------- demo


def test_demo_falls_back_to_digits_with_a_note(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(data_files, "SYSTEM_DATA_DIRS", ())
    monkeypatch.delenv("RETROGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    status, out, _ = run(capsys, "demo", "--out", str(tmp_path / "demo"), "--epochs", "2", "--quiet")
    assert status == 0
    assert "Fashion-MNIST was not found" in out and "digits instead" in out
    assert "Final test accuracy:" in out and str(tmp_path / "demo" / "report.md") in out
    report = (tmp_path / "demo" / "report.md").read_text(encoding="utf-8")
    assert "an MLP on scikit-learn's digits" in report and "Fashion-MNIST was not found" in report


@pytest.mark.skipif(os.environ.get("RETROGRAD_SLOW") != "1", reason="trains on Fashion-MNIST; set RETROGRAD_SLOW=1")
def test_demo_reaches_89_percent_on_fashion_mnist(tmp_path):
    result = cli.run_demo(tmp_path / "demo", quiet=True)
    assert json.loads((tmp_path / "demo" / "config.json").read_text())["data"] == "fashion-mnist"
    assert result.test_metrics["accuracy"] >= 0.89


# ---------------------------------------------------------------- the model zoo


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 8, 8), (16,)])
def test_every_model_maps_samples_to_class_scores(name, shape):
    model = build_model(name, shape, 5)
    x = rg.randn(4, *shape)
    scores = model(x)
    assert scores.shape == (4, 5)
    scores.sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all() for p in model.parameters())


def test_mlp_has_the_classic_layout():
    model = build_model("mlp", (1, 28, 28), 10)
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)]


def test_sequence_models_read_images_row_by_row():
    x = rg.arange(2 * 3 * 4 * 5, dtype=rg.float32).reshape(2, 3, 4, 5)
    lstm = build_model("lstm", (3, 4, 5), 3)
    rows = lstm.sequence(x)
    assert rows.shape == (2, 4, 15)
    np.testing.assert_array_equal(rows.numpy()[1, 2], x.numpy()[1, :, 2, :].reshape(-1))


def test_model_builders_check_their_arguments():
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        build_model("vgg", (1, 8, 8), 10)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        build_model("mlp", (4,), 1)
    with pytest.raises(ValueError, match=r"cnn: expects images \(C, H, W\) or 1-D signals"):
        build_model("cnn", (4, 4), 3)
    with pytest.raises(ValueError, match="at least 4 per spatial dimension"):
        build_model("cnn", (2,), 3)
    with pytest.raises(ValueError, match="divisible by nhead"):
        build_model("transformer", (8,), 3, d_model=30, nhead=4)
    with pytest.raises(ValueError, match="input_shape must be"):
        build_model("lstm", (0, 3), 3)
