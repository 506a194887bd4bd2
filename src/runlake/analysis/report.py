"""``render_report``: one static HTML page a team shares after a sweep.

What the page holds, in order (a section with nothing to show is left out):

- a header: the title, when it was generated, the lake, the table versions and the counts
  in words (runs, rated, with an image, models, experiments, prompts), and the selection;
- image grids (``runlake.analysis.grid``): one per experiment or prompt group, thumbnails
  with each cell's mean, interval, n and rank from ``compare``;
- the ranking of the ``by`` knobs: a heatmap and its table, one section per model when the
  runs used several models;
- the metric against CFG scale per model, experiments' variants against their baseline,
  duration against steps (quantile bands), and the best runs with their images.

The page needs nothing but itself (see ``runlake.analysis.page`` for its policy): figures are
inline SVG of aggregates, thumbnails are ``data:`` URIs, tables are capped with a line saying
how many rows are not shown. Progress is reported through a callback, as compaction does;
nothing here prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from runlake.analysis import page
from runlake.analysis.comparison import Best, compare
from runlake.analysis.grid import (
    MAX_CELLS,
    MAX_GRIDS,
    GridOptions,
    GridPlan,
    SweepGrid,
    choose_axes,
    plan_grids,
)
from runlake.analysis.rated import read_rated
from runlake.analysis.selection import Selection, select_runs
from runlake.analysis.thumbnails import (
    DEFAULT_SIDE,
    Thumbnail,
    ThumbnailCache,
    ThumbnailJob,
)
from runlake.errors import InvalidOption, InvalidQuery, LakeError
from runlake.storage import storage_error
from runlake.storage.shared import AnyPaths

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_METRIC = "rating"
BEST_RUNS = 10
MAX_MODEL_SECTIONS = 8
MAX_HEATMAP_CELLS = 400
STAT_VIEW = ("n", "mean", "ci_low", "ci_high", "rank", "n_missing_metric")


@dataclass(frozen=True)
class ReportOptions:
    """What a report shows. ``metric``: any numeric column (``best="min"`` ranks the lowest
    first, e.g. for durations); ``where``/``experiment`` select the runs; ``by``/``within``:
    the ranking's knobs (default: the two that vary most); ``x``/``y``/``z``: the grids'
    axes (default: per group, the two knobs that vary most)."""

    title: str = "runlake report"
    metric: str = DEFAULT_METRIC
    best: Best = "max"
    where: str | None = None
    experiment: str | None = None
    by: tuple[str, ...] = ()
    within: tuple[str, ...] = ()
    x: str | None = None
    y: str | None = None
    z: str | None = None
    max_grids: int = MAX_GRIDS
    max_cells: int = MAX_CELLS
    thumbnail_side: int = DEFAULT_SIDE

    def __post_init__(self) -> None:
        if self.best not in ("max", "min"):
            raise InvalidOption(f"best must be 'max' or 'min', got {self.best!r}")
        if not 32 <= self.thumbnail_side <= 512:
            raise InvalidOption(f"thumbnail_side must be 32..512, got {self.thumbnail_side}")
        self.grid_options()  # checks the axes and caps now, not halfway through a report

    @property
    def selection(self) -> Selection:
        return Selection(self.where, self.experiment)

    def grid_options(self) -> GridOptions:
        return GridOptions(x=self.x, y=self.y, z=self.z, metric=self.metric, best=self.best,
                           max_grids=self.max_grids, max_cells=self.max_cells)

    def names(self) -> list[str]:
        """Every column the options name (read in addition to the report's own)."""
        return [self.metric, *self.by, *self.within,
                *(name for name in (self.x, self.y, self.z) if name is not None)]


@dataclass(frozen=True)
class ReportProgress:
    """Where a report is: ``step`` (``reading runs``, ``images``, ``plots``, ``writing``)
    and ``done`` of ``total`` units of it."""

    step: str
    done: int
    total: int


ReportCallback = Callable[[ReportProgress], None]


def render_report(
    frame: pl.DataFrame | pl.LazyFrame, *, options: ReportOptions | None = None,
    snapshot: Mapping[str, object] | None = None, generated_at: datetime | None = None,
    thumbnail_cache: Path | None = None, progress: ReportCallback | None = None,
) -> str:
    """The whole HTML document for ``frame`` (runs in the column contract, e.g.
    ``lake.rated_runs()``). ``snapshot`` (lake, table versions, ...) and ``generated_at`` go
    in the header; without ``generated_at`` the same input gives the same bytes. Thumbnails
    are kept in ``thumbnail_cache`` when given."""
    options = options or ReportOptions()
    tell = _Teller(progress)
    runs = _selected(frame, options)
    plan = plan_grids(runs, options.grid_options()) if _has_images(runs) else GridPlan(())
    best = _best_runs(runs, options)
    cache = ThumbnailCache(thumbnail_cache) if thumbnail_cache is not None else None
    # Images decode on worker threads (outside the GIL) while the plots draw here.
    with ThumbnailJob(_paths(plan.grids, best), side=options.thumbnail_side, cache=cache,
                      progress=lambda done, total: tell("images", done, total)) as job:
        plotted = _plot_sections(runs, options, tell)
        thumbs = job.result()
    sections = [_grid_section(plan, thumbs, options), *plotted,
                _best_section(best, thumbs, options)]
    body = [_header(options, runs, snapshot or {}, generated_at), *filter(None, sections)]
    if not any(sections):
        body.append(page.note("Nothing to show: no selected run has a value to compare.",
                              kind="empty"))
    return page.document(options.title, "\n".join(body))


def write_report(
    frame: pl.DataFrame | pl.LazyFrame, out: Path, *, options: ReportOptions | None = None,
    snapshot: Mapping[str, object] | None = None, generated_at: datetime | None = None,
    thumbnail_cache: Path | None = None, progress: ReportCallback | None = None,
) -> Path:
    """Write :func:`render_report` to ``out`` (UTF-8, replaced atomically); returns ``out``."""
    out = checked_out(out)
    text = render_report(frame, options=options, snapshot=snapshot, generated_at=generated_at,
                         thumbnail_cache=thumbnail_cache, progress=progress)
    _Teller(progress)("writing", 0, 1)
    temporary = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, out)
    except OSError as exc:
        temporary.unlink(missing_ok=True)  # a full disk must not leave half a page behind
        raise storage_error(exc, out, doing=f"write the report to {out}") from exc
    _Teller(progress)("writing", 1, 1)
    return out


def report_lake(paths: AnyPaths, out: Path, *, options: ReportOptions | None = None,
                progress: ReportCallback | None = None) -> Path:
    """Write the report of the lake's fresh rated runs to ``out``; its header names the lake,
    the table versions read and the time. Thumbnails are cached under
    ``<lake>/cache/_thumbnails``."""
    out = checked_out(out)  # before the work: a bad path fails in a moment, not after it
    options = options or ReportOptions()
    tell = _Teller(progress)
    tell("reading runs", 0, 1)
    rated = read_rated(paths)
    runs = select_runs(rated.frame, options.selection, options.names())
    tell("reading runs", 1, 1)
    return write_report(runs, out, options=options,
                        snapshot={"lake": str(paths.root), **rated.provenance},
                        generated_at=datetime.now().astimezone(),
                        thumbnail_cache=paths.thumbnails, progress=progress)


def checked_out(out: str | os.PathLike[str]) -> Path:
    """``out`` as the path of the page to write; :class:`InvalidOption` when it names no file
    (empty, or a directory): ``Path("")`` would be the current directory."""
    text = os.fspath(out)
    path = Path(text)
    if not text.strip() or path.name in ("", ".", "..") or path.is_dir():
        shown = f"{text!r}" + (f" (the directory {path.resolve()})" if text.strip() else "")
        raise InvalidOption(f"the report needs a file to write, e.g. report.html; got {shown}")
    return path


class _Teller:
    """Calls the progress callback, if any."""

    def __init__(self, progress: ReportCallback | None) -> None:
        self.progress = progress

    def __call__(self, step: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(ReportProgress(step, done, total))


# -- the runs -----------------------------------------------------------------------------

def _selected(frame: pl.DataFrame | pl.LazyFrame, options: ReportOptions) -> pl.DataFrame:
    lazy = frame.lazy()
    schema = lazy.collect_schema()
    if options.metric == DEFAULT_METRIC and DEFAULT_METRIC not in schema:
        # Runs that carry no rating column are runs nobody rated yet.
        lazy = lazy.with_columns(pl.lit(None, pl.Float64).alias(DEFAULT_METRIC))
    runs = select_runs(lazy, options.selection, options.names())
    dtype = runs.schema[_column(runs, options.metric)]
    if not (dtype.is_numeric() or dtype == pl.Boolean):
        raise InvalidQuery(f"metric {options.metric!r} is {dtype}, not a number or a boolean")
    return runs


def _column(runs: pl.DataFrame, name: str) -> str:
    return name if name in runs.columns else f"config.{name}"


def _has_images(runs: pl.DataFrame) -> bool:
    return "image_path" in runs.columns and runs["image_path"].null_count() < runs.height


def _metric_values(runs: pl.DataFrame, metric: str) -> pl.Expr:
    index = runs.columns.index(_column(runs, metric))  # by position: never a pattern
    return pl.nth(index).cast(pl.Float64).fill_nan(None)


def _paths(grids: Sequence[SweepGrid], best: pl.DataFrame) -> list[str | None]:
    paths: list[str | None] = [path for grid in grids for path in grid.cells["image_path"]]
    if "image_path" in best.columns:
        paths += best["image_path"].to_list()
    return [path for path in paths if path is not None]


# -- sections -----------------------------------------------------------------------------

def _header(options: ReportOptions, runs: pl.DataFrame, snapshot: Mapping[str, object],
            generated_at: datetime | None) -> str:
    rows = []
    if generated_at is not None:
        rows.append(("Generated", generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()))
    rows += _snapshot_rows(snapshot)
    rows.append(("Metric", f"{options.metric} ({'lower' if options.best == 'min' else 'higher'}"
                           " is better)"))
    if options.where or options.experiment:
        chosen = [f"where {options.where}" if options.where else "",
                  f"experiment {options.experiment}" if options.experiment else ""]
        rows.append(("Selected", "; ".join(part for part in chosen if part)))
    table = "\n".join(f"<tr><th>{page.escape(k)}</th><td>{page.escape(v)}</td></tr>"
                      for k, v in rows)
    return (f"<header>\n<h1>{page.escape(options.title)}</h1>\n"
            f"{page.note(_counts(runs, options.metric), kind='summary')}\n"
            f'<table class="snapshot" id="snapshot">\n{table}\n</table>\n</header>')


def _snapshot_rows(snapshot: Mapping[str, object]) -> list[tuple[str, str]]:
    rows, rest = [], dict(snapshot)
    if "lake" in rest:
        rows.append(("Lake", str(rest.pop("lake"))))
    for table in ("runs", "ratings"):
        version = rest.pop(f"{table}_version", None)
        pending = rest.pop(f"{table}_uncompacted_records", None)
        if version is None and pending is None:
            continue
        text = f"version {version}" if version is not None else "not compacted yet"
        if pending:
            text += f", and {_count(pending)} records not yet compacted"
        rows.append((f"{table.capitalize()} table", text))
    rows += [(str(key).replace("_", " ").capitalize(), _text(value))
             for key, value in sorted(rest.items(), key=lambda item: str(item[0]))]
    return rows


def _counts(runs: pl.DataFrame, metric: str) -> str:
    """The selected runs in words: '1,000 runs, 850 with a rating and 100 with an image;
    3 models, 2 experiments and 5 prompts.'"""
    if runs.is_empty():
        return "No runs selected."
    valued = runs.select(_metric_values(runs, metric).count()).item()
    parts = [f"{_count(runs.height)} runs, {_count(valued)} with a {metric}"]
    if "image_path" in runs.columns:
        parts[0] += f" and {_count(runs['image_path'].count())} with an image"
    kinds = [(_distinct(runs, "model"), "model"),
             (_distinct(runs, "experiment_id", "experiment_name"), "experiment"),
             (_distinct(runs, "prompt"), "prompt")]
    named = [f"{_count(n)} {kind}{'' if n == 1 else 's'}" for n, kind in kinds if n]
    if named:
        parts.append(", ".join(named[:-1]) + (" and " if len(named) > 1 else "") + named[-1])
    return "; ".join(parts) + "."


def _grid_section(plan: GridPlan, thumbs: Mapping[str | None, Thumbnail],
                  options: ReportOptions) -> str:
    if not plan.grids:
        return ""
    intro = page.note(
        "Each cell shows one run's image: the same prompt and seed across the grid's cells "
        "where the sweep has them, else the cell's best run (marked). Under it: the cell's "
        f"mean {options.metric} with its 95 % interval, n (runs with a {options.metric}) and "
        "the rank among the grid's cells; rank 1 is outlined.")
    grids = [_one_grid(index, grid, thumbs, options) for index, grid in enumerate(plan.grids)]
    left = [page.note(text, kind="more") for text in plan.left_out]
    return page.section("grids-section", "Image grids", intro, *grids, *left)


def _one_grid(index: int, grid: SweepGrid, thumbs: Mapping[str | None, Thumbnail],
              options: ReportOptions) -> str:
    axes = f"columns: {grid.x}" + (f", rows: {grid.y}" if grid.y else "")
    fair = (f"; same prompt and seed where shown: {_short(grid.fair[0])}, seed "
            f"{_text(grid.fair[1])}" if grid.fair else "")
    notes = [page.note(axes + fair), *(page.note(text, kind="more") for text in grid.left_out)]
    table = page.grid_table(grid, thumbs, element_id=f"grid-{index}", metric=options.metric)
    return "\n".join([f"<h3>{page.escape(grid.title)}</h3>", *notes, table])


def _plot_sections(runs: pl.DataFrame, options: ReportOptions,
                   tell: Callable[[str, int, int], None]) -> list[str]:
    makers: list[Callable[[], list[str]]] = [
        lambda: _ranking_sections(runs, options),
        lambda: [_cfg_section(runs, options)],
        lambda: [_variants_section(runs, options)],
        lambda: [_duration_section(runs)],
    ]
    sections: list[str] = []
    for done, make in enumerate(makers, start=1):
        sections += make()
        tell("plots", done, len(makers))
    return sections


def _ranking_sections(runs: pl.DataFrame, options: ReportOptions) -> list[str]:
    by = list(options.by) or _default_by(runs, options)
    if not by:
        return []
    models = _model_parts(runs, [*by, *options.within])
    sections = []
    for index, (model, part) in enumerate(models[:MAX_MODEL_SECTIONS]):
        suffix = "" if model is None else f"-{index}"
        sections.append(_ranking(part, by, options, suffix=suffix, model=model))
    if len(models) > MAX_MODEL_SECTIONS:
        rest = ", ".join(_text(model) for model, _ in models[MAX_MODEL_SECTIONS:])
        sections.append(page.note(f"{len(models) - MAX_MODEL_SECTIONS} more models not shown "
                                  f"(fewest runs): {rest}", kind="more"))
    return [section for section in sections if section]


def _default_by(runs: pl.DataFrame, options: ReportOptions) -> list[str]:
    skip = {"model", *options.within}
    axes = choose_axes(runs.drop([c for c in skip if c in runs.columns]),
                       GridOptions(metric=options.metric))
    return [name for name in axes or () if name is not None]


def _model_parts(runs: pl.DataFrame, names: Iterable[str]
                 ) -> list[tuple[object, pl.DataFrame]]:
    """One part per model (most runs first) when the runs used several and the ranking does
    not already split by model; else the runs as one part (model None)."""
    if "model" not in runs.columns or "model" in names or runs["model"].n_unique() < 2:
        return [(None, runs)]
    counts = runs.group_by("model").len().sort(["len", "model"], descending=[True, False],
                                               nulls_last=True)
    return [(model, runs.filter(pl.col("model").eq_missing(model)))
            for model in counts["model"].to_list()]


def _ranking(part: pl.DataFrame, by: list[str], options: ReportOptions, *, suffix: str,
             model: object) -> str:
    from runlake.analysis import plots  # noqa: PLC0415 - matplotlib only when a page is made

    stats = compare(part, by, options.metric, within=list(options.within) or None,
                    best=options.best)
    if stats.is_empty() or stats["n"].sum() == 0:
        return ""
    title = f"{options.metric} by {', '.join(by)}" + (
        f" within {', '.join(options.within)}" if options.within else "")
    heading = f"Model {_text(model)}: {title}" if model is not None else f"Ranking: {title}"
    figure = ""
    if len(by) == 2 and not options.within and _cells(stats, by) <= MAX_HEATMAP_CELLS:
        drawn = plots.heatmap(stats, x=by[1], y=by[0], metric=options.metric)
        figure = page.plot(f"heatmap{suffix}", drawn,
                           f"Mean {options.metric} per {by[0]} and {by[1]}; each cell shows "
                           "its mean and n.")
    table = page.html_table(stats, element_id=f"heatmap{suffix}-table",
                            columns=(*options.within, *by, *STAT_VIEW),
                            more=f" (runlake compare --by {','.join(by)} lists them all)")
    section_id = f"ranking{suffix}-section"
    return page.section(section_id, heading, figure, table)


def _cells(stats: pl.DataFrame, by: Sequence[str]) -> int:
    # n_unique on renamed series: a knob named "^...$" must not reach Polars as a pattern.
    return int(stats[by[0]].rename("y").n_unique() * stats[by[1]].rename("x").n_unique())


def _cfg_section(runs: pl.DataFrame, options: ReportOptions) -> str:
    from runlake.analysis import plots  # noqa: PLC0415

    stats = _stats(lambda: plots.cfg_stats(runs, metric=options.metric))
    if stats is None:
        return ""
    return _figure_section(
        "cfg-curves", "CFG scale per model",
        plots.cfg_curves(runs, metric=options.metric, stats=stats),
        f"Mean {options.metric} against CFG scale, with 95 % intervals as bands.",
        stats=stats, columns=("model", "cfg_scale", *STAT_VIEW))


def _variants_section(runs: pl.DataFrame, options: ReportOptions) -> str:
    from runlake.analysis import plots  # noqa: PLC0415

    stats = _stats(lambda: plots.variant_stats(runs, metric=options.metric))
    if stats is None:
        return ""
    return _figure_section(
        "variants", "Experiment variants against the baseline",
        plots.variants_vs_baseline(runs, metric=options.metric, stats=stats),
        f"Each variant's mean {options.metric} minus its experiment's baseline (lowest variant "
        "index), with 95 % Welch intervals.", stats=stats,
        columns=("experiment_name", "variant_index", "variant_value", "n", "mean", "diff",
                 "diff_ci_low", "diff_ci_high"))


def _duration_section(runs: pl.DataFrame) -> str:
    from runlake.analysis import plots  # noqa: PLC0415

    stats = _stats(lambda: plots.duration_stats(runs))
    bands = plots.duration_bands(runs)
    if stats is None or bands.is_empty():
        return ""
    return _figure_section(
        "duration", "Duration by steps", plots.duration_vs_steps(runs, bands=bands),
        "Seconds per run against steps per model: the median with 25-75 % and 10-90 % bands. "
        "The table gives means (rank 1 = fastest).", stats=stats,
        columns=("model", "steps", "n", "mean", "ci_low", "ci_high", "rank"))


def _figure_section(element_id: str, heading: str, figure: Figure, caption: str, *,
                    stats: pl.DataFrame, columns: Sequence[str]) -> str:
    table = page.html_table(stats, element_id=f"{element_id}-table", columns=columns)
    return page.section(f"{element_id}-section", heading, page.plot(element_id, figure, caption),
                        table)


def _stats(make: Callable[[], pl.DataFrame]) -> pl.DataFrame | None:
    """The table a figure draws, or None when it has nothing (a missing column included)."""
    try:
        stats = make()
    except LakeError:
        return None
    if "knob_missing" in stats.columns:
        stats = stats.filter(~pl.col("knob_missing"))
    if "n" in stats.columns and stats["n"].sum() == 0:  # groups listed, none with a value
        return None
    return stats if stats.height else None


def _best_runs(runs: pl.DataFrame, options: ReportOptions) -> pl.DataFrame:
    """The ``BEST_RUNS`` best runs by the metric; ties: the latest first, then by record
    id, so the table never depends on row order."""
    valued = runs.with_columns(_metric_values(runs, options.metric).alias("__value")).filter(
        pl.col("__value").is_not_null())
    if valued.is_empty():
        return valued.drop("__value")
    best = options.best == "max"
    # Only runs as good as the BEST_RUNS-th best are sorted: a full sort of a million rows
    # by value, time and id costs seconds; this costs a numeric top-k.
    edge = valued["__value"].top_k(BEST_RUNS) if best else valued["__value"].bottom_k(BEST_RUNS)
    limit = edge.min() if best else edge.max()
    near = valued.filter(pl.col("__value") >= limit if best else pl.col("__value") <= limit)
    order = ["__value", *(name for name in ("event_time", "record_id") if name in runs.columns)]
    descending = [best, True, False][: len(order)]
    return near.sort(order, descending=descending, nulls_last=True).head(BEST_RUNS).drop(
        "__value")


def _best_section(best: pl.DataFrame, thumbs: Mapping[str | None, Thumbnail],
                  options: ReportOptions) -> str:
    if best.is_empty():
        return ""
    columns = [name for name in (options.metric, "prompt", "model", "sampler", "scheduler",
                                 "steps", "cfg_scale", "seed", "experiment_name", "record_id")
               if name in best.columns]
    head = "".join(f"<th>{page.escape(name)}</th>" for name in ["image", *columns])
    rows = []
    for row in best.iter_rows(named=True):
        path = row.get("image_path")
        alt = f"{_short(row.get('prompt'))} (run {_text(row.get('record_id'))})"
        image = page.image(thumbs.get(path), alt=alt)
        cells = "".join(page.table_cell(row[name]) for name in columns)
        rows.append(f'<tr><td class="thumb">{image}</td>{cells}</tr>')
    table = (f'<table class="stats" id="best-runs-table">\n<thead><tr>{head}</tr></thead>\n'
             "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>")
    heading = f"Best runs by {options.metric}"
    return page.section("best-runs-section", heading, table)


# -- words --------------------------------------------------------------------------------

def _distinct(runs: pl.DataFrame, *names: str) -> int:
    present = [name for name in names if name in runs.columns]
    if not present:
        return 0
    values = pl.coalesce(pl.col(name).cast(pl.String) for name in present)
    return int(runs.select(values.drop_nulls().n_unique()).item())


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _short(value: object, limit: int = 80) -> str:
    text = " ".join(_text(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: object) -> str:
    return "(none)" if value is None else str(value)

