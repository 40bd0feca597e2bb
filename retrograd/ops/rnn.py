"""Recurrent cells as fused ops: one node per time step.

A recurrent layer spends its time in two places: the input projection, which
does not depend on the hidden state and is one GEMM over every time step at
once (``linear`` on the whole sequence), and the recurrence, which must run
step by step. Each step here is ONE op that takes the step's slice of the
precomputed input projection (``input_gates = x @ w_ih.T + b_ih``), the
previous state and the recurrent weights, and does the rest: one
``(N, H) @ (H, k*H)`` GEMM for all gates together (gate order as in PyTorch:
LSTM ``i, f, g, o``; GRU ``r, z, n``), then the gate activations on whole
arrays. Backpropagation through time is the engine's ordinary walk over the
unrolled chain of these nodes.

Backward uses the gate activations that forward saved. When the backward pass
is itself recorded (``create_graph=True``) the activations are recomputed from
the saved inputs with retrograd ops and the same gradient formulas run on
Tensors, so second derivatives are exact; otherwise the formulas run on the
saved NumPy arrays at plain NumPy cost. Each formula is written once, with
the operators that arrays and Tensors share.

The public functions are PyTorch's ``lstm_cell``, ``gru_cell``,
``rnn_tanh_cell`` and ``rnn_relu_cell`` (input, hidden state, weights, biases),
which ``nn.RNNCell``/``LSTMCell``/``GRUCell`` call. ``nn.RNN``/``LSTM``/``GRU``
check their arguments once per sequence and then apply the step ops directly.
"""

from __future__ import annotations

import numpy as np

from ..autograd import anomaly
from ..autograd.function import Op, _op_error
from ..autograd.grad_mode import GradMode
from .common import Tensor, _wrap
from .elementwise import where
from .linalg import linear
from .pointwise import relu, sigmoid, tanh
from .shape import cat

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
