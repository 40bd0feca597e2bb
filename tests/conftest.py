import numpy as np
import pytest

import retrograd as rg

try:
    import torch
except ImportError:  # PyTorch is an optional oracle (the dev extra)
    torch = None


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state and default dtypes
    (PyTorch's default is float64 here: the oracle compares in float64)."""
    rg.manual_seed(0)
    np.random.seed(0)
    rg.set_default_dtype(rg.float32)
    if torch is not None:
        torch.set_default_dtype(torch.float64)
    yield
    rg.set_default_dtype(rg.float32)


@pytest.fixture(params=[False, True], ids=["numpy", "kernel"])
def jit_enabled(request, monkeypatch):
    """Run a test on the NumPy path and (where Numba is installed) on the compiled kernels."""
    if request.param and not rg._jit.numba_available():
        pytest.skip("Numba is not installed")
    monkeypatch.setattr(rg._jit, "enabled", request.param)
    return request.param
