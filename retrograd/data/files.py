"""Where dataset files live, and how missing ones are fetched safely.

A dataset folder (e.g. ``fashion-mnist``) is looked for, in order, in
``$RETROGRAD_DATA/<folder>``, in ``/usr/share/datasets/<folder>`` (where
Debian's ``dataset-*`` packages install), and in the user cache
``$XDG_CACHE_HOME/retrograd/<folder>`` (``~/.cache/retrograd/<folder>``);
an explicit ``root`` replaces the whole search. Downloads go to the cache
(or to ``root``) through a temporary file that is renamed into place only
once its SHA-256 matches, so no half-written or corrupt file is ever left
where the next run would read it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "SYSTEM_DATA_DIRS",
    "DownloadError",
    "RemoteFile",
    "atomic_write",
    "cache_dir",
    "download",
    "search_dirs",
    "locate",
    "urllib_fetch",
]

# System-wide dataset folders (Debian's dataset-fashion-mnist installs /usr/share/datasets/fashion-mnist).
SYSTEM_DATA_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets"),)

# fetch(url, file): write the bytes found at ``url`` into the open binary ``file`` (without closing it).
Fetch = Callable[[str, BinaryIO], None]


class DownloadError(RuntimeError):
    """No mirror delivered a file with the expected checksum."""


@dataclass(frozen=True)
class RemoteFile:
    """A file to download: its name (appended to each mirror's base URL) and SHA-256."""

    name: str
    sha256: str


def cache_dir() -> Path:
    """The user cache for retrograd's datasets: ``$XDG_CACHE_HOME/retrograd``, else ``~/.cache/retrograd``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "retrograd"


def search_dirs(folder: str, root: str | os.PathLike | None = None) -> list[Path]:
    """The directories searched for dataset ``folder``, in order; the last one
    is where downloads go."""
    if root is not None:
        return [Path(root).expanduser()]
    dirs = []
    if os.environ.get("RETROGRAD_DATA"):
        dirs.append(Path(os.environ["RETROGRAD_DATA"]).expanduser() / folder)
    dirs.extend(system_dir / folder for system_dir in SYSTEM_DATA_DIRS)
    dirs.append(cache_dir() / folder)
    return dirs


def locate(names: Sequence[str], directory: Path) -> list[Path] | None:
    """The paths of all ``names`` in ``directory`` (each as ``name`` or
    uncompressed without ``.gz``), or None when one is missing."""
    paths = []
    for name in names:
        candidates = [directory / name, directory / name.removesuffix(".gz")]
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            return None
        paths.append(found)
    return paths


@contextlib.contextmanager
def atomic_write(destination: Path) -> Iterator[BinaryIO]:
    """An open temporary file beside ``destination`` that replaces it when the
    block ends without error (and is deleted when it raises)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{destination.name}."
    with tempfile.NamedTemporaryFile(dir=destination.parent, prefix=prefix, suffix=".part", delete=False) as file:
        try:
            yield file
            file.flush()
            os.fsync(file.fileno())
        except BaseException:
            file.close()
            os.unlink(file.name)
            raise
    try:
        os.replace(file.name, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(file.name)
        raise


def urllib_fetch(url: str, file: BinaryIO) -> None:
    """Stream ``url`` into ``file`` with the standard library (60 s timeout)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as response:
        shutil.copyfileobj(response, file, length=1 << 20)


def download(remote: RemoteFile, mirrors: Sequence[str], directory: Path, fetch: Fetch | None = None) -> Path:
    """Download ``remote`` into ``directory`` from the first mirror that serves
    it with the right SHA-256; raise ``DownloadError`` listing every failure."""
    import http.client

    fetch = fetch or urllib_fetch
    destination = directory / remote.name
    failures = []
    for base in mirrors:
        url = base + remote.name
        try:
            with atomic_write(destination) as file:
                fetch(url, file)
                file.flush()
                file.seek(0)
                digest = hashlib.file_digest(file, "sha256").hexdigest()
                if digest != remote.sha256:
                    raise DownloadError(f"SHA-256 mismatch: got {digest}, expected {remote.sha256}")
            return destination
        except (OSError, http.client.HTTPException, DownloadError) as error:
            failures.append(f"{url}: {error}")
    raise DownloadError(f"could not download {remote.name} into {directory}:\n  " + "\n  ".join(failures))
