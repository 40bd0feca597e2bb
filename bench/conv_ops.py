"""conv2d forward + backward, retrograd against PyTorch, on the shapes of a small MNIST CNN.

Run: ``.venv/bin/python bench/conv_ops.py [--repeat N] [--dtype float32|float64] [--threads N]``.
Prints the median milliseconds per forward+backward of each library, their
ratio, and the thread counts both use.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import retrograd as rg
from retrograd.ops import conv as rg_functional

# (label, batch, in_channels, out_channels, image size); 3x3 kernels, padding 1.
SHAPES = [
    ("1->32 on 28x28", 64, 1, 32, 28),
    ("32->64 on 14x14", 64, 32, 64, 14),
]


def median_ms(step, repeat: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: theirs)")
    args = parser.parse_args()
    if args.threads is not None:
        rg.set_num_threads(args.threads)
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"threads: retrograd (BLAS) {rg.get_num_threads()}, torch {torch.get_num_threads()}; dtype {args.dtype}")
    steps = [
        (label, *make_steps(rng, args.dtype, batch, c_in, c_out, size)) for label, batch, c_in, c_out, size in SHAPES
    ]
    # All retrograd runs first, then all PyTorch runs: interleaving them makes
    # OpenBLAS's and PyTorch's thread pools compete for the same cores.
    ours_ms = [median_ms(ours_step, args.repeat) for _, ours_step, _ in steps]
    theirs_ms = [median_ms(theirs_step, args.repeat) for _, _, theirs_step in steps]
    print(f"{'conv2d 3x3 pad 1, fwd+bwd':<28}{'retrograd ms':>14}{'torch ms':>10}{'ratio':>8}")
    for (label, _, _), ours, theirs in zip(steps, ours_ms, theirs_ms, strict=True):
        print(f"{label:<28}{ours:>14.2f}{theirs:>10.2f}{ours / theirs:>8.2f}")


def make_steps(rng, dtype, batch, c_in, c_out, size):
    """One forward+backward step for each library on the same data."""
    x = rng.standard_normal((batch, c_in, size, size)).astype(dtype)
    w = (rng.standard_normal((c_out, c_in, 3, 3)) * 0.1).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    grad = rng.standard_normal((batch, c_out, size, size)).astype(dtype)
    ours = [rg.tensor(a, requires_grad=True) for a in (x, w, b)]
    our_grad = rg.tensor(grad)
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    their_grad = torch.tensor(grad)

    def ours_step():
        for t in ours:
            t.grad = None
        rg_functional.conv2d(ours[0], ours[1], ours[2], padding=1).backward(our_grad)

    def theirs_step():
        for t in theirs:
            t.grad = None
        torch.nn.functional.conv2d(theirs[0], theirs[1], theirs[2], padding=1).backward(their_grad)

    return ours_step, theirs_step


if __name__ == "__main__":
    main()
