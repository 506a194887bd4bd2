"""Table upkeep: merge small files (optimize), delete unreferenced files (vacuum).

On a local lake both run under the table's compaction lock, so they never race a compaction;
a shared lake has no lock across hosts. Their commits carry the same ``runlake`` offsets and
the unchanged application transaction as the last compaction: the latest commit still says
what the table covers, and a compactor that committed meanwhile makes them fail instead of
being shadowed.

``vacuum`` removes three kinds of files:

- orphans: data files no commit ever added (a compaction killed before its commit); safe to
  delete at once, since nothing can reference them (on a shared lake only once older than
  ``retention_hours``: without a lock, a running compaction's files look the same);
- expired: files removed from the table (by optimize or a widening rewrite) longer ago than
  ``retention_hours``; until then they serve time travel and readers of older versions;
- raw segments, only when ``raw_retention_days`` is given: segments fully compacted, not the
  last of their partition (a writer may still append to that one, and keeping it keeps
  segment numbers from being reused), and not written to for that many days. On a lake that
  ships (``ship.json``), "compacted" means compacted on the shared lake it ships to, which
  implies shipped (and here too, if the lake has a table of its own).

Raw segments are removed under their partition's append lock, after checking again, under
it, that the segment is still fully compacted: a writer holding an older segment open (its
per-process hint) either finished its append before (the segment then grew past its offset
and is kept) or opens it after (and finds it gone). A partition whose lock is not free within
the lock timeout is kept and reported (``busy``). Before the first removal the commit whose
offsets cover the segments is made durable, and each removal is first written to the
table's removal log (``_runlake/raw_removed.jsonl``), which ``check`` and ``rebuild`` read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlake.compaction.deltatable import (
    AppTransaction,
    Delta,
    app_id,
    expire,
    open_table,
    removable,
    sync_commits,
)
from runlake.compaction.deltatable import optimize as merge_files
from runlake.compaction.offsets import Snapshot, commit_metadata, segment_key, snapshot_of
from runlake.compaction.removals import log_removals
from runlake.compaction.sources import shipped_coverage
from runlake.compaction.tailcache import collect_garbage
from runlake.defaults import DEFAULT_RETENTION_HOURS, DEFAULT_TARGET_SIZE
from runlake.errors import InvalidOption, LockTimeout
from runlake.storage import (
    DEFAULT_LOCK_TIMEOUT,
    Files,
    LakePaths,
    fsync_path,
    list_segments,
    partition_lock,
    table_lock,
)
from runlake.storage.shared import AnyPaths, SharedPaths
from runlake.storage.shipping import read_shipping

_DAY = 86_400.0


@dataclass(frozen=True)
class TableOptimize:
    """What optimize did to one table (``version`` is ``None`` if it did nothing)."""

    table: str
    version: int | None
    files_removed: int
    files_added: int
    partitions: int


@dataclass(frozen=True)
class OptimizeResult:
    """What optimize did, per table."""

    tables: tuple[TableOptimize, ...]


@dataclass(frozen=True)
class TableVacuum:
    """What vacuum removed (or, with ``dry_run``, would remove) from one table."""

    table: str
    orphans: tuple[str, ...]
    expired: tuple[str, ...]
    raw_segments: tuple[str, ...]
    bytes: int
    busy: tuple[str, ...] = ()  # partitions whose raw segments were kept: a writer held them


@dataclass(frozen=True)
class VacuumResult:
    """What vacuum removed (or would remove), per table."""

    tables: tuple[TableVacuum, ...]
    dry_run: bool

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables)


def optimize(
    paths: AnyPaths, table: str | None = None, *, target_size: int = DEFAULT_TARGET_SIZE,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> OptimizeResult:
    """Merge each partition's small files into files of about ``target_size`` bytes."""
    return OptimizeResult(tuple(_optimize_one(paths, name, target_size, lock_timeout)
                                for name in _tables(paths, table)))


def _optimize_one(paths: AnyPaths, table: str, target: int, timeout: float) -> TableOptimize:
    root = paths.table_files(table)
    with _locked(paths, table, timeout):
        delta = open_table(root)
        if delta is None:
            return TableOptimize(table, None, 0, 0, 0)
        metadata, transaction = _commit_info(root, table, delta, "optimize")
        merged = merge_files(root, delta, target_size=target, metadata=metadata,
                             transaction=transaction)
        return TableOptimize(table, merged.version, merged.removed, merged.added,
                             merged.partitions)


def vacuum(
    paths: AnyPaths, table: str | None = None, *,
    retention_hours: float = DEFAULT_RETENTION_HOURS, raw_retention_days: float | None = None,
    dry_run: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> VacuumResult:
    """Delete orphan data files, files removed more than ``retention_hours`` ago and, if
    ``raw_retention_days`` is given, fully compacted raw segments older than that."""
    if retention_hours < 0 or (raw_retention_days is not None and raw_retention_days < 0):
        raise InvalidOption("retentions must be zero or more")
    if isinstance(paths, SharedPaths) and raw_retention_days is not None:
        raise InvalidOption("raw retention removes a local lake's segments: run it on the "
                            "recording hosts (shipped objects on a shared lake are kept)")
    done = tuple(
        _vacuum_one(paths, name, hours=retention_hours, raw_days=raw_retention_days,
                    dry_run=dry_run, timeout=lock_timeout)
        for name in _tables(paths, table, raw=raw_retention_days is not None)
    )
    return VacuumResult(done, dry_run)


def _vacuum_one(paths: AnyPaths, table: str, *, hours: float, raw_days: float | None,
                dry_run: bool, timeout: float) -> TableVacuum:
    root = paths.table_files(table)
    with _locked(paths, table, timeout):
        delta = open_table(root)
        orphans, expired, freed = ([], [], 0) if delta is None else _table_files(
            paths, table, delta, hours=hours, dry_run=dry_run)
        if isinstance(paths, LakePaths) and not dry_run:  # tail rows no read can use
            collect_garbage(paths, table, snapshot_of(root, table, delta).offsets)
        if raw_days is None or isinstance(paths, SharedPaths):
            return TableVacuum(table, tuple(orphans), tuple(expired), (), freed)
        snap = snapshot_of(root, table, delta)
        raw = RawRemoval(paths, table, snap, timeout, covered=_covered(paths, table, snap))
        raw.run(time.time() - raw_days * _DAY, dry_run)
        return TableVacuum(table, tuple(orphans), tuple(expired), tuple(raw.removed),
                           freed + raw.bytes, tuple(raw.busy))


def _table_files(paths: AnyPaths, table: str, delta: Delta, *, hours: float,
                 dry_run: bool) -> tuple[list[str], list[str], int]:
    """Delete the table's orphans and expired files: both lists and the bytes freed."""
    root = paths.table_files(table)
    orphans = _orphans(root, delta)
    if isinstance(paths, SharedPaths):
        orphans = _settled(root, orphans, hours)
    freed = _remove(root, orphans, dry_run)
    expired = removable(root, delta, hours=hours)
    freed += sum(root.size(name) for name in expired)
    if expired and not dry_run:
        metadata, transaction = _commit_info(root, table, delta, "vacuum")
        expire(root, delta, hours=hours, metadata=metadata, transaction=transaction)
    return orphans, expired, freed


def _covered(paths: LakePaths, table: str, snap: Snapshot) -> Mapping[str, int]:
    """How far each local segment may be removed: compacted here, or, on a lake that ships,
    compacted on the shared lake it ships to (and here too, if it has a table here)."""
    shipping = read_shipping(paths)
    if shipping is None:
        return snap.offsets
    there = shipped_coverage(shipping, table)
    if snap.version is None:
        return there
    return {key: min(end, snap.offsets.get(key, 0)) for key, end in there.items()}


def _locked(paths: AnyPaths, table: str, timeout: float) -> AbstractContextManager[None]:
    """The table's compaction lock on a local lake. A shared lake has no lock across hosts:
    its commits conflict instead (and the store is probed before the first one)."""
    if isinstance(paths, SharedPaths):
        paths.writable()
        return nullcontext()
    return table_lock(paths, table, timeout)


def _settled(root: Files, orphans: list[str], hours: float) -> list[str]:
    """Orphans older than ``hours``: on a shared lake no lock keeps vacuum from a running
    compaction, whose files are orphans until its commit, so young ones are left alone."""
    cutoff = (time.time() - hours * 3600) * 1000
    young = {e.name for e in root.entries() if e.modified_ms >= cutoff}
    return [name for name in orphans if name not in young]


def _orphans(root: Files, delta: Delta) -> list[str]:
    """Files no commit references: everything unreferenced minus the removed-file
    tombstones (delta-rs lists both with ``full=True``, only tombstones without)."""
    everything = removable(root, delta, hours=0, full=True)
    return sorted(set(everything) - set(removable(root, delta, hours=0)))


class RawRemoval:
    """Raw retention for one table: which segments go, removed partition by partition under
    each partition's append lock."""

    def __init__(self, paths: LakePaths, table: str, snap: Snapshot, timeout: float, *,
                 covered: Mapping[str, int] | None = None) -> None:
        self.paths, self.table, self.snap, self.timeout = paths, table, snap, timeout
        self.covered = snap.offsets if covered is None else covered
        self.removed: list[str] = []
        self.busy: list[str] = []
        self.bytes = 0
        self._synced = False

    def run(self, cutoff: float, dry_run: bool) -> None:
        for date in self.paths.partition_dates(self.table):
            partition = self.paths.partition(self.table, date)
            if not self._old(partition, cutoff):
                continue  # nothing to remove: no need to wait for the lock
            if dry_run:
                self._take(self._old(partition, cutoff), dry_run=True)
                continue
            try:
                with partition_lock(partition, self.timeout):
                    self._take(self._old(partition, cutoff), dry_run=False)
            except LockTimeout:
                self.busy.append(partition.name)

    def _old(self, partition: Path, cutoff: float) -> list[tuple[Path, int]]:
        """Segments fully compacted and untouched since ``cutoff``, never the last one."""
        found = []
        for segment in list_segments(partition)[:-1]:
            try:
                info = segment.stat()
            except FileNotFoundError:
                continue
            done = self.covered.get(segment_key(segment), -1) == info.st_size
            if done and info.st_mtime < cutoff:
                found.append((segment, info.st_size))
        return found

    def _take(self, segments: list[tuple[Path, int]], *, dry_run: bool) -> None:
        if not segments:
            return
        if not dry_run:
            self._durable_first()
            log_removals(self.paths, self.table, [(segment_key(p), n) for p, n in segments])
            for segment, _ in segments:
                segment.unlink(missing_ok=True)
            fsync_path(segments[0][0].parent)
        self.removed += [segment_key(p) for p, _ in segments]
        self.bytes += sum(n for _, n in segments)

    def _durable_first(self) -> None:
        """The commit whose offsets say these segments are compacted must survive a power
        cut before they go: after it, the table is their only copy."""
        if not self._synced and self.snap.version is not None:
            sync_commits(self.paths.table_files(self.table), self.snap.covering)
            self._synced = True


def _remove(root: Files, relative: list[str], dry_run: bool) -> int:
    freed = 0
    for name in relative:
        freed += root.size(name)
        if not dry_run:
            root.remove(name)
    return freed


def _commit_info(root: Files, table: str, delta: Delta,
                 operation: str) -> tuple[dict[str, Any], AppTransaction]:
    """The last compaction's offsets and an unchanged transaction, for a maintenance commit."""
    snap = snapshot_of(root, table, delta)
    metadata = commit_metadata(operation, snap.sequence, snap.offsets, snap.tails, table=table)
    return metadata, (app_id(table), snap.sequence)


def _tables(paths: AnyPaths, table: str | None, *, raw: bool = False) -> Iterator[str]:
    """The tables to maintain: those with a Delta table (with ``raw``, those with raw
    segments too: a lake that ships may have no table of its own)."""
    if table is not None:
        yield paths.require_table(table)
        return
    yield from (n for n in paths.table_names() if raw or paths.table_files(n).exists())
