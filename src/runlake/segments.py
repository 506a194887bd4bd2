"""The raw zone's only writer: one locked append of one buffer to a partition's segment.

Under the partition's lock: pick the current segment (rotating when it would pass the size
limit), terminate a torn tail left by a killed writer, make ONE ``write`` in append mode, then
fsync when asked. One write per batch is what keeps concurrent processes from interleaving
records (invariant 2); terminating the torn tail is what keeps a valid record from being glued
to garbage (invariant 3).
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from filelock import FileLock
from filelock import Timeout as FileLockTimeout

from runlake.errors import LockTimeout, StorageError
from runlake.layout import LOCK_NAME, list_segments, segment_name, segment_number

Durability = Literal["fsync", "flush", "none"]
DURABILITIES: tuple[Durability, ...] = ("fsync", "flush", "none")
DEFAULT_SEGMENT_BYTES = 128 * 1024 * 1024
DEFAULT_LOCK_TIMEOUT = 60.0


@dataclass(frozen=True)
class AppendOptions:
    """How partition appends behave."""

    segment_bytes: int = DEFAULT_SEGMENT_BYTES
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT


def append_buffer(
    partition: Path, buffer: bytes | bytearray, durability: Durability, options: AppendOptions
) -> Path:
    """Append ``buffer`` (whole lines) to the partition's current segment; return the segment."""
    with storage_errors(partition):
        created = _make_dirs(partition)
        if created and durability == "fsync":
            _fsync_dirs(created)
        with partition_lock(partition, options.lock_timeout):
            return _append_locked(partition, buffer, durability, options.segment_bytes)


@contextmanager
def partition_lock(partition: Path, timeout: float) -> Iterator[None]:
    """Hold the partition's append lock; raise :class:`LockTimeout` after ``timeout`` seconds."""
    lock = _thread_lock(partition / LOCK_NAME)
    try:
        lock.acquire(timeout=timeout)
    except FileLockTimeout as exc:
        raise LockTimeout(
            f"could not lock {partition} within {timeout:g}s: another process holds it "
            "(raise lock_timeout, or look for a stuck writer)"
        ) from exc
    try:
        yield
    finally:
        lock.release()


_LOCKS = threading.local()


def _thread_lock(path: Path) -> FileLock:
    """This thread's FileLock for ``path``, made once: building one costs more than taking it.

    One instance per thread, because flock is per open file: two threads with their own
    instances exclude each other as two processes do, while a shared instance would be
    reentrant across threads. A 1 ms poll keeps a contended append's wait near the holder's
    write time.
    """
    cache: dict[Path, FileLock] | None = getattr(_LOCKS, "cache", None)
    if cache is None:
        cache = _LOCKS.cache = {}
    lock = cache.get(path)
    if lock is None:
        lock = cache[path] = FileLock(path, thread_local=False, poll_interval=0.001)
    return lock


# Per-process memo of each partition's current segment; it saves a directory listing and a
# stat per append. It is only a hint: it is reopened without O_CREAT and its size is checked
# under the lock, and a vanished or full hint falls back to listing the directory.
_CURRENT: dict[Path, Path] = {}


def _append_locked(
    partition: Path, buffer: bytes | bytearray, durability: Durability, limit: int
) -> Path:
    fd, segment, new = _open_segment(partition, len(buffer), limit)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            buffer = b"\n" + buffer  # a killed writer left a torn line: end it, never glue to it
        _write_durably(fd, buffer, size, durability)
    except OSError as exc:
        exc.filename = exc.filename or str(segment)  # errors from write/fsync name no file
        raise
    finally:
        os.close(fd)
    if new and durability == "fsync":
        _fsync_dirs([partition])
    _CURRENT[partition] = segment
    return segment


def _open_segment(partition: Path, incoming: int, limit: int) -> tuple[int, Path, bool]:
    """Open the segment to append to: (descriptor, path, whether it was created)."""
    hint = _CURRENT.get(partition)
    if hint is not None:
        try:
            fd = os.open(hint, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            fd = -1
        if fd >= 0:
            size = os.fstat(fd).st_size
            if size == 0 or size + incoming <= limit:
                return fd, hint, False
            os.close(fd)
    segment, new = _current_segment(partition, incoming, limit)
    # O_EXCL: a new segment's name is never reused, so offsets recorded for it stay valid.
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | (os.O_EXCL if new else 0)
    return os.open(segment, flags, 0o644), segment, new


def _current_segment(partition: Path, incoming: int, limit: int) -> tuple[Path, bool]:
    segments = list_segments(partition)
    if not segments:
        return partition / segment_name(1), True
    last = segments[-1]
    size = last.stat().st_size
    if size == 0 or size + incoming <= limit:
        return last, False
    number = segment_number(last.name) or 0
    return partition / segment_name(number + 1), True


def _write_durably(
    fd: int, buffer: bytes | bytearray, size: int, durability: Durability
) -> None:
    """Write and maybe fsync; on failure cut the segment back to ``size``.

    A failed append (disk full mid-write, an fsync error) must leave no partial batch behind:
    the caller will retry or spill those records, and a half-written copy would be a torn
    line or a duplicate. We hold the partition lock, so nobody appended after ``size``.
    """
    try:
        _write_all(fd, buffer)
        if durability == "fsync":
            os.fsync(fd)
    except OSError:
        with suppress(OSError):
            os.ftruncate(fd, size)
        raise


def _write_all(fd: int, buffer: bytes | bytearray) -> None:
    # os.write on a regular file writes everything or raises; the loop guards against a
    # short write (e.g. a signal) so a batch is never silently truncated.
    view = memoryview(buffer)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _make_dirs(path: Path) -> list[Path]:
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


def _fsync_dirs(paths: list[Path]) -> None:
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def storage_errors(path: Path) -> Iterator[None]:
    """Translate an OSError into :class:`StorageError` naming the path and a likely fix."""
    try:
        yield
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"cannot write {exc.filename or path}: {_reason(exc)}") from exc


def _reason(exc: OSError) -> str:
    hints = {
        errno.ENOSPC: "disk full (free space or move the lake)",
        errno.EDQUOT: "disk quota exceeded",
        errno.EACCES: "permission denied (check the lake directory's owner and mode)",
        errno.EPERM: "operation not permitted",
        errno.EROFS: "read-only file system",
        errno.EIO: "I/O error",
    }
    return hints.get(exc.errno or 0, exc.strerror or str(exc))
