"""The derived ``rated_runs`` Delta table: the runs joined with their ratings, written for
readers outside runlake (``polars.scan_delta``, DuckDB's ``delta_scan``, Spark, Dask), which
otherwise see ``rating`` null on every run whose rating is a separate record.

It is made from the committed versions of ``runs`` and ``ratings`` (no raw tail: a table
version names it), with :func:`~runlake.analysis.join_ratings`'s rules, minus the ``payload``
column (every run's whole record: join ``runs`` on ``record_id`` for it). ``Lake.compact``
refreshes it when either source has a new version; the same versions are never written
twice (see :mod:`runlake.compaction.derived`).

The judgement of every run (which rating wins) is computed on the key columns only; the
runs are then joined with it by Polars' streaming engine and streamed to delta-rs in row
groups, the rating records that judge no run last. Memory still grows with the table (the
keys, what the streaming engine and delta-rs hold: +410 MiB on 160 k StableNew-shaped runs of 118
columns), which is why only a compaction of every table refreshes it, never
``compact("runs")`` alone, whose memory is bounded by its batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from runlake.analysis.ratings import join_ratings
from runlake.analysis.scan import scan_table
from runlake.compaction import derived_from, open_table, replace_derived, up_to_date
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
    """Rewrite ``tables/rated_runs`` when ``runs`` or ``ratings`` moved since it was made;
    return its new version (``None``: nothing to do, or no runs yet)."""
    sources = {name: _latest(paths, name) for name in (RUNS_TABLE, RATINGS_TABLE)}
    runs_version, ratings_version = sources[RUNS_TABLE], sources[RATINGS_TABLE]
    if runs_version is None or up_to_date(derived_from(paths, RATED_RUNS_VIEW), sources):
        return None
    runs = scan_table(paths, RUNS_TABLE, version=runs_version).frame
    ratings = (_NO_RATINGS if ratings_version is None
               else scan_table(paths, RATINGS_TABLE, version=ratings_version).frame)
    rated = _RatedRuns(runs, ratings)
    return replace_derived(paths, RATED_RUNS_VIEW, rated.schema, rated.parts(), sources,
                           lock_timeout=lock_timeout)


def _latest(paths: AnyPaths, name: str) -> int | None:
    table = open_table(paths.table_files(name))
    return None if table is None else int(table.version())


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
