"""The rated runs of a lake at one snapshot, with the provenance that names that snapshot.

An export's card and a report's header say what they were made from, and never when: two
exports of the same data must be byte-identical, so the provenance holds table versions and
record counts, never a clock time. Two ways to read:

- **fresh** (no version): what :meth:`Lake.rated_runs` sees, each table's committed version
  plus the raw records appended since (``runs_uncompacted_records``): every returned append,
  exactly once. Compacting those records later gives the same rows under a new version.
- **``version=N``**: the runs table at version N, without the raw tail (an older snapshot is
  what it was), and the ratings table as a reader saw it right after that commit: its last
  version committed no later than runs version N. The same N then always gives the same
  ratings, so a versioned export can be made again, byte for byte, as the lake grows.

>>> snapshot = read_rated(lake.paths, version=3)          # doctest: +SKIP
>>> snapshot.provenance                                   # doctest: +SKIP
{'runs_version': 3, 'ratings_version': 2, 'ratings_as_of': 'runs version 3'}
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from runlake.analysis.ratings import join_ratings
from runlake.analysis.scan import TableView, scan_table
from runlake.compaction import delta_errors, open_table
from runlake.errors import EmptyLake, InvalidOption
from runlake.records import RATINGS_TABLE, RUNS_TABLE
from runlake.storage import Files
from runlake.storage.shared import AnyPaths


@dataclass(frozen=True)
class RatedSnapshot:
    """The runs with their ratings attached, and the table versions they were read at."""

    frame: pl.LazyFrame
    provenance: dict[str, object]


def read_rated(paths: AnyPaths, *, version: int | None = None) -> RatedSnapshot:
    """The rated runs, fresh or at runs table ``version`` (see the module docstring).

    Raises :class:`EmptyLake` when there are no runs, :class:`InvalidOption` for a version
    the runs table does not have.
    """
    if RUNS_TABLE not in paths.table_names():
        raise _empty(paths)
    if version is None:
        return _fresh(paths)
    return _versioned(paths, version)


def _fresh(paths: AnyPaths) -> RatedSnapshot:
    runs = _runs_view(paths, None)
    provenance: dict[str, object] = {
        "runs_version": runs.snapshot.version,
        "runs_uncompacted_records": runs.pending,
    }
    if RATINGS_TABLE not in paths.table_names():
        return RatedSnapshot(runs.frame, provenance)
    ratings = scan_table(paths, RATINGS_TABLE)
    provenance |= {"ratings_version": ratings.snapshot.version,
                   "ratings_uncompacted_records": ratings.pending}
    return RatedSnapshot(join_ratings(runs.frame, ratings.frame), provenance)


def _versioned(paths: AnyPaths, version: int) -> RatedSnapshot:
    committed_at = _commit_times(paths.table_files(RUNS_TABLE))
    if version not in committed_at:
        raise InvalidOption(f"the runs table has no version {version} "
                            f"({_known_versions(committed_at)})")
    runs = _runs_view(paths, version)
    ratings_version = _last_version_by(paths.table_files(RATINGS_TABLE), committed_at[version])
    provenance: dict[str, object] = {"runs_version": version, "ratings_version": ratings_version,
                                     "ratings_as_of": f"runs version {version}"}
    if ratings_version is None:
        return RatedSnapshot(runs.frame, provenance)
    ratings = scan_table(paths, RATINGS_TABLE, version=ratings_version)
    return RatedSnapshot(join_ratings(runs.frame, ratings.frame), provenance)


def _runs_view(paths: AnyPaths, version: int | None) -> TableView:
    view = scan_table(paths, RUNS_TABLE, version=version)
    if view.snapshot.version is None and view.pending == 0:  # only unreadable lines so far
        raise _empty(paths)
    return view


def _empty(paths: AnyPaths) -> EmptyLake:
    return EmptyLake(f"the lake at {paths.root} has no runs yet: append some (or run "
                     "`runlake demo`) first")


def _commit_times(root: Files) -> dict[int, int]:
    """Each version of the Delta table at ``root`` with its commit time (ms since epoch)."""
    table = open_table(root)
    if table is None:
        return {}
    with delta_errors(root):
        return {int(commit["version"]): int(commit["timestamp"]) for commit in table.history()}


def _last_version_by(root: Files, moment: int) -> int | None:
    """The last version of the table at ``root`` committed at or before ``moment``."""
    return max((v for v, at in _commit_times(root).items() if at <= moment), default=None)


def _known_versions(committed_at: dict[int, int]) -> str:
    if not committed_at:
        return "it has no compacted version yet: run `runlake compact` first"
    return f"it has versions {min(committed_at)} to {max(committed_at)}"
