"""Many processes appending at once never lose, duplicate, tear or interleave a record."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson

import runlake

WORKER = r"""
import random, sys
import runlake

lake = runlake.Lake(sys.argv[1], segment_bytes=256 * 1024)
worker, count = int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(worker)
pad = "p" * rng.randint(200, 900)


def record(i):
    # three shared days, so every partition sees all eight processes
    return {"w": worker, "i": i, "pad": pad, "timestamp": f"2026-03-2{i % 3}T12:00:00"}


i = 0
with lake.writer("runs", max_batch=64, flush_interval=0.01) as writer:
    while i < count:
        mode = rng.choice(("single", "fsync", "batch", "writer"))
        if mode == "single":
            lake.append("runs", record(i), durability="flush")
            i += 1
        elif mode == "fsync":
            lake.append("runs", record(i), durability="fsync")
            i += 1
        elif mode == "batch":
            size = min(rng.randint(1, 300), count - i)
            lake.append_many("runs", [record(j) for j in range(i, i + size)])
            i += size
        else:
            for j in range(i, min(i + rng.randint(1, 100), count)):
                writer.write(record(j))
                i += 1
print("done", worker)
"""


def test_eight_processes_mixed_appends(tmp_path: Path) -> None:
    processes, per_process = 8, 5000
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path), str(w), str(per_process)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(processes)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err
        assert out.startswith("done")

    lake = runlake.Lake(tmp_path)
    scan = lake.read_raw("runs", strict=True)  # strict: a torn or glued line would raise
    records = list(scan)
    assert len(records) == processes * per_process
    assert len({r.record_id for r in records}) == len(records)  # 0 duplicate ids
    seen = Counter((r.record["w"], r.record["i"]) for r in records)
    assert set(seen.values()) == {1}  # 0 duplicates, and with the count above, 0 lost
    assert set(seen) == {(w, i) for w in range(processes) for i in range(per_process)}
    assert lake.partitions("runs") == ["2026-03-20", "2026-03-21", "2026-03-22"]
    for segment in lake.root.rglob("seg-*.jsonl"):
        data = segment.read_bytes()
        assert data.endswith(b"\n")
        for line in data.splitlines():
            assert orjson.loads(line)["record"]["pad"].startswith("p")  # never interleaved
