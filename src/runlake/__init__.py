"""runlake: an append-only data lake for generation-run records.

>>> import runlake                                   # doctest: +SKIP
>>> lake = runlake.Lake()                             # $RUNLAKE_LAKE or ./lake
>>> lake.append("runs", {"model": "sdxl", "steps": 30})
"""

from __future__ import annotations

from runlake.deadletter import ReplayResult
from runlake.errors import (
    CorruptLine,
    InvalidOption,
    InvalidRecord,
    InvalidTableName,
    LakeError,
    LockTimeout,
    StorageError,
)
from runlake.failsafe import LearningRecordWriter
from runlake.ingest import IngestReport, append_jsonl
from runlake.lake import Lake, LakeOptions
from runlake.reader import RawScan, StoredRecord
from runlake.status import LakeStatus, TableStatus
from runlake.writer import BufferedWriter

__version__ = "0.1.0"

__all__ = [
    "BufferedWriter",
    "CorruptLine",
    "IngestReport",
    "InvalidOption",
    "InvalidRecord",
    "InvalidTableName",
    "Lake",
    "LakeError",
    "LakeOptions",
    "LakeStatus",
    "LearningRecordWriter",
    "LockTimeout",
    "RawScan",
    "ReplayResult",
    "StorageError",
    "StoredRecord",
    "TableStatus",
    "append_jsonl",
]
