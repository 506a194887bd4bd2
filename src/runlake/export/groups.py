"""Settings groups: the rated rows with the same split, experiment, goal and settings.

A group's rating is the mean over its rows (seeds and repeats pooled), summed with
``math.fsum``: exactly rounded, so the mean does not depend on row order or on how Polars
partitions the work, and two exports of the same rows write the same bytes. Its evidence is
``n`` and the 95 % interval ``compare`` draws on the rating scale (Wilson's, on the rescaled
mean), whose lower bound ranks the settings of a goal the way ``compare`` ranks groups. Goals and
settings are rendered once per group as JSON with sorted keys and without nulls (an absent
knob is left out, never written as 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl

from runlake.analysis.comparison import bounded_interval, column_expr, resolve_column
from runlake.errors import ExportError, LakeError
from runlake.export.filters import column
from runlake.export.options import GOAL_COLUMNS
from runlake.export.split import SPLIT
from runlake.records import Scale, format_scale

_KNOB = "__runlake_knob_"


@dataclass(frozen=True)
class SettingsGroup:
    """One settings group: where it is, what was asked (goal), what ran (settings), how it
    was rated (mean of ``n`` ratings) and the records behind it."""

    split: str
    experiment_id: str | None
    prompt: str | None
    goal: str
    settings: str
    mean: float
    n: int
    ci_low: float
    ci_high: float
    record_ids: tuple[str, ...]


def knob_columns(schema: pl.Schema, knobs: Sequence[str]) -> dict[str, str]:
    """Each knob name with its column (``txt2img.hr_scale`` -> ``config.txt2img.hr_scale``);
    knobs the frame lacks are left out, since an absent knob is null."""
    found = {}
    for knob in knobs:
        try:
            found[knob] = resolve_column(schema, knob)
        except LakeError:
            continue
    return found


def settings_groups(rows: pl.DataFrame, knobs: Mapping[str, str], scale: Scale
                    ) -> list[SettingsGroup]:
    """The settings groups of ``rows`` (rated rows with a ``SPLIT`` column), their
    intervals on ``scale``; :class:`ExportError` when a rating lies off the scale."""
    _check_scale(rows, scale)
    schema = rows.schema
    goal = [column(schema, name).cast(pl.String) for name in GOAL_COLUMNS]
    settings = [column_expr(schema, col).alias(f"{_KNOB}{i}")
                for i, col in enumerate(knobs.values())]
    keys = [pl.col(SPLIT), column(schema, "experiment_id").cast(pl.String), *goal, *settings]
    grouped = rows.group_by(keys).agg(
        pl.col("rating").cast(pl.Float64).alias("__ratings"),
        pl.col("record_id").cast(pl.String).alias("__records"),
    )
    names = list(knobs)
    return [_group(row, names, scale) for row in grouped.iter_rows()]


def _check_scale(rows: pl.DataFrame, scale: Scale) -> None:
    ratings = rows["rating"].cast(pl.Float64)
    low, high = scale
    outside = ratings.filter((ratings < low) | (ratings > high))
    if outside.len():
        raise ExportError(
            f"{outside.len()} rating(s) lie outside the rating scale {format_scale(scale)} "
            f"(from {outside.min():g} to {outside.max():g}): declare the lake's scale "
            "(Lake(rating_scale=...), runlake --rating-scale LOW-HIGH) or "
            "ExportOptions(rating_scale=...)")


def to_json(values: Mapping[str, object]) -> str:
    """Compact JSON of the non-null values, keys sorted: the same text for the same values."""
    present = {key: value for key, value in values.items() if _present(value)}
    return orjson.dumps(present, option=orjson.OPT_SORT_KEYS).decode()


def _group(row: tuple[Any, ...], knob_names: list[str], scale: Scale) -> SettingsGroup:
    split, experiment, *rest = row
    goal_values = rest[: len(GOAL_COLUMNS)]
    knob_values = rest[len(GOAL_COLUMNS) : len(GOAL_COLUMNS) + len(knob_names)]
    ratings, records = rest[-2], rest[-1]  # the aggregated lists
    goal = dict(zip(GOAL_COLUMNS, goal_values, strict=True))
    mean = math.fsum(ratings) / len(ratings)
    low, high = bounded_interval(mean, len(ratings), scale)
    return SettingsGroup(
        split=str(split),
        experiment_id=None if experiment is None else str(experiment),
        prompt=None if goal["prompt"] is None else str(goal["prompt"]),
        goal=to_json(goal),
        settings=to_json(dict(zip(knob_names, knob_values, strict=True))),
        mean=mean,
        n=len(ratings),
        ci_low=low,
        ci_high=high,
        record_ids=tuple(sorted(str(r) for r in records if r is not None)),
    )


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))
