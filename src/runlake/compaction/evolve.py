"""Schema evolution: fit each batch to the table's columns, widening them when a batch needs it.

A :class:`SchemaTracker` starts from the table's committed columns and admits batches one by
one. New keys become new columns. A leaf column whose values no longer fit its type is
widened on the lattice (``columns``): the batch is cast up, and the tracker notes
the wider type so files already written with the narrower one get rewritten before the commit.
Column names are unique ignoring case (as Delta requires): ``config.Sampler`` and
``config.sampler`` share the column first seen, the first non-null value winning in a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from runlake.compaction.columns import cast_leaf, fixed_type, is_leaf, join, lattice_type

_EXACT_FLOAT = 2**53  # beyond this a float no longer holds every integer


@dataclass
class SchemaTracker:
    """The columns of a table as a compaction goes: committed ones first, then new ones."""

    committed: dict[str, pl.DataType] = field(default_factory=dict)
    types: dict[str, pl.DataType] = field(default_factory=dict)
    _spelling: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.types = dict(self.committed)
        self._spelling = {name.lower(): name for name in self.types}

    @property
    def changed(self) -> bool:
        """Whether the commit must carry a new schema (new or widened columns)."""
        return self.types != self.committed

    def spelled(self, name: str) -> str:
        """How the table spells the column ``name`` (names are unique ignoring case)."""
        return self._spelling.get(name.lower(), name)

    def widened(self) -> dict[str, pl.DataType]:
        """Committed columns whose type this compaction widened, with their new type."""
        return {n: self.types[n] for n, t in self.committed.items() if self.types[n] != t}

    def admit(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` renamed to known spellings and cast to the (possibly widened) types."""
        frame = self._merge_spellings(frame)
        columns = []
        for name, dtype in frame.schema.items():
            target = self._target(name, dtype)
            columns.append(_cast(pl.col(name), dtype, target).alias(name))
        return frame.select(columns)

    def _merge_spellings(self, frame: pl.DataFrame) -> pl.DataFrame:
        groups: dict[str, list[str]] = {}
        for name in frame.columns:
            spelling = self._spelling.setdefault(name.lower(), name)
            groups.setdefault(spelling, []).append(name)
        if all(names == [key] for key, names in groups.items()):
            return frame
        return frame.select(self._merged(frame, key, names) for key, names in groups.items())

    def _merged(self, frame: pl.DataFrame, key: str, names: list[str]) -> pl.Expr:
        if len(names) == 1:
            return pl.col(names[0]).alias(key)
        ordered = sorted(names, key=lambda n: n != key)  # the table's spelling first
        target = None
        for name in ordered:
            target = join(target, lattice_type(frame.schema[name]))
        assert target is not None
        dtypes = frame.schema
        return pl.coalesce([cast_leaf(pl.col(n), dtypes[n], target) for n in ordered]).alias(key)

    def _target(self, name: str, dtype: pl.DataType) -> pl.DataType:
        fixed = fixed_type(name)
        known = self.types.get(name)
        if fixed is not None or not is_leaf(name):
            target = fixed or known or dtype
        else:
            target = join(known, dtype) or dtype
        self.types[name] = target
        return target


def _cast(expr: pl.Expr, dtype: pl.DataType, target: pl.DataType) -> pl.Expr:
    if dtype == target:
        return expr
    if dtype == pl.Null:
        return expr.cast(target)
    if is_lattice(dtype) and is_lattice(target) and join(dtype, target) == target:
        return cast_leaf(expr, dtype, target)
    return expr.cast(target, strict=False)


def is_lattice(dtype: pl.DataType) -> bool:
    return dtype in (pl.Boolean, pl.Int64, pl.Float64, pl.String)


def unify(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Frames with different columns and types as one: each leaf column at the join of its
    types, each missing column null (for parts of a batch that were read apart). Integers
    beyond 2**53 never meet floats in a Float64 column: such a column is text instead, so
    every value keeps its exact JSON text."""
    types: dict[str, pl.DataType] = {}
    for frame in frames:
        for name, dtype in frame.schema.items():
            known = types.get(name)
            if known is None or (is_leaf(name) and is_lattice(known) and is_lattice(dtype)):
                types[name] = join(known, dtype) or dtype
    for name, dtype in types.items():
        if dtype == pl.Float64 and is_leaf(name) and any(
                frame.schema.get(name) == pl.Int64 and beyond_floats(frame[name])
                for frame in frames):
            types[name] = pl.String()
    return pl.concat([conform(f, types) for f in frames], how="diagonal")


def beyond_floats(values: pl.Series) -> bool:
    """Whether integers hold one a float would round (beyond 2**53)."""
    return bool(((values > _EXACT_FLOAT) | (values < -_EXACT_FLOAT)).any())


def conform(frame: pl.DataFrame, types: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Cast ``frame``'s columns to ``types`` (each at least as wide), adding none and dropping
    none: for reading files written at different times, or fresh rows, as one frame."""
    return frame.with_columns(conform_exprs(frame.schema, types))


def conform_exprs(
    schema: Mapping[str, pl.DataType], types: Mapping[str, pl.DataType]
) -> list[pl.Expr]:
    """The casts :func:`conform` applies, for use on a LazyFrame."""
    return [_cast(pl.col(n), dtype, types[n]).alias(n)
            for n, dtype in schema.items() if n in types and dtype != types[n]]
