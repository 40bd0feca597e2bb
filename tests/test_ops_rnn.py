"""Fused recurrent cell ops: gradcheck, gradgradcheck and PyTorch comparison of
``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell`` and ``rnn_relu_cell``, the step
ops with the shapes the layers use (an LSTM step with a projection), the
agreement of the NumPy backward with the recorded (create_graph) one, and
argument errors."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops import rnn as rnn_ops

from oracle import Case, assert_close, check_case, parametrize_cases, torch


def _cells(lib):
    """Where the cell functions live: ``retrograd.ops.rnn`` or ``torch``."""
    return rnn_ops if lib is rg else lib


def _shapes(gates: int, batch: int, inputs: int, hidden: int, states: int = 1, bias: bool = True) -> tuple:
    shapes = [(batch, inputs)] + [(batch, hidden)] * states + [(gates * hidden, inputs), (gates * hidden, hidden)]
    return tuple(shapes + [(gates * hidden,)] * 2 if bias else shapes)


def _lstm(lib, x, h, c, *weights):
    # Both outputs in one tensor, so the harness sees a single output.
    return lib.stack(_cells(lib).lstm_cell(x, (h, c), *weights))


def _single_state(name):
    return lambda lib, x, h, *weights: getattr(_cells(lib), name)(x, h, *weights)


CELLS = [("lstm_cell", 4, 2, _lstm), ("gru_cell", 3, 1, _single_state("gru_cell"))]
CELLS += [(name, 1, 1, _single_state(name)) for name in ("rnn_tanh_cell", "rnn_relu_cell")]

CASES = []
for name, gates, states, fn in CELLS:
    CASES += [
        Case(f"{name}", fn, shapes=_shapes(gates, 2, 3, 4, states)),
        Case(f"{name}_no_bias", fn, shapes=_shapes(gates, 2, 3, 4, states, bias=False)),
        Case(f"{name}_size1", fn, shapes=_shapes(gates, 1, 1, 1, states)),
        Case(f"{name}_batch0", fn, shapes=_shapes(gates, 0, 2, 3, states)),
    ]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_cell_ops(case, layout):
    check_case(case, layout=layout)


def _torch_lstm_step(lib, input_gates, h, c, w_hh):
    hidden = c.shape[1]
    gates = input_gates + h @ w_hh.T
    i, f, o = (gates[:, k * hidden : (k + 1) * hidden].sigmoid() for k in (0, 1, 3))
    g = gates[:, 2 * hidden : 3 * hidden].tanh()
    c_next = f * c + i * g
    return lib.stack([o * c_next.tanh(), c_next])


def _torch_gru_step(lib, input_gates, h, w_hh, b_hh):
    hidden = h.shape[1]
    projection = h @ w_hh.T + b_hh
    r = (input_gates[:, :hidden] + projection[:, :hidden]).sigmoid()
    z = (input_gates[:, hidden : 2 * hidden] + projection[:, hidden : 2 * hidden]).sigmoid()
    n = (input_gates[:, 2 * hidden :] + r * projection[:, 2 * hidden :]).tanh()
    return (1 - z) * n + z * h


# The step ops as the layers call them: the input projection comes in precomputed.
STEP_CASES = [
    # An LSTM with proj_size: h has P = 2 columns, w_hh is (4H, P) with H = 4.
    Case(
        "lstm_step_projected",
        lambda lib, ig, h, c, w: lib.stack(rnn_ops.FusedLstmCell.apply(ig, h, c, w)),
        shapes=((3, 16), (3, 2), (3, 4), (16, 2)),
        torch_fn=_torch_lstm_step,
    ),
    Case(
        "gru_step",
        lambda lib, ig, h, w, b: rnn_ops.FusedGruCell.apply(ig, h, w, b),
        shapes=((2, 6), (2, 2), (6, 2), (6,)),
        torch_fn=_torch_gru_step,
    ),
    Case(
        "rnn_relu_step",
        lambda lib, ig, h, w: rnn_ops.FusedRnnCell.apply(ig, h, w, nonlinearity="relu"),
        shapes=((3, 4), (3, 4), (4, 4)),
        torch_fn=lambda lib, ig, h, w: (ig + h @ w.T).relu(),
    ),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(STEP_CASES))
def test_step_ops(case, layout):
    check_case(case, layout=layout)


# ------------------------------------------------ the two backward paths agree


def _cell_inputs(gates: int, states: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rg.tensor(rng.uniform(-1.5, 1.5, s), requires_grad=True) for s in _shapes(gates, 3, 4, 5, states)]


@pytest.mark.parametrize(("name", "gates", "states", "fn"), CELLS, ids=[c[0] for c in CELLS])
def test_recorded_backward_equals_numpy_backward(name, gates, states, fn):
    """create_graph=True runs the formulas on Tensors (recomputed activations),
    otherwise on the saved arrays: both must give the same gradients."""
    inputs = _cell_inputs(gates, states)
    out = fn(rg, *inputs)
    seed = rg.tensor(np.random.default_rng(1).standard_normal(out.shape))
    plain = rg.autograd.grad(out, inputs, seed, retain_graph=True)
    recorded = rg.autograd.grad(out, inputs, seed, create_graph=True)
    assert any(b.requires_grad for b in recorded)  # the recorded gradients are differentiable
    for a, b in zip(plain, recorded, strict=True):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-13, atol=1e-14)


def test_lstm_cell_gradient_when_only_one_output_is_used():
    inputs = _cell_inputs(4, 2)
    x, h, c, *weights = inputs
    for used in (0, 1):
        out = rnn_ops.lstm_cell(x, (h, c), *weights)[used]
        grads = rg.autograd.grad(out.sum(), inputs)
        if torch is not None:
            theirs = [torch.tensor(t.detach().numpy(), requires_grad=True) for t in inputs]
            torch.lstm_cell(theirs[0], (theirs[1], theirs[2]), *theirs[3:])[used].sum().backward()
            for ours, expected in zip(grads, theirs, strict=True):
                assert_close(ours, expected.grad, f"lstm_cell output {used} only")


def test_second_backward_without_retain_graph_raises():
    x, h, *weights = _cell_inputs(3, 1)
    out = rnn_ops.gru_cell(x, h, *weights).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()


def test_inplace_change_of_a_saved_input_is_detected():
    x, h, c, *weights = _cell_inputs(4, 2)
    h_next, _ = rnn_ops.lstm_cell(x, (h, c), *weights)
    with rg.no_grad():
        weights[1].mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h_next.sum().backward()


def test_no_graph_without_requires_grad():
    x, h, *weights = (t.detach() for t in _cell_inputs(1, 1))
    out = rnn_ops.rnn_tanh_cell(x, h, *weights)
    assert out.grad_fn is None and not out.requires_grad
    with rg.no_grad():
        h_next, c_next = rnn_ops.lstm_cell(*_split_lstm(_cell_inputs(4, 2)))
    assert h_next.grad_fn is None and c_next.grad_fn is None


def _split_lstm(inputs):
    x, h, c, *weights = inputs
    return (x, (h, c), *weights)


def test_float32_stays_float32_and_extreme_gates_stay_finite():
    rng = np.random.default_rng(0)
    x = rg.tensor(rng.standard_normal((2, 3)).astype(np.float32) * 1e4)  # saturates every gate
    h, c = rg.zeros(2, 4), rg.zeros(2, 4)
    w_ih = rg.tensor(rng.standard_normal((16, 3)).astype(np.float32), requires_grad=True)
    w_hh = rg.tensor(rng.standard_normal((16, 4)).astype(np.float32), requires_grad=True)
    with rg.detect_anomaly():
        h_next, c_next = rnn_ops.lstm_cell(x, (h, c), w_ih, w_hh)
        (h_next.sum() + c_next.sum()).backward()
    assert h_next.dtype == rg.float32 and w_ih.grad.dtype == rg.float32
    assert np.isfinite(w_ih.grad.numpy()).all() and np.isfinite(h_next.detach().numpy()).all()


# ----------------------------------------------------------------------- errors


def _lstm_arguments():
    return [rg.randn(3, 10), (rg.randn(3, 20), rg.randn(3, 20)), rg.randn(80, 10), rg.randn(80, 20)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({0: rg.randn(3, 7)}, "input has inconsistent input_size: got 7 expected 10"),
        ({1: (rg.randn(4, 20), rg.randn(3, 20))}, "Input batch size 3 doesn't match hidden0 batch size 4"),
        ({1: (rg.randn(3, 21), rg.randn(3, 20))}, "hidden0 has inconsistent hidden_size: got 21, expected 20"),
        ({1: (rg.randn(3, 20), rg.randn(3, 21))}, "hidden1 has inconsistent hidden_size: got 21, expected 20"),
        ({0: rg.randn(10)}, r"lstm_cell: expected input of shape \(batch, input_size\), got shape \[10\]"),
        ({3: rg.randn(60, 20)}, r"lstm_cell: expected weight_ih of shape \(4\*hidden_size, input_size\)"),
        ({0: rg.randn(3, 10, dtype=rg.float64)}, "lstm_cell: expected all tensors to have the same floating dtype"),
    ],
)
def test_lstm_cell_errors(change, message):
    arguments = _lstm_arguments()
    for position, value in change.items():
        arguments[position] = value
    with pytest.raises(RuntimeError, match=message):
        rnn_ops.lstm_cell(*arguments)


def test_cell_errors_name_the_problem():
    with pytest.raises(TypeError, match=r"lstm_cell: hx must be a pair \(h, c\)"):
        rnn_ops.lstm_cell(rg.randn(3, 10), rg.randn(3, 20), rg.randn(80, 10), rg.randn(80, 20))
    with pytest.raises(RuntimeError, match=r"gru_cell: expected bias_hh of shape \[60\], got \[20\]"):
        rnn_ops.gru_cell(rg.randn(3, 10), rg.randn(3, 20), rg.randn(60, 10), rg.randn(60, 20), None, rg.randn(20))
    with pytest.raises(TypeError, match="rnn_tanh_cell: hx must be a Tensor, got list"):
        rnn_ops.rnn_tanh_cell(rg.randn(3, 10), [0.0], rg.randn(20, 10), rg.randn(20, 20))


def test_inplace_change_of_an_output_the_backward_needs_is_detected():
    x, h, *weights = _cell_inputs(1, 1)
    out = rnn_ops.rnn_tanh_cell(x, h, *weights)
    out.mul_(2.0)  # a recorded in-place op: the Elman step saved its output for backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
