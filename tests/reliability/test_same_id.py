"""Same record id, different content: the copy accepted first wins, whatever the partition
dates and whenever compaction runs (issue 10 point 10).

A is accepted first but carries a later event date than B, so raw order (partition date,
then segment, then offset) puts B first: a rule that follows raw order keeps B when both are
compacted together and A when a compaction ran between them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import runlake

RID = "run-0001"
A = {"record_id": RID, "model": "A-accepted-first", "timestamp": "2026-03-21T09:00:00Z"}
B = {"record_id": RID, "model": "B-accepted-second", "timestamp": "2026-03-20T09:00:00Z"}


def winner(lake: runlake.Lake) -> str:
    rows = lake.scan("runs").filter(pl.col("record_id") == RID).collect()
    assert rows.height == 1
    return str(rows["model"][0])


def one_by_one(lake: runlake.Lake) -> None:
    lake.append("runs", A)
    lake.append("runs", B, durability="flush")


def one_batch(lake: runlake.Lake) -> None:
    lake.append_many("runs", [A, B])


def one_writer(lake: runlake.Lake) -> None:
    with lake.writer("runs") as writer:
        writer.write(A)
        writer.write(B)


def two_processes(lake: runlake.Lake) -> None:
    code = ("import sys, runlake; runlake.Lake(sys.argv[1]).append('runs', "
            f"{A!r})")
    subprocess.run([sys.executable, "-c", code, str(lake.root)], check=True)
    lake.append("runs", B)


WAYS: dict[str, Callable[[runlake.Lake], None]] = {
    "one by one": one_by_one, "one batch": one_batch, "one writer": one_writer,
    "two processes": two_processes,
}


@pytest.mark.parametrize("way", sorted(WAYS))
def test_the_copy_accepted_first_wins_before_and_after_compaction(
    tmp_path: Path, way: str
) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    WAYS[way](lake)
    assert winner(lake) == A["model"]  # the scan's tail, before any compaction
    result = lake.compact("runs")
    assert result.duplicates == 1
    assert winner(lake) == A["model"]
    first = next(iter(lake.read_raw("runs")))
    assert first.record["model"] == B["model"]  # raw order: B first


def test_a_compaction_between_the_copies_keeps_the_same_winner(tmp_path: Path) -> None:
    between = runlake.Lake(tmp_path / "between")
    between.append("runs", A)
    between.compact("runs")
    between.append("runs", B)
    assert winner(between) == A["model"]  # the committed copy, over B in the tail
    between.compact("runs")
    after = runlake.Lake(tmp_path / "after")
    one_by_one(after)
    after.compact("runs")
    assert winner(between) == winner(after) == A["model"]
    # and the copies are both kept in the raw zone, where rebuild finds the same winner
    runlake.Lake(tmp_path / "after").rebuild("runs")
    assert winner(after) == A["model"]


def test_ingestion_stamps_follow_acceptance_in_a_writer(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    with lake.writer("other") as writer:
        for n in range(200):
            writer.write({"n": n, "timestamp": f"2026-03-{20 + n % 5:02d}T00:00:00Z"})
    stamps = {r.record["n"]: r.ingested_at for r in lake.read_raw("other")}
    assert [stamps[n] for n in range(200)] == sorted(stamps.values())
    assert len(set(stamps.values())) == 200
