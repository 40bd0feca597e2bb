"""RMSprop: steps scaled by a running root-mean-square of the gradients."""

from __future__ import annotations

from collections.abc import Callable

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
    lerp_,
    new_step,
    zeros_buffer,
)

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    """RMSprop with PyTorch's update rule::

        g = grad (+ weight_decay * p)                 # negated first when maximize
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - gm * gm) + eps  with gm = alpha * gm + (1 - alpha) * g   when centered
        avg = sqrt(v) + eps                                                     otherwise
        b = momentum * b + g / avg;  p -= lr * b      # p -= lr * g / avg without momentum

    State per parameter: ``step``, ``square_avg`` (and ``momentum_buffer``, ``grad_avg``).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        lr = as_float(lr, "lr")
        check_non_negative(lr, "learning rate")
        check_non_negative(eps, "epsilon value")
        check_non_negative(momentum, "momentum value")
        check_non_negative(weight_decay, "weight_decay value")
        check_non_negative(alpha, "alpha value")
        check_unsupported_flags("RMSprop", differentiable=differentiable, capturable=capturable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable | None = None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            uses_momentum = group["momentum"] > 0
            centered = group["centered"]
            params, grads, square_avgs, grad_avgs, momentum_buffers, state_steps = [], [], [], [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step()
                    state["square_avg"] = zeros_buffer(p)
                    if uses_momentum:
                        state["momentum_buffer"] = zeros_buffer(p)
                    if centered:
                        state["grad_avg"] = zeros_buffer(p)
                params.append(p)
                grads.append(p.grad)
                square_avgs.append(state["square_avg"])
                state_steps.append(state["step"])
                if uses_momentum:
                    momentum_buffers.append(state["momentum_buffer"])
                if centered:
                    grad_avgs.append(state["grad_avg"])

            rmsprop(
                params,
                grads,
                square_avgs,
                grad_avgs,
                momentum_buffers,
                state_steps,
                lr=group["lr"],
                alpha=group["alpha"],
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                momentum=group["momentum"],
                centered=centered,
                maximize=group["maximize"],
            )
        return loss


def rmsprop(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    grad_avgs: list[Tensor],
    momentum_buffer_list: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> None:
    """One RMSprop step over ``params`` in place, updating the running averages."""
    for i, param in enumerate(params):
        p = param._data
        increment_step(state_steps[i])
        grad = effective_grad(p, grads[i]._data, weight_decay, maximize)
        square_avg = square_avgs[i]._data
        work = np.empty_like(p)  # the one scratch array of this step

        np.multiply(grad, grad, out=work)
        np.multiply(work, 1 - alpha, out=work)
        np.multiply(square_avg, alpha, out=square_avg)
        np.add(square_avg, work, out=square_avg)

        avg = work
        if centered:
            grad_avg = grad_avgs[i]._data
            lerp_(grad_avg, grad, 1 - alpha, work)
            np.multiply(grad_avg, grad_avg, out=avg)
            np.subtract(square_avg, avg, out=avg)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(square_avg, out=avg)
        np.add(avg, eps, out=avg)

        scaled_grad = np.divide(grad, avg, out=work)
        if momentum > 0:
            buffer = momentum_buffer_list[i]._data
            np.multiply(buffer, momentum, out=buffer)
            np.add(buffer, scaled_grad, out=buffer)
            np.multiply(buffer, lr, out=work)
        else:
            np.multiply(scaled_grad, lr, out=work)
        np.subtract(p, work, out=p)
        param._version += 1
