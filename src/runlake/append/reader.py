"""Reading the raw zone: complete lines of a segment, and the stored records they hold.

A reader notes every segment's size when it starts and never reads past it, so a concurrent
append is either wholly in a read or wholly out of it. A last line without its newline is a
write in progress (or a killed writer's torn tail): it is not yielded. A complete line in the
middle that is not a valid envelope is corrupt: skipped and counted, or raised in strict mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from runlake.errors import CorruptLine
from runlake.storage import LakePaths, file_size

READ_CHUNK = 8 * 1024 * 1024
_TAIL_STEP = 64 * 1024


@dataclass(frozen=True, slots=True)
class SegmentSlice:
    """A byte range ``[start, end)`` of one segment, fixed when a read begins."""

    path: Path
    start: int
    end: int


@dataclass(frozen=True)
class StoredRecord:
    """One record as stored: the envelope the lake added, the record, and where it lives."""

    record_id: str
    event_time: datetime
    ingested_at: datetime
    record: dict[str, Any]
    segment: Path
    offset: int


def iter_lines(piece: SegmentSlice, chunk: int = READ_CHUNK) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, line)`` for every complete, non-empty line in the slice.

    Memory stays bounded by ``chunk`` plus one line, whatever the segment's size.
    """
    with piece.path.open("rb") as handle:
        handle.seek(piece.start)
        position, carry = piece.start, b""
        while position < piece.end:
            data = handle.read(min(chunk, piece.end - position))
            if not data:
                break
            position += len(data)
            block = carry + data
            lines = block.split(b"\n")
            carry = lines.pop()  # no newline yet: incomplete, kept for the next chunk
            offset = position - len(block)
            for line in lines:
                if line:
                    yield offset, line
                offset += len(line) + 1


def complete_end(piece: SegmentSlice) -> int:
    """The offset just past the slice's last complete line (``start`` if there is none).

    Reads backwards in small steps: usually only the last line is looked at.
    """
    with piece.path.open("rb") as handle:
        position = piece.end
        while position > piece.start:
            size = min(_TAIL_STEP, position - piece.start)
            handle.seek(position - size)
            index = handle.read(size).rfind(b"\n")
            if index >= 0:
                return position - size + index + 1
            position -= size
    return piece.start


def decode_line(line: bytes, segment: Path, offset: int) -> StoredRecord:
    """Parse one stored line; raise :class:`CorruptLine` if it is not a valid envelope."""
    try:
        doc = orjson.loads(line)
        record = doc["record"]
        if not isinstance(record, dict):
            raise TypeError("record is not an object")
        return StoredRecord(
            record_id=str(doc["record_id"]),
            event_time=_parse_utc(doc["event_time"]),
            ingested_at=_parse_utc(doc["ingested_at"]),
            record=record,
            segment=segment,
            offset=offset,
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CorruptLine(str(segment), offset, _describe(exc)) from exc


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


def _describe(exc: Exception) -> str:
    if isinstance(exc, orjson.JSONDecodeError):
        return f"not valid JSON ({exc})"
    if isinstance(exc, KeyError):
        return f"missing envelope field {exc.args[0]!r}"
    return str(exc)


@dataclass
class RawScan:
    """An iterable over a table's stored records; ``corrupt`` fills in as it is iterated.

    >>> scan = lake.read_raw("runs")          # doctest: +SKIP
    >>> records = list(scan); scan.corrupt    # doctest: +SKIP
    """

    paths: LakePaths
    table: str
    strict: bool = False
    corrupt: list[CorruptLine] = field(default_factory=list)

    def slices(self) -> list[SegmentSlice]:
        """Every segment of the table with its size as of now."""
        pieces = []
        for date in self.paths.partition_dates(self.table):
            for segment in self.paths.segments(self.table, date):
                pieces.append(SegmentSlice(segment, 0, file_size(segment)))
        return pieces

    def __iter__(self) -> Iterator[StoredRecord]:
        for piece in self.slices():
            for offset, line in iter_lines(piece):
                try:
                    yield decode_line(line, piece.path, offset)
                except CorruptLine as exc:
                    if self.strict:
                        raise
                    self.corrupt.append(exc)
