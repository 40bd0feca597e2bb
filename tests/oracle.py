"""The op test harness: run one expression in retrograd and (when installed) in
PyTorch, check retrograd's gradients against finite differences (first and
second order), and compare values and gradients with PyTorch's.

An op case is a function ``fn(lib, *tensors)`` written once for both
libraries (``lib`` is ``retrograd`` or ``torch``), e.g.
``lambda lib, x, y: lib.maximum(x, y)`` or ``lambda lib, x: x.exp()``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import retrograd as rg

try:
    import torch

    torch.set_default_dtype(torch.float64)
except ImportError:  # PyTorch is an optional oracle (the dev extra)
    torch = None

TOLERANCE = 1e-10


@dataclasses.dataclass
class Case:
    """One row of an op table."""

    name: str
    fn: object
    shapes: tuple = ((3, 4),)
    low: float = -2.0
    high: float = 2.0
    gradgrad: bool = True  # False where PyTorch has no second derivative either
    torch_fn: object = None  # when PyTorch spells the op differently
    make_inputs: object = None  # fn(rng) -> list of arrays, for special domains
    grad_inputs: tuple | None = None  # which inputs are differentiable (default: float ones)
    noncontiguous: bool = True
    gradcheck_atol: float = 1e-5

    def __str__(self) -> str:
        return self.name


def make_arrays(case: Case, rng: np.random.Generator) -> list[np.ndarray]:
    if case.make_inputs is not None:
        return [np.asarray(a) for a in case.make_inputs(rng)]
    return [rng.uniform(case.low, case.high, size=shape) for shape in case.shapes]


def noncontiguous(array: np.ndarray) -> np.ndarray:
    """The same values in a non-contiguous layout (every other element of a wider array)."""
    if array.ndim == 0 or array.size == 0:
        return array
    wide = np.empty(array.shape[:-1] + (array.shape[-1] * 2,), dtype=array.dtype)
    view = wide[..., ::2]
    view[...] = array
    return view


def _is_differentiable(index: int, array: np.ndarray, case: Case) -> bool:
    if case.grad_inputs is not None:
        return index in case.grad_inputs
    return array.dtype.kind == "f"


def rg_inputs(arrays, case: Case) -> list:
    tensors = []
    for i, a in enumerate(arrays):
        t = rg.from_numpy(a.copy() if a.flags.c_contiguous else a)
        if _is_differentiable(i, a, case):
            t.requires_grad_(True)
        tensors.append(t)
    return tensors


def check_case(case: Case, seed: int = 0, layout: str = "contiguous") -> None:
    """gradcheck, gradgradcheck, and the PyTorch comparison for one case."""
    rng = np.random.default_rng(seed)
    arrays = make_arrays(case, rng)
    if layout == "noncontiguous":
        arrays = [noncontiguous(a) if a.dtype.kind == "f" else a for a in arrays]
    inputs = rg_inputs(arrays, case)
    if any(t.requires_grad for t in inputs):
        rg.autograd.gradcheck(lambda *xs: case.fn(rg, *xs), inputs, atol=case.gradcheck_atol)
        if case.gradgrad:
            rg.autograd.gradgradcheck(lambda *xs: case.fn(rg, *xs), inputs, atol=case.gradcheck_atol)
    if torch is not None:
        compare_with_torch(case, arrays, rng)


def compare_with_torch(case: Case, arrays, rng) -> None:
    inputs = rg_inputs(arrays, case)
    torch_inputs = []
    for i, a in enumerate(arrays):
        t = torch.from_numpy(np.array(a, copy=True, order="C"))
        if _is_differentiable(i, a, case):
            t.requires_grad_(True)
        torch_inputs.append(t)
    ours = case.fn(rg, *inputs)
    theirs = (case.torch_fn or case.fn)(torch, *torch_inputs)
    assert_close(ours, theirs, f"{case.name}: forward")
    if not ours.requires_grad:
        return
    seed = rng.standard_normal(ours.shape)
    ours.backward(rg.from_numpy(seed.astype(ours.dtype)))
    theirs.backward(torch.from_numpy(seed.astype(ours.dtype)))
    for i, (a, b) in enumerate(zip(inputs, torch_inputs, strict=True)):
        if b.requires_grad:
            expected = b.grad if b.grad is not None else torch.zeros_like(b)
            actual = a.grad if a.grad is not None else rg.zeros_like(a)
            assert_close(actual, expected, f"{case.name}: gradient of input {i}")


def assert_close(ours, theirs, what: str, tol: float = TOLERANCE) -> None:
    ours_array = ours.detach().numpy() if isinstance(ours, rg.Tensor) else np.asarray(ours)
    theirs_array = (
        theirs.detach().numpy() if torch is not None and isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    )
    assert ours_array.shape == theirs_array.shape, f"{what}: shape {ours_array.shape} vs PyTorch {theirs_array.shape}"
    np.testing.assert_allclose(ours_array, theirs_array, rtol=tol, atol=tol, err_msg=what)


def parametrize_cases(cases):
    """pytest parameters: every case in a contiguous and (where it applies) a non-contiguous layout."""
    import pytest

    params = []
    for case in cases:
        params.append(pytest.param(case, "contiguous", id=f"{case.name}"))
        if case.noncontiguous and any(len(s) >= 1 and np.prod(s) > 0 for s in case.shapes):
            params.append(pytest.param(case, "noncontiguous", id=f"{case.name}-noncontiguous"))
    return params
