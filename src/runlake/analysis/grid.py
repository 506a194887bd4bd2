"""Image grids: A1111's X/Y/Z plot joined with the lake's numbers.

A grid's rows and columns are two knobs (``x``, ``y``); ``z`` makes one grid per value. Each
cell holds ``compare``'s numbers for its runs (n, mean, 95 % interval, rank among the grid's
cells: this module computes no statistic itself) and one run to show:

- **fair**: the sweep's most widely shared (prompt, seed) pair among runs with an image, so
  cells compare the same prompt and noise where the sweep has them (``shown`` = ``same
  prompt and seed``);
- else the cell's best run by the metric that has an image (``shown`` = ``best``).

Which runs make a grid:

- the report draws one grid per **group**: an experiment (``experiment_id``, else
  ``experiment_name``), else a prompt; most recent group first;
- ``x``/``y`` default to the two knobs that vary most within the group (most distinct
  values; ties in the order of ``AXIS_KNOBS``); a group where no knob varies has no grid;
- when the model is not an axis and the group's runs used several models, the group gets one
  grid per model (a cell never mixes models), as it does per ``z`` value;
- at most ``max_axis_values`` values per axis (those with the most runs), ``max_grids``
  grids and ``max_cells`` cells in all (each cell costs a decoded image); what is left out
  is said in ``left_out``.

Nothing here reads an image: the cells name the ``image_path`` to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from runlake.analysis.comparison import Best, compare, resolve_column
from runlake.errors import InvalidOption

AXIS_KNOBS = ("sampler", "steps", "cfg_scale", "scheduler", "model", "width", "height",
              "denoising_strength", "clip_skip")
FALLBACK_AXIS = "variant_value"  # an experiment's knob that is not a canonical column
MAX_AXIS_VALUES = 8
MAX_GRIDS = 12
MAX_CELLS = 300
FAIR = "same prompt and seed"
BEST = "best"
MISSING = "(none)"
CELL_COLUMNS = ("n", "n_missing_metric", "mean", "ci_low", "ci_high", "rank", "record_id",
                "image_path", "prompt", "seed", "shown_value", "shown")
_GROUP, _LABEL, _KIND = "__runlake_group", "__runlake_group_label", "__runlake_group_kind"


@dataclass(frozen=True)
class GridOptions:
    """What the grids show: their axes, the metric and the caps (see the module docstring)."""

    x: str | None = None
    y: str | None = None
    z: str | None = None
    metric: str = "rating"
    best: Best = "max"
    max_grids: int = MAX_GRIDS
    max_cells: int = MAX_CELLS
    max_axis_values: int = MAX_AXIS_VALUES

    def __post_init__(self) -> None:
        named = [name for name in (self.x, self.y, self.z) if name is not None]
        if len(set(named)) != len(named):
            raise InvalidOption(f"x, y and z must be different knobs, got {named}")
        if min(self.max_grids, self.max_cells, self.max_axis_values) < 1:
            raise InvalidOption("the grid caps must be at least 1")


@dataclass(frozen=True)
class SweepGrid:
    """One grid: ``cells`` has a row per (``y``, ``x``) cell with ``CELL_COLUMNS``."""

    group: str
    split: tuple[tuple[str, object], ...]
    x: str
    y: str | None
    xs: tuple[object, ...]
    ys: tuple[object, ...]
    cells: pl.DataFrame
    fair: tuple[str | None, int | None] | None
    left_out: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        parts = [self.group, *(f"{name} {_text(value)}" for name, value in self.split)]
        return " · ".join(parts)

    def cell_map(self) -> dict[tuple[object, object], dict[str, object]]:
        """The cells by (y, x) (y None for a one-knob grid); a combination the sweep never
        ran has no entry."""
        rows = self.cells.iter_rows(named=True)
        return {(row.get("y"), row["x"]): row for row in rows}


@dataclass(frozen=True)
class GridPlan:
    """The grids of a report, and a sentence per thing the caps left out."""

    grids: tuple[SweepGrid, ...]
    left_out: tuple[str, ...] = field(default=())


def plan_grids(frame: pl.DataFrame, options: GridOptions) -> GridPlan:
    """One grid per group (and per model or ``z`` value) of ``frame``, within the caps."""
    if frame.is_empty():
        return GridPlan(())
    grouped = _with_groups(frame)
    grids: list[SweepGrid] = []
    skipped: list[str] = []
    for selects, label in _group_order(grouped):
        if _full(grids, options):  # a group past the caps is named, not computed
            skipped.append(label)
            continue
        for grid in group_grids(grouped.filter(selects), label, options):
            if _full(grids, options, adding=_size(grid)):
                skipped.append(grid.title)
            else:
                grids.append(grid)
    return GridPlan(tuple(grids), _left_out(skipped))


def _full(grids: Sequence[SweepGrid], options: GridOptions, *, adding: int = 1) -> bool:
    cells = sum(_size(grid) for grid in grids)
    return len(grids) >= options.max_grids or cells + adding > options.max_cells


def group_grids(frame: pl.DataFrame, group: str, options: GridOptions) -> list[SweepGrid]:
    """The grids of one group's runs: one per model (when it is not an axis and varies) and
    per ``z`` value; none when no knob varies."""
    axes = choose_axes(frame, options)
    if axes is None:
        return []
    splits = _split_keys(frame, options.z, axes)
    work = _working_frame(frame, axes, splits, options.metric)
    keys = [f"split{index}" for index in range(len(splits))]
    stats = _cell_stats(work, keys, options)
    grids = []
    for values, part in _split(work, keys):
        cells = stats.filter(*(pl.col(n).eq_missing(v) for n, v in zip(keys, values,
                                                                         strict=True)))
        grids.append(_grid(group, tuple(zip(splits, values, strict=True)), part, cells,
                           axes=axes, options=options))
    return grids


def choose_axes(frame: pl.DataFrame, options: GridOptions) -> tuple[str, str | None] | None:
    """(x, y): the knobs given, else those that vary most; y None for a one-knob sweep."""
    given = [name for name in (options.x, options.y) if name is not None]
    for name in given:
        resolve_column(frame.collect_schema(), name)  # an unknown knob is an error, not a guess
    taken = {*given, *([options.z] if options.z else [])}
    varying = [name for name in _varying(frame) if name not in taken]
    chosen = [*given, *varying][:2]
    if not chosen:
        return None
    return chosen[0], chosen[1] if len(chosen) > 1 else None


def _varying(frame: pl.DataFrame) -> list[str]:
    """Knobs with more than one value in ``frame``, the most values first."""
    names = [name for name in AXIS_KNOBS if name in frame.columns]
    if not names:
        return []
    counts = frame.select(pl.col(name).drop_nulls().n_unique() for name in names).row(0)
    ranked = sorted((-count, index, name) for index, (name, count)
                    in enumerate(zip(names, counts, strict=True)) if count > 1)
    found = [name for _, _, name in ranked]
    if not found and FALLBACK_AXIS in frame.columns and (
            frame[FALLBACK_AXIS].drop_nulls().n_unique() > 1):
        found = [FALLBACK_AXIS]
    return found


def _split_keys(frame: pl.DataFrame, z: str | None, axes: tuple[str, str | None]) -> list[str]:
    keys = [z] if z else []
    if "model" in frame.columns and "model" not in (*axes, z) and (
            frame["model"].drop_nulls().n_unique() > 1):
        keys.append("model")
    return keys


def _working_frame(frame: pl.DataFrame, axes: tuple[str, str | None], splits: Sequence[str],
                   metric: str) -> pl.DataFrame:
    """The columns a grid needs under fixed names (``x``, ``y``, ``split<i>``, ``metric``),
    each user-named column picked by position, never as a pattern (a name could be '*' or
    '^...$', or an output column of ``compare``)."""
    schema = frame.collect_schema()
    names = schema.names()
    x, y = axes
    given = {"x": x, **({"y": y} if y else {}),
             **{f"split{index}": name for index, name in enumerate(splits)}}
    if metric in given:
        raise InvalidOption(f"the metric {metric!r} clashes with a name the grid uses")
    # The metric keeps its name: compare infers its scale from it (ratings are 1-5).
    given[metric] = metric
    picked = {key: pl.nth(names.index(resolve_column(schema, name))).alias(key)
              for key, name in given.items()}
    for extra in ("record_id", "image_path", "prompt", "seed"):
        if extra not in picked:
            picked[extra] = (pl.col(extra) if extra in names
                             else pl.lit(None, pl.String).alias(extra))
    return frame.select(picked.values())


def _cell_stats(work: pl.DataFrame, splits: Sequence[str], options: GridOptions
                ) -> pl.DataFrame:
    by = ["y", "x"] if "y" in work.columns else ["x"]
    stats = compare(work, by, options.metric, within=list(splits) or None, best=options.best)
    shown = _shown_runs(work, [*splits, *by], splits, options)
    return stats.join(shown, on=[*splits, *by], how="left", nulls_equal=True)


def _shown_runs(work: pl.DataFrame, keys: Sequence[str], splits: Sequence[str],
                options: GridOptions) -> pl.DataFrame:
    """Per cell, the run to show: the fair (prompt, seed) pair of its grid, else its best."""
    imaged = work.filter(pl.col("image_path").is_not_null())
    fair = _fair_pairs(imaged, splits, keys)
    marked = imaged.join(fair, on=[*splits, "prompt", "seed"], how="left", nulls_equal=True)
    # By position: the metric's name is the user's and could read as a pattern.
    value = pl.nth(work.columns.index(options.metric)).cast(pl.Float64).fill_nan(None)
    order = marked.with_columns(value.alias("shown_value")).sort(
        [pl.col("_fair").fill_null(False), pl.col("shown_value"), pl.col("record_id")],
        descending=[True, options.best == "max", False], nulls_last=True)
    first = order.group_by(keys, maintain_order=True).first()
    return first.select(
        *keys, "record_id", "image_path", "prompt", "seed", "shown_value",
        pl.when(pl.col("_fair").fill_null(False)).then(pl.lit(FAIR)).otherwise(pl.lit(BEST))
        .alias("shown"))


def _fair_pairs(imaged: pl.DataFrame, splits: Sequence[str], keys: Sequence[str]
                ) -> pl.DataFrame:
    """Per grid, the (prompt, seed) pair that most of its cells have a run with (at least
    two cells: one cell compares with nothing); ties go to the smallest pair."""
    pairs = imaged.filter(pl.col("prompt").is_not_null() & pl.col("seed").is_not_null())
    cells = pairs.group_by([*splits, "prompt", "seed"]).agg(
        pl.struct(keys).n_unique().alias("_cells"))
    ranked = cells.filter(pl.col("_cells") >= 2).sort(
        [*splits, "_cells", "prompt", "seed"],
        descending=[*(False for _ in splits), True, False, False], nulls_last=True)
    best = (ranked.group_by(list(splits), maintain_order=True).first() if splits
            else ranked.head(1))
    return best.select(*splits, "prompt", "seed", pl.lit(True).alias("_fair"))


def _grid(group: str, split: tuple[tuple[str, object], ...], part: pl.DataFrame,
          cells: pl.DataFrame, *, axes: tuple[str, str | None], options: GridOptions
          ) -> SweepGrid:
    x, y = axes
    xs, x_out = _axis(part, "x", x, options.max_axis_values)
    ys, y_out = _axis(part, "y", y, options.max_axis_values) if y else ([None], None)
    kept = cells.filter(pl.col("x").is_in(xs, nulls_equal=True))
    if y is not None:
        kept = kept.filter(pl.col("y").is_in(ys, nulls_equal=True))
    fair = kept.filter(pl.col("shown") == FAIR).select("prompt", "seed")
    return SweepGrid(
        group=group, split=split, x=x, y=y, xs=tuple(xs), ys=tuple(ys),
        cells=kept.select(*(["y"] if y else []), "x", *CELL_COLUMNS),
        fair=fair.row(0) if fair.height else None,
        left_out=tuple(text for text in (x_out, y_out) if text))


def _axis(part: pl.DataFrame, column: str, name: str, cap: int
          ) -> tuple[list[object], str | None]:
    """The axis's values, sorted (missing last); past ``cap``, those with the most runs."""
    counts = part.group_by(column).len().sort(["len", column], descending=[True, False],
                                              nulls_last=True)
    kept = counts.head(cap)[column].sort(nulls_last=True).to_list()
    if counts.height <= cap:
        return kept, None
    dropped = counts.slice(cap)[column].to_list()
    names = ", ".join(_text(value) for value in dropped[:5])
    more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
    return kept, (f"{len(dropped)} more {name} values not shown (fewest runs): "
                  f"{names}{more}")


def _split(work: pl.DataFrame, splits: Sequence[str]) -> list[tuple[tuple[object, ...],
                                                                    pl.DataFrame]]:
    if not splits:
        return [((), work)]
    keys = work.select(splits).unique().sort(splits, nulls_last=True).rows()
    return [(key, work.filter(*(pl.col(n).eq_missing(v) for n, v in zip(splits, key,
                                                                        strict=True))))
            for key in keys]


def _with_groups(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with each run's group: its experiment (id, else name), else its prompt,
    else none; as a kind and a name column (no string built per run)."""
    def text(name: str) -> pl.Expr:
        return (pl.col(name).cast(pl.String) if name in frame.columns
                else pl.lit(None, pl.String))

    experiment = pl.coalesce(text("experiment_id"), text("experiment_name"))
    kind = (pl.when(experiment.is_not_null()).then(pl.lit("experiment"))
            .when(text("prompt").is_not_null()).then(pl.lit("prompt")).otherwise(pl.lit("all")))
    return frame.with_columns(kind.alias(_KIND), pl.coalesce(experiment, text("prompt"))
                              .alias(_GROUP), text("experiment_name").alias(_LABEL))


def _group_order(grouped: pl.DataFrame) -> list[tuple[pl.Expr, str]]:
    """(the filter selecting a group, its label), the most recent group first."""
    latest = (pl.col("event_time").max() if "event_time" in grouped.columns
              else pl.len()).alias("_latest")
    order = grouped.group_by(_KIND, _GROUP).agg(latest, pl.col(_LABEL).drop_nulls().first())
    order = order.sort(["_latest", _KIND, _GROUP], descending=[True, False, False],
                       nulls_last=True)
    return [(pl.col(_KIND).eq(kind) & pl.col(_GROUP).eq_missing(name), _group_label(kind,
                                                                                 name, label))
            for kind, name, label in order.select(_KIND, _GROUP, _LABEL).rows()]


def _group_label(kind: str, name: str | None, experiment_name: str | None) -> str:
    if kind == "experiment":
        return f"experiment {experiment_name or name}"
    if kind == "prompt":
        return f"prompt {name}"
    return "runs without experiment or prompt"


def _size(grid: SweepGrid) -> int:
    return len(grid.xs) * len(grid.ys)


def _left_out(skipped: Sequence[str]) -> tuple[str, ...]:
    if not skipped:
        return ()
    names = "; ".join(skipped[:5]) + (f"; and {len(skipped) - 5} more" if len(skipped) > 5
                                       else "")
    return (f"{len(skipped)} more grids or groups not shown (the oldest, past the caps of "
            f"grids and images): {names}",)


def _text(value: object) -> str:
    return MISSING if value is None else str(value)
