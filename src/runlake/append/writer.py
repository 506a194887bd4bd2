"""A thread-safe buffered writer that group-commits records to one table.

``write`` validates and serializes the record at once (so a bad record raises in the caller's
frame) and queues its line. Queued lines are written as one locked append per partition when
``max_batch`` records are pending, every ``flush_interval`` seconds (a background thread), on
``flush()``, on ``close()`` and at interpreter exit. A record is durable once the flush that
wrote it has returned.
"""

from __future__ import annotations

import atexit
import logging
import threading
from types import TracebackType

from runlake.append.batching import PartitionBatch
from runlake.append.segments import AppendOptions, Durability
from runlake.errors import InvalidOption, LakeError
from runlake.records import DEFAULT_RATING_SCALE, Enveloper, Scale
from runlake.storage import LakePaths

log = logging.getLogger(__name__)


class BufferedWriter:
    """Buffered, group-committing writer for one table (use ``Lake.writer`` to make one).

    >>> with lake.writer("runs") as w:        # doctest: +SKIP
    ...     run_id = w.write({"model": "sdxl", "steps": 30})
    """

    def __init__(
        self,
        paths: LakePaths,
        table: str,
        *,
        durability: Durability,
        max_batch: int,
        flush_interval: float | None,
        options: AppendOptions,
        max_record_bytes: int,
        rating_scale: Scale = DEFAULT_RATING_SCALE,
    ) -> None:
        if max_batch < 1:
            raise InvalidOption(f"max_batch must be at least 1, got {max_batch}")
        self.table = table
        self.durability = durability
        self.max_batch = max_batch
        self._enveloper = Enveloper(table, max_record_bytes=max_record_bytes,
                                    rating_scale=rating_scale)
        self._pending = PartitionBatch(paths, table, options)
        self._lock = threading.Lock()  # guards _pending
        self._flush_lock = threading.Lock()  # one flush at a time keeps batches in order
        self._in_flight = 0
        self._closed = False
        self._stop = threading.Event()
        self._thread = self._start_flusher(flush_interval)
        atexit.register(self._flush_at_exit)

    def write(self, record: object, *, default_id: str | None = None) -> str:
        """Queue one record; return its record id. Raises InvalidRecord for a bad record."""
        envelope = self._enveloper.envelope(record, default_id=default_id)
        with self._lock:
            if self._closed:
                raise LakeError(f"writer for table {self.table!r} is closed")
            self._pending.add(envelope)
            full = self._pending.count >= self.max_batch
        if full:
            self.flush()
        return envelope.record_id

    @property
    def pending(self) -> int:
        """Records not yet written: queued, or in a flush that has not returned."""
        return self._pending.count + self._in_flight

    def flush(self) -> int:
        """Write every queued record (one append per partition); return how many were written."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, self._fresh_batch()
                self._in_flight = batch.count
            try:
                return batch.write(self.durability)
            except BaseException:
                self._requeue(batch)
                raise
            finally:
                self._in_flight = 0

    def close(self) -> None:
        """Flush and stop the background flusher. Safe to call twice."""
        with self._lock:
            already, self._closed = self._closed, True
        if already:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        atexit.unregister(self._flush_at_exit)
        self.flush()

    def __enter__(self) -> BufferedWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _fresh_batch(self) -> PartitionBatch:
        old = self._pending
        return PartitionBatch(old.paths, old.table, old.options)

    def _requeue(self, batch: PartitionBatch) -> None:
        # Lines of a failed flush go back in front of anything queued since, in order.
        with self._lock:
            newer, self._pending = self._pending, batch
            self._pending.extend(newer)

    def _start_flusher(self, interval: float | None) -> threading.Thread | None:
        if not interval or interval <= 0:
            return None
        thread = threading.Thread(
            target=self._flush_periodically, args=(interval,), name=f"runlake-{self.table}",
            daemon=True,
        )
        thread.start()
        return thread

    def _flush_periodically(self, interval: float) -> None:
        while not self._stop.wait(interval):
            if self.pending:
                try:
                    self.flush()
                except LakeError as exc:  # kept queued; retried next tick, raised by flush()
                    log.warning("runlake: background flush of %r failed: %s", self.table, exc)

    def _flush_at_exit(self) -> None:
        try:
            self.close()
        except LakeError as exc:
            log.warning("runlake: %d records of %r not written at exit: %s",
                        self._pending.count, self.table, exc)
