"""Compaction: raw lines into a Delta table, once; offsets in the commit; dedup; quarantine;
maintenance. Real files, real Delta tables, read back with Polars from outside runlake."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from deltalake import DeltaTable

import runlake
from runlake.compaction import CompactionProgress, deltatable
from runlake.compaction.deltatable import METADATA_KEY, app_id, commit_info
from runlake.compaction.offsets import pending_slices, segment_key, snapshot
from runlake.compaction.quarantine import read_entries


def table_dir(lake: runlake.Lake, table: str = "runs") -> Path:
    return lake.root / "tables" / table


def read_table(lake: runlake.Lake, table: str = "runs", **kwargs: Any) -> pl.DataFrame:
    """The table as any Polars user reads it: no runlake involved."""
    return pl.scan_delta(str(table_dir(lake, table)), **kwargs).collect()


def samples_records(samples: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in
            (samples / "stablenew_learning_records.jsonl").read_bytes().splitlines()]


def raw_lines(lake: runlake.Lake, table: str = "runs") -> list[bytes]:
    return [line for date in lake.partitions(table) for seg in lake.paths.segments(table, date)
            for line in seg.read_bytes().splitlines()]


def test_rows_match_the_raw_records(lake: runlake.Lake, samples: Path) -> None:
    records = samples_records(samples)
    lake.append_many("runs", records)
    result = lake.compact()
    assert (result.records, result.quarantined, result.duplicates) == (7, 0, 0)
    assert result.partitions == 4
    table = read_table(lake)
    stored = {r.record_id: r.record for r in lake.read_raw("runs")}
    assert sorted(table["record_id"]) == sorted(stored)
    for row in table.iter_rows(named=True):
        line = orjson.loads(row["payload"])
        assert line["record"] == stored[row["record_id"]]
        assert row["date"] == line["event_time"][:10]
    assert sorted(table["payload"].to_list()) == sorted(x.decode() for x in raw_lines(lake))


def test_second_compaction_finds_nothing_and_commits_nothing(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"model": "a"}, {"model": "b"}])
    first = lake.compact("runs").tables[0]
    second = lake.compact("runs").tables[0]
    assert (first.version, first.sequence, first.records) == (0, 1, 2)
    assert (second.version, second.sequence, second.records) == (None, 1, 0)
    assert DeltaTable(str(table_dir(lake))).version() == 0


def test_appends_between_compactions_are_compacted_once(lake: runlake.Lake) -> None:
    for round_ in range(4):
        lake.append_many("runs", [{"model": f"m{round_}", "seq": i} for i in range(25)])
        assert lake.compact("runs").records == 25
    table = read_table(lake)
    assert table.height == 100
    assert table["record_id"].n_unique() == 100
    assert DeltaTable(str(table_dir(lake))).transaction_version(app_id("runs")) == 4


def test_commit_records_offsets_sequence_and_transaction(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"model": "a", "timestamp": "2026-03-20T10:00:00Z"},
                              {"model": "b", "timestamp": "2026-03-21T10:00:00Z"}])
    lake.compact("runs")
    info = commit_info(lake.paths.table_files("runs"), 0)
    assert info is not None
    ours = info[METADATA_KEY]
    segments = {segment_key(s): s.stat().st_size for d in lake.partitions("runs")
                for s in lake.paths.segments("runs", d)}
    assert ours["offsets"] == segments
    assert ours["covered"] == {k: [0, v] for k, v in segments.items()}
    assert (ours["format"], ours["operation"], ours["sequence"]) == (2, "compact", 1)
    assert (ours["records"], ours["quarantined"], ours["duplicates"]) == (2, 0, 0)
    assert DeltaTable(str(table_dir(lake))).transaction_version(app_id("runs")) == 1


def test_snapshot_at_a_version_gives_that_versions_offsets(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"model": "a"}])
    lake.compact("runs")
    v0 = snapshot(lake.paths, "runs")
    lake.append_many("runs", [{"model": "b"}, {"model": "c"}])
    lake.compact("runs")
    latest = snapshot(lake.paths, "runs")
    again = snapshot(lake.paths, "runs", version=0)
    assert (v0.version, v0.sequence) == (again.version, again.sequence) == (0, 1)
    assert again.offsets == v0.offsets
    assert (latest.version, latest.sequence) == (1, 2)
    # What a reader of version 0 must take from the raw zone: exactly what version 1 added.
    tail = pending_slices(lake.paths, "runs", again)
    tail_lines = [ln for s in tail for ln in s.path.read_bytes()[s.start:s.end].splitlines()]
    added = read_table(lake).filter(~pl.col("record_id").is_in(
        read_table(lake, version=0)["record_id"].to_list()))
    assert sorted(orjson.loads(x)["record_id"] for x in tail_lines) == sorted(
        added["record_id"])
    assert pending_slices(lake.paths, "runs", latest) == []


def test_a_torn_tail_is_left_for_later_then_quarantined(lake: runlake.Lake) -> None:
    lake.append("runs", {"model": "a"})
    segment = lake.paths.segments("runs", lake.partitions("runs")[0])[0]
    with segment.open("ab") as handle:
        handle.write(b'{"record_id": "torn", "eve')  # a writer killed mid-write
    first = lake.compact("runs")
    assert (first.records, first.quarantined) == (1, 0)  # the incomplete line is not touched
    lake.append("runs", {"model": "b"}, record_id="after")  # terminates the torn line
    second = lake.compact("runs")
    assert (second.records, second.quarantined) == (1, 1)
    entries = read_entries(lake.paths, "runs")
    assert [e.line for e in entries] == [b'{"record_id": "torn", "eve']
    assert sorted(read_table(lake)["model"]) == ["a", "b"]


def test_bad_lines_go_to_quarantine_and_the_rest_commits(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"model": "a"}, {"model": "b"}])
    segment = lake.paths.segments("runs", lake.partitions("runs")[0])[0]
    bad = [b"not json", b"[1, 2]", b"\xff\xfe\xfd",
           b'{"record_id": 7, "event_time": "2026-03-20T00:00:00Z", "record": {}}',
           b'{"record_id": "t", "event_time": "whenever", "record": {}}',
           b'{"record_id": "r", "event_time": "2026-03-20T00:00:00Z", "record": "x"}']
    start = segment.stat().st_size
    with segment.open("ab") as handle:
        handle.write(b"\n".join(bad) + b"\n")
    lake.append("runs", {"model": "c"})
    result = lake.compact("runs")
    assert (result.records, result.quarantined) == (3, 6)
    entries = read_entries(lake.paths, "runs")
    assert [e.line for e in entries] == bad
    offsets = [start + sum(len(b) + 1 for b in bad[:i]) for i in range(len(bad))]
    assert [e.offset for e in entries] == offsets
    assert {e.segment for e in entries} == {segment_key(segment)}
    assert all(e.reason for e in entries)
    doc = json.loads(next((lake.root / "quarantine" / "runs").rglob("*.json")).read_text())
    assert {"table", "segment", "offset", "length", "reason", "quarantined_at"} <= set(doc)
    assert sorted(read_table(lake)["model"]) == ["a", "b", "c"]


def test_a_crash_between_quarantine_and_commit_does_not_double_count(
    lake: runlake.Lake, monkeypatch: pytest.MonkeyPatch,
) -> None:
    lake.append("runs", {"model": "a"})
    segment = lake.paths.segments("runs", lake.partitions("runs")[0])[0]
    with segment.open("ab") as handle:
        handle.write(b"garbage\nmore garbage\n")

    def crash(*args: object, **kwargs: object) -> int:
        raise OSError("killed before the commit")

    monkeypatch.setattr("runlake.compaction.run.commit", crash)
    with pytest.raises(OSError, match="killed before the commit"):
        lake.compact("runs")
    assert len(read_entries(lake.paths, "runs")) == 2
    assert not list(table_dir(lake).rglob("*.parquet"))  # its files were cleaned up
    monkeypatch.undo()
    result = lake.compact("runs")
    assert (result.records, result.quarantined) == (1, 2)
    assert len(read_entries(lake.paths, "runs")) == 2


def test_a_first_run_with_only_bad_lines_still_commits_its_offsets(lake: runlake.Lake) -> None:
    partition = lake.paths.partition("runs", "2026-03-20")
    partition.mkdir(parents=True)
    (partition / "seg-000001.jsonl").write_bytes(b"garbage\n")
    result = lake.compact("runs").tables[0]
    assert (result.version, result.records, result.quarantined) == (0, 0, 1)
    assert read_table(lake).height == 0
    assert lake.compact("runs").tables[0].quarantined == 0  # not counted twice
    lake.append("runs", {"model": "x"})
    assert lake.compact("runs").records == 1


def test_the_same_record_id_twice_is_kept_once(lake: runlake.Lake) -> None:
    lake.append("runs", {"model": "first"}, record_id="same")
    lake.append("runs", {"model": "retry"}, record_id="same")  # same batch
    assert lake.compact("runs").duplicates == 1
    lake.append("runs", {"model": "late retry"}, record_id="same")  # a later cycle
    lake.append("runs", {"model": "new"}, record_id="other")
    result = lake.compact("runs")
    assert (result.records, result.duplicates) == (1, 1)
    table = read_table(lake)
    assert sorted(table["record_id"]) == ["other", "same"]
    assert table.filter(pl.col("record_id") == "same")["model"].to_list() == ["first"]


def test_duplicates_across_batches_and_dates_of_one_run(lake: runlake.Lake) -> None:
    for day in (20, 21):
        lake.append_many("runs", [{"record_id": f"id{i % 40}", "seq": i,
                                   "timestamp": f"2026-03-{day}T00:00:{i % 60:02d}Z"}
                                  for i in range(100)])
    result = lake.compact("runs", batch_bytes=2048)  # many small batches
    assert (result.records, result.duplicates) == (40, 160)
    table = read_table(lake)
    assert table["record_id"].n_unique() == table.height == 40
    first_seen = table.sort("record_id")["record.seq"].to_list()
    assert first_seen == sorted(range(40), key=lambda i: f"id{i}")


def test_batches_of_any_size_give_the_same_table(lake: runlake.Lake, tmp_path: Path,
                                                 samples: Path) -> None:
    records = samples_records(samples) * 5
    tables = []
    for index, size in enumerate((1, 700, 1 << 20)):
        other = runlake.Lake(tmp_path / f"lake{index}", segment_bytes=4096)
        enveloper_ids = [{**r, "record_id": f"r{i}"} for i, r in enumerate(records)]
        other.append_many("runs", enveloper_ids)
        other.compact("runs", batch_bytes=size)
        frame = read_table(other).drop("ingested_at", "payload").sort("record_id")
        tables.append(frame.select(sorted(frame.columns)))
    assert tables[0].equals(tables[1])
    assert tables[1].equals(tables[2])


def test_progress_is_reported_after_every_batch(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"model": "x" * 200, "i": i} for i in range(200)])
    events: list[CompactionProgress] = []
    lake.compact("runs", progress=events.append, batch_bytes=8192)
    assert len(events) > 3
    done = [e.done_bytes for e in events]
    assert done == sorted(done)
    assert done[-1] == events[-1].total_bytes
    assert events[-1].records == 200


def test_every_table_is_compacted(lake: runlake.Lake) -> None:
    lake.append("runs", {"model": "a"})
    lake.append("jobs", {"job_id": "j", "event": "queued"})
    result = lake.compact()
    assert [t.table for t in result.tables] == ["jobs", "runs"]
    assert read_table(lake, "jobs")["status"].to_list() == ["queued"]


def test_compacting_an_unknown_table_is_an_error_that_creates_nothing(
    lake: runlake.Lake,
) -> None:
    # A mistyped name (or --lake) must not "succeed" with zero rows and leave directories.
    with pytest.raises(runlake.EmptyLake, match="no table 'nothing_here'"):
        lake.compact("nothing_here")
    assert not (lake.root / "tables").exists()
    with pytest.raises(runlake.InvalidTableName):
        lake.compact("../etc")
    with pytest.raises(runlake.InvalidOption):
        lake.compact(batch_bytes=0)


def test_a_stale_compactor_cannot_commit_the_same_sequence(lake: runlake.Lake) -> None:
    """Two writers both read version N and both try to commit sequence N+1: delta-rs's
    application-transaction check makes the second one fail, so nothing is added twice."""
    lake.append("runs", {"model": "a"})
    lake.compact("runs")
    root = table_dir(lake)
    first, second = DeltaTable(str(root)), DeltaTable(str(root))
    types = deltatable.column_types(first)
    sequence = (first.transaction_version(app_id("runs")) or 0) + 1
    arguments: dict[str, Any] = {
        "types": types, "schema_changed": False, "replace_dates": [],
        "transaction": (app_id("runs"), sequence), "metadata": {"offsets": {}},
    }
    files = lake.paths.table_files("runs")
    assert deltatable.commit(files, first, [], **arguments) == 1
    with pytest.raises(runlake.CompactionConflict, match="another writer committed"):
        deltatable.commit(files, second, [], **arguments)
    assert DeltaTable(str(root)).version() == 1


def test_optimize_merges_files_and_keeps_offsets(lake: runlake.Lake) -> None:
    for i in range(5):
        lake.append_many("runs", [{"model": "a", "i": i, "j": j} for j in range(10)])
        lake.compact("runs")
    before = snapshot(lake.paths, "runs")
    files_before = len(DeltaTable(str(table_dir(lake))).file_uris())
    result = lake.optimize("runs").tables[0]
    assert result.files_removed == files_before > 1
    assert result.files_added == 1
    after = snapshot(lake.paths, "runs")
    assert (after.offsets, after.sequence) == (before.offsets, before.sequence)
    assert after.version == before.version + 1
    table = read_table(lake)
    assert table.height == 50
    assert table["record_id"].n_unique() == 50
    lake.append("runs", {"model": "later"})
    assert lake.compact("runs").records == 1  # offsets still right after optimize


def test_vacuum_removes_orphans_from_a_killed_compaction_only(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"model": "a"}, {"model": "b"}])
    lake.compact("runs")
    root = table_dir(lake)
    orphan = root / f"date={lake.partitions('runs')[0]}" / "part-00000002-orphan.zstd.parquet"
    pl.DataFrame({"record_id": ["ghost"]}).write_parquet(orphan)
    listed = lake.vacuum("runs", dry_run=True).tables[0]
    assert listed.orphans == (str(orphan.relative_to(root)),)
    assert orphan.exists()
    done = lake.vacuum("runs").tables[0]
    assert done.orphans == listed.orphans
    assert done.bytes > 0
    assert not orphan.exists()
    assert sorted(read_table(lake)["model"]) == ["a", "b"]
    assert lake.vacuum("runs").tables[0].orphans == ()


def test_vacuum_keeps_raw_data_unless_asked(lake: runlake.Lake, tmp_path: Path) -> None:
    small = runlake.Lake(tmp_path / "small", segment_bytes=600)
    for i in range(10):
        small.append("runs", {"model": "m" * 200, "i": i}, durability="flush")
    small.compact("runs")
    date = small.partitions("runs")[0]
    segments = small.paths.segments("runs", date)
    assert len(segments) > 3
    assert small.vacuum("runs").tables[0].raw_segments == ()
    assert small.vacuum("runs", raw_retention_days=1).tables[0].raw_segments == ()  # too new
    old = time.time() - 3 * 86_400
    for segment in segments:
        os.utime(segment, (old, old))
    removed = small.vacuum("runs", raw_retention_days=1).tables[0].raw_segments
    assert removed == tuple(segment_key(s) for s in segments[:-1])  # never the last one
    assert small.paths.segments("runs", date) == segments[-1:]
    small.append("runs", {"model": "after vacuum"})
    assert small.compact("runs").records == 1
    assert read_table(small).height == 11


def test_vacuum_never_removes_a_raw_segment_with_pending_bytes(tmp_path: Path) -> None:
    small = runlake.Lake(tmp_path / "small", segment_bytes=600)
    for i in range(6):
        small.append("runs", {"model": "m" * 200, "i": i}, durability="flush")
    date = small.partitions("runs")[0]
    old = time.time() - 3 * 86_400
    for segment in small.paths.segments("runs", date):
        os.utime(segment, (old, old))
    assert small.vacuum("runs", raw_retention_days=1).tables[0].raw_segments == ()  # no table
    small.compact("runs")
    small.append_many("runs", [{"model": "x"}])
    before = small.paths.segments("runs", date)
    assert small.vacuum("runs", raw_retention_days=0).tables[0].raw_segments
    assert set(small.paths.segments("runs", date)) <= set(before)
    assert small.compact("runs").records == 1
