"""Ready-made classifiers with small, sensible defaults: the models that
``retrograd train --model ...`` builds.

Every builder takes the shape of one input sample (without the batch
dimension) and the number of classes, and returns an ``nn.Module`` mapping a
batch of such samples to class scores (logits, for ``nn.CrossEntropyLoss``):

* ``mlp``: flattens any sample and runs it through fully connected ReLU layers;
* ``cnn``: convolution + max-pooling blocks, then a fully connected head; for
  images ``(C, H, W)`` (2-D convolutions) and 1-D signals ``(L,)`` (1-D ones);
* ``lstm``: reads a sample as a sequence (an image row by row, a signal value
  by value) and classifies from the last hidden state;
* ``transformer``: the same sequence as tokens, a learned position embedding,
  a stack of ``TransformerEncoderLayer``s and mean pooling over the tokens.

``build_model(name, input_shape, num_classes, **options)`` picks a builder by
name; ``MODELS`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import nn
from .creation import zeros
from .tensor import Tensor

__all__ = [
    "MODELS",
    "build_model",
    "mlp",
    "cnn",
    "lstm",
    "transformer",
    "SequenceView",
    "LSTMClassifier",
    "TransformerClassifier",
]


def _check_shape(input_shape: Sequence[int], caller: str) -> tuple[int, ...]:
    shape = tuple(input_shape)
    if not shape or not all(isinstance(size, int) and size > 0 for size in shape):
        raise ValueError(f"{caller}: input_shape must be a non-empty tuple of positive ints, got {input_shape!r}")
    return shape


def _check_classes(num_classes: int, caller: str) -> None:
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"{caller}: num_classes must be an integer >= 2, got {num_classes!r}")


def _product(shape: Sequence[int]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def mlp(
    input_shape: Sequence[int], num_classes: int, hidden: Sequence[int] = (256, 128), dropout: float = 0.0
) -> nn.Sequential:
    """``Flatten -> [Linear -> ReLU (-> Dropout)] per hidden size -> Linear``.

    With the defaults on 28x28 images this is the classic 784-256-128-10 network."""
    shape = _check_shape(input_shape, "mlp")
    _check_classes(num_classes, "mlp")
    if not 0 <= dropout < 1:
        raise ValueError(f"mlp: dropout must be in [0, 1), got {dropout}")
    layers: list[nn.Module] = [nn.Flatten()]
    width = _product(shape)
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def cnn(
    input_shape: Sequence[int], num_classes: int, channels: Sequence[int] = (16, 32), hidden: int = 128
) -> nn.Sequential:
    """``[Conv(3, padding 1) -> ReLU -> MaxPool(2)] per entry of channels ->
    Flatten -> Linear(hidden) -> ReLU -> Linear``.

    ``input_shape`` is ``(C, H, W)`` for images (2-D convolutions) or ``(L,)``
    for 1-D signals, which get one channel (1-D convolutions). Each block
    halves the spatial size, which must stay at least 1."""
    shape = _check_shape(input_shape, "cnn")
    _check_classes(num_classes, "cnn")
    if len(shape) == 3:
        in_channels, *spatial = shape
        conv, pool = nn.Conv2d, nn.MaxPool2d
        layers: list[nn.Module] = []
    elif len(shape) == 1:
        in_channels, spatial = 1, [shape[0]]
        conv, pool = nn.Conv1d, nn.MaxPool1d
        layers = [nn.Unflatten(1, (1, shape[0]))]
    else:
        raise ValueError(f"cnn: expects images (C, H, W) or 1-D signals (L,), got samples of shape {shape}")
    smallest_needed = 2 ** len(channels)
    if min(spatial) < smallest_needed:
        raise ValueError(
            f"cnn: {len(channels)} pooling blocks need inputs of at least {smallest_needed} per spatial "
            f"dimension, got samples of shape {shape}"
        )
    for out_channels in channels:
        layers += [conv(in_channels, out_channels, 3, padding=1), nn.ReLU(), pool(2)]
        in_channels = out_channels
        spatial = [size // 2 for size in spatial]
    layers += [
        nn.Flatten(),
        nn.Linear(in_channels * _product(spatial), hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    ]
    return nn.Sequential(*layers)


def _sequence_layout(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(steps, features)`` of a sample read as a sequence: an image ``(C, H, W)``
    row by row (``H`` steps of ``C * W`` values), a vector ``(L,)`` value by
    value, a matrix ``(T, F)`` as it is."""
    if len(shape) == 1:
        return shape[0], 1
    if len(shape) == 2:
        return shape
    if len(shape) == 3:
        channels, height, width = shape
        return height, channels * width
    raise ValueError(f"expects vectors (L,), sequences (T, F) or images (C, H, W), got samples of shape {shape}")


class SequenceView(nn.Module):
    """Reshape a batch of samples into ``(N, steps, features)`` sequences (see ``_sequence_layout``)."""

    def __init__(self, input_shape: Sequence[int]) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.steps, self.features = _sequence_layout(self.input_shape)

    def forward(self, input: Tensor) -> Tensor:
        if len(self.input_shape) == 3:
            # (N, C, H, W) -> (N, H, C, W): one time step per image row, holding every channel of it.
            input = input.permute(0, 2, 1, 3)
        return input.reshape(input.shape[0], self.steps, self.features)

    def extra_repr(self) -> str:
        return f"{self.input_shape} -> (steps={self.steps}, features={self.features})"


class LSTMClassifier(nn.Module):
    """An LSTM over the sample read as a sequence; a linear layer on the last
    layer's final hidden state gives the class scores."""

    def __init__(self, input_shape: Sequence[int], num_classes: int, hidden_size: int = 128, num_layers: int = 1):
        super().__init__()
        self.sequence = SequenceView(input_shape)
        self.lstm = nn.LSTM(self.sequence.features, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, input: Tensor) -> Tensor:
        _, (hidden, _) = self.lstm(self.sequence(input))
        return self.head(hidden[-1])


class TransformerClassifier(nn.Module):
    """Tokens from the sample read as a sequence, embedded linearly, plus a
    learned position embedding; ``num_layers`` encoder layers (pre-norm); the
    mean over tokens, normalised, goes to a linear head."""

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        d_model: int = 64,
        nhead: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 128,
        dropout: float = 0.1,
    ):
        super().__init__()
        if d_model % nhead:
            raise ValueError(f"transformer: d_model ({d_model}) must be divisible by nhead ({nhead})")
        self.sequence = SequenceView(input_shape)
        self.embed = nn.Linear(self.sequence.features, d_model)
        self.position = nn.Parameter(zeros(1, self.sequence.steps, d_model))
        nn.init.normal_(self.position, std=0.02)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, input: Tensor) -> Tensor:
        tokens = self.embed(self.sequence(input)) + self.position
        encoded = self.encoder(tokens)
        return self.head(self.norm(encoded.mean(dim=1)))


def lstm(input_shape: Sequence[int], num_classes: int, hidden_size: int = 128, num_layers: int = 1) -> LSTMClassifier:
    """An ``LSTMClassifier`` (hidden size 128, one layer by default)."""
    shape = _check_shape(input_shape, "lstm")
    _check_classes(num_classes, "lstm")
    try:
        return LSTMClassifier(shape, num_classes, hidden_size, num_layers)
    except ValueError as error:
        raise ValueError(f"lstm: {error}") from None


def transformer(
    input_shape: Sequence[int],
    num_classes: int,
    d_model: int = 64,
    nhead: int = 4,
    num_layers: int = 2,
    dim_feedforward: int = 128,
    dropout: float = 0.1,
) -> TransformerClassifier:
    """A ``TransformerClassifier`` (2 layers of width 64 with 4 heads by default)."""
    shape = _check_shape(input_shape, "transformer")
    _check_classes(num_classes, "transformer")
    try:
        return TransformerClassifier(shape, num_classes, d_model, nhead, num_layers, dim_feedforward, dropout)
    except ValueError as error:
        message = str(error)
        raise ValueError(message if message.startswith("transformer:") else f"transformer: {message}") from None


MODELS: dict[str, Callable[..., nn.Module]] = {"mlp": mlp, "cnn": cnn, "lstm": lstm, "transformer": transformer}


def build_model(name: str, input_shape: Sequence[int], num_classes: int, **options) -> nn.Module:
    """The model called ``name`` (a key of ``MODELS``) for samples of
    ``input_shape`` and ``num_classes`` classes; ``options`` go to its builder."""
    if name not in MODELS:
        raise ValueError(f"build_model: unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name](input_shape, num_classes, **options)
