"""batch_norm, layer_norm, group_norm, embedding and channel dropout:
gradcheck, gradgradcheck and PyTorch comparison over the case tables, the
running-statistics updates, and errors."""

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd.ops import normalization as rg_functional

from oracle import Case, assert_close, check_case, compare_with_torch, parametrize_cases


def F(lib):
    return torch.nn.functional if lib is torch else rg_functional


# ------------------------------------------------------------------ batch_norm


def _batch_norm_inputs(shape, params=("weight", "bias")):
    """x, running_mean, running_var (positive), then the affine parameters."""

    def make(rng):
        channels = shape[1]
        arrays = [rng.standard_normal(shape), rng.standard_normal(channels), rng.uniform(0.5, 2.0, channels)]
        arrays += [rng.uniform(0.5, 2.0, channels) if p == "weight" else rng.standard_normal(channels) for p in params]
        return arrays

    return make


def _bn_case(name, shape, training=True, params=("weight", "bias"), momentum=0.1, eps=1e-5, **options):
    def fn(lib, x, running_mean, running_var, *affine):
        given = dict(zip(params, affine, strict=True))
        return F(lib).batch_norm(x, running_mean, running_var, **given, training=training, momentum=momentum, eps=eps)

    # The running statistics are non-differentiable inputs (positions 1 and 2).
    grad_inputs = (0, *range(3, 3 + len(params)))
    return Case(
        name, fn, shapes=(shape,), make_inputs=_batch_norm_inputs(shape, params), grad_inputs=grad_inputs, **options
    )


def _bn_no_running_stats(lib, x, w, b):
    return F(lib).batch_norm(x, None, None, w, b, training=True)


BATCH_NORM_CASES = [
    _bn_case("batch_norm_train_2d", (4, 3)),
    _bn_case("batch_norm_train_3d", (3, 2, 4)),
    _bn_case("batch_norm_train_4d", (2, 2, 3, 2)),
    _bn_case("batch_norm_train_5d", (2, 2, 2, 1, 2)),
    _bn_case("batch_norm_train_no_affine", (3, 2, 4), params=()),
    _bn_case("batch_norm_train_weight_only", (3, 2, 4), params=("weight",), noncontiguous=False),
    _bn_case("batch_norm_train_bias_only", (3, 2, 4), params=("bias",), noncontiguous=False),
    _bn_case("batch_norm_train_momentum_eps", (4, 3), momentum=0.7, eps=1e-3, noncontiguous=False),
    _bn_case("batch_norm_train_one_channel", (5, 1, 2)),
    _bn_case("batch_norm_train_batch_of_one", (1, 2, 4)),
    _bn_case("batch_norm_train_empty_batch", (0, 3)),
    _bn_case("batch_norm_eval_2d", (5, 3), training=False),
    _bn_case("batch_norm_eval_4d", (2, 2, 3, 2), training=False),
    _bn_case("batch_norm_eval_no_affine", (3, 2, 4), training=False, params=(), noncontiguous=False),
    Case("batch_norm_train_untracked", _bn_no_running_stats, shapes=((4, 3, 2), (3,), (3,)), noncontiguous=False),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(BATCH_NORM_CASES))
def test_batch_norm(case, layout):
    check_case(case, layout=layout)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 2)])
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0, 0.0])
def test_batch_norm_updates_running_statistics_like_pytorch(shape, momentum):
    rng = np.random.default_rng(1)
    running = [rng.standard_normal(shape[1]), rng.uniform(0.5, 2.0, shape[1])]
    ours = [rg.from_numpy(a.copy()) for a in running]
    theirs = [torch.from_numpy(a.copy()) for a in running]
    for _ in range(3):
        x = rng.standard_normal(shape) * 3 + 1
        out = rg_functional.batch_norm(rg.from_numpy(x), *ours, training=True, momentum=momentum)
        expected = torch.nn.functional.batch_norm(torch.from_numpy(x), *theirs, training=True, momentum=momentum)
        assert_close(out, expected, "output")
        assert_close(ours[0], theirs[0], "running_mean")
        assert_close(ours[1], theirs[1], "running_var (unbiased)")


def test_batch_norm_leaves_running_statistics_alone_in_eval_and_on_empty_batches():
    running_mean, running_var = rg.zeros(3), rg.ones(3)
    rg_functional.batch_norm(rg.randn(4, 3), running_mean, running_var, training=False)
    rg_functional.batch_norm(rg.randn(0, 3), running_mean, running_var, training=True)
    assert running_mean.tolist() == [0, 0, 0] and running_var.tolist() == [1, 1, 1]


def test_batch_norm_float32_keeps_dtype():
    x = rg.randn(4, 3, requires_grad=True)
    out = rg_functional.batch_norm(x, rg.zeros(3), rg.ones(3), rg.ones(3), rg.zeros(3), training=True)
    assert out.dtype == rg.float32 and out.grad_fn.name() == "NativeBatchNormBackward0"
    out.sum().backward()
    assert x.grad.dtype == rg.float32


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: rg_functional.batch_norm(rg.randn(1, 3), None, None, training=True), ValueError, "more than 1 value"),
        (lambda: rg_functional.batch_norm(rg.randn(4, 3), None, None), RuntimeError, "running_mean must be defined"),
        (lambda: rg_functional.batch_norm(rg.randn(4), rg.zeros(4), rg.ones(4)), RuntimeError, "at least 2 dim"),
        (
            lambda: rg_functional.batch_norm(rg.randn(4, 3), rg.zeros(4), rg.ones(4)),
            RuntimeError,
            "running_mean should contain 3 elements not 4",
        ),
        (
            lambda: rg_functional.batch_norm(rg.randn(4, 3), None, None, rg.ones(2), training=True),
            RuntimeError,
            "weight should contain 3 elements not 2",
        ),
        (
            lambda: rg_functional.batch_norm(rg.randn(4, 3), rg.zeros(3, dtype=rg.float64), rg.ones(3)),
            RuntimeError,
            "running_mean to have the input's dtype float32, got float64",
        ),
        (
            lambda: rg_functional.batch_norm(rg.randn(4, 3), None, None, training=True, momentum=None),
            TypeError,
            "momentum",
        ),
        (
            lambda: rg_functional.batch_norm(rg.zeros(4, 3, dtype=rg.int64), None, None, training=True),
            RuntimeError,
            "floating-point input",
        ),
        (
            lambda: rg_functional.batch_norm(rg.randn(4, 3), rg.zeros(3), rg.ones(3, requires_grad=True)),
            RuntimeError,
            "not differentiable with respect to argument 'running_var'",
        ),
    ],
)
def test_batch_norm_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------------ layer_norm


def _ln_case(name, shape, normalized_shape, params=("weight", "bias"), eps=1e-5, **options):
    def fn(lib, x, *affine):
        return F(lib).layer_norm(x, normalized_shape, **dict(zip(params, affine, strict=True)), eps=eps)

    return Case(name, fn, shapes=(shape,) + (tuple(normalized_shape),) * len(params), **options)


LAYER_NORM_CASES = [
    _ln_case("layer_norm_1_dim", (4, 5), (5,)),
    _ln_case("layer_norm_1_dim_batched", (2, 3, 5), (5,)),
    _ln_case("layer_norm_2_dims", (2, 3, 4), (3, 4)),
    _ln_case("layer_norm_3_dims", (2, 2, 2, 3), (2, 2, 3)),
    _ln_case("layer_norm_whole_input", (3, 4), (3, 4)),
    _ln_case("layer_norm_1_dim_no_affine", (4, 5), (5,), params=()),
    _ln_case("layer_norm_2_dims_no_affine", (2, 3, 4), (3, 4), params=()),
    _ln_case("layer_norm_3_dims_no_affine", (2, 2, 2, 3), (2, 2, 3), params=()),
    _ln_case("layer_norm_weight_only", (2, 3, 4), (3, 4), params=("weight",), noncontiguous=False),
    _ln_case("layer_norm_bias_only", (2, 3, 4), (4,), params=("bias",), noncontiguous=False),
    _ln_case("layer_norm_eps", (4, 5), (5,), eps=0.5, noncontiguous=False),
    _ln_case("layer_norm_size1_dim", (4, 1), (1,)),
    _ln_case("layer_norm_empty_batch", (0, 5), (5,)),
    _ln_case("layer_norm_size1_batch", (1, 1, 6), (6,)),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(LAYER_NORM_CASES))
def test_layer_norm(case, layout):
    check_case(case, layout=layout)


def test_layer_norm_grad_fn_and_int_shape():
    x = rg.randn(2, 3, requires_grad=True)
    out = rg_functional.layer_norm(x, 3)
    assert out.grad_fn.name() == "NativeLayerNormBackward0"
    np.testing.assert_allclose(out.detach().numpy().mean(-1), 0, atol=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rg_functional.layer_norm(rg.randn(4, 3), (4,)), r"expected input with shape \[\*, 4\]"),
        (lambda: rg_functional.layer_norm(rg.randn(4, 3), ()), "at least 1-dimensional"),
        (lambda: rg_functional.layer_norm(rg.randn(4, 3), (3,), rg.ones(2)), "weight to be of same shape"),
        (lambda: rg_functional.layer_norm(rg.randn(4, 3), (3,), None, rg.ones(2)), "bias to be of same shape"),
        (lambda: rg_functional.layer_norm(rg.randn(4, 3), (3,), rg.ones(3, dtype=rg.float64)), "dtype"),
    ],
)
def test_layer_norm_errors(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


# ------------------------------------------------------------------ group_norm


def _gn_case(name, shape, groups, affine=True, eps=1e-5, **options):
    if affine:
        return Case(
            name,
            lambda lib, x, w, b: F(lib).group_norm(x, groups, w, b, eps=eps),
            shapes=(shape, (shape[1],), (shape[1],)),
            **options,
        )
    return Case(name, lambda lib, x: F(lib).group_norm(x, groups, eps=eps), shapes=(shape,), **options)


GROUP_NORM_CASES = [
    _gn_case("group_norm_2d", (3, 6), 3),
    _gn_case("group_norm_3d", (2, 6, 4), 2),
    _gn_case("group_norm_4d", (2, 4, 2, 3), 2),
    _gn_case("group_norm_one_group", (2, 4, 3), 1, noncontiguous=False),
    _gn_case("group_norm_instance", (2, 4, 3), 4, noncontiguous=False),
    _gn_case("group_norm_no_affine", (2, 6, 4), 3, affine=False, noncontiguous=False),
    _gn_case("group_norm_eps", (2, 4, 3), 2, eps=0.1, noncontiguous=False),
    _gn_case("group_norm_empty_batch", (0, 4, 3), 2),
    _gn_case("group_norm_size1_spatial", (3, 4, 1), 2, noncontiguous=False),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(GROUP_NORM_CASES))
def test_group_norm(case, layout):
    check_case(case, layout=layout)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: rg_functional.group_norm(rg.randn(4, 6, 5), 4), RuntimeError, "divisible by num_groups"),
        (lambda: rg_functional.group_norm(rg.randn(4), 2), RuntimeError, "at least 2 dimensions"),
        (lambda: rg_functional.group_norm(rg.randn(4, 6), 0), ValueError, "positive integer"),
        (lambda: rg_functional.group_norm(rg.randn(4, 6), 3, rg.ones(5)), RuntimeError, "weight of shape \\[5\\]"),
        (lambda: rg_functional.group_norm(rg.randn(1, 2), 2), ValueError, "more than 1 value"),
    ],
)
def test_group_norm_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------------- embedding


def _embedding_inputs(num_embeddings, dim, index_shape, seed_indices=None):
    def make(rng):
        indices = rng.integers(0, num_embeddings, size=index_shape) if seed_indices is None else seed_indices
        return [rng.standard_normal((num_embeddings, dim)), np.asarray(indices, dtype=np.int64)]

    return make


def _embedding_case(name, num_embeddings, dim, index_shape=None, indices=None, **kwargs):
    return Case(
        name,
        lambda lib, w, idx: F(lib).embedding(idx, w, **kwargs),
        shapes=((num_embeddings, dim),),
        make_inputs=_embedding_inputs(num_embeddings, dim, index_shape, indices),
    )


EMBEDDING_CASES = [
    _embedding_case("embedding_1d", 7, 3, (5,)),
    _embedding_case("embedding_2d_repeats", 4, 3, indices=[[0, 1, 1, 3], [3, 3, 3, 0]]),
    _embedding_case("embedding_3d", 5, 2, (2, 3, 2)),
    _embedding_case("embedding_scalar_index", 5, 4, indices=2),
    _embedding_case("embedding_empty_indices", 5, 4, (0, 3)),
    _embedding_case("embedding_one_row", 1, 1, indices=[0, 0, 0]),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(EMBEDDING_CASES))
def test_embedding(case, layout):
    check_case(case, layout=layout)


# The padding row's gradient is zero and scale_grad_by_freq divides by the
# counts: not the derivative of the forward, so these compare with PyTorch only.
EMBEDDING_RULE_CASES = [
    _embedding_case("embedding_padding", 5, 3, indices=[[0, 2, 2], [4, 2, 1]], padding_idx=2),
    _embedding_case("embedding_negative_padding", 5, 3, indices=[4, 4, 0, 1], padding_idx=-1),
    _embedding_case("embedding_freq", 5, 3, indices=[[0, 2, 2], [4, 2, 1]], scale_grad_by_freq=True),
    _embedding_case(
        "embedding_freq_padding", 5, 3, indices=[[0, 2, 2], [0, 2, 1]], padding_idx=0, scale_grad_by_freq=True
    ),
]


@pytest.mark.parametrize("case", EMBEDDING_RULE_CASES, ids=str)
def test_embedding_gradient_rules_match_pytorch(case):
    rng = np.random.default_rng(0)
    compare_with_torch(case, case.make_inputs(rng), rng)


def test_embedding_backward_accumulates_repeats_and_is_differentiable():
    weight = rg.randn(4, 2, dtype=rg.float64, requires_grad=True)
    indices = rg.tensor([1, 1, 3, 1])
    out = rg_functional.embedding(indices, weight, padding_idx=3)
    (grad,) = rg.autograd.grad((out * out).sum(), weight, create_graph=True)
    expected = np.zeros((4, 2))
    expected[1] = 2 * 3 * weight.detach().numpy()[1]
    np.testing.assert_allclose(grad.detach().numpy(), expected)
    grad.sum().backward()  # the gradient's own graph: d/dw of sum(6 w[1]) = 6 on row 1
    np.testing.assert_allclose(weight.grad.numpy(), [[0, 0], [6, 6], [0, 0], [0, 0]])
    assert out.grad_fn.name() == "EmbeddingBackward0"


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5])
def test_embedding_max_norm_renormalises_referenced_rows_in_place(norm_type):
    table = np.random.default_rng(0).standard_normal((6, 4)) * 3
    ours, theirs = rg.from_numpy(table.copy()), torch.from_numpy(table.copy())
    indices = np.array([[0, 2], [2, 5]])
    out = rg_functional.embedding(rg.from_numpy(indices), ours, max_norm=1.5, norm_type=norm_type)
    expected = torch.nn.functional.embedding(torch.from_numpy(indices), theirs, max_norm=1.5, norm_type=norm_type)
    assert_close(out, expected, "output")
    assert_close(ours, theirs, "renormalised table")
    assert np.array_equal(ours.numpy()[[1, 3, 4]], table[[1, 3, 4]])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: rg_functional.embedding(rg.tensor([0, 5]), rg.randn(5, 2)), IndexError, r"index 5 .*num_embeddings=5"),
        (lambda: rg_functional.embedding(rg.tensor([-1]), rg.randn(5, 2)), IndexError, "index -1"),
        (lambda: rg_functional.embedding(rg.tensor([0.0]), rg.randn(5, 2)), RuntimeError, "Long, Int"),
        (lambda: rg_functional.embedding(rg.tensor([0]), rg.randn(5)), RuntimeError, "'weight' must be 2-D"),
        (lambda: rg_functional.embedding(rg.tensor([0]), rg.randn(5, 2), padding_idx=5), AssertionError, "Padding"),
        (lambda: rg_functional.embedding([0, 1], rg.randn(5, 2)), TypeError, "Tensor of indices"),
    ],
)
def test_embedding_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------- channel dropout


@pytest.mark.parametrize(
    ("fn", "shape", "channel_shape"),
    [
        (rg_functional.dropout1d, (4, 6, 5), (4, 6, 1)),
        (rg_functional.dropout1d, (6, 5), (6, 1)),
        (rg_functional.dropout2d, (4, 6, 3, 3), (4, 6, 1, 1)),
        (rg_functional.dropout3d, (2, 6, 2, 2, 2), (2, 6, 1, 1, 1)),
        (rg_functional.dropout3d, (6, 2, 2, 2), (6, 1, 1, 1)),
    ],
)
def test_channel_dropout_zeroes_whole_channels(fn, shape, channel_shape):
    x = rg.ones(*shape, dtype=rg.float64, requires_grad=True)
    out = fn(x, p=0.4)
    values = out.detach().numpy()
    per_channel = values.reshape(int(np.prod(channel_shape)), -1)
    assert np.all(per_channel == per_channel[..., :1])  # one value per channel
    assert set(np.unique(values)) <= {0.0, 1 / 0.6}
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), values)  # gradient: the same mask
    assert fn(x, p=0.4, training=False) is x


def test_channel_dropout_is_reproducible_and_validates():
    x = rg.ones(8, 16, 4)
    rg.manual_seed(3)
    first = rg_functional.dropout1d(x, 0.5)
    rg.manual_seed(3)
    assert np.array_equal(first.numpy(), rg_functional.dropout1d(x, 0.5).numpy())
    assert np.all(rg_functional.dropout2d(rg.ones(2, 3, 2, 2), p=1.0).numpy() == 0)
    with pytest.raises(ValueError, match=r"between 0 and 1, but got 1\.5"):
        rg_functional.dropout1d(x, 1.5)
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        rg_functional.dropout1d(rg.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        rg_functional.dropout2d(rg.ones(2, 3, 4))


def test_channel_dropout_inplace_writes_into_the_input():
    x = rg.ones(4, 6, 3)
    out = rg_functional.dropout1d(x, 0.5, inplace=True)
    assert out is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


# ------------------------------------------------------ second derivatives


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
        lambda lib, x, w, b: F(lib).batch_norm(
            x, lib.linspace(-1, 1, 3, dtype=lib.float64), lib.linspace(0.5, 2, 3, dtype=lib.float64), w, b
        ),
        lambda lib, x, w, b: F(lib).layer_norm(x.transpose(1, 2), (2, 3), w.expand(2, 3), b.expand(2, 3)),
        lambda lib, x, w, b: F(lib).group_norm(x, 1, w, b),
    ],
    ids=["batch_norm_train", "batch_norm_eval", "layer_norm", "group_norm"],
)
def test_second_derivatives_match_pytorch(fn):
    """A gradient penalty: d/d(x, w, b) of sum(d loss / dx ** 2), through create_graph=True."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((4, 3, 2)), rng.uniform(0.5, 2, 3), rng.standard_normal(3)]
    results = []
    for lib in (rg, torch):
        inputs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        out = fn(lib, *inputs)
        loss = (out * lib.tensor(np.sin(np.arange(out.numel())).reshape(tuple(out.shape)))).sum() + (out**3).sum()
        (grad_x,) = lib.autograd.grad(loss, inputs[0], create_graph=True)
        penalty = (grad_x**2).sum()
        results.append(lib.autograd.grad(penalty, inputs))
    for ours, theirs, name in zip(*results, ("x", "weight", "bias"), strict=True):
        assert_close(ours, theirs, f"second derivative w.r.t. {name}")


def test_backward_refuses_an_input_changed_in_place():
    x = rg.randn(4, 3, requires_grad=True)
    y = x * 1
    out = rg_functional.layer_norm(y, (3,))
    with rg.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


# ------------------------------------------- layer_norm: float32 fast paths


def _layer_norm_float32_pair(lib, arrays, params, normalized_shape):
    tensors = [lib.from_numpy(a.copy()).requires_grad_() for a in arrays]
    given = dict(zip(params, tensors[1:], strict=True))
    return tensors, F(lib).layer_norm(tensors[0], normalized_shape, **given)


@pytest.mark.parametrize("params", [("weight", "bias"), ("weight",), ("bias",), ()])
@pytest.mark.parametrize(("shape", "normalized_shape"), [((3, 7, 40), (40,)), ((5, 4, 6), (4, 6)), ((1, 3), (3,))])
def test_layer_norm_float32_matches_pytorch(jit_enabled, params, shape, normalized_shape):
    rng = np.random.default_rng(3)
    arrays = [(rng.standard_normal(shape) * 3 + 1).astype(np.float32)]
    arrays += [rng.standard_normal(normalized_shape).astype(np.float32) for _ in params]
    seed = rng.standard_normal(shape).astype(np.float32)
    ours, out = _layer_norm_float32_pair(rg, arrays, params, normalized_shape)
    theirs, expected = _layer_norm_float32_pair(torch, arrays, params, normalized_shape)
    assert out.dtype == rg.float32
    assert_close(out, expected, "output", tol=1e-5)
    out.backward(rg.from_numpy(seed))
    expected.backward(torch.from_numpy(seed))
    for a, b in zip(ours, theirs, strict=True):
        assert a.grad.dtype == rg.float32
        assert_close(a.grad, b.grad, "gradient", tol=2e-4)


def test_layer_norm_float32_kernel_agrees_with_numpy_path(monkeypatch):
    if not rg._jit.numba_available():
        pytest.skip("Numba is not installed")
    rng = np.random.default_rng(4)
    rows = (rng.standard_normal((300, 96)) * 5 - 2).astype(np.float32)
    weight, bias = rng.standard_normal(96).astype(np.float32), rng.standard_normal(96).astype(np.float32)
    grad = rng.standard_normal((300, 96)).astype(np.float32)
    results = []
    for enabled in (True, False):
        monkeypatch.setattr(rg._jit, "enabled", enabled)
        out, mean, inv_std = rg_functional._layer_norm_rows(rows, weight, bias, 1e-5)
        grads = rg_functional._layer_norm_backward_rows(grad, rows, mean, inv_std, weight, True, True, True)
        results.append((out, mean, inv_std, *grads))
    for kernel_value, numpy_value in zip(*results, strict=True):
        assert kernel_value.dtype == np.float32
        np.testing.assert_allclose(kernel_value, numpy_value, rtol=1e-4, atol=1e-4)


def test_layer_norm_backward_computes_only_the_wanted_gradients():
    x = rg.randn(4, 6, requires_grad=True)
    weight, bias = rg.ones(6), rg.zeros(6, requires_grad=True)
    rg_functional.layer_norm(x, (6,), weight, bias).sum().backward()
    assert weight.grad is None
    np.testing.assert_allclose(bias.grad.numpy(), 4.0)
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-5)  # the sum of a normalised row is constant
