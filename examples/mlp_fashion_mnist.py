"""A multilayer perceptron on Fashion-MNIST, trained with a hand-written loop.

The loop is the one every PyTorch user writes: a DataLoader, a model, a loss,
an optimizer, then per batch ``zero_grad`` / ``backward`` / ``step``, and an
evaluation pass in eval mode without gradients. At the end the weights are
saved to a safetensors file and loaded into a fresh model.

    python examples/mlp_fashion_mnist.py            # 5 epochs on all 60000 images
    python examples/mlp_fashion_mnist.py --quick    # a few seconds on a small subset
"""

import argparse
import os
import tempfile
import time

import retrograd as rg
from retrograd import nn, optim
from retrograd.data import DataLoader, Subset, load_digits, load_fashion_mnist


def load_data(quick: bool):
    """(train, test) datasets of flat images: Fashion-MNIST, or the 8x8 digits if it is missing."""
    try:
        train, test = load_fashion_mnist(flatten=True, normalize=True, download=False)
        name = "Fashion-MNIST"
    except FileNotFoundError:
        print("note: Fashion-MNIST not found (apt install dataset-fashion-mnist, or call")
        print("      retrograd.data.load_fashion_mnist() once to download it); using the 8x8 digits")
        train, test = load_digits(flatten=True, normalize=True)
        name = "digits"
    if quick:
        train, test = Subset(train, range(min(3000, len(train)))), Subset(test, range(min(1000, len(test))))
    return name, train, test


class MLP(nn.Module):
    def __init__(self, in_features: int, hidden: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),  # active in model.train(), a no-op in model.eval()
            nn.Linear(hidden, hidden // 2),
            nn.ReLU(),
            nn.Linear(hidden // 2, num_classes),  # logits: CrossEntropyLoss applies log-softmax itself
        )

    def forward(self, x: rg.Tensor) -> rg.Tensor:
        return self.layers(x)


def train_one_epoch(model, loader, loss_fn, optimizer) -> float:
    model.train()
    total, count = 0.0, 0
    for images, labels in loader:
        logits = model(images)
        loss = loss_fn(logits, labels)
        optimizer.zero_grad()  # gradients accumulate in .grad, so clear last batch's first
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / count


def evaluate(model, loader, loss_fn) -> tuple[float, float]:
    """Mean loss and accuracy over ``loader``."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with rg.no_grad():  # no graph is recorded: faster, and nothing to free afterwards
        for images, labels in loader:
            logits = model(images)
            total_loss += loss_fn(logits, labels).item() * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum().item()
            count += len(labels)
    return total_loss / count, correct / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds on a small subset")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    epochs = args.epochs or (1 if args.quick else 5)

    rg.manual_seed(args.seed)  # fixes the initial weights, the shuffling and the dropout masks
    name, train, test = load_data(args.quick)
    train_loader = DataLoader(train, batch_size=128, shuffle=True)
    test_loader = DataLoader(test, batch_size=1000)
    in_features = train[0][0].shape[0]
    print(f"{name}: {len(train)} training and {len(test)} test images of {in_features} pixels")

    model = MLP(in_features, hidden=256, num_classes=10, dropout=0.2)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    print(f"model: {sum(p.numel() for p in model.parameters())} parameters")

    initial_loss, initial_accuracy = evaluate(model, test_loader, loss_fn)
    print(f"before training: test loss {initial_loss:.4f}, accuracy {initial_accuracy:.1%} (chance is 10%)")
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        train_loss = train_one_epoch(model, train_loader, loss_fn, optimizer)
        test_loss, test_accuracy = evaluate(model, test_loader, loss_fn)
        print(
            f"epoch {epoch}/{epochs}: train loss {train_loss:.4f}, test loss {test_loss:.4f}, "
            f"test accuracy {test_accuracy:.1%} ({time.perf_counter() - start:.1f} s)"
        )

    # state_dict keys and shapes are PyTorch's, so this file also loads into the same torch model.
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mlp.safetensors")
        rg.save(model.state_dict(), path)
        restored = MLP(in_features, hidden=256, num_classes=10, dropout=0.2)
        restored.load_state_dict(rg.load(path))
    _, restored_accuracy = evaluate(restored, test_loader, loss_fn)
    print(f"reloaded from safetensors: test accuracy {restored_accuracy:.1%}")
    print(f"test loss {initial_loss:.4f} -> {test_loss:.4f}, test accuracy {test_accuracy:.1%}")


if __name__ == "__main__":
    main()
