"""L1 and L2 penalties to add to a loss.

These are terms of the objective, differentiated like the rest of the loss:
``loss = criterion(out, y) + l2_penalty(model.parameters(), 1e-4)``. They are
distinct from an optimizer's ``weight_decay``: with plain SGD an L2 penalty of
weight ``w`` equals ``weight_decay=2 * w``, but with adaptive optimizers
(Adam, RMSprop, Adagrad) the penalty's gradient is rescaled like any other
gradient, while AdamW's decoupled decay shrinks the weights directly.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _wrap

__all__ = ["l1_penalty", "l2_penalty"]


def l1_penalty(parameters: Tensor | Iterable[Tensor], weight: float) -> Tensor:
    """``weight * sum(|w|)`` over every element of every tensor in ``parameters``,
    as a differentiable scalar (its gradient is ``weight * sign(w)``)."""
    return _penalty(parameters, weight, "l1_penalty", lambda p: p.abs().sum())


def l2_penalty(parameters: Tensor | Iterable[Tensor], weight: float) -> Tensor:
    """``weight * sum(w ** 2)`` over every element of every tensor in ``parameters``,
    as a differentiable scalar (its gradient is ``2 * weight * w``)."""
    return _penalty(parameters, weight, "l2_penalty", lambda p: (p * p).sum())


def _penalty(parameters, weight: float, name: str, term) -> Tensor:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise TypeError(f"{name}: weight must be a number, got {type(weight).__name__}")
    if not weight >= 0:
        raise ValueError(f"{name}: weight must be non-negative, got {weight}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    total = None
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameters must be Tensors, got {type(p).__name__} at position {i}")
        value = term(p)
        total = value if total is None else total + value
    if total is None:  # no parameters: a penalty of zero
        return _wrap(np.zeros((), dtype=dtypes.get_default_dtype()))
    return total * weight
