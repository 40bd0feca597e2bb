"""retrograd.data dataset loaders: the IDX reader on files written here
(plain, gzip, corrupted), the search order, the checksum-verified download
with an injected fetch (never the network), the real Fashion-MNIST files when
installed, scikit-learn's digits, the 2-D toy sets and MNIST-1D."""

import dataclasses
import gzip
import hashlib
import os
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg
from retrograd.data import (
    MNIST,
    DataLoader,
    FashionMNIST,
    IDXError,
    TensorDataset,
    datasets,
    files,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_mnist1d,
    make_blobs,
    make_circles,
    make_moons,
    make_spiral,
    make_xor,
    read_idx,
)
from retrograd.data import transforms as T

SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


# ---------------------------------------------------------------- IDX files
def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file's bytes, written independently of the reader."""
    big_endian = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big_endian).tobytes()


def write(path: Path, content: bytes, compress: bool = False) -> Path:
    path.write_bytes(gzip.compress(content) if compress else content)
    return path


def fake_split(n: int, seed: int, shape=(28, 28)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, *shape), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def write_idx_dataset(directory: Path, n_train=12, n_test=5, compress=True) -> dict:
    """Tiny train/test IDX files in ``directory``; returns the arrays written."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {"train": fake_split(n_train, 1), "test": fake_split(n_test, 2)}
    suffix = ".gz" if compress else ""
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = arrays[split]
        write(directory / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images), compress)
        write(directory / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels), compress)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    ("type_code", "dtype"),
    [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)],
)
def test_read_idx_round_trips_every_type(tmp_path, compress, type_code, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write(tmp_path / "array.idx", idx_bytes(array, type_code), compress)
    out = read_idx(path)
    assert out.dtype == dtype and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, array)


def test_read_idx_checks_the_magic_number(tmp_path):
    labels = write(tmp_path / "labels.idx", idx_bytes(np.arange(5, dtype=np.uint8)))
    assert read_idx(labels, expected_magic=2049).shape == (5,)
    with pytest.raises(IDXError, match=rf"{labels}: wrong magic number 2049 \(expected 2051: 3-D uint8 values\)"):
        read_idx(labels, expected_magic=2051)
    not_idx = write(tmp_path / "notes.txt", b"hello world")
    with pytest.raises(IDXError, match=rf"{not_idx}: not an IDX file \(magic number 0x68656c6c\)"):
        read_idx(not_idx)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_rejects_truncated_and_overlong_files(tmp_path, compress):
    content = idx_bytes(np.zeros((3, 4, 4), np.uint8))
    short = write(tmp_path / "short.idx", content[:-5], compress)
    with pytest.raises(
        IDXError, match=rf"{short}: truncated IDX file: shape \(3, 4, 4\) needs 48 bytes of data, found 43"
    ):
        read_idx(short)
    header_only = write(tmp_path / "header.idx", content[:9], compress)
    with pytest.raises(
        IDXError, match=rf"{header_only}: truncated IDX header \(9 bytes, expected 16 for 3 dimensions\)"
    ):
        read_idx(header_only)
    tiny = write(tmp_path / "tiny.idx", content[:2], compress)
    with pytest.raises(IDXError, match=rf"{tiny}: truncated IDX file \(2 bytes"):
        read_idx(tiny)
    long = write(tmp_path / "long.idx", content + b"\0\0", compress)
    with pytest.raises(IDXError, match=rf"{long}: 2 unexpected bytes after the data"):
        read_idx(long)


def test_read_idx_rejects_a_cut_gzip_stream(tmp_path):
    compressed = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))
    cut = write(tmp_path / "cut.gz", compressed[: len(compressed) // 2])
    with pytest.raises(IDXError, match=rf"{cut}: corrupt or truncated gzip data"):
        read_idx(cut)


# ------------------------------------------------------ loaders and search
@pytest.fixture
def isolated_search(tmp_path, monkeypatch):
    """No system folder, an empty user cache, no $RETROGRAD_DATA: nothing real is found or written."""
    monkeypatch.setattr(files, "SYSTEM_DATA_DIRS", (tmp_path / "system",))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("RETROGRAD_DATA", raising=False)
    return tmp_path


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_from_root(tmp_path, compress):
    arrays = write_idx_dataset(tmp_path / "mnist", compress=compress)
    train, test = load_mnist(tmp_path / "mnist", download=False)
    assert isinstance(train, TensorDataset) and len(train) == 12 and len(test) == 5
    x, y = train.tensors
    assert x.shape == (12, 1, 28, 28) and x.dtype == rg.float32 and y.dtype == rg.int64
    np.testing.assert_array_equal(x.numpy()[:, 0], arrays["train"][0] / np.float32(255))
    np.testing.assert_array_equal(y.numpy(), arrays["train"][1])
    (x_flat, _), (x_test, y_test) = load_mnist(tmp_path / "mnist", flatten=True, download=False, return_arrays=True)
    assert x_flat.shape == (12, 784) and isinstance(x_test, np.ndarray) and y_test.dtype == np.int64


def test_normalize_uses_training_statistics_only(tmp_path):
    write_idx_dataset(tmp_path / "mnist")
    (raw_train, _), (raw_test, _) = load_mnist(tmp_path / "mnist", download=False, return_arrays=True)
    (train, _), (test, _) = load_mnist(tmp_path / "mnist", normalize=True, download=False, return_arrays=True)
    mean, std = raw_train.mean(dtype=np.float64), raw_train.std(dtype=np.float64)
    np.testing.assert_allclose(train.mean(), 0.0, atol=1e-5)
    np.testing.assert_allclose(test, (raw_test - mean) / std, rtol=1e-5, atol=1e-5)


def test_mnist_class_keeps_raw_images_and_transforms(tmp_path):
    arrays = write_idx_dataset(tmp_path / "mnist", compress=False)
    raw = MNIST(tmp_path / "mnist", train=False, download=False)
    assert raw.data.dtype == np.uint8 and raw.data.shape == (5, 28, 28) and raw.targets.dtype == np.int64
    image, label = raw[3]
    np.testing.assert_array_equal(image, arrays["test"][0][3])
    assert label == arrays["test"][1][3] and isinstance(label, int)
    assert raw.class_to_idx["3 - three"] == 3 and "split=test" in repr(raw)
    dataset = MNIST(tmp_path / "mnist", transform=T.ToTensor(), target_transform=T.OneHot(10), download=False)
    xb, yb = next(iter(DataLoader(dataset, batch_size=4)))
    assert xb.shape == (4, 1, 28, 28) and yb.shape == (4, 10)


def test_count_mismatch_and_bad_labels_name_the_files(tmp_path):
    directory = tmp_path / "mnist"
    write_idx_dataset(directory)
    labels = directory / "train-labels-idx1-ubyte.gz"
    write(labels, idx_bytes(np.zeros(11, np.uint8)), compress=True)
    with pytest.raises(
        IDXError, match=r"train-labels-idx1-ubyte.gz holds 11 labels but .*train-images-idx3-ubyte.gz holds 12"
    ):
        MNIST(directory, download=False)
    write(labels, idx_bytes(np.full(12, 10, np.uint8)), compress=True)
    with pytest.raises(IDXError, match=r"train-labels-idx1-ubyte.gz: labels must be in \[0, 9\], found 10"):
        MNIST(directory, download=False)
    write(labels, idx_bytes(np.zeros((12, 28, 28), np.uint8)), compress=True)  # images where labels belong
    with pytest.raises(IDXError, match=r"train-labels-idx1-ubyte\.gz: wrong magic number 2051"):
        MNIST(directory, download=False)


def test_search_order_prefers_retrograd_data_then_system_then_cache(isolated_search, monkeypatch):
    root = isolated_search
    write_idx_dataset(root / "cache" / "retrograd" / "mnist", n_train=3)
    assert len(MNIST(download=False)) == 3
    write_idx_dataset(root / "system" / "mnist", n_train=4)
    assert len(MNIST(download=False)) == 4
    write_idx_dataset(root / "custom" / "mnist", n_train=5)
    monkeypatch.setenv("RETROGRAD_DATA", str(root / "custom"))
    assert len(MNIST(download=False)) == 5
    assert files.search_dirs("mnist") == [
        root / "custom" / "mnist",
        root / "system" / "mnist",
        root / "cache" / "retrograd" / "mnist",
    ]


def test_missing_files_without_download_list_the_searched_folders(isolated_search):
    with pytest.raises(
        FileNotFoundError, match=r"(?s)fashion-mnist: files .* not found.*system/fashion-mnist.*download=True"
    ):
        FashionMNIST(download=False)


class FakeServer:
    """Serves bytes per URL; records requests; can fail some URLs."""

    def __init__(self, content: dict[str, bytes], failing=()):
        self.content, self.failing, self.requests = content, set(failing), []

    def __call__(self, url, file):
        self.requests.append(url)
        if url in self.failing:
            file.write(b"partial")
            raise OSError("connection reset")
        file.write(self.content[url.rsplit("/", 1)[1]])


def fake_source(monkeypatch, content: dict[str, bytes], mirrors=("https://a.example/", "https://b.example/")):
    source = dataclasses.replace(
        datasets.MNIST_SOURCE, mirrors=mirrors, sha256={k: hashlib.sha256(v).hexdigest() for k, v in content.items()}
    )
    monkeypatch.setattr(datasets, "MNIST_SOURCE", source)
    monkeypatch.setattr(MNIST, "source", source)
    return source


def fake_files() -> dict[str, bytes]:
    content = {}
    for prefix, seed, n in (("train", 1, 6), ("t10k", 2, 3)):
        images, labels = fake_split(n, seed)
        content[f"{prefix}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(images))
        content[f"{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(labels))
    return content


def test_download_verifies_and_caches(isolated_search, monkeypatch):
    content = fake_files()
    fake_source(monkeypatch, content)
    server = FakeServer(content)
    train, test = load_mnist(fetch=server)
    assert len(train) == 6 and len(test) == 3
    cache = isolated_search / "cache" / "retrograd" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(content)
    assert all((cache / name).read_bytes() == data for name, data in content.items())
    assert server.requests == [f"https://a.example/{name}" for name in sorted(content, key=list(content).index)]
    load_mnist(fetch=server)  # the second time everything comes from the cache
    assert len(server.requests) == 4


def test_download_falls_back_to_the_next_mirror(isolated_search, monkeypatch):
    content = fake_files()
    fake_source(monkeypatch, content)
    server = FakeServer(content, failing={f"https://a.example/{name}" for name in content})
    assert len(MNIST(train=False, fetch=server)) == 3
    cache = isolated_search / "cache" / "retrograd" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_checksum_mismatch_leaves_nothing_behind(isolated_search, monkeypatch):
    content = fake_files()
    fake_source(monkeypatch, content)
    tampered = dict(content, **{"t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(np.zeros(3, np.uint8)))})
    with pytest.raises(
        files.DownloadError, match=r"(?s)t10k-labels-idx1-ubyte.gz.*SHA-256 mismatch: got [0-9a-f]{64}, expected"
    ):
        MNIST(train=False, fetch=FakeServer(tampered))
    cache = isolated_search / "cache" / "retrograd" / "mnist"
    # The verified images file stays; no trace of the rejected labels file or of temporary files.
    assert [p.name for p in cache.iterdir()] == ["t10k-images-idx3-ubyte.gz"]


def test_failed_fetch_removes_its_partial_file(tmp_path):
    server = FakeServer({}, failing={"https://a.example/x.gz", "https://b.example/x.gz"})
    with pytest.raises(
        files.DownloadError, match=r"(?s)could not download x.gz.*a.example/x.gz: connection reset.*b\.example"
    ):
        files.download(
            files.RemoteFile("x.gz", "0" * 64), ["https://a.example/", "https://b.example/"], tmp_path, server
        )
    assert list(tmp_path.iterdir()) == []


def test_default_sources_point_at_the_official_hosts():
    assert datasets.FASHION_MNIST_SOURCE.mirrors[0] == "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
    for source in (datasets.FASHION_MNIST_SOURCE, datasets.MNIST_SOURCE):
        assert set(source.sha256) == set(source.train + source.test)
        assert all(len(digest) == 64 for digest in source.sha256.values())


# ----------------------------------------------------- real Fashion-MNIST
@pytest.fixture(scope="module")
def fashion():
    if not SYSTEM_FASHION_MNIST.is_dir():
        pytest.skip("Fashion-MNIST is not installed in /usr/share/datasets (Debian package dataset-fashion-mnist)")
    return FashionMNIST(SYSTEM_FASHION_MNIST, download=False), FashionMNIST(
        SYSTEM_FASHION_MNIST, train=False, download=False
    )


def test_real_fashion_mnist_files(fashion):
    train, test = fashion
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert test.data.shape == (10000, 28, 28) and test.targets.shape == (10000,)
    assert train.targets.dtype == np.int64 and set(np.unique(train.targets)) == set(range(10))
    np.testing.assert_array_equal(np.bincount(train.targets), 6000)
    np.testing.assert_array_equal(np.bincount(test.targets), 1000)
    assert train.classes[9] == "Ankle boot" and train.data.max() == 255
    # The well-known training mean and std of Fashion-MNIST pixels.
    pixels = train.data / 255.0
    assert abs(pixels.mean() - 0.2860) < 1e-3 and abs(pixels.std() - 0.3530) < 1e-3


def test_real_fashion_mnist_loader(fashion):
    train, test = load_fashion_mnist(SYSTEM_FASHION_MNIST, flatten=True, download=False)
    x, y = train.tensors
    assert x.shape == (60000, 784) and x.dtype == rg.float32 and y.dtype == rg.int64
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    np.testing.assert_array_equal(y.numpy(), fashion[0].targets)
    assert len(test) == 10000


# --------------------------------------------------------------------- digits
def test_digits_split_is_stratified_and_reproducible():
    train, test = load_digits()
    x, y = train.tensors
    assert len(train) + len(test) == 1797 and x.shape[1] == 64 and x.dtype == rg.float32 and y.dtype == rg.int64
    assert float(x.min()) >= 0.0 and float(x.max()) == 1.0
    test_share = np.bincount(test.tensors[1].numpy(), minlength=10) / np.bincount(
        np.concatenate([y.numpy(), test.tensors[1].numpy()]), minlength=10
    )
    assert np.all(np.abs(test_share - 0.2) < 0.02)
    again, _ = load_digits()
    np.testing.assert_array_equal(again.tensors[1].numpy(), y.numpy())
    other, _ = load_digits(seed=1)
    assert not np.array_equal(other.tensors[1].numpy(), y.numpy())
    (images, _), _ = load_digits(flatten=False, return_arrays=True, test_size=0.5)
    assert images.shape[1:] == (1, 8, 8) and abs(len(images) - 898) <= 5
    with pytest.raises(ValueError, match=r"load_digits: test_size must be in \(0, 1\), got 1.5"):
        load_digits(test_size=1.5)


def test_missing_optional_package_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(
        ImportError, match=r"load_digits needs the 'scikit-learn' package: pip install retrograd\[datasets\]"
    ):
        load_digits()
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(ImportError, match=r"load_mnist1d needs the 'mnist1d' package"):
        load_mnist1d(tmp_path)  # an empty cache: the generator is needed


# ------------------------------------------------------------------ toy sets
@pytest.mark.parametrize(
    ("make", "n_classes"),
    [(make_moons, 2), (make_circles, 2), (make_xor, 2), (make_spiral, 3), (make_blobs, 3)],
)
def test_toy_sets_shapes_balance_and_seeds(make, n_classes):
    X, y = make(n_samples=301, noise=0.1, seed=0)
    assert X.shape == (301, 2) and X.dtype == rg.float32 and y.dtype == rg.int64
    counts = np.bincount(y.numpy())
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1
    X_again, y_again = make(n_samples=301, noise=0.1, seed=0)
    np.testing.assert_array_equal(X_again.numpy(), X.numpy())
    np.testing.assert_array_equal(y_again.numpy(), y.numpy())
    assert not np.array_equal(make(n_samples=301, noise=0.1, seed=1)[0].numpy(), X.numpy())
    rg.manual_seed(4)
    first = make(n_samples=50, noise=0.1)[0].numpy()
    rg.manual_seed(4)
    np.testing.assert_array_equal(make(n_samples=50, noise=0.1)[0].numpy(), first)
    assert not np.array_equal(y.numpy(), np.sort(y.numpy()))  # shuffled


def test_toy_sets_geometry_without_noise():
    X, y = make_circles(200, factor=0.3, seed=0)
    radius = np.linalg.norm(X.numpy(), axis=1)
    np.testing.assert_allclose(radius[y.numpy() == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(radius[y.numpy() == 1], 0.3, rtol=1e-6)
    X, y = make_moons(100, seed=0)
    upper = X.numpy()[y.numpy() == 0]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, rtol=1e-6)
    assert np.all(upper[:, 1] >= -1e-7)
    X, y = make_xor(400, seed=0)
    signs_differ = (X.numpy()[:, 0] * X.numpy()[:, 1]) < 0
    np.testing.assert_array_equal(signs_differ, y.numpy() == 1)
    X, y = make_spiral(300, noise=0.0, seed=0, n_arms=5)
    assert np.bincount(y.numpy()).tolist() == [60] * 5 and np.linalg.norm(X.numpy(), axis=1).max() <= 1 + 1e-6
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]])
    X, y = make_blobs(100, noise=0.5, centers=centers, seed=0)
    assert X.shape == (100, 3)
    np.testing.assert_allclose(X.numpy()[y.numpy() == 1].mean(0), 10.0, atol=0.3)


def test_toy_set_errors():
    with pytest.raises(ValueError, match="make_moons: n_samples must be an integer >= 2, got 1"):
        make_moons(1)
    with pytest.raises(ValueError, match="make_xor: noise must be non-negative, got -1"):
        make_xor(10, noise=-1)
    with pytest.raises(ValueError, match=r"make_circles: factor must be in \[0, 1\), got 1.5"):
        make_circles(10, factor=1.5)
    with pytest.raises(ValueError, match="make_spiral: n_arms must be at least 2, got 1"):
        make_spiral(10, n_arms=1)


# ------------------------------------------------------------------ MNIST-1D
def test_mnist1d_generates_caches_and_leaves_global_random_state(tmp_path, monkeypatch):
    state = np.random.get_state()[1].copy()
    train, test = load_mnist1d(tmp_path, num_samples=200)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    x, y = train.tensors
    assert x.shape == (160, 40) and x.dtype == rg.float32 and y.dtype == rg.int64 and len(test) == 40
    assert set(np.unique(y.numpy())) <= set(range(10))
    cached = list(tmp_path.glob("mnist1d-*.npz"))
    assert len(cached) == 1 and not list(tmp_path.glob(".*.part"))
    with np.load(cached[0], allow_pickle=False) as stored:
        assert sorted(stored.files) == ["x", "x_test", "y", "y_test"]

    import mnist1d.data

    def no_generation(*args, **kwargs):
        raise AssertionError("the cached arrays should have been used")

    monkeypatch.setattr(mnist1d.data, "make_dataset", no_generation)
    again, _ = load_mnist1d(tmp_path, num_samples=200)
    np.testing.assert_array_equal(again.tensors[0].numpy(), x.numpy())
    with pytest.raises(AssertionError, match="cached arrays"):
        load_mnist1d(tmp_path, num_samples=200, seed=7)  # other settings: another cache entry


def test_mnist1d_defaults_are_the_packages(tmp_path, monkeypatch):
    import mnist1d.data

    from retrograd.data import datasets

    package_defaults = mnist1d.data.get_dataset_args(as_dict=True)
    package_defaults.pop("url")
    assert package_defaults == datasets._MNIST1D_DEFAULTS
    # A cached dataset loads without the package.
    (x, _), _ = load_mnist1d(tmp_path, num_samples=100, return_arrays=True)
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    (x_cached, _), _ = load_mnist1d(tmp_path, num_samples=100, return_arrays=True)
    np.testing.assert_array_equal(x_cached, x)


def test_mnist1d_regenerates_a_corrupt_cache_and_rejects_unknown_options(tmp_path):
    (x, _), _ = load_mnist1d(tmp_path, num_samples=100, return_arrays=True)
    (cached,) = tmp_path.glob("mnist1d-*.npz")
    cached.write_bytes(b"not a zip file")
    (x_again, _), _ = load_mnist1d(tmp_path, num_samples=100, return_arrays=True)
    np.testing.assert_array_equal(x_again, x)
    assert cached.stat().st_size > 100
    with pytest.raises(TypeError, match=r"load_mnist1d: unknown options \['noise'\]"):
        load_mnist1d(tmp_path, num_samples=100, noise=0.1)
    (short, _), _ = load_mnist1d(tmp_path, num_samples=100, final_seq_length=20, return_arrays=True)
    assert short.shape == (80, 20)


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert files.cache_dir() == tmp_path / "retrograd"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert files.cache_dir() == Path(os.path.expanduser("~")) / ".cache" / "retrograd"
