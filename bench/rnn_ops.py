"""Recurrent layers forward + backward, retrograd against PyTorch: a row-by-row
MNIST-style layer (28 inputs -> 128 hidden) over 28 time steps with a batch
of 64.

Three contestants take turns in chunks of a quarter second in this one
process (the machine's load then affects them alike): retrograd's layer
(one whole-sequence op per layer direction), the same layer computed with
one fused cell op per time step (the per-step path, kept for an LSTM with a
projection and for the recorded backward), and PyTorch.

Run: ``.venv/bin/python bench/rnn_ops.py [--mode lstm|gru|rnn] [--seconds S]
[--dtype float32|float64] [--threads N]``. Prints the median (and fastest)
milliseconds per forward+backward step of each, and PyTorch's time over
each retrograd time (above 1: retrograd is faster), with the thread counts.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import retrograd as rg
from retrograd.nn.modules.rnn import GRU, LSTM, RNN
from retrograd.ops import linalg
from retrograd.ops import rnn as rnn_ops
from retrograd.ops.shape import stack, unbind

SEQUENCE, BATCH, INPUT, HIDDEN = 28, 64, 28, 128
CHUNK_SECONDS = 0.25
LAYERS = {"lstm": (LSTM, torch.nn.LSTM), "gru": (GRU, torch.nn.GRU), "rnn": (RNN, torch.nn.RNN)}


def per_step_forward(layer, x):
    """``layer(x)`` for one unidirectional layer, one fused cell op per step."""
    w_ih, w_hh, b_ih, b_hh = layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0
    h = rg.zeros(BATCH, HIDDEN, dtype=x.dtype)
    c = h
    if isinstance(layer, GRU):
        steps = unbind(linalg.linear(x, w_ih, b_ih), 0)
    else:
        steps = unbind(linalg.linear(x, w_ih, b_ih + b_hh), 0)
    outputs = []
    for step in steps:
        if isinstance(layer, LSTM):
            h, c = rnn_ops.FusedLstmCell.apply(step, h, c, w_hh)
        elif isinstance(layer, GRU):
            h = rnn_ops.FusedGruCell.apply(step, h, w_hh, b_hh)
        else:
            h = rnn_ops.FusedRnnCell.apply(step, h, w_hh, nonlinearity="tanh")
        outputs.append(h)
    return stack(outputs, 0), h


def make_steps(mode: str, dtype: str) -> dict:
    """Forward+backward steps of each contestant, same weights and data."""
    ours_cls, theirs_cls = LAYERS[mode]
    theirs_model = theirs_cls(INPUT, HIDDEN).to(getattr(torch, dtype))
    ours_model = ours_cls(INPUT, HIDDEN, dtype=getattr(rg, dtype))
    ours_model.load_state_dict({k: rg.tensor(v.numpy().copy()) for k, v in theirs_model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((SEQUENCE, BATCH, INPUT)).astype(dtype)
    ours_x, theirs_x = rg.tensor(x), torch.tensor(x)

    def sequence():
        ours_model.zero_grad()
        output, state = ours_model(ours_x)
        h_n = state[0] if isinstance(state, tuple) else state
        (output.sum() + h_n.sum()).backward()

    def per_step():
        ours_model.zero_grad()
        output, h_n = per_step_forward(ours_model, ours_x)
        (output.sum() + h_n.sum()).backward()

    def pytorch():
        theirs_model.zero_grad()
        output, state = theirs_model(theirs_x)
        h_n = state[0] if isinstance(state, tuple) else state
        (output.sum() + h_n.sum()).backward()

    return {"retrograd": sequence, "retrograd per-step": per_step, "pytorch": pytorch}


def alternate(steps: dict, seconds: float) -> dict[str, list[float]]:
    """Per-step seconds of each entry, the entries taking turns in chunks."""
    for step in steps.values():  # warm-up (and compiling the kernels)
        step()
        step()
    times: dict[str, list[float]] = {label: [] for label in steps}
    while min(sum(t) for t in times.values()) < seconds:
        for label, step in steps.items():
            deadline = time.perf_counter() + CHUNK_SECONDS
            while True:
                start = time.perf_counter()
                step()
                times[label].append(time.perf_counter() - start)
                if time.perf_counter() > deadline:
                    break
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=sorted(LAYERS), default="lstm")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per contestant")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: theirs)")
    args = parser.parse_args()
    if args.threads is not None:
        rg.set_num_threads(args.threads)
        torch.set_num_threads(args.threads)
    print(f"threads: retrograd (BLAS) {rg.get_num_threads()}, torch {torch.get_num_threads()}; dtype {args.dtype}")
    print(f"{args.mode.upper()}({INPUT} -> {HIDDEN}), {SEQUENCE} steps, batch {BATCH}: forward + backward")
    times = alternate(make_steps(args.mode, args.dtype), args.seconds)
    theirs = statistics.median(times["pytorch"])
    print(f"{'':<20}{'median ms':>11}{'fastest ms':>12}{'torch / this':>14}")
    for label, samples in times.items():
        median = statistics.median(samples)
        print(f"{label:<20}{median * 1e3:>11.2f}{min(samples) * 1e3:>12.2f}{theirs / median:>14.2f}")


if __name__ == "__main__":
    main()
