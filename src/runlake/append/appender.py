"""``Appender``: a lake's raw zone, written: single appends, batches and buffered writers.

``Lake.append``, ``append_many``, ``writer``, ``flush`` and ``close`` are this class's
methods; the failsafe writer uses it directly when it is given a path, so recording never
needs the facade (nor anything above the raw zone).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import get_args

from runlake.append.batching import PartitionBatch
from runlake.append.segments import DEFAULT_SEGMENT_BYTES, AppendOptions, Durability, append_buffer
from runlake.append.writer import BufferedWriter
from runlake.errors import InvalidOption, InvalidRecord, InvalidTableName, LakeError
from runlake.records import (
    DEFAULT_MAX_RECORD_BYTES,
    DEFAULT_RATING_SCALE,
    DERIVED_TABLES,
    Envelope,
    Enveloper,
    Scale,
)
from runlake.storage import DEFAULT_LOCK_TIMEOUT, LakePaths, validate_table

# append_many holds at most this much serialized data before it starts writing, so a call
# of up to this size is all-or-nothing when a record in it is invalid.
ATOMIC_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class LakeOptions:
    """Tuning knobs of a lake's raw zone."""

    segment_bytes: int = DEFAULT_SEGMENT_BYTES
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    rating_scale: Scale = DEFAULT_RATING_SCALE  # the ratings table's scores must be on it

    @property
    def append(self) -> AppendOptions:
        return AppendOptions(segment_bytes=self.segment_bytes, lock_timeout=self.lock_timeout)


class Appender:
    """The write side of one lake's raw zone (see :class:`runlake.Lake` for each method)."""

    def __init__(self, paths: LakePaths, options: LakeOptions) -> None:
        self.paths = paths
        self.options = options
        self._deferred: dict[str, BufferedWriter] = {}
        self._deferred_lock = threading.Lock()

    def append(self, table: str, record: object, *, durability: Durability = "fsync",
               record_id: str | None = None) -> str:
        """Append one record; return its record id (``"none"``: buffered until flushed)."""
        _check_durability(durability)
        if durability == "none":
            return self._deferred_writer(table).write(record, default_id=record_id)
        envelope = self._enveloper(table).envelope(record, default_id=record_id)
        path = self.paths.partition(table, envelope.date)
        append_buffer(path, envelope.line, durability, self.options.append)
        return envelope.record_id

    def append_many(
        self, table: str, records: Iterable[object], *, durability: Durability = "flush",
        on_invalid: Callable[[int, InvalidRecord], None] | None = None,
    ) -> int:
        """Append records with one locked write per partition; return how many were written.

        Calls of up to :data:`ATOMIC_BYTES` are all-or-nothing when a record is invalid
        (without ``on_invalid``); larger ones write in chunks and say how many were written.
        """
        _check_durability(durability)
        enveloper = self._enveloper(table)
        batch = PartitionBatch(self.paths, table, self.options.append)
        written = 0
        for index, record in enumerate(records):
            try:
                batch.add(_envelope(enveloper, record))
            except InvalidRecord as exc:
                if on_invalid is None:
                    raise _at_index(exc, index, written) from exc
                on_invalid(index, exc)
            if batch.pending_bytes >= ATOMIC_BYTES:
                written += batch.write(durability)
        return written + batch.write(durability)

    def writer(self, table: str, *, durability: Durability = "flush", max_batch: int = 1000,
               flush_interval: float | None = 1.0) -> BufferedWriter:
        """A buffered, group-committing writer for ``table`` (``"none"`` writes as ``"flush"``:
        the writer is already the buffer)."""
        _check_durability(durability)
        _writable(table)
        return BufferedWriter(
            self.paths, table, durability="fsync" if durability == "fsync" else "flush",
            max_batch=max_batch, flush_interval=flush_interval, options=self.options.append,
            max_record_bytes=self.options.max_record_bytes, rating_scale=self.options.rating_scale,
        )

    def flush(self) -> None:
        """Write records appended with ``durability="none"``."""
        for writer in list(self._deferred.values()):
            writer.flush()

    def close(self) -> None:
        """Flush and stop the buffers behind ``durability="none"`` appends."""
        with self._deferred_lock:
            writers, self._deferred = list(self._deferred.values()), {}
        for writer in writers:
            writer.close()

    def _enveloper(self, table: str) -> Enveloper:
        return Enveloper(_writable(table), max_record_bytes=self.options.max_record_bytes,
                         rating_scale=self.options.rating_scale)

    def _deferred_writer(self, table: str) -> BufferedWriter:
        with self._deferred_lock:
            writer = self._deferred.get(table)
            if writer is None:
                writer = self.writer(table, max_batch=10_000, flush_interval=None)
                self._deferred[table] = writer
            return writer


def _writable(table: str) -> str:
    """``table``, if records may be appended to it (a valid name, not a derived table)."""
    if validate_table(table) in DERIVED_TABLES:
        raise InvalidTableName(f"table {table!r} is written by compaction (runs joined with "
                               "their ratings): append runs to 'runs' and ratings to 'ratings'")
    return table


def _envelope(enveloper: Enveloper, record: object) -> Envelope:
    """The record's envelope; anything it raises for this one record (an object whose
    attribute raises, say) is an :class:`InvalidRecord`, so it never stops the others."""
    try:
        return enveloper.envelope(record)
    except LakeError:
        raise
    except Exception as exc:
        raise InvalidRecord(enveloper.table, None, f"cannot be stored "
                            f"({type(exc).__name__}: {exc})") from exc


def _check_durability(durability: str) -> None:
    """Raise :class:`InvalidOption` unless ``durability`` is one of the three modes."""
    if durability not in get_args(Durability):
        raise InvalidOption(f"durability must be one of {get_args(Durability)}, got {durability!r}")


def _at_index(exc: InvalidRecord, index: int, written: int) -> InvalidRecord:
    note = f"record #{index}: {exc.reason}" + (
        f" ({written} earlier records were already written)" if written else
        " (nothing was written)"
    )
    return InvalidRecord(exc.table, exc.field, note)
