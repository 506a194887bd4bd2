"""JobService: lifecycle events in the jobs table, completion handlers in isolation."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

import runlake
from runlake import (
    JobResult,
    JobService,
    LearningJobContext,
    NormalizedJobRecord,
    OfflineBackend,
    PipelineController,
)

CONFIG = {"txt2img": {"prompt": "a fox", "steps": 20, "seed": 1}}
CONTEXT = LearningJobContext("exp-1", "CFG sweep", 0, "cfg_scale", 5.0)


@dataclass(frozen=True)
class Output:
    run_id: str
    outputs: Sequence[Mapping[str, Any]] = field(default_factory=list)


def failing_runner(job: NormalizedJobRecord) -> Output:
    raise runlake.BackendError("connection refused")


def events(lake: runlake.Lake) -> list[dict[str, Any]]:
    return [stored.record for stored in lake.read_raw("jobs")]


def test_a_job_runs_and_its_lifecycle_lands_in_the_jobs_table(lake: runlake.Lake) -> None:
    controller = PipelineController(backend=OfflineBackend())
    service = JobService(controller.run_job, events=runlake.LearningRecordWriter(lake, "jobs"))
    job = NormalizedJobRecord(CONFIG, learning_context=CONTEXT)
    service.submit(job)
    (result,) = service.run_pending()
    assert result.status == "completed" and result.run_id and len(result.outputs) == 1
    recorded = events(lake)
    assert [e["event"] for e in recorded] == ["queued", "running", "completed"]
    assert {e["job_id"] for e in recorded} == {job.job_id}
    assert all(e["learning_context"] == CONTEXT.to_dict() for e in recorded)
    assert recorded[-1]["run_id"] == result.run_id
    assert recorded[-1]["duration_s"] == result.duration_s >= 0
    assert recorded[0]["duration_s"] is None


def test_a_failing_runner_fails_the_job_not_the_service(lake: runlake.Lake) -> None:
    service = JobService(failing_runner, events=runlake.LearningRecordWriter(lake, "jobs"))
    for _ in range(2):
        service.submit(NormalizedJobRecord(CONFIG))
    results = service.run_pending()
    assert [r.status for r in results] == ["failed", "failed"]
    assert results[0].error == "BackendError: connection refused"
    failed = [e for e in events(lake) if e["event"] == "failed"]
    assert len(failed) == 2 and failed[0]["error"] == "BackendError: connection refused"


def test_handlers_hear_every_job_with_its_result() -> None:
    heard: list[tuple[str, str]] = []
    service = JobService(lambda job: Output(f"run-{job.job_id}"))
    service.register_completion_handler(lambda job, result: heard.append(
        (job.job_id, result.status)))
    jobs = [NormalizedJobRecord(CONFIG) for _ in range(3)]
    for job in jobs:
        service.submit(job)
    service.run_pending()
    assert heard == [(job.job_id, "completed") for job in jobs]


def test_a_raising_handler_does_not_stop_the_next_one_nor_the_service(
        caplog: pytest.LogCaptureFixture) -> None:
    heard: list[str] = []

    def broken(job: NormalizedJobRecord, result: JobResult) -> None:
        raise KeyError("bug in a handler")

    service = JobService(lambda job: Output("r"))
    service.register_completion_handler(broken)
    service.register_completion_handler(lambda job, result: heard.append(job.job_id))
    first, second = NormalizedJobRecord(CONFIG), NormalizedJobRecord(CONFIG)
    service.submit(first)
    service.submit(second)
    with caplog.at_level(logging.ERROR, logger="runlake.learning"):
        results = service.run_pending()
    assert [r.status for r in results] == ["completed", "completed"]
    assert heard == [first.job_id, second.job_id]
    assert len(caplog.records) == 2 and "bug in a handler" in caplog.text


def test_registering_twice_calls_once_and_unregister_stops_calls() -> None:
    calls: list[str] = []

    class Listener:
        def on_done(self, job: NormalizedJobRecord, result: JobResult) -> None:
            calls.append(job.job_id)

    listener = Listener()
    service = JobService(lambda job: Output("r"))
    service.register_completion_handler(listener.on_done)
    service.register_completion_handler(listener.on_done)  # a new bound method, equal
    service.submit(NormalizedJobRecord(CONFIG))
    service.run_pending()
    assert len(calls) == 1
    service.unregister_completion_handler(listener.on_done)
    service.unregister_completion_handler(listener.on_done)  # absent: no error
    service.submit(NormalizedJobRecord(CONFIG))
    service.run_pending()
    assert len(calls) == 1


def test_start_handlers_run_before_the_job() -> None:
    order: list[str] = []
    service = JobService(lambda job: order.append("run") or Output("r"))
    service.register_start_handler(lambda job: order.append("start"))
    service.register_completion_handler(lambda job, result: order.append("done"))
    service.submit(NormalizedJobRecord(CONFIG))
    service.run_pending()
    assert order == ["start", "run", "done"]


def test_cancel_takes_a_queued_job_off(lake: runlake.Lake) -> None:
    heard: list[JobResult] = []
    service = JobService(lambda job: Output("r"),
                         events=runlake.LearningRecordWriter(lake, "jobs"))
    service.register_completion_handler(lambda job, result: heard.append(result))
    kept, dropped = NormalizedJobRecord(CONFIG), NormalizedJobRecord(CONFIG)
    service.submit(kept)
    service.submit(dropped)
    assert service.cancel(dropped.job_id) is True
    assert service.cancel(dropped.job_id) is False
    assert service.pending == (kept,)
    assert [r.job_id for r in service.run_pending()] == [kept.job_id]
    assert [(r.job_id, r.status) for r in heard] == [(dropped.job_id, "cancelled"),
                                                    (kept.job_id, "completed")]
    cancelled = [e for e in events(lake) if e["job_id"] == dropped.job_id]
    assert [e["event"] for e in cancelled] == ["queued", "cancelled"]


def test_a_job_id_is_queued_once() -> None:
    service = JobService(lambda job: Output("r"))
    job = NormalizedJobRecord(CONFIG, job_id="job-1")
    service.submit(job)
    with pytest.raises(runlake.InvalidOption, match="job-1"):
        service.submit(job)


def test_an_events_sink_that_raises_is_logged_not_raised(
        caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def write(self, record: object) -> str | None:
            raise OSError("read-only file system")

    service = JobService(lambda job: Output("r"), events=Broken())
    service.submit(NormalizedJobRecord(CONFIG))
    with caplog.at_level(logging.WARNING, logger="runlake.learning"):
        (result,) = service.run_pending()
    assert result.status == "completed"
    assert "could not record job event" in caplog.text


def test_context_and_job_to_dict() -> None:
    job = NormalizedJobRecord(CONFIG, {"txt2img": {"cfg_scale": 5.0}}, learning_context=CONTEXT,
                              job_id="j")
    assert CONTEXT.to_dict() == {"experiment_id": "exp-1", "experiment_name": "CFG sweep",
                                 "variant_index": 0, "variable_under_test": "cfg_scale",
                                 "variant_value": 5.0}
    assert job.to_dict()["learning_context"] == CONTEXT.to_dict()
    assert job.to_dict()["job_id"] == "j"
    with pytest.raises(AttributeError):
        CONTEXT.variant_index = 1  # type: ignore[misc]
