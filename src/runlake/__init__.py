"""runlake: an append-only data lake for generation-run records.

>>> import runlake                                   # doctest: +SKIP
>>> lake = runlake.Lake()                             # $RUNLAKE_LAKE or ./lake
>>> lake.append("runs", {"model": "sdxl", "steps": 30})
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from runlake.append import LakeOptions
    from runlake.append.deadletter import ReplayResult
    from runlake.append.failsafe import LearningRecordWriter
    from runlake.append.ingest import IngestReport, append_jsonl
    from runlake.append.reader import RawScan, StoredRecord
    from runlake.append.status import LakeStatus, TableStatus
    from runlake.append.writer import BufferedWriter
    from runlake.compaction.maintenance import (
        OptimizeResult,
        TableOptimize,
        TableVacuum,
        VacuumResult,
    )
    from runlake.comparison import compare
    from runlake.export import ExportOptions, ExportResult, export_frame
    from runlake.importers import ImportReport, import_images, import_stablenew
    from runlake.lake import Lake
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
    from runlake.ratings import join_ratings
    from runlake.records import Infotext, format_infotext, parse_infotext
    from runlake.report import render_report, write_report

__version__ = "0.1.0"

# Where each public name lives. They are imported on first use (PEP 562), so a pipeline that
# only records runs loads neither Polars, Delta Lake nor Arrow: `import runlake` takes
# milliseconds instead of half a second. Type checkers read the imports above.
_LAZY: dict[str, str] = {
    "Backend": "runlake.learning",
    "BufferedWriter": "runlake.append",
    "CompactionProgress": "runlake.compaction",
    "CompactionResult": "runlake.compaction",
    "DemoResult": "runlake.learning",
    "Experiment": "runlake.learning",
    "ExportOptions": "runlake.export",
    "ExportResult": "runlake.export",
    "GenerationResult": "runlake.learning",
    "ImportReport": "runlake.importers",
    "Infotext": "runlake.records",
    "IngestReport": "runlake.append",
    "JobEvent": "runlake.learning",
    "JobResult": "runlake.learning",
    "JobService": "runlake.learning",
    "Lake": "runlake.lake",
    "LakeOptions": "runlake.append",
    "LakeStatus": "runlake.append",
    "LearningController": "runlake.learning",
    "LearningJobContext": "runlake.learning",
    "LearningRecord": "runlake.learning",
    "LearningRecordWriter": "runlake.append",
    "NormalizedJobRecord": "runlake.learning",
    "NumericRange": "runlake.learning",
    "OfflineBackend": "runlake.learning",
    "OptimizeResult": "runlake.compaction",
    "PipelineController": "runlake.learning",
    "PipelineRunner": "runlake.learning",
    "RandomizerPlan": "runlake.learning",
    "RatingRecord": "runlake.learning",
    "RawScan": "runlake.append",
    "ReplayResult": "runlake.append",
    "RunResult": "runlake.learning",
    "StoredRecord": "runlake.append",
    "TableCompaction": "runlake.compaction",
    "TableOptimize": "runlake.compaction",
    "TableStatus": "runlake.append",
    "TableVacuum": "runlake.compaction",
    "VacuumResult": "runlake.compaction",
    "VariantState": "runlake.learning",
    "VariantStatus": "runlake.learning",
    "WebUIBackend": "runlake.learning",
    "append_jsonl": "runlake.append",
    "compare": "runlake.comparison",
    "export_frame": "runlake.export",
    "format_infotext": "runlake.records",
    "import_images": "runlake.importers",
    "import_stablenew": "runlake.importers",
    "join_ratings": "runlake.ratings",
    "parse_infotext": "runlake.records",
    "plan_sweep": "runlake.learning",
    "render_report": "runlake.report",
    "run_demo": "runlake.learning",
    "value_range": "runlake.learning",
    "write_report": "runlake.report",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runlake' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

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
