"""Bounded chaos on one lake (issue 10's acceptance): nothing acknowledged is lost, nothing
is doubled.

Three writer processes (``append`` with fsync one record per call, ``append_many`` batches of
which one in ten is sent again as a retry, ``writer`` flushed every ten records) write into
three partitions with small segments, so segments rotate and raw retention has something to
remove. A maintenance process loops compact, compact, optimize, vacuum with zero retention
(Parquet and raw) and is SIGKILLed at random instants and started again. This process scans
throughout: no scan shows an id twice or misses one acknowledged before it started. At the
end every acknowledged id is in the table exactly once, nothing else is, the scan equals
the table and ``check`` finds nothing wrong.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import runlake

SEGMENT_BYTES = 24 * 1024
COMMON = r"""
import random, sys, time
import runlake
root, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
lake = runlake.Lake(root, segment_bytes=24 * 1024, lock_timeout=120)
days = ("2026-03-20T10:00:00Z", "2026-03-21T10:00:00Z", None)
tried = open(f"{root}/../{name}.try", "a", buffering=1)
acked = open(f"{root}/../{name}.ack", "a", buffering=1)

def record(i):
    return {"record_id": f"{name}-{i}", "timestamp": days[i % 3], "i": i, "pad": "x" * 200}

def log(file, ids):
    file.write("".join(f"{x}\n" for x in ids))
"""
WRITERS = {
    "append": COMMON + r"""
for i in range(count):
    log(tried, [f"{name}-{i}"])
    lake.append("runs", record(i))  # durability "fsync"
    log(acked, [f"{name}-{i}"])
    time.sleep(0.01)
""",
    "many": COMMON + r"""
rng = random.Random(name)
for start in range(0, count, 20):
    batch = [record(i) for i in range(start, start + 20)]
    if start and rng.random() < 0.1:
        batch += [record(i) for i in range(start - 20, start)]  # a retry of the last batch
    log(tried, [r["record_id"] for r in batch])
    lake.append_many("runs", batch)
    log(acked, [r["record_id"] for r in batch])
    time.sleep(0.05)
""",
    "writer": COMMON + r"""
with lake.writer("runs", max_batch=50, flush_interval=0.05) as writer:
    for start in range(0, count, 10):
        ids = [writer.write(record(i)) for i in range(start, start + 10)]
        log(tried, ids)
        writer.flush()
        log(acked, ids)
        time.sleep(0.03)
""",
}
COUNTS = {"append": 1500, "many": 3000, "writer": 2400}
MAINTENANCE = r"""
import random, sys, time
import runlake
lake = runlake.Lake(sys.argv[1], lock_timeout=120)
rng = random.Random()
done = open(sys.argv[2], "a", buffering=1)
while True:
    step = rng.choice(["compact", "compact", "optimize", "vacuum"])
    try:
        if step == "compact":
            lake.compact("runs", batch_bytes=64 * 1024)
        elif step == "optimize":
            lake.optimize("runs")
        else:
            lake.vacuum("runs", retention_hours=0, raw_retention_days=0)
    except runlake.EmptyLake:
        continue
    done.write(step + "\n")
    time.sleep(0.1)
"""


class Maintenance:
    """The maintenance process, SIGKILLed after a random while and started again.

    Each kill while no step completed since the last one doubles the next while (up to a
    minute): on a busy machine a compaction killed every second or two would never finish.
    """

    def __init__(self, root: Path, done: Path, rng: random.Random) -> None:
        self.root, self.done, self.rng = root, done, rng
        self.kills = 0
        self.stop = threading.Event()
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", MAINTENANCE, str(self.root),
                                 str(self.done)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def steps(self) -> list[str]:
        return self.done.read_text().split() if self.done.exists() else []

    def run(self) -> None:
        patience, seen = 1.0, 0
        while not self.stop.wait(self.rng.uniform(0.5, 2.5) * patience):
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.kills += 1
            steps = len(self.steps())
            patience = 1.0 if steps > seen else min(patience * 2, 30.0)
            seen = steps
            self.process = self._start()

    def end(self) -> None:
        self.stop.set()
        self.process.kill()
        self.process.wait()


def ids_in(base: Path, suffix: str) -> list[str]:
    return [line for path in sorted(base.glob(f"*.{suffix}"))
            for line in path.read_text().split()]


@pytest.mark.slow
def test_chaos_every_acknowledged_id_exactly_once(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    runlake.Lake(root).append("runs", {"record_id": "first", "i": 0})
    (tmp_path / "first.try").write_text("first\n")
    (tmp_path / "first.ack").write_text("first\n")
    writers = [subprocess.Popen([sys.executable, "-c", code, str(root), name,
                                 str(COUNTS[name])], stderr=subprocess.PIPE)
               for name, code in WRITERS.items()]
    maintenance = Maintenance(root, tmp_path / "maintenance.done", random.Random(10))
    killer = threading.Thread(target=maintenance.run, daemon=True)
    killer.start()
    lake = runlake.Lake(root)
    scans = errors = 0
    removed = root / "tables" / "runs" / "_runlake" / "raw_removed.jsonl"

    def enough() -> bool:
        """The writers are done, and the reader scanned a few times while every maintenance
        step completed (a segment removed by raw retention too) between the kills."""
        if any(w.poll() is None for w in writers) or scans < 3 or maintenance.kills < 3:
            return False
        steps = set(maintenance.steps())
        return {"compact", "optimize", "vacuum"} <= steps and removed.exists()

    try:
        while not enough():
            acked = set(ids_in(tmp_path, "ack"))  # before the scan starts
            try:
                ids = lake.scan("runs").select("record_id").collect()["record_id"]
            except (runlake.LakeError, FileNotFoundError):
                # Vacuum with zero retention took a file this scan planned to read: found when
                # the scan starts (LakeError) or, between its check and Polars' read, by Polars.
                errors += 1
                continue
            assert ids.n_unique() == len(ids), f"scan {scans} saw a record twice"
            missing = acked - set(ids)
            assert not missing, f"scan {scans} misses {len(missing)}: {sorted(missing)[:3]}"
            scans += 1
            time.sleep(0.2)  # leave the cores to the writers and the maintenance
    finally:
        maintenance.end()
        killer.join()
        for writer in writers:
            writer.wait(timeout=300)
    assert all(w.returncode == 0 for w in writers), [w.stderr.read() for w in writers if w.stderr]

    lake.compact("runs")
    acked, tried = ids_in(tmp_path, "ack"), set(ids_in(tmp_path, "try"))
    table = pl.scan_delta(str(root / "tables" / "runs")).select("record_id").collect()
    committed = table["record_id"].to_list()
    lost, twice = set(acked) - set(committed), len(committed) - len(set(committed))
    assert not lost and not twice and set(committed) <= tried
    assert sorted(lake.scan("runs").collect()["record_id"]) == sorted(committed)
    assert lake.check("runs").ok, lake.check("runs").tables[0].problems
    print(f"chaos: {len(set(acked))} acknowledged ids ({len(acked)} acknowledgements, retries "
          f"included), {maintenance.kills} maintenance kills, {scans} scans ({errors} retried), "
          f"lost {len(lost)}, twice {twice}; maintenance steps done "
          f"{len(maintenance.steps())}, raw segments "
          f"removed {len(removed.read_text().splitlines())}")
