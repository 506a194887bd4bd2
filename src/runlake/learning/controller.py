"""``PipelineController``: the object an application holds to run pipelines and jobs.

It builds a ``PipelineRunner`` (or takes one), hands its learning writer down to it, and
exposes ``on_learning_record`` as a settable hook. ``run_job`` is a ``JobService`` runner: it
runs a job's variant and stamps the job id and learning context into the run's metadata,
where StableNew keeps them (``experiment_name``, ``variable_under_test``, ``variant_value``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runlake.errors import InvalidOption
from runlake.learning.backends.base import Backend
from runlake.learning.jobs import LearningJobContext, NormalizedJobRecord
from runlake.learning.records import RandomizerPlan, RecordSink
from runlake.learning.runner import LearningCallback, PipelineRunner, RunResult


class PipelineController:
    """Runs pipelines through one runner.

    >>> controller = PipelineController(backend=OfflineBackend(),              # doctest: +SKIP
    ...                                 learning_writer=LearningRecordWriter(lake))
    >>> controller.on_learning_record = print                                   # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        learning_writer: RecordSink | None = None,
        backend: Backend | None = None,
        runner: PipelineRunner | None = None,
        on_learning_record: LearningCallback | None = None,
        output_dir: str | Path | None = None,
    ) -> None:
        if runner is not None and (backend is not None or output_dir is not None):
            raise InvalidOption("give PipelineController a runner, or a backend (and "
                                "output_dir) to build one, not both")
        self.runner = runner if runner is not None else _build_runner(backend, output_dir)
        if learning_writer is not None:
            self.runner.learning_writer = learning_writer
        if on_learning_record is not None:
            self.runner.on_learning_record = on_learning_record

    @property
    def learning_writer(self) -> RecordSink | None:
        return self.runner.learning_writer

    @property
    def on_learning_record(self) -> LearningCallback | None:
        """Called with each run's LearningRecord; set it to ``None`` to stop."""
        return self.runner.on_learning_record

    @on_learning_record.setter
    def on_learning_record(self, callback: LearningCallback | None) -> None:
        self.runner.on_learning_record = callback

    def run(
        self,
        base_config: Mapping[str, Any],
        variant: Mapping[str, Any] | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        randomizer_plan: RandomizerPlan | None = None,
    ) -> RunResult:
        """Run one variant (see ``PipelineRunner.run``)."""
        return self.runner.run(base_config, variant, metadata=metadata,
                               randomizer_plan=randomizer_plan)

    def run_job(self, job: NormalizedJobRecord) -> RunResult:
        """Run a queued job; the runner for ``JobService``."""
        metadata = {**job.metadata, "job_id": job.job_id,
                    **context_metadata(job.learning_context)}
        return self.runner.run(job.config, job.variant or None, metadata=metadata,
                               randomizer_plan=job.randomizer_plan)


def context_metadata(context: LearningJobContext | None) -> dict[str, Any]:
    """A learning context as run metadata, in StableNew's field names."""
    if context is None:
        return {}
    return {
        "learning_context": context.to_dict(),
        "experiment_name": context.experiment_name,
        "variable_under_test": context.variable_under_test,
        "variant_value": context.variant_value,
    }


def _build_runner(backend: Backend | None, output_dir: str | Path | None) -> PipelineRunner:
    if backend is None:
        raise InvalidOption("PipelineController needs a backend (or a ready runner)")
    return PipelineRunner(backend, output_dir=output_dir)
