"""Compaction throughput against JSON -> Parquet baselines, same run, same raw segments.

Run: python bench/compact.py [--records 200000] [--shape sweep|samples] [--repeat 3]

Appends ~1 KB records to a fresh lake, then times, each in a fresh process (so peak RSS is
per method): ``lake.compact`` end to end (read, normalize, dedup, Parquet, Delta commit), and
the baselines pyarrow ``read_json`` -> ``write_table``, Polars ``read_ndjson`` ->
``write_parquet`` and DuckDB ``read_json`` -> ``COPY ... TO parquet``, all on the lake's raw
segment files. Prints records/s (best of ``--repeat``), the ratio to pyarrow and peak RSS.
Target: compact >= 0.7x pyarrow. ``--shape samples`` uses the StableNew sample records,
whose mixed value types send every batch down the slower, conflict-tolerant path.
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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


def child(method: str, root: Path) -> None:
    """Time one method in this (fresh) process; print seconds and peak RSS as JSON."""
    out = Path(tempfile.mkdtemp(prefix=f"bench-{method}-"))
    shutil.rmtree(root / "tables", ignore_errors=True)
    started = time.perf_counter()
    RUNNERS[method](root, out)
    seconds = time.perf_counter() - started
    shutil.rmtree(out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_rss": peak}))


def measure(root: Path, repeat: int) -> dict[str, dict[str, float] | str]:
    """Best time and peak RSS of each method, or why it failed (a baseline may refuse data
    whose value types vary between lines). Rounds go through every method in turn, so a
    busy moment on a shared machine hits them alike."""
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
    failed: dict[str, str] = {}
    for _ in range(repeat):
        for method in METHODS:
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
                                 "peak_rss": max(r["peak_rss"] for r in runs[m])}
            for m in METHODS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--shape", choices=("sweep", "samples"), default="sweep")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=METHODS)
    parser.add_argument("--lake", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.lake)
        return
    root = Path(tempfile.mkdtemp(prefix="bench-compact-"))
    try:
        report(root, args)
    finally:
        shutil.rmtree(root)


def report(root: Path, args: argparse.Namespace) -> None:
    lake = runlake.Lake(root, segment_bytes=1 << 40)
    records = (sweep if args.shape == "sweep" else samples)(args.records)
    written = lake.append_many("runs", records, durability="flush")
    size = sum(s.stat().st_size for s in segments(root))
    print(f"{written:,} records, {size / written:,.0f} bytes each, {size / 1e6:,.1f} MB raw "
          f"in {len(segments(root))} segments ({args.shape}); best of {args.repeat}")
    results = measure(root, args.repeat)
    pyarrow = results["pyarrow"]
    baseline = written / pyarrow["seconds"] if isinstance(pyarrow, dict) else None
    for method, result in results.items():
        if isinstance(result, str):
            print(f"  {method:8s} failed: {result}")
            continue
        speed = written / result["seconds"]
        ratio = f"{speed / baseline:5.2f}x pyarrow" if baseline else "  (no pyarrow baseline)"
        print(f"  {method:8s} {speed:12,.0f} records/s  {ratio}  {result['seconds']:7.2f} s  "
              f"peak RSS {result['peak_rss'] / 2**20:7.0f} MiB")


if __name__ == "__main__":
    main()
