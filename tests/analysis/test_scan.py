"""Fresh reads: committed snapshot + uncompacted tail, each record exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

import runlake
from runlake.testing import sweep_records
from tests.helpers import run_python


def ids(frame: pl.LazyFrame) -> list[str]:
    return frame.select("record_id").collect()["record_id"].to_list()


def test_an_append_is_visible_before_compaction(lake: runlake.Lake) -> None:
    record_id = lake.append("runs", {"model": "sdxl", "steps": "28", "cfg scale": 6.5})
    frame = lake.scan("runs").collect()
    assert frame["record_id"].to_list() == [record_id]
    assert frame.select("model", "steps", "cfg_scale").row(0) == ("sdxl", 28, 6.5)


def test_exactly_once_across_compaction(lake: runlake.Lake) -> None:
    first = list(sweep_records(1))
    lake.append_many("runs", first)
    before = sorted(ids(lake.scan("runs")))
    lake.compact("runs")
    after_compaction = sorted(ids(lake.scan("runs")))
    assert before == after_compaction and len(before) == len(first)
    more = lake.append_many("runs", [{"model": "m", "i": i} for i in range(5)])
    mixed = ids(lake.scan("runs"))
    assert len(mixed) == len(set(mixed)) == len(first) + more


def test_a_retried_append_is_seen_once(lake: runlake.Lake) -> None:
    lake.append("runs", {"record_id": "r-1", "steps": 20})
    lake.compact("runs")
    lake.append("runs", {"record_id": "r-1", "steps": 20})  # the retry, now in the tail
    lake.append("runs", {"record_id": "r-2", "steps": 30})
    lake.append("runs", {"record_id": "r-2", "steps": 30})  # twice within the tail
    assert sorted(ids(lake.scan("runs"))) == ["r-1", "r-2"]
    lake.compact("runs")
    assert sorted(ids(lake.scan("runs"))) == ["r-1", "r-2"]


def test_time_travel_reads_an_older_snapshot(lake: runlake.Lake) -> None:
    lake.append("runs", {"record_id": "a"})
    version_a = lake.compact("runs").tables[0].version
    moment = datetime.now(timezone.utc)
    lake.append("runs", {"record_id": "b"})
    lake.compact("runs")
    lake.append("runs", {"record_id": "c"})
    assert sorted(ids(lake.scan("runs"))) == ["a", "b", "c"]
    assert ids(lake.scan("runs", version=version_a)) == ["a"]
    assert ids(lake.scan("runs", as_of=moment)) == ["a"]
    with pytest.raises(runlake.InvalidOption):
        lake.scan("runs", version=0, as_of=moment)


def test_scan_of_an_unknown_table_is_empty_and_a_bad_name_raises(lake: runlake.Lake) -> None:
    assert lake.scan("nothing").collect().height == 0
    with pytest.raises(runlake.InvalidTableName):
        lake.scan("../etc")


READER = r"""
import json, sys, runlake
lake = runlake.Lake(sys.argv[1])
progress = __import__("pathlib").Path(sys.argv[2])
reads = []
for _ in range(int(sys.argv[3])):
    appended_before = int(progress.read_text() or 0)
    seen = lake.scan("runs").select("record_id").collect()["record_id"].to_list()
    appended_after = int(progress.read_text() or 0)
    reads.append([appended_before, len(seen), len(set(seen)), appended_after])
print(json.dumps(reads))
"""


def test_reads_during_concurrent_compactions_see_each_record_once(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    progress = tmp_path / "progress"
    progress.write_text("0")
    lake.append_many("runs", [{"n": -1}])  # the table exists before the reader starts
    total = 1
    reader = subprocess.Popen([sys.executable, "-c", READER, str(lake.root), str(progress), "40"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for round_ in range(12):
        total += lake.append_many("runs", [{"n": round_, "i": i} for i in range(50)])
        progress.write_text(str(total))
        lake.compact("runs")
    out, err = reader.communicate(timeout=600)
    assert reader.returncode == 0, err
    reads = json.loads(out)
    assert len(reads) == 40
    for before, seen, unique, after in reads:
        assert seen == unique  # never a record twice
        assert before <= seen <= max(after, before) + 50  # nothing returned is missing
    assert len(ids(lake.scan("runs"))) == total


def test_a_version_the_table_does_not_have_is_a_clear_error(lake: runlake.Lake) -> None:
    lake.append("runs", {"record_id": "a"})
    with pytest.raises(runlake.InvalidOption, match="no compacted version yet"):
        lake.scan("runs", version=0)
    lake.compact("runs")
    for version in (7, -1):
        with pytest.raises(runlake.InvalidOption, match=r"has no version .* versions 0 to 0"):
            lake.scan("runs", version=version)
    with pytest.raises(runlake.InvalidOption, match="ISO-8601"):
        lake.scan("runs", as_of="not a date")
    assert ids(lake.scan("runs", as_of=datetime.now(timezone.utc).isoformat())) == ["a"]


def test_a_fresh_read_of_the_tail_loads_no_pandas(tmp_path: Path) -> None:
    # pa.table() on delta-rs's add actions imported pandas (0.2-0.5 s) on every first read.
    lake = runlake.Lake(tmp_path / "lake")
    lake.append_many("runs", [{"i": i, "timestamp": f"2026-03-2{i % 3}T00:00:00"}
                              for i in range(30)])
    lake.compact()
    lake.append_many("runs", [{"i": i, "timestamp": f"2026-03-2{i % 4}T00:00:00"}
                              for i in range(30, 50)])
    lake.close()
    code = """
import sys, runlake
frame = runlake.Lake(sys.argv[1]).scan("runs").collect()
print(frame.height, frame["record.i"].sort().to_list() == list(range(50)), "pandas" in sys.modules)
"""
    result = run_python(code, str(lake.root))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["50", "True", "False"]
