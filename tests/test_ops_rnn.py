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


# ------------------------------------------------------ whole-sequence ops

# The sequence ops run one layer direction over a whole sequence as one node.
# PyTorch's reference is its own cell function applied step by step.
SEQUENCE_OPS = {
    "lstm": (rnn_ops.LstmSequence, "lstm_cell", 4, 2, {}),
    "gru": (rnn_ops.GruSequence, "gru_cell", 3, 1, {}),
    "rnn_tanh": (rnn_ops.RnnSequence, "rnn_tanh_cell", 1, 1, {"nonlinearity": "tanh"}),
    "rnn_relu": (rnn_ops.RnnSequence, "rnn_relu_cell", 1, 1, {"nonlinearity": "relu"}),
}


def _sequence_fn(mode: str, reverse: bool):
    """``fn(lib, x, *states, *weights)`` -> output and final states flattened into one tensor."""
    op, cell_name, _, n_states, settings = SEQUENCE_OPS[mode]

    def ours(lib, x, *arguments):
        outputs = op.apply(x, *arguments, reverse=reverse, **settings)
        return lib.cat([t.reshape(-1) for t in outputs])

    def theirs(lib, x, *arguments):
        states, weights = list(arguments[:n_states]), arguments[n_states:]
        cell = getattr(lib, cell_name)
        outputs = [None] * x.shape[0]
        for t in range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0]):
            states = list(cell(x[t], tuple(states), *weights)) if n_states == 2 else [cell(x[t], states[0], *weights)]
            outputs[t] = states[0]
        return lib.cat([lib.stack(outputs).reshape(-1)] + [s.reshape(-1) for s in states])

    return ours, theirs


def _sequence_shapes(mode: str, steps: int, batch: int, inputs: int, hidden: int, bias: bool = True) -> tuple:
    _, _, gates, n_states, _ = SEQUENCE_OPS[mode]
    shapes = [(steps, batch, inputs)] + [(batch, hidden)] * n_states
    shapes += [(gates * hidden, inputs), (gates * hidden, hidden)]
    return tuple(shapes + [(gates * hidden,)] * 2 if bias else shapes)


SEQUENCE_CASES = []
for mode in SEQUENCE_OPS:
    for reverse in (False, True):
        ours_fn, theirs_fn = _sequence_fn(mode, reverse)
        direction = "reverse" if reverse else "forward"
        SEQUENCE_CASES += [
            Case(f"{mode}_sequence_{direction}", ours_fn, _sequence_shapes(mode, 3, 2, 3, 2), torch_fn=theirs_fn),
            Case(
                f"{mode}_sequence_{direction}_no_bias",
                ours_fn,
                _sequence_shapes(mode, 2, 2, 2, 3, bias=False),
                torch_fn=theirs_fn,
            ),
        ]
    ours_fn, theirs_fn = _sequence_fn(mode, False)
    SEQUENCE_CASES += [
        Case(f"{mode}_sequence_size1", ours_fn, _sequence_shapes(mode, 1, 1, 1, 1), torch_fn=theirs_fn),
        Case(f"{mode}_sequence_batch0", ours_fn, _sequence_shapes(mode, 2, 0, 2, 3), torch_fn=theirs_fn),
    ]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(SEQUENCE_CASES))
def test_sequence_ops(case, layout):
    check_case(case, layout=layout)


def _sequence_inputs(mode: str, dtype=np.float64, seed: int = 0, shape=(5, 3, 4, 6)) -> list:
    rng = np.random.default_rng(seed)
    return [
        rg.tensor(rng.uniform(-1.5, 1.5, s).astype(dtype), requires_grad=True) for s in _sequence_shapes(mode, *shape)
    ]


def _sequence_gradients(mode: str, inputs: list, reverse: bool = False, create_graph: bool = False) -> tuple:
    op, _, _, _, settings = SEQUENCE_OPS[mode]
    outputs = op.apply(*inputs, reverse=reverse, **settings)
    rng = np.random.default_rng(1)
    seeds = [rg.tensor(rng.standard_normal(t.shape).astype(t.dtype)) for t in outputs]
    grads = rg.autograd.grad(outputs, inputs, seeds, create_graph=create_graph)
    return outputs, grads


@pytest.mark.parametrize("mode", SEQUENCE_OPS)
@pytest.mark.parametrize("reverse", [False, True])
def test_sequence_recorded_backward_equals_numpy_backward(mode, reverse):
    """create_graph=True differentiates the recomputed per-step graph,
    otherwise the NumPy recurrence runs: the same gradients."""
    inputs = _sequence_inputs(mode)
    _, plain = _sequence_gradients(mode, inputs, reverse)
    _, recorded = _sequence_gradients(mode, inputs, reverse, create_graph=True)
    assert all(g.requires_grad for g in recorded)
    for a, b in zip(plain, recorded, strict=True):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_sequence_compiled_and_numpy_paths_agree(reverse, monkeypatch):
    """A float32 LSTM takes the compiled step loops where Numba is available;
    they must give the NumPy path's values and gradients to float32 rounding."""
    mode = "lstm"
    inputs = _sequence_inputs(mode, dtype=np.float32, shape=(6, 5, 4, 8))
    results = {}
    for compiled in (False, True):
        monkeypatch.setattr(rg._jit, "enabled", compiled)
        outputs, grads = _sequence_gradients(mode, inputs, reverse)
        results[compiled] = [t.detach().numpy() for t in (*outputs, *grads)]
    for numpy_path, compiled_path in zip(results[False], results[True], strict=True):
        assert compiled_path.dtype == np.float32
        np.testing.assert_allclose(compiled_path, numpy_path, rtol=1e-5, atol=1e-6)


def test_lstm_sequence_kernels_compile_when_numba_is_available():
    if not rg._jit.numba_available():
        pytest.skip("Numba is not installed")
    assert rnn_ops._lstm_forward_kernel.compiled() is not None
    assert rnn_ops._lstm_backward_kernel.compiled() is not None


@pytest.mark.parametrize("create_graph", [False, True])
def test_sequence_with_one_tensor_as_both_states(create_graph):
    """``(h, h)`` as the initial LSTM state: the gradient of both uses adds up."""
    x, h, _, *weights = _sequence_inputs("lstm")
    output, _, c_n = rnn_ops.LstmSequence.apply(x, h, h, *weights)
    (grad,) = rg.autograd.grad((output.sum() + c_n.sum(),), (h,), create_graph=create_graph)
    c = rg.tensor(h.detach().numpy(), requires_grad=True)
    output, _, c_n = rnn_ops.LstmSequence.apply(x, h, c, *weights)
    grad_h, grad_c = rg.autograd.grad((output.sum() + c_n.sum(),), (h, c))
    np.testing.assert_allclose(grad.detach().numpy(), (grad_h + grad_c).numpy(), rtol=1e-12, atol=1e-13)


def test_sequence_is_one_node_and_no_graph_without_grad():
    inputs = _sequence_inputs("gru")
    output, h_n = rnn_ops.GruSequence.apply(*inputs)
    assert output.grad_fn is h_n.grad_fn and output.grad_fn.name() == "GruSequenceBackward0"
    with rg.no_grad():
        output, h_n = rnn_ops.GruSequence.apply(*inputs)
    assert output.grad_fn is None and not h_n.requires_grad


def test_sequence_detects_inplace_change_and_second_backward():
    x, h, c, *weights = _sequence_inputs("lstm")
    output, _, _ = rnn_ops.LstmSequence.apply(x, h, c, *weights)
    with rg.no_grad():
        weights[1].mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        output.sum().backward()
    output, _, _ = rnn_ops.LstmSequence.apply(x, h, c, *weights)
    loss = output.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_sequence_with_saturated_gates_stays_finite_in_float32():
    x, h, c, *weights = _sequence_inputs("lstm", dtype=np.float32)
    x = rg.tensor(x.detach().numpy() * 1e4)  # saturates every gate
    with rg.detect_anomaly():
        output, _, c_n = rnn_ops.LstmSequence.apply(x, h, c, *weights)
        (output.sum() + c_n.sum()).backward()
    assert output.dtype == rg.float32 and weights[0].grad.dtype == rg.float32
    assert np.isfinite(weights[0].grad.numpy()).all() and np.isfinite(output.detach().numpy()).all()


@pytest.mark.parametrize("mode", SEQUENCE_OPS)
def test_reused_workspace_buffers_never_leak_into_live_results(mode):
    """Buffers go back to the workspace after backward and are reused by the
    next call: outputs and graphs still alive must not see that."""
    op, _, _, _, settings = SEQUENCE_OPS[mode]
    first, second = _sequence_inputs(mode, seed=0), _sequence_inputs(mode, seed=1)
    expected = _sequence_gradients(mode, second)[1]
    kept = op.apply(*first, **settings)  # outputs must survive the reuse of their node's buffers
    kept_values = [t.detach().numpy().copy() for t in kept]
    sum(t.sum() for t in kept).backward()  # hands its buffers back
    pending = op.apply(*second, **settings)  # reuses them; a graph whose backward runs last
    for _ in range(2):
        sum(t.sum() for t in op.apply(*second, **settings)).backward()  # frees, then reuses buffers
    rng = np.random.default_rng(1)
    seeds = [rg.tensor(rng.standard_normal(t.shape)) for t in pending]
    grads = rg.autograd.grad(pending, second, seeds)
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    for t, values in zip(kept, kept_values, strict=True):
        np.testing.assert_array_equal(t.detach().numpy(), values)
