"""File access every stage shares: OSError -> StorageError, fsync, sizes, new directories.

The one place an ``OSError`` becomes a :class:`~runlake.errors.StorageError`: a message that
names the path and says what to do (disk full, permissions, a read-only file system), so a
caller never needs ``except OSError``.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runlake.errors import StorageError

_HINTS = {
    errno.ENOSPC: "disk full (free space or move the lake)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied (check the lake directory's owner and mode)",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.EIO: "I/O error",
}


@contextmanager
def storage_errors(path: Path, *, doing: str | None = None) -> Iterator[None]:
    """Translate an OSError into :class:`StorageError` naming the path and a likely fix.

    ``doing`` says what failed (default: ``write <the file>``).
    """
    try:
        yield
    except StorageError:
        raise
    except OSError as exc:
        raise storage_error(exc, path, doing=doing) from exc


def storage_error(exc: OSError, path: Path, *, doing: str | None = None) -> StorageError:
    """The :class:`StorageError` for ``exc``, raised while working on ``path``."""
    return StorageError(f"cannot {doing or f'write {exc.filename or path}'}: {_reason(exc)}")


def _reason(exc: OSError) -> str:
    """Why an operation failed, in words that suggest the fix."""
    return _HINTS.get(exc.errno or 0, exc.strerror or str(exc))


def file_size(path: Path) -> int:
    """The size of ``path`` in bytes, 0 if it is gone (vacuum may remove old segments)."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def make_dirs(path: Path) -> list[Path]:
    """Create ``path`` and missing parents; return the parents whose entries changed."""
    if path.is_dir():
        return []
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    path.mkdir(parents=True, exist_ok=True)
    return [p.parent for p in missing]


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory: so a new entry in it survives a power cut)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(target: Path, data: bytes, *, sync_directory: bool = True) -> None:
    """Put ``data`` at ``target`` atomically and durably: a fresh temporary next to it
    (``O_EXCL | O_NOFOLLOW``: never an existing file, never through a planted symlink),
    fsynced, renamed over ``target`` (a rename replaces a symlink, never writes through
    it), then the directory fsynced unless the caller does that once for many files."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(temporary, flags, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        temporary.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(temporary, target)
    if sync_directory:
        fsync_path(target.parent)
