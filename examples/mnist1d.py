"""An MLP and a 1-D CNN on MNIST-1D, trained with ``retrograd.train.fit``.

MNIST-1D (Greydanus, 2020) draws each digit as a 1-D signal of 40 values,
then shifts, scales, shears and adds noise. An MLP has to learn every shifted
copy of a pattern separately; a convolution detects the pattern wherever it
is, so the CNN generalises much better from the same 4000 examples, a gap
that is large here and tiny on MNIST itself.

    python examples/mnist1d.py            # 40 epochs for each model
    python examples/mnist1d.py --quick    # a few seconds

The dataset is generated with the ``mnist1d`` package on first use (a few
seconds) and cached in ~/.cache/retrograd/mnist1d.
"""

import argparse
import sys
import time
from pathlib import Path

import retrograd as rg
from retrograd import nn, optim
from retrograd.data import Subset, load_mnist1d
from retrograd.train import evaluate, fit

# Python puts this script's folder first on sys.path, and this file is named like the
# mnist1d package that generates the data: drop the folder so the package is found.
sys.path = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]


def make_mlp(length: int) -> nn.Module:
    return nn.Sequential(nn.Linear(length, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10))


def make_cnn(length: int) -> nn.Module:
    channels = 32
    return nn.Sequential(
        nn.Unflatten(1, (1, length)),  # (N, 40) -> (N, 1, 40): one input channel
        nn.Conv1d(1, channels, kernel_size=5, padding=2),
        nn.ReLU(),
        nn.Conv1d(channels, channels, kernel_size=3, padding=1, stride=2),  # stride 2 halves the length: 20
        nn.ReLU(),
        nn.Conv1d(channels, channels, kernel_size=3, padding=1, stride=2),  # 10
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(channels * (length // 4), 10),
    )


def train_and_score(name: str, model: nn.Module, train, test, epochs: int) -> tuple[float, float, float]:
    """Train with fit; returns (test loss before, test loss after, test accuracy after)."""
    loss_fn = nn.CrossEntropyLoss()
    parameters = sum(p.numel() for p in model.parameters())
    before = evaluate(model, test, loss=loss_fn, batch_size=500)["loss"]
    start = time.perf_counter()
    history = fit(
        model,
        train,
        val_data=test,
        loss=loss_fn,
        optimizer=optim.Adam(model.parameters(), lr=3e-3),
        epochs=epochs,
        batch_size=100,
        verbose=0,  # print a line every few epochs below instead
    )
    for epoch in sorted({*range(0, epochs, max(1, epochs // 4)), epochs - 1}):  # a few epochs and the last
        print(
            f"  {name} epoch {epoch + 1}: train accuracy {history['accuracy'][epoch]:.1%}, "
            f"test accuracy {history['val_accuracy'][epoch]:.1%}"
        )
    after, accuracy = history["val_loss"][-1], history["val_accuracy"][-1]
    print(
        f"{name} ({parameters} parameters): test loss {before:.4f} -> {after:.4f}, "
        f"test accuracy {accuracy:.1%} after {epochs} epochs ({time.perf_counter() - start:.0f} s)"
    )
    return before, after, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    epochs = args.epochs or (3 if args.quick else 40)

    train, test = load_mnist1d()  # 4000 training and 1000 test signals of length 40
    if args.quick:
        train = Subset(train, range(1000))
    length = train[0][0].shape[0]
    print(f"MNIST-1D: {len(train)} training and {len(test)} test signals of length {length}")

    rg.manual_seed(args.seed)
    _, _, mlp_accuracy = train_and_score("MLP", make_mlp(length), train, test, epochs)
    rg.manual_seed(args.seed)
    _, _, cnn_accuracy = train_and_score("CNN", make_cnn(length), train, test, epochs)
    print(f"test accuracy: MLP {mlp_accuracy:.1%}, CNN {cnn_accuracy:.1%} (chance is 10%)")


if __name__ == "__main__":
    main()
