"""The lake's two locks, both flocks (a killed holder's lock is released by the kernel).

- :func:`partition_lock`: one raw partition's append lock. Every append to the partition
  and every reading of its segments' sizes for compaction holds it.
- :func:`table_lock`: one table's compaction lock, shared by compaction, optimize and
  vacuum, so they never race each other.
- :func:`open_locked`: a dead-letter file opened for appending under its own flock, so a
  spilling writer and a replay never work on it at once.

Each raises :class:`~runlake.errors.LockTimeout` after its timeout, naming what is locked.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock
from filelock import Timeout as FileLockTimeout

from runlake.errors import LockTimeout
from runlake.storage.fs import storage_errors
from runlake.storage.layout import LOCK_NAME, LakePaths

DEFAULT_LOCK_TIMEOUT = 60.0


@contextmanager
def partition_lock(partition: Path, timeout: float) -> Iterator[None]:
    """Hold the partition's append lock; raise :class:`LockTimeout` after ``timeout`` seconds."""
    lock = _thread_lock(partition / LOCK_NAME)
    try:
        lock.acquire(timeout=timeout)
    except FileLockTimeout as exc:
        raise LockTimeout(
            f"could not lock {partition} within {timeout:g}s: another process holds it "
            "(raise lock_timeout, or look for a stuck writer)"
        ) from exc
    try:
        yield
    finally:
        lock.release()


_LOCKS = threading.local()


def _thread_lock(path: Path) -> FileLock:
    """This thread's FileLock for ``path``, made once: building one costs more than taking it.

    One instance per thread, because flock is per open file: two threads with their own
    instances exclude each other as two processes do, while a shared instance would be
    reentrant across threads. A 1 ms poll keeps a contended append's wait near the holder's
    write time.
    """
    cache: dict[Path, FileLock] | None = getattr(_LOCKS, "cache", None)
    if cache is None:
        cache = _LOCKS.cache = {}
    lock = cache.get(path)
    if lock is None:
        lock = cache[path] = FileLock(path, thread_local=False, poll_interval=0.001)
    return lock


@contextmanager
def table_lock(paths: LakePaths, table: str, timeout: float) -> Iterator[None]:
    """Hold the table's compaction lock (compaction, optimize and vacuum share it)."""
    path = paths.table_lock(table)
    with storage_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=timeout, thread_local=False)
    try:
        lock.acquire()
    except FileLockTimeout as exc:
        raise LockTimeout(
            f"table {table!r} is being compacted or maintained by another process (waited "
            f"{timeout:g}s for {path}); try again later, or raise --lock-timeout"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def open_locked(path: Path) -> int:
    """Open ``path`` for append holding its flock (closing the descriptor releases it);
    reopen if a replay removed the file meanwhile."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            return fd
        os.close(fd)
