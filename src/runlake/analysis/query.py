"""Questions asked of the whole lake: SQL over every table, the rated-runs view, table stats,
and ``compare`` over a table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from runlake.analysis.comparison import Best, Order, ScaleOption, compare
from runlake.analysis.rated import read_rated
from runlake.analysis.ratings import join_ratings
from runlake.analysis.scan import TableView, scan_table
from runlake.errors import InvalidQuery
from runlake.records import RATED_RUNS_VIEW, RATINGS_TABLE, RUNS_TABLE
from runlake.records.vocabulary import known_sampler, known_scheduler
from runlake.storage import LakePaths

# The knobs whose distinct values `stats` counts: what a sweep varies.
STATS_KNOBS = ("model", "sampler", "scheduler", "steps", "cfg_scale", "seed", "width", "height",
               "stage", "prompt", "experiment_id")
# The knobs with a closed vocabulary: `stats` lists their values it does not recognise.
VOCABULARY_KNOBS = {"sampler": known_sampler, "scheduler": known_scheduler}


def _rated(paths: LakePaths, run_frame: pl.LazyFrame, ratings: str) -> pl.LazyFrame:
    if ratings not in paths.table_names():
        return run_frame
    return join_ratings(run_frame, scan_table(paths, ratings).frame)


def sql(paths: LakePaths, query: str) -> pl.DataFrame:
    """Run ``query`` with every table registered by name (and ``rated_runs`` when there is a
    runs table); fresh data, as :meth:`Lake.scan` sees it.

    Only the tables the query names are read: a scan reads its table's raw tail, and a query
    over one table should not pay for the others.
    """
    names = paths.table_names()
    view = RUNS_TABLE in names and RATED_RUNS_VIEW not in names
    known = [*names, RATED_RUNS_VIEW] if view else names
    mentioned = set(re.findall(r"[a-z][a-z0-9_]*", query.lower()))
    frames = {name: scan_table(paths, name).frame for name in names
              if name in mentioned or (name == RUNS_TABLE and RATED_RUNS_VIEW in mentioned)}
    if RATED_RUNS_VIEW in known and RATED_RUNS_VIEW not in names and RATED_RUNS_VIEW in mentioned:
        frames[RATED_RUNS_VIEW] = _rated(paths, frames[RUNS_TABLE], RATINGS_TABLE)
    try:
        return pl.SQLContext(frames).execute(query, eager=True)
    except (pl.exceptions.PolarsError, ValueError) as exc:  # SQL parse, unknown table/column
        raise InvalidQuery(f"{_first_line(exc)} (tables: {', '.join(known) or 'none yet'})") \
            from exc


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


def table_stats(paths: LakePaths, table: str) -> TableStats:
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
    paths: LakePaths, by: str | Sequence[str], metric: str, *, table: str,
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
