"""Learning hooks: record what actually ran for every run and experiment variant.

Modules, in the order a run goes through them:

- ``configs``: stage configs: a variant merged over a base, the stage plan.
- ``sweep``: ``plan_sweep`` (a grid over any knobs), ``value_range`` / ``NumericRange``.
- ``experiments``: ``Experiment``, ``LearningController`` (variants, ratings).
- ``jobs``: ``JobService``, the job queue with its learning context and job events.
- ``completion``: a job's completion read from any job and result objects (duck-typed, for a
  pipeline's own queue: StableNew's PR-LEARN-003 contract).
- ``controller``: ``PipelineController``, which runs a job through a runner.
- ``runner``: ``PipelineRunner``: txt2img, then img2img / upscale; one record per run.
- ``backends``: ``Backend``, ``OfflineBackend`` (deterministic PNGs), ``WebUIBackend``.
- ``records``: ``LearningRecord``, ``RatingRecord``, ``RandomizerPlan``, ``RecordSink``.
- ``demo``: ``run_demo``, the demo sweep as a library function.

Producers in front of the raw zone: they write through a ``RecordSink`` (usually the failsafe
``runlake.LearningRecordWriter``). Imports ``runlake.append``, ``runlake.records``,
``runlake.storage`` and Pillow; what it needs of a lake it names with Protocols
(``RecordSink``, ``runlake.append.Recorder``). Recording a run loads no Polars, Arrow or
Delta Lake. See docs/learning.md.
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
