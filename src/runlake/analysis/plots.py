"""The figures of a sweep, as matplotlib ``Figure`` objects.

matplotlib because one figure object renders both ways the issue asks for, with no network:
inline in Jupyter (``%matplotlib inline``) and as static SVG inside one HTML file
(``runlake.analysis.report``), with no JavaScript and nothing to fetch. Figures are built as bare
``Figure`` objects, never through ``pyplot``: no global figure registry to leak or close, and
no display backend is ever touched, so rendering a file works on a headless machine.

Each figure has a ``*_stats`` function giving the ``compare`` table it draws, so a notebook
or the report shows the numbers next to the picture. Input that leaves nothing to draw (no
rows, a missing column, no experiments) gives a figure that says so, never an exception.

This module imports matplotlib: ``import runlake`` does not import it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from runlake.analysis.comparison import compare
from runlake.errors import LakeError

MISSING = "(none)"
MAX_LABEL = 40
MAX_EXPERIMENTS = 12
PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
           "#8c8c8c", "#ccb974", "#64b5cd")


def sampler_steps_stats(frame: pl.DataFrame) -> pl.DataFrame:
    """Mean rating per sampler x steps (the heatmap's table)."""
    return compare(frame, ["sampler", "steps"])


def cfg_stats(frame: pl.DataFrame) -> pl.DataFrame:
    """Mean rating per CFG scale within each model (the CFG curves' table)."""
    return compare(frame, "cfg_scale", within="model", order="knobs")


def duration_stats(frame: pl.DataFrame) -> pl.DataFrame:
    """Mean duration per steps within each model (rank 1 = fastest)."""
    return compare(frame, "steps", "duration", within="model", best="min", order="knobs")


def variant_stats(frame: pl.DataFrame) -> pl.DataFrame:
    """Each experiment's variants against its baseline (its lowest variant index): ``diff``
    and its 95 % Welch interval, with the experiment's name and each variant's value."""
    experiments = _experiment_rows(frame)
    parts = [_one_experiment(experiments, key) for key in _experiment_order(experiments)]
    found = [part for part in parts if part is not None]
    return pl.concat(found, how="diagonal_relaxed") if found else pl.DataFrame()


def heatmap(
    compare_frame: pl.DataFrame, *, x: str = "steps", y: str = "sampler", value: str = "mean"
) -> Figure:
    """A heatmap of ``value`` (a ``compare`` output over ``[y, x]``), each cell annotated with
    its value and ``n``; missing knobs show as ``(none)``."""
    if not {x, y, value, "n"} <= set(compare_frame.columns) or compare_frame.is_empty():
        return message_figure(f"No rated runs with {y} and {x} to compare.")
    xs, ys = _axis_values(compare_frame[x]), _axis_values(compare_frame[y])
    grid, counts = np.full((len(ys), len(xs)), np.nan), np.zeros((len(ys), len(xs)), int)
    for row in compare_frame.select(x, y, value, "n").iter_rows():
        i, j = ys.index(row[1]), xs.index(row[0])
        grid[i, j], counts[i, j] = (np.nan if row[2] is None else row[2]), row[3]
    figure = Figure(figsize=(min(2.0 + 1.1 * len(xs), 14), min(1.6 + 0.55 * len(ys), 14)),
                    layout="constrained")
    axes = figure.subplots()
    mesh = axes.pcolormesh(np.ma.masked_invalid(grid), cmap="viridis", edgecolors="white")
    bar = figure.colorbar(mesh, ax=axes, label=f"{value} rating")
    if bar.solids is not None:
        # Vector, not an embedded PNG: the report's page allows no images at all.
        bar.solids.set_rasterized(False)
        bar.solids.set_edgecolor("face")  # no hairline seams between the bands
    _annotate(axes, grid, counts, np.asarray(mesh.norm(grid), dtype=float))
    _ticks(axes, xs, ys)
    axes.invert_yaxis()  # the first value on top, as a table reads
    axes.set(xlabel=x, ylabel=y, title=f"{value} rating by {y} and {x}")
    return figure


def sampler_steps_heatmap(frame: pl.DataFrame) -> Figure:
    """:func:`heatmap` of :func:`sampler_steps_stats` (missing knobs shown as ``(none)``)."""
    try:
        stats = sampler_steps_stats(frame)
    except LakeError:  # a column the frame lacks: the figure says there is no data
        return message_figure("No sampler and steps columns to compare.")
    return heatmap(stats)


def cfg_curves(frame: pl.DataFrame) -> Figure:
    """Mean rating against CFG scale, one line per model, with its 95 % interval band."""
    stats = _stats_or_none(cfg_stats, frame)
    if stats is None:
        return message_figure("No rated runs with a CFG scale to plot.")
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    axes = figure.subplots()
    for color, (model, curve) in zip(itertools.cycle(PALETTE), _by(stats, "model"), strict=False):
        cfg, mean = curve["cfg_scale"].to_numpy(), curve["mean"].to_numpy()
        low, high = (curve[c].cast(pl.Float64).fill_null(np.nan).to_numpy()
                     for c in ("ci_low", "ci_high"))
        axes.plot(cfg, mean, marker="o", color=color,
                  label=f"{_label(model)} (n={curve['n'].sum()})")
        axes.fill_between(cfg, low, high, color=color, alpha=0.18, linewidth=0)
    axes.set(xlabel="CFG scale", ylabel="mean rating",
             title="Mean rating by CFG scale per model (95 % CI)")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    return figure


def variants_vs_baseline(frame: pl.DataFrame, *, max_experiments: int = MAX_EXPERIMENTS
                         ) -> Figure:
    """Per experiment, each variant's mean rating minus the baseline's (the lowest variant
    index), with 95 % Welch intervals; at most ``max_experiments`` (the most recent)."""
    stats = _stats_or_none(variant_stats, frame)
    if stats is None:
        return message_figure("No rated experiment variants to compare.")
    experiments = _by(stats, "experiment_id")[-max_experiments:]
    heights = [1.0 + 0.4 * part.height for _, part in experiments]
    figure = Figure(figsize=(8, sum(heights) + 0.6), layout="constrained")
    axes_list = figure.subplots(len(experiments), 1, squeeze=False, sharex=True,
                                gridspec_kw={"height_ratios": heights})[:, 0]
    for axes, (_, part) in zip(axes_list, experiments, strict=True):
        _variant_panel(axes, part)
    axes_list[-1].set_xlabel("mean rating minus baseline (95 % Welch CI)")
    return figure


def duration_vs_steps(frame: pl.DataFrame) -> Figure:
    """Run duration against steps, a point per run and a line of the mean per model."""
    stats = _stats_or_none(duration_stats, frame)
    if stats is None:
        return message_figure("No runs with a duration and steps to plot.")
    runs = frame.filter(pl.col("duration").is_not_null() & pl.col("steps").is_not_null())
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    axes = figure.subplots()
    models = dict(_by(stats, "model"))
    for color, model in zip(itertools.cycle(PALETTE), models, strict=False):
        points = runs.filter(pl.col("model").eq_missing(model))
        axes.scatter(points["steps"], points["duration"], color=color, alpha=0.35, s=14)
        line = models[model]
        axes.plot(line["steps"], line["mean"], marker="o", color=color, label=_label(model))
    axes.set(xlabel="steps", ylabel="duration (s)", title="Duration by steps per model")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    return figure


def message_figure(message: str) -> Figure:
    """A small figure that only says ``message``: what a plot shows when it has no data."""
    figure = Figure(figsize=(6, 1.5))
    axes = figure.subplots()
    axes.set_axis_off()
    axes.text(0.5, 0.5, _label(message, limit=200), ha="center", va="center", color="#555555")
    return figure


def _stats_or_none(
    stats_of: Callable[[pl.DataFrame], pl.DataFrame], frame: pl.DataFrame
) -> pl.DataFrame | None:
    """The stats without missing-knob rows, or None when there is nothing to draw."""
    try:
        stats = stats_of(frame)
    except LakeError:  # a column the frame lacks: the figure says there is no data
        return None
    if "knob_missing" in stats.columns:
        stats = stats.filter(~pl.col("knob_missing"))
    return stats if stats.height else None


def _experiment_rows(frame: pl.DataFrame) -> pl.DataFrame:
    if not {"experiment_id", "variant_index", "rating"} <= set(frame.columns):
        return frame.clear()
    return frame.filter(pl.col("experiment_id").is_not_null()
                        & pl.col("variant_index").is_not_null())


def _experiment_order(rows: pl.DataFrame) -> list[str]:
    """Experiment ids, oldest first, so a cap on how many are shown keeps the most recent."""
    if rows.is_empty():
        return []
    latest = pl.col("event_time").max() if "event_time" in rows.columns else pl.len()
    order = rows.group_by("experiment_id").agg(latest.alias("latest"))
    return [str(key) for key in order.sort("latest", "experiment_id")["experiment_id"]]


def _one_experiment(rows: pl.DataFrame, experiment: str) -> pl.DataFrame | None:
    part = rows.filter(pl.col("experiment_id") == experiment)
    rated = part.filter(pl.col("rating").fill_nan(None).is_not_null())
    if rated.is_empty():
        return None
    stats = compare(part, "variant_index", baseline=rated["variant_index"].min(), order="knobs")
    values = part.group_by("variant_index").agg(_first_text(part, "variant_value"))
    name = part.select(_first_text(part, "experiment_name")).item() or experiment
    return stats.join(values, on="variant_index", how="left", maintain_order="left").select(
        pl.lit(experiment).alias("experiment_id"), pl.lit(name).alias("experiment_name"),
        "variant_index", "variant_value", pl.exclude("variant_index", "variant_value"),
    )


def _first_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(None, pl.String).alias(name)
    return pl.col(name).drop_nulls().first().cast(pl.String)


def _variant_panel(axes: Axes, part: pl.DataFrame) -> None:
    labels = [f"#{index} {_label(value or '')}".strip()
              for index, value in part.select("variant_index", "variant_value").iter_rows()]
    diff = part["diff"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    low = diff - part["diff_ci_low"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    high = part["diff_ci_high"].cast(pl.Float64).fill_null(np.nan).to_numpy() - diff
    positions = np.arange(len(labels))
    # Where the interval is unknown (n < 2, or the baseline itself) draw the point only.
    errors = np.nan_to_num(np.vstack([low, high]))
    axes.errorbar(diff, positions, xerr=errors, fmt="o", color=PALETTE[0], capsize=3)
    axes.axvline(0.0, color="#888888", linewidth=1, linestyle="--")
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    name = part["experiment_name"][0]
    variable = _first_value(part, "variable_under_test")
    axes.set_title(_label(f"{name}" + (f" ({variable})" if variable else "")), fontsize="medium")
    axes.grid(axis="x", alpha=0.3)


def _first_value(frame: pl.DataFrame, name: str) -> str | None:
    if name not in frame.columns:
        return None
    values = frame[name].drop_nulls()
    return str(values[0]) if len(values) else None


def _by(stats: pl.DataFrame, key: str) -> list[tuple[object, pl.DataFrame]]:
    """``stats`` split by ``key`` in its sorted order (nulls last)."""
    keys = stats[key].unique(maintain_order=True).to_list()
    return [(value, stats.filter(pl.col(key).eq_missing(value))) for value in keys]


def _axis_values(series: pl.Series) -> list[object]:
    values: list[object] = series.unique().sort(nulls_last=True).to_list()
    return values


def _annotate(axes: Axes, grid: np.ndarray, counts: np.ndarray, shade: np.ndarray) -> None:
    for (i, j), value in np.ndenumerate(grid):
        if math.isnan(value):
            continue
        # Light text on the dark end of viridis, dark text on the light end.
        color = "white" if shade[i, j] < 0.6 else "black"
        axes.text(j + 0.5, i + 0.5, f"{value:.2f}\nn={counts[i, j]}", ha="center",
                  va="center", color=color, fontsize="small")


def _ticks(axes: Axes, xs: Sequence[object], ys: Sequence[object]) -> None:
    axes.set_xticks(np.arange(len(xs)) + 0.5, [_label(x) for x in xs])
    axes.set_yticks(np.arange(len(ys)) + 0.5, [_label(y) for y in ys])


def _label(value: object, *, limit: int = MAX_LABEL) -> str:
    """Record text made safe for a matplotlib label: short, and a ``$`` is a dollar sign
    (two of them would start math mode, and bad math raises)."""
    if value is None:
        return MISSING
    text = " ".join(str(value).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")
