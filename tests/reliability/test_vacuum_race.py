"""Raw retention racing a writer (issue 10, point 1): a writer whose per-process hint still
points at an older segment of the partition is stopped between opening it and writing; the
segment is then removed (by vacuum, or by hand). No acknowledged append may be lost.

The writer is real and is stopped for real: on a thread by a breakpoint at its ``os.write``
or ``os.fstat`` (nothing replaced), or in another process by strace's SIGSTOP injection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import runlake
from tests.helpers import run_python
from tests.reliability.helpers import Breakpoint, need_strace, run_stopped

TS = "2026-03-20T10:00:00Z"
DATE = "date=2026-03-20"
ROTATE = """
import sys, runlake
lake = runlake.Lake(sys.argv[1], segment_bytes=4096)
lake.append_many("runs", [{"who": "other", "n": i, "pad": "x" * 300, "timestamp": sys.argv[2]}
                          for i in range(20)])
"""


def stale_hint(root: Path) -> tuple[runlake.Lake, Path, str]:
    """A lake whose first segment is fully compacted, old, and not the last one, while this
    process's hint for the partition still points at it; and the first record's id."""
    lake = runlake.Lake(root, segment_bytes=4096)
    first = lake.append("runs", {"who": "me", "n": 0, "timestamp": TS})
    rotated = run_python(ROTATE, str(root), TS)  # another process opens seg-000002
    assert rotated.returncode == 0, rotated.stderr
    lake.compact("runs")
    segment = root / "raw" / "runs" / DATE / "seg-000001.jsonl"
    old = time.time() - 3 * 86400
    os.utime(segment, (old, old))
    assert [p.name for p in segment.parent.glob("seg-*")] != [segment.name]
    return lake, segment, first


def table_ids(lake: runlake.Lake) -> list[str]:
    lake.compact("runs")
    ids: list[str] = lake.scan("runs").select("record_id").collect()["record_id"].to_list()
    return ids


def test_vacuum_waits_for_a_writer_stopped_before_its_write(tmp_path: Path) -> None:
    lake, segment, first = stale_hint(tmp_path)
    stop = Breakpoint(os.write)
    writer, acked = run_stopped(stop, lambda: lake.append(
        "runs", {"who": "me", "n": 1, "timestamp": TS}, durability="fsync"))
    # The writer holds the partition's lock with seg-000001 open: vacuum must not take it.
    busy = lake.vacuum("runs", retention_hours=0, raw_retention_days=0, lock_timeout=0.3)
    assert busy.tables[0].raw_segments == ()
    assert busy.tables[0].busy == (DATE,)
    assert segment.exists()
    stop.release()
    writer.join(60)
    [record_id] = acked
    ids = table_ids(lake)
    lost = {first, str(record_id)} - set(ids)
    assert not lost, f"{len(lost)} of 2 acknowledged appends lost"
    assert len(ids) == len(set(ids)) == 22
    # Compacted again, the segment goes now, and nothing with it.
    done = lake.vacuum("runs", retention_hours=0, raw_retention_days=0)
    assert f"{DATE}/seg-000001.jsonl" in done.tables[0].raw_segments
    assert sorted(table_ids(lake)) == sorted(ids)


def test_a_writer_finding_its_segment_unlinked_writes_to_a_linked_one(tmp_path: Path) -> None:
    lake, segment, first = stale_hint(tmp_path)
    stop = Breakpoint(os.fstat)  # right after the writer opened seg-000001
    writer, acked = run_stopped(stop, lambda: lake.append(
        "runs", {"who": "me", "n": 1, "timestamp": TS}, durability="fsync"))
    segment.unlink()  # removed by someone who ignores the lock (an operator's rm)
    stop.release()
    writer.join(60)
    [record_id] = acked
    stored = {r.record_id: r.segment for r in lake.read_raw("runs")}
    assert stored[str(record_id)] != segment and stored[str(record_id)].exists()
    assert str(record_id) in table_ids(lake)
    assert first not in stored  # it went with the segment removed by hand


CHILD = r"""
import sys
import runlake
lake = runlake.Lake(sys.argv[1], segment_bytes=4096)
print(lake.append("runs", {"who": "child", "n": 1, "timestamp": sys.argv[2]}), flush=True)
sys.stdin.readline()
rid = lake.append("runs", {"who": "child", "n": 2, "timestamp": sys.argv[2]}, durability="fsync")
print(rid, flush=True)
"""


def _stopped_child(tracer: subprocess.Popen[str]) -> int:
    """The traced python, once strace has stopped it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = Path(f"/proc/{tracer.pid}/task/{tracer.pid}/children").read_text().split()
        if children:
            state = Path(f"/proc/{children[0]}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state in "tT":
                return int(children[0])
        time.sleep(0.01)
    raise AssertionError("the writer was never stopped between open and write")


def test_vacuum_and_a_sigstopped_writer_process(tmp_path: Path) -> None:
    """The same race across processes: strace stops the writer with SIGSTOP at its second
    pread of seg-000001 (the torn-tail probe, after the open and before the write)."""
    need_strace()
    lake = runlake.Lake(tmp_path, segment_bytes=4096)
    lake.append("runs", {"who": "parent", "n": 0, "timestamp": TS})
    segment = tmp_path / "raw" / "runs" / DATE / "seg-000001.jsonl"
    child = subprocess.Popen(
        ["strace", "-f", "-qq", "-o", os.devnull, "-P", str(segment), "-e", "trace=pread64",
         "-e", "inject=pread64:signal=SIGSTOP:when=2", sys.executable, "-c", CHILD,
         str(tmp_path), TS],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        first = child.stdout.readline().strip()
        run_python(ROTATE, str(tmp_path), TS)
        lake.compact("runs")
        old = time.time() - 3 * 86400
        os.utime(segment, (old, old))
        child.stdin.write("go\n")
        child.stdin.flush()
        stopped = _stopped_child(child)
        busy = lake.vacuum("runs", retention_hours=0, raw_retention_days=0, lock_timeout=0.3)
        assert busy.tables[0].busy == (DATE,) and segment.exists()
        waiting: list[runlake.VacuumResult] = []
        vacuum = threading.Thread(target=lambda: waiting.append(lake.vacuum(
            "runs", retention_hours=0, raw_retention_days=0)))
        vacuum.start()  # waits for the partition lock the stopped writer holds, or not
        os.kill(stopped, signal.SIGCONT)
        vacuum.join(120)
        out, _ = child.communicate(timeout=60)
        # Whichever came first, the segment the writer appended to was kept.
        assert f"{DATE}/seg-000001.jsonl" not in waiting[0].tables[0].raw_segments
    finally:
        if child.poll() is None:
            child.kill()
    acked = out.split()[0]
    ids = table_ids(lake)
    lost = {first, acked} - set(ids)
    assert not lost, f"{len(lost)} of 2 acknowledged appends lost"
