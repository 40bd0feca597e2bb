"""Pointwise math and activations: abs and sign, roots and reciprocals, exp and
log variants, trigonometry, erf, sigmoid and the rectifier family, smooth
activations (gelu, silu, softplus, mish), clamping, rounding, and dropout.

Every op maps each element on its own, so no gradient needs reducing except
for the binary ones (``maximum``, ``minimum``, ``clamp`` with tensor bounds),
whose broadcast gradients the engine sums back. Gradients at kinks and ties
follow PyTorch's conventions, noted at each op. Math functions of integer
tensors compute in the default float dtype; ``abs``, ``relu``, ``clamp``,
``maximum`` and the rounding ops keep integer dtypes, as in PyTorch.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _jit, random
from ..autograd.function import Op
from ..autograd.grad_mode import GradMode
from . import elementwise as ew
from .common import Tensor, _wrap, as_operand, is_scalar, result_dtype
from .elementwise import _Compute, _floating, apply_inplace

# ------------------------------------------------------------------- helpers


def _require_tensor(input, name: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input


def _require_floating(input, name: str) -> Tensor:
    """The activations PyTorch defines for floating tensors only."""
    _require_tensor(input, name)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"{name}: expected a floating-point tensor, got {input.dtype}")
    return input


def _require_number(value, name: str, argument: str) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}(): argument '{argument}' must be a number, not {type(value).__name__}")


def _float_input(input, name: str) -> Tensor:
    """Math functions of integer tensors compute in the default float dtype."""
    return _floating(_require_tensor(input, name))


def _pass_where(mask: np.ndarray, grad: Tensor) -> Tensor:
    """``grad`` where ``mask`` holds, zero elsewhere (the mask is a constant)."""
    return ew.where(mask, grad, 0.0)


def _scale_by(grad: Tensor, factor: np.ndarray) -> Tensor:
    """``grad`` times a constant (piecewise-constant derivative) array."""
    return grad * _wrap(factor.astype(grad._data.dtype, copy=False))


# --------------------------------------------------------------- abs and sign


class Abs(Op):
    """The gradient at 0 is 0 (``sign(0)``), as in PyTorch."""

    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return np.abs(a)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * sign(x)


def abs(input: Tensor) -> Tensor:
    """``|input|``, keeping integer dtypes."""
    if _require_tensor(input, "abs")._data.dtype == np.bool_:
        raise RuntimeError("abs: not implemented for bool tensors")
    return Abs.apply(input)


absolute = abs


class _ZeroGradient(Op):
    """Base of the piecewise-constant ops (sign, floor, ceil, round, trunc):
    PyTorch gives them a gradient of zeros rather than none."""

    __slots__ = ()

    def backward(self, grad):
        return ew.zeros_like_tensor(grad)


class Sign(_ZeroGradient):
    """-1, 0 or 1; NaN gives 0 as in PyTorch."""

    __slots__ = ()

    def forward(self, a):
        if a.dtype == np.bool_:
            return a.copy()
        out = np.asarray(np.sign(a))  # an array even for 0-d input, to write into
        if a.dtype.kind == "f":
            out[np.isnan(out)] = 0
        return out


def sign(input: Tensor) -> Tensor:
    return Sign.apply(_require_tensor(input, "sign"))


# ---------------------------------------------------- roots, powers, reciprocal


class Sqrt(Op):
    __slots__ = ()
    save_output = True

    def forward(self, a):
        return np.sqrt(a)

    def backward(self, grad):
        return grad / (self.output() * 2.0)


def sqrt(input: Tensor) -> Tensor:
    return Sqrt.apply(_float_input(input, "sqrt"))


class Rsqrt(Op):
    """``1 / sqrt(x)``; the gradient ``-0.5 * y**3`` comes from the output."""

    __slots__ = ()
    save_output = True

    def forward(self, a):
        return 1 / np.sqrt(a)

    def backward(self, grad):
        out = self.output()
        return grad * (out * out * out) * -0.5


def rsqrt(input: Tensor) -> Tensor:
    return Rsqrt.apply(_float_input(input, "rsqrt"))


class Square(Op):
    __slots__ = ()
    backward_name = "PowBackward0"  # PyTorch computes square as pow(x, 2)
    save_inputs = True

    def forward(self, a):
        return np.square(a)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * x * 2.0


def square(input: Tensor) -> Tensor:
    """``input * input``, keeping integer dtypes."""
    input = _require_tensor(input, "square")
    if input._data.dtype == np.bool_:
        input = input.to(np.int64)
    return Square.apply(input)


class Reciprocal(Op):
    __slots__ = ()
    save_output = True

    def forward(self, a):
        return 1 / a

    def backward(self, grad):
        out = self.output()
        return -grad * (out * out)


def reciprocal(input: Tensor) -> Tensor:
    return Reciprocal.apply(_float_input(input, "reciprocal"))


# --------------------------------------------------------- exp and log variants


class Log1p(Op):
    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return np.log1p(a)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad / (x + 1.0)


def log1p(input: Tensor) -> Tensor:
    """``log(1 + input)``, accurate for small inputs."""
    return Log1p.apply(_float_input(input, "log1p"))


class Expm1(Op):
    __slots__ = ()
    save_output = True

    def forward(self, a):
        return np.expm1(a)

    def backward(self, grad):
        return grad * (self.output() + 1.0)


def expm1(input: Tensor) -> Tensor:
    """``exp(input) - 1``, accurate for small inputs."""
    return Expm1.apply(_float_input(input, "expm1"))


class Log2(Op):
    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return np.log2(a)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad / (x * math.log(2.0))


def log2(input: Tensor) -> Tensor:
    return Log2.apply(_float_input(input, "log2"))


class Log10(Op):
    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return np.log10(a)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad / (x * math.log(10.0))


def log10(input: Tensor) -> Tensor:
    return Log10.apply(_float_input(input, "log10"))


class Exp2(Op):
    __slots__ = ()
    save_output = True

    def forward(self, a):
        return np.exp2(a)

    def backward(self, grad):
        return grad * self.output() * math.log(2.0)


def exp2(input: Tensor) -> Tensor:
    """``2 ** input``."""
    return Exp2.apply(_float_input(input, "exp2"))


# ------------------------------------------------------------------ trigonometry


class Sin(Op):
    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return np.sin(a)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * cos(x)


def sin(input: Tensor) -> Tensor:
    return Sin.apply(_float_input(input, "sin"))


class Cos(Op):
    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return np.cos(a)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return -grad * sin(x)


def cos(input: Tensor) -> Tensor:
    return Cos.apply(_float_input(input, "cos"))


class Tanh(Op):
    __slots__ = ()
    save_output = True

    def forward(self, a):
        return np.tanh(a)

    def backward(self, grad):
        if not GradMode.enabled:
            y = self.output_array()
            if grad._data.dtype == y.dtype:
                # A plain backward (no create_graph) needs no graph of its own:
                # the same formula in NumPy, without three intermediate tensors.
                slope = np.square(y, out=np.empty_like(y))
                np.subtract(1.0, slope, out=slope)
                slope *= grad._data
                return _wrap(slope)
        out = self.output()
        return grad * (1.0 - out * out)


def tanh(input: Tensor) -> Tensor:
    if isinstance(input, Tensor) and input._data.dtype.kind == "f":  # the common case, checked inline
        return Tanh.apply(input)
    return Tanh.apply(_float_input(input, "tanh"))


# ------------------------------------------------------------ the error function

# NumPy has no erf, and SciPy is not a dependency, so erf and erfc are W. J.
# Cody's rational Chebyshev approximations ("Rational Chebyshev approximations
# for the error function", Math. Comp. 23, 1969; Netlib SPECFUN CALERF), which
# are accurate to a few units in the last place of a float64 on three ranges:
# erf(x) = x P(x^2)/Q(x^2) for |x| <= 0.46875, erfc(x) = exp(-x^2) P(x)/Q(x)
# for 0.46875 < |x| <= 4, and an asymptotic form in 1/x^2 beyond.
_ERF_SMALL_NUM = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03)
_ERF_SMALL_NUM_LEAD = 1.85777706184603153e-1
_ERF_SMALL_DEN = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERFC_MID_NUM = (
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
)
_ERFC_MID_NUM_LEAD = 2.15311535474403846e-8
_ERFC_MID_DEN = (
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
_ERFC_LARGE_NUM = (
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
)
_ERFC_LARGE_NUM_LEAD = 1.63153871373020978e-2
_ERFC_LARGE_DEN = (
    2.56852019228982242e00,
    1.87295284992346047e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)
_ONE_OVER_SQRT_PI = 5.6418958354775628695e-1
_ERF_SMALL_LIMIT = 0.46875
_ERF_MID_LIMIT = 4.0
_ERFC_UNDERFLOW = 28.0  # erfc(28) underflows to 0 (and erf is ±1): no need to go further, or to inf


def _exp_minus_square(y: np.ndarray) -> np.ndarray:
    """``exp(-y*y)`` with y*y split into an exactly representable part and a
    small remainder, so the rounding of y*y does not spoil erfc's relative accuracy."""
    head = y * 16.0
    np.trunc(head, out=head)
    head /= 16.0
    remainder = y - head
    remainder *= y + head
    np.negative(remainder, out=remainder)
    np.exp(remainder, out=remainder)
    head *= head
    np.negative(head, out=head)
    np.exp(head, out=head)
    head *= remainder
    return head


def _rational(t: np.ndarray, lead: float, numerator_coefficients, denominator_coefficients) -> np.ndarray:
    """``P(t) / Q(t)`` by Horner's rule, P with leading coefficient ``lead`` and Q
    monic, both ending in their last coefficients; updated in place to spare
    temporaries (the polynomials run over every element)."""
    numerator = t * lead
    denominator = t.copy()
    for c, d in zip(numerator_coefficients[:-1], denominator_coefficients[:-1], strict=True):
        numerator += c
        numerator *= t
        denominator += d
        denominator *= t
    numerator += numerator_coefficients[-1]
    denominator += denominator_coefficients[-1]
    numerator /= denominator
    return numerator


def _erfc_of_abs(y: np.ndarray) -> np.ndarray:
    """erfc(y) for y = |x| > 0.46875."""
    out = np.empty_like(y)
    mid = y <= _ERF_MID_LIMIT
    ym = y[mid]
    ratio = _rational(ym, _ERFC_MID_NUM_LEAD, _ERFC_MID_NUM, _ERFC_MID_DEN)
    ratio *= _exp_minus_square(ym)
    out[mid] = ratio

    large = ~mid  # includes NaN, which propagates through the formula
    yl = np.minimum(y[large], _ERFC_UNDERFLOW)
    inverse_square = 1.0 / (yl * yl)
    correction = _rational(inverse_square, _ERFC_LARGE_NUM_LEAD, _ERFC_LARGE_NUM, _ERFC_LARGE_DEN)
    correction *= inverse_square
    np.subtract(_ONE_OVER_SQRT_PI, correction, out=correction)
    correction /= yl
    correction *= _exp_minus_square(yl)
    out[large] = correction
    return out


def _erf_small(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| <= 0.46875."""
    ratio = _rational(x * x, _ERF_SMALL_NUM_LEAD, _ERF_SMALL_NUM, _ERF_SMALL_DEN)
    ratio *= x
    return ratio


def _erf_float64(x: np.ndarray, complement: bool) -> np.ndarray:
    """erf(x) or erfc(x) of a float64 array by Cody's three ranges."""
    y = np.abs(x)
    out = np.empty_like(x)
    small = y <= _ERF_SMALL_LIMIT
    erf_small = _erf_small(x[small])
    if complement:
        np.subtract(1.0, erf_small, out=erf_small)
    out[small] = erf_small
    large = ~small
    tail = _erfc_of_abs(y[large])  # erfc(|x|)
    x_large = x[large]
    if complement:
        negative = x_large < 0  # erfc(-y) = 2 - erfc(y)
        tail[negative] = 2.0 - tail[negative]
    else:
        np.subtract(1.0, tail, out=tail)  # erf(-y) = -erf(y)
        np.copysign(tail, x_large, out=tail)
    out[large] = tail
    return out


# float32 needs far less: Cody's middle-range rational times exp(-y^2) stays
# within 5e-10 (relative) of erfc(y) on all of [0, 10.5] (erfc(10.5) is already
# below float32's smallest number), against float32's rounding step of 6e-8.
# So for float32 one formula serves every |x|, with no masks; all its
# coefficients are positive, so Horner's rule in float32 loses only an ulp or
# two. Beyond _RATIONAL_CAP the ratio P/Q is never needed (exp(-y^2) is 0) and
# would turn into inf/inf, so its argument is capped there.
_RATIONAL_CAP = 12.0
_SQUARE_SPLIT_CAP = 16.0  # exp(-x^2 / 2) underflows float32 well before |x| = 16


def _exp_minus_square_float32(x: np.ndarray, scale: float) -> np.ndarray:
    """``exp(-scale * x*x)`` of a float32 array for ``scale`` 1 or 1/2, as
    ``_exp_minus_square`` does it: x*x rounded to float32 would be off by up to
    x*x * 6e-8 (a relative error of that size after exp), so x splits into a
    head (x truncated to a multiple of 1/64, whose square is exact in float32
    for |x| <= 16) and a small remainder, each with its own exp."""
    clipped = np.clip(x, -_SQUARE_SPLIT_CAP, _SQUARE_SPLIT_CAP)
    head = clipped * 64.0
    np.trunc(head, out=head)
    head *= 1.0 / 64.0
    remainder = clipped - head  # exact
    clipped += head
    remainder *= clipped  # x*x - head*head
    remainder *= -scale
    np.exp(remainder, out=remainder)
    head *= head
    head *= -scale
    np.exp(head, out=head)
    head *= remainder
    return head


def _scaled_erfc_float32(y: np.ndarray) -> np.ndarray:
    """``erfc(y) * exp(y^2)`` for a float32 array y >= 0 (NaN passes through)."""
    capped = np.minimum(y, _RATIONAL_CAP)
    return _rational(capped, _ERFC_MID_NUM_LEAD, _ERFC_MID_NUM, _ERFC_MID_DEN)


def _erf_float32(x: np.ndarray, complement: bool) -> np.ndarray:
    """erf(x) or erfc(x) of a float32 array, in float32 (see above)."""
    y = np.abs(x)
    tail = _scaled_erfc_float32(y)
    tail *= _exp_minus_square_float32(x, 1.0)  # erfc(|x|)
    if complement:
        return np.where(x < 0, 2.0 - tail, tail)  # erfc(-y) = 2 - erfc(y)
    np.subtract(1.0, tail, out=tail)
    np.copysign(tail, x, out=tail)  # erf(-y) = -erf(y)
    # Near 0, 1 - erfc(|x|) would lose erf's relative accuracy.
    small = y <= _ERF_SMALL_LIMIT
    tail[small] = _erf_small(x[small])
    return tail


def erf_array(x: np.ndarray, complement: bool = False) -> np.ndarray:
    """erf(x) (or erfc(x) with ``complement``) of a float array, in x's dtype:
    float32 computes in float32 to within a few ulp, every other dtype in
    float64 to within a few float64 ulp."""
    if x.dtype == np.float32:
        # The in-place steps need arrays, which arithmetic on 0-d arrays does not return.
        return _erf_float32(x.reshape(x.shape or (1,)), complement).reshape(x.shape)
    out = _erf_float64(np.asarray(x, dtype=np.float64), complement)
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Erf(Op):
    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return erf_array(a)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * (-(x * x)).exp() * _TWO_OVER_SQRT_PI


def erf(input: Tensor) -> Tensor:
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``."""
    return Erf.apply(_float_input(input, "erf"))


class Erfc(Op):
    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return erf_array(a, complement=True)

    def backward(self, grad):
        (x,) = self.saved_inputs
        return grad * (-(x * x)).exp() * -_TWO_OVER_SQRT_PI


def erfc(input: Tensor) -> Tensor:
    """``1 - erf(input)``, accurate where erf is close to 1."""
    return Erfc.apply(_float_input(input, "erfc"))


# ----------------------------------------------------------- sigmoid and logit


def _sigmoid_array(a: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-a))`` without overflow: exp only ever sees -|a|."""
    decay = np.exp(-np.abs(a))
    return np.where(a >= 0, 1, decay) / (1 + decay)


class Sigmoid(Op):
    __slots__ = ()
    save_output = True

    def forward(self, a):
        return _sigmoid_array(a)

    def backward(self, grad):
        if not GradMode.enabled:
            y = self.output_array()
            if grad._data.dtype == y.dtype:  # as in Tanh: the same formula in NumPy
                slope = np.subtract(1.0, y, out=np.empty_like(y))
                slope *= y
                slope *= grad._data
                return _wrap(slope)
        out = self.output()
        return grad * out * (1.0 - out)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-input))``, finite and exact at both tails."""
    if isinstance(input, Tensor) and input._data.dtype.kind == "f":  # the common case, checked inline
        return Sigmoid.apply(input)
    return Sigmoid.apply(_float_input(input, "sigmoid"))


class Logit(Op):
    """``log(p / (1 - p))``; with ``eps``, p is clamped to [eps, 1 - eps] first
    and the gradient is zero outside that interval (PyTorch's convention)."""

    __slots__ = ("eps",)
    save_inputs = True

    def forward(self, a, eps):
        self.eps = eps
        if eps is not None:
            a = np.clip(a, eps, 1 - eps)
        return np.log(a / (1 - a))

    def backward(self, grad):
        (x,) = self.saved_inputs
        if self.eps is None:
            return grad / (x * (1.0 - x))
        inside = (x._data >= self.eps) & (x._data <= 1 - self.eps)
        # Replace the masked-out points by 0.5 before dividing, so that neither
        # this gradient nor its own derivative meets 0 / 0 there.
        safe_x = ew.where(inside, x, 0.5)
        return _pass_where(inside, grad / (safe_x * (1.0 - safe_x)))


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """The inverse of sigmoid, ``log(input / (1 - input))``."""
    if eps is not None:
        _require_number(eps, "logit", "eps")
    return Logit.apply(_float_input(input, "logit"), eps=eps)


# ----------------------------------------------------------------- rectifiers


@_jit.kernel(parallel=True)
def _relu_backward_kernel(out, grad, result):  # pragma: no cover - compiled by Numba
    for i in _jit.prange(out.size):
        result[i] = 0.0 if out[i] <= 0 else grad[i]


def _relu_backward_array(out: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """``grad`` where ``out`` is not <= 0 (so NaN passes), +0 elsewhere, even where
    grad is inf or NaN. One pass with the kernel; without it, clearing the
    bits of the blocked elements (``np.where`` with a mask of random layout is
    several times slower than these whole-array integer passes)."""
    kernel = _relu_backward_kernel.compiled(out.size)
    if kernel is not None and out.shape == grad.shape:
        result = np.empty(out.shape, dtype=grad.dtype)
        kernel(np.ascontiguousarray(out).reshape(-1), np.ascontiguousarray(grad).reshape(-1), result.reshape(-1))
        return result
    bits = np.dtype(f"i{grad.dtype.itemsize}")
    keep = np.less_equal(out, 0).astype(bits)
    keep -= 1  # all ones where the gradient passes, 0 where it is blocked
    return np.bitwise_and(grad.view(bits), keep).view(grad.dtype)


class Relu(Op):
    """The gradient passes where the output is not <= 0, so it is 0 at x == 0
    and passes through NaN, as in PyTorch."""

    __slots__ = ()
    save_output = True

    def forward(self, a):
        return np.maximum(a, 0)

    def backward(self, grad):
        out = self.output_array()
        if not GradMode.enabled and grad._data.dtype.kind == "f":
            # As in Tanh: a plain backward masks the gradient in NumPy directly.
            return _wrap(_relu_backward_array(out, grad._data))
        return _pass_where(~(out <= 0), grad)


def relu(input: Tensor) -> Tensor:
    """``max(input, 0)``, keeping integer dtypes."""
    if _require_tensor(input, "relu")._data.dtype == np.bool_:
        raise RuntimeError("relu: Boolean inputs not supported for relu")
    return Relu.apply(input)


class LeakyRelu(Op):
    """``x`` for x > 0, else ``negative_slope * x``; at 0 the slope is ``negative_slope``."""

    __slots__ = ("negative_slope",)
    save_inputs = True

    def forward(self, a, negative_slope):
        self.negative_slope = negative_slope
        return np.where(a > 0, a, a * negative_slope)

    def backward(self, grad):
        (x,) = self.saved_inputs
        g = grad._data
        one, slope = g.dtype.type(1), g.dtype.type(self.negative_slope)  # not float64 scalars
        if not GradMode.enabled:
            return _wrap(g * np.where(x._data > 0, one, slope))
        return _scale_by(grad, np.where(x._data > 0, one, slope))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    _require_floating(input, "leaky_relu")
    _require_number(negative_slope, "leaky_relu", "negative_slope")
    if inplace:
        return leaky_relu_(input, negative_slope)
    return LeakyRelu.apply(input, negative_slope=negative_slope)


class Elu(Op):
    """``x`` for x > 0, else ``alpha * (exp(x) - 1)``. The slope there,
    ``alpha * exp(x)``, equals ``output + alpha``, which stays finite for any x."""

    __slots__ = ("alpha",)
    save_inputs = True
    save_output = True

    def forward(self, a, alpha):
        self.alpha = alpha
        return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))

    def backward(self, grad):
        (x,) = self.saved_inputs
        return ew.where(x._data > 0, grad, grad * (self.output() + self.alpha))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    _require_floating(input, "elu")
    _require_number(alpha, "elu", "alpha")
    if inplace:
        return elu_(input, alpha)
    return Elu.apply(input, alpha=alpha)


class Hardtanh(Op):
    """``input`` clamped to [min_val, max_val]; unlike clamp, the gradient is
    zero *at* the bounds as well as beyond them (PyTorch's convention)."""

    __slots__ = ("max_val", "min_val")
    save_inputs = True

    def forward(self, a, min_val, max_val):
        self.min_val, self.max_val = min_val, max_val
        return np.clip(a, min_val, max_val).astype(a.dtype, copy=False)

    def backward(self, grad):
        (x,) = self.saved_inputs
        a = x._data
        return _pass_where(~((a <= self.min_val) | (a >= self.max_val)), grad)


def _check_hardtanh_bounds(min_val, max_val) -> None:
    _require_number(min_val, "hardtanh", "min_val")
    _require_number(max_val, "hardtanh", "max_val")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val}, max_val={max_val}")


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    _require_tensor(input, "hardtanh")
    _check_hardtanh_bounds(min_val, max_val)
    if inplace:
        return hardtanh_(input, min_val, max_val)
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``: hardtanh on [0, 6], so the gradient is 0 at 0 and 6."""
    return hardtanh(input, 0.0, 6.0, inplace)


# --------------------------------------------------------- smooth activations

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_GELU_SCALE = math.sqrt(2.0 / math.pi)
_TANH_GELU_CUBIC = 0.044715
_TANH_GELU_CLIP = 1e4

# GELU's forward also returns its slope (the derivative d gelu / dx) when a
# graph is being recorded: it shares nearly all the work, and a plain backward
# is then one multiplication instead of recomputing erf.


def _gelu_exact_numpy(a: np.ndarray, with_slope: bool):
    """``x * Phi(x)`` and its slope ``Phi(x) + x * phi(x)`` in a's dtype, with
    Phi(-|x|) = erfc(|x| / sqrt 2) / 2 so the negative tail keeps its relative
    accuracy (``1 + erf`` would cancel there)."""
    if a.dtype == np.float32:
        exp_half_square = _exp_minus_square_float32(a, 0.5)  # exp(-x^2 / 2)
        lower = _scaled_erfc_float32(np.abs(a) * _SQRT1_2)
        lower *= exp_half_square
    else:
        exp_half_square = np.exp(a * a * -0.5)
        lower = _erf_float64(np.abs(a) * _SQRT1_2, complement=True)
    lower *= 0.5  # Phi(-|x|)
    cdf = np.where(a < 0, lower, 1.0 - lower)
    out = a * cdf
    if not with_slope:
        return out, None
    slope = exp_half_square
    slope *= _INV_SQRT_2PI
    slope *= a
    slope += cdf
    return out, slope


def _gelu_tanh_numpy(a: np.ndarray, with_slope: bool):
    """PyTorch's tanh approximation ``x/2 * (1 + tanh(u))``, u = sqrt(2/pi) (x +
    0.044715 x^3), and its slope. ``(1 + tanh(u)) / 2`` is computed as
    ``sigmoid(2u)``, which keeps its relative accuracy in the negative tail
    where ``1 + tanh(u)`` cancels."""
    # Beyond |x| = 1e4 the sigmoid is exactly 0 or 1; clipping there keeps x^3 finite.
    clipped = np.clip(a, -_TANH_GELU_CLIP, _TANH_GELU_CLIP)
    cubic_factor = clipped * clipped
    cubic_factor *= _TANH_GELU_CUBIC
    cubic_factor += 1.0  # 1 + 0.044715 x^2
    twice_u = clipped * cubic_factor
    twice_u *= 2.0 * _TANH_GELU_SCALE
    cdf = _sigmoid_array(twice_u)
    out = a * cdf
    if not with_slope:
        return out, None
    # d cdf / dx = 2 sigmoid(2u) (1 - sigmoid(2u)) du/dx, du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    slope = np.subtract(1.0, cdf, out=twice_u)
    slope *= cdf
    cubic_factor *= 3.0
    cubic_factor -= 2.0
    slope *= cubic_factor
    slope *= a
    slope *= 2.0 * _TANH_GELU_SCALE
    slope += cdf
    return out, slope


# The float32 kernel: one pass for output and slope, computed in float64 in
# registers (float32 in and out), within half an ulp of the float32 result.
# NumPy's exp cannot be called from a loop that should vectorize (it becomes a
# libm call per element), so exp(q) for the q <= 0 needed here is written out:
# exp(q) = (exp(-15/32) * exp(q/128 + 15/32)) ** 128, the inner exp by its
# Taylor series on [-15/32, 15/32] (error 3e-13) and then seven squarings
# (error at most 128 times that). Below q = -120 every term that uses
# exp(q) is under float32's smallest number, and exp(q) is taken as 0.
_EXP_TAYLOR = tuple(1.0 / math.factorial(n) for n in range(12))
_EXP_SHIFT = 15.0 / 32.0
_EXP_OF_MINUS_SHIFT = math.exp(-_EXP_SHIFT)
_EXP_FLOOR = -120.0
_N0, _N1, _N2, _N3, _N4, _N5, _N6, _N7 = _ERFC_MID_NUM
_D0, _D1, _D2, _D3, _D4, _D5, _D6, _D7 = _ERFC_MID_DEN


@_jit.kernel(parallel=True)
def _gelu_kernel(x, out, slope, tanh_form, with_slope):  # pragma: no cover - compiled by Numba
    for i in _jit.prange(x.size):
        v = np.float64(x[i])
        # The exponent q <= 0 that each form needs: exp(-x^2 / 2) for the
        # exact form, exp(-2 |u|) for tanh (whose cdf is sigmoid(2u)).
        # (Both arguments are computed: a variable set in only one branch
        # keeps Numba from vectorizing the loop.)
        u = _TANH_GELU_SCALE * (v + _TANH_GELU_CUBIC * v * v * v)
        z = math.fabs(v) * _SQRT1_2
        q = -2.0 * math.fabs(u) if tanh_form else -(z * z)
        s = max(q, _EXP_FLOOR) * (1.0 / 128.0) + _EXP_SHIFT
        e = _EXP_TAYLOR[11]
        e = e * s + _EXP_TAYLOR[10]
        e = e * s + _EXP_TAYLOR[9]
        e = e * s + _EXP_TAYLOR[8]
        e = e * s + _EXP_TAYLOR[7]
        e = e * s + _EXP_TAYLOR[6]
        e = e * s + _EXP_TAYLOR[5]
        e = e * s + _EXP_TAYLOR[4]
        e = e * s + _EXP_TAYLOR[3]
        e = e * s + _EXP_TAYLOR[2]
        e = e * s + _EXP_TAYLOR[1]
        e = e * s + _EXP_TAYLOR[0]
        e *= _EXP_OF_MINUS_SHIFT
        e *= e
        e *= e
        e *= e
        e *= e
        e *= e
        e *= e
        e *= e
        e = e if q >= _EXP_FLOOR else 0.0
        if tanh_form:
            # (1 + tanh u) / 2 = sigmoid(2u) = 1 / (1 + e) for u >= 0, e / (1 + e) below:
            # neither cancels. Its derivative in u is 2 sigmoid (1 - sigmoid) = 2 e / (1 + e)^2.
            inverse = 1.0 / (1.0 + e)
            cdf = inverse if u >= 0 else e * inverse
            d_cdf = 2.0 * e * inverse * inverse * _TANH_GELU_SCALE * (1.0 + 3.0 * _TANH_GELU_CUBIC * v * v)
        else:
            # erfc(z) = exp(-z^2) P(z) / Q(z), Cody's middle range (see _scaled_erfc_float32).
            y = min(z, _RATIONAL_CAP)
            p = _ERFC_MID_NUM_LEAD * y + _N0
            p = p * y + _N1
            p = p * y + _N2
            p = p * y + _N3
            p = p * y + _N4
            p = p * y + _N5
            p = p * y + _N6
            p = p * y + _N7
            d = y + _D0
            d = d * y + _D1
            d = d * y + _D2
            d = d * y + _D3
            d = d * y + _D4
            d = d * y + _D5
            d = d * y + _D6
            d = d * y + _D7
            lower = 0.5 * e * (p / d)  # Phi(-|x|)
            cdf = lower if v < 0 else 1.0 - lower
            d_cdf = _INV_SQRT_2PI * e
        out[i] = v * cdf
        if with_slope:
            slope[i] = cdf + v * d_cdf


def _gelu_arrays(a: np.ndarray, approximate: str, with_slope: bool):
    """GELU of ``a`` and (``with_slope``) its slope, by the kernel for float32
    when Numba is available, by NumPy otherwise."""
    kernel = _gelu_kernel.compiled(a.size) if a.dtype == np.float32 else None
    if kernel is None:
        numpy_path = _gelu_tanh_numpy if approximate == "tanh" else _gelu_exact_numpy
        # The in-place steps need arrays, which arithmetic on 0-d arrays does not return.
        out, slope = numpy_path(a.reshape(a.shape or (1,)), with_slope)
        return out.reshape(a.shape), slope.reshape(a.shape) if with_slope else None
    flat = np.ascontiguousarray(a).reshape(-1)
    out = np.empty(a.shape, dtype=a.dtype)
    slope = np.empty(a.shape, dtype=a.dtype) if with_slope else out
    kernel(flat, out.reshape(-1), slope.reshape(-1), approximate == "tanh", with_slope)
    return out, slope if with_slope else None


class Gelu(Op):
    """``x * Phi(x)`` with Phi the standard normal CDF, exactly (through erfc) or
    with PyTorch's tanh approximation. Forward keeps the slope when the node is
    recorded; a plain backward multiplies by it, a graph-building backward
    differentiates the formula again with retrograd ops."""

    __slots__ = ("approximate",)
    save_inputs = True

    def forward(self, a, approximate, with_slope):
        self.approximate = approximate
        out, self.saved = _gelu_arrays(a, approximate, with_slope)
        return out

    def backward(self, grad):
        (x,) = self.saved_inputs  # also checks that x was not changed in place
        slope = self.saved
        if not GradMode.enabled and slope is not None and grad._data.dtype == slope.dtype:
            return _wrap(grad._data * slope)
        if self.approximate == "tanh":
            t = tanh((x + x * x * x * _TANH_GELU_CUBIC) * _TANH_GELU_SCALE)
            slope_of_half_x = (t + 1.0) * 0.5
            slope_of_tanh = x * 0.5 * (1.0 - t * t) * _TANH_GELU_SCALE * (x * x * (3 * _TANH_GELU_CUBIC) + 1.0)
            return grad * (slope_of_half_x + slope_of_tanh)
        cdf = erfc(x * -_SQRT1_2) * 0.5
        pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
        return grad * (cdf + x * pdf)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    _require_floating(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either 'none' or 'tanh', got {approximate!r}")
    # The slope is only worth computing when the node will be recorded.
    with_slope = GradMode.enabled and input._requires_grad
    return Gelu.apply(input, approximate=approximate, with_slope=with_slope)


class Silu(Op):
    """``x * sigmoid(x)`` (also called swish)."""

    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return a * _sigmoid_array(a)

    def backward(self, grad):
        (x,) = self.saved_inputs
        s = sigmoid(x)
        return grad * s * (x * (1.0 - s) + 1.0)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    _require_floating(input, "silu")
    if inplace:
        return apply_inplace(input, _Compute(silu), "silu_")
    return Silu.apply(input)


def _softplus_array(a: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    scaled = a * beta
    # exp never sees more than the threshold, so the branch np.where discards cannot overflow.
    smooth = np.log1p(np.exp(np.minimum(scaled, threshold))) / beta
    return np.where(scaled > threshold, a, smooth)


class Softplus(Op):
    """``log(1 + exp(beta * x)) / beta``, and plain ``x`` where ``beta * x > threshold``."""

    __slots__ = ("beta", "threshold")
    save_inputs = True

    def forward(self, a, beta, threshold):
        self.beta, self.threshold = beta, threshold
        return _softplus_array(a, beta, threshold)

    def backward(self, grad):
        (x,) = self.saved_inputs
        linear = x._data * self.beta > self.threshold
        return ew.where(linear, grad, grad * sigmoid(x * self.beta))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    _require_floating(input, "softplus")
    _require_number(beta, "softplus", "beta")
    _require_number(threshold, "softplus", "threshold")
    return Softplus.apply(input, beta=beta, threshold=threshold)


class Mish(Op):
    """``x * tanh(softplus(x))``."""

    __slots__ = ()
    save_inputs = True

    def forward(self, a):
        return a * np.tanh(_softplus_array(a, 1.0, 20.0))

    def backward(self, grad):
        (x,) = self.saved_inputs
        t = tanh(softplus(x))
        return grad * (t + x * sigmoid(x) * (1.0 - t * t))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    _require_floating(input, "mish")
    if inplace:
        return apply_inplace(input, _Compute(mish), "mish_")
    return Mish.apply(input)


# -------------------------------------------------------------------- clamping


class Clamp(Op):
    """``input`` clamped to number bounds; the gradient passes where
    min <= x <= max (bounds included, NaN excluded), as in PyTorch."""

    __slots__ = ("max", "min")
    backward_name = "ClampBackward1"
    save_inputs = True

    def forward(self, a, min, max):
        self.min, self.max = min, max
        return np.clip(a, min, max)

    def backward(self, grad):
        (x,) = self.saved_inputs
        a = x._data
        if self.min is None:
            inside = a <= self.max
        elif self.max is None:
            inside = a >= self.min
        else:
            inside = (a >= self.min) & (a <= self.max)
        return _pass_where(inside, grad)


class ClampTensor(Op):
    """``input`` clamped to tensor bounds, broadcasting. Inputs are (x, min, max)
    with either bound left out. A bound gets the gradient where it is the value
    taken; when min > max the result is max everywhere, as in PyTorch."""

    __slots__ = ("has_max", "has_min")
    backward_name = "ClampBackward0"
    save_inputs = True

    def forward(self, a, *bounds, has_min, has_max):
        self.has_min, self.has_max = has_min, has_max
        out = np.maximum(a, bounds[0]) if has_min else a
        return np.minimum(out, bounds[-1]) if has_max else out

    def backward(self, grad):
        x, *bounds = self.saved_inputs
        a = x._data
        low = bounds[0]._data if self.has_min else None
        high = bounds[-1]._data if self.has_max else None
        grads = []
        if self.next_edges[0] is not None:
            inside = np.ones(np.shape(a), dtype=bool)
            if low is not None:
                inside = inside & (a >= low)
            if high is not None:
                inside = inside & (a <= high)
            grads.append(_pass_where(inside, grad))
        else:
            grads.append(None)
        if low is not None:
            takes_low = a < low if high is None else (a < low) & (low < high)
            grads.append(_pass_where(takes_low, grad) if self.next_edges[1] is not None else None)
        if high is not None:
            takes_high = a > high if low is None else (a > high) | (high < low)
            grads.append(_pass_where(takes_high, grad) if self.next_edges[-1] is not None else None)
        return tuple(grads)


def _result_dtype_of(tensors: list[Tensor]) -> np.dtype:
    """PyTorch's promotion over several tensors: dimensioned ones first, then
    zero-dimensional ones only where they are of a higher category."""
    dimensioned = [t for t in tensors if t._data.ndim > 0]
    zero_dim = [t for t in tensors if t._data.ndim == 0]
    folded = []
    for group in (dimensioned, zero_dim):
        if group:
            dtype = group[0]._data.dtype
            stand_in_shape = (1,) if group is dimensioned else ()
            for t in group[1:]:
                dtype = result_dtype(_wrap(np.empty(stand_in_shape, dtype)), t)
            folded.append(_wrap(np.empty(stand_in_shape, dtype)))
    if len(folded) == 1:
        return folded[0]._data.dtype
    return result_dtype(folded[0], folded[1])


def _clamp_number_dtype(input: Tensor, bounds) -> Tensor:
    """An integer or bool tensor clamped to a float bound computes in the default
    float dtype; a bool tensor clamped to integer bounds becomes int64."""
    kind = input._data.dtype.kind
    if kind in "biu" and any(isinstance(b, float) for b in bounds):
        return _floating(input)
    if kind == "b":
        return input.to(np.int64)
    return input


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Clamp ``input`` to [min, max]; the bounds are numbers or tensors (broadcast)."""
    _require_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    bounds = [b for b in (min, max) if b is not None]
    if all(is_scalar(b) for b in bounds):
        return Clamp.apply(_clamp_number_dtype(input, bounds), min=min, max=max)
    if not all(isinstance(b, Tensor) for b in bounds):
        raise TypeError(
            "clamp: min and max must both be numbers or both be tensors, got "
            f"{type(min).__name__} and {type(max).__name__}"
        )
    tensors = [input, *bounds]
    dtype = _result_dtype_of(tensors)
    tensors = [t if t._data.dtype == dtype else t.to(dtype) for t in tensors]
    return ClampTensor.apply(*tensors, has_min=min is not None, has_max=max is not None)


clip = clamp


def clamp_min(input: Tensor, min) -> Tensor:
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    return clamp(input, max=max)


class Maximum(Op):
    """Elementwise max of two tensors (NaN propagates); where they tie each
    gets half the gradient, as in PyTorch."""

    __slots__ = ()
    save_inputs = True

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, grad):
        x, y = self.saved_inputs
        return _tie_split(grad, x._data, y._data, self.next_edges, prefer_larger=True)


class Minimum(Op):
    """Elementwise min of two tensors (NaN propagates); ties split the gradient."""

    __slots__ = ()
    save_inputs = True

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, grad):
        x, y = self.saved_inputs
        return _tie_split(grad, x._data, y._data, self.next_edges, prefer_larger=False)


def _tie_split(grad: Tensor, a: np.ndarray, b: np.ndarray, next_edges, prefer_larger: bool):
    """Gradients of max (or min) of a and b: all of it to the one taken, half
    each on a tie, and all of it to both where a comparison fails (NaN)."""
    tie = a == b
    a_loses = a < b if prefer_larger else a > b
    b_loses = a > b if prefer_larger else a < b
    grad_a = grad_b = None
    if next_edges[0] is not None:
        grad_a = _scale_by(grad, np.where(tie, 0.5, np.where(a_loses, 0.0, 1.0)))
    if next_edges[1] is not None:
        grad_b = _scale_by(grad, np.where(tie, 0.5, np.where(b_loses, 0.0, 1.0)))
    return grad_a, grad_b


def maximum(input: Tensor, other: Tensor) -> Tensor:
    a, b = ew.promote(as_operand(input, "maximum"), as_operand(other, "maximum"))
    return Maximum.apply(a, b)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    a, b = ew.promote(as_operand(input, "minimum"), as_operand(other, "minimum"))
    return Minimum.apply(a, b)


# -------------------------------------------------------------------- rounding


class Floor(_ZeroGradient):
    __slots__ = ()

    def forward(self, a):
        return np.floor(a) if a.dtype.kind == "f" else a.copy()


class Ceil(_ZeroGradient):
    __slots__ = ()

    def forward(self, a):
        return np.ceil(a) if a.dtype.kind == "f" else a.copy()


class Trunc(_ZeroGradient):
    __slots__ = ()

    def forward(self, a):
        return np.trunc(a) if a.dtype.kind == "f" else a.copy()


class Round(_ZeroGradient):
    """Round half to even."""

    __slots__ = ()

    def forward(self, a):
        return np.rint(a) if a.dtype.kind == "f" else a.copy()


class RoundDecimals(_ZeroGradient):
    """Round half to even to ``decimals`` decimal places (of a float tensor)."""

    __slots__ = ()
    backward_name = "RoundBackward1"

    def forward(self, a, decimals):
        return np.round(a, decimals)


def floor(input: Tensor) -> Tensor:
    return Floor.apply(_require_tensor(input, "floor"))


def ceil(input: Tensor) -> Tensor:
    return Ceil.apply(_require_tensor(input, "ceil"))


def trunc(input: Tensor) -> Tensor:
    """Round toward zero."""
    return Trunc.apply(_require_tensor(input, "trunc"))


fix = trunc


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Round half to even (to ``decimals`` decimal places); integers are copied."""
    _require_tensor(input, "round")
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise TypeError(f"round(): argument 'decimals' must be int, not {type(decimals).__name__}")
    if decimals != 0 and input._data.dtype.kind != "f":
        raise NotImplementedError(f"round: decimals is only supported for floating-point tensors, got {input.dtype}")
    if decimals == 0:
        return Round.apply(input)
    return RoundDecimals.apply(input, decimals=int(decimals))


class Frac(Op):
    """``x - trunc(x)``: the gradient is 1."""

    __slots__ = ()

    def forward(self, a):
        return a - np.trunc(a)

    def backward(self, grad):
        return grad


def frac(input: Tensor) -> Tensor:
    return Frac.apply(_require_floating(input, "frac"))


# --------------------------------------------------------------------- dropout


class Dropout(Op):
    """Multiply by a random mask of 0 and ``1 / (1 - p)``; backward multiplies
    the gradient by the same mask."""

    __slots__ = ()
    backward_name = "MulBackward0"

    def forward(self, a, mask):
        self.saved = mask
        return a * mask

    def backward(self, grad):
        return grad * _wrap(self.saved)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    while training; the identity (``input`` itself) otherwise. The mask comes
    from retrograd's default generator, so ``retrograd.manual_seed`` repeats it."""
    _require_tensor(input, "dropout")
    _require_number(p, "dropout", "p")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input._data.size == 0:
        return input
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"dropout: expected a floating-point tensor while training, got {input.dtype}")
    if inplace:
        return apply_inplace(input, _Compute(dropout, p, training), "dropout_")
    dtype = input._data.dtype
    if p == 1:
        mask = np.zeros(input._data.shape, dtype=dtype)
    else:
        keep = random.numpy_generator().random(input._data.shape, dtype=np.float32) >= p
        mask = keep * dtype.type(1.0 / (1.0 - p))
    return Dropout.apply(input, mask=mask)


# -------------------------------------------------------------- in-place forms


def _inplace(function, name: str, ufunc=None, floating: bool = False):
    """``x.<name>()``: ``function`` written into ``x`` through ``apply_inplace``.
    ``ufunc`` (a NumPy ufunc) writes straight into float arrays when no graph is
    recorded; ``floating`` marks math whose result an integer tensor cannot hold."""

    def fast(array):
        ufunc(array, out=array)

    def method(self: Tensor) -> Tensor:
        _require_tensor(self, name)
        if floating and self._data.dtype.kind != "f":
            raise RuntimeError(f"{name}: result type float can't be cast to the desired output type {self.dtype}")
        in_place = fast if ufunc is not None and self._data.dtype.kind == "f" else None
        return apply_inplace(self, _Compute(function), name, in_place)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{function.__name__}``."
    return method


abs_ = _inplace(abs, "abs_", np.abs)
absolute_ = _inplace(abs, "absolute_", np.abs)
sign_ = _inplace(sign, "sign_")
sqrt_ = _inplace(sqrt, "sqrt_", np.sqrt, floating=True)
rsqrt_ = _inplace(rsqrt, "rsqrt_", floating=True)
square_ = _inplace(square, "square_", np.square)
reciprocal_ = _inplace(reciprocal, "reciprocal_", np.reciprocal, floating=True)
log1p_ = _inplace(log1p, "log1p_", np.log1p, floating=True)
expm1_ = _inplace(expm1, "expm1_", np.expm1, floating=True)
log2_ = _inplace(log2, "log2_", np.log2, floating=True)
log10_ = _inplace(log10, "log10_", np.log10, floating=True)
exp2_ = _inplace(exp2, "exp2_", np.exp2, floating=True)
sin_ = _inplace(sin, "sin_", np.sin, floating=True)
cos_ = _inplace(cos, "cos_", np.cos, floating=True)
tanh_ = _inplace(tanh, "tanh_", np.tanh, floating=True)
erf_ = _inplace(erf, "erf_", floating=True)
erfc_ = _inplace(erfc, "erfc_", floating=True)
sigmoid_ = _inplace(sigmoid, "sigmoid_", floating=True)
floor_ = _inplace(floor, "floor_", np.floor)
ceil_ = _inplace(ceil, "ceil_", np.ceil)
trunc_ = _inplace(trunc, "trunc_", np.trunc)
fix_ = _inplace(trunc, "fix_", np.trunc)
frac_ = _inplace(frac, "frac_", floating=True)


def relu_(input: Tensor) -> Tensor:
    def fast(array):
        np.maximum(array, 0, out=array)

    if _require_tensor(input, "relu_")._data.dtype == np.bool_:
        raise RuntimeError("relu_: Boolean inputs not supported for relu")
    return apply_inplace(input, _Compute(relu), "relu_", fast)


def round_(input: Tensor, *, decimals: int = 0) -> Tensor:
    def rounded(source):
        return round(source, decimals=decimals)

    return apply_inplace(_require_tensor(input, "round_"), _Compute(rounded), "round_")


def logit_(input: Tensor, eps: float | None = None) -> Tensor:
    if _require_tensor(input, "logit_")._data.dtype.kind != "f":
        raise RuntimeError(f"logit_: result type float can't be cast to the desired output type {input.dtype}")
    return apply_inplace(input, _Compute(logit, eps), "logit_")


def clamp_(input: Tensor, min=None, max=None) -> Tensor:
    _require_tensor(input, "clamp_")
    if min is None and max is None:
        raise RuntimeError("clamp_: At least one of 'min' or 'max' must not be None")
    low = min._data if isinstance(min, Tensor) else min
    high = max._data if isinstance(max, Tensor) else max

    def fast(array):
        np.clip(array, low, high, out=array)

    return apply_inplace(input, _Compute(clamp, min, max), "clamp_", fast)


clip_ = clamp_


def clamp_min_(input: Tensor, min) -> Tensor:
    return clamp_(input, min=min)


def clamp_max_(input: Tensor, max) -> Tensor:
    return clamp_(input, max=max)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    _require_floating(input, "leaky_relu_")
    _require_number(negative_slope, "leaky_relu_", "negative_slope")
    return apply_inplace(input, _Compute(leaky_relu, negative_slope), "leaky_relu_")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    _require_floating(input, "elu_")
    _require_number(alpha, "elu_", "alpha")
    return apply_inplace(input, _Compute(elu, alpha), "elu_")


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    _require_tensor(input, "hardtanh_")
    _check_hardtanh_bounds(min_val, max_val)

    def fast(array):
        np.clip(array, min_val, max_val, out=array, casting="unsafe")

    return apply_inplace(input, _Compute(hardtanh, min_val, max_val), "hardtanh_", fast)


__all__ = [
    "abs", "absolute", "sign", "sqrt", "rsqrt", "square", "reciprocal", "log1p", "expm1", "log2", "log10",
    "exp2", "sin", "cos", "tanh", "erf", "erfc", "sigmoid", "logit", "relu", "leaky_relu", "elu", "hardtanh",
    "relu6", "gelu", "silu", "softplus", "mish", "clamp", "clip", "clamp_min", "clamp_max", "maximum",
    "minimum", "floor", "ceil", "trunc", "fix", "round", "frac", "dropout",
    "abs_", "sqrt_", "rsqrt_", "square_", "reciprocal_", "log1p_", "expm1_", "log2_", "log10_", "exp2_",
    "sin_", "cos_", "tanh_", "erf_", "erfc_", "sigmoid_", "logit_", "relu_", "clamp_", "clip_", "clamp_min_",
    "clamp_max_", "floor_", "ceil_", "trunc_", "fix_", "round_", "frac_", "leaky_relu_", "elu_", "hardtanh_",
]  # fmt: skip

# Tensor methods: the names PyTorch's Tensor has (the activations that live only
# in torch.nn.functional, and dropout, are functions only).
_FUNCTION_ONLY = {"leaky_relu", "elu", "hardtanh", "relu6", "gelu", "silu", "softplus", "mish", "dropout"}
_FUNCTION_ONLY |= {"leaky_relu_", "elu_", "hardtanh_"}
TENSOR_METHODS = {name: globals()[name] for name in __all__ if name not in _FUNCTION_ONLY}
TENSOR_METHODS["absolute_"] = absolute_
TENSOR_METHODS["sign_"] = sign_
OPERATORS = {"__abs__": abs}
