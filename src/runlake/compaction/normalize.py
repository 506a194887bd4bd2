"""Stored lines -> one normalized row each: envelope, canonical knobs, leaf columns, payload.

The one place that decides what a record means; compaction uses it, and so does a reader of
the uncompacted tail, on any byte range of whole lines::

    >>> normalize_lines(segment.read_bytes()).frame          # doctest: +SKIP

Everything is vectorized: the record is read as nested Arrow/Polars columns, flattened to
leaf columns (``config.<path>``, ``metadata.<path>``, ``record.<path>``), and each canonical
column is a coalesce over the leaves that may hold it (see :mod:`runlake.records.knobs`).
The rules are written out in ``docs/compaction.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from runlake.compaction.canonical import canonical_values
from runlake.compaction.columns import (
    CANONICAL,
    SUBSCORE_PREFIX,
    cast_leaf,
    dtype_of,
    join,
    lattice_type,
    render,
    to_lattice,
)
from runlake.compaction.decode import (
    BadLine,
    Buffer,
    Decoded,
    Decoder,
    Offsets,
    Part,
    index_lines,
)
from runlake.compaction.evolve import beyond_floats, unify
from runlake.compaction.fallback import MAX_RECORD_ID
from runlake.compaction.names import column_name_ok, field, is_panic
from runlake.records.knobs import (
    CONFIG_KNOBS,
    DURATION_MILLISECONDS,
    DURATION_SECONDS,
    FIELD_KNOBS,
    SIZE_ALIASES,
    STAGES,
    SUBSCORE_PREFIXES,
    VARIANT_VALUE_SOURCES,
    ConfigKnob,
    Kind,
)
from runlake.records.vocabulary import NOT_RATING_KINDS, NOT_RATING_SOURCES, PLACEHOLDERS

TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%S%.f%:z")
FIRST_OUTPUT = "record.outputs[0].path"  # an extra source, not a column
_SIZE = r"^\s*(\d+)\s*[xX\u00d7]\s*(\d+)\s*$"  # 832x1216, also with a times sign
_INT64_BOUND = 2.0**63
MAX_LEAF_DEPTH = 16  # objects nested deeper than this get no leaf columns
_TYPES: dict[Kind, pl.DataType] = {"text": pl.String(), "int": pl.Int64(), "float": pl.Float64()}

# Errors that mean "this data cannot be normalized", as opposed to a failing disk; a Rust
# panic (names.is_panic) too: whatever the next engine bug is, one line is quarantined.
_DATA_ERRORS = (pl.exceptions.PolarsError, pa.ArrowException, ValueError, OverflowError,
                RecursionError)

Leaf = tuple[pl.Expr, pl.DataType]


@dataclass(frozen=True)
class Normalized:
    """Rows for the usable lines, where each row's line starts and how long it is (in the
    input), and the lines that could not be used."""

    frame: pl.DataFrame
    starts: Offsets
    lengths: Offsets
    bad: list[BadLine]


def normalize_lines(
    lines: Buffer | Sequence[bytes], *, decoder: Decoder | None = None
) -> Normalized:
    """Normalize stored lines: one blob of newline-separated lines, or a list of lines.

    Offsets in the result are into the blob (for a list: into the lines joined by newlines).
    Pass the same ``decoder`` for consecutive batches of one job so what it learns carries.
    A line that cannot be normalized is in ``bad`` (halved out as compaction does), so one
    record never makes a read of the others fail.
    """
    if isinstance(lines, (bytes, bytearray, memoryview)):
        blob: Buffer = lines
    else:
        blob = b"".join(line + b"\n" for line in lines)
    parts = normalize_batch(blob, decoder or Decoder())
    if len(parts) == 1 and parts[0][0] == 0:
        return parts[0][1]
    return _merged([_shifted(part, base) for base, part in parts])


def _shifted(part: Normalized, base: int) -> Normalized:
    bad = [BadLine(b.offset + base, b.length, b.reason) for b in part.bad]
    return Normalized(part.frame, part.starts + base, part.lengths, bad)


def _merged(done: list[Normalized]) -> Normalized:
    """Parts put together in line order, their columns joined on the type lattice."""
    bad = sorted((b for n in done for b in n.bad), key=lambda b: b.offset)
    done = [n for n in done if n.frame.height]
    if not done:
        empty = np.zeros(0, dtype=np.int64)
        return Normalized(pl.DataFrame(schema=CANONICAL), empty, empty, bad)
    if len(done) == 1:
        return Normalized(done[0].frame, done[0].starts, done[0].lengths, bad)
    starts = np.concatenate([n.starts for n in done])
    order = np.argsort(starts, kind="stable")
    frame = unify([n.frame for n in done])[order]
    lengths = np.concatenate([n.lengths for n in done])
    return Normalized(frame, starts[order], lengths[order], bad)


def normalize_decoded(decoded: Decoded) -> Normalized:
    """Normalize each part the decoder read, then put the parts together in line order,
    their columns joined on the type lattice."""
    done = [_normalize_part(part) for part in decoded.parts]
    if not decoded.bad:
        return _merged(done) if len(done) != 1 else done[0]
    empty = np.zeros(0, dtype=np.int64)
    unread = Normalized(pl.DataFrame(schema=CANONICAL), empty, empty, decoded.bad)
    return _merged([*done, unread])


def normalize_batch(data: Buffer, decoder: Decoder) -> list[tuple[int, Normalized]]:
    """Normalize a batch of whole lines as ``(offset in data, part)`` pairs: in one part, or,
    if that fails, halved until the failing lines are alone and marked bad (then
    quarantined). Odd data never fails a compaction."""
    return list(_halving(data, 0, decoder))


def _halving(data: Buffer, base: int, decoder: Decoder) -> Iterator[tuple[int, Normalized]]:
    try:
        part = normalize_decoded(decoder.decode(data))
    except BaseException as exc:
        if not isinstance(exc, _DATA_ERRORS) and not is_panic(exc):
            raise
        starts, ends = index_lines(data)
        if len(starts) <= 1:
            yield base, _unusable(starts, ends, f"cannot be normalized ({exc})")
            return
        cut = int(starts[len(starts) // 2])
        yield from _halving(data[:cut], base, decoder)
        yield from _halving(data[cut:], base + cut, decoder)
        return
    yield base, part


def _unusable(starts: Offsets, ends: Offsets, reason: str) -> Normalized:
    bad = [BadLine(int(s), int(e - s), reason) for s, e in zip(starts, ends, strict=True)]
    empty = np.zeros(0, dtype=np.int64)
    return Normalized(pl.DataFrame(schema=CANONICAL), empty, empty, bad)


def _normalize_part(part: Part) -> Normalized:
    frame = part.frame.with_columns(_utc(part.frame.schema, "event_time").alias("_event_time"))
    reasons = frame.select(_rejection(frame.schema).alias("reason"))["reason"]
    if reasons.null_count() == len(reasons):
        return Normalized(_normalize(frame), part.starts, part.lengths, [])
    usable = reasons.is_null()
    keep = usable.to_numpy()
    return Normalized(_normalize(frame.filter(usable)), part.starts[keep], part.lengths[keep],
                      _bad_lines(part, reasons))


def _utc(schema: pl.Schema, name: str) -> pl.Expr:
    """A timestamp column, or text parsed as one (``Z`` or a ``+hh:mm`` offset)."""
    column = pl.col(name)
    if isinstance(schema[name], pl.Datetime):
        return column
    return pl.coalesce(
        column.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False)
        for fmt in TIME_FORMATS
    )


def _rejection(schema: pl.Schema) -> pl.Expr:
    record_id = pl.col("record_id")
    event_time = pl.col("event_time")
    text = event_time if schema["event_time"] == pl.String else event_time.cast(pl.String)
    return (
        pl.when(record_id.is_null() | (record_id.str.len_chars() == 0)
                | (record_id.str.len_chars() > MAX_RECORD_ID))
        .then(pl.lit("record_id is missing or not a string of 1-256 characters"))
        .when(pl.col("record").is_null())
        .then(pl.lit("record is missing or not a JSON object"))
        .when(pl.col("_event_time").is_null())
        .then(pl.lit("unusable event_time ") + text.fill_null("null"))
    )


def _bad_lines(part: Part, reasons: pl.Series) -> list[BadLine]:
    rows = reasons.is_not_null().arg_true().to_list()
    return [BadLine(int(part.starts[i]), int(part.lengths[i]), str(reasons[i])) for i in rows]


def _normalize(frame: pl.DataFrame) -> pl.DataFrame:
    leaves = _record_leaves(frame)
    envelope = [
        pl.col("record_id"),
        pl.col("_event_time").alias("event_time"),
        pl.col("_event_time").dt.date().cast(pl.String).alias("date"),
        _utc(frame.schema, "ingested_at").alias("ingested_at"),
        pl.col("payload"),
    ]
    flat = frame.select(*envelope, *(expr.alias(name) for name, (expr, _) in leaves.items()))
    types = {name: dtype for name, (_, dtype) in leaves.items()}
    shared, canonical = _canonical(types)
    for step in shared:
        flat = flat.with_columns(**step)
    return canonical_values(flat.select(
        *(canonical[name].alias(name) if name in canonical else pl.col(name)
          for name in CANONICAL),
        *(expr.alias(name) for name, expr in canonical.items() if name.startswith(
            SUBSCORE_PREFIX)),
        *(pl.col(name) for name in types if name != FIRST_OUTPUT),
    ))


# -- leaves -------------------------------------------------------------------------------


def _record_leaves(frame: pl.DataFrame) -> dict[str, Leaf]:
    """Every leaf of the record as a lattice-typed expression, keyed by its column name."""
    record = frame.schema["record"]
    leaves: dict[str, Leaf] = {}
    variant: dict[str, Leaf] = {}
    base: dict[str, Leaf] = {}
    if not isinstance(record, pl.Struct):
        return leaves
    for index, item in enumerate(record.fields):
        if not column_name_ok(item.name):
            continue  # the payload keeps it
        expr = field(pl.col("record"), record, index)
        dtype = dtype_of(item.dtype)
        if item.name == "base_config":
            _collect(frame, base, expr, dtype, "config")
        elif item.name == "variant_configs" and _list_of_structs(dtype):
            _collect(frame, variant, expr.list.first(), _inner(dtype), "config")
        elif item.name == "metadata":
            _collect(frame, leaves, expr, dtype, "metadata")
        else:
            _collect(frame, leaves, expr, dtype, f"record.{item.name}")
            if item.name == "outputs":
                _first_output(leaves, expr, dtype)
    for source in (variant, base):  # the first variant overlays the base config
        for name, (expr, dtype) in source.items():
            _add(frame, leaves, name, expr, dtype)
    return leaves


def _collect(frame: pl.DataFrame, into: dict[str, Leaf], expr: pl.Expr, dtype: pl.DataType,
             path: str) -> None:
    for name, leaf, kind in _leaves(expr, dtype, path):
        _add(frame, into, name, leaf, kind)


def _leaves(expr: pl.Expr, dtype: pl.DataType, path: str, depth: int = 1
            ) -> Iterator[tuple[str, pl.Expr, pl.DataType]]:
    if isinstance(dtype, pl.Struct):
        if depth > MAX_LEAF_DEPTH:
            return  # deeper objects: the payload keeps them (a column per level costs much)
        for index, item in enumerate(dtype.fields):
            if column_name_ok(item.name):
                yield from _leaves(field(expr, dtype, index), dtype_of(item.dtype),
                                   f"{path}.{item.name}", depth + 1)
        return
    if isinstance(dtype, (pl.List, pl.Array)) and not _scalar(dtype_of(dtype.inner)):
        return  # a list of objects (an event log) or of nothing: payload keeps it
    lattice = lattice_type(dtype)
    if lattice is not None:
        yield path, to_lattice(expr, dtype), lattice


def _scalar(dtype: pl.DataType) -> bool:
    return dtype != pl.Null and not dtype.is_nested()


def _add(frame: pl.DataFrame, into: dict[str, Leaf], name: str, expr: pl.Expr,
         dtype: pl.DataType) -> None:
    """Add a leaf; a second leaf with the same name fills the first one's nulls. Integers
    and floats meet as floats, unless an integer (in any row of ``frame``) is beyond what
    a float holds: then as text, each value exact."""
    if name not in into:
        into[name] = (expr, dtype)
        return
    first, first_type = into[name]
    both = join(first_type, dtype)
    assert both is not None
    if both == pl.Float64 and pl.Int64 in (first_type, dtype):
        integers = first if first_type == pl.Int64 else expr
        if beyond_floats(frame.select(integers.alias("integers")).to_series()):
            both = pl.String()
    merged = pl.coalesce(cast_leaf(first, first_type, both), cast_leaf(expr, dtype, both))
    into[name] = (merged, both)


def _list_of_structs(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)


def _inner(dtype: pl.DataType) -> pl.DataType:
    assert isinstance(dtype, pl.List)
    return dtype_of(dtype.inner)


def _first_output(leaves: dict[str, Leaf], expr: pl.Expr, dtype: pl.DataType) -> None:
    inner = _inner(dtype) if _list_of_structs(dtype) else None
    if isinstance(inner, pl.Struct) and "path" in {f.name for f in inner.fields}:
        path = expr.list.first().struct.field("path")
        leaves[FIRST_OUTPUT] = (path.cast(pl.String), pl.String())


# -- canonical columns --------------------------------------------------------------------


class _Sources:
    """Coerce leaf columns (by name) to a canonical kind; absent leaves are skipped."""

    def __init__(self, types: dict[str, pl.DataType]) -> None:
        self.types = types

    def get(self, name: str, kind: Kind) -> pl.Expr | None:
        dtype = self.types.get(name)
        return None if dtype is None else coerce(pl.col(name), dtype, kind)

    def first(self, names: Sequence[str], kind: Kind) -> list[pl.Expr]:
        return [e for n in names if (e := self.get(n, kind)) is not None]


# Intermediate columns several canonical columns read: computed once per part (an eager
# select evaluates a repeated sub-expression every time it appears). Leaf names all start
# with config., metadata. or record., so these cannot collide with one.
_TESTED = "__runlake_tested"
_VARIANT = "__runlake_variant"
_SIZE_TEXT = "__runlake_size"


def _variant_as(kind: Kind) -> str:
    return f"__runlake_variant_{kind}"


def _canonical(
    types: dict[str, pl.DataType],
) -> tuple[list[dict[str, pl.Expr]], dict[str, pl.Expr]]:
    """The shared intermediates (steps of columns computed in turn: a step may read the
    steps before it) and the canonical columns, which read the intermediates by name."""
    sources = _Sources(types)
    columns = {knob.name: _coalesce(sources.first(knob.sources, knob.kind), knob.kind)
               for knob in FIELD_KNOBS}
    first = {
        _TESTED: _variable_key(columns["variable_under_test"]),
        _VARIANT: _coalesce(sources.first(VARIANT_VALUE_SOURCES, "text"), "text"),
        _SIZE_TEXT: _size_text(sources),
    }
    second = {_variant_as(kind): coerce(pl.col(_VARIANT), pl.String(), kind)
              for kind in sorted({k.kind for k in CONFIG_KNOBS if k.variables})}
    for knob in CONFIG_KNOBS:
        columns[knob.name] = _config_knob(knob, sources, pl.col(_TESTED))
    columns["rating"] = _person_rating(sources, columns["rating"])
    columns.update(_size(columns["width"], columns["height"]))
    columns["image_path"] = _coalesce([columns["image_path"], *sources.first(
        [FIRST_OUTPUT], "text")], "text")
    columns["duration"] = _coalesce(
        sources.first(DURATION_SECONDS, "float")
        + [e / 1000 for e in sources.first(DURATION_MILLISECONDS, "float")], "float")
    columns.update(_variant_value_columns(sources))
    columns.update(_subscores(types, sources))
    return [first, second], columns


def _config_knob(knob: ConfigKnob, sources: _Sources, tested: pl.Expr) -> pl.Expr:
    found = sources.first(knob.sources(), knob.kind)
    primary = sources.get(f"record.primary_{knob.name}", knob.kind) if knob.primary else None
    if primary is not None:
        found.append(primary)
    if knob.variables:  # {"variable_under_test": "CFG Scale", "variant_value": 6.0}
        found.append(pl.when(tested.is_in(knob.variables)).then(
            pl.col(_variant_as(knob.kind))))
    found += sources.first(knob.record_sources(), knob.kind)
    return _coalesce([_absent_if_placeholder(e, knob.name) for e in found], knob.kind)


def _variable_key(variable: pl.Expr) -> pl.Expr:
    """``CFG Scale`` -> ``cfgscale``: how knob names are compared with variable_under_test."""
    return variable.str.to_lowercase().str.replace_all("[^a-z0-9]", "")


def _variant_value_columns(sources: _Sources) -> dict[str, pl.Expr]:
    number = _coalesce(sources.first(VARIANT_VALUE_SOURCES, "float"), "float")
    text = pl.col(_VARIANT)
    rendered = pl.when(number.is_not_null()).then(render(number, pl.Float64())).otherwise(text)
    return {"variant_value": rendered, "variant_value_num": number}


def _person_rating(sources: _Sources, rating: pl.Expr) -> pl.Expr:
    """A decision or curation score stored as ``user_rating`` is not a person's rating."""
    source = _coalesce(sources.first(["metadata.user_rating_source",
                                      "record.user_rating_source"], "text"), "text")
    kind = _coalesce(sources.first([k for f in FIELD_KNOBS if f.name == "record_kind"
                                    for k in f.sources], "text"), "text")
    not_rating = source.is_in(NOT_RATING_SOURCES) | kind.is_in(NOT_RATING_KINDS)
    return pl.when(not_rating.fill_null(False)).then(None).otherwise(rating)


def _size_text(sources: _Sources) -> pl.Expr:
    names = [f"config.{a}" for a in SIZE_ALIASES] + [
        f"config.{stage}.{a}" for stage in STAGES for a in SIZE_ALIASES]
    return _coalesce(sources.first(names, "text"), "text")


def _size(width: pl.Expr, height: pl.Expr) -> dict[str, pl.Expr]:
    size = pl.col(_SIZE_TEXT)
    return {
        "width": pl.coalesce(width, size.str.extract(_SIZE, 1).cast(pl.Int64, strict=False)),
        "height": pl.coalesce(height, size.str.extract(_SIZE, 2).cast(pl.Int64, strict=False)),
    }


def _subscores(types: dict[str, pl.DataType], sources: _Sources) -> dict[str, pl.Expr]:
    found: dict[str, list[pl.Expr]] = {}
    for prefix in SUBSCORE_PREFIXES:
        for name in types:
            if name.startswith(prefix) and (value := sources.get(name, "float")) is not None:
                found.setdefault(SUBSCORE_PREFIX + name[len(prefix):], []).append(value)
    return {name: _coalesce(values, "float") for name, values in sorted(found.items())}


def _coalesce(exprs: list[pl.Expr], kind: Kind) -> pl.Expr:
    if not exprs:
        return pl.lit(None, _TYPES[kind])
    return pl.coalesce(exprs) if len(exprs) > 1 else exprs[0]


def _absent_if_placeholder(expr: pl.Expr, knob: str) -> pl.Expr:
    """A placeholder (StableNew's steps 0, A1111's seed -1) is absent, in every source, so a
    real value further down still counts; blank text is already null (``coerce``)."""
    values = PLACEHOLDERS.get(knob)
    if not values:
        return expr
    return pl.when(pl.any_horizontal(expr == v for v in values)).then(None).otherwise(expr)


# -- coercion -----------------------------------------------------------------------------


def coerce(expr: pl.Expr, dtype: pl.DataType, kind: Kind) -> pl.Expr:
    """A lattice-typed leaf as a canonical kind; what does not fit becomes null.

    Text: blank is null, numbers as JSON writes them. Numbers: numeric text is parsed
    ("28" -> 28); an int column takes only whole numbers; booleans are not numbers.
    """
    if kind == "text":
        text = expr if dtype == pl.String else render(expr, dtype)
        return pl.when(text.str.strip_chars() == "").then(None).otherwise(text)
    if dtype == pl.Boolean:
        return pl.lit(None, _TYPES[kind])
    if kind == "int" and dtype == pl.Int64:
        return expr
    number = _number(expr, dtype)
    if kind == "float":
        return number
    whole = (number == number.floor()) & (number.abs() < _INT64_BOUND)
    as_int = pl.when(whole).then(number.cast(pl.Int64))
    if dtype != pl.String:
        return as_int
    exact = expr.str.strip_chars().str.to_integer(strict=False)  # beyond 2**53 exactly
    return pl.coalesce(exact, as_int)


def _number(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        expr = expr.str.strip_chars().cast(pl.Float64, strict=False)
    else:
        expr = expr.cast(pl.Float64)
    return pl.when(expr.is_finite()).then(expr)

