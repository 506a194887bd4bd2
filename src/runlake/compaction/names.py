"""Names that come from data stay literal: a record's keys never reach Polars as patterns.

Polars reads a name ``*`` as "every column" and ``^...$`` as a regular expression, in
``pl.col`` and in ``struct.field`` alike; on a record key that either panics (two matches)
or silently takes another field's value (one match). Leaf column names are safe by
construction (they always carry a prefix: ``config.``, ``metadata.``, ``record.``,
``subscore_``); a struct's own fields are reached through :func:`field`. A key holding a NUL
character gets no column at all (no Parquet writer takes it as a name); the payload keeps it.
"""

from __future__ import annotations

import polars as pl


def is_pattern(name: str) -> bool:
    """Whether Polars would read ``name`` as a wildcard or a regular expression."""
    return name == "*" or (name.startswith("^") and name.endswith("$"))


def field(expr: pl.Expr, dtype: pl.Struct, index: int) -> pl.Expr:
    """Field ``index`` of a struct expression: by name when the name is literal (the usual
    case, and the cheapest), else by position, through names of our own."""
    name = dtype.fields[index].name
    if not is_pattern(name):
        return expr.struct.field(name)
    own = [f"f{i}" for i in range(len(dtype.fields))]
    return expr.struct.rename_fields(own).struct.field(own[index])


def column_name_ok(key: str) -> bool:
    """Whether a record key may become part of a column name."""
    return "\x00" not in key


def is_panic(exc: BaseException) -> bool:
    """A Rust panic surfacing from Polars, Arrow or Delta Lake: each pyo3 extension has its
    own ``PanicException`` class (a BaseException), so it is known by its name."""
    return type(exc).__name__ == "PanicException"
