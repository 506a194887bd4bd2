"""Turn a record into one stored JSON line: validate, add the envelope, serialize.

A stored line is ``{"record_id", "event_time", "ingested_at", "record"}`` where ``record`` is
the caller's object unchanged. Keeping the record whole (rather than mixing envelope keys into
it) means nothing the caller wrote can collide with what the lake adds, and the original is
read back equal.

NaN and infinity are rejected: JSON has no spelling for them, and orjson would silently store
``null``, which is data loss. The check walks the record only when the serialized line contains
``null`` at all, so the common record pays one substring search.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple

import orjson

from runlake.errors import InvalidRecord
from runlake.records.ids import new_id
from runlake.records.ratings import DEFAULT_RATING_SCALE, Scale, check_rating
from runlake.records.tables import RATINGS_TABLE

DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024
MAX_RECORD_ID = 256
# orjson refuses nesting past 254 levels, the envelope included: a record's containers may
# nest 253 deep.
MAX_DEPTH = 253
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
UTC = timezone.utc
_DUMPS_OPTIONS = orjson.OPT_APPEND_NEWLINE


class Envelope(NamedTuple):
    """A record ready to be written: its id, its partition date and its serialized line.

    A NamedTuple rather than a frozen dataclass: it is built once per record on the append hot
    path, and a frozen dataclass's ``__init__`` costs several times more.
    """

    record_id: str
    date: str
    line: bytes


def utc_now_text() -> str:
    """The current time in the envelope's timestamp format."""
    return format_time(datetime.now(UTC))


class _Clock:
    """``ingested_at`` stamps: each record's own, strictly increasing within a process.

    Of two copies of one record id the one accepted first wins (docs/compaction.md, Dedup),
    so a record's stamp must follow every record this process accepted before it, even
    within one microsecond (the next microsecond is taken then). Only the date and time
    part is formatted, once a second: a formatted clock reading per record would cost half
    of a small record's envelope.
    """

    def __init__(self) -> None:
        self._last = 0
        self._second = -1
        self._prefix = ""

    def now(self) -> str:
        # No lock: two threads racing here may share a stamp, and records accepted
        # concurrently have no order to keep anyway (a tie falls back to raw order).
        self._last = micros = max(time.time_ns() // 1000, self._last + 1)
        second, micro = divmod(micros, 1_000_000)
        if second != self._second:
            moment = datetime.fromtimestamp(second, UTC).replace(tzinfo=None)
            self._second, self._prefix = second, moment.isoformat() + "."
        return f"{self._prefix}{micro:06d}Z"


accepted_now = _Clock().now


def format_time(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` for an aware UTC datetime (fixed width, sortable)."""
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_event_time(value: object, table: str = "?", field: str = "timestamp") -> datetime:
    """The UTC event time for a ``timestamp`` value; ``None`` means now, naive means UTC.

    Accepts ISO-8601 text (with or without offset, with ``Z``), epoch seconds, or a datetime.
    """
    moment = _to_datetime(value, table, field)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return _in_utc(moment, value, table, field)


def _in_utc(moment: datetime, value: object, table: str, field: str) -> datetime:
    """``moment`` in UTC; an offset that pushes it past year 1 or 9999 is an InvalidRecord
    (``astimezone`` raises OverflowError, which would abort a whole batch)."""
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise InvalidRecord(table, field, f"{str(value)[:60]!r} falls outside years 1-9999 "
                            "in UTC (timestamps must)") from exc


def event_time_text(value: object, table: str = "?") -> str:
    """The envelope's event time text for a ``timestamp`` value (see parse_event_time)."""
    if type(value) is str:
        fast = _canonical_utc(value)
        if fast is not None:
            return fast
        moment = _parse_iso(value, table, "timestamp")
        return format_time(moment.replace(tzinfo=UTC) if moment.tzinfo is None
                           else _in_utc(moment, value, table, "timestamp"))
    return format_time(parse_event_time(value, table))


_UTC_SUFFIXES = frozenset(("", "Z", "z", "+00:00"))


def _canonical_utc(text: str) -> str | None:
    """The canonical text straight from ``text`` when it already is UTC in that layout.

    "YYYY-MM-DDTHH:MM:SS[.ffffff]", naive or with a zero offset, is the canonical form up to
    its suffix: checking the layout, then letting fromisoformat validate the naive part, costs
    a third of parsing and formatting a datetime (the slowest step of an append). Anything
    else returns ``None`` and takes the general path, which also reports errors.
    """
    head = text[:26] if text[19:20] == "." else text[:19]
    if (text[len(head):] not in _UTC_SUFFIXES or len(head) not in (19, 26)
            or text[4] != "-" or text[7] != "-" or text[10] != "T"
            or text[13] != ":" or text[16] != ":"):
        return None
    try:
        datetime.fromisoformat(head)
    except ValueError:
        return None
    return head + ".000000Z" if len(head) == 19 else head + "Z"


def _to_datetime(value: object, table: str, field: str) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return _parse_iso(value, table, field)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidRecord(table, field, f"epoch seconds {value!r} out of range") from exc
    raise InvalidRecord(
        table, field, f"expected ISO-8601 text, epoch seconds or a datetime, got {_kind(value)}"
    )


def _parse_iso(text: str, table: str, field: str) -> datetime:
    # Python 3.10's fromisoformat does not accept a trailing "Z".
    cleaned = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise InvalidRecord(
            table, field, f"unparseable timestamp {text[:60]!r} (use ISO-8601 such as "
            "'2026-03-20T14:00:11Z' or epoch seconds)"
        ) from exc


class Enveloper:
    """Prepares records for one table; reused across a batch so per-batch work is done once."""

    def __init__(self, table: str, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
                 rating_scale: Scale = DEFAULT_RATING_SCALE) -> None:
        self.table = table
        self.max_record_bytes = max_record_bytes
        # The ratings table's contract: a score on the scale, checked before anything is
        # written, so a bad score is refused here instead of turning null at compaction.
        self._scale = rating_scale if table == RATINGS_TABLE else None

    def envelope(self, record: object, *, default_id: str | None = None) -> Envelope:
        """Validate and serialize ``record``; raise :class:`InvalidRecord` naming what is wrong.

        The record id is the record's own ``record_id``, else ``default_id``, else a new one.
        """
        fields = record if type(record) is dict else _fields(record, self.table)
        if self._scale is not None:
            check_rating(fields, self.table, self._scale)
        own_id = fields.get("record_id")
        if own_id is not None:
            record_id = _record_id(own_id, self.table, "record_id")
        elif default_id is not None:
            record_id = _record_id(default_id, self.table, "record_id=")
        else:
            record_id = new_id()
        event_time = event_time_text(fields.get("timestamp"), self.table)
        line = self._dumps(record_id, event_time, record)
        return Envelope(record_id, event_time[:10], line)

    def _dumps(self, record_id: str, event_time: str, record: object) -> bytes:
        wrapper = {
            "record_id": record_id,
            "event_time": event_time,
            "ingested_at": accepted_now(),
            "record": record,
        }
        try:
            line: bytes = orjson.dumps(wrapper, option=_DUMPS_OPTIONS)
        except (orjson.JSONEncodeError, TypeError) as exc:
            path, reason = find_unserializable(record) or ("", str(exc))
            raise InvalidRecord(self.table, path or None, reason) from exc
        if b"null" in line:
            _reject_non_finite(record, self.table)
        if len(line) > self.max_record_bytes:
            raise InvalidRecord(
                self.table, None,
                f"record is {len(line)} bytes serialized, over the {self.max_record_bytes}-byte "
                "limit (store large blobs as files and record their paths)",
            )
        return line


def _fields(record: object, table: str) -> Mapping[str, Any]:
    if isinstance(record, dict):
        return record
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return _DataclassFields(record)
    raise InvalidRecord(table, None, f"a record must be a JSON object (dict or dataclass), "
                        f"got {_kind(record)}")


class _DataclassFields(Mapping[str, Any]):
    """Read-only view of a dataclass's fields, without copying it the way asdict() would."""

    def __init__(self, obj: object) -> None:
        self._obj = obj
        self._names = [f.name for f in dataclasses.fields(obj)]  # type: ignore[arg-type]

    def __getitem__(self, key: str) -> Any:
        if key not in self._names:
            raise KeyError(key)
        return getattr(self._obj, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _record_id(value: object, table: str, what: str) -> str:
    """A record id as given (the record's own, or the ``record_id=`` argument), validated
    before anything is acknowledged: a non-empty string of at most 256 characters, no
    control characters. Compaction would otherwise quarantine the line after the append
    returned (or, for an empty string, a new id would silently replace it)."""
    if isinstance(value, str) and 0 < len(value) <= MAX_RECORD_ID and not _CONTROL.search(value):
        return value
    if isinstance(value, str) and value:
        got = (f"{len(value)} characters" if len(value) > MAX_RECORD_ID
               else "a control character")
    else:
        got = "an empty string" if value == "" else _kind(value)
    raise InvalidRecord(table, "record_id", f"{what} must be a non-empty string of at most "
                        f"{MAX_RECORD_ID} characters without control characters, got {got}")


def _reject_non_finite(record: object, table: str) -> None:
    for path, value in _walk(record):
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidRecord(table, path, f"{value!r} is not valid JSON; store null or a "
                                "string instead")


def find_unserializable(record: object) -> tuple[str, str] | None:
    """The key path and reason of the first part of ``record`` JSON cannot hold, if any."""
    for path, value in _walk(record):
        if isinstance(value, _BadKey):
            return path, f"key {value.key!r} is a {_kind(value.key)}; JSON keys must be strings"
        if isinstance(value, _TooDeep):
            shown = path if len(path) <= 60 else path[:60] + "..."
            return shown, (f"nested deeper than {MAX_DEPTH} levels (the JSON writer's limit); "
                           "flatten it or store it as text")
        if isinstance(value, int) and not isinstance(value, bool) and not (
                -(2**63) <= value < 2**64):
            return path, "integer beyond 64 bits; store it as a string"
        try:
            orjson.dumps(value)
        except (orjson.JSONEncodeError, TypeError) as exc:
            return path, f"{_kind(value)} is not JSON-serializable ({exc})"
    return None


@dataclass(frozen=True)
class _BadKey:
    key: object


@dataclass(frozen=True)
class _TooDeep:
    """Stands for what lies below :data:`MAX_DEPTH` levels."""


def _walk(record: object) -> Iterator[tuple[str, object]]:
    """Yield (key path, leaf) for every leaf, depth first with an explicit stack (a record
    nested a thousand levels deep must not raise RecursionError); non-string keys are yielded
    as :class:`_BadKey`, and a container below :data:`MAX_DEPTH` levels as :class:`_TooDeep`."""
    stack: list[tuple[str, object, int]] = [("", record, 0)]
    while stack:
        path, value, depth = stack.pop()
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if isinstance(value, (dict, list, tuple)) and depth >= MAX_DEPTH:
            yield path, _TooDeep()
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                if not isinstance(key, str):
                    yield (path or "<root>"), _BadKey(key)
                    continue
                children.append((f"{path}.{key}" if path else key, item, depth + 1))
            stack.extend(reversed(children))
        elif isinstance(value, (list, tuple)):
            stack.extend(reversed([(f"{path}[{i}]", item, depth + 1)
                                   for i, item in enumerate(value)]))
        else:
            yield path, value


def _kind(value: object) -> str:
    return type(value).__name__
