"""Recurrent ops: fused cells (one node per time step) and whole sequences
(one node per layer direction).

Cells. Each step is ONE op that takes the step's slice of the precomputed
input projection (``input_gates = x @ w_ih.T + b_ih``), the previous state and
the recurrent weights, and does the rest: one ``(N, H) @ (H, k*H)`` GEMM for
all gates together (gate order as in PyTorch: LSTM ``i, f, g, o``; GRU
``r, z, n``), then the gate activations on whole arrays. Backward uses the
gate activations that forward saved. When the backward pass is itself
recorded (``create_graph=True``) the activations are recomputed from the
saved inputs with retrograd ops and the same gradient formulas run on
Tensors, so second derivatives are exact; otherwise the formulas run on the
saved NumPy arrays at plain NumPy cost. Each formula is written once, with
the operators that arrays and Tensors share. The public functions are
PyTorch's ``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell`` and
``rnn_relu_cell``, which ``nn.RNNCell``/``LSTMCell``/``GRUCell`` call.

Sequences. ``LstmSequence``, ``GruSequence`` and ``RnnSequence`` run one layer
in one direction over a whole sequence as a single node, as cuDNN's fused
RNN does: per step one GEMM (recurrent weights, input weights and bias
stacked) and the gate math in place on preallocated buffers; backward runs
the recurrence backwards and then computes the weight, bias and input
gradients of all steps with one GEMM each. ``nn.RNN``/``LSTM``/``GRU`` use
them; their recorded backward (``create_graph=True``) differentiates the
same sequence recomputed with the cell ops.
"""

from __future__ import annotations

import threading

import numpy as np

from .. import _jit
from ..autograd import anomaly
from ..autograd.function import Op, _op_error
from ..autograd.grad_mode import GradMode
from .common import Tensor, _wrap
from .elementwise import where
from .linalg import linear
from .pointwise import relu, sigmoid, tanh
from .shape import cat, stack, unbind

# ------------------------------------------------------------------ shared parts


def _concat_arrays(parts: list) -> np.ndarray:
    return np.concatenate(parts, axis=1)


def _concat_tensors(parts: list) -> Tensor:
    return cat(parts, 1)


def _zeros_like(value):
    """Zeros shaped like an array or a Tensor, of the same kind."""
    if isinstance(value, Tensor):
        return _wrap(np.zeros_like(value._data))
    return np.zeros_like(value)


def _sigmoid_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` written into ``out`` (which may be ``x``): exact to
    rounding at both tails (exp(-x) overflowing to inf gives the limit 0), four
    passes, no temporaries."""
    np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def _gates_first(gates: np.ndarray, count: int) -> np.ndarray:
    """An ``(N, count*H)`` array of stacked gates viewed as ``(count, N, H)``
    (H spelled out: ``-1`` is ambiguous for an empty batch)."""
    rows, width = gates.shape
    return gates.reshape(rows, count, width // count).transpose(1, 0, 2)


def _recurrent_projection(hx: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None) -> np.ndarray:
    """``hx @ w_hh.T + b_hh``: one GEMM for all gates."""
    out = hx @ w_hh.T
    if b_hh is not None:
        out += b_hh
    return out


class _FusedCell(Op):
    """One recurrent step with inputs ``(input_gates, *states, w_hh[, b_hh])``.

    Subclasses define ``forward`` (which keeps the gate activations in
    ``self.saved``, read back by ``_saved_activations``), ``_activations`` (the same activations recomputed with
    ops from the input Tensors) and ``_gate_gradients``, which maps the output
    gradients to the gradients of the input gates and of the recurrent
    projection ``hx @ w_hh.T + b_hh``, plus any direct gradient of each state.
    The gradients of ``hx``, ``w_hh`` and ``b_hh`` follow from the projection's
    gradient here, for every cell alike.
    """

    __slots__ = ()
    save_inputs = True
    n_states = 1  # the states among the inputs: (hx,), or (hx, cx) for an LSTM

    def _run_backward(self, grads: list) -> tuple:
        inputs = self.saved_inputs
        if GradMode.enabled:
            values = inputs
            activations = self._activations(*inputs)
            concat = _concat_tensors
        else:
            values = tuple(t._data for t in inputs)
            activations = self._saved_activations()
            grads = [None if g is None else g._data for g in grads]
            concat = _concat_arrays
        d_input_gates, d_projection, state_grads = self._gate_gradients(grads, activations, values, concat)

        edges = self.next_edges
        n_states = self.n_states
        hx, w_hh = values[1], values[1 + n_states]
        result = [d_input_gates if edges[0] is not None else None]
        grad_hx = None
        if edges[1] is not None:
            grad_hx = d_projection @ w_hh
            if state_grads[0] is not None:
                grad_hx = grad_hx + state_grads[0]
        result.append(grad_hx)
        result.extend(state_grads[k] if edges[1 + k] is not None else None for k in range(1, n_states))
        result.append(d_projection.T @ hx if edges[1 + n_states] is not None else None)
        if len(values) == n_states + 3:  # with b_hh
            result.append(d_projection.sum(0) if edges[2 + n_states] is not None else None)
        return tuple(g if g is None or isinstance(g, Tensor) else _wrap(g) for g in result)

    def _saved_activations(self) -> tuple:
        return self.saved


# -------------------------------------------------------------------------- LSTM


def _lstm_backward_formula(grad_h, grad_c, i, f, g, o, tanh_c, cx, concat):
    """Gradients of one LSTM step with respect to its gate pre-activations
    (``(N, 4H)``, order i, f, g, o) and to the previous cell state.

    ``c = f * cx + i * g`` and ``h = o * tanh(c)``: the gradient reaching ``c``
    is the one from later steps plus the one through ``h``.
    """
    d_c = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
    d_gates = concat(
        [
            d_c * g * i * (1 - i),
            d_c * cx * f * (1 - f),
            d_c * i * (1 - g * g),
            grad_h * tanh_c * o * (1 - o),
        ]
    )
    return d_gates, d_c * f


class FusedLstmCell(_FusedCell):
    """One LSTM step, ``(input_gates, hx, cx, w_hh[, b_hh]) -> (h, c)``: one node
    with two outputs. With a projection (``proj_size``) ``hx`` has ``P``
    columns and ``w_hh`` is ``(4H, P)``; ``h`` before projection has ``H``."""

    __slots__ = ()
    n_states = 2
    n_outputs = 2

    @classmethod
    def apply(cls, *inputs: Tensor) -> tuple[Tensor, Tensor]:
        node = cls.__new__(cls)
        try:
            h, c = node.forward(*[t._data for t in inputs])
        except (ValueError, TypeError) as error:
            raise _op_error(cls, error, inputs) from None
        if GradMode.enabled and any(t._requires_grad for t in inputs):
            node._connect(inputs)
            node.saved_inputs_ = inputs
            node.saved_versions = tuple(t._version for t in inputs)
            outputs = (_wrap(h, grad_fn=node, output_nr=0), _wrap(c, grad_fn=node, output_nr=1))
        else:
            outputs = (_wrap(h), _wrap(c))
        if anomaly.AnomalyMode.enabled:
            for out in outputs:
                anomaly.check_forward(node, out)
        return outputs

    def forward(self, input_gates, hx, cx, w_hh, b_hh=None):
        gates = _recurrent_projection(hx, w_hh, b_hh)
        gates += input_gates
        # Each gate's activation goes to a contiguous (N, H) block: NumPy runs
        # several times faster on those than on column slices of (N, 4H), and
        # backward reads them again.
        by_gate = _gates_first(gates, 4)
        activated = np.empty(by_gate.shape, dtype=gates.dtype)
        _sigmoid_into(by_gate[:2], activated[:2])
        np.tanh(by_gate[2], out=activated[2])
        _sigmoid_into(by_gate[3], activated[3])
        i, f, g, o = activated
        c = f * cx
        c += i * g
        tanh_c = np.tanh(c)
        self.saved = (i, f, g, o, tanh_c)
        return o * tanh_c, c

    def _activations(self, input_gates, hx, cx, w_hh, b_hh=None):
        gates = input_gates + linear(hx, w_hh, b_hh)
        hidden = cx.shape[1]
        i, f, o = (sigmoid(gates[:, k * hidden : (k + 1) * hidden]) for k in (0, 1, 3))
        g = tanh(gates[:, 2 * hidden : 3 * hidden])
        return i, f, g, o, tanh(f * cx + i * g)

    def _gate_gradients(self, grads, activations, values, concat):
        grad_h, grad_c = grads
        i, f, g, o, tanh_c = activations
        # Only one of h and c may have been used later (c_n is often left alone).
        if grad_h is None:
            grad_h = _zeros_like(tanh_c)
        if grad_c is None:
            grad_c = _zeros_like(tanh_c)
        d_gates, grad_cx = _lstm_backward_formula(grad_h, grad_c, i, f, g, o, tanh_c, values[2], concat)
        return d_gates, d_gates, (None, grad_cx)


# --------------------------------------------------------------------------- GRU


def _gru_backward_formula(grad_h, r, z, n, hidden_n, hx, concat):
    """Gradients of one GRU step with respect to the input gates, to the
    recurrent projection (both ``(N, 3H)``, order r, z, n) and to ``hx``
    directly.

    ``n = tanh(in + r * hidden_n)`` with ``hidden_n = W_hn hx + b_hn`` (PyTorch's
    form: the reset gate scales the projection) and ``h = n + z * (hx - n)``.
    """
    d_n = grad_h * (1 - z) * (1 - n * n)
    d_r = d_n * hidden_n * r * (1 - r)
    d_z = grad_h * (hx - n) * z * (1 - z)
    return concat([d_r, d_z, d_n]), concat([d_r, d_z, d_n * r]), grad_h * z


class FusedGruCell(_FusedCell):
    """One GRU step, ``(input_gates, hx, w_hh[, b_hh]) -> h``."""

    __slots__ = ()

    def forward(self, input_gates, hx, w_hh, b_hh=None):
        hidden = hx.shape[1]
        projection = _recurrent_projection(hx, w_hh, b_hh)
        projection[:, : 2 * hidden] += input_gates[:, : 2 * hidden]
        by_gate = _gates_first(projection, 3)
        r, z = _sigmoid_into(by_gate[:2], np.empty((2, hx.shape[0], hidden), dtype=hx.dtype))  # contiguous blocks
        hidden_n = by_gate[2]
        n = np.tanh(input_gates[:, 2 * hidden :] + r * hidden_n)
        self.saved = (r, z, n, hidden_n)
        h = hx - n
        h *= z
        h += n
        return h

    def _activations(self, input_gates, hx, w_hh, b_hh=None):
        hidden = hx.shape[1]
        projection = linear(hx, w_hh, b_hh)
        reset_update = sigmoid(input_gates[:, : 2 * hidden] + projection[:, : 2 * hidden])
        r, z = reset_update[:, :hidden], reset_update[:, hidden:]
        hidden_n = projection[:, 2 * hidden :]
        return r, z, tanh(input_gates[:, 2 * hidden :] + r * hidden_n), hidden_n

    def _gate_gradients(self, grads, activations, values, concat):
        d_input_gates, d_projection, grad_hx = _gru_backward_formula(grads[0], *activations, values[1], concat)
        return d_input_gates, d_projection, (grad_hx,)


# ------------------------------------------------------------------- Elman RNN


class FusedRnnCell(_FusedCell):
    """One Elman RNN step, ``(input_gates, hx, w_hh[, b_hh]) -> h`` with
    ``h = tanh(...)`` or ``relu(...)`` (``nonlinearity``)."""

    __slots__ = ("nonlinearity",)
    save_output = True  # the activation is the output (checked against in-place changes)

    def forward(self, input_gates, hx, w_hh, b_hh=None, *, nonlinearity):
        self.nonlinearity = nonlinearity
        pre = _recurrent_projection(hx, w_hh, b_hh)
        pre += input_gates
        return np.tanh(pre, out=pre) if nonlinearity == "tanh" else np.maximum(pre, 0, out=pre)

    def _saved_activations(self) -> tuple:
        return (self.output()._data,)

    def _activations(self, input_gates, hx, w_hh, b_hh=None):
        pre = input_gates + linear(hx, w_hh, b_hh)
        return (tanh(pre) if self.nonlinearity == "tanh" else relu(pre),)

    def _gate_gradients(self, grads, activations, values, concat):
        (grad_h,), (h,) = grads, activations
        if self.nonlinearity == "tanh":
            d_pre = grad_h * (1 - h * h)
        elif isinstance(h, Tensor):  # the gradient passes where the output is positive, as in PyTorch
            d_pre = where(_wrap(h._data > 0), grad_h, 0.0)
        else:
            d_pre = np.where(h > 0, grad_h, 0)
        return d_pre, d_pre, (None,)


# ------------------------------------------------------------ whole sequences


class _Workspace:
    """Large scratch and saved buffers of the sequence ops, handed back when
    a node is done with them and reused by the next call of the same shape.

    A training step allocates several megabytes of buffers per layer and
    frees them all at its end; the C allocator returns such blocks to the
    system, and the next step pays a page fault on every first write to them
    again (about 10% of an LSTM step). Kept here, they stay mapped. At most
    two free buffers of each shape and dtype are kept, per thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _free(self) -> dict:
        try:
            return self._local.free
        except AttributeError:
            self._local.free = {}
            return self._local.free

    def take(self, shape: tuple, dtype) -> np.ndarray:
        """An uninitialised array (a reused one when there is one)."""
        free = self._free().get((shape, np.dtype(dtype)))
        return free.pop() if free else np.empty(shape, dtype=dtype)

    def give(self, *arrays: np.ndarray) -> None:
        """Arrays from ``take`` that nothing references any more."""
        free = self._free()
        for array in arrays:
            kept = free.setdefault((array.shape, array.dtype), [])
            if len(kept) < 2:
                kept.append(array)


_workspace = _Workspace()


def _state_gradient(grad_final, shape: tuple, dtype) -> np.ndarray:
    """The gradient flowing into the last step's state: a writable copy of the
    one given for the final state, or zeros when it has none."""
    return np.zeros(shape, dtype=dtype) if grad_final is None else np.array(grad_final, order="C")


class _Alias(Op):
    """The identity as a node of its own. The recorded backward of a sequence
    differentiates a recomputed graph with respect to aliases of the
    sequence's inputs, so that walk stops there (the outer walk carries the
    gradients on) and a Tensor passed twice still gets one gradient per use."""

    __slots__ = ()

    def forward(self, a):
        return a.view()

    def backward(self, grad):
        return grad


class _SequenceOp(Op):
    """One recurrent layer in one direction over a whole sequence, as ONE node:
    ``(input, *initial_states, w_ih, w_hh[, b_ih, b_hh]) -> (output, *final_states)``
    with ``input`` ``(L, N, H_in)``, states ``(N, H)`` and ``output``
    ``(L, N, H)``; ``reverse=True`` runs from the last step to the first.

    Layout. Everything is gate-major, so each gate of a step is a contiguous
    ``(H, N)`` block for NumPy and BLAS. ``operands`` ``(H + H_in + 1, L+1, N)``
    holds, for step ``t``, the state it reads (rows ``:H``), its input and a
    row of ones (for the bias); step ``t`` writes its new state into column
    ``t + 1``. The weights are stacked to match, ``[w_hh | w_ih | bias]``, so
    each step's pre-activations are ONE GEMM ``weights @ operands[:, t]``
    and the input projection and bias come with it.

    Backward runs the recurrence backwards (only ``w_hh^T @ d_gates`` is
    inherently per step), writing the gate gradients of every step into one
    ``(rows, L, N)`` array. The gradients of ``w_hh``, ``w_ih`` and the biases
    are then ONE GEMM over all steps, ``d_gates @ operands^T``, and that of
    the input one more.

    When the backward pass is itself recorded (``create_graph=True``) it
    recomputes the sequence with the per-step cell ops above and
    differentiates that graph, so second derivatives are exact.

    A subclass is the cell: its stacked weights (``_stack_weights``, in an
    internal gate order that keeps gates of one activation together) and how
    their gradient splits back (``_split_gradient``), its loops over time
    (``_forward_steps`` returns what backward needs, the extra final states
    and the workspace buffers to hand back after backward;
    ``_backward_steps`` returns the gate gradients of every step and the
    gradients of the initial states) and its per-step form
    (``_unrolled_projection``, ``_unrolled_step``).
    """

    __slots__ = ("reverse",)
    save_inputs = True
    n_states = 1
    n_outputs = 2  # the output sequence and each final state

    @classmethod
    def apply(cls, *inputs: Tensor, reverse: bool = False, **settings) -> tuple:
        node = object.__new__(cls)
        try:
            arrays = node.forward(*[t._data for t in inputs], reverse=reverse, **settings)
        except (ValueError, TypeError) as error:
            raise _op_error(cls, error, inputs) from None
        if GradMode.enabled and any(t._requires_grad for t in inputs):
            node._connect(inputs)
            node.saved_inputs_ = inputs
            node.saved_versions = tuple(t._version for t in inputs)
            outputs = tuple(_wrap(a, grad_fn=node, output_nr=k) for k, a in enumerate(arrays))
        else:
            node._release()  # no backward will run: hand the buffers back now
            outputs = tuple(_wrap(a) for a in arrays)
        if anomaly.AnomalyMode.enabled:
            for out in outputs:
                anomaly.check_forward(node, out)
        return outputs

    def forward(self, input, *arguments, reverse):
        self.reverse = reverse
        states = arguments[: self.n_states]
        w_ih, w_hh, *biases = arguments[self.n_states :]
        steps, batch, features = input.shape
        hidden = w_hh.shape[1]
        if w_ih.shape[1] != features:
            raise ValueError(f"expected weight_ih with {features} columns, got shape {list(w_ih.shape)}")
        operands = _workspace.take((hidden + features + bool(biases), steps + 1, batch), input.dtype)
        operands[:hidden, 0] = states[0].T
        operands[hidden : hidden + features, :steps] = (input[::-1] if reverse else input).transpose(2, 0, 1)
        operands[hidden + features :, :steps] = 1
        operands[hidden:, steps] = 0  # never read; defined anyway
        weights = self._stack_weights(w_ih, w_hh, biases)
        cell_saved, final_extra, buffers = self._forward_steps(weights, operands, states[1:])
        self.saved = (weights, operands, cell_saved, (weights, operands, *buffers))

        # The outputs are copies (np.array copies), never views of the buffers,
        # which go back to the workspace once backward has run.
        states_after = operands[:hidden, 1:].transpose(1, 2, 0)
        output = np.array(states_after[::-1] if reverse else states_after, order="C")
        h_n = np.array(operands[:hidden, steps].T, order="C")
        return (output, h_n, *final_extra)

    def _release(self) -> None:
        saved = self.saved
        super()._release()
        if saved is not None:
            _workspace.give(*saved[3])

    def _run_backward(self, grads: list) -> tuple:
        if GradMode.enabled:
            return self._recorded_backward(grads)
        inputs = self.saved_inputs  # checks that no input changed in place
        weights, operands, cell_saved, _ = self.saved
        steps, batch, features = inputs[0].shape
        hidden = inputs[self.n_states + 2].shape[1]

        grad_output = None
        if grads[0] is not None:
            grad_output = grads[0]._data[::-1] if self.reverse else grads[0]._data
            grad_output = grad_output.transpose(0, 2, 1)  # step t's gradient as (H, N)
        grad_finals = [None if g is None else g._data.T for g in grads[1:]]
        d_gates_buffer, grad_initial = self._backward_steps(weights, operands, cell_saved, grad_output, grad_finals)
        d_gates = d_gates_buffer.reshape(d_gates_buffer.shape[0], steps * batch)

        edges = self.next_edges
        n = self.n_states
        result: list = [None] * len(edges)
        if edges[0] is not None:
            grad_input = (d_gates.T @ weights[:, hidden : hidden + features]).reshape(steps, batch, features)
            result[0] = grad_input[::-1] if self.reverse else grad_input
        for k in range(n):
            if edges[1 + k] is not None:
                result[1 + k] = np.ascontiguousarray(grad_initial[k].T)
        if any(edge is not None for edge in edges[n + 1 :]):
            grad_weights = d_gates @ operands[:, :steps].reshape(operands.shape[0], steps * batch).T
            parameter_grads = self._split_gradient(grad_weights, hidden, features)
            for k, g in enumerate(parameter_grads[: len(edges) - n - 1]):
                if edges[n + 1 + k] is not None:
                    result[n + 1 + k] = g
        _workspace.give(d_gates_buffer)
        return tuple(None if g is None else _wrap(g) for g in result)

    def _recorded_backward(self, grads: list) -> tuple:
        """The same gradients as Tensors with a graph: recompute the sequence
        step by step with the cell ops and differentiate it."""
        from ..autograd.engine import grad as differentiate

        inputs = self.saved_inputs
        edges = self.next_edges
        aliases = [t if edge is None else _Alias.apply(t) for t, edge in zip(inputs, edges, strict=True)]
        outputs = self._unrolled(*aliases)
        used = [k for k, g in enumerate(grads) if g is not None]
        wanted = [k for k, edge in enumerate(edges) if edge is not None]
        found = differentiate(
            [outputs[k] for k in used],
            [aliases[k] for k in wanted],
            [grads[k] for k in used],
            create_graph=True,
            allow_unused=True,
        )
        result: list = [None] * len(edges)
        for k, g in zip(wanted, found, strict=True):
            result[k] = g
        return tuple(result)

    def _unrolled(self, input, *arguments) -> tuple:
        """The same sequence with one recorded cell op per step."""
        states = list(arguments[: self.n_states])
        w_ih, w_hh, *biases = arguments[self.n_states :]
        input_gates = unbind(self._unrolled_projection(input, w_ih, biases), 0)
        steps = len(input_gates)
        outputs = [None] * steps
        for t in range(steps - 1, -1, -1) if self.reverse else range(steps):
            states = self._unrolled_step(input_gates[t], states, w_hh, biases)
            outputs[t] = states[0]
        return (stack(outputs, 0), *states)


def _stacked(rows: int, hidden: int, features: int, with_bias: bool, dtype) -> np.ndarray:
    """Zeros for stacked weights ``[w_hh | w_ih | bias]`` with ``rows`` rows."""
    weights = _workspace.take((rows, hidden + features + with_bias), dtype)
    weights.fill(0)
    return weights


# -------------------------------------------------------------- LSTM sequence


class LstmSequence(_SequenceOp):
    """An LSTM layer direction over a sequence:
    ``(input, h_0, c_0, w_ih, w_hh[, b_ih, b_hh]) -> (output, h_n, c_n)``.

    The gates run in the internal order ``(i, f, o, g)``, which puts the
    three sigmoid gates in one contiguous block."""

    __slots__ = ()
    n_states = 2
    n_outputs = 3

    @staticmethod
    def _internal_order(hidden: int) -> np.ndarray:
        """Rows of PyTorch's ``(i, f, g, o)`` in the order ``(i, f, o, g)``; the permutation is its own inverse."""
        return np.arange(4 * hidden).reshape(4, hidden)[[0, 1, 3, 2]].reshape(-1)

    def _stack_weights(self, w_ih, w_hh, biases):
        hidden, features = w_hh.shape[1], w_ih.shape[1]
        order = self._internal_order(hidden)
        weights = _stacked(4 * hidden, hidden, features, bool(biases), w_hh.dtype)
        weights[:, :hidden] = w_hh[order]
        weights[:, hidden : hidden + features] = w_ih[order]
        if biases:
            np.add(biases[0][order], biases[1][order], out=weights[:, -1])
        return weights

    def _split_gradient(self, grad, hidden, features):
        order = self._internal_order(hidden)
        grad_bias = grad[order, -1]
        return grad[order, hidden : hidden + features], grad[order, :hidden], grad_bias, grad_bias.copy()

    def _forward_steps(self, weights, operands, states):
        hidden, steps, batch = weights.shape[0] // 4, operands.shape[1] - 1, operands.shape[2]
        dtype = operands.dtype
        gates = _workspace.take((steps, 4 * hidden, batch), dtype)  # activations (i, f, o, g) of every step
        cells = _workspace.take((steps, hidden, batch), dtype)
        tanh_cells = _workspace.take((steps, hidden, batch), dtype)
        initial_cell = np.ascontiguousarray(states[0].T)
        sigmoid_rows, candidate_rows = slice(0, 3 * hidden), slice(3 * hidden, 4 * hidden)
        finish = _lstm_forward_kernel.compiled() if dtype == np.float32 else None
        scratch = np.empty((hidden, batch), dtype=dtype)
        cell = initial_cell
        for t in range(steps):
            step = gates[t]
            np.matmul(weights, operands[:, t], out=step)
            if finish is not None:
                # exp(-x) here; the kernel turns it into 1 / (1 + exp(-x)) and
                # computes c = f * c + i * g in the same pass.
                np.negative(step[sigmoid_rows], out=step[sigmoid_rows])
                with np.errstate(over="ignore"):
                    np.exp(step[sigmoid_rows], out=step[sigmoid_rows])
                np.tanh(step[candidate_rows], out=step[candidate_rows])
                finish(step, cell, cells[t])
            else:
                _sigmoid_into(step[sigmoid_rows], step[sigmoid_rows])
                np.tanh(step[candidate_rows], out=step[candidate_rows])
                np.multiply(step[hidden : 2 * hidden], cell, out=cells[t])
                np.multiply(step[:hidden], step[candidate_rows], out=scratch)
                cells[t] += scratch
            cell = cells[t]
            np.tanh(cell, out=tanh_cells[t])
            np.multiply(step[2 * hidden : 3 * hidden], tanh_cells[t], out=operands[:hidden, t + 1])
        c_n = np.array(cells[steps - 1].T, order="C")
        return (gates, cells, tanh_cells, initial_cell), (c_n,), (gates, cells, tanh_cells)

    def _backward_steps(self, weights, operands, cell_saved, grad_output, grad_finals):
        gates, cells, tanh_cells, initial_cell = cell_saved
        steps, rows, batch = gates.shape
        hidden = rows // 4
        dtype = gates.dtype
        d_gates = _workspace.take((rows, steps, batch), dtype)
        d_h = _state_gradient(grad_finals[0], (hidden, batch), dtype)
        d_c = _state_gradient(grad_finals[1], (hidden, batch), dtype)
        kernel = _lstm_backward_kernel.compiled() if dtype == np.float32 else None
        scratch = np.empty((hidden, batch), dtype=dtype)
        backward_weight = weights[:, :hidden].T
        for t in range(steps - 1, -1, -1):
            if grad_output is not None:
                d_h += grad_output[t]
            previous_cell = cells[t - 1] if t else initial_cell
            if kernel is not None:
                kernel(gates[t], tanh_cells[t], previous_cell, d_h, d_c, d_gates, t)
            else:
                _lstm_step_backward(gates[t], tanh_cells[t], previous_cell, d_h, d_c, d_gates[:, t], scratch)
            np.matmul(backward_weight, d_gates[:, t], out=d_h)
        return d_gates, (d_h, d_c)

    def _unrolled_projection(self, input, w_ih, biases):
        return linear(input, w_ih, biases[0] + biases[1] if biases else None)

    def _unrolled_step(self, input_gates, states, w_hh, biases):
        return FusedLstmCell.apply(input_gates, states[0], states[1], w_hh)


def _lstm_step_backward(gates, tanh_c, c_prev, d_h, d_c, d_gates, scratch) -> None:
    """One LSTM step backwards on ``(H, N)`` blocks, in place: ``d_c`` (the
    cell's gradient from later steps) becomes the previous cell's gradient,
    ``d_gates`` receives the pre-activation gradients (order i, f, o, g).
    With ``c = f * c_prev + i * g`` and ``h = o * tanh(c)``."""
    hidden = tanh_c.shape[0]
    i, f, o, g = (gates[k * hidden : (k + 1) * hidden] for k in range(4))
    d_i, d_f, d_o, d_g = (d_gates[k * hidden : (k + 1) * hidden] for k in range(4))
    np.subtract(1, o, out=scratch)  # d_o = d_h * tanh_c * o * (1 - o)
    scratch *= o
    scratch *= tanh_c
    np.multiply(scratch, d_h, out=d_o)
    np.multiply(tanh_c, tanh_c, out=scratch)  # d_c += d_h * o * (1 - tanh_c^2)
    np.subtract(1, scratch, out=scratch)
    scratch *= o
    scratch *= d_h
    d_c += scratch
    np.subtract(1, i, out=scratch)  # d_i = d_c * g * i * (1 - i)
    scratch *= i
    scratch *= g
    np.multiply(scratch, d_c, out=d_i)
    np.subtract(1, f, out=scratch)  # d_f = d_c * c_prev * f * (1 - f)
    scratch *= f
    scratch *= c_prev
    np.multiply(scratch, d_c, out=d_f)
    np.multiply(g, g, out=scratch)  # d_g = d_c * i * (1 - g^2)
    np.subtract(1, scratch, out=scratch)
    scratch *= i
    np.multiply(scratch, d_c, out=d_g)
    d_c *= f


# The compiled LSTM step loops, for float32 only (the NumPy code above is the
# reference and the float64 path; the constants are float32 so that nothing
# is promoted to float64 inside the loops). NumPy's exp and tanh are
# vectorized and Numba's scalar ones are not, so forward keeps those in NumPy
# and compiles the chain around them; backward has no transcendental and is
# one pass.


@_jit.kernel()
def _lstm_forward_kernel(gates, cell_prev, cell):
    """``gates`` holds ``exp(-x)`` on the sigmoid rows (i, f, o) and ``tanh``
    on g: finish the sigmoids in place and write ``c = f * c_prev + i * g``."""
    one = np.float32(1)
    hidden, batch = cell.shape
    for j in range(hidden):
        for b in range(batch):
            i = one / (one + gates[j, b])
            f = one / (one + gates[hidden + j, b])
            gates[j, b] = i
            gates[hidden + j, b] = f
            gates[2 * hidden + j, b] = one / (one + gates[2 * hidden + j, b])
            cell[j, b] = f * cell_prev[j, b] + i * gates[3 * hidden + j, b]


@_jit.kernel()
def _lstm_backward_kernel(gates, tanh_c, c_prev, d_h, d_c, d_gates, t):
    """``_lstm_step_backward`` in one pass, writing step ``t`` of ``d_gates``
    (``(4H, L, N)``, passed whole so that the loop sees a contiguous array)."""
    one = np.float32(1)
    hidden, batch = tanh_c.shape
    for j in range(hidden):
        for b in range(batch):
            i = gates[j, b]
            f = gates[hidden + j, b]
            o = gates[2 * hidden + j, b]
            g = gates[3 * hidden + j, b]
            tc = tanh_c[j, b]
            dh = d_h[j, b]
            dc = d_c[j, b] + dh * o * (one - tc * tc)
            d_gates[j, t, b] = dc * g * i * (one - i)
            d_gates[hidden + j, t, b] = dc * c_prev[j, b] * f * (one - f)
            d_gates[2 * hidden + j, t, b] = dh * tc * o * (one - o)
            d_gates[3 * hidden + j, t, b] = dc * i * (one - g * g)
            d_c[j, b] = dc * f


# --------------------------------------------------------------- GRU sequence


class GruSequence(_SequenceOp):
    """A GRU layer direction over a sequence: ``(input, h_0, w_ih, w_hh[, b_ih, b_hh]) -> (output, h_n)``.

    PyTorch's candidate ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``
    needs its input and recurrent parts apart, so the stacked weights have
    four row blocks: ``r`` and ``z`` (both parts), ``n`` from the input and
    ``n`` from the state, each with its own bias."""

    __slots__ = ()

    def _stack_weights(self, w_ih, w_hh, biases):
        hidden, features = w_hh.shape[1], w_ih.shape[1]
        inputs = slice(hidden, hidden + features)
        weights = _stacked(4 * hidden, hidden, features, bool(biases), w_hh.dtype)
        weights[: 2 * hidden, :hidden] = w_hh[: 2 * hidden]
        weights[: 3 * hidden, inputs] = w_ih
        weights[3 * hidden :, :hidden] = w_hh[2 * hidden :]
        if biases:
            b_ih, b_hh = biases
            np.add(b_ih[: 2 * hidden], b_hh[: 2 * hidden], out=weights[: 2 * hidden, -1])
            weights[2 * hidden : 3 * hidden, -1] = b_ih[2 * hidden :]
            weights[3 * hidden :, -1] = b_hh[2 * hidden :]
        return weights

    def _split_gradient(self, grad, hidden, features):
        recurrent_rows = np.r_[0 : 2 * hidden, 3 * hidden : 4 * hidden]
        return (
            grad[: 3 * hidden, hidden : hidden + features],
            grad[recurrent_rows, :hidden],
            grad[: 3 * hidden, -1],
            grad[recurrent_rows, -1],
        )

    def _forward_steps(self, weights, operands, states):
        hidden, steps, batch = weights.shape[0] // 4, operands.shape[1] - 1, operands.shape[2]
        # Per step: r, z, n, then W_hn h + b_hn (which backward needs) in rows 3H:4H.
        gates = _workspace.take((steps, 4 * hidden, batch), operands.dtype)
        for t in range(steps):
            step = gates[t]
            np.matmul(weights, operands[:, t], out=step)
            r, z, n, hidden_n = (step[k * hidden : (k + 1) * hidden] for k in range(4))
            _sigmoid_into(step[: 2 * hidden], step[: 2 * hidden])
            n += r * hidden_n
            np.tanh(n, out=n)
            h = operands[:hidden, t + 1]
            np.subtract(operands[:hidden, t], n, out=h)  # h = n + z * (h_prev - n)
            h *= z
            h += n
        return (gates,), (), (gates,)

    def _backward_steps(self, weights, operands, cell_saved, grad_output, grad_finals):
        (gates,) = cell_saved
        steps, rows, batch = gates.shape
        hidden = rows // 4
        d_gates = _workspace.take((rows, steps, batch), gates.dtype)
        d_h = _state_gradient(grad_finals[0], (hidden, batch), gates.dtype)
        backward_weight = weights[:, :hidden].T
        for t in range(steps - 1, -1, -1):
            if grad_output is not None:
                d_h += grad_output[t]
            r, z, n, hidden_n = (gates[t, k * hidden : (k + 1) * hidden] for k in range(4))
            d_r, d_z, d_n, d_hidden_n = (d_gates[k * hidden : (k + 1) * hidden, t] for k in range(4))
            np.multiply(d_h, (1 - z) * (1 - n * n), out=d_n)
            np.multiply(d_n, r, out=d_hidden_n)
            np.multiply(d_hidden_n, hidden_n * (1 - r), out=d_r)
            np.multiply(d_h, (operands[:hidden, t] - n) * z * (1 - z), out=d_z)
            direct = d_h * z
            np.matmul(backward_weight, d_gates[:, t], out=d_h)
            d_h += direct
        return d_gates, (d_h,)

    def _unrolled_projection(self, input, w_ih, biases):
        return linear(input, w_ih, biases[0] if biases else None)

    def _unrolled_step(self, input_gates, states, w_hh, biases):
        return (FusedGruCell.apply(input_gates, states[0], w_hh, *biases[1:]),)


# ---------------------------------------------------------- Elman RNN sequence


class RnnSequence(_SequenceOp):
    """An Elman RNN layer direction over a sequence,
    ``(input, h_0, w_ih, w_hh[, b_ih, b_hh]) -> (output, h_n)``, with
    ``nonlinearity`` ``"tanh"`` or ``"relu"``."""

    __slots__ = ("nonlinearity",)

    def forward(self, input, *arguments, reverse, nonlinearity):
        self.nonlinearity = nonlinearity
        return super().forward(input, *arguments, reverse=reverse)

    def _stack_weights(self, w_ih, w_hh, biases):
        hidden, features = w_hh.shape[1], w_ih.shape[1]
        weights = _stacked(hidden, hidden, features, bool(biases), w_hh.dtype)
        weights[:, :hidden] = w_hh
        weights[:, hidden : hidden + features] = w_ih
        if biases:
            np.add(biases[0], biases[1], out=weights[:, -1])
        return weights

    def _split_gradient(self, grad, hidden, features):
        return grad[:, hidden : hidden + features], grad[:, :hidden], grad[:, -1], grad[:, -1].copy()

    def _forward_steps(self, weights, operands, states):
        hidden, steps = weights.shape[0], operands.shape[1] - 1
        pre = np.empty((hidden, operands.shape[2]), dtype=operands.dtype)
        for t in range(steps):
            np.matmul(weights, operands[:, t], out=pre)
            if self.nonlinearity == "tanh":
                np.tanh(pre, out=operands[:hidden, t + 1])
            else:
                np.maximum(pre, 0, out=operands[:hidden, t + 1])
        return (), (), ()  # the activations are the states, already in ``operands``

    def _backward_steps(self, weights, operands, cell_saved, grad_output, grad_finals):
        hidden, steps, batch = weights.shape[0], operands.shape[1] - 1, operands.shape[2]
        d_pre = _workspace.take((hidden, steps, batch), operands.dtype)
        d_h = _state_gradient(grad_finals[0], (hidden, batch), operands.dtype)
        backward_weight = weights[:, :hidden].T
        for t in range(steps - 1, -1, -1):
            if grad_output is not None:
                d_h += grad_output[t]
            h = operands[:hidden, t + 1]
            if self.nonlinearity == "tanh":
                np.multiply(d_h, 1 - h * h, out=d_pre[:, t])
            else:  # the gradient passes where the output is positive, as in PyTorch
                np.multiply(d_h, h > 0, out=d_pre[:, t])
            np.matmul(backward_weight, d_pre[:, t], out=d_h)
        return d_pre, (d_h,)

    def _unrolled_projection(self, input, w_ih, biases):
        return linear(input, w_ih, biases[0] + biases[1] if biases else None)

    def _unrolled_step(self, input_gates, states, w_hh, biases):
        return (FusedRnnCell.apply(input_gates, states[0], w_hh, nonlinearity=self.nonlinearity),)


# ------------------------------------------------------------ public functions


def _check_cell_arguments(name: str, input: Tensor, states: tuple, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh, gates: int):
    """PyTorch's checks (and wording) for a cell on a batch: input ``(N, in)``,
    states ``(N, H)``, weights ``(gates*H, in)`` and ``(gates*H, H)``, biases
    ``(gates*H,)``, all of one floating dtype."""
    tensors = {"input": input, "weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh}
    tensors.update({f"hx[{k}]" if len(states) > 1 else "hx": s for k, s in enumerate(states)})
    for argument, t in tensors.items():
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{name}: {argument} must be a Tensor, got {type(t).__name__}")
    if w_ih.ndim != 2 or w_hh.ndim != 2 or w_hh.shape[0] != gates * w_hh.shape[1] or w_ih.shape[0] != w_hh.shape[0]:
        raise RuntimeError(
            f"{name}: expected weight_ih of shape ({gates}*hidden_size, input_size) and weight_hh of shape "
            f"({gates}*hidden_size, hidden_size), got {list(w_ih.shape)} and {list(w_hh.shape)}"
        )
    for argument, bias in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if bias is not None and bias.shape != (w_hh.shape[0],):
            raise RuntimeError(f"{name}: expected {argument} of shape [{w_hh.shape[0]}], got {list(bias.shape)}")
    dtypes = {argument: t.dtype for argument, t in tensors.items() if t is not None}
    if len(set(dtypes.values())) > 1 or input.dtype.kind != "f":
        described = ", ".join(f"{argument} {dtype}" for argument, dtype in dtypes.items())
        raise RuntimeError(f"{name}: expected all tensors to have the same floating dtype, got {described}")
    if input.ndim != 2:
        raise RuntimeError(f"{name}: expected input of shape (batch, input_size), got shape {list(input.shape)}")
    if input.shape[1] != w_ih.shape[1]:
        raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {w_ih.shape[1]}")
    for k, state in enumerate(states):
        if state.ndim != 2:
            raise RuntimeError(f"{name}: expected hidden{k} of shape (batch, hidden_size), got {list(state.shape)}")
        if state.shape[0] != input.shape[0]:
            raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size {state.shape[0]}")
        if state.shape[1] != w_hh.shape[1]:
            raise RuntimeError(
                f"hidden{k} has inconsistent hidden_size: got {state.shape[1]}, expected {w_hh.shape[1]}"
            )


def _with_bias(b_hh: Tensor | None) -> tuple:
    return () if b_hh is None else (b_hh,)


def lstm_cell(
    input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """One LSTM step on a batch (PyTorch's ``torch.lstm_cell``): ``hx`` is the
    pair ``(h, c)``; returns the next ``(h, c)``."""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"lstm_cell: hx must be a pair (h, c) of Tensors, got {type(hx).__name__}")
    h, c = hx
    _check_cell_arguments("lstm_cell", input, (h, c), w_ih, w_hh, b_ih, b_hh, gates=4)
    return FusedLstmCell.apply(linear(input, w_ih, b_ih), h, c, w_hh, *_with_bias(b_hh))


def gru_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
) -> Tensor:
    """One GRU step on a batch (PyTorch's ``torch.gru_cell``); returns the next ``h``."""
    _check_cell_arguments("gru_cell", input, (hx,), w_ih, w_hh, b_ih, b_hh, gates=3)
    return FusedGruCell.apply(linear(input, w_ih, b_ih), hx, w_hh, *_with_bias(b_hh))


def rnn_tanh_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
) -> Tensor:
    """One Elman step ``tanh(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)`` (PyTorch's ``torch.rnn_tanh_cell``)."""
    _check_cell_arguments("rnn_tanh_cell", input, (hx,), w_ih, w_hh, b_ih, b_hh, gates=1)
    return FusedRnnCell.apply(linear(input, w_ih, b_ih), hx, w_hh, *_with_bias(b_hh), nonlinearity="tanh")


def rnn_relu_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
) -> Tensor:
    """One Elman step ``relu(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)`` (PyTorch's ``torch.rnn_relu_cell``)."""
    _check_cell_arguments("rnn_relu_cell", input, (hx,), w_ih, w_hh, b_ih, b_hh, gates=1)
    return FusedRnnCell.apply(linear(input, w_ih, b_ih), hx, w_hh, *_with_bias(b_hh), nonlinearity="relu")


__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]
TENSOR_METHODS: dict = {}
