"""A directory of the table zone, wherever it lives: ``Files``, and its local kind.

Compaction, maintenance and reads handle a table's directory (and its quarantine) through
:class:`Files`: the same calls for a local directory (:class:`LocalFiles`, here) and for a
prefix in an object store (``storage.objects.ObjectFiles``). Names are relative and
``/``-separated. ``uri`` and ``options`` are what delta-rs and Polars take; ``local`` is the
directory when there is one, so the local path keeps its direct file I/O (memory maps,
Polars' streaming sink, fsync) instead of going through bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from runlake.storage.fs import make_dirs, replace_file, storage_errors


@dataclass(frozen=True)
class Entry:
    """A file under a :class:`Files` directory: its relative name, size and modification
    time (ms since the epoch)."""

    name: str
    size: int
    modified_ms: int


class Files(Protocol):
    """A directory of the lake, local or in an object store."""

    @property
    def uri(self) -> str:
        """The directory as delta-rs and Polars name it (a path, or ``s3://...``)."""
        ...

    @property
    def options(self) -> dict[str, str] | None:
        """Storage options for delta-rs and Polars (``None``: local, or the environment)."""
        ...

    @property
    def local(self) -> Path | None:
        """The local directory, or ``None`` in an object store."""
        ...

    def child(self, name: str) -> str:
        """The URI of the file ``name``."""
        ...

    def read(self, name: str) -> bytes | None:
        """The bytes of ``name``, ``None`` if it does not exist."""
        ...

    def create(self, name: str, data: bytes | memoryview) -> None:
        """Write a new file, durably; an existing one is an error (names are unique)."""
        ...

    def replace(self, name: str, data: bytes) -> None:
        """Write ``name`` whole, replacing any previous one; never seen half-written."""
        ...

    def remove(self, name: str) -> None:
        """Delete ``name`` (a missing one is fine)."""
        ...

    def size(self, name: str) -> int:
        """The size of ``name``, 0 if it is gone."""
        ...

    def entries(self, under: str = "") -> list[Entry]:
        """Every file below the folder ``under`` (default: all), sorted by name."""
        ...

    def exists(self) -> bool:
        """Whether the directory holds anything."""
        ...


@dataclass(frozen=True)
class LocalFiles:
    """A :class:`Files` directory on the local file system."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)

    @property
    def uri(self) -> str:
        return str(self.path)

    @property
    def options(self) -> dict[str, str] | None:
        return None

    @property
    def local(self) -> Path:
        return self.path

    def child(self, name: str) -> str:
        return str(self.path / name)

    def read(self, name: str) -> bytes | None:
        target = self.path / name
        with storage_errors(target, doing=f"read {target}"):
            try:
                return target.read_bytes()
            except FileNotFoundError:
                return None

    def create(self, name: str, data: bytes | memoryview) -> None:
        target = self.path / name
        with storage_errors(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())

    def replace(self, name: str, data: bytes) -> None:
        target = self.path / name
        with storage_errors(target):
            make_dirs(target.parent)
            replace_file(target, data)

    def remove(self, name: str) -> None:
        target = self.path / name
        with storage_errors(target, doing=f"delete {target}"):
            target.unlink(missing_ok=True)

    def size(self, name: str) -> int:
        try:
            return os.stat(self.path / name).st_size
        except FileNotFoundError:
            return 0

    def entries(self, under: str = "") -> list[Entry]:
        base = self.path / under if under else self.path
        found = []
        for folder, _, names in os.walk(base):
            for name in names:
                info = os.stat(os.path.join(folder, name))
                relative = Path(folder, name).relative_to(self.path).as_posix()
                found.append(Entry(relative, info.st_size, info.st_mtime_ns // 1_000_000))
        return sorted(found, key=lambda e: e.name)

    def exists(self) -> bool:
        return self.path.is_dir()
