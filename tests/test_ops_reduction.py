"""Reductions, the softmax family, cumulative ops and sorting: gradcheck,
gradgradcheck and PyTorch comparison over dims, keepdim, size-0/size-1 and
non-contiguous inputs; ties, zeros and errors in dedicated tests."""

import math

import numpy as np
import pytest

import retrograd as rg

from oracle import Case, assert_close, check_case, compare_with_torch, parametrize_cases, torch

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle for this test")

INF = math.inf


def _with_zeros(shape, positions):
    """Random inputs for ``shape`` with zeros at ``positions`` (index tuples)."""

    def make(rng):
        a = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        for p in positions:
            a[p] = 0.0
        return [a]

    return make


def _with_nans(shape, positions):
    def make(rng):
        a = rng.uniform(-2.0, 2.0, size=shape)
        for p in positions:
            a[p] = np.nan
        return [a]

    return make


def _pair_sum(pair):
    first, second = pair
    return first + second * 2


CASES = [
    # sum, mean and their NaN-skipping forms
    Case("sum_all", lambda lib, x: x.sum()),
    Case("sum_dim1", lambda lib, x: x.sum(1), shapes=((2, 3, 4),)),
    Case("sum_dims_keepdim", lambda lib, x: lib.sum(x, (0, 2), keepdim=True), shapes=((2, 3, 4),)),
    Case("sum_negative_dim", lambda lib, x: x.sum(-1, keepdim=True)),
    Case("sum_empty_tuple_is_all", lambda lib, x: lib.sum(x, ())),
    Case("sum_size0", lambda lib, x: x.sum(0), shapes=((0, 3),)),
    Case("sum_size1", lambda lib, x: x.sum(0), shapes=((1, 4),)),
    Case("sum_0d", lambda lib, x: x.sum(0), shapes=((),)),
    Case("mean_all", lambda lib, x: x.mean()),
    Case("mean_dim", lambda lib, x: x.mean(1, keepdim=True), shapes=((2, 3, 4),)),
    Case("mean_dims", lambda lib, x: lib.mean(x, (-1, 0)), shapes=((2, 3, 4),)),
    Case("mean_size0_kept_dim", lambda lib, x: x.mean(1), shapes=((0, 3),)),
    Case("nansum", lambda lib, x: lib.nansum(x, 1), make_inputs=_with_nans((3, 4), [(0, 1), (2, 2)])),
    Case("nanmean", lambda lib, x: lib.nanmean(x, 0), make_inputs=_with_nans((3, 4), [(0, 1), (2, 1)])),
    Case("nanmean_all", lambda lib, x: x.nanmean(), make_inputs=_with_nans((3, 4), [(1, 1)])),
    # prod, including zeros (the gradient must not divide by them)
    Case("prod_all", lambda lib, x: x.prod()),
    Case("prod_dim", lambda lib, x: x.prod(1), shapes=((2, 3, 4),)),
    Case("prod_dim_keepdim", lambda lib, x: lib.prod(x, -3, keepdim=True), shapes=((2, 3, 4),)),
    Case("prod_one_zero", lambda lib, x: x.prod(1), make_inputs=_with_zeros((3, 4), [(1, 2)])),
    Case("prod_two_zeros", lambda lib, x: x.prod(1), make_inputs=_with_zeros((3, 4), [(1, 0), (1, 3)])),
    Case("prod_three_zeros", lambda lib, x: x.prod(0), make_inputs=_with_zeros((4, 2), [(0, 1), (1, 1), (3, 1)])),
    Case("prod_zeros_all", lambda lib, x: x.prod(), make_inputs=_with_zeros((3, 4), [(0, 0)])),
    Case("prod_two_zeros_all", lambda lib, x: x.prod(), make_inputs=_with_zeros((2, 3), [(0, 0), (1, 2)])),
    Case("prod_size0", lambda lib, x: x.prod(0), shapes=((0, 3),)),
    Case("prod_size1", lambda lib, x: x.prod(1), shapes=((4, 1),)),
    Case("prod_0d", lambda lib, x: x.prod(), shapes=((),)),
    # var and std
    Case("var_all", lambda lib, x: x.var()),
    Case("var_dim", lambda lib, x: x.var(1), shapes=((2, 3, 4),)),
    Case("var_dims_keepdim", lambda lib, x: lib.var(x, (0, 2), keepdim=True), shapes=((2, 3, 4),)),
    Case("var_correction0", lambda lib, x: x.var(0, correction=0)),
    Case("var_correction2", lambda lib, x: lib.var(x, -1, correction=2)),
    Case("var_unbiased_false", lambda lib, x: x.var(1, False)),
    Case("var_unbiased_only", lambda lib, x: x.var(False)),
    Case("var_size1_biased", lambda lib, x: x.var(0, correction=0), shapes=((1, 4),)),
    Case("std_all", lambda lib, x: x.std()),
    Case("std_dim", lambda lib, x: x.std(1, keepdim=True), shapes=((2, 3, 4),)),
    Case("std_dims_unbiased", lambda lib, x: lib.std(x, (0, 1), unbiased=False), shapes=((2, 3, 4),)),
    Case("var_mean", lambda lib, x: _pair_sum(lib.var_mean(x, 1))),
    Case("std_mean", lambda lib, x: _pair_sum(lib.std_mean(x, (0,), keepdim=True, correction=0))),
    # extrema
    Case("amax_all", lambda lib, x: x.amax()),
    Case("amax_dim", lambda lib, x: x.amax(1), shapes=((2, 3, 4),)),
    Case("amax_dims_keepdim", lambda lib, x: lib.amax(x, (0, 2), keepdim=True), shapes=((2, 3, 4),)),
    Case("amin_dim", lambda lib, x: lib.amin(x, -1)),
    Case("amax_size0_kept_dim", lambda lib, x: x.amax(1), shapes=((0, 3),)),
    Case("max_all", lambda lib, x: x.max()),
    Case("min_all", lambda lib, x: lib.min(x)),
    Case("max_dim", lambda lib, x: x.max(1).values, shapes=((2, 3, 4),)),
    Case("max_dim_keepdim", lambda lib, x: lib.max(x, 0, keepdim=True)[0]),
    Case("min_dim", lambda lib, x: x.min(dim=-1).values),
    Case("max_size0_kept_dim", lambda lib, x: x.max(1).values, shapes=((0, 3),)),
    Case("max_size1", lambda lib, x: x.max(0).values, shapes=((1, 4),)),
    Case("max_0d", lambda lib, x: x.max(0).values * x.max(), shapes=((),)),
    Case("median_all_odd", lambda lib, x: x.median(), shapes=((3, 5),)),
    Case("median_all_even", lambda lib, x: x.median()),
    Case("median_dim", lambda lib, x: x.median(1).values),
    Case("median_dim_keepdim", lambda lib, x: lib.median(x, 0, keepdim=True).values, shapes=((5, 2),)),
    # logsumexp and the softmaxes
    Case("logsumexp_dim", lambda lib, x: lib.logsumexp(x, 1)),
    Case("logsumexp_dims_keepdim", lambda lib, x: x.logsumexp((0, 2), keepdim=True), shapes=((2, 3, 4),)),
    Case("logsumexp_large", lambda lib, x: lib.logsumexp(x * 400 + 1000, -1)),
    Case("logsumexp_size0_reduced", lambda lib, x: lib.logsumexp(x, 0), shapes=((0, 3),)),
    Case("logsumexp_size1", lambda lib, x: lib.logsumexp(x, 1), shapes=((3, 1),)),
    Case("softmax_last", lambda lib, x: lib.softmax(x, -1)),
    Case("softmax_dim0", lambda lib, x: x.softmax(0), shapes=((3, 2, 4),)),
    Case("softmax_middle", lambda lib, x: lib.softmax(x, dim=1), shapes=((2, 3, 4),)),
    Case("softmax_large", lambda lib, x: lib.softmax(x * 300, 1)),
    Case("softmax_size0", lambda lib, x: lib.softmax(x, 1), shapes=((0, 3),)),
    Case("softmax_size1", lambda lib, x: lib.softmax(x, 1), shapes=((3, 1),)),
    Case("softmax_0d", lambda lib, x: lib.softmax(x, 0), shapes=((),)),
    Case("softmax_dtype", lambda lib, x: lib.softmax(x, 1, dtype=lib.float64)),
    Case("log_softmax_last", lambda lib, x: lib.log_softmax(x, -1)),
    Case("log_softmax_dim0", lambda lib, x: x.log_softmax(0), shapes=((3, 2, 4),)),
    Case("log_softmax_large", lambda lib, x: lib.log_softmax(x * 300, 1)),
    Case("log_softmax_size0", lambda lib, x: lib.log_softmax(x, 0), shapes=((0, 3),)),
    # cumulative ops
    Case("cumsum_dim0", lambda lib, x: x.cumsum(0)),
    Case("cumsum_last", lambda lib, x: lib.cumsum(x, -1), shapes=((2, 3, 4),)),
    Case("cumsum_size0", lambda lib, x: lib.cumsum(x, 1), shapes=((0, 3),)),
    Case("cumsum_0d", lambda lib, x: lib.cumsum(x, 0), shapes=((),)),
    Case("cumprod_dim1", lambda lib, x: x.cumprod(1)),
    Case("cumprod_dim0", lambda lib, x: lib.cumprod(x, 0), shapes=((4, 2, 3),)),
    Case("cumprod_one_zero", lambda lib, x: lib.cumprod(x, 1), make_inputs=_with_zeros((3, 5), [(1, 2)])),
    Case(
        "cumprod_zeros",
        lambda lib, x: lib.cumprod(x, 1),
        make_inputs=_with_zeros((3, 5), [(0, 0), (1, 1), (1, 3), (2, 4), (2, 2)]),
    ),
    Case("cumprod_size0", lambda lib, x: lib.cumprod(x, 0), shapes=((0, 3),)),
    # norm
    Case("norm_default", lambda lib, x: x.norm()),
    Case("norm_fro_dims", lambda lib, x: lib.norm(x, "fro", dim=(0, 2)), shapes=((2, 3, 4),)),
    Case("norm_2_dim", lambda lib, x: lib.norm(x, 2, dim=1, keepdim=True)),
    Case("norm_1", lambda lib, x: lib.norm(x, 1, dim=0)),
    Case("norm_inf", lambda lib, x: lib.norm(x, INF, dim=1)),
    Case("norm_neg_inf", lambda lib, x: lib.norm(x, -INF, dim=-1)),
    Case("norm_3", lambda lib, x: x.norm(3, 1)),
    Case("norm_1_5", lambda lib, x: x.norm(p=1.5)),
    Case("norm_0_5", lambda lib, x: lib.norm(x, 0.5, dim=(0, 1))),
    Case("norm_negative", lambda lib, x: lib.norm(x, -1, dim=1)),
    Case("norm_0", lambda lib, x: lib.norm(x, 0, dim=1)),
    Case("norm_size0", lambda lib, x: lib.norm(x, dim=0), shapes=((0, 3),)),
    Case("norm_size1", lambda lib, x: lib.norm(x, 3, dim=1), shapes=((4, 1),)),
    # sorting
    Case("sort_last", lambda lib, x: x.sort().values),
    Case("sort_dim0_descending", lambda lib, x: lib.sort(x, 0, descending=True).values, shapes=((4, 2, 3),)),
    Case("sort_size0", lambda lib, x: lib.sort(x, 0)[0], shapes=((0, 3),)),
    Case("sort_0d", lambda lib, x: lib.sort(x).values * 2, shapes=((),)),
    Case("topk_largest", lambda lib, x: x.topk(2).values),
    Case("topk_smallest", lambda lib, x: lib.topk(x, 3, dim=0, largest=False).values, shapes=((4, 2, 3),)),
    Case("topk_all", lambda lib, x: lib.topk(x, 4, 1)[0]),
    Case("topk_zero", lambda lib, x: lib.topk(x, 0)[0]),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_reduction(case, layout):
    check_case(case, layout=layout)


# ----------------------------------------------------------- ties: PyTorch only
# Finite differences are meaningless at ties; the gradient's split must match PyTorch's.

TIE_CASES = [
    Case("max_all_ties", lambda lib, x: x.max()),
    Case("min_all_ties", lambda lib, x: x.min()),
    Case("amax_dim_ties", lambda lib, x: x.amax(1)),
    Case("amin_dims_ties", lambda lib, x: lib.amin(x, (0, 1), keepdim=True)),
    Case("max_dim_ties", lambda lib, x: x.max(1).values),
    Case("min_dim_ties", lambda lib, x: x.min(0).values),
    Case("median_all_ties", lambda lib, x: x.median()),
    Case("norm_inf_ties", lambda lib, x: x.norm(INF, 1)),
    Case("norm_neg_inf_ties", lambda lib, x: x.norm(-INF)),
    Case("sort_stable_ties", lambda lib, x: lib.sort(x, dim=1, stable=True).values),
    # Which of several tied elements topk picks is unspecified in PyTorch: compare the values only.
    Case("topk_values_ties", lambda lib, x: lib.topk(x.detach(), 3, largest=False).values),
]
TIED = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.0, 2.0], [-3.0, 1.0, 3.0, 0.0]])


@needs_torch
@pytest.mark.parametrize("case", TIE_CASES, ids=str)
def test_ties_match_pytorch(case):
    compare_with_torch(case, [TIED.copy()], np.random.default_rng(0))
    compare_with_torch(case, [-TIED], np.random.default_rng(1))


@needs_torch
def test_max_without_dim_shares_the_gradient_among_ties():
    x = rg.tensor([1.0, 3.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == pytest.approx([0.0, 1 / 3, 1 / 3, 1 / 3])
    x.grad = None
    x.max(0).values.backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 0.0]  # the first maximum, as its index says


# ----------------------------------------------- non-differentiable points: PyTorch only

SUBGRADIENT_CASES = [
    Case("norm2_zero_vector", lambda lib, x: x.norm(dim=1)),
    Case("norm_3_zero_vector", lambda lib, x: x.norm(3, 1)),
    Case("norm_negative_zero_vector", lambda lib, x: x.norm(-1.5, 1)),
    Case("norm_1_5_zero_vector", lambda lib, x: x.norm(1.5, 1)),
    Case("norm_0_5_zero_vector", lambda lib, x: x.norm(0.5, 1)),
    Case("norm_1_zero_vector", lambda lib, x: x.norm(1, 1)),
    Case("std_constant_slice", lambda lib, x: x.std(1)),
]
WITH_ZERO_ROW = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])


@needs_torch
@pytest.mark.parametrize("case", SUBGRADIENT_CASES, ids=str)
def test_subgradients_match_pytorch(case):
    compare_with_torch(case, [WITH_ZERO_ROW.copy()], np.random.default_rng(0))


def test_norm_gradient_at_zero_is_zero_not_nan():
    x = rg.zeros(2, 3, dtype=rg.float64, requires_grad=True)
    (grad,) = rg.autograd.grad(x.norm(), x, create_graph=True)
    assert grad.tolist() == [[0.0] * 3] * 2
    (second,) = rg.autograd.grad(grad.sum(), x)
    assert not np.isnan(second.numpy()).any()


# ------------------------------------------------------------------ prod with zeros


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),
        ([0.0, 0.0, 3.0], [0.0, 0.0, 0.0]),
        ([2.0, 4.0, 3.0], [12.0, 6.0, 8.0]),
    ],
)
def test_prod_gradient_with_zeros(values, expected):
    x = rg.tensor(values, dtype=rg.float64, requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == expected


def test_prod_second_derivative_with_one_zero():
    # d2/dx0 dx1 of x0*x1*x2 at x1 = 0 is x2, although x0's first derivative is 0 there.
    x = rg.tensor([2.0, 0.0, 3.0], dtype=rg.float64, requires_grad=True)
    (grad,) = rg.autograd.grad(x.prod(), x, create_graph=True)
    first = rg.tensor([1.0, 0.0, 0.0], dtype=rg.float64)
    (row,) = rg.autograd.grad((grad * first).sum(), x)
    assert row.tolist() == [0.0, 3.0, 0.0]


# --------------------------------------------------------- values, dtypes, shapes


@needs_torch
@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.argmax(),
        lambda lib, x: x.argmin(1),
        lambda lib, x: lib.argmax(x, 0, keepdim=True),
        lambda lib, x: lib.argmax(x, keepdim=True),
        lambda lib, x: lib.argmin(x, -1, True),
        lambda lib, x: x.max(1).indices,
        lambda lib, x: lib.min(x, 0, keepdim=True).indices,
        lambda lib, x: x.sort(1, descending=True).indices,
        lambda lib, x: lib.sort(x, dim=0, stable=True).indices,
        lambda lib, x: lib.argsort(x, 1, descending=True),
        lambda lib, x: lib.argsort(x, dim=0),
        lambda lib, x: (x + lib.arange(4.0) / 8).topk(2, largest=False).indices,  # topk's tie order is unspecified
        lambda lib, x: x.all(),
        lambda lib, x: lib.all(x, 1),
        lambda lib, x: lib.any(x, (0, 1), keepdim=True),
        lambda lib, x: lib.any(x, ()),
        lambda lib, x: (x > 0).any(0),
        lambda lib, x: x.count_nonzero(),
        lambda lib, x: lib.count_nonzero(x, 1),
        lambda lib, x: lib.count_nonzero(x, (0, 1)),
        lambda lib, x: x.long().sum(1),
        lambda lib, x: x.long().prod(),
        lambda lib, x: (x > 0).sum(),
        lambda lib, x: x.long().cumsum(0),
        lambda lib, x: (x > 0).cumsum(1),
        lambda lib, x: x.int().cumprod(1),
        lambda lib, x: x.long().max(),
        lambda lib, x: x.long().amax(0),
        lambda lib, x: x.long().max(1).values,
        lambda lib, x: x.long().logsumexp(1),
        lambda lib, x: x.long().sort(0).values,
        lambda lib, x: lib.cumsum(x, 0, dtype=lib.int64),
        lambda lib, x: lib.softmax(x.long(), 1, dtype=lib.float64),
        lambda lib, x: lib.nansum(x.long()),
    ],
)
def test_values_and_dtypes_match_pytorch(fn):
    rg.set_default_dtype(rg.float64)  # the oracle's PyTorch runs with float64 as its default
    data = TIED.copy()
    ours = fn(rg, rg.from_numpy(data.copy()))
    theirs = fn(torch, torch.from_numpy(data.copy()))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    assert_close(ours, theirs, "value")


def test_all_any_keep_uint8():
    x = rg.tensor([[1, 0], [2, 3]], dtype=rg.uint8)
    assert rg.all(x, 1).dtype == rg.uint8 and rg.all(x, 1).tolist() == [0, 1]
    assert rg.any(x).dtype == rg.uint8
    assert rg.all(rg.zeros(0, 3)).item() is True and rg.any(rg.zeros(0, 3)).item() is False


def test_named_tuples_unpack_and_name_their_fields():
    x = rg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    result = rg.topk(x, 2)
    assert result.values.tolist() == [[5.0, 2.0], [7.0, 3.0]] and result.indices.tolist() == [[1, 2], [0, 2]]
    assert rg.sort(x, 0, descending=True).indices.tolist() == [[1, 0, 1], [0, 1, 0]]
    assert rg.median(x, 1)._fields == ("values", "indices")
    assert type(rg.min(x, 0)).__name__ == "min"


def test_zero_dimensional_inputs():
    x = rg.tensor(2.5, requires_grad=True)
    assert x.max(0).values.item() == 2.5 and x.max(-1).indices.item() == 0
    assert x.argmax().item() == 0 and rg.argmax(x, 0).item() == 0
    assert x.sort().values.item() == 2.5 and x.topk(1).values.item() == 2.5
    assert rg.softmax(x, 0).item() == 1.0 and rg.log_softmax(x, -1).item() == 0.0
    assert x.sum(0).item() == 2.5 and x.prod(0).item() == 2.5 and x.cumsum(0).item() == 2.5


@needs_torch
def test_logsumexp_and_softmax_are_stable_at_extremes():
    data = np.array([[1000.0, 1000.0, -1000.0], [-INF, 0.0, -INF], [-INF, -INF, -INF]])
    for fn in [
        lambda lib, x: lib.logsumexp(x, 1),
        lambda lib, x: lib.softmax(x, 1),
        lambda lib, x: lib.log_softmax(x, 1),
    ]:
        assert_close(fn(rg, rg.from_numpy(data.copy())), fn(torch, torch.from_numpy(data.copy())), "extremes")
    assert rg.logsumexp(rg.tensor([INF, 1.0]), 0).item() == INF


@needs_torch
def test_softmax_masked_with_minus_inf_gradient_matches_pytorch():
    data = np.array([[0.5, -INF, 1.0], [-INF, 2.0, -INF]])
    case = Case("softmax_masked", lambda lib, x: lib.softmax(x, 1))
    compare_with_torch(case, [data], np.random.default_rng(0))


@needs_torch
def test_var_and_std_argument_forms_match_pytorch():
    data = np.random.default_rng(3).standard_normal((3, 4))
    forms = [
        lambda lib, x: x.var(),
        lambda lib, x: x.var(True),
        lambda lib, x: x.var(0, False),
        lambda lib, x: x.var(0, True, True),
        lambda lib, x: x.std(dim=1, unbiased=False, keepdim=True),
        lambda lib, x: x.std(1, correction=0.5),
        lambda lib, x: lib.var(x, correction=True),
        lambda lib, x: lib.var(x, ()),
        lambda lib, x: lib.var_mean(x, 1, False)[0],
        lambda lib, x: lib.std_mean(x, dim=(0, 1), correction=2)[1],
    ]
    for form in forms:
        assert_close(form(rg, rg.from_numpy(data.copy())), form(torch, torch.from_numpy(data.copy())), "var form")


def test_var_with_too_few_elements_warns_and_gives_nan():
    with pytest.warns(UserWarning, match="degrees of freedom"):
        result = rg.ones(1, 3).var(0)
    assert np.isnan(result.numpy()).all()


def test_nanmean_of_only_nans_is_nan():
    x = rg.tensor([[np.nan, np.nan], [1.0, np.nan]])
    assert np.isnan(x.nanmean(1).tolist()[0]) and x.nanmean(1).tolist()[1] == 1.0


def test_cumsum_backward_is_a_reversed_cumsum():
    x = rg.ones(4, requires_grad=True)
    rg.cumsum(x, 0).backward(rg.tensor([1.0, 2.0, 3.0, 4.0]))
    assert x.grad.tolist() == [10.0, 9.0, 7.0, 4.0]


def test_softmax_double_backward_through_saved_output():
    x = rg.tensor([[0.3, -1.2, 2.0]], dtype=rg.float64, requires_grad=True)
    assert rg.autograd.gradgradcheck(lambda t: rg.softmax(t, 1) * t, [x])


def test_sum_to_size_still_reduces_broadcast_gradients():
    x = rg.ones(3, 1, requires_grad=True)
    (x + rg.ones(2, 3, 4)).sum().backward()
    assert x.grad.tolist() == [[8.0], [8.0], [8.0]]
    assert rg.ones(2, 3, 4).sum_to_size(3, 1).tolist() == [[8.0], [8.0], [8.0]]


# -------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("sum", lambda x: x.sum(2)),
        ("mean", lambda x: x.mean((0, -3))),
        ("prod", lambda x: x.prod(5)),
        ("var", lambda x: x.var(2)),
        ("std", lambda x: x.std(-3)),
        ("amax", lambda x: x.amax(2)),
        ("max", lambda x: x.max(2)),
        ("min", lambda x: x.min(-3)),
        ("argmax", lambda x: x.argmax(2)),
        ("logsumexp", lambda x: x.logsumexp(2)),
        ("softmax", lambda x: x.softmax(2)),
        ("log_softmax", lambda x: x.log_softmax(-3)),
        ("cumsum", lambda x: x.cumsum(2)),
        ("cumprod", lambda x: x.cumprod(2)),
        ("norm", lambda x: x.norm(dim=2)),
        ("all", lambda x: x.all(2)),
        ("count_nonzero", lambda x: x.count_nonzero(2)),
        ("sort", lambda x: x.sort(2)),
        ("argsort", lambda x: x.argsort(2)),
        ("topk", lambda x: x.topk(1, 2)),
        ("median", lambda x: x.median(2)),
    ],
)
def test_dim_out_of_range_names_the_op(name, call):
    with pytest.raises(IndexError, match=rf"^{name}: dimension out of range .*got -?\d"):
        call(rg.ones(2, 3))


def test_repeated_dim_is_an_error():
    with pytest.raises(RuntimeError, match=r"amax: dim .* multiple times"):
        rg.ones(2, 3).amax((0, 0))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: rg.zeros(0, 3).max(), RuntimeError, r"max\(\): Expected reduction dim to be specified"),
        (lambda: rg.zeros(0, 3).max(0), IndexError, r"max\(\): Expected reduction dim 0 to have non-zero size"),
        (lambda: rg.zeros(0, 3).amin(), RuntimeError, r"amin\(\): Expected reduction dim"),
        (lambda: rg.zeros(0, 3).amax(0), IndexError, r"amax\(\): Expected reduction dim 0"),
        (lambda: rg.zeros(0, 3).argmax(), IndexError, r"argmax\(\): Expected reduction dim"),
        (lambda: rg.zeros(3, 0).argmin(1), IndexError, r"argmin\(\): Expected reduction dim 1"),
        (lambda: rg.zeros(0, 3).median(0), IndexError, r"median\(\): Expected reduction dim 0"),
        (lambda: rg.zeros(0, 3).norm(INF, dim=0), RuntimeError, r"norm\(\): cannot compute the inf norm"),
        (lambda: rg.ones(2, 3).topk(4), RuntimeError, r"topk\(\): selected index k out of range \(k=4"),
        (lambda: rg.ones(2, 3).topk(-1), RuntimeError, r"topk\(\): selected index k out of range"),
        (lambda: rg.ones(3, dtype=rg.bool).topk(1), RuntimeError, r"topk\(\): bool"),
        (lambda: rg.tensor([1, 2]).var(), RuntimeError, r"var\(\): std and var only support floating point"),
        (lambda: rg.tensor([1, 2]).std(), RuntimeError, r"std\(\): .*got int64"),
        (lambda: rg.ones(3).var(0, unbiased=True, correction=0), TypeError, r"var\(\): pass either"),
        (lambda: rg.tensor([1, 2]).mean(), RuntimeError, r"mean\(\): could not infer output dtype"),
        (lambda: rg.tensor([1, 2]).nanmean(), RuntimeError, r"nanmean\(\): expected input to have floating"),
        (lambda: rg.tensor([1, 2]).softmax(0), NotImplementedError, r"softmax\(\): expected a floating point"),
        (lambda: rg.tensor([1, 2]).log_softmax(0), NotImplementedError, r"log_softmax\(\): .*int64"),
        (lambda: rg.tensor([1, 2]).norm(), RuntimeError, r"norm\(\): expected a floating point input, got int64"),
        (lambda: rg.ones(2, 2).norm("nuc"), NotImplementedError, r"nuclear norm"),
        (lambda: rg.ones(2, 2).norm("abc"), RuntimeError, r"norm\(\): Order abc not supported"),
        (lambda: rg.ones(2, 2).prod((0, 1)), TypeError, r"prod\(\): dim must be an int"),
    ],
)
def test_bad_input_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


@needs_torch
def test_max_with_a_tensor_is_the_elementwise_maximum():
    a, b = np.array([1.0, -2.0, 3.0]), np.array([0.0, 5.0, 3.5])
    assert_close(rg.max(rg.from_numpy(a), rg.from_numpy(b)), torch.max(torch.from_numpy(a), torch.from_numpy(b)), "max")
    assert_close(rg.min(rg.from_numpy(a), rg.from_numpy(b)), torch.min(torch.from_numpy(a), torch.from_numpy(b)), "min")


def test_every_op_has_its_method_form():
    x = rg.ones(2, 3)
    for name in ["prod", "var", "std", "amax", "amin", "max", "min", "argmax", "argmin", "logsumexp", "softmax",
                 "log_softmax", "cumsum", "cumprod", "norm", "all", "any", "count_nonzero", "topk", "sort",
                 "argsort", "median", "nansum", "nanmean"]:  # fmt: skip
        assert callable(getattr(x, name)), name
