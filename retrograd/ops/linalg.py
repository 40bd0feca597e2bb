"""Linear algebra: matmul and its 2-D/batched/vector forms, addmm, linear,
einsum and tensordot, diagonals and trace.

Every matrix product goes to BLAS through ``np.matmul`` on whole arrays; a
batch of rows multiplied by one matrix is flattened to a single GEMM. The
backward of a product is again a product (``grad @ b^T``, ``a^T @ grad``),
written with these ops so second derivatives work; the engine sums gradients
over broadcast batch dimensions.
"""

from __future__ import annotations

import functools
import math
import numbers
import string

import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import GradMode
from .common import Tensor, _wrap, as_operand, normalize_dim

# PyTorch's spelling of dtypes in its error messages: C type names for matrix
# products ("float != double"), ScalarType names for dot ("Float and Double").
_C_TYPE_NAMES = {
    "float16": "c10::Half",
    "float32": "float",
    "float64": "double",
    "int8": "signed char",
    "uint8": "unsigned char",
    "int16": "short int",
    "int32": "int",
    "int64": "long int",
    "bool": "bool",
}
_SCALAR_TYPE_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "int8": "Char",
    "uint8": "Byte",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "bool": "Bool",
}


def _dims(shape: tuple) -> str:
    """A shape as PyTorch prints it in matmul errors: ``2x3``."""
    return "x".join(str(n) for n in shape)


def _check_same_dtype(op: str, a: Tensor, b: Tensor) -> None:
    da, db = a._data.dtype, b._data.dtype
    if da != db:
        raise RuntimeError(
            f"{op}: expected m1 and m2 to have the same dtype, but got: "
            f"{_C_TYPE_NAMES.get(da.name, da.name)} != {_C_TYPE_NAMES.get(db.name, db.name)}"
        )
    if da.kind == "b":
        raise NotImplementedError(f"{op}: not implemented for bool tensors")


def _check_ndim(op: str, name: str, t: Tensor, ndim: int, what: str) -> None:
    if t._data.ndim != ndim:
        raise RuntimeError(f"{op}: {name} must be a {what}, got {t._data.ndim}-D tensor of shape {list(t.shape)}")


def _check_expandable(op: str, t: Tensor, shape: tuple) -> None:
    """``t`` must broadcast to ``shape`` without enlarging it (the added term of addmm, a bias)."""
    own = t._data.shape
    if own == shape:
        return
    fits = len(own) <= len(shape) and all(n in (1, m) for n, m in zip(reversed(own), reversed(shape)))
    if not fits:
        raise RuntimeError(
            f"{op}: the tensor of shape {list(own)} cannot be broadcast to the result's shape {list(shape)}"
        )


# ------------------------------------------------------------ matrix products


def _as_rows(x):
    """An array or Tensor as a matrix of rows: its leading dimensions flattened
    (counted explicitly: ``reshape(-1, n)`` is ambiguous when a size is 0)."""
    shape = x.shape
    return x.reshape(math.prod(shape[:-1]), shape[-1])


class SwapLastTwo(Op):
    """The transpose of the last two dimensions (a view): what product backwards need."""

    __slots__ = ()

    def forward(self, a):
        return np.swapaxes(a, -1, -2)

    def backward(self, grad):
        return SwapLastTwo.apply(grad)


class MatMul(Op):
    """``np.matmul`` semantics: 2-D products, batches with broadcast batch
    dimensions, and a 1-D operand taken as a row (left) or column (right) whose
    dimension is removed from the result. Two 1-D operands go to ``Dot``."""

    __slots__ = ()
    save_inputs = True

    def forward(self, a, b):
        if b.ndim == 2 and a.ndim > 2:
            # One GEMM over all rows instead of one per batch entry.
            rows = _as_rows(a) @ b
            return rows.reshape(a.shape[:-1] + (b.shape[1],))
        return np.matmul(a, b)

    def backward(self, grad):
        a, b = self.saved_inputs
        if not GradMode.enabled and a._data.ndim == 2 and b._data.ndim == 2:
            # Two matrices and no graph to build (the usual layer): the two
            # products straight in NumPy, the very ones the general path below
            # computes, without its four intermediate nodes.
            g = grad._data
            grad_a = _wrap(np.matmul(g, b._data.T)) if self.next_edges[0] is not None else None
            grad_b = _wrap(np.matmul(a._data.T, g)) if self.next_edges[1] is not None else None
            return grad_a, grad_b
        a_vector, b_vector = a.ndim == 1, b.ndim == 1
        size = a.shape[-1]  # the contracted dimension
        # Give vectors back the dimension matmul removed: a is a 1-row matrix,
        # b a 1-column matrix, and grad gets the matching unit dimension.
        if a_vector:
            a = a.reshape(1, size)
            grad = grad.reshape(grad.shape[:-1] + (1, grad.shape[-1]))
        if b_vector:
            b = b.reshape(size, 1)
            grad = grad.reshape(grad.shape + (1,))
        grad_a = grad_b = None
        if self.next_edges[0] is not None:
            grad_a = MatMul.apply(grad, SwapLastTwo.apply(b))
            if a_vector:
                grad_a = grad_a.sum_to_size(1, size).reshape(size)
        if self.next_edges[1] is not None:
            if b.ndim == 2 and a.ndim > 2:
                # b was used by every row of every batch entry: one GEMM sums them all.
                grad_b = MatMul.apply(SwapLastTwo.apply(_as_rows(a)), _as_rows(grad))
            else:
                grad_b = MatMul.apply(SwapLastTwo.apply(a), grad)
            if b_vector:
                grad_b = grad_b.sum_to_size(size, 1).reshape(size)
        return grad_a, grad_b


class Dot(Op):
    """The inner product of two vectors (a 0-d result)."""

    __slots__ = ()
    save_inputs = True

    def forward(self, a, b):
        return np.asarray(np.dot(a, b))

    def backward(self, grad):
        a, b = self.saved_inputs
        grad_a = grad * b if self.next_edges[0] is not None else None
        grad_b = grad * a if self.next_edges[1] is not None else None
        return grad_a, grad_b


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules: vector·vector is a dot product,
    a 1-D operand is a row (left) or column (right) whose dimension is removed,
    and more than two dimensions are batches that broadcast."""
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        # Two float matrices that fit (a layer's product): the checks below
        # reduced to what this case needs.
        a_data, b_data = input._data, other._data
        if (
            a_data.ndim == 2
            and b_data.ndim == 2
            and a_data.shape[1] == b_data.shape[0]
            and a_data.dtype == b_data.dtype
            and a_data.dtype.kind == "f"
        ):
            return MatMul.apply(input, other)
    a, b = as_operand(input, "matmul"), as_operand(other, "matmul")
    a_shape, b_shape = a._data.shape, b._data.shape
    if not a_shape or not b_shape:
        raise RuntimeError(
            f"matmul: both arguments to matmul need to be at least 1D, but they are {len(a_shape)}D and {len(b_shape)}D"
        )
    _check_same_dtype("matmul", a, b)
    inner = b_shape[-2] if len(b_shape) > 1 else b_shape[0]
    if a_shape[-1] != inner:
        raise RuntimeError(f"matmul: mat1 and mat2 shapes cannot be multiplied ({_dims(a_shape)} and {_dims(b_shape)})")
    if len(a_shape) > 2 and len(b_shape) > 2 and a_shape[:-2] != b_shape[:-2]:
        try:
            np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
        except ValueError:
            raise RuntimeError(
                f"matmul: the batch dimensions {list(a_shape[:-2])} and {list(b_shape[:-2])} of shapes "
                f"{list(a_shape)} and {list(b_shape)} cannot be broadcast together"
            ) from None
    if len(a_shape) == 1 and len(b_shape) == 1:
        return Dot.apply(a, b)
    return MatMul.apply(a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices (2-D only; ``matmul`` broadcasts)."""
    _check_ndim("mm", "self", input, 2, "matrix")
    _check_ndim("mm", "mat2", mat2, 2, "matrix")
    _check_same_dtype("mm", input, mat2)
    if input._data.shape[1] != mat2._data.shape[0]:
        raise RuntimeError(
            f"mm: mat1 and mat2 shapes cannot be multiplied ({_dims(input.shape)} and {_dims(mat2.shape)})"
        )
    return MatMul.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors with the same batch size (no broadcasting)."""
    _check_ndim("bmm", "batch1", input, 3, "3D tensor")
    _check_ndim("bmm", "batch2", mat2, 3, "3D tensor")
    _check_same_dtype("bmm", input, mat2)
    a_shape, b_shape = input._data.shape, mat2._data.shape
    if a_shape[0] != b_shape[0] or a_shape[2] != b_shape[1]:
        raise RuntimeError(
            f"bmm: batch1 and batch2 shapes cannot be multiplied ({_dims(a_shape)} and {_dims(b_shape)}); "
            f"expected batch2 of shape [{a_shape[0]}, {a_shape[2]}, *]"
        )
    return MatMul.apply(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix times vector."""
    _check_ndim("mv", "input", input, 2, "matrix")
    _check_ndim("mv", "vec", vec, 1, "vector")
    _check_same_dtype("mv", input, vec)
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got mat ({_dims(input.shape)}), vec ({vec._data.shape[0]})")
    return MatMul.apply(input, vec)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The inner product of two vectors of the same length."""
    return _dot("dot", input, tensor)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """``dot`` with the first vector conjugated: the same for real tensors."""
    return _dot("vdot", input, other)


def _dot(op: str, a: Tensor, b: Tensor) -> Tensor:
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"{op}: 1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D tensors")
    da, db = a._data.dtype, b._data.dtype
    if da != db:
        raise RuntimeError(
            f"{op}: expected both vectors to have same dtype, but found "
            f"{_SCALAR_TYPE_NAMES.get(da.name, da.name)} and {_SCALAR_TYPE_NAMES.get(db.name, db.name)}"
        )
    if a._data.shape != b._data.shape:
        n, m = a._data.shape[0], b._data.shape[0]
        raise RuntimeError(
            f"{op}: inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number of "
            f"elements, but got {n} and {m} elements respectively"
        )
    return Dot.apply(a, b)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """``input[i] * vec2[j]`` (dtypes promote as for ``*``)."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return input.reshape(-1, 1) * vec2


ger = outer


# ---------------------------------------------------------------- addmm, baddbmm


class AddMatMul(Op):
    """``beta * input + alpha * (mat1 @ mat2)``: addmm and baddbmm in one node.
    With ``beta == 0`` the input is ignored (NaN in it does not propagate)."""

    __slots__ = ("alpha", "beta")
    save_inputs = True

    def forward(self, input, mat1, mat2, beta, alpha):
        self.beta, self.alpha = beta, alpha
        out = np.matmul(mat1, mat2)
        if alpha != 1:
            out *= alpha
        if beta == 1:
            out += input
        elif beta != 0:
            out += beta * input
        return out

    def backward(self, grad):
        _, mat1, mat2 = self.saved_inputs
        grad_input = grad_mat1 = grad_mat2 = None
        if self.next_edges[0] is not None:
            grad_input = grad if self.beta == 1 else grad * self.beta
        scaled = grad if self.alpha == 1 else grad * self.alpha
        if self.next_edges[1] is not None:
            grad_mat1 = MatMul.apply(scaled, SwapLastTwo.apply(mat2))
        if self.next_edges[2] is not None:
            grad_mat2 = MatMul.apply(SwapLastTwo.apply(mat1), scaled)
        return grad_input, grad_mat1, grad_mat2


def _check_scalars(op: str, beta, alpha, dtype: np.dtype) -> None:
    for name, value in (("beta", beta), ("alpha", alpha)):
        if not isinstance(value, numbers.Number):
            raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
        if dtype.kind in "iub" and not float(value).is_integer():
            raise RuntimeError(f"{op}: for integral input tensors, argument {name} must be an integer, got {value}")


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to the product's shape."""
    _check_ndim("addmm", "mat1", mat1, 2, "matrix")
    _check_ndim("addmm", "mat2", mat2, 2, "matrix")
    return _add_matmul("addmm", input, mat1, mat2, beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``; ``input`` broadcasts to the product's shape."""
    _check_ndim("baddbmm", "batch1", batch1, 3, "3D tensor")
    _check_ndim("baddbmm", "batch2", batch2, 3, "3D tensor")
    if batch1._data.shape[0] != batch2._data.shape[0]:
        raise RuntimeError(
            f"baddbmm: batch1 and batch2 must have the same batch size, got {list(batch1.shape)} and {list(batch2.shape)}"
        )
    return _add_matmul("baddbmm", input, batch1, batch2, beta, alpha)


def _add_matmul(op: str, input: Tensor, mat1: Tensor, mat2: Tensor, beta, alpha) -> Tensor:
    input = as_operand(input, op)
    _check_same_dtype(op, mat1, mat2)
    if input._data.dtype != mat1._data.dtype:
        raise RuntimeError(
            f"{op}: input and the matrices must have the same dtype, but got {input.dtype} and {mat1.dtype}"
        )
    a_shape, b_shape = mat1._data.shape, mat2._data.shape
    if a_shape[-1] != b_shape[-2]:
        raise RuntimeError(f"{op}: mat1 and mat2 shapes cannot be multiplied ({_dims(a_shape)} and {_dims(b_shape)})")
    _check_expandable(op, input, a_shape[:-1] + b_shape[-1:])
    _check_scalars(op, beta, alpha, input._data.dtype)
    return AddMatMul.apply(input, mat1, mat2, beta=beta, alpha=alpha)


# ------------------------------------------------------------------------ linear


class Linear(Op):
    """``input @ weight.T + bias`` (nn.functional.linear) as one node.

    The leading dimensions of ``input`` are flattened so forward and each
    backward product is a single GEMM: ``grad_input = g @ W``,
    ``grad_weight = g^T @ x`` (summing over every row at once), ``grad_bias``
    the sum of ``g`` over rows."""

    __slots__ = ()
    save_inputs = True

    def forward(self, x, weight, bias=None):
        if x.ndim == 2:
            out = x @ weight.T
        elif x.ndim == 1:
            out = weight @ x
        else:
            out = (_as_rows(x) @ weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        saved = self.saved_inputs
        x, weight = saved[0], saved[1]
        if not GradMode.enabled and x._data.ndim >= 2:
            return self._plain_backward(grad, x._data, weight._data, saved)
        grad_rows = grad if grad.ndim == 2 else _as_rows(grad)
        grad_input = grad_weight = grad_bias = None
        if self.next_edges[0] is not None:
            grad_input = MatMul.apply(grad_rows, weight)
            if x.ndim != 2:
                grad_input = grad_input.reshape(x.shape)
        if self.next_edges[1] is not None:
            x_rows = x if x.ndim == 2 else _as_rows(x)
            grad_weight = MatMul.apply(SwapLastTwo.apply(grad_rows), x_rows)
        if len(saved) == 3 and self.next_edges[2] is not None:
            # A bias of another broadcastable shape gets the full gradient; the engine reduces it.
            grad_bias = grad_rows.sum(0) if saved[2].ndim == 1 else grad
        return grad_input, grad_weight, grad_bias

    def _plain_backward(self, grad: Tensor, x: np.ndarray, weight: np.ndarray, saved: tuple) -> tuple:
        """``backward`` for rows (the leading dimensions flattened) when no
        graph is being built: the same products and sum in NumPy, without
        intermediate nodes."""
        g = grad._data
        edges = self.next_edges
        if g.ndim != 2:
            g = _as_rows(g)
        grad_input = grad_weight = grad_bias = None
        if edges[0] is not None:
            grad_input = np.matmul(g, weight)
            grad_input = _wrap(grad_input if x.ndim == 2 else grad_input.reshape(x.shape))
        if edges[1] is not None:
            grad_weight = _wrap(np.matmul(g.T, x if x.ndim == 2 else _as_rows(x)))
        if len(saved) == 3 and edges[2] is not None:
            grad_bias = _wrap(np.add.reduce(g, axis=0)) if saved[2].ndim == 1 else grad
        return grad_input, grad_weight, grad_bias


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` over the last dimension of ``input``
    (``torch.nn.functional.linear``); ``weight`` is ``(out_features, in_features)``."""
    x_shape, w_shape = input._data.shape, weight._data.shape
    if len(w_shape) != 2:
        if len(w_shape) == 1 and bias is None:
            return matmul(input, weight)
        raise RuntimeError(
            f"linear: weight must be a 2-D matrix (out_features, in_features), got shape {list(w_shape)}"
        )
    if not x_shape:
        raise RuntimeError("linear: both arguments to linear need to be at least 1D, but they are 0D and 2D")
    _check_same_dtype("linear", input, weight)
    if x_shape[-1] != w_shape[1]:
        rows = math.prod(x_shape[:-1])
        raise RuntimeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied ({rows}x{x_shape[-1]} and {w_shape[1]}x{w_shape[0]})"
        )
    if bias is None:
        return Linear.apply(input, weight)
    if bias._data.dtype != weight._data.dtype:
        raise RuntimeError(f"linear: bias must have the same dtype as weight ({weight.dtype}), but got {bias.dtype}")
    if bias._data.shape != w_shape[:1]:
        _check_expandable("linear", bias, x_shape[:-1] + w_shape[:1])
    return Linear.apply(input, weight, bias)


# ------------------------------------------------------------------------ einsum
#
# Each operand gets a string of subscript letters, one per dimension (an
# ellipsis is expanded into letters of its own). The forward contracts
# operands pairwise, each pair as one batched matmul. The gradient of an
# operand is the einsum of the output gradient with the other operands, to the
# operand's subscripts: letters the operand alone had (summed in the forward)
# come back by expanding, a repeated letter (a diagonal) by writing the
# gradient onto that diagonal of a zero array.

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # sublist index k is _LETTERS[k], as in PyTorch


def _distinct(subscripts: str) -> str:
    """Letters in order of first appearance, each once."""
    return "".join(dict.fromkeys(subscripts))


@functools.lru_cache(maxsize=512)
def _parse_equation(equation: str, ndims: tuple) -> tuple[tuple[str, ...], str]:
    """Each operand's subscripts and the output's, with ellipses expanded into letters."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(ndims):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(ndims):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    explicit = [_split_ellipsis(term, f"operand {k}") for k, term in enumerate(terms)]
    if arrow:
        output_explicit = _split_ellipsis(rhs, "the output")
    ellipsis_ndim = 0
    for k, ((before, after, has_ellipsis), ndim) in enumerate(zip(explicit, ndims)):
        named = len(before) + len(after)
        if has_ellipsis:
            if named > ndim:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({named}) is more than the number of "
                    f"dimensions ({ndim}) for operand {k}"
                )
            ellipsis_ndim = max(ellipsis_ndim, ndim - named)
        elif named != ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) does not match the number of "
                f"dimensions ({ndim}) for operand {k} and no ellipsis was given"
            )
    used = set(lhs) | set(rhs)
    spare = [c for c in _LETTERS if c not in used]
    if ellipsis_ndim > len(spare):
        raise RuntimeError("einsum(): too many dimensions: at most 52 distinct subscripts are supported")
    ellipsis = "".join(spare[:ellipsis_ndim])
    inputs = []
    for (before, after, has_ellipsis), ndim in zip(explicit, ndims):
        own = ellipsis[ellipsis_ndim - (ndim - len(before) - len(after)) :] if has_ellipsis else ""
        inputs.append(before + own + after)
    if arrow:
        before, after, has_ellipsis = output_explicit
        output = before + (ellipsis if has_ellipsis else "") + after
        for c in before + after:
            if (before + after).count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in lhs:
                raise RuntimeError(
                    f"einsum(): output subscript {c} does not appear in the equation for any input operand"
                )
    else:
        # Implicit output: the ellipsis dimensions, then the letters used exactly once, sorted.
        named = "".join(before + after for before, after, _ in explicit)
        output = ellipsis + "".join(sorted(c for c in set(named) if named.count(c) == 1))
    return tuple(inputs), output


def _split_ellipsis(term: str, where: str) -> tuple[str, str, bool]:
    """``term`` as (letters before ``...``, letters after, whether it has one)."""
    before, dots, after = term.partition("...")
    for c in before + after:
        if c == ".":
            raise RuntimeError(f"einsum(): found '.' for {where} that is not part of a single ellipsis")
        if c not in _LETTERS:
            raise RuntimeError(
                f"einsum(): invalid subscript {c!r} for {where} in the equation string, subscripts must be in [a-zA-Z]"
            )
    return before, after, bool(dots)


def _letter_sizes(shapes, input_subs) -> dict:
    """Each letter's size; a size-1 dimension broadcasts against a larger one, as in NumPy and PyTorch."""
    sizes: dict = {}
    for k, (shape, subs) in enumerate(zip(shapes, input_subs)):
        own: dict = {}
        for c, n in zip(subs, shape):
            if c in own and own[c] != n:
                raise RuntimeError(
                    f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't match, {n} != {own[c]}"
                )
            own[c] = n
            seen = sizes.get(c)
            if seen is None or seen == 1:
                sizes[c] = n
            elif n != 1 and n != seen:
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {k} which does not broadcast with "
                    f"previously seen size {seen}"
                )
    return sizes


def _prepare(array: np.ndarray, subs: str, sizes: dict) -> tuple[np.ndarray, str]:
    """Take the diagonal of repeated letters and drop size-1 dimensions that
    broadcast (the operand is constant along them)."""
    distinct = _distinct(subs)
    if len(distinct) < len(subs):
        array = np.einsum(f"{subs}->{distinct}", array)
        subs = distinct
    broadcast = tuple(i for i, c in enumerate(subs) if array.shape[i] == 1 and sizes[c] != 1)
    if broadcast:
        array = np.squeeze(array, axis=broadcast)
        subs = "".join(c for i, c in enumerate(subs) if i not in broadcast)
    return array, subs


def _sum_letters(array: np.ndarray, subs: str, keep) -> tuple[np.ndarray, str]:
    """Sum over the letters not in ``keep``."""
    axes = tuple(i for i, c in enumerate(subs) if c not in keep)
    if not axes:
        return array, subs
    return np.sum(array, axis=axes, dtype=array.dtype), "".join(c for c in subs if c in keep)


def _contract_pair(a: np.ndarray, sa: str, b: np.ndarray, sb: str, keep: set, sizes: dict) -> tuple[np.ndarray, str]:
    """Contract two operands into the letters of ``keep`` they hold, as one batched matmul:
    ``(batch, left, contracted) @ (batch, contracted, right)``."""
    a, sa = _sum_letters(a, sa, keep.union(sb))
    b, sb = _sum_letters(b, sb, keep.union(sa))
    batch = [c for c in sa if c in sb and c in keep]
    contracted = [c for c in sa if c in sb and c not in keep]
    left = [c for c in sa if c not in sb]
    right = [c for c in sb if c not in sa]
    nb = math.prod(sizes[c] for c in batch)
    nl = math.prod(sizes[c] for c in left)
    nc = math.prod(sizes[c] for c in contracted)
    nr = math.prod(sizes[c] for c in right)
    a = np.transpose(a, [sa.index(c) for c in batch + left + contracted]).reshape(nb, nl, nc)
    b = np.transpose(b, [sb.index(c) for c in batch + contracted + right]).reshape(nb, nc, nr)
    product = np.matmul(a, b) if contracted else a * b  # no contraction: an outer product per batch entry
    letters = batch + left + right
    return product.reshape([sizes[c] for c in letters]), "".join(letters)


def _contract(arrays, input_subs: tuple, output_subs: str) -> np.ndarray:
    sizes = _letter_sizes([a.shape for a in arrays], input_subs)
    operands = [_prepare(a, s, sizes) for a, s in zip(arrays, input_subs)]
    if len(operands) == 2:
        path = [(0, 1)]
    elif len(operands) > 2:
        # NumPy's greedy order for contracting many operands pairwise.
        equation = ",".join(s for _, s in operands) + "->" + output_subs
        path = np.einsum_path(equation, *[a for a, _ in operands], optimize="greedy")[0][1:]
    else:
        path = []
    for positions in path:
        picked = [operands[p] for p in positions]
        for p in sorted(positions, reverse=True):
            del operands[p]
        array, subs = picked[0]
        for step, (other, other_subs) in enumerate(picked[1:], start=2):
            needed = {c for _, s in operands + picked[step:] for c in s}
            needed.update(output_subs)
            array, subs = _contract_pair(array, subs, other, other_subs, needed, sizes)
        operands.append((array, subs))
    array, subs = operands[0]
    array, subs = _sum_letters(array, subs, output_subs)
    return np.asarray(np.transpose(array, [subs.index(c) for c in output_subs]))


class Einsum(Op):
    """Einstein summation over operands with expanded subscripts (see ``einsum``)."""

    __slots__ = ("input_subs", "output_subs")
    save_inputs = True

    def forward(self, *arrays, input_subs, output_subs):
        self.input_subs, self.output_subs = input_subs, output_subs
        return _contract(arrays, input_subs, output_subs)

    def backward(self, grad):
        operands = self.saved_inputs
        return tuple(
            None if edge is None else self._operand_grad(grad, operands, k) for k, edge in enumerate(self.next_edges)
        )

    def _operand_grad(self, grad: Tensor, operands: tuple, k: int) -> Tensor:
        subs = self.input_subs[k]
        own_shape = operands[k]._data.shape
        distinct = _distinct(subs)
        others = [t for j, t in enumerate(operands) if j != k]
        other_subs = [s for j, s in enumerate(self.input_subs) if j != k]
        available = set(self.output_subs).union(*other_subs)
        kept = "".join(c for c in distinct if c in available)
        result = Einsum.apply(grad, *others, input_subs=(self.output_subs, *other_subs), output_subs=kept)
        # Letters only this operand had were summed in the forward, and letters
        # it broadcast elsewhere have size 1 here: the gradient is constant along
        # both, so expand it over the operand's own sizes.
        sizes = [result._data.shape[kept.index(c)] if c in kept else 1 for c in distinct]
        if len(kept) < len(distinct):
            result = result.reshape(sizes)
        target = [own_shape[subs.index(c)] if n == 1 else n for c, n in zip(distinct, sizes)]
        if target != sizes:
            result = result.expand(target)
        if len(distinct) < len(subs):
            result = EinsumDiagonalScatter.apply(result, distinct=distinct, full=subs)
        return result


class EinsumDiagonalScatter(Op):
    """Values indexed by distinct letters (``i``) written onto the diagonal of a
    zero array whose letters repeat (``ii``): the gradient of taking an einsum
    diagonal. Its own gradient takes that diagonal again."""

    __slots__ = ("distinct", "full")

    def forward(self, a, distinct, full):
        self.distinct, self.full = distinct, full
        out = np.zeros([a.shape[distinct.index(c)] for c in full], dtype=a.dtype)
        # The diagonal as a view: a letter's stride is the sum of its dimensions' strides.
        strides = [sum(out.strides[i] for i, c in enumerate(full) if c == letter) for letter in distinct]
        np.lib.stride_tricks.as_strided(out, a.shape, strides)[...] = a
        return out

    def backward(self, grad):
        return Einsum.apply(grad, input_subs=(self.full,), output_subs=self.distinct)


def einsum(*args) -> Tensor:
    """Einstein summation, PyTorch's ``einsum(equation, *operands)``.

    Also accepts the operands as one list (``einsum("ij,jk", [a, b])``) and
    the sublist format (``einsum(a, [0, 1], b, [1, 2], [0, 2])``). Letters
    are ``a-zA-Z``; ``...`` stands for broadcast dimensions; without ``->``
    the output is the ellipsis dimensions and then the letters used once, sorted.
    """
    if not args:
        raise ValueError("einsum(): must specify the equation string and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    if not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand")
    operands = [as_operand(t, "einsum") for t in operands]
    input_subs, output_subs = _parse_equation(equation, tuple(t._data.ndim for t in operands))
    _letter_sizes([t._data.shape for t in operands], input_subs)
    dtype = operands[0]._data.dtype
    for k, t in enumerate(operands[1:], start=1):
        if t._data.dtype != dtype:
            raise RuntimeError(
                f"einsum(): expected all operands to have the same dtype, but operand 0 is {dtype} "
                f"and operand {k} is {t._data.dtype}"
            )
    return Einsum.apply(*operands, input_subs=input_subs, output_subs=output_subs)


def _sublist_equation(args) -> tuple[str, tuple]:
    """``(a, [0, 1], b, [1, 2], [0, 2])`` as ``("AB,BC->AC", (a, b))``."""

    def letters(sublist) -> str:
        out = []
        for index in sublist:
            if index is Ellipsis:
                out.append("...")
            elif isinstance(index, (int, np.integer)) and 0 <= index < len(_LETTERS):
                out.append(_LETTERS[index])
            else:
                raise ValueError(
                    f"einsum(): subscript in subscript list is not within the valid range [0, 52), got {index!r}"
                )
        return "".join(out)

    operands = args[0::2][: len(args) // 2]
    terms = [letters(sub) for sub in args[1::2]]
    equation = ",".join(terms)
    if len(args) % 2:
        equation += "->" + letters(args[-1])
    return equation, tuple(operands)


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum of products over dimensions of ``a`` and ``b``: ``dims`` is a count
    (the last ``dims`` of ``a`` with the first ``dims`` of ``b``) or a pair of
    dimension lists. The result has ``a``'s remaining dimensions, then ``b``'s."""
    nda, ndb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > nda or dims > ndb:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a = list(range(nda - dims, nda))
        dims_b = list(range(dims))
        shown_a = [d - nda for d in dims_a]  # PyTorch counts these from the end in its messages
    else:
        if not isinstance(dims, (list, tuple)) or len(dims) != 2:
            raise TypeError(f"tensordot: dims must be an int or a pair of lists of dimensions, got {dims!r}")
        given_a, given_b = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
        if len(given_a) != len(given_b):
            raise RuntimeError("tensordot: both dimension lists should have same length")
        dims_a = [normalize_dim(d, nda, "tensordot") for d in given_a]
        dims_b = [normalize_dim(d, ndb, "tensordot") for d in given_b]
        for given, normalized in ((given_a, dims_a), (given_b, dims_b)):
            if len(set(normalized)) != len(normalized):
                raise RuntimeError(f"tensordot: dims {given} contain a dimension more than once")
        shown_a = given_a
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"tensordot: both inputs should have same dtype, got {a.dtype} and {b.dtype}")
    if nda + ndb - len(dims_a) > len(_LETTERS):
        raise RuntimeError("tensordot: too many dimensions (at most 52 distinct dimensions are supported)")
    subs_a = _LETTERS[:nda]
    subs_b = [""] * ndb
    for da, db, shown in zip(dims_a, dims_b, shown_a):
        n, m = a._data.shape[da], b._data.shape[db]
        if n != m and n != 1 and m != 1:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size {n} in dim {shown} "
                f"and second has size {m} in dim {db}"
            )
        subs_b[db] = subs_a[da]
    fresh = iter(_LETTERS[nda:])
    subs_b = "".join(c or next(fresh) for c in subs_b)
    output = "".join(c for i, c in enumerate(subs_a) if i not in dims_a)
    output += "".join(c for i, c in enumerate(subs_b) if i not in dims_b)
    return Einsum.apply(a, b, input_subs=(subs_a, subs_b), output_subs=output)


# ------------------------------------------------------------- diagonals, trace


class Diagonal(Op):
    """The diagonal of the ``(dim1, dim2)`` planes, ``offset`` above (or below) the main one,
    as the last dimension of the result."""

    __slots__ = ("dim1", "dim2", "input_shape", "offset")

    def forward(self, a, offset, dim1, dim2):
        self.input_shape, self.offset, self.dim1, self.dim2 = a.shape, offset, dim1, dim2
        return np.diagonal(a, offset, dim1, dim2).copy()  # NumPy's diagonal view is read-only

    def backward(self, grad):
        return DiagonalScatter.apply(grad, shape=self.input_shape, offset=self.offset, dim1=self.dim1, dim2=self.dim2)


class DiagonalScatter(Op):
    """A zero array of ``shape`` with the last dimension of ``a`` written onto a
    diagonal (``diag_embed``, and the gradient of ``diagonal``)."""

    __slots__ = ("dim1", "dim2", "offset")

    def forward(self, a, shape, offset, dim1, dim2):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2
        out = np.zeros(shape, dtype=a.dtype)
        planes = np.moveaxis(out, (dim1, dim2), (-2, -1))
        steps = np.arange(a.shape[-1])
        planes[..., steps + max(-offset, 0), steps + max(offset, 0)] = a
        return out

    def backward(self, grad):
        return Diagonal.apply(grad, offset=self.offset, dim1=self.dim1, dim2=self.dim2)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the ``(dim1, dim2)`` planes (above the main one for
    ``offset > 0``), appended as the last dimension."""
    ndim = input._data.ndim
    d1, d2 = normalize_dim(dim1, ndim, "diagonal"), normalize_dim(dim2, ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Tensors whose ``(dim1, dim2)`` planes have the last dimension of ``input`` on a diagonal."""
    ndim = input._data.ndim + 1
    d1, d2 = normalize_dim(dim1, ndim, "diag_embed"), normalize_dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    size = input._data.shape[-1] + abs(int(offset))
    shape = list(input._data.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, size)
    return DiagonalScatter.apply(input, shape=tuple(shape), offset=int(offset), dim1=d1, dim2=d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A vector to a square matrix with it on the ``diagonal``-th diagonal, or
    a matrix's ``diagonal``-th diagonal as a vector."""
    ndim = input._data.ndim
    if ndim == 1:
        size = input._data.shape[0] + abs(int(diagonal))
        return DiagonalScatter.apply(input, shape=(size, size), offset=int(diagonal), dim1=0, dim2=1)
    if ndim == 2:
        return Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")


def trace(input: Tensor) -> Tensor:
    """The sum of a matrix's main diagonal (integers sum to int64)."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("trace: not implemented for bool tensors")
    return Diagonal.apply(input, offset=0, dim1=0, dim2=1).sum()


def _rmatmul(self: Tensor, other) -> Tensor:
    return matmul(other, self)


__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "addmm", "baddbmm", "einsum", "tensordot",
    "diagonal", "diag_embed", "diag", "trace",
]  # fmt: skip
# ``linear`` is ``nn.functional.linear`` in PyTorch, not a top-level function: import it from here.
TENSOR_METHODS = {
    name: globals()[name]
    for name in [
        "matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "addmm", "baddbmm", "diagonal", "diag_embed",
        "diag", "trace",
    ]
}  # fmt: skip
OPERATORS = {"__matmul__": matmul, "__rmatmul__": _rmatmul}
