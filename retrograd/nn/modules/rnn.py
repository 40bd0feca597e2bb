"""Recurrent layers: ``RNN``, ``LSTM`` and ``GRU`` over whole sequences, and the
single-step ``RNNCell``, ``LSTMCell`` and ``GRUCell``, with PyTorch's
constructor arguments, parameter names and shapes, gate order and
initialisation.

A layer runs each direction of each layer as ONE op over the whole sequence
(``LstmSequence``, ``GruSequence``, ``RnnSequence`` in ``retrograd.ops.rnn``):
per time step one GEMM for all gates and the gate math on preallocated
buffers; its backward is backpropagation through time, with the gradients of
the weights over all steps computed by one GEMM each. An LSTM with
``proj_size`` runs one fused cell op and one projection per step instead.
For truncated BPTT, carry the state across chunks with ``h.detach()`` (see
``docs/recurrent.md``).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ... import creation
from ...ops import linalg
from ...ops import rnn as rnn_ops
from ...ops.common import _wrap
from ...ops.pointwise import dropout as dropout_fn
from ...ops.shape import cat, stack, unbind
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: argument checks, the parameters
    ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``
    (and ``weight_hr_l{k}`` for an LSTM with ``proj_size``), with the suffix
    ``_reverse`` for the second direction, all drawn from
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), and the loop over layers,
    directions and time steps."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=3,
            )
        for name, value, kind in (
            ("bias", bias, bool),
            ("batch_first", batch_first, bool),
            ("input_size", input_size, int),
            ("hidden_size", hidden_size, int),
        ):
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size

        gate_size = _GATES[mode] * hidden_size
        output_size = proj_size if proj_size > 0 else hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else output_size * num_directions
            for direction in range(num_directions):
                shapes = {"weight_ih": (gate_size, layer_input_size), "weight_hh": (gate_size, output_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(creation.empty(shape, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Kept for compatibility: PyTorch packs weights for cuDNN here; on the CPU it does nothing."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    # ---------------------------------------------------------------- checks
    def check_input(self, input: Tensor, batch_sizes=None) -> None:
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"RNN input dtype (retrograd.{input.dtype}) does not match weight dtype (retrograd.{weight_dtype}). "
                f"Convert input: input.to(retrograd.{weight_dtype}), or convert model: model.to(retrograd.{input.dtype})"
            )
        if input.dim() != 3:
            raise RuntimeError(f"input must have 3 dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.size(-1)}"
            )

    def _state_shape(self, input: Tensor, size: int) -> tuple[int, int, int]:
        """``(D * num_layers, N, size)``: the shape of a state for the batched ``input``."""
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, size)

    def get_expected_hidden_size(self, input: Tensor, batch_sizes=None) -> tuple[int, int, int]:
        return self._state_shape(input, self.proj_size if self.proj_size > 0 else self.hidden_size)

    def check_hidden_size(
        self, hx: Tensor, expected_hidden_size: tuple, msg: str = "Expected hidden size {}, got {}"
    ) -> None:
        if tuple(hx.size()) != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))
        if hx.dtype != self.weight_ih_l0.dtype:
            raise RuntimeError(
                f"{type(self).__name__}: initial state dtype (retrograd.{hx.dtype}) does not match the input and "
                f"weight dtype (retrograd.{self.weight_ih_l0.dtype})"
            )

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes=None) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def _batched_input(self, input: Tensor, message: str) -> tuple[Tensor, bool]:
        """The input with a batch dimension (added at ``batch_dim`` when unbatched), and whether it had one."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected input to be a Tensor, got {type(input).__name__}")
        if input.dim() not in (2, 3):
            raise ValueError(message.format(input.dim()))
        if input.dim() == 3:
            return input, True
        return input.unsqueeze(0 if self.batch_first else 1), False

    def _zero_state(self, input: Tensor, size: int) -> Tensor:
        return _wrap(np.zeros(self._state_shape(input, size), dtype=input.dtype))

    # ------------------------------------------------------------------ loop
    def _run(self, input: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        """Run all layers over a batched input. ``states`` holds each initial
        state (h, and c for an LSTM) as ``(D * num_layers, N, size)``; returns
        the output in the input's layout and the final states in that shape."""
        if self.batch_first:
            input = input.transpose(0, 1)
        if input.size(0) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        num_directions = 2 if self.bidirectional else 1
        initial = [unbind(s, 0) for s in states]  # per layer and direction
        finals: list[list[Tensor]] = [[] for _ in states]
        layer_input = input
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                index = layer * num_directions + direction
                weights = [getattr(self, name) for name in self._all_weights[index]]
                output, last = self._run_direction(
                    layer_input, [s[index] for s in initial], weights, reverse=direction == 1
                )
                outputs.append(output)
                for collected, state in zip(finals, last, strict=True):
                    collected.append(state)
            layer_input = outputs[0] if num_directions == 1 else cat(outputs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = dropout_fn(layer_input, self.dropout, training=True)
        output = layer_input.transpose(0, 1) if self.batch_first else layer_input
        return output, [stack(collected, 0) for collected in finals]

    def _run_direction(self, input: Tensor, states: list[Tensor], weights: list, reverse: bool):
        """One layer in one direction over time: ``(L, N, H_in)`` ->
        ``(L, N, H_out)`` and the last state(s), as one whole-sequence op. This
        is the single-state form (RNN and GRU); LSTM overrides it."""
        if self.mode == "GRU":
            output, h = rnn_ops.GruSequence.apply(input, *states, *weights, reverse=reverse)
        else:
            nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
            output, h = rnn_ops.RnnSequence.apply(input, *states, *weights, reverse=reverse, nonlinearity=nonlinearity)
        return output, (h,)

    def _check_hx_dims(self, hx: Tensor, batched: bool) -> None:
        if batched and hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        if not batched and hx.dim() != 2:
            raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")

    def _single_state_forward(self, input: Tensor, hx: Tensor | None, message: str) -> tuple[Tensor, Tensor]:
        """RNN and GRU: returns ``output, h_n`` as PyTorch does."""
        input, batched = self._batched_input(input, message)
        if hx is None:
            hx = self._zero_state(input, self.hidden_size)
        else:
            _require_tensor(hx, type(self).__name__, "hx")
            self._check_hx_dims(hx, batched)
            if not batched:
                hx = hx.unsqueeze(1)
        self.check_forward_args(input, hx)
        output, (h_n,) = self._run(input, [hx])
        if not batched:
            return output.squeeze(0 if self.batch_first else 1), h_n.squeeze(1)
        return output, h_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _folded_bias(biases: list) -> Tensor | None:
    """``b_ih + b_hh``, added once to the input projection of the whole
    sequence rather than at every step (and its gradient summed once)."""
    return biases[0] + biases[1] if biases else None


def _time_order(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


def _require_tensor(value, module: str, argument: str) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{module}: expected {argument} to be a Tensor, got {type(value).__name__}")


def _reject_projection(name: str, kwargs: dict) -> None:
    """RNN and GRU take no ``proj_size``; anything else unknown is a TypeError as usual."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"{name}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")


class RNN(RNNBase):
    """Multi-layer Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``
    (or ``relu`` with ``nonlinearity='relu'``).

    Input ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``, or
    unbatched ``(L, H_in)``) and optional ``h_0`` of shape
    ``(D * num_layers, N, H_out)``; returns ``output`` ``(L, N, D * H_out)``
    and ``h_n`` ``(D * num_layers, N, H_out)``. ``dropout`` applies to the
    outputs of every layer but the last, while training.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ) -> None:
        _reject_projection("RNN", kwargs)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self._single_state_forward(input, hx, "RNN: Expected input to be 2D or 3D, got {}D tensor instead")


class GRU(RNNBase):
    """Multi-layer GRU with PyTorch's gates (order r, z, n)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Inputs and outputs as for ``RNN``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ) -> None:
        _reject_projection("GRU", kwargs)
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self._single_state_forward(input, hx, "GRU: Expected input to be 2D or 3D, got {}D instead")


class LSTM(RNNBase):
    """Multi-layer LSTM with PyTorch's gates (order i, f, g, o)::

        i, f, o = sigmoid(...), g = tanh(...)   (each W_i* x + b_i* + W_h* h + b_h*)
        c' = f * c + i * g
        h' = o * tanh(c')

    With ``proj_size > 0``, ``h' = W_hr (o * tanh(c'))`` has ``proj_size``
    features. Takes ``input`` and optional ``(h_0, c_0)``; returns
    ``output, (h_n, c_n)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )

    def get_expected_cell_size(self, input: Tensor, batch_sizes=None) -> tuple[int, int, int]:
        return self._state_shape(input, self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden: tuple, batch_sizes=None) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(
            hidden[0], self.get_expected_hidden_size(input, batch_sizes), "Expected hidden[0] size {}, got {}"
        )
        self.check_hidden_size(
            hidden[1], self.get_expected_cell_size(input, batch_sizes), "Expected hidden[1] size {}, got {}"
        )

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        input, batched = self._batched_input(input, "LSTM: Expected input to be 2D or 3D, got {}D instead")
        if hx is None:
            output_size = self.proj_size if self.proj_size > 0 else self.hidden_size
            hx = (self._zero_state(input, output_size), self._zero_state(input, self.hidden_size))
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTM: expected hx to be a tuple (h_0, c_0) of two Tensors, got {_describe_state(hx)}")
            for k, state in enumerate(hx):
                _require_tensor(state, "LSTM", f"hx[{k}]")
            h_dims, c_dims = hx[0].dim(), hx[1].dim()
            if batched and (h_dims != 3 or c_dims != 3):
                raise RuntimeError(
                    f"For batched 3-D input, hx and cx should also be 3-D but got ({h_dims}-D, {c_dims}-D) tensors"
                )
            if not batched:
                if h_dims != 2 or c_dims != 2:
                    raise RuntimeError(
                        f"For unbatched 2-D input, hx and cx should also be 2-D but got ({h_dims}-D, {c_dims}-D) "
                        "tensors"
                    )
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self.check_forward_args(input, hx)
        output, (h_n, c_n) = self._run(input, list(hx))
        if not batched:
            return output.squeeze(0 if self.batch_first else 1), (h_n.squeeze(1), c_n.squeeze(1))
        return output, (h_n, c_n)

    def _run_direction(self, input: Tensor, states: list[Tensor], weights: list, reverse: bool):
        if self.proj_size == 0:
            output, h, c = rnn_ops.LstmSequence.apply(input, *states, *weights, reverse=reverse)
            return output, (h, c)
        # With a projection: the per-step path, one cell op and one Linear per step.
        w_ih, w_hh, w_hr = weights[0], weights[1], weights[-1]
        input_bias = _folded_bias(weights[2:4]) if self.bias else None
        steps = unbind(linalg.linear(input, w_ih, input_bias), 0)  # one GEMM for every time step
        h, c = states
        outputs = [None] * len(steps)
        for t in _time_order(len(steps), reverse):
            h, c = rnn_ops.FusedLstmCell.apply(steps[t], h, c, w_hh)
            h = linalg.Linear.apply(h, w_hr)
            outputs[t] = h
        return stack(outputs, 0), (h, c)


def _describe_state(hx) -> str:
    if isinstance(hx, Tensor):
        return f"a single Tensor of shape {list(hx.shape)}"
    if isinstance(hx, (tuple, list)):
        return f"a {type(hx).__name__} of {len(hx)}"
    return type(hx).__name__


# ------------------------------------------------------------------------ cells


class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` ``(chunks * hidden_size, input_size)``,
    ``weight_hh`` ``(chunks * hidden_size, hidden_size)``, optional ``bias_ih``
    and ``bias_hh``, all from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(creation.empty((num_chunks * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(creation.empty((num_chunks * hidden_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _batched(self, input: Tensor, states: tuple, name: str, state_names: tuple) -> tuple[Tensor, tuple, bool]:
        """Check ranks (1-D or 2-D) and add a batch dimension to unbatched arguments."""
        _require_tensor(input, name, "input")
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for state, state_name in zip(states, state_names, strict=True):
            if state is not None:
                _require_tensor(state, name, state_name)
                if state.dim() not in (1, 2):
                    raise ValueError(f"{name}: Expected {state_name} to be 1D or 2D, got {state.dim()}D instead")
        batched = input.dim() == 2
        if batched:
            return input, states, True
        for state, state_name in zip(states, state_names, strict=True):
            if state is not None and state.dim() != 1:
                raise ValueError(f"{name}: Expected {state_name} to be 1D for 1D input, got {state.dim()}D instead")
        return input.unsqueeze(0), tuple(None if s is None else s.unsqueeze(0) for s in states), False

    def _zeros(self, input: Tensor) -> Tensor:
        return _wrap(np.zeros((input.size(0), self.hidden_size), dtype=input.dtype))


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (hx,), batched = self._batched(input, (hx,), "RNNCell", ("hidden",))
        if hx is None:
            hx = self._zeros(input)
        if self.nonlinearity == "tanh":
            cell = rnn_ops.rnn_tanh_cell
        elif self.nonlinearity == "relu":
            cell = rnn_ops.rnn_relu_cell
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h = cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gate order i, f, g, o): takes ``input`` and optional
    ``(h, c)``, returns the next ``(h, c)``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: expected hx to be a tuple (h, c) of two Tensors, got {_describe_state(hx)}")
        states = (None, None) if hx is None else tuple(hx)
        input, states, batched = self._batched(input, states, "LSTMCell", ("hx[0]", "hx[1]"))
        if hx is None:
            zeros = self._zeros(input)
            states = (zeros, zeros)
        h, c = rnn_ops.lstm_cell(input, states, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gate order r, z, n, PyTorch's form of n)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (hx,), batched = self._batched(input, (hx,), "GRUCell", ("hidden",))
        if hx is None:
            hx = self._zeros(input)
        h = rnn_ops.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)
