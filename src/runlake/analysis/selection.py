"""Which runs a report or a grid is about: a SQL ``where``, one ``experiment``, and only the
columns they need.

Reading a lake of a million runs whole (prompts, every config leaf, each record's payload)
costs seconds and gigabytes; a report needs about twenty columns. The filter runs on the lazy
frame first, so it may name any column, then the frame is narrowed to ``REPORT_COLUMNS`` plus
the columns the options name, and only that is collected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from runlake.analysis.comparison import resolve_column
from runlake.errors import InvalidOption, InvalidQuery

REPORT_COLUMNS = (
    "record_id", "event_time", "model", "sampler", "scheduler", "steps", "cfg_scale", "seed",
    "width", "height", "denoising_strength", "clip_skip", "prompt", "experiment_id",
    "experiment_name", "variable_under_test", "variant_index", "variant_value", "rating",
    "duration", "image_path",
)
MAX_NAMES = 10


@dataclass(frozen=True)
class Selection:
    """``where``: a SQL condition (``"steps >= 25 AND model = 'sdxl'"``); ``experiment``: an
    experiment's id or name. Both optional."""

    where: str | None = None
    experiment: str | None = None


def select_runs(frame: pl.LazyFrame | pl.DataFrame, selection: Selection,
                names: Iterable[str] = ()) -> pl.DataFrame:
    """The selected runs, with ``REPORT_COLUMNS`` and the columns ``names`` stand for (a
    name or a config path, kept under its own column name), collected."""
    lazy = frame.lazy()
    schema = lazy.collect_schema()
    wanted = [*REPORT_COLUMNS, *(resolve_column(schema, name) for name in names)]
    lazy = _where(lazy, schema, selection.where)
    columns = [name for name in dict.fromkeys(wanted) if name in schema]
    selected = lazy.select(pl.nth([schema.names().index(name) for name in columns])).collect()
    if selection.experiment is not None:
        selected = _experiment(selected, selection.experiment)
    return selected


def _where(lazy: pl.LazyFrame, schema: pl.Schema, where: str | None) -> pl.LazyFrame:
    if where is None:
        return lazy
    try:
        predicate = pl.sql_expr(where)
        # On an empty frame of the same schema first: names, types and a boolean result are
        # checked now, at no cost, so a typo is one clear error instead of a late failure.
        pl.LazyFrame(schema=schema).filter(predicate).collect()
    except pl.exceptions.PolarsError as exc:
        raise InvalidQuery(f"bad filter {where!r}: {str(exc).splitlines()[0]}") from exc
    return lazy.filter(predicate)


def _experiment(frame: pl.DataFrame, experiment: str) -> pl.DataFrame:
    columns = [name for name in ("experiment_id", "experiment_name") if name in frame.columns]
    if not columns:
        raise InvalidOption(f"no experiment {experiment!r}: the runs name no experiments")
    match = pl.any_horizontal(pl.col(name).cast(pl.String) == experiment for name in columns)
    found = frame.filter(match.fill_null(False))
    if found.is_empty():
        names = pl.coalesce(pl.col(name).cast(pl.String) for name in reversed(columns))
        known = sorted(frame.select(names.drop_nulls().unique())[:, 0].to_list())
        listed = ", ".join(known[:MAX_NAMES]) + (" ..." if len(known) > MAX_NAMES else "")
        raise InvalidOption(f"no experiment {experiment!r} among the selected runs "
                            f"(experiments: {listed or 'none'})")
    return found
