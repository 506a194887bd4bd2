"""Compaction under real concurrency and real crashes: SIGKILL at random instants while
writers append, two compactors at once, a held lock, and the CLI's exit codes."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

import runlake
from runlake.compaction.offsets import snapshot
from tests.helpers import run_cli, run_python

WRITER = """
import sys, time, runlake
root, name, stop = sys.argv[1], sys.argv[2], sys.argv[3]
lake = runlake.Lake(root, segment_bytes=48 * 1024)
days = ("2026-03-20T10:00:00Z", "2026-03-21T10:00:00Z")
written = 0
while True:
    batch = [{"record_id": f"{name}-{i}", "timestamp": days[i % 2], "model": "m",
              "cfg_scale": 7.5, "i": i, "pad": "x" * 300} for i in range(written, written + 20)]
    lake.append_many("runs", batch, durability="flush")
    written += len(batch)
    if __import__("os").path.exists(stop):
        break
    time.sleep(0.02)
print(written)
"""

COMPACTOR = """
import sys, runlake
lake = runlake.Lake(sys.argv[1])
while True:
    lake.compact("runs", batch_bytes=256 * 1024)
"""


def start(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def table_ids(root: Path) -> list[str]:
    return pl.scan_delta(str(root / "tables" / "runs")).select("record_id").collect()[
        "record_id"].to_list()


@pytest.mark.slow
def test_sigkill_at_random_instants_while_writers_append(lake: runlake.Lake,
                                                         tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    writers = [start(WRITER, str(lake.root), f"w{k}", str(stop)) for k in range(2)]
    rng = random.Random(20260320)
    kills = 0
    try:
        while kills < 30:
            compactor = start(COMPACTOR, str(lake.root))
            time.sleep(rng.uniform(0.5, 2.0))  # importing takes ~0.6 s: some kills land early
            assert compactor.poll() is None, compactor.communicate()[1]
            compactor.send_signal(signal.SIGKILL)
            compactor.wait()
            kills += 1
    finally:
        stop.touch()
        counts = [int(w.communicate(timeout=60)[0]) for w in writers]
    assert all(w.returncode == 0 for w in writers)
    final = lake.compact("runs")
    assert final.quarantined == 0
    ids = table_ids(lake.root)
    expected = {f"w{k}-{i}" for k, n in enumerate(counts) for i in range(n)}
    assert len(ids) == len(set(ids)), "a record was committed twice"
    assert set(ids) == expected, "a record was lost"
    assert snapshot(lake.paths, "runs").sequence >= 1
    # Killed runs leave only uncommitted files behind; vacuum removes exactly those.
    root = lake.root / "tables" / "runs"
    vacuumed = lake.vacuum("runs").tables[0]
    on_disk = {str(p.relative_to(root)) for p in root.glob("date=*/*.parquet")}
    active = {str(Path(u).relative_to(root)) for u in DeltaTable(str(root)).file_uris()}
    assert on_disk == active
    assert not set(vacuumed.orphans) & active
    assert sorted(table_ids(lake.root)) == sorted(ids)


GO = """
import sys, time, os, runlake
root, go = sys.argv[1], sys.argv[2]
while not os.path.exists(go):
    time.sleep(0.005)
result = runlake.Lake(root).compact("runs")
print(result.records)
"""


def test_two_compactions_started_at_once(lake: runlake.Lake, tmp_path: Path) -> None:
    lake.append_many("runs", [{"record_id": f"r{i}", "i": i} for i in range(3000)])
    go = tmp_path / "go"
    runs = [start(GO, str(lake.root), str(go)) for _ in range(2)]
    time.sleep(1.5)  # both have imported runlake and are waiting
    go.touch()
    outputs = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    assert sorted(int(out) for out, _ in outputs) == [0, 3000]
    ids = table_ids(lake.root)
    assert len(ids) == len(set(ids)) == 3000


HOLD = """
import sys, time, runlake
from runlake.storage import table_lock
lake = runlake.Lake(sys.argv[1])
with table_lock(lake.paths, "runs", 5):
    print("held", flush=True)
    time.sleep(30)
"""


def test_a_second_compactor_waits_then_exits_with_code_3(lake: runlake.Lake) -> None:
    lake.append("runs", {"model": "a"})
    holder = start(HOLD, str(lake.root))
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(runlake.LockTimeout, match="another process"):
            lake.compact("runs", lock_timeout=0.3)
        with pytest.raises(runlake.LockTimeout):
            lake.vacuum("runs", lock_timeout=0.3)
        done = run_cli("compact", "runs", "--lock-timeout", "0.3", lake=lake.root)
        assert done.returncode == 3
        assert "being compacted or maintained by another process" in done.stderr
        assert "Traceback" not in done.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lake.compact("runs", lock_timeout=5).records == 1  # a dead holder frees it


def test_polars_reads_the_table_without_runlake(lake: runlake.Lake) -> None:
    lake.append_many("runs", [{"model": "m", "steps": 20 + i % 3} for i in range(30)])
    lake.compact("runs")
    code = (
        "import sys, polars as pl\n"
        "df = pl.scan_delta(sys.argv[1]).group_by('steps').len().sort('steps').collect()\n"
        "print(df.rows())\n"
    )
    done = run_python(code, str(lake.root / "tables" / "runs"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[(20, 10), (21, 10), (22, 10)]"
