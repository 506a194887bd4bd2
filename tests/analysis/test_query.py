"""SQL, the rated-runs view, stats, lake.compare and their commands, on real lakes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest

import runlake
from conftest import run_cli

RUNS = [
    {"run_id": "r1", "base_config": {"txt2img": {"sampler_name": "Euler a", "steps": 20,
                                                 "hr_scale": 1.5}},
     "metadata": {"image_path": "out/1.png"}, "timestamp": "2026-03-20T10:00:00"},
    {"run_id": "r2", "base_config": {"txt2img": {"sampler_name": "Euler a", "steps": 30,
                                                 "hr_scale": 2.0}},
     "metadata": {"image_path": "out/2.png"}, "timestamp": "2026-03-20T10:01:00"},
    {"run_id": "r3", "base_config": {"txt2img": {"sampler_name": "DPM++ 2M Karras",
                                                 "steps": 30, "hr_scale": 1.5}},
     "metadata": {"image_path": "out/3.png", "user_rating": 5},
     "timestamp": "2026-03-20T10:02:00"},
    {"run_id": "r4", "base_config": {"txt2img": {"steps": 30}},
     "metadata": {"image_path": "out/4.png"}, "timestamp": "2026-03-20T10:03:00"},
]
RATINGS = [
    {"run_id": "r1", "rating": 2, "timestamp": "2026-03-20T11:00:00"},
    {"run_id": None, "image_path": "out/2.png", "rating": 4, "timestamp": "2026-03-20T11:00:00"},
    {"run_id": "r4", "rating": 3, "timestamp": "2026-03-20T11:00:00"},
]


@pytest.fixture
def rated_lake(lake: runlake.Lake) -> runlake.Lake:
    lake.append_many("runs", RUNS[:2])
    lake.compact("runs")
    lake.append_many("runs", RUNS[2:])  # half compacted, half in the raw tail
    lake.append_many("ratings", RATINGS)
    return lake


def test_rated_runs_links_by_run_id_and_image_path(rated_lake: runlake.Lake) -> None:
    frame = rated_lake.rated_runs().sort("run_id").collect()
    assert frame.select("run_id", "sampler", "rating").rows() == [
        ("r1", "Euler a", 2.0), ("r2", "Euler a", 4.0), ("r3", "DPM++ 2M", 5.0),
        ("r4", None, 3.0)]


def test_compare_keeps_a_missing_knob_apart(rated_lake: runlake.Lake) -> None:
    frame = rated_lake.compare("sampler")
    assert frame.select("sampler", "n", "mean", "rank", "knob_missing").rows() == [
        ("DPM++ 2M", 1, 5.0, 1, False), ("Euler a", 2, 3.0, 2, False), (None, 1, 3.0, None, True)]


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


def test_compare_command_csv_and_json(rated_lake: runlake.Lake) -> None:
    csv = run_cli("compare", "--by", "sampler", lake=rated_lake.root)
    assert csv.returncode == 0, csv.stderr
    frame = pl.read_csv(io.StringIO(csv.stdout))
    assert frame["sampler"].to_list() == ["DPM++ 2M", "Euler a", None]
    assert frame["mean"].to_list() == [5.0, 3.0, 3.0]
    as_json = run_cli("compare", "--by", "steps", "--format", "json", "--min-n", "2",
                      lake=rated_lake.root)
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [(r["steps"], r["n"]) for r in rows] == [(30, 3)]


def test_compare_command_table_and_errors(rated_lake: runlake.Lake) -> None:
    table = run_cli("compare", "--by", "sampler", "--format", "table", lake=rated_lake.root)
    assert table.returncode == 0
    assert "(missing)" in table.stdout and "95% CI" in table.stdout
    typo = run_cli("compare", "--by", "samplr", lake=rated_lake.root)
    assert typo.returncode == 1
    assert typo.stderr.strip() == "error: no column 'samplr' (nor 'config.samplr'); did you " \
        "mean 'sampler'?"


def test_query_and_stats_commands(rated_lake: runlake.Lake) -> None:
    result = run_cli("query", "SELECT run_id FROM runs ORDER BY run_id", lake=rated_lake.root)
    assert result.stdout.split() == ["run_id", "r1", "r2", "r3", "r4"]
    bad = run_cli("query", "SELEC 1", lake=rated_lake.root)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    stats = run_cli("stats", "runs", "--format", "json", lake=rated_lake.root)
    [row] = [json.loads(line) for line in stats.stdout.splitlines()]
    assert (row["records"], row["pending"], row["distinct sampler"]) == (4, 2, 2)


def test_scan_of_an_empty_lake(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path)
    assert lake.sql("SELECT 1 AS one").rows() == [(1,)]
    assert run_cli("stats", lake=tmp_path).returncode == 0


def test_asking_about_a_missing_table_says_so(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path)
    with pytest.raises(runlake.EmptyLake, match="has no table 'runs' yet"):
        lake.compare("sampler")
    with pytest.raises(runlake.EmptyLake, match="has no table 'runs' yet"):
        lake.stats("runs")
    result = run_cli("compare", "--by", "sampler", lake=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: the lake at") and "Traceback" not in result.stderr
    assert "nothing to compact" in run_cli("compact", lake=tmp_path).stdout
    for maintain in (lake.compact, lake.optimize, lake.vacuum):
        with pytest.raises(runlake.EmptyLake, match="has no table 'runz' yet"):
            maintain("runz")
    assert not (tmp_path / "tables").exists()  # a typo creates nothing
