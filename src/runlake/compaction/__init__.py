"""Compaction: a table's pending raw lines -> Parquet files added by ONE Delta commit.

Modules, in the order a run goes through them:

- ``run``: the run: lock, snapshot, the batch loop, quarantine, progress, the ONE commit,
  results (``compact``, ``CompactOptions``, ``CompactionResult``).
- ``offsets``: what a version covers of the raw zone (``snapshot``, ``pending_slices``) and
  the commit metadata that records it.
- ``sources``: where raw lines come from: a local lake's segments (under its locks) or the
  objects hosts shipped to a shared lake (``RawSource``, ``raw_source``).
- ``rawbatches``: pending bytes cut into memory-mapped batches of whole lines; ``pipelined``
  work on the next batches while one is staged.
- ``decode``: bytes -> Arrow/Polars rows: pyarrow, grouping by value kinds, payload views.
- ``kinds``: grouping lines by the JSON kind a key holds (a regex over the bytes).
- ``fallback``: the forgiving path: orjson per line (reasons for bad lines), Polars,
  ``reconcile``.
- ``normalize``: rows -> canonical columns, ``config.<path>`` leaves and payload
  (``normalize_lines``); a failing batch is halved until its bad lines are alone.
- ``canonical``: the vocabulary (``runlake.records.vocabulary``) applied to the sampler,
  scheduler and model columns, once per distinct value.
- ``names``: names from data stay literal (struct fields by position when a key looks like
  a pattern; NUL keys get no column; panics known by name).
- ``columns``: the column model: fixed types, the type lattice, casts, JSON rendering.
- ``evolve``: schema evolution: ``SchemaTracker``, ``unify``, ``conform``.
- ``staging``: ``Staging``, the run's files until the commit: write, dedup, widen, discard.
- ``datafiles``: writing and rewriting Parquet data files, with their Delta statistics.
- ``deltatable``: everything ``deltalake``: open, schema, commit, commit info, id lookup,
  optimize, vacuum, error translation.
- ``quarantine``: bad lines on disk, one idempotent entry per line.
- ``maintenance``: ``optimize`` (merge small files) and ``vacuum`` (raw retention under
  each partition's append lock).
- ``removals``: the log of raw segments raw retention removed (read by check and rebuild).
- ``check``: what is wrong with a table (log, data files, raw vs offsets, quarantine, dead
  letters), changing nothing.
- ``rebuild``: a damaged table rebuilt from the raw zone as one new version.
- ``derived``: derived tables (``rated_runs``), made from other tables' versions: replaced
  whole, or appended to when the rows their sources gained are known.

Owns ``tables/``, ``quarantine/`` and ``cache/<table>/tail/``. Imports ``runlake.append``
(segment slices), ``runlake.records`` (knobs), ``runlake.storage`` and the table engines
(Polars, Arrow; Delta Lake only in ``deltatable``). This package also exports the read
interface a fresh scan needs (snapshot, pending slices, normalization, id lookup, the tail
cache), so ``runlake.analysis`` reads the same way compaction writes. See ``docs/compaction.md``.
"""

from __future__ import annotations

from runlake.compaction.check import CheckResult, TableCheck, check
from runlake.compaction.datafiles import FileOptions
from runlake.compaction.deltatable import (
    Delta,
    column_types,
    delta_errors,
    file_uris,
    ids_present,
    load_version,
    open_table,
    scan_files,
    snapshot_files,
)
from runlake.compaction.derived import (
    Made,
    Source,
    append_derived,
    appended_files,
    derived_lock,
    has_rows,
    made,
    replace_derived,
    source,
    up_to_date,
)
from runlake.compaction.evolve import conform, unify
from runlake.compaction.maintenance import (
    OptimizeResult,
    TableOptimize,
    TableVacuum,
    VacuumResult,
    optimize,
    vacuum,
)
from runlake.compaction.normalize import Normalized, normalize_lines
from runlake.compaction.offsets import (
    Reset,
    Snapshot,
    fingerprint,
    pending_slices,
    segment_key,
    snapshot,
    snapshot_of,
)
from runlake.compaction.quarantine import QuarantineEntry, read_entries
from runlake.compaction.rebuild import rebuild
from runlake.compaction.run import (
    CompactionProgress,
    CompactionResult,
    CompactOptions,
    Progress,
    TableCompaction,
    compact,
)
from runlake.compaction.sources import RawSource, raw_source, shared_status
from runlake.compaction.staging import first_copies
from runlake.compaction.tailcache import Entry as TailEntry
from runlake.compaction.tailcache import chain as tail_chain
from runlake.compaction.tailcache import scan as tail_scan
from runlake.compaction.tailcache import store as tail_store

__all__ = [
    "CheckResult",
    "CompactOptions",
    "CompactionProgress",
    "CompactionResult",
    "Delta",
    "FileOptions",
    "Made",
    "Normalized",
    "OptimizeResult",
    "Progress",
    "QuarantineEntry",
    "RawSource",
    "Reset",
    "Snapshot",
    "Source",
    "TableCheck",
    "TableCompaction",
    "TableOptimize",
    "TableVacuum",
    "TailEntry",
    "VacuumResult",
    "append_derived",
    "appended_files",
    "check",
    "column_types",
    "compact",
    "conform",
    "delta_errors",
    "derived_lock",
    "file_uris",
    "fingerprint",
    "first_copies",
    "has_rows",
    "ids_present",
    "load_version",
    "made",
    "normalize_lines",
    "open_table",
    "optimize",
    "pending_slices",
    "raw_source",
    "read_entries",
    "rebuild",
    "replace_derived",
    "scan_files",
    "segment_key",
    "shared_status",
    "snapshot",
    "snapshot_files",
    "snapshot_of",
    "source",
    "tail_chain",
    "tail_scan",
    "tail_store",
    "unify",
    "up_to_date",
    "vacuum",
]
