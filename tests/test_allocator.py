"""The malloc settings applied on import (retrograd/_allocator.py): freed
array memory is reused instead of being unmapped and faulted in again."""

import os
import platform
import resource
import subprocess
import sys

import numpy as np
import pytest

import retrograd  # noqa: F401  (applies the settings)
from retrograd import _allocator

tuning_expected = (
    sys.platform.startswith("linux")
    and platform.libc_ver()[0] == "glibc"
    and os.environ.get("RETROGRAD_TUNE_MALLOC", "1") != "0"
)


@pytest.mark.skipif(not tuning_expected, reason="glibc only, and not switched off")
def test_settings_are_applied_on_import():
    assert _allocator.tuned


@pytest.mark.skipif(not tuning_expected, reason="glibc only, and not switched off")
def test_repeated_large_arrays_reuse_their_pages():
    # A step-like pattern: allocate, fill and free 8 MB arrays over and over.
    # With the default settings each round maps fresh pages (about 2,000
    # faults per round); with the tuned ones the memory of the first round is
    # reused and later rounds fault (almost) nothing.
    def round_trip():
        a = np.ones(2 << 20, np.float32)
        b = a * 2.0
        return float(b[-1])

    round_trip()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        round_trip()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 200, f"{faults} page faults in 20 rounds of 16 MB"


def test_switched_off_by_the_environment():
    code = "import retrograd, retrograd._allocator as a; print(a.tuned)"
    env = dict(os.environ, RETROGRAD_TUNE_MALLOC="0")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
