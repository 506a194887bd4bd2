"""Validate before acknowledging, and one bad record never takes others down (issue 10,
points 5 and 8 b-e): a ``record_id=`` argument is checked like a record's own id; a replay
keeps every line it did not append; an integer beyond 64 bits is refused, never rounded; a
timestamp pushed past year 1 or 9999 by its offset is an InvalidRecord; the failsafe writer
never raises, however deep the record; ``runlake append`` rejects a bad line and keeps the
rest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

import runlake
from tests.helpers import invoke

TS = "2026-03-20T10:00:00Z"
BAD_IDS = [12345, "x" * 300, "", "line\nbreak"]


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"d": value}
    return value


@pytest.mark.parametrize("bad", BAD_IDS, ids=["int", "300 chars", "empty", "control"])
def test_a_record_id_argument_is_checked_before_anything_is_acknowledged(
        lake: runlake.Lake, bad: Any) -> None:
    with pytest.raises(runlake.InvalidRecord, match="record_id= must be a non-empty string"):
        lake.append("runs", {"n": 1}, record_id=bad)
    with lake.writer("runs") as writer, pytest.raises(runlake.InvalidRecord, match="record_id"):
        writer.write({"n": 2}, default_id=bad)
    with pytest.raises(runlake.InvalidRecord, match="record_id must be a non-empty string"):
        lake.append("runs", {"n": 3, "record_id": bad})
    assert list(lake.read_raw("runs")) == []  # was: acknowledged, then quarantined
    assert lake.append("runs", {"n": 4}, record_id="kept-as-given") == "kept-as-given"


def spill_entry(record_id: object, record: object = None) -> bytes:
    return orjson.dumps({"table": "runs", "record_id": record_id, "reason": "disk full",
                         "failed_at": TS, "replayable": True,
                         "record": record or {"n": str(record_id), "timestamp": TS}}) + b"\n"


def test_a_replay_keeps_every_line_it_did_not_append(lake: runlake.Lake) -> None:
    spills = lake.paths.deadletter / "runs"
    spills.mkdir(parents=True)
    first, second = spills / "2026-03-20-1.jsonl", spills / "2026-03-20-2.jsonl"
    first.write_bytes(spill_entry("r1") + b"[1, 2]\n" + spill_entry(7) + spill_entry("r2"))
    second.write_bytes(spill_entry("r3") + spill_entry("x" * 300) + spill_entry("r4"))
    result = invoke("replay-deadletter", lake=lake.root)
    assert result.returncode == 1
    assert "replayed 4 records, 3 still failing (kept)" in result.stdout
    assert "2026-03-20-1.jsonl line 2: not a JSON object" in result.stderr
    assert "internal error" not in result.stderr
    stored = sorted(r.record_id for r in lake.read_raw("runs"))
    assert stored == ["r1", "r2", "r3", "r4"]  # was: r1 only, the replay stopped at line 2
    assert first.read_bytes() == b"[1, 2]\n" + spill_entry(7)
    assert second.read_bytes() == spill_entry("x" * 300)  # was: deleted, and quarantined
    lake.compact("runs")
    assert runlake.compaction.read_entries(lake.paths, "runs") == []


def test_integers_beyond_64_bits_are_refused_not_rounded(lake: runlake.Lake) -> None:
    lines = ('{"seed": 123456789012345678901234567890}\n'
             '{"seed": 1234567890123456789}\n{"seed": -9223372036854775809}\n')
    result = invoke("append", "runs", "-", stdin=lines, lake=lake.root)
    assert result.returncode == 1
    assert "line 1: field 'seed': integer beyond 64 bits" in result.stderr
    assert "line 3: field 'seed': integer beyond 64 bits" in result.stderr
    assert [r.record for r in lake.read_raw("runs")] == [{"seed": 1234567890123456789}]
    with pytest.raises(runlake.InvalidRecord, match="integer beyond 64 bits"):
        lake.append("runs", {"seed": 2**70})


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-05:00"])
def test_a_timestamp_pushed_out_of_range_by_its_offset_is_invalid(
        lake: runlake.Lake, stamp: str) -> None:
    record = {"n": 1, "timestamp": stamp}
    for call in (lambda: lake.append("runs", record),
                 lambda: lake.append_many("runs", [record]),
                 lambda: lake.writer("runs").write(record)):
        with pytest.raises(runlake.InvalidRecord, match="outside years 1-9999") as caught:
            call()
        assert caught.value.field == "timestamp"  # was: OverflowError


@pytest.mark.parametrize("depth", [300, 1000, 5000])
def test_the_failsafe_writer_never_raises_however_deep_the_record(
        lake: runlake.Lake, tmp_path: Path, depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    writer = runlake.LearningRecordWriter(lake, fallback_dir=tmp_path / "fallback")
    with caplog.at_level(logging.WARNING):
        record_id = writer.write(deep(depth))  # was: RecursionError from 1000 on
    assert record_id is not None  # was None for 255-999: the record only in the log
    assert (writer.failures, writer.spilled) == (1, 1)
    [spilled] = writer.spill_paths
    [entry] = [orjson.loads(line) for line in spilled.read_bytes().splitlines()]
    assert (entry["record_id"], entry["replayable"]) == (record_id, False)
    assert "nested deeper than 253 levels" in entry["reason"]
    assert entry["record_repr"].startswith("{'d': {'d': ")
    assert "ERROR" not in caplog.text


def test_runlake_append_rejects_the_bad_line_and_keeps_the_rest(lake: runlake.Lake) -> None:
    good = [orjson.dumps({"n": i, "timestamp": TS}).decode() for i in range(7)]
    nested = '{"d":' * 300 + "1" + "}" * 300
    lines = [*good[:3], nested, '{"timestamp": "0001-01-01T00:00:00+01:00"}',
             '{"d":' * 2000 + "1" + "}" * 2000, *good[3:]]
    result = invoke("append", "runs", "-", stdin="\n".join(lines) + "\n", lake=lake.root)
    assert result.returncode == 1
    assert "appended 7 records to 'runs', rejected 3" in result.stdout  # was 0 of 7
    assert "line 4: field 'd.d.d." in result.stderr and "line 5: field 'timestamp'" in result.stderr
    assert "line 6: not valid JSON" in result.stderr
    assert sorted(r.record["n"] for r in lake.read_raw("runs")) == list(range(7))
