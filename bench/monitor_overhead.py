"""What the gradient-flow monitor costs: training time of a Fashion-MNIST MLP
with and without ``GradientFlowMonitor`` attached.

The model is a 784-256-128-10 ReLU MLP trained with SGD (momentum 0.9) on
mini-batches of 128. Each configuration (monitor off, ``every=1``,
``every=10`` (the default), ``every=1`` without the update ratio) trains the
same model from the same weights on the same batches for ``--steps`` steps
(one epoch is 469); configurations alternate within each round so machine
load hits all of them alike, and the table reports the fastest and the median
round and their overhead relative to "off" (the fastest round is the one
least disturbed by other processes).

Times are CPU seconds of this process (``time.process_time``), with one BLAS
thread by default: on a shared machine the wall-clock time mostly measures
the other processes. ``--clock wall`` measures elapsed time instead.

    .venv/bin/python bench/monitor_overhead.py [--steps 469] [--rounds 3] [--threads 1] [--clock cpu|wall]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

import retrograd as rg
from retrograd import nn
from retrograd.data import load_fashion_mnist
from retrograd.diagnose.gradient_flow import GradientFlowMonitor

BATCH_SIZE = 128


def make_model(seed: int) -> nn.Module:
    rg.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def train(model: nn.Module, batches: list[tuple[rg.Tensor, rg.Tensor]], options: dict | None, clock) -> float:
    """Seconds to train on ``batches``; ``options=None`` runs without the monitor."""
    optimizer = rg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    monitor = GradientFlowMonitor(model, **options).attach() if options is not None else None
    start = clock()
    for inputs, target in batches:
        loss = loss_fn(model(inputs), target)
        optimizer.zero_grad()
        loss.backward()
        if monitor is not None:
            monitor.after_backward()
        optimizer.step()
        if monitor is not None:
            monitor.after_step()
    elapsed = clock() - start
    if monitor is not None:
        monitor.detach()
        monitor.report()  # the analysis runs once at the end; included in neither timing
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=469, help="training steps per run (469 = one epoch)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each configuration")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="CPU time of this process, or elapsed")
    args = parser.parse_args()
    rg.set_num_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    (images, labels), _ = load_fashion_mnist(flatten=True, normalize=True, return_arrays=True)
    order = np.random.default_rng(0).permutation(len(images))
    batches = []
    for step in range(args.steps):
        index = order[(step * BATCH_SIZE) % len(images) :][:BATCH_SIZE]
        batches.append((rg.tensor(images[index]), rg.tensor(labels[index])))

    configurations = {
        "monitor off": None,
        "every=1": {"every": 1},
        "every=10": {"every": 10},
        "every=1, no updates": {"every": 1, "track_updates": False},
    }
    times: dict[str, list[float]] = {name: [] for name in configurations}
    train(make_model(0), batches[:20], None, clock)  # warm-up: caches, BLAS threads
    for _ in range(args.rounds):
        for name, options in configurations.items():
            times[name].append(train(make_model(0), batches, options, clock))

    print(f"retrograd {rg.__version__}, numpy {np.__version__}, Python {platform.python_version()}")
    print(f"threads: {rg.get_num_threads()} (cpus: {os.cpu_count()})")
    print(
        f"784-256-128-10 ReLU MLP, batch {BATCH_SIZE}, {args.steps} steps, median of {args.rounds} rounds, "
        f"{args.clock} time\n"
    )
    fastest_off, median_off = min(times["monitor off"]), statistics.median(times["monitor off"])
    print(f"{'configuration':<22}{'fastest s':>10}{'overhead':>10}{'median s':>10}{'overhead':>10}")
    for name, values in times.items():
        fastest, median = min(values), statistics.median(values)
        print(
            f"{name:<22}{fastest:>10.3f}{fastest / fastest_off - 1:>+10.1%}"
            f"{median:>10.3f}{median / median_off - 1:>+10.1%}"
        )


if __name__ == "__main__":
    main()
