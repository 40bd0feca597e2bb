"""Attention: ``scaled_dot_product_attention`` and the functional form of
multi-head attention (``multi_head_attention_forward``), with PyTorch's
arguments and semantics.

Both reduce to the same core over tensors laid out ``(batch..., heads, L, d)``.
Without dropout and without the weights being returned (training and
inference of the usual models) the core is one node, ``Attention``: the
scores are one batched matmul, the softmax runs in place on them (the
causal mask applied as it goes, never materialised), and the probabilities
are kept for backward, whose gradients come from four batched matmuls and
one elementwise pass. Multi-head self-attention hands it the packed
projection ``(N, L, 3E)`` as it is: the heads are strided views of it, the
output is written straight into the merged ``(N, L, E)`` layout and the
gradient straight into the packed one, so no head is ever copied.

Otherwise (dropout on the weights, or the weights asked for) the core is
a composition: a batched matmul, one node for ``softmax(scale * scores +
bias)``, dropout, and a batched matmul with the values. Every backward is
differentiable, so attention is twice differentiable either way.

Masks follow PyTorch: for ``scaled_dot_product_attention`` a boolean mask says
which positions *take part* (True) and a float mask is added to the scores;
for multi-head attention a boolean ``attn_mask`` / ``key_padding_mask`` says
which positions are *left out* (True).
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from .. import _jit
from ..autograd.function import Op
from ..autograd.grad_mode import GradMode
from .common import Tensor, _wrap
from .elementwise import add
from .linalg import linear, matmul
from .pointwise import dropout
from .shape import cat, pad

__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention"]
TENSOR_METHODS: dict = {}  # PyTorch has no Tensor method form of attention


# ----------------------------------------------------------- the softmax node


class AttentionSoftmax(Op):
    """``softmax(scale * scores + bias)`` over the last dimension, in one node.

    With ``zero_masked_rows`` a row whose every score is -inf (a query that may
    attend to nothing) gives zeros, as PyTorch's ``scaled_dot_product_attention``
    does; without it such a row gives NaN, as a plain softmax (and PyTorch's
    multi-head attention when it returns the weights) does.
    """

    __slots__ = ("scale",)
    save_output = True
    backward_name = "SoftmaxBackward0"

    def forward(self, scores, bias=None, scale=1.0, zero_masked_rows=True):
        self.scale = scale
        logits = scores * scores.dtype.type(scale)
        if bias is not None:
            logits += bias  # callers shape the mask to broadcast against the scores
        peak = np.max(logits, axis=-1, keepdims=True, initial=-np.inf)
        masked_rows = peak == -np.inf
        if zero_masked_rows:
            peak[masked_rows] = 0  # exp(-inf - 0) = 0 across the row
        with np.errstate(invalid="ignore"):  # -inf - -inf = NaN in a masked row, as in PyTorch
            logits -= peak
        np.exp(logits, out=logits)
        total = logits.sum(axis=-1, keepdims=True)
        if zero_masked_rows:
            total[masked_rows] = 1  # 0 / 1: the row stays zero
        logits /= total
        return logits

    def backward(self, grad):
        weights = self.output()
        grad_logits = weights * (grad - (grad * weights).sum(-1, keepdim=True))
        grad_scores = grad_logits * self.scale if self.next_edges[0] is not None else None
        if len(self.next_edges) == 1:
            return grad_scores
        # The bias was broadcast against the scores; the engine sums it back to its shape.
        return grad_scores, grad_logits if self.next_edges[1] is not None else None


def _attend(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    bias: Tensor | None,
    dropout_p: float,
    scale: float,
    zero_masked_rows: bool = True,
) -> tuple[Tensor, Tensor]:
    """The attention output and weights: ``dropout(softmax(scale * q k^T + bias)) @ v``."""
    scores = matmul(query, key.mT)
    if bias is None:
        weights = AttentionSoftmax.apply(scores, scale=scale, zero_masked_rows=zero_masked_rows)
    else:
        weights = AttentionSoftmax.apply(scores, bias, scale=scale, zero_masked_rows=zero_masked_rows)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value), weights


def _additive_mask(allowed: np.ndarray, dtype: np.dtype) -> Tensor:
    """A boolean mask as a constant to add to the scores: 0 where allowed, -inf elsewhere."""
    return _wrap(np.where(allowed, dtype.type(0), dtype.type(-np.inf)))


# ----------------------------------------------------------- the fused node


@functools.lru_cache(maxsize=32)
def _causal_mask(target: int, source: int) -> np.ndarray:
    """True where query ``i`` may not see key ``j`` (``j > i``, top-left aligned);
    cached and read-only, as every call of a model asks for the same one."""
    hidden = ~np.tri(target, source, dtype=bool)
    hidden.flags.writeable = False
    return hidden


def _causal_bias(target: int, source: int, dtype: np.dtype) -> Tensor:
    """The causal mask as a constant to add to the scores: 0 where seen, -inf elsewhere."""
    return _additive_mask(~_causal_mask(target, source), dtype)


def _packed_heads(packed: np.ndarray, heads: int, batch_first: bool) -> tuple:
    """Views (N, heads, L, head_dim) of the query, key and value packed along the
    last dimension of a (N, L, 3E) (``batch_first``) or (L, N, 3E) array."""
    grouped = packed.reshape(*packed.shape[:2], 3, heads, -1)
    return tuple(grouped.transpose((2, 0, 3, 1, 4) if batch_first else (2, 1, 3, 0, 4)))


def _token_heads(tokens: np.ndarray, heads: int, batch_first: bool) -> np.ndarray:
    """A view (N, heads, L, head_dim) of a (N, L, E) or (L, N, E) array."""
    split = tokens.reshape(*tokens.shape[:2], heads, -1)
    return split.transpose((0, 2, 1, 3) if batch_first else (1, 2, 0, 3))


# Row kernels of the softmax (float32). The exponential itself stays with
# NumPy, whose vectorised exp is faster than a compiled scalar one; the
# kernels do the row maxima and sums, which NumPy makes in many short
# reductions along the last axis. The sums may be added in any order.
@_jit.kernel(parallel=True, fastmath={"reassoc", "contract"})
def _shift_rows_kernel(logits, queries, scale, causal):  # pragma: no cover - compiled by Numba
    n, width = logits.shape
    lowest = logits.dtype.type(-np.inf)
    for row in _jit.prange(n):
        stop = min(width, row % queries + 1) if causal else width
        peak = lowest
        for j in range(stop):
            value = logits[row, j] * scale
            logits[row, j] = value
            peak = value if value > peak else peak  # a NaN never becomes the peak, and stays NaN
        if peak == lowest:
            stop = 0  # a query that may see nothing: exp(-inf) = 0 across the row
        for j in range(stop):
            logits[row, j] -= peak
        for j in range(stop, width):
            logits[row, j] = lowest


@_jit.kernel(parallel=True, fastmath={"reassoc", "contract"})
def _normalize_rows_kernel(weights, queries, causal):  # pragma: no cover - compiled by Numba
    n, width = weights.shape
    for row in _jit.prange(n):
        stop = min(width, row % queries + 1) if causal else width
        total = weights.dtype.type(0.0)
        for j in range(stop):
            total += weights[row, j]
        if total != 0:  # 0: a fully masked row, which stays zero
            share = weights.dtype.type(1.0) / total
            for j in range(stop):
                weights[row, j] *= share


@_jit.kernel(parallel=True)
def _grad_logits_kernel(grad, weights, delta, scale, queries, causal):  # pragma: no cover - compiled by Numba
    n, width = grad.shape
    for row in _jit.prange(n):
        stop = min(width, row % queries + 1) if causal else width
        offset = delta[row]
        for j in range(stop):
            grad[row, j] = scale * weights[row, j] * (grad[row, j] - offset)
        for j in range(stop, width):
            grad[row, j] = 0  # a key the query does not see: its weight is 0


def _grad_logits_in_place(grad: np.ndarray, weights: np.ndarray, delta: np.ndarray, scale: float, causal: bool):
    """``scale * weights * (grad - delta)``, the softmax's backward, in place on
    ``grad`` (the gradient of the weights); ``delta`` holds each row's
    ``sum(grad * weights)``."""
    kernel = _grad_logits_kernel.compiled(grad.size) if grad.dtype == np.float32 and grad.size else None
    if kernel is not None and weights.shape == grad.shape:
        queries, keys = grad.shape[-2:]
        kernel(
            grad.reshape(-1, keys),
            weights.reshape(-1, keys),
            delta.reshape(-1),
            grad.dtype.type(scale),
            queries,
            causal,
        )
        return grad
    grad -= delta[..., None]
    grad *= weights
    if scale != 1.0:
        grad *= grad.dtype.type(scale)
    return grad


def _softmax_in_place(logits: np.ndarray, scale: float, causal: bool) -> np.ndarray:
    """``softmax(scale * logits)`` over the last dimension, in place, with the keys
    after each query left out (-inf) when ``causal``. A row whose every entry is
    -inf (a query that may see nothing) gives zeros, as in PyTorch's
    ``scaled_dot_product_attention``."""
    queries, keys = logits.shape[-2:]
    shift = _shift_rows_kernel.compiled(logits.size) if logits.dtype == np.float32 and logits.size else None
    if shift is not None:
        rows = logits.reshape(-1, keys)
        shift(rows, queries, logits.dtype.type(scale), causal)
        np.exp(rows, out=rows)
        _normalize_rows_kernel.compiled(logits.size)(rows, queries, causal)
        return logits
    if scale != 1.0:
        logits *= logits.dtype.type(scale)
    if causal:
        np.copyto(logits, -np.inf, where=_causal_mask(queries, keys))
    peak = np.max(logits, axis=-1, keepdims=True, initial=-np.inf)
    masked_rows = peak == -np.inf
    peak[masked_rows] = 0  # exp(-inf - 0) = 0 across the row
    logits -= peak
    np.exp(logits, out=logits)
    total = np.add.reduce(logits, axis=-1, keepdims=True)
    total[masked_rows] = 1  # 0 / 1: the row stays zero
    logits /= total
    return logits


class Attention(Op):
    """``softmax(scale * q k^T + bias) v`` in one node, with the causal mask
    (``causal``) and a float ``bias`` (``has_bias``, the last input) optional.

    The inputs are ``q, k, v`` (``..., L or S, d``; batch dimensions
    broadcast) or, with ``heads`` set, one packed projection (N, L, 3E)
    (``batch_first``) or (L, N, 3E) whose heads are viewed in place; the output
    then comes merged, (N, L, E) or (L, N, E).

    Forward keeps the probabilities ``P``. With ``O = P v`` and the output's
    gradient ``dO``: ``dv = P^T dO``, ``dP = dO v^T``, the logits' gradient
    ``dZ = P * (dP - rowsum(dO * O))`` (``rowsum(dP * P)`` equals
    ``rowsum(dO * O)`` and is cheaper), which is the bias's gradient, and
    ``dq = scale dZ k``, ``dk = scale dZ^T q``. When the backward is recorded
    (``create_graph=True``) it is built from retrograd ops on the inputs, so
    second derivatives flow.
    """

    __slots__ = ("batch_first", "causal", "has_bias", "heads", "scale")
    save_inputs = True
    save_output = True
    backward_name = "ScaledDotProductFlashAttentionForCpuBackward0"

    def forward(self, *arrays, scale, causal, has_bias, heads, batch_first):
        self.scale = scale
        self.causal = causal
        self.has_bias = has_bias
        self.heads = heads
        self.batch_first = batch_first
        bias = arrays[-1] if has_bias else None
        if heads is None:
            q, k, v = arrays[:3]
            merged = out = None
        else:
            q, k, v = _packed_heads(arrays[0], heads, batch_first)
            merged = np.empty(arrays[0].shape[:2] + (v.shape[-1] * heads,), dtype=v.dtype)
            out = _token_heads(merged, heads, batch_first)
        logits = np.matmul(q, np.swapaxes(k, -1, -2))
        if bias is not None:
            if scale != 1.0:
                logits *= logits.dtype.type(scale)
            logits += bias  # callers shape the mask to broadcast against the scores
            scale = 1.0
        probabilities = _softmax_in_place(logits, scale, causal)
        self.saved = probabilities
        result = np.matmul(probabilities, v, out=out)
        return result if merged is None else merged

    def backward(self, grad):
        if GradMode.enabled:
            return self._recorded_backward(grad)
        inputs = self.saved_inputs
        probabilities = self.saved
        output = self.output_array()
        grad_output = grad._data
        edges = self.next_edges
        if self.heads is None:
            q, k, v = (t._data for t in inputs[:3])
            wants = (edges[0] is not None, edges[1] is not None, edges[2] is not None)
            grad_q = grad_k = grad_v = None  # new arrays (of the broadcast shape)
        else:
            packed = inputs[0]._data
            q, k, v = _packed_heads(packed, self.heads, self.batch_first)
            grad_output = _token_heads(grad_output, self.heads, self.batch_first)
            output = _token_heads(output, self.heads, self.batch_first)
            wants = (edges[0] is not None,) * 3
            grad_packed = np.empty(packed.shape, dtype=packed.dtype)
            grad_q, grad_k, grad_v = _packed_heads(grad_packed, self.heads, self.batch_first)
        wants_bias = self.has_bias and edges[-1] is not None
        if wants[2]:
            grad_v = np.matmul(np.swapaxes(probabilities, -1, -2), grad_output, out=grad_v)
        grad_bias = None
        if wants[0] or wants[1] or wants_bias:
            grad_logits = np.matmul(grad_output, np.swapaxes(v, -1, -2))
            delta = np.einsum("...ij,...ij->...i", grad_output, output)
            if wants_bias:  # the bias's gradient is the logits', before the scale
                grad_logits = _grad_logits_in_place(grad_logits, probabilities, delta, 1.0, self.causal)
                grad_bias = _wrap(grad_logits)
                grad_logits = grad_logits * grad_logits.dtype.type(self.scale)
            else:
                grad_logits = _grad_logits_in_place(grad_logits, probabilities, delta, self.scale, self.causal)
            if wants[0]:
                grad_q = np.matmul(grad_logits, k, out=grad_q)
            if wants[1]:
                grad_k = np.matmul(np.swapaxes(grad_logits, -1, -2), q, out=grad_k)
        if self.heads is None:
            grads = [None if g is None else _wrap(g) for g in (grad_q, grad_k, grad_v)]
        else:
            grads = [_wrap(grad_packed) if wants[0] else None]
        if self.has_bias:
            grads.append(grad_bias)
        return tuple(grads)

    def _recorded_backward(self, grad: Tensor) -> tuple:
        """The same gradients from retrograd ops on the inputs (``create_graph=True``)."""
        inputs = self.saved_inputs
        if self.heads is None:
            q, k, v = inputs[:3]
        else:
            q, k, v = _split_heads(inputs[0], 3, self.heads, self.batch_first)
            (grad,) = _split_heads(grad, 1, self.heads, self.batch_first)
        bias = inputs[-1] if self.has_bias else None
        if self.causal:
            causal = _causal_bias(q.shape[-2], k.shape[-2], q._data.dtype)
            bias = causal if bias is None else add(bias, causal)
        scores = matmul(q, k.mT)
        if bias is None:
            probabilities = AttentionSoftmax.apply(scores, scale=self.scale, zero_masked_rows=True)
        else:
            probabilities = AttentionSoftmax.apply(scores, bias, scale=self.scale, zero_masked_rows=True)
        grad_probabilities = matmul(grad, v.mT)
        grad_logits = probabilities * (grad_probabilities - (grad_probabilities * probabilities).sum(-1, keepdim=True))
        grad_scores = grad_logits * self.scale
        grad_q, grad_k, grad_v = matmul(grad_scores, k), matmul(grad_scores.mT, q), matmul(probabilities.mT, grad)
        if self.heads is None:
            grads = [grad_q, grad_k, grad_v]
        else:
            grads = [cat([_merge_heads(g, self.batch_first) for g in (grad_q, grad_k, grad_v)], dim=-1)]
        if self.has_bias:
            grads.append(grad_logits)
        return tuple(grads)


def _fused_attention(query, key, value, bias, scale: float, causal: bool) -> Tensor:
    """``Attention`` over (batch..., heads, L, d) tensors."""
    inputs = (query, key, value) if bias is None else (query, key, value, bias)
    return Attention.apply(
        *inputs,
        scale=scale,
        causal=causal,
        has_bias=bias is not None,
        heads=None,
        batch_first=True,
    )


# ------------------------------------------------ scaled_dot_product_attention


def _check_tensor(x, name: str, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(x).__name__}")


def _check_dropout_p(dropout_p, op: str) -> None:
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {dropout_p}")


def _check_sdpa_inputs(query: Tensor, key: Tensor, value: Tensor) -> None:
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check_tensor(t, name, op)
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            f"{op}: expected query, key, and value to all be at least 2 dimensional, but got query.dim: "
            f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead."
        )
    dtypes = (query._data.dtype, key._data.dtype, value._data.dtype)
    if len(set(dtypes)) != 1 or dtypes[0].kind != "f":
        raise RuntimeError(
            f"{op}: expected query, key, and value to have the same floating-point dtype, but got query.dtype: "
            f"{dtypes[0]} key.dtype: {dtypes[1]} and value.dtype: {dtypes[2]} instead."
        )
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"{op}: query and key must have the same embedding size (last dimension), got query of shape "
            f"{list(query.shape)} and key of shape {list(key.shape)}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"{op}: key and value must have the same sequence length (dimension -2), got key of shape "
            f"{list(key.shape)} and value of shape {list(value.shape)}"
        )


def _broadcast_batch(query: Tensor, key: Tensor, value: Tensor) -> tuple:
    """The batch shape of the scores (query's and key's batch dimensions broadcast),
    after checking that the value's batch dimensions broadcast with it too."""
    try:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2])
        np.broadcast_shapes(batch, value.shape[:-2])
    except ValueError:
        raise RuntimeError(
            "scaled_dot_product_attention: the batch dimensions of query, key and value must broadcast, got "
            f"shapes {list(query.shape)}, {list(key.shape)} and {list(value.shape)}"
        ) from None
    return batch


def _repeat_heads(t: Tensor, repeats: int) -> Tensor:
    """``t.repeat_interleave(repeats, dim=-3)`` as an expand and a reshape (whose
    backward is a plain sum over the repeated copies)."""
    if repeats == 1:
        return t
    shape = t.shape
    grouped = t.unsqueeze(-3).expand(*shape[:-2], repeats, *shape[-2:])
    return grouped.reshape(*shape[:-3], shape[-3] * repeats, *shape[-2:])


def _grouped_query_heads(query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
    """Key and value with each head repeated for its group of query heads (``enable_gqa``)."""
    if query.ndim < 3 or key.ndim < 3 or value.ndim < 3:
        raise RuntimeError(
            "scaled_dot_product_attention: enable_gqa=True needs a heads dimension (-3) in query, key and value, "
            f"got shapes {list(query.shape)}, {list(key.shape)} and {list(value.shape)}"
        )
    heads, key_heads, value_heads = query.shape[-3], key.shape[-3], value.shape[-3]
    if key_heads == 0 or value_heads == 0 or heads % key_heads or heads % value_heads:
        raise RuntimeError(
            "scaled_dot_product_attention: number of heads in key and value must divide the number of heads in "
            f"query, got {heads} query heads, {key_heads} key heads and {value_heads} value heads"
        )
    return _repeat_heads(key, heads // key_heads), _repeat_heads(value, heads // value_heads)


def _sdpa_bias(attn_mask, is_causal: bool, scores_shape: tuple, dtype: np.dtype) -> Tensor | None:
    """What to add to the scores: the boolean mask as 0/-inf, or the float mask
    (None for none, and for the causal mask, which the callers apply)."""
    op = "scaled_dot_product_attention"
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(f"{op}: explicit attn_mask should not be set when is_causal=True")
        return None
    if attn_mask is None:
        return None
    _check_tensor(attn_mask, "attn_mask", op)
    mask_dtype = attn_mask._data.dtype
    if mask_dtype != np.bool_ and mask_dtype != np.float32 and mask_dtype != dtype:
        raise RuntimeError(
            f"{op}: expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {mask_dtype} and query.dtype: {dtype} instead."
        )
    try:
        broadcast = np.broadcast_shapes(attn_mask.shape, scores_shape)
    except ValueError:
        broadcast = None
    if broadcast != scores_shape:
        raise RuntimeError(
            f"{op}: attn_mask of shape {list(attn_mask.shape)} cannot be broadcast to the attention scores' "
            f"shape {list(scores_shape)} (batch..., L, S)"
        )
    if mask_dtype == np.bool_:
        return _additive_mask(attn_mask._data, dtype)
    return attn_mask if mask_dtype == dtype else attn_mask.to(dtype)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` (``torch.nn.functional.scaled_dot_product_attention``).

    ``query`` is ``(..., L, E)``, ``key`` ``(..., S, E)``, ``value`` ``(..., S, Ev)``;
    the leading (batch) dimensions broadcast and the result is ``(..., L, Ev)``.
    ``scale`` defaults to ``1 / sqrt(E)``. A boolean ``attn_mask`` marks the
    positions that take part (True); a float one is added to the scores;
    ``is_causal`` lets query ``i`` attend to keys ``0..i`` (top-left aligned).
    A query that may attend to nothing gets zeros. ``dropout_p`` drops
    attention weights with retrograd's generator (always, as in PyTorch: pass
    0 outside training). ``enable_gqa`` shares each key/value head among a
    group of query heads (dimension -3).
    """
    _check_sdpa_inputs(query, key, value)
    _check_dropout_p(dropout_p, "scaled_dot_product_attention")
    if enable_gqa:
        key, value = _grouped_query_heads(query, key, value)
    batch = _broadcast_batch(query, key, value)
    scores_shape = (*batch, query.shape[-2], key.shape[-2])
    dtype = query._data.dtype
    bias = _sdpa_bias(attn_mask, is_causal, scores_shape, dtype)
    if scale is None:
        # With E = 0 every score is an empty sum (0) whatever the scale: keep it finite.
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    if dropout_p == 0:
        return _fused_attention(query, key, value, bias, float(scale), bool(is_causal))
    if is_causal:
        bias = _causal_bias(*scores_shape[-2:], dtype)
    output, _ = _attend(query, key, value, bias, float(dropout_p), float(scale))
    return output


# ------------------------------------------------------------ multi-head attention
#
# Inputs are (L, N, E) ("sequence first", PyTorch's default) or (N, L, E)
# (batch_first); an unbatched (L, E) input gets a batch dimension of 1. The
# projections run in the input's layout (a linear over its last dimension);
# splitting the heads is then one reshape and one permute (views) to
# (N, heads, L, head_dim), and merging them back one permute and reshape.


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads: int) -> bool:
    """PyTorch's checks of the input dimensions; whether the input is batched."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                f" but found {key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D"
                f" but found {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
                f" but found {attn_mask.ndim}-D tensor instead"
            )
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D"
                f" but found {key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D"
                f" but found {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
                    f" but found {attn_mask.ndim}-D tensor instead"
                )
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor")


def _canonical_mask(mask, name: str, other, other_name: str, dtype: np.dtype) -> Tensor | None:
    """A mask as a float tensor to add to the scores: a boolean one becomes -inf
    where True (left out) and 0 elsewhere; a float one is used as it is."""
    if mask is None:
        return None
    _check_tensor(mask, name, "multi_head_attention_forward")
    kind = mask._data.dtype.kind
    if kind not in "bf":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if other is not None and other._data.dtype != mask._data.dtype:
        warnings.warn(
            f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both instead.",
            stacklevel=4,
        )
    if kind == "b":
        return _additive_mask(~mask._data, dtype)
    return mask if mask._data.dtype == dtype else mask.to(dtype)


def _check_attn_mask_shape(attn_mask: Tensor, shape_2d: tuple, shape_3d: tuple) -> None:
    if attn_mask.ndim == 2 and tuple(attn_mask.shape) != shape_2d:
        raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be {shape_2d}.")
    if attn_mask.ndim == 3 and tuple(attn_mask.shape) != shape_3d:
        raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be {shape_3d}.")


def _split_heads(x: Tensor, groups: int, num_heads: int, batch_first: bool) -> tuple[Tensor, ...]:
    """``groups`` projections packed along the last dimension of x ((N, L, groups*E)
    or (L, N, groups*E)) as ``groups`` tensors (N, heads, L, head_dim), all views of x."""
    lead = tuple(x.shape[:2])
    head_dim = x.shape[-1] // (groups * num_heads)
    if groups == 1:
        heads = x.reshape(*lead, num_heads, head_dim)
        return (heads.permute(0, 2, 1, 3) if batch_first else heads.permute(1, 2, 0, 3),)
    heads = x.reshape(*lead, groups, num_heads, head_dim)
    return heads.permute((2, 0, 3, 1, 4) if batch_first else (2, 1, 3, 0, 4)).unbind(0)


def _merge_heads(x: Tensor, batch_first: bool) -> Tensor:
    """(N, heads, L, head_dim) back to (N, L, E) or (L, N, E)."""
    n, heads, length, head_dim = x.shape
    if batch_first:
        return x.permute(0, 2, 1, 3).reshape(n, length, heads * head_dim)
    return x.permute(2, 0, 1, 3).reshape(length, n, heads * head_dim)


def _project(query, key, value, in_proj_weight, in_proj_bias, separate_weights, num_heads: int, batch_first: bool):
    """q, k, v as (N, heads, length, head_dim). Self-attention (one tensor for all
    three) is one linear with the packed weight; key = value (encoder-decoder
    attention) is one linear for q and one for k and v together, as in PyTorch."""
    embed_dim = query.shape[-1]
    if separate_weights is not None:
        biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        projected = [linear(x, w, b) for x, w, b in zip((query, key, value), separate_weights, biases, strict=True)]
        return tuple(_split_heads(p, 1, num_heads, batch_first)[0] for p in projected)
    if key is value and query is key:
        return _split_heads(linear(query, in_proj_weight, in_proj_bias), 3, num_heads, batch_first)
    weight_q, bias_q = in_proj_weight[:embed_dim], None if in_proj_bias is None else in_proj_bias[:embed_dim]
    (q,) = _split_heads(linear(query, weight_q, bias_q), 1, num_heads, batch_first)
    if key is value:
        weight_kv, bias_kv = in_proj_weight[embed_dim:], None if in_proj_bias is None else in_proj_bias[embed_dim:]
        k, v = _split_heads(linear(key, weight_kv, bias_kv), 2, num_heads, batch_first)
        return q, k, v
    weight_k, weight_v = in_proj_weight[embed_dim : 2 * embed_dim], in_proj_weight[2 * embed_dim :]
    bias_k = bias_v = None
    if in_proj_bias is not None:
        bias_k, bias_v = in_proj_bias[embed_dim : 2 * embed_dim], in_proj_bias[2 * embed_dim :]
    (k,) = _split_heads(linear(key, weight_k, bias_k), 1, num_heads, batch_first)
    (v,) = _split_heads(linear(value, weight_v, bias_v), 1, num_heads, batch_first)
    return q, k, v


def _static_heads(static: Tensor, name: str, bsz: int, num_heads: int, head_dim: int) -> Tensor:
    """A precomputed key or value (N * heads, S, head_dim) as (N, heads, S, head_dim)."""
    if static.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static.reshape(bsz, num_heads, static.shape[1], head_dim)


def _same_identity(tensors: tuple, transform) -> tuple:
    """``transform`` applied to each tensor, once per distinct tensor: inputs that
    were the same object stay the same object (which selects the packed projections)."""
    done = {}
    for t in tensors:
        if id(t) not in done:
            done[id(t)] = transform(t)
    return tuple(done[id(t)] for t in tensors)


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention over sequence-first inputs ``(L, N, E)`` (or unbatched
    ``(L, E)``), ``torch.nn.functional.multi_head_attention_forward``.

    Returns ``(attn_output, attn_weights)``: the output ``(L, N, E)`` and, when
    ``need_weights``, the attention weights averaged over heads ``(N, L, S)``
    (or per head, ``(N, heads, L, S)``, with ``average_attn_weights=False``);
    otherwise None. Boolean masks mark the positions to leave out (True).
    """
    return _multi_head_attention(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
        add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
        attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
        average_attn_weights, is_causal, batch_first=False,
    )  # fmt: skip


def _multi_head_attention(
    query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
    add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
    attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
    average_attn_weights, is_causal, batch_first: bool,
) -> tuple[Tensor, Tensor | None]:  # fmt: skip
    """``multi_head_attention_forward`` for either layout (``batch_first`` says
    which), so ``nn.MultiheadAttention`` never transposes its inputs."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check_tensor(t, name, "multi_head_attention_forward")
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    batch_dim, seq_dim = (0, 1) if batch_first else (1, 0)
    if not is_batched:
        query, key, value = _same_identity((query, key, value), lambda t: t.unsqueeze(batch_dim))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape[seq_dim], query.shape[batch_dim], query.shape[2]
    src_len = key.shape[seq_dim]
    dtype = query._data.dtype
    if key.shape[batch_dim] != bsz or value.shape[batch_dim] != bsz:
        raise RuntimeError(
            f"multi_head_attention_forward: query, key and value must have the same batch size (dimension "
            f"{batch_dim}), got shapes {list(query.shape)}, {list(key.shape)} and {list(value.shape)}"
        )

    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
            "`generate_square_subsequent_mask` to create this mask."
        )
    # The is_causal hint replaces attn_mask only where PyTorch lets it: no padding
    # mask and no weights asked for (the result is the same when the hint is true).
    causal = is_causal and key_padding_mask is None and not need_weights
    attn_mask = None if causal else _canonical_mask(attn_mask, "attn_mask", None, "", dtype)

    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(
                f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's {tuple(value.shape[:2])}"
            )
        for name, weight in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if weight is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        separate = None
    _check_dropout_p(dropout_p, "multi_head_attention_forward")
    dropout_p = float(dropout_p) if training else 0.0
    # Without dropout and without the weights returned, attention is one fused
    # node; self-attention hands it the packed projection, heads and all.
    fused = dropout_p == 0.0 and not need_weights
    packed = (
        fused
        and separate is None
        and query is key
        and key is value
        and bias_k is None
        and bias_v is None
        and static_k is None
        and static_v is None
        and not add_zero_attn
    )
    if packed:
        projected = linear(query, in_proj_weight, in_proj_bias)
    else:
        q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias, separate, num_heads, batch_first)

    if attn_mask is not None:
        _check_attn_mask_shape(attn_mask, (tgt_len, src_len), (bsz * num_heads, tgt_len, src_len))
        if attn_mask.ndim == 3:
            attn_mask = attn_mask.reshape(bsz, num_heads, tgt_len, src_len)

    # Extra key positions: the learned bias_k / bias_v, then a zero key and value.
    extra_keys = 0
    if bias_k is not None or bias_v is not None:
        if bias_k is None or bias_v is None:
            raise AssertionError(
                "bias_k is set but bias_v is None" if bias_v is None else "bias_v is set but bias_k is None"
            )
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.reshape(1, num_heads, 1, head_dim).expand(bsz, num_heads, 1, head_dim)], dim=2)
        v = cat([v, bias_v.reshape(1, num_heads, 1, head_dim).expand(bsz, num_heads, 1, head_dim)], dim=2)
        extra_keys += 1
    if static_k is not None:
        k = _static_heads(static_k, "static_k", bsz, num_heads, head_dim)
    if static_v is not None:
        v = _static_heads(static_v, "static_v", bsz, num_heads, head_dim)
    if add_zero_attn:
        zeros = _wrap(np.zeros((bsz, num_heads, 1, head_dim), dtype=dtype))
        k, v = cat([k, zeros], dim=2), cat([v, zeros], dim=2)
        extra_keys += 1
    if not packed:
        src_len = k.shape[2]
    if extra_keys and attn_mask is not None:
        attn_mask = pad(attn_mask, (0, extra_keys))

    bias = attn_mask
    if key_padding_mask is not None:
        expected = (bsz, src_len - extra_keys)
        if tuple(key_padding_mask.shape) != expected:
            raise AssertionError(
                f"Expected key_padding_mask of shape {expected} (batch size, source length), "
                f"but got {tuple(key_padding_mask.shape)}"
            )
        if extra_keys:
            key_padding_mask = pad(key_padding_mask, (0, extra_keys))
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len)
        bias = key_padding_mask if attn_mask is None else add(attn_mask, key_padding_mask)
    scale = 1.0 / math.sqrt(head_dim)
    if packed:
        inputs = (projected,) if bias is None else (projected, bias)
        output = Attention.apply(
            *inputs,
            scale=scale,
            causal=causal,
            has_bias=bias is not None,
            heads=num_heads,
            batch_first=batch_first,
        )
    elif fused:
        output = _merge_heads(_fused_attention(q, k, v, bias, scale, causal), batch_first)
    else:
        if causal:
            bias = _causal_bias(tgt_len, src_len, dtype)
        # With the weights returned, PyTorch takes a plain softmax (a query that may
        # attend to nothing gets NaN); without, scaled_dot_product_attention (zeros).
        output, weights = _attend(q, k, v, bias, dropout_p, scale, zero_masked_rows=not need_weights)
        output = _merge_heads(output, batch_first)
    output = linear(output, out_proj_weight, out_proj_bias)
    if not is_batched:
        output = output.squeeze(batch_dim)
    if not need_weights:
        return output, None
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not is_batched:
        weights = weights.squeeze(0)
    return output, weights
