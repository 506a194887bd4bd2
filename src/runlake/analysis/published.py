"""The derived ``rated_runs`` Delta table: the runs joined with their ratings, written for
readers outside runlake (``polars.scan_delta``, DuckDB's ``delta_scan``, Spark, Dask), which
otherwise see ``rating`` null on every run whose rating is a separate record.

It is made from the committed versions of ``runs`` and ``ratings`` (no raw tail: a table
version names it), with :func:`~runlake.analysis.join_ratings`'s rules, minus the ``payload``
column (every run's whole record: join ``runs`` on ``record_id`` for it). ``Lake.compact``
refreshes it when either source has a new version; the same versions are never written
twice (see :mod:`runlake.compaction.derived`). A lake whose ratings table is missing or empty
gets no ``rated_runs`` table at all: its runs carry their own ratings, as ``runs`` shows them.

When only ``runs`` moved and the rows it gained are known (compaction appends, see
:func:`~runlake.compaction.appended_files`) and no rating record names one of the new runs
(by ``run_id`` or ``image_path``), the old rows' judgement cannot have changed: the refresh
appends the new runs' rows (their own ratings) and reads nothing else of ``runs``. Otherwise
(new ratings, a rebuild, a schema change, a rating waiting for its run ...) the table is
replaced whole.

For a replacement, the judgement of every run (which rating wins) is computed on the key
columns only; the runs are then joined with it by Polars' streaming engine and streamed to
delta-rs in row groups, the rating records that judge no run last. Memory still grows with
the table (the keys, what the streaming engine and delta-rs hold: +410 MiB on 160 k
StableNew-shaped runs of 118 columns), which is why only a compaction of every table
refreshes it, never ``compact("runs")`` alone, whose memory is bounded by its batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from runlake.analysis.ratings import join_ratings
from runlake.analysis.scan import scan_table
from runlake.compaction import (
    Made,
    Source,
    append_derived,
    appended_files,
    column_types,
    derived_lock,
    has_rows,
    made,
    open_table,
    replace_derived,
    scan_files,
    source,
    up_to_date,
)
from runlake.records import RATED_RUNS_VIEW, RATINGS_TABLE, RUNS_TABLE
from runlake.storage.shared import AnyPaths

PAYLOAD = "payload"
ID = "record_id"
_KEYS = ("run_id", "image_path", "event_time")
_ADDED = ("rating_source", "n_rating_records")
# A lake without a ratings table: every run is joined with no rating record.
_NO_RATINGS = pl.LazyFrame(schema={"run_id": pl.String, "image_path": pl.String,
                                   "event_time": pl.Datetime("us", "UTC"),
                                   "rating": pl.Float64})


def refresh_rated_runs(paths: AnyPaths, *, lock_timeout: float) -> int | None:
    """Bring ``tables/rated_runs`` up to the latest ``runs`` and ``ratings``: append the new
    runs' rows when that is enough, else rewrite it; return its new version (``None``:
    nothing to do, no runs yet, or no ratings and no table)."""
    sources = {name: source(paths, name) for name in (RUNS_TABLE, RATINGS_TABLE)}
    if sources[RUNS_TABLE].version is None:
        return None
    if (not has_rows(paths, RATINGS_TABLE, sources[RATINGS_TABLE].version)
            and open_table(paths.table_files(RATED_RUNS_VIEW)) is None):
        return None  # nothing to join: readers see each run's own rating in ``runs``
    if up_to_date(made(paths, RATED_RUNS_VIEW), sources):  # the common case, without the lock
        return None
    with derived_lock(paths, RATED_RUNS_VIEW, lock_timeout):
        before = made(paths, RATED_RUNS_VIEW)
        if up_to_date(before, sources):  # a concurrent refresh got there first
            return None
        new = None if before is None else _new_rows(paths, before, sources)
        if new is not None and before is not None:
            return append_derived(paths, RATED_RUNS_VIEW, before.table, new.parts(), sources)
        rated = _RatedRuns(_runs(paths, sources), _ratings(paths, sources))
        return replace_derived(paths, RATED_RUNS_VIEW, rated.schema, rated.parts(), sources)


def _runs(paths: AnyPaths, sources: dict[str, Source]) -> pl.LazyFrame:
    return scan_table(paths, RUNS_TABLE, version=sources[RUNS_TABLE].version).frame


def _ratings(paths: AnyPaths, sources: dict[str, Source]) -> pl.LazyFrame:
    version = sources[RATINGS_TABLE].version
    return (_NO_RATINGS if version is None
            else scan_table(paths, RATINGS_TABLE, version=version).frame)


def _new_rows(paths: AnyPaths, before: Made, sources: dict[str, Source]) -> _RatedRuns | None:
    """The rows to append to ``before`` to cover ``sources``, or ``None`` when the table
    must be replaced: ``ratings`` moved, the rows ``runs`` gained are not known one by one,
    a rating record names a new run, or the new rows do not fit the table's columns."""
    runs, was = sources[RUNS_TABLE], before.sources.get(RUNS_TABLE)
    if (before.sources.get(RATINGS_TABLE) != sources[RATINGS_TABLE] or was is None
            or was.id is None or was.id != runs.id or was.version is None
            or runs.version is None):
        return None
    files = appended_files(paths, RUNS_TABLE, was.version, runs.version)
    table = open_table(paths.table_files(RUNS_TABLE), runs.version)
    if files is None or table is None:
        return None
    new_runs = scan_files(paths.table_files(RUNS_TABLE), table, files)
    ratings = _ratings(paths, sources)
    if _named(ratings, new_runs):
        return None
    rated = _RatedRuns(new_runs, ratings.head(0))
    types = column_types(before.table)
    if any(name not in types or dtype not in (types[name], pl.Null)
           for name, dtype in rated.schema.items()):
        return None
    rated.schema = pl.Schema(types)
    return rated


def _named(ratings: pl.LazyFrame, runs: pl.LazyFrame) -> bool:
    """Whether a rating record names one of ``runs`` by ``run_id`` or ``image_path``: it
    would judge that run, or move its link from an older run."""
    keys = runs.select(pl.col("run_id", "image_path").cast(pl.String)).collect()
    linked = (pl.col("run_id").cast(pl.String).is_in(keys["run_id"].drop_nulls().implode())
              | pl.col("image_path").cast(pl.String).is_in(
                  keys["image_path"].drop_nulls().implode()))
    return bool(ratings.filter(linked).select(pl.len()).collect().item() > 0)


class _RatedRuns:
    """The join, planned so that it can be produced one date partition at a time."""

    def __init__(self, runs: pl.LazyFrame, ratings: pl.LazyFrame) -> None:
        self.runs = runs
        schema = runs.collect_schema()
        judged = ["rating", *(n for n in ratings.collect_schema().names()
                              if n.startswith("subscore_"))]
        own = [n for n in (ID, *_KEYS, *judged) if n in schema]
        joined = join_ratings(runs.select(own), ratings).collect()
        self.standalone = joined.filter(pl.col("rating_source") == "standalone").select(
            pl.exclude(PAYLOAD))
        judgement = [n for n in joined.columns if n in {*judged, *_ADDED}]
        self.judged = joined.filter(pl.col("rating_source").ne_missing("standalone")).select(
            ID, *judgement)
        # The runs' own columns, but the judgement, which comes from the join.
        self.kept = [i for i, n in enumerate(schema.names()) if n not in {PAYLOAD, *judgement}]
        self.schema = pl.concat([self._joined().head(0).collect(), self.standalone.head(0)],
                                how="diagonal_relaxed").schema

    def parts(self) -> Iterator[pl.DataFrame]:
        """The rows: the runs with their judgement, batch by batch from Polars' streaming
        engine, then the rating records that judge no run."""
        for batch in self._joined().collect_batches():
            yield self._aligned(batch)
        if not self.standalone.is_empty():
            yield self._aligned(self.standalone)

    def _joined(self) -> pl.LazyFrame:
        return self.runs.select(pl.nth(self.kept)).join(self.judged.lazy(), on=ID, how="left")

    def _aligned(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with the table's columns, in its order and types (missing ones null)."""
        present = {name: i for i, name in enumerate(frame.columns)}
        return frame.select(
            (pl.nth(present[name]) if name in present else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in self.schema.items())
