"""Timing helpers shared by the benchmark scripts: median step times, and
two or more callables timed in alternation so that they see the same load.

On a shared machine the load changes from second to second; a comparison is
only fair when the contenders take turns in short chunks within one run.
"""

from __future__ import annotations

import statistics
import time

CHUNK_SECONDS = 0.25


def median_step_seconds(step, seconds: float, warmup: int = 3) -> float:
    """Median wall time of ``step`` over about ``seconds``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        step()
    times = timed_steps(step, seconds)
    return statistics.median(times)


def timed_steps(step, seconds: float, min_steps: int = 3) -> list[float]:
    """Per-step wall times of ``step`` run for about ``seconds`` (at least ``min_steps`` steps)."""
    times = []
    deadline = time.perf_counter() + seconds
    while len(times) < min_steps or time.perf_counter() < deadline:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def alternate(steps: dict, seconds: float, warmup_seconds: float = 0.5) -> dict[str, float]:
    """Median seconds per call of each entry of ``steps`` ({label: callable}), the
    entries taking turns in chunks of ``CHUNK_SECONDS`` until each has run ``seconds``."""
    for step in steps.values():
        timed_steps(step, warmup_seconds)
    times: dict[str, list[float]] = {label: [] for label in steps}
    spent = dict.fromkeys(steps, 0.0)
    while min(spent.values()) < seconds:
        for label, step in steps.items():
            chunk = timed_steps(step, CHUNK_SECONDS, min_steps=1)
            times[label] += chunk
            spent[label] += sum(chunk)
    return {label: statistics.median(t) for label, t in times.items()}
