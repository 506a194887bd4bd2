"""A writer SIGKILLed mid-write loses nothing it acknowledged and glues nothing to a torn line."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import runlake

# Only the envelope the lake writes has this key, so it counts records in a line.
ENVELOPE_MARK = b'"event_time":'

WRITER = r"""
import os, sys
import runlake

lake = runlake.Lake(sys.argv[1], segment_bytes=8 * 1024 * 1024)
run = sys.argv[2]
out = os.fdopen(1, "w", buffering=1)
big = "b" * 200_000
n = 0
while True:
    n += 1
    if n % 3:
        ids = [lake.append("runs", {"run": run, "n": n, "timestamp": "2026-03-20T00:00:00"},
                           durability="fsync")]
    else:  # a multi-megabyte batch: a kill is likely to land inside its write
        ids = [f"{run}-{n}-{k}" for k in range(12)]
        lake.append_many("runs", [{"record_id": i, "pad": big, "timestamp": "2026-03-20T00:00:00"}
                                  for i in ids], durability="fsync")
    out.write(" ".join(ids) + "\n")  # acknowledged only once append returned
"""


def test_sigkill_mid_write_twenty_times(tmp_path: Path) -> None:
    rng = random.Random(20)
    acknowledged: set[str] = set()
    for run in range(20):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(run)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        assert child.stdout.readline()  # it is writing
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate(timeout=60)
        assert child.returncode == -signal.SIGKILL
        for line in out.splitlines():
            acknowledged.update(line.split())

    lake = runlake.Lake(tmp_path)
    scan = lake.read_raw("runs")
    stored = {r.record_id for r in scan}
    assert acknowledged, "the writer never got to acknowledge an append"
    assert acknowledged <= stored  # every append that returned with fsync is there
    for corrupt in scan.corrupt:  # a torn line holds only the one record that was torn
        with open(corrupt.segment, "rb") as handle:
            handle.seek(corrupt.offset)
            line = handle.readline()
        assert line.count(ENVELOPE_MARK) == 1, line[:200]
    for segment in lake.root.rglob("seg-*.jsonl"):
        for line in segment.read_bytes().splitlines():
            if line.count(ENVELOPE_MARK) > 1:
                raise AssertionError(f"records glued together in {segment}")
    # a last writer after all the kills still produces a clean, readable line
    lake.append("runs", {"after": True, "timestamp": "2026-03-20T00:00:00"})
    assert {"after": True, "timestamp": "2026-03-20T00:00:00"} in [
        r.record for r in lake.read_raw("runs")]
