"""The table's column model: fixed canonical columns and leaf columns on a small type lattice.

Canonical columns (the envelope, the knobs, ``payload``, ``subscore_*``) have one type
forever; a value that does not fit becomes null there (``payload`` keeps it). Leaf columns
(``config.*``, ``metadata.*``, ``record.*``) take one of four types, ordered so that any two
have a join that holds both without loss of meaning::

    Boolean      Int64 -> Float64      (anything else mixed) -> String

Int64 and Float64 join to Float64; every other mix joins to String, where numbers are written
as JSON would write them and booleans as ``true``/``false``.
"""

from __future__ import annotations

import polars as pl
from polars.datatypes import DataTypeClass

UTC_MICROS = pl.Datetime("us", "UTC")
LEAF_PREFIXES = ("config.", "metadata.", "record.")
LEAF_ROOTS = ("config", "metadata")  # a base_config or metadata that is not an object
SUBSCORE_PREFIX = "subscore_"
LATTICE = (pl.Boolean, pl.Int64, pl.Float64, pl.String)
_EXACT_FLOAT_INT = 2.0**53  # beyond this a float no longer holds every integer exactly

CANONICAL: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "event_time": UTC_MICROS,
    "date": pl.String(),
    "ingested_at": UTC_MICROS,
    "model": pl.String(),
    "model_hash": pl.String(),
    "sampler": pl.String(),
    "scheduler": pl.String(),
    "steps": pl.Int64(),
    "cfg_scale": pl.Float64(),
    "seed": pl.Int64(),
    "width": pl.Int64(),
    "height": pl.Int64(),
    "denoising_strength": pl.Float64(),
    "clip_skip": pl.Int64(),
    "stage": pl.String(),
    "prompt": pl.String(),
    "negative_prompt": pl.String(),
    "experiment_id": pl.String(),
    "experiment_name": pl.String(),
    "variable_under_test": pl.String(),
    "variant_index": pl.Int64(),
    "variant_value": pl.String(),
    "variant_value_num": pl.Float64(),
    "rating": pl.Float64(),
    "status": pl.String(),
    "duration": pl.Float64(),
    "run_id": pl.String(),
    "image_path": pl.String(),
    "record_kind": pl.String(),
    "payload": pl.String(),
}


def dtype_of(dtype: pl.DataType | DataTypeClass) -> pl.DataType:
    """An instance for a Polars type given as a class (as nested fields may be)."""
    return dtype() if isinstance(dtype, DataTypeClass) else dtype


def is_leaf(name: str) -> bool:
    """Leaf columns change type by the lattice; every other column has a fixed type."""
    return name.startswith(LEAF_PREFIXES) or name in LEAF_ROOTS


def fixed_type(name: str) -> pl.DataType | None:
    """The type a non-leaf column always has (``None`` for leaf columns)."""
    if name.startswith(SUBSCORE_PREFIX):
        return pl.Float64()
    return CANONICAL.get(name)


def lattice_type(dtype: pl.DataType) -> pl.DataType | None:
    """Where a reader's type lands on the lattice; ``None`` for the all-null type."""
    if dtype == pl.Null:
        return None
    if dtype == pl.Boolean:
        return pl.Boolean()
    if dtype.is_integer() and dtype not in (pl.UInt64, pl.Int128, pl.UInt128):
        return pl.Int64()
    if dtype.is_float():
        return pl.Float64()
    return pl.String()  # text, integers too wide for Int64, lists, anything exotic


def join(left: pl.DataType | None, right: pl.DataType | None) -> pl.DataType | None:
    """The narrowest lattice type that holds values of both (``None`` is the all-null type)."""
    if left is None or left == right:
        return right
    if right is None:
        return left
    if {left, right} == {pl.Int64(), pl.Float64()}:
        return pl.Float64()
    return pl.String()


def to_lattice(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """``expr`` (of reader type ``dtype``) as its lattice type."""
    target = lattice_type(dtype)
    if target is None or dtype == target:
        return expr
    if isinstance(dtype, (pl.List, pl.Array)):
        # A list of nothing says nothing (alone it has no item type): null, like a missing
        # key, whatever item type other lines give the column.
        return pl.when(expr.list.drop_nulls().list.len() > 0).then(json_text(expr))
    if isinstance(dtype, pl.Struct):
        return json_text(expr)
    if target == pl.String and dtype.is_numeric():
        return expr.cast(pl.String)  # wide integers: exact decimal text
    return expr.cast(target)


def cast_leaf(expr: pl.Expr, source: pl.DataType, target: pl.DataType) -> pl.Expr:
    """Cast a lattice-typed leaf to a wider lattice type (``join(source, target) == target``)."""
    if source == target:
        return expr
    if target == pl.String:
        return render(expr, source)
    return expr.cast(target)


def render(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Lattice values as JSON would write them: ``6`` for 6.0, ``7.5``, ``true``."""
    if dtype == pl.Float64:
        integral = (expr == expr.floor()) & (expr.abs() < _EXACT_FLOAT_INT)
        return (pl.when(integral).then(expr.cast(pl.Int64).cast(pl.String))
                .otherwise(expr.cast(pl.String)))
    return expr.cast(pl.String)


def json_text(expr: pl.Expr) -> pl.Expr:
    """A list or struct as compact JSON text (null stays null)."""
    wrapped = pl.struct(expr.alias("v")).struct.json_encode()
    text = wrapped.str.strip_prefix('{"v":').str.strip_suffix("}")
    return pl.when(expr.is_null()).then(None).otherwise(text)
