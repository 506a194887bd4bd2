"""What a lake holds: tables, partitions, records and bytes, for ``runlake status``.

Counting records means counting the newlines of every segment, about a second per GB; the
counts are memoized per table in ``cache/<table>/lines.json`` so that a repeated ``status``
reads only the bytes appended since. Segments are append-only, so the count of a segment's
first ``size`` bytes stays valid while the same file (device, inode) still has those bytes:
the memo keeps the last bytes before ``size`` and compares them before trusting the count
(a segment cut back after a failed write, or deleted and recreated, is counted afresh).
The memo is never a source of truth: unreadable or unwritable, it is ignored.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from runlake.storage import LakePaths

_COUNT_CHUNK = 8 * 1024 * 1024
_MEMO_NAME = "lines.json"
_MEMO_FORMAT = 1
_PROBE = 32  # bytes before the memoized size that must still be there

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableStatus:
    """One table's raw zone."""

    name: str
    partitions: int
    segments: int
    records: int
    bytes: int
    first_date: str | None
    last_date: str | None


@dataclass(frozen=True)
class LakeStatus:
    """The whole lake; ``tables`` is sorted by name (``root``: a URL for a shared lake)."""

    root: Path | str
    tables: list[TableStatus]

    @property
    def records(self) -> int:
        return sum(t.records for t in self.tables)

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables)


def lake_status(paths: LakePaths) -> LakeStatus:
    return LakeStatus(paths.root, [table_status(paths, name) for name in paths.table_names()])


def table_status(paths: LakePaths, table: str) -> TableStatus:
    dates = paths.partition_dates(table)
    base = paths.raw_table(table)
    memo_path = paths.table_cache(table) / _MEMO_NAME
    old = _read_memo(memo_path)
    new: dict[str, _Count] = {}
    for date in dates:
        for segment in paths.segments(table, date):
            key = segment.relative_to(base).as_posix()
            with contextlib.suppress(FileNotFoundError):  # vacuum may remove old segments
                new[key] = count_lines(segment, old.get(key))
    if new != old:
        _write_memo(memo_path, new)
    return TableStatus(
        name=table,
        partitions=len(dates),
        segments=len(new),
        records=sum(c.lines for c in new.values()),
        bytes=sum(c.size for c in new.values()),
        first_date=dates[0] if dates else None,
        last_date=dates[-1] if dates else None,
    )


@dataclass(frozen=True)
class _Count:
    """The complete lines among a segment's first ``size`` bytes, and what identifies them."""

    dev: int
    ino: int
    size: int
    lines: int
    probe: str  # hex of the _PROBE bytes before size


def count_lines(path: Path, known: _Count | None = None) -> _Count:
    """Complete lines in a file (a torn tail is not counted), from ``known`` on if it still
    describes this file's beginning, in C-speed chunks."""
    with path.open("rb") as handle:
        stat = os.fstat(handle.fileno())
        start, lines = 0, 0
        if known is not None and _still_holds(handle.fileno(), stat, known):
            start, lines = known.size, known.lines
        handle.seek(start)
        size = start
        while chunk := handle.read(_COUNT_CHUNK):
            lines += chunk.count(b"\n")
            size += len(chunk)
        probe = _probe(handle.fileno(), size)
    return _Count(stat.st_dev, stat.st_ino, size, lines, probe)


def _probe(fd: int, size: int) -> str:
    length = min(_PROBE, size)
    return os.pread(fd, length, size - length).hex()


def _still_holds(fd: int, stat: os.stat_result, known: _Count) -> bool:
    return (
        (stat.st_dev, stat.st_ino) == (known.dev, known.ino)
        and stat.st_size >= known.size
        and _probe(fd, known.size) == known.probe
    )


def _read_memo(path: Path) -> dict[str, _Count]:
    try:
        data = json.loads(path.read_bytes())
        if data.get("format") != _MEMO_FORMAT:
            return {}
        return {key: _entry(value) for key, value in data["segments"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}  # missing, unreadable or from another version: count afresh


def _entry(value: list[object]) -> _Count:
    dev, ino, size, lines, probe = value
    if not (isinstance(dev, int) and isinstance(ino, int) and isinstance(size, int)
            and isinstance(lines, int) and isinstance(probe, str)):
        raise ValueError(f"not a line count: {value!r}")
    return _Count(dev, ino, size, lines, probe)


def _write_memo(path: Path, counts: dict[str, _Count]) -> None:
    """Replace the memo atomically (temp file + rename); a lake we may not write to, or a
    full disk, only costs the next ``status`` its time."""
    data = {"format": _MEMO_FORMAT,
            "segments": {key: [c.dev, c.ino, c.size, c.lines, c.probe]
                         for key, c in counts.items()}}
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(json.dumps(data))
        os.replace(temp, path)
    except OSError as exc:
        log.debug("line-count memo not written to %s: %s", path, exc)
        with contextlib.suppress(OSError):
            temp.unlink()
