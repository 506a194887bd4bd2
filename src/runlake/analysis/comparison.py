"""``compare``: a metric per group of knobs, with counts, 95 % intervals and credible ranks.

The analysis stage's core. One vectorized Polars group-by runs over the (lazy) frame in the
column contract compaction produces; the few aggregated rows then get their intervals,
ranks and, on request, a Welch interval of their difference to a baseline group.

Semantics, in one place (docs/analysis.md gives the method and its references):

- ``n`` counts the group's rows whose metric is not null (NaN counts as null);
  ``n_missing_metric`` counts the others (e.g. runs nobody rated). Every group is listed,
  even one without any value (``n == 0``).
- ``std`` is the sample standard deviation (ddof 1; null when ``n == 1``).
- ``ci_low``/``ci_high``: on a bounded scale (``rating``: the lake's rating scale, 1-5 by
  default; a boolean: 0-1) the 95 % Wilson score interval of the mean rescaled to [0, 1],
  mapped back: it stays inside the scale, contains the mean and never has zero width (at
  ``n == 1`` a 5 on 1-5 gives [1.82, 5]). Unbounded metrics keep the 95 % Student-t
  interval ``mean ± t(0.975, n-1)·std/√n`` (null when ``n == 1``).
- ``rank`` orders groups by a credible measure, not by the mean: the interval's lower bound
  (``best="max"``) or upper bound (``best="min"``), so a lucky small group never outranks a
  well-supported one. Only groups with ``n >= min_n`` (default 3) and an interval are
  ranked; ties share the smaller rank ("min" method: 1, 1, 3).
- ``knob_missing`` is true for a group where a ``by`` knob is null. Such a group is reported
  apart: sorted after the real values and never ranked, so absent knobs never outvote real
  ones (the "CFG 0.0" trap).
- Rows are ordered by the ``within`` keys, then by rank (unranked groups after, missing knobs
  last), then by the ``by`` keys; ``order="knobs"`` leaves out the rank (a CFG curve reads
  in CFG order). Numbers sort numerically, strings alphabetically, nulls last.
- Knob names stay literal: a column named ``*`` or ``^...$`` is grouped as itself, never
  read by Polars as a pattern (the work runs under names of our own, renamed at the end).
- With ``baseline``: ``diff`` is ``mean - baseline mean`` inside the same ``within`` group,
  ``diff_ci_low``/``diff_ci_high`` its 95 % Welch interval (null on the baseline row itself,
  and where either side has ``n < 2``; on a bounded scale clipped to ± its width).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from runlake.compaction.names import is_pattern
from runlake.defaults import DEFAULT_MIN_N
from runlake.errors import InvalidOption, InvalidQuery, UnknownColumn
from runlake.records import DEFAULT_RATING_SCALE, RATING, Scale, check_scale, format_scale

Best = Literal["max", "min"]
Order = Literal["rank", "knobs"]
ScaleOption = Scale | Literal["auto"] | None

CONFIG_PREFIX = "config."
CONFIDENCE = 0.95
Z = 1.959963984540054  # the standard normal quantile at 0.5 + CONFIDENCE / 2
STAT_COLUMNS = (
    "n", "n_missing_metric", "mean", "std", "ci_low", "ci_high", "min", "max", "rank",
    "knob_missing",
)
DIFF_COLUMNS = ("diff", "diff_ci_low", "diff_ci_high")

_VALUE = "__runlake_metric"
_T = "__runlake_t"
_KEY = "__runlake_key"


def compare(
    frame: pl.DataFrame | pl.LazyFrame,
    by: str | Sequence[str],
    metric: str = "rating",
    *,
    within: str | Sequence[str] | None = None,
    where: str | pl.Expr | None = None,
    min_n: int = DEFAULT_MIN_N,
    best: Best = "max",
    baseline: object = None,
    scale: ScaleOption = "auto",
    order: Order = "rank",
) -> pl.DataFrame:
    """One row per group of ``by`` knobs (inside each ``within`` group) with the metric's
    n, mean, std, 95 % interval, min, max and a credible rank; see the module docstring for
    exact semantics.

    ``by``, ``within`` and ``metric`` name a column, or a config path (``txt2img.hr_scale``
    finds ``config.txt2img.hr_scale``); output columns keep the names given. ``where`` is a
    Polars expression or a SQL condition (``"steps >= 25 AND model = 'sdxl'"``) applied
    before grouping. ``baseline`` is the ``by`` value (a tuple for several ``by`` knobs) the
    other groups are measured against. ``scale`` is the metric's bounded scale ``(low,
    high)``: ``"auto"`` is 1-5 for ``rating`` and 0-1 for a boolean, else unbounded
    (``None``). Groups with fewer than ``min_n`` values are listed but not ranked.

    >>> runs = pl.DataFrame({"sampler": ["Euler a"] * 3 + ["DPM++ 2M", None],
    ...                      "rating": [4.0, 5.0, 4.0, 5.0, 5.0]})
    >>> compare(runs, "sampler").select("sampler", "n", "mean", "rank").rows()
    [('Euler a', 3, 4.333333333333333, 1), ('DPM++ 2M', 1, 5.0, None), (None, 1, 5.0, None)]
    """
    by_names, within_names = _names(by), _names(within)
    _check_options(by_names, within_names, min_n, best, order)
    lazy = frame.lazy()
    schema = lazy.collect_schema()
    # The work runs under names of our own (a knob named "*" or "^...$" would be a pattern
    # to group_by, over and sort); the dict rename at the end is literal.
    own = {name: f"{_KEY}{index}" for index, name in enumerate((*within_names, *by_names))}
    keys = {own[name]: column_expr(schema, resolve_column(schema, name)) for name in own}
    by_keys, within_keys = tuple(own[n] for n in by_names), tuple(own[n] for n in within_names)
    value = _metric_expr(schema, metric)
    bounds = _bounds(schema, metric, scale)
    stats = _group_stats(_filtered(lazy, schema, where), keys, value)
    stats = _with_ci(_within_scale(stats, metric, bounds), bounds)
    stats = _with_rank(stats, by_keys, within_keys, best, min_n)
    if baseline is not None:
        stats = _with_diff(stats, dict(zip(by_keys, by_names, strict=True)), within_keys,
                           baseline, bounds)
    ordered = _ordered(stats, by_keys, within_keys, order)
    return ordered.rename({key: name for name, key in own.items()})


def column_expr(schema: pl.Schema, name: str) -> pl.Expr:
    """The column ``name`` of ``schema`` as an expression that never reads it as a pattern:
    by name when it is literal (the usual case), else by position.

    >>> pl.DataFrame({"*": [1], "a": [2]}).select(column_expr(pl.Schema({"*": pl.Int64,
    ...     "a": pl.Int64}), "*")).columns
    ['*']
    """
    if not is_pattern(name):
        return pl.col(name)
    return pl.nth(schema.names().index(name))


def resolve_column(schema: pl.Schema, name: str) -> str:
    """The column ``name`` stands for: itself if present, else ``config.<name>``.

    >>> resolve_column(pl.Schema({"config.txt2img.hr_scale": pl.Float64}), "txt2img.hr_scale")
    'config.txt2img.hr_scale'
    """
    for candidate in (name, CONFIG_PREFIX + name):
        if candidate in schema:
            return candidate
    raise UnknownColumn(
        name, _close_matches(name, schema.names()), also_tried=CONFIG_PREFIX + name
    )


def _close_matches(name: str, columns: list[str]) -> list[str]:
    # Config columns are also matched without their prefix: people type the config path.
    aliases = {column: column for column in columns}
    configs = [column for column in columns if column.startswith(CONFIG_PREFIX)]
    aliases.update({column.removeprefix(CONFIG_PREFIX): column for column in configs})
    matches = difflib.get_close_matches(name, list(aliases), n=5, cutoff=0.6)
    return list(dict.fromkeys(aliases[match] for match in matches))


def _names(names: str | Sequence[str] | None) -> tuple[str, ...]:
    if names is None:
        return ()
    return (names,) if isinstance(names, str) else tuple(names)


def _check_options(
    by: tuple[str, ...], within: tuple[str, ...], min_n: int, best: str, order: str
) -> None:
    if not by:
        raise InvalidOption("compare needs at least one `by` knob")
    keys = (*within, *by)
    if len(set(keys)) != len(keys):
        raise InvalidOption(f"a knob is named twice in within={within!r}, by={by!r}")
    taken = sorted(set(keys) & {*STAT_COLUMNS, *DIFF_COLUMNS})
    if taken:
        raise InvalidOption(f"cannot group by {taken}: the names of output columns")
    if min_n < 0:
        raise InvalidOption(f"min_n must be >= 0, got {min_n}")
    if best not in ("max", "min"):
        raise InvalidOption(f"best must be 'max' or 'min', got {best!r}")
    if order not in ("rank", "knobs"):
        raise InvalidOption(f"order must be 'rank' or 'knobs', got {order!r}")


def _bounds(schema: pl.Schema, metric: str, scale: ScaleOption) -> Scale | None:
    """The metric's bounded scale, or ``None`` for an unbounded metric (a t-interval)."""
    if scale is None:
        return None
    if isinstance(scale, str) and scale == "auto":
        if schema[resolve_column(schema, metric)] == pl.Boolean:
            return (0.0, 1.0)
        return DEFAULT_RATING_SCALE if metric == RATING else None
    return check_scale(scale)


def _within_scale(stats: pl.DataFrame, metric: str, bounds: Scale | None) -> pl.DataFrame:
    """``stats`` as they are; :class:`InvalidQuery` when a value lies outside the scale (an
    interval on the wrong scale would be confidently wrong)."""
    if bounds is None:
        return stats
    low, high = bounds
    outside = stats.filter((pl.col("min") < low) | (pl.col("max") > high))
    if outside.is_empty():
        return stats
    worst = outside.select(pl.col("min").min(), pl.col("max").max()).row(0)
    raise InvalidQuery(
        f"metric {metric!r} has values outside its scale {format_scale(bounds)} (from "
        f"{worst[0]:g} to {worst[1]:g}); declare its scale (scale=(low, high), --scale "
        "LOW-HIGH) or compare it as unbounded (scale=None, --scale none)"
    )


def _metric_expr(schema: pl.Schema, metric: str) -> pl.Expr:
    column = resolve_column(schema, metric)
    dtype = schema[column]
    if not (dtype.is_numeric() or dtype == pl.Boolean):
        raise InvalidQuery(f"metric {metric!r} is {dtype}, not a number or a boolean")
    # Booleans become 0/1 so a mean is a rate; NaN is treated as missing, like null.
    value = column_expr(schema, column).cast(pl.Float64)
    return value.fill_nan(None) if dtype.is_float() else value


def _filtered(
    lazy: pl.LazyFrame, schema: pl.Schema, where: str | pl.Expr | None
) -> pl.LazyFrame:
    if where is None:
        return lazy
    try:
        predicate = pl.sql_expr(where) if isinstance(where, str) else where
        # Run on an empty frame of the same schema: names, types and the boolean result are
        # checked now (some type errors only show when a kernel runs), at no cost.
        pl.LazyFrame(schema=schema).filter(predicate).collect()
    except pl.exceptions.PolarsError as exc:
        raise InvalidQuery(f"bad filter {where!r}: {str(exc).splitlines()[0]}") from exc
    return lazy.filter(predicate)


def _group_stats(lazy: pl.LazyFrame, keys: dict[str, pl.Expr], value: pl.Expr
                 ) -> pl.DataFrame:
    columns = [column.alias(name) for name, column in keys.items()]
    metric = pl.col(_VALUE)
    return (
        lazy.select(*columns, value.alias(_VALUE))
        .group_by(list(keys))
        .agg(
            n=metric.count().cast(pl.Int64),
            n_missing_metric=metric.null_count().cast(pl.Int64),
            mean=metric.mean(),
            std=metric.std(),
            min=metric.min(),
            max=metric.max(),
        )
        .collect()
    )


def _with_ci(stats: pl.DataFrame, bounds: Scale | None) -> pl.DataFrame:
    if bounds is not None:
        return _with_wilson(stats, bounds)
    t = _t_quantile(stats["n"].to_numpy().astype(np.float64) - 1)
    half = pl.col(_T) * pl.col("std") / pl.col("n").sqrt()
    return (
        stats.with_columns(pl.Series(_T, t).fill_nan(None))
        .with_columns(ci_low=pl.col("mean") - half, ci_high=pl.col("mean") + half)
        .drop(_T)
    )


def _with_wilson(stats: pl.DataFrame, bounds: Scale) -> pl.DataFrame:
    """The Wilson score interval of the mean rescaled to [0, 1], mapped back to the scale.

    ``p(1 - p)`` is the largest variance a variable on [0, 1] with mean ``p`` can have
    (Bhatia-Davis), so the interval holds whatever the ratings' spread, needs no sample
    standard deviation (there is none at n = 1) and is never of zero width.
    """
    low, high = bounds
    n = pl.col("n").cast(pl.Float64)
    p = ((pl.col("mean") - low) / (high - low)).clip(0.0, 1.0)
    z2n = Z * Z / n
    center = (p + z2n / 2) / (1 + z2n)
    half = Z / (1 + z2n) * (p * (1 - p) / n + z2n / (4 * n)).sqrt()
    return stats.with_columns(
        ci_low=low + (high - low) * (center - half).clip(0.0, 1.0),
        ci_high=low + (high - low) * (center + half).clip(0.0, 1.0),
    )


def bounded_interval(mean: float, n: int, scale: Scale) -> tuple[float, float]:
    """The 95 % Wilson score interval ``compare`` draws for ``n`` values with this ``mean``
    on a bounded ``scale``, for one group (an export's settings group).

    >>> [round(bound, 3) for bound in bounded_interval(5.0, 1, (1.0, 5.0))]
    [1.826, 5.0]
    """
    low, high = scale
    p = min(max((mean - low) / (high - low), 0.0), 1.0)
    z2n = Z * Z / n
    center = (p + z2n / 2) / (1 + z2n)
    half = Z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    return (low + (high - low) * max(center - half, 0.0),
            low + (high - low) * min(center + half, 1.0))


def _with_rank(
    stats: pl.DataFrame, by: tuple[str, ...], within: tuple[str, ...], best: Best, min_n: int
) -> pl.DataFrame:
    knob_missing = pl.any_horizontal(pl.col(name).is_null() for name in by)
    # The credible measure: the interval's bound on the side that matters. A missing-knob
    # group, or one with too few values, gets none, so it can never come out "best".
    bound = pl.col("ci_low") if best == "max" else pl.col("ci_high")
    eligible = ~pl.col("knob_missing") & (pl.col("n") >= max(min_n, 1))
    rank = pl.when(eligible).then(bound).rank("min", descending=best == "max")
    rank = rank.over(within) if within else rank
    return stats.with_columns(knob_missing=knob_missing).with_columns(rank=rank.cast(pl.Int64))


def _with_diff(
    stats: pl.DataFrame, by: dict[str, str], within: tuple[str, ...], baseline: object,
    bounds: Scale | None,
) -> pl.DataFrame:
    """``stats`` with the difference to the ``baseline`` group; ``by`` maps each key column
    to the knob's name as the user gave it (for messages)."""
    is_base = _baseline_expr(stats, by, baseline)

    def base(column: str) -> pl.Expr:
        first = pl.col(column).filter(is_base).first()
        return first.over(within) if within else first

    var, base_var = pl.col("std") ** 2 / pl.col("n"), base("std") ** 2 / base("n")
    welch_dof = (var + base_var) ** 2 / (
        var**2 / (pl.col("n") - 1) + base_var**2 / (base("n") - 1)
    )
    stats = stats.with_columns(
        diff=pl.col("mean") - base("mean"), _se=(var + base_var).sqrt(), _dof=welch_dof,
        _base=is_base,
    )
    t = pl.Series(_T, _t_quantile(stats["_dof"].fill_null(np.nan).to_numpy())).fill_nan(None)
    # Two groups without spread differ by exactly diff: zero width, whatever t is.
    half = pl.when(pl.col("_se") == 0).then(0.0).otherwise(pl.col(_T) * pl.col("_se"))
    interval = pl.when(~pl.col("_base"))
    low, high = pl.col("diff") - half, pl.col("diff") + half
    if bounds is not None:  # two means on a scale of width w differ by at most w
        width = bounds[1] - bounds[0]
        low, high = low.clip(-width, width), high.clip(-width, width)
    return stats.with_columns(t).with_columns(
        diff_ci_low=interval.then(low), diff_ci_high=interval.then(high),
    ).drop("_se", "_dof", "_base", _T)


def _baseline_expr(stats: pl.DataFrame, by: dict[str, str], baseline: object) -> pl.Expr:
    shown = tuple(by.values())
    if len(by) == 1:
        values: Sequence[object] = (baseline,)
    elif isinstance(baseline, (tuple, list)) and len(baseline) == len(by):
        values = baseline
    else:
        raise InvalidOption(f"baseline must be a tuple of {len(by)} values, one per knob "
                            f"{shown}")
    typed = [_typed(stats, key, name, value)
             for (key, name), value in zip(by.items(), values, strict=True)]
    # eq_missing: a group with a null knob is simply not the baseline (== would give null).
    is_base = pl.all_horizontal(pl.col(key).eq_missing(value)
                                for key, value in zip(by, typed, strict=True))
    try:
        found = stats.select(is_base.any()).item()
    except pl.exceptions.PolarsError as exc:
        raise InvalidOption(f"baseline {baseline!r} does not fit {shown}: {exc}") from exc
    if not found:
        raise InvalidOption(f"baseline {baseline!r} matches no group of {shown}")
    return is_base


def _typed(stats: pl.DataFrame, key: str, name: str, value: object) -> object:
    """A baseline given as text (from the command line) in its knob's type: "25" for steps."""
    dtype = stats.schema[key]
    if not isinstance(value, str) or dtype == pl.String:
        return value
    try:
        return pl.Series([value]).cast(dtype).item()
    except pl.exceptions.PolarsError as exc:
        raise InvalidOption(f"baseline {value!r} is not a value of {name} ({dtype})") from exc


def _t_quantile(dof: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Student-t quantiles at 0.5 + CONFIDENCE/2 for each degrees of freedom (NaN below 1)."""
    # Imported here: scipy costs ~0.7 s to import, and `import runlake` must stay quick for
    # pipelines and the CLI. Only the few distinct dof values go through the inverse CDF.
    from scipy.special import stdtrit  # noqa: PLC0415

    unique, inverse = np.unique(dof, return_inverse=True)
    quantiles = stdtrit(np.where(unique >= 1, unique, np.nan), 0.5 + CONFIDENCE / 2)
    return np.asarray(quantiles, dtype=np.float64)[inverse]


def _ordered(
    stats: pl.DataFrame, by: tuple[str, ...], within: tuple[str, ...], order: Order
) -> pl.DataFrame:
    diff = [column for column in DIFF_COLUMNS if column in stats.columns]
    rank = ["rank"] if order == "rank" else []
    return stats.sort([*within, *rank, "knob_missing", *by], nulls_last=True).select(
        *within, *by, *STAT_COLUMNS, *diff
    )
