"""The raw zone's only writer: one locked append of one buffer to a partition's segment.

Under the partition's lock: pick the current segment (rotating when it would pass the size
limit), terminate a torn tail left by a killed writer, make ONE ``write`` in append mode, then
fsync when asked. One write per batch is what keeps concurrent processes from interleaving
records (invariant 2); terminating the torn tail is what keeps a valid record from being glued
to garbage (invariant 3).
"""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runlake.storage import (
    DEFAULT_LOCK_TIMEOUT,
    fsync_path,
    list_segments,
    make_dirs,
    partition_lock,
    segment_name,
    segment_number,
    storage_errors,
)

Durability = Literal["fsync", "flush", "none"]
DEFAULT_SEGMENT_BYTES = 128 * 1024 * 1024


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
        created = make_dirs(partition)
        if created and durability == "fsync":
            for directory in created:
                fsync_path(directory)
        with partition_lock(partition, options.lock_timeout):
            return _append_locked(partition, buffer, durability, options.segment_bytes)


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
        fsync_path(partition)
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
