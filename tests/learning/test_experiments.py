"""LearningController: plans, status moves, completion routing, ratings."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import runlake
from runlake import (
    Experiment,
    JobResult,
    JobService,
    LearningController,
    LearningJobContext,
    NormalizedJobRecord,
    OfflineBackend,
    PipelineController,
    VariantStatus,
)
from runlake.learning.backends import GenerationResult
from runlake.learning.configs import Stage

BASE: dict[str, Any] = {"txt2img": {"model": "sdxl.safetensors", "prompt": "a fox",
                                    "steps": 20, "seed": 3}}


class Statuses:
    """Start/completion handler that notes the experiment's statuses at each step."""

    def __init__(self, learning: LearningController, experiment_id: str) -> None:
        self.learning = learning
        self.experiment_id = experiment_id
        self.seen: list[tuple[str, ...]] = []

    def __call__(self, *args: object) -> None:
        self.seen.append(tuple(v.status.value
                               for v in self.learning.variants(self.experiment_id)))


class DownBackend:
    name = "down"

    def current_model(self) -> str | None:
        return None

    def generate(self, stage: Stage, config: Mapping[str, Any], *,
                 init_image: bytes | None = None) -> GenerationResult:
        raise runlake.BackendError("GET http://webui: connection refused")


def setup(tmp_path: Path | None = None) -> tuple[JobService, LearningController, Experiment]:
    controller = PipelineController(backend=OfflineBackend(), output_dir=tmp_path)
    service = JobService(controller.run_job)
    learning = LearningController(service)
    experiment = Experiment("CFG sweep", "cfg_scale", (5.0, 7.0, 9.0), BASE,
                            experiment_id="exp-1")
    learning.plan(experiment)
    return service, learning, experiment


def completion(job_id: str, *, status: str = "completed", images: int = 1) -> JobResult:
    outputs = tuple({"path": f"/out/{job_id}-{i}.png", "sha256": "ab"} for i in range(images))
    return JobResult(job_id, status, 1.0, f"run-{job_id}", outputs,  # type: ignore[arg-type]
                     error=None if status == "completed" else "boom")


def job_for(experiment_id: str, index: int, job_id: str = "j") -> NormalizedJobRecord:
    context = LearningJobContext(experiment_id, "CFG sweep", index, "cfg_scale", 5.0)
    return NormalizedJobRecord(BASE, learning_context=context, job_id=job_id)


def test_variants_move_pending_queued_running_completed(tmp_path: Path) -> None:
    service, learning, experiment = setup(tmp_path)
    assert [v.status for v in learning.variants("exp-1")] == [VariantStatus.PENDING] * 3
    jobs = learning.submit("exp-1")
    assert [v.status for v in learning.variants("exp-1")] == [VariantStatus.QUEUED] * 3
    assert [job.variant for job in jobs] == [{"txt2img": {"cfg_scale": v}}
                                             for v in experiment.values]
    statuses = Statuses(learning, "exp-1")
    service.register_start_handler(statuses)
    service.register_completion_handler(statuses)
    service.run_pending()
    # The controller registered first, so each snapshot already shows the new state.
    assert statuses.seen == [
        ("running", "queued", "queued"), ("completed", "queued", "queued"),
        ("completed", "running", "queued"), ("completed", "completed", "queued"),
        ("completed", "completed", "running"), ("completed", "completed", "completed")]
    for variant in learning.variants("exp-1"):
        (image,) = variant.images
        assert Path(image).is_file() and variant.run_ids and variant.job_id


def test_jobs_carry_the_learning_context_and_plan() -> None:
    _, learning, _ = setup()
    jobs = learning.submit("exp-1")
    assert [job.learning_context for job in jobs] == [
        LearningJobContext("exp-1", "CFG sweep", index, "cfg_scale", value)
        for index, value in enumerate((5.0, 7.0, 9.0))]
    assert all(job.randomizer_plan == runlake.RandomizerPlan("learning_experiment", 3)
               for job in jobs)
    assert learning.submit("exp-1") == ()  # nothing pending any more


def test_completions_of_other_experiments_are_ignored() -> None:
    _, learning, _ = setup()
    learning.handle_completion(job_for("exp-2", 0), completion("j"))
    learning.handle_completion(job_for("exp-1", 3), completion("j"))  # no variant 3
    learning.handle_completion(job_for("exp-1", -1), completion("j"))
    learning.handle_completion(NormalizedJobRecord(BASE), completion("j"))  # no context
    assert [v.status for v in learning.variants("exp-1")] == [VariantStatus.PENDING] * 3
    assert all(v.images == () for v in learning.variants("exp-1"))


def test_a_routed_completion_lands_on_its_variant_only() -> None:
    _, learning, _ = setup()
    learning.handle_completion(job_for("exp-1", 1), completion("j", images=2))
    first, second, third = learning.variants("exp-1")
    assert second.status is VariantStatus.COMPLETED
    assert second.images == ("/out/j-0.png", "/out/j-1.png")
    assert first.status is third.status is VariantStatus.PENDING


def test_a_failure_marks_the_variant_failed() -> None:
    _, learning, _ = setup()
    learning.handle_completion(job_for("exp-1", 2), completion("j", status="failed"))
    variant = learning.variants("exp-1")[2]
    assert variant.status is VariantStatus.FAILED and variant.error == "boom"


def test_a_repeated_completion_does_not_double_count() -> None:
    _, learning, _ = setup()
    job = job_for("exp-1", 0)
    for _ in range(3):
        learning.handle_completion(job, completion("j", images=2))
    variant = learning.variants("exp-1")[0]
    assert len(variant.images) == 2 and variant.run_ids == ("run-j",)
    learning.handle_completion(job_for("exp-1", 0, "k"), completion("k", images=1))
    assert len(learning.variants("exp-1")[0].images) == 3  # a second job does count


def test_a_late_failure_does_not_undo_a_completion() -> None:
    _, learning, _ = setup()
    learning.handle_completion(job_for("exp-1", 0, "a"), completion("a"))
    learning.handle_completion(job_for("exp-1", 0, "b"), completion("b", status="failed"))
    assert learning.variants("exp-1")[0].status is VariantStatus.COMPLETED


def test_a_failing_job_fails_its_variant_through_the_service() -> None:
    service = JobService(PipelineController(backend=DownBackend()).run_job)
    learning = LearningController(service)
    learning.plan(Experiment("x", "steps", (10,), BASE, experiment_id="e"))
    learning.submit("e")
    (result,) = service.run_pending()
    assert result.status == "failed" and "BackendError" in (result.error or "")
    (variant,) = learning.variants("e")
    assert variant.status is VariantStatus.FAILED and variant.error == result.error


def test_ratings_are_linked_by_run_and_image(lake: runlake.Lake, tmp_path: Path) -> None:
    controller = PipelineController(backend=OfflineBackend(), output_dir=tmp_path)
    service = JobService(controller.run_job)
    learning = LearningController(service,
                                  ratings=runlake.LearningRecordWriter(lake, "ratings"))
    learning.plan(Experiment("CFG sweep", "cfg_scale", [5.0, 7.0], BASE,
                             experiment_id="exp-1"))
    learning.submit("exp-1")
    results = service.run_pending()
    path = results[1].outputs[0]["path"]
    learning.rate(results[1].run_id or "", path, 4, subscores={"anatomy": 5}, notes="sharp")
    learning.rate("run-elsewhere", None, 2.5)
    first, second = (stored.record for stored in lake.read_raw("ratings"))
    assert (first["run_id"], first["image_path"], first["rating"]) == (
        results[1].run_id, path, 4.0)
    assert (first["experiment_id"], first["variant_index"], first["variant_value"],
            first["variable_under_test"]) == ("exp-1", 1, 7.0, "cfg_scale")
    assert first["subscores"] == {"anatomy": 5} and first["notes"] == "sharp"
    assert second["experiment_id"] is None and second["rating"] == 2.5


@pytest.mark.parametrize("rating", [float("nan"), True, "4"])
def test_bad_ratings_are_refused(rating: Any) -> None:
    service = JobService(lambda job: None)  # type: ignore[arg-type,return-value]
    learning = LearningController(service, ratings=runlake.LearningRecordWriter("unused"))
    with pytest.raises(runlake.InvalidOption):
        learning.rate("r", None, rating)


def test_planning_errors() -> None:
    _, learning, experiment = setup()
    with pytest.raises(runlake.InvalidOption):
        learning.plan(experiment)
    with pytest.raises(runlake.InvalidOption):
        learning.variants("nope")
    with pytest.raises(runlake.InvalidOption):
        Experiment("x", "steps", ())
    with pytest.raises(runlake.InvalidOption):
        Experiment("x", "steps", (10, 20, 10))
    with pytest.raises(runlake.InvalidOption):
        learning.rate("r", None, 3)  # no ratings sink


def test_close_stops_listening() -> None:
    service, learning, _ = setup()
    learning.submit("exp-1")
    learning.close()
    service.run_pending()
    assert [v.status for v in learning.variants("exp-1")] == [VariantStatus.QUEUED] * 3


# -- StableNew's own objects (PR-LEARN-003, as its controller and job service ship them) ---


class JobStatus(str, Enum):  # src/queue/job_model.py: a str Enum
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class StableNewContext:  # src/learning/learning_contracts.py LearningJobContext
    experiment_id: str
    experiment_name: str
    variant_index: int
    variable_under_test: str
    variant_value: Any


@dataclass
class StableNewNJR:  # the normalized job record: the learning context lives here
    job_id: str
    learning_context: StableNewContext | None = None


@dataclass
class StableNewJob:  # the queue's Job: no learning context of its own
    job_id: str
    snapshot: StableNewNJR | dict[str, Any] | None = None
    error_message: str | None = None


def stablenew_job(index: int, job_id: str = "sn-1", *, experiment: str = "exp-1"
                  ) -> StableNewJob:
    context = StableNewContext(experiment, "CFG sweep", index, "CFG Scale", 7.0)
    return StableNewJob(job_id, StableNewNJR(job_id, context))


def test_stablenew_objects_complete_their_variant() -> None:
    _, learning, _ = setup()
    learning.on_job_completed_callback(stablenew_job(1),
                                       {"success": True, "status": JobStatus.COMPLETED})
    assert learning.variants("exp-1")[1].status is VariantStatus.COMPLETED
    learning.on_job_completed_callback(
        stablenew_job(2, "sn-2"), {"success": False, "status": JobStatus.FAILED,
                                   "error": "CUDA out of memory"})
    failed = learning.variants("exp-1")[2]
    assert failed.status is VariantStatus.FAILED and failed.error == "CUDA out of memory"
    learning.on_job_completed_callback(stablenew_job(0, "sn-3"),
                                       {"success": False, "status": JobStatus.CANCELLED})
    assert learning.variants("exp-1")[0].status is VariantStatus.FAILED


@pytest.mark.parametrize(("result", "status", "error"), [
    ({"success": True}, VariantStatus.COMPLETED, None),  # no status: success decides
    ({"success": False, "error": "boom"}, VariantStatus.FAILED, "boom"),
    ({"error": "lost the worker"}, VariantStatus.FAILED, "lost the worker"),
    (SimpleNamespace(success=True, run_id="r-9", outputs=[{"path": "/o/9.png"}]),
     VariantStatus.COMPLETED, None),
    (SimpleNamespace(success=False, error="timeout"), VariantStatus.FAILED, "timeout"),
    (SimpleNamespace(status="running?", success=False, error=None), VariantStatus.FAILED,
     "the job reported no success"),
    ({"status": "Completed"}, VariantStatus.COMPLETED, None),
])
def test_results_without_a_status_are_judged_by_success_and_error(
        result: object, status: VariantStatus, error: str | None) -> None:
    _, learning, _ = setup()
    learning.on_job_completed_callback(stablenew_job(1), result)
    variant = learning.variants("exp-1")[1]
    assert (variant.status, variant.error) == (status, error)


@pytest.mark.parametrize("job", [
    StableNewJob("a", {"learning_context": {"experiment_id": "exp-1", "variant_index": 2}}),
    {"job_id": "b", "learning_context": {"experiment_id": "exp-1", "variant_index": 2,
                                         "experiment_name": "CFG sweep"}},
    SimpleNamespace(job_id="c", learning_context=LearningJobContext(
        "exp-1", "CFG sweep", 2, "cfg_scale", 9.0)),
    SimpleNamespace(job_id="d", normalized_job={"learning_context": StableNewContext(
        "exp-1", "CFG sweep", 2, "cfg_scale", 9.0)}),
    stablenew_job(2, experiment="CFG sweep"),  # StableNew compares the experiment's name
])
def test_the_learning_context_is_read_from_any_object_that_has_one(job: object) -> None:
    _, learning, _ = setup()
    learning.on_job_completed_callback(job, {"success": True, "run_id": "r"})
    assert learning.variants("exp-1")[2].status is VariantStatus.COMPLETED
    assert learning.variants("exp-1")[2].run_ids == ("r",)


def test_jobs_without_a_usable_context_are_ignored() -> None:
    _, learning, _ = setup()
    for job in (StableNewJob("x"), StableNewJob("y", StableNewNJR("y")), object(), None,
                {"learning_context": {"experiment_id": "exp-1", "variant_index": "2"}},
                stablenew_job(7), stablenew_job(1, experiment="other")):
        learning.on_job_completed_callback(job, {"success": True})
    assert {v.status for v in learning.variants("exp-1")} == {VariantStatus.PENDING}


def test_a_stablenew_style_service_isolates_and_repeats(tmp_path: Path) -> None:
    # StableNew's JobService._notify_completion: every handler in try/except, and the same
    # job may be reported twice (a retry of the notification).
    _, learning, _ = setup()
    handlers = [lambda job, result: 1 / 0, learning.on_job_completed_callback]
    job = stablenew_job(0)
    result = {"success": True, "status": JobStatus.COMPLETED, "run_id": "r-1",
              "outputs": [{"path": "/o/1.png"}]}
    for _ in range(2):
        for handler in handlers:
            with contextlib.suppress(Exception):  # what its _notify_completion does
                handler(job, result)
    variant = learning.variants("exp-1")[0]
    assert variant.status is VariantStatus.COMPLETED and variant.images == ("/o/1.png",)


def test_a_completion_without_a_job_id_is_recognised_by_its_run_id() -> None:
    _, learning, _ = setup()
    job = {"learning_context": {"experiment_id": "exp-1", "variant_index": 0}}
    for _ in range(2):  # the same completion, sent twice as two objects
        learning.handle_completion(dict(job), {"success": True, "run_id": "r-1",
                                               "outputs": [{"path": "/o/1.png"}]})
    assert learning.variants("exp-1")[0].images == ("/o/1.png",)
    learning.handle_completion(dict(job), {"success": True, "run_id": "r-2",
                                           "outputs": [{"path": "/o/2.png"}]})
    for _ in range(2):  # naming neither job nor run: each one counts
        learning.handle_completion(dict(job), {"success": True,
                                               "outputs": [{"path": "/o/3.png"}]})
    assert learning.variants("exp-1")[0].images == ("/o/1.png", "/o/2.png", "/o/3.png",
                                                    "/o/3.png")
