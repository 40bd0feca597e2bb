"""Recurrent layers against PyTorch: RNN (tanh, relu), LSTM (with and without
projection) and GRU over layers, directions, layouts, biases and initial
states; the cells; dropout between layers; gradcheck of small layers;
truncated backpropagation through time; state dicts and error messages."""

import itertools
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

from oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")
RELATIVE = 1e-8
SEQUENCE, BATCH, INPUT, HIDDEN = 3, 2, 3, 4

MODES = {
    "rnn_tanh": (RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (RNN, {"nonlinearity": "relu"}),
    "lstm": (LSTM, {}),
    "gru": (GRU, {}),
}


def _pair(name: str, **kwargs):
    """The same layer in both libraries, float64, retrograd's weights copied from PyTorch's."""
    cls, extra = MODES[name]
    kwargs = {**extra, **kwargs}
    theirs = getattr(torch.nn, cls.__name__)(INPUT, HIDDEN, **kwargs).double()
    ours = cls(INPUT, HIDDEN, dtype=rg.float64, **kwargs)
    _copy_weights(theirs, ours)
    return ours, theirs


def _copy_weights(theirs, ours) -> None:
    state = {key: rg.tensor(value.detach().numpy().copy()) for key, value in theirs.state_dict().items()}
    ours.load_state_dict(state)


def _close(ours, theirs, what: str) -> None:
    ours_array = ours.detach().numpy() if isinstance(ours, rg.Tensor) else ours
    theirs_array = theirs.detach().numpy()
    assert ours_array.shape == theirs_array.shape, f"{what}: shape {ours_array.shape} vs {theirs_array.shape}"
    np.testing.assert_allclose(ours_array, theirs_array, rtol=RELATIVE, atol=1e-12, err_msg=what)


def _flatten_states(result):
    """``output, h_n`` or ``output, (h_n, c_n)`` as a flat list."""
    output, states = result
    return [output, *states] if isinstance(states, tuple) else [output, states]


def _compare(ours, theirs, x: np.ndarray, states: list | None, is_lstm: bool) -> None:
    """Forward both, backward a random weighting of every output, compare values and all gradients."""
    ours_x, theirs_x = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours_states = [rg.tensor(s, requires_grad=True) for s in states] if states else []
    theirs_states = [torch.tensor(s, requires_grad=True) for s in states] if states else []

    def hidden(tensors):
        if not tensors:
            return None
        return tuple(tensors) if is_lstm else tensors[0]

    ours_out = _flatten_states(ours(ours_x, hidden(ours_states)))
    theirs_out = _flatten_states(theirs(theirs_x, hidden(theirs_states)))
    rng = np.random.default_rng(7)
    seeds = [rng.standard_normal(tuple(t.shape)) for t in theirs_out]
    sum((o * rg.tensor(s)).sum() for o, s in zip(ours_out, seeds, strict=True)).backward()
    sum((t * torch.tensor(s)).sum() for t, s in zip(theirs_out, seeds, strict=True)).backward()
    for name, o, t in zip(["output", "h_n", "c_n"], ours_out, theirs_out, strict=False):
        _close(o, t, name)
    _close(ours_x.grad, theirs_x.grad, "input gradient")
    for k, (o, t) in enumerate(zip(ours_states, theirs_states, strict=True)):
        _close(o.grad, t.grad, f"initial state {k} gradient")
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        _close(param.grad, their_params[name].grad, f"gradient of {name}")


GRID = list(itertools.product(MODES, (1, 2), (False, True), (False, True), (True, False), (False, True)))


@needs_torch
@pytest.mark.parametrize(
    ("mode", "num_layers", "bidirectional", "batch_first", "bias", "initial_state"),
    GRID,
    ids=[
        f"{m}-layers{n}-{'bi' if b else 'uni'}-{'bf' if f else 'tf'}-{'bias' if s else 'nobias'}-{'h0' if h else 'zeros'}"
        for m, n, b, f, s, h in GRID
    ],
)
def test_layer_matches_pytorch(mode, num_layers, bidirectional, batch_first, bias, initial_state):
    ours, theirs = _pair(mode, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SEQUENCE, INPUT) if batch_first else (SEQUENCE, BATCH, INPUT))
    state_shape = ((2 if bidirectional else 1) * num_layers, BATCH, HIDDEN)
    n_states = 2 if mode == "lstm" else 1
    states = [rng.standard_normal(state_shape) for _ in range(n_states)] if initial_state else None
    _compare(ours, theirs, x, states, mode == "lstm")


@needs_torch
@pytest.mark.parametrize(("num_layers", "bidirectional", "initial_state"), [(1, False, True), (2, True, False)])
def test_lstm_with_projection_matches_pytorch(num_layers, bidirectional, initial_state):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch notes that oneDNN lacks projections
        ours, theirs = _pair("lstm", num_layers=num_layers, bidirectional=bidirectional, proj_size=2)
        rng = np.random.default_rng(1)
        d = (2 if bidirectional else 1) * num_layers
        states = [rng.standard_normal((d, BATCH, 2)), rng.standard_normal((d, BATCH, HIDDEN))]
        _compare(ours, theirs, rng.standard_normal((SEQUENCE, BATCH, INPUT)), states if initial_state else None, True)


@needs_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("initial_state", [False, True])
def test_unbatched_input_matches_pytorch(mode, batch_first, initial_state):
    ours, theirs = _pair(mode, num_layers=2, bidirectional=True, batch_first=batch_first)
    rng = np.random.default_rng(2)
    states = [rng.standard_normal((4, HIDDEN)) for _ in range(2 if mode == "lstm" else 1)]
    _compare(ours, theirs, rng.standard_normal((SEQUENCE, INPUT)), states if initial_state else None, mode == "lstm")


@needs_torch
@pytest.mark.parametrize("mode", MODES)
def test_dropout_in_eval_mode_matches_pytorch(mode):
    ours, theirs = _pair(mode, num_layers=2, dropout=0.5)
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, np.random.default_rng(3).standard_normal((SEQUENCE, BATCH, INPUT)), None, mode == "lstm")


@pytest.mark.parametrize("mode", MODES)
def test_dropout_in_training_mode(mode):
    cls, extra = MODES[mode]
    layer = cls(INPUT, HIDDEN, num_layers=3, dropout=0.5, dtype=rg.float64, **extra)
    x = rg.randn(5, BATCH, INPUT, dtype=rg.float64, requires_grad=True)
    rg.manual_seed(11)
    first = _flatten_states(layer(x))
    rg.manual_seed(11)
    again = _flatten_states(layer(x))
    rg.manual_seed(12)
    other = _flatten_states(layer(x))
    assert first[0].shape == (5, BATCH, HIDDEN)
    np.testing.assert_array_equal(first[0].detach().numpy(), again[0].detach().numpy())  # seeded masks repeat
    assert not np.allclose(first[0].detach().numpy(), other[0].detach().numpy())  # and differ between seeds
    layer.eval()
    evaluated = _flatten_states(layer(x))
    assert not np.allclose(first[0].detach().numpy(), evaluated[0].detach().numpy())
    sum(t.sum() for t in first).backward()
    assert np.isfinite(x.grad.numpy()).all()
    for name, param in layer.named_parameters():
        assert param.grad is not None and np.isfinite(param.grad.numpy()).all(), name


# ------------------------------------------------------------------------ cells

CELL_CLASSES = {
    "rnn_tanh": (RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (RNNCell, {"nonlinearity": "relu"}),
    "lstm": (LSTMCell, {}),
    "gru": (GRUCell, {}),
}


@needs_torch
@pytest.mark.parametrize("mode", CELL_CLASSES)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("initial_state", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_pytorch(mode, batched, initial_state, bias):
    cls, extra = CELL_CLASSES[mode]
    theirs = getattr(torch.nn, cls.__name__)(INPUT, HIDDEN, bias=bias, **extra).double()
    ours = cls(INPUT, HIDDEN, bias=bias, dtype=rg.float64, **extra)
    _copy_weights(theirs, ours)
    rng = np.random.default_rng(4)
    batch = (BATCH,) if batched else ()
    arrays = [rng.standard_normal(batch + (INPUT,))]
    n_states = 2 if mode == "lstm" else 1
    if initial_state:
        arrays += [rng.standard_normal(batch + (HIDDEN,)) for _ in range(n_states)]
    ours_in = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]

    def call(cell, tensors):
        if not initial_state:
            out = cell(tensors[0])
        else:
            out = cell(tensors[0], tuple(tensors[1:]) if mode == "lstm" else tensors[1])
        return list(out) if isinstance(out, tuple) else [out]

    ours_out, theirs_out = call(ours, ours_in), call(theirs, theirs_in)
    seeds = [rng.standard_normal(tuple(t.shape)) for t in theirs_out]
    sum((o * rg.tensor(s)).sum() for o, s in zip(ours_out, seeds, strict=True)).backward()
    sum((t * torch.tensor(s)).sum() for t, s in zip(theirs_out, seeds, strict=True)).backward()
    for o, t in zip(ours_out, theirs_out, strict=True):
        _close(o, t, "cell output")
    for o, t in zip(ours_in, theirs_in, strict=True):
        _close(o.grad, t.grad, "cell input gradient")
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        _close(param.grad, their_params[name].grad, f"gradient of {name}")


# -------------------------------------------------------------------- gradcheck


@pytest.mark.parametrize("cls", [LSTM, GRU, RNN])
def test_gradcheck_small_layer(cls):
    """Two bidirectional layers: gradients of every output with respect to the
    input, the initial state(s) and every parameter, against finite differences."""
    layer = cls(2, 2, num_layers=2, bidirectional=True, dtype=rg.float64)
    rng = np.random.default_rng(5)
    x = rg.tensor(rng.standard_normal((3, 1, 2)), requires_grad=True)
    states = [rg.tensor(rng.standard_normal((4, 1, 2)), requires_grad=True) for _ in range(2 if cls is LSTM else 1)]

    def run(x, *states_and_params):  # the parameters are perturbed in place, so the layer sees them
        states = states_and_params[:2] if cls is LSTM else states_and_params[0]
        return tuple(_flatten_states(layer(x, states)))

    assert rg.autograd.gradcheck(run, (x, *states, *layer.parameters()))


def test_gradgradcheck_small_lstm():
    layer = LSTM(2, 2, dtype=rg.float64)
    rng = np.random.default_rng(6)
    x = rg.tensor(rng.standard_normal((2, 1, 2)), requires_grad=True)
    h0 = rg.tensor(rng.standard_normal((1, 1, 2)), requires_grad=True)
    c0 = rg.tensor(rng.standard_normal((1, 1, 2)), requires_grad=True)

    def run(x, h0, c0, w_hh):  # w_hh is the layer's own parameter, perturbed in place
        output, (_, c_n) = layer(x, (h0, c0))
        return output, c_n

    assert rg.autograd.gradgradcheck(run, (x, h0, c0, layer.weight_hh_l0))


@pytest.mark.parametrize("cls", [GRU, RNN, LSTM])
def test_gradgradcheck_two_bidirectional_layers(cls):
    """Second derivatives through whole-sequence ops in both directions and
    across layers (their recorded backward recomputes the steps)."""
    layer = cls(2, 2, num_layers=2, bidirectional=True, batch_first=True, dtype=rg.float64)
    rng = np.random.default_rng(9)
    x = rg.tensor(rng.standard_normal((1, 3, 2)), requires_grad=True)
    h0 = rg.tensor(rng.standard_normal((4, 1, 2)), requires_grad=True)

    def run(x, h0, w_ih, w_hh_reverse):  # the parameters are the layer's own, perturbed in place
        state = (h0, h0 * 0.5) if cls is LSTM else h0
        output, _ = layer(x, state)
        return output

    assert rg.autograd.gradgradcheck(run, (x, h0, layer.weight_ih_l1, layer.weight_hh_l0_reverse))


@needs_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("num_layers", "bidirectional", "batch_first"), [(1, False, True), (2, True, False)])
def test_float32_layer_matches_pytorch_to_float32_rounding(mode, num_layers, bidirectional, batch_first):
    """The float32 path (with the compiled LSTM step loops where Numba is
    available) on a longer sequence, against PyTorch in float32."""
    cls, extra = MODES[mode]
    kwargs = {**extra, "num_layers": num_layers, "bidirectional": bidirectional, "batch_first": batch_first}
    theirs = getattr(torch.nn, cls.__name__)(5, 16, **kwargs).float()
    ours = cls(5, 16, **kwargs)
    _copy_weights(theirs, ours)
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 12, 5) if batch_first else (12, 4, 5)).astype(np.float32)
    ours_x, theirs_x = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours_out, theirs_out = _flatten_states(ours(ours_x)), _flatten_states(theirs(theirs_x))
    seeds = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in theirs_out]
    sum((o * rg.tensor(s)).sum() for o, s in zip(ours_out, seeds, strict=True)).backward()
    sum((t * torch.tensor(s)).sum() for t, s in zip(theirs_out, seeds, strict=True)).backward()
    pairs = [(o, t) for o, t in zip(ours_out, theirs_out, strict=True)] + [(ours_x.grad, theirs_x.grad)]
    their_params = dict(theirs.named_parameters())
    pairs += [(p.grad, their_params[name].grad) for name, p in ours.named_parameters()]
    for o, t in pairs:
        assert o.dtype == rg.float32
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-4, atol=2e-5)


def test_each_layer_direction_is_one_node():
    """The whole sequence of a layer direction is one op node (the per-step
    path remains for an LSTM with a projection)."""
    x = rg.randn(SEQUENCE, BATCH, INPUT, requires_grad=True)
    output, _ = LSTM(INPUT, HIDDEN)(x)
    assert output.grad_fn.name() == "LstmSequenceBackward0" and output.grad_fn.next_edges[0][0] is x
    output, _ = GRU(INPUT, HIDDEN)(x)
    assert output.grad_fn.name() == "GruSequenceBackward0"
    output, _ = RNN(INPUT, HIDDEN, nonlinearity="relu")(x)
    assert output.grad_fn.name() == "RnnSequenceBackward0"
    output, _ = LSTM(INPUT, HIDDEN, proj_size=2)(x)
    assert output.grad_fn.name() == "StackBackward0"


# ----------------------------------------------------------- truncated BPTT


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_truncated_bptt_stops_gradients_at_detach(cls):
    layer = cls(INPUT, HIDDEN, dtype=rg.float64)
    rng = np.random.default_rng(8)
    first = rg.tensor(rng.standard_normal((4, BATCH, INPUT)), requires_grad=True)
    second = rg.tensor(rng.standard_normal((4, BATCH, INPUT)), requires_grad=True)

    def detached(state):
        return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()

    _, state = layer(first)
    carried = detached(state)
    output, _ = layer(second, carried)
    output.sum().backward()
    assert first.grad is None  # nothing flowed back past the detach
    truncated = {name: p.grad.numpy().copy() for name, p in layer.named_parameters()}

    # The same gradients as a fresh run of the second chunk from the carried values.
    layer.zero_grad()
    output, _ = layer(second, detached(carried))
    output.sum().backward()
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), truncated[name], rtol=1e-12, err_msg=name)

    # Without the detach the gradient does reach the first chunk.
    _, state = layer(first)
    output, _ = layer(second, state)
    output.sum().backward()
    assert first.grad is not None and np.abs(first.grad.numpy()).max() > 0


# ------------------------------------------------ parameters and state dicts

CONFIGS = [
    {},
    {"num_layers": 2, "bidirectional": True},
    {"num_layers": 3, "bias": False},
    {"bidirectional": True, "batch_first": True, "dropout": 0.0},
]


@needs_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_state_dict_keys_shapes_and_repr_match_pytorch(mode, config):
    cls, extra = MODES[mode]
    ours, theirs = cls(10, 20, **extra, **config), getattr(torch.nn, cls.__name__)(10, 20, **extra, **config)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert repr(ours) == repr(theirs)
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [[tuple(p.shape) for p in layer] for layer in ours.all_weights] == [
        [tuple(p.shape) for p in layer] for layer in theirs.all_weights
    ]


@needs_torch
def test_lstm_projection_state_dict_matches_pytorch():
    ours = LSTM(10, 20, num_layers=2, bidirectional=True, proj_size=5)
    theirs = torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True, proj_size=5)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert repr(ours) == repr(theirs)


@needs_torch
@pytest.mark.parametrize(
    "make", [lambda nn: nn.RNNCell(3, 4, nonlinearity="relu"), lambda nn: nn.LSTMCell(3, 4, bias=False)]
)
def test_cell_state_dict_and_repr_match_pytorch(make):
    from retrograd.nn.modules import rnn as ours_nn

    ours, theirs = make(ours_nn), make(torch.nn)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make", [lambda: LSTM(5, 16, num_layers=2), lambda: GRUCell(5, 16), lambda: RNN(5, 16)])
def test_initialisation_is_uniform_within_one_over_sqrt_hidden(make):
    layer = make()
    bound = 1 / np.sqrt(16)
    for name, param in layer.named_parameters():
        values = param.detach().numpy()
        assert values.dtype == np.float32
        assert np.abs(values).max() <= bound, name
        assert values.std() > bound / 3, name  # spread over the interval, not constant


def test_layers_run_in_float32_and_after_casting():
    layer = LSTM(INPUT, HIDDEN, num_layers=2)
    output, (h_n, c_n) = layer(rg.randn(SEQUENCE, BATCH, INPUT))
    assert output.dtype == h_n.dtype == c_n.dtype == rg.float32
    layer.double()
    output, _ = layer(rg.randn(SEQUENCE, BATCH, INPUT, dtype=rg.float64))
    assert output.dtype == rg.float64


def test_empty_batch_gives_empty_outputs():
    output, (h_n, c_n) = LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True)(rg.randn(5, 0, INPUT))
    assert output.shape == (5, 0, 2 * HIDDEN) and h_n.shape == (4, 0, HIDDEN) and c_n.shape == (4, 0, HIDDEN)


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: RNN(10, 20)(rg.randn(5, 3, 7)), RuntimeError, r"input.size\(-1\) must be equal to input_size. Expected 10, got 7"),
        (lambda: RNN(10, 20)(rg.randn(5, 3, 10), rg.randn(2, 3, 20)), RuntimeError, r"Expected hidden size \(1, 3, 20\), got \[2, 3, 20\]"),
        (lambda: GRU(10, 20)(rg.randn(5, 10), rg.randn(2, 20)), RuntimeError, r"Expected hidden size \(1, 1, 20\), got \[2, 1, 20\]"),
        (lambda: RNN(10, 20)(rg.randn(5, 3, 2, 10)), ValueError, "RNN: Expected input to be 2D or 3D, got 4D tensor instead"),
        (lambda: LSTM(10, 20)(rg.randn(10)), ValueError, "LSTM: Expected input to be 2D or 3D, got 1D instead"),
        (lambda: GRU(10, 20)(rg.randn(5, 3, 10), rg.randn(1, 20)), RuntimeError, "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
        (lambda: RNN(10, 20)(rg.randn(5, 10), rg.randn(1, 1, 20)), RuntimeError, "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"),
        (lambda: LSTM(10, 20)(rg.randn(5, 3, 10), (rg.randn(1, 3, 20), rg.randn(2, 3, 20))), RuntimeError, r"Expected hidden\[1\] size \(1, 3, 20\), got \[2, 3, 20\]"),
        (lambda: LSTM(10, 20)(rg.randn(5, 3, 10), (rg.randn(1, 3, 20), rg.randn(1, 20))), RuntimeError, r"For batched 3-D input, hx and cx should also be 3-D but got \(3-D, 2-D\) tensors"),
        (lambda: LSTM(10, 20)(rg.randn(5, 3, 10), rg.randn(1, 3, 20)), TypeError, r"LSTM: expected hx to be a tuple \(h_0, c_0\) of two Tensors, got a single Tensor of shape \[1, 3, 20\]"),
        (lambda: RNN(10, 20)(rg.randn(5, 3, 10, dtype=rg.float64)), ValueError, r"RNN input dtype \(retrograd.float64\) does not match weight dtype \(retrograd.float32\)"),
        (lambda: RNN(10, 20)(rg.randn(0, 3, 10)), RuntimeError, "Expected sequence length to be larger than 0 in RNN"),
        (lambda: RNN(10, 20, nonlinearity="sigmoid"), ValueError, "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'."),
        (lambda: GRU(10, 20, proj_size=3), ValueError, "proj_size argument is only supported for LSTM, not RNN or GRU"),
        (lambda: LSTM(10, 20, proj_size=20), ValueError, "proj_size has to be smaller than hidden_size"),
        (lambda: LSTM(10, 20, dropout=1.5), ValueError, r"dropout should be a number in range \[0, 1\]"),
        (lambda: GRU(10, 0), ValueError, "hidden_size must be greater than zero"),
        (lambda: RNN(10, 20, num_layers=0), ValueError, "num_layers must be greater than zero"),
        (lambda: LSTM(10.0, 20), TypeError, "input_size should be of type int, got: float"),
        (lambda: LSTMCell(10, 20)(rg.randn(3, 7)), RuntimeError, "input has inconsistent input_size: got 7 expected 10"),
        (lambda: GRUCell(10, 20)(rg.randn(3, 10), rg.randn(3, 21)), RuntimeError, "hidden0 has inconsistent hidden_size: got 21, expected 20"),
        (lambda: RNNCell(10, 20)(rg.randn(3, 10), rg.randn(2, 20)), RuntimeError, "Input batch size 3 doesn't match hidden0 batch size 2"),
        (lambda: LSTMCell(10, 20)(rg.randn(3, 4, 10)), ValueError, "LSTMCell: Expected input to be 1D or 2D, got 3D instead"),
        (lambda: RNNCell(10, 20)(rg.randn(10), rg.randn(2, 20)), ValueError, "RNNCell: Expected hidden to be 1D for 1D input, got 2D instead"),
        (lambda: RNNCell(10, 20, nonlinearity="sigmoid")(rg.randn(3, 10)), RuntimeError, "Unknown nonlinearity: sigmoid"),
    ],
)  # fmt: skip
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        LSTM(10, 20, dropout=0.5)
