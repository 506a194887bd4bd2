"""Appending JSON Lines from a file or a pipe (``runlake append``), skipping bad lines."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Protocol

import orjson

from runlake.append.segments import Durability
from runlake.errors import InvalidRecord

_LONG_NUMBER = re.compile(rb"\d{19}")


@dataclass(frozen=True)
class Rejection:
    """A line that was not appended: its 1-based number and why."""

    line: int
    reason: str


@dataclass
class IngestReport:
    """What an ingest did."""

    written: int = 0
    rejected: list[Rejection] = field(default_factory=list)


class AppendsMany(Protocol):
    """What ingest needs of a lake (a ``Lake`` or an ``Appender``)."""

    def append_many(
        self, table: str, records: Iterable[object], *, durability: Durability = ...,
        on_invalid: Callable[[int, InvalidRecord], None] | None = ...,
    ) -> int: ...


def append_jsonl(
    lake: AppendsMany, table: str, stream: IO[bytes], *, durability: Durability = "flush"
) -> IngestReport:
    """Append every JSON object line of ``stream`` to ``table``; report lines that were not."""
    report = IngestReport()
    numbers: list[int] = []  # line number of the n-th parsed record

    def rejected(index: int, exc: InvalidRecord) -> None:
        field_note = f"field {exc.field!r}: " if exc.field else ""
        report.rejected.append(Rejection(numbers[index], field_note + exc.reason))

    records = _parse(stream, numbers, report)
    report.written = lake.append_many(table, records, durability=durability,
                                      on_invalid=rejected)
    report.rejected.sort(key=lambda r: r.line)
    return report


def _parse(lines: Iterable[bytes], numbers: list[int], report: IngestReport) -> Iterator[object]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = _loads(line)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            report.rejected.append(Rejection(number, f"not valid JSON ({exc})"))
            continue
        if not isinstance(record, dict):
            report.rejected.append(Rejection(number, "not a JSON object"))
            continue
        numbers.append(number)
        yield record


def _loads(line: bytes) -> object:
    """One line as JSON. orjson turns an integer beyond 64 bits into a float, silently: a
    line with a run of 19 digits or more is read by the standard library instead, which
    keeps integers exact, so the envelope refuses one beyond 64 bits with a reason."""
    if _LONG_NUMBER.search(line) is None:
        return orjson.loads(line)
    return json.loads(line, parse_constant=_refuse)


def _refuse(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")
