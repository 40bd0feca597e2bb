"""BLAS thread control (``set_num_threads``/``get_num_threads``).

NumPy's matrix products run in its BLAS library's thread pool; the optional
package threadpoolctl is what can resize that pool at run time.
"""

from __future__ import annotations

import os
import warnings

from . import _jit

_limiter = None


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in the BLAS library behind NumPy's matrix products
    and in the optional compiled kernels."""
    global _limiter
    if isinstance(n, bool) or int(n) != n or int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n!r}")
    _jit.set_num_threads(int(n))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        warnings.warn(
            "set_num_threads: the BLAS thread count cannot be changed without the optional package "
            "threadpoolctl (pip install threadpoolctl); set OMP_NUM_THREADS before starting Python instead",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    if _limiter is not None:
        _limiter.restore_original_limits()
    _limiter = threadpool_limits(limits=int(n), user_api="blas")


def get_num_threads() -> int:
    """The number of threads the BLAS library uses now (the CPU count if unknown)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max(counts) if counts else (os.cpu_count() or 1)
