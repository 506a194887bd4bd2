"""The persisted tail cache (compaction/tailcache.py): a fresh process reads rows some
process normalized before, and a stale, damaged or foreign entry never shows a record twice
or hides one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import runlake
from runlake.append import SegmentSlice
from runlake.compaction import tailcache
from runlake.storage import LakePaths
from tests.helpers import run_python

# A fresh process: scan, and print each record's i and the pending count.
READ = r"""
import json, sys, runlake
view = runlake.Lake(sys.argv[1]).scan("runs").select("record_id", "record.i").collect()
print(json.dumps([sorted(view["record.i"].to_list()), view["record_id"].n_unique(), view.height]))
"""


def fresh_read(lake: runlake.Lake) -> list[int]:
    """Every record's ``i`` as a fresh process sees them; each record id once."""
    done = run_python(READ, str(lake.root))
    assert done.returncode == 0, done.stderr
    values, unique, height = json.loads(done.stdout)
    assert unique == height  # never a record twice
    return list(values)


def append(lake: runlake.Lake, numbers: range, day: int = 20) -> None:
    lake.append_many("runs", [{"i": i, "timestamp": f"2026-03-{day + i % 3}T00:00:00"}
                              for i in numbers])


def entries(lake: runlake.Lake) -> list[Path]:
    return sorted((lake.root / "cache" / "runs" / "tail").rglob("*.arrow"))


def test_a_fresh_process_reads_the_cached_rows(lake: runlake.Lake) -> None:
    append(lake, range(30))
    lake.compact()
    append(lake, range(30, 330))
    assert fresh_read(lake) == list(range(330))  # builds the entries
    built = {p: p.stat().st_mtime_ns for p in entries(lake)}
    assert len(built) == 3  # one per pending segment
    # Proof the next read takes its rows from the cache: a byte in the middle of a cached
    # range (no fingerprint covers it; raw segments are append-only) is not read again.
    [segment] = (lake.root / "raw" / "runs" / "date=2026-03-20").glob("seg-*.jsonl")
    data = segment.read_bytes()
    at = data.index(b'"i":180,') + 6
    assert 4096 < at < len(data) - 4096
    with segment.open("r+b") as handle:
        handle.seek(at)
        handle.write(b"1")  # "i":181, which another record holds
    assert fresh_read(lake) == list(range(330))  # the cached rows, not the changed byte
    assert {p: p.stat().st_mtime_ns for p in entries(lake)} == built


def test_new_appends_extend_the_chain_and_only_they_are_normalized(lake: runlake.Lake) -> None:
    append(lake, range(9))
    assert fresh_read(lake) == list(range(9))
    append(lake, range(9, 15))
    assert fresh_read(lake) == list(range(15))
    chains: dict[Path, list[list[str]]] = {p.parent: [] for p in entries(lake)}
    for path in entries(lake):
        chains[path.parent].append(path.name.split("-")[:2])
    for links in chains.values():
        assert len(links) == 2 and links[0][1] == links[1][0]  # contiguous: [0, a) + [a, b)


def test_a_long_chain_is_merged(lake: runlake.Lake) -> None:
    for round_ in range(12):
        lake.append("runs", {"i": round_, "timestamp": "2026-03-20T00:00:00"})
        assert fresh_read(lake) == list(range(round_ + 1))
    [segment] = (lake.root / "raw" / "runs").glob("*/seg-*.jsonl")
    piece = SegmentSlice(segment, 0, segment.stat().st_size)
    links = tailcache.chain(LakePaths(lake.root), "runs", piece)
    assert links[0].start == 0 and links[-1].end == piece.end and len(links) <= 4


def test_a_truncated_or_garbled_entry_is_a_miss_and_removed(lake: runlake.Lake) -> None:
    append(lake, range(60))
    assert fresh_read(lake) == list(range(60))
    first, second, third = entries(lake)
    whole = {path: path.read_bytes() for path in (first, second)}
    with first.open("r+b") as handle:
        handle.truncate(first.stat().st_size // 2)
    data = bytearray(second.read_bytes())
    data[len(data) // 2] ^= 0xFF
    second.write_bytes(bytes(data))
    assert fresh_read(lake) == list(range(60))
    # Removed and rebuilt: the same rows make the same file, under the same name.
    assert entries(lake) == [first, second, third]
    assert {path: path.read_bytes() for path in (first, second)} == whole


def test_an_entry_of_another_format_is_never_read(lake: runlake.Lake) -> None:
    append(lake, range(30))
    assert fresh_read(lake) == list(range(30))
    for path in entries(lake):  # as if written by a runlake whose normalization differed
        path.rename(path.with_name(path.name.replace(tailcache.FORMAT, "n000000000000")))
        os.utime(path.with_name(path.name.replace(tailcache.FORMAT, "n000000000000")),
                 (0, 0))
    append(lake, range(30, 33))
    assert fresh_read(lake) == list(range(33))
    lake.compact()  # collects what no read can use, once old enough
    assert not [p for p in (lake.root / "cache").rglob("*.arrow") if "n000000000000" in p.name]


def test_a_segment_deleted_and_recreated_is_read_afresh(lake: runlake.Lake) -> None:
    append(lake, range(3), day=20)
    assert fresh_read(lake) == [0, 1, 2]
    for segment in (lake.root / "raw" / "runs").glob("*/seg-*.jsonl"):
        text = segment.read_bytes().replace(b'"i":', b'"i":1')  # other records, same names
        segment.unlink()
        segment.write_bytes(text)
    assert fresh_read(lake) == [10, 11, 12]


def test_compaction_and_vacuum_remove_entries_no_read_can_use(lake: runlake.Lake) -> None:
    append(lake, range(30))
    assert fresh_read(lake) == list(range(30))
    lake.compact()
    assert len(entries(lake)) == 3  # a reader of the old snapshot may still use them
    for path in entries(lake):
        os.utime(path, (time.time() - 2 * tailcache.GRACE_SECONDS,) * 2)
    lake.vacuum()
    assert entries(lake) == []
    assert fresh_read(lake) == list(range(30))


def test_reads_in_fresh_processes_during_appends_and_compactions(tmp_path: Path) -> None:
    # Fresh readers use and extend the cache while a writer appends and compactions commit:
    # every read shows each record once and none that was appended before it started missing.
    lake = runlake.Lake(tmp_path / "lake")
    append(lake, range(1))
    progress = tmp_path / "progress"
    progress.write_text("1")
    code = r"""
import json, sys, pathlib, runlake
progress = pathlib.Path(sys.argv[2])
before = int(progress.read_text() or 0)
seen = runlake.Lake(sys.argv[1]).scan("runs").select("record_id").collect()["record_id"]
print(json.dumps([before, seen.len(), seen.n_unique()]))
"""
    readers: list[subprocess.Popen[str]] = []
    total = 1
    for round_ in range(10):
        readers.append(subprocess.Popen([sys.executable, "-c", code, str(lake.root),
                                         str(progress)], stdout=subprocess.PIPE, text=True))
        append(lake, range(total, total + 40))
        total += 40
        progress.write_text(str(total))
        if round_ % 3 == 2:
            lake.compact()
    for reader in readers:
        out, _ = reader.communicate(timeout=300)
        before, seen, unique = json.loads(out)
        assert seen == unique
        assert before <= seen <= total
    assert fresh_read(lake) == list(range(total))
    paths = LakePaths(lake.root)
    assert tailcache.tail_dir(paths, "runs").is_dir()


def test_an_entry_holds_its_own_range_not_the_batch_it_was_read_in(lake: runlake.Lake) -> None:
    # One read normalizes 12 partitions' lines as one batch; each entry keeps only its own
    # range's rows (string views would drag the whole batch's bytes into every entry).
    lake.append_many("runs", [{"i": i, "noise": os.urandom(300).hex(),
                               "timestamp": f"2026-03-{10 + i % 12}T00:00:00"}
                              for i in range(2400)])
    assert fresh_read(lake) == list(range(2400))
    built = entries(lake)
    assert len(built) == 12
    for path in built:
        start, end = (int(part) for part in path.name.split("-")[:2])
        assert path.stat().st_size < (end - start) + 64 * 1024  # its rows + IPC framing
