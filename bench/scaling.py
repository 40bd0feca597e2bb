"""How an MLP training step scales, retrograd against PyTorch: ms/step across
batch sizes (the 784-512-256-10 MLP, batch 1 to 1024) and across depths (2 to
32 linear layers of width 256 on a batch of 128).

A step is the one of bench/train_step.py (forward, cross-entropy, backward,
Adam); both frameworks start from the same weights and alternate within this
process with the same thread count. Small batches show the fixed per-op cost,
large ones the matrix products; deep nets show the per-layer cost.

    .venv/bin/python bench/scaling.py [--threads N] [--seconds S] [--workloads batch,depth]
"""

from __future__ import annotations

import argparse
import os

import train_step

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
DEPTHS = (2, 4, 8, 16, 32)
STUDIES = ("batch", "depth")


def print_row(label: str, result: dict) -> None:
    ours, theirs = result["retrograd"], result["pytorch"]
    print(f"| {label} | {ours * 1e3:.3f} | {theirs * 1e3:.3f} | {theirs / ours:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: all cores)")
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per point per framework")
    parser.add_argument("--workloads", default=",".join(STUDIES), help="comma-separated subset of batch,depth")
    args = parser.parse_args()
    studies = [s.strip() for s in args.workloads.split(",") if s.strip()]
    if set(studies) - set(STUDIES):
        parser.error(f"unknown studies {sorted(set(studies) - set(STUDIES))}; choose from {', '.join(STUDIES)}")

    train_step.set_threads(args.threads)
    for line in train_step.machine_description():
        print(line)
    print(f"threads: {args.threads}, {args.seconds:g} s per point per framework")
    print("ratio = retrograd samples/s / PyTorch samples/s (above 1: retrograd is faster)")

    if "batch" in studies:
        print("\nmlp 784-512-256-10 by batch size\n")
        print("| batch | retrograd ms/step | PyTorch ms/step | ratio |\n|---:|---:|---:|---:|")
        for batch in BATCH_SIZES:
            print_row(str(batch), train_step.time_workload("mlp", args.seconds, batch=batch))
    if "depth" in studies:
        print("\nmlp 784 -> 256 x (depth - 1) -> 10, batch 128, by depth (linear layers)\n")
        print("| depth | retrograd ms/step | PyTorch ms/step | ratio |\n|---:|---:|---:|---:|")
        for depth in DEPTHS:
            print_row(str(depth), train_step.time_workload("mlp", args.seconds, depth=depth))


if __name__ == "__main__":
    main()
