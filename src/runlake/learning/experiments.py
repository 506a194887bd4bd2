"""Learning experiments: one knob, several values, one variant per value.

``LearningController`` turns an ``Experiment`` into a plan of variants, queues one job per
variant on a ``JobService`` (each job carries a ``LearningJobContext``), and follows every
variant through pending -> queued -> running -> completed | failed as the service reports.
Completions are routed by the job's context (experiment id -- or name, as StableNew compares
it -- and variant index): jobs of other experiments, or without a context, are ignored, and a
completion heard twice (the same job id, else run id) does not count its images twice. Jobs
and results are duck-typed (:mod:`runlake.learning.completion`): a pipeline's own objects
work, through
``handle_completion`` or PR-LEARN-003's ``on_job_completed_callback``. Ratings go to the
``ratings`` table, linked by run id and image path.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from runlake.errors import InvalidOption
from runlake.learning.completion import Completion, completion_of, context_of
from runlake.learning.jobs import JobService, LearningJobContext, NormalizedJobRecord
from runlake.learning.records import RandomizerPlan, RatingRecord, RecordSink
from runlake.learning.sweep import knob_override
from runlake.records import new_id, utc_now_text

EXPERIMENT_MODE = "learning_experiment"


class VariantStatus(str, Enum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class Experiment:
    """Vary ``variable_under_test`` (a config key of ``stage``, or ``"<stage>.<key>"``)
    over ``values``, everything else as in ``base_config`` (stage -> config)."""

    name: str
    variable_under_test: str
    values: tuple[Any, ...]
    base_config: Mapping[str, Any] = field(default_factory=dict)
    stage: str = "txt2img"
    experiment_id: str = field(default_factory=new_id)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))  # a list is fine to pass in
        if not self.values:
            raise InvalidOption(f"experiment {self.name!r} has no values to test")
        if any(self.values.count(value) > 1 for value in self.values):
            raise InvalidOption(f"experiment {self.name!r} lists a value twice: "
                                f"{list(self.values)!r}")


@dataclass(frozen=True)
class VariantState:
    """Where one variant is. ``images`` are output paths (``sha256:<hex>`` when unsaved)."""

    index: int
    value: Any
    status: VariantStatus = VariantStatus.PENDING
    job_id: str | None = None
    run_ids: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    error: str | None = None
    jobs_done: frozenset[str] = frozenset()


class LearningController:
    """Plans, queues and follows experiments on ``jobs``; writes ratings to ``ratings``.

    >>> learning = LearningController(service, ratings=LearningRecordWriter(lake, "ratings"))
    ... # doctest: +SKIP
    >>> learning.plan(Experiment("CFG sweep", "cfg_scale", (5.0, 7.0), base))  # doctest: +SKIP
    """

    def __init__(self, jobs: JobService, *, ratings: RecordSink | None = None) -> None:
        self.jobs = jobs
        self.ratings = ratings
        self._experiments: dict[str, Experiment] = {}
        self._variants: dict[str, list[VariantState]] = {}
        self._runs: dict[str, tuple[str, int]] = {}  # run id -> (experiment id, index)
        self._lock = threading.Lock()
        jobs.register_start_handler(self.handle_start)
        jobs.register_completion_handler(self.handle_completion)

    def close(self) -> None:
        """Stop listening to the job service."""
        self.jobs.unregister_start_handler(self.handle_start)
        self.jobs.unregister_completion_handler(self.handle_completion)

    def plan(self, experiment: Experiment) -> tuple[VariantState, ...]:
        """Register ``experiment``: one pending variant per value, in order."""
        with self._lock:
            if experiment.experiment_id in self._experiments:
                raise InvalidOption(f"experiment {experiment.experiment_id!r} is already planned")
            self._experiments[experiment.experiment_id] = experiment
            self._variants[experiment.experiment_id] = [
                VariantState(index, value) for index, value in enumerate(experiment.values)]
        return self.variants(experiment.experiment_id)

    def submit(self, experiment_id: str) -> tuple[NormalizedJobRecord, ...]:
        """Queue a job for every pending variant of a planned experiment."""
        experiment = self._experiment(experiment_id)
        submitted = []
        for variant in self.variants(experiment_id):
            if variant.status is not VariantStatus.PENDING:
                continue
            job = _job(experiment, variant)
            self._update(experiment_id, variant.index, status=VariantStatus.QUEUED,
                         job_id=job.job_id)
            self.jobs.submit(job)
            submitted.append(job)
        return tuple(submitted)

    def variants(self, experiment_id: str) -> tuple[VariantState, ...]:
        self._experiment(experiment_id)
        with self._lock:
            return tuple(self._variants[experiment_id])

    def handle_start(self, job: object) -> None:
        """Start handler for the job service: the variant is running."""
        target = self._route(context_of(job))
        if target is not None:
            self._update(*target, status=VariantStatus.RUNNING)

    def handle_completion(self, job: object, result: object) -> None:
        """Completion handler for the job service (see the module's routing rules): ``job``
        and ``result`` are runlake's own or any objects or mappings with their fields."""
        done = completion_of(job, result)
        target = self._route(done.context)
        if target is None:
            return
        with self._lock:
            variant = self._variants[target[0]][target[1]]
            key = _heard_as(done)
            if key in variant.jobs_done:
                return  # heard before: its images are already counted
            self._variants[target[0]][target[1]] = _completed(variant, done, key)
            if done.run_id is not None and done.status == "completed":
                self._runs[done.run_id] = target

    def on_job_completed_callback(self, job: object, result: object) -> None:
        """PR-LEARN-003's name for :meth:`handle_completion` (what StableNew calls)."""
        self.handle_completion(job, result)

    def rate(
        self,
        run_id: str,
        image_path: str | None,
        rating: float,
        *,
        subscores: Mapping[str, Any] | None = None,
        notes: str | None = None,
        source: str = "learning_controller",
    ) -> RatingRecord:
        """Append a rating of one image of run ``run_id`` to the ratings sink and return it;
        a run of a planned experiment gets the experiment and variant fields."""
        if self.ratings is None:
            raise InvalidOption("this LearningController has no ratings sink to write to")
        if isinstance(rating, bool) or not isinstance(rating, (int, float)) \
                or not math.isfinite(rating):
            raise InvalidOption(f"a rating must be a finite number, got {rating!r}")
        record = RatingRecord(run_id, image_path, float(rating), utc_now_text(), source,
                              subscores=dict(subscores or {}), notes=notes,
                              **self._experiment_fields(run_id))
        self.ratings.write(record)
        return record

    def _experiment_fields(self, run_id: str) -> dict[str, Any]:
        with self._lock:
            target = self._runs.get(run_id)
            if target is None:
                return {}
            experiment = self._experiments[target[0]]
            variant = self._variants[target[0]][target[1]]
        return {"experiment_id": experiment.experiment_id, "experiment_name": experiment.name,
                "variant_index": variant.index,
                "variable_under_test": experiment.variable_under_test,
                "variant_value": variant.value}

    def _route(self, context: LearningJobContext | None) -> tuple[str, int] | None:
        if context is None:
            return None
        with self._lock:
            experiment_id = context.experiment_id
            if experiment_id not in self._variants:  # StableNew compares experiment names
                experiment_id = next((e.experiment_id for e in self._experiments.values()
                                      if e.name == context.experiment_id), experiment_id)
            variants = self._variants.get(experiment_id)
            if variants is None or not 0 <= context.variant_index < len(variants):
                return None
        return experiment_id, context.variant_index

    def _update(self, experiment_id: str, index: int, **changes: Any) -> None:
        with self._lock:
            variants = self._variants[experiment_id]
            variants[index] = dataclasses.replace(variants[index], **changes)

    def _experiment(self, experiment_id: str) -> Experiment:
        with self._lock:
            experiment = self._experiments.get(experiment_id)
        if experiment is None:
            raise InvalidOption(f"no experiment {experiment_id!r} is planned")
        return experiment


def _job(experiment: Experiment, variant: VariantState) -> NormalizedJobRecord:
    context = LearningJobContext(experiment.experiment_id, experiment.name, variant.index,
                                 experiment.variable_under_test, variant.value)
    return NormalizedJobRecord(
        experiment.base_config,
        knob_override(experiment.variable_under_test, variant.value, stage=experiment.stage),
        learning_context=context,
        randomizer_plan=RandomizerPlan(EXPERIMENT_MODE, len(experiment.values)),
    )


def _completed(variant: VariantState, done: Completion, key: str) -> VariantState:
    jobs_done = variant.jobs_done | {key}
    if done.status != "completed":
        if variant.status is VariantStatus.COMPLETED:  # a late failure of a retried job
            return dataclasses.replace(variant, jobs_done=jobs_done)
        return dataclasses.replace(variant, status=VariantStatus.FAILED, error=done.error,
                                   jobs_done=jobs_done)
    images = tuple(_image_ref(output) for output in done.outputs)
    run_ids = variant.run_ids + ((done.run_id,) if done.run_id else ())
    return dataclasses.replace(variant, status=VariantStatus.COMPLETED, error=None,
                               images=variant.images + images, run_ids=run_ids,
                               jobs_done=jobs_done)


def _image_ref(output: Mapping[str, Any]) -> str:
    path = output.get("path")
    return str(path) if path else f"sha256:{output.get('sha256')}"


def _heard_as(done: Completion) -> str:
    """What recognises a completion heard again: its job id, else its run id. One naming
    neither cannot be recognised (an object's address can be reused, and the same completion
    may come as two objects), so each one counts."""
    if done.job_id:
        return done.job_id
    if done.run_id:
        return f"run:{done.run_id}"
    return f"unnamed:{new_id()}"
