"""retrograd.io: state dicts and checkpoints as safetensors files — round trips,
PyTorch interoperability, atomic writes, clear errors, no pickle."""

import json
import os
import pickle
import struct

import numpy as np
import pytest
import safetensors
import safetensors.numpy
import safetensors.torch
import torch

import retrograd as rg
from retrograd import io, nn, optim
from retrograd.optim import lr_scheduler


@pytest.fixture(autouse=True)
def _torch_default_float32():
    """The interoperability tests build PyTorch models with PyTorch's own default dtype."""
    torch.set_default_dtype(torch.float32)


def assert_state_equal(actual, expected):
    """Same keys, and bit-identical arrays of the same dtype."""
    assert list(actual) == list(expected) or sorted(actual) == sorted(expected)
    for key in expected:
        a, e = np.asarray(actual[key]), np.asarray(expected[key])
        assert a.dtype == e.dtype and a.shape == e.shape, key
        np.testing.assert_array_equal(a, e, err_msg=key)


class Buffered(nn.Module):
    """Parameters and a persistent buffer, laid out as ``TorchBuffered``."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2))
        self.register_buffer("count", rg.tensor([7], dtype=rg.int64))
        self.register_buffer("scale", rg.ones(2, dtype=rg.float64) * 1.5)

    def forward(self, x):
        return self.layers(x) * self.scale.float()


class TorchBuffered(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Linear(5, 2))
        self.register_buffer("count", torch.tensor([0], dtype=torch.int64))
        self.register_buffer("scale", torch.zeros(2, dtype=torch.float64))

    def forward(self, x):
        return self.layers(x) * self.scale.float()


def trained_adam(model, steps=2):
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(steps):
        optimizer.zero_grad()
        (model(rg.randn(4, 3)) ** 2).sum().backward()
        optimizer.step()
        scheduler.step()
    return optimizer, scheduler


# ---------------------------------------------------------------- state dicts


def test_round_trip_keeps_dtypes_shapes_and_values(tmp_path):
    state = {
        "weight": rg.randn(3, 4),
        "double": rg.randn(2, dtype=rg.float64),
        "index": rg.tensor([[1, -2], [3, 2**40]], dtype=rg.int64),
        "small": rg.tensor([1, 2], dtype=rg.int32),
        "bytes": rg.tensor([0, 255], dtype=rg.uint8),
        "mask": rg.tensor([True, False]),
        "half": rg.tensor([0.5, -2.0], dtype=rg.float16),
        "scalar": rg.tensor(3.25),
        "empty": rg.zeros(0, 5),
        "array": np.arange(6, dtype=np.float64).reshape(2, 3),
    }
    path = tmp_path / "state.safetensors"
    io.save(state, path)
    loaded = io.load(path)
    assert all(isinstance(value, rg.Tensor) for value in loaded.values())
    assert not any(value.requires_grad for value in loaded.values())
    assert_state_equal(loaded, {k: np.asarray(v._data if isinstance(v, rg.Tensor) else v) for k, v in state.items()})
    assert loaded["scalar"].shape == () and loaded["empty"].shape == (0, 5)


def test_nested_dicts_are_flattened_with_dots(tmp_path):
    state = {"encoder": {"weight": rg.ones(2, 2), "norm": {"bias": rg.zeros(2)}}, "head.weight": rg.ones(1)}
    io.save(state, tmp_path / "nested.safetensors")
    assert sorted(io.load(tmp_path / "nested.safetensors")) == ["encoder.norm.bias", "encoder.weight", "head.weight"]


def test_non_contiguous_and_parameter_values_are_saved_as_seen(tmp_path):
    base = rg.arange(12.0).reshape(3, 4)
    state = {"t": base.t(), "p": nn.Parameter(rg.ones(2))}
    io.save(state, tmp_path / "s.safetensors")
    loaded = io.load(tmp_path / "s.safetensors")
    np.testing.assert_array_equal(loaded["t"].numpy(), base.numpy().T)
    np.testing.assert_array_equal(loaded["p"].numpy(), np.ones(2, np.float32))


def test_model_state_dict_round_trip_restores_outputs(tmp_path):
    model = Buffered()
    io.save(model.state_dict(), tmp_path / "model.safetensors")
    other = Buffered()
    other.load_state_dict(io.load(tmp_path / "model.safetensors"))
    x = rg.randn(4, 3)
    np.testing.assert_array_equal(other(x).detach().numpy(), model(x).detach().numpy())
    assert_state_equal(other.state_dict(), model.state_dict())


def test_save_metadata_is_stored(tmp_path):
    io.save({"a": rg.ones(1)}, tmp_path / "m.safetensors", metadata={"author": "me"})
    with safetensors.safe_open(tmp_path / "m.safetensors", framework="np") as f:
        assert f.metadata() == {"format": "pt", "author": "me"}


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"a": 1.5}, r"'a' is a float; a state dict file holds tensors only"),
        ({"a": {"b": "text"}}, r"'a.b' is a str"),
        ({1: rg.ones(1)}, r"keys must be strings"),
        ({"a": {"b": rg.ones(1)}, "a.b": rg.ones(1)}, r"same key 'a.b'"),
        ({"c": np.array([1 + 2j])}, r"cannot store 'c' of dtype complex128"),
    ],
)
def test_save_rejects_what_a_state_dict_file_cannot_hold(tmp_path, state, message):
    with pytest.raises((TypeError, ValueError), match=message):
        io.save(state, tmp_path / "bad.safetensors")
    assert not os.listdir(tmp_path)


def test_save_of_a_model_asks_for_its_state_dict(tmp_path):
    with pytest.raises(TypeError, match=r"pass model.state_dict\(\)"):
        io.save(nn.Linear(2, 2), tmp_path / "m.safetensors")


def test_save_into_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        io.save({"a": rg.ones(1)}, tmp_path / "nope" / "m.safetensors")


def test_saved_file_has_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        io.save({"a": rg.ones(1)}, tmp_path / "m.safetensors")
    finally:
        os.umask(mask)
    assert os.stat(tmp_path / "m.safetensors").st_mode & 0o777 == 0o644


# ---------------------------------------------------------------- PyTorch interoperability


def test_pytorch_reads_our_file_and_loads_it_into_the_same_architecture(tmp_path):
    model = Buffered()
    path = tmp_path / "model.safetensors"
    io.save(model.state_dict(), path)

    tensors = safetensors.torch.load_file(path)
    assert {k: tuple(v.shape) for k, v in tensors.items()} == {k: tuple(v.shape) for k, v in model.state_dict().items()}
    torch_model = TorchBuffered()
    result = torch_model.load_state_dict(tensors)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch_model.count.item() == 7 and torch_model.scale.dtype == torch.float64

    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    expected = model(rg.tensor(x)).detach().numpy()
    with torch.no_grad():
        actual = torch_model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)


def test_we_read_a_file_written_by_pytorch(tmp_path):
    torch.manual_seed(0)
    torch_model = TorchBuffered()
    torch_model.scale.fill_(2.0)
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(torch_model.state_dict(), path)

    model = Buffered()
    model.load_state_dict(io.load(path))
    for key, value in torch_model.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[key].numpy(), value.numpy())


def test_pytorch_reads_the_model_part_of_a_checkpoint(tmp_path):
    model = Buffered()
    optimizer, _ = trained_adam(model)
    path = tmp_path / "ckpt.safetensors"
    io.save_checkpoint(path, model=model, optimizer=optimizer, epoch=1)
    tensors = safetensors.torch.load_file(path)
    weights = {key[len("model.") :]: value for key, value in tensors.items() if key.startswith("model.")}
    TorchBuffered().load_state_dict(weights)
    assert any(key.startswith("optimizer.state.0.") for key in tensors)


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip_restores_model_optimizer_scheduler_and_epoch(tmp_path):
    model = Buffered()
    optimizer, scheduler = trained_adam(model)
    path = tmp_path / "ckpt.safetensors"
    io.save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=7)

    other = Buffered()
    other_optimizer = optim.Adam(other.parameters(), lr=0.5)
    other_scheduler = lr_scheduler.StepLR(other_optimizer, step_size=1, gamma=0.5)
    info = io.load_checkpoint(path, other, other_optimizer, other_scheduler)

    assert info["epoch"] == 7
    assert_state_equal(other.state_dict(), model.state_dict())
    saved, restored = optimizer.state_dict(), other_optimizer.state_dict()
    assert restored["param_groups"] == saved["param_groups"]
    assert saved["param_groups"][0]["betas"] == (0.9, 0.999)  # a tuple again, not a list
    for index, buffers in saved["state"].items():
        assert_state_equal(restored["state"][index], buffers)
    assert other_scheduler.state_dict() == scheduler.state_dict()
    assert other_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"] == 0.0025

    # Training continues identically from the restored state.
    x = rg.randn(4, 3)
    for m, o, s in ((model, optimizer, scheduler), (other, other_optimizer, other_scheduler)):
        o.zero_grad()
        (m(x) ** 2).sum().backward()
        o.step()
        s.step()
    assert_state_equal(other.state_dict(), model.state_dict())


@pytest.mark.parametrize(
    "make_scheduler",
    [
        lambda opt: lr_scheduler.ReduceLROnPlateau(opt, patience=0),
        lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10),
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=4),
        lambda opt: lr_scheduler.SequentialLR(
            opt,
            [lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2), lr_scheduler.ExponentialLR(opt, 0.9)],
            [2],
        ),
    ],
)
def test_scheduler_states_survive_the_json_metadata(tmp_path, make_scheduler):
    model = nn.Linear(2, 2)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    for value in (1.0, 2.0, 3.0):
        optimizer.step()
        scheduler.step(value) if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau) else scheduler.step()
    path = tmp_path / "ckpt.safetensors"
    io.save_checkpoint(path, optimizer=optimizer, scheduler=scheduler)

    fresh_optimizer = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.05, momentum=0.9)
    fresh = make_scheduler(fresh_optimizer)
    io.load_checkpoint(path, optimizer=fresh_optimizer, scheduler=fresh)
    assert fresh.state_dict().keys() == scheduler.state_dict().keys()
    for key, value in scheduler.state_dict().items():
        if key != "_schedulers":
            assert fresh.state_dict()[key] == value, key
    assert fresh_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]


def test_extra_keeps_types_tensors_and_special_floats(tmp_path):
    extra = {
        "tuple": (1, "two", None),
        "int_keys": {0: "a", 5: [1.5, 2.5]},
        "tuple_keys": {(1, 2): True},
        "floats": [float("inf"), -float("inf")],
        "tensor": rg.arange(3),
        "array": np.eye(2),
        "lookalike": {"__tensor__": "not a tensor"},
        "nested": [{"t": rg.ones(2, dtype=rg.float64)}],
    }
    path = tmp_path / "ckpt.safetensors"
    io.save_checkpoint(path, extra=extra)
    loaded = io.load_checkpoint(path, restore_rng=False)["extra"]
    assert loaded["tuple"] == (1, "two", None)
    assert loaded["int_keys"] == {0: "a", 5: [1.5, 2.5]}
    assert loaded["tuple_keys"] == {(1, 2): True}
    assert loaded["floats"] == [float("inf"), -float("inf")]
    assert isinstance(loaded["tensor"], rg.Tensor) and loaded["tensor"].tolist() == [0, 1, 2]
    assert isinstance(loaded["array"], np.ndarray) and np.array_equal(loaded["array"], np.eye(2))
    assert loaded["lookalike"] == {"__tensor__": "not a tensor"}
    assert loaded["nested"][0]["t"].dtype == np.float64


def test_extra_rejects_objects_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match=r"cannot store 'extra.fn' of type function"):
        io.save_checkpoint(tmp_path / "c.safetensors", extra={"fn": lambda: 1})
    with pytest.raises(TypeError, match=r"dict key of type Tensor"):
        io.save_checkpoint(tmp_path / "c.safetensors", extra={rg.ones(1): 1})


def test_checkpoint_restores_the_random_generators(tmp_path):
    rg.manual_seed(123)
    rg.randn(5)
    loader_generator = rg.Generator().manual_seed(9)
    loader_generator.numpy.random(3)
    path = tmp_path / "ckpt.safetensors"
    io.save_checkpoint(path, generators={"loader": loader_generator})
    expected_default = rg.randn(4).numpy()
    expected_loader = loader_generator.numpy.random(4)

    rg.manual_seed(0)
    other = rg.Generator()
    io.load_checkpoint(path, generators={"loader": other, "absent": rg.Generator()})
    np.testing.assert_array_equal(rg.randn(4).numpy(), expected_default)
    np.testing.assert_array_equal(other.numpy.random(4), expected_loader)

    rg.manual_seed(0)
    io.load_checkpoint(path, restore_rng=False)
    assert not np.array_equal(rg.randn(4).numpy(), expected_default)


# ---------------------------------------------------------------- atomic writes


def failing_writer(real_writer):
    """A safetensors writer that writes half the file, then fails (a crash or a full disk)."""

    def write(tensors, filename, metadata=None):
        real_writer(tensors, filename, metadata=metadata)
        with open(filename, "rb") as file:
            data = file.read()
        with open(filename, "wb") as file:
            file.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    return write


def test_failed_checkpoint_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    model = Buffered()
    optimizer, _ = trained_adam(model)
    path = tmp_path / "ckpt.safetensors"
    io.save_checkpoint(path, model=model, optimizer=optimizer, epoch=1)
    saved_weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    trained_adam(model)  # the weights move on
    monkeypatch.setattr(safetensors.numpy, "save_file", failing_writer(safetensors.numpy.save_file))
    with pytest.raises(OSError, match="No space left"):
        io.save_checkpoint(path, model=model, optimizer=optimizer, epoch=2)
    monkeypatch.undo()

    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary file left behind
    restored = Buffered()
    info = io.load_checkpoint(path, restored)
    assert info["epoch"] == 1
    assert_state_equal(restored.state_dict(), saved_weights)


def test_failed_state_dict_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    io.save({"w": rg.ones(3)}, path)
    monkeypatch.setattr(safetensors.numpy, "save_file", failing_writer(safetensors.numpy.save_file))
    with pytest.raises(OSError):
        io.save({"w": rg.zeros(3)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["w.safetensors"]
    np.testing.assert_array_equal(io.load(path)["w"].numpy(), np.ones(3, np.float32))


def test_interrupted_save_cleans_up_on_keyboard_interrupt(tmp_path, monkeypatch):
    def interrupted(tensors, filename, metadata=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors.numpy, "save_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        io.save({"w": rg.ones(3)}, tmp_path / "w.safetensors")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- corrupted and mismatched files


@pytest.fixture
def checkpoint(tmp_path):
    model = Buffered()
    optimizer, scheduler = trained_adam(model)
    path = tmp_path / "ckpt.safetensors"
    io.save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=3)
    return path


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) - 7],  # truncated tensor data
        lambda data: data[:20],  # truncated header
        lambda data: b"",
        lambda data: b"PK\x03\x04 this is a zip, not safetensors" * 4,
        lambda data: pickle.dumps({"weight": [1.0, 2.0]}),
    ],
    ids=["truncated-data", "truncated-header", "empty", "garbage", "pickle"],
)
def test_corrupted_files_raise_a_clear_error_naming_the_file(checkpoint, damage):
    checkpoint.write_bytes(damage(checkpoint.read_bytes()))
    for reader in (io.load, lambda p: io.load_checkpoint(p, Buffered())):
        with pytest.raises(io.CorruptFileError, match=r"cannot read '.*ckpt\.safetensors': not a valid safetensors"):
            reader(checkpoint)


def write_with_metadata(path, metadata, tensors=None):
    safetensors.numpy.save_file(tensors or {"x": np.zeros(1, np.float32)}, path, metadata=metadata)


def test_bad_checkpoint_metadata_raises_a_clear_error(tmp_path):
    path = tmp_path / "bad.safetensors"
    write_with_metadata(path, {"retrograd.checkpoint": "{not json"})
    with pytest.raises(io.CorruptFileError, match=r"bad\.safetensors' has unreadable checkpoint metadata"):
        io.load_checkpoint(path)
    write_with_metadata(path, {"retrograd.checkpoint": json.dumps({"version": 1, "extra": {"__tensor__": "gone"}})})
    with pytest.raises(io.CorruptFileError, match=r"refers to tensor 'gone', which the file does not hold"):
        io.load_checkpoint(path)
    write_with_metadata(path, {"retrograd.checkpoint": json.dumps({"version": 99})})
    with pytest.raises(io.CorruptFileError, match=r"format version 99"):
        io.load_checkpoint(path)


def test_plain_state_dict_file_is_not_taken_for_a_checkpoint(tmp_path):
    path = tmp_path / "weights.safetensors"
    io.save(Buffered().state_dict(), path)
    with pytest.raises(io.CorruptFileError, match=r"not a retrograd checkpoint .* use retrograd.io.load"):
        io.load_checkpoint(path, Buffered())


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        io.load(tmp_path / "absent.safetensors")


def test_checkpoint_for_another_architecture_is_refused_before_anything_changes(checkpoint):
    class Wider(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(3, 6), nn.Linear(6, 2))
            self.register_buffer("count", rg.tensor([0]))

    model = Wider()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(io.CheckpointMismatchError) as error:
        io.load_checkpoint(checkpoint, model)
    message = str(error.value)
    assert "ckpt.safetensors' does not fit Wider" in message
    assert "unexpected keys: scale" in message
    assert "layers.0.weight: shape [5, 3] in the checkpoint, [6, 3] in the model" in message
    assert_state_equal(model.state_dict(), before)


def test_missing_keys_are_named_and_strict_false_allows_them(checkpoint):
    class Extra(Buffered):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(2, 1)

    with pytest.raises(io.CheckpointMismatchError, match=r"missing keys: head.weight, head.bias"):
        io.load_checkpoint(checkpoint, Extra())
    model = Extra()
    io.load_checkpoint(checkpoint, model, strict=False)
    assert model.count.item() == 7


def test_optimizer_and_scheduler_mismatches_are_refused(checkpoint):
    model = Buffered()
    with pytest.raises(io.CheckpointMismatchError, match=r"state of a Adam optimizer, not of a SGD"):
        io.load_checkpoint(checkpoint, model, optim.SGD(model.parameters(), lr=0.1))
    two_groups = optim.Adam([{"params": model.layers[0].parameters()}, {"params": model.layers[1].parameters()}])
    with pytest.raises(io.CheckpointMismatchError, match=r"groups of sizes \[4\], the optimizer has \[2, 2\]"):
        io.load_checkpoint(checkpoint, model, two_groups)
    adam = optim.Adam(model.parameters())
    with pytest.raises(io.CheckpointMismatchError, match=r"StepLR scheduler, not of a ExponentialLR"):
        io.load_checkpoint(checkpoint, model, adam, lr_scheduler.ExponentialLR(adam, 0.9))

    bare = io.save_checkpoint
    bare(checkpoint, model=model)
    with pytest.raises(io.CheckpointMismatchError, match=r"holds no optimizer state"):
        io.load_checkpoint(checkpoint, model, adam)


def test_optimizer_buffer_shapes_are_checked(tmp_path):
    model = nn.Linear(3, 2)
    optimizer = optim.Adam(model.parameters())
    (model(rg.randn(2, 3)) ** 2).sum().backward()
    optimizer.step()
    path = tmp_path / "c.safetensors"
    io.save_checkpoint(path, optimizer=optimizer)
    other = nn.Linear(4, 2)
    with pytest.raises(
        io.CheckpointMismatchError, match=r"'exp_avg' of shape \[2, 3\] for a parameter of shape \[2, 4\]"
    ):
        io.load_checkpoint(path, optimizer=optim.Adam(other.parameters()))


# ---------------------------------------------------------------- no pickle


def test_files_are_plain_safetensors_and_loading_never_unpickles(checkpoint, monkeypatch):
    data = checkpoint.read_bytes()
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_size])  # the layout of the safetensors format
    assert header["__metadata__"]["format"] == "pt"
    assert b"\x80\x04\x95" not in data[: 8 + header_size]  # no pickle protocol marker in the header

    def refuse(*args, **kwargs):
        raise AssertionError("pickle must not be used")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    model = Buffered()
    optimizer = optim.Adam(model.parameters())
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1)
    assert io.load_checkpoint(checkpoint, model, optimizer, scheduler)["epoch"] == 3
    assert io.load(checkpoint)
