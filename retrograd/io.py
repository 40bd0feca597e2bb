"""Saving and loading: state dicts and training checkpoints, as safetensors files.

Every file this module writes is a plain safetensors file (a JSON header, then
raw tensor bytes), so PyTorch, JAX or any safetensors reader opens it, and
loading one never runs code: there is no pickle anywhere.

* ``save(state_dict, path)`` / ``load(path)``: a model's ``state_dict()`` (nested
  dicts are flattened with dotted keys). The file holds the same keys, shapes and
  dtypes as the equivalent PyTorch model's, so ``torch_model.load_state_dict(
  safetensors.torch.load_file(path))`` accepts it.
* ``save_checkpoint`` / ``load_checkpoint``: everything needed to resume
  training in one file. Tensors (model parameters and buffers, optimizer
  buffers, tensors inside ``extra``) are stored as safetensors tensors under
  ``model.``, ``optimizer.``, ``scheduler.`` and ``extra.`` prefixes; all other
  state (optimizer hyperparameters and step counts, the scheduler's
  ``state_dict``, the epoch, random generator states, ``extra``) is one JSON
  document in the file's metadata under the key ``"retrograd.checkpoint"``, where
  each tensor appears as ``{"__tensor__": "<its key in the file>"}``.

Writes are atomic: the file is written to a temporary file in the same
directory, flushed to disk (``os.fsync``) and renamed over the target
(``os.replace``), so a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

from . import random as _random
from .tensor import Tensor, _wrap

__all__ = [
    "save",
    "load",
    "save_checkpoint",
    "load_checkpoint",
    "CorruptFileError",
    "CheckpointMismatchError",
]

CHECKPOINT_KEY = "retrograd.checkpoint"
CHECKPOINT_VERSION = 1

# Single-key JSON objects that stand for values JSON cannot hold directly.
_TENSOR = "__tensor__"  # a retrograd Tensor stored in the file under the given key
_ARRAY = "__ndarray__"  # a NumPy array stored likewise
_TUPLE = "__tuple__"  # a tuple (JSON has only lists)
_ITEMS = "__items__"  # a dict with non-string keys (optimizer state is keyed by int), as [key, value] pairs
_MARKERS = frozenset((_TENSOR, _ARRAY, _TUPLE, _ITEMS))


class CorruptFileError(ValueError):
    """A file that is not a readable safetensors file or checkpoint (truncated, garbage, bad metadata)."""


class CheckpointMismatchError(RuntimeError):
    """A checkpoint whose contents do not fit the model, optimizer or scheduler it is loaded into."""


# ------------------------------------------------------------------ state dicts


def save(state_dict: Mapping[str, Any], path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write a state dict (str -> Tensor or NumPy array, nested dicts allowed) to
    ``path`` as a safetensors file, atomically. Nested keys are joined with dots,
    as ``Module.state_dict`` names them. ``metadata`` is an optional str -> str
    dict stored in the file's header."""
    if not isinstance(state_dict, Mapping):
        hint = " (pass model.state_dict())" if hasattr(state_dict, "state_dict") else ""
        raise TypeError(
            f"save: expected a state dict (a mapping of names to tensors), got {type(state_dict).__name__}{hint}"
        )
    tensors: dict[str, np.ndarray] = {}
    _flatten_tensors(state_dict, "", tensors)
    header = {"format": "pt"}
    if metadata is not None:
        for key, value in metadata.items():
            if not (isinstance(key, str) and isinstance(value, str)):
                raise TypeError(f"save: metadata must map str to str, got {key!r}: {value!r}")
        header.update(metadata)
    _atomic_write(tensors, header, path)


def load(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read every tensor of a safetensors file into a flat dict of Tensors (the
    format of ``state_dict()``, ready for ``load_state_dict``)."""
    arrays, _ = _read(path, "load")
    return {key: _wrap(array) for key, array in arrays.items()}


def _flatten_tensors(state: Mapping, prefix: str, out: dict[str, np.ndarray]) -> None:
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(
                f"save: state dict keys must be strings, got {key!r} under {prefix[:-1] or 'the top level'!r}"
            )
        name = prefix + key
        if isinstance(value, Mapping):
            _flatten_tensors(value, name + ".", out)
            continue
        if isinstance(value, Tensor):
            array = value._data
        elif isinstance(value, np.ndarray):
            array = value
        else:
            raise TypeError(
                f"save: {name!r} is a {type(value).__name__}; a state dict file holds tensors only "
                "(use save_checkpoint for numbers, strings and optimizer state)"
            )
        if name in out:
            raise ValueError(f"save: two entries flatten to the same key {name!r}")
        out[name] = _storable(array, name, "save")


def _storable(array: np.ndarray, name: str, caller: str) -> np.ndarray:
    """``array`` as safetensors stores it: C-contiguous, in a dtype it knows."""
    if array.dtype.kind not in "biuf" or array.dtype.byteorder == ">":
        raise TypeError(f"{caller}: cannot store {name!r} of dtype {array.dtype} in a safetensors file")
    # Not np.ascontiguousarray, which turns 0-d arrays into 1-d ones.
    return array if array.flags.c_contiguous else np.array(array, order="C")


# ------------------------------------------------------------------ checkpoints


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model=None,
    optimizer=None,
    scheduler=None,
    epoch: int | None = None,
    extra: Any = None,
    generators: Mapping[str, _random.Generator] | None = None,
) -> None:
    """Write a training checkpoint to ``path`` atomically: the model's
    ``state_dict``, the optimizer's and scheduler's ``state_dict``, ``epoch``,
    the state of retrograd's default random generator and of each named
    generator in ``generators`` (a DataLoader's shuffling generator, say), and
    ``extra``: any JSON-like value (dicts, lists, tuples, numbers, strings,
    None) that may also contain tensors and arrays.
    """
    tensors: dict[str, np.ndarray] = {}
    document: dict[str, Any] = {"version": CHECKPOINT_VERSION, "epoch": epoch}
    if model is not None:
        document["model"] = _encode(dict(model.state_dict()), "model", tensors)
    if optimizer is not None:
        document["optimizer_type"] = type(optimizer).__name__
        document["optimizer"] = _encode(optimizer.state_dict(), "optimizer", tensors)
    if scheduler is not None:
        document["scheduler_type"] = type(scheduler).__name__
        document["scheduler"] = _encode(scheduler.state_dict(), "scheduler", tensors)
    document["rng"] = {
        "default": _random.get_rng_state(),
        "generators": {name: generator.get_state() for name, generator in (generators or {}).items()},
    }
    document["extra"] = _encode(extra, "extra", tensors)
    metadata = {"format": "pt", CHECKPOINT_KEY: json.dumps(document)}
    _atomic_write(tensors, metadata, path)


def load_checkpoint(
    path: str | os.PathLike,
    model=None,
    optimizer=None,
    scheduler=None,
    *,
    generators: Mapping[str, _random.Generator] | None = None,
    restore_rng: bool = True,
    strict: bool = True,
) -> dict[str, Any]:
    """Restore what ``save_checkpoint`` wrote into the given objects and return
    the checkpoint's contents as a dict with keys ``"epoch"``, ``"extra"``,
    ``"model"``, ``"optimizer"``, ``"scheduler"`` (state dicts, or None) and
    ``"rng"``.

    Everything is checked before anything is changed: a checkpoint that does
    not fit ``model`` (missing, unexpected or differently shaped tensors; with
    ``strict=False`` missing and unexpected keys are allowed), ``optimizer`` or
    ``scheduler`` raises ``CheckpointMismatchError`` naming the file. With
    ``restore_rng`` the default generator, and each generator in
    ``generators`` that the checkpoint has a state for, continue where they
    were when the checkpoint was saved.
    """
    name = os.fspath(path)
    arrays, metadata = _read(path, "load_checkpoint")
    if CHECKPOINT_KEY not in metadata:
        raise CorruptFileError(
            f"load_checkpoint: {name!r} is a safetensors file but not a retrograd checkpoint (its metadata has "
            f"no {CHECKPOINT_KEY!r} entry); use retrograd.io.load for a plain state dict"
        )
    try:
        document = json.loads(metadata[CHECKPOINT_KEY])
        if not isinstance(document, dict):
            raise ValueError(f"expected a JSON object, got {type(document).__name__}")
        contents = {key: _decode(value, arrays) for key, value in document.items()}
    except (ValueError, KeyError, TypeError) as error:
        raise CorruptFileError(f"load_checkpoint: {name!r} has unreadable checkpoint metadata: {error}") from None
    version = contents.get("version")
    if not isinstance(version, int) or version > CHECKPOINT_VERSION:
        raise CorruptFileError(
            f"load_checkpoint: {name!r} has checkpoint format version {version!r}; this retrograd reads "
            f"versions up to {CHECKPOINT_VERSION}"
        )

    if model is not None:
        _check_model_fits(name, model, contents.get("model"), strict)
    if optimizer is not None:
        _check_optimizer_fits(name, optimizer, contents.get("optimizer"), contents.get("optimizer_type"))
    if scheduler is not None:
        _check_saved_state(name, "scheduler", scheduler, contents.get("scheduler"), contents.get("scheduler_type"))
    rng = contents.get("rng") or {}
    saved_generators = rng.get("generators", {})

    if model is not None:
        model.load_state_dict(contents["model"], strict=strict)
    if optimizer is not None:
        optimizer.load_state_dict(contents["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(contents["scheduler"])
    if restore_rng:
        if "default" in rng:
            _random.set_rng_state(rng["default"])
        for generator_name, generator in (generators or {}).items():
            if generator_name in saved_generators:
                generator.set_state(saved_generators[generator_name])
    return {
        "epoch": contents.get("epoch"),
        "extra": contents.get("extra"),
        "model": contents.get("model"),
        "optimizer": contents.get("optimizer"),
        "scheduler": contents.get("scheduler"),
        "rng": rng,
    }


def _check_model_fits(name: str, model, saved: dict | None, strict: bool) -> None:
    if saved is None:
        raise CheckpointMismatchError(f"load_checkpoint: {name!r} holds no model state")
    expected = model.state_dict()
    problems = []
    missing = [key for key in expected if key not in saved]
    unexpected = [key for key in saved if key not in expected]
    if strict and missing:
        problems.append("missing keys: " + ", ".join(missing))
    if strict and unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    for key, tensor in expected.items():
        value = saved.get(key)
        if isinstance(value, Tensor) and tuple(value.shape) != tuple(tensor.shape):
            problems.append(f"{key}: shape {list(value.shape)} in the checkpoint, {list(tensor.shape)} in the model")
    if problems:
        raise CheckpointMismatchError(
            f"load_checkpoint: {name!r} does not fit {type(model).__name__}:\n  " + "\n  ".join(problems)
        )


def _check_saved_state(name: str, kind: str, target, saved: dict | None, saved_type: str | None) -> None:
    """The checkpoint must hold a state of this ``kind`` ("optimizer", "scheduler"),
    saved from an object of ``target``'s class when it recorded the class."""
    if saved is None:
        raise CheckpointMismatchError(f"load_checkpoint: {name!r} holds no {kind} state")
    if saved_type is not None and saved_type != type(target).__name__:
        raise CheckpointMismatchError(
            f"load_checkpoint: {name!r} holds the state of a {saved_type} {kind}, not of a {type(target).__name__}"
        )


def _check_optimizer_fits(name: str, optimizer, saved: dict | None, saved_type: str | None) -> None:
    _check_saved_state(name, "optimizer", optimizer, saved, saved_type)
    saved_sizes = [len(group["params"]) for group in saved["param_groups"]]
    sizes = [len(group["params"]) for group in optimizer.param_groups]
    if saved_sizes != sizes:
        raise CheckpointMismatchError(
            f"load_checkpoint: {name!r} has optimizer parameter groups of sizes {saved_sizes}, "
            f"the optimizer has {sizes}"
        )
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved_ids = [i for group in saved["param_groups"] for i in group["params"]]
    for saved_id, param in zip(saved_ids, params):
        for buffer_name, value in saved["state"].get(saved_id, {}).items():
            if buffer_name != "step" and isinstance(value, Tensor) and value.shape != param.shape:
                raise CheckpointMismatchError(
                    f"load_checkpoint: {name!r} has optimizer buffer {buffer_name!r} of shape {list(value.shape)} "
                    f"for a parameter of shape {list(param.shape)}"
                )


# ------------------------------------------------------------------ JSON with tensors


def _encode(value: Any, key: str, tensors: dict[str, np.ndarray]) -> Any:
    """``value`` as JSON-ready data; tensors and arrays move to ``tensors`` under
    dotted keys built from their place in ``value`` and are replaced by markers."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Tensor, np.ndarray)):
        if key in tensors:
            raise ValueError(f"save_checkpoint: two entries are stored under the same key {key!r}")
        array = value._data if isinstance(value, Tensor) else value
        tensors[key] = _storable(array, key, "save_checkpoint")
        return {_TENSOR if isinstance(value, Tensor) else _ARRAY: key}
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(item, f"{key}.{i}", tensors) for i, item in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(item, f"{key}.{i}", tensors) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value) and not _MARKERS.intersection(value):
            return {k: _encode(v, f"{key}.{k}", tensors) for k, v in value.items()}
        return {_ITEMS: [[_encode_key(k, key), _encode(v, f"{key}.{k}", tensors)] for k, v in value.items()]}
    raise TypeError(
        f"save_checkpoint: cannot store {key!r} of type {type(value).__name__}: a checkpoint holds tensors, "
        "arrays, numbers, strings, None, and lists, tuples and dicts of them"
    )


def _encode_key(key: Any, where: str) -> Any:
    """A dict key as JSON data: a number, string, None, or a tuple of them."""
    if key is None or isinstance(key, (bool, int, float, str)):
        return key
    if isinstance(key, np.generic):
        return key.item()
    if isinstance(key, tuple):
        return {_TUPLE: [_encode_key(k, where) for k in key]}
    raise TypeError(f"save_checkpoint: cannot store a dict key of type {type(key).__name__} in {where!r}")


def _decode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of ``_encode``: markers become tensors, arrays, tuples and dicts again."""
    if isinstance(value, list):
        return [_decode(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((marker, content),) = value.items()
        if marker in (_TENSOR, _ARRAY):
            if content not in arrays:
                raise KeyError(f"the metadata refers to tensor {content!r}, which the file does not hold")
            array = arrays[content]
            return _wrap(array) if marker == _TENSOR else array
        if marker == _TUPLE:
            return tuple(_decode(item, arrays) for item in content)
        if marker == _ITEMS:
            return {_decode(k, arrays): _decode(v, arrays) for k, v in content}
    return {k: _decode(v, arrays) for k, v in value.items()}


# ------------------------------------------------------------------ files


def _read(path: str | os.PathLike, caller: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """All arrays and the metadata of a safetensors file, with errors that name the file."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise FileNotFoundError(f"{caller}: no such file: {name!r}")
    try:
        with safetensors.safe_open(name, framework="np") as file:
            metadata = file.metadata() or {}
            arrays = {key: file.get_tensor(key) for key in file.keys()}  # noqa: SIM118 - safe_open is not a dict
    except Exception as error:  # safetensors raises its own SafetensorError, or TypeError for unknown dtypes
        raise CorruptFileError(
            f"{caller}: cannot read {name!r}: not a valid safetensors file ({error}); "
            "it may be truncated or written by something else"
        ) from None
    return arrays, metadata


def _atomic_write(tensors: dict[str, np.ndarray], metadata: dict[str, str], path: str | os.PathLike) -> None:
    """Write a safetensors file so that ``path`` holds either its old contents or
    the complete new file, never a partial one: write a temporary file next to
    it, force it to disk, and rename it over ``path``."""
    target = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {os.fspath(path)!r}: directory {directory!r} does not exist")
    temporary = os.path.join(directory, f".{os.path.basename(target)}.{secrets.token_hex(6)}.tmp")
    # Created here (not by mkstemp, whose files are private) to learn the permissions
    # a new file gets under the umask; the writer may replace the file, so they are set again.
    descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    mode = os.fstat(descriptor).st_mode & 0o777
    os.close(descriptor)
    try:
        safetensors.numpy.save_file(tensors, temporary, metadata=metadata)
        os.chmod(temporary, mode)
        descriptor = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
