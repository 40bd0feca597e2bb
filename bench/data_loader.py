"""DataLoader throughput, retrograd vs PyTorch: batches per second over one
shuffled epoch of an in-memory dataset shaped like flattened MNIST.

Workloads (60000 x 784 float32 inputs and int64 labels, batch 128, shuffle):

- TensorDataset, default DataLoader: retrograd gathers each batch with one
  fancy index per tensor (``__getitems__``); PyTorch's TensorDataset has no
  ``__getitems__``, so its loader indexes 128 samples and stacks them;
- PyTorch's fast idiom for comparison: ``batch_size=None`` with a
  ``BatchSampler`` as the sampler, so the dataset is indexed once per batch;
- retrograd only: uint8 images in an ``ArrayDataset`` with
  ``ToTensor`` + ``Normalize`` applied per batch (Fashion-MNIST's pipeline).

Each row is the best of ``--repeats`` epochs; frameworks alternate.

    .venv/bin/python bench/data_loader.py [--threads N] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import retrograd as rg
import retrograd.data as rdata
from retrograd.data import transforms

try:
    import torch
    import torch.utils.data as tdata
except ImportError:
    torch = None

SAMPLES, FEATURES, BATCH = 60000, 784, 128


def epoch_seconds(loader) -> tuple[float, int]:
    start = time.perf_counter()
    batches = 0
    for _inputs, _labels in loader:
        batches += 1
    return time.perf_counter() - start, batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rg.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}, "
        f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}, threads {args.threads}"
    )
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((SAMPLES, FEATURES), dtype=np.float32)
    labels = rng.integers(0, 10, SAMPLES)
    images = rng.integers(0, 256, (SAMPLES, 28, 28), dtype=np.uint8)

    rg.manual_seed(0)
    loaders = {
        "retrograd TensorDataset": rdata.DataLoader(
            rdata.TensorDataset(rg.from_numpy(inputs), rg.from_numpy(labels)), batch_size=BATCH, shuffle=True
        ),
        "retrograd uint8 + ToTensor/Normalize": rdata.DataLoader(
            rdata.ArrayDataset(
                images,
                labels,
                transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))]),
            ),
            batch_size=BATCH,
            shuffle=True,
        ),
    }
    if torch is not None:
        torch.manual_seed(0)
        dataset = tdata.TensorDataset(torch.from_numpy(inputs), torch.from_numpy(labels))
        loaders["pytorch TensorDataset"] = tdata.DataLoader(dataset, batch_size=BATCH, shuffle=True)
        batches = tdata.BatchSampler(tdata.RandomSampler(dataset), BATCH, drop_last=False)
        loaders["pytorch batch_size=None + BatchSampler"] = tdata.DataLoader(dataset, batch_size=None, sampler=batches)

    best = dict.fromkeys(loaders, float("inf"))
    counts = {}
    for _ in range(args.repeats):
        for name, loader in loaders.items():
            seconds, counts[name] = epoch_seconds(loader)
            best[name] = min(best[name], seconds)

    print(f"{SAMPLES} x {FEATURES} float32, batch {BATCH}, shuffle; best of {args.repeats} epochs")
    print(f"{'loader':<42}{'epoch (s)':>10}{'batches/s':>12}{'us/batch':>10}")
    for name, seconds in best.items():
        print(f"{name:<42}{seconds:10.3f}{counts[name] / seconds:12.0f}{seconds / counts[name] * 1e6:10.1f}")


if __name__ == "__main__":
    main()
