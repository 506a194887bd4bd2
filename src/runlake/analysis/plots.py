"""The figures of a sweep, as matplotlib ``Figure`` objects.

matplotlib because one figure object renders both ways the issue asks for, with no network:
inline in Jupyter (``%matplotlib inline``) and as static SVG inside one HTML file
(``runlake.analysis.report``), with no JavaScript and nothing to fetch. Figures are built as bare
``Figure`` objects, never through ``pyplot``: no global figure registry to leak or close, and
no display backend is ever touched, so rendering a file works on a headless machine.

Each figure has a ``*_stats`` function giving the ``compare`` table it draws, so a notebook
or the report shows the numbers next to the picture. Input that leaves nothing to draw (no
rows, a missing column, no experiments) gives a figure that says so, never an exception.

At any size: every figure draws aggregates, never a mark per run (a million runs would be a
million SVG elements): means with intervals, and quantile bands for durations. Lines of
several models get distinct colours up to ``MAX_OVERLAID`` models; past that each model gets
its own panel (small multiples, at most ``MAX_PANELS``, the models with most runs).

This module imports matplotlib: ``import runlake`` does not import it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from runlake.analysis.comparison import compare
from runlake.analysis.grid import SweepGrid
from runlake.analysis.thumbnails import Thumbnail
from runlake.errors import LakeError

MISSING = "(none)"
MAX_LABEL = 40
MAX_EXPERIMENTS = 12
MAX_OVERLAID = 4
MAX_PANELS = 12
PANEL_COLUMNS = 3
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
           "#8c8c8c", "#ccb974", "#64b5cd")


def sampler_steps_stats(frame: pl.DataFrame, *, metric: str = "rating") -> pl.DataFrame:
    """Mean ``metric`` per sampler x steps (the heatmap's table)."""
    return compare(frame, ["sampler", "steps"], metric)


def cfg_stats(frame: pl.DataFrame, *, metric: str = "rating") -> pl.DataFrame:
    """Mean ``metric`` per CFG scale within each model (the CFG curves' table)."""
    return compare(frame, "cfg_scale", metric, within="model", order="knobs")


def duration_stats(frame: pl.DataFrame) -> pl.DataFrame:
    """Mean duration per steps within each model (rank 1 = fastest)."""
    return compare(frame, "steps", "duration", within="model", best="min", order="knobs")


def duration_bands(frame: pl.DataFrame) -> pl.DataFrame:
    """Per model and steps: n and the 10/25/50/75/90 % quantiles of the duration (the
    bands the duration figure draws)."""
    if not {"model", "steps", "duration"} <= set(frame.columns):
        return pl.DataFrame()
    runs = frame.filter(pl.col("steps").is_not_null()
                        & pl.col("duration").fill_nan(None).is_not_null())
    quantiles = [pl.col("duration").quantile(q, "linear").alias(f"q{round(q * 100)}")
                 for q in QUANTILES]
    return (runs.group_by("model", "steps").agg(pl.len().alias("n"), *quantiles)
            .sort("model", "steps", nulls_last=True))


def variant_stats(frame: pl.DataFrame, *, metric: str = "rating") -> pl.DataFrame:
    """Each experiment's variants against its baseline (its lowest variant index): ``diff``
    and its 95 % Welch interval, with the experiment's name and each variant's value."""
    experiments = _experiment_rows(frame, metric)
    parts = [_one_experiment(experiments, key, metric)
             for key in _experiment_order(experiments)]
    found = [part for part in parts if part is not None]
    return pl.concat(found, how="diagonal_relaxed") if found else pl.DataFrame()


def heatmap(
    compare_frame: pl.DataFrame, *, x: str = "steps", y: str = "sampler", value: str = "mean",
    metric: str = "rating",
) -> Figure:
    """A heatmap of ``value`` (a ``compare`` output over ``[y, x]``), each cell annotated with
    its value and ``n``; missing knobs show as ``(none)``."""
    if not {x, y, value, "n"} <= set(compare_frame.columns) or compare_frame.is_empty():
        return message_figure(f"No {metric} values with {y} and {x} to compare.")
    xs, ys = _axis_values(compare_frame[x]), _axis_values(compare_frame[y])
    grid, counts = np.full((len(ys), len(xs)), np.nan), np.zeros((len(ys), len(xs)), int)
    # Columns taken by name, never as expressions: a knob may be named "*" or "^...$".
    for row in zip(*(compare_frame.get_column(name) for name in (x, y, value, "n")),
                   strict=True):
        i, j = ys.index(row[1]), xs.index(row[0])
        grid[i, j], counts[i, j] = (np.nan if row[2] is None else row[2]), row[3]
    figure = Figure(figsize=(min(2.0 + 1.1 * len(xs), 14), min(1.6 + 0.55 * len(ys), 14)),
                    layout="constrained")
    axes = figure.subplots()
    mesh = axes.pcolormesh(np.ma.masked_invalid(grid), cmap="viridis", edgecolors="white")
    bar = figure.colorbar(mesh, ax=axes, label=_label(f"{value} {metric}"))
    if bar.solids is not None:
        # Vector, not an embedded PNG: the page's images are the thumbnails only.
        bar.solids.set_rasterized(False)
        bar.solids.set_edgecolor("face")  # no hairline seams between the bands
    _annotate(axes, grid, counts, np.asarray(mesh.norm(grid), dtype=float))
    _ticks(axes, xs, ys)
    axes.invert_yaxis()  # the first value on top, as a table reads
    axes.set(xlabel=_label(x), ylabel=_label(y),
             title=_label(f"{value} {metric} by {y} and {x}", limit=90))
    return figure


def sampler_steps_heatmap(frame: pl.DataFrame, *, metric: str = "rating") -> Figure:
    """:func:`heatmap` of :func:`sampler_steps_stats` (missing knobs shown as ``(none)``)."""
    try:
        stats = sampler_steps_stats(frame, metric=metric)
    except LakeError:  # a column the frame lacks: the figure says there is no data
        return message_figure("No sampler and steps columns to compare.")
    return heatmap(stats, metric=metric)


def cfg_curves(frame: pl.DataFrame, *, metric: str = "rating",
               stats: pl.DataFrame | None = None) -> Figure:
    """Mean ``metric`` against CFG scale per model with its 95 % interval band: one panel
    with a colour per model, or a panel per model past ``MAX_OVERLAID`` models. ``stats``:
    :func:`cfg_stats` of ``frame`` when already computed."""
    stats = _stats_or_none(lambda f: cfg_stats(f, metric=metric), frame, stats)
    if stats is None:
        return message_figure(f"No {metric} values with a CFG scale to plot.")
    models = _by(stats, "model")
    figure, panels = _figure_for(models, width=8, height=4.5)
    for index, (model, curve) in enumerate(_largest(models)):
        axes = panels[0] if len(panels) == 1 else panels[index]
        color = PALETTE[index % len(PALETTE)]
        cfg, mean = curve["cfg_scale"].to_numpy(), curve["mean"].to_numpy()
        low, high = (curve[c].cast(pl.Float64).fill_null(np.nan).to_numpy()
                     for c in ("ci_low", "ci_high"))
        axes.plot(cfg, mean, marker="o", color=color,
                  label=f"{_label(model)} (n={curve['n'].sum()})")
        axes.fill_between(cfg, low, high, color=color, alpha=0.18, linewidth=0)
        if len(panels) > 1:
            axes.set_title(_label(model), fontsize="small")
    for axes in panels:
        axes.grid(alpha=0.3)
    panels[0].set(ylabel=_label(f"mean {metric}"))
    panels[-1].set(xlabel="CFG scale")
    if len(panels) == 1:
        panels[0].set_title(_label(f"Mean {metric} by CFG scale per model (95 % CI)",
                                  limit=90))
        panels[0].legend(fontsize="small")
    return figure


def variants_vs_baseline(frame: pl.DataFrame, *, metric: str = "rating",
                         max_experiments: int = MAX_EXPERIMENTS,
                         stats: pl.DataFrame | None = None) -> Figure:
    """Per experiment, each variant's mean ``metric`` minus the baseline's (the lowest
    variant index), with 95 % Welch intervals; at most ``max_experiments`` (the most
    recent), one colour each, stacked in one panel (one layout pass, however many).
    ``stats``: :func:`variant_stats` of ``frame`` when already computed."""
    stats = _stats_or_none(lambda f: variant_stats(f, metric=metric), frame, stats)
    if stats is None:
        return message_figure(f"No experiment variants with a {metric} to compare.")
    experiments = _by(stats, "experiment_id")[-max_experiments:]
    rows = sum(part.height for _, part in experiments) + len(experiments)
    figure = Figure(figsize=(8, 1.0 + 0.3 * rows), layout="constrained")
    axes = figure.subplots()
    labels: list[tuple[float, str]] = []
    top = 0.0
    for index, (_, part) in enumerate(experiments):
        labels += _variant_rows(axes, part, top, PALETTE[index % len(PALETTE)])
        top += part.height + 1
        if index < len(experiments) - 1:
            axes.axhline(top - 1, color="#dddddd", linewidth=0.8)
    axes.axvline(0.0, color="#888888", linewidth=1, linestyle="--")
    axes.set_yticks([y for y, _ in labels], [text for _, text in labels], fontsize="small")
    axes.set_ylim(top - 0.5, -0.7)  # the first experiment on top, as a table reads
    axes.grid(axis="x", alpha=0.3)
    axes.set_xlabel(_label(f"mean {metric} minus baseline (95 % Welch CI)", limit=90))
    axes.set_title("Experiment variants against their baseline (lowest variant index)")
    return figure


def duration_vs_steps(frame: pl.DataFrame, *, bands: pl.DataFrame | None = None) -> Figure:
    """Seconds per run against steps per model: the median line with the 25-75 % and 10-90 %
    bands (no point per run: a million runs stay a few shapes); a colour per model, or a
    panel per model past ``MAX_OVERLAID`` models. ``bands``: :func:`duration_bands` of
    ``frame`` when already computed."""
    bands = duration_bands(frame) if bands is None else bands
    if bands.is_empty():
        return message_figure("No runs with a duration and steps to plot.")
    models = _by(bands, "model")
    figure, panels = _figure_for(models, width=8, height=4.5)
    for index, (model, band) in enumerate(_largest(models)):
        axes = panels[0] if len(panels) == 1 else panels[index]
        color = PALETTE[index % len(PALETTE)]
        steps = band["steps"].to_numpy()
        axes.fill_between(steps, band["q10"].to_numpy(), band["q90"].to_numpy(), color=color,
                          alpha=0.12, linewidth=0)
        axes.fill_between(steps, band["q25"].to_numpy(), band["q75"].to_numpy(), color=color,
                          alpha=0.25, linewidth=0)
        axes.plot(steps, band["q50"].to_numpy(), marker="o", color=color,
                  label=f"{_label(model)} (n={band['n'].sum()})")
        if len(panels) > 1:
            axes.set_title(_label(model), fontsize="small")
    for axes in panels:
        axes.grid(alpha=0.3)
    panels[0].set(ylabel="duration (s)")
    panels[-1].set(xlabel="steps")
    if len(panels) == 1:
        panels[0].set_title("Duration by steps per model: median, 25-75 % and 10-90 % bands")
        panels[0].legend(fontsize="small")
    return figure


def grid_figure(grids: Sequence[SweepGrid], thumbnails: Mapping[str | None, Thumbnail], *,
                metric: str = "rating") -> Figure:
    """The grids as one figure, one block per grid: a panel per cell with its image (or why
    there is none) and, under it, the cell's mean ``metric``, interval, n and rank."""
    if not grids:
        return message_figure("No knob varies among these runs: there is no grid to draw.")
    columns = max(len(grid.xs) for grid in grids)
    heights = [0.5 + 2.5 * len(grid.ys) for grid in grids]
    figure = Figure(figsize=(0.8 + 2.1 * columns, sum(heights)), layout="constrained")
    blocks = figure.subfigures(len(grids), 1, squeeze=False, height_ratios=heights)[:, 0]
    for block, grid in zip(blocks, grids, strict=True):
        _grid_block(block, grid, thumbnails, metric)
    return figure


def message_figure(message: str) -> Figure:
    """A small figure that only says ``message``: what a plot shows when it has no data."""
    figure = Figure(figsize=(6, 1.5))
    axes = figure.subplots()
    axes.set_axis_off()
    axes.text(0.5, 0.5, _label(message, limit=200), ha="center", va="center", color="#555555")
    return figure


def _grid_block(block: SubFigure, grid: SweepGrid,
                thumbnails: Mapping[str | None, Thumbnail], metric: str) -> None:
    block.suptitle(_label(grid.title, limit=90), fontsize="medium")
    panels = block.subplots(len(grid.ys), len(grid.xs), squeeze=False)
    cells = grid.cell_map()
    for (i, y), (j, x) in itertools.product(enumerate(grid.ys), enumerate(grid.xs)):
        axes = panels[i, j]
        axes.set_xticks([])
        axes.set_yticks([])
        _grid_panel(axes, cells.get((y, x)), thumbnails, metric)
        if i == 0:
            axes.set_title(_label(f"{grid.x} {_label(x)}"), fontsize="small")
        if j == 0 and grid.y is not None:
            axes.set_ylabel(_label(f"{grid.y} {_label(y)}"), fontsize="small")


def _grid_panel(axes: Axes, cell: Mapping[str, object] | None,
                thumbnails: Mapping[str | None, Thumbnail], metric: str) -> None:
    if cell is None:
        axes.set_facecolor("#f4f4f4")
        axes.text(0.5, 0.5, "not run", ha="center", va="center", color="#888888")
        return
    path = cell["image_path"]
    thumb = thumbnails.get(path if isinstance(path, str) else None)
    pixels = thumb.pixels() if thumb is not None else None
    if pixels is not None:
        axes.imshow(pixels)
    else:
        axes.set_facecolor("#eeeeee")
        problem = thumb.problem if thumb is not None else "no image recorded"
        axes.text(0.5, 0.5, _label(problem), ha="center", va="center", color="#666666",
                  fontsize="small")
    axes.set_xlabel(_cell_caption(cell, metric), fontsize="x-small")


def _cell_caption(cell: Mapping[str, object], metric: str) -> str:
    mean, low, high = cell["mean"], cell["ci_low"], cell["ci_high"]
    text = f"{metric} {mean:.2f}" if isinstance(mean, float) else f"no {metric}"
    if isinstance(low, float) and isinstance(high, float):
        text += f" [{low:.2f}, {high:.2f}]"
    rank = f", rank {cell['rank']}" if cell["rank"] is not None else ", not ranked"
    return _label(f"{text}\nn={cell['n']}{rank}", limit=120)


def _stats_or_none(
    stats_of: Callable[[pl.DataFrame], pl.DataFrame], frame: pl.DataFrame,
    computed: pl.DataFrame | None = None,
) -> pl.DataFrame | None:
    """The stats without missing-knob rows, or None when there is nothing to draw."""
    if computed is not None:
        return _drawable(computed)
    try:
        stats = stats_of(frame)
    except LakeError:  # a column the frame lacks: the figure says there is no data
        return None
    return _drawable(stats)


def _drawable(stats: pl.DataFrame) -> pl.DataFrame | None:
    if "knob_missing" in stats.columns:
        stats = stats.filter(~pl.col("knob_missing"))
    if "n" in stats.columns:  # compare lists groups without any value too: nothing to draw
        stats = stats.filter(pl.col("n") > 0)
    return stats if stats.height else None


def _experiment_rows(frame: pl.DataFrame, metric: str) -> pl.DataFrame:
    if not {"experiment_id", "variant_index", metric} <= set(frame.columns):
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


def _one_experiment(rows: pl.DataFrame, experiment: str, metric: str) -> pl.DataFrame | None:
    part = rows.filter(pl.col("experiment_id") == experiment)
    index = rows.columns.index(metric)  # by position: a metric's name is never a pattern
    rated = part.filter(pl.nth(index).cast(pl.Float64).fill_nan(None).is_not_null())
    if rated.is_empty():
        return None
    stats = compare(part, "variant_index", metric, baseline=rated["variant_index"].min(),
                    order="knobs")
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


def _variant_rows(axes: Axes, part: pl.DataFrame, top: float, color: str
                  ) -> list[tuple[float, str]]:
    """One experiment's variants as points with error bars from row ``top`` down; returns
    the tick labels: the experiment's name, then one per variant."""
    diff = part["diff"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    low = diff - part["diff_ci_low"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    high = part["diff_ci_high"].cast(pl.Float64).fill_null(np.nan).to_numpy() - diff
    positions = top + 1 + np.arange(part.height)
    # Where the interval is unknown (n < 2, or the baseline itself) draw the point only.
    errors = np.nan_to_num(np.vstack([low, high]))
    axes.errorbar(diff, positions, xerr=errors, fmt="o", color=color, capsize=3)
    name = part["experiment_name"][0]
    variable = _first_value(part, "variable_under_test")
    title = _label(f"{name}" + (f" ({variable})" if variable else ""))
    variants = [f"#{index} {_label(value or '')}".strip()
                for index, value in part.select("variant_index", "variant_value").iter_rows()]
    return [(top, title), *zip(positions.tolist(), variants, strict=True)]


def _first_value(frame: pl.DataFrame, name: str) -> str | None:
    if name not in frame.columns:
        return None
    values = frame[name].drop_nulls()
    return str(values[0]) if len(values) else None


def _figure_for(groups: Sequence[tuple[object, pl.DataFrame]], *, width: float,
                height: float) -> tuple[Figure, list[Axes]]:
    """One axes for a few groups (a colour each), else a panel per group (small multiples,
    at most ``MAX_PANELS``), sharing their scales."""
    if len(groups) <= MAX_OVERLAID:
        figure = Figure(figsize=(width, height), layout="constrained")
        return figure, [figure.subplots()]
    count = min(len(groups), MAX_PANELS)
    rows = math.ceil(count / PANEL_COLUMNS)
    figure = Figure(figsize=(width + 2, 1.2 + 2.4 * rows), layout="constrained")
    grid = figure.subplots(rows, PANEL_COLUMNS, squeeze=False, sharex=True, sharey=True)
    panels = list(grid.flat)
    for unused in panels[count:]:
        unused.set_axis_off()
    return figure, panels[:count]


def _largest(groups: Sequence[tuple[object, pl.DataFrame]]
             ) -> list[tuple[object, pl.DataFrame]]:
    """The groups to draw: all when they fit one panel, else the ``MAX_PANELS`` with most
    runs (the tables list them all)."""
    if len(groups) <= MAX_OVERLAID:
        return list(groups)
    return sorted(groups, key=lambda group: -int(group[1]["n"].sum()))[:MAX_PANELS]


def _by(stats: pl.DataFrame, key: str) -> list[tuple[object, pl.DataFrame]]:
    """``stats`` split by ``key`` in its sorted order (nulls last)."""
    keys = stats[key].unique(maintain_order=True).to_list()
    return [(value, stats.filter(pl.col(key).eq_missing(value))) for value in keys]


def _axis_values(series: pl.Series) -> list[object]:
    # Renamed first: Polars runs some Series methods as expressions on the series' name,
    # which a knob named "^...$" would turn into a pattern.
    values: list[object] = series.rename("values").unique().sort(nulls_last=True).to_list()
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
