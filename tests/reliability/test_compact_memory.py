"""Compaction memory is bounded by the batch size, not by how much raw data is pending.

Scaled down from "a 2 GB raw partition under 1 GB RSS": compact 50 MB and 200 MB of raw
records in fresh processes with 4 MiB batches and compare how much each grew past its
after-import RSS (measured: within ±20 MiB of each other). Holding the pending data would
cost the larger lake 300 MB more (payload plus parsed columns); the test allows 120 MiB.
The records are the StableNew samples, whose mixed value types make every batch be read in
groups: the most memory-hungry way through the decoder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import runlake
from tests.helpers import run_python

MEASURE = """
import json, re, sys, psutil
import runlake
import runlake.compaction  # load the table engines (lazy in runlake) before the baseline
lake = runlake.Lake(sys.argv[1])
before = psutil.Process().memory_info().rss
result = lake.compact("runs", batch_bytes=4 * 1024 * 1024)
# This process's own peak (VmHWM). ru_maxrss would also hold the parent's RSS at the fork
# that started us (Linux keeps it across exec), so a big test worker inflated the growth.
status = open("/proc/self/status").read()
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) * 1024
print(json.dumps({"growth": peak - before, "records": result.records}))
"""


def records(samples: Path, count: int) -> Iterator[dict[str, Any]]:
    templates = [orjson.loads(x) for x in
                 (samples / "stablenew_learning_records.jsonl").read_bytes().splitlines()]
    for index in range(count):
        yield {**templates[index % len(templates)], "run_id": f"run-{index}"}


def growth(samples: Path, root: Path, count: int) -> int:
    lake = runlake.Lake(root)
    lake.append_many("runs", records(samples, count), durability="none")
    raw = sum(p.stat().st_size for p in (root / "raw").rglob("seg-*.jsonl"))
    assert raw > count * 1000
    done = run_python(MEASURE, str(root))
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert measured["records"] == count
    return int(measured["growth"])


@pytest.mark.slow
def test_memory_does_not_grow_with_the_pending_data(samples: Path, tmp_path: Path) -> None:
    small = growth(samples, tmp_path / "small", 40_000)  # ~50 MB raw
    large = growth(samples, tmp_path / "large", 160_000)  # ~200 MB raw
    assert large < 400 * 2**20
    assert large - small < 120 * 2**20, (small, large)
