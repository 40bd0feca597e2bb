import numpy as np
import pytest

import retrograd as rg


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state and the default dtype."""
    rg.manual_seed(0)
    np.random.seed(0)
    rg.set_default_dtype(rg.float32)
    yield
    rg.set_default_dtype(rg.float32)
