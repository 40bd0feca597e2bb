"""retrograd.data.transforms: values against PyTorch and manual formulas,
batch paths equal to per-sample paths, fitted statistics, seeded randomness,
and the datasets that apply transforms per batch."""

import numpy as np
import pytest
import torch

import retrograd as rg
from retrograd.data import ArrayDataset, DataLoader, TensorDataset, TransformDataset
from retrograd.data import transforms as T
from retrograd.utils.data import StackedSamples


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(6, 5, 7), dtype=np.uint8)


# ----------------------------------------------------------------- ToTensor
def test_to_tensor_scales_uint8_exactly_like_torch(images):
    out = T.ToTensor()(images[0])
    expected = torch.from_numpy(images[0]).unsqueeze(0).to(torch.float32).div(255)
    assert isinstance(out, rg.Tensor) and out.shape == (1, 5, 7) and out.dtype == rg.float32
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_to_tensor_moves_channels_first_and_batches(images):
    rgb = np.random.default_rng(1).integers(0, 256, size=(4, 5, 7, 3), dtype=np.uint8)
    one = T.ToTensor()(rgb[0])
    assert one.shape == (3, 5, 7) and one.is_contiguous()
    np.testing.assert_array_equal(one.numpy(), np.moveaxis(rgb[0], -1, 0) / np.float32(255))
    batch = T.ToTensor().batch(rgb)
    assert batch.shape == (4, 3, 5, 7) and batch.is_contiguous()
    np.testing.assert_array_equal(batch.numpy()[2], T.ToTensor()(rgb[2]).numpy())
    grey = T.ToTensor().batch(images)
    assert grey.shape == (6, 1, 5, 7)
    np.testing.assert_array_equal(grey.numpy()[3], T.ToTensor()(images[3]).numpy())


def test_to_tensor_keeps_float_values_and_rejects_other_input():
    floats = np.random.default_rng(2).random((4, 4, 2))
    out = T.ToTensor()(floats)
    assert out.dtype == rg.float64
    np.testing.assert_array_equal(out.numpy(), np.moveaxis(floats, -1, 0))
    with pytest.raises(TypeError, match="ToTensor: pic should be a NumPy ndarray, got list"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match="ToTensor: pic should be 2 or 3 dimensional, got 1"):
        T.ToTensor()(np.zeros(3, np.uint8))


# ---------------------------------------------------------------- Normalize
def test_normalize_matches_manual_per_channel_and_batch():
    x = rg.rand(4, 3, 5, 5)
    mean, std = (0.1, 0.5, 0.9), (0.2, 0.3, 0.4)
    expected = (x.numpy() - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]
    batch = T.Normalize(mean, std).batch(x)
    assert isinstance(batch, rg.Tensor) and batch.dtype == rg.float32
    np.testing.assert_allclose(batch.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(T.Normalize(mean, std)(x[1]).numpy(), expected[1], rtol=1e-6)
    np.testing.assert_allclose(T.Normalize((0.5,), (0.25,))(x.numpy()), (x.numpy() - 0.5) / 0.25, rtol=1e-6)


def test_normalize_inplace_and_errors():
    x = rg.ones(2, 4, 4)
    assert T.Normalize((0.5, 0.5), (0.5, 0.5), inplace=True)(x) is x
    np.testing.assert_array_equal(x.numpy(), 1.0)
    with pytest.raises(TypeError, match="Normalize: input should be a float tensor, got uint8"):
        T.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))(rg.ones(1, 2, 2))
    with pytest.raises(ValueError, match=r"Normalize: mean has 2 values for an image with 3 channels"):
        T.Normalize((0.5, 0.5), (1.0,))(rg.ones(3, 2, 2))
    with pytest.raises(ValueError, match=r"expected a tensor image of size \(\.\.\., C, H, W\)"):
        T.Normalize((0.5,), (1.0,))(rg.ones(2, 2))


# -------------------------------------------------------------- Standardize
def test_standardize_fits_on_train_and_applies_train_statistics_to_test():
    rng = np.random.default_rng(3)
    train = rng.normal(5.0, 2.0, size=(500, 4)).astype(np.float32)
    test = rng.normal(7.0, 3.0, size=(100, 4)).astype(np.float32)
    scaler = T.Standardize().fit(train)
    np.testing.assert_allclose(scaler.mean, train.mean(0, dtype=np.float64), rtol=1e-12)
    np.testing.assert_allclose(scaler.std, train.std(0, dtype=np.float64), rtol=1e-12)
    train_out, test_out = scaler(train), scaler(test)
    np.testing.assert_allclose(train_out.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train_out.std(0), 1.0, rtol=1e-5)
    # The test split is moved by the training statistics, not its own: its mean stays away from 0.
    np.testing.assert_allclose(test_out, (test - scaler.mean) / scaler.std, rtol=1e-5, atol=1e-6)
    assert np.all(test_out.mean(0) > 0.5)
    assert not np.allclose(test_out, T.Standardize().fit_transform(test))


def test_standardize_modes_shapes_and_constant_features():
    x = np.random.default_rng(4).random((10, 3, 4, 4)).astype(np.float32)
    x[:, 0, 0, 0] = 2.0  # a constant feature: centred, not divided by zero
    per_feature = T.Standardize("feature").fit(x)
    assert per_feature.mean.shape == (3, 4, 4)
    out = per_feature(x)
    assert np.isfinite(out).all() and np.all(out[:, 0, 0, 0] == 0)
    per_channel = T.Standardize("channel").fit(x)
    assert per_channel.mean.shape == (3, 1, 1)
    np.testing.assert_allclose(per_channel.mean.ravel(), x.mean(axis=(0, 2, 3), dtype=np.float64), rtol=1e-10)
    np.testing.assert_allclose(per_channel(x[2]), per_channel(x)[2])
    overall = T.Standardize("global").fit(x)
    assert overall.mean.shape == ()
    np.testing.assert_allclose(overall(x), (x - x.mean(dtype=np.float64)) / x.std(dtype=np.float64), rtol=1e-5)
    assert overall(x[0]).shape == (3, 4, 4)


def test_standardize_types_and_errors():
    scaler = T.Standardize()
    with pytest.raises(RuntimeError, match=r"Standardize: call fit\(train_data\) before transforming data"):
        scaler(np.ones((2, 3)))
    scaler.fit(rg.tensor(np.arange(12, dtype=np.uint8).reshape(4, 3)))
    out = scaler(rg.tensor(np.arange(6, dtype=np.uint8).reshape(2, 3)))
    assert isinstance(out, rg.Tensor) and out.dtype == rg.float32
    with pytest.raises(ValueError, match=r"Standardize: fitted on samples of shape \(3\), got input of shape \(2, 4\)"):
        scaler(np.ones((2, 4)))
    with pytest.raises(ValueError, match="per must be one of"):
        T.Standardize("pixel")


# ------------------------------------------------------------------- OneHot
def test_one_hot_matches_torch_and_batches():
    labels = np.array([3, 0, 2, 3])
    out = T.OneHot(5).batch(labels)
    expected = torch.nn.functional.one_hot(torch.from_numpy(labels), 5).numpy()
    assert out.dtype == rg.float32
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(T.OneHot(5, dtype=rg.int64)(2).numpy(), [0, 0, 1, 0, 0])
    with pytest.raises(ValueError, match=r"OneHot: class indices must be in \[0, 4\], got values in \[0, 5\]"):
        T.OneHot(5)(np.array([0, 5]))
    with pytest.raises(TypeError, match="OneHot: expected integer class indices, got float"):
        T.OneHot(5)(1.0)


# --------------------------------------------------------------- RandomCrop
def windows_of(image: np.ndarray, h: int, w: int) -> list[np.ndarray]:
    return [
        image[..., i : i + h, j : j + w] for i in range(image.shape[-2] - h + 1) for j in range(image.shape[-1] - w + 1)
    ]


def test_random_crop_returns_a_window_of_the_padded_image():
    image = np.arange(2 * 6 * 6, dtype=np.float32).reshape(2, 6, 6)
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)))
    crop = T.RandomCrop(6, padding=2)
    for _ in range(10):
        out = crop(image)
        assert out.shape == (2, 6, 6)
        assert any(np.array_equal(out, window) for window in windows_of(padded, 6, 6))


def test_random_crop_batch_gives_each_image_its_own_window():
    batch = np.random.default_rng(5).random((64, 3, 8, 8)).astype(np.float32)
    crop = T.RandomCrop((5, 6), padding=(1, 2), padding_mode="reflect")
    out = crop.batch(rg.tensor(batch))
    assert isinstance(out, rg.Tensor) and out.shape == (64, 3, 5, 6)
    padded = np.pad(batch, ((0, 0), (0, 0), (2, 2), (1, 1)), mode="reflect")
    offsets = set()
    for n in range(64):
        matches = [k for k, window in enumerate(windows_of(padded[n], 5, 6)) if np.array_equal(out.numpy()[n], window)]
        assert matches, f"crop {n} is not a window of its padded image"
        offsets.add(matches[0])
    assert len(offsets) > 10  # independent draws per image


def test_random_crop_is_reproducible_and_4d_input_is_a_batch():
    batch = np.random.default_rng(6).random((8, 1, 10, 10))
    rg.manual_seed(11)
    first = T.RandomCrop(7)(batch)
    rg.manual_seed(11)
    np.testing.assert_array_equal(T.RandomCrop(7).batch(batch), first)
    with_generator = T.RandomCrop(7, generator=rg.Generator().manual_seed(1)).batch(batch)
    np.testing.assert_array_equal(T.RandomCrop(7, generator=rg.Generator().manual_seed(1)).batch(batch), with_generator)


def test_random_crop_padding_options_and_errors():
    image = np.arange(9, dtype=np.float32).reshape(1, 3, 3)
    # As torchvision: a too-small side is padded by the shortfall on both ends, then cropped at random.
    grown = T.RandomCrop(5, pad_if_needed=True, fill=-1)(image)
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)), constant_values=-1)
    assert any(np.array_equal(grown, window) for window in windows_of(padded, 5, 5))
    edge = T.RandomCrop(7, padding=2, padding_mode="edge")(image)
    np.testing.assert_array_equal(edge, np.pad(image, ((0, 0), (2, 2), (2, 2)), mode="edge"))
    asymmetric = T.RandomCrop((3 + 2 + 4, 3 + 1 + 3), padding=(1, 2, 3, 4))(image)
    np.testing.assert_array_equal(asymmetric, np.pad(image, ((0, 0), (2, 4), (1, 3))))
    with pytest.raises(
        ValueError, match=r"RandomCrop: required crop size \(4, 4\) is larger than input image size \(3, 3\)"
    ):
        T.RandomCrop(4)(image)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        T.RandomCrop(2, padding_mode="wrap")
    with pytest.raises(ValueError, match="RandomCrop: padding must be an int or a sequence of 2 or 4 ints"):
        T.RandomCrop(2, padding=(1, 2, 3))


# ---------------------------------------------------------------------- Flip
def test_random_horizontal_flip():
    image = np.arange(12.0).reshape(1, 3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(image), image[..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(image), image)
    batch = np.random.default_rng(7).random((400, 2, 3, 4))
    flip = T.RandomHorizontalFlip(p=0.3, generator=rg.Generator().manual_seed(0))
    out = flip(batch)  # 4-D: a batch
    flipped = np.array([np.array_equal(o, b[..., ::-1]) for o, b in zip(out, batch)])
    kept = np.array([np.array_equal(o, b) for o, b in zip(out, batch)])
    assert np.all(flipped ^ kept)
    assert 0.22 < flipped.mean() < 0.38
    again = T.RandomHorizontalFlip(p=0.3, generator=rg.Generator().manual_seed(0))(batch)
    np.testing.assert_array_equal(again, out)
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.5"):
        T.RandomHorizontalFlip(1.5)


# ---------------------------------------------------- Compose and datasets
class BatchCounter:
    """A deterministic batch-capable transform that records how it was called."""

    supports_batches = True

    def __init__(self):
        self.calls, self.batch_calls = 0, 0

    def __call__(self, x):
        self.calls += 1
        return x * 2

    def batch(self, x):
        self.batch_calls += 1
        return x * 2


def test_compose_batches_only_when_every_transform_can():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    assert pipeline.supports_batches
    images = np.random.default_rng(8).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    np.testing.assert_array_equal(pipeline.batch(images).numpy()[1], pipeline(images[1]).numpy())
    mixed = T.Compose([T.ToTensor(), lambda x: x + 1])
    assert not mixed.supports_batches
    with pytest.raises(TypeError, match=r"Compose\.batch: function cannot transform a whole batch"):
        mixed.batch(images)


def test_array_dataset_applies_transforms_once_per_batch(images):
    labels = np.arange(6) % 3
    counter = BatchCounter()
    dataset = ArrayDataset(images, labels, transform=T.Compose([T.ToTensor(), counter]), target_transform=T.OneHot(3))
    x, y = dataset[2]
    assert x.shape == (1, 5, 7) and y.shape == (3,) and counter.calls == 1
    batches = list(DataLoader(dataset, batch_size=4))
    assert counter.batch_calls == 2 and counter.calls == 1
    xb, yb = batches[0]
    assert xb.shape == (4, 1, 5, 7) and yb.shape == (4, 3)
    np.testing.assert_array_equal(xb.numpy()[2], x.numpy())
    np.testing.assert_array_equal(yb.numpy()[2], y.numpy())


def test_array_dataset_raw_samples_and_plain_function_fallback(images):
    labels = np.arange(6)
    raw = ArrayDataset(images, labels)
    image, label = raw[4]
    assert image.dtype == np.uint8 and image.shape == (5, 7) and label == 4 and isinstance(label, int)
    xb, yb = next(iter(DataLoader(raw, batch_size=6)))
    assert xb.dtype == rg.uint8 and xb.shape == (6, 5, 7) and yb.dtype == rg.int64
    shifted = ArrayDataset(images, labels, target_transform=lambda y: y + 10)
    assert isinstance(shifted.__getitems__([0, 1]), list)
    _, yb = next(iter(DataLoader(shifted, batch_size=3)))
    assert yb.tolist() == [10, 11, 12]
    with pytest.raises(
        ValueError, match=r"ArrayDataset: data and targets need the same length, got shapes \(6, 5, 7\) and \(5,\)"
    ):
        ArrayDataset(images, labels[:5])


def test_transform_dataset_over_tensor_dataset():
    base = TensorDataset(rg.arange(10.0).reshape(5, 2), rg.arange(5))
    counter = BatchCounter()
    wrapped = TransformDataset(base, transform=counter, target_transform=T.OneHot(5))
    fetched = wrapped.__getitems__([4, 0])
    assert isinstance(fetched, StackedSamples) and counter.batch_calls == 1
    np.testing.assert_array_equal(fetched.columns[0].numpy(), [[16.0, 18.0], [0.0, 2.0]])
    per_sample = TransformDataset(base, transform=lambda x: x + 1)
    assert per_sample[1][0].tolist() == [3.0, 4.0]
    (xb, yb) = next(iter(DataLoader(per_sample, batch_size=5)))
    assert xb.shape == (5, 2) and yb.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="target_transform needs \\(input, target\\) samples"):
        TransformDataset(TensorDataset(rg.arange(3)), target_transform=T.OneHot(3)).__getitems__([0])
