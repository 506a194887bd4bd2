"""runlake: an append-only data lake for generation-run records.

>>> import runlake                                   # doctest: +SKIP
>>> lake = runlake.Lake()                             # $RUNLAKE_LAKE or ./lake
>>> lake.append("runs", {"model": "sdxl", "steps": 30})

The package's folders are the stages of the data's path (``storage``, ``records``,
``append``, ``compaction``, ``analysis``, ``export``; ``learning`` and ``importers`` produce
records, ``cli`` is the command line); ``docs/architecture.md`` draws them. Every public name
is listed once, in ``_LAZY`` below, and loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Type checkers cannot see names loaded by __getattr__: they read these imports, which a test
# keeps equal to _LAZY.
if TYPE_CHECKING:
    from runlake.analysis import compare, join_ratings, render_report, write_report
    from runlake.append import (
        BufferedWriter,
        IngestReport,
        LakeOptions,
        LakeStatus,
        LearningRecordWriter,
        RawScan,
        ReplayResult,
        StoredRecord,
        TableStatus,
        append_jsonl,
    )
    from runlake.compaction import (
        CompactionProgress,
        CompactionResult,
        OptimizeResult,
        TableCompaction,
        TableOptimize,
        TableVacuum,
        VacuumResult,
    )
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
    from runlake.records import Infotext, format_infotext, parse_infotext

__version__ = "0.1.0"

# Every public name and the subpackage (or module) it lives in: the one list. Names are
# imported on first use (PEP 562), so a pipeline that only records runs loads neither Polars,
# Delta Lake nor Arrow: `import runlake` takes milliseconds instead of half a second.
_LAZY: dict[str, str] = {
    # the exceptions (one base, LakeError)
    "BackendError": "runlake.errors",
    "CompactionConflict": "runlake.errors",
    "CompactionError": "runlake.errors",
    "CorruptLine": "runlake.errors",
    "EmptyLake": "runlake.errors",
    "ExportError": "runlake.errors",
    "ImportFailed": "runlake.errors",
    "InvalidOption": "runlake.errors",
    "InvalidQuery": "runlake.errors",
    "InvalidRecord": "runlake.errors",
    "InvalidTableName": "runlake.errors",
    "LakeError": "runlake.errors",
    "LockTimeout": "runlake.errors",
    "StorageError": "runlake.errors",
    "UnknownColumn": "runlake.errors",
    # append: the raw zone
    "BufferedWriter": "runlake.append",
    "IngestReport": "runlake.append",
    "LakeOptions": "runlake.append",
    "LakeStatus": "runlake.append",
    "LearningRecordWriter": "runlake.append",
    "RawScan": "runlake.append",
    "ReplayResult": "runlake.append",
    "StoredRecord": "runlake.append",
    "TableStatus": "runlake.append",
    "append_jsonl": "runlake.append",
    # records: what a record is
    "Infotext": "runlake.records",
    "format_infotext": "runlake.records",
    "parse_infotext": "runlake.records",
    # compaction: raw -> Delta tables
    "CompactionProgress": "runlake.compaction",
    "CompactionResult": "runlake.compaction",
    "OptimizeResult": "runlake.compaction",
    "TableCompaction": "runlake.compaction",
    "TableOptimize": "runlake.compaction",
    "TableVacuum": "runlake.compaction",
    "VacuumResult": "runlake.compaction",
    # analysis: fresh reads, compare, report
    "compare": "runlake.analysis",
    "join_ratings": "runlake.analysis",
    "render_report": "runlake.analysis",
    "write_report": "runlake.analysis",
    # export: LLM-tuning datasets
    "ExportOptions": "runlake.export",
    "ExportResult": "runlake.export",
    "export_frame": "runlake.export",
    # the facade
    "Lake": "runlake.lake",
    # producers: the learning hooks
    "Backend": "runlake.learning",
    "DemoResult": "runlake.learning",
    "Experiment": "runlake.learning",
    "GenerationResult": "runlake.learning",
    "JobEvent": "runlake.learning",
    "JobResult": "runlake.learning",
    "JobService": "runlake.learning",
    "LearningController": "runlake.learning",
    "LearningJobContext": "runlake.learning",
    "LearningRecord": "runlake.learning",
    "NormalizedJobRecord": "runlake.learning",
    "NumericRange": "runlake.learning",
    "OfflineBackend": "runlake.learning",
    "PipelineController": "runlake.learning",
    "PipelineRunner": "runlake.learning",
    "RandomizerPlan": "runlake.learning",
    "RatingRecord": "runlake.learning",
    "RunResult": "runlake.learning",
    "VariantState": "runlake.learning",
    "VariantStatus": "runlake.learning",
    "WebUIBackend": "runlake.learning",
    "plan_sweep": "runlake.learning",
    "run_demo": "runlake.learning",
    "value_range": "runlake.learning",
    # producers: importers
    "ImportReport": "runlake.importers",
    "import_images": "runlake.importers",
    "import_stablenew": "runlake.importers",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runlake' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
