"""Stochastic gradient descent, optionally with (Nesterov) momentum."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..tensor import Tensor, _wrap
from .optimizer import Optimizer, ParamsT, as_float, check_non_negative, check_unsupported_flags, effective_grad

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's update rule::

        g = grad (+ weight_decay * p)            # negated first when maximize
        b = g on the first step, else momentum * b + (1 - dampening) * g
        p -= lr * (g + momentum * b if nesterov else b)   # p -= lr * g without momentum

    Note the momentum buffer starts at the first gradient (not at zero) and
    the learning rate multiplies the whole step, as in PyTorch.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        lr = as_float(lr, "lr")
        check_non_negative(lr, "learning rate")
        check_non_negative(momentum, "momentum value")
        check_non_negative(weight_decay, "weight_decay value")
        check_unsupported_flags("SGD", differentiable=differentiable)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        # foreach and fused are PyTorch's kernel choices; every update here is
        # already one whole-array NumPy pass per parameter, so they are kept
        # only so that code and state dicts written for PyTorch carry over.
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable | None = None):
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            uses_momentum = group["momentum"] != 0
            params, grads, momentum_buffers = [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                params.append(p)
                grads.append(p.grad)
                if uses_momentum:
                    momentum_buffers.append(self.state[p].get("momentum_buffer"))

            sgd(
                params,
                grads,
                momentum_buffers,
                weight_decay=group["weight_decay"],
                momentum=group["momentum"],
                lr=group["lr"],
                dampening=group["dampening"],
                nesterov=group["nesterov"],
                maximize=group["maximize"],
            )
            if uses_momentum:
                for p, buffer in zip(params, momentum_buffers):
                    self.state[p]["momentum_buffer"] = buffer
        return loss


def sgd(
    params: list[Tensor],
    d_p_list: list[Tensor],
    momentum_buffer_list: list[Tensor | None],
    *,
    weight_decay: float,
    momentum: float,
    lr: float,
    dampening: float,
    nesterov: bool,
    maximize: bool,
) -> None:
    """One SGD step over ``params`` in place. Missing momentum buffers (``None``
    entries of ``momentum_buffer_list``) are created and stored in the list."""
    for i, param in enumerate(params):
        p = param._data
        grad = d_p_list[i]._data
        d_p = effective_grad(p, grad, weight_decay, maximize)
        update_is_scratch = d_p is not grad  # an array of our own we may overwrite

        if momentum != 0:
            buffer = momentum_buffer_list[i]
            if buffer is None:
                buffer = _wrap(np.array(d_p, dtype=p.dtype, copy=True))
                momentum_buffer_list[i] = buffer
            else:
                b = buffer._data
                np.multiply(b, momentum, out=b)
                if dampening == 0:
                    np.add(b, d_p, out=b)
                else:
                    np.add(b, np.multiply(d_p, 1 - dampening), out=b)
            if nesterov:
                update = np.multiply(buffer._data, momentum, out=np.empty_like(p))
                np.add(d_p, update, out=update)
                update_is_scratch = True
            else:
                update = buffer._data
                update_is_scratch = False
        else:
            update = d_p

        if update_is_scratch:
            np.multiply(update, lr, out=update)
            np.subtract(p, update, out=p)
        else:
            np.subtract(p, np.multiply(update, lr), out=p)
        param._version += 1
