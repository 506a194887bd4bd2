"""Append throughput against baselines measured in the same run on the same records.

Run: python bench/append.py [--records 50000] [--fsync-records 2000]

Prints records/s for ``append_many``, a ``writer().write`` loop and per-record
``append(durability="fsync")``, and the baselines ``orjson.dumps`` alone and a raw
"lock + write + fsync" per record: ``fcntl.flock`` on a lock file kept open, then open, one
write, fsync and close of the data file (the least a correct locked, durable append does; a
FileLock baseline would measure filelock's own 140-200 us). Every method runs once per
round, in 3 interleaved rounds, and keeps its best. Only the ratios are meaningful on a
shared machine.
Targets: append_many >= 0.6x orjson, writer loop >= 0.4x orjson, fsync append >= 0.9x raw.
"""

from __future__ import annotations

import argparse
import copy
import fcntl
import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

import runlake

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "data"
START = datetime(2026, 3, 20, tzinfo=timezone.utc)


def make_records(count: int) -> list[dict[str, Any]]:
    """~1 KB records shaped like the StableNew samples, each with its own run id and time."""
    templates = [orjson.loads(line) for line in
                 (SAMPLES / "stablenew_learning_records.jsonl").read_bytes().splitlines()]
    records = []
    for index in range(count):
        record = copy.deepcopy(templates[index % len(templates)])
        record["run_id"] = f"bench-{index:09d}"
        record["timestamp"] = (START + timedelta(seconds=index * 7)).isoformat()
        records.append(record)
    return records


def rate(count: int, action: Callable[[], object], runs: int = 3) -> float:
    """Records per second of ``action`` (best of ``runs``, to damp a noisy machine)."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return count / best


def orjson_alone(records: list[dict[str, Any]]) -> None:
    dumps = orjson.dumps
    for record in records:
        dumps(record)


def raw_lock_write_fsync(directory: Path, lines: list[bytes]) -> None:
    path = directory / "raw.jsonl"
    lock = os.open(directory / "raw.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        for line in lines:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    finally:
        os.close(lock)


def writer_loop(lake: runlake.Lake, records: list[dict[str, Any]]) -> None:
    with lake.writer("bench_writer") as writer:
        for record in records:
            writer.write(record)


def fsync_appends(lake: runlake.Lake, records: list[dict[str, Any]]) -> None:
    for record in records:
        lake.append("bench_fsync", record, durability="fsync")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--fsync-records", type=int, default=2_000)
    args = parser.parse_args()
    records = make_records(args.records)
    few = records[: args.fsync_records]
    lines = [orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in few]
    size = sum(len(orjson.dumps(r)) for r in records) / len(records)
    print(f"{len(records):,} records of {size:,.0f} bytes on average")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        lake = runlake.Lake(Path(tmp) / "lake")
        base = many = loop = raw = fsync = 0.0
        for _ in range(3):  # interleaved rounds: a busy moment hits every method alike
            base = max(base, rate(len(records), lambda: orjson_alone(records), 1))
            many = max(many, rate(len(records),
                                  lambda: lake.append_many("bench_many", records), 1))
            loop = max(loop, rate(len(records), lambda: writer_loop(lake, records), 1))
            raw = max(raw, rate(len(few), lambda: raw_lock_write_fsync(Path(tmp), lines), 1))
            fsync = max(fsync, rate(len(few), lambda: fsync_appends(lake, few), 1))
    report("orjson.dumps alone (baseline)", base, None, None)
    report("append_many", many, many / base, 0.6)
    report("writer().write loop", loop, loop / base, 0.4)
    report("lock + write + fsync (baseline)", raw, None, None)
    report('append(durability="fsync")', fsync, fsync / raw, 0.9)


def report(name: str, per_second: float, ratio: float | None, target: float | None) -> None:
    line = f"{name:34s} {per_second:>12,.0f} records/s"
    if ratio is not None and target is not None:
        verdict = "MET" if ratio >= target else "NOT MET"
        line += f"   {ratio:5.2f}x baseline (target >= {target}x: {verdict})"
    print(line)


if __name__ == "__main__":
    main()
