"""How compaction keeps the derived ``rated_runs`` table equal to the fresh join: appended to
when only ``runs`` gained rows, replaced when anything else moved, not written at all for a
lake without ratings; real Delta tables, checked through their logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable
from polars.testing import assert_frame_equal

import runlake
from runlake.analysis import refresh_rated_runs
from runlake.compaction import append_derived, made, source
from tests.analysis.helpers import fill_rated


def table_of(lake: runlake.Lake) -> Path:
    return lake.root / "tables" / "rated_runs"


def runs(first: int, count: int, *, day: str = "2026-03-21") -> list[dict[str, object]]:
    """New runs shaped as the fixture's (no new column)."""
    return [{"run_id": f"n{i}", "base_config": {"txt2img": {
                "sampler_name": "Euler a" if i % 2 else "DDIM", "steps": 20 + i, "hr_scale": 1.5}},
             "metadata": {"image_path": f"new/{i}.png"}, "timestamp": f"{day}T10:{i % 60:02d}:00"}
            for i in range(first, first + count)]


def assert_stored_is_fresh(lake: runlake.Lake) -> None:
    """The stored table holds the rows of the fresh join (everything is compacted), once."""
    stored = pl.read_delta(str(table_of(lake)))
    fresh = lake.rated_runs().drop("payload").collect()
    assert sorted(stored.columns) == sorted(fresh.columns)
    fresh = fresh.select(pl.col(name).cast(kind) for name, kind in stored.schema.items())
    assert stored["record_id"].is_unique().all()
    assert_frame_equal(stored.sort("record_id"), fresh.sort("record_id"))


def last_commit(lake: runlake.Lake) -> tuple[str, int]:
    """The write mode of the table's latest commit and the rows it added."""
    table = DeltaTable(str(table_of(lake)))
    log = table_of(lake) / "_delta_log" / f"{table.version():020d}.json"
    actions = [json.loads(line) for line in log.read_text().splitlines()]
    rows = sum(json.loads(a["add"]["stats"])["numRecords"] for a in actions if "add" in a)
    mode = table.history(1)[0]["operationParameters"]["mode"]
    return mode, rows


@pytest.fixture
def compacted(lake: runlake.Lake) -> runlake.Lake:
    fill_rated(lake)
    lake.append("ratings", {"run_id": "ghost", "rating": 3, "timestamp": "2026-03-20T12:00:00"})
    lake.compact()
    assert last_commit(lake) == ("Overwrite", 5)  # 4 runs and the rating of no run
    return lake


def test_only_new_runs_are_appended(compacted: runlake.Lake) -> None:
    compacted.append_many("runs", runs(0, 3))
    compacted.compact()
    assert last_commit(compacted) == ("Append", 3)
    assert_stored_is_fresh(compacted)
    info = made(compacted.paths, "rated_runs")
    assert info is not None and info.sources["runs"] == source(compacted.paths, "runs")


def test_new_ratings_replace_the_table(compacted: runlake.Lake) -> None:
    compacted.append_many("runs", runs(0, 2))
    compacted.rate("r2", 1)
    compacted.compact()
    assert last_commit(compacted) == ("Overwrite", 7)
    assert_stored_is_fresh(compacted)


def test_a_rating_waiting_for_its_run_replaces_the_table(compacted: runlake.Lake) -> None:
    # Both ratings are compacted before their runs: one names a run not compacted yet, one
    # an image a new run overwrites (the link moves from r1 to n7), so old rows change.
    compacted.append_many("ratings", [
        {"run_id": "n5", "rating": 5, "timestamp": "2026-03-21T12:00:00"},
        {"run_id": None, "image_path": "out/1.png", "rating": 1,
         "timestamp": "2026-03-21T12:00:00"}])
    compacted.compact()
    compacted.append_many("runs", [*runs(5, 1), {**runs(7, 1)[0],
                                                 "metadata": {"image_path": "out/1.png"}}])
    compacted.compact()
    assert last_commit(compacted)[0] == "Overwrite"
    assert_stored_is_fresh(compacted)
    stored = pl.read_delta(str(table_of(compacted)))
    assert stored.filter(pl.col("run_id") == "n5")["rating_source"].to_list() == ["linked"]


def test_new_columns_replace_the_table(compacted: runlake.Lake) -> None:
    compacted.append_many("runs", [{**run, "lora": "detail"} for run in runs(0, 2)])
    compacted.compact()
    assert last_commit(compacted) == ("Overwrite", 7)
    assert_stored_is_fresh(compacted)


def test_an_optimize_between_is_passed_over_unless_it_merged_new_files(
        compacted: runlake.Lake) -> None:
    compacted.optimize("runs")                 # changes no row: the next refresh appends
    compacted.append_many("runs", runs(0, 2))
    compacted.compact()
    assert last_commit(compacted) == ("Append", 2)
    compacted.append_many("runs", runs(2, 2))
    compacted.compact("runs")                  # one table: no refresh
    compacted.optimize("runs")                 # merges the new file with older ones
    compacted.compact()
    assert last_commit(compacted)[0] == "Overwrite"
    assert_stored_is_fresh(compacted)


def test_a_rebuild_between_replaces_the_table(compacted: runlake.Lake) -> None:
    compacted.append_many("runs", runs(0, 2))
    compacted.compact("runs")
    compacted.rebuild("runs")
    compacted.compact()
    assert last_commit(compacted)[0] == "Overwrite"
    assert_stored_is_fresh(compacted)


def test_several_compactions_in_a_row_stay_equal(compacted: runlake.Lake) -> None:
    for first in (0, 3, 6):
        compacted.append_many("runs", runs(first, 3, day=f"2026-03-2{first // 3 + 1}"))
        compacted.compact()
        assert last_commit(compacted) == ("Append", 3)
    assert_stored_is_fresh(compacted)


def test_an_append_planned_on_an_old_snapshot_is_refused(compacted: runlake.Lake) -> None:
    before = made(compacted.paths, "rated_runs")
    assert before is not None
    compacted.append_many("runs", runs(0, 1))
    compacted.compact()                        # another refresh commits first
    stale = pl.read_delta(str(table_of(compacted)), version=before.table.version()).head(1)
    with pytest.raises(runlake.CompactionConflict, match="another writer committed"):
        append_derived(compacted.paths, "rated_runs", before.table, [stale], before.sources)
    assert_stored_is_fresh(compacted)


def test_concurrent_compactions_leave_each_run_once(compacted: runlake.Lake) -> None:
    script = ("import sys, runlake\nlake = runlake.Lake(sys.argv[1])\n"
              "for _ in range(3):\n    lake.compact()\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for first in (0, 4):
        compacted.append_many("runs", runs(first, 4))
        workers = [subprocess.Popen([sys.executable, "-c", script, str(compacted.root)],
                                    env=env) for _ in range(2)]
        assert [w.wait(timeout=120) for w in workers] == [0, 0]
    assert refresh_rated_runs(compacted.paths, lock_timeout=10) is None  # up to date
    assert_stored_is_fresh(compacted)


def test_a_lake_without_ratings_gets_no_rated_runs_table(lake: runlake.Lake) -> None:
    lake.append("runs", {"run_id": "r1", "metadata": {"user_rating": 4},
                         "timestamp": "2026-03-20T10:00:00Z"})
    lake.compact()
    assert not table_of(lake).exists()
    # Inside runlake the join is computed fresh: SQL, Lake.rated_runs and the table list work.
    assert lake.sql("SELECT run_id, rating FROM rated_runs").rows() == [("r1", 4.0)]
    assert lake.rated_runs().select("run_id", "rating").collect().rows() == [("r1", 4.0)]
    assert "rated_runs" in [t.table for t in lake.table_summaries()]
    lake.rate("r1", 2)
    lake.compact()                              # the first ratings: the table appears
    seen = pl.scan_delta(str(table_of(lake))).collect()
    assert seen.select("run_id", "rating", "rating_source").rows() == [("r1", 2.0, "linked")]
    assert_stored_is_fresh(lake)
