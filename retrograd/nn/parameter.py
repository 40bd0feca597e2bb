"""``Parameter`` and ``Buffer``: tensors that a ``Module`` registers when they
are assigned to one of its attributes.

Both are ``Tensor`` subclasses that share their array with the tensor they
were made from. Ops on them return plain Tensors (every op builds its result
with ``_wrap``), so only the registered object itself is a Parameter.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def _shared_array(data, caller: str) -> np.ndarray:
    """The array behind ``data`` (shared, not copied); an empty float array for None."""
    if data is None:
        from ..dtypes import get_default_dtype

        return np.empty((0,), dtype=get_default_dtype())
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    raise TypeError(f"{caller}: expected a Tensor (or NumPy array) as data, got {type(data).__name__}")


class Parameter(Tensor):
    """A tensor that is a module parameter: a leaf that requires grad by default.

    ``Parameter(data, requires_grad=True)`` shares ``data``'s values and is
    cut off from any graph ``data`` belongs to.
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        self._data = _shared_array(data, "Parameter")
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version = 0
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A tensor that a module registers as a buffer when assigned to an attribute
    (``self.running_mean = nn.Buffer(retrograd.zeros(3))``); ``persistent=False``
    keeps it out of the state dict."""

    __slots__ = ("persistent",)

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True):
        self._data = _shared_array(data, "Buffer")
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version = 0
        self._hooks = None
        self.persistent = persistent
        if isinstance(data, Tensor) and data.requires_grad:
            self.requires_grad_(True)

    def __deepcopy__(self, memo) -> Buffer:
        result = super().__deepcopy__(memo)
        result.persistent = self.persistent
        return result
