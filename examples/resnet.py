"""A small residual network (ResNet) with BatchNorm2d on Fashion-MNIST.

Each residual block adds its input back to its output: ``relu(F(x) + x)``.
The block only has to learn a correction to the identity, and in the
backward pass the gradient reaches earlier layers through the addition
unchanged, which is what lets very deep ResNets train. When a block changes
the shape (more channels, stride 2), a 1x1 convolution maps the shortcut to match.

    python examples/resnet.py            # 2 epochs on all 60000 images
    python examples/resnet.py --quick    # a few seconds on a small subset
"""

import argparse
import time

import retrograd as rg
from retrograd import nn, optim
from retrograd.data import DataLoader, Subset, load_digits, load_fashion_mnist


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
        train, test = Subset(train, range(min(1000, len(train)))), Subset(test, range(min(500, len(test))))
    return name, train, test


class ResidualBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        # bias=False: the BatchNorm right after subtracts the mean, which would cancel a bias anyway.
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: rg.Tensor) -> rg.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))  # the skip connection


class ResNet(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 16) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.blocks = nn.Sequential(
            ResidualBlock(width, width),  # 14x14, same shape: identity shortcut
            ResidualBlock(width, 2 * width, stride=2),  # 7x7, twice the channels: 1x1 projection shortcut
            ResidualBlock(2 * width, 2 * width),
        )
        # Average each feature map to one number: the head works for any image size.
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(2 * width, num_classes)

    def forward(self, x: rg.Tensor) -> rg.Tensor:
        return self.head(self.pool(self.blocks(self.stem(x))).flatten(1))


def evaluate(model, loader) -> tuple[float, float]:
    model.eval()  # BatchNorm now uses the running statistics gathered in training, not the batch's
    total_loss, correct = 0.0, 0
    with rg.no_grad():
        for images, labels in loader:
            logits = model(images)
            total_loss += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(dim=1) == labels).sum().item()
    return total_loss / len(loader.dataset), correct / len(loader.dataset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds on a small subset")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    epochs = args.epochs or (1 if args.quick else 2)

    rg.manual_seed(args.seed)
    name, train, test = load_data(args.quick)
    train_loader = DataLoader(train, batch_size=128, shuffle=True)
    test_loader = DataLoader(test, batch_size=500)
    model = ResNet()
    steps = epochs * len(train_loader)
    # SGD with momentum and weight decay, the classic ResNet recipe; OneCycleLR warms up then anneals.
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    print(
        f"{name}: {len(train)} training, {len(test)} test images; {sum(p.numel() for p in model.parameters())} parameters"
    )

    initial_loss, _ = evaluate(model, test_loader)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        for step, (images, labels) in enumerate(train_loader, 1):
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            if step % 100 == 0:
                print(f"  epoch {epoch} step {step}/{len(train_loader)}: batch loss {loss.item():.4f}")
        test_loss, test_accuracy = evaluate(model, test_loader)
        print(
            f"epoch {epoch}/{epochs}: test loss {test_loss:.4f}, test accuracy {test_accuracy:.1%} "
            f"({time.perf_counter() - start:.0f} s)"
        )
    print(f"test loss {initial_loss:.4f} -> {test_loss:.4f}, test accuracy {test_accuracy:.1%}")


if __name__ == "__main__":
    main()
