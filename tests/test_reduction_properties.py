"""Property tests for reductions and the softmax family over random shapes and dims."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import retrograd as rg

from oracle import assert_close, torch

SETTINGS = settings(max_examples=50, deadline=None)
SHAPES = array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4)
NONEMPTY_SHAPES = array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)
MODERATE = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False)


@st.composite
def array_and_dims(draw, shapes=SHAPES):
    """A float64 array and a non-empty set of its dims, some spelled negatively."""
    shape = draw(shapes)
    array = draw(arrays(np.float64, shape, elements=MODERATE))
    ndim = len(shape)
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    signs = draw(st.lists(st.booleans(), min_size=len(dims), max_size=len(dims)))
    return array, tuple(d - ndim if negative else d for d, negative in zip(dims, signs))


@SETTINGS
@given(array_and_dims())
def test_sum_over_dims_equals_summing_them_one_by_one(case):
    array, dims = case
    x = rg.from_numpy(array)
    together = x.sum(dims)
    one_by_one = x
    for d in sorted((d % array.ndim for d in dims), reverse=True):
        one_by_one = one_by_one.sum(d)
    assert together.shape == one_by_one.shape
    np.testing.assert_allclose(together.numpy(), one_by_one.numpy(), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(array_and_dims(), st.booleans())
def test_keepdim_only_keeps_ones_in_the_reduced_dims(case, keepdim):
    array, dims = case
    reduced = rg.from_numpy(array).sum(dims, keepdim=keepdim)
    kept = {d % array.ndim for d in dims}
    expected = [1 if i in kept else s for i, s in enumerate(array.shape) if keepdim or i not in kept]
    assert list(reduced.shape) == expected


@SETTINGS
@given(array_and_dims(NONEMPTY_SHAPES))
def test_mean_times_count_is_sum(case):
    array, dims = case
    x = rg.from_numpy(array)
    count = int(np.prod([array.shape[d] for d in dims]))
    np.testing.assert_allclose((x.mean(dims) * count).numpy(), x.sum(dims).numpy(), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(array_and_dims())
def test_gradient_of_sum_is_ones_of_the_input_shape(case):
    array, dims = case
    x = rg.from_numpy(array.copy()).requires_grad_()
    x.sum(dims).sum().backward()
    assert x.grad.shape == x.shape
    assert (x.grad.numpy() == 1.0).all()


@SETTINGS
@given(array_and_dims(NONEMPTY_SHAPES))
def test_amax_dominates_and_is_attained(case):
    array, dims = case
    x = rg.from_numpy(array)
    top = x.amax(dims, keepdim=True).numpy()
    assert (array <= top).all()
    assert ((array == top).sum(axis=tuple(d % array.ndim for d in dims)) >= 1).all()


@SETTINGS
@given(array_and_dims(NONEMPTY_SHAPES))
def test_max_values_are_at_their_indices(case):
    array, dims = case
    dim = dims[0]
    values, indices = rg.from_numpy(array).max(dim, keepdim=True)
    np.testing.assert_array_equal(np.take_along_axis(array, indices.numpy(), axis=dim), values.numpy())


@SETTINGS
@given(array_and_dims(NONEMPTY_SHAPES))
def test_softmax_slices_sum_to_one_and_match_pytorch(case):
    array, dims = case
    dim = dims[0]
    x = rg.from_numpy(array.copy()).requires_grad_()
    y = rg.softmax(x, dim)
    np.testing.assert_allclose(y.detach().numpy().sum(axis=dim), 1.0, rtol=1e-12)
    if torch is None:
        return
    seed = np.random.default_rng(0).standard_normal(array.shape)
    y.backward(rg.from_numpy(seed))
    t = torch.from_numpy(array.copy()).requires_grad_()
    t_y = torch.softmax(t, dim)
    t_y.backward(torch.from_numpy(seed))
    assert_close(y, t_y, "softmax")
    assert_close(x.grad, t.grad, "softmax gradient")


@SETTINGS
@given(array_and_dims(NONEMPTY_SHAPES))
def test_log_softmax_is_log_of_softmax(case):
    array, dims = case
    x = rg.from_numpy(array)
    np.testing.assert_allclose(
        rg.log_softmax(x, dims[0]).numpy(), np.log(rg.softmax(x, dims[0]).numpy()), rtol=1e-10, atol=1e-12
    )


@SETTINGS
@given(array_and_dims(), st.booleans())
def test_logsumexp_is_log_of_sum_of_exp(case, keepdim):
    array, dims = case
    x = rg.from_numpy(array)
    with np.errstate(divide="ignore"):  # an empty slice sums to 0: log gives -inf on both sides
        expected = np.log(np.sum(np.exp(array), axis=tuple(d % array.ndim for d in dims), keepdims=keepdim))
    np.testing.assert_allclose(rg.logsumexp(x, dims, keepdim=keepdim).numpy(), expected, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(array_and_dims(NONEMPTY_SHAPES), st.booleans())
def test_sort_orders_values_and_indices_point_at_them(case, descending):
    array, dims = case
    dim = dims[0]
    values, indices = rg.sort(rg.from_numpy(array), dim, descending=descending)
    steps = np.diff(values.numpy(), axis=dim)
    assert (steps <= 0).all() if descending else (steps >= 0).all()
    np.testing.assert_array_equal(np.take_along_axis(array, indices.numpy(), axis=dim), values.numpy())


@SETTINGS
@given(array_and_dims(), st.booleans())
def test_var_is_mean_squared_deviation_scaled(case, unbiased):
    array, dims = case
    axes = tuple(d % array.ndim for d in dims)
    count = int(np.prod([array.shape[a] for a in axes]))
    assume(count - unbiased > 0)  # no degrees of freedom: covered by the op tests
    expected = np.var(array, axis=axes, ddof=int(unbiased))
    np.testing.assert_allclose(rg.from_numpy(array).var(dims, unbiased).numpy(), expected, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(array_and_dims())
def test_cumsum_last_slice_is_the_sum(case):
    array, dims = case
    dim = dims[0]
    assume(array.shape[dim] > 0)
    running = rg.cumsum(rg.from_numpy(array), dim).numpy()
    last = np.take(running, [array.shape[dim] - 1], axis=dim).squeeze(dim)
    np.testing.assert_allclose(last, array.sum(axis=dim), rtol=1e-10, atol=1e-10)
