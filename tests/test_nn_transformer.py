"""MultiheadAttention and the Transformer layers against PyTorch: the same
weights (copied through NumPy) give the same outputs, attention weights, input
gradients and parameter gradients in float64; state_dict keys and shapes
equal PyTorch's; masks, layouts and variants; initialisation, dropout and errors."""

import copy

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn.modules.attention import MultiheadAttention
from retrograd.nn.modules.normalization import LayerNorm
from retrograd.nn.modules.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

from oracle import assert_close

torch = pytest.importorskip("torch")

TOLERANCE = 1e-8


# ------------------------------------------------------------------ the harness


def copy_weights(theirs, ours) -> None:
    """PyTorch's parameters into ours, through NumPy (the state_dict keys must agree)."""
    state = {name: rg.from_numpy(value.detach().numpy().copy()) for name, value in theirs.state_dict().items()}
    ours.load_state_dict(state)


def make_pair(torch_class, our_class, *args, **kwargs):
    """The same layer in both libraries, float64, with PyTorch's weights in ours."""
    torch.manual_seed(0)
    theirs = torch_class(*args, **kwargs, dtype=torch.float64)
    ours = our_class(*args, **kwargs, dtype=rg.float64)
    copy_weights(theirs, ours)
    return ours, theirs


def assert_same_state_dict_layout(ours, theirs) -> None:
    our_state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(our_state) == list(their_state)
    for name, value in their_state.items():
        assert tuple(our_state[name].shape) == tuple(value.shape), name


def _as_tuple(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def compare_with_torch(ours, theirs, arrays, call, seed: int = 0) -> None:
    """Run ``call(module, lib, *inputs)`` in both libraries and compare every output,
    then backpropagate the same random output gradients and compare the inputs'
    and all parameters' gradients."""
    our_inputs = [rg.tensor(a, requires_grad=True) for a in arrays]
    their_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    our_outputs = _as_tuple(call(ours, rg, *our_inputs))
    their_outputs = _as_tuple(call(theirs, torch, *their_inputs))
    assert len(our_outputs) == len(their_outputs)
    rng = np.random.default_rng(seed)
    our_loss, their_loss = 0, 0
    for position, (a, b) in enumerate(zip(our_outputs, their_outputs, strict=True)):
        if b is None:
            assert a is None, f"output {position}: PyTorch returns None"
            continue
        assert_close(a, b, f"output {position}", tol=TOLERANCE)
        grad = rng.standard_normal(tuple(b.shape))
        # NaN outputs (queries with nothing to attend to) take no part in the loss.
        keep = np.isfinite(b.detach().numpy())
        grad = np.where(keep, grad, 0.0)
        our_loss = our_loss + (a * rg.from_numpy(grad)).masked_fill(rg.from_numpy(~keep), 0.0).sum()
        their_loss = their_loss + (b * torch.from_numpy(grad)).masked_fill(torch.from_numpy(~keep), 0.0).sum()
    our_loss.backward()
    their_loss.backward()
    for position, (a, b) in enumerate(zip(our_inputs, their_inputs, strict=True)):
        expected = b.grad if b.grad is not None else torch.zeros_like(b)
        actual = a.grad if a.grad is not None else rg.zeros_like(a)
        assert_close(actual, expected, f"gradient of input {position}", tol=TOLERANCE)
    our_parameters, their_parameters = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(our_parameters) == list(their_parameters)
    for name, parameter in their_parameters.items():
        expected = parameter.grad if parameter.grad is not None else torch.zeros_like(parameter)
        actual = our_parameters[name].grad
        actual = actual if actual is not None else rg.zeros_like(our_parameters[name])
        assert_close(actual, expected, f"gradient of {name}", tol=TOLERANCE)


def randn(*shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def constant(lib, array: np.ndarray):
    return lib.from_numpy(array.copy())


def mha_pair(*args, **kwargs):
    return make_pair(torch.nn.MultiheadAttention, MultiheadAttention, *args, **kwargs)


# ------------------------------------------------------------ MultiheadAttention

E, HEADS, L, S, N = 8, 2, 4, 5, 3

WEIGHT_MODES = {
    "averaged": {},
    "per_head": {"average_attn_weights": False},
    "no_weights": {"need_weights": False},
}


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode", list(WEIGHT_MODES))
def test_self_attention_matches_pytorch(batch_first, mode):
    ours, theirs = mha_pair(E, HEADS, batch_first=batch_first)
    shape = (N, L, E) if batch_first else (L, N, E)
    compare_with_torch(ours, theirs, [randn(*shape)], lambda m, lib, x: m(x, x, x, **WEIGHT_MODES[mode]))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode", list(WEIGHT_MODES))
def test_encoder_decoder_attention_matches_pytorch(batch_first, mode):
    """Key and value are one tensor, the query another (the packed k/v projection)."""
    ours, theirs = mha_pair(E, HEADS, batch_first=batch_first)
    shapes = ((N, L, E), (N, S, E)) if batch_first else ((L, N, E), (S, N, E))
    arrays = [randn(*shapes[0], seed=1), randn(*shapes[1], seed=2)]
    compare_with_torch(ours, theirs, arrays, lambda m, lib, q, kv: m(q, kv, kv, **WEIGHT_MODES[mode]))


@pytest.mark.parametrize("batch_first", [False, True])
def test_distinct_query_key_value_match_pytorch(batch_first):
    ours, theirs = mha_pair(E, HEADS, batch_first=batch_first)
    shapes = ((N, L, E), (N, S, E), (N, S, E)) if batch_first else ((L, N, E), (S, N, E), (S, N, E))
    arrays = [randn(*shape, seed=i) for i, shape in enumerate(shapes)]
    compare_with_torch(ours, theirs, arrays, lambda m, lib, q, k, v: m(q, k, v, average_attn_weights=False))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode", ["averaged", "no_weights"])
def test_kdim_and_vdim_use_separate_projections(batch_first, mode):
    ours, theirs = mha_pair(E, HEADS, kdim=3, vdim=5, batch_first=batch_first)
    assert_same_state_dict_layout(ours, theirs)
    assert ours.in_proj_weight is None
    shapes = ((N, L, E), (N, S, 3), (N, S, 5)) if batch_first else ((L, N, E), (S, N, 3), (S, N, 5))
    arrays = [randn(*shape, seed=i) for i, shape in enumerate(shapes)]
    compare_with_torch(ours, theirs, arrays, lambda m, lib, q, k, v: m(q, k, v, **WEIGHT_MODES[mode]))


PADDING = np.zeros((N, S), dtype=bool)
PADDING[0, 3:] = True
PADDING[2, 1:] = True
BOOL_ATTN_MASK = np.random.default_rng(5).random((L, S)) > 0.6
BOOL_ATTN_MASK[:, 0] = False  # every query keeps key 0
FLOAT_ATTN_MASK = np.random.default_rng(6).standard_normal((L, S))
BOOL_ATTN_MASK_3D = np.random.default_rng(7).random((N * HEADS, L, S)) > 0.6
BOOL_ATTN_MASK_3D[..., 0] = False
FLOAT_ATTN_MASK_3D = np.random.default_rng(8).standard_normal((N * HEADS, L, S))

MASKS = {
    "padding_bool": {"key_padding_mask": PADDING},
    "padding_float": {"key_padding_mask": np.where(PADDING, -np.inf, 0.0)},
    "attn_bool_2d": {"attn_mask": BOOL_ATTN_MASK},
    "attn_float_2d": {"attn_mask": FLOAT_ATTN_MASK},
    "attn_bool_3d": {"attn_mask": BOOL_ATTN_MASK_3D},
    "attn_float_3d": {"attn_mask": FLOAT_ATTN_MASK_3D},
    "padding_and_attn_bool": {"key_padding_mask": PADDING, "attn_mask": BOOL_ATTN_MASK},
    "padding_and_attn_float": {"key_padding_mask": np.where(PADDING, -1e4, 0.0), "attn_mask": FLOAT_ATTN_MASK_3D},
}


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode", ["averaged", "no_weights"])
@pytest.mark.parametrize("masks", list(MASKS))
def test_masks_match_pytorch(masks, mode, batch_first):
    ours, theirs = mha_pair(E, HEADS, batch_first=batch_first)
    shapes = ((N, L, E), (N, S, E)) if batch_first else ((L, N, E), (S, N, E))
    arrays = [randn(*shapes[0], seed=1), randn(*shapes[1], seed=2)]

    def call(m, lib, q, kv):
        given = {name: constant(lib, mask) for name, mask in MASKS[masks].items()}
        return m(q, kv, kv, **given, **WEIGHT_MODES[mode])

    compare_with_torch(ours, theirs, arrays, call)


@pytest.mark.parametrize("mode", ["averaged", "no_weights"])
def test_float_masks_receive_gradients_like_pytorch(mode):
    ours, theirs = mha_pair(E, HEADS, batch_first=True)
    arrays = [randn(N, L, E, seed=1), randn(N, S, E, seed=2), FLOAT_ATTN_MASK_3D, randn(N, S, seed=3)]

    def call(m, lib, q, kv, attn_mask, padding):
        return m(q, kv, kv, attn_mask=attn_mask, key_padding_mask=padding, **WEIGHT_MODES[mode])

    compare_with_torch(ours, theirs, arrays, call)


@pytest.mark.parametrize("mode", list(WEIGHT_MODES))
def test_causal_hint_with_its_mask_matches_pytorch(mode):
    """With need_weights=False the hint replaces the mask (scaled_dot_product_attention's is_causal)."""
    ours, theirs = mha_pair(E, HEADS, batch_first=True)
    causal = np.triu(np.full((L, L), -np.inf), k=1)
    compare_with_torch(
        ours,
        theirs,
        [randn(N, L, E)],
        lambda m, lib, x: m(x, x, x, attn_mask=constant(lib, causal), is_causal=True, **WEIGHT_MODES[mode]),
    )


@pytest.mark.parametrize("mode", list(WEIGHT_MODES))
def test_fully_padded_sequence_gives_nan_with_weights_and_zeros_without(mode):
    """PyTorch's two paths differ here: a plain softmax (NaN) when the weights are
    returned, scaled_dot_product_attention (zeros) when they are not."""
    ours, theirs = mha_pair(E, HEADS, batch_first=True)
    padding = np.zeros((N, L), dtype=bool)
    padding[1] = True
    compare_with_torch(
        ours,
        theirs,
        [randn(N, L, E)],
        lambda m, lib, x: m(x, x, x, key_padding_mask=constant(lib, padding), **WEIGHT_MODES[mode]),
    )
    output, _ = ours(
        *(rg.from_numpy(randn(N, L, E)),) * 3, key_padding_mask=rg.from_numpy(padding), **WEIGHT_MODES[mode]
    )
    assert np.isnan(output.detach().numpy()[1]).all() == (mode != "no_weights")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode", list(WEIGHT_MODES))
def test_unbatched_input_matches_pytorch(batch_first, mode):
    ours, theirs = mha_pair(E, HEADS, batch_first=batch_first)
    padding = np.array([False, False, True, False, True])
    mask = BOOL_ATTN_MASK_3D[:HEADS]

    def call(m, lib, q, kv):
        return m(
            q, kv, kv, key_padding_mask=constant(lib, padding), attn_mask=constant(lib, mask), **WEIGHT_MODES[mode]
        )

    compare_with_torch(ours, theirs, [randn(L, E, seed=1), randn(S, E, seed=2)], call)
    compare_with_torch(ours, theirs, [randn(L, E)], lambda m, lib, x: m(x, x, x, **WEIGHT_MODES[mode]))


@pytest.mark.parametrize("mode", ["averaged", "no_weights"])
def test_without_bias_matches_pytorch(mode):
    ours, theirs = mha_pair(E, HEADS, bias=False)
    assert_same_state_dict_layout(ours, theirs)
    compare_with_torch(ours, theirs, [randn(L, N, E)], lambda m, lib, x: m(x, x, x, **WEIGHT_MODES[mode]))


@pytest.mark.parametrize("add_bias_kv", [False, True])
@pytest.mark.parametrize("add_zero_attn", [False, True])
@pytest.mark.parametrize("mode", ["averaged", "no_weights"])
def test_extra_keys_match_pytorch(add_bias_kv, add_zero_attn, mode):
    """add_bias_kv appends learned keys, add_zero_attn a zero one; masks grow by a column each."""
    ours, theirs = mha_pair(E, HEADS, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn, batch_first=True)
    assert_same_state_dict_layout(ours, theirs)

    def call(m, lib, q, kv):
        padding = constant(lib, np.where(PADDING, -np.inf, 0.0))
        masks = {"key_padding_mask": padding, "attn_mask": constant(lib, FLOAT_ATTN_MASK)}
        return m(q, kv, kv, **masks, **WEIGHT_MODES[mode])

    compare_with_torch(ours, theirs, [randn(N, L, E, seed=1), randn(N, S, E, seed=2)], call)


def test_train_mode_without_dropout_matches_pytorch():
    ours, theirs = mha_pair(E, HEADS, dropout=0.0)
    ours.train(), theirs.train()
    compare_with_torch(ours, theirs, [randn(L, N, E)], lambda m, lib, x: m(x, x, x))


def test_eval_mode_turns_dropout_off():
    ours, theirs = mha_pair(E, HEADS, dropout=0.5, batch_first=True)
    ours.eval(), theirs.eval()
    compare_with_torch(ours, theirs, [randn(N, L, E)], lambda m, lib, x: m(x, x, x))


def test_dropout_in_training_drops_attention_weights():
    ours = MultiheadAttention(E, HEADS, dropout=0.5, batch_first=True, dtype=rg.float64)
    x = rg.from_numpy(randn(N, L, E))
    rg.manual_seed(1)
    _, weights = ours(x, x, x, average_attn_weights=False)
    dropped = weights.detach().numpy() == 0
    assert 0.3 < dropped.mean() < 0.7
    # The kept weights are scaled by 1 / (1 - p): each row sums to 2 on average.
    np.testing.assert_allclose(weights.detach().numpy().sum(-1).mean(), 1.0, atol=0.35)
    rg.manual_seed(1)
    again, _ = ours(x, x, x, average_attn_weights=False)
    rg.manual_seed(1)
    first, _ = ours(x, x, x, average_attn_weights=False)
    np.testing.assert_array_equal(first.detach().numpy(), again.detach().numpy())


def test_gradcheck_and_gradgradcheck_through_the_module():
    module = MultiheadAttention(4, 2, batch_first=True, dtype=rg.float64)
    x = rg.tensor(randn(2, 3, 4), requires_grad=True)
    memory = rg.tensor(randn(2, 2, 4, seed=1), requires_grad=True)
    padding = rg.from_numpy(np.array([[False, False], [False, True]]))

    def attend(x, memory):
        output, weights = module(x, memory, memory, key_padding_mask=padding, average_attn_weights=False)
        return output.sum(-1) + weights.sum(-1)

    assert rg.autograd.gradcheck(attend, (x, memory))
    assert rg.autograd.gradgradcheck(attend, (x, memory))


def test_self_attention_projects_query_key_and_value_with_one_matmul():
    module = MultiheadAttention(E, HEADS, dtype=rg.float64)
    x = rg.tensor(randn(L, N, E), requires_grad=True)
    output, _ = module(x, x, x, need_weights=False)
    # Walk the graph: exactly two linear nodes (the packed in-projection and out_proj).
    seen, stack, linear_nodes = set(), [output.grad_fn], 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or not hasattr(node, "next_edges"):
            continue
        seen.add(id(node))
        linear_nodes += type(node).__name__ == "Linear"
        stack.extend(edge[0] for edge in node.next_edges if edge is not None)
    assert linear_nodes == 2


def test_state_dict_and_initialisation_follow_pytorch():
    ours, theirs = mha_pair(E, HEADS)
    assert_same_state_dict_layout(ours, theirs)
    fresh = MultiheadAttention(E, HEADS)
    assert fresh.in_proj_weight.dtype == rg.float32
    bound = np.sqrt(6.0 / (E + 3 * E))
    weights = fresh.in_proj_weight.detach().numpy()
    assert np.abs(weights).max() <= bound and np.abs(weights).max() > 0.8 * bound
    assert not fresh.in_proj_bias.detach().numpy().any()
    assert not fresh.out_proj.bias.detach().numpy().any()
    assert type(fresh.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert repr(fresh) == repr(torch.nn.MultiheadAttention(E, HEADS)).replace("torch.", "")
    assert (fresh.head_dim, fresh.kdim, fresh.vdim, fresh._qkv_same_embed_dim) == (E // HEADS, E, E, True)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: MultiheadAttention(6, 4), AssertionError, "embed_dim must be divisible by num_heads"),
        (lambda: MultiheadAttention(0, 2), ValueError, "must be greater than 0"),
    ],
)
def test_constructor_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def _call_with(**kwargs):
    module = MultiheadAttention(E, HEADS, dtype=rg.float64)
    x = rg.from_numpy(randn(L, N, E))
    arguments = {"query": x, "key": x, "value": x, **kwargs}
    return lambda: module(**arguments)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (_call_with(query=rg.from_numpy(randn(L, N, 6))), AssertionError, "was expecting embedding dimension of 8"),
        (_call_with(query=rg.from_numpy(randn(1, L, N, E))), AssertionError, "received 4-D query tensor"),
        (_call_with(key=rg.from_numpy(randn(S, E))), AssertionError, "expected `key` and `value` to be 3-D"),
        (
            _call_with(key=rg.from_numpy(randn(S, N, E)), value=rg.from_numpy(randn(S + 1, N, E))),
            AssertionError,
            "does not match value shape",
        ),
        (_call_with(key=rg.from_numpy(randn(S, N + 1, E))), RuntimeError, "same batch size"),
        (_call_with(attn_mask=rg.zeros(L, L + 1)), RuntimeError, "The shape of the 2D attn_mask"),
        (_call_with(attn_mask=rg.zeros(N, L, L)), RuntimeError, "The shape of the 3D attn_mask"),
        (_call_with(attn_mask=rg.zeros(L, L, dtype=rg.int64)), AssertionError, "only bool and floating types"),
        (_call_with(key_padding_mask=rg.zeros(N, L + 1, dtype=rg.bool)), AssertionError, "key_padding_mask of shape"),
        (_call_with(key_padding_mask=rg.zeros(N, dtype=rg.bool)), AssertionError, "to be `None` or 2-D"),
        (_call_with(is_causal=True), RuntimeError, "Need attn_mask if specifying the is_causal hint"),
    ],
)
def test_forward_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_mismatched_mask_types_warn_like_pytorch():
    module = MultiheadAttention(E, HEADS, dtype=rg.float64)
    x = rg.from_numpy(randn(L, N, E))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        module(x, x, x, key_padding_mask=rg.zeros(N, L, dtype=rg.bool), attn_mask=rg.zeros(L, L, dtype=rg.float64))


def test_deepcopy_gives_independent_parameters():
    module = MultiheadAttention(E, HEADS)
    clone = copy.deepcopy(module)
    assert clone.in_proj_weight is not module.in_proj_weight
    np.testing.assert_array_equal(clone.in_proj_weight.detach().numpy(), module.in_proj_weight.detach().numpy())


# ------------------------------------------------------------ Transformer layers

D_MODEL, NHEAD, FEEDFORWARD = 8, 2, 16
SRC, TGT = 5, 4
SRC_PADDING = np.zeros((N, SRC), dtype=bool)
SRC_PADDING[1, 3:] = True
TGT_PADDING = np.zeros((N, TGT), dtype=bool)
TGT_PADDING[2, 2:] = True
CAUSAL_TGT = np.triu(np.full((TGT, TGT), -np.inf), k=1)
CAUSAL_SRC = np.triu(np.full((SRC, SRC), -np.inf), k=1)
MEMORY_MASK = np.random.default_rng(9).standard_normal((TGT, SRC))
# Mask sets of one type each (PyTorch warns when boolean and float masks are mixed).
BOOL_MASKS = {
    "src_mask": np.triu(np.ones((SRC, SRC), dtype=bool), k=1),
    "src_padding": SRC_PADDING,
    "tgt_mask": np.triu(np.ones((TGT, TGT), dtype=bool), k=1),
    "tgt_padding": TGT_PADDING,
    "memory_mask": MEMORY_MASK > 1.0,
}
FLOAT_MASKS = {
    "src_mask": CAUSAL_SRC,
    "src_padding": np.where(SRC_PADDING, -np.inf, 0.0),
    "tgt_mask": CAUSAL_TGT,
    "tgt_padding": np.where(TGT_PADDING, -np.inf, 0.0),
    "memory_mask": MEMORY_MASK,
}
MASK_SETS = {"bool": BOOL_MASKS, "float": FLOAT_MASKS}


def activation_of(name: str):
    """An activation given by name, or as a callable that neither library knows by name."""
    if name == "callable":
        return lambda x: x.tanh() * 2
    return name


def layer_pair(torch_class, our_class, mode: str, **kwargs):
    """A pair of layers in eval mode (PyTorch's default dropout 0.1, switched off),
    or in train mode with dropout 0."""
    if mode == "train":
        kwargs["dropout"] = 0.0
    ours, theirs = make_pair(torch_class, our_class, D_MODEL, NHEAD, FEEDFORWARD, **kwargs)
    ours.train(mode == "train"), theirs.train(mode == "train")
    assert_same_state_dict_layout(ours, theirs)
    return ours, theirs


def sequence(length: int, batch_first: bool, seed: int) -> np.ndarray:
    return randn(*((N, length, D_MODEL) if batch_first else (length, N, D_MODEL)), seed=seed)


@pytest.mark.parametrize(("mode", "masks"), [("eval", "bool"), ("train", "float")])
@pytest.mark.parametrize("activation", ["relu", "gelu", "callable"])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_pytorch(batch_first, norm_first, activation, mode, masks):
    ours, theirs = layer_pair(
        torch.nn.TransformerEncoderLayer,
        TransformerEncoderLayer,
        mode,
        activation=activation_of(activation),
        batch_first=batch_first,
        norm_first=norm_first,
    )

    given = MASK_SETS[masks]

    def call(m, lib, src):
        return m(
            src, src_mask=constant(lib, given["src_mask"]), src_key_padding_mask=constant(lib, given["src_padding"])
        )

    compare_with_torch(ours, theirs, [sequence(SRC, batch_first, seed=1)], call)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_unbatched_and_without_masks_matches_pytorch(norm_first):
    ours, theirs = layer_pair(torch.nn.TransformerEncoderLayer, TransformerEncoderLayer, "eval", norm_first=norm_first)
    compare_with_torch(ours, theirs, [randn(SRC, D_MODEL)], lambda m, lib, src: m(src))
    compare_with_torch(ours, theirs, [randn(SRC, N, D_MODEL)], lambda m, lib, src: m(src, is_causal=False))


def test_encoder_layer_without_bias_matches_pytorch():
    ours, theirs = layer_pair(torch.nn.TransformerEncoderLayer, TransformerEncoderLayer, "eval", bias=False)
    assert ours.norm1.bias is None and ours.linear1.bias is None
    compare_with_torch(ours, theirs, [randn(SRC, N, D_MODEL)], lambda m, lib, src: m(src))


def test_encoder_layer_inference_matches_pytorchs_fused_path():
    """Under no_grad in eval mode PyTorch takes its fused kernel; the values agree."""
    ours, theirs = layer_pair(torch.nn.TransformerEncoderLayer, TransformerEncoderLayer, "eval", batch_first=True)
    src = sequence(SRC, True, seed=3)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(src), src_key_padding_mask=torch.from_numpy(SRC_PADDING))
    with rg.no_grad():
        actual = ours(rg.from_numpy(src), src_key_padding_mask=rg.from_numpy(SRC_PADDING))
    assert_close(actual, expected, "output", tol=TOLERANCE)


@pytest.mark.parametrize(("mode", "masks"), [("eval", "bool"), ("train", "float")])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_matches_pytorch(batch_first, norm_first, activation, mode, masks):
    ours, theirs = layer_pair(
        torch.nn.TransformerDecoderLayer,
        TransformerDecoderLayer,
        mode,
        activation=activation,
        batch_first=batch_first,
        norm_first=norm_first,
    )

    given = MASK_SETS[masks]

    def call(m, lib, tgt, memory):
        return m(
            tgt,
            memory,
            tgt_mask=constant(lib, given["tgt_mask"]),
            memory_mask=constant(lib, given["memory_mask"]),
            tgt_key_padding_mask=constant(lib, given["tgt_padding"]),
            memory_key_padding_mask=constant(lib, given["src_padding"]),
            tgt_is_causal=True,
        )

    arrays = [sequence(TGT, batch_first, seed=1), sequence(SRC, batch_first, seed=2)]
    compare_with_torch(ours, theirs, arrays, call)


def test_decoder_layer_causal_hint_without_padding_matches_pytorch():
    """No padding mask: the tgt_is_causal hint goes to the attention as is_causal."""
    ours, theirs = layer_pair(torch.nn.TransformerDecoderLayer, TransformerDecoderLayer, "eval", batch_first=True)
    arrays = [sequence(TGT, True, seed=1), sequence(SRC, True, seed=2)]
    compare_with_torch(
        ours, theirs, arrays, lambda m, lib, t, mem: m(t, mem, tgt_mask=constant(lib, CAUSAL_TGT), tgt_is_causal=True)
    )


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_stack_matches_pytorch(batch_first, norm_first):
    torch.manual_seed(0)
    layer_args = (D_MODEL, NHEAD, FEEDFORWARD)
    layer_kwargs = {"batch_first": batch_first, "norm_first": norm_first}
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(*layer_args, **layer_kwargs, dtype=torch.float64),
        num_layers=2,
        norm=torch.nn.LayerNorm(D_MODEL, dtype=torch.float64),
        enable_nested_tensor=False,
    )
    ours = TransformerEncoder(
        TransformerEncoderLayer(*layer_args, **layer_kwargs, dtype=rg.float64),
        num_layers=2,
        norm=LayerNorm(D_MODEL, dtype=rg.float64),
    )
    assert_same_state_dict_layout(ours, theirs)
    assert "layers.1.self_attn.in_proj_weight" in ours.state_dict()
    copy_weights(theirs, ours)
    ours.eval(), theirs.eval()

    def call(m, lib, src):
        # A causal mask given without the hint: the stack recognises it.
        padding = constant(lib, FLOAT_MASKS["src_padding"])
        return m(src, mask=constant(lib, CAUSAL_SRC), src_key_padding_mask=padding)

    compare_with_torch(ours, theirs, [sequence(SRC, batch_first, seed=1)], call)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_stack_matches_pytorch(norm_first):
    torch.manual_seed(0)
    layer_args = (D_MODEL, NHEAD, FEEDFORWARD)
    theirs = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(*layer_args, norm_first=norm_first, dtype=torch.float64), num_layers=2
    )
    ours = TransformerDecoder(
        TransformerDecoderLayer(*layer_args, norm_first=norm_first, dtype=rg.float64), num_layers=2
    )
    assert_same_state_dict_layout(ours, theirs)
    copy_weights(theirs, ours)
    ours.eval(), theirs.eval()

    def call(m, lib, tgt, memory):
        padding = constant(lib, FLOAT_MASKS["src_padding"])
        return m(tgt, memory, tgt_mask=constant(lib, CAUSAL_TGT), memory_key_padding_mask=padding)

    compare_with_torch(ours, theirs, [sequence(TGT, False, seed=1), sequence(SRC, False, seed=2)], call)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_pytorch(batch_first):
    kwargs = {"num_encoder_layers": 2, "num_decoder_layers": 1, "dim_feedforward": FEEDFORWARD}
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(D_MODEL, NHEAD, **kwargs, batch_first=batch_first, dtype=torch.float64)
    ours = Transformer(D_MODEL, NHEAD, **kwargs, batch_first=batch_first, dtype=rg.float64)
    assert_same_state_dict_layout(ours, theirs)
    copy_weights(theirs, ours)
    ours.eval(), theirs.eval()

    def call(m, lib, src, tgt):
        mask = m.generate_square_subsequent_mask(TGT, dtype=lib.float64)
        padding = constant(lib, FLOAT_MASKS["src_padding"])
        return m(src, tgt, tgt_mask=mask, src_key_padding_mask=padding, tgt_is_causal=True)

    compare_with_torch(ours, theirs, [sequence(SRC, batch_first, seed=1), sequence(TGT, batch_first, seed=2)], call)


def test_generate_square_subsequent_mask_matches_pytorch():
    assert_close(
        Transformer.generate_square_subsequent_mask(4), torch.nn.Transformer.generate_square_subsequent_mask(4), "mask"
    )
    assert Transformer.generate_square_subsequent_mask(3).dtype == rg.float32
    assert Transformer.generate_square_subsequent_mask(3, dtype=rg.float64).dtype == rg.float64


def test_transformer_initialises_every_matrix_xavier_uniform():
    model = Transformer(D_MODEL, NHEAD, 1, 1, FEEDFORWARD)
    weight = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6.0 / (D_MODEL + FEEDFORWARD))
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.8 * bound
    assert not model.encoder.layers[0].self_attn.in_proj_bias.detach().numpy().any()


def test_stack_layers_are_independent_deep_copies():
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD)
    encoder = TransformerEncoder(layer, num_layers=3)
    weights = [encoder.layers[i].linear1.weight for i in range(3)]
    assert len({id(w) for w in weights}) == 3 and all(w is not layer.linear1.weight for w in weights)
    with rg.no_grad():
        encoder.layers[0].linear1.weight.fill_(0.0)
    assert encoder.layers[1].linear1.weight.detach().numpy().any()
    assert len(list(encoder.parameters())) == 3 * len(list(layer.parameters()))


def test_activation_is_pytorchs_function_by_name_and_errors_on_unknown_names():
    from retrograd.nn import functional

    assert TransformerEncoderLayer(D_MODEL, NHEAD).activation is functional.relu
    assert TransformerDecoderLayer(D_MODEL, NHEAD, activation="gelu").activation is functional.gelu
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        TransformerEncoderLayer(D_MODEL, NHEAD, activation="tanh")


def test_dropout_in_training_makes_the_encoder_layer_random_and_eval_deterministic():
    layer = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, dropout=0.5, dtype=rg.float64)
    src = rg.from_numpy(randn(SRC, N, D_MODEL))
    rg.manual_seed(0)
    first = layer(src).detach().numpy()
    rg.manual_seed(0)
    repeated = layer(src).detach().numpy()
    other = layer(src).detach().numpy()
    np.testing.assert_array_equal(first, repeated)
    assert not np.allclose(first, other)
    layer.eval()
    np.testing.assert_array_equal(layer(src).detach().numpy(), layer(src).detach().numpy())


def test_transformer_errors():
    model = Transformer(D_MODEL, NHEAD, 1, 1, FEEDFORWARD)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(rg.randn(SRC, 2, D_MODEL), rg.randn(TGT, 3, D_MODEL))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(rg.randn(SRC, 2, D_MODEL), rg.randn(TGT, 2, D_MODEL + 1))
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        TransformerEncoderLayer(6, 4)


@pytest.mark.parametrize("use_kernels", [False, True], ids=["numpy", "kernel"])
def test_float32_pre_norm_causal_encoder_layer_matches_pytorch(monkeypatch, use_kernels):
    """The training set-up of a small language model: float32, pre-norm, causal
    mask with the is_causal hint, no dropout (the fused attention node and the
    layer-norm kernels), against PyTorch at float32 tolerance."""
    if use_kernels and not rg._jit.numba_available():
        pytest.skip("Numba is not installed")
    monkeypatch.setattr(rg._jit, "enabled", use_kernels)
    options = {"dim_feedforward": 32, "dropout": 0.0, "activation": "gelu", "batch_first": True, "norm_first": True}
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(16, 4, **options, dtype=torch.float32)
    ours = TransformerEncoderLayer(16, 4, **options, dtype=rg.float32)
    ours.load_state_dict({k: rg.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 16)).astype(np.float32)
    grad = rng.standard_normal((3, 7, 16)).astype(np.float32)
    mask = np.triu(np.full((7, 7), -np.inf, dtype=np.float32), 1)
    our_x, their_x = rg.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(x.copy()).requires_grad_()
    our_out = ours(our_x, src_mask=rg.from_numpy(mask), is_causal=True)
    their_out = theirs(their_x, src_mask=torch.from_numpy(mask), is_causal=True)
    assert our_out.dtype == rg.float32
    assert_close(our_out, their_out, "output", tol=1e-5)
    our_out.backward(rg.from_numpy(grad))
    their_out.backward(torch.from_numpy(grad))
    assert_close(our_x.grad, their_x.grad, "input gradient", tol=1e-4)
    their_params = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        assert_close(parameter.grad, their_params[name].grad, f"gradient of {name}", tol=1e-4)
