"""Where a table's raw lines come from: a local lake's segments, or the objects recording
hosts shipped to a shared lake.

A :class:`RawSource` gives compaction and the fresh scan the same four things either way:
the byte ranges pending past a snapshot's offsets, each range's segment key (the name
offsets are recorded under), runs of whole lines for compaction's batches, and a range's
bytes for the scan's tail. The local source also holds the table's compaction lock; a shared
lake has none (there is no lock across hosts), and needs none for exactly-once: two
compactors build on the same snapshot and the second commit conflicts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from runlake.append import LakeStatus, SegmentSlice, TableStatus, write_watermark
from runlake.compaction.deltatable import open_table, row_count
from runlake.compaction.offsets import (
    Reset,
    Snapshot,
    fingerprint,
    pending,
    segment_key,
    snapshot,
    snapshot_of,
)
from runlake.compaction.rawbatches import Chunk, segment_chunks
from runlake.errors import LakeError
from runlake.storage import LakePaths, table_lock
from runlake.storage.shared import AnyPaths, SharedPaths, Shipped, shared_paths
from runlake.storage.shipping import Shipping

_log = logging.getLogger(__name__)
S = TypeVar("S")


class RawSource(Protocol, Generic[S]):
    """A table's raw lines, as compaction and the fresh scan read them."""

    def lock(self) -> AbstractContextManager[None]:
        """Held while compacting or maintaining the table (a no-op on a shared lake)."""
        ...

    def pending(self, snap: Snapshot) -> tuple[list[S], list[Reset]]:
        """The byte ranges past ``snap``'s offsets, whole lines only, in segment order, and
        the segments read again from 0 (a local segment whose history changed)."""
        ...

    def fingerprint(self, piece: S) -> str | None:
        """What the commit keeps of the bytes before ``piece``'s end (``None``: nothing)."""
        ...

    def committed(self, pieces: Sequence[S]) -> None:
        """Told after the commit that covers ``pieces``."""
        ...

    def key(self, piece: S) -> str:
        """The segment key ``piece``'s offsets are recorded under."""
        ...

    def end(self, piece: S) -> int:
        """Where ``piece`` ends in its segment."""
        ...

    def chunks(self, pieces: Sequence[S], limit: int) -> Iterator[Chunk]:
        """Runs of whole lines of at most ``limit`` bytes (or one longer line)."""
        ...

    def plan(self, pieces: Sequence[S], limit: int) -> Iterator[list[S]]:
        """``pieces`` cut into batches of whole lines of about ``limit`` bytes, without
        reading them: for workers that read their batch themselves."""
        ...

    def read(self, piece: S) -> bytes:
        """All of ``piece``'s bytes."""
        ...

    def identity(self, piece: S) -> Hashable:
        """What a cache of a piece's rows is keyed by: a range of a segment is immutable."""
        ...


@dataclass(frozen=True)
class LocalSource:
    """A local lake's segments, read under their partitions' locks."""

    paths: LakePaths
    table: str
    lock_timeout: float

    def lock(self) -> AbstractContextManager[None]:
        return table_lock(self.paths, self.table, self.lock_timeout)

    def pending(self, snap: Snapshot) -> tuple[list[SegmentSlice], list[Reset]]:
        found = pending(self.paths, self.table, snap, lock_timeout=self.lock_timeout)
        return found.slices, found.resets

    def fingerprint(self, piece: SegmentSlice) -> str | None:
        return fingerprint(piece.path, piece.end)

    def committed(self, pieces: Sequence[SegmentSlice]) -> None:
        """Tell writers each covered segment's committed offset, so none appends to a
        segment that later shrinks below it (a safeguard: failing it fails nothing)."""
        partitions: dict[Path, dict[str, int]] = {}
        for piece in pieces:
            partitions.setdefault(piece.path.parent, {})[piece.path.name] = piece.end
        for partition, offsets in partitions.items():
            try:
                write_watermark(partition, offsets, self.lock_timeout)
            except LakeError as exc:
                _log.warning("runlake: could not update %s: %s", partition, exc)

    def key(self, piece: SegmentSlice) -> str:
        return segment_key(piece.path)

    def end(self, piece: SegmentSlice) -> int:
        return piece.end

    def chunks(self, pieces: Sequence[SegmentSlice], limit: int) -> Iterator[Chunk]:
        return segment_chunks(pieces, limit)

    def plan(self, pieces: Sequence[SegmentSlice], limit: int) -> Iterator[list[SegmentSlice]]:
        # The runs are memory-mapped, and only the pages where a run ends are touched.
        runs = (SegmentSlice(piece.path, offset, offset + len(chunk))
                for piece in pieces for _, offset, chunk in segment_chunks([piece], limit))
        return _grouped(runs, limit)

    def read(self, piece: SegmentSlice) -> bytes:
        if piece.end <= piece.start:
            return b""
        with piece.path.open("rb") as handle:
            handle.seek(piece.start)
            return handle.read(piece.end - piece.start)

    def identity(self, piece: SegmentSlice) -> Hashable:
        # The inode too: a segment removed and a new one created under the same name must
        # not inherit the old one's rows.
        info = os.stat(piece.path)
        return str(piece.path), info.st_dev, info.st_ino


@dataclass(frozen=True, slots=True)
class ShippedSlice:
    """Bytes ``[start, end)`` of a host's segment, held by the shipped object ``shipped``."""

    shipped: Shipped
    start: int
    end: int


@dataclass(frozen=True)
class ShippedSource:
    """The objects shipped to a shared lake for one table."""

    paths: SharedPaths
    table: str

    def lock(self) -> AbstractContextManager[None]:
        return nullcontext()

    def pending(self, snap: Snapshot) -> tuple[list[ShippedSlice], list[Reset]]:
        return shipped_past(self.paths.shipped(self.table), snap), []

    def fingerprint(self, piece: ShippedSlice) -> str | None:
        return None  # shipped objects are immutable: the bytes before an offset never change

    def committed(self, pieces: Sequence[ShippedSlice]) -> None:
        pass

    def key(self, piece: ShippedSlice) -> str:
        return piece.shipped.segment_key

    def end(self, piece: ShippedSlice) -> int:
        return piece.end

    def chunks(self, pieces: Sequence[ShippedSlice], limit: int) -> Iterator[Chunk]:
        for piece in pieces:
            yield from _runs(self.key(piece), piece.start, self.read(piece), limit)

    def plan(self, pieces: Sequence[ShippedSlice], limit: int) -> Iterator[list[ShippedSlice]]:
        return _grouped(pieces, limit)  # whole objects (each at most 64 MiB of lines)

    def read(self, piece: ShippedSlice) -> bytes:
        base = piece.shipped.start
        return self.paths.store.get_range(piece.shipped.key, piece.start - base,
                                          piece.end - base)

    def identity(self, piece: ShippedSlice) -> Hashable:
        return piece.shipped.key


def shipped_ends(objects: list[Shipped]) -> dict[str, int]:
    """Per segment key, the end of the objects that tile it from byte 0."""
    ends: dict[str, int] = {}
    for shipped in sorted(objects, key=lambda s: (s.segment_key, s.start)):
        if ends.get(shipped.segment_key, 0) == shipped.start:
            ends[shipped.segment_key] = shipped.end
    return ends


def _grouped(pieces: Iterable[S], limit: int) -> Iterator[list[S]]:
    """Consecutive pieces in groups of at most ``limit`` bytes (or one larger piece)."""
    group: list[S] = []
    filled = 0
    for piece in pieces:
        size = piece.end - piece.start  # type: ignore[attr-defined]
        if group and filled + size > limit:
            yield group
            group, filled = [], 0
        group.append(piece)
        filled += size
    if group:
        yield group


def shipped_past(objects: list[Shipped], snap: Snapshot) -> list[ShippedSlice]:
    """The ranges of ``objects`` past ``snap``'s offsets, in segment and offset order."""
    by_segment: dict[str, list[Shipped]] = {}
    for shipped in objects:
        by_segment.setdefault(shipped.segment_key, []).append(shipped)
    pending = []
    for key in sorted(by_segment):
        pending += _past(key, by_segment[key], snap.offsets.get(key, 0))
    return pending


def _past(key: str, objects: list[Shipped], offset: int) -> list[ShippedSlice]:
    """A segment's objects past ``offset``. They tile the segment from 0; at a gap or an
    overlap (an object deleted or written by hand) the rest waits, and is logged."""
    pending = []
    expected = 0
    for shipped in sorted(objects, key=lambda s: s.start):
        if shipped.start != expected:
            _log.warning("shipped objects of %s do not tile it at byte %d (found %s): the "
                         "objects from there are left pending", key, expected, shipped.key)
            break
        expected = shipped.end
        if shipped.end > offset:
            pending.append(ShippedSlice(shipped, max(shipped.start, offset), shipped.end))
    return pending


def _runs(key: str, start: int, raw: bytes, limit: int) -> Iterator[Chunk]:
    """``raw`` (whole lines from ``start`` of segment ``key``) cut into runs of whole lines
    of at most ``limit`` bytes, or one longer line; views, not copies."""
    data = memoryview(raw)
    position = 0
    while position < len(data):
        stop = min(position + limit, len(data))
        cut = stop if stop == len(data) else raw.rfind(b"\n", position, stop) + 1
        if cut <= position:  # one line longer than a batch
            newline = raw.find(b"\n", stop)
            cut = len(data) if newline < 0 else newline + 1
        yield key, start + position, data[position:cut]
        position = cut


def raw_source(paths: AnyPaths, table: str, lock_timeout: float) -> RawSource[Any]:
    """The raw source of ``table`` in the lake at ``paths``."""
    if isinstance(paths, SharedPaths):
        return ShippedSource(paths, table)
    return LocalSource(paths, table, lock_timeout)


def shared_status(paths: SharedPaths) -> LakeStatus:
    """What a shared lake holds, per table: the dates, host segments and bytes shipped, and
    its records: the table's rows plus the lines shipped since its last compaction (counting
    every shipped line would mean reading the whole raw zone)."""
    return LakeStatus(paths.root, [_shipped_status(paths, t) for t in paths.table_names()])


def _shipped_status(paths: SharedPaths, table: str) -> TableStatus:
    shipped = paths.shipped(table)
    dates = sorted({s.date for s in shipped})
    root = paths.table_files(table)
    delta = open_table(root)
    source = ShippedSource(paths, table)
    tail = shipped_past(shipped, snapshot_of(root, table, delta))
    records = sum(source.read(piece).count(b"\n") for piece in tail)
    records += row_count(root, delta) if delta is not None else 0
    return TableStatus(table, len(dates), len({s.segment_key for s in shipped}), records,
                       sum(s.size for s in shipped), dates[0] if dates else None,
                       dates[-1] if dates else None)


def shipped_coverage(shipping: Shipping, table: str) -> dict[str, int]:
    """How far the shared lake ``shipping`` names has compacted each of this host's segments
    of ``table``, keyed as the local segments are (``date=.../seg-NNNNNN.jsonl``)."""
    shared = shared_paths(shipping.to)
    marker = f"/host={shipping.host}/"
    covered = snapshot(shared, table).offsets if table in shared.table_names() else {}
    return {key.replace(marker, "/"): end for key, end in covered.items() if marker in key}
