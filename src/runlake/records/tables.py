"""The names of the tables runlake itself writes and reads, defined once.

Producers write ``runs``, ``ratings`` and ``jobs``; analysis joins ``runs`` with ``ratings``
into the ``rated_runs`` view. Any other valid table name works too: these are only the ones
the code refers to by name.
"""

from __future__ import annotations

RUNS_TABLE = "runs"
RATINGS_TABLE = "ratings"
JOBS_TABLE = "jobs"
RATED_RUNS_VIEW = "rated_runs"  # a SQL view over runs and ratings, not a stored table
