"""LSTM forward + backward, retrograd against PyTorch: a row-by-row MNIST-style
LSTM(28 -> 128) over 28 time steps with a batch of 64.

Run: ``.venv/bin/python bench/rnn_ops.py [--repeat N] [--dtype float32|float64] [--threads N]``.
Prints the median milliseconds per step (forward only, and forward+backward)
of each library, their ratio (retrograd / PyTorch: below 1 means retrograd is
faster), and the thread counts both use.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import retrograd as rg
from retrograd.nn.modules.rnn import LSTM

SEQUENCE, BATCH, INPUT, HIDDEN = 28, 64, 28, 128


def median_ms(step, repeat: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def make_steps(dtype: str):
    """Forward and forward+backward steps for each library, same weights and data."""
    rng = np.random.default_rng(0)
    theirs_model = torch.nn.LSTM(INPUT, HIDDEN).to(getattr(torch, dtype))
    ours_model = LSTM(INPUT, HIDDEN, dtype=getattr(rg, dtype))
    for name, param in ours_model.named_parameters():
        param.data = rg.tensor(theirs_model.state_dict()[name].numpy().copy())
    x = rng.standard_normal((SEQUENCE, BATCH, INPUT)).astype(dtype)
    ours_x, theirs_x = rg.tensor(x), torch.tensor(x)

    def ours_forward():
        with rg.no_grad():
            ours_model(ours_x)

    def theirs_forward():
        with torch.no_grad():
            theirs_model(theirs_x)

    def ours_step():
        ours_model.zero_grad()
        output, (h_n, _) = ours_model(ours_x)
        (output.sum() + h_n.sum()).backward()

    def theirs_step():
        theirs_model.zero_grad()
        output, (h_n, _) = theirs_model(theirs_x)
        (output.sum() + h_n.sum()).backward()

    return (ours_forward, theirs_forward), (ours_step, theirs_step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: theirs)")
    args = parser.parse_args()
    if args.threads is not None:
        rg.set_num_threads(args.threads)
        torch.set_num_threads(args.threads)
    print(f"threads: retrograd (BLAS) {rg.get_num_threads()}, torch {torch.get_num_threads()}; dtype {args.dtype}")
    print(f"LSTM({INPUT} -> {HIDDEN}), {SEQUENCE} steps, batch {BATCH}")
    rows = make_steps(args.dtype)
    # All retrograd runs first, then all PyTorch runs: interleaving them makes
    # OpenBLAS's and PyTorch's thread pools compete for the same cores.
    ours_ms = [median_ms(ours, args.repeat) for ours, _ in rows]
    theirs_ms = [median_ms(theirs, args.repeat) for _, theirs in rows]
    print(f"{'':<18}{'retrograd ms':>14}{'torch ms':>10}{'ratio':>8}")
    for label, ours, theirs in zip(("forward", "forward+backward"), ours_ms, theirs_ms, strict=True):
        print(f"{label:<18}{ours:>14.2f}{theirs:>10.2f}{ours / theirs:>8.2f}")


if __name__ == "__main__":
    main()
