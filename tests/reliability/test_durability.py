"""What survives a power cut (issue 10, point 7), checked on the real system calls of a real
process: the order of its fsyncs, renames, links and unlinks.

Two tracers see the same run: an LD_PRELOAD shim (compiled here; it logs and passes every
call through) and, where ptrace is allowed, strace. The checks are the same for both:

- an fsync append into a segment a ``"flush"`` append created fsyncs the directories that
  hold it (segment, partition, table, raw/) before it returns;
- a compaction fsyncs its data directories before the commit file is linked into place, and
  the commit file and ``_delta_log/`` after (delta-rs fsyncs neither);
- a quarantine entry is fsynced before its rename, and its directory before the commit;
- optimize's commit and merged file are fsynced;
- vacuum makes the covering commit durable before it unlinks a raw segment, and fsyncs the
  partition after.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.helpers import Event, build_shim, phases, traced

CHILD = r"""
import os, sys, time
from pathlib import Path
import runlake
root = Path(sys.argv[1])
def mark(name):
    try:
        os.unlink(root / f"MARK-{name}")
    except FileNotFoundError:
        pass
lake = runlake.Lake(root, segment_bytes=400)
ts = "2026-03-20T10:00:00Z"
lake.append("runs", {"n": 0, "timestamp": ts}, durability="flush")
mark("fsync-append")
lake.append("runs", {"n": 1, "timestamp": ts}, durability="fsync")
mark("more")
for i in range(2, 8):
    lake.append("runs", {"n": i, "pad": "x" * 100, "timestamp": ts}, durability="flush")
segment = sorted((root / "raw/runs/date=2026-03-20").glob("seg-*"))[-1]
with open(segment, "ab") as handle:
    handle.write(b'{"torn": \n')  # a bad line, for the quarantine
mark("compact")
lake.compact("runs")
mark("more")
lake.append("runs", {"n": 9, "timestamp": ts}, durability="flush")
lake.compact("runs")
mark("optimize")
lake.optimize("runs")
mark("vacuum")
old = time.time() - 3 * 86400
for segment in (root / "raw/runs/date=2026-03-20").glob("seg-*"):
    os.utime(segment, (old, old))
assert lake.vacuum("runs", raw_retention_days=0).tables[0].raw_segments
mark("end")
"""
PARTITION = "raw/runs/date=2026-03-20"
LOG = "tables/runs/_delta_log"


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    return build_shim(tmp_path_factory.mktemp("shim"))


@pytest.fixture(scope="module", params=["shim", "strace"])
def calls(request: pytest.FixtureRequest, shim: Path | None,
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Event]]:
    base = tmp_path_factory.mktemp(f"durability-{request.param}")
    lake = base / "lake"
    events = traced(request.param, CHILD, [str(lake)], base / "calls.log", shim)
    return phases(events, lake)


def at(events: list[Event], call: str, path: str) -> int:
    """Index of the first ``call`` on ``path`` (-1 if none)."""
    return next((i for i, e in enumerate(events) if e == (call, path)), -1)


def synced(events: list[Event]) -> list[str]:
    return [path for call, path in events if call == "fsync"]


def test_fsync_append_into_a_flushed_segment_syncs_its_directories(
        calls: dict[str, list[Event]]) -> None:
    done = synced(calls["fsync-append"])
    assert done[0] == f"{PARTITION}/seg-000001.jsonl"
    assert {PARTITION, "raw/runs", "raw", "."} <= set(done[1:])


def test_a_commit_is_durable_and_finds_its_files(calls: dict[str, list[Event]]) -> None:
    events = calls["compact"]
    commit = f"{LOG}/{0:020d}.json"
    linked = at(events, "link", commit)
    if linked < 0:
        linked = at(events, "rename", commit)
    assert linked >= 0, events
    data_dir = at(events, "fsync", "tables/runs/date=2026-03-20")
    assert 0 <= data_dir < linked  # the data file's entry before the commit naming it
    assert at(events, "fsync", commit) > linked
    assert at(events, "fsync", LOG) > linked
    assert at(events, "fsync", "tables") >= 0  # the table's own entry (first commit)


def test_quarantine_entries_are_durable_before_the_commit(
        calls: dict[str, list[Event]]) -> None:
    events = calls["compact"]
    [(_, entry)] = [e for e in events if e[0] == "rename" and e[1].startswith("quarantine/")]
    renamed = events.index(("rename", entry))
    temporary = [i for i, (call, path) in enumerate(events)
                 if call == "fsync" and path.startswith("quarantine/") and path.endswith(".tmp")]
    assert temporary and temporary[0] < renamed
    directory = at(events, "fsync", str(Path(entry).parent))
    commit = next(i for i, (call, path) in enumerate(events) if path.startswith(f"{LOG}/0"))
    assert renamed < directory < commit


def test_optimize_commit_and_merged_file_are_durable(calls: dict[str, list[Event]]) -> None:
    events = calls["optimize"]
    done = synced(events)
    assert any(p.startswith("tables/runs/date=2026-03-20/part-") for p in done)
    assert any(p.startswith(f"{LOG}/0") for p in done) and LOG in done


def test_raw_retention_removes_only_behind_a_durable_commit(
        calls: dict[str, list[Event]]) -> None:
    events = calls["vacuum"]
    removed = [i for i, (call, path) in enumerate(events)
               if call == "unlink" and path.startswith(f"{PARTITION}/seg-")]
    assert removed
    assert 0 <= at(events, "fsync", LOG) < removed[0]
    assert any(p.startswith(f"{LOG}/0") for p in synced(events[:removed[0]]))
    assert at(events, "fsync", "tables/runs/_runlake/raw_removed.jsonl") < removed[0]
    assert any(call == "fsync" and path == PARTITION for call, path in events[removed[-1]:])
