"""``MultiheadAttention``: attention from "Attention Is All You Need" with
PyTorch's arguments, parameters (``in_proj_weight``, ``in_proj_bias``,
``out_proj``, and ``q/k/v_proj_weight`` when the key or value size differs
from ``embed_dim``), initialisation and ``state_dict`` layout."""

from __future__ import annotations

from ... import creation
from ...ops import attention
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """The output projection of ``MultiheadAttention``: a ``Linear`` under
    PyTorch's class name, so printed models and type checks read the same."""


class MultiheadAttention(Module):
    """Multi-head attention: ``softmax(Q K^T / sqrt(head_dim) + mask) V`` in
    ``num_heads`` heads of size ``embed_dim // num_heads``, concatenated and
    projected by ``out_proj``.

    Inputs are ``(L, N, E)`` (or ``(N, L, E)`` with ``batch_first=True``, or
    unbatched ``(L, E)``). When query, key and value are one tensor
    (self-attention) they are projected by a single matmul with the packed
    ``in_proj_weight`` ``(3 * embed_dim, embed_dim)``. ``dropout`` applies to
    the attention weights while training. ``add_bias_kv`` appends a learned
    key and value (``bias_k``, ``bias_v``) to every sequence, ``add_zero_attn``
    a zero one.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(
                f"embed_dim must be divisible by num_heads (got embed_dim={embed_dim} and num_heads={num_heads})"
            )
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty((3 * embed_dim, embed_dim), dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(creation.empty((embed_dim, embed_dim), dtype=dtype))
            self.k_proj_weight = Parameter(creation.empty((embed_dim, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(creation.empty((embed_dim, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty((1, 1, embed_dim), dtype=dtype))
            self.bias_v = Parameter(creation.empty((1, 1, embed_dim), dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """``(attn_output, attn_weights)``.

        ``key_padding_mask`` ``(N, S)`` (or ``(S,)`` unbatched) and ``attn_mask``
        ``(L, S)`` or ``(N * num_heads, L, S)`` are boolean (True = leave out)
        or float (added to the scores). ``attn_weights`` is ``(N, L, S)``
        averaged over heads, ``(N, num_heads, L, S)`` with
        ``average_attn_weights=False``, or None with ``need_weights=False``.
        ``is_causal`` is a hint that ``attn_mask`` is the causal mask.
        """
        return attention._multi_head_attention(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            static_k=None,
            static_v=None,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
            batch_first=self.batch_first,
        )
