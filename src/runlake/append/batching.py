"""Group serialized records by partition and write each group as one locked append."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from runlake.append.segments import AppendOptions, Durability, append_buffer
from runlake.records import Envelope
from runlake.storage import LakePaths


@dataclass
class PartitionBatch:
    """Serialized lines of one table, grouped by partition date, waiting to be written.

    Lines are copied into one growing buffer per partition at once: holding on to thousands
    of small ``bytes`` objects instead made serialization several times slower (allocator
    churn), and the buffer is what gets written anyway.
    """

    paths: LakePaths
    table: str
    options: AppendOptions
    buffers: dict[str, bytearray] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    count: int = 0
    pending_bytes: int = 0

    def add(self, envelope: Envelope) -> None:
        """Queue one record."""
        _, date, line = envelope
        try:
            self.buffers[date] += line
            self.counts[date] += 1
        except KeyError:
            self.buffers[date] = bytearray(line)
            self.counts[date] = 1
        self.count += 1
        self.pending_bytes += len(line)

    def extend(self, other: PartitionBatch) -> None:
        """Queue ``other``'s lines after this batch's, partition by partition."""
        for date, buffer in other.buffers.items():
            self.buffers.setdefault(date, bytearray()).extend(buffer)
            self.counts[date] = self.counts.get(date, 0) + other.counts[date]
        self.count += other.count
        self.pending_bytes += other.pending_bytes

    def write(self, durability: Durability, dates: Iterable[str] | None = None) -> int:
        """Write the given partitions (all by default), one buffer each; return records written.

        A partition is removed from the batch only once its write succeeded, so a failed
        write leaves it pending for a retry.
        """
        written = 0
        for date in list(self.buffers if dates is None else dates):
            buffer = self.buffers[date]
            append_buffer(self.paths.partition(self.table, date), buffer, durability,
                          self.options)
            count = self.counts.pop(date)
            del self.buffers[date]
            self.count -= count
            self.pending_bytes -= len(buffer)
            written += count
        return written
