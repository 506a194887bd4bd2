"""The exceptions runlake raises: one base, a few meaningful subclasses.

Third-party errors (OSError, orjson, filelock, deltalake) are translated at the boundary so a
caller only ever needs ``except runlake.LakeError``::

    LakeError
    ├── InvalidTableName   (also ValueError)
    ├── InvalidOption      (also ValueError)
    ├── InvalidRecord      (also ValueError)   names table, field and reason
    ├── InvalidQuery       (also ValueError)
    ├── UnknownColumn      (also KeyError)     names close matches
    ├── CorruptLine                            names segment and offset
    ├── LockTimeout        (also TimeoutError)
    ├── StorageError       (also OSError)      names the path and a likely fix
    ├── UnsafeStore                            an object store that ignores If-None-Match
    ├── EmptyLake          (also LookupError)
    ├── CompactionError
    │   └── CompactionConflict
    ├── TableDamaged                           names the file, and check / rebuild
    ├── ExportError
    ├── ImportFailed
    └── BackendError

One warning, ``UncompactedTailWarning`` (a ``UserWarning``): a read met a large tail of raw
records not compacted yet (the command line prints it as a hint).

Where each is translated: OSError in ``storage/fs.py``, filelock's timeouts in
``storage/locks.py``, obstore's errors in ``storage/objects.py``, deltalake's errors in
``compaction/deltatable.py``.
"""

from __future__ import annotations


class LakeError(Exception):
    """Base class of every error runlake raises on purpose."""


class InvalidTableName(LakeError, ValueError):
    """A table name that does not match ``^[a-z][a-z0-9_]{0,62}$``."""


class InvalidOption(LakeError, ValueError):
    """An option outside its allowed values (a durability mode, a batch size, ...)."""


class InvalidRecord(LakeError, ValueError):
    """A record that cannot be stored: names the table, the field (key path) and the reason."""

    def __init__(self, table: str, field: str | None, reason: str) -> None:
        self.table = table
        self.field = field
        self.reason = reason
        where = f"table {table!r}" + (f", field {field!r}" if field else "")
        super().__init__(f"invalid record for {where}: {reason}")


class CorruptLine(LakeError):
    """A stored line in the middle of a segment that is not a valid record (strict reads)."""

    def __init__(self, segment: str, offset: int, reason: str) -> None:
        self.segment = segment
        self.offset = offset
        self.reason = reason
        super().__init__(f"corrupt line in {segment} at byte {offset}: {reason}")


class LockTimeout(LakeError, TimeoutError):
    """A lock (a partition's append lock, a table's compaction lock) was not acquired in time."""


class StorageError(LakeError, OSError):
    """The file system refused an operation (permissions, disk full, I/O error); names the path."""


class UnsafeStore(LakeError):
    """An object store that does not honour ``If-None-Match`` (found by the probe before the
    first write): runlake refuses to commit or ship there, since writes could be lost."""


class BackendError(LakeError):
    """An image-generation backend failed: not reachable, too slow, or it answered with an
    error. Names the URL (or the backend) and what went wrong."""


class ImportFailed(LakeError):
    """An import could not run: its source is missing, unreadable or not what was expected."""


class UnknownColumn(LakeError, KeyError):
    """A knob, metric or config path that a frame does not have; names it and close matches."""

    def __init__(self, name: str, suggestions: list[str], *, also_tried: str | None = None) -> None:
        self.name = name
        self.suggestions = suggestions
        tried = f" (nor {also_tried!r})" if also_tried else ""
        hint = f"; did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
        super().__init__(f"no column {name!r}{tried}{hint}")

    def __str__(self) -> str:
        # KeyError's own __str__ shows the repr of the message, quotes and all.
        return str(self.args[0])


class InvalidQuery(LakeError, ValueError):
    """A filter or metric that cannot be evaluated on a frame (bad syntax, wrong type)."""


class CompactionError(LakeError):
    """Compaction could not commit (a Delta or Parquet failure); nothing was committed."""


class CompactionConflict(CompactionError):
    """Another compactor committed to the table first; this run committed nothing (rerun)."""


class TableDamaged(LakeError):
    """A table's Delta log or data files are not what its commits say (a truncated commit
    file, a missing Parquet file): names what is wrong and the way back (``runlake check``,
    ``runlake rebuild``). Nothing is read or committed on top of the damage."""


class ExportError(LakeError):
    """A dataset export could not be made: nothing is left after a filter (named), or the
    output folder holds files that are not a previous export's. Nothing was written."""


class EmptyLake(LakeError, LookupError):
    """The lake has no records of what a command reads (no runs to export or report yet)."""


class UncompactedTailWarning(UserWarning):
    """A read normalized a large tail of raw records not compacted yet: ``runlake compact``
    (``lake.compact()``) would make reads fast. Issued once per table and process."""
