"""Shipping: a recording host's new complete lines -> immutable objects on a shared lake.

For every local segment, the shipper lists what the bucket already holds of it (its objects
tile the segment from byte 0), reads the segment's size under the partition's append lock
(so it never ends inside a write in progress), and uploads the complete lines past the
shipped end as new objects, each created with ``If-None-Match: *`` under a name that says
where it starts (:func:`runlake.storage.shared.shipped_key`). There is no local progress
file: progress is the bucket. A shipper killed at any instant, or two running at once,
neither loses nor duplicates: an object is there whole or not at all, and a second upload
from the same start finds the name taken, lists again and goes on from the new end.

The lake's host id and destination are kept in ``ship.json`` at the lake root, written once
(:mod:`runlake.storage.shipping`): a lake ships to one shared lake under one host id, so its
objects never collide with another host's, and raw retention knows where to look before
removing a segment.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from runlake.append import SegmentSlice
from runlake.compaction import Snapshot, pending_slices, segment_key
from runlake.errors import InvalidOption, StorageError
from runlake.storage import DEFAULT_LOCK_TIMEOUT, LakePaths
from runlake.storage.shared import SharedPaths, Shipped, shipped_key
from runlake.storage.shipping import shipping_of

MAX_OBJECT_BYTES = 64 * 1024 * 1024  # shipped objects are buffered whole
_READ_STEP = 8 * 1024 * 1024


@dataclass(frozen=True)
class ShipResult:
    """What one pass of the shipper uploaded."""

    host: str
    to: str
    objects: int
    bytes: int
    lines: int
    seconds: float


def ship(
    paths: LakePaths, to: SharedPaths, *, host: str | None = None,
    max_object_bytes: int = MAX_OBJECT_BYTES, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> ShipResult:
    """Upload the new complete lines of every local segment to the shared lake ``to``."""
    return Shipper(paths, to, host=host, max_object_bytes=max_object_bytes,
                   lock_timeout=lock_timeout).run()


class Shipper:
    """Ships one lake to one shared lake, pass after pass (``runlake ship --every``).

    The first pass lists what the bucket holds of each partition; later passes remember
    where they left off and list again only when a name is taken (another shipper of this
    lake got there first), so a pass over an idle lake costs no request.
    """

    def __init__(self, paths: LakePaths, to: SharedPaths, *, host: str | None = None,
                 max_object_bytes: int = MAX_OBJECT_BYTES,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        if max_object_bytes < 1:
            raise InvalidOption(f"max_object_bytes must be positive, got {max_object_bytes}")
        self.paths, self.to, self.limit, self.timeout = paths, to, max_object_bytes, lock_timeout
        to.writable()  # a store ignoring If-None-Match could let two shippers overwrite
        self.identity = shipping_of(paths, to=to.root, host=host)
        self._ends: dict[tuple[str, str], dict[str, int]] = {}

    def run(self) -> ShipResult:
        """One pass over every table: ship what is new; return what was uploaded."""
        started = time.monotonic()
        objects = size = lines = 0
        for table in self.paths.table_names():
            for length, count in self._ship_table(table):
                objects, size, lines = objects + 1, size + length, lines + count
        return ShipResult(self.identity.host, self.to.root, objects, size, lines,
                          time.monotonic() - started)

    def _ship_table(self, table: str) -> Iterator[tuple[int, int]]:
        """Ship one table; yield (bytes, lines) per object created."""
        offsets = {}
        for date in self.paths.partition_dates(table):
            ends = self._shipped(table, date)
            _check_not_behind(self.paths, table, date, ends, self.identity.host)
            offsets.update({f"date={date}/{name}": end for name, end in ends.items()})
        done = Snapshot(table, None, 0, offsets)
        for piece in pending_slices(self.paths, table, done, lock_timeout=self.timeout):
            yield from self._ship_slice(table, piece)

    def _shipped(self, table: str, date: str, *, fresh: bool = False) -> dict[str, int]:
        """Per segment of the partition, how far it is shipped (listed once, then kept)."""
        if fresh or (table, date) not in self._ends:
            found = self.to.shipped(table, date=date, host=self.identity.host)
            self._ends[table, date] = _ends(found)
        return self._ends[table, date]

    def _ship_slice(self, table: str, piece: SegmentSlice) -> Iterator[tuple[int, int]]:
        date = piece.path.parent.name.removeprefix("date=")
        name, start = piece.path.name, piece.start
        with piece.path.open("rb") as handle:
            while start < piece.end:
                data = _lines(handle, start, min(piece.end, start + self.limit), piece.end)
                if not data:
                    break
                key = shipped_key(table, date, self.identity.host, name, start)
                if self.to.store.create(key, data):
                    start += len(data)
                    self._ends[table, date][name] = start
                    yield len(data), data.count(b"\n")
                    continue
                # Another shipper of this lake got here first: go on from where it ended.
                start = max(start, self._shipped(table, date, fresh=True).get(name, start))


def _lines(handle: BinaryIO, start: int, stop: int, end: int) -> bytes:
    """Whole lines from ``start``: up to ``stop``, or one line longer than that."""
    handle.seek(start)
    data = handle.read(stop - start)
    if (cut := data.rfind(b"\n") + 1) > 0:
        return data[:cut]
    while stop < end:  # one line longer than an object: read to its end
        more = handle.read(min(_READ_STEP, end - stop))
        stop += len(more)
        data += more
        if b"\n" in more:
            break
    return data[:data.rfind(b"\n") + 1]


def _ends(objects: list[Shipped]) -> dict[str, int]:
    """Per segment name, the end of the objects that tile it from byte 0."""
    ends: dict[str, int] = {}
    for shipped in sorted(objects, key=lambda s: (s.segment, s.start)):
        if ends.get(shipped.segment, 0) == shipped.start:
            ends[shipped.segment] = shipped.end
    return ends


def _check_not_behind(paths: LakePaths, table: str, date: str, shipped: dict[str, int],
                      host: str) -> None:
    """A local segment shorter than what was shipped of it is another lake's segment under
    the same host id: refuse rather than ship a mixture."""
    for name, end in shipped.items():
        local = paths.partition(table, date) / name
        size = local.stat().st_size if local.exists() else None
        if size is not None and size < end:
            raise StorageError(
                f"{end} bytes of {segment_key(local)} are shipped as host {host!r}, but the "
                f"local segment has {size}: another lake ships under the same host id (give "
                "each lake its own, or keep the lake's ship.json)")
