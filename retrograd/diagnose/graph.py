"""``draw_graph``: the backward graph of a computation as Graphviz DOT, SVG or PNG.

The graph is read from the tensor itself: its ``grad_fn`` node and, from
node to node, ``next_edges`` (``next_functions`` in PyTorch's terms), walked
with an explicit stack. A node's output shape comes from the node that
consumes it (every node keeps ``input_meta``, the shape and dtype of each
input), the root's from the tensor.

Gradient norms appear after ``backward()``: for leaves from their ``.grad``;
for intermediate nodes from gradients the caller kept, either with
``retain_grad()`` on a tensor or with ``watch_gradients(loss)`` before
``backward()``, which notes the norm of the gradient reaching every node.

``record_modules(model)`` during the forward pass notes which nodes each
top-level child module created, so ``draw_graph(..., collapse_modules=model)``
can draw one box per child.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import numpy as np

from ..autograd.function import Node
from ..nn import Module
from ..tensor import Tensor

__all__ = ["GradientWatch", "ModuleRecording", "draw_graph", "graph_nodes", "record_modules", "watch_gradients"]

FORMATS = ("dot", "svg", "png")

# Norm of the gradient that reached each node during backward, for nodes a
# watch_gradients call covered. Weak keys: a graph that is gone leaves no trace.
_gradient_norms: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# For every model under record_modules: node -> name of the top-level child that created it.
_module_nodes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# ... and the output shapes each child produced.
_module_shapes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# --------------------------------------------------------------------------- walking the graph
@dataclass
class GraphNode:
    """One node of the drawn graph: an op's node or a leaf tensor."""

    obj: object  # a Node, or a leaf Tensor
    key: str  # DOT identifier
    shapes: dict[int, tuple] = field(default_factory=dict)  # output_nr -> shape
    inputs: list[str] = field(default_factory=list)  # keys of the nodes feeding this one, one per edge

    @property
    def is_leaf(self) -> bool:
        return isinstance(self.obj, Tensor)


def graph_nodes(tensor: Tensor) -> list[GraphNode]:
    """Every node reachable backwards from ``tensor`` (its ``grad_fn``, the nodes
    behind it, and the leaf tensors that require grad), root first. Iterative."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    if tensor.grad_fn is None and not tensor.requires_grad:
        raise ValueError(
            "draw_graph: the tensor has no backward graph (it does not require grad); "
            "compute it from tensors with requires_grad=True outside no_grad()"
        )
    start = tensor.grad_fn if tensor.grad_fn is not None else tensor
    root = GraphNode(start, "n0", {tensor._output_nr: tuple(tensor.shape)})
    found: dict[int, GraphNode] = {id(start): root}
    order = [root]
    stack = [root]
    while stack:
        current = stack.pop()
        if current.is_leaf:
            continue
        node = current.obj
        for edge, meta in zip(node.next_edges, node.input_meta, strict=True):
            if edge is None:
                continue
            source, output_nr = edge
            entry = found.get(id(source))
            if entry is None:
                entry = GraphNode(source, f"n{len(order)}")
                found[id(source)] = entry
                order.append(entry)
                stack.append(entry)
            entry.shapes.setdefault(output_nr, tuple(meta[0]))
            current.inputs.append(entry.key)
    return order


# --------------------------------------------------------------------------- hook handles
class _HookHandles:
    """Hook handles removed together by ``remove()``, or on leaving a ``with`` block."""

    def __init__(self, handles: list) -> None:
        self._handles = handles

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


# --------------------------------------------------------------------------- gradient norms
class GradientWatch(_HookHandles):
    """Returned by ``watch_gradients``: ``remove()`` (or leaving a ``with`` block) takes the hooks out."""


def _norm(array: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.square(array, dtype=np.float64))))


def _note_norm(node_ref: weakref.ref):
    def hook(grad_outputs):
        node = node_ref()
        if node is not None:
            _gradient_norms[node] = _norm(
                np.concatenate([g._data.ravel() for g in grad_outputs if g is not None] or [np.zeros(0)])
            )

    return hook


def watch_gradients(tensor: Tensor) -> GradientWatch:
    """Before ``tensor.backward()``: note the norm of the gradient that reaches
    every node of its graph, so ``draw_graph`` can show it on intermediate nodes."""
    handles = [
        entry.obj.register_prehook(_note_norm(weakref.ref(entry.obj)))
        for entry in graph_nodes(tensor)
        if isinstance(entry.obj, Node)
    ]
    return GradientWatch(handles)


def _gradient_norm(entry: GraphNode) -> float | None:
    if entry.is_leaf:
        grad = entry.obj.grad
        return None if grad is None else _norm(grad._data)
    node = entry.obj
    if node in _gradient_norms:
        return _gradient_norms[node]
    for _, tensor_ref in node.retained or ():
        tensor = tensor_ref()
        if tensor is not None and tensor.grad is not None:
            return _norm(tensor.grad._data)
    return None


# --------------------------------------------------------------------------- module boxes
class ModuleRecording(_HookHandles):
    """Returned by ``record_modules``: ``remove()`` (or leaving a ``with`` block) stops recording."""


def _tensors_in(value) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [t for item in value for t in _tensors_in(item)]
    if isinstance(value, Mapping):
        return [t for item in value.values() for t in _tensors_in(item)]
    return []


def record_modules(model: Module) -> ModuleRecording:
    """Note, during forward passes, which graph nodes each top-level child of
    ``model`` creates: from the child's outputs back to its inputs (forward
    hooks). ``draw_graph(..., collapse_modules=model)`` then draws one box per child."""
    if not isinstance(model, Module):
        raise TypeError(f"record_modules: expected an nn.Module, got {type(model).__name__}")
    owner = _module_nodes.setdefault(model, weakref.WeakKeyDictionary())
    shapes = _module_shapes.setdefault(model, {})
    handles = []
    for name, child in model.named_children():
        entry_nodes: dict[int, list] = {}

        def before(module, args, name=name, entry_nodes=entry_nodes):
            entry_nodes[id(module)] = [t.grad_fn for t in _tensors_in(args) if t.grad_fn is not None]

        def after(module, args, output, name=name, entry_nodes=entry_nodes):
            stop = {id(node) for node in entry_nodes.pop(id(module), [])}
            outputs = _tensors_in(output)
            shapes[name] = [tuple(t.shape) for t in outputs]
            stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
            while stack:
                node = stack.pop()
                if id(node) in stop or node in owner:
                    continue
                owner[node] = name
                stack += [edge[0] for edge in node.next_edges if edge is not None and isinstance(edge[0], Node)]

        handles.append(child.register_forward_pre_hook(before))
        handles.append(child.register_forward_hook(after))
    return ModuleRecording(handles)


# --------------------------------------------------------------------------- DOT text
def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape_text(shapes: dict[int, tuple]) -> str:
    def one(shape: tuple) -> str:
        return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"

    if len(shapes) == 1:
        return one(next(iter(shapes.values())))
    return ", ".join(f"out{k} {one(v)}" for k, v in sorted(shapes.items()))


def _norm_text(norm: float | None) -> str | None:
    return None if norm is None else f"‖grad‖ = {norm:.4g}"


_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#ffffff", color="#4a5568"',
    "root": 'shape=box, style="rounded,filled", fillcolor="#c6f6d5", color="#2f855a"',
    "param": 'shape=box, style="filled", fillcolor="#bee3f8", color="#2b6cb0"',
    "leaf": 'shape=box, style="filled", fillcolor="#e2e8f0", color="#4a5568"',
    "module": 'shape=box3d, style="filled", fillcolor="#feebc8", color="#c05621"',
}


def _dot(nodes: list[tuple[str, str, str]], edges: list[tuple[str, str]]) -> str:
    lines = [
        "digraph backward {",
        '  graph [rankdir=TB, fontname="DejaVu Sans", nodesep=0.3, ranksep=0.35];',
        '  node [fontname="DejaVu Sans", fontsize=11, margin="0.12,0.06"];',
        '  edge [color="#718096", arrowsize=0.7];',
    ]
    lines += [f"  {key} [label={_quote(label)}, {_STYLE[style]}];" for key, label, style in nodes]
    lines += [f"  {source} -> {target};" for source, target in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _entry_node(entry: GraphNode, is_root: bool, names: dict[int, str], show_grad: bool) -> tuple[str, str]:
    """The label and style of one node: name or op, shape, gradient norm."""
    if entry.is_leaf:
        name = names.get(id(entry.obj))
        lines = [name if name is not None else "leaf tensor", _shape_text(entry.shapes)]
        style = "param" if name is not None else "leaf"
    else:
        lines = [entry.obj.name(), _shape_text(entry.shapes)]
        style = "root" if is_root else "op"
    norm = _norm_text(_gradient_norm(entry)) if show_grad else None
    if norm is not None:
        lines.append(norm)
    return "\n".join(lines), style


def _plain_graph(tensor: Tensor, names: dict[int, str], show_grad: bool) -> str:
    nodes, edges = [], []
    for position, entry in enumerate(graph_nodes(tensor)):
        nodes.append((entry.key, *_entry_node(entry, position == 0, names, show_grad)))
        edges += [(source, entry.key) for source in entry.inputs]
    return _dot(nodes, edges)


def _collapsed_graph(tensor: Tensor, model: Module, names: dict[int, str], show_grad: bool) -> str:
    owner = _module_nodes.get(model)
    if not owner:
        raise ValueError(
            "draw_graph: collapse_modules needs to know which nodes each child module created; "
            "run the forward pass inside `with record_modules(model):` first"
        )
    children = dict(model.named_children())
    parameter_owner = {id(p): name for name, child in children.items() for p in child.parameters()}
    entries = graph_nodes(tensor)

    def group_of(entry: GraphNode) -> str:
        if entry.is_leaf:
            name = parameter_owner.get(id(entry.obj))
        else:
            name = owner.get(entry.obj)
        return f"m_{name}" if name is not None else entry.key

    key_to_group = {entry.key: group_of(entry) for entry in entries}
    nodes, edges, drawn = [], [], set()
    for position, entry in enumerate(entries):
        group = key_to_group[entry.key]
        if group not in drawn:
            drawn.add(group)
            if group.startswith("m_"):
                name = group[2:]
                child = children[name]
                lines = [f"{name}: {child._get_name()}"]
                shapes = _module_shapes.get(model, {}).get(name)
                if shapes:
                    lines.append(_shape_text(dict(enumerate(shapes))))
                grads = [p.grad._data for p in child.parameters() if p.grad is not None]
                if show_grad and grads:
                    lines.append("‖∂L/∂θ‖ = " + f"{_norm(np.concatenate([g.ravel() for g in grads])):.4g}")
                nodes.append((group, "\n".join(lines), "module"))
            else:
                nodes.append((group, *_entry_node(entry, position == 0, names, show_grad)))
        for source in entry.inputs:
            edge = (key_to_group[source], group)
            if edge[0] != edge[1] and edge not in edges:
                edges.append(edge)
    return _dot(nodes, edges)


# --------------------------------------------------------------------------- drawing
def draw_graph(
    tensor: Tensor,
    params: Mapping[str, Tensor] | None = None,
    show_grad: bool = True,
    collapse_modules: Module | None = None,
    format: str = "dot",
    path: str | Path | None = None,
) -> str | bytes:
    """The backward graph of ``tensor`` as Graphviz DOT text, or rendered by ``dot``.

    Each node shows its op name (``node.name()``), its output shape and, when
    ``show_grad`` and a gradient is known, the gradient's norm. Leaves are
    labelled with their names from ``params`` (e.g. ``dict(model.named_parameters())``).
    Arrows follow the data forward, from a node's inputs to it; gradients flow
    against them. ``collapse_modules=model`` draws each top-level child of
    ``model`` as one box (record the forward pass with ``record_modules(model)``).

    ``format`` "dot" returns the DOT text; "svg" returns SVG text and "png" PNG
    bytes, made by the Graphviz ``dot`` program. Without ``dot`` installed an
    image request warns and returns the DOT text (written to ``path`` with a
    ``.dot`` suffix). With ``path`` the result is also written to that file.
    """
    if format not in FORMATS:
        raise ValueError(f"draw_graph: format must be one of {', '.join(FORMATS)}, got {format!r}")
    names = {id(value): name for name, value in (params or {}).items()}
    if collapse_modules is None:
        dot_text = _plain_graph(tensor, names, show_grad)
    else:
        dot_text = _collapsed_graph(tensor, collapse_modules, names, show_grad)

    if format == "dot":
        if path is not None:
            Path(path).write_text(dot_text, encoding="utf-8")
        return dot_text
    dot_program = shutil.which("dot")
    if dot_program is None:
        target = None if path is None else Path(path).with_suffix(".dot")
        warnings.warn(
            f"draw_graph: the Graphviz 'dot' program was not found, so no {format} can be made "
            "(install Graphviz, e.g. `apt-get install graphviz`); returning DOT text instead"
            + (f", written to {target}" if target is not None else ""),
            RuntimeWarning,
            stacklevel=2,
        )
        if target is not None:
            target.write_text(dot_text, encoding="utf-8")
        return dot_text
    result = subprocess.run(
        [dot_program, f"-T{format}"], input=dot_text.encode("utf-8"), capture_output=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"draw_graph: dot failed: {result.stderr.decode(errors='replace').strip()}")
    if path is not None:
        Path(path).write_bytes(result.stdout)
    return result.stdout.decode("utf-8") if format == "svg" else result.stdout
