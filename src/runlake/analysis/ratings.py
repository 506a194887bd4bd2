"""``join_ratings``: attach separate rating records to the runs they judge.

StableNew-style ratings are records of their own, linked to a run by ``run_id`` or only by
``image_path``, while some runs carry a rating themselves. The joined view has one
``rating`` per row whatever its origin, so "mean rating per sampler" is one ``compare``.

Precedence and linking rules:

- A rating record links to the runs with its ``run_id``. When its ``run_id`` is null or
  matches no run, it links by ``image_path`` to the latest run (by ``event_time``) that wrote
  that path: outputs get overwritten, and the file that was rated is the latest run's.
- A linked rating record overrides the run's own rating. Of several linked records the
  latest by ``event_time`` wins (a re-rating corrects the earlier one; ties go to the later
  row of ``ratings``). The judgement moves as a unit: ``rating`` and every ``subscore_*``
  column come from that one record, never a mix of two judgements.
- A rating record that links to no run is kept as a row of its own: StableNew experiment
  ratings carry the knobs themselves, so they still count in a comparison.
- Two columns say where a row's rating came from: ``rating_source`` is ``"linked"``,
  ``"run"`` (the run's own), ``"standalone"`` (an unlinked rating record) or null (an
  unrated run); ``n_rating_records`` counts the rating records linked to the row (0 when
  none, 1 for a standalone record), so re-ratings are visible.

Rows come out as ``runs`` in their order, then the standalone rating records in theirs.
"""

from __future__ import annotations

import polars as pl

from runlake.errors import UnknownColumn

LINK_COLUMNS = ("run_id", "image_path", "event_time")

_RUN = "__runlake_run_row"
_RATING = "__runlake_rating_row"
_LINKED = "_linked"


def join_ratings(
    runs: pl.LazyFrame | pl.DataFrame, ratings: pl.LazyFrame | pl.DataFrame
) -> pl.LazyFrame:
    """Runs with the ratings of separate rating records attached, plus unlinked ratings.

    Both frames follow the column contract; they need ``run_id``, ``image_path`` and
    ``event_time``, and ``ratings`` a ``rating`` column. See the module docstring for rules.

    >>> from datetime import datetime
    >>> t = datetime(2026, 3, 20)
    >>> runs = pl.DataFrame({"run_id": ["r1"], "image_path": ["a.png"], "event_time": [t],
    ...                      "sampler": ["Euler a"]})
    >>> ratings = pl.DataFrame({"run_id": [None], "image_path": ["a.png"],
    ...                         "event_time": [t], "rating": [4.0]})
    >>> join_ratings(runs, ratings).select("sampler", "rating", "rating_source").collect().rows()
    [('Euler a', 4.0, 'linked')]
    """
    runs, ratings = runs.lazy(), ratings.lazy()
    judged = _judgement_columns(ratings.collect_schema())
    _require(runs.collect_schema(), LINK_COLUMNS)
    runs = _with_null_columns(_string_keys(runs), judged).with_row_index(_RUN)
    ratings = _string_keys(ratings).with_row_index(_RATING)
    links, standalone = _links(runs, ratings, judged)
    latest = links.group_by(_RUN).agg(
        pl.col(judged).sort_by("event_time", _RATING).last().name.suffix(_LINKED),
        n_rating_records=pl.len().cast(pl.Int64),
    )
    rated_runs = _overridden(runs.join(latest, on=_RUN, how="left", maintain_order="left"), judged)
    standalone = standalone.sort(_RATING).drop(_RATING).with_columns(
        rating_source=pl.lit("standalone"), n_rating_records=pl.lit(1, pl.Int64)
    )
    return pl.concat([rated_runs, standalone], how="diagonal_relaxed")


def _judgement_columns(schema: pl.Schema) -> list[str]:
    _require(schema, (*LINK_COLUMNS, "rating"))
    return ["rating", *(name for name in schema.names() if name.startswith("subscore_"))]


def _require(schema: pl.Schema, names: tuple[str, ...]) -> None:
    for name in names:
        if name not in schema:
            raise UnknownColumn(name, [])


def _string_keys(frame: pl.LazyFrame) -> pl.LazyFrame:
    # A key column holding only nulls has dtype Null, which joins with nothing; the contract's
    # keys are strings, so the cast costs nothing otherwise.
    return frame.with_columns(pl.col("run_id", "image_path").cast(pl.String))


def _with_null_columns(frame: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    # A run without a rating column of its own is an unrated run: its judgement is null.
    missing = [name for name in names if name not in frame.collect_schema()]
    return frame.with_columns(pl.lit(None, pl.Float64).alias(name) for name in missing)


def _links(
    runs: pl.LazyFrame, ratings: pl.LazyFrame, judged: list[str]
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(rating rows tagged with the run row they judge, rating rows that judge no run)."""
    by_id = ratings.join(runs.select(_RUN, "run_id"), on="run_id", how="inner")
    unmatched = ratings.join(runs.select("run_id"), on="run_id", how="anti")
    latest_writer = (
        runs.filter(pl.col("image_path").is_not_null())
        .group_by("image_path")
        .agg(pl.col(_RUN).sort_by("event_time", _RUN).last())
    )
    by_path = unmatched.join(latest_writer, on="image_path", how="inner")
    standalone = unmatched.join(latest_writer, on="image_path", how="anti")
    columns = [_RUN, _RATING, "event_time", *judged]
    links = pl.concat([by_id.select(columns), by_path.select(columns)])
    return links, standalone


def _overridden(joined: pl.LazyFrame, judged: list[str]) -> pl.LazyFrame:
    linked = pl.col("n_rating_records").is_not_null()
    source = (
        pl.when(linked).then(pl.lit("linked"))
        .when(pl.col("rating").is_not_null()).then(pl.lit("run"))
    )
    return joined.with_columns(
        *(pl.when(linked).then(pl.col(c + _LINKED)).otherwise(pl.col(c)).alias(c) for c in judged),
        rating_source=source,
        n_rating_records=pl.col("n_rating_records").fill_null(0),
    ).drop(_RUN, *(c + _LINKED for c in judged))
