"""The dead-letter area: records a failsafe writer could not append, kept for replay.

Each spilled record is one JSON line ``{"table", "record_id", "reason", "failed_at",
"record"}`` in ``deadletter/<table>/<date>-<pid>.jsonl`` (one file per process and day, so
no lock is needed across processes). The record id is fixed at spill time, so replaying twice
appends the same ids and compaction keeps one of each.
"""

from __future__ import annotations

import os
import reprlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import orjson

from runlake.append.segments import Durability
from runlake.errors import LakeError
from runlake.storage import fsync_path, make_dirs, open_locked, replace_file, validate_table

_SPILL_LOCK = threading.Lock()
_LOOSE = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE


def spill(directory: Path, table: str, record_id: str, record: object, reason: str, *,
          replayable: bool = True) -> Path:
    """Append one record to the dead-letter file of ``table`` under ``directory``; fsynced.

    A record that failed validation (``replayable=False``) is kept as best-effort JSON
    (unknown types as their ``str``, NaN as null) plus its ``repr``, for a person to mend:
    replaying it as is would store the altered copy.
    """
    now = datetime.now(timezone.utc)
    entry: dict[str, object] = {"table": table, "record_id": record_id, "reason": reason,
                                "failed_at": now.isoformat(), "replayable": replayable,
                                "record": record}
    if not replayable:
        entry["record_repr"] = bounded_repr(record)
    try:
        line = orjson.dumps(entry, default=str, option=_LOOSE)
    except (orjson.JSONEncodeError, TypeError):  # nested past JSON's limit, say: keep the text
        entry.update(record=None, replayable=False, record_repr=bounded_repr(record))
        line = orjson.dumps(entry, default=str, option=_LOOSE)
    path = directory / validate_table(table) / f"{now:%Y-%m-%d}-{os.getpid()}.jsonl"
    with _SPILL_LOCK:
        created = make_dirs(path.parent)
        fd = open_locked(path)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the flock
        for parent in [path.parent, *created]:  # the file's entry, and new directories'
            fsync_path(parent)
    return path


@dataclass
class ReplayResult:
    """What a replay did: records appended back, records still failing (kept), files done."""

    replayed: int = 0
    failed: int = 0
    files_done: int = 0
    errors: list[str] = field(default_factory=list)


def spill_files(directory: Path) -> list[Path]:
    """Dead-letter files under ``directory``, oldest name first."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*/*.jsonl"))


class Appends(Protocol):
    """What replay needs of a lake (structural, to keep this module below ``Lake``)."""

    def append(self, table: str, record: object, *, durability: Durability = ...,
               record_id: str | None = ...) -> str: ...


def replay(lake: Appends, directory: Path) -> ReplayResult:
    """Append every dead-letter record under ``directory`` back into ``lake``.

    A file whose records all went back is deleted; a file with records that still fail is
    rewritten with just those, so a replay never loses a record and can be run again.
    """
    result = ReplayResult()
    for path in spill_files(directory):
        fd = open_locked(path)  # a spilling writer waits, then reopens a fresh file
        try:
            keep = list(_replay_lines(lake, path, _read_all(fd), result))
            _rewrite_or_remove(path, keep)
        finally:
            os.close(fd)
        result.files_done += not keep
    return result


def _read_all(fd: int) -> list[bytes]:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0).splitlines() if size else []


def _replay_lines(
    lake: Appends, path: Path, lines: list[bytes], result: ReplayResult
) -> Iterator[bytes]:
    """Replay one file's lines; yield those that must stay in the dead-letter area (every
    line that was not appended, whatever is wrong with it)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            _replay_one(lake, line)
            result.replayed += 1
        except Exception as exc:  # one bad line never stops a replay
            result.failed += 1
            result.errors.append(f"{path.name} line {number}: {_why(exc)}")
            yield line


def _replay_one(lake: Appends, line: bytes) -> None:
    entry = orjson.loads(line)
    if not isinstance(entry, dict):
        raise LakeError(f"not a JSON object (a {type(entry).__name__}); kept as it is")
    if not entry.get("replayable", True):
        raise LakeError(f"record {entry.get('record_id')!r} was invalid ({entry.get('reason')}); "
                        "mend it in the file and set replayable to true")
    for key in ("table", "record", "record_id"):
        if key not in entry:
            raise LakeError(f"no {key!r} in the entry; kept as it is")
    lake.append(entry["table"], entry["record"], record_id=entry["record_id"])


def _why(exc: Exception) -> str:
    if isinstance(exc, LakeError):
        return str(exc)
    if isinstance(exc, orjson.JSONDecodeError):
        return f"not valid JSON ({exc})"
    return f"{type(exc).__name__}: {exc}"


def bounded_repr(record: object) -> str:
    """``repr`` of a record that stays short and never recurses without bound (a record
    nested a thousand levels deep, a huge list): for a person to read in the dead-letter
    file."""
    shown = reprlib.Repr()
    shown.maxlevel, shown.maxdict, shown.maxlist, shown.maxstring = 24, 64, 64, 2000
    shown.maxother = 2000
    try:
        return shown.repr(record)
    except Exception as exc:  # an object whose __repr__ raises
        return f"<{type(record).__name__} whose repr failed: {type(exc).__name__}>"


def _rewrite_or_remove(path: Path, keep: list[bytes]) -> None:
    """Durably: a replayed record must not come back after a power cut, nor a kept one go."""
    if keep:
        replace_file(path, b"\n".join(keep) + b"\n")
        return
    path.unlink()
    fsync_path(path.parent)
