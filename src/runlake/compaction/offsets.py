"""What a table version covers of the raw zone, and what is still pending past it.

Every runlake commit records, under the commit info key ``runlake``, the cumulative map
``offsets``: for each raw segment (``date=YYYY-MM-DD/seg-NNNNNN.jsonl``) the byte offset up to
which its lines are accounted for (in the table, dropped as duplicates, or quarantined). The
latest runlake commit alone therefore says everything, and a reader pairs a table version with
the raw bytes past that same version's offsets::

    >>> snap = snapshot(lake.paths, "runs")                 # doctest: +SKIP
    >>> tail = pending_slices(lake.paths, "runs", snap)    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runlake.append.reader import SegmentSlice, complete_end
from runlake.compaction.deltatable import (
    METADATA_KEY,
    Delta,
    app_id,
    commit_info,
    delta_errors,
    open_table,
)
from runlake.errors import CompactionError
from runlake.storage import (
    DEFAULT_LOCK_TIMEOUT,
    LakePaths,
    file_size,
    list_segments,
    partition_lock,
)

FORMAT = 1
# How far back to look for a runlake commit behind commits other tools made.
_MAX_FOREIGN_COMMITS = 1000


@dataclass(frozen=True)
class Snapshot:
    """A table version and the raw bytes it covers.

    ``version`` is ``None`` when the table has no commit yet; ``sequence`` counts the
    compactions committed (the application transaction's version); ``covering`` is the
    version whose runlake commit info recorded ``offsets`` (``version`` or an earlier one).
    """

    table: str
    version: int | None
    sequence: int
    offsets: Mapping[str, int] = field(default_factory=dict)
    covering: int = 0


def segment_key(segment: Path) -> str:
    """``date=YYYY-MM-DD/seg-NNNNNN.jsonl``: a segment's name within its table."""
    return f"{segment.parent.name}/{segment.name}"


def snapshot(paths: LakePaths, table: str, version: int | None = None) -> Snapshot:
    """The committed offsets of ``table`` at ``version`` (default: the latest version)."""
    root = paths.tables / table
    return snapshot_of(root, table, open_table(root, version))


def snapshot_of(root: Path, table: str, delta: Delta | None) -> Snapshot:
    """The snapshot of an already opened table (``None``: no table yet)."""
    if delta is None:
        return Snapshot(table, None, 0)
    with delta_errors(root):
        at = int(delta.version())
        sequence = delta.transaction_version(app_id(table)) or 0
    covering, offsets = _offsets_at(root, at)
    return Snapshot(table, at, int(sequence), offsets, covering)


def _offsets_at(root: Path, version: int) -> tuple[int, dict[str, int]]:
    """The latest runlake commit at or before ``version``: its version and offsets."""
    for probe in range(version, max(version - _MAX_FOREIGN_COMMITS, -1), -1):
        info = commit_info(root, probe)
        if info is None:
            break
        ours = info.get(METADATA_KEY)
        if isinstance(ours, dict) and isinstance(ours.get("offsets"), dict):
            return probe, {str(k): int(v) for k, v in ours["offsets"].items()}
    return 0, {}  # nothing recorded: everything is pending, and dedup keeps records single


def pending_slices(
    paths: LakePaths, table: str, snap: Snapshot, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> list[SegmentSlice]:
    """Raw bytes past ``snap``'s offsets, up to each segment's last complete line, in
    partition and segment order.

    Sizes are read under each partition's append lock, so they end where a finished append
    ended: never inside a write still in progress, which a failing writer might cut back.
    Later appends are left for the next run.
    """
    pending = []
    for date in paths.partition_dates(table):
        for segment, size in _sizes(paths.partition(table, date), lock_timeout):
            start = snap.offsets.get(segment_key(segment), 0)
            if size < start:
                raise CompactionError(
                    f"{segment} is {size} bytes but {start} bytes of it are compacted: raw "
                    "segments must never be rewritten"
                )
            if size == start:  # fully compacted: nothing to look at
                continue
            end = complete_end(SegmentSlice(segment, start, size))
            if end > start:
                pending.append(SegmentSlice(segment, start, end))
    return pending


def _sizes(partition: Path, lock_timeout: float) -> list[tuple[Path, int]]:
    with partition_lock(partition, lock_timeout):
        return [(segment, file_size(segment)) for segment in list_segments(partition)]


def commit_metadata(
    operation: str, sequence: int, offsets: Mapping[str, int], **counts: Any
) -> dict[str, Any]:
    """The ``runlake`` commit info of a commit: format, operation, sequence, offsets, counts."""
    return {"format": FORMAT, "operation": operation, "sequence": sequence,
            "offsets": dict(sorted(offsets.items())), **counts}
