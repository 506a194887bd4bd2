"""The raw zone's only writer: one locked append of one buffer to a partition's segment.

Under the partition's lock: pick the current segment (rotating when it would pass the size
limit), terminate a torn tail left by a killed writer, make ONE ``write`` in append mode, then
fsync when asked. One write per batch is what keeps concurrent processes from interleaving
records (invariant 2); terminating the torn tail is what keeps a valid record from being glued
to garbage (invariant 3).

Removal and append exclude each other: ``vacuum`` unlinks a raw segment only under the
partition's lock, after checking again that nothing was appended past what compaction
covered. A writer that nevertheless finds its open segment unlinked (``st_nlink == 0``, an
operator's ``rm``) drops it and lists the partition again, so an acknowledged append never
lands in a file no directory holds.

Appends never go into a segment whose history no longer matches (shrunk below what this
process wrote or compaction covered, or replaced by another file): the writer rotates to a
fresh segment instead. In process, the hint remembers the segment's inode and its size after
the last write; across processes, compaction leaves each partition a watermark
(``.committed``: each segment's committed offset) that a writer listing the partition reads.
Compaction itself never trusts an offset whose bytes changed (see ``compaction.offsets``);
this only keeps new records out of a segment someone tampered with.

An ``"fsync"`` append is durable with its directory entries: the first time this process
fsync-appends into a segment it did not create durably (a ``"flush"`` append or another
process made it), it fsyncs the partition directory, and once per partition the directories
above it, before returning.
"""

from __future__ import annotations

import json
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
    replace_file,
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
# stat per append. It is only a hint: it is reopened without O_CREAT, its size and link count
# are checked under the lock, and a vanished, unlinked or full hint falls back to listing.
_CURRENT: dict[Path, tuple[Path, int, int]] = {}  # partition -> (segment, inode, size)
WATERMARK = ".committed"
# Segments (path, device, inode) whose directory entry this process knows is durable, and
# partitions whose ancestors it fsynced: an "fsync" append pays for directories once. The
# path is part of the key because a removed segment's inode number may be reused.
_DURABLE_SEGMENTS: set[tuple[Path, int, int]] = set()
_DURABLE_PARTITIONS: set[Path] = set()
_ANCESTORS = 3  # raw/<table>/date=...: the table directory, raw/ and the lake root


def _append_locked(
    partition: Path, buffer: bytes | bytearray, durability: Durability, limit: int
) -> Path:
    fd, segment, info = _open_segment(partition, len(buffer), limit)
    try:
        size = info.st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            buffer = b"\n" + buffer  # a killed writer left a torn line: end it, never glue to it
        _write_durably(fd, buffer, size, durability)
    except OSError as exc:
        exc.filename = exc.filename or str(segment)  # errors from write/fsync name no file
        raise
    finally:
        os.close(fd)
    if durability == "fsync":
        _durable_entries(partition, (segment, info.st_dev, info.st_ino))
    _CURRENT[partition] = (segment, info.st_ino, size + len(buffer))
    return segment


def _durable_entries(partition: Path, segment: tuple[Path, int, int]) -> None:
    """Make the segment's directory entry (and the partition's, up to the lake root)
    durable, unless this process already did."""
    if segment in _DURABLE_SEGMENTS:
        return
    fsync_path(partition)
    if partition not in _DURABLE_PARTITIONS:
        for directory in list(partition.parents)[:_ANCESTORS]:
            fsync_path(directory)
        _DURABLE_PARTITIONS.add(partition)
    _DURABLE_SEGMENTS.add(segment)


def _open_segment(
    partition: Path, incoming: int, limit: int
) -> tuple[int, Path, os.stat_result]:
    """Open the segment to append to (under the partition lock): (descriptor, path, its stat
    at opening). A segment found unlinked after opening is dropped and the partition listed
    again: writing into it would acknowledge a record no directory holds."""
    hint = _CURRENT.pop(partition, None)
    changed = None
    if hint is not None:
        opened = _reopen(hint, incoming, limit)
        if isinstance(opened, Path):
            changed = opened
        elif opened is not None:
            return opened
    while True:
        segment, new = _current_segment(partition, incoming, limit, changed)
        # O_EXCL: a new segment's name is never reused, so offsets recorded for it stay valid.
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | (os.O_EXCL if new else 0)
        fd = os.open(segment, flags, 0o644)
        info = os.fstat(fd)
        if info.st_nlink:
            return fd, segment, info
        os.close(fd)  # removed between listing and opening: list again


def _reopen(hint: tuple[Path, int, int], incoming: int, limit: int
            ) -> tuple[int, Path, os.stat_result] | Path | None:
    """The hinted segment opened, if it still exists, is linked and has room; the segment's
    path if its history changed (another inode, or shorter than this process wrote it)."""
    segment, inode, written = hint
    try:
        fd = os.open(segment, os.O_RDWR | os.O_APPEND)
    except FileNotFoundError:
        return None
    info = os.fstat(fd)
    if info.st_nlink and (info.st_ino != inode or info.st_size < written):
        os.close(fd)
        return segment
    if info.st_nlink and (info.st_size == 0 or info.st_size + incoming <= limit):
        return fd, segment, info
    os.close(fd)
    return None


def _current_segment(
    partition: Path, incoming: int, limit: int, changed: Path | None
) -> tuple[Path, bool]:
    """The partition's last segment if it has room and its history is intact, else the
    next one (to be created)."""
    segments = list_segments(partition)
    if not segments:
        return partition / segment_name(1), True
    last = segments[-1]
    size = last.stat().st_size
    intact = last != changed and size >= _watermark(partition).get(last.name, 0)
    if intact and (size == 0 or size + incoming <= limit):
        return last, False
    number = segment_number(last.name) or 0
    return partition / segment_name(number + 1), True


def _watermark(partition: Path) -> dict[str, int]:
    """The committed offset of each segment of the partition, as compaction last left it
    (empty when there is none or it is unreadable: it is only a safeguard)."""
    try:
        found = json.loads((partition / WATERMARK).read_bytes())
    except (OSError, ValueError):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, int)} if isinstance(
        found, dict) else {}


def write_watermark(partition: Path, offsets: dict[str, int], lock_timeout: float) -> None:
    """Record the committed offsets of the partition's segments (name -> offset), under
    its lock; called by compaction after a commit."""
    with storage_errors(partition), partition_lock(partition, lock_timeout):
        merged = {**_watermark(partition), **offsets}
        present = {p.name for p in list_segments(partition)}
        kept = {name: offset for name, offset in sorted(merged.items()) if name in present}
        replace_file(partition / WATERMARK, json.dumps(kept).encode(), sync_directory=False)


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
