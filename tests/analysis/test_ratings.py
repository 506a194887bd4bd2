"""``join_ratings``: linking by run_id then image_path, precedence, standalone ratings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest

import runlake

T0 = datetime(2026, 3, 20, tzinfo=timezone.utc)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def runs() -> pl.LazyFrame:
    """r1 unrated; r2 rated 2 by itself; r3 rated 5 by itself; r4 then r5 wrote d.png."""
    return pl.LazyFrame({
        "run_id": ["r1", "r2", "r3", "r4", "r5"],
        "image_path": ["a.png", "b.png", "c.png", "d.png", "d.png"],
        "event_time": [at(1), at(2), at(3), at(4), at(5)],
        "sampler": ["Euler a", "Euler a", "DPM++ 2M", "UniPC", "UniPC"],
        "rating": [None, 2.0, 5.0, None, None],
    })


def ratings_frame(*records: dict[str, Any]) -> pl.LazyFrame:
    columns = ("run_id", "image_path", "event_time", "rating", "subscore_anatomy", "sampler")
    return pl.LazyFrame(
        {name: [record.get(name) for record in records] for name in columns},
        schema_overrides={"run_id": pl.String, "image_path": pl.String, "sampler": pl.String,
                          "rating": pl.Float64, "subscore_anatomy": pl.Float64},
    )


def joined(runs: pl.LazyFrame, *records: dict[str, Any]) -> list[tuple[Any, ...]]:
    result = runlake.join_ratings(runs, ratings_frame(*records)).collect()
    return result.select("run_id", "rating", "subscore_anatomy", "rating_source",
                         "n_rating_records").rows()


def test_without_rating_records_runs_keep_their_own(runs: pl.LazyFrame) -> None:
    assert joined(runs) == [
        ("r1", None, None, None, 0),
        ("r2", 2.0, None, "run", 0),
        ("r3", 5.0, None, "run", 0),
        ("r4", None, None, None, 0),
        ("r5", None, None, None, 0),
    ]


def test_latest_linked_record_wins_as_a_whole(runs: pl.LazyFrame) -> None:
    # Two ratings of r1: the later one (4, no subscore) replaces the earlier (3, anatomy 2)
    # entirely; its missing subscore is not filled from the older judgement.
    rows = joined(runs,
                  {"run_id": "r1", "event_time": at(20), "rating": 4.0},
                  {"run_id": "r1", "event_time": at(10), "rating": 3.0, "subscore_anatomy": 2.0})
    assert rows[0] == ("r1", 4.0, None, "linked", 2)


def test_equal_times_go_to_the_later_record(runs: pl.LazyFrame) -> None:
    rows = joined(runs,
                  {"run_id": "r1", "event_time": at(10), "rating": 3.0},
                  {"run_id": "r1", "event_time": at(10), "rating": 1.0})
    assert rows[0] == ("r1", 1.0, None, "linked", 2)


def test_linked_record_overrides_the_runs_own_rating(runs: pl.LazyFrame) -> None:
    rows = joined(runs, {"run_id": "r2", "event_time": at(30), "rating": 4.0,
                         "subscore_anatomy": 5.0})
    assert rows[1] == ("r2", 4.0, 5.0, "linked", 1)


def test_image_path_links_when_run_id_is_null_or_unknown(runs: pl.LazyFrame) -> None:
    rows = joined(runs,
                  {"image_path": "c.png", "event_time": at(30), "rating": 1.0},
                  {"run_id": "gone", "image_path": "a.png", "event_time": at(30), "rating": 3.0})
    assert rows[0] == ("r1", 3.0, None, "linked", 1)
    assert rows[2] == ("r3", 1.0, None, "linked", 1)


def test_image_path_links_to_the_latest_run_that_wrote_it(runs: pl.LazyFrame) -> None:
    rows = joined(runs, {"image_path": "d.png", "event_time": at(30), "rating": 2.0})
    assert rows[3:] == [("r4", None, None, None, 0), ("r5", 2.0, None, "linked", 1)]


def test_run_id_takes_precedence_over_image_path(runs: pl.LazyFrame) -> None:
    rows = joined(runs, {"run_id": "r2", "image_path": "a.png", "event_time": at(30),
                         "rating": 1.0})
    assert rows[0] == ("r1", None, None, None, 0)
    assert rows[1] == ("r2", 1.0, None, "linked", 1)


def test_unlinked_ratings_stay_as_rows_with_their_own_knobs(runs: pl.LazyFrame) -> None:
    ratings = ratings_frame(
        {"run_id": "x1", "image_path": "sweep/1.png", "event_time": at(40), "rating": 3.0,
         "sampler": "LMS"},
        {"run_id": None, "image_path": None, "event_time": at(41), "rating": 5.0,
         "sampler": "LMS"},
    )
    result = runlake.join_ratings(runs, ratings).collect()
    assert result.height == 7
    assert result.tail(2).select("run_id", "sampler", "rating", "rating_source",
                                 "n_rating_records").rows() == [
        ("x1", "LMS", 3.0, "standalone", 1), (None, "LMS", 5.0, "standalone", 1)]


def test_mean_rating_per_sampler_whatever_the_rating_came_from(runs: pl.LazyFrame) -> None:
    ratings = ratings_frame(
        {"run_id": "r1", "event_time": at(20), "rating": 4.0},           # Euler a, linked
        {"image_path": "c.png", "event_time": at(30), "rating": 3.0},   # DPM++ 2M, over 5
        {"run_id": "x", "event_time": at(40), "rating": 1.0, "sampler": "UniPC"},  # standalone
    )
    result = runlake.compare(runlake.join_ratings(runs, ratings), "sampler")
    # Euler a: 4 (linked) and 2 (own) -> 3; DPM++ 2M: 3; UniPC: 1, and two unrated runs.
    assert result.select("sampler", "n", "n_missing_metric", "mean").rows() == [
        ("DPM++ 2M", 1, 0, 3.0), ("Euler a", 2, 0, 3.0), ("UniPC", 1, 2, 1.0)]


def test_runs_without_a_rating_column_and_eager_frames() -> None:
    runs = pl.DataFrame({"run_id": ["r1"], "image_path": ["a.png"], "event_time": [at(1)]})
    ratings = pl.DataFrame({"run_id": [None], "image_path": ["a.png"], "event_time": [at(2)],
                            "rating": [4.0]})
    result = runlake.join_ratings(runs, ratings).collect()
    assert result.select("run_id", "rating", "rating_source").rows() == [("r1", 4.0, "linked")]


@pytest.mark.parametrize("missing", ["run_id", "image_path", "event_time", "rating"])
def test_missing_link_columns_are_named(runs: pl.LazyFrame, missing: str) -> None:
    ratings = ratings_frame({"run_id": "r1", "event_time": at(9), "rating": 1.0}).drop(missing)
    with pytest.raises(runlake.UnknownColumn, match=f"'{missing}'"):
        runlake.join_ratings(runs, ratings)
