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
    has_saved_state = False  # a released node with saved state cannot run again

    def name(self) -> str:
        return type(self).__name__ + "Backward"

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
        """``hook(grad_outputs) -> grad_outputs or None`` before this node's backward."""
        if self.pre_hooks is None:
            self.pre_hooks = {}
        handle = RemovableHandle(self.pre_hooks)
        self.pre_hooks[handle.id] = hook
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
                edges.append((t.grad_fn if t.grad_fn is not None else t, t._output_nr))
                meta.append((t._data.shape, t._data.dtype))
        self.next_edges = tuple(edges)
        self.input_meta = tuple(meta)
        self.released = False
        self.pre_hooks = None
        self.retained = None
        self.creation_stack = anomaly.creation_stack() if anomaly.AnomalyMode.enabled else None

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return tuple(edge is not None for edge in self.next_edges)

    def _release(self) -> None:
        """Drop what backward saved, so memory returns as soon as the walk is past."""
        self.released = True


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
        node = cls.__new__(cls)
        try:
            data = node.forward(*[t._data for t in inputs], **params)
        except (ValueError, TypeError) as error:
            raise _op_error(cls, error, inputs) from None
        if not GradMode.enabled:
            return _wrap(data)
        for t in inputs:
            if t._requires_grad:
                break
        else:
            out = _wrap(data)
            if anomaly.AnomalyMode.enabled:
                anomaly.check_forward(node, out)
            return out
        node._connect(inputs)
        if cls.save_inputs:
            node.saved_inputs_ = inputs
            node.saved_versions = tuple(t._version for t in inputs)
        out = _wrap(data, grad_fn=node)
        if cls.save_output:
            node.output_data = data
            node.output_ref = weakref.ref(out)
        if anomaly.AnomalyMode.enabled:
            anomaly.check_forward(node, out)
        return out

    @property
    def has_saved_state(self) -> bool:
        return self.save_inputs or self.save_output or getattr(self, "saved", None) is not None

    @property
    def saved_inputs(self) -> tuple:
        """The input Tensors, after checking none was changed in place since."""
        if self.released:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time. " + RETAIN_GRAPH_HINT
            )
        for position, (tensor, version) in enumerate(zip(self.saved_inputs_, self.saved_versions, strict=True)):
            if tensor._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: input {position} of {self.name()} (shape {list(tensor.shape)}, "
                    f"dtype {tensor.dtype}) is at version {tensor._version}; expected version {version} instead."
                )
        return self.saved_inputs_

    def output(self):
        """The op's output as a Tensor whose grad_fn is this node (so double backward sees it)."""
        if self.released:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time. " + RETAIN_GRAPH_HINT
            )
        live = self.output_ref()
        if live is not None and (live._version != 0 or live.grad_fn is not self):
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: the output of {self.name()} (shape {list(live.shape)}) was changed in place."
            )
        if GradMode.enabled:
            return _wrap(self.output_data, grad_fn=self)
        return _wrap(self.output_data)

    def _run_backward(self, grads: list):
        result = self.backward(grads[0])
        return result if type(result) is tuple else (result,)

    def _release(self) -> None:
        self.released = True
        self.saved = None
        if self.save_inputs:
            self.saved_inputs_ = ()
        if self.save_output:
            self.output_data = None


def _op_error(cls, error: Exception, inputs) -> Exception:
    """NumPy's complaint, re-raised at the op with the shapes and dtypes it got."""
    described = ", ".join(f"{list(t._data.shape)} {t._data.dtype}" for t in inputs)
    message = f"{cls.__name__.lower()}: {error} (inputs: {described})"
    return TypeError(message) if isinstance(error, TypeError) else RuntimeError(message)


class FunctionCtx(Node):
    """The ``ctx`` of a user-defined ``Function``; it is also that op's node."""

    __slots__ = ("__dict__",)

    def save_for_backward(self, *tensors) -> None:
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else t._version for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        if self.released:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time. " + RETAIN_GRAPH_HINT
            )
        saved = self.__dict__.get("_saved", ())
        for tensor, version in zip(saved, self._saved_versions, strict=True):
            if tensor is not None and tensor._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: a tensor saved by {self.name()} (shape {list(tensor.shape)}) "
                    f"is at version {tensor._version}; expected version {version} instead."
                )
        return saved

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable = {id(t) for t in tensors}

    def mark_dirty(self, *tensors) -> None:
        """Accepted for compatibility: retrograd tracks in-place changes with version counters."""

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize_grads = bool(value)

    @property
    def has_saved_state(self) -> bool:
        return bool(self.__dict__.get("_saved"))

    def name(self) -> str:
        return self._function.__name__ + "Backward"

    def _run_backward(self, grads: list):
        if self.__dict__.get("_materialize_grads", True):
            grads = [
                g if g is not None else _wrap(np.zeros(shape, dtype))
                for g, (shape, dtype) in zip(grads, self._output_meta, strict=True)
            ]
        result = self._function.backward(self, *grads)
        result = result if isinstance(result, tuple) else (result,)
        n_inputs = len(self.next_edges)
        if len(result) < n_inputs:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients (expected {n_inputs}, got {len(result)})"
            )
        return result[:n_inputs]

    def _release(self) -> None:
        self.released = True
        self.__dict__.pop("_saved", None)


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
    ``backward`` gets one gradient per output and returns one per input
    (``None`` for non-Tensor or non-differentiable inputs).
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
        previous = GradMode.enabled
        GradMode.enabled = False
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            GradMode.enabled = previous
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        recording = previous and any(t is not None and t._requires_grad for t in tensor_args)
        if not recording:
            return outputs[0] if single else outputs
        ctx._connect(tensor_args)
        non_differentiable = ctx.__dict__.get("_non_differentiable", set())
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
            if any(out is a for a in tensor_args):
                out = out.view_as(out)  # an input returned as-is becomes a new node's output
            out = _wrap(out._data, grad_fn=ctx, output_nr=index)
            results.append(out)
        ctx.n_outputs = len(outputs)
        return results[0] if single else tuple(results)


# ``_wrap(array, grad_fn=None, output_nr=0) -> Tensor`` makes a Tensor around an
# array without checks (the hot path of every op). ``retrograd.tensor`` defines
# it and installs it here, because autograd sits below the Tensor class.
_wrap = None
