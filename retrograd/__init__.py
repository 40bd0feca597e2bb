"""retrograd: a deep-learning library built on its own backpropagation engine over NumPy.

PyTorch's names and semantics (``Tensor``, ``autograd``, ``nn``, ``optim``,
``utils.data``), plus tools that make backpropagation visible.
"""

# _allocator first: it tunes malloc on import, before any large array exists.
from . import _allocator, autograd, data, diagnose, dtypes, io, nn, ops, optim, train, utils
from .autograd.anomaly import detect_anomaly, set_detect_anomaly
from .autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    bool,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .io import load, save
from .ops.conv import avg_pool1d, conv1d, conv2d, conv_transpose1d, conv_transpose2d, max_pool1d, max_pool2d
from .ops.elementwise import *
from .ops.indexing import *
from .ops.linalg import *
from .ops.pointwise import *
from .ops.reduction import *
from .ops.shape import *
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import Size, Tensor, is_tensor
from .threads import get_num_threads, set_num_threads

__version__ = "0.1.0"


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def numel(input: Tensor) -> int:
    return input.numel()
