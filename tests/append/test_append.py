"""The append path: envelope, partitions, segments, writer, durability modes."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runlake
from runlake.records.envelope import event_time_text, format_time, parse_event_time
from tests.helpers import run_python


def stored(lake: runlake.Lake, table: str = "runs") -> list[runlake.StoredRecord]:
    return list(lake.read_raw(table))


def test_append_returns_id_and_reads_back(lake: runlake.Lake) -> None:
    record = {"model": "sdxl", "steps": 30, "timestamp": "2026-03-20T14:00:11"}
    record_id = lake.append("runs", record)
    [got] = stored(lake)
    assert got.record_id == record_id
    assert got.record == record
    assert got.event_time == datetime(2026, 3, 20, 14, 0, 11, tzinfo=timezone.utc)
    assert lake.tables() == ["runs"]
    assert lake.partitions("runs") == ["2026-03-20"]


def test_generated_ids_are_unique_and_time_ordered(lake: runlake.Lake) -> None:
    ids = [lake.append("runs", {"i": i}, durability="flush") for i in range(2000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_own_record_id_is_kept_for_idempotent_retries(lake: runlake.Lake) -> None:
    assert lake.append("runs", {"record_id": "run-42", "x": 1}) == "run-42"
    assert lake.append("runs", {"x": 2}, record_id="given") == "given"
    assert lake.append("runs", {"record_id": "own", "x": 3}, record_id="ignored") == "own"
    assert [r.record_id for r in stored(lake)] == ["run-42", "given", "own"]


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-03-20T14:00:11", datetime(2026, 3, 20, 14, 0, 11)),
        ("2026-03-20T14:00:11Z", datetime(2026, 3, 20, 14, 0, 11)),
        ("2026-03-21T09:15:02.481Z", datetime(2026, 3, 21, 9, 15, 2, 481000)),
        ("2026-03-22 18:40:00+01:00", datetime(2026, 3, 22, 17, 40)),
        ("2026-03-22T00:30:00+01:00", datetime(2026, 3, 21, 23, 30)),
        ("2026-03-20T23:30:00-05:00", datetime(2026, 3, 21, 4, 30)),
        ("2026-03-20T14:00:11.123456", datetime(2026, 3, 20, 14, 0, 11, 123456)),
        (1774015211, datetime(2026, 3, 20, 14, 0, 11)),
        (1774015211.25, datetime(2026, 3, 20, 14, 0, 11, 250000)),
        (datetime(2026, 3, 20, 14, 0, 11), datetime(2026, 3, 20, 14, 0, 11)),
        (datetime(2026, 3, 22, 0, 30, tzinfo=timezone(timedelta(hours=1))),
         datetime(2026, 3, 21, 23, 30)),
    ],
)
def test_event_time_and_partition_come_from_the_utc_timestamp(
    lake: runlake.Lake, timestamp: object, expected: datetime
) -> None:
    lake.append("runs", {"timestamp": timestamp})
    [got] = stored(lake)
    assert got.event_time == expected.replace(tzinfo=timezone.utc)
    assert lake.partitions("runs") == [expected.date().isoformat()]


def test_missing_timestamp_means_now(lake: runlake.Lake) -> None:
    before = datetime.now(timezone.utc)
    lake.append("runs", {"x": 1})
    after = datetime.now(timezone.utc)
    [got] = stored(lake)
    assert before - timedelta(milliseconds=1) <= got.event_time <= after


@dataclasses.dataclass
class Run:
    run_id: str
    steps: int
    timestamp: str


def test_dataclass_records(lake: runlake.Lake) -> None:
    lake.append("runs", Run("r1", 30, "2026-03-20T14:00:11"))
    [got] = stored(lake)
    assert got.record == {"run_id": "r1", "steps": 30, "timestamp": "2026-03-20T14:00:11"}
    assert lake.partitions("runs") == ["2026-03-20"]


def test_append_many_groups_partitions(lake: runlake.Lake) -> None:
    records = [{"i": i, "timestamp": f"2026-03-{20 + i % 3}T10:00:00"} for i in range(300)]
    assert lake.append_many("runs", records) == 300
    assert lake.partitions("runs") == ["2026-03-20", "2026-03-21", "2026-03-22"]
    got = stored(lake)
    assert sorted(r.record["i"] for r in got) == list(range(300))
    # one locked write per partition: each partition holds its records in input order
    for date in lake.partitions("runs"):
        [segment] = lake.paths.segments("runs", date)
        numbers = [orjson.loads(x)["record"]["i"] for x in segment.read_bytes().splitlines()]
        assert numbers == sorted(numbers)


def test_append_many_is_all_or_nothing_on_a_bad_record(lake: runlake.Lake) -> None:
    records: list[object] = [{"i": 1}, {"i": 2}, "not a record", {"i": 4}]
    with pytest.raises(runlake.InvalidRecord, match=r"record #2.*nothing was written"):
        lake.append_many("runs", records)
    assert stored(lake) == []


def test_append_many_can_skip_bad_records(lake: runlake.Lake) -> None:
    bad: list[tuple[int, str]] = []
    records: list[object] = [{"i": 1}, {"timestamp": "yesterday"}, {"i": 3}]
    written = lake.append_many("runs", records, on_invalid=lambda i, e: bad.append((i, e.field)))
    assert written == 2
    assert bad == [(1, "timestamp")]
    assert sorted(r.record["i"] for r in stored(lake)) == [1, 3]


def test_segments_rotate_without_splitting_records(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path, segment_bytes=4096)
    records = [{"i": i, "pad": "x" * (i % 700), "timestamp": "2026-03-20T00:00:00"}
               for i in range(400)]
    for chunk in range(0, 400, 3):  # batches of at most ~2.7 KB
        lake.append_many("runs", records[chunk:chunk + 3])
    segments = lake.paths.segments("runs", "2026-03-20")
    assert len(segments) > 10
    for segment in segments:
        data = segment.read_bytes()
        assert data.endswith(b"\n")
        assert len(data) <= 4096
        for line in data.splitlines():
            orjson.loads(line)  # every line is a whole record
    assert sorted(r.record["i"] for r in stored(lake)) == list(range(400))


def test_a_batch_larger_than_a_segment_goes_whole_into_a_fresh_one(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path, segment_bytes=1000)
    lake.append("runs", {"timestamp": "2026-03-20T00:00:00"})
    lake.append_many("runs", [{"pad": "y" * 500, "timestamp": "2026-03-20T00:00:00"}] * 4)
    first, second = lake.paths.segments("runs", "2026-03-20")
    assert first.read_bytes().count(b"\n") == 1
    assert second.read_bytes().count(b"\n") == 4


def test_torn_tail_is_terminated_not_glued(lake: runlake.Lake) -> None:
    lake.append("runs", {"i": 1, "timestamp": "2026-03-20T00:00:00"})
    [segment] = lake.paths.segments("runs", "2026-03-20")
    with segment.open("ab") as handle:  # what a writer killed mid-write leaves behind
        handle.write(b'{"record_id":"torn","event_time":"2026-03-20T00:0')
    scan = lake.read_raw("runs")
    assert [r.record["i"] for r in scan] == [1]  # the incomplete tail is not read
    assert scan.corrupt == []
    lake.append("runs", {"i": 2, "timestamp": "2026-03-20T00:00:00"})
    lines = segment.read_bytes().splitlines()
    assert lines[1].startswith(b'{"record_id":"torn"') and lines[1].endswith(b"0")
    assert orjson.loads(lines[2])["record"]["i"] == 2
    scan = lake.read_raw("runs")
    assert [r.record["i"] for r in scan] == [1, 2]
    [corrupt] = scan.corrupt
    assert corrupt.offset == len(lines[0]) + 1
    assert corrupt.segment == str(segment)
    with pytest.raises(runlake.CorruptLine, match=r"seg-000001\.jsonl at byte \d+"):
        list(lake.read_raw("runs", strict=True))


def test_reader_ignores_bytes_appended_after_it_started(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"i": i, "timestamp": "2026-03-20T00:00:00"} for i in range(3)])
    scan = iter(lake.read_raw("runs"))
    first = next(scan)
    lake.append("runs", {"i": 99, "timestamp": "2026-03-20T00:00:00"})
    assert [first.record["i"], *(r.record["i"] for r in scan)] == [0, 1, 2]


def test_writer_group_commits_and_flushes(lake: runlake.Lake) -> None:
    with lake.writer("runs", max_batch=50, flush_interval=None) as writer:
        for i in range(49):
            writer.write({"i": i, "timestamp": "2026-03-20T00:00:00"})
        assert writer.pending == 49 and stored(lake) == []
        writer.write({"i": 49, "timestamp": "2026-03-20T00:00:00"})  # the 50th flushes
        assert writer.pending == 0 and len(stored(lake)) == 50
        writer.write({"i": 50, "timestamp": "2026-03-21T00:00:00"})
    assert len(stored(lake)) == 51
    with pytest.raises(runlake.LakeError, match="closed"):
        writer.write({"late": True})


def test_writer_flushes_on_its_interval(lake: runlake.Lake) -> None:
    with lake.writer("runs", flush_interval=0.05) as writer:
        writer.write({"i": 1})
        for _ in range(400):
            if writer.pending == 0:
                break
            threading.Event().wait(0.01)
        assert writer.pending == 0
        assert len(stored(lake)) == 1


def test_writer_is_thread_safe(lake: runlake.Lake) -> None:
    with lake.writer("runs", max_batch=37) as writer:
        def work(worker: int) -> None:
            for i in range(500):
                writer.write({"w": worker, "i": i, "timestamp": f"2026-03-2{i % 3}T00:00:00"})
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    got = stored(lake)
    assert len(got) == 4000
    assert len({(r.record["w"], r.record["i"]) for r in got}) == 4000


def test_writer_and_deferred_appends_flush_at_interpreter_exit(tmp_path: Path) -> None:
    code = """
import sys, runlake
lake = runlake.Lake(sys.argv[1])
w = lake.writer("runs", flush_interval=None)
for i in range(10):
    w.write({"i": i})
lake.append("events", {"deferred": True}, durability="none")
"""
    result = run_python(code, str(tmp_path))
    assert result.returncode == 0, result.stderr
    lake = runlake.Lake(tmp_path)
    assert sorted(r.record["i"] for r in lake.read_raw("runs")) == list(range(10))
    assert [r.record for r in lake.read_raw("events")] == [{"deferred": True}]


def test_durability_none_buffers_until_flush(lake: runlake.Lake) -> None:
    lake.append("runs", {"i": 1}, durability="none")
    assert stored(lake) == []
    lake.flush()
    assert [r.record for r in stored(lake)] == [{"i": 1}]


def test_unknown_durability_is_rejected(lake: runlake.Lake) -> None:
    with pytest.raises(runlake.InvalidOption, match="durability"):
        lake.append("runs", {}, durability="sometimes")  # type: ignore[arg-type]


def test_status_counts(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"timestamp": f"2026-03-2{i % 2}T00:00:00"} for i in range(10)])
    lake.append("jobs", {"timestamp": "2026-04-01T00:00:00"})
    status = lake.status()
    assert [t.name for t in status.tables] == ["jobs", "runs"]
    runs = status.tables[1]
    assert (runs.partitions, runs.segments, runs.records) == (2, 2, 10)
    assert (runs.first_date, runs.last_date) == ("2026-03-20", "2026-03-21")
    assert status.records == 11
    assert status.bytes == sum(p.stat().st_size for p in lake.root.rglob("*.jsonl"))


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
       spelling=st.sampled_from(["{}", "{}Z", "{}+00:00", "{}-00:00", "{}+01:30"]),
       micros=st.booleans())
def test_fast_timestamp_path_agrees_with_the_general_one(
    moment: datetime, spelling: str, micros: bool
) -> None:
    text = spelling.format(moment.isoformat(timespec="microseconds" if micros else "seconds"))
    general = format_time(parse_event_time(text))
    assert event_time_text(text) == general
