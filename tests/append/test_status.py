"""``status`` counts: right after appends, torn tails, cut-backs, recreated segments and a bad
line-count memo (the memo only saves time, it never changes a count)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import runlake


def segment_of(lake: runlake.Lake) -> Path:
    [segment] = lake.root.glob("raw/runs/date=*/seg-*.jsonl")
    return segment


def records(lake: runlake.Lake) -> int:
    [runs] = [t for t in lake.status().tables if t.name == "runs"]
    assert runs.bytes == sum(p.stat().st_size for p in lake.root.glob("raw/runs/*/*.jsonl"))
    return runs.records


def append(lake: runlake.Lake, count: int) -> None:
    lake.append_many("runs", [{"i": i, "timestamp": "2026-03-20T00:00:00"}
                              for i in range(count)])


def test_counts_follow_appends_and_the_memo_is_kept(lake: runlake.Lake) -> None:
    append(lake, 5)
    assert records(lake) == 5
    memo = lake.root / "cache" / "runs" / "lines.json"
    assert memo.is_file()
    append(lake, 3)
    assert records(lake) == 8
    with segment_of(lake).open("ab") as handle:  # a torn tail is not a record yet
        handle.write(b'{"half": ')
    assert records(lake) == 8
    lake.append("runs", {"i": 9, "timestamp": "2026-03-20T00:00:00"})  # ends the torn line
    assert records(lake) == 10  # the torn line (now ended) and the new record


def test_a_cut_back_and_regrown_segment_is_recounted(lake: runlake.Lake) -> None:
    append(lake, 4)
    assert records(lake) == 4
    segment = segment_of(lake)
    data = segment.read_bytes()
    lines = data.splitlines(keepends=True)
    # Cut back to 2 lines, then grow past the memoized size with bytes of other lines.
    with segment.open("r+b") as handle:
        handle.truncate(len(lines[0]) + len(lines[1]))
        handle.seek(0, os.SEEK_END)
        handle.write(b'{"x": 1}\n' * 3 + b"x" * len(data))
    assert records(lake) == 5


def test_a_recreated_segment_is_recounted(lake: runlake.Lake) -> None:
    append(lake, 6)
    assert records(lake) == 6
    segment = segment_of(lake)
    size = segment.stat().st_size
    segment.unlink()
    segment.write_bytes(b"y" * (size - 2) + b"\n\n")  # same name and size, another file
    assert records(lake) == 2


def test_a_garbled_or_foreign_memo_is_ignored(lake: runlake.Lake) -> None:
    append(lake, 3)
    memo = lake.root / "cache" / "runs" / "lines.json"
    key = segment_of(lake).relative_to(lake.root / "raw" / "runs").as_posix()
    for text in ("{not json", '{"format": 999, "segments": {}}', '{"format": 1}', "[]",
                 '{"format": 1, "segments": {"x": [1]}}',
                 json.dumps({"format": 1, "segments": {key: ["a", 2, 3, 4, "00"]}}),
                 json.dumps({"format": 1, "segments": {key: [1, 2, 3, 4, 5]}})):
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(text)
        assert records(lake) == 3


def test_an_unwritable_cache_costs_only_time(lake: runlake.Lake) -> None:
    append(lake, 2)
    (lake.root / "cache").write_text("not a directory")
    assert records(lake) == 2
    assert records(lake) == 2
