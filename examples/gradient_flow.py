"""Vanishing and exploding gradients, seen and diagnosed by the gradient-flow monitor.

Nine deep networks (10 weight layers) train on scikit-learn's 8x8 digits for
a couple of hundred steps while a ``GradientFlowMonitor`` records every step.
For each one the script prints the test accuracy, the loss before and after,
and the monitor's findings in plain words, and writes a plot of the gradient
norm of every layer over training to ``docs/images/gradient_flow_<name>.png``.

* ``sigmoid``: sigmoid activations with PyTorch's default init: vanishing gradients.
* ``relu_he``: ReLU with He (kaiming) init: healthy.
* ``residual``: ReLU residual blocks ``x + relu(linear(x))``: healthy.
* ``batchnorm``: the sigmoid network with BatchNorm1d before each sigmoid: healthy.
* ``high_lr``: ``relu_he`` with a learning rate 15 times larger: exploding gradients.
* ``high_lr_clipped``: the same with ``clip_grad_norm_(max_norm=1)``: healthy.
* ``large_init``: ``relu_he`` with weights 3 times too large: exploding gradients.
* ``dead_relu``: ``relu_he`` with biases of -1: dead ReLUs, no gradient at all.
* ``saturated_tanh``: tanh with N(0, 1) weights: saturated units, vanishing gradients.

Last, the sigmoid network trains once more with ``retrograd.train.fit`` and a
``GradientFlowCallback``, which adds the findings to the training history.

    python examples/gradient_flow.py                  # all scenarios (about a minute)
    python examples/gradient_flow.py sigmoid relu_he  # some of them
    python examples/gradient_flow.py --summary        # also print the per-layer tables
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

import retrograd as rg
from retrograd import nn, optim
from retrograd.data import load_digits
from retrograd.diagnose.advice import render_findings
from retrograd.diagnose.gradient_flow import GradientFlowCallback, GradientFlowMonitor
from retrograd.nn.utils import clip_grad_norm_
from retrograd.train import fit

DEPTH, WIDTH = 10, 64
IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def mlp(activation, *, init=None, batchnorm=False, weight_scale=1.0, bias=None, weight_std=None):
    """DEPTH Linear layers (64 pixels -> WIDTH ... -> 10 classes) with ``activation`` between them."""
    rg.manual_seed(0)
    layers, features = [], 64
    for _ in range(DEPTH - 1):
        linear = nn.Linear(features, WIDTH)
        if init == "he":
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        if weight_std is not None:
            nn.init.normal_(linear.weight, std=weight_std)
        with rg.no_grad():
            linear.weight.mul_(weight_scale)
        if bias is not None:
            nn.init.constant_(linear.bias, bias)
        layers.append(linear)
        if batchnorm:
            layers.append(nn.BatchNorm1d(WIDTH))
        layers.append(activation())
        features = WIDTH
    layers.append(nn.Linear(features, 10))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """``x + relu(linear(x))``: the identity path carries the gradient past the layer untouched."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.act = nn.ReLU()

    def forward(self, x):
        return x + self.act(self.linear(x))


def residual_mlp():
    rg.manual_seed(0)
    blocks = [ResidualBlock(WIDTH) for _ in range(DEPTH - 2)]
    return nn.Sequential(nn.Linear(64, WIDTH), *blocks, nn.Linear(WIDTH, 10))


# name: (description, model builder, SGD learning rate, gradient clipping max_norm, steps)
SCENARIOS = {
    "sigmoid": ("10-layer sigmoid MLP, default init", lambda: mlp(nn.Sigmoid), 0.1, None, 200),
    "relu_he": ("10-layer ReLU MLP, He init", lambda: mlp(nn.ReLU, init="he"), 0.02, None, 200),
    "residual": ("ReLU residual blocks, default init", residual_mlp, 0.02, None, 200),
    "batchnorm": ("10-layer sigmoid MLP with BatchNorm1d", lambda: mlp(nn.Sigmoid, batchnorm=True), 0.1, None, 200),
    "high_lr": ("ReLU, He init, learning rate 0.3", lambda: mlp(nn.ReLU, init="he"), 0.3, None, 200),
    "high_lr_clipped": (
        "ReLU, He init, learning rate 0.3, clip_grad_norm_(max_norm=1)",
        lambda: mlp(nn.ReLU, init="he"),
        0.3,
        1.0,
        200,
    ),
    "large_init": ("ReLU, He init x 3", lambda: mlp(nn.ReLU, init="he", weight_scale=3.0), 0.05, None, 50),
    "dead_relu": ("ReLU, He init, biases -1", lambda: mlp(nn.ReLU, init="he", bias=-1.0), 0.05, None, 100),
    "saturated_tanh": ("10-layer tanh MLP, N(0, 1) weights", lambda: mlp(nn.Tanh, weight_std=1.0), 0.05, None, 100),
}


def train(model, data, lr, clip, steps, batch_size=64):
    """SGD with momentum on random mini-batches, recording every step; returns
    the monitor, the mean loss of the first 10 and last 20 steps, and the test accuracy."""
    x_train, y_train, x_test, y_test = data
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    losses = []
    with GradientFlowMonitor(model, every=1) as monitor:
        for _ in range(steps):
            index = rng.integers(0, len(x_train), batch_size)
            loss = loss_fn(model(rg.tensor(x_train[index])), rg.tensor(y_train[index]))
            optimizer.zero_grad()
            loss.backward()
            monitor.after_backward()  # the raw gradients, before clipping
            if clip is not None:
                clip_grad_norm_(model.parameters(), max_norm=clip)
            optimizer.step()
            monitor.after_step()  # the update the step made
            losses.append(loss.item())
    with rg.no_grad():
        accuracy = float(np.mean(model(rg.tensor(x_test)).numpy().argmax(axis=1) == y_test))
    return monitor, np.mean(losses[:10]), np.mean(losses[-20:]), accuracy


def run_with_fit(data) -> None:
    """The sigmoid network again, trained by ``fit`` with the callback."""
    x_train, y_train, _, _ = data
    model = mlp(nn.Sigmoid)
    callback = GradientFlowCallback(every=5, verbose=False)
    history = fit(
        model,
        (x_train, y_train),
        loss=nn.CrossEntropyLoss(),
        optimizer=optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        epochs=3,
        batch_size=64,
        callbacks=[callback],
        verbose=0,
        seed=0,
    )
    print("\n== retrograd.train.fit with GradientFlowCallback(every=5)")
    for epoch, kinds in enumerate(history["gradient_flow"]):
        print(f"epoch {epoch + 1}: loss {history['loss'][epoch]:.3f}, gradient_flow: {kinds}")
    print(f"callback.findings: {[finding.kind for finding in callback.findings]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help=f"scenarios to run (default: all): {', '.join(SCENARIOS)}")
    parser.add_argument("--summary", action="store_true", help="print the per-layer tables too")
    parser.add_argument("--images", type=Path, default=IMAGES, help="where to write the plots")
    parser.add_argument("--no-fit", action="store_true", help="skip the retrograd.train.fit demonstration")
    args = parser.parse_args()
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")

    (x_train, y_train), (x_test, y_test) = load_digits(normalize=True, return_arrays=True)
    data = (x_train, y_train, x_test, y_test)
    args.images.mkdir(parents=True, exist_ok=True)
    for name in args.scenarios or SCENARIOS:
        description, build, lr, clip, steps = SCENARIOS[name]
        start = time.perf_counter()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # the diverging runs overflow on purpose
            monitor, first_loss, last_loss, accuracy = train(build(), data, lr, clip, steps)
        print(f"\n== {name}: {description}")
        print(
            f"{steps} steps of SGD (lr {lr}, momentum 0.9) in {time.perf_counter() - start:.1f}s: "
            f"loss {first_loss:.3f} -> {last_loss:.3f}, test accuracy {accuracy:.1%}"
        )
        print(monitor.summary() if args.summary else render_findings(monitor.report()))
        path = args.images / f"gradient_flow_{name}.png"
        monitor.plot(path, title=f"{description} (test accuracy {accuracy:.0%})")
        print(f"plot: {path}")
    if not args.no_fit:
        run_with_fit(data)


if __name__ == "__main__":
    main()
