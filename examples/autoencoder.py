"""An MLP autoencoder on Fashion-MNIST, trained with ``retrograd.train.fit``.

The encoder squeezes each 784-pixel image into 32 numbers; the decoder
rebuilds the image from them. The target is the input itself, so no labels
are needed: the network must learn what the images have in common to pass
them through the bottleneck. The Keras-like ``fit`` runs the same loop the
other examples write by hand. A PNG shows test images above their reconstructions.

    python examples/autoencoder.py            # 10 epochs on all 60000 images
    python examples/autoencoder.py --quick    # a few seconds on a small subset
"""

import argparse
import time

import matplotlib

matplotlib.use("Agg")  # draw to a file; no display needed
import matplotlib.pyplot as plt

import retrograd as rg
from retrograd import nn, optim
from retrograd.data import TensorDataset, load_digits, load_fashion_mnist
from retrograd.train import evaluate, fit, predict


def load_images(quick: bool):
    """Flat training and test images in [0, 1]: Fashion-MNIST, or the 8x8 digits if it is missing."""
    try:
        (x_train, _), (x_test, _) = load_fashion_mnist(flatten=True, download=False, return_arrays=True)
        name = "Fashion-MNIST"
    except FileNotFoundError:
        print("note: Fashion-MNIST not found (apt install dataset-fashion-mnist, or call")
        print("      retrograd.data.load_fashion_mnist() once to download it); using the 8x8 digits")
        (x_train, _), (x_test, _) = load_digits(flatten=True, return_arrays=True)
        name = "digits"
    if quick:
        x_train, x_test = x_train[:3000], x_test[:500]
    return name, rg.tensor(x_train), rg.tensor(x_test)


class Autoencoder(nn.Module):
    def __init__(self, num_pixels: int, latent_dim: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(num_pixels, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, latent_dim)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 64), nn.ReLU(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, num_pixels),
            nn.Sigmoid(),  # pixels are in [0, 1], so is the reconstruction
        )  # fmt: skip

    def forward(self, x: rg.Tensor) -> rg.Tensor:
        return self.decoder(self.encoder(x))


def save_reconstructions(images: rg.Tensor, reconstructions: rg.Tensor, path: str) -> None:
    side = int(images.shape[1] ** 0.5)
    columns = images.shape[0]
    figure, axes = plt.subplots(2, columns, figsize=(columns, 2.2))
    for column in range(columns):
        for row, batch in enumerate((images, reconstructions)):
            axes[row, column].imshow(batch[column].reshape(side, side).numpy(), cmap="gray", vmin=0, vmax=1)
            axes[row, column].axis("off")
    axes[0, 0].set_title("input", fontsize=8, loc="left")
    axes[1, 0].set_title("reconstruction", fontsize=8, loc="left")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds on a small subset")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--out", default="autoencoder.png", help="where to save the reconstructions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    epochs = args.epochs or (2 if args.quick else 10)

    rg.manual_seed(args.seed)
    name, x_train, x_test = load_images(args.quick)
    # An autoencoder's target is its input: each sample is (image, image).
    train, test = TensorDataset(x_train, x_train), TensorDataset(x_test, x_test)
    model = Autoencoder(x_train.shape[1], args.latent_dim)
    loss_fn = nn.MSELoss()
    print(
        f"{name}: {len(train)} training, {len(test)} test images; {sum(p.numel() for p in model.parameters())} parameters"
    )

    # Two reference points: the untrained net, and the best single image (the mean of the training set).
    initial_mse = evaluate(model, test, loss=loss_fn, metrics=(), batch_size=500)["loss"]
    mean_image_mse = ((x_test - x_train.mean(dim=0)) ** 2).mean().item()

    start = time.perf_counter()
    history = fit(
        model,
        train,
        val_data=test,
        loss=loss_fn,
        optimizer=optim.Adam(model.parameters(), lr=1e-3),
        epochs=epochs,
        batch_size=128,
        metrics=(),  # no accuracy for a reconstruction
        verbose=2,  # one line per epoch
    )
    elapsed = time.perf_counter() - start
    final_mse = history["val_loss"][-1]

    reconstructions = predict(model, x_test[:10])
    save_reconstructions(x_test[:10], reconstructions, args.out)
    print(f"saved 10 test images and their reconstructions to {args.out}")
    print(f"predicting the mean training image: test MSE {mean_image_mse:.4f}")
    print(f"test reconstruction MSE {initial_mse:.4f} -> {final_mse:.4f} in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
