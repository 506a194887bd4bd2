"""The table's raw-removal log: which raw segments raw retention removed, and at what size.

``vacuum`` appends one line per segment *before* unlinking it (fsynced), to
``tables/<table>/_runlake/raw_removed.jsonl`` (Delta ignores ``_`` names). Once a segment is
gone the table is the only copy of its records, so ``check`` can tell a segment removed by
retention from one that vanished, and ``rebuild`` can say which records it cannot rebuild.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import orjson

from runlake.records import utc_now_text
from runlake.storage import LakePaths, fsync_path, storage_errors

LOG_NAME = "raw_removed.jsonl"


def log_removals(paths: LakePaths, table: str, removed: Sequence[tuple[str, int]]) -> None:
    """Record that the segments ``removed`` (key, size) are about to be removed; durable
    when this returns."""
    target = paths.table_lock(table).with_name(LOG_NAME)
    now = utc_now_text()
    lines = b"".join(orjson.dumps({"segment": key, "size": size, "removed_at": now},
                                  option=orjson.OPT_APPEND_NEWLINE) for key, size in removed)
    with storage_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, lines)
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_path(target.parent)


def read_removals(paths: LakePaths, table: str) -> dict[str, int]:
    """Every segment raw retention removed from ``table``, with its size then (a torn last
    line, from a vacuum killed while logging, is ignored: its segment was not removed)."""
    target = paths.table_lock(table).with_name(LOG_NAME)
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        return {}
    found = {}
    for line in data.split(b"\n"):
        try:
            doc = orjson.loads(line)
            found[str(doc["segment"])] = int(doc["size"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
    return found
