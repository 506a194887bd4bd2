"""Learning hooks: record what actually ran for every run and experiment variant.

Records (``LearningRecord``, ``RatingRecord``), the stage pipeline (``PipelineRunner``,
``PipelineController``), the job queue (``JobService``) with its learning context, learning
experiments (``LearningController``), sweep planning and the backends. See docs/learning.md.
"""

from __future__ import annotations

from runlake.learning.backends import Backend, GenerationResult, OfflineBackend, WebUIBackend
from runlake.learning.controller import PipelineController
from runlake.learning.demo import DemoResult, KnobSummary, run_demo
from runlake.learning.experiments import (
    Experiment,
    LearningController,
    VariantState,
    VariantStatus,
)
from runlake.learning.jobs import (
    JobEvent,
    JobResult,
    JobService,
    LearningJobContext,
    NormalizedJobRecord,
)
from runlake.learning.records import LearningRecord, RandomizerPlan, RatingRecord, RecordSink
from runlake.learning.runner import PipelineRunner, RunResult, StageRun
from runlake.learning.sweep import NumericRange, plan_sweep, value_range

__all__ = [
    "Backend",
    "DemoResult",
    "Experiment",
    "GenerationResult",
    "JobEvent",
    "JobResult",
    "JobService",
    "KnobSummary",
    "LearningController",
    "LearningJobContext",
    "LearningRecord",
    "NormalizedJobRecord",
    "NumericRange",
    "OfflineBackend",
    "PipelineController",
    "PipelineRunner",
    "RandomizerPlan",
    "RatingRecord",
    "RecordSink",
    "RunResult",
    "StageRun",
    "VariantState",
    "VariantStatus",
    "WebUIBackend",
    "plan_sweep",
    "run_demo",
    "value_range",
]
