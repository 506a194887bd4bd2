"""Ratings as a first-class action (lake.rate, runlake rate) and the derived ``rated_runs``
Delta table compaction refreshes, read by other engines (Polars' scan_delta, DuckDB)."""

from __future__ import annotations

import importlib.resources

import polars as pl
import pytest
from deltalake import DeltaTable

import runlake
from tests.helpers import invoke


def ratings_of(frame: pl.LazyFrame | pl.DataFrame) -> dict[str, float | None]:
    rows = frame.lazy().select("run_id", "rating").collect().rows()
    return {run_id: rating for run_id, rating in rows if run_id is not None}


def test_rate_a_run_or_an_image_and_the_latest_wins(rated_lake: runlake.Lake) -> None:
    rated_lake.rate("r3", 2, rater="ana")                 # a run id
    rated_lake.rate("out/1.png", 5, rater="bo")           # an image path, as the run recorded it
    rated_lake.rate("r2", 1, by="run", notes="on second look")
    assert ratings_of(rated_lake.rated_runs()) == {"r1": 5.0, "r2": 1.0, "r3": 2.0, "r4": 3.0}
    ratings = rated_lake.scan("ratings").collect()
    assert ratings.filter(pl.col("image_path") == "out/1.png")["run_id"].to_list() == [None]
    done = invoke("rate", "r4", "4.5", "--rater", "cy", lake=rated_lake.root)
    assert done.returncode == 0 and done.stdout.startswith("rated r4 4.5 (rating record ")
    assert ratings_of(rated_lake.rated_runs())["r4"] == 4.5
    refused = invoke("rate", "r4", "4/5", lake=rated_lake.root)
    assert refused.returncode == 1 and "'4/5' is not a number" in refused.stderr


def test_compaction_writes_rated_runs_for_other_engines(rated_lake: runlake.Lake) -> None:
    rated_lake.compact()
    table = rated_lake.root / "tables" / "rated_runs"
    seen = pl.scan_delta(str(table))
    assert ratings_of(seen) == {"r1": 2.0, "r2": 4.0, "r3": 5.0, "r4": 3.0}
    assert {"sampler", "steps", "rating_source", "n_rating_records"} <= set(
        seen.collect_schema().names())
    assert "payload" not in seen.collect_schema().names()
    version = DeltaTable(str(table)).version()
    rated_lake.compact()                              # nothing moved: nothing rewritten
    assert DeltaTable(str(table)).version() == version
    rated_lake.rate("r1", 4)
    assert ratings_of(pl.scan_delta(str(table)))["r1"] == 2.0    # not compacted yet
    assert ratings_of(rated_lake.sql("SELECT * FROM rated_runs"))["r1"] == 4.0  # SQL: fresh
    rated_lake.compact("ratings")                     # one table: rated_runs unchanged
    assert ratings_of(pl.scan_delta(str(table)))["r1"] == 2.0
    rated_lake.compact()
    assert ratings_of(pl.scan_delta(str(table)))["r1"] == 4.0
    with pytest.raises(runlake.InvalidOption, match="derived from other tables"):
        rated_lake.compact("rated_runs")


def test_duckdb_reads_rated_runs(rated_lake: runlake.Lake) -> None:
    duckdb = pytest.importorskip("duckdb")
    extension = pytest.importorskip("duckdb_extension_delta")
    rated_lake.compact()
    [folder] = list((importlib.resources.files(extension) / "extensions").iterdir())
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute(f"LOAD '{folder / 'delta.duckdb_extension'}'")
    table = rated_lake.root / "tables" / "rated_runs"
    rows = con.execute(f"SELECT sampler, avg(rating) FROM delta_scan('{table}') "
                       "WHERE sampler IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == [("DPM++ 2M", 5.0), ("Euler a", 3.0)]

