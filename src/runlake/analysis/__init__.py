"""Analysis: a table read fresh (committed snapshot + uncompacted tail), compared, queried,
drawn and reported.

Modules, in the order a question goes through them:

- ``scan``: a table's committed Delta snapshot plus its raw records not yet compacted,
  normalized by compaction's code, each record exactly once; the tail cache.
- ``ratings``: ``join_ratings``, rating records attached to the runs they judge.
- ``rated``: the rated runs at one snapshot, with the provenance naming it (for exports and
  reports); was ``provenance.py``.
- ``published``: the derived ``rated_runs`` Delta table (the join, for other engines),
  refreshed from the committed tables.
- ``comparison``: ``compare``: n, mean, std, 95 % interval (Wilson on a bounded scale,
  Student-t otherwise), min, max, a credible rank (by the interval's bound), Welch
  difference to a baseline.
- ``query``: SQL over every table (DuckDB, read-only, nothing outside the lake), the
  ``rated_runs`` view, table summaries and stats, ``compare`` over a table of the lake.
- ``selection``: the runs a report or grid is about (``where``, ``experiment``) and only the
  columns it needs.
- ``grid``: image grids as data: axes, groups, each cell's ``compare`` numbers and the run
  to show (the same prompt and seed across cells where the sweep has them).
- ``thumbnails``: the images runs name, read safely (one regular file, never a URL), made
  into small WebP thumbnails on a thread per core, cached under ``<lake>/cache/_thumbnails``.
- ``plots``: the sweep's matplotlib figures, aggregates only. Not imported here (matplotlib
  is slow to load): ``from runlake.analysis import plots``.
- ``gridview``: ``lake.grid``: a grid's figure and the table behind it.
- ``page``: the HTML building blocks and the page's policy (escaping, CSP, the table script).
- ``report``: one static, offline HTML page of the grids, figures and tables.
- ``engines``: what other engines need to read a table (the Delta file list, for Spark).

Owns nothing on disk: it only reads. Imports ``runlake.compaction`` (its read interface),
``runlake.append``, ``runlake.records``, ``runlake.storage``, Polars, DuckDB (in ``query``,
on first use), scipy (in ``comparison``), matplotlib (in ``plots``, and in
``report``/``page``/``gridview`` when a page or grid is drawn) and Pillow (in
``thumbnails``). Writes only its derived thumbnail cache and the pages it is asked to write.
"""

from __future__ import annotations

from runlake.analysis.comparison import (
    DIFF_COLUMNS,
    STAT_COLUMNS,
    Best,
    Order,
    ScaleOption,
    bounded_interval,
    compare,
    resolve_column,
)
from runlake.analysis.engines import table_files
from runlake.analysis.grid import GridOptions
from runlake.analysis.gridview import GridResult, grid_frame, grid_lake
from runlake.analysis.published import refresh_rated_runs
from runlake.analysis.query import (
    TableStats,
    TableSummary,
    compare_table,
    sql,
    table_stats,
    table_summaries,
)
from runlake.analysis.rated import RatedSnapshot, read_rated
from runlake.analysis.ratings import join_ratings
from runlake.analysis.report import (
    ReportCallback,
    ReportOptions,
    ReportProgress,
    render_report,
    report_lake,
    write_report,
)
from runlake.analysis.scan import TableView, read_table, scan_table
from runlake.analysis.selection import Selection

__all__ = [
    "DIFF_COLUMNS",
    "STAT_COLUMNS",
    "Best",
    "GridOptions",
    "GridResult",
    "Order",
    "RatedSnapshot",
    "ReportCallback",
    "ReportOptions",
    "ReportProgress",
    "ScaleOption",
    "Selection",
    "TableStats",
    "TableSummary",
    "TableView",
    "bounded_interval",
    "compare",
    "compare_table",
    "grid_frame",
    "grid_lake",
    "join_ratings",
    "read_rated",
    "read_table",
    "refresh_rated_runs",
    "render_report",
    "report_lake",
    "resolve_column",
    "scan_table",
    "sql",
    "table_files",
    "table_stats",
    "table_summaries",
    "write_report",
]
