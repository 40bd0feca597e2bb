"""Dropout layers (train/eval, masks, reproducibility, validation) and
Embedding (initialisation, padding, repeated indices, max_norm,
from_pretrained) against PyTorch."""

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd.nn.modules.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d
from retrograd.nn.modules.sparse import Embedding

from oracle import Case, assert_close, check_case, parametrize_cases

# --------------------------------------------------------------------- dropout


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_training_zeroes_and_scales(p):
    layer = Dropout(p)
    x = rg.ones(200, 100, dtype=rg.float64, requires_grad=True)
    out = layer(x)
    values = out.detach().numpy()
    assert set(np.unique(values)) <= {0.0, 1 / (1 - p)}
    assert abs((values == 0).mean() - p) < 0.02
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # the gradient goes through the same mask


def test_dropout_eval_is_identity_and_train_toggles_back():
    layer = Dropout(0.5)
    x = rg.randn(4, 5)
    assert layer.eval()(x) is x
    assert np.any(layer.train()(x).numpy() != x.numpy())


def test_dropout_is_reproducible_with_manual_seed():
    layer = Dropout(0.3)
    x = rg.ones(10, 10)
    rg.manual_seed(7)
    first = layer(x).numpy()
    second = layer(x).numpy()
    rg.manual_seed(7)
    np.testing.assert_array_equal(layer(x).numpy(), first)
    assert not np.array_equal(first, second)


def test_dropout_extremes_and_inplace():
    x = rg.randn(3, 4)
    np.testing.assert_array_equal(Dropout(0.0)(x).numpy(), x.numpy())
    assert np.all(Dropout(1.0)(x).numpy() == 0)
    y = rg.ones(50, 50)
    out = Dropout(0.5, inplace=True)(y)
    assert out is y and set(np.unique(y.numpy())) == {0.0, 2.0}


@pytest.mark.parametrize("cls", [Dropout, Dropout1d, Dropout2d, Dropout3d])
def test_dropout_validation_and_repr(cls):
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
            cls(p)
    with pytest.raises(TypeError, match="must be a number"):
        cls("0.5")
    assert repr(cls()) == repr(getattr(torch.nn, cls.__name__)())
    assert repr(cls(0.2, inplace=True)) == repr(getattr(torch.nn, cls.__name__)(0.2, inplace=True))


@pytest.mark.parametrize(
    ("cls", "shape", "channel_dims"),
    [
        (Dropout1d, (4, 8, 5), 2),
        (Dropout1d, (8, 5), 1),  # unbatched
        (Dropout2d, (4, 8, 3, 3), 2),
        (Dropout3d, (2, 8, 2, 2, 2), 2),
    ],
)
def test_channel_dropout_modules(cls, shape, channel_dims):
    layer = cls(0.5)
    x = rg.ones(*shape)
    values = layer(x).numpy()
    channels = values.reshape(int(np.prod(shape[:channel_dims])), -1)
    assert np.all(channels == channels[:, :1])  # whole channels kept or dropped
    assert set(np.unique(values)) == {0.0, 2.0}
    assert layer.eval()(x) is x


# ------------------------------------------------------------------- embedding


def test_embedding_initialisation_and_padding_row():
    layer = Embedding(1000, 64, padding_idx=3)
    weights = layer.weight.detach().numpy()
    assert layer.weight.shape == (1000, 64) and layer.weight.dtype == rg.float32 and layer.weight.requires_grad
    assert np.all(weights[3] == 0)
    others = np.delete(weights, 3, axis=0)
    assert abs(others.mean()) < 0.02 and abs(others.std() - 1) < 0.02  # N(0, 1)
    assert list(layer.state_dict()) == ["weight"]


def _embedding_pair(num_embeddings, dim, **kwargs):
    theirs = torch.nn.Embedding(num_embeddings, dim, dtype=torch.float64, **kwargs)
    ours = Embedding(num_embeddings, dim, dtype=rg.float64, **kwargs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True}, {"padding_idx": 0, "max_norm": 1.0}],
    ids=str,
)
def test_embedding_matches_pytorch_with_repeated_indices(kwargs):
    ours, theirs = _embedding_pair(6, 4, **kwargs)
    indices = np.array([[0, 2, 2, 5], [2, 5, 1, 0], [4, 4, 4, 4]])
    rng = np.random.default_rng(0)
    for _ in range(2):
        seed = rng.standard_normal(indices.shape + (4,))
        out_ours = ours(rg.from_numpy(indices))
        out_theirs = theirs(torch.from_numpy(indices))
        assert_close(out_ours, out_theirs, "output")
        out_ours.backward(rg.from_numpy(seed))
        out_theirs.backward(torch.from_numpy(seed))
        assert_close(ours.weight.grad, theirs.weight.grad, "weight gradient")
        assert_close(ours.weight, theirs.weight, "weight (max_norm renormalises in place)")
    if ours.padding_idx is not None:
        assert np.all(ours.weight.grad.numpy()[ours.padding_idx] == 0)


def test_embedding_accepts_int32_indices():
    layer = Embedding(5, 3, dtype=rg.float64)
    out = layer(rg.tensor([[1, 4], [1, 0]], dtype=rg.int32))
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.detach().numpy()[0, 1], layer.weight.detach().numpy()[4])


def _embedding_layer(lib, weight, indices):
    module = torch.nn.Embedding if lib is torch else Embedding
    layer = module(*weight.shape, dtype=lib.float64)
    layer._parameters["weight"] = weight
    return layer(indices)


EMBEDDING_CASES = [
    Case(
        "Embedding",
        _embedding_layer,
        shapes=((5, 3),),
        make_inputs=lambda rng: [rng.standard_normal((5, 3)), np.array([[0, 4, 4], [2, 0, 4]])],
    ),
]


@pytest.mark.parametrize(("case", "layout"), parametrize_cases(EMBEDDING_CASES))
def test_embedding_layer_gradcheck_and_pytorch(case, layout):
    check_case(case, layout=layout)


def test_embedding_out_of_range_error_names_the_layer_index_and_size():
    layer = Embedding(10, 3)
    with pytest.raises(IndexError, match=r"Embedding: .*index 12 .*num_embeddings=10"):
        layer(rg.tensor([1, 12, 3]))
    with pytest.raises(IndexError, match=r"Embedding: .*index -1"):
        layer(rg.tensor([-1]))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding_idx": 0, "max_norm": 1.0, "norm_type": 1.0, "scale_grad_by_freq": True, "sparse": True},
        {"norm_type": 2},
        {"max_norm": 2},
        {"padding_idx": -2},
    ],
    ids=str,
)
def test_embedding_repr_matches_pytorch(kwargs):
    assert repr(Embedding(10, 3, **kwargs)) == repr(torch.nn.Embedding(10, 3, **kwargs))


def test_embedding_constructor_errors():
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        Embedding(10, 3, padding_idx=10)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        Embedding(10, 3, padding_idx=-11)
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        Embedding(10, 3, _weight=rg.ones(9, 3))
    with pytest.raises(AssertionError, match="expected to be 2-dimensional"):
        Embedding.from_pretrained(rg.ones(3))


def test_from_pretrained_shares_the_table_and_freezes_by_default():
    table = rg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    frozen = Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and repr(frozen) == "Embedding(3, 2)"
    np.testing.assert_array_equal(frozen(rg.tensor([2, 0])).numpy(), [[5, 6], [1, 2]])
    trainable = Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad
    np.testing.assert_array_equal(trainable.weight.detach().numpy()[1], [3, 4])  # the pad row keeps its values
    trainable(rg.tensor([1, 1, 2])).sum().backward()
    np.testing.assert_array_equal(trainable.weight.grad.numpy(), [[0, 0], [0, 0], [1, 1]])
