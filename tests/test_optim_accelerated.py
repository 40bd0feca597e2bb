"""The optional Numba kernels of the optimizers against their NumPy path: the
same steps must give the same bits, for every Adam/AdamW option, in float32
and float64, for small and large parameters; arrays
the kernel cannot take (non-contiguous, mixed dtypes) fall back to NumPy."""

import itertools

import numpy as np
import pytest

import retrograd as rg
from retrograd import _jit
from retrograd.optim import accelerated
from retrograd.optim.adam import adam
from retrograd.tensor import _wrap

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not _jit.enabled, reason="compiled kernels switched off (RETROGRAD_NUMBA=0)")

OPTIONS = [
    dict(zip(("amsgrad", "maximize", "weight_decay", "decoupled_weight_decay"), combo))
    for combo in itertools.product((False, True), (False, True), (0.0, 0.05), (False, True))
]
STEPS = 4


@pytest.fixture
def numpy_path(monkeypatch):
    """Run the body with the accelerator switched off."""

    def switch(on: bool) -> None:
        monkeypatch.setattr(accelerated, "enabled", on)

    return switch


def run_adam(values: np.ndarray, grads: list[np.ndarray], options: dict, betas=(0.9, 0.999)) -> list[np.ndarray]:
    """``len(grads)`` Adam steps on a copy of ``values``; the parameter and its state afterwards."""
    param = _wrap(values.copy())
    m, v, v_max = (_wrap(np.zeros_like(values)) for _ in range(3))
    step = _wrap(np.array(0.0, dtype=np.float32))
    for grad in grads:
        adam(
            [param], [_wrap(grad)], [m], [v], [v_max] if options["amsgrad"] else [], [step],
            beta1=betas[0], beta2=betas[1], lr=1e-2, eps=1e-8, **options,
        )  # fmt: skip
    return [param._data, m._data, v._data, v_max._data]


def random_case(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(STEPS)]
    return values, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_kernel_matches_numpy_bit_for_bit(numpy_path, dtype, options):
    values, grads = random_case((37, 5), dtype)
    numpy_path(False)
    expected = run_adam(values, grads, options)
    numpy_path(True)
    assert accelerated.adam_kernel() is not None
    got = run_adam(values, grads, options)
    for name, a, b in zip(("param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), got, expected):
        np.testing.assert_array_equal(a, b, err_msg=name)
        assert a.dtype == dtype


def test_large_parameter_matches_numpy(numpy_path):
    size = 100_003  # the vectorized loop's body and its remainder both run
    values, grads = random_case((size,), np.float32, seed=1)
    options = {"amsgrad": True, "maximize": False, "weight_decay": 0.01, "decoupled_weight_decay": True}
    numpy_path(False)
    expected = run_adam(values, grads, options)
    numpy_path(True)
    got = run_adam(values, grads, options)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_large_lerp_weight_and_special_values(numpy_path):
    # beta1 < 0.5 takes lerp's other rounding branch; NaN and inf must propagate alike.
    values, grads = random_case((6,), np.float32, seed=2)
    grads[1][0] = np.nan
    grads[2][1] = np.inf
    values[3] = 0.0
    options = {"amsgrad": True, "maximize": False, "weight_decay": 0.0, "decoupled_weight_decay": False}
    numpy_path(False)
    expected = run_adam(values, grads, options, betas=(0.3, 0.999))
    numpy_path(True)
    got = run_adam(values, grads, options, betas=(0.3, 0.999))
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_scalar_parameter(numpy_path):
    values, grads = random_case((), np.float64, seed=3)
    options = {"amsgrad": False, "maximize": False, "weight_decay": 0.0, "decoupled_weight_decay": False}
    numpy_path(False)
    expected = run_adam(values, grads, options)
    numpy_path(True)
    got = run_adam(values, grads, options)
    assert got[0].shape == ()
    np.testing.assert_array_equal(got[0], expected[0])


def test_fits_refuses_what_the_kernel_cannot_update():
    a = np.zeros((4, 3), np.float32)
    assert accelerated.fits(a, a.copy(), None)
    assert not accelerated.fits(a, np.zeros((3, 4), np.float32).T)  # not contiguous
    assert not accelerated.fits(a, np.zeros((4, 3), np.float64))  # mixed dtypes
    assert not accelerated.fits(np.zeros(3, np.float16), np.zeros(3, np.float16))
    assert not accelerated.fits(a, np.zeros(5, np.float32))


def test_non_contiguous_gradient_falls_back(numpy_path):
    rng = np.random.default_rng(4)
    values = rng.standard_normal((3, 4)).astype(np.float32)
    grads = [np.ascontiguousarray(rng.standard_normal((4, 3)).astype(np.float32)).T for _ in range(STEPS)]
    assert not grads[0].flags.c_contiguous
    options = {"amsgrad": False, "maximize": True, "weight_decay": 0.1, "decoupled_weight_decay": False}
    numpy_path(False)
    expected = run_adam(values, grads, options)
    numpy_path(True)
    got = run_adam(values, grads, options)
    np.testing.assert_array_equal(got[0], expected[0])


def test_adam_optimizer_trains_identically_on_both_paths(numpy_path):
    def train() -> list[np.ndarray]:
        rg.manual_seed(0)
        model = rg.nn.Linear(300, 300)
        optimizer = rg.optim.AdamW(model.parameters(), lr=1e-3)
        x = rg.tensor(np.random.default_rng(5).standard_normal((8, 300)).astype(np.float32))
        for _ in range(3):
            optimizer.zero_grad()
            (model(x) ** 2).mean().backward()
            optimizer.step()
        return [p.detach().numpy().copy() for p in model.parameters()]

    numpy_path(False)
    expected = train()
    numpy_path(True)
    for a, b in zip(train(), expected):
        np.testing.assert_array_equal(a, b)
