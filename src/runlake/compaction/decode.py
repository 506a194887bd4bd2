"""Raw bytes of stored lines -> Polars rows for the usable lines; the rest become bad lines.

The fast path hands a blob to pyarrow's JSON reader. When lines disagree on a value's type
(``variant_value`` 6.0 here, "advanced" there), pyarrow names the path; the decoder groups the
lines by the kind of value that key holds (``kinds``), reads each group on its own,
and remembers the key so later blobs are grouped before reading. Groups come back as
separate parts; ``normalize`` puts them together on the type lattice. Only lines
that are not JSON objects, or that pyarrow cannot read even so, send a blob down the slow
path (``fallback``), which names each bad line's problem.

pyarrow also turns ISO-looking text into timestamps; the decoder remembers those paths and
reads them as text from then on, so a value never changes meaning with the blob it is in.
Every row keeps its line's byte offset, and ``payload`` holds the line's exact bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.json as pa_json

from runlake.compaction.fallback import ENVELOPE_TEXT, ITEMS, Path, parse_line, read_polars
from runlake.compaction.kinds import TEXT, Kinds

NEWLINE = 10
_MIN_BLOCK = 4 << 20
_PROBE_BYTES = 1 << 20
_INLINE = 12  # string views hold strings this short inline
_SCAN_STEP = 1 << 20
_MAX_GROUPS = 64  # beyond this many shapes in one blob, the slow path is simpler
_MAX_DEPTH = 8  # conflicting keys split in a row before giving up on a group
_NUL_ESCAPE = re.compile(rb"\\u0000")  # JSON's spelling of a NUL character
_CONFLICT = re.compile(r"Column\((/[^)]*)\) changed from")

Offsets = npt.NDArray[np.int64]
Buffer = bytes | bytearray | memoryview


@dataclass(frozen=True)
class BadLine:
    """A line that cannot be used: where it starts in the blob, its length and why."""

    offset: int
    length: int
    reason: str


@dataclass(frozen=True)
class Part:
    """Rows read together: ``record_id`` (text), ``event_time`` and ``ingested_at`` (UTC
    timestamps, or text when some value did not parse), ``record`` (struct), ``payload``
    (the line); and each row's line offset and length in the blob."""

    frame: pl.DataFrame
    starts: Offsets
    lengths: Offsets


@dataclass(frozen=True)
class Decoded:
    """The parts holding the usable lines, and the bad lines."""

    parts: list[Part]
    bad: list[BadLine]


@dataclass(frozen=True)
class _Lines:
    """Some lines of a blob: ``at`` are their positions among all the blob's lines, whose
    kind masks ``kinds`` holds."""

    blob: Buffer
    starts: Offsets
    ends: Offsets
    at: npt.NDArray[np.int64]
    kinds: Kinds

    def subset(self, chosen: npt.NDArray[np.int64]) -> _Lines:
        """The chosen lines (positions into ``at``, ascending) copied into a blob of their
        own, each with the bytes up to the next line's start (its newline).

        One Arrow ``take`` over the lines as a binary array: a single copy without the GIL
        (joining memoryview slices in Python held it for each line).
        """
        if len(chosen) == len(self.at):
            return self
        bounds = np.append(self.starts, np.int64(len(self.blob)))
        lines = pa.Array.from_buffers(pa.large_binary(), len(self.starts),
                                      [None, pa.py_buffer(bounds), pa.py_buffer(self.blob)])
        taken = lines.take(_int64_array(chosen))
        offsets = np.frombuffer(taken.buffers()[1], dtype=np.int64)[
            taken.offset:taken.offset + len(chosen) + 1]
        data = taken.buffers()[2]
        blob = memoryview(data)[offsets[0]:offsets[-1]] if data is not None else b""
        spans = bounds[chosen + 1] - bounds[chosen]
        starts = np.cumsum(spans) - spans
        lengths = self.ends[chosen] - self.starts[chosen]
        return _Lines(blob, starts, starts + lengths, self.at[chosen], self.kinds)

    def groups(self, keys: tuple[str, ...]) -> list[npt.NDArray[np.int64]]:
        """Positions of these lines grouped by the kinds ``keys`` hold."""
        return self.kinds.groups(keys, self.at)


@dataclass
class Decoder:
    """Decodes blobs of stored lines, learning which paths to read as text and which keys
    to group lines by. Safe to share between threads: what it learned is replaced whole,
    never changed in place. ``threads=False`` parses each blob on one thread (for callers
    that decode several blobs at once)."""

    text_paths: frozenset[Path] = frozenset()
    split_keys: tuple[str, ...] = ()
    threads: bool = True
    probed: bool = False

    def decode(self, blob: Buffer) -> Decoded:
        starts, ends = index_lines(blob)
        lines = _Lines(blob, starts, ends, np.arange(len(starts), dtype=np.int64),
                       Kinds(blob, starts))
        if not _valid_utf8(blob):  # pyarrow would store it as is: orjson names the lines
            read, bad = self._slow(lines)
        else:
            self._probe(lines)
            read, bad = self._read_all(lines)
        parts = [Part(frame, starts[at], ends[at] - starts[at]) for frame, at in read]
        return Decoded(parts, [BadLine(int(starts[at]), int(ends[at] - starts[at]), reason)
                               for at, reason in sorted(bad)])

    def _read_all(self, lines: _Lines) -> tuple[list[_Read], list[_Bad]]:
        """Lines with a NUL escape on the slow path, without pyarrow (which changes such a
        key), the rest grouped, or slow if need be."""
        odd = _with_nul(lines)
        if not len(odd):
            read = self._read_grouped(lines)
            return (read, []) if read is not None else self._slow(lines)
        rest = np.setdiff1d(np.arange(len(lines.at)), odd)
        read, bad = self._slow(lines.subset(odd), arrow=False)
        if len(rest):
            more, worse = self._read_all(lines.subset(rest))
            read, bad = read + more, bad + worse
        return read, bad

    def _probe(self, lines: _Lines) -> None:
        """Learn timestamp paths from the first MiB before the first full read."""
        if self.probed or len(lines.blob) <= 4 * _PROBE_BYTES:
            return
        self.probed = True
        count = max(int(np.searchsorted(lines.ends, _PROBE_BYTES)), 1)
        self._read(lines.subset(np.arange(count, dtype=np.int64)), frozenset())

    def _read_grouped(self, lines: _Lines) -> list[_Read] | None:
        found = lines.groups(self.split_keys)
        if len(found) > _MAX_GROUPS:
            return None
        parts: list[_Read] = []
        for chosen in found:
            read = self._read_group(lines.subset(chosen), depth=0)
            if read is None:
                return None
            parts += read
        return parts

    def _read_group(self, lines: _Lines, depth: int) -> list[_Read] | None:
        """Read lines with pyarrow; on a type conflict, split them by the conflicting key's
        value kinds and read each group (``None``: these lines need the slow path)."""
        table, conflict = self._read(lines, self._not_text(lines))
        if table is not None:
            frame = _to_polars(_parse_times(table.select([*ENVELOPE_TEXT, "record"])))
            return None if frame is None else [_with_payload(frame, lines)]
        key = _splittable(conflict)
        if key is None or depth >= _MAX_DEPTH:
            return None
        if key not in self.split_keys:
            self.split_keys = (*self.split_keys, key)
        found = lines.groups((key,))
        if len(found) == 1:
            return None
        parts: list[_Read] = []
        for chosen in found:
            read = self._read_group(lines.subset(chosen), depth + 1)
            if read is None:
                return None
            parts += read
        return parts

    def _not_text(self, lines: _Lines) -> frozenset[str]:
        """Split keys that hold no text in these lines: their learned text paths would
        clash with what the lines hold, so pyarrow must infer those."""
        return frozenset(k for k in self.split_keys
                         if not np.any(lines.kinds.of(k, lines.at) & TEXT))

    def _read(self, lines: _Lines, not_text: frozenset[str]) -> tuple[pa.Table | None, str]:
        """Read with what is known (twice if the first read taught a new text path);
        return the table, or ``None`` and pyarrow's complaint."""
        longest = int((lines.ends - lines.starts).max(initial=0))
        for _ in range(2):
            known = frozenset(p for p in self.text_paths if p[-1] not in not_text)
            table, error = _read_arrow(lines.blob, longest, known, self.threads)
            if table is None:
                return None, error
            if table.num_rows != len(lines.at) or not _envelope_ok(table):
                return None, ""
            learned = set(_temporal_paths(table.schema)) - known
            if not learned:
                return table, ""
            self.text_paths = self.text_paths | learned  # another thread may have, too
        return None, ""

    def _slow(self, lines: _Lines, *, arrow: bool = True) -> tuple[list[_Read], list[_Bad]]:
        """Check every line with orjson; read the good ones grouped (with ``arrow``), or
        with Polars."""
        view = memoryview(lines.blob)
        spans = list(zip(lines.starts.tolist(), lines.ends.tolist(), strict=True))
        checked = [parse_line(view[s:e]) for s, e in spans]
        bad = [(int(at), reason) for at, (_, reason) in
               zip(lines.at.tolist(), checked, strict=True) if reason is not None]
        good = [i for i, (doc, _) in enumerate(checked) if doc is not None]
        if not good:
            return [], bad
        kept = lines.subset(np.asarray(good, dtype=np.int64))
        read = self._read_grouped(kept) if arrow else None
        if read is None:
            docs = [checked[i][0] for i in good]
            frame = read_polars([bytes(view[spans[i][0]:spans[i][1]]) for i in good], docs)
            read = [_with_payload(frame, kept)]
        return read, bad


_Read = tuple[pl.DataFrame, npt.NDArray[np.int64]]  # rows, and their lines' positions
_Bad = tuple[int, str]  # a bad line's position among the blob's lines, and why


def _int64_array(values: npt.NDArray[np.int64]) -> pa.Array:
    """``values`` as an Arrow array without a copy (``pa.array()`` would first check for a
    pandas object, importing pandas: 0.3 s of every compaction)."""
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def _with_payload(frame: pl.DataFrame, lines: _Lines) -> _Read:
    return frame.with_columns(_payload(lines.blob, lines.starts, lines.ends)), lines.at


def _valid_utf8(blob: Buffer) -> bool:
    """Whether ``blob`` is valid UTF-8: Arrow's validation of one string over its bytes
    (no copy, gigabytes a second). pyarrow's JSON reader does not check strings, and one
    flipped bit would otherwise be committed as out-of-spec Parquet that no reader opens."""
    bounds = np.array([0, len(blob)], dtype=np.int64)
    text = pa.Array.from_buffers(pa.large_string(), 1,
                                 [None, pa.py_buffer(bounds), pa.py_buffer(blob)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _with_nul(lines: _Lines) -> npt.NDArray[np.int64]:
    """Positions (into ``lines.at``) of lines holding a ``\\u0000`` escape."""
    found = [match.start() for match in _NUL_ESCAPE.finditer(lines.blob)]  # no copy
    if not found:
        return np.zeros(0, dtype=np.int64)
    owners = np.searchsorted(lines.starts, np.asarray(found), side="right") - 1
    return np.unique(owners).astype(np.int64)


def _splittable(conflict: str) -> str | None:
    """The key named by a pyarrow type-conflict message, if lines can be grouped by it."""
    match = _CONFLICT.search(conflict)
    if match is None:
        return None
    key = match.group(1).rsplit("/", 1)[-1]
    return None if key in ("", ITEMS) else key


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
    (Arrow's parser: fast); otherwise left as text for ``normalize`` to sort out
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
) -> tuple[pa.Table | None, str]:
    """pyarrow's reading of ``blob``, or ``None`` and its error message."""
    options = pa_json.ParseOptions(
        explicit_schema=_explicit_schema(text_paths), unexpected_field_behavior="infer"
    )
    block = max(_MIN_BLOCK, 2 * (longest + 2))  # a line may not straddle two blocks
    try:
        table = pa_json.read_json(
            pa.BufferReader(blob),
            read_options=pa_json.ReadOptions(block_size=block, use_threads=threads),
            parse_options=options,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError) as exc:
        return None, str(exc)
    return table, ""


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
    if paths and all(p[0] == ITEMS for p in paths):
        return pa.list_(_text_at([p[1:] for p in paths]))
    children: dict[str, list[Path]] = {}
    for path in paths:
        if path[0] != ITEMS:
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
        yield from _temporal(kind.value_type, (*path, ITEMS))
    elif pa.types.is_temporal(kind):
        yield path
