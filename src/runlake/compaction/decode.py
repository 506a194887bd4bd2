"""Raw bytes of stored lines -> Polars rows for the usable lines; the rest become bad lines.

The fast path hands a blob to pyarrow's JSON reader. When lines disagree on a value's type
(``variant_value`` 6.0 here, "advanced" there), pyarrow names the path; the decoder groups the
lines by the kind of value that key holds (``kinds``), reads each group on its own,
and remembers the key so later blobs are grouped before reading. Groups come back as
separate parts; ``normalize`` puts them together on the type lattice. Only the lines of a
group pyarrow cannot read (not JSON objects, lists of mixed kinds, ...), and lines where it
read an integer as a float, go down the slow path (``fallback``), which names each bad
line's problem and reads each good line as it reads alone: a line's values never depend on
the other lines of its blob.

pyarrow also turns ISO-looking text into timestamps; the decoder remembers those paths and
reads them as text from then on, so a value never changes meaning with the blob it is in.
Every row keeps its line's byte offset, and ``payload`` holds the line's exact bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.json as pa_json

from runlake.compaction.fallback import (
    ENVELOPE_TEXT,
    EXACT_FLOAT,
    ITEMS,
    Path,
    grouped,
    parse_line,
    prepared,
    read_polars,
    read_polars_alone,
)
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
        key); the rest grouped, and the lines of groups pyarrow cannot read slow."""
        odd = _with_nul(lines)
        read: list[_Read] = []
        bad: list[_Bad] = []
        if len(odd):
            read, bad = self._slow(lines.subset(odd), arrow=False)
        if len(odd) == len(lines.at):
            return read, bad
        rest = lines.subset(np.setdiff1d(np.arange(len(lines.at)), odd))
        more, failed = self._read_grouped(rest)
        if len(failed):
            slow, worse = self._slow(rest.subset(failed))
            more, bad = more + slow, bad + worse
        return read + more, bad

    def _probe(self, lines: _Lines) -> None:
        """Learn timestamp paths from the first MiB before the first full read."""
        if self.probed or len(lines.blob) <= 4 * _PROBE_BYTES:
            return
        self.probed = True
        count = max(int(np.searchsorted(lines.ends, _PROBE_BYTES)), 1)
        self._read(lines.subset(np.arange(count, dtype=np.int64)), frozenset())

    def _read_grouped(self, lines: _Lines) -> tuple[list[_Read], _Positions]:
        """Read lines in groups; also return the positions (into ``lines.at``) of the lines
        pyarrow could not read, or read with an integer rounded, for the slow path."""
        found = lines.groups(self.split_keys)
        if len(found) > _MAX_GROUPS:
            return [], np.arange(len(lines.at), dtype=np.int64)
        return self._read_each(lines, found, depth=0)

    def _read_each(self, lines: _Lines, found: list[_Positions], depth: int
                   ) -> tuple[list[_Read], _Positions]:
        parts: list[_Read] = []
        failed = [np.zeros(0, dtype=np.int64)]
        for chosen in found:
            read, lost = self._read_group(lines.subset(chosen), depth)
            parts += read
            failed.append(chosen[lost])
        return parts, np.sort(np.concatenate(failed))

    def _read_group(self, lines: _Lines, depth: int) -> tuple[list[_Read], _Positions]:
        """Read lines with pyarrow; on a type conflict, split them by the conflicting key's
        value kinds and read each group. Lines it cannot read, and lines where it read an
        integer beyond 2**53 as a float (next to floats at the same path), are returned by
        position for the slow path, which reads each line as it is."""
        every = np.arange(len(lines.at), dtype=np.int64)
        table, conflict = self._read(lines, self._not_text(lines))
        if table is not None:
            table = _parse_times(table.select([*ENVELOPE_TEXT, "record"]))
            rounded = _rounded_rows(table)
            if len(rounded):
                kept = np.setdiff1d(every, rounded)
                table, lines = table.take(_int64_array(kept)), lines.subset(kept)
            frame = _to_polars(table)
            if frame is None:
                return [], every
            return ([_with_payload(frame, lines)] if frame.height else []), rounded
        key = _splittable(conflict)
        if key is None or depth >= _MAX_DEPTH:
            return [], every
        if key not in self.split_keys:
            self.split_keys = (*self.split_keys, key)
        found = lines.groups((key,))
        if len(found) == 1:
            return [], every
        return self._read_each(lines, found, depth + 1)

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
        """Check every line with orjson. With ``arrow``, read the good ones as a blob again if
        bad ones were found; otherwise line by line (:meth:`_forgiving`)."""
        view = memoryview(lines.blob)
        spans = list(zip(lines.starts.tolist(), lines.ends.tolist(), strict=True))
        checked = [parse_line(view[s:e]) for s, e in spans]
        bad = [(int(at), reason) for at, (_, reason) in
               zip(lines.at.tolist(), checked, strict=True) if reason is not None]
        good = [i for i, (doc, _) in enumerate(checked) if doc is not None]
        if not good:
            return [], bad
        kept = lines.subset(np.asarray(good, dtype=np.int64))
        if arrow and bad:  # the bad lines may be all that stopped pyarrow
            read, worse = self._read_all(kept)
            return read, bad + worse
        return self._forgiving(kept, [checked[i][0] for i in good], arrow=arrow), bad

    def _forgiving(self, lines: _Lines, docs: list[Any], *, arrow: bool) -> list[_Read]:
        """Read lines each prepared on its own (``fallback.prepared``), together only where
        their shapes agree, so each line gets the types it has alone."""
        view = memoryview(lines.blob)
        spans = zip(lines.starts.tolist(), lines.ends.tolist(), strict=True)
        ready = [prepared(doc, bytes(view[s:e])) for doc, (s, e) in zip(docs, spans,
                                                                        strict=True)]
        read: list[_Read] = []
        for members in grouped([shape for _, shape in ready]):
            chosen = np.asarray(members, dtype=np.int64)
            read += self._read_prepared(lines.subset(chosen), [ready[i][0] for i in members],
                                        arrow=arrow)
        return read

    def _read_prepared(self, lines: _Lines, texts: list[bytes], *, arrow: bool
                       ) -> list[_Read]:
        """Prepared lines (``texts``; ``lines`` keeps the stored bytes for the payload) read
        together, or halved until they read; a line alone that pyarrow cannot read (or must
        not: ``arrow`` false) is read by Polars, else the error goes up to be quarantined."""
        frame = self._read_texts(texts) if arrow else _polars_or_none(texts)
        if frame is not None:
            return [_with_payload(frame, lines)]
        if len(texts) == 1:
            return [_with_payload(read_polars_alone(texts[0]), lines)]
        half = len(texts) // 2
        first, second = np.arange(half, dtype=np.int64), np.arange(half, len(texts))
        return (self._read_prepared(lines.subset(first), texts[:half], arrow=arrow)
                + self._read_prepared(lines.subset(second), texts[half:], arrow=arrow))

    def _read_texts(self, texts: list[bytes]) -> pl.DataFrame | None:
        blob = b"".join(text + b"\n" for text in texts)
        starts, ends = index_lines(blob)
        lines = _Lines(blob, starts, ends, np.arange(len(starts), dtype=np.int64),
                       Kinds(blob, starts))
        table, _ = self._read(lines, self._not_text(lines))
        if table is None:
            return None
        return _to_polars(_parse_times(table.select([*ENVELOPE_TEXT, "record"])))


_Read = tuple[pl.DataFrame, npt.NDArray[np.int64]]  # rows, and their lines' positions
_Positions = npt.NDArray[np.int64]
_Bad = tuple[int, str]  # a bad line's position among the blob's lines, and why


def _int64_array(values: npt.NDArray[np.int64]) -> pa.Array:
    """``values`` as an Arrow array without a copy (``pa.array()`` would first check for a
    pandas object, importing pandas: 0.3 s of every compaction)."""
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def _with_payload(frame: pl.DataFrame, lines: _Lines) -> _Read:
    return frame.with_columns(_payload(lines.blob, lines.starts, lines.ends)), lines.at


def _polars_or_none(texts: list[bytes]) -> pl.DataFrame | None:
    try:
        return read_polars(texts)
    except pl.exceptions.PolarsError:
        return None


def _rounded_rows(table: pa.Table) -> _Positions:
    """Rows holding a whole float beyond 2**53 anywhere in their record: an integer read as
    a float next to floats at the same path (rounded), or beyond Int64. Only float columns
    are looked at, so a batch without such values costs a few vector comparisons."""
    column = table.column("record")
    found = [np.zeros(0, dtype=np.int64)]
    base = 0
    for chunk in column.chunks:
        found += [rows + base for rows in _rounded_in(chunk, None)]
        base += len(chunk)
    return np.unique(np.concatenate(found))


def _rounded_in(array: pa.Array, rows: _Positions | None) -> Iterator[_Positions]:
    """Row numbers (``rows`` maps each item of ``array`` to its row; ``None``: itself) of
    items holding a whole float beyond 2**53."""
    kind = array.type
    if not _holds_floats(kind):
        return
    if pa.types.is_float64(kind):
        # The values buffer as is (to_numpy with nulls, and Arrow scalars, import pandas);
        # a null's slot may hold anything, so hits are checked to be values.
        values = _values(array, np.float64)
        with np.errstate(invalid="ignore"):
            hit = np.flatnonzero(np.abs(values) >= EXACT_FLOAT)
        hit = hit[values[hit] == np.floor(values[hit])]
        validity = array.buffers()[0]
        if validity is not None and len(hit):
            at = hit + array.offset
            hit = hit[(np.frombuffer(validity, dtype=np.uint8)[at >> 3] >> (at & 7)) & 1 == 1]
        if len(hit):
            yield hit if rows is None else rows[hit]
    elif pa.types.is_struct(kind):
        for index in range(kind.num_fields):
            yield from _rounded_in(array.field(index), rows)
    else:  # a list
        parents = _values(pa_compute.list_parent_indices(array), np.int64)
        yield from _rounded_in(pa_compute.list_flatten(array),
                               parents if rows is None else rows[parents])


def _values(array: pa.Array, dtype: type[np.float64] | type[np.int64]) -> npt.NDArray[Any]:
    """A fixed-width array's values buffer seen by numpy (``to_numpy`` may import pandas)."""
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array),
                         offset=8 * array.offset)


def _holds_floats(kind: pa.DataType) -> bool:
    if pa.types.is_float64(kind):  # the only float type pyarrow's JSON reader makes
        return True
    if pa.types.is_struct(kind):
        return any(_holds_floats(kind.field(i).type) for i in range(kind.num_fields))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _holds_floats(kind.value_type)
    return False


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
        # pyarrow's reader can build lists whose offsets run past their values (lists of
        # nulls before lists of numbers): such a read holds other lines' values.
        table.validate()
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
