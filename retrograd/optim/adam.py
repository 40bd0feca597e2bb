"""Adam (and, with decoupled weight decay, AdamW)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..tensor import Tensor
from . import accelerated
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

__all__ = ["Adam", "adam"]


class Adam(Optimizer):
    """Adam with PyTorch's update rule, at step ``t``::

        g = grad (+ weight_decay * p)   # or p *= 1 - lr * weight_decay when decoupled
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g          # v_max = max(v_max, v) with amsgrad
        p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        lr = as_float(lr, "lr")
        betas = (as_float(betas[0], "betas[0]"), as_float(betas[1], "betas[1]"))
        check_non_negative(lr, "learning rate")
        check_non_negative(eps, "epsilon value")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        check_non_negative(weight_decay, "weight_decay value")
        check_unsupported_flags(type(self).__name__, differentiable=differentiable, capturable=capturable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable | None = None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            amsgrad = group["amsgrad"]
            params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps = [], [], [], [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step()
                    state["exp_avg"] = zeros_buffer(p)
                    state["exp_avg_sq"] = zeros_buffer(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = zeros_buffer(p)
                params.append(p)
                grads.append(p.grad)
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                if amsgrad:
                    max_exp_avg_sqs.append(state["max_exp_avg_sq"])
                state_steps.append(state["step"])

            beta1, beta2 = group["betas"]
            adam(
                params,
                grads,
                exp_avgs,
                exp_avg_sqs,
                max_exp_avg_sqs,
                state_steps,
                amsgrad=amsgrad,
                beta1=beta1,
                beta2=beta2,
                lr=group["lr"],
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
            )
        return loss


def adam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    *,
    amsgrad: bool,
    beta1: float,
    beta2: float,
    lr: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
    decoupled_weight_decay: bool = False,
) -> None:
    """One Adam step over ``params`` in place, updating the moment buffers and step counters.

    Each parameter is updated in one compiled pass when the optional Numba
    accelerator is available (see ``optim.accelerated``), else by NumPy
    expressions; both give the same bits."""
    kernel = accelerated.adam_kernel()
    for i, param in enumerate(params):
        p = param._data
        step = increment_step(state_steps[i])
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        grad = grads[i]._data
        exp_avg = exp_avgs[i]._data
        exp_avg_sq = exp_avg_sqs[i]._data
        max_exp_avg_sq = max_exp_avg_sqs[i]._data if amsgrad else None

        if kernel is not None and accelerated.fits(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq):
            kernel(
                p,
                grad,
                exp_avg,
                exp_avg_sq,
                max_exp_avg_sq,
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                eps=eps,
                weight_decay=weight_decay,
                decoupled_weight_decay=decoupled_weight_decay,
                maximize=maximize,
                step_size=step_size,
                bias_correction2_sqrt=bias_correction2_sqrt,
            )
        else:
            _adam_numpy(
                p,
                grad,
                exp_avg,
                exp_avg_sq,
                max_exp_avg_sq,
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                eps=eps,
                weight_decay=weight_decay,
                decoupled_weight_decay=decoupled_weight_decay,
                maximize=maximize,
                step_size=step_size,
                bias_correction2_sqrt=bias_correction2_sqrt,
            )
        param._version += 1


def _adam_numpy(
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
    """One Adam step of one parameter array in place, as NumPy expressions with one scratch array."""
    if weight_decay != 0 and decoupled_weight_decay:
        np.multiply(p, 1 - lr * weight_decay, out=p)
        grad = effective_grad(p, grad, 0, maximize)
    else:
        grad = effective_grad(p, grad, weight_decay, maximize)

    work = np.empty_like(p)  # the one scratch array of this step
    lerp_(exp_avg, grad, 1 - beta1, work)
    np.multiply(grad, grad, out=work)
    np.multiply(work, 1 - beta2, out=work)
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    np.add(exp_avg_sq, work, out=exp_avg_sq)

    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second_moment = max_exp_avg_sq
    else:
        second_moment = exp_avg_sq
    denom = work
    np.sqrt(second_moment, out=denom)
    np.divide(denom, bias_correction2_sqrt, out=denom)
    np.add(denom, eps, out=denom)

    update = np.divide(exp_avg, denom, out=work)
    np.multiply(update, step_size, out=update)
    np.subtract(p, update, out=p)
