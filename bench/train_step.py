"""Training-step speed and memory, retrograd against PyTorch, on five workloads.

One step is forward, cross-entropy loss, backward and an Adam(lr=1e-3) step
on a fixed random batch (models and data in ``bench/models.py``; both
frameworks start from the same weights). For each workload the two
frameworks alternate in chunks of about a quarter second within this one
process, with the same thread count, after a warm-up, until each has run for
``--seconds``; the time per step is the median over all steps.

Peak memory is measured in a fresh subprocess per workload and framework:
the growth of the process's peak resident set size (``ru_maxrss``) from
just before the first training step (libraries imported, model and batch
built) to after several steps. It counts everything a step allocates
(activations, gradients, optimizer state, scratch buffers, allocator caches,
lazily loaded code) at page granularity; see bench/training.md for its limits.

Achieved GFLOP/s on mlp counts the matrix products of forward and backward
only, against the machine's float32 GEMM rate (a 2048x2048 NumPy matmul with
the same threads).

    .venv/bin/python bench/train_step.py [--threads N] [--seconds S] [--workloads mlp,cnn,...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

import models
import numpy as np
from timing import alternate, median_step_seconds

# ------------------------------------------------------------------ set-up


def set_threads(threads: int) -> None:
    """The same number of threads for NumPy's BLAS (retrograd) and for PyTorch."""
    import torch

    import retrograd as rg

    rg.set_num_threads(threads)
    torch.set_num_threads(threads)


def machine_description() -> list[str]:
    """CPU model and core count, Python, NumPy and its BLAS, PyTorch."""
    import torch
    from threadpoolctl import threadpool_info

    model = platform.processor() or platform.machine()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    blas = [
        f"{pool['internal_api']} {pool['version']} ({pool.get('architecture', '?')}, {pool['num_threads']} threads)"
        for pool in threadpool_info()
        if pool.get("user_api") == "blas" and "numpy" in pool.get("filepath", "") + pool.get("prefix", "")
    ] or [pool["internal_api"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return [
        f"CPU: {model}, {os.cpu_count()} logical cores",
        f"Python {platform.python_version()}, NumPy {np.__version__} with {', '.join(blas) or 'unknown BLAS'}",
        f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)",
    ]


def gemm_gflops(threads: int, size: int = 2048, seconds: float = 1.0) -> tuple[float, float]:
    """Measured float32 GEMM rate (GFLOP/s) of NumPy and of PyTorch on ``size x size`` matrices."""
    import torch

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty_like(a)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    tout = torch.empty_like(ta)
    flops = 2 * size**3
    numpy_time = median_step_seconds(lambda: np.matmul(a, b, out=out), seconds)
    torch_time = median_step_seconds(lambda: torch.matmul(ta, tb, out=tout), seconds)
    return flops / numpy_time / 1e9, flops / torch_time / 1e9


# ------------------------------------------------------------------ timing


def time_workload(name: str, seconds: float, **options) -> dict[str, float]:
    """Median seconds per training step of ``name`` in each framework, and its samples per step."""
    weights = models.reference_weights(name, options.get("depth"), options.get("hidden", 256))
    ours = models.build(name, "retrograd", weights=weights, **options)
    theirs = models.build(name, "pytorch", weights=weights, **options)
    medians = alternate({"retrograd": ours.step, "pytorch": theirs.step}, seconds)
    return {**medians, "samples": ours.samples}


# ------------------------------------------------------------------ memory


def _status_kib(field: str) -> int:
    """A memory figure (KiB) of this process from /proc/self/status (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def memory_probe(name: str, framework: str, threads: int, steps: int) -> dict:
    """Run in a fresh process: how far the resident set grows (MB) above its size
    just before the first of ``steps`` training steps, at its peak."""
    set_threads(threads)
    weights = models.reference_weights(name)
    workload = models.build(name, framework, weights=weights)
    # One Adam step on a throwaway one-element parameter first, in both
    # frameworks: it loads lazily imported optimizer code (for retrograd the
    # optional Numba kernel, ~150 MB of compiler and kernel once per process),
    # a library cost like ``import torch`` rather than memory the step needs.
    lib = workload.lib
    scratch = lib.zeros(1, requires_grad=True)
    scratch.grad = lib.zeros(1)
    lib.optim.Adam([scratch]).step()
    # Importing the libraries set a high-water mark far above what a step needs:
    # reset it (Linux >= 4.0) so the peak read afterwards is the steps' own.
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    before = _status_kib("VmRSS")
    for _ in range(steps):
        workload.step()
    peak = _status_kib("VmHWM")
    return {"peak_mb": (peak - before) / 1024}


def measure_memory(name: str, framework: str, threads: int, steps: int = 5) -> float:
    """``memory_probe`` in a subprocess, so each measurement starts from a clean process."""
    command = [sys.executable, __file__, "--memory-probe", f"{name}:{framework}:{steps}", "--threads", str(threads)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_mb"]


# ------------------------------------------------------------------ report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: all cores)")
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per workload per framework")
    parser.add_argument("--workloads", default=",".join(models.WORKLOADS), help="comma-separated subset")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)  # name:framework:steps, internal
    args = parser.parse_args()

    if args.memory_probe:
        name, framework, steps = args.memory_probe.split(":")
        print(json.dumps(memory_probe(name, framework, args.threads, int(steps))))
        return

    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = sorted(set(workloads) - set(models.WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(models.WORKLOADS)}")
    set_threads(args.threads)
    for line in machine_description():
        print(line)
    print(f"threads: {args.threads} (NumPy BLAS and PyTorch), {args.seconds:g} s per workload per framework")
    numpy_peak, torch_peak = gemm_gflops(args.threads)
    print(f"float32 GEMM 2048x2048: NumPy {numpy_peak:.1f} GFLOP/s, PyTorch {torch_peak:.1f} GFLOP/s")
    print()

    header = "| workload | retrograd ms/step | PyTorch ms/step | ratio | retrograd peak MB | PyTorch peak MB |"
    print(header)
    print("|---|---:|---:|---:|---:|---:|")
    mlp_times = None
    for name in workloads:
        result = time_workload(name, args.seconds)
        ours, theirs = result["retrograd"], result["pytorch"]
        if name == "mlp":
            mlp_times = result
        if args.no_memory:
            memory = "| - | - |"
        else:
            ours_mb = measure_memory(name, "retrograd", args.threads)
            theirs_mb = measure_memory(name, "pytorch", args.threads)
            memory = f"| {ours_mb:.1f} | {theirs_mb:.1f} |"
        # samples/s ratio: the same batch in both, so it is the inverse ratio of the step times
        print(f"| {name} | {ours * 1e3:.3f} | {theirs * 1e3:.3f} | {theirs / ours:.2f} {memory}", flush=True)
    print("\nratio = retrograd samples/s / PyTorch samples/s (above 1: retrograd is faster)")

    if mlp_times is not None:
        flops = models.training_flops((784, 512, 256, 10), mlp_times["samples"])
        ours = flops / mlp_times["retrograd"] / 1e9
        theirs = flops / mlp_times["pytorch"] / 1e9
        print(
            f"mlp matmul work {flops / 1e6:.1f} MFLOP/step: retrograd {ours:.1f} GFLOP/s "
            f"({ours / numpy_peak:.0%} of NumPy GEMM peak), PyTorch {theirs:.1f} GFLOP/s "
            f"({theirs / numpy_peak:.0%})"
        )


if __name__ == "__main__":
    main()
