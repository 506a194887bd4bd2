"""Filters, applied one at a time and counted, so the dataset card can say what each removed
and an export that ends up empty can name the filter that emptied it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from runlake.analysis.comparison import column_expr
from runlake.errors import ExportError
from runlake.export.options import GOAL_COLUMNS, ExportOptions


@dataclass(frozen=True)
class FilterStep:
    """One filter as applied: its option name, its condition in words, what it counts
    (``rows``, ``settings groups``, ``pairs``) and how many there were before and after."""

    name: str
    condition: str
    unit: str
    before: int
    after: int


@dataclass(frozen=True)
class Filter:
    """A filter to apply to a frame: a name, its condition in words, a boolean expression,
    and, for a filter people often hit, what to say when it leaves nothing (``why``, given
    the frame before it)."""

    name: str
    condition: str
    keep: pl.Expr
    why: Callable[[pl.DataFrame], str] | None = None


def row_filters(schema: pl.Schema, options: ExportOptions, knobs: Sequence[str], *,
                least: int) -> list[Filter]:
    """The row filters ``options`` ask for, in order; ``rated`` always comes first, the
    evidence rule (settings groups of at least ``least`` ratings) last."""
    filters = [Filter("rated", "rating is not null", pl.col("rating").fill_nan(None).is_not_null())]
    if options.date_from is not None:
        day = date_expr(schema)
        filters.append(Filter("date_from", f"date >= {options.date_from}",
                              day >= options.date_from))
    if options.date_to is not None:
        day = date_expr(schema)
        filters.append(Filter("date_to", f"date <= {options.date_to}", day <= options.date_to))
    if options.models:
        keep = column(schema, "model").is_in(list(options.models))
        filters.append(Filter("models", f"model in {list(options.models)}", keep))
    if least > 1:
        keys = [column(schema, name) for name in ("experiment_id", *GOAL_COLUMNS, *knobs)]
        filters.append(Filter(
            "min_ratings_per_group", f"settings group has >= {least} ratings",
            pl.len().over(keys) >= least, why=lambda rows: _too_few(rows, keys, least),
        ))
    return filters


def apply(frame: pl.DataFrame, filters: Sequence[Filter], unit: str = "rows",
          ) -> tuple[pl.DataFrame, list[FilterStep]]:
    """``frame`` through each filter in turn, with the counts; raises :class:`ExportError`
    naming the filter that leaves nothing."""
    if frame.height == 0:
        raise ExportError(f"nothing to export: the input has no {unit}")
    steps = []
    for item in filters:
        kept = frame.filter(item.keep)
        steps.append(FilterStep(item.name, item.condition, unit, frame.height, kept.height))
        if kept.height == 0:
            why = f"; {item.why(frame)}" if item.why is not None else ""
            raise ExportError(f"nothing left after filter {item.name} ({item.condition}): "
                              f"it removed all {frame.height} {unit}{why}")
        frame = kept
    return frame, steps


def _too_few(rows: pl.DataFrame, keys: list[pl.Expr], least: int) -> str:
    most = rows.select(pl.len().over(keys).max()).item()
    return (f"every settings group (a goal and its settings, seeds pooled) has fewer than "
            f"{least} ratings, the most any has is {most}: an example resting on so few "
            "ratings teaches luck. Rate more images of the same settings (other seeds count), "
            f"or lower min_ratings_per_group (--min-ratings) knowingly")


def column(schema: pl.Schema, name: str) -> pl.Expr:
    """The column ``name`` (a column may be absent from a snapshot: then it is all null);
    never read as a pattern (a knob may be named ``*``)."""
    if name in schema:
        return column_expr(schema, name)
    return pl.lit(None, pl.String).alias(name)


def date_expr(schema: pl.Schema) -> pl.Expr:
    """The UTC date of each row: of ``event_time``, else of the ``date`` partition column."""
    if "event_time" in schema:
        return pl.col("event_time").dt.date()
    if "date" in schema:
        return pl.col("date").str.to_date("%Y-%m-%d", strict=False)
    raise ExportError("a date filter needs an event_time or a date column; the input has neither")
