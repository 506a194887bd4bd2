"""Derived tables: Delta tables written from other tables, never from raw records.

``rated_runs`` (``runlake.records.DERIVED_TABLES``) is the runs joined with their ratings,
stored so that readers outside runlake (``polars.scan_delta``, DuckDB, Spark, Dask) see a
rating next to each run; runlake itself computes the join fresh. A derived table is replaced
whole, under its table lock, by one overwrite commit whose commit info names the versions of
the tables it was made from (``runlake_derived``: ``{"from": {"runs": 12, "ratings": 4}}``),
so a refresh whose sources have not moved, or moved less far than the table's, writes
nothing. It is never appended to (``runlake.append`` refuses it) and never compacted (there
are no raw records); ``vacuum`` removes the files each replacement leaves. On a shared lake
(an object store) it is written the same way, without the local table lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext

import polars as pl

from runlake.compaction.deltatable import commit_info, open_table, replace_all
from runlake.storage import LakePaths, table_lock
from runlake.storage.shared import AnyPaths

DERIVED_KEY = "runlake_derived"

Sources = Mapping[str, int | None]  # a source table's name -> the version read (None: none)


def derived_from(paths: AnyPaths, name: str) -> dict[str, int | None] | None:
    """The source versions the derived table ``name`` was last made from (``None``: it does
    not exist yet, or its latest commit is not a replacement)."""
    root = paths.table_files(name)
    table = open_table(root)
    if table is None:
        return None
    info = commit_info(root, int(table.version())) or {}
    made = info.get(DERIVED_KEY)
    sources = made.get("from") if isinstance(made, dict) else None
    if not isinstance(sources, dict):
        return None
    return {str(k): None if v is None else int(v) for k, v in sources.items()}


def replace_derived(paths: AnyPaths, name: str, schema: Mapping[str, pl.DataType],
                    parts: Iterable[pl.DataFrame], sources: Sources, *,
                    lock_timeout: float) -> int | None:
    """Replace the derived table ``name`` with the rows of ``parts`` (frames of ``schema``,
    streamed), made from ``sources``; return the new version, or ``None`` when the table
    already reflects these sources or later ones (a concurrent refresh got there first)."""
    with _lock(paths, name, lock_timeout):
        if up_to_date(derived_from(paths, name), sources):
            return None
        return replace_all(paths.table_files(name), schema, parts, key=DERIVED_KEY,
                           info={"from": dict(sources)})


def _lock(paths: AnyPaths, name: str, timeout: float) -> AbstractContextManager[None]:
    # A shared lake has no table locks: two refreshes there are two overwrite commits, and
    # the later one simply wins (both are made from committed versions).
    return table_lock(paths, name, timeout) if isinstance(paths, LakePaths) else nullcontext()


def up_to_date(made_from: Sources | None, sources: Sources) -> bool:
    """Whether a table made from ``made_from`` already covers ``sources`` (each source at
    the same version or a later one)."""
    if made_from is None or set(made_from) != set(sources):
        return False
    return all(_at(made_from[k]) >= _at(v) for k, v in sources.items())


def _at(version: int | None) -> int:
    return -1 if version is None else version
