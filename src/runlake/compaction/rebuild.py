"""Rebuilding a damaged table from the raw zone, its source of truth, as one new version.

Under the table's compaction lock, every raw segment of the table is read from its start
through the same normalization, quarantine and dedup as a compaction, and ONE commit
replaces every file of the table with the new ones, records offsets (and fingerprints) for
every segment and advances the application transaction: a racing compactor fails instead of
committing on top. Older versions stay readable for time travel until vacuum expires them.

A rebuild is refused, naming the segments, when raw retention removed segments the table
was built from: their records now live only in the table, and a rebuild would drop them.
A Delta log that cannot be opened at all is set aside as ``_delta_log.damaged-<time>`` (kept
for a person to look at) and the table is created again at version 0.
"""

from __future__ import annotations

import time
from pathlib import Path

from runlake.compaction.deltatable import LOG_DIR, open_table
from runlake.compaction.offsets import segment_key, snapshot_of
from runlake.compaction.removals import read_removals
from runlake.compaction.run import Compaction, CompactOptions, Progress, TableCompaction
from runlake.compaction.sources import LocalSource
from runlake.errors import CompactionError, InvalidOption
from runlake.storage import LakePaths, fsync_path, storage_errors, table_lock


def rebuild(paths: LakePaths, table: str, *, options: CompactOptions,
            progress: Progress | None = None) -> TableCompaction:
    """Rebuild ``table`` from its raw segments as a new version; see the module docstring."""
    paths.require_table(table)
    started = time.monotonic()
    with table_lock(paths, table, options.lock_timeout):
        _refuse_without_raw(paths, table)
        source = LocalSource(paths, table, options.lock_timeout)
        return Compaction(paths, source, table, options, progress, rebuild=True).run(started)


def _refuse_without_raw(paths: LakePaths, table: str) -> None:
    """Raise :class:`InvalidOption` if a segment the table covers is gone from the raw zone;
    set an unreadable Delta log aside."""
    root = paths.table_files(table)
    gone = sorted(read_removals(paths, table))
    try:
        delta = open_table(root)
    except CompactionError:
        _set_aside(root.path)
        delta = None
    if delta is not None:
        present = {segment_key(s) for d in paths.partition_dates(table)
                   for s in paths.segments(table, d)}
        covered = snapshot_of(root, table, delta, verify=False).offsets
        gone = sorted({*gone, *(key for key in covered if key not in present)})
    if gone:
        more = f" and {len(gone) - 1} more" if len(gone) > 1 else ""
        raise InvalidOption(
            f"cannot rebuild {table!r}: raw retention (or a removal by hand) took "
            f"{gone[0]}{more} from the raw zone, whose records now live only in the table; "
            "restore those segments into raw/ first")


def _set_aside(root: Path) -> None:
    """Move the unreadable ``_delta_log`` out of the way, keeping it."""
    log = root / LOG_DIR
    aside = root / f"{LOG_DIR}.damaged-{time.strftime('%Y%m%dT%H%M%S')}"
    with storage_errors(log, doing=f"set the damaged {log} aside"):
        log.rename(aside)
        fsync_path(root)
