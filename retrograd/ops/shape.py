"""Shape ops: reshape and view, expand, permuting, adding and removing
dimensions, slicing, splitting and joining, repeating, flipping, rolling,
triangular parts and padding.

They move no data where NumPy can return a view; their backward puts the
gradient back into the input's shape, mostly with the op's own mirror image
(permute with the inverse order, slice with embed, cat with split), so every
backward is itself differentiable.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import GradMode
from .common import Tensor, _wrap, normalize_dim, normalize_dims
from .elementwise import _Compute, apply_inplace


def _size_arg(shape: tuple, op: str) -> tuple:
    """Accept ``f(2, 3)`` as well as ``f((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be integers, got {shape!r}") from None


class Reshape(Op):
    __slots__ = ("input_shape",)

    def forward(self, a, shape):
        self.input_shape = a.shape
        return np.reshape(a, shape)

    def backward(self, grad):
        return grad.reshape(self.input_shape)


class Expand(Op):
    __slots__ = ("input_shape",)

    def forward(self, a, shape):
        self.input_shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, grad):
        return grad.sum_to_size(self.input_shape)


def reshape(input: Tensor, *shape) -> Tensor:
    shape = _size_arg(shape, "reshape")
    if -1 not in shape and int(np.prod(shape)) != input._data.size:
        raise RuntimeError(
            f"reshape: shape {list(shape)} is invalid for input of size {input._data.size} (shape {list(input.shape)})"
        )
    return Reshape.apply(input, shape=shape)


def view(input: Tensor, *shape) -> Tensor:
    """Like ``reshape`` (retrograd copies when NumPy cannot make a view)."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer)):
        return input.to(shape[0])  # view(dtype)
    return reshape(input, *shape)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other.shape)


def expand(input: Tensor, *shape) -> Tensor:
    """Broadcast to ``shape`` without copying; -1 keeps a dimension's size."""
    shape = _size_arg(shape, "expand")
    ndim = input._data.ndim
    if len(shape) < ndim:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to the number of dimensions in the tensor ({ndim})"
        )
    lead = len(shape) - ndim
    target = list(shape)
    for i, size in enumerate(input._data.shape):
        if target[lead + i] == -1:
            target[lead + i] = size
        elif size != 1 and size != target[lead + i]:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({target[lead + i]}) must match the existing size ({size}) "
                f"at non-singleton dimension {lead + i}. Target sizes: {list(shape)}. Tensor sizes: {list(input.shape)}"
            )
    target = tuple(target)
    if target == input._data.shape:
        return input
    return Expand.apply(input, shape=target)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other.shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


# ---------------------------------------------------------- permuting dimensions


class Permute(Op):
    """Reorder the dimensions (a view); backward applies the inverse order."""

    __slots__ = ("dims",)

    def forward(self, a, dims):
        self.dims = dims
        return np.transpose(a, dims)

    def backward(self, grad):
        return grad.permute(tuple(np.argsort(self.dims).tolist()))


def _dims_arg(dims: tuple, op: str) -> tuple:
    """Accept ``f(0, 2, 1)`` as well as ``f((0, 2, 1))``."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    try:
        return tuple(int(d) for d in dims)
    except TypeError:
        raise TypeError(f"{op}: dims must be integers, got {dims!r}") from None


def permute(input: Tensor, *args, dims=None) -> Tensor:
    """The dimensions in the order ``dims`` (a permutation of ``range(ndim)``)."""
    dims = _dims_arg(args if dims is None else (dims,), "permute")
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(
            f"permute: number of dims don't match in permute: the tensor has {ndim} dimensions, "
            f"got {len(dims)} dims {list(dims)}"
        )
    dims = tuple(normalize_dim(d, ndim, "permute") for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError(f"permute: repeated dim in {list(dims)}")
    if dims == tuple(range(ndim)):
        return Reshape.apply(input, shape=input._data.shape)  # a new node, like PyTorch's view
    return Permute.apply(input, dims=dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap dimensions ``dim0`` and ``dim1``."""
    ndim = input._data.ndim
    dim0 = normalize_dim(dim0, ndim, "transpose")
    dim1 = normalize_dim(dim1, ndim, "transpose")
    dims = list(range(ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return permute(input, dims)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a matrix; 0-d and 1-d tensors come back as they are."""
    ndim = input._data.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    return transpose(input, 0, 1) if ndim == 2 else permute(input, tuple(range(ndim)))


def _reverse_dims(input: Tensor) -> Tensor:
    """``x.T``: all dimensions in reverse order."""
    return permute(input, tuple(range(input._data.ndim - 1, -1, -1)))


def _matrix_transpose(input: Tensor) -> Tensor:
    """``x.mT``: the last two dimensions swapped (a batch of matrices transposed)."""
    if input._data.ndim < 2:
        raise RuntimeError(
            f"tensor.mT is only supported on matrices or batches of matrices. Got {input._data.ndim}-D tensor."
        )
    return transpose(input, -2, -1)


def _conjugate_transpose(input: Tensor) -> Tensor:
    """``x.H``: the conjugate transpose of a matrix (retrograd tensors are real, so the transpose)."""
    if input._data.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {input._data.ndim}-D tensor.")
    return transpose(input, 0, 1)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (retrograd tensors are real, so ``mT``)."""
    return _matrix_transpose(input)


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move the dimensions ``source`` to the positions ``destination``; the others keep their order."""
    ndim = input._data.ndim
    source = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    destination = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(source)} dims) should contain "
            f"the same number of dims as destination ({list(destination)} dims)"
        )
    source = tuple(normalize_dim(d, ndim, "movedim") for d in source)
    destination = tuple(normalize_dim(d, ndim, "movedim") for d in destination)
    if len(set(source)) != len(source) or len(set(destination)) != len(destination):
        raise RuntimeError(f"movedim: repeated dim in source {list(source)} or destination {list(destination)}")
    order = [d for d in range(ndim) if d not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return permute(input, order)


moveaxis = movedim


# ----------------------------------------------------- adding, removing dimensions


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1: all of them, or those among ``dim`` (an int or a tuple)."""
    shape = input._data.shape
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
    else:
        dims = normalize_dims(dim, len(shape), "squeeze") or ()
        dims = {d for d in dims if len(shape) and shape[d] == 1}
    return reshape(input, tuple(s for i, s in enumerate(shape) if i not in dims))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (in ``[-ndim - 1, ndim]``)."""
    ndim = input._data.ndim
    dim = normalize_dim(dim, ndim + 1, "unsqueeze")
    shape = input._data.shape
    return reshape(input, shape[:dim] + (1,) + shape[dim:])


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` to ``end_dim`` into one (a 0-d tensor becomes 1-d)."""
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    start = normalize_dim(start_dim, len(shape), "flatten")
    end = normalize_dim(end_dim, len(shape), "flatten")
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    merged = int(np.prod(shape[start : end + 1], dtype=np.int64))
    return reshape(input, shape[:start] + (merged,) + shape[end + 1 :])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one entry may be -1)."""
    shape = input._data.shape
    dim = normalize_dim(dim, len(shape), "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
    if (
        sizes.count(-1) > 1
        or (sizes.count(-1) == 0 and known != shape[dim])
        or (sizes.count(-1) == 1 and (known == 0 or shape[dim] % known))
    ):
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({shape[dim]}) "
            f"in the input tensor"
        )
    if -1 in sizes:
        sizes = tuple(shape[dim] // known if s == -1 else s for s in sizes)
    return reshape(input, shape[:dim] + sizes + shape[dim + 1 :])


# -------------------------------------------------------------------- slicing


class Slice(Op):
    """Basic indexing (ints, slices, None, Ellipsis): a view of the input.

    Backward embeds the gradient into zeros of the input's shape; the two ops
    are each other's backward, which keeps every order of derivative exact.
    """

    __slots__ = ("index", "input_shape")

    def forward(self, a, index):
        self.index = index
        self.input_shape = a.shape
        return np.asarray(a[index])

    def backward(self, grad):
        return Embed.apply(grad, index=self.index, shape=self.input_shape, fill=0)


class Embed(Op):
    """An array of ``shape`` filled with ``fill``, with the input written at ``index``."""

    __slots__ = ("index",)

    def forward(self, a, index, shape, fill):
        self.index = index
        out = np.full(shape, fill, dtype=a.dtype)
        out[index] = a
        return out

    def backward(self, grad):
        return Slice.apply(grad, index=self.index)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """Elements ``start`` to ``start + length`` along ``dim`` (a view)."""
    ndim = input._data.ndim
    dim = normalize_dim(dim, ndim, "narrow")
    start, length = int(start), int(length)
    size = input._data.shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"narrow: start ({start}) out of range for dimension {dim} of size {size}")
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return Slice.apply(input, index=(slice(None),) * dim + (slice(start, start + length),))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, with that dimension removed."""
    ndim = input._data.ndim
    if ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim(dim, ndim, "select")
    size = input._data.shape[dim]
    index = int(index)
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension {dim}"
        )
    return Slice.apply(input, index=(slice(None),) * dim + (index % size,))


# -------------------------------------------------- splitting into several pieces


class SplitPieces(Op):
    """Cut the input along ``dim`` into pieces of ``sizes``: one node with one
    output per piece (``unbind`` also drops the dimension).

    Backward joins the pieces' gradients with one ``cat`` (or ``stack``), zeros
    standing in for pieces that got no gradient, so splitting into n pieces
    costs one pass over the gradient rather than n.
    """

    __slots__ = ("dim", "input_shape", "n_outputs", "sizes", "squeeze")

    @classmethod
    def apply(cls, input: Tensor, dim: int, sizes: tuple, squeeze: bool) -> tuple:
        node = cls.__new__(cls)
        node.dim, node.sizes, node.squeeze = dim, sizes, squeeze
        node.input_shape = input._data.shape
        arrays = node.forward(input._data)
        if not (GradMode.enabled and input._requires_grad):
            return tuple(_wrap(a) for a in arrays)
        node._connect((input,))
        node.n_outputs = len(arrays)
        return tuple(_wrap(a, grad_fn=node, output_nr=i) for i, a in enumerate(arrays))

    def forward(self, a):
        bounds = np.cumsum(self.sizes)[:-1]
        pieces = np.split(a, bounds, axis=self.dim)
        if self.squeeze:
            pieces = [np.squeeze(p, axis=self.dim) for p in pieces]
        return pieces

    def _run_backward(self, grads: list):
        piece_shape = list(self.input_shape)
        filled = []
        for size, grad in zip(self.sizes, grads, strict=True):
            if grad is None:
                piece_shape[self.dim] = size
                shape = tuple(s for i, s in enumerate(piece_shape) if not (self.squeeze and i == self.dim))
                grad = _wrap(np.zeros(shape, dtype=self.input_meta[0][1]))
            filled.append(grad)
        return (stack(filled, self.dim) if self.squeeze else cat(filled, self.dim),)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    ndim = tensor._data.ndim
    if ndim == 0:
        raise RuntimeError("split: expected at least a 1-dimensional tensor")
    dim = normalize_dim(dim, ndim, "split")
    size = tensor._data.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step < 0 or (step == 0 and size != 0):
            raise RuntimeError(
                f"split: split_size can only be 0 if dimension size is 0, but got split_size={step} "
                f"and dimension size {size}"
            )
        if size == 0:
            sizes = (0,)
        else:
            sizes = (step,) * (size // step) + ((size % step,) if size % step else ())
    else:
        sizes = tuple(int(s) for s in split_size_or_sections)
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                f"dimension {dim}), but got split_sizes={list(sizes)}"
            )
    return SplitPieces.apply(tensor, dim, sizes, squeeze=False)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    return split(input, list(split_sizes), dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Up to ``chunks`` pieces of equal size ``ceil(size / chunks)`` along ``dim``."""
    chunks = int(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    dim = normalize_dim(dim, ndim, "chunk")
    size = input._data.shape[dim]
    if size == 0:
        return SplitPieces.apply(input, dim, (0,) * chunks, squeeze=False)
    return split(input, -(-size // chunks), dim)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """``sections`` pieces as equal as possible (the first ones one larger), or cuts at ``indices``."""
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("tensor_split: expected at least a 1-dimensional tensor")
    dim = normalize_dim(dim, ndim, "tensor_split")
    size = input._data.shape[dim]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        sizes = (small + 1,) * extra + (small,) * (sections - extra)
    else:
        cuts = [min(max(int(i), 0), size) for i in indices_or_sections]
        starts, ends = [0, *cuts], [*cuts, size]
        if any(end < start for start, end in zip(starts, ends, strict=True)):
            # Cuts out of order give overlapping or empty pieces: slice each one.
            lead = (slice(None),) * dim
            return tuple(
                Slice.apply(input, index=lead + (slice(start, max(start, end)),))
                for start, end in zip(starts, ends, strict=True)
            )
        sizes = tuple(end - start for start, end in zip(starts, ends, strict=True))
    return SplitPieces.apply(input, dim, sizes, squeeze=False)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, with that dimension removed."""
    ndim = input._data.ndim
    if ndim == 0:
        raise IndexError("unbind: dimension specified as 0 but tensor has no dimensions")
    dim = normalize_dim(dim, ndim, "unbind")
    return SplitPieces.apply(input, dim, (1,) * input._data.shape[dim], squeeze=True)


# ------------------------------------------------------------- joining tensors


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _common_dtype(tensors) -> np.dtype:
    """PyTorch's promotion over the tensors being joined: the highest category
    (bool < integer < floating) wins, then the widest type within it."""
    kinds = {t._data.dtype for t in tensors}
    if len(kinds) == 1:
        return tensors[0]._data.dtype
    top = max(_CATEGORY[d.kind] for d in kinds)
    return np.result_type(*[d for d in kinds if _CATEGORY[d.kind] == top])


def _tensor_list(tensors, op: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, got {type(tensors).__name__}")
    if len(tensors) == 0:
        raise ValueError(f"{op}(): expected a non-empty list of Tensors")
    for position, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected a Tensor at position {position}, got {type(t).__name__}")
    dtype = _common_dtype(tensors)
    return [t if t._data.dtype == dtype else t.to(dtype) for t in tensors]


class Cat(Op):
    """Join along ``dim``; inputs flagged in ``skipped`` (PyTorch's legacy empty
    1-d tensors) take no part. Backward splits the gradient back into pieces."""

    __slots__ = ("dim", "sizes", "skipped")

    def forward(self, *arrays, dim, skipped):
        self.dim = dim
        self.skipped = skipped
        joined = [a for a, skip in zip(arrays, skipped, strict=True) if not skip]
        self.sizes = tuple(a.shape[dim] for a in joined)
        if not joined:
            return np.empty((0,), dtype=arrays[0].dtype)
        return np.concatenate(joined, axis=dim)

    def backward(self, grad):
        pieces = iter(SplitPieces.apply(grad, self.dim, self.sizes, squeeze=False) if self.sizes else ())
        return tuple(_wrap(np.zeros((0,), dtype=grad._data.dtype)) if skip else next(pieces) for skip in self.skipped)


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along the existing dimension ``dim``; all other sizes must match."""
    tensors = _tensor_list(tensors, "cat")
    skipped = tuple(t._data.shape == (0,) for t in tensors)
    joined = [t for t, skip in zip(tensors, skipped, strict=True) if not skip]
    if not joined:
        return Cat.apply(*tensors, dim=0, skipped=skipped)
    reference = joined[0]
    ndim = reference._data.ndim
    for position, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {position}) cannot be concatenated")
    dim = normalize_dim(dim, ndim, "cat")
    for position, t in enumerate(tensors):
        if skipped[position]:
            continue
        shape = t._data.shape
        if len(shape) != ndim:
            raise RuntimeError(
                f"cat: Tensors must have same number of dimensions: got {ndim} and {len(shape)} "
                f"(shapes {list(reference.shape)} and {list(shape)} at position {position})"
            )
        for d in range(ndim):
            if d != dim and shape[d] != reference._data.shape[d]:
                raise RuntimeError(
                    f"cat: Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{reference._data.shape[d]} but got size {shape[d]} for tensor number {position} in the list "
                    f"(shapes: {[list(x.shape) for x in tensors]})"
                )
    return Cat.apply(*tensors, dim=dim, skipped=skipped)


concat = concatenate = cat


class Stack(Op):
    __slots__ = ("dim",)

    def forward(self, *arrays, dim):
        self.dim = dim
        return np.stack(arrays, axis=dim)

    def backward(self, grad):
        return unbind(grad, self.dim)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join equally shaped tensors along a new dimension ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    shape = tensors[0]._data.shape
    for position, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(t.shape)} at entry {position}"
            )
    dim = normalize_dim(dim, len(shape) + 1, "stack")
    return Stack.apply(*tensors, dim=dim)


def _at_least(t: Tensor, ndim: int) -> Tensor:
    """NumPy's ``atleast_1d/2d/3d``: a vector becomes a row (2-d) or a [1, n, 1] block (3-d),
    a matrix gets a trailing dimension (3-d)."""
    shape = t._data.shape
    if len(shape) >= ndim:
        return t
    if ndim == 1:
        return reshape(t, (1,))
    if ndim == 2:
        return reshape(t, (1,) + (shape or (1,)))
    return reshape(t, {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)])


def hstack(tensors) -> Tensor:
    """Join along the second dimension (the first for 1-d tensors)."""
    tensors = [_at_least(t, 1) for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along the first dimension, after making 1-d tensors rows."""
    return cat([_at_least(t, 2) for t in _tensor_list(tensors, "vstack")], 0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    """Join along the third dimension, after making every tensor at least 3-d."""
    return cat([_at_least(t, 3) for t in _tensor_list(tensors, "dstack")], 2)


def column_stack(tensors) -> Tensor:
    """Join along the second dimension, 0-d and 1-d tensors taken as columns."""
    tensors = _tensor_list(tensors, "column_stack")
    columns = [reshape(t, (t._data.size, 1)) if t._data.ndim < 2 else t for t in tensors]
    return cat(columns, 1)


# ------------------------------------------------------------ repeating, flipping


class Repeat(Op):
    """Tile the input ``sizes`` times along each dimension (leading new ones included)."""

    __slots__ = ("input_shape", "sizes")

    def forward(self, a, sizes):
        self.input_shape = a.shape
        self.sizes = sizes
        padded = (1,) * (len(sizes) - a.ndim) + a.shape
        return np.tile(a.reshape(padded), sizes)

    def backward(self, grad):
        # The output along each dimension is `repeats` consecutive copies of the
        # input: split it into (repeats, size) and add up the copies.
        padded = (1,) * (len(self.sizes) - len(self.input_shape)) + self.input_shape
        interleaved = tuple(n for pair in zip(self.sizes, padded, strict=True) for n in pair)
        summed = grad.reshape(interleaved).sum(tuple(range(0, len(interleaved), 2)))
        return summed.reshape(self.input_shape)


def repeat(input: Tensor, *sizes) -> Tensor:
    """The input repeated ``sizes[i]`` times along dimension i (extra sizes add leading dimensions)."""
    sizes = _size_arg(sizes, "repeat")
    if len(sizes) < input._data.ndim:
        raise RuntimeError(
            f"repeat: Number of dimensions of repeat dims ({len(sizes)}) can not be smaller than number of "
            f"dimensions of tensor ({input._data.ndim})"
        )
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeats can not be negative, got {list(sizes)}")
    return Repeat.apply(input, sizes=sizes)


def tile(input: Tensor, dims) -> Tensor:
    """Like ``repeat``, but ``dims`` shorter than the tensor's rank is padded with ones in front."""
    dims = _size_arg((dims,), "tile")
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


class Flip(Op):
    __slots__ = ("dims",)

    def forward(self, a, dims):
        self.dims = dims
        return np.flip(a, dims).copy()  # a copy, as in PyTorch

    def backward(self, grad):
        return Flip.apply(grad, dims=self.dims)


def flip(input: Tensor, *args, dims=None) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    dims = _dims_arg(args if dims is None else (dims,), "flip")
    dims = normalize_dims(dims, input._data.ndim, "flip") or ()
    return Flip.apply(input, dims=dims)


def fliplr(input: Tensor) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    if input._data.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return flip(input, 0)


class Roll(Op):
    __slots__ = ("dims", "shifts")

    def forward(self, a, shifts, dims):
        self.shifts, self.dims = shifts, dims
        return np.roll(a, shifts, dims)

    def backward(self, grad):
        return Roll.apply(grad, shifts=tuple(-s for s in self.shifts), dims=self.dims)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Rotate elements by ``shifts`` along ``dims``; without ``dims`` the flattened tensor rotates."""
    shifts = (int(shifts),) if isinstance(shifts, (int, np.integer)) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return reshape(Roll.apply(flatten(input), shifts=shifts, dims=(0,)), input._data.shape)
    dims = (int(dims),) if isinstance(dims, (int, np.integer)) else tuple(int(d) for d in dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    dims = tuple(normalize_dim(d, input._data.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts=shifts, dims=dims)


# --------------------------------------------------------------- triangular parts


class Triangle(Op):
    """``tril`` (``upper=False``) or ``triu`` of the last two dimensions; self-adjoint."""

    __slots__ = ("diagonal", "upper")

    def forward(self, a, diagonal, upper):
        self.diagonal, self.upper = diagonal, upper
        return np.triu(a, diagonal) if upper else np.tril(a, diagonal)

    def backward(self, grad):
        return Triangle.apply(grad, diagonal=self.diagonal, upper=self.upper)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below the ``diagonal``-th diagonal) of each matrix; zeros elsewhere."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Triangle.apply(input, diagonal=int(diagonal), upper=False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above the ``diagonal``-th diagonal) of each matrix; zeros elsewhere."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triangle.apply(input, diagonal=int(diagonal), upper=True)


def tril_(self: Tensor, diagonal: int = 0) -> Tensor:
    return apply_inplace(self, _Compute(tril, diagonal), "tril_")


def triu_(self: Tensor, diagonal: int = 0) -> Tensor:
    return apply_inplace(self, _Compute(triu, diagonal), "triu_")


# ----------------------------------------------------------------------- padding

_NON_CONSTANT_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """``nn.functional.pad``: ``pad`` lists (before, after) amounts from the last
    dimension backwards; negative amounts crop. ``mode`` is "constant" (filled
    with ``value``, default 0), "reflect", "replicate" or "circular"."""
    pad = tuple(int(p) for p in pad)
    shape = input._data.shape
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got {len(pad)} values {list(pad)}")
    if len(pad) // 2 > len(shape):
        raise RuntimeError(
            f"pad: Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pad)} and input of dimension {len(shape)}"
        )
    # amounts[d] = (before, after) for dimension d, counting from the front
    amounts = [(0, 0)] * len(shape)
    for i in range(len(pad) // 2):
        amounts[len(shape) - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    for d, (before, after) in enumerate(amounts):
        if shape[d] + before + after < 0:
            raise RuntimeError(
                f"pad: The input size {shape[d]}, plus negative padding {before} and {after} resulted in a "
                f"negative output size, which is invalid. Check dimension {d} of your input."
            )
    if mode == "constant":
        return _constant_pad(input, amounts, 0 if value is None else value)
    if mode not in _NON_CONSTANT_PAD_MODES:
        raise NotImplementedError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value not in (None, 0):
        raise RuntimeError(f"pad: padding mode '{mode}' doesn't take in value argument")
    return _index_pad(input, amounts, len(pad) // 2, mode)


def _constant_pad(input: Tensor, amounts: list, value) -> Tensor:
    """Crop the negative amounts away with a slice, then embed into a tensor filled with ``value``."""
    shape = input._data.shape
    if any(before < 0 or after < 0 for before, after in amounts):
        crop = tuple(slice(max(-before, 0), size - max(-after, 0)) for size, (before, after) in zip(shape, amounts))
        input = Slice.apply(input, index=crop)
        amounts = [(max(before, 0), max(after, 0)) for before, after in amounts]
    if not any(before or after for before, after in amounts):
        return Reshape.apply(input, shape=input._data.shape)
    inner = tuple(slice(before, before + size) for size, (before, _) in zip(input._data.shape, amounts))
    padded_shape = tuple(size + before + after for size, (before, after) in zip(input._data.shape, amounts))
    return Embed.apply(input, index=inner, shape=padded_shape, fill=value)


def _index_pad(input: Tensor, amounts: list, n_padded: int, mode: str) -> Tensor:
    """Reflect, replicate or circular padding: gather along each padded
    dimension with an index array, so the gradient of every copy accumulates."""
    from .indexing import index_select

    ndim = input._data.ndim
    if not n_padded < ndim <= n_padded + 2:
        raise NotImplementedError(
            f"pad: padding {n_padded} dimension(s) in mode '{mode}' needs a {n_padded + 1}-d or "
            f"{n_padded + 2}-d input (a batch and/or channel dimension first), got a {ndim}-d input"
        )
    for d in range(ndim - n_padded, ndim):
        before, after = amounts[d]
        size = input._data.shape[d]
        if before < 0 or after < 0:
            raise NotImplementedError(
                f"pad: negative padding is only supported in mode 'constant', got {before, after}"
            )
        limit = size - 1 if mode == "reflect" else size
        if mode != "replicate" and (before > limit or after > limit):
            raise RuntimeError(
                f"pad: padding ({before}, {after}) in mode '{mode}' must be at most {limit} for dimension "
                f"{d} of size {size}"
            )
        if mode == "replicate" and size == 0 and (before or after):
            raise RuntimeError(f"pad: cannot replicate-pad dimension {d} of size 0")
        if before or after:
            positions = np.pad(np.arange(size), (before, after), mode=_NON_CONSTANT_PAD_MODES[mode])
            input = index_select(input, d, _wrap(positions))
    return input


__all__ = [
    "adjoint", "broadcast_to", "cat", "chunk", "column_stack", "concat", "concatenate", "dstack", "expand",
    "expand_as", "flatten", "flip", "fliplr", "flipud", "hstack", "movedim", "moveaxis", "narrow", "permute",
    "repeat", "reshape", "reshape_as", "roll", "row_stack", "select", "split", "split_with_sizes", "squeeze",
    "stack", "swapaxes", "swapdims", "t", "tensor_split", "tile", "transpose", "tril", "triu", "unbind",
    "unflatten", "unsqueeze", "view", "view_as", "vstack",
]  # fmt: skip
_FUNCTION_ONLY = {"cat", "column_stack", "concat", "concatenate", "dstack", "hstack", "row_stack", "stack", "vstack"}
TENSOR_METHODS = {name: globals()[name] for name in __all__ if name not in _FUNCTION_ONLY}
TENSOR_METHODS.update(tril_=tril_, triu_=triu_)
TENSOR_METHODS["T"] = property(_reverse_dims)
TENSOR_METHODS["mT"] = property(_matrix_transpose)
TENSOR_METHODS["mH"] = property(_matrix_transpose)
TENSOR_METHODS["H"] = property(_conjugate_transpose)
