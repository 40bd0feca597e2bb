"""The optional compiled-kernel wrapper (retrograd/_jit.py)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from retrograd import _jit

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not _jit.enabled, reason="compiled kernels switched off (RETROGRAD_NUMBA=0)")


@_jit.kernel(parallel=True)
def _twice(x, out):
    for i in _jit.prange(x.size):
        out[i] = x[i] * 2


def test_kernel_compiles_and_runs():
    compiled = _twice.compiled()
    assert compiled is not None
    x = np.arange(1000, dtype=np.float32)
    out = np.empty_like(x)
    compiled(x, out)
    np.testing.assert_array_equal(out, x * 2)


def test_switched_off_kernels_are_none(monkeypatch):
    monkeypatch.setattr(_jit, "enabled", False)
    assert _twice.compiled() is None
    assert not _jit.numba_available()


def test_parallel_kernels_from_many_threads_and_the_threading_layer(tmp_path):
    # In a fresh process: the work-queue layer would abort the process if two
    # threads launched parallel loops at once; the wrapper serializes them.
    code = textwrap.dedent(
        """
        import threading
        import numpy as np
        import numba
        from retrograd import _jit

        @_jit.kernel(parallel=True)
        def add_one(x):
            for i in _jit.prange(x.size):
                x[i] += 1.0

        kernel = add_one.compiled()
        arrays = [np.zeros(200_000) for _ in range(4)]

        def work(x):
            for _ in range(50):
                kernel(x)

        threads = [threading.Thread(target=work, args=(x,)) for x in arrays]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all((x == 50).all() for x in arrays)
        print(numba.threading_layer())
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    script = tmp_path / "threads.py"  # a file: cached kernels need a source file
    script.write_text(code)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "workqueue"


def test_small_work_and_one_thread_take_the_serial_twin(monkeypatch):
    monkeypatch.setattr(_jit, "_threads", 2)
    parallel = _twice.compiled(_jit.PARALLEL_MIN_ELEMENTS)
    serial = _twice.compiled(_jit.PARALLEL_MIN_ELEMENTS - 1)
    assert parallel is not serial
    assert _twice.compiled() is parallel  # no size given: the parallel kernel
    monkeypatch.setattr(_jit, "_threads", 1)
    assert _twice.compiled(10**9) is serial
    x = np.linspace(-1, 1, _jit.PARALLEL_MIN_ELEMENTS, dtype=np.float32)
    results = []
    for kernel in (parallel, serial):
        out = np.empty_like(x)
        kernel(x, out)
        results.append(out)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], x * 2)
