"""Adagrad: per-coordinate steps scaled by the accumulated squared gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    as_float,
    check_non_negative,
    check_unsupported_flags,
    effective_grad,
    increment_step,
    new_step,
    zeros_buffer,
)

__all__ = ["Adagrad", "adagrad"]


class Adagrad(Optimizer):
    """Adagrad with PyTorch's update rule, at step ``t``::

        g = grad (+ weight_decay * p)               # negated first when maximize
        s = s + g * g                               # s starts at initial_accumulator_value
        p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    State per parameter: ``step`` and ``sum``, created when the optimizer is
    built (as in PyTorch, so ``state_dict()`` lists every parameter at once) and
    on the first step for parameters of groups added later.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        lr = as_float(lr, "lr")
        check_non_negative(lr, "learning rate")
        check_non_negative(lr_decay, "lr_decay value")
        check_non_negative(weight_decay, "weight_decay value")
        check_non_negative(initial_accumulator_value, "initial_accumulator_value value")
        check_non_negative(eps, "epsilon value")
        check_unsupported_flags("Adagrad", differentiable=differentiable)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        state = self.state[p]
        if len(state) == 0:
            # PyTorch fills every accumulator from the optimizer-wide default, even
            # for a group that sets its own initial_accumulator_value.
            state["step"] = new_step()
            state["sum"] = zeros_buffer(p, self.defaults["initial_accumulator_value"])
        return state

    def step(self, closure: Callable | None = None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            params, grads, state_sums, state_steps = [], [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._init_state(p)
                params.append(p)
                grads.append(p.grad)
                state_sums.append(state["sum"])
                state_steps.append(state["step"])

            adagrad(
                params,
                grads,
                state_sums,
                state_steps,
                lr=group["lr"],
                weight_decay=group["weight_decay"],
                lr_decay=group["lr_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
            )
        return loss


def adagrad(
    params: list[Tensor],
    grads: list[Tensor],
    state_sums: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    weight_decay: float,
    lr_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """One Adagrad step over ``params`` in place, updating the squared-gradient sums."""
    for i, param in enumerate(params):
        p = param._data
        step = increment_step(state_steps[i])
        grad = effective_grad(p, grads[i]._data, weight_decay, maximize)
        state_sum = state_sums[i]._data
        clr = lr / (1 + (step - 1) * lr_decay)

        work = np.multiply(grad, grad, out=np.empty_like(p))  # the one scratch array of this step
        np.add(state_sum, work, out=state_sum)
        np.sqrt(state_sum, out=work)
        np.add(work, eps, out=work)
        np.divide(grad, work, out=work)
        np.multiply(work, clr, out=work)
        np.subtract(p, work, out=p)
        param._version += 1
