"""One batch's work, as a function another process (or machine) can run: byte ranges in,
data files out.

``compact_batch`` reads a batch of whole lines from the lake's raw source itself (local
segments, or shipped objects), decodes and normalizes it, fits the rows to the
table's committed columns, writes each date partition as a Parquet file where the table
keeps them (a local directory or an object store) and returns what the coordinator needs
for the one commit: the files with their record ids, the types the batch needed, and its
bad lines. It shares nothing with the coordinator but its arguments, so it runs on any
``concurrent.futures.Executor``: a process pool, a Dask ``Client.get_executor()``, Ray's.
Nothing it writes is visible before the coordinator's commit; files of a batch whose run
fails are orphans that ``vacuum`` removes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from runlake.compaction.datafiles import DataFile, FileOptions, partitions, write_file
from runlake.compaction.decode import BadLine, Decoder
from runlake.compaction.evolve import SchemaTracker
from runlake.compaction.normalize import normalize_batch
from runlake.compaction.quarantine import QuarantineEntry
from runlake.compaction.rawbatches import Batch, Piece
from runlake.compaction.sources import RawSource
from runlake.compaction.staging import KEYS
from runlake.storage import Files


@dataclass(frozen=True)
class BatchTask:
    """A batch sent to a worker: which raw bytes to read, from where, and where files go."""

    table: str
    source: RawSource[Any]
    pieces: tuple[Any, ...]
    root: Files
    committed: Mapping[str, pl.DataType]
    tag: str
    options: FileOptions


@dataclass(frozen=True)
class BatchDone:
    """What a worker made of a batch: files (each with its record ids), the batch's column
    types in order, its bad lines."""

    files: tuple[DataFile, ...]
    ids: tuple[pl.DataFrame, ...]  # each file's record ids and ingestion times (KEYS)
    types: Mapping[str, pl.DataType]
    bad: tuple[QuarantineEntry, ...]


_DECODER: list[Decoder] = []  # one per worker process: it learns the data's shape


def compact_batch(task: BatchTask) -> BatchDone:
    """Normalize ``task``'s lines and write its partitions; see the module docstring."""
    if not _DECODER:
        _DECODER.append(Decoder(threads=False))
    batch = _read(task.source, task.pieces)
    tracker = SchemaTracker(dict(task.committed))
    files: list[DataFile] = []
    ids: list[pl.DataFrame] = []
    bad: list[QuarantineEntry] = []
    types: dict[str, pl.DataType] = {}
    for base, part in normalize_batch(batch.data, _DECODER[0]):
        bad += bad_entries(task.table, batch, base, part.bad)
        if part.frame.is_empty():
            continue
        fitted = tracker.admit(part.frame)
        types.update(fitted.schema)
        for date, rows in partitions(fitted):
            files.append(write_file(task.root, date, rows, tag=task.tag, options=task.options))
            ids.append(rows.select(KEYS))
    return BatchDone(tuple(files), tuple(ids), types, tuple(bad))


def _read(source: RawSource[Any], pieces: Sequence[Any]) -> Batch:
    blobs = [source.read(piece) for piece in pieces]
    at, places = 0, []
    for piece, blob in zip(pieces, blobs, strict=True):
        places.append(Piece(source.key(piece), piece.start, at, len(blob)))
        at += len(blob)
    data = blobs[0] if len(blobs) == 1 else b"".join(blobs)
    return Batch(memoryview(data), tuple(places))


def bad_entries(table: str, batch: Batch, base: int,
                bad: Sequence[BadLine]) -> list[QuarantineEntry]:
    """Quarantine entries for a part's bad lines (``base``: the part's offset in the batch),
    each with its segment and offset."""
    entries = []
    for line in bad:
        at = base + line.offset
        segment, offset = batch.origin(at)
        text = bytes(batch.data[at:at + line.length])
        entries.append(QuarantineEntry(table, segment, offset, text, line.reason))
    return entries
