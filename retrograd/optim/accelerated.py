"""Optional compiled optimizer kernels (Numba, through :mod:`retrograd._jit`).

An Adam step written as NumPy expressions makes about a dozen passes over
each parameter (moments, square root, division, update), each with its own
temporary; one compiled loop makes a single vectorized pass and holds every
intermediate in registers. Over the 535,818 float32 values of the
784-512-256-10 MLP one Adam step takes about 0.6 ms instead of 3 ms
(bench/training.md).

The loop is serial on purpose: it is bound by memory bandwidth, and a
parallel one adds a third thread pool (next to BLAS and the caller's) whose
threads fight the others for the cores.

Without Numba, with ``RETROGRAD_NUMBA=0`` in the environment, or with
``enabled = False`` set on this module (or on ``retrograd._jit``), the
optimizers keep their NumPy path. Both paths perform the same floating-point
operations in the same order and in the parameter's dtype (no fused
multiply-adds, no reassociation), so they agree to the last bit; the tests
check this.
"""

from __future__ import annotations

import os

import numpy as np

from .. import _jit

__all__ = ["adam_kernel", "enabled", "fits"]

# Switch off to force the NumPy path (the tests run both).
enabled = os.environ.get("RETROGRAD_NUMBA", "1") != "0"


@_jit.kernel()
def _adam_loop(
    p, g, m, v, v_max, decoupled, maximize, amsgrad, small_lerp_weight,
    decay, weight_decay, lerp_weight, beta2, one_minus_beta2, bias_correction2_sqrt, eps, step_size,
):  # fmt: skip
    """Adam over flat arrays in place, with the NumPy path's operations in its
    order; the scalars arrive already rounded to the arrays' dtype. (Scalars
    as arguments, not read from an array, so the compiler hoists them.)"""
    if not maximize and not amsgrad and small_lerp_weight and (decoupled or weight_decay == 0):
        # The usual Adam/AdamW: a branch-free body the compiler turns into SIMD
        # code (with the option tests inside, the loop stays scalar and runs
        # about six times slower). Multiplying by decay == 1 changes no bits.
        for i in range(p.shape[0]):
            grad = g[i]
            exp_avg = m[i] + (grad - m[i]) * lerp_weight
            m[i] = exp_avg
            exp_avg_sq = v[i] * beta2 + (grad * grad) * one_minus_beta2
            v[i] = exp_avg_sq
            p[i] = p[i] * decay - (exp_avg / (np.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps)) * step_size
        return
    for i in range(p.shape[0]):
        param = p[i]
        grad = g[i]
        if decoupled:
            param = param * decay
        elif weight_decay != 0:
            grad = param * weight_decay - grad if maximize else param * weight_decay + grad
        if maximize and (decoupled or weight_decay == 0):
            grad = -grad
        # exp_avg.lerp_(grad, 1 - beta1) with PyTorch's rounding (see optimizer.lerp_)
        difference = grad - m[i]
        if small_lerp_weight:
            m[i] = m[i] + difference * lerp_weight
        else:
            m[i] = grad - difference * lerp_weight
        v[i] = v[i] * beta2 + (grad * grad) * one_minus_beta2
        second_moment = v[i]
        if amsgrad:
            if v_max[i] < second_moment or second_moment != second_moment:  # np.maximum: NaN wins
                v_max[i] = second_moment
            second_moment = v_max[i]
        denominator = np.sqrt(second_moment) / bias_correction2_sqrt + eps
        p[i] = param - (m[i] / denominator) * step_size


def fits(*arrays: np.ndarray | None) -> bool:
    """Whether the kernels can update these arrays in place: all contiguous, of
    one floating dtype (float32 or float64) and one size. None entries are skipped."""
    present = [a for a in arrays if a is not None]
    first = present[0]
    if first.dtype != np.float32 and first.dtype != np.float64:
        return False
    return all(a.dtype == first.dtype and a.size == first.size and a.flags.c_contiguous for a in present)


def adam_kernel():
    """A callable doing one in-place Adam step over one parameter, or None when
    the accelerator is off or unavailable (see :func:`_adam_step`)."""
    if not enabled or _adam_loop.compiled() is None:
        return None
    return _adam_step


def _adam_step(
    p: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
    step_size: float,
    bias_correction2_sqrt: float,
) -> None:
    """Adam on arrays that satisfy :func:`fits`, in place, in one pass. The scalars
    are rounded to the parameter's dtype exactly as NumPy rounds a Python float
    operand, so every operation matches the NumPy path's."""
    dtype = p.dtype.type
    lerp_weight = 1 - beta1
    small_lerp_weight = abs(lerp_weight) < 0.5
    decoupled = weight_decay != 0 and decoupled_weight_decay
    scalars = (
        dtype(1 - lr * weight_decay),
        dtype(weight_decay),
        dtype(lerp_weight if small_lerp_weight else 1 - lerp_weight),
        dtype(beta2),
        dtype(1 - beta2),
        dtype(bias_correction2_sqrt),
        dtype(eps),
        dtype(step_size),
    )
    kernel = _adam_loop.compiled()
    v_max = exp_avg_sq if max_exp_avg_sq is None else max_exp_avg_sq
    kernel(
        p.reshape(-1),
        grad.reshape(-1),
        exp_avg.reshape(-1),
        exp_avg_sq.reshape(-1),
        v_max.reshape(-1),
        decoupled,
        maximize,
        max_exp_avg_sq is not None,
        small_lerp_weight,
        *scalars,
    )
