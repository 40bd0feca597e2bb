"""The backward walk: ``Tensor.backward``, ``autograd.backward`` and ``autograd.grad``.

1. Order the nodes reachable from the outputs once: an iterative depth-first
   post-order (no recursion, so a chain of 100,000 ops is fine); its reverse
   is a topological order, in which a node runs only after every node that
   consumes its output has sent its gradient.
2. Walk that order. Each node gets the sum of the gradients sent to it, runs
   its tensor hooks, computes its inputs' gradients, and sends them on. Here,
   once for every op, a gradient is reduced back to its input's shape (undoing
   broadcasting) and dtype.
3. Leaves sum what reaches them over the whole pass, run their hooks, and
   accumulate into ``.grad``. A node's saved arrays are freed as soon as it has
   run, unless ``retain_graph``.
"""

from __future__ import annotations

import numpy as np

from . import anomaly, function
from .function import Node
from .grad_mode import GradMode


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves
    (or only of ``inputs`` if given)."""
    tensors = _as_tuple(tensors)
    grad_tensors = _seed_gradients(tensors, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    only = None if inputs is None else _as_tuple(inputs)
    if only is not None and len(only) == 0:
        raise RuntimeError("backward: 'inputs' argument should not be empty")
    _run(tensors, grad_tensors, retain_graph, create_graph, only, accumulate=True)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    allow_unused=None,
    materialize_grads=False,
):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (a tuple),
    without touching any ``.grad``."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    for position, t in enumerate(inputs):
        if not getattr(t, "_requires_grad", False):
            raise RuntimeError(
                f"grad: one of the differentiated Tensors does not require grad (input {position}"
                + (f", shape {list(t.shape)})" if hasattr(t, "_data") else f", a {type(t).__name__})")
            )
    grad_outputs = _seed_gradients(outputs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    results = _run(outputs, grad_outputs, retain_graph, create_graph, inputs, accumulate=False)
    for position, (t, g) in enumerate(zip(inputs, results, strict=True)):
        if g is None:
            if materialize_grads:
                results[position] = _zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    f"grad: the differentiated Tensor at index {position} (shape {list(t.shape)}) appears to not "
                    "have been used in the graph. Set allow_unused=True if this is the desired behavior."
                )
    return tuple(results)


def _as_tuple(x) -> tuple:
    if isinstance(x, (tuple, list)):
        return tuple(x)
    return (x,)


def _zeros_like(t):
    return function._wrap(np.zeros_like(t._data))


def _seed_gradients(tensors, grads, caller: str) -> list:
    """The gradient each output starts with: given, or 1 for a scalar output."""
    if grads is None:
        grads = (None,) * len(tensors)
    else:
        grads = _as_tuple(grads)
    if len(grads) != len(tensors):
        raise RuntimeError(f"{caller}: got {len(tensors)} tensors and {len(grads)} gradients")
    seeds = []
    for position, (t, g) in enumerate(zip(tensors, grads, strict=True)):
        if not hasattr(t, "_data"):
            raise TypeError(f"{caller}: expected Tensors as outputs, got {type(t).__name__} at position {position}")
        if not t._requires_grad:
            raise RuntimeError(
                f"{caller}: element {position} of tensors does not require grad and does not have a grad_fn "
                "(was it computed under no_grad, or from tensors that do not require grad?)"
            )
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    f"{caller}: grad can be implicitly created only for scalar outputs, but output {position} "
                    f"has shape {list(t.shape)}; pass a gradient of that shape (e.g. {caller}(gradient=...))"
                )
            seed = np.empty(t._data.shape, t._data.dtype)  # np.ones, without its Python wrapper
            seed.fill(1)
            seeds.append(function._wrap(seed))
            continue
        if not hasattr(g, "_data"):
            g = function._wrap(np.asarray(g, dtype=t._data.dtype))
        if g._data.shape != t._data.shape:
            raise RuntimeError(
                f"{caller}: mismatch in shape: gradient {position} has shape {list(g.shape)} "
                f"and output {position} has shape {list(t.shape)}"
            )
        if g._data.dtype != t._data.dtype:  # PyTorch casts the seed to the output's dtype
            g = function._wrap(g._data.astype(t._data.dtype))
        seeds.append(g)
    return seeds


def _topological_order(roots) -> list:
    """Nodes reachable from ``roots`` in depth-first post-order: each node comes
    after the nodes of its inputs, so the reversed list is the order to run."""
    order = []
    visited = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.next_edges))]
        while stack:
            node, edges = stack[-1]
            for edge in edges:
                if edge is not None:
                    target = edge[0]
                    if isinstance(target, Node) and target not in visited:
                        visited.add(target)
                        stack.append((target, iter(target.next_edges)))
                        break
            else:
                stack.pop()
                order.append(node)
    return order


def _nodes_leading_to(order, target_nodes, target_leaves) -> set:
    """Nodes from which some target can be reached: only these need to run."""
    needed = set()
    for node in order:  # post-order: a node's inputs are decided before it
        for edge in node.next_edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Node):
                if target in needed or target in target_nodes:
                    needed.add(node)
                    break
            elif id(target) in target_leaves:
                needed.add(node)
                break
    return needed


def _run(outputs, seeds, retain_graph, create_graph, inputs, accumulate):
    """The walk. Returns, when ``inputs`` is given, the gradient reaching each
    input (None where none did); with ``accumulate`` it also adds them into
    ``.grad`` (of every leaf reached, or of the given inputs only)."""
    wrap = function._wrap
    buffers: dict = {}  # node -> list of summed gradients, one per output
    leaf_grads: dict = {}  # id(leaf) -> [leaf, summed gradient]
    handed_out: set = set()  # ids of arrays user code has seen (never to become a .grad in place)
    previous_mode = GradMode.enabled
    GradMode.enabled = create_graph
    # Anomaly mode checks what each backward step returns; the ops a backward
    # step runs internally are not checked as forward ops.
    check_anomaly = anomaly.AnomalyMode.enabled
    anomaly.AnomalyMode.enabled = False
    try:
        for t, g in zip(outputs, seeds):
            handed_out.add(id(g._data))
            if t.grad_fn is None:  # the output is itself a leaf
                _add_to_leaf(leaf_grads, t, g)
                continue
            buffer = buffers.setdefault(t.grad_fn, [None] * t.grad_fn.n_outputs)
            buffer[t._output_nr] = g if buffer[t._output_nr] is None else buffer[t._output_nr] + g

        order = _topological_order([t.grad_fn for t in outputs if t.grad_fn is not None])

        capture_nodes: dict = {}  # node -> [(output_nr, input position)]
        capture_leaves: dict = {}  # id(leaf) -> input position
        results = None
        needed = None
        if inputs is not None:
            results = [None] * len(inputs)
            for position, t in enumerate(inputs):
                if t.grad_fn is None:
                    capture_leaves[id(t)] = position
                else:
                    capture_nodes.setdefault(t.grad_fn, []).append((t._output_nr, position))
            needed = _nodes_leading_to(order, capture_nodes, capture_leaves)

        for node in reversed(order):
            if needed is not None:
                runs = node in needed
                if not runs and node not in capture_nodes:
                    continue
            buffer = buffers.pop(node, None)
            if buffer is None:
                continue
            if node.pre_hooks or node.retained:
                buffer = _run_node_hooks(node, buffer, handed_out)
            if needed is not None:
                if node in capture_nodes:
                    for output_nr, position in capture_nodes[node]:
                        results[position] = buffer[output_nr]
                if not runs:
                    continue
            if node.released:
                raise RuntimeError(f"{node.name()}: " + function.SECOND_BACKWARD_MESSAGE)
            input_grads = node._run_backward(buffer)
            if check_anomaly:
                anomaly.check_backward(node, input_grads)
            # (zip without ``strict=``: the keyword makes every call build a dict)
            for edge, meta, g in zip(node.next_edges, node.input_meta, input_grads):
                if edge is None or g is None:
                    continue
                try:
                    data = g._data
                    fits = data.shape == meta[0] and data.dtype == meta[1]
                except AttributeError:
                    fits = False
                if not fits:
                    g = _fit_to_input(g, meta, node)
                target, output_nr = edge
                if isinstance(target, Node):
                    if needed is not None and target not in needed and target not in capture_nodes:
                        continue
                    target_buffer = buffers.get(target)
                    if target_buffer is None:
                        target_buffer = buffers[target] = [None] * target.n_outputs
                    previous = target_buffer[output_nr]
                    target_buffer[output_nr] = g if previous is None else previous + g
                elif inputs is None or id(target) in capture_leaves:
                    _add_to_leaf(leaf_grads, target, g)
            if not retain_graph:
                node._release()
        for leaf, g in leaf_grads.values():
            if leaf._hooks:
                g = _run_leaf_hooks(leaf, g, handed_out)
            if inputs is not None and id(leaf) in capture_leaves:
                results[capture_leaves[id(leaf)]] = g
            if accumulate and (inputs is None or id(leaf) in capture_leaves):
                _accumulate_into_grad(leaf, g, create_graph, handed_out, wrap)
        if accumulate and capture_nodes:  # backward(inputs=[non-leaf, ...]) fills their .grad too
            for position, t in enumerate(inputs):
                if t.grad_fn is not None and results[position] is not None:
                    _retain(t, results[position])
    finally:
        GradMode.enabled = previous_mode
        anomaly.AnomalyMode.enabled = check_anomaly
    return results


def _fit_to_input(g, meta, node):
    """Reduce a broadcast gradient to the input's shape and cast it to its dtype."""
    if not hasattr(g, "_data"):
        raise TypeError(f"{node.name()} returned a gradient of type {type(g).__name__}; expected a Tensor or None")
    shape, dtype = meta
    g_shape = g._data.shape
    if g_shape != shape:
        lead = len(g_shape) - len(shape)
        if not (lead > 0 and g_shape[lead:] == shape) and not _broadcasts_to(shape, g_shape):
            raise RuntimeError(
                f"{node.name()} returned an invalid gradient: got shape {list(g_shape)} "
                f"but expected shape compatible with {list(shape)}"
            )
        # Building a graph (create_graph) needs the differentiable op; a plain
        # backward sums the array directly, the same sum without a node.
        g = g.sum_to_size(shape) if GradMode.enabled else function._wrap(sum_to_shape(g._data, shape))
    if g._data.dtype != dtype:
        g = g.to(dtype)
    return g


def sum_to_shape(array: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``array`` down to ``shape``, which broadcasts to ``array``'s shape:
    over the leading dimensions broadcasting added and the ones it stretched
    from size 1 (undoing broadcasting, for gradients)."""
    lead = array.ndim - len(shape)
    if lead and array.shape[lead:] == shape:
        # Only leading dimensions were added (a bias, say): one reduction, no reshape.
        return np.add.reduce(array, axis=tuple(range(lead)))
    stretched = tuple(lead + i for i, size in enumerate(shape) if size == 1 and array.shape[lead + i] != 1)
    axes = tuple(range(lead)) + stretched
    out = np.add.reduce(array, axis=axes, keepdims=True) if axes else array
    return out.reshape(shape)


def _broadcasts_to(shape, target_shape) -> bool:
    if len(shape) > len(target_shape):
        return False
    for small, big in zip(reversed(shape), reversed(target_shape), strict=False):
        if small != big and small != 1:
            return False
    return True


def _add_to_leaf(leaf_grads, leaf, g) -> None:
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g]
    else:
        entry[1] = entry[1] + g


def _run_node_hooks(node, buffer, handed_out):
    """Hooks before a node's backward: tensor hooks on its outputs (and
    ``Node.register_prehook`` hooks, which see all outputs), then ``retain_grad``."""
    if node.pre_hooks:
        buffer = list(buffer)
        for output_nr, hook in list(node.pre_hooks.values()):
            if output_nr is None:
                replaced = hook(tuple(buffer))
                if replaced is not None:
                    buffer = list(replaced)
                continue
            if buffer[output_nr] is None:
                continue
            handed_out.add(id(buffer[output_nr]._data))
            replaced = hook(buffer[output_nr])
            if replaced is not None:
                handed_out.add(id(replaced._data))
                buffer[output_nr] = replaced
    if node.retained:
        for output_nr, tensor_ref in node.retained:
            tensor = tensor_ref()
            if tensor is not None and buffer[output_nr] is not None:
                _retain(tensor, buffer[output_nr])
    return buffer


def _retain(tensor, g) -> None:
    """A non-leaf's ``.grad``: a copy of the gradient (the gradient itself while
    building a graph), summed over backward calls as in PyTorch."""
    if tensor.grad is None:
        tensor.grad = g if GradMode.enabled else g.detach().clone()
    else:
        tensor.grad = tensor.grad + g


def _run_leaf_hooks(leaf, g, handed_out):
    for hook in list(leaf._hooks.values()):
        handed_out.add(id(g._data))
        replaced = hook(g)
        if replaced is not None:
            handed_out.add(id(replaced._data))
            g = replaced
    return g


def _accumulate_into_grad(leaf, g, create_graph, handed_out, wrap) -> None:
    """``leaf.grad += g``: in place unless building a graph; never aliasing another
    leaf's ``.grad`` or a caller's array."""
    array = g._data
    if leaf.grad is None:
        if create_graph:
            leaf.grad = g
            return
        flags = array.flags
        if flags.owndata and flags.writeable and flags.c_contiguous and id(array) not in handed_out:
            handed_out.add(id(array))
            leaf.grad = wrap(array)
        else:
            leaf.grad = wrap(np.array(array, copy=True, order="C"))
        return
    if create_graph or leaf.grad.requires_grad:
        leaf.grad = leaf.grad + g
    else:
        np.add(leaf.grad._data, array, out=leaf.grad._data, casting="unsafe")
