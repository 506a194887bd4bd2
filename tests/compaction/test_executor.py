"""Compaction over an Executor: batches decoded, normalized and written by other processes
(a process pool, a Dask LocalCluster on 127.0.0.1), one commit by the coordinator, and the
same table a serial run makes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import runlake
from runlake.compaction.quarantine import read_entries
from tests.storage.test_shared import hosts

BATCH = 8 * 1024  # small batches: many tasks, types widening and columns appearing between them


def fill(lake: runlake.Lake) -> None:
    """Three dates; a column that turns from integers to text; one spelled two ways in
    different batches; a retried record; a bad line."""
    records: list[dict[str, object]] = []
    for i in range(300):
        records.append({"record_id": f"id{i:05d}", "model": "m", "i": i,
                        "timestamp": f"2026-03-{20 + i % 3}T10:00:00Z",
                        "val": i if i < 200 else f"s{i}",
                        "Late" if i == 250 else "late": i if i in (12, 250) else None})
    lake.append_many("runs", records)
    lake.append("runs", {"model": "retried"}, record_id="id00005")
    with lake.paths.segments("runs", "2026-03-20")[0].open("ab") as segment:
        segment.write(b'{"not json\n')


def table(lake: runlake.Lake) -> pl.DataFrame:
    frame = pl.scan_delta(str(lake.root / "tables" / "runs")).collect()
    return frame.drop("ingested_at", "payload").sort("record_id")


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> runlake.Lake:
    lake = runlake.Lake(tmp_path_factory.mktemp("serial"))
    fill(lake)
    lake.compact(batch_bytes=BATCH)
    return lake


@pytest.fixture(scope="module")
def processes() -> Iterator[Executor]:
    # spawn, not fork: a forked child of a process running Polars' threads can deadlock.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def test_a_process_pool_makes_the_table_a_serial_run_makes(
    tmp_path: Path, serial: runlake.Lake, processes: Executor
) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    fill(lake)
    result = lake.compact(batch_bytes=BATCH, executor=processes)
    assert (result.records, result.duplicates, result.quarantined) == (300, 1, 1)
    assert result.tables[0].version == 0  # one commit
    assert_frame_equal(table(lake), table(serial))
    assert [e.offset for e in read_entries(lake.paths, "runs")] == [
        e.offset for e in read_entries(serial.paths, "runs")]
    lake.append("runs", {"model": "later"})  # the next run, on the pool, appends to it
    assert lake.compact(executor=processes).records == 1
    assert lake.scan("runs").collect()["record_id"].n_unique() == 301


def test_a_failed_batch_commits_nothing(tmp_path: Path, processes: Executor) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    fill(lake)
    (lake.root / "tables" / "runs").mkdir(parents=True)
    (lake.root / "tables" / "runs" / "date=2026-03-21").write_text("a file, not a folder")
    with pytest.raises(runlake.StorageError, match="date=2026-03-21"):
        lake.compact(batch_bytes=BATCH, executor=processes)
    assert not (lake.root / "tables" / "runs" / "_delta_log").exists()
    assert lake.scan("runs").collect()["record_id"].n_unique() == 300  # all still pending


def test_a_dask_cluster_compacts_a_shared_lake(tmp_path: Path, shared_url: str) -> None:
    from distributed import Client, LocalCluster  # here: collecting the suite need not load it
    [host] = hosts(tmp_path, 1)
    fill(host)
    host.ship(shared_url)
    # Every listener on 127.0.0.1: the dashboards too (dashboard_address=None still opens
    # 8787 on all interfaces).
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0",
                      memory_limit="2GiB") as cluster, Client(cluster) as client:
        shared = runlake.Lake(shared_url)
        result = shared.compact(batch_bytes=4 * BATCH, executor=client.get_executor())
    assert (result.records, result.duplicates, result.quarantined) == (300, 1, 1)
    assert shared.scan("runs").collect()["record_id"].n_unique() == 300
