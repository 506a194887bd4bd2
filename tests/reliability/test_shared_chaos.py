"""Many hosts, one shared lake, processes killed at random: every acknowledged record ends up
in the table exactly once, and a reader scanning throughout never sees one twice or loses one.

Two "hosts" (two local lakes with their own host ids) each run two writer processes; each
host's shipper and two compactors of the shared lake (SeaweedFS on 127.0.0.1) are SIGKILLed
at random instants and started again, while this process scans the shared lake.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest

import runlake
from runlake.storage.shared import shared_paths

WRITERS_PER_HOST = 2
RECORDS = 300  # per writer
BATCH = 10

WRITER = """
import sys, time
import runlake
root, name, acked = sys.argv[1], sys.argv[2], sys.argv[5]
count, batch = int(sys.argv[3]), int(sys.argv[4])
lake = runlake.Lake(root)
with open(acked, "a") as out:
    for start in range(0, count, batch):
        ids = [f"{name}-{i:06d}" for i in range(start, min(count, start + batch))]
        lake.append_many("runs", [{"record_id": r, "model": name, "n": i,
                                   "timestamp": f"2026-03-2{i % 2}T10:00:00Z"}
                                  for i, r in enumerate(ids, start)])
        out.write("".join(r + "\\n" for r in ids))  # acknowledged: append_many returned
        out.flush()
        time.sleep(0.15)
"""

SHIPPER = """
import sys, time
import runlake
shipper = runlake.Lake(sys.argv[1]).shipper(sys.argv[2], host=sys.argv[3])
while True:
    shipper.run()
    time.sleep(0.05)
"""

COMPACTOR = """
import sys, time
import runlake
lake = runlake.Lake(sys.argv[1])
while True:
    try:
        lake.compact("runs")
    except (runlake.CompactionConflict, runlake.EmptyLake):
        pass
    time.sleep(0.05)
"""


def spawn(code: str, *args: str, errors: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL,
                            stderr=errors)


@dataclass
class Chaos:
    """Processes started again and again, each SIGKILLed after a random while."""

    commands: list[tuple[str, ...]]
    rng: random.Random
    kills: int = 0
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        self.running = [spawn(*c) for c in self.commands]
        while not self.stop.wait(self.rng.uniform(1.0, 3.0)):
            index = self.rng.randrange(len(self.running))
            os.kill(self.running[index].pid, signal.SIGKILL)
            self.running[index].wait()
            self.kills += 1
            self.running[index] = spawn(*self.commands[index])

    def end(self) -> None:
        self.stop.set()
        for process in self.running:
            process.kill()
            process.wait()


@pytest.fixture
def chaos() -> Iterator[list[Chaos]]:
    started: list[Chaos] = []
    yield started
    for each in started:
        each.end()


def test_every_acknowledged_record_exactly_once(
    tmp_path: Path, shared_url: str, chaos: list[Chaos]
) -> None:
    hosts = {f"host-{n}": tmp_path / f"host-{n}" for n in "ab"}
    acked = tmp_path / "acked"
    acked.mkdir()
    writers = [spawn(WRITER, str(root), f"{host}-w{w}", str(RECORDS), str(BATCH),
                     str(acked / f"{host}-w{w}"), errors=subprocess.PIPE)
               for host, root in hosts.items() for w in range(WRITERS_PER_HOST)]
    commands: list[tuple[str, ...]] = [(SHIPPER, str(root), shared_url, host)
                                       for host, root in hosts.items()]
    commands += [(COMPACTOR, shared_url)] * 2
    chaos.append(Chaos(commands, random.Random(14)))
    killer = threading.Thread(target=chaos[0].run, daemon=True)
    killer.start()
    log = shared_paths(shared_url).table_files("runs")
    deadline = time.monotonic() + 90  # on a busy machine, a compactor may need a while

    def enough(scans: int) -> bool:
        """The writers are done, and (unless time is up) the reader scanned a few times and
        a compaction committed under the chaos."""
        if any(w.poll() is None for w in writers):
            return False
        return time.monotonic() > deadline or (scans >= 3 and bool(log.entries("_delta_log")))

    scans = reader_until(shared_url, enough)
    chaos[0].end()
    killer.join()
    assert all(w.returncode == 0 for w in writers), [w.stderr.read() for w in writers if w.stderr]
    assert chaos[0].kills >= 3 and scans >= 3 and log.entries("_delta_log")

    for host, root in hosts.items():  # the last lines, shipped and compacted calmly
        runlake.Lake(root).ship(shared_url, host=host)
    shared = runlake.Lake(shared_url)
    shared.compact("runs")
    expected = sorted(line for f in acked.iterdir() for line in f.read_text().split())
    assert len(expected) == len(hosts) * WRITERS_PER_HOST * RECORDS
    table = pl.scan_delta(f"{shared_url}/tables/runs").select("record_id").collect()
    assert sorted(table["record_id"]) == expected  # each once: none lost, none twice
    assert sorted(shared.scan("runs").collect()["record_id"]) == expected
    assert_objects_tile(shared_url)


def reader_until(url: str, done: Callable[[int], bool]) -> int:
    """Scan the shared lake until ``done(scans)``: no record ever twice, none ever lost."""
    seen: set[str] = set()
    scans = 0
    lake = runlake.Lake(url)
    while not done(scans):
        try:
            ids = lake.scan("runs").select("record_id").collect()["record_id"]
        except runlake.EmptyLake:
            continue
        assert ids.n_unique() == len(ids), "a scan saw a record twice"
        now = set(ids)
        assert seen <= now, f"{len(seen - now)} records vanished from a scan"
        seen, scans = now, scans + 1
        time.sleep(0.2)  # leave the cores to the writers, shippers and compactors
    return scans


def assert_objects_tile(url: str) -> None:
    """Each host's segment is shipped as objects that tile it: no gap, no overlap."""
    ends: dict[str, int] = {}
    for shipped in sorted(shared_paths(url).shipped("runs"), key=lambda s: (s.segment_key,
                                                                          s.start)):
        assert shipped.start == ends.get(shipped.segment_key, 0), shipped.key
        ends[shipped.segment_key] = shipped.end
