"""``check``: what is wrong with a table, found without changing anything (like ``git fsck``).

For each table it verifies:

- the Delta log: every commit file is whole JSON, versions have no gaps, the log opens, and
  every runlake commit since the last rebuild holds its transaction and the files it records
  (a commit cut short would make its offsets skip records no file holds);
- the data files: every file of the latest version exists with the size the log records
  (unreferenced files, which vacuum removes, are noted);
- the raw zone against the offsets: each covered segment exists (or raw retention removed
  it, per the removal log), is at least as long as its offset, and its bytes before the
  offset still match the fingerprint;
- quarantined lines and segments read again (noted), and records spilled to the lake's
  dead-letter area (acknowledged by a failsafe writer but not in the lake: a problem until
  replayed).

On a shared lake the raw zone is the shipped objects: each covered host segment's objects
must reach its offset (they are immutable, so no fingerprint is needed); dead letters live on
the recording hosts.

Each problem is one line naming what is wrong and the way back; any problem makes the
check fail (``runlake check`` exits 1). Notes are counts that need no action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from runlake.append import spill_files
from runlake.compaction.deltatable import (
    METADATA_KEY,
    Delta,
    commit_versions,
    file_sizes,
    open_table,
    read_commit,
    removable,
    torn_lines,
)
from runlake.compaction.offsets import commit_problem, damaged, fingerprint, snapshot_of
from runlake.compaction.quarantine import read_resets
from runlake.compaction.removals import read_removals
from runlake.compaction.sources import shipped_ends
from runlake.errors import LakeError
from runlake.storage import Files, LakePaths, list_segments
from runlake.storage.shared import AnyPaths, SharedPaths

_NAMED = 5  # files or segments named in one problem line before "and N more"


@dataclass(frozen=True)
class TableCheck:
    """One table's findings: problems (each fails the check) and notes."""

    table: str
    problems: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class CheckResult:
    """The findings of every table checked."""

    tables: tuple[TableCheck, ...]

    @property
    def ok(self) -> bool:
        return not any(t.problems for t in self.tables)


def check(paths: AnyPaths, table: str | None = None) -> CheckResult:
    """Check ``table`` (every table when ``None``); see the module docstring."""
    names = [paths.require_table(table)] if table is not None else paths.table_names()
    return CheckResult(tuple(_Checker(paths, name).run() for name in names))


@dataclass
class _Checker:
    paths: AnyPaths
    table: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def root(self) -> Files:
        return self.paths.table_files(self.table)

    def run(self) -> TableCheck:
        try:
            delta = self._log()
            if delta is not None:
                self._files(delta)
                self._raw(delta)
        except LakeError as exc:  # whatever else is wrong, say it and look at the rest
            self.problems.append(str(exc))
        self._quarantine()
        self._deadletter()
        return TableCheck(self.table, tuple(self.problems), tuple(self.notes))

    # -- the log ----------------------------------------------------------------------------

    def _log(self) -> Delta | None:
        versions = commit_versions(self.root)
        if not versions:
            self.notes.append("not compacted yet (no Delta log)")
            return None
        for version in versions:
            torn = torn_lines(self.root, version)
            if torn:
                self.problems.append(damaged(self.table, version,
                                             f"line {torn[0]} is not JSON"))
        gaps = sorted(set(range(versions[0], versions[-1] + 1)) - set(versions))
        if gaps:
            self.problems.append(f"tables/{self.table}: the log has no commit file for "
                                 f"version {_named([str(v) for v in gaps])}")
        try:
            delta = open_table(self.root)
        except LakeError as exc:
            self.problems.append(f"{exc}; run `runlake rebuild {self.table}`")
            return None
        self._commits(versions)
        return delta

    def _commits(self, versions: list[int]) -> None:
        """Every runlake compaction since the last rebuild holds what it records."""
        for version in reversed(versions):
            commit = read_commit(self.root, version)
            ours = commit.info.get(METADATA_KEY) if commit is not None else None
            if commit is None or not isinstance(ours, dict):
                continue
            recorded = int(ours.get("sequence", -1))
            problem = commit_problem(self.table, commit, recorded)
            if problem:
                self.problems.append(damaged(self.table, version, problem))
            if ours.get("operation") == "rebuild":
                break

    # -- data files ---------------------------------------------------------------------------

    def _files(self, delta: Delta) -> None:
        sizes = file_sizes(delta)
        present = {entry.name: entry.size for entry in self.root.entries()}
        missing = [p for p in sizes if p not in present]
        wrong = [p for p, size in sizes.items() if p not in missing and present[p] != size]
        version = delta.version()
        if missing:
            self.problems.append(
                f"tables/{self.table}: version {version} references {len(missing)} missing "
                f"data file(s): {_named(missing)}; run `runlake rebuild {self.table}`")
        if wrong:
            self.problems.append(
                f"tables/{self.table}: {len(wrong)} data file(s) differ in size from what "
                f"the log records: {_named(wrong)}; run `runlake rebuild {self.table}`")
        orphans = set(removable(self.root, delta, hours=0, full=True)) - set(
            removable(self.root, delta, hours=0))
        if orphans:
            self.notes.append(f"{len(orphans)} data file(s) no commit references (left by "
                              "a stopped compaction; `runlake vacuum` removes them)")

    # -- raw zone -----------------------------------------------------------------------------

    def _raw(self, delta: Delta) -> None:
        snap = snapshot_of(self.root, self.table, delta)  # raises if its commit is damaged
        if isinstance(self.paths, SharedPaths):
            self._shipped(self.paths, snap.offsets)
            return
        removed = read_removals(self.paths, self.table)
        gone, changed, retired = [], [], 0
        for key, offset in snap.offsets.items():
            segment = self.paths.raw_table(self.table) / key
            if not segment.is_file():
                gone += [] if key in removed else [key]
                retired += key in removed
                continue
            size = segment.stat().st_size
            tail = snap.tails.get(key)
            if size < offset or (tail and offset and fingerprint(segment, offset) != tail):
                changed.append(key)
        if gone:
            self.problems.append(
                f"raw/{self.table}: {len(gone)} compacted segment(s) are missing and were not "
                f"removed by raw retention: {_named(gone)} (the table is now their records' "
                "only copy)")
        if changed:
            self.problems.append(
                f"raw/{self.table}: {len(changed)} segment(s) shrank or changed before their "
                f"committed offset (truncated, restored or replaced): {_named(changed)}; the "
                "next compaction reads them again from their start")
        if retired:
            self.notes.append(f"{retired} segment(s) removed by raw retention")
        self._pending(self.paths, snap.offsets)

    def _shipped(self, paths: SharedPaths, offsets: Mapping[str, int]) -> None:
        """On a shared lake: each covered segment's objects reach its offset (they are
        immutable, so nothing else can change under an offset)."""
        objects = paths.shipped(self.table)
        ends = shipped_ends(objects)
        short = [key for key, offset in offsets.items() if ends.get(key, 0) < offset]
        if short:
            self.problems.append(
                f"raw/{self.table}: {len(short)} compacted host segment(s) lack shipped objects "
                f"below their committed offset: {_named(short)} (deleted from the store?)")
        waiting = sum(max(0, end - offsets.get(key, 0)) for key, end in ends.items())
        if waiting:
            self.notes.append(f"{waiting:,} shipped bytes not compacted yet")

    def _pending(self, paths: LakePaths, offsets: Mapping[str, int]) -> None:
        waiting = 0
        for date in paths.partition_dates(self.table):
            for segment in list_segments(paths.partition(self.table, date)):
                key = f"{segment.parent.name}/{segment.name}"
                waiting += max(0, segment.stat().st_size - offsets.get(key, 0))
        if waiting:
            self.notes.append(f"{waiting:,} raw bytes not compacted yet")

    # -- quarantine and dead letters ----------------------------------------------------------

    def _quarantine(self) -> None:
        if isinstance(self.paths, SharedPaths):
            kept = [e for e in self.paths.quarantine_files(self.table).entries()
                    if e.name.endswith(".json")]
            if kept:
                self.notes.append(f"{len(kept)} quarantined line(s) in quarantine/{self.table}/")
            return
        entries = sorted((self.paths.quarantine / self.table).glob("date=*/*.json"))
        unreadable = [p.name for p in entries if not _readable(p)]
        if entries:
            self.notes.append(f"{len(entries)} quarantined line(s) in quarantine/{self.table}/")
        if unreadable:
            self.problems.append(f"quarantine/{self.table}: {len(unreadable)} entry file(s) "
                                 f"cannot be read: {_named(unreadable)}")
        for reset in read_resets(self.paths, self.table):
            self.notes.append(f"compaction {reset['sequence']} read {reset['segment']} again "
                              f"from its start: {reset['reason']}")

    def _deadletter(self) -> None:
        if isinstance(self.paths, SharedPaths):
            return  # dead letters live on the recording hosts
        spilled = [p for p in spill_files(self.paths.deadletter)
                   if p.parent.name == self.table]
        records = sum(len([x for x in p.read_bytes().splitlines() if x.strip()])
                      for p in spilled)
        if records:
            self.problems.append(
                f"deadletter/{self.table}: {records} record(s) a failsafe writer acknowledged "
                "are not in the lake yet; run `runlake replay-deadletter`")


def _readable(path: Path) -> bool:
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(doc, dict) and "reason" in doc


def _named(items: list[str]) -> str:
    shown = ", ".join(items[:_NAMED])
    return shown + (f" and {len(items) - _NAMED} more" if len(items) > _NAMED else "")
