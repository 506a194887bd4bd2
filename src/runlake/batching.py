"""Group serialized records by partition and write each group as one locked append."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from runlake.envelope import Envelope
from runlake.layout import LakePaths
from runlake.segments import AppendOptions, Durability, append_buffer


@dataclass
class PartitionBatch:
    """Serialized lines of one table, grouped by partition date, waiting to be written."""

    paths: LakePaths
    table: str
    options: AppendOptions
    lines: dict[str, list[bytes]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    count: int = 0

    def add(self, envelope: Envelope) -> int:
        """Queue one record; return the pending size of its partition in bytes."""
        date = envelope.date
        bucket = self.lines.get(date)
        if bucket is None:
            bucket = self.lines[date] = []
            self.sizes[date] = 0
        bucket.append(envelope.line)
        self.sizes[date] += len(envelope.line)
        self.count += 1
        return self.sizes[date]

    def extend(self, other: PartitionBatch) -> None:
        """Queue ``other``'s lines after this batch's, partition by partition."""
        for date, lines in other.lines.items():
            self.lines.setdefault(date, []).extend(lines)
            self.sizes[date] = self.sizes.get(date, 0) + other.sizes[date]
        self.count += other.count

    @property
    def pending_bytes(self) -> int:
        return sum(self.sizes.values())

    def write(self, durability: Durability, dates: Iterable[str] | None = None) -> int:
        """Write the given partitions (all by default), one buffer each; return records written.

        A partition is removed from the batch only once its write succeeded, so a failed
        write leaves it pending for a retry.
        """
        written = 0
        for date in list(self.lines if dates is None else dates):
            lines = self.lines[date]
            append_buffer(self.paths.partition(self.table, date), b"".join(lines), durability,
                          self.options)
            del self.lines[date], self.sizes[date]
            written += len(lines)
            self.count -= len(lines)
        return written
