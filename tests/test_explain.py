"""``retrograd.diagnose.explain``: the step-by-step account of one training step.

The numbers are checked three ways: against stored snapshots of the rendered
text, against a PyTorch run of the same network (deltas, gradients, updates,
optimizer state), and for internal consistency (delta = upstream × local).
"""

# The text is mathematics: the minus sign, ×, σ, ∂ and subscripts are meant.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import copy
import html.parser
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.diagnose.explain import (
    EXAMPLES,
    ExplainConfigError,
    _activation_module,
    build_from_config,
    explain,
    explain_config,
    main_explain,
    run_explain,
)
from retrograd.diagnose.render import number

torch = pytest.importorskip("torch")

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_SNAPSHOTS = os.environ.get("RETROGRAD_UPDATE_SNAPSHOTS") == "1"

# Networks beyond the built-in examples: batches, every activation and loss, momentum and Adam.
EXTRA_CONFIGS = {
    "relu-tanh-mse-adam": {
        "layers": [
            {"weights": [[0.5, -0.3], [0.2, 0.4], [-0.1, 0.1]], "biases": [0.1, -0.2, 0.05], "activation": "relu"},
            {"weights": [[0.3, -0.2, 0.5], [0.1, 0.2, -0.4]], "activation": "tanh"},
        ],
        "input": [[1.0, 0.5], [0.2, -1.0]],
        "target": [[0.1, 0.2], [0.3, -0.4]],
        "loss": "mse",
        "optimizer": {"name": "adam", "betas": [0.8, 0.99], "eps": 1e-6},
        "lr": 0.01,
    },
    "tanh-logits-momentum": {
        "layers": [
            {"weights": [[0.5, -0.3], [0.2, 0.4]], "activation": "tanh"},
            {"weights": [[0.3, -0.2], [0.1, 0.2], [0.4, 0.4]], "biases": [0, 0, 0.1]},
        ],
        "input": [[1.0, 0.5], [0.2, -1.0]],
        "target": [2, 0],
        "loss": "cross_entropy",
        "optimizer": {"name": "sgd", "momentum": 0.9, "dampening": 0.1},
        "lr": 0.1,
    },
    "softmax-mse-batch": {
        "layers": [
            {"weights": [[0.2, -0.1], [0.4, 0.3]], "biases": [0.1, -0.1], "activation": "sigmoid"},
            {"weights": [[0.2, -0.5], [0.4, 0.3], [-0.3, 0.2]], "activation": "softmax"},
        ],
        "input": [[1.0, 2.0], [0.5, -0.5], [0.0, 1.0]],
        "target": [[1, 0, 0], [0, 1, 0], [0.2, 0.3, 0.5]],
        "loss": "mse",
        "optimizer": "adam",
        "lr": 0.05,
    },
    "softmax-ce-adam-batch": {
        "layers": [{"weights": [[0.2, -0.5, 0.1], [0.4, 0.3, -0.2]], "biases": [0.1, 0.0], "activation": "softmax"}],
        "input": [[1.0, 2.0, 0.5], [0.3, -0.2, 0.9]],
        "target": [[0.3, 0.7], [1.0, 0.0]],
        "loss": "cross_entropy",
        "optimizer": "adam",
        "lr": 0.1,
    },
}
ALL_CONFIGS = {**EXAMPLES, **EXTRA_CONFIGS}


# --------------------------------------------------------------------------- the textbook neuron
def test_neuron_example_shows_the_textbook_numbers():
    text = run_explain("neuron", None, "text")
    assert "0.5×1.0 + (−0.2)×0.8 = 0.34" in text
    for value in ("0.34", "0.26", "0.526", "−0.1792"):
        assert value in text
    assert "0.5 − (−0.026) = 0.526" in text
    assert "−0.2 − (−0.0208) = −0.1792" in text


def test_neuron_example_updates_the_real_parameters():
    built = build_from_config(EXAMPLES["neuron"])
    explanation = explain(**built)
    np.testing.assert_allclose(built["model"][0].weight.detach().numpy(), [[0.526, -0.1792]], rtol=0, atol=1e-15)
    assert explanation.loss.value == pytest.approx(0.0338, abs=1e-15)
    assert explanation.loss.output[0, 0] == pytest.approx(0.34, abs=1e-15)


# --------------------------------------------------------------------------- snapshots
@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize(("fmt", "suffix"), [("text", "txt"), ("markdown", "md")])
def test_examples_match_their_snapshots(name, fmt, suffix):
    rendered = run_explain(name, None, fmt)
    snapshot = SNAPSHOTS / f"explain_{name}.{suffix}"
    if UPDATE_SNAPSHOTS:
        snapshot.write_text(rendered, encoding="utf-8")
    assert snapshot.exists(), f"missing snapshot {snapshot}; run with RETROGRAD_UPDATE_SNAPSHOTS=1 to create it"
    assert rendered == snapshot.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- agreement with PyTorch
def _torch_step(config: dict, steps: int = 1):
    """The same network, loss and optimizer in PyTorch (float64); returns the
    tensors of the last step with retained gradients, and the optimizer."""
    params, layers = [], []
    for layer in config["layers"]:
        weight = torch.tensor(layer["weights"], dtype=torch.float64, requires_grad=True)
        bias = (
            None
            if layer.get("biases") is None
            else torch.tensor(layer["biases"], dtype=torch.float64, requires_grad=True)
        )
        params += [weight] + ([bias] if bias is not None else [])
        layers.append((weight, bias, layer.get("activation", "identity")))
    spec = (
        config["optimizer"] if isinstance(config.get("optimizer"), dict) else {"name": config.get("optimizer", "sgd")}
    )
    settings = {k: v for k, v in spec.items() if k != "name"}
    if "betas" in settings:
        settings["betas"] = tuple(settings["betas"])
    opt_class = torch.optim.Adam if spec["name"] == "adam" else torch.optim.SGD
    optimizer = opt_class(params, lr=config.get("lr", 0.1), **settings)

    x = torch.tensor(config["input"], dtype=torch.float64).reshape(-1, len(config["layers"][0]["weights"][0]))
    outputs = len(config["layers"][-1]["weights"])
    target = np.asarray(config["target"])
    loss_kind = config.get("loss", "squared_error")
    if loss_kind == "cross_entropy" and target.dtype.kind == "i" and target.size == x.shape[0]:
        target = np.eye(outputs)[target.reshape(-1)]
    t = torch.tensor(np.asarray(target, dtype=np.float64).reshape(x.shape[0], outputs))
    for _ in range(steps):
        optimizer.zero_grad()
        h, trace = x, []
        for weight, bias, activation in layers:
            z = h @ weight.T + (bias if bias is not None else 0)
            z.retain_grad()
            act = {
                "identity": lambda v: v,
                "sigmoid": torch.sigmoid,
                "tanh": torch.tanh,
                "relu": torch.relu,
                "softmax": lambda v: torch.softmax(v, -1),
            }[activation]
            a = act(z)
            if a is not z:
                a.retain_grad()
            trace.append((h, z, a))
            h = a
        n = x.shape[0]
        if loss_kind == "squared_error":
            loss = 0.5 * ((t - h) ** 2).sum() / n
        elif loss_kind == "mse":
            loss = torch.nn.functional.mse_loss(h, t)
        elif layers[-1][2] == "softmax":
            loss = -(t * h.log()).sum() / n
        else:
            loss = torch.nn.functional.cross_entropy(h, t)
        loss.backward()
        optimizer.step()
    return trace, params, optimizer, loss


@pytest.mark.parametrize("name", sorted(ALL_CONFIGS))
def test_explanation_agrees_with_pytorch(name):
    config = ALL_CONFIGS[name]
    explanation = explain_config(config)
    trace, params, optimizer, loss = _torch_step(config)
    assert explanation.loss.value == pytest.approx(loss.item(), rel=1e-12)
    for layer, (h, z, a) in zip(explanation.layers, trace, strict=True):
        np.testing.assert_allclose(layer.input, h.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.z, z.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.a, a.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.delta, z.grad.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.grad_a, a.grad.numpy(), rtol=0, atol=1e-12)
        # the chain rule the text displays: delta = upstream × local
        np.testing.assert_allclose(layer.chain_rule_delta, layer.delta, rtol=0, atol=1e-12)
    updates = explanation.optimizer.updates
    assert len(updates) == len(params)
    for update, param in zip(updates, params, strict=True):
        np.testing.assert_allclose(update.grad, param.grad.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(update.new, param.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            update.old - explanation.optimizer.displayed_step(update), update.new, rtol=0, atol=1e-12
        )
        state = optimizer.state[param]
        if explanation.optimizer.kind == "adam":
            np.testing.assert_allclose(update.state_after["exp_avg"], state["exp_avg"].numpy(), rtol=0, atol=1e-15)
            np.testing.assert_allclose(
                update.state_after["exp_avg_sq"], state["exp_avg_sq"].numpy(), rtol=0, atol=1e-15
            )
            assert update.state_after["step"] == float(state["step"])
        elif "momentum_buffer" in state:
            np.testing.assert_allclose(
                update.state_after["momentum_buffer"], state["momentum_buffer"].numpy(), rtol=0, atol=1e-15
            )


@pytest.mark.parametrize("name", sorted(ALL_CONFIGS))
def test_rendered_numbers_are_the_engine_values(name):
    explanation = explain_config(ALL_CONFIGS[name])
    for fmt in ("text", "markdown", "html"):
        rendered = explanation.render(fmt)
        for layer in explanation.layers:
            for value in (*layer.z.ravel(), *layer.delta.ravel(), *layer.grad_weight.ravel()):
                assert number(value) in rendered
        for update in explanation.optimizer.updates:
            for value in update.new.ravel():
                assert number(value) in rendered


def test_second_momentum_step_shows_the_velocity_rule():
    config = EXTRA_CONFIGS["tanh-logits-momentum"]
    built = build_from_config(config)
    explain(**built)
    second = explain(**built)  # same model and optimizer: the buffer now has history
    _, params, optimizer, _ = _torch_step(config, steps=2)
    for update, param in zip(second.optimizer.updates, params, strict=True):
        np.testing.assert_allclose(update.new, param.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            update.state_after["momentum_buffer"], optimizer.state[param]["momentum_buffer"].numpy(), atol=1e-15
        )
        assert "momentum_buffer" in update.state_before
    text = second.render("text")
    assert "(first step)" not in text
    first = second.optimizer.updates[0]
    velocity = f"0.9×{number(first.state_before['momentum_buffer'][0, 0]).replace('−', '(−')}"
    assert velocity in text


def test_second_adam_step_uses_the_step_count():
    config = EXTRA_CONFIGS["relu-tanh-mse-adam"]
    built = build_from_config(config)
    explain(**built)
    second = explain(**built)
    _, params, _, _ = _torch_step(config, steps=2)
    for update, param in zip(second.optimizer.updates, params, strict=True):
        assert update.state_after["step"] == 2.0
        np.testing.assert_allclose(update.new, param.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(update.old - second.optimizer.displayed_step(update), update.new, atol=1e-12)
    assert "step t = 2" in second.render("text")


def test_explain_accepts_a_float32_model_and_a_plain_linear():
    model = nn.Linear(2, 1, bias=False)
    with rg.no_grad():
        model.weight.copy_(rg.tensor([[0.5, -0.2]]))
    explanation = explain(model, [1.0, 0.8], [0.6], lr=0.1)
    assert explanation.layers[0].weight_name == "weight"
    text = explanation.render()
    assert "= 0.34" in text and "0.526" in text and "−0.1792" in text


# --------------------------------------------------------------------------- bad models and JSON
def _broken(path: str, value):
    config = copy.deepcopy(EXAMPLES["sigmoid-2-2-1"])
    target = config
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is KeyError:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return config


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("layers", [], "layers: expected a non-empty list"),
        ("layers.0.weights", [[0.1, 0.8], [0.4]], "layers[0].weights: rows must all have the same length"),
        (
            "layers.1.weights",
            [[0.3, 0.9, 0.1]],
            "layers[1].weights: expected rows of 2 numbers (one per output of layers[0])",
        ),
        ("layers.0.weights", [[0.1, "x"], [0.4, 0.6]], 'layers[0].weights[0][1]: expected a number, got "x"'),
        ("layers.0.biases", [0.1], "layers[0].biases: expected 2 numbers"),
        ("layers.0.activation", "gelu", "layers[0].activation: expected one of identity, sigmoid"),
        ("layers.0.activation", "softmax", "softmax may only be used by the last layer"),
        ("layers.0.colour", "red", "layers[0]: unknown key(s) 'colour'"),
        ("layers.0.weights", KeyError, "layers[0]: missing required key 'weights'"),
        ("input", [0.35], "layers[0].weights: expected rows of 1 numbers"),
        ("input", KeyError, "missing required key 'input'"),
        ("target", [0.5, 0.1], "explain: target must have shape (1, 1)"),
        ("loss", "hinge", "loss: expected one of squared_error, mse, cross_entropy"),
        ("optimizer", "lbfgs", 'optimizer: expected "sgd", "adam"'),
        ("optimizer", {"name": "sgd", "betas": [0.9, 0.99]}, "optimizer: unknown key(s) 'betas'"),
        ("optimizer", {"name": "adam", "betas": [0.9, 1.5]}, "optimizer.betas: expected two numbers in [0, 1)"),
        ("lr", -1, "lr: expected a non-negative learning rate"),
        ("lr", "fast", 'lr: expected a number, got "fast"'),
        ("extra", 1, "explain JSON: unknown key(s) 'extra'"),
    ],
)
def test_json_errors_name_the_problem(path, value, message):
    with pytest.raises(ExplainConfigError) as info:
        explain_config(_broken(path, value))
    assert message in str(info.value)


def test_json_text_errors():
    with pytest.raises(ExplainConfigError, match="not valid JSON"):
        explain_config("{layers: 1}")
    with pytest.raises(ExplainConfigError, match="expected an object at the top level"):
        explain_config("[1, 2]")
    config = copy.deepcopy(EXAMPLES["softmax"])
    config["target"] = 3
    with pytest.raises(ExplainConfigError, match=r"class indices must lie in \[0, 2\]"):
        explain_config(config)
    config["target"] = [0.5, 0.1, 0.1]
    with pytest.raises(ExplainConfigError, match="probabilities summing to 1"):
        explain_config(config)


def test_unsupported_models_and_optimizers_are_refused():
    x, t = [1.0, 2.0], [0.5]
    with pytest.raises(ExplainConfigError, match="expected Linear or one of the activations"):
        explain(nn.Sequential(nn.Linear(2, 1), nn.Flatten()), x, t)
    with pytest.raises(ExplainConfigError, match=r"must be an nn\.Sequential"):
        explain(nn.Bilinear(2, 2, 1), x, t)
    sigmoid = _activation_module("sigmoid")
    with pytest.raises(ExplainConfigError, match="comes before any Linear"):
        explain(nn.Sequential(sigmoid, nn.Linear(2, 1)), x, t)
    tanh = _activation_module("tanh")
    with pytest.raises(ExplainConfigError, match="follows another activation"):
        explain(nn.Sequential(nn.Linear(2, 1), sigmoid, tanh), x, t)
    model = nn.Linear(2, 1)
    with pytest.raises(ExplainConfigError, match=r"optimizer must be retrograd\.optim\.SGD or Adam, got RMSprop"):
        explain(model, x, t, optimizer=rg.optim.RMSprop(model.parameters()))
    with pytest.raises(ExplainConfigError, match="weight_decay setting is not explained"):
        explain(model, x, t, optimizer=rg.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.1))
    with pytest.raises(ExplainConfigError, match="does not update the parameters bias"):
        explain(model, x, t, optimizer=rg.optim.SGD([model.weight], lr=0.1))
    with pytest.raises(ExplainConfigError, match="input has 3 features, the first Linear expects 2"):
        explain(model, [1.0, 2.0, 3.0], t)
    with pytest.raises(ExplainConfigError, match="loss must be one of"):
        explain(model, x, t, loss="l1")


# --------------------------------------------------------------------------- command line
def test_main_explain(tmp_path, capsys):
    assert main_explain(["neuron"]) == 0
    assert "0.526" in capsys.readouterr().out
    assert main_explain(["--list"]) == 0
    assert "sigmoid-2-2-1" in capsys.readouterr().out
    assert main_explain(["nothing"]) == 2
    assert "unknown example 'nothing'; choose one of neuron" in capsys.readouterr().err
    assert main_explain([]) == 2
    assert "give either a built-in example name or a JSON description" in capsys.readouterr().err

    config = tmp_path / "net.json"
    config.write_text(json.dumps(EXAMPLES["neuron"]), encoding="utf-8")
    page = tmp_path / "neuron.html"
    assert main_explain(["--json", str(config), "--format", "html", "--output", str(page)]) == 0
    assert "0.526" in page.read_text(encoding="utf-8")
    assert main_explain(["--json", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert run_explain(None, json.dumps(EXAMPLES["neuron"]), "markdown").startswith("# One training step")
    with pytest.raises(ExplainConfigError, match="format must be one of"):
        run_explain("neuron", None, "pdf")


# --------------------------------------------------------------------------- HTML
class _TagChecker(html.parser.HTMLParser):
    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.errors = [], set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_html_is_a_self_contained_well_formed_page(name):
    page = run_explain(name, None, "html")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    checker = _TagChecker()
    checker.feed(page)
    assert checker.errors == [] and checker.stack == []
    assert {"head", "title", "style", "body", "table", "h1", "h2"} <= checker.tags
    assert "script" not in checker.tags and "link" not in checker.tags
    assert "http://" not in page and "https://" not in page and "src=" not in page


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
def test_html_page_renders_in_headless_chromium(tmp_path):
    import matplotlib.image

    page = tmp_path / "neuron.html"
    page.write_text(run_explain("neuron", None, "html"), encoding="utf-8")
    common = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    screenshot = tmp_path / "page.png"
    shot = subprocess.run(
        [*common, f"--screenshot={screenshot}", "--window-size=1200,2000", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert screenshot.exists(), shot.stderr[-2000:]
    pixels = matplotlib.image.imread(screenshot)
    assert pixels.shape[:2] == (2000, 1200)
    assert pixels[..., :3].std() > 0.05  # text and tables, not a blank page
    console = [line for line in shot.stderr.splitlines() if "Uncaught" in line or "ERROR:CONSOLE" in line]
    assert console == []

    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    for value in ("0.34", "0.26", "0.526", "−0.1792"):
        assert value in dom.stdout
    assert shutil.which(CHROMIUM)
