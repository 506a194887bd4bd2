"""Questions asked of the whole lake: SQL over every table, the rated-runs view, table stats,
and ``compare`` over a table.

SQL runs on DuckDB (imported on first use) over the lake's fresh views: each table the query
names is read as :meth:`Lake.scan` reads it (committed snapshot + raw tail), collected and
registered as Arrow (Polars' buffers, not copied); ``rated_runs`` is runs joined with their
ratings. DuckDB's own SQL works: ``SHOW TABLES``, ``DESCRIBE runs``, ``SUMMARIZE runs``,
window functions, ``PIVOT ... IN (...)``, ``EXPLAIN``.

It only reads, and only the lake: exactly one statement, of a reading kind (DuckDB parses it
first: ``DROP``, ``CREATE``, ``INSERT``, ``COPY``, ``ATTACH``, ``INSTALL``, ``SET`` ... are
refused with :class:`InvalidQuery`, never run on a throwaway copy and reported as done), on
an in-memory database opened with ``enable_external_access = false`` (no file, URL or
extension: ``read_csv('/etc/passwd')`` is refused), Python replacement scans off (a variable
of the caller is not a table), then ``lock_configuration = true`` so the query cannot undo
any of it. ``allow_dirs`` is the one opt-in: DuckDB's own ``allowed_directories``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl

from runlake.analysis.comparison import Best, Order, ScaleOption, compare
from runlake.analysis.rated import read_rated
from runlake.analysis.scan import TableView, scan_table
from runlake.errors import InvalidOption, InvalidQuery
from runlake.records import RATED_RUNS_VIEW, RUNS_TABLE
from runlake.records.vocabulary import known_sampler, known_scheduler
from runlake.storage.shared import AnyPaths

# The knobs whose distinct values `stats` counts: what a sweep varies.
STATS_KNOBS = ("model", "sampler", "scheduler", "steps", "cfg_scale", "seed", "width", "height",
               "stage", "prompt", "experiment_id")
# Statements that need the tables' schemas, not their rows.
_SCHEMA_ONLY = {"DESCRIBE", "SHOW"}
# Parse-tree nodes that use columns they do not name (DuckDB's json_serialize_sql).
_IMPLICIT = {"STAR", "COLUMNS", "POSITIONAL_REFERENCE", "PIVOT", "UNPIVOT", "LAMBDA"}
# DuckDB's kinds of statement that only read (SHOW, DESCRIBE, SUMMARIZE and PRAGMA show_*
# parse as SELECT).
_READ_ONLY = {"SELECT", "EXPLAIN"}
# The knobs with a closed vocabulary: `stats` lists their values it does not recognise.
VOCABULARY_KNOBS = {"sampler": known_sampler, "scheduler": known_scheduler}


def sql(paths: AnyPaths, query: str, *, allow_dirs: Sequence[Path] = ()) -> pl.DataFrame:
    """Run one read-only DuckDB statement over the lake's fresh tables; see the module
    docstring. ``allow_dirs`` opts in folders whose files the query may read."""
    import duckdb  # noqa: PLC0415 - ~0.2 s to import; only SQL needs it

    statement = _one_read_only(duckdb, query)
    known = _known(paths)
    with _connection(duckdb, allow_dirs) as con:
        tree = _parse_tree(con, statement)
        named = set(known) if tree is None else _table_names(tree)
        frames = {name: _frame(paths, name) for name in known if name in named}
        used = _columns_used(tree, frames) if tree is not None else None
        for name, table in _registered(paths, known, frames, used, statement):
            con.register(name, table)
        con.execute("SET lock_configuration = true")
        try:
            result: pl.DataFrame = con.sql(statement).pl()
        except duckdb.Error as exc:
            raise _invalid(exc, known) from exc
    return result


def _one_read_only(duckdb: ModuleType, query: str) -> str:
    """The query's one statement, if it only reads; else :class:`InvalidQuery` naming it."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise InvalidQuery(_first_line(exc)) from exc
    if len(statements) != 1:
        pivot = query.lstrip()[:5].upper() == "PIVOT"
        hint = "; a PIVOT lists its values: PIVOT t ON c IN (...)" if pivot else ""
        raise InvalidQuery(f"give one SQL statement at a time (got {len(statements)}{hint})")
    [statement] = statements
    if statement.type.name not in _READ_ONLY:
        keyword = (statement.query.split() or [statement.type.name])[0].upper()
        raise InvalidQuery(
            f"{keyword} is refused: SQL on the lake only reads (SELECT, SHOW, DESCRIBE, "
            "SUMMARIZE, EXPLAIN); tables change through append and compact, and results "
            "leave through --format csv|json or lake.sql(...) in Python")
    return str(statement.query)


def _known(paths: AnyPaths) -> list[str]:
    """The names SQL sees: every table, and ``rated_runs`` (runs joined with ratings,
    fresh) when there are runs."""
    names = [name for name in paths.table_names() if name != RATED_RUNS_VIEW]
    return [*names, RATED_RUNS_VIEW] if RUNS_TABLE in names else names


@contextmanager
def _connection(duckdb: ModuleType, allow_dirs: Sequence[Path]) -> Iterator[Any]:
    """An in-memory DuckDB that can open no file, no URL and no extension (but ``allow_dirs``),
    and sees no Python variable; the caller locks its configuration after registering."""
    try:
        con = duckdb.connect(":memory:")
    except duckdb.Error as exc:
        raise InvalidQuery(f"DuckDB could not start: {_first_line(exc)}") from exc
    try:
        # Folders are allowed while access is still on (DuckDB refuses it after), then
        # access goes off before any statement of the caller's runs.
        if allow_dirs:
            con.execute("SET allowed_directories = ?",
                        [[f"{Path(d).resolve()}{os.sep}" for d in allow_dirs]])
        con.execute("SET enable_external_access = false")
        con.execute("SET python_enable_replacements = false")
    except duckdb.Error as exc:  # e.g. a DuckDB older than allowed_directories (1.3)
        con.close()
        raise InvalidOption(f"DuckDB {duckdb.__version__} cannot be set up to read only the "
                            f"lake{' and the allowed folders' if allow_dirs else ''}: "
                            f"{_first_line(exc)}") from exc
    try:
        yield con
    finally:
        con.close()


def _registered(
    paths: AnyPaths, known: list[str], frames: dict[str, pl.LazyFrame],
    used: set[str] | None, statement: str,
) -> Iterator[tuple[str, Any]]:
    """Each table to register, as Arrow (Polars' buffers, not copied): the tables the query
    names, read fresh, with only the columns it can use; when it names none (SHOW TABLES,
    information_schema) or only describes them, every table as an empty table of its
    schema, so the catalog answers without reading data."""
    if not frames or statement.split(maxsplit=1)[0].upper() in _SCHEMA_ONLY:
        for name in known:
            frame = frames[name] if name in frames else _frame(paths, name)
            yield name, pl.DataFrame(schema=frame.collect_schema()).to_arrow()
        return
    for name, frame in frames.items():
        yield name, _projected(frame, used).collect().to_arrow()


def _projected(frame: pl.LazyFrame, used: set[str] | None) -> pl.LazyFrame:
    """``frame`` with only the columns named in ``used`` (all when ``None``), by position, so
    no name is read as a pattern; at least one column, so counts still count rows."""
    if used is None:
        return frame
    names = frame.collect_schema().names()
    keep = [index for index, name in enumerate(names) if name.lower() in used] or [0]
    return frame.select(pl.nth(keep))


def _parse_tree(con: Any, statement: str) -> dict[str, Any] | None:
    """DuckDB's own parse tree of ``statement`` (``json_serialize_sql``: parsed, not bound,
    nothing read), or ``None`` for a statement it cannot serialize (``EXPLAIN``)."""
    text = con.execute("SELECT json_serialize_sql(?::VARCHAR)", [statement]).fetchone()[0]
    tree: dict[str, Any] = json.loads(text)
    return None if tree.get("error") else tree


def _table_names(tree: dict[str, Any]) -> set[str]:
    """The names of the tables (or CTEs) a parse tree reads, lower case."""
    return {str(node["table_name"]).lower() for node in _nodes(tree)
            if node.get("type") == "BASE_TABLE" and "table_name" in node}


def _columns_used(tree: dict[str, Any], frames: dict[str, pl.LazyFrame]) -> set[str] | None:
    """The column names a statement can use (lower case), or ``None`` when it may use
    columns it does not name: a ``*`` or ``COLUMNS(...)``, a natural join, a pivot, a
    positional or whole-row reference, or a name that is no column (maybe a table alias
    used as a row).

    A superset is fine: columns are only left out of what is registered, never invented."""
    parts, single, aliases, implicit = _references(tree)
    columns = {name.lower() for frame in frames.values()
               for name in frame.collect_schema().names()}
    if implicit or (single - aliases - columns):
        return None
    return parts


def _nodes(tree: object) -> Iterator[dict[str, Any]]:
    """Every object node of a parse tree."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
            yield node


def _references(tree: dict[str, Any]) -> tuple[set[str], set[str], set[str], bool]:
    """(every part of every column reference, the one-part references, the aliases given to
    expressions, whether some node uses columns without naming them), all lower case."""
    parts: set[str] = set()
    single: set[str] = set()
    aliases: set[str] = set()
    implicit = False
    for node in _nodes(tree):
        kind, kind_of_ref = node.get("class"), node.get("type")
        implicit |= (kind in _IMPLICIT or node.get("ref_type") == "NATURAL"
                     or (isinstance(kind_of_ref, str) and kind_of_ref in _IMPLICIT))
        if kind is not None and node.get("alias"):
            aliases.add(str(node["alias"]).lower())
        if kind == "COLUMN_REF":
            names = [str(name).lower() for name in node.get("column_names", [])]
            parts.update(names)
            single.update(names if len(names) == 1 else [])
        parts.update(str(name).lower() for name in node.get("using_columns") or [])
    return parts, single, aliases, implicit


def _frame(paths: AnyPaths, name: str) -> pl.LazyFrame:
    if name == RATED_RUNS_VIEW:
        return read_rated(paths).frame
    return scan_table(paths, name).frame


def _invalid(exc: Exception, known: list[str]) -> InvalidQuery:
    message = _first_line(exc)
    if "disabled by configuration" in message or "Permission Error" in message:
        return InvalidQuery(
            f"{message}: SQL reads only the lake's tables, never files, URLs or extensions "
            "(to read files of a folder you trust, allow it: --allow-dir DIR, "
            "lake.sql(..., allow_dirs=[DIR]))")
    return InvalidQuery(f"{message} (tables: {', '.join(known) or 'none yet'})")


@dataclass(frozen=True)
class TableSummary:
    """A table as SQL sees it (``runlake tables``): its name, whether it is a view computed
    from other tables (``rated_runs``), its records (fresh) and its columns."""

    table: str
    view: bool
    records: int
    columns: tuple[str, ...]


def table_summaries(paths: AnyPaths) -> list[TableSummary]:
    """Every name SQL sees, with fresh record counts and columns, sorted by name."""
    summaries = []
    for name in sorted(_known(paths)):
        frame = _frame(paths, name)
        summaries.append(TableSummary(
            table=name, view=name == RATED_RUNS_VIEW,
            records=int(frame.select(pl.len()).collect().item()),
            columns=tuple(frame.collect_schema().names()),
        ))
    return summaries


@dataclass(frozen=True)
class TableStats:
    """One table at a glance (``runlake stats``)."""

    table: str
    version: int | None
    records: int
    pending: int
    first_event: datetime | None
    last_event: datetime | None
    distinct: dict[str, int]
    unrecognised: dict[str, list[str]] = field(default_factory=dict)


def table_stats(paths: AnyPaths, table: str) -> TableStats:
    """One table at a glance; :class:`~runlake.errors.EmptyLake` if the lake lacks it."""
    view = scan_table(paths, paths.require_table(table))
    return stats_of(table, view)


def stats_of(table: str, view: TableView) -> TableStats:
    schema = view.frame.collect_schema()
    knobs = [k for k in STATS_KNOBS if k in schema]
    vocabulary = [k for k in VOCABULARY_KNOBS if schema.get(k) == pl.String]
    times = "event_time" in schema
    row = view.frame.select(
        pl.len().alias("records"),
        *([pl.col("event_time").min().alias("first"), pl.col("event_time").max().alias("last")]
          if times else []),
        *(pl.col(k).drop_nulls().n_unique().alias(k) for k in knobs),
        *(pl.col(k).drop_nulls().unique().implode().alias(f"values {k}") for k in vocabulary),
    ).collect().row(0, named=True)
    return TableStats(
        table=table, version=view.snapshot.version, records=row["records"],
        pending=view.pending, first_event=row.get("first"), last_event=row.get("last"),
        distinct={k: row[k] for k in knobs},
        unrecognised={k: sorted(v for v in row[f"values {k}"] if not VOCABULARY_KNOBS[k](v))
                      for k in vocabulary},
    )


def compare_table(
    paths: AnyPaths, by: str | Sequence[str], metric: str, *, table: str,
    within: str | Sequence[str] | None, where: str | pl.Expr | None, min_n: int, best: Best,
    baseline: object, scale: ScaleOption, order: Order,
) -> pl.DataFrame:
    """:func:`compare` over a table of the lake (``runs``: joined with its ratings)."""
    paths.require_table(table)
    frame = read_rated(paths).frame if table == RUNS_TABLE else scan_table(paths, table).frame
    return compare(frame, by, metric, within=within, where=where, min_n=min_n, best=best,
                   baseline=baseline, scale=scale, order=order)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
