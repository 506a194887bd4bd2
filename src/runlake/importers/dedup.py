"""Appending imported records exactly once, even across repeated imports.

Every imported record gets a deterministic id: a hash of what it was made from (a log line's
content, an image's generation metadata: see ``importers.identity``) under a namespace naming
the importer and table. Re-importing
computes the same ids; ids the table already holds (compacted, or still in the raw zone) are
skipped before anything is written, so a re-import appends nothing, before compaction or
after, even once old raw segments have been vacuumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from runlake.append import BufferedWriter, Durability
from runlake.records.ids import derived_id

__all__ = ["ImportReport", "ImportTarget", "OnceWriter", "Rejected", "derived_id"]

if TYPE_CHECKING:
    import polars as pl

class ImportTarget(Protocol):
    """What an importer needs of a lake (a ``Lake``): its tables, a fresh scan of one (for
    the ids it holds) and a buffered writer."""

    def tables(self) -> list[str]: ...

    def scan(self, table: str) -> pl.LazyFrame: ...

    def writer(self, table: str, *, durability: Durability = ..., max_batch: int = ...,
               flush_interval: float | None = ...) -> BufferedWriter: ...


@dataclass(frozen=True)
class Rejected:
    """An input that yielded no record: where (a file, ``line N``) and why, in one sentence."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did. ``rejected`` lists every input that yielded no record, with its
    reason; ``ignored`` counts files that were not looked at (not images)."""

    source: str
    appended: dict[str, int] = field(default_factory=dict)
    already_present: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    ignored: int = 0

    @property
    def total_appended(self) -> int:
        return sum(self.appended.values())

    @property
    def skipped(self) -> int:
        """How many inputs were rejected."""
        return len(self.rejected)

    @property
    def problems(self) -> list[str]:
        """Each rejection as one line: ``source: reason``."""
        return [str(r) for r in self.rejected]

    def reject(self, source: str, reason: str) -> None:
        self.rejected.append(Rejected(source, reason))


class OnceWriter:
    """Appends to one table, skipping record ids the table already holds (or this writer
    already wrote). Use as a context manager: records are written on exit."""

    def __init__(self, lake: ImportTarget, table: str) -> None:
        self.table = table
        self.appended = 0
        self._present = _present_ids(lake, table)
        self._writer = lake.writer(table, durability="flush", flush_interval=None)

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._present

    def write(self, record: object, record_id: str) -> bool:
        """Queue ``record`` under ``record_id`` unless that id is present; True if queued.
        Raises InvalidRecord for a record the lake cannot store."""
        if record_id in self._present:
            return False
        self._writer.write(record, default_id=record_id)
        self._present.add(record_id)
        self.appended += 1
        return True

    def close(self) -> None:
        """Write what is queued."""
        self._writer.close()

    def __enter__(self) -> OnceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _present_ids(lake: ImportTarget, table: str) -> set[str]:
    # The lake's fresh view: the compacted table's id column plus the raw tail. Reading the
    # raw zone instead parsed every line ever appended and missed vacuumed segments.
    if table not in lake.tables():
        return set()
    ids = lake.scan(table).select("record_id").collect()["record_id"]
    return set(ids.to_list())
