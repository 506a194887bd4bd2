"""Jobs: what a queue runs, the learning context that routes a job's completion back to the
experiment that asked for it, and ``JobService``, which runs queued jobs and tells handlers.

Every lifecycle step (queued, running, completed, failed, cancelled) is written to the
``jobs`` table as a ``JobEvent`` when the service has an ``events`` sink. A runner that raises
fails its job, never the service; a handler that raises is logged and the others still run.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from runlake.errors import InvalidOption
from runlake.learning.records import RandomizerPlan, RecordSink
from runlake.records import new_id, utc_now_text

log = logging.getLogger("runlake.learning")

JobStatus = Literal["queued", "running", "completed", "failed", "cancelled"]


@dataclass(frozen=True)
class LearningJobContext:
    """Which experiment and variant a job runs for; set on jobs a LearningController queues."""

    experiment_id: str
    experiment_name: str
    variant_index: int
    variable_under_test: str
    variant_value: Any

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class NormalizedJobRecord:
    """One job: a base config (stage -> config) and the variant laid over it."""

    config: Mapping[str, Any]
    variant: Mapping[str, Any] = field(default_factory=dict)
    learning_context: LearningJobContext | None = None
    randomizer_plan: RandomizerPlan | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    job_id: str = field(default_factory=new_id)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class RunOutput(Protocol):
    """What a job runner returns (``PipelineRunner.run``'s ``RunResult`` is one)."""

    @property
    def run_id(self) -> str: ...

    @property
    def outputs(self) -> Sequence[Mapping[str, Any]]: ...


JobRunner = Callable[[NormalizedJobRecord], RunOutput]


@dataclass(frozen=True)
class JobResult:
    """How a job ended. ``duration_s`` is the job's wall time in this service."""

    job_id: str
    status: JobStatus
    duration_s: float | None = None
    run_id: str | None = None
    outputs: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class JobEvent:
    """One line of the ``jobs`` table."""

    job_id: str
    event: JobStatus
    timestamp: str
    duration_s: float | None = None
    error: str | None = None
    run_id: str | None = None
    learning_context: dict[str, Any] | None = None


CompletionHandler = Callable[[NormalizedJobRecord, JobResult], object]
StartHandler = Callable[[NormalizedJobRecord], object]
H = TypeVar("H", bound=Callable[..., object])


class _Handlers(Generic[H]):
    """A thread-safe list of handlers without duplicates, each called in isolation."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: list[H] = []
        self._lock = threading.Lock()

    def add(self, handler: H) -> None:
        with self._lock:
            if handler not in self._items:  # == so a bound method registers once
                self._items.append(handler)

    def remove(self, handler: H) -> None:
        with self._lock:
            if handler in self._items:
                self._items.remove(handler)

    def call(self, job: NormalizedJobRecord, *args: object) -> None:
        with self._lock:
            handlers = list(self._items)  # a handler may (un)register others
        for handler in handlers:
            try:
                handler(job, *args)
            except Exception:  # one broken handler must not starve the rest
                log.exception("runlake: %s handler %r raised for job %s", self.kind, handler,
                              job.job_id)


class JobService:
    """Runs queued jobs one at a time through ``runner`` (``PipelineController.run_job``).

    >>> service = JobService(controller.run_job, events=LearningRecordWriter(lake, "jobs"))
    ... # doctest: +SKIP
    >>> service.submit(NormalizedJobRecord({"txt2img": {"prompt": "a fox"}}))  # doctest: +SKIP
    >>> service.run_pending()                                           # doctest: +SKIP
    """

    def __init__(self, runner: JobRunner, *, events: RecordSink | None = None) -> None:
        self.runner = runner
        self.events = events
        self._queue: deque[NormalizedJobRecord] = deque()
        self._queue_lock = threading.Lock()
        self._on_completion: _Handlers[CompletionHandler] = _Handlers("completion")
        self._on_start: _Handlers[StartHandler] = _Handlers("start")

    def register_completion_handler(self, handler: CompletionHandler) -> None:
        """Call ``handler(job, result)`` after every job; registering twice keeps one."""
        self._on_completion.add(handler)

    def unregister_completion_handler(self, handler: CompletionHandler) -> None:
        self._on_completion.remove(handler)

    def register_start_handler(self, handler: StartHandler) -> None:
        """Call ``handler(job)`` when a job starts running; registering twice keeps one."""
        self._on_start.add(handler)

    def unregister_start_handler(self, handler: StartHandler) -> None:
        self._on_start.remove(handler)

    @property
    def pending(self) -> tuple[NormalizedJobRecord, ...]:
        with self._queue_lock:
            return tuple(self._queue)

    def submit(self, job: NormalizedJobRecord) -> None:
        """Queue ``job``; a job id already in the queue is refused."""
        with self._queue_lock:
            if any(queued.job_id == job.job_id for queued in self._queue):
                raise InvalidOption(f"job {job.job_id!r} is already queued")
            self._queue.append(job)
        self._event(job, "queued")

    def cancel(self, job_id: str) -> bool:
        """Take a queued job off the queue; its handlers hear ``cancelled``. False if absent."""
        with self._queue_lock:
            job = next((queued for queued in self._queue if queued.job_id == job_id), None)
            if job is None:
                return False
            self._queue.remove(job)
        self._finish(job, JobResult(job_id, "cancelled", error="cancelled before it ran"))
        return True

    def run_next(self) -> JobResult | None:
        """Run the oldest queued job; ``None`` if the queue is empty."""
        with self._queue_lock:
            if not self._queue:
                return None
            job = self._queue.popleft()
        self._event(job, "running")
        self._on_start.call(job)
        result = self._run(job)
        self._finish(job, result)
        return result

    def run_pending(self) -> list[JobResult]:
        """Run queued jobs until the queue is empty (jobs queued meanwhile included)."""
        results = []
        while (result := self.run_next()) is not None:
            results.append(result)
        return results

    def _run(self, job: NormalizedJobRecord) -> JobResult:
        started = time.perf_counter()
        try:
            output = self.runner(job)
        except Exception as exc:  # a failing job is a result, not the service's failure
            return JobResult(job.job_id, "failed", _elapsed(started),
                             error=f"{type(exc).__name__}: {exc}")
        return JobResult(job.job_id, "completed", _elapsed(started), output.run_id,
                         tuple(output.outputs))

    def _finish(self, job: NormalizedJobRecord, result: JobResult) -> None:
        self._event(job, result.status, duration_s=result.duration_s, error=result.error,
                    run_id=result.run_id)
        self._on_completion.call(job, result)

    def _event(self, job: NormalizedJobRecord, status: JobStatus, **details: Any) -> None:
        if self.events is None:
            return
        context = job.learning_context.to_dict() if job.learning_context else None
        event = JobEvent(job.job_id, status, utc_now_text(), learning_context=context,
                         **details)
        try:
            self.events.write(event)
        except Exception:  # the events table is a record of the queue, not a part of it
            log.warning("runlake: could not record job event %s for job %s", status, job.job_id,
                        exc_info=True)


def _elapsed(started: float) -> float:
    return round(time.perf_counter() - started, 6)
