"""Lines compaction could not use, kept with where they came from and why.

One JSON file per line, named by its segment and byte offset::

    quarantine/<table>/date=YYYY-MM-DD/seg-NNNNNN-<offset:012d>.json
    quarantine/<table>/date=YYYY-MM-DD/host=<id>/seg-NNNNNN-<offset:012d>.json   (shared lake)

so a compaction that is killed after quarantining and then retried writes the same entries
again instead of new ones. Each file is written to a fresh temporary name, fsynced and
renamed, so it is never seen half-written, and its directory is fsynced before
``write_entries`` returns: the commit that moves the offsets past a quarantined line (after
which raw retention may remove the line's segment) comes later, so the entry outlives it.
The entry keeps the line's exact bytes (as text, or base64 when the bytes are not UTF-8),
since raw segments may one day be vacuumed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from runlake.compaction.offsets import Reset
from runlake.records import utc_now_text
from runlake.storage import LakePaths, fsync_path, make_dirs, replace_file, storage_errors
from runlake.storage.shared import AnyPaths, SharedPaths


@dataclass(frozen=True)
class QuarantineEntry:
    """A line set aside: its segment key, byte offset, the line itself and the reason."""

    table: str
    segment: str  # date=YYYY-MM-DD/seg-NNNNNN.jsonl
    offset: int
    line: bytes
    reason: str


def entry_name(entry: QuarantineEntry) -> str:
    """The entry's name under its table's quarantine directory."""
    return f"{entry.segment.removesuffix('.jsonl')}-{entry.offset:012d}.json"


def write_entries(paths: AnyPaths, entries: Iterable[QuarantineEntry]) -> int:
    """Write (or rewrite) the entries, durably; return how many."""
    if isinstance(paths, SharedPaths):  # a PUT is atomic and durable when it returns
        count = 0
        for entry in entries:
            paths.quarantine_files(entry.table).replace(entry_name(entry),
                                                        orjson.dumps(_document(entry)))
            count += 1
        return count
    return _write_local(paths, entries)


def _write_local(paths: LakePaths, entries: Iterable[QuarantineEntry]) -> int:
    count = 0
    directories: set[Path] = set()
    for entry in entries:
        target = paths.quarantine / entry.table / entry_name(entry)
        with storage_errors(target):
            directories.update(make_dirs(target.parent))
            replace_file(target, orjson.dumps(_document(entry)), sync_directory=False)
        directories.add(target.parent)
        count += 1
    for directory in sorted(directories, key=lambda d: len(d.parts), reverse=True):
        with storage_errors(directory, doing=f"fsync {directory}"):
            fsync_path(directory)
    return count


def _document(entry: QuarantineEntry) -> dict[str, object]:
    doc: dict[str, object] = {
        "table": entry.table, "segment": entry.segment, "offset": entry.offset,
        "length": len(entry.line), "reason": entry.reason, "quarantined_at": utc_now_text(),
    }
    try:
        doc["line"] = entry.line.decode("utf-8")
    except UnicodeDecodeError:
        doc["line_base64"] = base64.b64encode(entry.line).decode("ascii")
    return doc


def read_entries(paths: AnyPaths, table: str) -> list[QuarantineEntry]:
    """Every quarantined line of ``table``, in segment and offset order."""
    files = paths.quarantine_files(table)
    if not files.exists():
        return []
    found = []
    for entry in files.entries():
        data = files.read(entry.name) if entry.name.endswith(".json") else None
        if data is None:
            continue
        doc = orjson.loads(data)
        line = (doc["line"].encode("utf-8") if "line" in doc
                else base64.b64decode(doc["line_base64"]))
        found.append(QuarantineEntry(doc["table"], doc["segment"], doc["offset"], line,
                                     doc["reason"]))
    return found


RESETS = "_resets"  # quarantine/<table>/_resets/: segments read again from their start


def write_reset(paths: LakePaths, table: str, sequence: int, reset: Reset) -> Path:
    """Record, durably, that compaction ``sequence`` read ``reset``'s segment again from 0
    (named by segment and sequence: a retried run rewrites the same entry)."""
    partition, name = reset.segment.split("/", 1)
    target = (paths.quarantine / table / RESETS / partition
              / f"{name.removesuffix('.jsonl')}-{sequence:08d}.json")
    doc = {"table": table, "segment": reset.segment, "offset": reset.offset,
           "size": reset.size, "reason": reset.reason, "sequence": sequence,
           "detected_at": utc_now_text()}
    with storage_errors(target):
        created = make_dirs(target.parent)
        replace_file(target, orjson.dumps(doc))
        for directory in created:
            fsync_path(directory)
    return target


def read_resets(paths: LakePaths, table: str) -> list[dict[str, Any]]:
    """Every reset recorded for ``table``, oldest compaction first."""
    found = [orjson.loads(p.read_bytes())
             for p in (paths.quarantine / table / RESETS).glob("date=*/*.json")]
    return sorted(found, key=lambda doc: (doc["sequence"], doc["segment"]))
