"""Compaction: a table's pending raw lines -> Parquet files added by ONE Delta commit.

Under the table's compaction lock: read the snapshot (version, sequence, offsets), read the
raw bytes past the offsets in bounded batches, normalize each batch, quarantine bad lines,
fit it to the schema, write its partitions as Parquet files. Then drop record ids the table
already holds or the run saw earlier, rewrite the few files that needs (or that a widened
column needs), and make the one commit that adds the files, records the new offsets and
advances the application transaction to the next sequence. Nothing before that commit is
visible; a run killed at any instant leaves only orphan files (``vacuum`` removes them) and
quarantine entries that the retry rewrites in place.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa

from runlake.append.reader import SegmentSlice
from runlake.columns import CANONICAL
from runlake.datafiles import PARTITION, DataFile, FileOptions, remove_files, rewrite, write_file
from runlake.decode import BadLine, Buffer, Decoder, Offsets, index_lines
from runlake.defaults import DEFAULT_BATCH_BYTES
from runlake.deltatable import (
    app_id,
    column_types,
    commit,
    data_files,
    ids_present,
    open_table,
)
from runlake.evolve import SchemaTracker
from runlake.normalize import Normalized, normalize_decoded
from runlake.offsets import Snapshot, commit_metadata, pending_slices, segment_key, snapshot_of
from runlake.quarantine import QuarantineEntry, write_entries
from runlake.rawbatches import Batch, read_batches
from runlake.storage import DEFAULT_LOCK_TIMEOUT, LakePaths, table_lock, validate_table

DECODERS = 2  # batches decoded at once, one thread each (the machine this targets has 2 cores)
# Errors that mean "this data cannot be normalized", as opposed to a failing disk.
_NO_ROWS = pl.Series("row", [], dtype=pl.UInt32)
_DATA_ERRORS = (pl.exceptions.PolarsError, pa.ArrowException, ValueError)


@dataclass(frozen=True)
class CompactOptions:
    """How a compaction runs: batch size (bounds memory), lock wait, data-file format."""

    batch_bytes: int = DEFAULT_BATCH_BYTES
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    files: FileOptions = field(default_factory=FileOptions)


@dataclass(frozen=True)
class CompactionProgress:
    """Sent to the ``progress`` callback after every batch."""

    table: str
    done_bytes: int
    total_bytes: int
    records: int
    quarantined: int


Progress = Callable[[CompactionProgress], None]


@dataclass(frozen=True)
class TableCompaction:
    """What one table's compaction did; ``version`` is ``None`` when nothing was pending."""

    table: str
    version: int | None
    sequence: int
    records: int
    duplicates: int
    quarantined: int
    partitions: tuple[str, ...]
    bytes: int
    files: int
    rewritten: int
    seconds: float


@dataclass(frozen=True)
class CompactionResult:
    """What ``compact`` did, per table and in total."""

    tables: tuple[TableCompaction, ...]
    seconds: float

    @property
    def records(self) -> int:
        return sum(t.records for t in self.tables)

    @property
    def duplicates(self) -> int:
        return sum(t.duplicates for t in self.tables)

    @property
    def quarantined(self) -> int:
        return sum(t.quarantined for t in self.tables)

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables)

    @property
    def partitions(self) -> int:
        return sum(len(t.partitions) for t in self.tables)


def compact(
    paths: LakePaths, table: str | None = None, *, options: CompactOptions | None = None,
    progress: Progress | None = None,
) -> CompactionResult:
    """Compact ``table`` (every table when ``None``); see :meth:`runlake.Lake.compact`."""
    started = time.monotonic()
    names = [validate_table(table)] if table is not None else paths.table_names()
    chosen = options or CompactOptions()
    done = tuple(compact_table(paths, name, options=chosen, progress=progress)
                 for name in names)
    return CompactionResult(done, time.monotonic() - started)


def compact_table(
    paths: LakePaths, table: str, *, options: CompactOptions, progress: Progress | None
) -> TableCompaction:
    started = time.monotonic()
    with table_lock(paths, table, options.lock_timeout):
        return _Compaction(paths, table, options, progress).run(started)


class _Compaction:
    """One run over one table: state shared by the batches, then the commit."""

    def __init__(self, paths: LakePaths, table: str, options: CompactOptions,
                 progress: Progress | None) -> None:
        self.paths, self.table, self.options, self.progress = paths, table, options, progress
        self.root = paths.tables / table
        self.delta = open_table(self.root)
        self.snap: Snapshot = snapshot_of(self.root, table, self.delta)
        self.sequence = self.snap.sequence + 1
        self.tag = f"{self.sequence:08d}"
        committed = column_types(self.delta) if self.delta is not None else {}
        self.tracker = SchemaTracker(committed)
        self.decoder = Decoder(threads=False)  # batches are decoded in parallel instead
        self.staged: list[DataFile | None] = []
        self.writing: list[Future[DataFile]] = []
        self.ids: list[pl.Series] = []
        self.written: list[DataFile] = []  # every file written, for cleanup on failure
        self.duplicates = self.quarantined = self.rewritten = 0

    def run(self, started: float) -> TableCompaction:
        slices = pending_slices(self.paths, self.table, self.snap,
                                lock_timeout=self.options.lock_timeout)
        if not slices:
            return self._result(None, 0, started)
        total = sum(s.end - s.start for s in slices)
        # Two threads decode batches (JSON parsing and Polars both run outside the GIL) while
        # this one stages the previous batch and a third writes Parquet: a few batches are in
        # flight at most, which bounds memory.
        with ThreadPoolExecutor(DECODERS, thread_name_prefix="runlake-decode") as decoders, \
                ThreadPoolExecutor(1, thread_name_prefix="runlake-write") as writer:
            try:
                done = 0
                batches = read_batches(slices, self.options.batch_bytes)
                for batch, parts in _pipelined(batches, decoders, self._decode):
                    self._wait()
                    for base, part in parts:
                        self._quarantine(batch, base, part.bad)
                        self._stage(part.frame, writer)
                    done += len(batch.data)
                    self._report(done, total)
                self._wait()
                version = self._commit(slices)
            except BaseException:
                self._wait(quiet=True)
                remove_files(self.root, self.written)
                raise
        return self._result(version, total, started)

    # -- batches ----------------------------------------------------------------------

    def _decode(self, batch: Batch) -> list[tuple[int, Normalized]]:
        return list(self._normalized(batch.data, 0))

    def _normalized(self, data: Buffer, base: int) -> Iterator[tuple[int, Normalized]]:
        """Normalize ``data``; if that fails, halve it until the failing lines are alone
        (then quarantined): odd data never fails a compaction."""
        try:
            part = normalize_decoded(self.decoder.decode(data))
        except _DATA_ERRORS as exc:
            starts, ends = index_lines(data)
            if len(starts) <= 1:
                yield base, _unusable(starts, ends, f"cannot be normalized ({exc})")
                return
            cut = int(starts[len(starts) // 2])
            yield from self._normalized(data[:cut], base)
            yield from self._normalized(data[cut:], base + cut)
            return
        yield base, part

    def _quarantine(self, batch: Batch, base: int, bad: list[BadLine]) -> None:
        entries = []
        for line in bad:
            at = base + line.offset
            segment, offset = batch.origin(at)
            text = bytes(batch.data[at:at + line.length])
            entries.append(QuarantineEntry(self.table, segment, offset, text, line.reason))
        self.quarantined += write_entries(self.paths, entries)

    def _stage(self, frame: pl.DataFrame, pool: ThreadPoolExecutor) -> None:
        if frame.is_empty():
            return
        fitted = self.tracker.admit(frame)
        dates = fitted[PARTITION]
        if dates.min() == dates.max():  # the usual case: a batch from one raw partition
            parts = {(dates[0],): fitted.drop(PARTITION)}
        else:
            parts = fitted.partition_by(PARTITION, as_dict=True, include_key=False)
        for (date,), part in parts.items():
            self.writing.append(pool.submit(write_file, self.root, str(date), part,
                                            tag=self.tag, options=self.options.files))
            self.ids.append(part["record_id"])

    def _wait(self, *, quiet: bool = False) -> None:
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

    def _report(self, done: int, total: int) -> None:
        if self.progress is not None:
            records = sum(len(ids) for ids in self.ids)
            self.progress(CompactionProgress(self.table, done, total, records,
                                             self.quarantined))

    # -- commit -----------------------------------------------------------------------

    def _commit(self, slices: list[SegmentSlice]) -> int:
        self._settle_staged()
        replaced, dates = self._widen_committed()
        types = self.tracker.types if self.delta is not None else {**CANONICAL,
                                                                   **self.tracker.types}
        offsets = dict(self.snap.offsets)
        covered = {}
        for piece in slices:
            offsets[segment_key(piece.path)] = piece.end
            covered[segment_key(piece.path)] = [piece.start, piece.end]
        metadata = commit_metadata(
            "compact", self.sequence, offsets, table=self.table, covered=covered,
            records=self._records(), duplicates=self.duplicates,
            quarantined=self.quarantined, bytes=sum(s.end - s.start for s in slices),
        )
        return commit(
            self.root, self.delta, [*self._files(), *replaced], types=types,
            schema_changed=self.tracker.changed, replace_dates=dates,
            transaction=(app_id(self.table), self.sequence), metadata=metadata,
        )

    def _settle_staged(self) -> None:
        """Drop rows whose id the table already has or an earlier row of this run had,
        and bring files written before a column widened up to its final type."""
        if not self.ids:
            return
        rows = pl.concat([
            pl.DataFrame({"record_id": ids, "file": pl.repeat(i, len(ids), eager=True)})
            .with_row_index("row")
            for i, ids in enumerate(self.ids)
        ])
        present = self._present(rows["record_id"])
        dropped = rows.filter(~pl.col("record_id").is_first_distinct()
                              | pl.col("record_id").is_in(present.implode()))
        self.duplicates += dropped.height
        drops = {int(key[0]): group["row"]
                 for key, group in dropped.partition_by("file", as_dict=True).items()}
        for index, file in enumerate(self.staged):
            if file is not None and (index in drops or self._narrower(file)):
                self.staged[index] = self._rewrite(file, drops.get(index, _NO_ROWS))
                (self.root / file.path).unlink()

    def _present(self, candidates: pl.Series) -> pl.Series:
        if self.delta is None:
            return pl.Series([], dtype=pl.String)
        return ids_present(self.root, self.delta, candidates)

    def _narrower(self, file: DataFile) -> bool:
        return any(self.tracker.types[n] != t for n, t in file.types.items())

    def _rewrite(self, file: DataFile, drop: pl.Series) -> DataFile | None:
        new = rewrite(self.root, file, types=self.tracker.types, drop_rows=drop, tag=self.tag,
                      options=self.options.files)
        if new is not None:
            self.written.append(new)
        return new

    def _widen_committed(self) -> tuple[list[DataFile], list[str]]:
        """Rewrite every committed partition holding a column this run widened."""
        widened = self.tracker.widened()
        if not widened or self.delta is None:
            return [], []
        committed = data_files(self.delta)
        dates = sorted({f.date for f in committed if any(
            n in f.types and f.types[n] != t for n, t in widened.items())})
        replaced = [self._rewrite(f, _NO_ROWS) for f in committed if f.date in dates]
        self.rewritten = len(replaced)
        return [f for f in replaced if f is not None], dates

    def _files(self) -> list[DataFile]:
        return [f for f in self.staged if f is not None]

    def _records(self) -> int:
        return sum(f.rows for f in self._files())

    def _result(self, version: int | None, size: int, started: float) -> TableCompaction:
        files = self._files()
        return TableCompaction(
            table=self.table, version=version,
            sequence=self.sequence if version is not None else self.snap.sequence,
            records=self._records(), duplicates=self.duplicates,
            quarantined=self.quarantined, partitions=tuple(sorted({f.date for f in files})),
            bytes=size, files=len(files), rewritten=self.rewritten,
            seconds=time.monotonic() - started,
        )


def _pipelined(
    batches: Iterable[Batch], pool: ThreadPoolExecutor,
    work: Callable[[Batch], list[tuple[int, Normalized]]],
) -> Iterator[tuple[Batch, list[tuple[int, Normalized]]]]:
    """``(batch, work(batch))`` in order, with up to ``DECODERS`` batches worked on ahead."""
    ahead: deque[tuple[Batch, Future[list[tuple[int, Normalized]]]]] = deque()
    for batch in batches:
        ahead.append((batch, pool.submit(work, batch)))
        if len(ahead) >= DECODERS:
            done, future = ahead.popleft()
            yield done, future.result()
    while ahead:
        done, future = ahead.popleft()
        yield done, future.result()


def _unusable(starts: Offsets, ends: Offsets, reason: str) -> Normalized:
    bad = [BadLine(int(s), int(e - s), reason) for s, e in zip(starts, ends, strict=True)]
    empty = np.zeros(0, dtype=np.int64)
    return Normalized(pl.DataFrame(schema=CANONICAL), empty, empty, bad)
