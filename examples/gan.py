"""A generative adversarial network that learns a 2-D distribution: eight
Gaussian blobs on a circle.

The generator turns random noise into points; the discriminator learns to
tell those points from real ones, and the generator learns to fool it. The two
are updated in turn, each with its own optimizer. Points shown to the
discriminator are detached from the generator's graph, so its update leaves
the generator alone. A PNG shows real and generated points before and after
training.

    python examples/gan.py            # 3000 alternating steps
    python examples/gan.py --quick    # a few seconds
"""

import argparse
import time

import matplotlib

matplotlib.use("Agg")  # draw to a file; no display needed
import matplotlib.pyplot as plt
import numpy as np

import retrograd as rg
from retrograd import nn, optim

NUM_MODES, RADIUS, SPREAD = 8, 2.0, 0.05
ANGLES = 2 * np.pi * np.arange(NUM_MODES) / NUM_MODES
CENTRES = (RADIUS * np.stack([np.cos(ANGLES), np.sin(ANGLES)], axis=1)).astype(np.float32)


def real_points(count: int, generator: np.random.Generator) -> rg.Tensor:
    modes = generator.integers(0, NUM_MODES, size=count)
    return rg.tensor(CENTRES[modes] + SPREAD * generator.standard_normal((count, 2), dtype=np.float32))


def quality(points: rg.Tensor) -> tuple[float, int]:
    """Mean distance from each point to its nearest mode centre, and how many
    modes have at least 2% of the points within 4 standard deviations of them."""
    distances = np.linalg.norm(points.numpy()[:, None, :] - CENTRES[None], axis=2)  # (N, modes)
    nearest = distances.argmin(axis=1)
    close = distances.min(axis=1) < 4 * SPREAD
    covered = sum(np.mean(close & (nearest == k)) >= 0.02 for k in range(NUM_MODES))
    return float(distances.min(axis=1).mean()), int(covered)


def mlp(in_features: int, out_features: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_features, hidden), nn.LeakyReLU(0.2),  # leaky: the discriminator's gradient never dies
        nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, out_features),
    )  # fmt: skip


def plot(real: rg.Tensor, snapshots: list[tuple[str, rg.Tensor]], path: str) -> None:
    figure, axes = plt.subplots(1, len(snapshots), figsize=(4 * len(snapshots), 4))
    for axis, (title, fake) in zip(axes, snapshots):
        axis.scatter(*real.numpy().T, s=2, c="grey", alpha=0.4, label="real")
        axis.scatter(*fake.numpy().T, s=2, c="crimson", alpha=0.6, label="generated")
        axis.set(title=title, xlim=(-3, 3), ylim=(-3, 3), aspect="equal")
    axes[0].legend(loc="upper right", markerscale=4)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--out", default="gan.png", help="where to save the picture of the samples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    steps = args.steps or (200 if args.quick else 3000)
    noise_dim, batch_size = 8, 256

    rg.manual_seed(args.seed)
    data = np.random.default_rng(args.seed)
    generator = mlp(noise_dim, 2, hidden=128)
    discriminator = mlp(2, 1, hidden=128)  # one logit: "how real does this point look"
    # beta1 = 0.5 instead of 0.9: less momentum, which keeps the two-player game from oscillating.
    g_optimizer = optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    d_optimizer = optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()  # sigmoid + binary cross-entropy in one numerically stable op
    real_label, fake_label = rg.ones(batch_size, 1), rg.zeros(batch_size, 1)

    fixed_noise = rg.randn(2000, noise_dim)  # the same noise for every snapshot
    with rg.no_grad():
        before = generator(fixed_noise)
    initial_distance, initial_modes = quality(before)

    start = time.perf_counter()
    for step in range(1, steps + 1):
        # Discriminator step: real points -> 1, generated points -> 0.
        fake = generator(rg.randn(batch_size, noise_dim))
        d_loss = bce(discriminator(real_points(batch_size, data)), real_label) + bce(
            discriminator(fake.detach()),
            fake_label,  # detach: this loss must not reach the generator
        )
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()

        # Generator step: make the discriminator call the fakes real. Maximising log D(G(z))
        # ("non-saturating" loss) gives strong gradients even when D easily spots the fakes.
        g_loss = bce(discriminator(fake), real_label)
        g_optimizer.zero_grad()  # the discriminator's grads from this backward are cleared at its next step
        g_loss.backward()
        g_optimizer.step()

        if step % (100 if args.quick else 500) == 0:
            with rg.no_grad():
                distance, modes = quality(generator(fixed_noise))
            print(
                f"step {step}/{steps}: D loss {d_loss.item():.3f}, G loss {g_loss.item():.3f}, "
                f"distance to nearest mode {distance:.3f}, modes covered {modes}/{NUM_MODES} "
                f"({time.perf_counter() - start:.0f} s)"
            )

    with rg.no_grad():
        after = generator(fixed_noise)
    final_distance, final_modes = quality(after)
    plot(real_points(2000, data), [("before training", before), (f"after {steps} steps", after)], args.out)
    print(f"saved real and generated points to {args.out}")
    print(f"modes covered {initial_modes} -> {final_modes} of {NUM_MODES}")
    print(f"distance to nearest mode {initial_distance:.3f} -> {final_distance:.3f} (blob std {SPREAD})")


if __name__ == "__main__":
    main()
