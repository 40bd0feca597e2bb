"""Nodes of the backward graph.

Every differentiable op is one ``Op`` subclass with its ``forward`` (NumPy
arrays in, one array out) and its ``backward`` (Tensors in, Tensors out) side
by side. Backward rules are written with retrograd's own ops, so running them
with recording on (``create_graph=True``) makes gradients differentiable.

Users write their own ops with ``Function``, PyTorch's interface:
``forward(ctx, *args)`` / ``backward(ctx, *grads)`` with
``ctx.save_for_backward``.

The engine (``engine.py``) sees both through ``Node``: ``next_edges`` says
where each input's gradient goes, ``input_meta`` lets the engine reduce a
broadcast gradient back to the input's shape and dtype (once, centrally), and
``_run_backward`` computes the input gradients.
"""

from __future__ import annotations

import weakref

import numpy as np

from . import anomaly
from .grad_mode import GradMode

RETAIN_GRAPH_HINT = (
    "Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class Node:
    """One recorded op: where its input gradients go and what its backward needs."""

    __slots__ = (
        "__weakref__",
        "creation_stack",
        "input_meta",
        "next_edges",
        "pre_hooks",
        "released",
        "retained",
    )
    n_outputs = 1
    backward_name: str | None = None  # PyTorch's node name, where the class name differs

    def name(self) -> str:
        """PyTorch's name for this node (``MulBackward0``), shown in ``grad_fn`` and errors."""
        return self.backward_name or type(self).__name__ + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self) -> tuple:
        """PyTorch's view of the edges: ``((node_or_AccumulateGrad, output_nr), ...)``."""
        result = []
        for edge in self.next_edges:
            if edge is None:
                result.append((None, 0))
            elif isinstance(edge[0], Node):
                result.append(edge)
            else:
                result.append((AccumulateGrad(edge[0]), 0))
        return tuple(result)

    def register_prehook(self, hook) -> RemovableHandle:
        """``hook(grad_outputs) -> grad_outputs or None`` before this node's backward
        (``grad_outputs`` is a tuple with one gradient, or None, per output)."""
        if self.pre_hooks is None:
            self.pre_hooks = {}
        handle = RemovableHandle(self.pre_hooks)
        self.pre_hooks[handle.id] = (None, hook)  # output None: the hook takes them all
        return handle

    def _connect(self, inputs) -> None:
        """Record where each input's gradient must go and its shape and dtype."""
        edges = []
        meta = []
        for t in inputs:
            if t is None or not t._requires_grad:
                edges.append(None)
                meta.append(None)
            else:
                grad_fn = t.grad_fn
                edges.append((t if grad_fn is None else grad_fn, t._output_nr))
                data = t._data
                meta.append((data.shape, data.dtype))
        self.next_edges = tuple(edges)
        self.input_meta = tuple(meta)
        self.released = False  # True once saved values it needs to run are freed
        self.pre_hooks = None
        self.retained = None
        self.creation_stack = anomaly.creation_stack() if anomaly.AnomalyMode.enabled else None

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return tuple(edge is not None for edge in self.next_edges)

    def _release(self) -> None:
        """Drop what backward saved, so memory returns as soon as the walk is past,
        and set ``released`` if the node can no longer run. A node that saved
        nothing keeps working, as in PyTorch."""


class RemovableHandle:
    """Returned by every ``register_*_hook``: ``handle.remove()`` takes the hook out."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self._hooks_ref = weakref.ref(hooks) if _weakrefable(hooks) else (lambda: hooks)
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        hooks = self._hooks_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def _weakrefable(obj) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


class AccumulateGrad:
    """Stands for a leaf in ``next_functions``, as in PyTorch; ``variable`` is the leaf."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


class Op(Node):
    """Base of retrograd's built-in differentiable ops.

    A subclass defines ``forward(self, *arrays, **params) -> ndarray`` and
    ``backward(self, grad) -> Tensor | tuple`` (one entry per input, ``None``
    where there is no gradient). Class flags say what backward needs:
    ``save_inputs`` (the input Tensors, checked against in-place changes) and
    ``save_output`` (the output value). Arrays that forward computes for
    backward (masks, indices) go in ``self.saved``, which is released after
    backward; small settings (an axis, a slope) go in slots the subclass declares.
    """

    __slots__ = ("output_data", "output_ref", "saved", "saved_inputs_", "saved_versions")
    save_inputs = False
    save_output = False

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays; record a node if any input requires grad."""
        # The hot path of every op, so it is written out flat. One and two
        # inputs (nearly every op) skip building an argument list, and ops
        # without settings skip splatting an empty dict: on small tensors
        # either costs about as much as the arithmetic.
        node = object.__new__(cls)
        node.saved = None
        try:
            if len(inputs) == 1:
                a = inputs[0]._data
                data = node.forward(a, **params) if params else node.forward(a)
            elif len(inputs) == 2:
                a, b = inputs[0]._data, inputs[1]._data
                data = node.forward(a, b, **params) if params else node.forward(a, b)
            else:
                data = node.forward(*[t._data for t in inputs], **params)
        except (ValueError, TypeError) as error:
            raise _op_error(cls, error, inputs) from None
        if type(data) is not np.ndarray:  # NumPy ufuncs turn 0-d arrays into scalars
            data = np.asarray(data)
        recording = False
        if GradMode.enabled:
            for t in inputs:
                if t._requires_grad:
                    recording = True
                    break
        if not recording:
            out = _wrap(data)
            if anomaly.AnomalyMode.enabled:
                anomaly.check_forward(node, out)
            return out
        node._connect(inputs)
        if cls.save_inputs:
            node.saved_inputs_ = inputs
            # Spelled out for one and two inputs: much cheaper than a comprehension.
            if len(inputs) == 2:
                node.saved_versions = (inputs[0]._version, inputs[1]._version)
            elif len(inputs) == 1:
                node.saved_versions = (inputs[0]._version,)
            else:
                node.saved_versions = tuple([t._version for t in inputs])
        out = _wrap(data, node)
        if cls.save_output:
            node.output_data = data
            node.output_ref = weakref.ref(out)
        if anomaly.AnomalyMode.enabled:
            anomaly.check_forward(node, out)
        return out

    @property
    def saved_inputs(self) -> tuple:
        """The input Tensors, after checking none was changed in place since."""
        if self.released:
            raise RuntimeError(f"{self.name()}: " + SECOND_BACKWARD_MESSAGE)
        inputs = self.saved_inputs_
        versions = self.saved_versions
        for position in range(len(inputs)):  # runs for every saved input: no zip/enumerate objects
            tensor = inputs[position]
            if tensor._version != versions[position]:
                raise RuntimeError(_modified_message(tensor, f"input {position} of {self.name()}", versions[position]))
        return inputs

    def output(self):
        """The op's output as a Tensor whose grad_fn is this node (so double backward sees it)."""
        data = self.output_array()
        if GradMode.enabled:
            return _wrap(data, grad_fn=self)
        return _wrap(data)

    def output_array(self) -> np.ndarray:
        """The op's output array, checked like ``output()``: for backward rules
        that compute in NumPy when no graph is being built."""
        if self.released:
            raise RuntimeError(f"{self.name()}: " + SECOND_BACKWARD_MESSAGE)
        live = self.output_ref()
        if live is not None and (live._version != 0 or live.grad_fn is not self):
            raise RuntimeError(_modified_message(live, f"output 0 of {self.name()}", 0))
        return self.output_data

    def _run_backward(self, grads: list):
        result = self.backward(grads[0])
        return result if type(result) is tuple else (result,)

    def _release(self) -> None:
        if not (self.save_inputs or self.save_output):
            try:
                if self.saved is None:
                    return  # nothing saved: the node can run again
            except AttributeError:  # ``apply`` always sets ``saved``; ops with their own ``apply`` may not
                return
        self.released = True
        self.saved = None
        self.saved_inputs_ = ()
        self.output_data = None


SECOND_BACKWARD_MESSAGE = (
    "trying to backward through the graph a second time "
    "(or directly access saved tensors after they have already been freed). " + RETAIN_GRAPH_HINT
)


def _modified_message(tensor, role: str, expected_version: int) -> str:
    """PyTorch's wording for a saved value that an in-place op changed after it was saved."""
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{tensor._data.dtype} tensor of shape {list(tensor._data.shape)}], which is {role}, "
        f"is at version {tensor._version}; expected version {expected_version} instead. "
        "Hint: an in-place op (x.add_(), x += ..., x[...] = ..., optimizer.step()) changed it after it was "
        "used; use the out-of-place op or .clone() it first."
    )


def _op_error(cls, error: Exception, inputs) -> Exception:
    """NumPy's complaint, re-raised at the op with the shapes and dtypes it got."""
    op = (cls.backward_name or cls.__name__).removesuffix("Backward0").lower()
    described = ", ".join(f"{list(t._data.shape)} {t._data.dtype}" for t in inputs)
    shapes = [t._data.shape for t in inputs]
    if "broadcast" in str(error) and len(shapes) == 2:
        a, b = shapes
        for dim in range(1, min(len(a), len(b)) + 1):
            if a[-dim] != b[-dim] and 1 not in (a[-dim], b[-dim]):
                return RuntimeError(
                    f"{op}: the size of tensor a ({a[-dim]}) must match the size of tensor b ({b[-dim]}) at "
                    f"non-singleton dimension {max(len(a), len(b)) - dim} (shapes {list(a)} and {list(b)})"
                )
    message = f"{op}: {error} (inputs: {described})"
    return TypeError(message) if isinstance(error, TypeError) else RuntimeError(message)


class _SavedOutput:
    """An output a ``Function`` saved for backward. Held without its ``grad_fn``
    (which is the ctx itself, so holding it would make a reference cycle) and
    reconnected when ``saved_tensors`` is read."""

    __slots__ = ("data", "output_nr", "tensor_ref")

    def __init__(self, tensor, output_nr: int):
        self.data = tensor._data
        self.output_nr = output_nr
        self.tensor_ref = weakref.ref(tensor)


class FunctionCtx(Node):
    """The ``ctx`` of a user-defined ``Function``; it is also that op's node."""

    __slots__ = ("__dict__",)

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (inputs, outputs or intermediates) for backward, checked
        against later in-place changes."""
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else t._version for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        if self.released:
            raise RuntimeError(f"{self.name()}: " + SECOND_BACKWARD_MESSAGE)
        saved = self.__dict__.get("_saved", ())
        result = []
        for position, (tensor, version) in enumerate(zip(saved, self.__dict__.get("_saved_versions", ()))):
            if isinstance(tensor, _SavedOutput):
                live = tensor.tensor_ref()
                if live is not None and (live._version != 0 or live.grad_fn is not self):
                    raise RuntimeError(_modified_message(live, f"output {tensor.output_nr} of {self.name()}", 0))
                grad_fn = self if GradMode.enabled else None
                tensor = _wrap(tensor.data, grad_fn=grad_fn, output_nr=tensor.output_nr)
            elif tensor is not None and tensor._version != version:
                raise RuntimeError(_modified_message(tensor, f"saved tensor {position} of {self.name()}", version))
            result.append(tensor)
        return tuple(result)

    def mark_non_differentiable(self, *tensors) -> None:
        """These outputs get ``requires_grad=False`` (and a zero gradient in backward)."""
        self._non_differentiable = {id(t) for t in tensors}

    def mark_dirty(self, *tensors) -> None:
        """Accepted for compatibility: retrograd tracks in-place changes with version counters."""

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward gets None (not zeros) for outputs that received no gradient."""
        self._materialize_grads = bool(value)

    def name(self) -> str:
        return self._function.__name__ + "Backward"

    def _run_backward(self, grads: list):
        if self.__dict__.get("_materialize_grads", True):
            grads = [
                _wrap(np.zeros(*meta)) if g is None and meta is not None else g
                for g, meta in zip(grads, self._output_meta, strict=True)
            ]
        result = self._function.backward(self, *grads)
        result = result if isinstance(result, tuple) else (result,)
        n_inputs = len(self.next_edges)
        extra = [g for g in result[n_inputs:] if g is not None]
        if len(result) < n_inputs or extra:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {n_inputs}, got {len(result)})"
            )
        return result[:n_inputs]

    def _release(self) -> None:
        if self.__dict__.pop("_saved", None):
            self.released = True


class Function:
    """User-defined differentiable op, PyTorch's interface::

        class Cube(rg.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x**3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x**2

        y = Cube.apply(x)

    ``forward`` runs with recording off and may return one Tensor or a tuple;
    ``ctx.needs_input_grad`` tells it which inputs need a gradient. ``backward``
    gets one gradient per output and returns one per input (``None`` for
    non-Tensor or non-differentiable inputs).
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..tensor import Tensor

        ctx = FunctionCtx()
        ctx._function = cls
        tensor_args = [a if isinstance(a, Tensor) else None for a in args]
        recording = GradMode.enabled and any(t is not None and t._requires_grad for t in tensor_args)
        if recording:
            ctx._connect(tensor_args)
        else:
            ctx.next_edges = (None,) * len(args)
        previous = GradMode.enabled
        GradMode.enabled = False
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            GradMode.enabled = previous
        if not recording:
            return outputs
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        non_differentiable = ctx.__dict__.get("_non_differentiable", set())
        saved = list(ctx.__dict__.get("_saved", ()))
        ctx._output_meta = []
        results = []
        for index, out in enumerate(outputs):
            if not isinstance(out, Tensor):
                results.append(out)
                ctx._output_meta.append(None)
                continue
            ctx._output_meta.append((out._data.shape, out._data.dtype))
            if id(out) in non_differentiable or out._data.dtype.kind != "f":
                results.append(out)
                continue
            # A new tensor whose grad_fn is ctx (an input returned as-is becomes
            # a new tensor sharing its values, as in PyTorch).
            wrapped = _wrap(out._data, grad_fn=ctx, output_nr=index)
            for position, t in enumerate(saved):
                if t is out:
                    saved[position] = _SavedOutput(wrapped, index)
            results.append(wrapped)
        if saved:
            ctx._saved = tuple(saved)
        ctx.n_outputs = len(outputs)
        return results[0] if single else tuple(results)


# ``_wrap(array, grad_fn=None, output_nr=0) -> Tensor`` makes a Tensor around an
# array without checks (the hot path of every op). ``retrograd.tensor`` defines
# it and installs it here, because autograd sits below the Tensor class.
_wrap = None
