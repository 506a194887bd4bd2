"""Derived tables: Delta tables written from other tables, never from raw records.

``rated_runs`` (``runlake.records.DERIVED_TABLES``) is the runs joined with their ratings,
stored so that readers outside runlake (``polars.scan_delta``, DuckDB, Spark, Dask) see a
rating next to each run; runlake itself computes the join fresh. Every commit to a derived
table names, in its commit info, the versions and table ids of the tables it was made from
(``runlake_derived``: ``{"from": {"runs": 12, "ratings": 4}, "ids": {"runs": "...", ...}}``),
so a refresh whose sources have not moved, or moved less far than the table's, writes
nothing. A refresh either replaces the table whole (one overwrite commit) or, when the rows
its sources gained are known one by one (:func:`appended_files`), appends the rows made from
them (one append commit, built on the snapshot it was planned on and never retried over
another commit). Refreshes hold the table lock (:func:`derived_lock`). A derived table is
never appended to by ``runlake.append`` and never compacted (there are no raw records);
``vacuum`` removes the files each replacement leaves. On a shared lake (an object store) it
is written the same way, without the local table lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import NamedTuple
from urllib.parse import unquote

import orjson
import polars as pl

from runlake.compaction.deltatable import (
    LOG_DIR,
    METADATA_KEY,
    Delta,
    append_rows,
    commit_info,
    open_table,
    replace_all,
    row_count,
    snapshot_files,
    table_id,
)
from runlake.storage import LakePaths, table_lock
from runlake.storage.shared import AnyPaths

DERIVED_KEY = "runlake_derived"


class Source(NamedTuple):
    """A source table as a derived table was made from it (``None``: no table yet)."""

    version: int | None
    id: str | None


Sources = Mapping[str, Source]  # a source table's name -> what was read of it


class Made(NamedTuple):
    """A derived table at its latest version, and the sources it was made from (empty when
    its latest commit does not say)."""

    table: Delta
    sources: dict[str, Source]


def source(paths: AnyPaths, name: str) -> Source:
    """The latest version and id of table ``name``."""
    table = open_table(paths.table_files(name))
    return Source(None, None) if table is None else Source(int(table.version()), table_id(table))


def has_rows(paths: AnyPaths, name: str, version: int | None) -> bool:
    """Whether table ``name`` holds a row at ``version`` (from the log's statistics)."""
    root = paths.table_files(name)
    table = None if version is None else open_table(root, version)
    return table is not None and row_count(root, table) > 0


def made(paths: AnyPaths, name: str) -> Made | None:
    """The derived table ``name`` and what it was made from (``None``: not made yet)."""
    root = paths.table_files(name)
    table = open_table(root)
    if table is None:
        return None
    info = (commit_info(root, int(table.version())) or {}).get(DERIVED_KEY)
    versions = info.get("from") if isinstance(info, dict) else None
    ids = info.get("ids") if isinstance(info, dict) else None
    if not isinstance(versions, dict):
        return Made(table, {})
    ids = ids if isinstance(ids, dict) else {}
    return Made(table, {str(k): Source(None if v is None else int(v), ids.get(k))
                        for k, v in versions.items()})


def derived_lock(paths: AnyPaths, name: str, timeout: float) -> AbstractContextManager[None]:
    """The lock a refresh of ``name`` holds from reading :func:`made` to its commit."""
    # A shared lake has no table locks: there two refreshes may race, and the append of
    # the later one fails (it is never retried over another commit); the next refresh
    # starts again from what the table then says.
    return table_lock(paths, name, timeout) if isinstance(paths, LakePaths) else nullcontext()


def replace_derived(paths: AnyPaths, name: str, schema: Mapping[str, pl.DataType],
                    parts: Iterable[pl.DataFrame], sources: Sources) -> int:
    """Replace the derived table ``name`` with the rows of ``parts`` (frames of ``schema``,
    streamed), made from ``sources``; return the new version. Hold :func:`derived_lock`."""
    return replace_all(paths.table_files(name), schema, parts, key=DERIVED_KEY,
                       info=_info(sources))


def append_derived(paths: AnyPaths, name: str, table: Delta, parts: Iterable[pl.DataFrame],
                   sources: Sources) -> int:
    """Append the rows of ``parts`` (frames of the table's columns) to the derived table
    ``name`` at the snapshot ``table``, which now covers ``sources``; return the new
    version. Hold :func:`derived_lock`."""
    return append_rows(paths.table_files(name), table, parts, key=DERIVED_KEY,
                       info=_info(sources))


def _info(sources: Sources) -> dict[str, dict[str, int | str | None]]:
    return {"from": {k: s.version for k, s in sources.items()},
            "ids": {k: s.id for k, s in sources.items()}}


def up_to_date(made_from: Made | None, sources: Sources) -> bool:
    """Whether a table made from ``made_from`` already covers ``sources`` (each source the
    same table, at the same version or a later one)."""
    if made_from is None or set(made_from.sources) != set(sources):
        return False
    return all(_same_table(made_from.sources[k], s) and _at(made_from.sources[k].version)
               >= _at(s.version) for k, s in sources.items())


def _same_table(before: Source, now: Source) -> bool:
    # A table made before ids were recorded is taken at its versions' word.
    return before.id is None or now.id is None or before.id == now.id


def _at(version: int | None) -> int:
    return -1 if version is None else version


def appended_files(paths: AnyPaths, name: str, since: int, until: int
                   ) -> list[tuple[str, str]] | None:
    """The data files (path, partition date) holding exactly the rows table ``name`` gained
    from version ``since`` to ``until``, when that is known: every commit between only
    added rows (runlake's compaction appends) or changed none (optimize, which rewrites
    files with ``dataChange`` false, and vacuum), and the added files are still in the
    snapshot at ``until``. ``None`` otherwise (a rebuild, a replaced partition, a file an
    optimize has merged since, a commit runlake did not make, a log file gone)."""
    root = paths.table_files(name)
    added: list[str] = []
    for version in range(since + 1, until + 1):
        files = _appended(root.read(f"{LOG_DIR}/{version:020d}.json"))
        if files is None:
            return None
        added += files
    table = open_table(root, until)
    current = {} if table is None else dict(snapshot_files(table))
    if any(path not in current for path in added):
        return None
    return [(path, current[path]) for path in added]


def _appended(log: bytes | None) -> list[str] | None:
    """The files one commit file adds rows with, or ``None`` when it did anything else."""
    if log is None:
        return None
    added: list[str] = []
    ours = False
    for line in log.splitlines():
        try:
            action = orjson.loads(line)
        except orjson.JSONDecodeError:  # a torn file: nothing is known
            return None
        if "commitInfo" in action:
            ours = METADATA_KEY in action["commitInfo"]
        elif "remove" in action and action["remove"].get("dataChange", True):
            return None
        elif "add" in action and action["add"].get("dataChange", True):
            if action["add"].get("deletionVector"):
                return None
            added.append(unquote(action["add"]["path"]))
    return added if ours or not added else None
