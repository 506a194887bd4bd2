"""Raw segments whose history changed under the lake (issue 10, point 2): truncated by hand,
restored from an older backup, replaced, repaired. Nothing acknowledged is ever skipped:
compaction and scan read such a segment again from its start (dedup by record id drops what
the table holds), report it, and writers rotate away from it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import orjson
import pytest

import runlake
from runlake.compaction.deltatable import METADATA_KEY, commit_info
from runlake.compaction.offsets import snapshot
from runlake.compaction.quarantine import read_resets
from tests.helpers import run_python

TS = "2026-03-20T10:00:00Z"
KEY = "date=2026-03-20/seg-000001.jsonl"
FRESH = """
import sys, runlake
lake = runlake.Lake(sys.argv[1])
print("\\n".join(lake.append("runs", {"n": 200 + i, "timestamp": sys.argv[2]}) for i in range(30)))
"""


def segment(lake: runlake.Lake, number: int = 1) -> Path:
    return lake.root / "raw" / "runs" / "date=2026-03-20" / f"seg-{number:06d}.jsonl"


def ids(lake: runlake.Lake) -> list[str]:
    found: list[str] = lake.scan("runs").select("record_id").collect()["record_id"].to_list()
    return found


def other_lines(tmp_path: Path, count: int, start: int = 0) -> tuple[bytes, list[str]]:
    """Lines another lake wrote (a backup's bytes), and their ids."""
    other = runlake.Lake(tmp_path / "other")
    made = [other.append("runs", {"n": start + i, "timestamp": TS}) for i in range(count)]
    data = b"".join(p.read_bytes() for p in sorted((other.root / "raw").rglob("seg-*")))
    return data, made


def test_appends_after_a_shrink_are_never_skipped(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"n": i, "timestamp": TS} for i in range(50)])
    lake.compact("runs")
    os.truncate(segment(lake), 0)  # a manual truncate
    acked = [lake.append("runs", {"n": 100 + i, "timestamp": TS}) for i in range(30)]
    fresh = run_python(FRESH, str(lake.root), TS)  # a process that never saw the segment
    assert fresh.returncode == 0, fresh.stderr
    acked += fresh.stdout.split()
    assert segment(lake).stat().st_size == 0  # appends went elsewhere
    assert {r.segment.name for r in lake.read_raw("runs")} == {"seg-000002.jsonl"}
    lake.compact("runs")
    lost = set(acked) - set(ids(lake))
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged appends lost"
    assert len(ids(lake)) == 50 + 60


def test_a_segment_restored_with_other_bytes_is_read_again(
        lake: runlake.Lake, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = lake.append_many("runs", [{"n": i, "timestamp": TS} for i in range(50)])
    assert first == 50
    lake.compact("runs")
    offset = snapshot(lake.paths, "runs").offsets[KEY]
    restored, new_ids = other_lines(tmp_path, 60, start=1000)
    assert len(restored) > offset  # it regrew past the committed offset
    with segment(lake).open("r+b") as handle:  # in place: same inode, other bytes
        handle.write(restored)
        handle.truncate()
    assert set(new_ids) <= set(ids(lake))  # the scan reads it again already
    with caplog.at_level(logging.WARNING):
        result = lake.compact("runs").tables[0]
    assert [r.segment for r in result.resets] == [KEY]
    assert "changed" in result.resets[0].reason
    assert (result.records, result.quarantined) == (60, 0)
    assert KEY in caplog.text and "read again" in caplog.text
    assert set(new_ids) <= set(ids(lake)) and len(ids(lake)) == 110
    [entry] = read_resets(lake.paths, "runs")
    assert (entry["segment"], entry["offset"], entry["sequence"]) == (KEY, offset, 2)
    info = commit_info(lake.paths.table_files("runs"), 1)
    assert info is not None and KEY in info[METADATA_KEY]["resets"]
    assert lake.compact("runs").tables[0].resets == ()  # reported once


def test_a_segment_cut_mid_line_and_regrown_loses_nothing(lake: runlake.Lake,
                                                          tmp_path: Path) -> None:
    lake.append_many("runs", [{"n": i, "timestamp": TS} for i in range(40)])
    lake.compact("runs")
    before = ids(lake)
    data = segment(lake).read_bytes()
    cut = data.index(b"\n", len(data) // 2) - 5  # inside a line
    extra, new_ids = other_lines(tmp_path, 30, start=500)
    with segment(lake).open("r+b") as handle:  # a repair kept a prefix; a restore added more
        handle.truncate(cut)
        handle.seek(cut)
        handle.write(b"\n" + extra)
    result = lake.compact("runs").tables[0]
    assert [r.segment for r in result.resets] == [KEY]
    assert result.quarantined == 1  # only the line really cut
    assert result.records == 30 and result.duplicates >= 19  # the prefix was in the table
    assert sorted(ids(lake)) == sorted([*before, *new_ids])


def test_a_shrunk_segment_no_longer_blocks_compaction(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"n": i, "timestamp": TS} for i in range(10)])
    lake.compact("runs")
    os.truncate(segment(lake), 0)
    result = lake.compact("runs").tables[0]  # raised CompactionError before, forever
    assert [r.segment for r in result.resets] == [KEY]
    assert "shrank" in result.resets[0].reason
    assert len(ids(lake)) == 10  # the table keeps what it had


def test_scan_does_not_serve_rows_of_bytes_that_changed(lake: runlake.Lake,
                                                        tmp_path: Path) -> None:
    lake.append_many("runs", [{"n": i, "timestamp": TS} for i in range(5)])
    stale = ids(lake)  # cached in this process
    replaced, new_ids = other_lines(tmp_path, 5, start=5)
    assert len(replaced) == segment(lake).stat().st_size  # same size: only content differs
    with segment(lake).open("r+b") as handle:
        handle.write(replaced)
    assert sorted(ids(lake)) == sorted(new_ids) and not set(stale) & set(ids(lake))
    more, more_ids = other_lines(tmp_path / "more", 3, start=90)
    with segment(lake).open("r+b") as handle:  # truncated and grown past the cached end
        handle.truncate(0)
        handle.write(more + replaced)
    assert sorted(ids(lake)) == sorted([*more_ids, *new_ids])


def test_the_watermark_sends_a_fresh_writer_past_a_shrunk_segment(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"n": i, "timestamp": TS} for i in range(10)])
    lake.compact("runs")
    watermark = orjson.loads((segment(lake).parent / ".committed").read_bytes())
    assert watermark == {"seg-000001.jsonl": segment(lake).stat().st_size}
    os.truncate(segment(lake), 100)
    fresh = run_python(FRESH, str(lake.root), TS)
    assert fresh.returncode == 0, fresh.stderr
    assert segment(lake).stat().st_size == 100
    assert segment(lake, 2).exists()
