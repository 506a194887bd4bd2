"""Where things live on a shared lake (``s3://bucket/prefix``), which many hosts ship to::

    raw/<table>/date=YYYY-MM-DD/host=<id>/seg-NNNNNN/<start:016d>.jsonl   shipped, immutable
    tables/<table>/                                                      Delta tables
    quarantine/<table>/date=.../host=<id>/seg-NNNNNN-<offset>.json       unusable lines
    _runlake/probe/                                                      the store probe

A shipped object holds complete lines of one host's segment, from byte ``start``; a
segment's objects tile it from 0 without gaps or overlaps, since each is created with
``If-None-Match`` at the end of those before it. Compaction records offsets per
``date=.../host=<id>/seg-NNNNNN.jsonl``, as it does per local segment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from runlake.errors import EmptyLake
from runlake.storage.files import Entry
from runlake.storage.layout import TABLE_NAME, LakePaths, validate_table
from runlake.storage.objects import ObjectFiles, ObjectStore, probe
from runlake.storage.shipping import validate_host

_SHIPPED = re.compile(
    r"date=(\d{4}-\d{2}-\d{2})/host=([a-z0-9][a-z0-9-]{0,62})/(seg-\d{6,})/(\d{16})\.jsonl"
)


@dataclass(frozen=True)
class Shipped:
    """One shipped object: bytes ``[start, end)`` of a host's segment."""

    key: str  # relative to the lake root
    date: str
    host: str
    segment: str  # seg-NNNNNN.jsonl
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def segment_key(self) -> str:
        """``date=.../host=<id>/seg-NNNNNN.jsonl``: the segment's name in commit offsets."""
        return f"date={self.date}/host={self.host}/{self.segment}"


def shipped_key(table: str, date: str, host: str, segment: str, start: int) -> str:
    """The object key of ``segment``'s lines from ``start`` (``segment``: seg-NNNNNN.jsonl)."""
    stem = segment.removesuffix(".jsonl")
    folder = f"raw/{validate_table(table)}/date={date}/host={validate_host(host)}"
    return f"{folder}/{stem}/{start:016d}.jsonl"


@dataclass(frozen=True)
class SharedPaths:
    """The layout of one shared lake's root in an object store."""

    store: ObjectStore

    @property
    def root(self) -> str:
        return self.store.url

    @property
    def thumbnails(self) -> None:
        """No local cache for a shared lake: a report makes its thumbnails afresh."""
        return None

    def table_files(self, table: str) -> ObjectFiles:
        """The Delta table directory of ``table``."""
        return ObjectFiles(self.store, f"tables/{validate_table(table)}")

    def quarantine_files(self, table: str) -> ObjectFiles:
        return ObjectFiles(self.store, f"quarantine/{validate_table(table)}")

    def table_names(self) -> list[str]:
        """Tables with shipped objects or a Delta table, sorted."""
        names = set(self.store.folders("raw")) | set(self.store.folders("tables"))
        return sorted(n for n in names if TABLE_NAME.fullmatch(n))

    def require_table(self, table: str) -> str:
        """``table`` if the lake has it, else :class:`EmptyLake` naming those it has."""
        names = self.table_names()
        if validate_table(table) not in names:
            raise EmptyLake(f"the lake at {self.root} has no table {table!r} yet (tables: "
                            f"{', '.join(names) or 'none'}); ship records with `runlake ship "
                            f"--to {self.root}` from a recording host first")
        return table

    def partition_dates(self, table: str) -> list[str]:
        """The dates with shipped objects, sorted."""
        found = self.store.folders(f"raw/{validate_table(table)}")
        return sorted(n.removeprefix("date=") for n in found if n.startswith("date="))

    def shipped(self, table: str, *, date: str | None = None,
                host: str | None = None) -> list[Shipped]:
        """The table's shipped objects (of one date and host, if given), in segment and
        offset order. Keys that are not shipped objects are ignored."""
        under = f"raw/{validate_table(table)}"
        if date is not None:
            under += f"/date={date}" + (f"/host={validate_host(host)}" if host else "")
        return [s for e in self.store.entries(under) if (s := _parse(table, e)) is not None]

    def writable(self) -> None:
        """Refuse a store that ignores ``If-None-Match`` (probed once per process)."""
        probe(self.store)


def _parse(table: str, entry: Entry) -> Shipped | None:
    prefix = f"raw/{table}/"
    match = _SHIPPED.fullmatch(entry.name.removeprefix(prefix))
    if match is None:
        return None
    date, host, stem, start = match.groups()
    return Shipped(entry.name, date, host, f"{stem}.jsonl", int(start), entry.size)


def shared_paths(url: str, options: Mapping[str, str] | None = None) -> SharedPaths:
    """The shared lake at ``url`` (``s3://bucket/prefix``), with ``options`` for the store."""
    return SharedPaths(ObjectStore(url, options))


AnyPaths: TypeAlias = LakePaths | SharedPaths
"""A lake's layout: a local directory, or a root in an object store."""
