"""BLAS thread control (``set_num_threads``/``get_num_threads``) through threadpoolctl."""

from __future__ import annotations

import os

_limiter = None


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in the BLAS library behind NumPy's matrix products."""
    global _limiter
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    from threadpoolctl import threadpool_limits

    if _limiter is not None:
        _limiter.restore_original_limits()
    _limiter = threadpool_limits(limits=int(n), user_api="blas")


def get_num_threads() -> int:
    """The number of threads the BLAS library uses now."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max(counts) if counts else (os.cpu_count() or 1)
