"""A shared lake in a real object store (SeaweedFS on 127.0.0.1): hosts ship, every reading
and maintaining command works on it, and a store that ignores If-None-Match is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import polars as pl
import psutil
import pytest

import runlake
from runlake.storage.objects import ObjectStore
from runlake.storage.shared import shared_paths
from runlake.testing import sweep_records
from tests.helpers import invoke
from tests.storage.seaweed import Seaweed, start, start_proxy, stop, stop_proxy


def hosts(tmp_path: Path, count: int = 2) -> list[runlake.Lake]:
    return [runlake.Lake(tmp_path / f"host{i}") for i in range(count)]


def ids(lake: runlake.Lake, table: str = "runs") -> list[str]:
    return sorted(r.record_id for r in lake.read_raw(table))


def test_two_hosts_ship_and_one_compaction_takes_each_record_once(
    tmp_path: Path, shared_url: str
) -> None:
    records = list(sweep_records(2))
    first, second = hosts(tmp_path)
    first.append_many("runs", records[:100])
    second.append_many("runs", records[100:])
    second.append("ratings", {"run_id": "r1", "rating": 4})
    assert first.ship(shared_url).lines == 100
    assert second.ship(shared_url).lines == 45
    assert first.ship(shared_url).objects == 0  # nothing new: nothing shipped twice
    shared = runlake.Lake(shared_url)
    assert shared.tables() == ["ratings", "runs"]
    fresh = shared.scan("runs").collect()  # before any compaction: all of it is the tail
    assert sorted(fresh["record_id"]) == sorted(ids(first) + ids(second))
    result = shared.compact()
    assert (result.records, result.duplicates, result.quarantined) == (145, 0, 0)
    assert shared.compact().records == 0
    table = pl.scan_delta(f"{shared_url}/tables/runs").collect()
    assert sorted(table["record_id"]) == sorted(ids(first) + ids(second))


def test_new_lines_ship_past_what_was_shipped(tmp_path: Path, shared_url: str) -> None:
    [host] = hosts(tmp_path, 1)
    host.append_many("runs", [{"model": "a", "i": i} for i in range(10)])
    host.ship(shared_url)
    shared = runlake.Lake(shared_url)
    shared.compact()
    host.append_many("runs", [{"model": "b", "i": i} for i in range(5)])
    shipped = host.ship(shared_url)
    assert (shipped.objects, shipped.lines) == (1, 5)
    view = shared.scan("runs").collect()  # committed 10 + shipped tail 5
    assert view.height == 15 and view["record_id"].n_unique() == 15
    assert shared.compact().records == 5
    assert shared.scan("runs").collect().height == 15


def test_objects_are_named_by_table_date_host_segment_and_offset(
    tmp_path: Path, shared_url: str
) -> None:
    [host] = hosts(tmp_path, 1)
    host.append("runs", {"model": "a", "timestamp": "2026-03-20T10:00:00Z"})
    size = host.paths.segments("runs", "2026-03-20")[0].stat().st_size
    result = host.ship(shared_url, host="gpu-07")
    host.append("runs", {"model": "b", "timestamp": "2026-03-20T10:00:01Z"})
    host.ship(shared_url, host="gpu-07")
    store = ObjectStore(shared_url)
    keys = [e.name for e in store.entries("raw")]
    assert keys == [f"raw/runs/date=2026-03-20/host=gpu-07/seg-000001/{start:016d}.jsonl"
                    for start in (0, size)]
    assert result.host == "gpu-07"
    assert json.loads((host.root / "ship.json").read_text()) == {"host": "gpu-07",
                                                                "to": shared_url}


def test_large_segments_ship_in_objects_of_whole_lines(tmp_path: Path, shared_url: str) -> None:
    [host] = hosts(tmp_path, 1)
    host.append_many("runs", [{"model": "a", "pad": "x" * 300, "i": i} for i in range(40)])
    shipper = host.shipper(shared_url)
    shipper.limit = 2000  # bytes per object: several objects per segment
    assert shipper.run().objects > 5
    store = ObjectStore(shared_url)
    for entry in store.entries("raw"):
        data = store.get(entry.name) or b""
        assert data.endswith(b"\n") and all(orjson.loads(line) for line in data.splitlines())
    assert runlake.Lake(shared_url).compact().records == 40


def test_a_lake_ships_to_one_shared_lake_under_one_host_id(
    tmp_path: Path, shared_url: str
) -> None:
    [host] = hosts(tmp_path, 1)
    host.append("runs", {"model": "a"})
    host.ship(shared_url)
    with pytest.raises(runlake.InvalidOption, match="ships to"):
        host.ship(shared_url + "-other")
    with pytest.raises(runlake.InvalidOption, match="invalid host id"):
        runlake.Lake(tmp_path / "x").ship(shared_url, host="GPU 7")


def test_a_shared_lake_is_not_appended_to(shared_url: str) -> None:
    shared = runlake.Lake(shared_url)
    with pytest.raises(runlake.InvalidOption, match="shared lake"):
        shared.append("runs", {"model": "a"})
    with pytest.raises(runlake.EmptyLake, match="runlake ship"):
        shared.compact("runs")
    for refused, call in (("rebuild", lambda: shared.rebuild("runs")),
                          ("read_raw", lambda: shared.read_raw("runs")),
                          ("replay_deadletter", shared.replay_deadletter)):
        with pytest.raises(runlake.InvalidOption, match=f"^{refused} works on a local lake only"):
            call()


def test_every_reading_and_maintaining_command_works_on_a_shared_lake(
    tmp_path: Path, shared_url: str
) -> None:
    [host] = hosts(tmp_path, 1)
    host.append_many("runs", sweep_records(2))
    shipped = invoke("ship", "--to", shared_url, lake=host.root)
    assert shipped.returncode == 0, shipped.stderr
    assert "shipped 1 objects (144 lines" in shipped.stdout

    def run(*args: str) -> str:
        done = invoke("--lake", shared_url, *args)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    assert "144" in run("status")
    for _ in range(3):  # several files to merge
        host.append_many("runs", [{"model": "sdxl", "rating": 4}])
        host.ship(shared_url)
        run("compact", "runs")
    assert "147" in run("query", "SELECT count(*) AS n FROM runs")
    assert "Euler a" in run("compare", "--by", "sampler")
    assert "records" in run("stats", "runs")
    assert "rated_runs" in run("tables")
    assert "problem" not in run("check").lower()
    assert len(run("files", "runs").split()) >= 3
    run("optimize", "runs")
    run("vacuum", "runs", "--retention-hours", "0")
    assert run("files", "runs").count("s3://") == 2  # one per date after optimize + vacuum
    run("report", "--out", str(tmp_path / "report.html"))
    assert (tmp_path / "report.html").stat().st_size > 1000
    run("export", "table", "--out", str(tmp_path / "export"))
    assert (tmp_path / "export" / "README.md").is_file()
    appended = invoke("--lake", shared_url, "append", "runs", stdin='{"model": "a"}\n')
    assert appended.returncode == 1 and "runlake ship" in appended.stderr


def test_vacuum_leaves_young_orphans_on_a_shared_lake(tmp_path: Path, shared_url: str) -> None:
    # No lock spans hosts: a file no commit names may be a running compaction's.
    [host] = hosts(tmp_path, 1)
    host.append("runs", {"model": "a"})
    host.ship(shared_url)
    shared = runlake.Lake(shared_url)
    shared.compact()
    files = shared_paths(shared_url).table_files("runs")
    files.create("date=2026-01-01/part-orphan.zstd.parquet", b"not yet committed")
    assert shared.vacuum("runs").tables[0].orphans == ()
    assert shared.vacuum("runs", retention_hours=0).tables[0].orphans == (
        "date=2026-01-01/part-orphan.zstd.parquet",)
    assert files.read("date=2026-01-01/part-orphan.zstd.parquet") is None


@pytest.fixture
def ignoring_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A store that ignores If-None-Match: a second SeaweedFS (without authentication, or
    the dropped header would break the request's signature) behind a proxy that drops it."""
    server = start(tmp_path / "careless", auth=False)
    proxy = start_proxy(server.endpoint, "If-None-Match")
    try:
        for name, value in server.env(proxy.endpoint).items():
            monkeypatch.setenv(name, value)
        yield server.url()
    finally:
        stop_proxy(proxy)
        stop(server)


def test_a_store_ignoring_if_none_match_is_refused(tmp_path: Path, ignoring_store: str) -> None:
    [host] = hosts(tmp_path, 1)
    host.append("runs", {"model": "a"})
    with pytest.raises(runlake.UnsafeStore, match="ignores If-None-Match"):
        host.ship(ignoring_store)
    refused = invoke("--lake", ignoring_store, "compact")
    assert refused.returncode == 1
    assert "ignores If-None-Match" in refused.stderr and "Traceback" not in refused.stderr
    assert ObjectStore(ignoring_store).entries() == []  # nothing shipped, nothing committed


def test_seaweed_listens_on_loopback_only(seaweed: Seaweed) -> None:
    listening = [c.laddr for c in psutil.Process(seaweed.process.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening and {address.ip for address in listening} == {"127.0.0.1"}


def test_raw_retention_on_a_shipping_host_waits_for_the_shared_lake(
    tmp_path: Path, shared_url: str
) -> None:
    host = runlake.Lake(tmp_path / "host", segment_bytes=2000)
    for i in range(20):  # segments rotate between appends
        host.append("runs", {"model": "a", "pad": "x" * 300, "i": i,
                             "timestamp": "2026-03-20T10:00:00Z"})
    segments = host.paths.segments("runs", "2026-03-20")
    assert len(segments) > 3

    def removed() -> tuple[str, ...]:
        # By name: a compaction of every table also writes the derived table rated_runs.
        [runs] = [t for t in host.vacuum(raw_retention_days=0).tables if t.table == "runs"]
        return runs.raw_segments

    host.ship(shared_url)
    host.compact()  # compacted here, but the shared lake has not compacted it yet
    assert removed() == ()
    runlake.Lake(shared_url).compact()
    assert removed() == tuple(f"date=2026-03-20/{s.name}" for s in segments[:-1])
    assert [s.exists() for s in segments] == [False] * (len(segments) - 1) + [True]
    assert runlake.Lake(shared_url).scan("runs").collect().height == 20
    assert host.scan("runs").collect().height == 20  # the local table has them too
