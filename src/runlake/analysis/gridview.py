"""``lake.grid``: an image grid for Python and Jupyter, the figure and the table behind it.

The same grids as the report's (``runlake.analysis.grid``), over the runs a ``where`` and an
``experiment`` select, as one matplotlib figure (a block per model or ``z`` value) and one
Polars table (a row per cell: the grid's keys, ``compare``'s numbers and the run shown).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import polars as pl

from runlake.analysis.grid import GridOptions, SweepGrid, group_grids
from runlake.analysis.rated import read_rated
from runlake.analysis.selection import Selection, select_runs
from runlake.analysis.thumbnails import ThumbnailCache, make_thumbnails
from runlake.storage.shared import AnyPaths

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SELECTED = "selected runs"


class GridResult(NamedTuple):
    """The grid's figure and the table behind it: ``figure, table = lake.grid(...)``."""

    figure: Figure
    table: pl.DataFrame


def grid_frame(frame: pl.DataFrame | pl.LazyFrame, options: GridOptions | None = None, *,
               selection: Selection | None = None, thumbnail_cache: Path | None = None
               ) -> GridResult:
    """The grid of ``frame``'s selected runs (see :class:`GridOptions` for the axes)."""
    from runlake.analysis import plots  # noqa: PLC0415 - matplotlib only when drawing

    options = options or GridOptions()
    names = [options.metric, *(n for n in (options.x, options.y, options.z) if n is not None)]
    runs = select_runs(frame, selection or Selection(), names)
    grids = group_grids(runs, SELECTED, options)[: options.max_grids]
    cache = ThumbnailCache(thumbnail_cache) if thumbnail_cache is not None else None
    paths = [path for grid in grids for path in grid.cells["image_path"]]
    thumbs = make_thumbnails(paths, cache=cache)
    figure = plots.grid_figure(grids, thumbs, metric=options.metric)
    return GridResult(figure, grid_table(grids))


def grid_lake(paths: AnyPaths, options: GridOptions | None = None, *,
              selection: Selection | None = None) -> GridResult:
    """:func:`grid_frame` of the lake's fresh rated runs (thumbnails cached in the lake)."""
    rated = read_rated(paths)
    return grid_frame(rated.frame, options, selection=selection,
                      thumbnail_cache=paths.thumbnails)


def grid_table(grids: list[SweepGrid]) -> pl.DataFrame:
    """One row per cell of ``grids``: the split keys (model, ``z``), the axes under their
    knob names, ``compare``'s numbers and the run shown."""
    parts = []
    for grid in grids:
        keys = [pl.lit(value).alias(name) for name, value in grid.split]
        renamed = {"x": grid.x, **({"y": grid.y} if grid.y else {})}
        parts.append(grid.cells.rename(renamed).select(*keys, pl.all()))
    return pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()
