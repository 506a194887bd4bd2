"""``LearningRecordWriter``: the writer a pipeline uses. It never raises into the pipeline.

What it cannot append it logs at WARNING (saying why), counts in ``failures`` and spills to the
lake's ``deadletter/`` area; if even that is unwritable, to a fallback directory of that lake
(never one shared by every lake, whose replay would push other lakes' records into this one),
reported in the warning and in ``fallback_dir``. Only if the fallback fails too is the record
written into the log itself, at ERROR, so it is never lost silently. The warning prints the
``runlake replay-deadletter`` command that puts the record back, lake and folder included.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
import tempfile
import threading
from pathlib import Path
from typing import Protocol

import orjson

from runlake.append.appender import Appender, LakeOptions
from runlake.append.deadletter import Appends, bounded_repr, spill
from runlake.append.segments import Durability
from runlake.errors import InvalidRecord
from runlake.records import RUNS_TABLE, new_id
from runlake.storage import LakePaths, absolute, default_root

log = logging.getLogger("runlake.failsafe")


def default_fallback_dir(lake_root: str | os.PathLike[str]) -> Path:
    """The fallback folder of the lake at ``lake_root``: ``<base>/<lake folder name>-<hash of
    its absolute path>``, under ``$RUNLAKE_FALLBACK_DIR``, else ``<tmp>/runlake-deadletter-<uid>``.

    >>> default_fallback_dir("/data/lake").name
    'lake-096d884667c5'
    """
    configured = os.environ.get("RUNLAKE_FALLBACK_DIR")
    base = Path(configured) if configured else (
        Path(tempfile.gettempdir()) / f"runlake-deadletter-{os.getuid()}")
    root = absolute(lake_root)
    digest = hashlib.sha256(os.fsencode(root)).hexdigest()[:12]
    return base / f"{root.name or 'lake'}-{digest}"


class Recorder(Appends, Protocol):
    """What the writer needs of a lake: appends, and where its dead-letter area is (a
    ``Lake`` or an ``Appender``; structural, so this module stays below ``Lake``)."""

    @property
    def paths(self) -> LakePaths: ...


class LearningRecordWriter:
    """Append records for a pipeline without ever raising.

    >>> writer = LearningRecordWriter("lake")       # doctest: +SKIP
    >>> writer.write({"run_id": "r1", "model": "sdxl"})  # doctest: +SKIP
    """

    def __init__(
        self,
        lake_or_path: Recorder | str | os.PathLike[str] | None = None,
        table: str = RUNS_TABLE,
        *,
        durability: Durability = "fsync",
        fallback_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.lake = _recorder(lake_or_path)
        self.table = table
        self.durability: Durability = durability
        self.fallback_dir = (Path(fallback_dir) if fallback_dir
                             else default_fallback_dir(self.lake.paths.root))
        self.failures = 0
        self.spilled = 0
        self.spill_paths: set[Path] = set()
        self.last_error: str | None = None
        self._count_lock = threading.Lock()

    def write(self, record: object) -> str | None:
        """Append ``record``; return its id. On failure: warn, count, spill, return the id it
        will have once replayed (``None`` only if it could not even be spilled)."""
        record_id = _own_id(record) or new_id()
        try:
            return self.lake.append(self.table, record, durability=self.durability,
                                    record_id=record_id)
        except Exception as exc:  # the seed contract: recording never breaks the pipeline
            try:
                return self._fail(record, record_id, exc)
            except Exception as worse:  # even the spill and the log failed: say so, briefly
                log.error("runlake: record %s for table %r was not appended (%s) and could "
                          "not be spilled (%s)", record_id, self.table, type(exc).__name__,
                          type(worse).__name__)
                return None

    def _fail(self, record: object, record_id: str, exc: Exception) -> str | None:
        reason = f"{type(exc).__name__}: {exc}"
        with self._count_lock:
            self.failures += 1
            self.last_error = reason
        where = self._spill(record, record_id, reason, not isinstance(exc, InvalidRecord))
        if where is None:
            return None
        log.warning("runlake: could not append a record to table %r (%s); spilled it to %s "
                    "(replay with: %s)", self.table, reason, where, self.replay_command(where))
        return record_id

    def replay_command(self, spilled: Path) -> str:
        """The command that appends a record spilled to ``spilled`` back, as a shell runs
        it from any folder: the lake named, and the folder when it is not the lake's own."""
        root = absolute(self.lake.paths.root)
        command = f"runlake --lake {shlex.quote(str(root))} replay-deadletter"
        if absolute(spilled).is_relative_to(absolute(self.lake.paths.deadletter)):
            return command
        return f"{command} --from {shlex.quote(str(absolute(self.fallback_dir)))}"

    def _spill(self, record: object, record_id: str, reason: str,
               replayable: bool) -> Path | None:
        for directory in (self.lake.paths.deadletter, self.fallback_dir):
            try:
                path = spill(directory, self.table, record_id, record, reason,
                             replayable=replayable)
            except Exception:
                continue
            with self._count_lock:
                self.spilled += 1
                self.spill_paths.add(path)
            return path
        log.error("runlake: could not append nor spill a record for table %r (%s); the record "
                  "follows so it is not lost: %s", self.table, reason, _loose_json(record))
        return None


def _recorder(lake_or_path: Recorder | str | os.PathLike[str] | None) -> Recorder:
    """The lake to append to: as given, or the raw zone at a path (default: the lake's
    default root), without loading anything above the raw zone."""
    if lake_or_path is None or isinstance(lake_or_path, (str, os.PathLike)):
        root = absolute(lake_or_path) if lake_or_path is not None else default_root()
        return Appender(LakePaths(root), LakeOptions())
    return lake_or_path


def _own_id(record: object) -> str | None:
    try:
        value = record.get("record_id") if isinstance(record, dict) else getattr(
            record, "record_id", None)
    except Exception:  # an object whose attribute raises: the append will say why
        return None
    return value if isinstance(value, str) and value else None


def _loose_json(record: object) -> str:
    try:
        return orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except Exception:
        return bounded_repr(record)
