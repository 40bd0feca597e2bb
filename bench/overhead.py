"""Per-op overhead, retrograd vs PyTorch, side by side in one run.

Small models are bound by the fixed cost of each op (creating the output,
recording the node, walking the graph), not by arithmetic. Two workloads:

- chain: 200 tiny elementwise ops (``y = y * a + b`` on 16 numbers) then
  backward: microseconds per op, forward and forward+backward;
- mlp: a 32-64-64-10 tanh MLP on a batch of 16, forward + backward.

Frameworks alternate within the run (``--rounds`` times, keeping each one's
best median), each timing is the median of many repetitions, and the table
reports the ratio (PyTorch time / retrograd time: above 1 means retrograd is
faster). On a shared, busy machine absolute times swing widely from run to
run; compare the ratios of several runs. Figures: bench/README.md.

    .venv/bin/python bench/overhead.py [--threads N] [--seconds S] [--rounds R]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform

import numpy as np
from timing import median_step_seconds

import retrograd as rg

try:
    import torch
except ImportError:
    torch = None

CHAIN_LENGTH = 200


def chain(lib, backward: bool) -> None:
    x = lib.ones(16, requires_grad=True)
    y = x
    for _ in range(CHAIN_LENGTH // 2):
        y = y * 1.0001 + 0.001
    if backward:
        y.sum().backward()


def make_mlp(lib, seed: int = 0):
    rng = np.random.default_rng(seed)
    sizes = [32, 64, 64, 10]
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        weight = (rng.uniform(-1, 1, (fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32)
        params.append(lib.tensor(weight, requires_grad=True))
        params.append(lib.tensor(np.zeros(fan_out, np.float32), requires_grad=True))
    x = lib.tensor(rng.standard_normal((16, 32)).astype(np.float32))
    target = lib.tensor(rng.standard_normal((16, 10)).astype(np.float32))
    return params, x, target


def mlp_step(lib, state) -> None:
    params, x, target = state
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i + 2 < len(params):
            h = h.tanh()
    loss = ((h - target) ** 2).mean()
    loss.backward()
    for p in params:
        p.grad = None


def _bound(step, lib, state):
    return lambda: step(lib, state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seconds", type=float, default=1.0, help="time per workload per framework")
    parser.add_argument("--rounds", type=int, default=5, help="how often the frameworks alternate per workload")
    args = parser.parse_args()
    rg.set_num_threads(args.threads)
    libs = [("retrograd", rg)]
    if torch is not None:
        torch.set_num_threads(args.threads)
        libs.append(("pytorch", torch))
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}, "
        f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}, threads {args.threads}, "
        f"rounds {args.rounds}"
    )

    workloads = {
        "chain forward (us/op)": (lambda lib: lambda: chain(lib, False), CHAIN_LENGTH),
        "chain fwd+bwd (us/op)": (lambda lib: lambda: chain(lib, True), CHAIN_LENGTH),
        "mlp fwd+bwd (us/step)": (lambda lib: _bound(mlp_step, lib, make_mlp(lib)), 1),
    }
    print(f"{'workload':<24}{'retrograd':>12}{'pytorch':>12}{'ratio':>8}")
    for name, (make, ops) in workloads.items():
        results = {}
        for _round in range(args.rounds):  # alternate the frameworks; keep each one's best median
            for label, lib in libs:
                t = median_step_seconds(make(lib), args.seconds / args.rounds) / ops * 1e6
                results[label] = min(results.get(label, float("inf")), t)
        ours = results["retrograd"]
        theirs = results.get("pytorch")
        ratio = f"{theirs / ours:8.2f}" if theirs else "       -"
        theirs_text = f"{theirs:12.2f}" if theirs else f"{'-':>12}"
        print(f"{name:<24}{ours:12.2f}{theirs_text}{ratio}")
    print("ratio = PyTorch time / retrograd time (above 1: retrograd is faster)")


if __name__ == "__main__":
    main()
