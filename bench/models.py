"""The five training workloads of the side-by-side benchmarks, written once for
both frameworks.

Every model is built from ``lib.nn`` (``lib`` is ``retrograd`` or ``torch``)
with the same layer classes, sizes and PyTorch's default initialisation; the
retrograd copy then loads the PyTorch copy's weights, so both start from the
very same numbers (their ``state_dict`` keys and shapes are equal by design).
Data are fixed-shape random float32 inputs and integer class targets made with
NumPy from one seed and handed to each framework.

| name        | model                                                        | batch |
|-------------|--------------------------------------------------------------|-------|
| mlp         | 784-512-256-10, ReLU                                         | 128   |
| cnn         | conv 1->32 3x3 pad 1, ReLU, maxpool 2, conv 32->64 3x3 pad 1, |       |
|             | ReLU, maxpool 2, linear 3136->128, ReLU, linear 128->10      | 64    |
| lstm        | LSTM(28->128) over 28 steps, last hidden -> linear 10         | 64    |
| transformer | causal char-LM: vocab 65, embedding 128 + learned positions, |       |
|             | 2 pre-norm blocks (4 heads, GELU MLP 4x), LayerNorm, head;   |       |
|             | sequence 64                                                  | 32    |
| tiny        | 2-16-16-2 tanh MLP                                           | 1     |

One training step (``Workload.step``) is forward, cross-entropy loss,
backward and an ``Adam(lr=1e-3)`` step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

WORKLOADS = ("mlp", "cnn", "lstm", "transformer", "tiny")

VOCAB = 65
CONTEXT = 64
EMBED = 128
HEADS = 4


def _nn(lib):
    """``lib.nn``, for retrograd completed with the layer classes of its
    activation, loss and recurrent files when the package namespace does not
    export them yet."""
    if lib.__name__ == "torch":
        return lib.nn
    import retrograd.nn as rg_nn
    from retrograd.nn.modules import activation, loss, rnn

    names = {name: getattr(rg_nn, name) for name in dir(rg_nn) if not name.startswith("_")}
    for module in (activation, loss, rnn):
        for name in module.__all__:
            names.setdefault(name, getattr(module, name))
    return SimpleNamespace(**names)


# ------------------------------------------------------------------ models


def mlp_model(nn, sizes=(784, 512, 256, 10), activation: str = "ReLU"):
    """Linear layers of ``sizes`` with ``activation`` between them (none after the last)."""
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), getattr(nn, activation)()]
    return nn.Sequential(*layers[:-1])


def cnn_model(nn):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def lstm_model(nn):
    class LSTMClassifier(nn.Module):
        """Read a 28x28 image row by row; classify from the last hidden state."""

        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(28, 128, batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            _, (hidden, _) = self.lstm(x)
            return self.head(hidden[-1])

    return LSTMClassifier()


def transformer_model(nn, lib):
    class CharTransformer(nn.Module):
        """A decoder-only character language model (GPT-style, pre-norm blocks)."""

        def __init__(self) -> None:
            super().__init__()
            self.token_embedding = nn.Embedding(VOCAB, EMBED)
            self.position_embedding = nn.Embedding(CONTEXT, EMBED)
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(
                    EMBED,
                    HEADS,
                    dim_feedforward=4 * EMBED,
                    dropout=0.0,
                    activation="gelu",
                    batch_first=True,
                    norm_first=True,
                )
                for _ in range(2)
            )
            self.norm = nn.LayerNorm(EMBED)
            self.head = nn.Linear(EMBED, VOCAB)
            # 0 on and below the diagonal, -inf above: position i sees 0..i.
            self.causal_mask = lib.triu(lib.full((CONTEXT, CONTEXT), float("-inf")), diagonal=1)
            self.positions = lib.arange(CONTEXT)

        def forward(self, tokens):
            length = tokens.shape[1]
            x = self.token_embedding(tokens) + self.position_embedding(self.positions[:length])
            mask = self.causal_mask[:length, :length]
            for block in self.blocks:
                x = block(x, src_mask=mask, is_causal=True)
            return self.head(self.norm(x))

    return CharTransformer()


# ------------------------------------------------------------------ data


def _data(name: str, batch: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Inputs, integer targets and the number of samples per step."""
    rng = np.random.default_rng(seed)
    if name == "mlp":
        batch = batch or 128
        return rng.standard_normal((batch, 784), dtype=np.float32), rng.integers(0, 10, batch), batch
    if name == "cnn":
        batch = batch or 64
        return rng.standard_normal((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch), batch
    if name == "lstm":
        batch = batch or 64
        return rng.standard_normal((batch, 28, 28), dtype=np.float32), rng.integers(0, 10, batch), batch
    if name == "transformer":
        batch = batch or 32
        tokens = rng.integers(0, VOCAB, (batch, CONTEXT + 1))
        return tokens[:, :-1], tokens[:, 1:], batch
    if name == "tiny":
        batch = batch or 1
        return rng.standard_normal((batch, 2), dtype=np.float32), rng.integers(0, 2, batch), batch
    raise ValueError(f"unknown workload {name!r}; expected one of {', '.join(WORKLOADS)}")


# ------------------------------------------------------------------ one step


@dataclass
class Workload:
    """A model, its optimizer and a fixed batch, ready to train step by step."""

    name: str
    framework: str
    lib: Any  # the retrograd or torch module
    model: Any
    optimizer: Any
    step: Callable[[], None]  # one training step
    loss: Callable[[], float]  # the loss on the batch, without training
    samples: int  # samples per step


def _torch_model(name: str, depth: int | None, hidden: int):
    import torch

    nn = torch.nn
    if name == "mlp":
        sizes = (784, 512, 256, 10) if depth is None else (784, *([hidden] * (depth - 1)), 10)
        return mlp_model(nn, sizes)
    if name == "cnn":
        return cnn_model(nn)
    if name == "lstm":
        return lstm_model(nn)
    if name == "transformer":
        return transformer_model(nn, torch)
    return mlp_model(nn, (2, 16, 16, 2), "Tanh")


def _retrograd_model(name: str, depth: int | None, hidden: int):
    import retrograd as rg

    nn = _nn(rg)
    if name == "mlp":
        sizes = (784, 512, 256, 10) if depth is None else (784, *([hidden] * (depth - 1)), 10)
        return mlp_model(nn, sizes)
    if name == "cnn":
        return cnn_model(nn)
    if name == "lstm":
        return lstm_model(nn)
    if name == "transformer":
        return transformer_model(nn, rg)
    return mlp_model(nn, (2, 16, 16, 2), "Tanh")


def reference_weights(name: str, depth: int | None = None, hidden: int = 256, seed: int = 0) -> dict:
    """The initial weights (as NumPy arrays) both frameworks start from: PyTorch's
    default initialisation of the workload's model under ``seed``."""
    import torch

    torch.manual_seed(seed)
    model = _torch_model(name, depth, hidden)
    return {key: value.detach().numpy().copy() for key, value in model.state_dict().items()}


def build(
    name: str,
    framework: str,
    *,
    batch: int | None = None,
    depth: int | None = None,
    hidden: int = 256,
    weights: dict | None = None,
) -> Workload:
    """The workload ``name`` in ``framework`` ("retrograd" or "pytorch").

    ``batch`` overrides the default batch size; ``depth`` (mlp only) makes the
    MLP 784 -> hidden x (depth - 1) -> 10 with ``depth`` linear layers.
    ``weights`` are the initial weights (``reference_weights``); without them
    each framework initialises its own model (same scheme, other numbers).
    """
    inputs, targets, samples = _data(name, batch)
    if framework == "pytorch":
        import torch

        lib = torch
        model = _torch_model(name, depth, hidden)
        load = {k: torch.from_numpy(v.copy()) for k, v in (weights or {}).items()}
        functional = torch.nn.functional
    elif framework == "retrograd":
        import retrograd as rg

        lib = rg
        model = _retrograd_model(name, depth, hidden)
        load = {k: rg.tensor(v) for k, v in (weights or {}).items()}
        from retrograd.nn import functional
    else:
        raise ValueError(f"unknown framework {framework!r}; expected 'retrograd' or 'pytorch'")
    if load:
        model.load_state_dict(load)
    model.train()

    x = lib.tensor(inputs)
    y = lib.tensor(targets)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)

    def compute_loss():
        logits = model(x)
        return functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    def step() -> None:
        optimizer.zero_grad()
        loss = compute_loss()
        loss.backward()
        optimizer.step()

    def loss_value() -> float:
        return float(compute_loss().item())

    return Workload(name, framework, lib, model, optimizer, step, loss_value, samples)


def training_flops(sizes, batch: int) -> int:
    """Multiply-add FLOPs (2 per multiply-add) of the matrix products of one
    forward + backward of an MLP with layer ``sizes`` on ``batch`` samples:
    forward ``x @ W``, the weight gradient, and the input gradient of every
    layer but the first (the data need no gradient)."""
    layers = [2 * batch * fan_in * fan_out for fan_in, fan_out in itertools.pairwise(sizes)]
    return 2 * sum(layers) + sum(layers[1:])
