"""Canonical knob values on a normalized frame: :mod:`runlake.records.vocabulary` applied to
its ``sampler``, ``scheduler``, ``model`` and ``model_hash`` columns.

The vocabulary is plain Python (the importers and the learning records call the same
functions), so it runs once per distinct raw value, not per row: a part has a handful of
distinct (sampler, scheduler) pairs and models, mapped here and joined back in row order.
"""

from __future__ import annotations

import polars as pl

from runlake.records.vocabulary import sampler_pair, scheduler_label, split_model

_PAIR = ("sampler", "scheduler")


def canonical_values(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with canonical sampler, scheduler, model and model hash (same row order)."""
    if frame.height == 0:
        return frame
    return _models(_pairs(frame))


def _pairs(frame: pl.DataFrame) -> pl.DataFrame:
    raw = frame.select(_PAIR).unique()
    mapped = [_pair(sampler, scheduler) for sampler, scheduler in raw.iter_rows()]
    lookup = raw.with_columns(
        pl.Series("_sampler", [m[0] for m in mapped], pl.String),
        pl.Series("_scheduler", [m[1] for m in mapped], pl.String))
    joined = frame.join(lookup, on=list(_PAIR), how="left", nulls_equal=True,
                        maintain_order="left")
    return joined.with_columns(pl.col("_sampler").alias("sampler"),
                               pl.col("_scheduler").alias("scheduler")).drop(
                                   "_sampler", "_scheduler")


def _pair(sampler: str | None, scheduler: str | None) -> tuple[str | None, str | None]:
    if sampler is not None:
        return sampler_pair(sampler, scheduler)
    return None, scheduler_label(scheduler) if scheduler is not None else None


def _models(frame: pl.DataFrame) -> pl.DataFrame:
    names = frame["model"].drop_nulls().unique().to_list()
    split = {name: split_model(name) for name in names}
    model = pl.col("model").replace_strict({n: m for n, (m, _) in split.items()},
                                           default=pl.col("model"), return_dtype=pl.String)
    digest = pl.col("model").replace_strict({n: h for n, (_, h) in split.items()},
                                            default=None, return_dtype=pl.String)
    return frame.with_columns(
        pl.when(model.str.strip_chars() != "").then(model).alias("model"),
        pl.coalesce(pl.col("model_hash").str.to_lowercase(), digest).alias("model_hash"))
