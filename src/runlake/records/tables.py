"""The names of the tables runlake itself writes and reads, defined once.

Producers write ``runs``, ``ratings`` and ``jobs``; analysis joins ``runs`` with ``ratings``
into the ``rated_runs`` view, and compaction stores that join as the derived Delta table
``rated_runs`` for readers outside runlake. Any other valid table name works too: these are
only the ones the code refers to by name.
"""

from __future__ import annotations

RUNS_TABLE = "runs"
RATINGS_TABLE = "ratings"
JOBS_TABLE = "jobs"
RATED_RUNS_VIEW = "rated_runs"  # runs joined with ratings: a SQL view, and a derived table
# Tables compaction derives from other tables (never appended to, never compacted from raw).
DERIVED_TABLES = (RATED_RUNS_VIEW,)
