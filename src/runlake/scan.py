"""Reading a table: its committed Delta snapshot plus the raw records not yet compacted.

A scan pins one table version V, takes the raw byte offsets recorded by that same version, and
normalizes only the raw bytes past them (with :func:`runlake.normalize.normalize_lines`, the code
compaction uses). A compaction committing V+1 meanwhile changes neither half, so each record is
seen exactly once: in V's files if V covered its bytes, else in the tail. A record appended twice
(an idempotent retry) is deduplicated by record id, the committed copy winning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from runlake.deltatable import delta_errors, open_table
from runlake.layout import LakePaths
from runlake.normalize import normalize_lines
from runlake.offsets import Snapshot, pending_slices, snapshot_of
from runlake.reader import SegmentSlice

ID = "record_id"


@dataclass(frozen=True)
class TableView:
    """What a scan read: the snapshot it pinned, and how many raw records were pending."""

    snapshot: Snapshot
    pending: int
    frame: pl.LazyFrame


def scan_table(
    paths: LakePaths, table: str, *, version: int | str | datetime | None = None,
    include_pending: bool = True,
) -> TableView:
    """The table at ``version`` (a number, or a time for ``as of``) plus the pending raw tail.

    With an explicit version the tail is left out: an older snapshot is what it was.
    """
    root = paths.tables / table
    delta = open_table(root)
    if delta is not None and version is not None:
        with delta_errors(root):
            delta.load_as_version(version)
    snap = snapshot_of(root, table, delta)
    committed = _committed(root, snap)
    if not include_pending or version is not None:
        return TableView(snap, 0, committed)
    tail = _tail(pending_slices(paths, table, snap))
    if tail.is_empty():
        return TableView(snap, 0, committed)
    return TableView(snap, tail.height, _union(committed, tail, snap))


def _committed(root: Path, snap: Snapshot) -> pl.LazyFrame:
    if snap.version is None:
        return pl.LazyFrame({ID: pl.Series([], dtype=pl.String)})
    with delta_errors(root):
        return pl.scan_delta(str(root), version=snap.version)


def _tail(slices: Sequence[SegmentSlice]) -> pl.DataFrame:
    """Normalized rows of the pending bytes, deduplicated among themselves (first wins)."""
    if not slices:
        return pl.DataFrame()
    blob = b"".join(_read(piece) for piece in slices)
    frame = normalize_lines(blob).frame
    return frame.unique(subset=ID, keep="first", maintain_order=True)


def _read(piece: SegmentSlice) -> bytes:
    with piece.path.open("rb") as handle:
        handle.seek(piece.start)
        return handle.read(piece.end - piece.start)


def _union(committed: pl.LazyFrame, tail: pl.DataFrame, snap: Snapshot) -> pl.LazyFrame:
    if snap.version is not None:
        # Only a retried append can already be committed; looking up just the tail's ids
        # keeps this to one column read, whatever the table's size.
        known = committed.select(ID).filter(pl.col(ID).is_in(tail[ID].implode())).collect()
        tail = tail.filter(~pl.col(ID).is_in(known[ID].implode()))
    return pl.concat([committed, tail.lazy()], how="diagonal_relaxed")
