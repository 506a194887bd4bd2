"""Staging: one compaction's data files, written but not yet committed.

Each normalized batch is fitted to the table's columns (:class:`SchemaTracker`) and its
partitions are written as Parquet files on a writer thread. Before the commit,
:meth:`Staging.settle` drops rows whose record id the table already holds (or another row
of the run accepted earlier: :func:`first_copies`) and brings files written before a column
widened up to its final type, and
:meth:`Staging.widen_committed` rewrites committed partitions holding a widened column. Every
file written is remembered, so a failed run removes them all (:meth:`Staging.discard`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future

import numpy as np
import polars as pl

from runlake.compaction.datafiles import (
    DataFile,
    FileOptions,
    partitions,
    remove_files,
    rewrite,
    write_file,
)
from runlake.compaction.deltatable import Delta, data_files, ids_present
from runlake.compaction.evolve import SchemaTracker
from runlake.storage import Files

_NO_ROWS = pl.Series("row", [], dtype=pl.UInt32)
KEYS = ["record_id", "ingested_at"]  # what dedup needs of each staged row


class Staging:
    """The files of one run over one table, from the first batch to the commit."""

    def __init__(self, root: Files, delta: Delta | None, tracker: SchemaTracker, *, tag: str,
                 options: FileOptions) -> None:
        self.root, self.delta, self.tracker = root, delta, tracker
        self.tag, self.options = tag, options  # tag: the run's sequence, in each file name
        self.staged: list[DataFile | None] = []  # None: every row of the file was dropped
        self.writing: list[Future[DataFile]] = []
        self.ids: list[pl.DataFrame] = []  # each staged file's KEYS, in order
        self.written: list[DataFile] = []  # every file written, for cleanup on failure
        self.duplicates = self.rewritten = 0

    def stage(self, frame: pl.DataFrame, pool: Executor) -> None:
        """Fit ``frame`` to the table's columns and write each of its partitions on ``pool``."""
        if frame.is_empty():
            return
        fitted = self.tracker.admit(frame)
        for date, part in partitions(fitted):
            self.writing.append(pool.submit(write_file, self.root, date, part,
                                            tag=self.tag, options=self.options))
            self.ids.append(part.select(KEYS))

    def add(self, files: Sequence[DataFile], ids: Sequence[pl.DataFrame],
            types: Mapping[str, pl.DataType]) -> None:
        """Files a worker wrote, with their KEYS and the batch's column ``types``
        (admitted in batch order, so the table's columns come out as a serial run's)."""
        self.tracker.admit(pl.DataFrame(schema=dict(types)))
        for file, file_ids in zip(files, ids, strict=True):
            self.written.append(file)
            self.staged.append(file)
            self.ids.append(file_ids)

    def wait(self, *, quiet: bool = False) -> None:
        """Collect the files being written (with ``quiet``, ignore their errors)."""
        for future in self.writing:
            try:
                file = future.result()
            except Exception:
                if not quiet:
                    raise
                continue
            self.written.append(file)
            self.staged.append(file)
        self.writing = []

    def discard(self) -> None:
        """After a failure: wait for the writer, then remove every file this run wrote."""
        self.wait(quiet=True)
        remove_files(self.root, self.written)

    @property
    def rows(self) -> int:
        """Rows staged so far, before dedup."""
        return sum(len(ids) for ids in self.ids)

    def files(self) -> list[DataFile]:
        """The staged files that still hold rows."""
        return [f for f in self.staged if f is not None]

    def records(self) -> int:
        return sum(f.rows for f in self.files())

    def settle(self) -> None:
        """Drop rows whose id the table already has or another row of this run accepted
        earlier had, and bring files written before a column widened up to its final type."""
        if not self.ids:
            return
        rows = pl.concat([keys.with_row_index("row").with_columns(file=pl.lit(i))
                          for i, keys in enumerate(self.ids)])
        present = self._present(rows["record_id"])
        dropped = rows.filter(~first_copies(rows["record_id"], rows["ingested_at"])
                              | pl.col("record_id").is_in(present.implode()))
        self.duplicates += dropped.height
        drops = {int(key[0]): group["row"]
                 for key, group in dropped.partition_by("file", as_dict=True).items()}
        for index, file in enumerate(self.staged):
            if file is not None and (index in drops or self._stale(file)):
                self.staged[index] = self._rewrite(file, drops.get(index, _NO_ROWS))
                self.root.remove(file.path)

    def widen_committed(self) -> tuple[list[DataFile], list[str]]:
        """Rewrite every committed partition holding a column this run widened: the new
        files, and the dates whose committed files they replace."""
        widened = self.tracker.widened()
        if not widened or self.delta is None:
            return [], []
        committed = data_files(self.root, self.delta)
        dates = sorted({f.date for f in committed if any(
            n in f.types and f.types[n] != t for n, t in widened.items())})
        replaced = [self._rewrite(f, _NO_ROWS) for f in committed if f.date in dates]
        self.rewritten = len(replaced)
        return [f for f in replaced if f is not None], dates

    def _present(self, candidates: pl.Series) -> pl.Series:
        if self.delta is None:
            return pl.Series([], dtype=pl.String)
        return ids_present(self.root, self.delta, candidates)

    def _stale(self, file: DataFile) -> bool:
        """Whether ``file`` has a column narrower than the table's, or spelled otherwise."""
        return any(self.tracker.spelled(n) != n or self.tracker.types[n] != t
                   for n, t in file.types.items())

    def _rewrite(self, file: DataFile, drop: pl.Series) -> DataFile | None:
        names = {n: self.tracker.spelled(n) for n in file.types}
        new = rewrite(self.root, file, types=self.tracker.types, drop_rows=drop, tag=self.tag,
                      options=self.options, names=names)
        if new is not None:
            self.written.append(new)
        return new


def first_copies(ids: pl.Series, accepted: pl.Series) -> pl.Series:
    """Whether each row (in raw order) is the copy of its record id that is kept: the one
    accepted first (earliest ``ingested_at``), ties in raw order (partition date, segment,
    byte offset). Raw order alone would let a later copy with an earlier event date win."""
    first = ids.is_first_distinct()
    if first.all():
        return first
    order = (pl.DataFrame({"id": ids, "at": accepted}).with_row_index("row")
             .sort("at", maintain_order=True, nulls_last=True))
    keep = np.zeros(len(ids), dtype=bool)
    keep[order.filter(pl.col("id").is_first_distinct())["row"].to_numpy()] = True
    return pl.Series(keep)
