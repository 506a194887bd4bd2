"""The raw zone: records in, as JSON lines in date-partitioned segments; and read back.

Modules, in the order a record goes through them:

- ``appender``: ``Appender``, a lake's write side (``append``, ``append_many``, ``writer``;
  the durability modes), and ``LakeOptions``.
- ``ingest``: JSON Lines from a file or a pipe, bad lines reported by number.
- ``writer``: ``BufferedWriter``, thread-safe and group-committing.
- ``batching``: serialized lines grouped by partition, one buffer per partition.
- ``segments``: the raw zone's only writer: one locked append of one buffer (rotate, end a
  torn tail, write, fsync, cut back on failure).
- ``failsafe``: ``LearningRecordWriter``, which never raises into a pipeline, and
- ``deadletter``: where it spills what it cannot append, and the replay.
- ``reader``: complete lines of segments and ``read_raw``'s stored records.
- ``status``: what the raw zone holds (``runlake status``).

Owns ``raw/`` and ``deadletter/``. Imports ``runlake.records`` and ``runlake.storage``
(and ``orjson``); what it needs of a lake it names with a Protocol, so it never imports the
facade. Never Polars, Arrow or Delta Lake: a pipeline that only records loads none of them.
"""

from __future__ import annotations

from runlake.append.appender import Appender, LakeOptions
from runlake.append.deadletter import Appends, ReplayResult, replay, spill, spill_files
from runlake.append.failsafe import LearningRecordWriter, Recorder
from runlake.append.ingest import IngestReport, Rejection, append_jsonl
from runlake.append.reader import RawScan, SegmentSlice, StoredRecord, complete_end
from runlake.append.segments import (
    DEFAULT_SEGMENT_BYTES,
    AppendOptions,
    Durability,
    write_watermark,
)
from runlake.append.status import LakeStatus, TableStatus, lake_status
from runlake.append.writer import BufferedWriter

__all__ = [
    "DEFAULT_SEGMENT_BYTES",
    "AppendOptions",
    "Appender",
    "Appends",
    "BufferedWriter",
    "Durability",
    "IngestReport",
    "LakeOptions",
    "LakeStatus",
    "LearningRecordWriter",
    "RawScan",
    "Recorder",
    "Rejection",
    "ReplayResult",
    "SegmentSlice",
    "StoredRecord",
    "TableStatus",
    "append_jsonl",
    "complete_end",
    "lake_status",
    "replay",
    "spill",
    "spill_files",
    "write_watermark",
]
