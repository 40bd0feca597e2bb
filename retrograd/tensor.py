"""``Tensor``: a NumPy array plus what backpropagation needs.

A Tensor holds its array, whether it ``requires_grad``, its accumulated
``grad``, the node (``grad_fn``) of the op that made it, and a version
counter that in-place ops bump so backward can tell when a value it saved
has changed. The differentiable methods (``exp``, ``sum``, ``__add__`` ...)
live with their ops in ``retrograd.ops`` and are bound to the class in
``retrograd/ops/methods.py``.
"""

from __future__ import annotations

import copy
import functools
import weakref
from collections.abc import Callable

import numpy as np

from . import dtypes
from .autograd import engine, function
from .autograd.function import Node, RemovableHandle
from .autograd.grad_mode import GradMode


class Size(tuple):
    """A tensor's shape: a tuple that prints like PyTorch's ``torch.Size``
    (slices and sums of Sizes are Sizes too)."""

    def __repr__(self) -> str:
        return f"retrograd.Size({list(self)})"

    def __getitem__(self, index):
        result = tuple.__getitem__(self, index)
        return Size(result) if isinstance(index, slice) else result

    def __add__(self, other) -> Size:
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other) -> Size:
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


class Tensor:
    """An n-dimensional array that can record the ops applied to it and
    backpropagate through them."""

    __slots__ = ("__weakref__", "_data", "_hooks", "_output_nr", "_requires_grad", "_version", "grad", "grad_fn")
    # Binary operators with a NumPy array on the left defer to Tensor's reflected ones.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data=None, requires_grad: bool = False, dtype=None):
        """``Tensor(data)``: Python numbers and lists become the default float
        dtype, as with PyTorch's ``torch.Tensor``; arrays and Tensors keep theirs."""
        if dtype is None and not isinstance(data, (Tensor, np.ndarray, np.generic)):
            dtype = dtypes.get_default_dtype()
        array = as_array(data if data is not None else [], dtype)
        self._data = array
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version = 0
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_normalize_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        return int(self._data.__array_interface__["data"][0])

    # ------------------------------------------------------------ autograd state
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad flags of leaf tensors; "
                "use .detach() to get a tensor that does not require grad"
            )
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"requires_grad_: only tensors of floating point dtype can require gradients, got {self._data.dtype}"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def data(self) -> Tensor:
        """The same values, detached from the graph (shares memory; PyTorch's ``.data``)."""
        return _wrap(self._data)

    @data.setter
    def data(self, value) -> None:
        """Swap in new values (any shape or dtype) without touching the graph or the version."""
        self._data = value._data if isinstance(value, Tensor) else as_array(value, None)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's values, cut off from the graph."""
        return _wrap(self._data)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for a non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a tensor that has requires_grad=False")
        if self.grad_fn is None or self.retains_grad:
            return
        node = self.grad_fn
        if node.retained is None:
            node.retained = []
        node.retained.append((self._output_nr, weakref.ref(self)))

    @property
    def retains_grad(self) -> bool:
        node = self.grad_fn
        if node is None or not node.retained:
            return False
        return any(ref() is self for _, ref in node.retained)

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(grad) -> Tensor or None`` runs when this tensor's gradient is
        computed; a returned tensor replaces the gradient."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            node = self.grad_fn
            if node.pre_hooks is None:
                node.pre_hooks = {}
            handle = RemovableHandle(node.pre_hooks)
            node.pre_hooks[handle.id] = (self._output_nr, hook)
            return handle
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Backpropagate from this tensor: accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    # ------------------------------------------------------------- conversions
    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; use tensor.detach().numpy() instead"
            )
        return self._data

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be converted to a Python scalar")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous (use .any() or .all())"
            )
        return bool(self._data.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    __hash__ = object.__hash__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return repr(self)

    def __repr__(self) -> str:
        """PyTorch's layout: ``tensor([0.1000, 2.0000], dtype=..., grad_fn=<MulBackward0>)``."""
        array = self._data
        default_float = dtypes.get_default_dtype()
        extras = []
        if array.size == 0:
            body = "[]"
            if array.ndim != 1:
                extras.append(f"size={tuple(array.shape)}")
            if array.dtype != default_float:
                extras.append(f"dtype=retrograd.{array.dtype}")
        else:
            body = _format_values(array)
            if array.dtype not in (default_float, dtypes.int64, dtypes.bool):
                extras.append(f"dtype=retrograd.{array.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __deepcopy__(self, memo) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only tensors created explicitly by the user (graph leaves) support the deepcopy protocol"
            )
        result = type(self).__new__(type(self))
        memo[id(self)] = result
        result._data = self._data.copy()
        result._requires_grad = self._requires_grad
        result.grad = copy.deepcopy(self.grad, memo)
        result.grad_fn = None
        result._output_nr = 0
        result._version = 0
        result._hooks = None
        return result

    # ------------------------------------------------ copies and in-place writes
    def clone(self, *, memory_format=None) -> Tensor:
        from .ops.elementwise import Clone

        return Clone.apply(self)

    def contiguous(self, memory_format=None) -> Tensor:
        if self._data.flags.c_contiguous:
            return self
        return self.clone()

    def cpu(self) -> Tensor:
        return self

    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to("cpu")``, ``to(other)``: a differentiable cast (self if nothing changes)."""
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        copy_requested = kwargs.pop("copy", False)
        if kwargs:
            raise TypeError(f"to: unexpected arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str):
                if arg not in ("cpu",):
                    raise RuntimeError(f"to: retrograd runs on the CPU only; got device {arg!r}")
            elif arg is not None:
                dtype = dtypes.to_dtype(arg)
        if dtype is None or np.dtype(dtype) == self._data.dtype:
            return self.clone() if copy_requested else self
        dtype = np.dtype(dtype)
        if dtype.kind not in "fc":  # integer and bool results are not differentiable
            return _wrap(self._data.astype(dtype))
        from .ops.elementwise import Cast

        return Cast.apply(self, dtype=dtype)

    def type(self, dtype=None):
        """With no argument, the type name (``"retrograd.FloatTensor"``); otherwise ``to(dtype)``."""
        if dtype is None:
            return f"retrograd.{_TYPE_NAMES.get(self._data.dtype, str(self._data.dtype))}"
        if isinstance(dtype, str) and dtype.removeprefix("retrograd.") in _TYPE_NAMES.values():
            name = dtype.removeprefix("retrograd.")
            dtype = next(d for d, n in _TYPE_NAMES.items() if n == name)
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def short(self) -> Tensor:
        return self.to(dtypes.int16)

    def char(self) -> Tensor:
        return self.to(dtypes.int8)

    def byte(self) -> Tensor:
        return self.to(dtypes.uint8)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def copy_(self, src, non_blocking: bool = False) -> Tensor:
        """Write ``src`` (broadcast, cast) into this tensor; differentiable w.r.t. ``src``."""
        from .ops.elementwise import inplace_copy

        return inplace_copy(self, src)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value) -> Tensor:
        from .ops.elementwise import inplace_fill

        return inplace_fill(self, value)

    # ---------------------------------------------------------- new_* factories
    # Like PyTorch's, they default to this tensor's dtype (new_tensor included).
    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return _leaf(as_array(data, dtype or self._data.dtype), requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return _factory(np.zeros, size, dtype or self._data.dtype, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return _factory(np.ones, size, dtype or self._data.dtype, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return _factory(np.empty, size, dtype or self._data.dtype, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        array = np.full(_shape_arg((size,), "new_full"), fill_value, dtype=dtype or self._data.dtype)
        return _leaf(array, requires_grad)


_TYPE_NAMES = {
    dtypes.float16: "HalfTensor",
    dtypes.float32: "FloatTensor",
    dtypes.float64: "DoubleTensor",
    dtypes.int8: "CharTensor",
    dtypes.uint8: "ByteTensor",
    dtypes.int16: "ShortTensor",
    dtypes.int32: "IntTensor",
    dtypes.int64: "LongTensor",
    dtypes.bool: "BoolTensor",
}


def _format_values(array: np.ndarray) -> str:
    """The values as PyTorch prints them: floats with 4 decimals (``1.`` when all
    are whole numbers, scientific notation for wide ranges), every element
    padded to one width, and more than 1000 elements summarised with ``...``."""
    summarize = array.size > 1000
    sample = (_edges(array) if summarize else array).ravel()
    if array.dtype.kind == "f":
        values = sample.astype(np.float64)
        sample = np.abs(values[np.isfinite(values) & (values != 0)])  # what sets the format and width
        fmt = "{:.0f}."
        if sample.size:
            whole = bool(np.all(sample == np.ceil(sample)))
            wide = sample.max() / sample.min() > 1000.0 or sample.max() > 1.0e8
            if wide or (not whole and sample.min() < 1.0e-4):
                fmt = "{:.4e}"
            elif not whole:
                fmt = "{:.4f}"
            sample = values[np.isfinite(values) & (values != 0)]

        def format_one(v) -> str:
            return fmt.format(v) if np.isfinite(v) else str(v)

    else:
        format_one = str
    width = max((len(format_one(v)) for v in sample.tolist()), default=1)

    def padded(v) -> str:
        return format_one(v).rjust(width)

    # PyTorch fits (80 - indent) // (width + 2) elements on a line.
    indent = len("tensor(") + max(array.ndim - 1, 0)
    per_line = max(1, (80 - indent) // (width + 2))
    text = np.array2string(
        array,
        separator=", ",
        prefix="tensor(",
        threshold=1000,
        edgeitems=3,
        max_line_width=indent + 1 + per_line * (width + 2),
        formatter={"all": padded},
    )
    return text.replace(", ...,", ",  ...,")


def _edges(array: np.ndarray, edge: int = 3) -> np.ndarray:
    """The elements a summarised print shows: the first and last ``edge`` along each dimension."""
    for dim in range(array.ndim):
        if array.shape[dim] > 2 * edge:
            index = np.r_[0:edge, array.shape[dim] - edge : array.shape[dim]]
            array = np.take(array, index, axis=dim)
    return array


def _wrap(data: np.ndarray, grad_fn: Node | None = None, output_nr: int = 0) -> Tensor:
    """A Tensor around ``data`` with no checks: the hot path of every op."""
    t = object.__new__(Tensor)
    t._data = data
    t._requires_grad = grad_fn is not None
    t.grad = None
    t.grad_fn = grad_fn
    t._output_nr = output_nr
    t._version = 0
    t._hooks = None
    return t


function._wrap = _wrap


def as_array(data, dtype=None) -> np.ndarray:
    """An owned array from ``data`` with PyTorch's dtype inference: Python floats
    become the default dtype, Python ints int64, NumPy arrays and Tensors
    (also inside lists) keep theirs."""
    dtype = dtypes.to_dtype(dtype)
    if isinstance(data, Tensor):
        array = data._data
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
    elif isinstance(data, (list, tuple)) and _first_leaf_is_typed(data):
        # Elements that carry a dtype (Tensors, NumPy scalars and arrays) decide it.
        found: list = []
        data = _typed_to_arrays(data, found)
        array = np.asarray(data, dtype=dtype or _promote_all(found))
    else:
        array = np.asarray(data)
        if dtype is None:
            if array.dtype.kind == "f":
                array = array.astype(dtypes.get_default_dtype())
            elif array.dtype.kind in "iu":
                array = array.astype(dtypes.int64)
            elif array.dtype.kind == "O":
                raise TypeError(f"tensor: could not infer a numeric dtype from data of type {type(data).__name__}")
    if array.dtype.kind in "USOV":
        raise TypeError(f"tensor: cannot make a tensor from an array of dtype {array.dtype}")
    if dtype is not None and array.dtype != dtype:
        return array.astype(dtype)
    return array.copy()


def _first_leaf_is_typed(data) -> bool:
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return isinstance(data, (Tensor, np.ndarray, np.generic))


def _typed_to_arrays(data, found: list):
    """Replace Tensors by their arrays, collecting every element's dtype into ``found``."""
    if isinstance(data, (list, tuple)):
        return [_typed_to_arrays(x, found) for x in data]
    if isinstance(data, Tensor):
        found.append(data._data.dtype)
        return data._data
    if isinstance(data, (np.ndarray, np.generic)):
        found.append(data.dtype)
    elif isinstance(data, bool):
        found.append(dtypes.bool)
    elif isinstance(data, int):
        found.append(dtypes.int64)
    elif isinstance(data, float):
        found.append(dtypes.get_default_dtype())
    return data


def _promote_all(found: list) -> np.dtype | None:
    """PyTorch's promotion across elements: the highest category (bool < integer
    < floating) wins; within it, the wider type."""
    if not found:
        return None
    category = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    top = max(category[d.kind] for d in found)
    return functools.reduce(np.promote_types, [d for d in found if category[d.kind] == top])


def _shape_arg(size: tuple, caller: str) -> tuple[int, ...]:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` like PyTorch (``f(())`` is 0-d)."""
    if not size:
        raise TypeError(f'{caller}() missing 1 required positional argument: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    try:
        shape = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"{caller}: size must be integers, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{caller}: negative dimension in size {list(shape)}")
    return shape


def _factory(numpy_fn, size, dtype, requires_grad) -> Tensor:
    return _leaf(numpy_fn(_shape_arg(size, numpy_fn.__name__), dtype=dtypes.to_dtype(dtype)), requires_grad)


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    """A new leaf around ``array`` (checked: only floating tensors can require grad)."""
    t = _wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _normalize_dim(dim: int, ndim: int, op: str) -> int:
    """A dimension index in ``[-ndim, ndim)`` as a non-negative one, or a clear error."""
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})"
        )
    return dim % bound


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def grad_enabled() -> bool:
    return GradMode.enabled
