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

# Type checkers cannot see names loaded by __getattr__: they read these imports (each an
# explicit re-export, ``X as X``), which tests/test_api.py keeps equal to _LAZY.
if TYPE_CHECKING:
    from runlake.analysis import (
        GridResult as GridResult,
    )
    from runlake.analysis import (
        ReportOptions as ReportOptions,
    )
    from runlake.analysis import (
        ReportProgress as ReportProgress,
    )
    from runlake.analysis import (
        compare as compare,
    )
    from runlake.analysis import (
        join_ratings as join_ratings,
    )
    from runlake.analysis import (
        render_report as render_report,
    )
    from runlake.analysis import (
        write_report as write_report,
    )
    from runlake.append import (
        BufferedWriter as BufferedWriter,
    )
    from runlake.append import (
        IngestReport as IngestReport,
    )
    from runlake.append import (
        LakeOptions as LakeOptions,
    )
    from runlake.append import (
        LakeStatus as LakeStatus,
    )
    from runlake.append import (
        LearningRecordWriter as LearningRecordWriter,
    )
    from runlake.append import (
        RawScan as RawScan,
    )
    from runlake.append import (
        ReplayResult as ReplayResult,
    )
    from runlake.append import (
        StoredRecord as StoredRecord,
    )
    from runlake.append import (
        TableStatus as TableStatus,
    )
    from runlake.append import (
        append_jsonl as append_jsonl,
    )
    from runlake.compaction import (
        CheckResult as CheckResult,
    )
    from runlake.compaction import (
        CompactionProgress as CompactionProgress,
    )
    from runlake.compaction import (
        CompactionResult as CompactionResult,
    )
    from runlake.compaction import (
        OptimizeResult as OptimizeResult,
    )
    from runlake.compaction import (
        TableCheck as TableCheck,
    )
    from runlake.compaction import (
        TableCompaction as TableCompaction,
    )
    from runlake.compaction import (
        TableOptimize as TableOptimize,
    )
    from runlake.compaction import (
        TableVacuum as TableVacuum,
    )
    from runlake.compaction import (
        VacuumResult as VacuumResult,
    )
    from runlake.errors import (
        BackendError as BackendError,
    )
    from runlake.errors import (
        CompactionConflict as CompactionConflict,
    )
    from runlake.errors import (
        CompactionError as CompactionError,
    )
    from runlake.errors import (
        CorruptLine as CorruptLine,
    )
    from runlake.errors import (
        EmptyLake as EmptyLake,
    )
    from runlake.errors import (
        ExportError as ExportError,
    )
    from runlake.errors import (
        ImportFailed as ImportFailed,
    )
    from runlake.errors import (
        InvalidOption as InvalidOption,
    )
    from runlake.errors import (
        InvalidQuery as InvalidQuery,
    )
    from runlake.errors import (
        InvalidRecord as InvalidRecord,
    )
    from runlake.errors import (
        InvalidTableName as InvalidTableName,
    )
    from runlake.errors import (
        LakeError as LakeError,
    )
    from runlake.errors import (
        LockTimeout as LockTimeout,
    )
    from runlake.errors import (
        StorageError as StorageError,
    )
    from runlake.errors import (
        TableDamaged as TableDamaged,
    )
    from runlake.errors import (
        UncompactedTailWarning as UncompactedTailWarning,
    )
    from runlake.errors import (
        UnknownColumn as UnknownColumn,
    )
    from runlake.errors import (
        UnsafeStore as UnsafeStore,
    )
    from runlake.export import (
        ExportOptions as ExportOptions,
    )
    from runlake.export import (
        ExportResult as ExportResult,
    )
    from runlake.export import (
        export_frame as export_frame,
    )
    from runlake.importers import (
        ImportReport as ImportReport,
    )
    from runlake.importers import (
        import_images as import_images,
    )
    from runlake.importers import (
        import_stablenew as import_stablenew,
    )
    from runlake.lake import (
        Lake as Lake,
    )
    from runlake.learning import (
        Backend as Backend,
    )
    from runlake.learning import (
        DemoResult as DemoResult,
    )
    from runlake.learning import (
        Experiment as Experiment,
    )
    from runlake.learning import (
        GenerationResult as GenerationResult,
    )
    from runlake.learning import (
        JobEvent as JobEvent,
    )
    from runlake.learning import (
        JobResult as JobResult,
    )
    from runlake.learning import (
        JobService as JobService,
    )
    from runlake.learning import (
        LearningController as LearningController,
    )
    from runlake.learning import (
        LearningJobContext as LearningJobContext,
    )
    from runlake.learning import (
        LearningRecord as LearningRecord,
    )
    from runlake.learning import (
        NormalizedJobRecord as NormalizedJobRecord,
    )
    from runlake.learning import (
        NumericRange as NumericRange,
    )
    from runlake.learning import (
        OfflineBackend as OfflineBackend,
    )
    from runlake.learning import (
        PipelineController as PipelineController,
    )
    from runlake.learning import (
        PipelineRunner as PipelineRunner,
    )
    from runlake.learning import (
        RandomizerPlan as RandomizerPlan,
    )
    from runlake.learning import (
        RatingRecord as RatingRecord,
    )
    from runlake.learning import (
        RunResult as RunResult,
    )
    from runlake.learning import (
        VariantState as VariantState,
    )
    from runlake.learning import (
        VariantStatus as VariantStatus,
    )
    from runlake.learning import (
        WebUIBackend as WebUIBackend,
    )
    from runlake.learning import (
        plan_sweep as plan_sweep,
    )
    from runlake.learning import (
        run_demo as run_demo,
    )
    from runlake.learning import (
        value_range as value_range,
    )
    from runlake.records import (
        Infotext as Infotext,
    )
    from runlake.records import (
        format_infotext as format_infotext,
    )
    from runlake.records import (
        parse_infotext as parse_infotext,
    )
    from runlake.ship import (
        Shipper as Shipper,
    )
    from runlake.ship import (
        ShipResult as ShipResult,
    )

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
    "TableDamaged": "runlake.errors",
    "UnknownColumn": "runlake.errors",
    "UncompactedTailWarning": "runlake.errors",
    "UnsafeStore": "runlake.errors",
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
    # ship: many hosts -> a shared lake
    "ShipResult": "runlake.ship",
    "Shipper": "runlake.ship",
    # compaction: raw -> Delta tables
    "CheckResult": "runlake.compaction",
    "CompactionProgress": "runlake.compaction",
    "CompactionResult": "runlake.compaction",
    "OptimizeResult": "runlake.compaction",
    "TableCheck": "runlake.compaction",
    "TableCompaction": "runlake.compaction",
    "TableOptimize": "runlake.compaction",
    "TableVacuum": "runlake.compaction",
    "VacuumResult": "runlake.compaction",
    # analysis: fresh reads, compare, grids, report
    "GridResult": "runlake.analysis",
    "ReportOptions": "runlake.analysis",
    "ReportProgress": "runlake.analysis",
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
    # producers: importers (their package loads lazily: an image-reading worker process
    # imports only the readers)
    "ImportReport": "runlake.importers.dedup",
    "import_images": "runlake.importers.images",
    "import_stablenew": "runlake.importers.stablenew",
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
