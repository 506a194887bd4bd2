"""The slow, forgiving way to read stored lines: one at a time with orjson, each line on its own.

Used only for lines the fast path cannot read even in groups (and for lines it read whose
integers a float would round): it names each bad line's problem, and prepares each good line
by itself, so that what a line's columns hold never depends on the other lines of its batch:

- :func:`prepared` rewrites, within one line, only what no reader can hold: where values of
  different kinds meet at one path of the line (``[false, 0]``, ``[{"x": 1}, {"x": "a"}]``,
  an integer beyond 2**53 beside a float), they become their JSON text (a list of scalars
  as a whole, which is what its column holds anyway); an integer beyond Int64 becomes its
  exact decimal text. Everything else is read as stored.
- It also gives the line's **shape** (the kinds of value at each path); :func:`grouped`
  puts lines together only when their shapes agree wherever both have a value, so reading a
  group together gives each line the types it has alone.

:func:`read_polars` is the reader for lines pyarrow must not read (a NUL in a key) or cannot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson
import polars as pl

ENVELOPE_TEXT = ("record_id", "event_time", "ingested_at")
MAX_RECORD_ID = 256
ITEMS = "[]"  # in a path: "the items of this list"
EXACT_FLOAT = 2**53  # beyond this a float no longer holds every integer
_INT64 = 2**63
_MAX_TRIED = 64

Path = tuple[str, ...]
Shape = dict[Path, frozenset[str]]


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


def prepared(doc: dict[str, Any], line: bytes) -> tuple[bytes, Shape]:
    """The line as the forgiving path reads it (as stored unless something in it must be
    rewritten, see the module docstring), and its shape."""
    kinds: dict[Path, set[str]] = {}
    _kinds(doc, (), kinds)
    if "wide" in kinds.get((), ()):  # orjson read an integer beyond 64 bits as a float
        doc = json.loads(line)
        kinds = {}
        _kinds(doc, (), kinds)
    as_text = {path for path, seen in kinds.items() if _mixed(seen)}
    as_text = {path[:-1] if path[-1:] == (ITEMS,) else path for path in as_text}
    if as_text or "rewrite" in kinds.get((), ()):
        doc = _rewritten(doc, (), as_text)
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        kinds = {}
        _kinds(doc, (), kinds)
    return line, {path: frozenset(seen & _KINDS) for path, seen in kinds.items() if path}


def grouped(shapes: Sequence[Shape]) -> list[list[int]]:
    """Positions of lines grouped so that, within a group, every path holds the same kinds
    of value in every line that has a value there (a path absent or null in a line goes
    with anything). A shape is tried against the first ``_MAX_TRIED`` groups only, which
    bounds the work for lines of many shapes (more groups: more, smaller reads)."""
    same: dict[frozenset[tuple[Path, frozenset[str]]], list[int]] = {}
    for index, shape in enumerate(shapes):
        same.setdefault(frozenset(shape.items()), []).append(index)
    groups: list[tuple[Shape, list[int]]] = []
    for items, lines in same.items():
        shape = dict(items)
        for joint, members in groups[:_MAX_TRIED]:
            if all(joint.get(path, kinds) == kinds for path, kinds in shape.items()):
                joint.update(shape)
                members.extend(lines)
                break
        else:
            groups.append((shape, list(lines)))
    return [sorted(members) for _, members in groups]


def read_polars(lines: Sequence[bytes]) -> pl.DataFrame:
    """Read prepared lines with Polars (raises if it cannot); envelope fields as text."""
    return _envelope_columns(pl.read_ndjson(b"\n".join(lines), infer_schema_length=None))


def read_polars_alone(line: bytes) -> pl.DataFrame:
    """One prepared line with Polars, empty objects made null first (Polars may refuse
    them; the empty record stays a record)."""
    return read_polars([orjson.dumps(_without_empty(orjson.loads(line), ()))])


_RECORD = ("record",)
_KINDS = frozenset({"text", "object", "list", "boolean", "int", "float"})


def _mixed(kinds: set[str]) -> bool:
    """Whether values of these kinds cannot share a column without changing: anything but
    integers with floats (a float holds an integer up to 2**53 exactly)."""
    found = kinds & _KINDS
    return len(found) > 1 and not (found <= {"int", "float"} and "big" not in kinds)


def _kinds(value: Any, path: Path, into: dict[Path, set[str]]) -> None:
    """The kinds of value at each path; at the root also ``wide`` (a float that may be an
    integer beyond 64 bits read by orjson) and ``rewrite`` (an integer beyond Int64)."""
    if value is None:
        return
    kind = _kind(value)
    seen = into.setdefault(path, set())
    if kind == "int" and abs(value) > EXACT_FLOAT:
        seen.add("big")
        if not -_INT64 <= value < _INT64:
            kind = "text"  # written as its decimal text
            into.setdefault((), set()).add("rewrite")
    elif kind == "float" and abs(value) >= _INT64 and value.is_integer():
        into.setdefault((), set()).add("wide")
    seen.add(kind)
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
    if isinstance(value, str):
        return "text"
    return "int" if isinstance(value, int) else "float"


def _rewritten(value: Any, path: Path, as_text: set[Path]) -> Any:
    if path in as_text and value is not None and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, dict):
        return {key: _rewritten(item, (*path, key), as_text) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewritten(item, (*path, ITEMS), as_text) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
        return str(value)
    return value


def _without_empty(value: Any, path: Path) -> Any:
    if value == {} and path != _RECORD:  # an empty record is a record, not a missing one
        return None
    if isinstance(value, dict):
        return {key: _without_empty(item, (*path, key)) for key, item in value.items()}
    return value


def _envelope_columns(frame: pl.DataFrame) -> pl.DataFrame:
    text = [pl.col(n).cast(pl.String) if n in frame.columns else pl.lit(None, pl.String).alias(n)
            for n in ENVELOPE_TEXT]
    return frame.select(*text, pl.col("record"))
