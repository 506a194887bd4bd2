"""The partition lock: a flock on a descriptor each thread keeps open. Threads and processes
exclude each other, a forked child never inherits the parent's hold, exec'd programs get no
descriptor, and a lock file removed under a kept descriptor is opened again."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import runlake
from runlake.storage import partition_lock
from runlake.storage.layout import LOCK_NAME

HOLD = r"""
import sys, time
from pathlib import Path
from runlake.storage import partition_lock
with partition_lock(Path(sys.argv[1]), 10):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_threads_exclude_each_other_and_a_thread_may_nest(tmp_path: Path) -> None:
    taken, release = threading.Event(), threading.Event()

    def holder() -> None:
        with partition_lock(tmp_path, 5), partition_lock(tmp_path, 5):  # nested: reentrant
            taken.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert taken.wait(10)
    with pytest.raises(runlake.LockTimeout, match="could not lock"), \
            partition_lock(tmp_path, 0.05):
        pass
    release.set()
    thread.join()
    with partition_lock(tmp_path, 1):  # released by the outer exit, not the inner one
        pass


def test_a_forked_child_does_not_share_the_parents_hold(tmp_path: Path) -> None:
    with partition_lock(tmp_path, 1):
        pid = os.fork()
        if pid == 0:  # the child: its lock must be its own, so the parent's hold blocks it
            try:
                with partition_lock(tmp_path, 0.2):
                    os._exit(1)
            except runlake.LockTimeout:
                os._exit(0)
            os._exit(2)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_processes_exclude_each_other_and_exec_inherits_no_descriptor(tmp_path: Path) -> None:
    with partition_lock(tmp_path, 1):
        listed = subprocess.run(["ls", "-l", "/proc/self/fd"], capture_output=True, text=True,
                                close_fds=False, check=True).stdout
        assert LOCK_NAME not in listed  # O_CLOEXEC
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(runlake.LockTimeout), partition_lock(tmp_path, 0.1):
            pass
    finally:
        holder.communicate("\n", timeout=30)
    with partition_lock(tmp_path, 1):
        pass


def test_a_removed_lock_file_is_opened_again(tmp_path: Path) -> None:
    with partition_lock(tmp_path, 1):  # this thread now keeps a descriptor of the file
        pass
    (tmp_path / LOCK_NAME).unlink()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        # The kept descriptor's file is unlinked: locking it would exclude nobody.
        with pytest.raises(runlake.LockTimeout), partition_lock(tmp_path, 0.2):
            pass
    finally:
        holder.communicate("\n", timeout=30)


def test_a_thread_that_ends_closes_its_lock_files(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    lake.append("runs", {"i": -1})
    before = len(os.listdir("/proc/self/fd"))
    for i in range(40):  # a pool that keeps starting threads, each appending once
        thread = threading.Thread(target=lake.append, args=("runs", {"i": i}))
        thread.start()
        thread.join()
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before + 2
    assert len(list(lake.read_raw("runs"))) == 41
