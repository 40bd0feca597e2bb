"""Reading IDX files, the format of MNIST and Fashion-MNIST (plain or gzip).

An IDX file is a 4-byte magic number -- two zero bytes, a type code and the
number of dimensions -- then one big-endian uint32 size per dimension, then
the values in C order, big-endian. Labels are ``0x00000801`` (2049: unsigned
bytes, 1 dimension) and images ``0x00000803`` (2051: unsigned bytes, 3
dimensions).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

__all__ = ["IDXError", "read_idx", "LABELS_MAGIC", "IMAGES_MAGIC"]

LABELS_MAGIC = 2049
IMAGES_MAGIC = 2051

# Type code (third byte of the magic number) -> big-endian element type.
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_SIGNATURE = b"\x1f\x8b"


class IDXError(ValueError):
    """A file that is not a valid IDX file (the message names the file)."""


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """The array stored in the IDX file at ``path`` (gzip-compressed or not; the
    content decides, not the name), in native byte order.

    ``expected_magic`` (e.g. ``LABELS_MAGIC``) rejects files of another kind.
    A truncated, overlong or otherwise corrupt file raises ``IDXError``.
    """
    content = _read_bytes(path)
    if len(content) < 4:
        raise IDXError(f"{path}: truncated IDX file ({len(content)} bytes, the header alone needs at least 4)")
    zero, type_code, ndim = struct.unpack(">HBB", content[:4])
    magic = struct.unpack(">I", content[:4])[0]
    if zero != 0 or type_code not in _IDX_TYPES:
        raise IDXError(f"{path}: not an IDX file (magic number {magic:#010x})")
    if expected_magic is not None and magic != expected_magic:
        raise IDXError(f"{path}: wrong magic number {magic} (expected {expected_magic}: {_describe(expected_magic)})")
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise IDXError(
            f"{path}: truncated IDX header ({len(content)} bytes, expected {header_size} for {ndim} dimensions)"
        )
    shape = struct.unpack(f">{ndim}I", content[4:header_size])
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(content) - header_size
    if found < expected:
        raise IDXError(f"{path}: truncated IDX file: shape {shape} needs {expected} bytes of data, found {found}")
    if found > expected:
        raise IDXError(f"{path}: {found - expected} unexpected bytes after the data of shape {shape}")
    values = np.frombuffer(content, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def _read_bytes(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as file:
        content = file.read()
    if not content.startswith(_GZIP_SIGNATURE):
        return content
    try:
        return gzip.decompress(content)
    except (EOFError, OSError, zlib.error) as error:
        raise IDXError(f"{path}: corrupt or truncated gzip data ({error})") from None


def _describe(magic: int) -> str:
    type_code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    dtype = _IDX_TYPES.get(type_code)
    kind = f"{dtype.name} values" if dtype is not None else f"type code {type_code:#04x}"
    return f"{ndim}-D {kind}"
