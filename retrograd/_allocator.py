"""Keep freed array memory in the process instead of handing it back to the OS.

A training step allocates and frees the same large arrays (activations,
gradients, scratch) every step. With glibc's default settings, arrays above
a size threshold are mapped fresh from the OS and unmapped when freed, and
free memory at the top of the heap is trimmed back to the OS: every step
then touches new pages, and the kernel must zero each one on first use. On
the convolutional benchmark that was over 2,000 page faults per step (about
9 MB of zeroed pages) and 15-20% of the step's time; with the settings below
the count drops to zero, since each step reuses the memory of the one before.

This is what a caching allocator does in other frameworks. It changes when
memory returns to the OS, not how much is in use at once: the peak resident
size stays the same, but up to ``_RETAINED`` bytes of freed memory stay
resident afterwards. Only glibc (Linux) has these settings; elsewhere, or with
``RETROGRAD_TUNE_MALLOC=0`` in the environment, nothing is changed.
"""

from __future__ import annotations

import ctypes
import os
import sys

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# Arrays up to this size come from the heap, whose memory is reused...
_MAPPED_ABOVE = 64 << 20
# ...and up to this much free memory at its top stays in the process.
_RETAINED = 256 << 20

tuned = False  # whether the settings were applied (for the tests and docs)


def tune() -> bool:
    """Apply the settings once; whether they are in effect."""
    global tuned
    if tuned or os.environ.get("RETROGRAD_TUNE_MALLOC", "1") == "0" or not sys.platform.startswith("linux"):
        return tuned
    try:
        libc = ctypes.CDLL(None)
        # Only glibc has these parameter numbers; other C libraries lack this symbol.
        if not hasattr(libc, "gnu_get_libc_version"):
            return False
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    tuned = bool(mallopt(_M_MMAP_THRESHOLD, _MAPPED_ABOVE)) and bool(mallopt(_M_TRIM_THRESHOLD, _RETAINED))
    return tuned


tune()
