"""What a table version covers of the raw zone, and what is still pending past it.

Every runlake commit records, under the commit info key ``runlake``, the cumulative map
``offsets``: for each raw segment (``date=YYYY-MM-DD/seg-NNNNNN.jsonl``) the byte offset up to
which its lines are accounted for (in the table, dropped as duplicates, or quarantined). The
latest runlake commit alone therefore says everything, and a reader pairs a table version with
the raw bytes past that same version's offsets::

    >>> snap = snapshot(lake.paths, "runs")                 # doctest: +SKIP
    >>> tail = pending_slices(lake.paths, "runs", snap)    # doctest: +SKIP

Next to each offset the commit keeps a fingerprint of the bytes just before it (``tails``,
format 2). An offset only means something for the bytes it was recorded on: a segment that
shrank, or whose bytes before the offset changed (a restore, a file-system repair, a manual
truncate), is read again from its start instead of from a stale offset (dedup by record id
drops what the table already holds), and reported as a :class:`Reset`.

The commit an offset map comes from is checked against the table's application transaction
before it is trusted: a commit file cut short (its commit info kept, its ``add`` and ``txn``
lines lost) would otherwise make its offsets skip records no file holds.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runlake.append.reader import SegmentSlice, complete_end
from runlake.compaction.deltatable import (
    LOG_DIR,
    METADATA_KEY,
    CommitFile,
    Delta,
    app_id,
    delta_errors,
    open_table,
    read_commit,
)
from runlake.errors import TableDamaged
from runlake.storage import (
    DEFAULT_LOCK_TIMEOUT,
    Files,
    LakePaths,
    file_size,
    list_segments,
    partition_lock,
)
from runlake.storage.shared import AnyPaths

FORMAT = 2
FINGERPRINT_BYTES = 4096  # how much of a segment before an offset its fingerprint covers
# How far back to look for a runlake commit behind commits other tools made.
_MAX_FOREIGN_COMMITS = 1000


@dataclass(frozen=True)
class Snapshot:
    """A table version and the raw bytes it covers.

    ``version`` is ``None`` when the table has no commit yet; ``sequence`` counts the
    compactions committed (the application transaction's version); ``covering`` is the
    version whose runlake commit info recorded ``offsets`` (``version`` or an earlier one);
    ``tails`` the fingerprint of the bytes before each offset (segments compacted before
    format 2 have none until compacted again).
    """

    table: str
    version: int | None
    sequence: int
    offsets: Mapping[str, int] = field(default_factory=dict)
    covering: int = 0
    tails: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reset:
    """A segment whose history no longer matches its committed offset: read from 0 again."""

    segment: str  # its key
    offset: int  # the committed offset
    size: int  # its size now
    reason: str


@dataclass(frozen=True)
class Pending:
    """The raw bytes a snapshot does not cover, and the segments read again from 0."""

    slices: list[SegmentSlice]
    resets: list[Reset]


def segment_key(segment: Path) -> str:
    """``date=YYYY-MM-DD/seg-NNNNNN.jsonl``: a segment's name within its table."""
    return f"{segment.parent.name}/{segment.name}"


def fingerprint(segment: Path, end: int) -> str:
    """A hash of the (up to) 4 KiB of ``segment`` before ``end``: what an offset refers to."""
    start = max(0, end - FINGERPRINT_BYTES)
    with segment.open("rb") as handle:
        data = os.pread(handle.fileno(), end - start, start)
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def snapshot(paths: AnyPaths, table: str, version: int | None = None) -> Snapshot:
    """The committed offsets of ``table`` at ``version`` (default: the latest version)."""
    root = paths.table_files(table)
    return snapshot_of(root, table, open_table(root, version))


def snapshot_of(root: Files, table: str, delta: Delta | None, *, verify: bool = True
                ) -> Snapshot:
    """The snapshot of an already opened table (``None``: no table yet).

    Raises :class:`TableDamaged` when the commit holding the offsets is incomplete (unless
    ``verify`` is false: ``check`` and ``rebuild`` look at a damaged table).
    """
    if delta is None:
        return Snapshot(table, None, 0)
    with delta_errors(root):
        at = int(delta.version())
        sequence = int(delta.transaction_version(app_id(table)) or 0)
    found = _runlake_commit(root, at)
    if found is None:  # nothing recorded: everything is pending, and dedup keeps records single
        return Snapshot(table, at, sequence)
    covering, commit = found
    ours = commit.info[METADATA_KEY]
    if verify:
        problem = commit_problem(table, commit, sequence)
        if problem:
            raise TableDamaged(damaged(table, covering, problem))
    tails = ours.get("tails") if isinstance(ours.get("tails"), dict) else {}
    return Snapshot(table, at, sequence, {str(k): int(v) for k, v in ours["offsets"].items()},
                    covering, {str(k): str(v) for k, v in tails.items()})


def _runlake_commit(root: Files, version: int) -> tuple[int, CommitFile] | None:
    """The latest runlake commit at or before ``version``: its version and file."""
    for probe in range(version, max(version - _MAX_FOREIGN_COMMITS, -1), -1):
        commit = read_commit(root, probe)
        if commit is None:
            return None
        ours = commit.info.get(METADATA_KEY)
        if isinstance(ours, dict) and isinstance(ours.get("offsets"), dict):
            return probe, commit
    return None


def commit_problem(table: str, commit: CommitFile, sequence: int) -> str | None:
    """Why a runlake commit cannot be trusted at a table whose transaction is ``sequence``
    (``None``: it can). delta-rs writes the commit info first and the transaction last, so a
    file cut at a line boundary keeps its commit info and loses the transaction."""
    ours = commit.info[METADATA_KEY]
    recorded = int(ours.get("sequence", -1))
    if recorded != sequence:
        return (f"it records compaction {recorded} but the table's transaction is at "
                f"{sequence}")
    if ours.get("operation") not in ("compact", "rebuild"):
        return None
    if commit.transactions.get(app_id(table)) != recorded:
        return f"it records compaction {recorded} but holds no transaction for it"
    files = ours.get("files")
    if isinstance(files, int) and commit.adds != files:
        return f"it adds {commit.adds} of the {files} data files it records"
    return None


def damaged(table: str, version: int, problem: str) -> str:
    """The message of a damaged commit, with the way back."""
    return (f"tables/{table}: commit {version} ({LOG_DIR}/{version:020d}.json) is incomplete: "
            f"{problem}; run `runlake check {table}`, then `runlake rebuild {table}`")


def pending(
    paths: LakePaths, table: str, snap: Snapshot, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> Pending:
    """Raw bytes past ``snap``'s offsets, up to each segment's last complete line, in
    partition and segment order; a segment whose history no longer matches its offset is
    taken from 0 and listed in ``resets``.

    Sizes are read under each partition's append lock, so they end where a finished append
    ended: never inside a write still in progress, which a failing writer might cut back.
    Later appends are left for the next run.
    """
    slices, resets = [], []
    for date in paths.partition_dates(table):
        for segment, size in _sizes(paths.partition(table, date), lock_timeout):
            key = segment_key(segment)
            start = snap.offsets.get(key, 0)
            if size == start:  # fully compacted: nothing to look at (`check` verifies it)
                continue
            reason = _changed(segment, size, start, snap.tails.get(key))
            if reason is not None:
                resets.append(Reset(key, start, size, reason))
                start = 0
            end = complete_end(SegmentSlice(segment, start, size))
            if end > start:
                slices.append(SegmentSlice(segment, start, end))
    return Pending(slices, resets)


def pending_slices(
    paths: LakePaths, table: str, snap: Snapshot, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> list[SegmentSlice]:
    """The slices of :func:`pending`."""
    return pending(paths, table, snap, lock_timeout=lock_timeout).slices


def _changed(segment: Path, size: int, offset: int, tail: str | None) -> str | None:
    """Why the bytes before ``offset`` are no longer those compacted, if they are not."""
    if size < offset:
        return f"shrank to {size} bytes, below its committed offset {offset}"
    if offset and tail is not None and fingerprint(segment, offset) != tail:
        return f"the bytes before its committed offset {offset} changed"
    return None


def _sizes(partition: Path, lock_timeout: float) -> list[tuple[Path, int]]:
    with partition_lock(partition, lock_timeout):
        return [(segment, file_size(segment)) for segment in list_segments(partition)]


def commit_metadata(
    operation: str, sequence: int, offsets: Mapping[str, int], tails: Mapping[str, str],
    **counts: Any,
) -> dict[str, Any]:
    """The ``runlake`` commit info of a commit: format, operation, sequence, offsets, their
    fingerprints, counts."""
    return {"format": FORMAT, "operation": operation, "sequence": sequence,
            "offsets": dict(sorted(offsets.items())), "tails": dict(sorted(tails.items())),
            **counts}
