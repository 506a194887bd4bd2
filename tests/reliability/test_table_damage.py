"""Damage to the table zone (issue 10, point 6): a commit file cut short, a data file gone,
time travel to a version vacuum cleaned up. Each gets one clear line naming what is wrong,
``runlake check`` finds it (exit 1), and ``runlake rebuild`` brings the table back from the
raw zone, unless raw retention removed what it needs (then it says so)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import runlake
from tests.helpers import invoke

DAY_1, DAY_2 = "2026-03-20T10:00:00Z", "2026-03-21T10:00:00Z"


def two_compactions(lake: runlake.Lake) -> set[str]:
    """10 records in one compaction, 50 in a second; their ids."""
    acked = {lake.append("runs", {"n": i, "timestamp": DAY_1}, durability="flush")
             for i in range(10)}
    lake.compact("runs")
    acked |= {lake.append("runs", {"n": i, "timestamp": DAY_2}, durability="flush")
              for i in range(50)}
    lake.compact("runs")
    return acked


def ids(lake: runlake.Lake) -> set[str]:
    found: list[str] = lake.scan("runs").select("record_id").collect()["record_id"].to_list()
    assert len(found) == len(set(found))
    return set(found)


def test_a_commit_cut_short_is_detected_and_rebuilt(lake: runlake.Lake) -> None:
    acked = two_compactions(lake)
    log = lake.paths.table("runs") / "_delta_log" / f"{1:020d}.json"
    log.write_bytes(log.read_bytes().splitlines(keepends=True)[0])  # commit info only
    with pytest.raises(runlake.TableDamaged, match=r"commit 1 .*00000000000000000001\.json"):
        lake.scan("runs")
    with pytest.raises(runlake.TableDamaged, match="runlake rebuild runs"):
        lake.compact("runs")
    stats = invoke("stats", "runs", lake=lake.root)
    assert stats.returncode == 1 and "internal error" not in stats.stderr
    assert len(stats.stderr.strip().splitlines()) == 1
    checked = invoke("check", "runs", lake=lake.root)
    assert checked.returncode == 1
    assert "commit 1" in checked.stdout and "no transaction" in checked.stdout
    rebuilt = invoke("rebuild", "runs", lake=lake.root)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "60 records" in rebuilt.stdout
    assert ids(lake) == acked  # was 10 of 60: 50 silently lost
    assert invoke("check", "runs", lake=lake.root).returncode == 0
    lake.append("runs", {"n": 99, "timestamp": DAY_2})
    assert lake.compact("runs").records == 1  # compaction goes on from the rebuilt version


def test_a_missing_data_file_is_named_and_rebuilt(lake: runlake.Lake) -> None:
    acked = two_compactions(lake)
    victim = next(lake.paths.table("runs").glob("date=2026-03-20/*.parquet"))
    victim.unlink()
    with pytest.raises(runlake.TableDamaged, match=victim.name):
        lake.scan("runs")
    query = invoke("query", "SELECT count(*) FROM runs", lake=lake.root)
    assert query.returncode == 1 and victim.name in query.stderr
    assert "internal error" not in query.stderr
    checked = invoke("check", lake=lake.root)
    assert checked.returncode == 1 and "missing data file" in checked.stdout
    assert lake.rebuild("runs").records == 60
    assert ids(lake) == acked
    assert lake.check("runs").ok


def test_time_travel_to_a_vacuumed_version_says_so(lake: runlake.Lake, tmp_path: Path) -> None:
    two_compactions(lake)
    lake.append_many("runs", [{"n": i, "timestamp": DAY_1} for i in range(5)])
    lake.compact("runs")  # a second file in the first partition: optimize merges the two
    assert lake.optimize("runs").tables[0].files_removed == 2
    lake.vacuum("runs", retention_hours=0)
    with pytest.raises(runlake.InvalidOption, match="version 0 of 'runs' is no longer readable"):
        lake.scan("runs", version=0)
    exported = invoke("export", "table", "--out", str(tmp_path / "out"), "--version", "0",
                      lake=lake.root)
    assert exported.returncode == 1 and "no longer readable" in exported.stderr
    assert "internal error" not in exported.stderr
    assert len(lake.scan("runs", version=3).collect()) == 65  # optimize's version is whole


def test_rebuild_is_refused_where_raw_retention_removed_segments(lake: runlake.Lake) -> None:
    small = runlake.Lake(lake.root, segment_bytes=2048)
    for i in range(40):
        small.append("runs", {"n": i, "timestamp": DAY_1, "pad": "x" * 100})
    small.compact("runs")
    old = time.time() - 3 * 86400
    for segment in lake.paths.segments("runs", "2026-03-20"):
        os.utime(segment, (old, old))
    removed = small.vacuum("runs", raw_retention_days=1).tables[0].raw_segments
    assert removed
    refused = invoke("rebuild", "runs", lake=lake.root)
    assert refused.returncode == 1
    assert "cannot rebuild 'runs'" in refused.stderr and removed[0] in refused.stderr
    checked = lake.check("runs")
    assert checked.ok, checked
    assert any("removed by raw retention" in note for note in checked.tables[0].notes)


def test_check_reports_changed_raw_segments_and_dead_letters(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"n": i, "timestamp": DAY_1} for i in range(10)])
    lake.compact("runs")
    assert lake.check().ok
    segment = lake.paths.segments("runs", "2026-03-20")[0]
    with segment.open("r+b") as handle:
        handle.write(b"{" * 20)  # the bytes before the committed offset changed
    runlake.append.spill(lake.paths.deadletter, "runs", "r-1", {"n": 1}, "disk full")
    [table] = lake.check("runs").tables
    assert any("changed before their committed offset" in p for p in table.problems)
    assert any("deadletter/runs: 1 record" in p for p in table.problems)
    segment.unlink()
    [table] = lake.check("runs").tables
    assert any("not removed by raw retention" in p for p in table.problems)
