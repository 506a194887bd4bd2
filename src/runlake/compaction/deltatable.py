"""The Delta Lake side: open a table, read its schema and files, commit, read commit info,
optimize and vacuum, and replace a derived table whole or append to it.

The only module that imports ``deltalake`` (an import-linter contract in ``pyproject.toml``
keeps it so). Every call goes through here, inside :func:`delta_errors`, so callers only ever
see :class:`~runlake.errors.CompactionError` (or :class:`~runlake.errors.CompactionConflict`
when another writer committed first); other modules name the table type as :data:`Delta`.

A commit made by runlake carries, under the commit info key ``runlake``, what the table covers
of the raw zone (see :mod:`runlake.compaction.offsets`), and an application transaction
``runlake.compact.<table>`` whose version is the compaction sequence. delta-rs rejects a commit
whose transaction's app id was committed by anyone since the snapshot it was built on, which
is what makes a late or concurrent compactor fail instead of committing the same bytes twice.

delta-rs writes a commit file (and optimize its data files) without fsync: every commit made
here is followed by :func:`sync_commits`, and a compaction's data directories are fsynced
before its commit, so a commit that survives a power cut finds its files.
"""

from __future__ import annotations

import bisect
import io
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeAlias
from urllib.parse import unquote

import orjson
import polars as pl
import pyarrow as pa
from deltalake import (
    CommitProperties,
    DeltaTable,
    Schema,
    Transaction,
    WriterProperties,
    write_deltalake,
)
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

from runlake.compaction.datafiles import PARTITION, DataFile, parquet_types
from runlake.errors import CompactionConflict, CompactionError
from runlake.storage import Files, fsync_path, storage_error, storage_errors

METADATA_KEY = "runlake"
APP_PREFIX = "runlake.compact."
_NO_PARTITION = "0000-00-00"  # an overwrite filter that matches no partition
# delta-rs holds a row group in memory until it is this long: a bound on a refresh's memory.
_DERIVED_ROW_GROUP = 16_384
LOG_DIR = "_delta_log"
ID = "record_id"
_FILE = "__runlake_file"
_COMMIT_FILE = re.compile(r"(\d{20})\.json")

Delta: TypeAlias = DeltaTable  # what other modules call an opened table
AppTransaction = tuple[str, int]  # an application transaction: (app id, version)


@contextmanager
def delta_errors(root: Files) -> Iterator[None]:
    """Translate deltalake and file-system errors for the table at ``root``."""
    try:
        yield
    except CommitFailedError as exc:
        raise CompactionConflict(
            f"{root}: another writer committed to the table first; nothing was committed by "
            f"this run, run it again ({exc})"
        ) from exc
    except DeltaError as exc:
        # delta-rs appends a Rust backtrace when RUST_BACKTRACE is set: keep the first line.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CompactionError(f"{root}: Delta Lake error (is {root}/{LOG_DIR} damaged?): "
                              f"{first}") from exc
    except OSError as exc:
        raise storage_error(exc, Path(root.uri), doing=f"use {exc.filename or root}") from exc


def app_id(table: str) -> str:
    return APP_PREFIX + table


def open_table(root: Files, version: int | None = None) -> DeltaTable | None:
    """The table at ``root`` (at ``version``), or ``None`` if it has no Delta log yet."""
    with delta_errors(root):
        if not DeltaTable.is_deltatable(root.uri, storage_options=root.options):
            return None
        return DeltaTable(root.uri, version=version, storage_options=root.options)


def column_types(table: DeltaTable) -> dict[str, pl.DataType]:
    """The table's columns as Polars types, in schema order."""
    schema = pa.schema(table.schema().to_arrow())
    # Through an empty IPC stream: pl.from_arrow() would import pandas (0.2-0.5 s) to check
    # whether it was handed a pandas frame.
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema):
        pass
    return dict(pl.read_ipc_stream(io.BytesIO(sink.getvalue().to_pybytes())).schema)


def data_files(root: Files, table: DeltaTable) -> list[DataFile]:
    """The files of the table's snapshot with their physical column types."""
    actions = _add_actions(table).to_pylist()
    return [
        DataFile(a["path"], str(a[f"partition.{PARTITION}"]), a["size_bytes"],
                 a["num_records"] or 0, a["modification_time"], "{}",
                 parquet_types(root, a["path"]))
        for a in actions
    ]


def snapshot_files(table: DeltaTable) -> list[tuple[str, str]]:
    """The snapshot's data files: (path relative to the table root, partition date)."""
    actions = _add_actions(table)
    return list(zip(actions.column("path").to_pylist(),
                    actions.column(f"partition.{PARTITION}").to_pylist(), strict=True))


def file_sizes(table: DeltaTable) -> dict[str, int]:
    """The size the log records for each of the snapshot's data files."""
    actions = _add_actions(table)
    return dict(zip(actions.column("path").to_pylist(),
                    actions.column("size_bytes").to_pylist(), strict=True))


def commit_versions(root: Files) -> list[int]:
    """The versions whose commit files the log holds, in order."""
    names = [e.name.rsplit("/", 1)[-1] for e in root.entries(LOG_DIR)] if root.exists() else []
    return sorted(int(found[1]) for name in names if (found := _COMMIT_FILE.fullmatch(name)))


def torn_lines(root: Files, version: int) -> list[int]:
    """Line numbers (from 1) of one commit file's lines that are not JSON."""
    lines = (root.read(f"{LOG_DIR}/{version:020d}.json") or b"").splitlines()
    bad = []
    for number, line in enumerate(lines, 1):
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError:
            bad.append(number)
    return bad


def scan_files(root: Files, table: DeltaTable, files: Sequence[tuple[str, str]]
               ) -> pl.LazyFrame:
    """The rows of ``files`` (a snapshot's, from :func:`snapshot_files`) in the table's
    schema: each file read as Parquet with no partition inferred from its path (a lake under
    ``/data/team=vision/`` would otherwise grow a ``team`` column and fail), the partition
    column taken from the log."""
    types = column_types(table)
    if not files:
        return pl.LazyFrame(schema=types)
    dates = {root.child(path): date for path, date in files}
    stored = {name: kind for name, kind in types.items() if name != PARTITION}
    scan = pl.scan_parquet(list(dates), schema=stored, hive_partitioning=False,
                           missing_columns="insert", extra_columns="ignore",
                           include_file_paths=_FILE, storage_options=root.options)
    date = pl.col(_FILE).replace_strict(dates, return_dtype=types[PARTITION])
    return scan.with_columns(date.alias(PARTITION)).select(list(types))


def row_count(root: Files, table: DeltaTable) -> int:
    """The rows of the table's snapshot, from the log's statistics (no data file is read)."""
    with delta_errors(root):
        counts = _add_actions(table).column("num_records")
    return int(sum(count or 0 for count in counts.to_pylist()))


def file_uris(root: Files, table: DeltaTable) -> list[str]:
    """The absolute URIs of the data files of the table's snapshot, sorted: what an engine
    without a Delta reader must read (a plain directory read would also see removed files)."""
    with delta_errors(root):
        return sorted(table.file_uris())


def ids_present(root: Files, table: DeltaTable, candidates: pl.Series) -> pl.Series:
    """Which of ``candidates`` (record ids) the table's snapshot holds.

    A file is read (its ``record_id`` column only) only if its id range in the log's
    statistics holds a candidate: with time-ordered ids, new records fall past every
    committed range and nothing is read. delta-rs truncates long string statistics to a
    prefix (min) and a rounded-up prefix (max), so the ranges stay conservative.
    """
    wanted = sorted(candidates.to_list())
    with delta_errors(root):
        actions = _add_actions(table)
    low, high = f"min.{ID}", f"max.{ID}"
    names = actions.column_names
    rows = actions.select([n for n in ("path", low, high) if n in names]).to_pylist()
    files = [root.child(r["path"]) for r in rows
             if _may_hold(wanted, r.get(low), r.get(high))]
    if not files:
        return pl.Series(ID, [], dtype=pl.String)
    scan = pl.scan_parquet(files, hive_partitioning=False, extra_columns="ignore",
                           storage_options=root.options)
    return scan.select(ID).filter(pl.col(ID).is_in(candidates.implode())).collect()[ID]


def _add_actions(table: DeltaTable) -> pa.Table:
    """The snapshot's add actions, flattened (statistics as ``min.<column>`` etc.).

    Read through the Arrow stream interface: ``pa.table()`` on the same object first checks
    whether it is a pandas DataFrame, which imports pandas (0.2-0.5 s on a first read).
    """
    return pa.RecordBatchReader.from_stream(table.get_add_actions(flatten=True)).read_all()


def _may_hold(wanted: list[str], low: str | None, high: str | None) -> bool:
    if low is None or high is None:  # no statistics: the file must be read
        return True
    return bisect.bisect_left(wanted, low) < bisect.bisect_right(wanted, high)


def arrow_schema(types: Mapping[str, pl.DataType]) -> pa.Schema:
    """The Delta schema for Polars column types (text as ``string``, times as UTC ``us``)."""
    empty = pl.DataFrame(schema=dict(types)).to_arrow()
    return pa.schema([pa.field(f.name, _plain(f.type)) for f in empty.schema])


def _plain(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    return kind


def commit(
    root: Files,
    table: DeltaTable | None,
    files: Sequence[DataFile],
    *,
    types: Mapping[str, pl.DataType],
    schema_changed: bool,
    replace_dates: Sequence[str],
    transaction: AppTransaction,
    metadata: dict[str, Any],
) -> int:
    """One commit that adds ``files`` (replacing every file of ``replace_dates``), sets the
    schema to ``types`` when it changed, and records ``metadata`` and ``transaction``.
    Return the new table version."""
    schema = arrow_schema(types)
    properties = _properties(metadata, transaction)
    adds = [_add(f) for f in files]
    if root.local is not None:
        _sync_directories(root.local, {(root.local / f.path).parent for f in files})
    with delta_errors(root):
        if table is None:
            _create(root, Schema.from_arrow(schema), adds, properties)
            sync_commits(root, 0, data_files=False)
            return 0
        mode: Literal["append", "overwrite"] = "append"
        filters = None
        if schema_changed or replace_dates:
            # delta-rs writes a new schema only in overwrite mode; the filter limits what
            # the overwrite removes to the partitions being replaced (usually none).
            mode = "overwrite"
            filters = [(PARTITION, "in", list(replace_dates) or [_NO_PARTITION])]
        actions: list[AddAction | RemoveAction] = list(adds)
        version = int(table.version()) + 1
        table.create_write_transaction(
            actions, mode, schema, partition_by=[PARTITION], partition_filters=filters,
            commit_properties=properties,
        )
    sync_commits(root, version, data_files=False)
    return version


def _create(root: Files, schema: Schema, adds: list[AddAction],
            properties: CommitProperties) -> None:
    """Create the table with its first commit. Another compactor creating it first is a
    conflict like any other (delta-rs reports it as an existing table, not a failed commit)."""
    try:
        create_table_with_add_actions(root.uri, schema, adds, mode="error",
                                      partition_by=[PARTITION], commit_properties=properties,
                                      storage_options=root.options)
    except DeltaError as exc:
        if isinstance(exc, CommitFailedError) or not DeltaTable.is_deltatable(
                root.uri, storage_options=root.options):
            raise
        raise CommitFailedError(f"the table was created meanwhile ({exc})") from exc


def replace_all(root: Files, schema: Mapping[str, pl.DataType], parts: Iterable[pl.DataFrame],
                *, key: str, info: dict[str, Any]) -> int:
    """Replace every row of the table at ``root`` (created when missing) with the rows of
    ``parts`` (frames of ``schema``), partitioned by date, in one overwrite commit whose
    commit info holds ``info`` under ``key`` (never runlake's offsets key: this commit
    covers no raw bytes). Return the new version. For derived tables; the replaced files
    stay until vacuum.

    The parts are streamed to delta-rs as they come, in row groups of at most
    :data:`_DERIVED_ROW_GROUP` rows, so memory follows a part, not the table."""
    with delta_errors(root):
        write_deltalake(root.uri, _stream(schema, parts), mode="overwrite",
                        schema_mode="overwrite", partition_by=[PARTITION],
                        storage_options=root.options,
                        writer_properties=WriterProperties(max_row_group_size=_DERIVED_ROW_GROUP),
                        commit_properties=CommitProperties(custom_metadata={key: info}))
        version = int(DeltaTable(root.uri, storage_options=root.options).version())
    sync_commits(root, version)
    return version


def append_rows(root: Files, table: DeltaTable, parts: Iterable[pl.DataFrame], *, key: str,
                info: dict[str, Any]) -> int:
    """Append the rows of ``parts`` (frames of the table's columns) to ``table`` in one
    commit built on the snapshot ``table`` holds, carrying ``info`` under ``key``; return
    the new version. Never retried: a commit by anyone since that snapshot makes it a
    :class:`~runlake.errors.CompactionConflict` (the rows were chosen for that snapshot)."""
    with delta_errors(root):
        write_deltalake(table, _stream(column_types(table), parts), mode="append",
                        writer_properties=WriterProperties(max_row_group_size=_DERIVED_ROW_GROUP),
                        commit_properties=CommitProperties(custom_metadata={key: info},
                                                           max_commit_retries=0))
        version = int(DeltaTable(root.uri, storage_options=root.options).version())
    sync_commits(root, version)
    return version


def _stream(schema: Mapping[str, pl.DataType], parts: Iterable[pl.DataFrame]
            ) -> pa.RecordBatchReader:
    # Delta has no type for an all-null column: it is text, as compaction stores it.
    arrow = arrow_schema({name: pl.String() if dtype == pl.Null else dtype
                          for name, dtype in schema.items()})
    batches = (batch for part in parts for batch in part.to_arrow().cast(arrow).to_batches())
    return pa.RecordBatchReader.from_batches(arrow, batches)


def table_id(table: DeltaTable) -> str:
    """The table's id (its metadata's): a table created anew under the same path has
    another one."""
    return str(table.metadata().id)


def sync_commits(table: Files, first: int, *, data_files: bool = True) -> None:
    """fsync the commit files from version ``first`` to the latest, then ``_delta_log/`` and
    the directories above it; with ``data_files``, first the files those commits add and
    their directories (optimize's, which delta-rs wrote). Idempotent. Nothing to do in an
    object store: a PUT is durable when it returns."""
    if table.local is None:
        return
    root = table.local
    log = root / LOG_DIR
    with storage_errors(log, doing=f"make the commits in {log} durable"):
        commits = sorted(log / name for name in os.listdir(log)
                         if (found := _COMMIT_FILE.fullmatch(name)) and int(found[1]) >= first)
        if data_files:
            added = [root / name for path in commits for name in _added(path)]
            for file in added:
                fsync_path(file)
            for directory in {file.parent for file in added}:
                fsync_path(directory)
        for path in commits:
            fsync_path(path)
        _sync_directories(root, {log})


def _sync_directories(root: Path, directories: set[Path]) -> None:
    """fsync ``directories``, then the table directory and the two above it (``tables/``
    and the lake root), whose entries a first commit created."""
    with storage_errors(root, doing=f"make the directories of {root} durable"):
        for directory in directories:
            fsync_path(directory)
        for directory in (root, root.parent, root.parent.parent):
            if directory.is_dir():
                fsync_path(directory)


def _added(commit_file: Path) -> list[str]:
    """The data files (relative paths) one commit file adds."""
    with commit_file.open("rb") as handle:
        return [unquote(orjson.loads(line)["add"]["path"]) for line in handle
                if line.startswith(b'{"add"')]


def _properties(metadata: dict[str, Any], transaction: AppTransaction) -> CommitProperties:
    """runlake's commit info and application transaction; never retried over another
    writer's commit (``max_commit_retries=0``)."""
    return CommitProperties(
        custom_metadata={METADATA_KEY: metadata},
        app_transactions=[Transaction(*transaction)],
        max_commit_retries=0,
    )


def load_version(root: Files, table: DeltaTable, version: int | datetime) -> None:
    """Move ``table`` to ``version`` (a number, or the version current at a time)."""
    with delta_errors(root):
        table.load_as_version(version)


class Merged(NamedTuple):
    """What an optimize did: files removed and added, partitions, the new version."""

    removed: int
    added: int
    partitions: int
    version: int | None


def optimize(root: Files, table: DeltaTable, *, target_size: int, metadata: dict[str, Any],
             transaction: AppTransaction) -> Merged:
    """Merge each partition's small files into files of about ``target_size`` bytes, in one
    commit carrying ``metadata`` and ``transaction``."""
    with delta_errors(root):
        before = int(table.version())
        metrics = table.optimize.compact(target_size=target_size,
                                         commit_properties=_properties(metadata, transaction))
        added, removed = int(metrics["numFilesAdded"]), int(metrics["numFilesRemoved"])
        version = (int(DeltaTable(root.uri, storage_options=root.options).version())
                   if added or removed else None)
    if version is not None:
        sync_commits(root, before + 1)
    return Merged(removed, added, int(metrics.get("partitionsOptimized", 0)), version)


def removable(root: Files, table: DeltaTable, *, hours: float, full: bool = False) -> list[str]:
    """Files a vacuum would delete, sorted: those removed from the table more than ``hours``
    ago (rounded up); with ``full``, also every file no commit ever referenced."""
    with delta_errors(root):
        return sorted(table.vacuum(retention_hours=math.ceil(hours), dry_run=True,
                                   enforce_retention_duration=False, full=full))


def expire(root: Files, table: DeltaTable, *, hours: float, metadata: dict[str, Any],
           transaction: AppTransaction) -> None:
    """Delete files removed from the table more than ``hours`` ago (rounded up), in one
    commit carrying ``metadata`` and ``transaction``."""
    with delta_errors(root):
        before = int(table.version())
        table.vacuum(retention_hours=math.ceil(hours), dry_run=False,
                     enforce_retention_duration=False,
                     commit_properties=_properties(metadata, transaction))
    sync_commits(root, before + 1)


def _add(file: DataFile) -> AddAction:
    return AddAction(file.path, file.size, {PARTITION: file.date}, file.modified_ms, True,
                     file.stats)


class CommitFile(NamedTuple):
    """What one version's log file holds: its commit info, the application transactions it
    sets, and how many files it adds."""

    info: dict[str, Any]
    transactions: dict[str, int]
    adds: int


def read_commit(root: Files, version: int) -> CommitFile | None:
    """One version's log file, summarized (``None`` if it is gone, e.g. after log cleanup;
    lines that are not JSON, from a torn file, are left out)."""
    data = root.read(f"{LOG_DIR}/{version:020d}.json")
    if data is None:
        return None
    lines = data.splitlines()
    info: dict[str, Any] = {}
    transactions: dict[str, int] = {}
    adds = 0
    for line in lines:
        try:
            action = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if "commitInfo" in action:
            info = action["commitInfo"]
        elif "txn" in action:
            transactions[str(action["txn"]["appId"])] = int(action["txn"]["version"])
        adds += "add" in action
    return CommitFile(info, transactions, adds)


def commit_info(root: Files, version: int) -> dict[str, Any] | None:
    """The ``commitInfo`` of one version, read from its log file (``None`` if the file is
    gone, e.g. after log cleanup). Reading the log directly works for any version."""
    name = f"{LOG_DIR}/{version:020d}.json"
    if root.local is None:
        return _commit_info((root.read(name) or b"").splitlines())
    try:
        with (root.local / name).open("rb") as handle:  # often large: stop at the line
            return _commit_info(handle)
    except FileNotFoundError:
        return None


def _commit_info(lines: Iterable[bytes]) -> dict[str, Any] | None:
    for line in lines:
        if line.startswith(b'{"commitInfo"'):
            info: dict[str, Any] = orjson.loads(line)["commitInfo"]
            return info
    return None


