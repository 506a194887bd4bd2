"""Real storage faults: permission denied, disk full, fsync errors.

Each fault is produced for real: a lake owned by root written by an unprivileged process, a
tiny tmpfs filled up (or /dev/full), an fsync that fails through an LD_PRELOAD shim compiled
here. ``append`` raises a StorageError naming the path and leaves no partial batch;
``LearningRecordWriter.write`` returns normally, counts and spills; replay restores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import runlake
from runlake.append import spill
from tests.helpers import run_python

# Root bypasses file permissions through these capabilities; without them it meets EACCES
# like any user (setpriv, from util-linux, drops them for the child it runs).
DROP_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
PROBE = r"""
import json, logging, sys
import runlake
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
lake = runlake.Lake(sys.argv[1])
result = {}
try:
    lake.append("runs", {"n": 1, "timestamp": "2026-03-20T00:00:00"}, durability="fsync")
    result["append"] = "ok"
except runlake.StorageError as exc:
    result["append"] = str(exc)
writer = runlake.LearningRecordWriter(lake, fallback_dir=sys.argv[2])
result["write_returned"] = writer.write({"record_id": "r-7", "timestamp": "2026-03-20T00:00:00"})
result["failures"] = writer.failures
result["spilled"] = writer.spilled
result["spill_paths"] = sorted(str(p) for p in writer.spill_paths)
print(json.dumps(result))
"""


def probe(lake: Path, fallback: Path, *, as_unprivileged: bool = False,
          env: dict[str, str] | None = None) -> tuple[dict[str, object], str]:
    prefix = DROP_DAC if as_unprivileged and os.geteuid() == 0 else []
    result = subprocess.run([*prefix, sys.executable, "-c", PROBE, str(lake), str(fallback)],
                            capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1]), result.stderr


def test_unwritable_lake_raises_and_the_failsafe_writer_spills(tmp_path: Path) -> None:
    lake_root, fallback = tmp_path / "lake", tmp_path / "fallback"
    lake_root.mkdir()
    fallback.mkdir()
    lake_root.chmod(0o555)
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    result, log = probe(lake_root, fallback, as_unprivileged=True)
    assert "permission denied" in str(result["append"])
    assert str(lake_root / "raw") in str(result["append"])
    assert result["write_returned"] == "r-7"  # returned normally, with the id it will have
    assert result["failures"] == 1 and result["spilled"] == 1
    [spill_path] = result["spill_paths"]  # type: ignore[misc]
    assert str(spill_path).startswith(str(fallback))
    assert "WARNING" in log and "spilled it to" in log and "permission denied" in log

    lake_root.chmod(0o755)
    lake = runlake.Lake(lake_root)
    replayed = lake.replay_deadletter(fallback)
    assert (replayed.replayed, replayed.failed, replayed.files_done) == (1, 0, 1)
    [record] = list(lake.read_raw("runs"))
    assert record.record_id == "r-7"
    assert record.record == {"record_id": "r-7", "timestamp": "2026-03-20T00:00:00"}
    assert not list(fallback.rglob("*.jsonl"))


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: real ENOSPC. Needs root and mount(2), as on the CI machines."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_leaves_no_partial_batch_and_spills(tiny_disk: Path, tmp_path: Path) -> None:
    lake = runlake.Lake(tiny_disk / "lake")
    lake.append("runs", {"n": 0, "timestamp": "2026-03-20T00:00:00"})
    [segment] = lake.paths.segments("runs", "2026-03-20")
    size_before = segment.stat().st_size
    filler = tiny_disk / "filler"
    with pytest.raises(OSError):
        filler.write_bytes(b"\0" * 1024 * 1024)
    batch = [{"n": i, "pad": "x" * 2000, "timestamp": "2026-03-20T00:00:00"} for i in range(50)]
    with pytest.raises(runlake.StorageError, match=r"disk full") as caught:
        lake.append_many("runs", batch)
    assert str(segment) in str(caught.value) or str(tiny_disk) in str(caught.value)
    assert segment.stat().st_size == size_before  # the partial batch was cut back off
    assert [r.record["n"] for r in lake.read_raw("runs", strict=True)] == [0]

    fallback = tmp_path / "fallback"
    writer = runlake.LearningRecordWriter(lake, fallback_dir=fallback)
    record = {"record_id": "r-9", "pad": "y" * 100_000, "timestamp": "2026-03-20T00:00:00"}
    assert writer.write(record) == "r-9"
    assert writer.failures == 1
    filler.unlink()
    result = lake.replay_deadletter(fallback)
    assert result.replayed == 1
    assert record in [r.record for r in lake.read_raw("runs")]


def test_dev_full_gives_enospc(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    lake = runlake.Lake(tmp_path / "lake")
    partition = lake.paths.partition("runs", "2026-03-20")
    partition.mkdir(parents=True)
    (partition / "seg-000001.jsonl").symlink_to("/dev/full")
    with pytest.raises(runlake.StorageError, match="disk full") as caught:
        lake.append("runs", {"timestamp": "2026-03-20T00:00:00"})
    assert "seg-000001.jsonl" in str(caught.value)
    writer = runlake.LearningRecordWriter(lake, fallback_dir=tmp_path / "fallback")
    assert writer.write({"timestamp": "2026-03-20T00:00:00"}) is not None
    assert writer.failures == 1
    [spilled] = writer.spill_paths  # the lake's own dead-letter area still works
    assert spilled.is_relative_to(lake.root / "deadletter" / "runs")


SHIM = r"""
#include <errno.h>
int fsync(int fd) { (void)fd; errno = EIO; return -1; }
int fdatasync(int fd) { (void)fd; errno = EIO; return -1; }
"""


@pytest.fixture(scope="module")
def failing_fsync(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the fsync fault shim")
    directory = tmp_path_factory.mktemp("shim")
    (directory / "shim.c").write_text(SHIM)
    library = directory / "libfailfsync.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(directory / "shim.c")],
                   check=True)
    return library


def test_fsync_error_raises_and_the_record_is_never_lost(
    tmp_path: Path, failing_fsync: Path
) -> None:
    lake_root, fallback = tmp_path / "lake", tmp_path / "fallback"
    env = {"LD_PRELOAD": str(failing_fsync)}
    result, log = probe(lake_root, fallback, env=env)
    assert "I/O error" in str(result["append"])
    # fsync fails everywhere, so even the spill cannot be made durable: the record goes to
    # the log at ERROR rather than vanish
    assert result["write_returned"] is None
    assert result["failures"] == 1
    assert "ERROR" in log and '"record_id":"r-7"' in log
    # the failed fsync append was cut back: nothing half-durable is left to be read
    assert list(runlake.Lake(lake_root).read_raw("runs")) == []
    flushed = run_python(
        "import sys, runlake; print(runlake.Lake(sys.argv[1]).append('runs', {'ok': 1}, "
        "durability='flush'))", str(lake_root), env=env)
    assert flushed.returncode == 0, flushed.stderr
    assert [r.record for r in runlake.Lake(lake_root).read_raw("runs")] == [{"ok": 1}]


def test_failsafe_writer_survives_bad_records_too(lake: runlake.Lake, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    writer = runlake.LearningRecordWriter(lake, fallback_dir=tmp_path / "fallback")
    assert writer.write({"rating": float("nan"), "run_id": "x"}) is not None
    assert writer.write("not an object") is not None
    good = writer.write({"run_id": "fine"})
    assert good is not None and writer.failures == 2
    assert "InvalidRecord" in caplog.text and "rating" in caplog.text
    result = lake.replay_deadletter()
    assert (result.replayed, result.failed) == (0, 2)  # still invalid: kept, not dropped
    assert len(list((lake.root / "deadletter").rglob("*.jsonl"))) == 1
    assert [r.record for r in lake.read_raw("runs")] == [{"run_id": "fine"}]


def test_failsafe_writer_accepts_a_path_and_a_table(tmp_path: Path) -> None:
    writer = runlake.LearningRecordWriter(tmp_path / "lake", table="ratings")
    record_id = writer.write({"rating": 4, "record_id": str(uuid.uuid4())})
    [stored] = list(runlake.Lake(tmp_path / "lake").read_raw("ratings"))
    assert stored.record_id == record_id and writer.failures == 0


def test_replay_twice_appends_the_same_ids(lake: runlake.Lake, tmp_path: Path) -> None:
    # a spilled record keeps the id it was given, so a replay repeated after a crash
    # appends the same id again and compaction keeps one copy
    spill(lake.paths.deadletter, "runs", "fixed-id", {"x": 1}, "test")
    copy = tmp_path / "copy"
    shutil.copytree(lake.paths.deadletter, copy)
    lake.replay_deadletter()
    lake.replay_deadletter(copy)
    assert [r.record_id for r in lake.read_raw("runs")] == ["fixed-id", "fixed-id"]


def test_disk_full_during_compaction_commits_nothing_and_says_why(tiny_disk: Path) -> None:
    lake = runlake.Lake(tiny_disk / "lake")
    lake.append_many("runs", [{"n": i, "pad": f"{i:x}" * 50, "timestamp": "2026-03-20T00:00:00"}
                              for i in range(300)])
    filler = tiny_disk / "filler"
    with pytest.raises(OSError):
        filler.write_bytes(b"\0" * 1024 * 1024)
    with pytest.raises(runlake.StorageError, match="disk full"):
        lake.compact("runs")
    assert lake.stats("runs").pending == 300  # nothing committed, nothing lost
    filler.unlink()
    assert lake.compact("runs").records == 300
    assert lake.stats("runs").records == 300


def test_disk_full_during_an_export_keeps_the_previous_one(
    tiny_disk: Path, tmp_path: Path
) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    runlake.run_demo(lake, seeds=3)  # 3 ratings per settings: enough evidence to export
    out = tiny_disk / "dataset"
    lake.export_dataset("sft", out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    filler = tiny_disk / "filler"
    with pytest.raises(OSError):
        filler.write_bytes(b"\0" * 1024 * 1024)
    with pytest.raises(runlake.StorageError, match="cannot write the export"):
        lake.export_dataset("table", out, overwrite=True)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    filler.unlink()
    result = lake.export_dataset("table", out, overwrite=True)  # a retry is not refused
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [".runlake-export.json", *(p.name for p in result.files)])
