"""The lake's two locks, both flocks (a killed holder's lock is released by the kernel).

- :func:`partition_lock`: one raw partition's append lock. Every append to the partition
  and every reading of its segments' sizes for compaction holds it. It is the append hot
  path: a flock on a descriptor each thread keeps open per partition (``filelock``'s
  FileLock cost 140-200 us per acquire and release, more than a write and fsync of a record).
- :func:`table_lock`: one table's compaction lock, shared by compaction, optimize and
  vacuum, so they never race each other.
- :func:`open_locked`: a dead-letter file opened for appending under its own flock, so a
  spilling writer and a replay never work on it at once.

Each raises :class:`~runlake.errors.LockTimeout` after its timeout, naming what is locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runlake.errors import LockTimeout
from runlake.storage.fs import storage_errors
from runlake.storage.layout import LOCK_NAME, LakePaths

DEFAULT_LOCK_TIMEOUT = 60.0


@contextmanager
def partition_lock(partition: Path, timeout: float) -> Iterator[None]:
    """Hold the partition's append lock; raise :class:`LockTimeout` after ``timeout`` seconds.

    Reentrant within a thread (flock on the same open file would not count the holds).
    """
    mine = _mine()
    path = partition / LOCK_NAME
    if path in mine.held:
        mine.held[path] += 1
        try:
            yield
        finally:
            mine.held[path] -= 1
        return
    fd = _acquire(mine, path, timeout)
    mine.held[path] = 1
    try:
        yield
    finally:
        del mine.held[path]
        if mine.generation == _GENERATION[0]:  # not a child forked while it was held
            fcntl.flock(fd, fcntl.LOCK_UN)


def _acquire(mine: _Descriptors, path: Path, timeout: float) -> int:
    """flock this thread's descriptor of ``path`` (LOCK_NB, polled every millisecond until
    ``timeout``); reopen the file if it was removed meanwhile: a lock on an unlinked file
    would exclude nobody."""
    deadline = time.monotonic() + timeout
    while True:
        fd = mine.descriptor(path)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"could not lock {path.parent} within {timeout:g}s: another process "
                        "holds it (raise lock_timeout, or look for a stuck writer)") from None
                time.sleep(_POLL_SECONDS)
        if os.fstat(fd).st_nlink:
            return fd
        fcntl.flock(fd, fcntl.LOCK_UN)
        mine.forget(path)


_POLL_SECONDS = 0.001  # a contended append waits about the holder's write time, no more
_GENERATION = [0]  # bumped in a forked child: descriptors opened before the fork are dropped
_OPENED: set[int] = set()  # every lock descriptor this process keeps open


class _Open(dict[Path, int]):
    """A thread's open lock files, closed when the thread ends (its thread-local state goes
    with it), so a pool that keeps starting threads does not pile up descriptors."""

    def __init__(self) -> None:
        super().__init__()
        self.generation = _GENERATION[0]

    def __del__(self) -> None:
        if self.generation != _GENERATION[0]:
            return  # opened before a fork: the child closed them (the numbers may be reused)
        for fd in self.values():
            if fd in _OPENED:
                _OPENED.discard(fd)
                with contextlib.suppress(OSError):
                    os.close(fd)


class _Descriptors(threading.local):
    """This thread's lock files, each opened once and kept open (opening and closing cost
    more than the flock itself), and the partition locks it holds.

    One descriptor per thread, because flock is per open file: two threads with their own
    descriptors exclude each other as two processes do. Opened with O_CLOEXEC, and dropped
    in a forked child, which shares the parent's open files: its flock would be the
    parent's lock, not one of its own.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.generation = _GENERATION[0]
        self.fds: _Open = _Open()
        self.held: dict[Path, int] = {}

    def descriptor(self, path: Path) -> int:
        fd = self.fds.get(path)
        if fd is None:
            with storage_errors(path, doing=f"open the lock file {path}"):
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self.fds[path] = fd
            _OPENED.add(fd)
        return fd

    def forget(self, path: Path) -> None:
        fd = self.fds.pop(path)
        _OPENED.discard(fd)
        os.close(fd)


_LOCAL = _Descriptors()


def _mine() -> _Descriptors:
    if _LOCAL.generation != _GENERATION[0]:
        _LOCAL.reset()  # a forked child: start afresh
    return _LOCAL


def _after_fork_in_child() -> None:
    for fd in list(_OPENED):
        with contextlib.suppress(OSError):
            os.close(fd)  # the parent's copies stay open: its locks are unaffected
    _OPENED.clear()
    _GENERATION[0] += 1


os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def table_lock(paths: LakePaths, table: str, timeout: float) -> Iterator[None]:
    """Hold the table's compaction lock (compaction, optimize and vacuum share it)."""
    path = paths.table_lock(table)
    with storage_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock  # noqa: PLC0415 - rare: appends and status never load it

    lock = FileLock(path, timeout=timeout, thread_local=False)
    try:
        lock.acquire()
    except TimeoutError as exc:  # filelock's Timeout
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
