"""``compare``: a metric per group of knobs, with counts, 95 % confidence intervals and ranks.

The analysis stage's core. One vectorized Polars group-by runs over the (lazy) frame in the
column contract compaction produces; the few aggregated rows then get their t-intervals,
ranks and, on request, a Welch interval of their difference to a baseline group.

Semantics, in one place:

- ``n`` counts the group's rows whose metric is not null (NaN counts as null);
  ``n_missing_metric`` counts the others (e.g. runs nobody rated). Groups with ``n < min_n``
  are dropped.
- ``std`` is the sample standard deviation (ddof 1); ``ci_low``/``ci_high`` are the 95 %
  t-interval ``mean ± t(0.975, n-1)·std/√n``. With ``n == 1`` std and interval are null.
- ``knob_missing`` is true for a group where a ``by`` knob is null. Such a group is reported
  apart: sorted after the real values and never ranked, so absent knobs never outvote real
  ones (the "CFG 0.0" trap).
- ``rank`` is 1 for the best mean (highest, or lowest with ``best="min"``) inside each
  ``within`` group; equal means share the smaller rank ("min" method: 1, 1, 3).
- Rows are ordered by the ``within`` keys, then real values before missing knobs, then the
  ``by`` keys; numbers sort numerically, strings alphabetically, nulls last.
- With ``baseline``: ``diff`` is ``mean - baseline mean`` inside the same ``within`` group,
  ``diff_ci_low``/``diff_ci_high`` its 95 % Welch interval (null on the baseline row itself,
  and where either side has ``n < 2``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from runlake.errors import InvalidOption, InvalidQuery, UnknownColumn

Best = Literal["max", "min"]

CONFIG_PREFIX = "config."
CONFIDENCE = 0.95
STAT_COLUMNS = (
    "n", "n_missing_metric", "mean", "std", "ci_low", "ci_high", "min", "max", "rank",
    "knob_missing",
)
DIFF_COLUMNS = ("diff", "diff_ci_low", "diff_ci_high")

_VALUE = "__runlake_metric"
_T = "__runlake_t"


def compare(
    frame: pl.DataFrame | pl.LazyFrame,
    by: str | Sequence[str],
    metric: str = "rating",
    *,
    within: str | Sequence[str] | None = None,
    where: str | pl.Expr | None = None,
    min_n: int = 1,
    best: Best = "max",
    baseline: object = None,
) -> pl.DataFrame:
    """One row per group of ``by`` knobs (inside each ``within`` group) with the metric's
    n, mean, std, 95 % CI, min, max and rank; see the module docstring for exact semantics.

    ``by``, ``within`` and ``metric`` name a column, or a config path (``txt2img.hr_scale``
    finds ``config.txt2img.hr_scale``); output columns keep the names given. ``where`` is a
    Polars expression or a SQL condition (``"steps >= 25 AND model = 'sdxl'"``) applied
    before grouping. ``baseline`` is the ``by`` value (a tuple for several ``by`` knobs) the
    other groups are measured against.

    >>> runs = pl.DataFrame({"sampler": ["Euler a", "Euler a", "DPM++ 2M", None],
    ...                      "rating": [3.0, 5.0, 5.0, 5.0]})
    >>> compare(runs, "sampler").select("sampler", "n", "mean", "rank").rows()
    [('DPM++ 2M', 1, 5.0, 1), ('Euler a', 2, 4.0, 2), (None, 1, 5.0, None)]
    """
    by_names, within_names = _names(by), _names(within)
    _check_options(by_names, within_names, min_n, best)
    lazy = frame.lazy()
    schema = lazy.collect_schema()
    keys = {name: resolve_column(schema, name) for name in (*within_names, *by_names)}
    value = _metric_expr(schema, metric)
    stats = _group_stats(_filtered(lazy, schema, where), keys, value).filter(pl.col("n") >= min_n)
    stats = _with_rank(_with_ci(stats), by_names, within_names, best)
    if baseline is not None:
        stats = _with_diff(stats, by_names, within_names, baseline)
    return _ordered(stats, by_names, within_names)


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


def _check_options(by: tuple[str, ...], within: tuple[str, ...], min_n: int, best: str) -> None:
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


def _metric_expr(schema: pl.Schema, metric: str) -> pl.Expr:
    column = resolve_column(schema, metric)
    dtype = schema[column]
    if not (dtype.is_numeric() or dtype == pl.Boolean):
        raise InvalidQuery(f"metric {metric!r} is {dtype}, not a number or a boolean")
    # Booleans become 0/1 so a mean is a rate; NaN is treated as missing, like null.
    value = pl.col(column).cast(pl.Float64)
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


def _group_stats(lazy: pl.LazyFrame, keys: dict[str, str], value: pl.Expr) -> pl.DataFrame:
    columns = [pl.col(column).alias(name) for name, column in keys.items()]
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


def _with_ci(stats: pl.DataFrame) -> pl.DataFrame:
    t = _t_quantile(stats["n"].to_numpy().astype(np.float64) - 1)
    half = pl.col(_T) * pl.col("std") / pl.col("n").sqrt()
    return (
        stats.with_columns(pl.Series(_T, t).fill_nan(None))
        .with_columns(ci_low=pl.col("mean") - half, ci_high=pl.col("mean") + half)
        .drop(_T)
    )


def _with_rank(
    stats: pl.DataFrame, by: tuple[str, ...], within: tuple[str, ...], best: Best
) -> pl.DataFrame:
    knob_missing = pl.any_horizontal(pl.col(name).is_null() for name in by)
    # A missing-knob group gets no mean to rank, so it can never come out "best".
    ranked = pl.when(~pl.col("knob_missing")).then(pl.col("mean"))
    rank = ranked.rank("min", descending=best == "max")
    rank = rank.over(within) if within else rank
    return stats.with_columns(knob_missing=knob_missing).with_columns(rank=rank.cast(pl.Int64))


def _with_diff(
    stats: pl.DataFrame, by: tuple[str, ...], within: tuple[str, ...], baseline: object
) -> pl.DataFrame:
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
    return stats.with_columns(t).with_columns(
        diff_ci_low=interval.then(pl.col("diff") - half),
        diff_ci_high=interval.then(pl.col("diff") + half),
    ).drop("_se", "_dof", "_base", _T)


def _baseline_expr(stats: pl.DataFrame, by: tuple[str, ...], baseline: object) -> pl.Expr:
    if len(by) == 1:
        values: Sequence[object] = (baseline,)
    elif isinstance(baseline, (tuple, list)) and len(baseline) == len(by):
        values = baseline
    else:
        raise InvalidOption(f"baseline must be a tuple of {len(by)} values, one per knob {by}")
    # eq_missing: a group with a null knob is simply not the baseline (== would give null).
    is_base = pl.all_horizontal(pl.col(n).eq_missing(v) for n, v in zip(by, values, strict=True))
    try:
        found = stats.select(is_base.any()).item()
    except pl.exceptions.PolarsError as exc:
        raise InvalidOption(f"baseline {baseline!r} does not fit {by}: {exc}") from exc
    if not found:
        raise InvalidOption(f"baseline {baseline!r} matches no group of {by}")
    return is_base


def _t_quantile(dof: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Student-t quantiles at 0.5 + CONFIDENCE/2 for each degrees of freedom (NaN below 1)."""
    # Imported here: scipy costs ~0.7 s to import, and `import runlake` must stay quick for
    # pipelines and the CLI. Only the few distinct dof values go through the inverse CDF.
    from scipy.special import stdtrit  # noqa: PLC0415

    unique, inverse = np.unique(dof, return_inverse=True)
    quantiles = stdtrit(np.where(unique >= 1, unique, np.nan), 0.5 + CONFIDENCE / 2)
    return np.asarray(quantiles, dtype=np.float64)[inverse]


def _ordered(stats: pl.DataFrame, by: tuple[str, ...], within: tuple[str, ...]) -> pl.DataFrame:
    diff = [column for column in DIFF_COLUMNS if column in stats.columns]
    return stats.sort([*within, "knob_missing", *by], nulls_last=True).select(
        *within, *by, *STAT_COLUMNS, *diff
    )
