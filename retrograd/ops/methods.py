"""Bind the ops to ``Tensor`` as methods and operators.

Each op module lists its method forms in ``TENSOR_METHODS``; the Python
operators are spelled out here so the whole operator table reads in one place.
"""

from __future__ import annotations

import importlib

from ..tensor import Tensor
from . import elementwise as ew

# Each module may define TENSOR_METHODS (name -> function taking the tensor
# first) and OPERATORS (extra Python operators such as __matmul__, __getitem__).
OP_MODULES = ["elementwise", "pointwise", "reduction", "shape", "indexing", "linalg"]


def _reflected(fn):
    def reflected(self, other):
        return fn(other, self)

    return reflected


def _inplace_operator(fn):
    def operator(self, other):
        return fn(self, other)

    return operator


OPERATORS = {
    "__add__": ew.add,
    "__radd__": ew.add,
    "__sub__": ew.sub,
    "__rsub__": _reflected(ew.sub),
    "__mul__": ew.mul,
    "__rmul__": ew.mul,
    "__truediv__": ew.div,
    "__rtruediv__": _reflected(ew.div),
    "__pow__": ew.pow,
    "__rpow__": _reflected(ew.pow),
    "__neg__": ew.neg,
    "__pos__": ew.positive,
    "__iadd__": _inplace_operator(ew.add_),
    "__isub__": _inplace_operator(ew.sub_),
    "__imul__": _inplace_operator(ew.mul_),
    "__itruediv__": _inplace_operator(ew.div_),
    "__eq__": ew.eq,
    "__ne__": ew.ne,
    "__lt__": ew.lt,
    "__le__": ew.le,
    "__gt__": ew.gt,
    "__ge__": ew.ge,
    "__and__": ew.bitwise_and,
    "__or__": ew.bitwise_or,
    "__xor__": ew.bitwise_xor,
    "__invert__": ew.bitwise_not,
}


def bind_methods() -> None:
    for module_name in OP_MODULES:
        module = importlib.import_module(f"{__package__}.{module_name}")
        for name, fn in {**module.TENSOR_METHODS, **getattr(module, "OPERATORS", {})}.items():
            setattr(Tensor, name, fn)
    for name, fn in OPERATORS.items():
        setattr(Tensor, name, fn)
