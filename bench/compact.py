"""Compaction throughput against JSON -> Parquet baselines, same run, same raw segments.

Run: python bench/compact.py [--records 200000] [--shape sweep|samples] [--repeat 3]
                             [--keep DIR] [--executor process]

Appends ~1.2 KB records to a fresh lake (or reuses the one in ``--keep DIR``), then times,
each in a fresh process (so peak RSS is per method), in interleaved rounds: ``lake.compact``
end to end (read, normalize, dedup, Parquet, Delta commit), and the baselines pyarrow
``read_json`` -> ``write_table``, Polars ``read_ndjson`` -> ``write_parquet`` and DuckDB
``read_json`` -> ``COPY ... TO parquet``, all on the lake's raw segment files. Prints
records/s (best of ``--repeat``), CPU seconds (user + system), the ratios to the baseline and
peak RSS (VmHWM), then the target and a verdict.

Targets: sweep (``--shape sweep``): compact >= 1.0x pyarrow. Samples (``--shape samples``,
the StableNew sample records, whose mixed value types send every batch down the
conflict-tolerant path): compact >= 0.8x the baseline; pyarrow and Polars refuse those
records (a value's type changes between lines), so the baseline there is DuckDB.

``--executor process`` also times ``lake.compact(executor=ProcessPoolExecutor(cores))`` (its
workers started and warmed up before the clock starts, as a long-lived pool or cluster would
be) and prints its ratio to the serial ``compact`` of the same rounds, the work per core
(records per CPU-second of the serial run: robust on a busy machine) and what that predicts
for 10^9 records on N worker cores. Target: >= 0.9x serial on 2 cores, where the serial run
already keeps both cores busy (two decoder threads and a writer): the pool must not lose
much to its processes; its gain is more cores and more machines.
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import orjson
import polars as pl
import pyarrow.json as pa_json
import pyarrow.parquet as pq

import runlake
from runlake.testing import sweep_records

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "data"
START = datetime(2026, 3, 20, tzinfo=timezone.utc)
METHODS = ("pyarrow", "polars", "duckdb", "compact")
TARGETS = {"sweep": ("pyarrow", 1.0), "samples": ("duckdb", 0.8)}
PROCESS = "compact-process"
PROCESS_TARGET = 0.9  # x serial compact, on 2 cores (which the serial run already uses)


def sweep(count: int) -> Iterator[dict[str, Any]]:
    made = 0
    for seed in range(1_000_000):
        for record in sweep_records(50, seed=seed):
            if made == count:
                return
            made += 1
            yield record


def samples(count: int) -> Iterator[dict[str, Any]]:
    templates = [orjson.loads(line) for line in
                 (SAMPLES / "stablenew_learning_records.jsonl").read_bytes().splitlines()]
    for index in range(count):
        record = copy.deepcopy(templates[index % len(templates)])
        record["run_id"] = f"bench-{index:09d}"
        record["timestamp"] = (START + timedelta(seconds=index * 7)).isoformat()
        yield record


def segments(root: Path) -> list[Path]:
    return sorted((root / "raw").glob("*/date=*/seg-*.jsonl"))


def run_pyarrow(root: Path, out: Path) -> None:
    for index, segment in enumerate(segments(root)):
        pq.write_table(pa_json.read_json(segment), out / f"{index}.parquet")


def run_polars(root: Path, out: Path) -> None:
    for index, segment in enumerate(segments(root)):
        pl.read_ndjson(segment).write_parquet(out / f"{index}.parquet")


def run_duckdb(root: Path, out: Path) -> None:
    files = [str(s) for s in segments(root)]
    duckdb.sql(f"COPY (SELECT * FROM read_json({files!r}, format='newline_delimited')) "
               f"TO '{out / 'all.parquet'}' (FORMAT parquet)")


def run_compact(root: Path, out: Path) -> None:
    result = runlake.Lake(root).compact()
    assert result.quarantined == 0, result


RUNNERS: dict[str, Callable[[Path, Path], None]] = {
    "pyarrow": run_pyarrow, "polars": run_polars, "duckdb": run_duckdb, "compact": run_compact,
}


def _warm(_: int) -> int:
    import runlake.compaction.worker  # noqa: F401, PLC0415 - what every task will need
    return os.getpid()


def timed_pool(root: Path) -> float:
    """Seconds of ``lake.compact`` on a process pool started and warmed up beforehand."""
    cores = os.cpu_count() or 2
    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_warm, range(4 * cores)))
        started = time.perf_counter()
        result = runlake.Lake(root).compact(executor=pool)
        seconds = time.perf_counter() - started
    assert result.quarantined == 0, result
    return seconds


def child(method: str, root: Path) -> None:
    """Time one method in this (fresh) process; print seconds, CPU seconds and peak RSS as
    JSON. Peak RSS is this process's own (VmHWM): ru_maxrss would also hold the parent's
    RSS at the fork."""
    out = Path(tempfile.mkdtemp(prefix=f"bench-{method}-"))
    for derived in ("tables", "quarantine", "cache"):
        shutil.rmtree(root / derived, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if method == PROCESS:  # the coordinator's CPU only: the workers' is theirs
        seconds = timed_pool(root)
    else:
        RUNNERS[method](root, out)
        seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    shutil.rmtree(out)
    status = Path("/proc/self/status").read_text()
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_rss": peak}))


def measure(root: Path, repeat: int, methods: tuple[str, ...]
            ) -> dict[str, dict[str, float] | str]:
    """Best time and peak RSS of each method, or why it failed (a baseline may refuse data
    whose value types vary between lines). Rounds go through every method in turn, so a
    busy moment on a shared machine hits them alike."""
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    failed: dict[str, str] = {}
    for _ in range(repeat):
        for method in methods:
            if method in failed:
                continue
            done = subprocess.run(
                [sys.executable, __file__, "--child", method, "--lake", str(root)],
                capture_output=True, text=True, check=False)
            if done.returncode != 0:
                failed[method] = done.stderr.strip().splitlines()[-1][:100]
                continue
            runs[method].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {m: failed.get(m) or {"seconds": min(r["seconds"] for r in runs[m]),
                                 "cpu": min(r["cpu"] for r in runs[m]),
                                 "peak_rss": max(r["peak_rss"] for r in runs[m])}
            for m in methods}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--shape", choices=("sweep", "samples"), default="sweep")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--executor", choices=("none", "process"), default="none")
    parser.add_argument("--child", choices=(*METHODS, PROCESS))
    parser.add_argument("--lake", type=Path)
    parser.add_argument("--keep", type=Path, help="Build the lake here once and reuse it.")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.lake)
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-compact-"))
    try:
        report(root, args)
    finally:
        if args.keep is None:
            shutil.rmtree(root)


def report(root: Path, args: argparse.Namespace) -> None:
    if not segments(root):
        lake = runlake.Lake(root, segment_bytes=1 << 40)
        lake.append_many("runs", (sweep if args.shape == "sweep" else samples)(args.records),
                         durability="flush")
        lake.close()
    written = sum(1 for s in segments(root) for _ in s.open("rb"))
    size = sum(s.stat().st_size for s in segments(root))
    print(f"{written:,} records, {size / written:,.0f} bytes each, {size / 1e6:,.1f} MB raw "
          f"in {len(segments(root))} segments ({args.shape}); best of {args.repeat} "
          "interleaved rounds")
    methods = (*METHODS, PROCESS) if args.executor == "process" else METHODS
    results = measure(root, args.repeat, methods)
    name, target = TARGETS[args.shape]
    base = results[name]
    for method, result in results.items():
        if isinstance(result, str):
            print(f"  {method:8s} failed: {result}")
            continue
        ratios = ""
        if isinstance(base, dict):
            ratios = (f"{base['seconds'] / result['seconds']:5.2f}x {name} (wall) "
                      f"{base['cpu'] / result['cpu']:5.2f}x (cpu)")
        print(f"  {method:8s} {written / result['seconds']:10,.0f} records/s "
              f"{result['seconds']:7.2f} s  cpu {result['cpu']:6.2f} s  {ratios}  "
              f"peak RSS {result['peak_rss'] / 2**20:5.0f} MiB")
    compact = results["compact"]
    if isinstance(base, dict) and isinstance(compact, dict):
        ratio = base["seconds"] / compact["seconds"]
        verdict = "MET" if ratio >= target else "NOT MET"
        print(f"target: compact >= {target}x {name} ({args.shape}): {ratio:.2f}x -> {verdict}")
    else:
        print(f"target: compact >= {target}x {name} ({args.shape}): no verdict (a method failed)")
    if args.executor == "process":
        spread(written, results)


def spread(written: int, results: dict[str, dict[str, float] | str]) -> None:
    """The process pool against the serial run, and what the work per core predicts."""
    serial, pooled = results["compact"], results[PROCESS]
    if isinstance(serial, str) or isinstance(pooled, str):
        print(f"target: {PROCESS} >= {PROCESS_TARGET}x compact: no verdict (a method failed)")
        return
    cores = os.cpu_count() or 2
    ratio = serial["seconds"] / pooled["seconds"]
    verdict = "MET" if ratio >= PROCESS_TARGET else "NOT MET"
    print(f"target: {PROCESS} on {cores} cores >= {PROCESS_TARGET}x compact (2 cores): "
          f"{ratio:.2f}x -> {verdict}")
    per_core = written / serial["cpu"]  # the work one core does, whatever else runs
    print(f"  {per_core:,.0f} records per CPU-second (the serial run's); 10^9 records on N "
          "worker cores at that rate:")
    for workers in (8, 32, 128):
        print(f"    {workers:4d} worker cores: {1e9 / (per_core * workers) / 60:7.1f} min")


if __name__ == "__main__":
    main()
