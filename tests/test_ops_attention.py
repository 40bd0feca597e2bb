"""scaled_dot_product_attention and the functional multi-head attention:
gradcheck, gradgradcheck and PyTorch comparison with boolean, float and causal
masks, broadcast batch dimensions, grouped-query heads and empty sequences;
fully masked queries, dropout on the weights, and errors."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.ops.attention import multi_head_attention_forward, scaled_dot_product_attention

from oracle import Case, assert_close, check_case, parametrize_cases

torch = pytest.importorskip("torch")
F = torch.nn.functional


def sdpa_of(lib):
    return F.scaled_dot_product_attention if lib is torch else scaled_dot_product_attention


def sdpa(**kwargs):
    """A case function: attention over (query, key, value) with fixed keyword arguments."""
    return lambda lib, q, k, v: sdpa_of(lib)(q, k, v, **kwargs)


def with_mask(mask: np.ndarray, **kwargs):
    """A case function whose attn_mask is a constant (boolean or float) array."""
    return lambda lib, q, k, v: sdpa_of(lib)(q, k, v, attn_mask=lib.from_numpy(mask.copy()), **kwargs)


RNG = np.random.default_rng(1)
BOOL_MASK = RNG.random((3, 5)) > 0.4
BOOL_MASK[:, 0] = True  # every query sees at least one key
ROW_MASKED_OUT = BOOL_MASK.copy()
ROW_MASKED_OUT[2] = False  # query 2 may attend to nothing: it gets zeros
BATCHED_BOOL_MASK = RNG.random((2, 1, 3, 5)) > 0.5
FLOAT_MASK = RNG.standard_normal((3, 5))
NEG_INF_MASK = np.where(BOOL_MASK, 0.0, -np.inf)
NEG_INF_MASK[1] = -np.inf

QKV = ((2, 3, 4), (2, 5, 4), (2, 5, 2))
HEADS = ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 2))

CASES = [
    Case("plain_3d", sdpa(), shapes=QKV),
    Case("heads_4d", sdpa(), shapes=HEADS),
    Case("unbatched_2d", sdpa(), shapes=((3, 4), (5, 4), (5, 2))),
    Case("broadcast_batch_dims", sdpa(), shapes=((2, 2, 3, 4), (2, 5, 4), (1, 2, 5, 2))),
    Case("broadcast_query_over_batch", sdpa(), shapes=((3, 4), (2, 5, 4), (2, 5, 2))),
    Case("scale", sdpa(scale=0.3), shapes=QKV),
    Case("causal_square", sdpa(is_causal=True), shapes=((2, 4, 3), (2, 4, 3), (2, 4, 2))),
    Case("causal_fewer_queries", sdpa(is_causal=True), shapes=QKV),
    Case("causal_more_queries", sdpa(is_causal=True), shapes=((2, 5, 4), (2, 3, 4), (2, 3, 2))),
    Case("bool_mask", with_mask(BOOL_MASK), shapes=HEADS),
    Case("bool_mask_batched", with_mask(BATCHED_BOOL_MASK), shapes=HEADS),
    Case("bool_mask_row_masked_out", with_mask(ROW_MASKED_OUT), shapes=HEADS),
    Case("float_mask_constant", with_mask(FLOAT_MASK), shapes=QKV),
    Case("float_mask_with_neg_inf", with_mask(NEG_INF_MASK), shapes=QKV),
    Case(
        "float_mask_differentiable",
        lambda lib, q, k, v, m: sdpa_of(lib)(q, k, v, attn_mask=m),
        shapes=(*HEADS, (2, 1, 5)),
    ),
    Case(
        "float32_mask_with_float64_query",
        with_mask(FLOAT_MASK.astype(np.float32)),
        shapes=QKV,
    ),
    Case("gqa", sdpa(enable_gqa=True), shapes=((1, 4, 2, 3), (1, 2, 3, 3), (1, 2, 3, 2))),
    Case("gqa_single_kv_head", sdpa(enable_gqa=True), shapes=((3, 2, 3), (1, 4, 3), (1, 4, 2))),
    Case("no_keys", sdpa(), shapes=((2, 3, 4), (2, 0, 4), (2, 0, 2))),
    Case("no_queries", sdpa(), shapes=((2, 0, 4), (2, 5, 4), (2, 5, 2))),
    Case("empty_batch", sdpa(), shapes=((0, 3, 4), (0, 5, 4), (0, 5, 2))),
    Case("no_embedding", sdpa(), shapes=((2, 3, 0), (2, 5, 0), (2, 5, 2))),
    Case("size_one", sdpa(), shapes=((1, 1, 1), (1, 1, 1), (1, 1, 1))),
    Case("dropout_p_one", sdpa(dropout_p=1.0), shapes=QKV),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_scaled_dot_product_attention(case, layout):
    check_case(case, layout=layout)


def test_large_scores_stay_finite():
    """Scores far beyond exp's range: the softmax is shifted by each row's maximum."""
    q = rg.from_numpy(np.full((1, 2, 3), 300.0))
    k = rg.from_numpy(np.array([[[3.0, 3.0, 3.0], [-3.0, -3.0, -3.0]]]))
    v = rg.from_numpy(np.array([[[1.0], [2.0]]]))
    out = scaled_dot_product_attention(q, k, v).numpy()
    np.testing.assert_allclose(out, [[[1.0], [1.0]]])


def test_fully_masked_query_gets_zero_output_and_zero_gradient():
    rng = np.random.default_rng(0)
    q, k, v = (rg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 4), (5, 4), (5, 2)))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    out = scaled_dot_product_attention(q, k, v, attn_mask=rg.from_numpy(mask))
    out.sum().backward()
    assert np.all(out.detach().numpy()[1] == 0)
    assert np.all(q.grad.numpy()[1] == 0)
    assert np.isfinite(k.grad.numpy()).all() and np.isfinite(v.grad.numpy()).all()


def test_mask_broadcasts_over_the_batch_like_an_explicit_copy():
    rng = np.random.default_rng(0)
    q, k, v = (rg.from_numpy(rng.standard_normal(s)) for s in HEADS)
    mask = rng.random((3, 5)) > 0.3
    mask[:, 0] = True
    broadcast = scaled_dot_product_attention(q, k, v, attn_mask=rg.from_numpy(mask))
    explicit = scaled_dot_product_attention(
        q, k, v, attn_mask=rg.from_numpy(np.broadcast_to(mask, (2, 2, 3, 5)).copy())
    )
    np.testing.assert_array_equal(broadcast.numpy(), explicit.numpy())


def test_float32_inputs_give_float32_close_to_float64():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in HEADS]
    single = scaled_dot_product_attention(*(rg.from_numpy(a.astype(np.float32)) for a in arrays), is_causal=True)
    double = scaled_dot_product_attention(*(rg.from_numpy(a) for a in arrays), is_causal=True)
    assert single.dtype == rg.float32
    np.testing.assert_allclose(single.numpy(), double.numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------- dropout


def _qkv(seed=0, shapes=HEADS):
    rng = np.random.default_rng(seed)
    return [rg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


def test_dropout_drops_attention_weights_with_the_global_generator():
    q, k, v = _qkv()
    rg.manual_seed(7)
    out = scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    # The same draw from the generator, applied by hand to the weights.
    weights = rg.softmax(q @ k.mT / math.sqrt(4), dim=-1)
    rg.manual_seed(7)
    expected = rg.dropout(weights, p=0.4) @ v
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    rg.manual_seed(8)
    other = scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    assert not np.allclose(out.detach().numpy(), other.detach().numpy())


def test_dropout_passes_gradcheck_and_gradgradcheck_with_a_fixed_mask():
    inputs = _qkv(shapes=((2, 3, 4), (2, 5, 4), (2, 5, 2)))

    def attend(q, k, v):
        rg.manual_seed(3)
        return scaled_dot_product_attention(q, k, v, dropout_p=0.3)

    assert rg.autograd.gradcheck(attend, inputs)
    assert rg.autograd.gradgradcheck(attend, inputs)


def test_dropout_p_zero_is_deterministic():
    q, k, v = _qkv()
    first = scaled_dot_product_attention(q, k, v, dropout_p=0.0).detach().numpy()
    second = scaled_dot_product_attention(q, k, v).detach().numpy()
    np.testing.assert_array_equal(first, second)


# ------------------------------------------------------------------------ errors


def _arrays(*shapes, dtype=np.float64):
    rng = np.random.default_rng(0)
    return [rg.from_numpy(rng.standard_normal(s).astype(dtype)) for s in shapes]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: scaled_dot_product_attention(*_arrays((5,), (5,), (5,))), RuntimeError, "at least 2 dimensional"),
        (
            lambda: scaled_dot_product_attention(*_arrays((4, 5)), *_arrays((6, 5), (6, 3), dtype=np.float32)),
            RuntimeError,
            "same floating-point dtype",
        ),
        (lambda: scaled_dot_product_attention(*_arrays((4, 5), (6, 4), (6, 3))), RuntimeError, "embedding size"),
        (lambda: scaled_dot_product_attention(*_arrays((4, 5), (6, 5), (7, 3))), RuntimeError, "sequence length"),
        (
            lambda: scaled_dot_product_attention(*_arrays((2, 4, 5), (3, 6, 5), (3, 6, 3))),
            RuntimeError,
            "batch dimensions",
        ),
        (
            lambda: scaled_dot_product_attention(
                *_arrays((4, 5), (6, 5), (6, 3)), attn_mask=rg.ones(4, 6, dtype=rg.bool), is_causal=True
            ),
            RuntimeError,
            "should not be set when is_causal=True",
        ),
        (
            lambda: scaled_dot_product_attention(
                *_arrays((4, 5), (6, 5), (6, 3)), attn_mask=rg.zeros(4, 6, dtype=rg.int64)
            ),
            RuntimeError,
            "attn_mask dtype to be bool or float",
        ),
        (
            lambda: scaled_dot_product_attention(
                *_arrays((2, 4, 5), (2, 6, 5), (2, 6, 3)), attn_mask=rg.zeros(3, 4, 6)
            ),
            RuntimeError,
            r"attn_mask of shape \[3, 4, 6\] cannot be broadcast",
        ),
        (
            lambda: scaled_dot_product_attention(*_arrays((3, 4, 5), (2, 6, 5), (2, 6, 3)), enable_gqa=True),
            RuntimeError,
            "must divide the number of heads",
        ),
        (
            lambda: scaled_dot_product_attention(*_arrays((4, 5), (6, 5), (6, 3)), dropout_p=1.5),
            ValueError,
            "between 0 and 1, but got 1.5",
        ),
        (lambda: scaled_dot_product_attention(np.zeros((4, 5)), *_arrays((6, 5), (6, 3))), TypeError, "query"),
    ],
)
def test_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ------------------------------------------------- the functional multi-head form


def test_functional_multi_head_attention_matches_pytorch_with_static_keys():
    """multi_head_attention_forward, sequence first, with precomputed keys and values."""
    rng = np.random.default_rng(0)
    shapes = ((3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (12,), (4, 4), (4,), (4, 7, 2), (4, 7, 2))
    arrays = [rng.standard_normal(s) for s in shapes]
    results = {}
    for lib, fn in ((rg, multi_head_attention_forward), (torch, F.multi_head_attention_forward)):
        tensors = [lib.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
        query, key, value, in_w, in_b, out_w, out_b, static_k, static_v = tensors
        out, weights = fn(
            query, key, value, 4, 2, in_w, in_b, None, None, False, 0.0, out_w, out_b,
            static_k=static_k, static_v=static_v, average_attn_weights=False,
        )  # fmt: skip
        (out.sum() + (weights * weights).sum()).backward()
        results[lib] = (out, weights, [t.grad for t in tensors])
    ours, theirs = results[rg], results[torch]
    assert_close(ours[0], theirs[0], "output")
    assert_close(ours[1], theirs[1], "weights")
    for position, (a, b) in enumerate(zip(ours[2], theirs[2], strict=True)):
        if b is None:
            assert a is None or not a.numpy().any(), f"gradient of input {position}"
        else:
            assert_close(a, b, f"gradient of input {position}")


# ------------------------------------------ the fused node: float32 fast paths


FLOAT32_CASES = {
    "causal": ({"is_causal": True}, ((2, 3, 7, 8), (2, 3, 7, 8), (2, 3, 7, 5))),
    "causal_more_queries": ({"is_causal": True}, ((2, 9, 4), (2, 6, 4), (2, 6, 3))),
    "plain_scale": ({"scale": 0.4}, QKV),
    "float_mask": ({"attn_mask": FLOAT_MASK.astype(np.float32)}, QKV),
    "bool_mask_row_masked_out": ({"attn_mask": ROW_MASKED_OUT}, HEADS),
    "broadcast_batch": ({}, ((3, 4), (2, 5, 4), (2, 5, 2))),
}


@pytest.mark.parametrize("name", list(FLOAT32_CASES))
def test_float32_matches_pytorch(jit_enabled, name):
    options, shapes = FLOAT32_CASES[name]
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    seed = None
    results = []
    for lib in (rg, torch):
        tensors = [lib.from_numpy(a.copy()).requires_grad_() for a in arrays]
        given = {k: lib.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v for k, v in options.items()}
        out = sdpa_of(lib)(*tensors, **given)
        seed = rng.standard_normal(tuple(out.shape)).astype(np.float32) if seed is None else seed
        out.backward(lib.from_numpy(seed))
        results.append((out, *(t.grad for t in tensors)))
    assert results[0][0].dtype == rg.float32
    for what, ours, theirs in zip(("output", "grad q", "grad k", "grad v"), *results, strict=True):
        assert_close(ours, theirs, f"{name}: {what}", tol=2e-5)


@pytest.mark.parametrize("causal", [True, False])
def test_softmax_kernels_agree_with_numpy_path(monkeypatch, causal):
    if not rg._jit.numba_available():
        pytest.skip("Numba is not installed")
    from retrograd.ops import attention

    rng = np.random.default_rng(6)
    logits = (rng.standard_normal((2, 3, 6, 9)) * 4).astype(np.float32)
    logits[0, 1, 2] = -np.inf  # a query that may see nothing
    logits[1, 0, 3, ::2] = -np.inf
    grad = rng.standard_normal(logits.shape).astype(np.float32)
    results = []
    for enabled in (True, False):
        monkeypatch.setattr(rg._jit, "enabled", enabled)
        weights = attention._softmax_in_place(logits.copy(), 0.7, causal)
        delta = (grad * weights).sum(-1)
        grad_logits = attention._grad_logits_in_place(grad.copy(), weights, delta, 0.7, causal)
        results.append((weights, grad_logits))
    (kernel_weights, kernel_grad), (numpy_weights, numpy_grad) = results
    np.testing.assert_allclose(kernel_weights, numpy_weights, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(kernel_grad, numpy_grad, rtol=1e-5, atol=1e-6)
    assert not kernel_weights[0, 1, 2].any() and not kernel_grad[0, 1, 2].any()  # sees nothing: zeros
    if causal:  # keys after each query take no part
        assert not kernel_weights[..., 0, 1:].any() and not kernel_grad[..., 0, 1:].any()


def test_fused_node_is_twice_differentiable_with_a_float_mask_that_requires_grad():
    rng = np.random.default_rng(7)
    q, k, v = (rg.tensor(rng.standard_normal(s), requires_grad=True) for s in QKV)
    mask = rg.tensor(rng.standard_normal((3, 5)), requires_grad=True)

    def attend(q, k, v, mask):
        return scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.6)

    assert attend(q, k, v, mask).grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"
    assert rg.autograd.gradcheck(attend, (q, k, v, mask))
    assert rg.autograd.gradgradcheck(attend, (q, k, v, mask))


@pytest.mark.parametrize("batch_first", [True, False])
def test_packed_self_attention_is_twice_differentiable(batch_first):
    """Self-attention without the weights: one node over the packed projection."""
    rng = np.random.default_rng(8)
    length, batch, embed, heads = 4, 2, 6, 3
    shape = (batch, length, embed) if batch_first else (length, batch, embed)
    x = rg.tensor(rng.standard_normal(shape), requires_grad=True)
    in_weight = rg.tensor(rng.standard_normal((3 * embed, embed)) * 0.5, requires_grad=True)
    in_bias = rg.tensor(rng.standard_normal(3 * embed), requires_grad=True)
    out_weight = rg.tensor(rng.standard_normal((embed, embed)) * 0.5, requires_grad=True)
    causal_mask = rg.from_numpy(np.triu(np.full((length, length), -np.inf), 1))
    from retrograd.ops.attention import _multi_head_attention

    def attend(x, in_weight, in_bias, out_weight):
        return _multi_head_attention(
            x, x, x, embed, heads, in_weight, in_bias, None, None, False, 0.0, out_weight, None,
            need_weights=False, attn_mask=causal_mask, is_causal=True, training=True, key_padding_mask=None,
            use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None, v_proj_weight=None,
            static_k=None, static_v=None, average_attn_weights=True, batch_first=batch_first,
        )[0]  # fmt: skip

    inputs = (x, in_weight, in_bias, out_weight)
    assert rg.autograd.gradcheck(attend, inputs)
    assert rg.autograd.gradgradcheck(attend, inputs)
