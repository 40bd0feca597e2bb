"""Elementwise arithmetic: + - * / **, exp and log, casts and copies, comparisons,
and the machinery of in-place ops.

Binary ops broadcast like NumPy; their backward returns gradients of the
broadcast shape and the engine sums them back to each input's shape.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from ..autograd.grad_mode import GradMode
from .common import Tensor, _wrap, as_operand, is_scalar, promote, python_scalar

# Backward rules are written with retrograd ops so that create_graph=True makes
# them differentiable. A plain backward() runs them with grad mode off, where
# no graph is built; there the hottest rules below (the ones small models run
# at every step) compute the very same NumPy expression directly, skipping the
# intermediate tensors and nodes. They take that path only when the operand
# dtypes agree, so both paths give identical results.

# --------------------------------------------------------------------------- + -


class Add(Op):
    __slots__ = ()

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Op):
    __slots__ = ()

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        if self.next_edges[1] is None:
            return grad, None
        if not GradMode.enabled:
            return grad, _wrap(-grad._data)
        return grad, -grad


class AddScalar(Op):
    """``a + c`` for a Python number ``c``."""

    __slots__ = ()
    backward_name = "AddBackward0"

    def forward(self, a, scalar):
        return a + scalar

    def backward(self, grad):
        return grad


class RSubScalar(Op):
    """``c - a`` for a Python number ``c``."""

    __slots__ = ()
    backward_name = "RsubBackward1"

    def forward(self, a, scalar):
        return scalar - a

    def backward(self, grad):
        return -grad


class Neg(Op):
    __slots__ = ()

    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


# --------------------------------------------------------------------------- * /


class Mul(Op):
    __slots__ = ()
    save_inputs = True

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.saved_inputs
        if not GradMode.enabled and grad._data.dtype == a._data.dtype == b._data.dtype:
            g = grad._data
            grad_a = _wrap(g * b._data) if self.next_edges[0] is not None else None
            grad_b = _wrap(g * a._data) if self.next_edges[1] is not None else None
            return grad_a, grad_b
        grad_a = grad * b if self.next_edges[0] is not None else None
        grad_b = grad * a if self.next_edges[1] is not None else None
        return grad_a, grad_b


class MulScalar(Op):
    __slots__ = ("scalar",)
    backward_name = "MulBackward0"

    def forward(self, a, scalar):
        self.scalar = scalar
        return a * scalar

    def backward(self, grad):
        if not GradMode.enabled:
            return _wrap(grad._data * self.scalar)
        return grad * self.scalar


class Div(Op):
    __slots__ = ()
    save_inputs = True

    def forward(self, a, b):
        return a / b

    def backward(self, grad):
        a, b = self.saved_inputs
        grad_a = grad / b if self.next_edges[0] is not None else None
        grad_b = -grad * a / (b * b) if self.next_edges[1] is not None else None
        return grad_a, grad_b


class DivScalar(Op):
    __slots__ = ("scalar",)
    backward_name = "DivBackward0"

    def forward(self, a, scalar):
        self.scalar = scalar
        return a / scalar

    def backward(self, grad):
        if not GradMode.enabled:
            return _wrap(grad._data / self.scalar)
        return grad / self.scalar


class RDivScalar(Op):
    """``c / a`` for a Python number ``c``."""

    __slots__ = ("scalar",)
    backward_name = "DivBackward0"
    save_inputs = True

    def forward(self, a, scalar):
        self.scalar = scalar
        return scalar / a

    def backward(self, grad):
        (a,) = self.saved_inputs
        return grad * (-self.scalar) / (a * a)


# ---------------------------------------------------------------------------- **


class PowScalar(Op):
    """``a ** p`` for a Python number ``p``."""

    __slots__ = ("exponent",)
    backward_name = "PowBackward0"
    save_inputs = True

    def forward(self, a, exponent):
        self.exponent = exponent
        return a**exponent

    def backward(self, grad):
        (a,) = self.saved_inputs
        p = self.exponent
        if p == 0:
            return grad * 0.0
        if p == 1:
            return grad
        if not GradMode.enabled and type(p) in (int, float) and grad._data.dtype == a._data.dtype:
            g, x = grad._data, a._data
            return _wrap(g * x * 2.0) if p == 2 else _wrap(g * p * x ** (p - 1))
        if p == 2:
            return grad * a * 2.0
        return grad * p * a ** (p - 1)


class Pow(Op):
    """``a ** b`` with both tensors. As in PyTorch, d/da is 0 where b == 0 and
    d/db (``a**b * log(a)``) is 0 where a == 0 and b >= 0, not NaN."""

    __slots__ = ()
    backward_name = "PowBackward1"
    save_inputs = True

    def forward(self, a, b):
        return a**b

    def backward(self, grad):
        a, b = self.saved_inputs
        grad_a = grad_b = None
        if self.next_edges[0] is not None:
            grad_a = grad * b * a ** (b - 1.0)
            zero_exponent = b._data == 0
            if zero_exponent.any():
                grad_a = where(zero_exponent, zeros_like_tensor(grad_a), grad_a)
        if self.next_edges[1] is not None:
            zero_base = a._data == 0
            with np.errstate(divide="ignore"):
                grad_b = grad * (a**b) * a.log()
            if zero_base.any():
                grad_b = where(zero_base & (b._data >= 0), zeros_like_tensor(grad_b), grad_b)
        return grad_a, grad_b


class RPowScalar(Op):
    """``c ** a`` for a Python number ``c``; for c == 0 the gradient is 0 where a >= 0."""

    __slots__ = ("log_base",)
    backward_name = "PowBackward2"
    save_output = True

    def forward(self, a, base):
        if base == 0:
            self.log_base = -np.inf
            self.saved = a >= 0
        else:
            self.log_base = float(np.log(base)) if base > 0 else float("nan")
        return np.power(base, a, dtype=a.dtype) if a.dtype.kind == "f" else np.power(base, a)

    def backward(self, grad):
        result = grad * self.output() * self.log_base
        if self.log_base == -np.inf:
            result = where(self.saved, zeros_like_tensor(result), result)
        return result


# ---------------------------------------------------------------------- exp, log


class Exp(Op):
    __slots__ = ()
    save_output = True

    def forward(self, a):
        return np.exp(a)

    def backward(self, grad):
        return grad * self.output()


class Log(Op):
    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return np.log(a)

    def backward(self, grad):
        (a,) = self.saved_inputs
        return grad / a


# ----------------------------------------------------------------- casts, copies


class Cast(Op):
    """``to(dtype)``; the gradient is cast back to the source dtype."""

    __slots__ = ("source_dtype",)
    backward_name = "ToCopyBackward0"

    def forward(self, a, dtype):
        self.source_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, grad):
        if self.source_dtype.kind != "f":
            return None
        return grad.to(self.source_dtype)


class Clone(Op):
    __slots__ = ()

    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return grad


class Copy(Op):
    """``old.copy_(src)`` as an op: ``src`` broadcast to ``old``'s shape and cast to
    its dtype. The old value gets a zero gradient, ``src`` the incoming one."""

    __slots__ = ()
    backward_name = "CopyBackwards"

    def forward(self, old, src):
        return np.array(np.broadcast_to(src, old.shape), dtype=old.dtype)

    def backward(self, grad):
        grad_old = zeros_like_tensor(grad) if self.next_edges[0] is not None else None
        return grad_old, grad


class Fill(Op):
    """``old.fill_(value)`` for a number ``value``: a constant, so the old value
    gets a zero gradient (the graph stays connected, as in PyTorch)."""

    __slots__ = ()
    backward_name = "FillBackward0"

    def forward(self, old, value):
        return np.full_like(old, value)

    def backward(self, grad):
        return zeros_like_tensor(grad)


def zeros_like_tensor(t: Tensor) -> Tensor:
    return _wrap(np.zeros_like(t._data))


# ---------------------------------------------------------------- function forms


def _float_for_scalar(t: Tensor, scalar) -> Tensor:
    """An integer tensor meeting a float scalar becomes the default float dtype, as in PyTorch."""
    if t._data.dtype.kind in "biu" and isinstance(scalar, float):
        return t.to(dtypes.get_default_dtype())
    return t


# The arithmetic functions below start with a fast path for the cases that
# need no operand conversion or dtype promotion (two tensors of one dtype, a
# tensor and a Python int, a floating tensor and a Python float): they are
# most of the ops a model runs, and the general handling after it costs more
# than the arithmetic on small tensors. Both paths give the same result.


def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other``, broadcasting."""
    if alpha == 1 and isinstance(input, Tensor):
        if isinstance(other, Tensor):
            if input._data.dtype == other._data.dtype:
                return Add.apply(input, other)
        elif type(other) is int or (type(other) is float and input._data.dtype.kind == "f"):
            return AddScalar.apply(input, scalar=other)
    input, other = python_scalar(input), python_scalar(other)
    if alpha != 1:
        other = mul(other, alpha)
    if is_scalar(other):
        if isinstance(input, Tensor):
            return AddScalar.apply(_float_for_scalar(input, other), scalar=other)
        return as_operand(input, "add") + other
    if is_scalar(input):
        return AddScalar.apply(_float_for_scalar(other, input), scalar=input)
    a, b = promote(as_operand(input, "add"), as_operand(other, "add"))
    return Add.apply(a, b)


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other``, broadcasting."""
    if alpha == 1:
        if isinstance(input, Tensor):
            if isinstance(other, Tensor):
                if input._data.dtype == other._data.dtype:
                    return Sub.apply(input, other)
            elif type(other) is int or (type(other) is float and input._data.dtype.kind == "f"):
                return AddScalar.apply(input, scalar=-other)
        elif isinstance(other, Tensor) and (
            type(input) is int or (type(input) is float and other._data.dtype.kind == "f")
        ):
            return RSubScalar.apply(other, scalar=input)
    input, other = python_scalar(input), python_scalar(other)
    if alpha != 1:
        other = mul(other, alpha)
    if is_scalar(other):
        return AddScalar.apply(_float_for_scalar(as_operand(input, "sub"), other), scalar=-other)
    if is_scalar(input):
        return RSubScalar.apply(_float_for_scalar(other, input), scalar=input)
    a, b = promote(as_operand(input, "sub"), as_operand(other, "sub"))
    return Sub.apply(a, b)


def rsub(input, other, *, alpha=1) -> Tensor:
    return sub(other, input, alpha=alpha)


def mul(input, other) -> Tensor:
    if isinstance(input, Tensor):
        if isinstance(other, Tensor):
            if input._data.dtype == other._data.dtype:
                return Mul.apply(input, other)
        elif type(other) is int or (type(other) is float and input._data.dtype.kind == "f"):
            return MulScalar.apply(input, scalar=other)
    input, other = python_scalar(input), python_scalar(other)
    if is_scalar(other):
        return MulScalar.apply(_float_for_scalar(as_operand(input, "mul"), other), scalar=other)
    if is_scalar(input):
        return MulScalar.apply(_float_for_scalar(other, input), scalar=input)
    a, b = promote(as_operand(input, "mul"), as_operand(other, "mul"))
    return Mul.apply(a, b)


def div(input, other, *, rounding_mode=None) -> Tensor:
    """True division (integers give the default float dtype); ``rounding_mode``
    "trunc" or "floor" gives a non-differentiable rounded quotient."""
    if rounding_mode is None and isinstance(input, Tensor) and input._data.dtype.kind == "f":
        if isinstance(other, Tensor):
            if input._data.dtype == other._data.dtype:
                return Div.apply(input, other)
        elif type(other) is int or type(other) is float:
            return DivScalar.apply(input, scalar=other)
    input, other = python_scalar(input), python_scalar(other)
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        a = as_operand(input, "div")._data
        b = other._data if isinstance(other, Tensor) else other
        quotient = np.floor_divide(a, b) if rounding_mode == "floor" else np.trunc(np.true_divide(a, b))
        if np.result_type(a, b).kind in "iu":
            quotient = quotient.astype(np.result_type(a, b))
        return _wrap(np.asarray(quotient))
    if is_scalar(other):
        t = as_operand(input, "div")
        if t._data.dtype.kind in "biu":
            t = t.to(dtypes.get_default_dtype())
        return DivScalar.apply(t, scalar=other)
    if is_scalar(input):
        t = other if other._data.dtype.kind == "f" else other.to(dtypes.get_default_dtype())
        return RDivScalar.apply(t, scalar=input)
    return _div_tensors(as_operand(input, "div"), as_operand(other, "div"))


def _div_tensors(a: Tensor, b: Tensor) -> Tensor:
    a, b = promote(a, b)
    if a._data.dtype.kind in "biu":
        default = dtypes.get_default_dtype()
        a, b = a.to(default), b.to(default)
    return Div.apply(a, b)


true_divide = divide = div
multiply = mul
subtract = sub


def pow(input, exponent) -> Tensor:
    if isinstance(input, Tensor) and (
        type(exponent) is int or (type(exponent) is float and input._data.dtype.kind == "f")
    ):
        return PowScalar.apply(input, exponent=exponent)
    input, exponent = python_scalar(input), python_scalar(exponent)
    if is_scalar(exponent):
        return PowScalar.apply(_float_for_scalar(as_operand(input, "pow"), exponent), exponent=exponent)
    if is_scalar(input):
        t = (
            exponent
            if exponent._data.dtype.kind == "f" or isinstance(input, int)
            else exponent.to(dtypes.get_default_dtype())
        )
        return RPowScalar.apply(t, base=input)
    a, b = promote(as_operand(input, "pow"), as_operand(exponent, "pow"))
    return Pow.apply(a, b)


def neg(input: Tensor) -> Tensor:
    return Neg.apply(input)


negative = neg


def positive(input: Tensor) -> Tensor:
    """``+input``: the tensor itself, as in PyTorch (bool tensors are rejected)."""
    if input._data.dtype == np.bool_:
        raise TypeError("positive: the `+` operator, with a bool tensor is not supported")
    return input


def exp(input: Tensor) -> Tensor:
    return Exp.apply(_floating(input))


def log(input: Tensor) -> Tensor:
    return Log.apply(_floating(input))


def _floating(t: Tensor) -> Tensor:
    """Math functions of integer tensors compute in the default float dtype, as in PyTorch."""
    if t._data.dtype.kind == "f":
        return t
    return t.to(dtypes.get_default_dtype())


class Where(Op):
    """``a`` where the condition holds, else ``b``; the condition (a bool array) is a setting."""

    __slots__ = ()

    def forward(self, a, b, condition):
        self.saved = condition
        return np.where(condition, a, b)

    def backward(self, grad):
        condition = _wrap(np.broadcast_to(self.saved, grad._data.shape))
        zero = zeros_like_tensor(grad)
        grad_a = where(condition, grad, zero) if self.next_edges[0] is not None else None
        grad_b = where(condition, zero, grad) if self.next_edges[1] is not None else None
        return grad_a, grad_b


def where(condition, input, other) -> Tensor:
    """``input`` where ``condition`` holds, else ``other`` (broadcasting; either may be a number)."""
    condition = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != np.bool_:
        condition = condition.astype(bool)
    if is_scalar(input) and is_scalar(other):
        return _wrap(
            np.where(condition, input, other).astype(
                dtypes.get_default_dtype() if isinstance(input, float) or isinstance(other, float) else np.int64
            )
        )
    # A number meets the other operand as a 0-d tensor of its Python type's
    # dtype, so promotion follows PyTorch (where(c, 1.5, int_tensor) is float).
    a, b = promote(as_operand(python_scalar(input), "where"), as_operand(python_scalar(other), "where"))
    return Where.apply(a, b, condition=condition)


# ------------------------------------------------------------------ comparisons


def _compare(ufunc, name):
    def compare(input, other) -> Tensor:
        a = input._data if isinstance(input, Tensor) else input
        b = other._data if isinstance(other, Tensor) else other
        try:
            return _wrap(np.asarray(ufunc(a, b)))
        except ValueError as error:
            raise RuntimeError(f"{name}: {error}") from None

    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{name}`` (a bool tensor; not differentiable)."
    return compare


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")
bitwise_and = _compare(np.bitwise_and, "bitwise_and")
bitwise_or = _compare(np.bitwise_or, "bitwise_or")
bitwise_xor = _compare(np.bitwise_xor, "bitwise_xor")


def logical_not(input: Tensor) -> Tensor:
    return _wrap(np.logical_not(input._data))


def bitwise_not(input: Tensor) -> Tensor:
    return _wrap(np.invert(input._data))


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and values."""
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data, other._data))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input: Tensor, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    b = other._data if isinstance(other, Tensor) else other
    return _wrap(np.isclose(input._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isnan(input: Tensor) -> Tensor:
    return _wrap(np.isnan(input._data))


def isinf(input: Tensor) -> Tensor:
    return _wrap(np.isinf(input._data))


def isfinite(input: Tensor) -> Tensor:
    return _wrap(np.isfinite(input._data))


# ------------------------------------------------------------------ in-place ops


def apply_inplace(target: Tensor, compute, name: str, fast=None) -> Tensor:
    """Run ``compute(source) -> Tensor`` and make its result ``target``'s new value.

    When the graph is recorded, the result is computed out of place from a
    copy of ``target``'s old value (which the new nodes may save), written
    back into ``target``'s array (so views, ``.numpy()`` and ``detach()``
    aliases see it, as in PyTorch), and ``target`` takes over the result's
    history; nodes that saved the old ``target`` find its version bumped and
    refuse to run. Otherwise the array is updated in place directly
    (``fast(array)`` when given).
    """
    if GradMode.enabled and (target._requires_grad or _others_require_grad(compute)):
        if target.grad_fn is None and target._requires_grad:
            raise RuntimeError(
                f"{name}: a leaf Variable that requires grad is being used in an in-place operation "
                "(wrap the update in retrograd.no_grad(), or clone() the tensor first)"
            )
        array = target._data
        writable = array.flags.writeable
        source = _wrap(array.copy() if writable else array, target.grad_fn, target._output_nr)
        result = compute(source)
        _check_inplace_shape(target, result, name)
        if result._data.dtype != array.dtype:
            if not np.can_cast(result._data.dtype, array.dtype, "same_kind"):
                raise RuntimeError(
                    f"{name}: result type {result.dtype} can't be cast to the desired output type {target.dtype}"
                )
            result = result.to(array.dtype)
        if writable:
            np.copyto(array, result._data)
        else:  # a broadcast (read-only) array: the tensor gets the result's array instead
            target._data = result._data
        target.grad_fn = result.grad_fn
        target._output_nr = result._output_nr
        target._requires_grad = result._requires_grad
    else:
        try:
            if fast is not None:
                fast(target._data)
            else:
                result = compute(target)
                _check_inplace_shape(target, result, name)
                np.copyto(target._data, result._data, casting="same_kind")
        except (ValueError, TypeError) as error:
            raise RuntimeError(
                f"{name}: cannot write the result into the tensor of shape "
                f"{list(target.shape)} and dtype {target.dtype}: {error}"
            ) from None
    target._version += 1
    return target


def _broadcasts_to(shape: tuple, target_shape: tuple) -> bool:
    if len(shape) > len(target_shape):
        return False
    return all(s in (1, t) for s, t in zip(reversed(shape), reversed(target_shape)))


def _others_require_grad(compute) -> bool:
    others = getattr(compute, "others", ())
    return any(isinstance(o, Tensor) and o._requires_grad for o in others)


def _check_inplace_shape(target: Tensor, result: Tensor, name: str) -> None:
    if result._data.shape != target._data.shape:
        raise RuntimeError(
            f"{name}: output with shape {list(target.shape)} doesn't match the broadcast shape {list(result.shape)}"
        )


class _Compute:
    """``compute(source)`` for ``apply_inplace``, remembering the other operands
    so it can tell whether any of them requires grad."""

    __slots__ = ("fn", "others")

    def __init__(self, fn, *others):
        self.fn = fn
        self.others = others

    def __call__(self, source):
        return self.fn(source, *self.others)


def _ufunc_inplace(ufunc, other):
    value = other._data if isinstance(other, Tensor) else other

    def fast(array):
        ufunc(array, value, out=array, casting="same_kind")

    return fast


def add_(self: Tensor, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        other = mul(other, alpha)
    return apply_inplace(self, _Compute(add, other), "add_", _ufunc_inplace(np.add, other))


def sub_(self: Tensor, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        other = mul(other, alpha)
    return apply_inplace(self, _Compute(sub, other), "sub_", _ufunc_inplace(np.subtract, other))


def mul_(self: Tensor, other) -> Tensor:
    return apply_inplace(self, _Compute(mul, other), "mul_", _ufunc_inplace(np.multiply, other))


def div_(self: Tensor, other) -> Tensor:
    if self._data.dtype.kind != "f":
        raise RuntimeError(f"div_: result type float can't be cast to the desired output type {self.dtype}")
    return apply_inplace(self, _Compute(div, other), "div_", _ufunc_inplace(np.true_divide, other))


def pow_(self: Tensor, exponent) -> Tensor:
    return apply_inplace(self, _Compute(pow, exponent), "pow_")


def neg_(self: Tensor) -> Tensor:
    return apply_inplace(self, _Compute(neg), "neg_")


def exp_(self: Tensor) -> Tensor:
    return apply_inplace(self, _Compute(exp), "exp_")


def log_(self: Tensor) -> Tensor:
    return apply_inplace(self, _Compute(log), "log_")


def inplace_copy(target: Tensor, src) -> Tensor:
    """``target.copy_(src)``: src broadcast to target's shape and cast to its dtype."""
    src = as_operand(src, "copy_")
    if not _broadcasts_to(src._data.shape, target._data.shape):
        raise RuntimeError(
            f"copy_: the source of shape {list(src.shape)} cannot be broadcast to the tensor's shape {list(target.shape)}"
        )

    def copied(source, value):
        return Copy.apply(source, value)

    def fast(array):
        np.copyto(array, np.broadcast_to(src._data, array.shape), casting="unsafe")

    return apply_inplace(target, _Compute(copied, src), "copy_", fast)


def inplace_fill(target: Tensor, value) -> Tensor:
    if isinstance(value, Tensor):
        if value._data.size != 1:
            raise RuntimeError(f"fill_: only supports a 0-dimensional value tensor, got shape {list(value.shape)}")
        return inplace_copy(target, value.reshape(()))

    def filled(source):
        return Fill.apply(source, value=value)

    def fast(array):
        array.fill(value)

    return apply_inplace(target, _Compute(filled), "fill_", fast)


__all__ = [
    "add", "sub", "rsub", "mul", "div", "true_divide", "divide", "multiply", "subtract", "pow", "neg",
    "negative", "positive", "exp", "log", "where", "eq", "ne", "lt", "le", "gt", "ge", "less", "less_equal", "greater",
    "greater_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "equal", "allclose", "isclose", "isnan", "isinf", "isfinite",
]  # fmt: skip
TENSOR_METHODS = {
    name: globals()[name]
    for name in __all__ + ["add_", "sub_", "mul_", "div_", "pow_", "neg_", "exp_", "log_"]
    if name not in ("where",)
}
TENSOR_METHODS["where"] = lambda self, condition, other: where(condition, self, other)
