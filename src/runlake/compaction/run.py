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
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from runlake.append import SegmentSlice, write_watermark
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
from runlake.compaction.offsets import (
    Reset,
    Snapshot,
    commit_metadata,
    fingerprint,
    pending,
    segment_key,
    snapshot_of,
)
from runlake.compaction.quarantine import QuarantineEntry, write_entries, write_reset
from runlake.compaction.rawbatches import Batch, pipelined, read_batches
from runlake.compaction.staging import Staging
from runlake.defaults import DEFAULT_BATCH_BYTES
from runlake.errors import InvalidOption, LakeError
from runlake.storage import DEFAULT_LOCK_TIMEOUT, LakePaths, table_lock

log = logging.getLogger(__name__)
DECODERS = 2  # batches decoded at once, one thread each (the machine this targets has 2 cores)


@dataclass(frozen=True)
class CompactOptions:
    """How a compaction runs: batch size (bounds memory), lock wait, data-file format."""

    batch_bytes: int = DEFAULT_BATCH_BYTES
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    files: FileOptions = field(default_factory=FileOptions)

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
    paths: LakePaths, table: str | None = None, *, options: CompactOptions | None = None,
    progress: Progress | None = None,
) -> CompactionResult:
    """Compact ``table`` (every table when ``None``); see :meth:`runlake.Lake.compact`.

    A table the lake does not have is :class:`~runlake.errors.EmptyLake` (a typo creates
    nothing).
    """
    started = time.monotonic()
    names = [paths.require_table(table)] if table is not None else paths.table_names()
    chosen = options or CompactOptions()
    done = tuple(compact_table(paths, name, options=chosen, progress=progress)
                 for name in names)
    return CompactionResult(done, time.monotonic() - started)


def compact_table(
    paths: LakePaths, table: str, *, options: CompactOptions, progress: Progress | None
) -> TableCompaction:
    started = time.monotonic()
    with table_lock(paths, table, options.lock_timeout):
        return Compaction(paths, table, options, progress).run(started)


class Compaction:
    """One run over one table: the batch loop, quarantine, progress, the commit, the result.

    Reading and normalizing batches runs ahead on decoder threads (``pipelined``); what
    becomes of the rows until the commit is :class:`Staging`'s.

    With ``rebuild`` (see :mod:`runlake.compaction.rebuild`) the run reads every raw segment
    from its start, ignores what the table holds, and its commit replaces the whole table.
    """

    def __init__(self, paths: LakePaths, table: str, options: CompactOptions,
                 progress: Progress | None, *, rebuild: bool = False) -> None:
        self.paths, self.table, self.options, self.progress = paths, table, options, progress
        self.root = paths.table(table)
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
        found = pending(self.paths, self.table, self.snap, lock_timeout=self.options.lock_timeout)
        slices, self.resets = found.slices, found.resets
        for reset in self.resets:
            log.warning("runlake: %s/%s %s (truncated, restored or replaced?): its records are "
                        "read again from its start; those the table holds are dropped as "
                        "duplicates", self.table, reset.segment, reset.reason)
        if not slices and not self.resets:
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
                for batch, parts in pipelined(batches, decoders, self._decode, ahead=DECODERS):
                    self.staging.wait()
                    for base, part in parts:
                        self._quarantine(batch, base, part.bad)
                        self.staging.stage(part.frame, writer)
                    done += len(batch.data)
                    self._report(done, total)
                self.staging.wait()
                version = self._commit(slices)
                self._leave_watermarks(slices)
            except BaseException:
                self.staging.discard()
                raise
        return self._result(version, total, started)

    def _decode(self, batch: Batch) -> list[tuple[int, Normalized]]:
        return normalize_batch(batch.data, self.decoder)

    def _quarantine(self, batch: Batch, base: int, bad: list[BadLine]) -> None:
        entries = []
        for line in bad:
            at = base + line.offset
            segment, offset = batch.origin(at)
            text = bytes(batch.data[at:at + line.length])
            entries.append(QuarantineEntry(self.table, segment, offset, text, line.reason))
        self.quarantined += write_entries(self.paths, entries)

    def _report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(CompactionProgress(self.table, done, total, self.staging.rows,
                                             self.quarantined))

    def _commit(self, slices: list[SegmentSlice]) -> int:
        """The one commit: staged and rewritten files, the new offsets, the next sequence."""
        self.staging.settle()
        replaced, dates = self.staging.widen_committed()
        tracker = self.staging.tracker
        types = tracker.types if self.staging.delta is not None else {**CANONICAL,
                                                                       **tracker.types}
        if self.rebuild and self.delta is not None:  # replace every file the table has
            dates = sorted({date for _, date in snapshot_files(self.delta)})
        offsets, tails = dict(self.snap.offsets), dict(self.snap.tails)
        covered = {}
        for reset in self.resets:  # read again from 0; a slice below moves it further
            offsets[reset.segment] = 0
            tails.pop(reset.segment, None)
            write_reset(self.paths, self.table, self.sequence, reset)
        for piece in slices:
            key = segment_key(piece.path)
            offsets[key], tails[key] = piece.end, fingerprint(piece.path, piece.end)
            covered[key] = [piece.start, piece.end]
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

    def _leave_watermarks(self, slices: list[SegmentSlice]) -> None:
        """Tell writers each covered segment's committed offset, so none appends to a
        segment that later shrinks below it (a safeguard: failing it fails nothing)."""
        partitions: dict[Path, dict[str, int]] = {}
        for piece in slices:
            partitions.setdefault(piece.path.parent, {})[piece.path.name] = piece.end
        for partition, offsets in partitions.items():
            try:
                write_watermark(partition, offsets, self.options.lock_timeout)
            except LakeError as exc:
                log.warning("runlake: could not update %s: %s", partition, exc)

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
