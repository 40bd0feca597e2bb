"""Check analytic gradients against finite differences (PyTorch's ``gradcheck``
and ``gradgradcheck``).

The numerical Jacobian perturbs one input element at a time by ±eps (central
differences); the analytic one runs one backward pass per output element. On
a mismatch the error names the worst element: which output, which input,
both values. Use float64 inputs: float32 rounding swamps the differences.
"""

from __future__ import annotations

import numpy as np

from . import engine
from .engine import _as_tuple
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Analytic and numerical gradients disagree (the message says where)."""


def _differentiable_outputs(outputs) -> list:
    return [o for o in _as_tuple(outputs) if hasattr(o, "_data") and o._data.dtype.kind == "f"]


def _numerical_jacobians(func, inputs, targets, eps) -> list[list[np.ndarray]]:
    """``J[i][j]`` of shape (output i size, input j size) by central differences."""
    with no_grad():
        output_sizes = [o._data.size for o in _differentiable_outputs(func(*inputs))]
        jacobians = [[np.zeros((size, t._data.size)) for t in targets] for size in output_sizes]
        for j, t in enumerate(targets):
            for column, index in enumerate(np.ndindex(t._data.shape)):
                original = t._data[index]
                t._data[index] = original + eps
                plus = [o._data.astype(np.float64).ravel() for o in _differentiable_outputs(func(*inputs))]
                t._data[index] = original - eps
                minus = [o._data.astype(np.float64).ravel() for o in _differentiable_outputs(func(*inputs))]
                t._data[index] = original
                for i in range(len(output_sizes)):
                    jacobians[i][j][:, column] = (plus[i] - minus[i]) / (2 * eps)
    return jacobians


def _analytic_jacobians(outputs, targets) -> list[list[np.ndarray]]:
    """``J[i][j]`` by one backward pass per output element (vector-Jacobian products)."""
    from .function import _wrap

    jacobians = []
    for out in outputs:
        rows = [np.zeros((out._data.size, t._data.size)) for t in targets]
        if out._data.size and out._requires_grad:
            for k in range(out._data.size):
                seed = np.zeros(out._data.size, dtype=out._data.dtype)
                seed[k] = 1
                grads = engine.grad(
                    out, targets, _wrap(seed.reshape(out._data.shape)), retain_graph=True, allow_unused=True
                )
                for j, g in enumerate(grads):
                    if g is not None:
                        if g._data.shape != targets[j]._data.shape:
                            raise GradcheckError(
                                f"gradient of input {j} has shape {list(g.shape)}, expected {list(targets[j].shape)}"
                            )
                        rows[j][k] = g._data.ravel()
        jacobians.append(rows)
    return jacobians


def gradcheck(
    func,
    inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    **_ignored,
) -> bool:
    """True if ``func``'s backward matches finite differences for every input that
    requires grad; otherwise raise ``GradcheckError`` (or return False)."""
    inputs = _as_tuple(inputs)
    targets = [t for t in inputs if hasattr(t, "_data") and t._requires_grad]
    if not targets:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for t in targets:
        if t._data.dtype != np.float64:
            raise GradcheckError(
                f"gradcheck: input of shape {list(t.shape)} is {t.dtype}; use float64 inputs "
                "(finite differences are meaningless at lower precision)"
            )
    outputs = _differentiable_outputs(func(*inputs))
    analytic = _analytic_jacobians(outputs, targets)
    numerical = _numerical_jacobians(func, inputs, targets, eps)
    for i, (a_row, n_row) in enumerate(zip(analytic, numerical, strict=True)):
        for j, (a, n) in enumerate(zip(a_row, n_row, strict=True)):
            if a.shape != n.shape:
                return _fail(
                    f"Jacobian shape mismatch for output {i}, input {j}: {a.shape} vs {n.shape}", raise_exception
                )
            bad = ~np.isclose(a, n, rtol=rtol, atol=atol, equal_nan=False)
            if bad.any():
                error = np.where(bad, np.abs(a - n), -np.inf)
                k, m = np.unravel_index(np.argmax(error), error.shape)
                out_index = np.unravel_index(k, outputs[i]._data.shape) if outputs[i]._data.ndim else ()
                in_index = np.unravel_index(m, targets[j]._data.shape) if targets[j]._data.ndim else ()
                return _fail(
                    f"Jacobian mismatch for output {i} with respect to input {j}: {int(bad.sum())} of {bad.size} "
                    f"entries differ; worst at d output{list(out_index)} / d input{list(in_index)}: "
                    f"numerical {n[k, m]:.10g}, analytic {a[k, m]:.10g} (atol={atol}, rtol={rtol})",
                    raise_exception,
                )
    return True


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    **_ignored,
) -> bool:
    """Check second derivatives: gradcheck the function that maps (inputs,
    output gradients) to the input gradients computed with ``create_graph=True``."""
    from .function import _wrap

    inputs = _as_tuple(inputs)
    positions = [k for k, t in enumerate(inputs) if hasattr(t, "_data") and t._requires_grad]
    outputs = _differentiable_outputs(func(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = []
        for o in outputs:
            g = _wrap(rng.standard_normal(o._data.shape).astype(o._data.dtype))
            g.requires_grad_(True)
            grad_outputs.append(g)
    grad_outputs = list(_as_tuple(grad_outputs))
    n_inputs = len(inputs)

    @enable_grad()
    def first_derivatives(*args):
        xs, gs = args[:n_inputs], args[n_inputs:]
        outs = _differentiable_outputs(func(*xs))
        used = [(o, g) for o, g in zip(outs, gs, strict=True) if o._requires_grad]
        if not used:
            return ()
        grads = engine.grad(
            [o for o, _ in used],
            [xs[k] for k in positions],
            [g for _, g in used],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        first_derivatives,
        (*inputs, *grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    )


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False
