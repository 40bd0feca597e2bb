"""``Optimizer``: the base of every optimizer, with PyTorch's parameter groups,
per-parameter state and ``state_dict`` layout.

An optimizer holds ``param_groups`` (dicts with a ``"params"`` list and the
hyperparameters for those parameters) and ``state`` (a dict from parameter to
its buffers, created on the parameter's first step). ``step()`` reads each
parameter's ``.grad`` and updates the parameter's array in place, outside the
autograd graph, bumping its version counter as any in-place change does.

The update maths of each optimizer lives in a plain function next to its class
(``sgd``, ``adam`` ...) that takes lists of parameters, gradients and state
buffers, so it can be called and tested on its own.
"""

from __future__ import annotations

import functools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor, _wrap

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class _RequiredParameter:
    """Marks a hyperparameter that every parameter group must set itself."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs, or of
    dicts each defining a parameter group (``{"params": [...], "lr": 0.1}``);
    ``defaults`` holds the hyperparameters used where a group sets none.
    """

    def __init_subclass__(cls, **kwargs) -> None:
        # Learning-rate schedulers warn when they are stepped before the
        # optimizer ever was; every subclass's step() records that it ran.
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_marks_step_called", False):

            @functools.wraps(step)
            def marked_step(self, *args, **kwargs):
                self._opt_called = True
                return step(self, *args, **kwargs)

            marked_step._marks_step_called = True
            cls.step = marked_step

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {_typename(params)}"
            )
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyperparameters) to ``param_groups``;
        hyperparameters the group leaves out take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        param_group = dict(param_group)
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)

        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        param_group["params"] = params

        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(param)}")
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an error",
                stacklevel=3,
            )

        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    f"all optimizer param groups should be with/without names. cannot add param group {which} "
                    "to the optimizer"
                )
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters: drop them (``None``,
        the default, so parameters without a new gradient are skipped by
        ``step``) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None):
        """Update the parameters once from their ``.grad``. ``closure``, when
        given, re-evaluates the model and returns the loss, which ``step`` returns."""
        raise NotImplementedError

    def _evaluate_closure(self, closure: Callable[[], Any] | None):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are replaced by their position over all groups, in order;
        ``state`` holds each parameter's buffers (Tensors, shared with the
        optimizer as in PyTorch: copy them to keep a snapshot).
        """
        index_of: dict[int, int] = {}
        packed_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            packed_groups.append(packed)
        packed_state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state made by ``state_dict()`` of an optimizer over parameters of the
        same groups and sizes. Buffers are copied (cast to each parameter's float
        dtype), so the loaded state never shares memory with ``state_dict``."""
        groups = self.param_groups
        saved_groups = [dict(g) for g in state_dict["param_groups"]]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )

        param_of = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                param = param_of[key]
                state[param] = {name: _copy_state_value(param, name, v) for name, v in value.items()}
            else:
                state[key] = value

        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for name, default in self.defaults.items():
                saved.setdefault(name, default)
        self.state = state
        self.param_groups = saved_groups

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


# ---------------------------------------------------------------- shared helpers


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return "retrograd.Tensor"
    return type(obj).__name__


def _copy_state_value(param: Tensor, key, value):
    """A loaded state value for ``param``: tensors copied into their own array (float
    buffers cast to the parameter's dtype; ``step`` counters keep theirs), containers
    copied recursively, numbers as they are."""
    if isinstance(value, Tensor):
        array = value._data
        if key != "step" and array.dtype.kind == "f" and param.dtype.kind == "f":
            return _wrap(np.array(array, dtype=param.dtype, copy=True))
        return _wrap(np.array(array, copy=True))
    if key == "step" and isinstance(value, (int, float)):
        # A number from an older or hand-made checkpoint: steps are 0-d tensors here.
        return new_step(float(value))
    if isinstance(value, dict):
        return {k: _copy_state_value(param, k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_state_value(param, None, v) for v in value)
    return value


def new_step(value: float = 0.0) -> Tensor:
    """A step counter: a 0-d float tensor, float64 when that is the default dtype and
    float32 otherwise (PyTorch's choice; both count exactly to 2**24 steps)."""
    dtype = np.float64 if dtypes.get_default_dtype() == np.float64 else np.float32
    return _wrap(np.array(value, dtype=dtype))


def zeros_buffer(param: Tensor, fill_value: float = 0.0) -> Tensor:
    """A state buffer shaped and typed like ``param``."""
    return _wrap(np.full(param._data.shape, fill_value, dtype=param._data.dtype))


def increment_step(step: Tensor) -> float:
    """Add one to a step counter in place and return the new count."""
    step._data += 1
    return float(step._data)


def effective_grad(param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool) -> np.ndarray:
    """The gradient an update follows: negated to maximize, plus the L2 term
    ``weight_decay * param``. Returns ``grad`` itself when neither applies, else
    a new array (the caller may overwrite it)."""
    # Results always go to an ``out=`` array: on 0-d inputs NumPy would return scalars.
    if weight_decay != 0:
        result = np.multiply(param, weight_decay, out=np.empty_like(param))
        if maximize:
            np.subtract(result, grad, out=result)
        else:
            np.add(result, grad, out=result)
        return result
    if maximize:
        return np.negative(grad, out=np.empty_like(param))
    return grad


def lerp_(start: np.ndarray, end: np.ndarray, weight: float, work: np.ndarray) -> None:
    """``start += weight * (end - start)`` in place, with PyTorch's ``lerp`` rounding:
    for ``weight >= 0.5`` it computes ``end - (end - start) * (1 - weight)``.
    ``work`` is scratch space of ``start``'s shape."""
    np.subtract(end, start, out=work)
    if abs(weight) < 0.5:
        np.multiply(work, weight, out=work)
        np.add(start, work, out=start)
    else:
        np.multiply(work, 1 - weight, out=work)
        np.subtract(end, work, out=start)


def check_non_negative(value: float, message: str) -> None:
    """Raise PyTorch's ``ValueError("Invalid <message>: <value>")`` for a negative value."""
    if not value >= 0.0:  # also refuses NaN
        raise ValueError(f"Invalid {message}: {value}")


def check_unsupported_flags(optimizer: str, *, differentiable: bool = False, capturable: bool = False) -> None:
    """Flags PyTorch has for autograd through the step and CUDA graphs: accepted at
    their defaults so PyTorch code runs unchanged, refused when switched on."""
    if differentiable:
        raise ValueError(
            f"{optimizer}: differentiable=True is not supported; retrograd optimizers update parameters "
            "in place outside the autograd graph"
        )
    if capturable:
        raise ValueError(f"{optimizer}: capturable=True (CUDA graph capture) is not supported on the CPU")


def as_float(value, name: str) -> float:
    """A hyperparameter given as a one-element Tensor, as a Python float (numbers pass
    through unchanged, so ``repr`` and ``state_dict`` show them as given)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"Tensor {name} must be 1-element")
        return float(value.item())
    return value
