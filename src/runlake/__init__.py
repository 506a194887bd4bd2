"""runlake: an append-only data lake for generation-run records.

>>> import runlake                                   # doctest: +SKIP
>>> lake = runlake.Lake()                             # $RUNLAKE_LAKE or ./lake
>>> lake.append("runs", {"model": "sdxl", "steps": 30})
"""

from __future__ import annotations

from runlake.compact import CompactionProgress, CompactionResult, TableCompaction
from runlake.compare import compare
from runlake.deadletter import ReplayResult
from runlake.errors import (
    BackendError,
    CompactionConflict,
    CompactionError,
    CorruptLine,
    EmptyLake,
    ExportError,
    ImportFailed,
    InvalidOption,
    InvalidQuery,
    InvalidRecord,
    InvalidTableName,
    LakeError,
    LockTimeout,
    StorageError,
    UnknownColumn,
)
from runlake.export import ExportOptions, ExportResult, export_frame
from runlake.failsafe import LearningRecordWriter
from runlake.importers import (
    ImportReport,
    Infotext,
    format_infotext,
    import_images,
    import_stablenew,
    parse_infotext,
)
from runlake.ingest import IngestReport, append_jsonl
from runlake.lake import Lake, LakeOptions
from runlake.learning import (
    Backend,
    DemoResult,
    Experiment,
    GenerationResult,
    JobEvent,
    JobResult,
    JobService,
    LearningController,
    LearningJobContext,
    LearningRecord,
    NormalizedJobRecord,
    NumericRange,
    OfflineBackend,
    PipelineController,
    PipelineRunner,
    RandomizerPlan,
    RatingRecord,
    RunResult,
    VariantState,
    VariantStatus,
    WebUIBackend,
    plan_sweep,
    run_demo,
    value_range,
)
from runlake.maintenance import OptimizeResult, TableOptimize, TableVacuum, VacuumResult
from runlake.ratings import join_ratings
from runlake.reader import RawScan, StoredRecord
from runlake.report import render_report, write_report
from runlake.status import LakeStatus, TableStatus
from runlake.writer import BufferedWriter

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendError",
    "BufferedWriter",
    "CompactionConflict",
    "CompactionError",
    "CompactionProgress",
    "CompactionResult",
    "CorruptLine",
    "DemoResult",
    "EmptyLake",
    "Experiment",
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "GenerationResult",
    "ImportFailed",
    "ImportReport",
    "Infotext",
    "IngestReport",
    "InvalidOption",
    "InvalidQuery",
    "InvalidRecord",
    "InvalidTableName",
    "JobEvent",
    "JobResult",
    "JobService",
    "Lake",
    "LakeError",
    "LakeOptions",
    "LakeStatus",
    "LearningController",
    "LearningJobContext",
    "LearningRecord",
    "LearningRecordWriter",
    "LockTimeout",
    "NormalizedJobRecord",
    "NumericRange",
    "OfflineBackend",
    "OptimizeResult",
    "PipelineController",
    "PipelineRunner",
    "RandomizerPlan",
    "RatingRecord",
    "RawScan",
    "ReplayResult",
    "RunResult",
    "StorageError",
    "StoredRecord",
    "TableCompaction",
    "TableOptimize",
    "TableStatus",
    "TableVacuum",
    "UnknownColumn",
    "VacuumResult",
    "VariantState",
    "VariantStatus",
    "WebUIBackend",
    "append_jsonl",
    "compare",
    "export_frame",
    "format_infotext",
    "import_images",
    "import_stablenew",
    "join_ratings",
    "parse_infotext",
    "plan_sweep",
    "render_report",
    "run_demo",
    "value_range",
    "write_report",
]
