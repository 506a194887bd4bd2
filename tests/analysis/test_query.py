"""SQL, the rated-runs view, stats, lake.compare and their commands, on real lakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import runlake
from tests.helpers import invoke


def test_rated_runs_links_by_run_id_and_image_path(rated_lake: runlake.Lake) -> None:
    frame = rated_lake.rated_runs().sort("run_id").collect()
    assert frame.select("run_id", "sampler", "rating").rows() == [
        ("r1", "Euler a", 2.0), ("r2", "Euler a", 4.0), ("r3", "DPM++ 2M", 5.0),
        ("r4", None, 3.0)]


def test_compare_keeps_a_missing_knob_apart(rated_lake: runlake.Lake) -> None:
    frame = rated_lake.compare("sampler", min_n=1)
    assert frame.select("sampler", "n", "mean", "rank", "knob_missing").rows() == [
        ("DPM++ 2M", 1, 5.0, 1, False), ("Euler a", 2, 3.0, 2, False), (None, 1, 3.0, None, True)]
    assert rated_lake.compare("sampler")["rank"].to_list() == [None, None, None]  # min_n 3


def test_compare_by_a_config_path(rated_lake: runlake.Lake) -> None:
    frame = rated_lake.compare("txt2img.hr_scale")
    assert frame.select("txt2img.hr_scale", "n", "mean").rows() == [
        (1.5, 2, 3.5), (2.0, 1, 4.0), (None, 1, 3.0)]


def test_sql_sees_every_table_and_fresh_rows(rated_lake: runlake.Lake) -> None:
    counts = rated_lake.sql(
        "SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM ratings) AS ratings")
    assert counts.rows() == [(4, 3)]
    by_sampler = rated_lake.sql(
        "SELECT sampler, avg(rating) AS mean FROM rated_runs WHERE sampler IS NOT NULL "
        "GROUP BY sampler ORDER BY sampler")
    assert by_sampler.rows() == [("DPM++ 2M", 5.0), ("Euler a", 3.0)]
    with pytest.raises(runlake.InvalidQuery, match="tables: ratings, runs, rated_runs"):
        rated_lake.sql("SELECT * FROM nowhere")


def test_stats(rated_lake: runlake.Lake) -> None:
    stats = rated_lake.stats("runs")
    assert (stats.records, stats.pending, stats.version) == (4, 2, 0)
    assert stats.distinct["sampler"] == 2 and stats.distinct["steps"] == 2
    assert stats.first_event is not None and stats.first_event.isoformat().startswith(
        "2026-03-20T10:00:00")


def test_scan_of_an_empty_lake(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path)
    assert lake.sql("SELECT 1 AS one").rows() == [(1,)]
    assert invoke("stats", lake=tmp_path).returncode == 0


def test_asking_about_a_missing_table_says_so(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path)
    with pytest.raises(runlake.EmptyLake, match="has no table 'runs' yet"):
        lake.compare("sampler")
    with pytest.raises(runlake.EmptyLake, match="has no table 'runs' yet"):
        lake.stats("runs")
    result = invoke("compare", "--by", "sampler", lake=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: the lake at") and "Traceback" not in result.stderr
    assert "nothing to compact" in invoke("compact", lake=tmp_path).stdout
    for maintain in (lake.compact, lake.optimize, lake.vacuum):
        with pytest.raises(runlake.EmptyLake, match="has no table 'runz' yet"):
            maintain("runz")
    assert not (tmp_path / "tables").exists()  # a typo creates nothing


def test_stats_lists_values_the_vocabulary_does_not_recognise(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path)
    lake.append_many("runs", [{"sampler": "dpmpp_2m", "scheduler": "karras"},
                              {"sampler": "my_sampler", "scheduler": "Automatic"},
                              {"sampler": "Euler a", "scheduler": "weird schedule"}])
    stats = lake.stats("runs")
    assert stats.unrecognised == {"sampler": ["my_sampler"], "scheduler": ["weird schedule"]}
    shown = invoke("stats", "runs", "--format", "json", lake=tmp_path)
    [row] = [json.loads(line) for line in shown.stdout.splitlines()]
    assert (row["unrecognised sampler"], row["unrecognised scheduler"]) == (
        "my_sampler", "weird schedule")
    lake.close()
