"""Linear algebra ops: gradcheck, gradgradcheck and PyTorch comparison for every
matmul shape combination, mm/bmm/mv/dot/outer, addmm/baddbmm, einsum,
tensordot, linear and diagonals; then dtypes, argument forms and error messages."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops.linalg import linear

from oracle import Case, assert_close, check_case, parametrize_cases, torch

# (shape of a, shape of b) for a @ b: every case of PyTorch's matmul.
MATMUL_SHAPES = [
    ((3,), (3,)),  # dot
    ((3, 4), (4, 5)),  # matrix product
    ((4,), (4, 5)),  # vector @ matrix: the vector's dimension is removed
    ((3, 4), (4,)),  # matrix @ vector
    ((2, 3, 4), (4, 5)),  # batch @ matrix (one flattened GEMM)
    ((3, 4), (2, 4, 5)),  # matrix @ batch
    ((2, 3, 4), (2, 4, 5)),  # batch @ batch
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dimensions
    ((1, 3, 4), (2, 4, 5)),
    ((2, 2, 3, 4), (2, 1, 4, 5)),
    ((4,), (2, 4, 5)),  # vector @ batch
    ((2, 3, 4), (4,)),  # batch @ vector
    ((2, 1, 3, 4), (4,)),
    ((0, 3), (3, 4)),  # size-0 rows
    ((3, 0), (0, 4)),  # size-0 contraction: zeros
    ((0,), (0,)),
    ((2, 0, 3), (3, 4)),
    ((0, 3, 4), (4, 5)),
    ((2, 3, 0), (0, 4)),
    ((2, 3, 0), (2, 0, 4)),
    ((2, 3, 4), (4, 0)),
    ((1, 1), (1, 1)),  # size-1 everywhere
    ((1, 4), (4, 1)),
    ((1,), (1, 5)),
    ((3, 1), (1,)),
]


def _name(shapes) -> str:
    return "x".join(str(list(s)) for s in shapes)


CASES = [
    *[Case(f"matmul{_name(s)}", lambda lib, a, b: lib.matmul(a, b), shapes=s) for s in MATMUL_SHAPES],
    Case("matmul_operator", lambda lib, a, b: a @ b, shapes=((2, 3, 4), (4, 2))),
    Case("rmatmul", lambda lib, a, b: b.__rmatmul__(a), shapes=((3, 4), (4, 2))),
    Case("matmul_method", lambda lib, a, b: a.matmul(b), shapes=((4,), (4, 3))),
    Case("matmul_same_input", lambda lib, a: a @ a, shapes=((3, 3),)),
    Case(
        "matmul_transposed_inputs",
        lambda lib, a, b: a @ b,
        shapes=((3, 4), (2, 4, 5)),
        make_inputs=lambda rng: [rng.uniform(-2, 2, (4, 3)).T, rng.uniform(-2, 2, (2, 5, 4)).transpose(0, 2, 1)],
    ),
    Case("matmul_chain", lambda lib, a, b, c: (a @ b) @ c, shapes=((2, 3), (3, 4), (4, 2))),
    Case("mm", lambda lib, a, b: lib.mm(a, b), shapes=((3, 4), (4, 5))),
    Case("mm_size0", lambda lib, a, b: a.mm(b), shapes=((0, 4), (4, 5))),
    Case("bmm", lambda lib, a, b: lib.bmm(a, b), shapes=((2, 3, 4), (2, 4, 5))),
    Case("bmm_size0_batch", lambda lib, a, b: a.bmm(b), shapes=((0, 3, 4), (0, 4, 5))),
    Case("bmm_size1", lambda lib, a, b: lib.bmm(a, b), shapes=((1, 1, 4), (1, 4, 1))),
    Case("mv", lambda lib, a, b: lib.mv(a, b), shapes=((3, 4), (4,))),
    Case("mv_method", lambda lib, a, b: a.mv(b), shapes=((1, 4), (4,))),
    Case("dot", lambda lib, a, b: lib.dot(a, b), shapes=((5,), (5,))),
    Case("dot_method", lambda lib, a, b: a.dot(b), shapes=((1,), (1,))),
    Case("vdot", lambda lib, a, b: lib.vdot(a, b), shapes=((4,), (4,))),
    Case("outer", lambda lib, a, b: lib.outer(a, b), shapes=((3,), (4,))),
    Case("outer_size0", lambda lib, a, b: a.outer(b), shapes=((0,), (2,))),
    Case("ger", lambda lib, a, b: lib.ger(a, b), shapes=((2,), (3,))),
    Case("addmm", lambda lib, c, a, b: lib.addmm(c, a, b), shapes=((3, 5), (3, 4), (4, 5))),
    Case(
        "addmm_beta_alpha",
        lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=-2.0),
        shapes=((3, 5), (3, 4), (4, 5)),
    ),
    Case("addmm_row_bias", lambda lib, c, a, b: lib.addmm(c, a, b, alpha=3), shapes=((5,), (3, 4), (4, 5))),
    Case("addmm_column_bias", lambda lib, c, a, b: c.addmm(a, b, beta=2), shapes=((3, 1), (3, 4), (4, 5))),
    Case("addmm_scalar_input", lambda lib, c, a, b: lib.addmm(c, a, b, beta=-1), shapes=((), (3, 4), (4, 5))),
    Case("addmm_beta0", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0), shapes=((3, 5), (3, 4), (4, 5))),
    Case("addmm_size0", lambda lib, c, a, b: lib.addmm(c, a, b), shapes=((3, 5), (3, 0), (0, 5))),
    Case("baddbmm", lambda lib, c, a, b: lib.baddbmm(c, a, b), shapes=((2, 3, 5), (2, 3, 4), (2, 4, 5))),
    Case(
        "baddbmm_broadcast_beta_alpha",
        lambda lib, c, a, b: c.baddbmm(a, b, beta=0.25, alpha=1.5),
        shapes=((3, 5), (2, 3, 4), (2, 4, 5)),
    ),
    Case("trace", lambda lib, a: lib.trace(a), shapes=((4, 4),)),
    Case("trace_rectangular", lambda lib, a: a.trace(), shapes=((2, 3),)),
    Case("diagonal", lambda lib, a: lib.diagonal(a), shapes=((3, 4),)),
    Case("diagonal_offset_dims", lambda lib, a: a.diagonal(1, 2, 0), shapes=((3, 2, 4),)),
    Case("diagonal_negative_offset", lambda lib, a: lib.diagonal(a, -1, -1, 1), shapes=((2, 3, 4),)),
    Case("diagonal_offset_past_end", lambda lib, a: lib.diagonal(a, 5), shapes=((3, 3),)),
    Case("diag_vector", lambda lib, a: lib.diag(a), shapes=((3,),)),
    Case("diag_vector_offset", lambda lib, a: lib.diag(a, -2), shapes=((3,),)),
    Case("diag_matrix", lambda lib, a: a.diag(1), shapes=((3, 4),)),
    Case("diag_embed", lambda lib, a: lib.diag_embed(a), shapes=((2, 3),)),
    Case("diag_embed_offset_dims", lambda lib, a: a.diag_embed(1, 0, 2), shapes=((2, 3),)),
]

# Equations (with operand shapes) for einsum: each operand's gradient is itself an einsum.
EINSUM_EQUATIONS = [
    ("ij,jk->ik", (3, 4), (4, 5)),
    ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    ("i,i->", (4,), (4,)),
    ("ij->ji", (3, 4)),
    ("ij->", (3, 4)),
    ("ij->j", (3, 4)),
    ("ii->i", (3, 3)),
    ("ii->", (3, 3)),
    ("iij->ji", (3, 3, 2)),
    ("ii,i->i", (3, 3), (3,)),
    ("bhqd,bhkd->bhqk", (2, 2, 2, 3), (2, 2, 3, 3)),
    ("ij,jk", (3, 4), (4, 5)),  # implicit output: letters used once, sorted
    ("ba", (2, 3)),
    ("i,j->ij", (3,), (4,)),
    ("ij,ij->ij", (3, 4), (3, 4)),
    ("ij,ij->", (3, 4), (3, 4)),
    ("bi,bi->b", (5, 3), (5, 3)),
    ("ij,kj->ik", (3, 4), (5, 4)),
    ("ij,j->i", (3, 4), (4,)),
    ("ijk,jl->kli", (2, 3, 4), (3, 5)),
    ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    ("ab,bc,cd,de->ae", (2, 3), (3, 2), (2, 1), (1, 2)),
    ("i,j,k->ijk", (2,), (3,), (2,)),
    ("ij,k->i", (3, 4), (2,)),  # j and k summed away: the gradients expand back
    ("...ij,...jk->...ik", (2, 1, 2, 3), (3, 3, 2)),  # broadcast ellipsis
    ("...ij->...ji", (2, 3, 4)),
    ("i...->...", (3, 2, 2)),
    ("...ij->ij", (5, 3, 4)),
    ("b...,b...->...", (2, 3), (2, 3)),
    ("ij,ij->ij", (1, 4), (3, 4)),  # a size-1 dimension broadcasts
    ("ij,jk->ik", (3, 1), (4, 5)),  # ... also in a contracted dimension
    ("ij,jk->ik", (0, 4), (4, 5)),
    ("ij,jk->ik", (3, 0), (0, 5)),
    (",i->i", (), (3,)),
    ("->", ()),
]


def _einsum_case(equation: str, *shapes, noncontiguous: bool) -> Case:
    return Case(
        f"einsum[{equation}]{_name(shapes)}",
        lambda lib, *xs: lib.einsum(equation, *xs),
        shapes=shapes,
        noncontiguous=noncontiguous,
    )


# Every equation runs through the same contraction code: the first ones also in a non-contiguous layout.
EINSUM_CASES = [
    _einsum_case(equation, *shapes, noncontiguous=position < 12)
    for position, (equation, *shapes) in enumerate(EINSUM_EQUATIONS)
]

TENSORDOT_CASES = [
    Case("tensordot_default", lambda lib, a, b: lib.tensordot(a, b), shapes=((2, 3, 2), (3, 2, 2))),
    Case("tensordot_1", lambda lib, a, b: lib.tensordot(a, b, dims=1), shapes=((2, 3), (3, 4, 2))),
    Case("tensordot_0", lambda lib, a, b: lib.tensordot(a, b, dims=0), shapes=((2, 3), (4,))),
    Case(
        "tensordot_lists",
        lambda lib, a, b: lib.tensordot(a, b, dims=([1, 0], [0, 2])),
        shapes=((3, 2, 4), (2, 5, 3)),
    ),
    Case("tensordot_negative", lambda lib, a, b: lib.tensordot(a, b, dims=([-1], [0])), shapes=((2, 3), (3, 2))),
]


def _linear(lib, *args):
    return (linear if lib is rg else torch.nn.functional.linear)(*args)


LINEAR_CASES = [
    Case("linear_1d", _linear, shapes=((4,), (3, 4))),
    Case("linear_1d_bias", _linear, shapes=((4,), (3, 4), (3,))),
    Case("linear_2d", _linear, shapes=((5, 4), (3, 4))),
    Case("linear_2d_bias", _linear, shapes=((5, 4), (3, 4), (3,))),
    Case("linear_3d", _linear, shapes=((2, 5, 4), (3, 4))),
    Case("linear_3d_bias", _linear, shapes=((2, 5, 4), (3, 4), (3,))),
    Case("linear_4d_bias", _linear, shapes=((2, 1, 2, 4), (3, 4), (3,))),
    Case("linear_size0_rows", _linear, shapes=((0, 4), (3, 4), (3,))),
    Case("linear_size0_features", _linear, shapes=((2, 0), (3, 0), (3,))),
    Case("linear_3d_size0_features", _linear, shapes=((2, 3, 0), (3, 0), (3,))),
    Case("linear_3d_size0_outputs", _linear, shapes=((2, 3, 4), (0, 4), (0,))),
    Case("linear_size1", _linear, shapes=((1, 1), (1, 1), (1,))),
    Case("linear_scalar_bias", _linear, shapes=((2, 4), (3, 4), ())),
    Case("linear_column_bias", _linear, shapes=((2, 4), (3, 4), (2, 1))),
    Case(
        "linear_transposed_inputs",
        _linear,
        shapes=((5, 4), (3, 4), (3,)),
        make_inputs=lambda rng: [rng.uniform(-2, 2, (4, 5)).T, rng.uniform(-2, 2, (4, 3)).T, rng.uniform(-2, 2, 3)],
    ),
    Case("linear_vector_weight", _linear, shapes=((2, 4), (4,))),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_linalg(case, layout):
    check_case(case, layout=layout)


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(EINSUM_CASES))
def test_einsum(case, layout):
    check_case(case, layout=layout)


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(TENSORDOT_CASES))
def test_tensordot(case, layout):
    check_case(case, layout=layout)


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(LINEAR_CASES))
def test_linear(case, layout):
    check_case(case, layout=layout)


# ----------------------------------------------------------------- behaviour


def test_matmul_keeps_float32_and_gradients_keep_dtype():
    a = rg.randn(2, 3, 4, requires_grad=True)
    b = rg.randn(4, 5, requires_grad=True)
    y = a @ b
    assert y.dtype == rg.float32 and y.shape == (2, 3, 5)
    y.sum().backward()
    assert a.grad.dtype == rg.float32 and b.grad.dtype == rg.float32
    expected = a.detach().numpy().reshape(-1, 4).sum(0)[:, None] * np.ones((1, 5))
    np.testing.assert_allclose(b.grad.numpy(), expected, rtol=1e-5)


def test_integer_matmul_and_einsum():
    a = rg.arange(6).reshape(2, 3)
    b = rg.arange(12).reshape(3, 4)
    assert (a @ b).dtype == rg.int64
    assert (a @ b).tolist() == (np.arange(6).reshape(2, 3) @ np.arange(12).reshape(3, 4)).tolist()
    assert rg.einsum("ij,jk->ik", a, b).tolist() == (a @ b).tolist()
    assert rg.dot(rg.arange(3), rg.arange(3)).item() == 5
    assert rg.trace(rg.ones(3, 3, dtype=rg.int32)).dtype == rg.int64


def test_numpy_array_on_the_left_of_matmul():
    x = rg.ones(3, 2, requires_grad=True)
    y = np.ones((4, 3)) @ x.double()
    assert isinstance(y, rg.Tensor) and y.shape == (4, 2)
    y.sum().backward()
    assert x.grad.tolist() == [[4.0, 4.0]] * 3


def test_linear_is_one_node():
    x = rg.randn(4, 6, 5, requires_grad=True)
    w = rg.randn(3, 5, requires_grad=True)
    b = rg.randn(3, requires_grad=True)
    y = linear(x, w, b)
    assert y.grad_fn.name().startswith("LinearBackward")
    assert all(edge[0] is t for edge, t in zip(y.grad_fn.next_edges, (x, w, b), strict=True))
    assert y.dtype == rg.float32
    expected = x.detach().numpy() @ w.detach().numpy().T + b.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")
def test_linear_gradient_penalty_matches_pytorch():
    rng = np.random.default_rng(0)
    x_array, w_array, b_array = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    results = []
    for lib, fn in ((rg, linear), (torch, torch.nn.functional.linear)):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x_array, w_array, b_array))
        (grad_x,) = lib.autograd.grad((fn(x, w, b) ** 3).sum(), x, create_graph=True)
        (grad_x**2).sum().backward()
        results.append((w.grad, b.grad))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs, "gradient penalty through linear")


def test_einsum_argument_forms():
    a, b = rg.randn(2, 3), rg.randn(3, 4)
    expected = (a @ b).numpy()
    for result in (
        rg.einsum("ij,jk->ik", a, b),
        rg.einsum("ij,jk", [a, b]),
        rg.einsum(" ij , jk -> ik ", a, b),
        rg.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        rg.einsum(a, [0, 1], b, [1, 2]),
    ):
        np.testing.assert_allclose(result.numpy(), expected, rtol=1e-5, atol=1e-6)
    batch = rg.randn(5, 2, 3)
    y = rg.einsum(batch, [..., 0, 1], b, [1, 2], [..., 0, 2])
    np.testing.assert_allclose(y.numpy(), (batch @ b).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")
def test_random_einsum_equations_match_pytorch():
    """Random equations with repeated, summed-away and broadcast (size-1) subscripts."""
    rng = np.random.default_rng(0)
    for _ in range(60):
        sizes = dict(zip("abcd", rng.integers(1, 4, size=4).tolist()))
        terms = ["".join(rng.choice(list("abcd"), size=rng.integers(0, 4))) for _ in range(rng.integers(1, 4))]
        used = sorted(set("".join(terms)))
        output = "".join(rng.permutation([c for c in used if rng.random() < 0.5]))
        equation = ",".join(terms) + "->" + output
        arrays = []
        for term in terms:
            broadcast = {c: 1 if rng.random() < 0.15 else sizes[c] for c in set(term)}
            arrays.append(rng.standard_normal([broadcast[c] for c in term]))
        ours = [rg.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        y, expected = rg.einsum(equation, *ours), torch.einsum(equation, *theirs)
        assert_close(y, expected, f"einsum {equation}: forward")
        seed = rng.standard_normal(expected.shape)
        y.backward(rg.tensor(seed))
        expected.backward(torch.tensor(seed))
        for k, (o, t) in enumerate(zip(ours, theirs)):
            assert_close(o.grad, t.grad, f"einsum {equation}: gradient of operand {k}")


def test_einsum_implicit_output_puts_uppercase_first_and_ellipsis_first():
    x = rg.randn(2, 3, 4)
    assert rg.einsum("i...j", x).shape == (3, 2, 4)
    assert rg.einsum("bA", rg.randn(2, 3)).shape == (3, 2)


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")
def test_einsum_triple_second_derivative_matches_pytorch():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((2, 3), (3, 3), (3, 2))]
    ours = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    for lib, xs in ((rg, ours), (torch, theirs)):
        y = lib.einsum("ij,jj,jk->ik", *xs)
        grads = lib.autograd.grad((y * y).sum(), xs, create_graph=True)
        sum(g.sum() for g in grads).backward()
    for o, t in zip(ours, theirs):
        assert_close(o.grad, t.grad, "einsum second derivative")


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda: rg.ones(2, 3) @ rg.ones(4, 5), r"matmul: mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
        (lambda: rg.ones(3) @ rg.ones(4), r"matmul: .*cannot be multiplied \(3 and 4\)"),
        (lambda: rg.ones(2, 3) @ rg.ones(4), r"matmul: .*cannot be multiplied \(2x3 and 4\)"),
        (lambda: rg.ones(2, 2, 3) @ rg.ones(2, 4, 5), r"\(2x2x3 and 2x4x5\)"),
        (lambda: rg.ones(2, 2, 3) @ rg.ones(3, 3, 5), r"matmul: the batch dimensions \[2\] and \[3\]"),
        (lambda: rg.tensor(1.0) @ rg.ones(2), r"at least 1D, but they are 0D and 1D"),
        (lambda: rg.ones(2) @ rg.tensor(1.0), r"at least 1D, but they are 1D and 0D"),
        (
            lambda: rg.ones(2, 3) @ rg.ones(3, 2, dtype=rg.float64),
            r"expected m1 and m2 to have the same dtype, but got: float != double",
        ),
        (lambda: rg.ones(2, 3) @ rg.ones(3, 2, dtype=rg.int64), r"float != long int"),
        (lambda: rg.mm(rg.ones(3), rg.ones(3, 2)), r"mm: self must be a matrix, got 1-D"),
        (lambda: rg.mm(rg.ones(2, 3), rg.ones(1, 3, 2)), r"mm: mat2 must be a matrix, got 3-D"),
        (lambda: rg.mm(rg.ones(2, 3), rg.ones(4, 2)), r"mm: mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x2\)"),
        (lambda: rg.bmm(rg.ones(2, 3), rg.ones(3, 2)), r"bmm: batch1 must be a 3D tensor"),
        (lambda: rg.bmm(rg.ones(2, 2, 3), rg.ones(3, 3, 2)), r"bmm: .*\(2x2x3 and 3x3x2\)"),
        (lambda: rg.bmm(rg.ones(1, 2, 3), rg.ones(2, 3, 2)), r"bmm: .*\(1x2x3 and 2x3x2\)"),
        (lambda: rg.dot(rg.ones(2, 3), rg.ones(2, 3)), r"dot: 1D tensors expected, but got 2D and 2D"),
        (lambda: rg.dot(rg.ones(2), rg.ones(3)), r"dot: inconsistent tensor size, expected tensor \[2\] and src \[3\]"),
        (lambda: rg.dot(rg.ones(2), rg.ones(2, dtype=rg.float64)), r"found Float and Double"),
        (lambda: rg.mv(rg.ones(2, 3), rg.ones(4)), r"mv: size mismatch, got mat \(2x3\), vec \(4\)"),
        (lambda: rg.mv(rg.ones(3), rg.ones(3)), r"mv: input must be a matrix"),
        (lambda: rg.outer(rg.ones(2, 3), rg.ones(3)), r"outer: Expected 1-D argument self, but got 2-D"),
        (
            lambda: rg.addmm(rg.ones(4), rg.ones(2, 3), rg.ones(3, 3)),
            r"addmm: .*\[4\] cannot be broadcast to .*\[2, 3\]",
        ),
        (lambda: rg.addmm(rg.ones(3), rg.ones(3), rg.ones(3, 3)), r"addmm: mat1 must be a matrix"),
        (lambda: rg.addmm(rg.ones(2, 2), rg.ones(2, 3), rg.ones(4, 2)), r"addmm: .*\(2x3 and 4x2\)"),
        (lambda: rg.addmm(rg.ones(2, 2, dtype=rg.float64), rg.ones(2, 3), rg.ones(3, 2)), r"addmm: .*same dtype"),
        (lambda: rg.baddbmm(rg.ones(3), rg.ones(2, 2, 3), rg.ones(3, 3, 3)), r"baddbmm: .*same batch size"),
        (
            lambda: linear(rg.ones(2, 3), rg.ones(4, 5)),
            r"linear: mat1 and mat2 shapes cannot be multiplied \(2x3 and 5x4\)",
        ),
        (lambda: linear(rg.ones(2, 2, 3), rg.ones(4, 5)), r"\(4x3 and 5x4\)"),
        (lambda: linear(rg.tensor(1.0), rg.ones(4, 1)), r"linear: .*0D and 2D"),
        (
            lambda: linear(rg.ones(2, 3), rg.ones(4, 3), rg.ones(5)),
            r"linear: .*\[5\] cannot be broadcast to .*\[2, 4\]",
        ),
        (lambda: linear(rg.ones(2, 3), rg.ones(4, 3, dtype=rg.float64)), r"linear: .*float != double"),
        (
            lambda: linear(rg.ones(2, 3), rg.ones(4, 3), rg.ones(4, dtype=rg.float64)),
            r"linear: bias must have the same dtype",
        ),
        (lambda: linear(rg.ones(3), rg.ones(2, 4, 3)), r"linear: weight must be a 2-D matrix"),
        (
            lambda: rg.einsum("ij,jk->ik", rg.ones(2, 3), rg.ones(4, 4)),
            r"subscript j has size 4 for operand 1 which does not broadcast with previously seen size 3",
        ),
        (
            lambda: rg.einsum("ii->i", rg.ones(2, 3)),
            r"subscript i is repeated for operand 0 but the sizes don't match, 3 != 2",
        ),
        (lambda: rg.einsum("ij,jk->ik", rg.ones(2, 3)), r"fewer operands were provided"),
        (lambda: rg.einsum("i->i", rg.ones(2), rg.ones(2)), r"more operands were provided"),
        (
            lambda: rg.einsum("ijk->i", rg.ones(2, 3)),
            r"number of subscripts in the equation \(3\) does not match the number of dimensions \(2\) for operand 0",
        ),
        (lambda: rg.einsum("ij->ik", rg.ones(2, 3)), r"output subscript k does not appear"),
        (lambda: rg.einsum("ij->ii", rg.ones(2, 3)), r"output subscript i appears more than once"),
        (lambda: rg.einsum("i1->i", rg.ones(2, 3)), r"invalid subscript '1'"),
        (lambda: rg.einsum("..i->i", rg.ones(2)), r"found '\.'"),
        (lambda: rg.einsum("ij,jk", rg.ones(2, 3), rg.ones(3, 4, dtype=rg.float64)), r"einsum\(\): .*same dtype"),
        (
            lambda: rg.tensordot(rg.ones(2, 3, 4), rg.ones(4, 4, 5)),
            r"contracted dimensions need to match, but first has size 3 in dim -2 and second has size 4 in dim 0",
        ),
        (lambda: rg.tensordot(rg.ones(2, 3), rg.ones(3, 2), dims=-1), r"dims >= 0"),
        (lambda: rg.tensordot(rg.ones(2, 3), rg.ones(3, 2), dims=3), r"dims < ndim_a or ndim_b"),
        (lambda: rg.tensordot(rg.ones(2, 3), rg.ones(3, 2), dims=([0, 1], [0])), r"same length"),
        (lambda: rg.tensordot(rg.ones(2, 2), rg.ones(2, 2), dims=([0, 0], [0, 1])), r"more than once"),
        (lambda: rg.diagonal(rg.ones(3, 3), 0, 1, 1), r"diagonal dimensions cannot be identical 1, 1"),
        (lambda: rg.diag(rg.ones(2, 3, 3)), r"diag\(\): Supports 1D or 2D tensors. Got 3D"),
        (lambda: rg.trace(rg.ones(3)), r"trace: expected a matrix, but got tensor with dim 1"),
    ],
)
def test_error_messages(fn, message):
    with pytest.raises(RuntimeError, match=message):
        fn()


def test_einsum_sublist_out_of_range_is_a_value_error_as_in_pytorch():
    with pytest.raises(ValueError, match=r"not within the valid range \[0, 52\)"):
        rg.einsum(rg.ones(2, 3), [0, 52])


def test_out_of_range_dims_raise_index_error():
    with pytest.raises(IndexError, match="diagonal"):
        rg.diagonal(rg.ones(3), 0, 0, 1)
    with pytest.raises(IndexError, match="tensordot"):
        rg.tensordot(rg.ones(2, 3), rg.ones(3, 2), dims=([2], [0]))


def test_bool_matmul_is_not_implemented():
    with pytest.raises(NotImplementedError, match="matmul"):
        rg.ones(2, 2, dtype=rg.bool) @ rg.ones(2, 2, dtype=rg.bool)
