"""Analysis: a table read fresh (committed snapshot + uncompacted tail), compared, queried,
drawn and reported.

Modules, in the order a question goes through them:

- ``scan``: a table's committed Delta snapshot plus its raw records not yet compacted,
  normalized by compaction's code, each record exactly once; the tail cache.
- ``ratings``: ``join_ratings``, rating records attached to the runs they judge.
- ``rated``: the rated runs at one snapshot, with the provenance naming it (for exports and
  reports); was ``provenance.py``.
- ``comparison``: ``compare``: n, mean, std, 95 % interval (Wilson on a bounded scale,
  Student-t otherwise), min, max, a credible rank (by the interval's bound), Welch
  difference to a baseline.
- ``query``: SQL over every table (DuckDB, read-only, nothing outside the lake), the
  ``rated_runs`` view, table summaries and stats, ``compare`` over a table of the lake.
- ``plots``: the sweep's matplotlib figures. Not imported here (matplotlib is slow to load):
  ``from runlake.analysis import plots``.
- ``report``: one static, offline HTML page of those figures and their tables.

Owns nothing on disk: it only reads. Imports ``runlake.compaction`` (its read interface),
``runlake.append``, ``runlake.records``, ``runlake.storage``, Polars, DuckDB (in ``query``,
on first use), scipy (in ``comparison``) and matplotlib (in ``plots``, and in ``report``
when a page is rendered).
"""

from __future__ import annotations

from runlake.analysis.comparison import (
    DIFF_COLUMNS,
    STAT_COLUMNS,
    Best,
    Order,
    ScaleOption,
    compare,
    resolve_column,
)
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
from runlake.analysis.report import render_report, report_lake, write_report
from runlake.analysis.scan import TableView, read_table, scan_table

__all__ = [
    "DIFF_COLUMNS",
    "STAT_COLUMNS",
    "Best",
    "Order",
    "RatedSnapshot",
    "ScaleOption",
    "TableStats",
    "TableSummary",
    "TableView",
    "compare",
    "compare_table",
    "join_ratings",
    "read_rated",
    "read_table",
    "render_report",
    "report_lake",
    "resolve_column",
    "scan_table",
    "sql",
    "table_stats",
    "table_summaries",
    "write_report",
]
