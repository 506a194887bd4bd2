"""Where things live on disk. The only module that turns names into paths.

Nothing from a record becomes a path component except the validated table name and the
computed UTC date (``date=YYYY-MM-DD``); segment names are generated here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from runlake.errors import EmptyLake, InvalidTableName
from runlake.storage.files import LocalFiles

TABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
PARTITION_PREFIX = "date="
SEGMENT_PREFIX = "seg-"
SEGMENT_SUFFIX = ".jsonl"
LOCK_NAME = ".append.lock"
TABLE_LOCK = ("_runlake", "compact.lock")  # inside the table directory; Delta ignores "_" names
_PARTITION = re.compile(r"date=(\d{4}-\d{2}-\d{2})")
_SEGMENT = re.compile(r"seg-(\d{6,})\.jsonl")


_URL = re.compile(r"[a-z][a-z0-9+.-]*://.+")


def is_url(root: object) -> bool:
    """Whether a lake root names an object store (``s3://bucket/prefix``), not a path."""
    return isinstance(root, str) and _URL.fullmatch(root) is not None


def default_root() -> Path:
    """The lake ``Lake()`` opens, as an absolute path: ``$RUNLAKE_LAKE`` if set, else
    ``./lake``.

    A relative ``$RUNLAKE_LAKE`` is resolved from the folder the user started in, not from
    wherever a launcher later put the process: Jupyter starts each kernel in its notebook's
    folder, so ``RUNLAKE_LAKE=./lake jupyter lab notebooks/`` at a repository's root would
    otherwise open ``notebooks/lake``. That folder is ``$PWD`` (the shell exports it and
    children inherit it; ``chdir`` does not change it) when it is the current folder or one
    of its ancestors; else the current folder.
    """
    value = os.environ.get("RUNLAKE_LAKE")
    if not value:
        return absolute("lake")
    return absolute(os.path.join(start_folder(), value))  # an absolute value stays itself


def start_folder() -> str:
    """Where the user started: ``$PWD`` if it is the current folder or an ancestor of it
    (a launcher descended into a subfolder), else the current folder."""
    here = os.getcwd()
    start = os.environ.get("PWD", "")
    if not (os.path.isabs(start) and os.path.isdir(start)):
        return here
    real_start, real_here = os.path.realpath(start), os.path.realpath(here)
    return start if os.path.commonpath([real_start, real_here]) == real_start else here


def absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute against the current folder, ``..`` folded, symlinks kept:
    a lake is pinned where it was opened (a later ``chdir`` does not move it), and messages
    name it in full."""
    return Path(os.path.abspath(path))


def validate_table(name: object) -> str:
    """Return ``name`` if it is a valid table name, else raise :class:`InvalidTableName`."""
    if not isinstance(name, str) or TABLE_NAME.fullmatch(name) is None:
        raise InvalidTableName(
            f"invalid table name {name!r}: use 1-63 characters of a-z, 0-9 and _, "
            "starting with a letter (for example 'runs')"
        )
    return name


def segment_name(number: int) -> str:
    return f"{SEGMENT_PREFIX}{number:06d}{SEGMENT_SUFFIX}"


def segment_number(name: str) -> int | None:
    match = _SEGMENT.fullmatch(name)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class LakePaths:
    """The directories of one lake root."""

    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def deadletter(self) -> Path:
        return self.root / "deadletter"

    @property
    def cache(self) -> Path:
        """Derived data kept to answer faster (line counts, normalized tails); never a source
        of truth: deleting it loses nothing but time."""
        return self.root / "cache"

    def table_cache(self, table: str) -> Path:
        return self.cache / validate_table(table)

    @property
    def thumbnails(self) -> Path:
        """The report's thumbnails (``_`` keeps it apart from any table's cache folder)."""
        return self.cache / "_thumbnails"

    def table(self, table: str) -> Path:
        """The Delta table directory of ``table``."""
        return self.tables / validate_table(table)

    def table_files(self, table: str) -> LocalFiles:
        """The Delta table directory of ``table``, as compaction and reads handle it."""
        return LocalFiles(self.table(table))

    def quarantine_files(self, table: str) -> LocalFiles:
        """Where ``table``'s unusable lines are kept."""
        return LocalFiles(self.quarantine / validate_table(table))

    def table_lock(self, table: str) -> Path:
        """The file behind the table's compaction lock."""
        return self.table(table).joinpath(*TABLE_LOCK)

    def raw_table(self, table: str) -> Path:
        return self.raw / validate_table(table)

    def partition(self, table: str, date: str) -> Path:
        return self.raw_table(table) / f"{PARTITION_PREFIX}{date}"

    def table_names(self) -> list[str]:
        """Tables that have raw data or a compacted table, sorted."""
        names: set[str] = set()
        for parent in (self.raw, self.tables):
            if parent.is_dir():
                names.update(p.name for p in parent.iterdir() if _is_table_dir(p))
        return sorted(names)

    def require_table(self, table: str) -> str:
        """``table``, if the lake has it; else :class:`EmptyLake` naming the tables it has
        (comparing or compacting nothing is a mistake, and a typo must create nothing)."""
        names = self.table_names()
        if validate_table(table) not in names:
            known = ", ".join(names) or "none"
            raise EmptyLake(f"the lake at {absolute(self.root)} has no table {table!r} yet "
                            f"(tables: {known}); append records or run `runlake demo` first")
        return table

    def partition_dates(self, table: str) -> list[str]:
        """The dates (``YYYY-MM-DD``) of a table's raw partitions, sorted."""
        base = self.raw_table(table)
        if not base.is_dir():
            return []
        dates = (_PARTITION.fullmatch(p.name) for p in base.iterdir() if p.is_dir())
        return sorted(m.group(1) for m in dates if m)

    def segments(self, table: str, date: str) -> list[Path]:
        """A partition's segments in write order."""
        return list_segments(self.partition(table, date))


def list_segments(partition: Path) -> list[Path]:
    """Segments of a partition directory, ordered by their number."""
    try:
        names = os.listdir(partition)
    except FileNotFoundError:
        return []
    numbered = [(n, name) for name in names if (n := segment_number(name)) is not None]
    return [partition / name for _, name in sorted(numbered)]


def _is_table_dir(path: Path) -> bool:
    return path.is_dir() and TABLE_NAME.fullmatch(path.name) is not None
