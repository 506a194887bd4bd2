"""Where things live on disk: the layout, table names, the default root; nothing from a
record ever becomes a path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import runlake
from runlake.storage import LOCK_NAME


def test_layout_on_disk(lake: runlake.Lake) -> None:
    lake.append("runs", {"timestamp": "2026-03-22T00:30:00+01:00"})
    partition = lake.root / "raw" / "runs" / "date=2026-03-21"
    assert sorted(p.name for p in partition.iterdir()) == [LOCK_NAME, "seg-000001.jsonl"]
    line = (partition / "seg-000001.jsonl").read_bytes()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert set(orjson.loads(line)) == {"record_id", "event_time", "ingested_at", "record"}


def test_lake_root_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNLAKE_LAKE", raising=False)
    assert runlake.Lake().root == tmp_path / "lake"  # made absolute: a chdir cannot move it
    assert not (tmp_path / "lake").exists()  # created on first write only
    runlake.Lake().append("runs", {})
    assert (tmp_path / "lake" / "raw" / "runs").is_dir()
    monkeypatch.setenv("RUNLAKE_LAKE", str(tmp_path / "elsewhere"))
    assert runlake.Lake().root == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    "name", ["../etc", "Runs", "a/b", "", "1runs", "_runs", "runs-2", "r" * 64, "runs ", "rüns",
             None, 7],
)
def test_invalid_table_names(lake: runlake.Lake, name: Any) -> None:
    with pytest.raises(runlake.InvalidTableName, match="invalid table name"):
        lake.append(name, {})
    with pytest.raises(runlake.InvalidTableName):
        lake.append_many(name, [{}])
    with pytest.raises(runlake.InvalidTableName):
        lake.writer(name)
    assert not lake.root.exists()


@pytest.mark.parametrize("name", ["runs", "r", "a" + "b" * 62, "job_events_2"])
def test_valid_table_names(lake: runlake.Lake, name: str) -> None:
    lake.append(name, {})
    assert lake.tables() == [name]


def test_nothing_from_a_record_becomes_a_path(lake: runlake.Lake) -> None:
    lake.append("runs", {"record_id": "../../escape", "date": "../x", "table": "/etc",
                         "timestamp": "2026-03-20T00:00:00"})
    files = sorted(p.relative_to(lake.root).as_posix() for p in lake.root.rglob("*")
                   if p.is_file())
    assert files == ["raw/runs/date=2026-03-20/.append.lock",
                     "raw/runs/date=2026-03-20/seg-000001.jsonl"]
