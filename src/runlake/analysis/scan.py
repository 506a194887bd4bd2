"""Reading a table: its committed Delta snapshot plus the raw records not yet compacted.

A scan pins one table version V, takes the raw byte offsets recorded by that same version, and
normalizes only the raw bytes past them (with :func:`runlake.compaction.normalize_lines`, the code
compaction uses). A compaction committing V+1 meanwhile changes neither half, so each record is
seen exactly once: in V's files if V covered its bytes, else in the tail. A record appended twice
(an idempotent retry) is deduplicated by record id, the committed copy winning.
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from runlake.append import SegmentSlice
from runlake.compaction import (
    Delta,
    RawSource,
    Snapshot,
    TailEntry,
    delta_errors,
    first_copies,
    ids_present,
    load_version,
    normalize_lines,
    open_table,
    raw_source,
    scan_files,
    snapshot_files,
    snapshot_of,
    tail_chain,
    tail_scan,
    tail_store,
)
from runlake.errors import (
    CompactionError,
    InvalidOption,
    LakeError,
    TableDamaged,
    UncompactedTailWarning,
)
from runlake.storage import DEFAULT_LOCK_TIMEOUT, Files, LakePaths, validate_table
from runlake.storage.shared import AnyPaths

ID = "record_id"
# Past either, a read suggests compacting: ~1 s of normalizing on one core (bench/query.py:
# 100 k small records, 1.2 s); a few large records cost by their bytes.
LARGE_TAIL_BYTES = 64 * 2**20
LARGE_TAIL_RECORDS = 100_000
_HINTED: set[tuple[str, str]] = set()  # tables whose large tail this process warned about
_HINTED_LOCK = threading.Lock()


@dataclass(frozen=True)
class TableView:
    """What a scan read: the snapshot it pinned, and how many raw records were pending."""

    snapshot: Snapshot
    pending: int
    frame: pl.LazyFrame


def read_table(
    paths: AnyPaths, table: str, *, version: int | None = None,
    as_of: datetime | str | None = None,
) -> pl.LazyFrame:
    """What :meth:`runlake.Lake.scan` returns: the fresh table, or an older version of it
    (``version=`` a number, or ``as_of=`` a time; not both)."""
    if version is not None and as_of is not None:
        raise InvalidOption("pass version= or as_of=, not both")
    at = version if version is not None else as_of
    return scan_table(paths, validate_table(table), version=at).frame


def scan_table(
    paths: AnyPaths, table: str, *, version: int | str | datetime | None = None
) -> TableView:
    """The table at ``version`` (a number, or a time for ``as of``) plus the pending raw tail.

    With an explicit version the tail is left out: an older snapshot is what it was.
    """
    root = paths.table_files(table)
    delta = open_at(root, table, version)
    snap = snapshot_of(root, table, delta)
    committed = _committed(root, delta, explicit=version is not None)
    if version is not None:
        return TableView(snap, 0, committed)
    source = raw_source(paths, table, DEFAULT_LOCK_TIMEOUT)
    slices, _ = source.pending(snap)
    disk = _Disk(paths, table) if isinstance(paths, LakePaths) else None
    tail = _TAILS.rows((str(paths.root), table), source, slices, root, delta, disk=disk)
    _hint_compaction((str(paths.root), table), tail.count,
                     sum(piece.end - piece.start for piece in slices))
    if tail.frame is None or tail.count == 0:
        return TableView(snap, 0, committed)
    return TableView(snap, tail.count, pl.concat([committed, tail.frame],
                                                 how="diagonal_relaxed"))


def _hint_compaction(table: tuple[str, str], records: int, raw_bytes: int) -> None:
    """Warn (:class:`UncompactedTailWarning`, once per table and process) when a read met a
    tail large enough to be worth compacting: every read normalizes it from JSON."""
    if raw_bytes < LARGE_TAIL_BYTES and records < LARGE_TAIL_RECORDS:
        return
    with _HINTED_LOCK:
        if table in _HINTED:
            return
        _HINTED.add(table)
    warnings.warn(UncompactedTailWarning(
        f"{records:,} records of table {table[1]!r} ({raw_bytes / 2**20:,.0f} MiB of raw "
        "lines) are not compacted yet: reads normalize them from JSON Lines and cannot skip "
        "any by the tables' statistics; `runlake compact` (lake.compact()) makes reads fast"),
        stacklevel=_first_caller_outside())


def _first_caller_outside() -> int:
    """The ``stacklevel`` of the first frame outside runlake, so the warning names the
    user's line (``lake.scan`` is a different depth from ``lake.sql`` or ``compare``)."""
    level, frame = 2, sys._getframe(2)  # 1: _hint_compaction, which calls warnings.warn
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(
            "runlake."):
        level, frame = level + 1, frame.f_back
    return level


def open_at(root: Files, table: str, version: int | str | datetime | None) -> Delta | None:
    """The Delta table at ``version`` (the latest when ``None``); a version the table does
    not have is an InvalidOption naming what it has."""
    delta = open_table(root)
    if version is None:
        return delta
    if delta is None:
        raise InvalidOption(f"table {table!r} has no compacted version yet: run "
                            "`runlake compact` first")
    latest = delta.version()
    try:
        moment = datetime.fromisoformat(version) if isinstance(version, str) else version
        if isinstance(moment, int) and moment < 0:
            raise ValueError(moment)
        load_version(root, delta, moment)
    except (CompactionError, OverflowError, ValueError) as exc:
        raise InvalidOption(f"table {table!r} has no version {version!r} (it has versions 0 to "
                            f"{latest}; as_of takes an ISO-8601 time)") from exc
    return delta


def _committed(root: Files, delta: Delta | None, *, explicit: bool) -> pl.LazyFrame:
    """The snapshot's rows; its files are looked for first, so a missing one is a clear
    error naming it (a damaged table, or an old version vacuum has cleaned up)."""
    if delta is None:
        return pl.LazyFrame({ID: pl.Series([], dtype=pl.String)})
    with delta_errors(root):
        files = snapshot_files(delta)
        # Locally a stat per file; in an object store a request per file, on every scan:
        # there a missing file shows up as the read's error instead.
        local = root.local
        missing = [path for path, _ in files if local and not (local / path).is_file()]
        if missing:
            raise _missing(root, delta, missing, explicit=explicit)
        return scan_files(root, delta, files)


def _missing(root: Files, delta: Delta, missing: list[str], *, explicit: bool) -> LakeError:
    """The error for a snapshot whose files are not all there: vacuum removed them from an
    old version (the latest no longer needs them), else the table is damaged."""
    version, table = int(delta.version()), root.uri.rstrip("/").rsplit("/", 1)[-1]
    named = f"{missing[0]}" + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
    latest = open_table(root)
    if explicit and latest is not None and latest.version() != version:
        needed = {path for path, _ in snapshot_files(latest)}
        if not needed & set(missing):
            return InvalidOption(
                f"version {version} of {table!r} is no longer readable: vacuum removed its "
                f"data files ({named}); versions kept for time travel are those younger than "
                f"the vacuum's retention (the latest is {latest.version()})")
    return TableDamaged(
        f"tables/{table}: version {version} references {len(missing)} missing data file(s): "
        f"{named}; run `runlake check {table}`, then `runlake rebuild {table}`")


@dataclass
class _Cached:
    """The rows of a segment's bytes ``[start, end)``, and where they are kept on disk."""

    start: int
    end: int
    tail: str | None  # the fingerprint of the bytes before ``end`` when they were read
    parts: list[pl.LazyFrame]  # the rows, in line order: cache files and fresh frames
    ids: pl.Series  # their record ids, in the same order
    entries: list[TailEntry]  # the persisted chain covering [start, end), or a prefix of it


Key = Hashable  # a segment range's identity (a local segment's path, device and inode)
TableKey = tuple[str, str]  # the lake root and the table name


@dataclass(frozen=True)
class _Tail:
    frame: pl.LazyFrame | None  # None: nothing pending
    count: int


class _TailCache:
    """Normalized rows of each segment's pending bytes, kept between scans.

    Raw segments are append-only, so the rows of a byte range never change: a repeated scan
    (an analyst's next question) normalizes only bytes appended since, and a compaction that
    moved a segment's committed offset simply starts that segment's entry afresh. Only the
    segments pending in the latest scan of a table are kept, so memory follows the tail.
    A segment truncated and grown again in place (same inode) would break that promise: an
    entry is reused only while the fingerprint of the bytes before its end still matches.

    In memory for this process and, for a local lake, on disk for the next ones
    (``runlake.compaction.tailcache``): a fresh process reads the rows of ranges some
    process normalized before lazily (only the columns a query needs) from the lake's
    cache, and normalizes only the bytes after them.
    """

    def __init__(self) -> None:
        self._tables: dict[TableKey, dict[Key, _Cached]] = {}
        self._results: dict[TableKey, tuple[object, _Tail]] = {}
        self._lock = threading.Lock()

    def rows(
        self, table: TableKey, source: RawSource[Any], slices: Sequence[Any], root: Files,
        delta: Delta | None, *, disk: _Disk | None,
    ) -> _Tail:
        """The pending rows not already in ``delta``'s snapshot, each record id once (the
        copy accepted first wins, as in compaction), and how many. An unchanged tail over an
        unchanged snapshot is answered from memory."""
        keys = [source.identity(piece) for piece in slices]
        tails = [source.fingerprint(piece) for piece in slices]
        signature = (None if delta is None else delta.version(),
                     tuple(zip(keys, slices, tails, strict=True)))
        with self._lock:
            memo = self._results.get(table)
            if memo is not None and memo[0] == signature:
                return memo[1]
            fresh = _updated(self._tables.get(table, {}), keys, slices, tails, source,
                             disk=disk)
            self._tables[table] = fresh
            rows = _new_rows(list(fresh.values()), root, delta)
            self._results[table] = (signature, rows)
            return rows


def _new_rows(cached: list[_Cached], root: Files, delta: Delta | None) -> _Tail:
    parts = [part for entry in cached for part in entry.parts]
    ids = pl.concat([entry.ids for entry in cached]) if cached else _NO_IDS
    if ids.is_empty():
        return _Tail(None, 0)
    keep = ids.is_first_distinct()
    if not keep.all():  # copies of a record id: the one accepted first wins, as compaction
        accepted = pl.concat([part.select("ingested_at") for part in parts],
                             how="vertical_relaxed").collect()
        keep = first_copies(ids, accepted["ingested_at"])
    if delta is not None:
        # Only a retried append can already be committed; the lookup reads only files whose
        # record-id range can hold one of these ids.
        known = ids_present(root, delta, ids.filter(keep))
        keep &= ~ids.is_in(known.implode())
    rows = pl.concat(parts, how="diagonal_relaxed")
    if not keep.all():
        kept = pl.Series(_ROW, np.flatnonzero(keep.to_numpy()), dtype=pl.UInt32)
        rows = rows.with_row_index(_ROW).filter(pl.col(_ROW).is_in(kept.implode())).drop(_ROW)
    return _Tail(rows, int(keep.sum()))


def _updated(
    old: dict[Key, _Cached], keys: list[Key], slices: Sequence[Any],
    tails: list[str | None], source: RawSource[Any], *, disk: _Disk | None,
) -> dict[Key, _Cached]:
    """Entries for ``slices``: rows cached in memory or on disk reused, only unseen bytes
    normalized, all of them in one call (its fixed cost would otherwise be paid once per
    segment), and kept on disk for the next process."""
    bases = []
    for key, piece in zip(keys, slices, strict=True):
        cached = old.get(key)
        if cached is not None and _still_valid(cached, piece, source):
            bases.append(cached)
        else:
            bases.append(disk.cached(piece) if disk is not None else _nothing(piece.start))
    todo = [replace(piece, start=base.end) for base, piece in zip(bases, slices, strict=True)]
    parts = _normalized_each(todo, source)
    return {key: _grown(base, piece, tail, part, disk)
            for key, base, piece, tail, part in zip(keys, bases, todo, tails, parts,
                                                    strict=True)}


def _nothing(start: int) -> _Cached:
    return _Cached(start, start, None, [], _NO_IDS, [])


def _grown(base: _Cached, todo: Any, tail: str | None, part: pl.DataFrame,
           disk: _Disk | None) -> _Cached:
    """``base`` followed by the rows of ``todo`` (its bytes after ``base.end``)."""
    if todo.end <= todo.start:
        return replace(base, tail=tail)
    entries = base.entries
    if disk is not None and (entries[-1].end if entries else base.start) == todo.start:
        entries = disk.store(todo, part, entries)  # the chain continues
    ids = part[ID] if ID in part.columns else _NO_IDS
    return _Cached(base.start, todo.end, tail, [*base.parts, part.lazy()],
                   pl.concat([base.ids, ids]), entries)


@dataclass(frozen=True)
class _Disk:
    """A local lake's persisted tail cache for one table."""

    paths: LakePaths
    table: str

    def cached(self, piece: SegmentSlice) -> _Cached:
        """What the cache on disk holds of ``piece``'s first bytes (maybe nothing)."""
        entries = tail_chain(self.paths, self.table, piece)
        try:
            parts = [tail_scan(entry) for entry in entries]
            ids = [part.select(ID).collect()[ID] for part in parts]
        except (OSError, pl.exceptions.PolarsError):  # removed or unreadable: normalize again
            return _nothing(piece.start)
        if not entries:
            return _nothing(piece.start)
        return _Cached(piece.start, entries[-1].end, None, parts, pl.concat(ids), entries)

    def store(self, piece: SegmentSlice, part: pl.DataFrame,
              before: list[TailEntry]) -> list[TailEntry]:
        return tail_store(self.paths, self.table, piece, part, before)


def _still_valid(cached: _Cached, piece: Any, source: RawSource[Any]) -> bool:
    """The cached rows are those of the piece's bytes up to ``cached.end``."""
    return (cached.start == piece.start and cached.end <= piece.end
            and source.fingerprint(replace(piece, end=cached.end)) == cached.tail)


def _normalized_each(pieces: Sequence[Any], source: RawSource[Any]) -> list[pl.DataFrame]:
    """Normalize every piece's bytes in one call; return each piece's rows."""
    blobs = [source.read(piece) if piece.end > piece.start else b"" for piece in pieces]
    if not any(blobs):
        return [pl.DataFrame() for _ in pieces]
    result = normalize_lines(b"".join(blobs))
    bounds = np.cumsum([len(blob) for blob in blobs])
    owner = np.searchsorted(bounds, result.starts, side="right")
    frame = result.frame.with_columns(pl.Series(_PIECE, owner, dtype=pl.Int64))
    # One split, not one filter per piece (a tail over 70 dates made 70 passes over it).
    split = frame.partition_by(_PIECE, as_dict=True, include_key=False, maintain_order=True)
    empty = frame.clear().drop(_PIECE)
    return [split.get((index,), empty) for index in range(len(pieces))]


_PIECE = "__runlake_piece"
_ROW = "__runlake_row"
_NO_IDS = pl.Series(ID, [], dtype=pl.String)
_TAILS = _TailCache()
