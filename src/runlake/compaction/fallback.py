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
Shape = dict[Path, int]  # the kinds (bits) of value at each path


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
    rewritten, see the module docstring), and its shape. Only the paths that change are
    walked again, so a line costs about one walk of its values."""
    kinds, big, wide, decimal = _kinds(doc)
    if wide:  # orjson read an integer beyond 64 bits as a float: the exact digits
        doc = json.loads(line)
        kinds, big, _, decimal = _kinds(doc)
    # Values of several kinds at one path, except integers with floats (a float holds an
    # integer up to 2**53 exactly).
    as_text = {path[:-1] if path[-1:] == (ITEMS,) else path
               for path, bits in kinds.items()
               if bits & (bits - 1) and (bits != INT | FLOAT or path in big)}
    if as_text or decimal:
        doc = _rewritten(doc, (), as_text, _prefixes(as_text | decimal))
        line = _json_text(doc).encode()
        for top in as_text:
            kinds = {path: bits for path, bits in kinds.items()
                     if len(path) <= len(top) or path[:len(top)] != top}
        kinds.update(dict.fromkeys(as_text, TEXT))
    kinds.pop((), None)
    return line, kinds


def grouped(shapes: Sequence[Shape]) -> list[list[int]]:
    """Positions of lines grouped so that, within a group, every path holds the same kinds
    of value in every line that has a value there (a path absent or null in a line goes
    with anything). A shape is tried against the first ``_MAX_TRIED`` groups only, which
    bounds the work for lines of many shapes (more groups: more, smaller reads)."""
    same: dict[frozenset[tuple[Path, int]], list[int]] = {}
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
TEXT, OBJECT, LIST, BOOLEAN, INT, FLOAT = 1, 2, 4, 8, 16, 32  # kinds of value, as bits
_KIND_BITS: dict[type, int] = {str: TEXT, dict: OBJECT, list: LIST, bool: BOOLEAN, int: INT,
                               float: FLOAT}


def _kinds(doc: Any) -> tuple[dict[Path, int], set[Path], bool, set[Path]]:
    """The kinds of value at each path (nulls have none); the paths holding an integer
    beyond 2**53; whether a float may be an integer beyond 64 bits that orjson read; and
    the paths holding integers beyond Int64 (written as their decimal text, so their kind
    is text). Iterative: no recursion limit."""
    kinds: dict[Path, int] = {}
    big: set[Path] = set()
    wide = False
    decimal: set[Path] = set()
    stack: list[tuple[Any, Path]] = [(doc, ())]
    while stack:
        value, path = stack.pop()
        bit = _KIND_BITS.get(type(value), 0)
        if bit == OBJECT:
            stack.extend((item, (*path, key)) for key, item in value.items())
        elif bit == LIST:
            items = (*path, ITEMS)
            stack.extend((item, items) for item in value)
        elif bit == INT and not -EXACT_FLOAT <= value <= EXACT_FLOAT:
            big.add(path)
            if not -_INT64 <= value < _INT64:
                bit = TEXT
                decimal.add(path)
        elif bit == FLOAT and not -_INT64 < value < _INT64 and value.is_integer():
            wide = True
        elif not bit:  # null
            continue
        kinds[path] = kinds.get(path, 0) | bit
    return kinds, big, wide, decimal


def _prefixes(paths: set[Path]) -> set[Path]:
    return {path[:end] for path in paths for end in range(len(path) + 1)}


def _rewritten(value: Any, path: Path, as_text: set[Path], touched: set[Path]) -> Any:
    """``value`` with mixed paths as JSON text and integers beyond Int64 as decimal text;
    only the ``touched`` paths are copied, the rest is shared."""
    if path in as_text and value is not None and type(value) is not str:
        return _json_text(value)
    if type(value) is dict:
        return {key: _rewritten(item, (*path, key), as_text, touched)
                if (*path, key) in touched else item for key, item in value.items()}
    if type(value) is list:
        items = (*path, ITEMS)
        return [_rewritten(item, items, as_text, touched) for item in value] \
            if items in touched else value
    if type(value) is int and not -_INT64 <= value < _INT64:
        return str(value)
    return value


def _json_text(value: Any) -> str:
    """Compact JSON text; the json module only for integers beyond 64 bits (orjson's
    limit), which it writes exactly."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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
