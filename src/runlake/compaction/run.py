"""Compaction's run: a table's pending raw lines -> Parquet files added by ONE Delta commit.

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

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from runlake.compaction.columns import CANONICAL
from runlake.compaction.datafiles import FileOptions
from runlake.compaction.decode import BadLine, Decoder
from runlake.compaction.deltatable import (
    app_id,
    column_types,
    commit,
    open_table,
    snapshot_files,
)
from runlake.compaction.evolve import SchemaTracker
from runlake.compaction.normalize import Normalized, normalize_batch
from runlake.compaction.offsets import Reset, Snapshot, commit_metadata, snapshot_of
from runlake.compaction.quarantine import write_entries, write_reset
from runlake.compaction.rawbatches import Batch, gather, pipelined
from runlake.compaction.sources import RawSource, raw_source
from runlake.compaction.staging import Staging
from runlake.compaction.tailcache import collect_garbage
from runlake.compaction.worker import BatchTask, bad_entries, compact_batch
from runlake.defaults import DEFAULT_BATCH_BYTES
from runlake.errors import InvalidOption
from runlake.records import DERIVED_TABLES
from runlake.storage import DEFAULT_LOCK_TIMEOUT, LakePaths
from runlake.storage.shared import AnyPaths, SharedPaths

log = logging.getLogger(__name__)
DECODERS = 2  # batches decoded at once, one thread each (the machine this targets has 2 cores)


@dataclass(frozen=True)
class CompactOptions:
    """How a compaction runs: batch size (bounds memory), lock wait, data-file format, and
    the executor that works on batches (``None``: this process's threads)."""

    batch_bytes: int = DEFAULT_BATCH_BYTES
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    files: FileOptions = field(default_factory=FileOptions)
    executor: Executor | None = None

    def __post_init__(self) -> None:
        if self.batch_bytes < 1:
            raise InvalidOption(f"batch_bytes must be positive, got {self.batch_bytes}")


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
    # Segments whose history no longer matched their committed offset (shrunk, restored,
    # replaced): read again from their start, their records deduplicated against the table.
    resets: tuple[Reset, ...] = ()


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
    paths: AnyPaths, table: str | None = None, *, options: CompactOptions | None = None,
    progress: Progress | None = None,
) -> CompactionResult:
    """Compact ``table`` (every table when ``None``); see :meth:`runlake.Lake.compact`.

    A table the lake does not have is :class:`~runlake.errors.EmptyLake` (a typo creates
    nothing).
    """
    started = time.monotonic()
    if table in DERIVED_TABLES:
        raise InvalidOption(f"{table!r} is derived from other tables, not compacted from raw "
                            "records: compacting every table refreshes it")
    # Derived tables have no raw records: `Lake.compact` refreshes them after the rest.
    names = ([paths.require_table(table)] if table is not None
             else [n for n in paths.table_names() if n not in DERIVED_TABLES])
    if isinstance(paths, SharedPaths):
        paths.writable()  # refuse a store that would lose commits, before any work
    chosen = options or CompactOptions()
    done = tuple(compact_table(paths, name, options=chosen, progress=progress)
                 for name in names)
    return CompactionResult(done, time.monotonic() - started)


def compact_table(
    paths: AnyPaths, table: str, *, options: CompactOptions, progress: Progress | None
) -> TableCompaction:
    started = time.monotonic()
    source = raw_source(paths, table, options.lock_timeout)
    with source.lock():
        return Compaction(paths, source, table, options, progress).run(started)


class Compaction:
    """One run over one table: the batch loop, quarantine, progress, the commit, the result.

    Reading and normalizing batches runs ahead on decoder threads (``pipelined``); what
    becomes of the rows until the commit is :class:`Staging`'s.

    With ``rebuild`` (see :mod:`runlake.compaction.rebuild`) the run reads every raw segment
    from its start, ignores what the table holds, and its commit replaces the whole table.
    """

    def __init__(self, paths: AnyPaths, source: RawSource[Any], table: str,
                 options: CompactOptions, progress: Progress | None, *,
                 rebuild: bool = False) -> None:
        self.paths, self.table, self.options, self.progress = paths, table, options, progress
        self.source = source
        self.root = paths.table_files(table)
        self.rebuild = rebuild
        self.delta = open_table(self.root)
        self.snap: Snapshot = snapshot_of(self.root, table, self.delta, verify=not rebuild)
        self.sequence = self.snap.sequence + 1
        if rebuild:  # from nothing: every segment from 0, no table to deduplicate against
            self.snap = Snapshot(table, self.snap.version, self.snap.sequence)
        base = None if rebuild else self.delta
        committed = column_types(base) if base is not None else {}
        self.staging = Staging(self.root, base, SchemaTracker(committed),
                               tag=f"{self.sequence:08d}", options=options.files)
        self.decoder = Decoder(threads=False)  # batches are decoded in parallel instead
        self.quarantined = 0
        self.resets: list[Reset] = []

    def run(self, started: float) -> TableCompaction:
        if isinstance(self.paths, LakePaths):  # tail rows cached of ranges now compacted
            collect_garbage(self.paths, self.table, self.snap.offsets)
        slices, self.resets = self.source.pending(self.snap)
        for reset in self.resets:
            log.warning("runlake: %s/%s %s (truncated, restored or replaced?): its records are "
                        "read again from its start; those the table holds are dropped as "
                        "duplicates", self.table, reset.segment, reset.reason)
        if not slices and not self.resets:
            return self._result(None, 0, started)
        total = sum(s.end - s.start for s in slices)
        if self.options.executor is not None:
            return self._spread(self.options.executor, slices, total, started)
        # Two threads decode batches (JSON parsing and Polars both run outside the GIL) while
        # this one stages the previous batch and a third writes Parquet: a few batches are in
        # flight at most, which bounds memory.
        with ThreadPoolExecutor(DECODERS, thread_name_prefix="runlake-decode") as decoders, \
                ThreadPoolExecutor(1, thread_name_prefix="runlake-write") as writer:
            try:
                done = 0
                limit = self.options.batch_bytes
                batches = gather(self.source.chunks(slices, limit), limit)
                for batch, parts in pipelined(batches, decoders, self._decode, ahead=DECODERS):
                    self.staging.wait()
                    for base, part in parts:
                        self._quarantine(batch, base, part.bad)
                        self.staging.stage(part.frame, writer)
                    done += len(batch.data)
                    self._report(done, total)
                self.staging.wait()
                version = self._commit(slices)
            except BaseException:
                self.staging.discard()
                raise
        self.source.committed(slices)
        return self._result(version, total, started)

    def _spread(self, executor: Executor, slices: list[Any], total: int,
                started: float) -> TableCompaction:
        """The run with batches worked on by ``executor``'s workers (read, decode, normalize,
        write Parquet: :func:`compact_batch`); this process only cuts the pending bytes into
        batches, keeps the schema, quarantines, dedups and makes the one commit. A few
        batches per worker are in flight at most."""
        workers = getattr(executor, "_max_workers", None) or os.cpu_count() or 2
        batches = self.source.plan(slices, self.options.batch_bytes)
        tasks = (self._task(pieces) for pieces in batches)
        try:
            done = 0
            for task, result in pipelined(tasks, executor, compact_batch, ahead=2 * workers):
                self.quarantined += write_entries(self.paths, result.bad)
                self.staging.add(result.files, result.ids, result.types)
                done += sum(piece.end - piece.start for piece in task.pieces)
                self._report(done, total)
            version = self._commit(slices)
        except BaseException:
            self.staging.discard()
            raise
        self.source.committed(slices)
        return self._result(version, total, started)

    def _task(self, pieces: list[Any]) -> BatchTask:
        return BatchTask(self.table, self.source, tuple(pieces), self.root,
                         self.staging.tracker.committed, self.staging.tag, self.options.files)

    def _decode(self, batch: Batch) -> list[tuple[int, Normalized]]:
        return normalize_batch(batch.data, self.decoder)

    def _quarantine(self, batch: Batch, base: int, bad: list[BadLine]) -> None:
        self.quarantined += write_entries(self.paths, bad_entries(self.table, batch, base, bad))

    def _report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(CompactionProgress(self.table, done, total, self.staging.rows,
                                             self.quarantined))

    def _commit(self, slices: list[Any]) -> int:
        """The one commit: staged and rewritten files, the new offsets, the next sequence."""
        self.staging.settle()
        replaced, dates = self.staging.widen_committed()
        tracker = self.staging.tracker
        types = tracker.types if self.staging.delta is not None else {**CANONICAL,
                                                                       **tracker.types}
        if self.rebuild and self.delta is not None:  # replace every file the table has
            dates = sorted({date for _, date in snapshot_files(self.delta)})
        offsets, tails = dict(self.snap.offsets), dict(self.snap.tails)
        covered: dict[str, list[int]] = {}
        for reset in self.resets:  # read again from 0; a slice below moves it further
            offsets[reset.segment] = 0
            tails.pop(reset.segment, None)
            if isinstance(self.paths, LakePaths):  # only local segments are ever reset
                write_reset(self.paths, self.table, self.sequence, reset)
        for piece in slices:
            key = self.source.key(piece)
            offsets[key] = piece.end
            tail = self.source.fingerprint(piece)
            if tail is None:  # an immutable shipped object needs none
                tails.pop(key, None)
            else:
                tails[key] = tail
            covered.setdefault(key, [piece.start, piece.end])[1] = piece.end
        files = [*self.staging.files(), *replaced]
        metadata = commit_metadata(
            "rebuild" if self.rebuild else "compact", self.sequence, offsets, tails,
            table=self.table, covered=covered,
            records=self.staging.records(), duplicates=self.staging.duplicates,
            quarantined=self.quarantined, bytes=sum(s.end - s.start for s in slices),
            files=len(files), resets={r.segment: {"offset": r.offset, "size": r.size,
                                                  "reason": r.reason} for r in self.resets},
        )
        return commit(
            self.root, self.delta, files, types=types,
            schema_changed=tracker.changed or self.rebuild, replace_dates=dates,
            transaction=(app_id(self.table), self.sequence), metadata=metadata,
        )

    def _result(self, version: int | None, size: int, started: float) -> TableCompaction:
        files = self.staging.files()
        return TableCompaction(
            table=self.table, version=version,
            sequence=self.sequence if version is not None else self.snap.sequence,
            records=self.staging.records(), duplicates=self.staging.duplicates,
            quarantined=self.quarantined, partitions=tuple(sorted({f.date for f in files})),
            bytes=size, files=len(files), rewritten=self.staging.rewritten,
            seconds=time.monotonic() - started, resets=tuple(self.resets),
        )
