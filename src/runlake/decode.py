"""Raw bytes of stored lines -> one Polars row per usable line; the rest become bad lines.

The fast path hands the whole blob to pyarrow's multi-threaded JSON reader. It gives up on
anything unusual (a type conflict between lines, invalid JSON, a line pyarrow skips), and the
slow path then checks every line with orjson, sets the bad ones aside with a reason, and reads
the rest with Polars, which widens conflicting values to text instead of failing. Either way
the rows come back in line order with their byte offsets, and ``payload`` holds each line's
exact bytes.

pyarrow turns ISO-looking strings into timestamps; a :class:`Decoder` remembers those paths
and reads them as text from then on, so a value never changes meaning with the batch it is in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.json as pa_json

ENVELOPE_TEXT = ("record_id", "event_time", "ingested_at")
MAX_RECORD_ID = 256
NEWLINE = 10
_MIN_BLOCK = 4 << 20
_PROBE_BYTES = 1 << 20
_INLINE = 12
_SCAN_STEP = 1 << 20  # string views hold strings this short inline
_ITEMS = "[]"  # in a learned path: "the items of this list"

Path = tuple[str, ...]
Offsets = npt.NDArray[np.int64]
Buffer = bytes | bytearray | memoryview


@dataclass(frozen=True)
class BadLine:
    """A line that cannot be used: where it starts in the blob, its length and why."""

    offset: int
    length: int
    reason: str


@dataclass(frozen=True)
class Decoded:
    """Usable lines as rows (``record_id``: text; ``event_time``, ``ingested_at``: UTC
    timestamps, or text when some value did not parse; ``record``: struct; ``payload``: the
    line), their offsets and lengths, and the bad lines."""

    frame: pl.DataFrame
    starts: Offsets
    lengths: Offsets
    bad: list[BadLine]


@dataclass
class Decoder:
    """Decodes blobs of stored lines; learns which paths pyarrow must read as text.

    Safe to share between threads: what it learned is one immutable set, replaced whole.
    ``threads=False`` parses each blob on one thread (for callers that decode several
    blobs at once: less overhead than splitting each one).
    """

    text_paths: frozenset[Path] = frozenset()
    threads: bool = True
    probed: bool = False

    def decode(self, blob: Buffer) -> Decoded:
        starts, ends = index_lines(blob)
        table = self._fast(blob, starts, ends)
        frame = None if table is None else _to_polars(
            _parse_times(table.select([*ENVELOPE_TEXT, "record"])))
        if frame is None:
            return _slow(blob, starts, ends)
        payload = _payload(blob, starts, ends)
        return Decoded(frame.with_columns(payload), starts, ends - starts, [])

    def _fast(self, blob: Buffer, starts: Offsets, ends: Offsets) -> pa.Table | None:
        longest = int((ends - starts).max(initial=0))
        if not self.probed and len(blob) > 4 * _PROBE_BYTES:
            self.probed = True  # learn timestamp paths cheaply before the first full read
            self._read(blob[:_probe_end(ends)], longest)
        for _ in range(2):  # the second read applies timestamp paths learned by the first
            table, learned = self._read(blob, longest)
            if table is None or table.num_rows != len(starts):
                return None
            if not learned:
                return table
        return None

    def _read(self, blob: Buffer, longest: int) -> tuple[pa.Table | None, bool]:
        """Read with what is known; return the table and whether new text paths were found."""
        known = self.text_paths
        table = _read_arrow(blob, longest, known, self.threads)
        if table is None or not _envelope_ok(table):
            return None, False
        learned = set(_temporal_paths(table.schema)) - known
        if learned:
            self.text_paths = self.text_paths | learned
        return table, bool(learned)


def _probe_end(ends: Offsets) -> int:
    index = max(int(np.searchsorted(ends, _PROBE_BYTES)), 1)
    return int(ends[min(index, len(ends)) - 1]) + 1


def index_lines(blob: Buffer) -> tuple[Offsets, Offsets]:
    """Start and end (exclusive, before the newline) of every non-empty line of ``blob``."""
    newlines = newline_offsets(blob)
    if blob and blob[-1] != NEWLINE:  # a last line without its newline still counts
        newlines = np.append(newlines, np.int64(len(blob)))
    starts = np.concatenate([np.zeros(1, np.int64), newlines[:-1] + 1])
    keep = newlines > starts
    return starts[keep], newlines[keep]


def newline_offsets(blob: Buffer) -> Offsets:
    """Offsets of every newline byte; scanned in 1 MiB steps so the temporaries stay in
    cache instead of one blob-sized mask."""
    data = np.frombuffer(blob, dtype=np.uint8)
    found = [np.flatnonzero(data[at:at + _SCAN_STEP] == NEWLINE) + at
             for at in range(0, len(data), _SCAN_STEP)]
    return np.concatenate(found).astype(np.int64) if found else np.zeros(0, np.int64)


def _payload(blob: Buffer, starts: Offsets, ends: Offsets) -> pl.Series:
    """The lines' exact bytes as a text column that points into ``blob`` (no copy).

    A string view is (length, first 4 bytes, buffer, offset), or the bytes themselves for
    strings of at most 12 bytes. Callers pass only lines known to be valid UTF-8.
    """
    data = np.frombuffer(blob, dtype=np.uint8)
    lengths = (ends - starts).astype(np.int32)
    views = np.zeros((len(starts), 4), dtype=np.int32)
    views[:, 0] = lengths
    # The first 4 bytes of each line (clipped at the end: short lines are inlined below).
    prefix = np.minimum(starts[:, None] + np.arange(4), len(data) - 1)
    views[:, 1] = data[prefix].view(np.int32)[:, 0]
    views[:, 3] = starts.astype(np.int32)
    raw = views.view(np.uint8).reshape(len(starts), 16)
    for index in np.flatnonzero(lengths <= _INLINE).tolist():
        raw[index, 4:] = 0
        raw[index, 4:4 + lengths[index]] = data[starts[index]:ends[index]]
    array = pa.Array.from_buffers(
        pa.string_view(), len(starts), [None, pa.py_buffer(views), pa.py_buffer(blob)]
    )
    return pl.Series("payload", array)


def _parse_times(table: pa.Table) -> pa.Table:
    """Envelope times as UTC timestamps when every value parses as ISO-8601 with a zone
    (Arrow's parser: fast); otherwise left as text for :mod:`runlake.normalize` to sort out
    row by row."""
    for name in ENVELOPE_TEXT[1:]:
        index = table.schema.get_field_index(name)
        try:
            parsed = pa_compute.cast(table.column(index), pa.timestamp("us", "UTC"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        table = table.set_column(index, name, parsed)
    return table


def _to_polars(table: pa.Table) -> pl.DataFrame | None:
    """The table in Polars, or ``None`` if Polars cannot take it (the slow path can)."""
    try:
        frame = pl.from_arrow(table)
    except pl.exceptions.PolarsError:
        return None
    assert isinstance(frame, pl.DataFrame)
    return frame


def _read_arrow(
    blob: Buffer, longest: int, text_paths: frozenset[Path], threads: bool
) -> pa.Table | None:
    options = pa_json.ParseOptions(
        explicit_schema=_explicit_schema(text_paths), unexpected_field_behavior="infer"
    )
    block = max(_MIN_BLOCK, 2 * (longest + 2))  # a line may not straddle two blocks
    try:
        return pa_json.read_json(
            pa.BufferReader(blob),
            read_options=pa_json.ReadOptions(block_size=block, use_threads=threads),
            parse_options=options,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None


def _explicit_schema(text_paths: frozenset[Path]) -> pa.Schema:
    record = [p[1:] for p in text_paths if p[0] == "record" and len(p) > 1]
    return pa.schema([
        *(pa.field(name, pa.string()) for name in ENVELOPE_TEXT),
        pa.field("record", _text_at(record)),
    ])


def _text_at(paths: list[Path]) -> pa.DataType:
    """The partial type that holds ``string`` at each of ``paths`` (empty path: here)."""
    if any(not p for p in paths):
        return pa.string()
    if paths and all(p[0] == _ITEMS for p in paths):
        return pa.list_(_text_at([p[1:] for p in paths]))
    children: dict[str, list[Path]] = {}
    for path in paths:
        if path[0] != _ITEMS:
            children.setdefault(path[0], []).append(path[1:])
    return pa.struct([pa.field(k, _text_at(v)) for k, v in sorted(children.items())])


def _envelope_ok(table: pa.Table) -> bool:
    schema = table.schema
    return (
        all(pa.types.is_string(schema.field(n).type) for n in ENVELOPE_TEXT)
        and pa.types.is_struct(schema.field("record").type)
    )


def _temporal_paths(schema: pa.Schema) -> Iterator[Path]:
    for item in schema:
        yield from _temporal(item.type, (item.name,))


def _temporal(kind: pa.DataType, path: Path) -> Iterator[Path]:
    if pa.types.is_struct(kind):
        for index in range(kind.num_fields):
            child = kind.field(index)
            yield from _temporal(child.type, (*path, child.name))
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        yield from _temporal(kind.value_type, (*path, _ITEMS))
    elif pa.types.is_temporal(kind):
        yield path


def _slow(blob: Buffer, starts: Offsets, ends: Offsets) -> Decoded:
    view = memoryview(blob)
    spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
    checked = [parse_line(view[s:e]) for s, e in spans]
    good = [i for i, (doc, _) in enumerate(checked) if doc is not None]
    lines = [bytes(view[spans[i][0]:spans[i][1]]) for i in good]
    frame = _read_polars(lines, [checked[i][0] for i in good])
    kept = np.asarray(good, dtype=np.int64)
    frame = frame.with_columns(_payload(blob, starts[kept], ends[kept]))
    bad = [BadLine(s, e - s, reason) for (s, e), (_, reason) in zip(spans, checked, strict=True)
           if reason is not None]
    return Decoded(frame, starts[kept], (ends - starts)[kept], bad)


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


def _read_polars(lines: list[bytes], docs: list[Any]) -> pl.DataFrame:
    """Read valid lines with Polars, which widens conflicting scalars to text. Shapes it
    cannot reconcile (an object here, a number there; empty objects) are made readable
    first: see :func:`reconcile`."""
    if not lines:
        return _empty_envelope()
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
                if path[-1:] == (_ITEMS,) and ({"object", "list"} & seen or _mixed(seen))}
    return [_rewritten(doc, (), as_text) for doc in docs]


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
            _kinds(item, (*path, _ITEMS), into)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    return "text" if isinstance(value, str) else "number"


def _rewritten(value: Any, path: Path, as_text: set[Path]) -> Any:
    if value == {}:
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


def _empty_envelope() -> pl.DataFrame:
    return pl.DataFrame(schema={"record_id": pl.String, "event_time": pl.String,
                                "ingested_at": pl.String, "record": pl.Struct([])})
