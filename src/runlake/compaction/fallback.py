"""The slow, forgiving way to read stored lines: one at a time with orjson, then Polars.

Used only when the fast path cannot read a batch even in groups: it names each bad line's
problem, and :func:`reconcile` makes shapes Polars would refuse (an object here, a number
there; booleans and numbers; empty objects) readable by turning them into JSON text.
"""

from __future__ import annotations

from typing import Any

import orjson
import polars as pl

ENVELOPE_TEXT = ("record_id", "event_time", "ingested_at")
MAX_RECORD_ID = 256
ITEMS = "[]"  # in a path: "the items of this list"

Path = tuple[str, ...]


def parse_line(line: bytes | memoryview) -> tuple[dict[str, Any] | None, str | None]:
    """A stored line as a document, or why it is not a usable envelope."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(doc, dict):
        return None, f"not a JSON object (a {type(doc).__name__})"
    record_id = doc.get("record_id")
    if not isinstance(record_id, str) or not 0 < len(record_id) <= MAX_RECORD_ID:
        return None, "record_id is missing or not a string of 1-256 characters"
    if not isinstance(doc.get("event_time"), str):
        return None, "event_time is missing or not text"
    if not isinstance(doc.get("record"), dict):
        return None, "record is missing or not a JSON object"
    return doc, None


def read_polars(lines: list[bytes], docs: list[Any]) -> pl.DataFrame:
    """Read valid lines with Polars, which widens conflicting scalars to text. Shapes it
    cannot reconcile (an object here, a number there; empty objects) are made readable
    first: see :func:`reconcile`."""
    try:
        frame = pl.read_ndjson(b"\n".join(lines), infer_schema_length=None)
    except pl.exceptions.PolarsError:
        fixed = b"\n".join(orjson.dumps(doc) for doc in reconcile(docs))
        frame = pl.read_ndjson(fixed, infer_schema_length=None)
    return _envelope_columns(frame)


def reconcile(docs: list[Any]) -> list[Any]:
    """Copies of ``docs`` Polars can read. Where different kinds of value meet at one path
    across the documents (an object and a number, a boolean and a number, ...), every value
    there becomes its JSON text; so does every list at a path whose items are objects, lists
    or mixed kinds; empty objects become null. Numbers and text may meet: Polars widens
    those to text itself."""
    kinds: dict[Path, set[str]] = {}
    for doc in docs:
        _kinds(doc, (), kinds)
    as_text = {path for path, seen in kinds.items() if _mixed(seen)}
    as_text |= {path[:-1] for path, seen in kinds.items()
                if path[-1:] == (ITEMS,) and ({"object", "list"} & seen or _mixed(seen))}
    return [_rewritten(doc, (), as_text) for doc in docs]


_RECORD = ("record",)


def _mixed(kinds: set[str]) -> bool:
    return len(kinds) > 1 and not kinds <= {"number", "text"}


def _kinds(value: Any, path: Path, into: dict[Path, set[str]]) -> None:
    if value is None:
        return
    into.setdefault(path, set()).add(_kind(value))
    if isinstance(value, dict):
        for key, item in value.items():
            _kinds(item, (*path, key), into)
    elif isinstance(value, list):
        for item in value:
            _kinds(item, (*path, ITEMS), into)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    return "text" if isinstance(value, str) else "number"


def _rewritten(value: Any, path: Path, as_text: set[Path]) -> Any:
    if value == {} and path != _RECORD:  # an empty record is a record, not a missing one
        return None
    if path in as_text and value is not None and not isinstance(value, str):
        return orjson.dumps(value).decode()
    if isinstance(value, dict):
        return {key: _rewritten(item, (*path, key), as_text) for key, item in value.items()}
    return value


def _envelope_columns(frame: pl.DataFrame) -> pl.DataFrame:
    text = [pl.col(n).cast(pl.String) if n in frame.columns else pl.lit(None, pl.String).alias(n)
            for n in ENVELOPE_TEXT]
    return frame.select(*text, pl.col("record"))
