"""Making tensors: dtype inference, filled and range factories, the default
dtype, random sampling and generators, and BLAS thread control."""

import json

import numpy as np
import pytest
import torch

import retrograd as rg


@pytest.fixture(autouse=True)
def torch_float32_default():
    """PyTorch with its usual float32 default (the oracle module sets float64)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    yield
    torch.set_default_dtype(previous)


def same_dtype(ours, theirs) -> bool:
    return str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


# ----------------------------------------------------------------- from data

DATA_CASES = [
    1.5,
    3,
    True,
    [1.0, 2.0],
    [1, 2],
    [1, 2.5],
    [True, False],
    [True, 1],
    [[1, 2], [3, 4]],
    [],
    [[]],
    np.array([1, 2], dtype=np.int32),
    np.array([1.0], dtype=np.float64),
    np.array([1.0], dtype=np.float16),
    np.array([True]),
    np.array([1], dtype=np.uint8),
    np.float64(2.0),
    np.int32(3),
    [np.float64(1.0), 2],
    [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
]


@pytest.mark.parametrize("data", DATA_CASES, ids=repr)
def test_tensor_infers_dtype_like_pytorch(data):
    ours = rg.tensor(data)
    with np.errstate(all="ignore"):
        theirs = torch.tensor(
            np.array(data) if isinstance(data, list) and data and isinstance(data[0], np.ndarray) else data
        )
    assert same_dtype(ours, theirs), (ours.dtype, theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()


def test_tensor_from_lists_of_zero_dim_tensors():
    cases = [
        [rg.tensor(1.0, dtype=rg.float64), rg.tensor(2.0)],
        [rg.tensor(1), rg.tensor(2)],
        [[rg.tensor(1.5)], [rg.tensor(2.5)]],
    ]
    torch_cases = [
        [torch.tensor(1.0, dtype=torch.float64), torch.tensor(2.0)],
        [torch.tensor(1), torch.tensor(2)],
        [[torch.tensor(1.5)], [torch.tensor(2.5)]],
    ]
    for ours_data, theirs_data in zip(cases, torch_cases, strict=True):
        ours, theirs = rg.tensor(ours_data), torch.tensor(theirs_data)
        assert same_dtype(ours, theirs) and ours.tolist() == theirs.tolist()


def test_tensor_copies_and_accepts_dtype_and_requires_grad():
    array = np.array([1.0, 2.0])
    t = rg.tensor(array, dtype=rg.float32, requires_grad=True)
    assert t.dtype == rg.float32 and t.requires_grad and t.is_leaf
    source = rg.tensor(array)
    copied = rg.tensor(source)
    array[0] = 9
    source.add_(1)
    assert copied.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match=r"cannot make a tensor.*<U"):
        rg.tensor(["a"])


def test_as_tensor_and_from_numpy_share_memory():
    array = np.zeros(3, dtype=np.float64)
    for t in (rg.as_tensor(array), rg.from_numpy(array)):
        assert t.dtype == rg.float64
    rg.from_numpy(array).add_(1)
    assert array.tolist() == [1.0, 1.0, 1.0]
    rg.as_tensor(array)[0:1].numpy()[:] = 5
    assert array[0] == 5
    converted = rg.as_tensor(array, dtype=rg.float32)
    assert converted.dtype == rg.float32 and not np.shares_memory(converted.numpy(), array)
    t = rg.ones(2)
    assert rg.as_tensor(t) is t
    assert rg.as_tensor([1, 2]).dtype == rg.int64
    with pytest.raises(TypeError, match=r"from_numpy: expected np.ndarray \(got list\)"):
        rg.from_numpy([1.0])


# ------------------------------------------------------------------ filled


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_filled_factories(name):
    for size in ((2, 3), ((2, 3),), ([2, 3],), ((),)):
        ours, theirs = getattr(rg, name)(*size), getattr(torch, name)(*size)
        assert ours.shape == tuple(theirs.shape) and same_dtype(ours, theirs)
    t = getattr(rg, name)(2, dtype=rg.int64)
    assert t.dtype == rg.int64
    assert getattr(rg, name)(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match=rf"{name}: negative dimension in size \[2, -1\]"):
        getattr(rg, name)(2, -1)
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        getattr(rg, name)()


def test_full_infers_dtype_from_the_fill_value():
    for value in (1.5, 2, True, rg.tensor(2.5)):
        ours = rg.full((2,), value)
        theirs = torch.full((2,), value if not isinstance(value, rg.Tensor) else torch.tensor(2.5))
        assert same_dtype(ours, theirs) and ours.tolist() == theirs.tolist()
    assert rg.full((2,), 3, dtype=rg.float64).dtype == rg.float64


def test_eye():
    for args in ((3,), (2, 4), (4, 2)):
        ours, theirs = rg.eye(*args), torch.eye(*args)
        assert same_dtype(ours, theirs) and ours.tolist() == theirs.tolist()


def test_like_factories_follow_the_input():
    source = rg.ones(2, 3, dtype=rg.float64)
    for name in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
        t = getattr(rg, name)(source)
        assert t.shape == (2, 3) and t.dtype == rg.float64
    assert rg.zeros_like(source, dtype=rg.int64).dtype == rg.int64
    assert rg.ones_like(source, requires_grad=True).requires_grad
    assert rg.full_like(source, 7).tolist() == [[7.0] * 3] * 2
    ints = rg.randint_like(rg.zeros(50, dtype=rg.int64), 3)
    assert ints.dtype == rg.int64 and set(ints.tolist()) <= {0, 1, 2}
    assert rg.randint_like(source, 5, 7).dtype == rg.float64
    with pytest.raises(RuntimeError, match="floating point dtype"):
        rg.rand_like(rg.zeros(2, dtype=rg.int64))


# ------------------------------------------------------------------- ranges


@pytest.mark.parametrize(
    "args", [(5,), (2, 9), (2, 9, 3), (0, 1, 0.1), (1.5, 7.2, 0.7), (0, 10, 0.3), (-1, 1, 0.0125), (5, 0, -1)]
)
def test_arange_matches_pytorch(args):
    ours, theirs = rg.arange(*args), torch.arange(*args)
    assert same_dtype(ours, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


def test_arange_errors_and_dtype():
    assert rg.arange(3, dtype=rg.float64).tolist() == [0.0, 1.0, 2.0]
    assert rg.arange(rg.tensor(3)).tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        rg.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        rg.arange(0, 5, -1)


@pytest.mark.parametrize(
    "args", [(0, 1, 7), (0, 1, 10), (-3.5, 2.25, 11), (0, 1, 1), (0, 1, 0), (1, 10, 100), (2, 2, 4)]
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linspace_and_logspace_match_pytorch(args, dtype):
    ours, theirs = rg.linspace(*args, dtype=getattr(rg, dtype)), torch.linspace(*args, dtype=getattr(torch, dtype))
    assert same_dtype(ours, theirs)
    tol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=tol, atol=tol)
    ours, theirs = rg.logspace(*args, dtype=getattr(rg, dtype)), torch.logspace(*args, dtype=getattr(torch, dtype))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=tol * 10)


def test_linspace_default_dtype_and_errors():
    assert rg.linspace(0, 10, 5).dtype == rg.float32
    assert rg.logspace(0, 2, 3, base=2).tolist() == [1.0, 2.0, 4.0]
    with pytest.raises(RuntimeError, match="non-negative"):
        rg.linspace(0, 1, -1)


# ------------------------------------------------------------- default dtype


def test_set_default_dtype_float64_changes_every_float_factory():
    rg.set_default_dtype(rg.float64)
    assert rg.get_default_dtype() == rg.float64
    made = [
        rg.tensor(1.5),
        rg.tensor([1, 2.5]),
        rg.zeros(1),
        rg.ones(1),
        rg.empty(1),
        rg.full((1,), 2.0),
        rg.eye(2),
        rg.arange(0.5, 2),
        rg.linspace(0, 1, 3),
        rg.rand(1),
        rg.randn(1),
        rg.tensor([1, 2]) / 2,
        rg.tensor([1, 2]) * 1.5,
        rg.Tensor([1]),
        rg.normal(0.0, 1.0, (2,)),
    ]
    assert all(t.dtype == rg.float64 for t in made), [t.dtype for t in made]
    assert rg.tensor([1, 2]).dtype == rg.int64
    assert rg.tensor(np.ones(1, dtype=np.float32)).dtype == rg.float32


def test_set_default_dtype_rejects_non_floating_dtypes():
    with pytest.raises(TypeError, match=r"only floating dtypes.*int64"):
        rg.set_default_dtype(rg.int64)
    assert rg.get_default_dtype() == rg.float32


# -------------------------------------------------------------------- random


def test_random_factories_shapes_dtypes_and_ranges():
    u = rg.rand(1000)
    assert u.dtype == rg.float32 and u.numpy().min() >= 0 and u.numpy().max() < 1
    assert rg.rand(2, 3, dtype=rg.float64).dtype == rg.float64 and rg.rand((2, 3)).shape == (2, 3)
    n = rg.randn(20000, dtype=rg.float64).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    i = rg.randint(3, 7, (1000,))
    assert i.dtype == rg.int64 and set(i.tolist()) == {3, 4, 5, 6}
    assert set(rg.randint(3, (100,)).tolist()) == {0, 1, 2}
    assert set(rg.randint(3, size=(100,)).tolist()) == {0, 1, 2}
    assert rg.randint(high=2, size=(4,)).shape == (4,)
    assert rg.randint(0, 5, (3,), dtype=rg.int32).dtype == rg.int32
    p = rg.randperm(10)
    assert p.dtype == rg.int64 and sorted(p.tolist()) == list(range(10))
    assert rg.rand(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="expected low < high"):
        rg.randint(5, 5, (2,))
    with pytest.raises(RuntimeError, match="rand: expected a floating point dtype, got int64"):
        rg.rand(2, dtype=rg.int64)


def test_normal_forms():
    m = rg.normal(2.0, 0.5, (20000,)).numpy()
    assert abs(m.mean() - 2) < 0.02 and abs(m.std() - 0.5) < 0.02
    mean = rg.tensor([0.0, 100.0], dtype=rg.float64)
    out = rg.normal(mean, 1e-3)
    assert out.shape == (2,) and out.dtype == rg.float64 and abs(out[1].item() - 100) < 0.1
    out = rg.normal(0.0, rg.tensor([1.0, 2.0, 3.0]))
    assert out.shape == (3,) and out.dtype == rg.float32
    with pytest.raises(RuntimeError, match="std >= 0"):
        rg.normal(0.0, -1.0, (2,))


def test_bernoulli():
    probs = rg.tensor([0.0, 1.0, 0.5] * 2000)
    draws = rg.bernoulli(probs).numpy().reshape(-1, 3)
    assert draws.dtype == np.float32
    assert draws[:, 0].sum() == 0 and draws[:, 1].sum() == 2000 and 900 < draws[:, 2].sum() < 1100
    assert set(rg.bernoulli(rg.zeros(100), 0.5).tolist()) == {0.0, 1.0}
    with pytest.raises(RuntimeError, match=r"bernoulli: expects p to be in \[0, 1\]"):
        rg.bernoulli(rg.tensor([1.5]))


def test_multinomial_with_replacement_follows_the_probabilities():
    probs = rg.tensor([[0.0, 1.0, 3.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    samples = rg.multinomial(probs, 20000, replacement=True)
    assert samples.shape == (2, 20000) and samples.dtype == rg.int64
    first = np.bincount(samples.numpy()[0], minlength=4) / 20000
    second = np.bincount(samples.numpy()[1], minlength=4) / 20000
    np.testing.assert_allclose(first, [0, 0.25, 0.75, 0], atol=0.02)
    np.testing.assert_allclose(second, [0.25] * 4, atol=0.02)
    assert rg.multinomial(rg.tensor([0.2, 0.8]), 5, replacement=True).shape == (5,)


def test_multinomial_without_replacement():
    probs = rg.tensor([[1.0, 0.0, 1.0, 1.0]] * 500)
    samples = rg.multinomial(probs, 3).numpy()
    assert all(sorted(row) == [0, 2, 3] for row in samples.tolist())
    first_choice = np.bincount(rg.multinomial(rg.tensor([[1.0, 3.0]] * 8000), 1).numpy().ravel(), minlength=2)
    np.testing.assert_allclose(first_choice / 8000, [0.25, 0.75], atol=0.02)
    with pytest.raises(RuntimeError, match="not enough non-negative category"):
        rg.multinomial(rg.tensor([1.0, 0.0, 0.0]), 2)
    with pytest.raises(RuntimeError, match="without replacement"):
        rg.multinomial(rg.tensor([1.0, 1.0]), 3)
    with pytest.raises(RuntimeError, match="inf, nan or element < 0"):
        rg.multinomial(rg.tensor([1.0, -1.0]), 1)


def test_manual_seed_makes_every_random_op_repeat():
    def draw():
        return [
            rg.rand(3).tolist(),
            rg.randn(2).tolist(),
            rg.randint(0, 100, (3,)).tolist(),
            rg.randperm(5).tolist(),
            rg.normal(0.0, 1.0, (2,)).tolist(),
            rg.bernoulli(rg.full((4,), 0.5)).tolist(),
            rg.multinomial(rg.ones(5), 3).tolist(),
        ]

    rg.manual_seed(1234)
    first = draw()
    rg.manual_seed(1234)
    assert draw() == first
    assert rg.initial_seed() == 1234
    rg.manual_seed(4321)
    assert draw() != first


def test_generator_objects_are_independent_streams():
    g = rg.Generator().manual_seed(7)
    a = rg.rand(3, generator=g).tolist()
    rg.rand(10)  # the default generator does not disturb g
    b = rg.rand(3, generator=g).tolist()
    g2 = rg.Generator().manual_seed(7)
    assert rg.rand(3, generator=g2).tolist() == a and rg.rand(3, generator=g2).tolist() == b
    assert g.initial_seed() == 7
    assert isinstance(rg.default_generator, rg.Generator)


def test_generator_state_roundtrips_through_json():
    g = rg.Generator().manual_seed(99)
    rg.randn(5, generator=g)
    state = json.loads(json.dumps(g.get_state()))
    expected = rg.randn(4, generator=g).tolist()
    restored = rg.Generator().set_state(state)
    assert rg.randn(4, generator=restored).tolist() == expected
    rg.manual_seed(3)
    saved = json.loads(json.dumps(rg.get_rng_state()))
    expected = rg.rand(4).tolist()
    rg.set_rng_state(saved)
    assert rg.rand(4).tolist() == expected


# ------------------------------------------------------------------- threads


def test_set_and_get_num_threads():
    original = rg.get_num_threads()
    try:
        rg.set_num_threads(1)
        assert rg.get_num_threads() == 1
        rg.set_num_threads(2)
        assert rg.get_num_threads() == 2
    finally:
        rg.set_num_threads(original)
    with pytest.raises(ValueError, match="positive number of threads, got 0"):
        rg.set_num_threads(0)
