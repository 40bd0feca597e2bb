"""A convolutional network on Fashion-MNIST: Conv2d, MaxPool2d and Linear.

Two convolution + pooling stages turn a 28x28 image into 16 feature maps of
7x7; a small classifier reads them. Convolutions share their weights across
positions, so this net has fewer parameters than the MLP example and does
better, because a feature (an edge, a collar, a strap) is detected wherever it is.

    python examples/cnn_fashion_mnist.py            # 3 epochs on all 60000 images
    python examples/cnn_fashion_mnist.py --quick    # a few seconds on a small subset
"""

import argparse
import time

import retrograd as rg
from retrograd import nn, optim
from retrograd.data import DataLoader, Subset, load_digits, load_fashion_mnist

CLASSES = ["T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]


def load_data(quick: bool):
    """(train, test) datasets of (1, H, W) images: Fashion-MNIST, or the 8x8 digits if it is missing."""
    try:
        train, test = load_fashion_mnist(normalize=True, download=False)
        name = "Fashion-MNIST"
    except FileNotFoundError:
        print("note: Fashion-MNIST not found (apt install dataset-fashion-mnist, or call")
        print("      retrograd.data.load_fashion_mnist() once to download it); using the 8x8 digits")
        train, test = load_digits(flatten=False, normalize=True)
        name = "digits"
    if quick:
        train, test = Subset(train, range(min(1500, len(train)))), Subset(test, range(min(500, len(test))))
    return name, train, test


class ConvNet(nn.Module):
    def __init__(self, image_size: int, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),  # padding=1 keeps 28x28
            nn.ReLU(),
            nn.MaxPool2d(2),  # 28x28 -> 14x14: halves the work of the next layer
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 14x14 -> 7x7
        )
        side = image_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (N, 16, 7, 7) -> (N, 784)
            nn.Linear(16 * side * side, 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: rg.Tensor) -> rg.Tensor:
        return self.classifier(self.features(x))


def evaluate(model, loader) -> tuple[float, float, rg.Tensor, rg.Tensor]:
    """Mean loss, accuracy, and the predicted and true class of every sample."""
    model.eval()
    total_loss, correct, predictions, targets = 0.0, 0, [], []
    with rg.no_grad():
        for images, labels in loader:
            logits = model(images)
            total_loss += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
            predicted = logits.argmax(dim=1)
            correct += (predicted == labels).sum().item()
            predictions.append(predicted)
            targets.append(labels)
    count = len(loader.dataset)
    return total_loss / count, correct / count, rg.cat(predictions), rg.cat(targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds on a small subset")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    epochs = args.epochs or (1 if args.quick else 3)

    rg.manual_seed(args.seed)
    name, train, test = load_data(args.quick)
    train_loader = DataLoader(train, batch_size=64, shuffle=True)
    test_loader = DataLoader(test, batch_size=500)
    image_size = train[0][0].shape[-1]

    model = ConvNet(image_size)
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    # Decay the learning rate smoothly to 0 over the run: large steps early, fine ones at the end.
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * len(train_loader))
    loss_fn = nn.CrossEntropyLoss()
    print(
        f"{name}: {len(train)} training, {len(test)} test images; {sum(p.numel() for p in model.parameters())} parameters"
    )

    initial_loss, *_ = evaluate(model, test_loader)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        for step, (images, labels) in enumerate(train_loader, 1):
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            if step % 200 == 0:
                print(f"  epoch {epoch} step {step}/{len(train_loader)}: batch loss {loss.item():.4f}")
        test_loss, test_accuracy, predictions, labels = evaluate(model, test_loader)
        print(
            f"epoch {epoch}/{epochs}: test loss {test_loss:.4f}, test accuracy {test_accuracy:.1%} "
            f"({time.perf_counter() - start:.1f} s)"
        )

    # Accuracy per class shows what the net confuses (shirts with T-shirts and pullovers, typically).
    names = CLASSES if name == "Fashion-MNIST" else [str(digit) for digit in range(10)]
    per_class = [
        f"{names[c]} {(predictions[labels == c] == c).float().mean().item():.0%}"
        for c in range(10)
        if (labels == c).any()
    ]
    print("per class: " + ", ".join(per_class))
    print(f"test loss {initial_loss:.4f} -> {test_loss:.4f}, test accuracy {test_accuracy:.1%}")


if __name__ == "__main__":
    main()
