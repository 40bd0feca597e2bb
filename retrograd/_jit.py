"""Optional compiled kernels (Numba), shared by the ops and the optimizers.

A few hot spots are memory-bound chains of elementwise work (an activation
and its derivative, a recurrent cell's gates, an optimizer update) that
NumPy can only run as one pass per operation, each with its own temporary
array. Written as one loop and compiled by Numba they make a single pass.

Numba is an optional dependency (the ``fast`` extra). Every kernel has a
NumPy path next to it that gives the same results; the kernel is used only
when Numba is importable and not switched off, by ``RETROGRAD_NUMBA=0`` in
the environment or by ``retrograd._jit.enabled = False`` at run time (the
tests run both paths).

Usage, next to the op that needs it::

    from .. import _jit

    @_jit.kernel(parallel=True)
    def _gelu_loop(x, out):
        for i in _jit.prange(x.size): ...

    compiled = _gelu_loop.compiled()  # None: take the NumPy path

Kernels compile on first use; ``cache=True`` keeps the machine code on disk
for the next process, so only the very first run pays the compile time.
Parallel kernels use as many threads as the BLAS library does (see
:func:`retrograd.set_num_threads`).
"""

from __future__ import annotations

import os
import threading
import types
from collections.abc import Callable
from typing import Any

__all__ = ["Kernel", "enabled", "kernel", "numba_available", "set_num_threads"]

# Switch off to force every NumPy path.
enabled = os.environ.get("RETROGRAD_NUMBA", "1") != "0"

_numba: Any = None  # the numba module once imported; False when unavailable
_threads: int | None = None  # thread count asked for by set_num_threads


def _import_numba():
    global _numba
    if _numba is None:
        try:
            import numba

            _numba = numba
            global prange
            prange = numba.prange
            if "NUMBA_THREADING_LAYER" not in os.environ:
                # Numba's OpenMP layer leaves its threads spinning after each
                # parallel loop, stealing the cores from BLAS and from any other
                # library in the process (a PyTorch step in the same process
                # ran 3-4x slower); its own work queue sleeps instead. It is
                # not safe to enter from two threads at once: see _serialized.
                numba.config.THREADING_LAYER = "workqueue"
            if _threads is not None:
                numba.set_num_threads(min(_threads, numba.config.NUMBA_NUM_THREADS))
        except Exception:  # not installed, or built for another NumPy
            _numba = False
    return _numba


_CPU_COUNT = os.cpu_count() or 1


def _one_thread() -> bool:
    return _threads == 1 or (_threads is None and _CPU_COUNT == 1)


def numba_available() -> bool:
    """Whether compiled kernels are in use (Numba importable and not switched off)."""
    return enabled and bool(_import_numba())


def set_num_threads(n: int) -> None:
    """Run parallel kernels on ``n`` threads (at most Numba's pool size)."""
    global _threads
    _threads = int(n)
    if _numba:
        _numba.set_num_threads(min(_threads, _numba.config.NUMBA_NUM_THREADS))


class Kernel:
    """A Python loop compiled by Numba on first use (see the module docstring)."""

    __slots__ = ("_compiled", "_serial", "function", "options")

    def __init__(self, function: Callable, options: dict) -> None:
        self.function = function
        self.options = options
        self._compiled: Any = None  # the dispatcher; False when compiling is impossible
        self._serial: Any = None  # a parallel kernel's one-thread twin

    def compiled(self, elements: int | None = None) -> Callable | None:
        """The compiled function, or None when the NumPy path must be taken.

        For a parallel kernel, ``elements`` (the amount of work) below
        ``PARALLEL_MIN_ELEMENTS``, or one thread in use, selects a serial twin:
        waking the thread pool costs tens of microseconds, more than small
        loops take."""
        if not enabled:
            return None
        if self._compiled is None:
            self._compiled = self._compile(self.function, self.options)
        small = elements is not None and elements < PARALLEL_MIN_ELEMENTS
        if self._compiled and self.options.get("parallel") and (small or _one_thread()):
            if self._serial is None:
                self._serial = self._compile(_renamed(self.function, "_serial"), {**self.options, "parallel": False})
            return self._serial
        return self._compiled or None

    @staticmethod
    def _compile(function: Callable, options: dict) -> Any:
        numba = _import_numba()
        if not numba:
            return False
        # error_model="numpy": division by zero gives inf/NaN as in NumPy,
        # and without Python's ZeroDivisionError checks the loops vectorize.
        dispatcher = numba.njit(cache=True, error_model="numpy", **options)(function)
        return _serialized(dispatcher) if options.get("parallel") else dispatcher

    def __repr__(self) -> str:
        return f"Kernel({self.function.__qualname__}, {self.options})"


# Below this many elements a parallel kernel runs its serial twin.
PARALLEL_MIN_ELEMENTS = 1 << 17

_launch_lock = threading.Lock()


def _renamed(function: Callable, suffix: str) -> Callable:
    """A copy of ``function`` under another qualified name, so that Numba's
    on-disk cache (keyed by that name) keeps its compilations apart."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__ + suffix)
    copy.__qualname__ = function.__qualname__ + suffix
    copy.__defaults__ = function.__defaults__
    return copy


def _serialized(dispatcher: Callable) -> Callable:
    """``dispatcher`` behind a lock: the work-queue threading layer aborts the
    process when two Python threads launch parallel loops at the same time."""

    def launch(*args):
        with _launch_lock:
            return dispatcher(*args)

    launch.dispatcher = dispatcher  # for inspection (e.g. parallel_diagnostics)
    return launch


def kernel(**options: Any) -> Callable[[Callable], Kernel]:
    """Mark a loop as a Numba kernel; ``options`` go to ``numba.njit``
    (``parallel=True`` for ``_jit.prange`` loops, ``fastmath=...`` where the
    NumPy path's bit-exactness is not promised)."""

    def wrap(function: Callable) -> Kernel:
        return Kernel(function, options)

    return wrap


# ``_jit.prange`` in a kernel: numba.prange once Numba is imported (the
# kernel's parallel loop), plain range before (a kernel run as Python).
prange = range
