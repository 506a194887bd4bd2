"""A job's completion as the learning hooks understand it, from whatever objects the queue
hands over: runlake's own ``NormalizedJobRecord`` / ``JobResult``, or a pipeline's own job and
result objects (StableNew's PR-LEARN-003 contract), duck-typed.

StableNew calls ``on_job_completed_callback(job, result)`` with its queue ``Job`` (the
learning context on ``job.snapshot``, its normalized job record) and a result **dict**
(``{"success": True, "status": JobStatus.COMPLETED}``, ``{"success": False, "error": ...}``;
``JobStatus`` a ``str`` Enum). So:

- the learning context is read from the job itself, its ``snapshot``, or its
  ``normalized_job``, as an attribute or a mapping key; the context may be a
  :class:`LearningJobContext`, any object with its fields, or a mapping;
- the result may be an object or a mapping; its ``status`` may be an Enum (its value counts);
  without a usable status, ``success`` and ``error`` decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from runlake.learning.jobs import LearningJobContext

Outcome = Literal["completed", "failed", "cancelled"]
_CONTEXT_HOLDERS = ("snapshot", "normalized_job", "njr", "record")
_COMPLETED = ("completed", "complete", "success", "succeeded", "done", "ok")
_FAILED = ("failed", "failure", "error", "errored")
_CANCELLED = ("cancelled", "canceled", "aborted")


@dataclass(frozen=True)
class Completion:
    """How a job ended, whatever shapes reported it."""

    job_id: str | None
    context: LearningJobContext | None
    status: Outcome
    run_id: str | None = None
    outputs: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None


def completion_of(job: object, result: object) -> Completion:
    """Read a (job, result) pair handed to a completion handler (see the module)."""
    status, error = outcome_of(result)
    job_id = _text(field(job, "job_id")) or _text(field(job, "id")) or _text(
        field(result, "job_id"))
    outputs = field(result, "outputs")
    return Completion(
        job_id=job_id, context=context_of(job), status=status,
        run_id=_text(field(result, "run_id")),
        outputs=tuple(o for o in outputs if isinstance(o, Mapping))
        if isinstance(outputs, Sequence) and not isinstance(outputs, str) else (),
        error=error)


def context_of(job: object) -> LearningJobContext | None:
    """The learning context of a job: on the job, or on its snapshot (StableNew's NJR)."""
    for holder in (job, *(field(job, name) for name in _CONTEXT_HOLDERS)):
        context = _context(field(holder, "learning_context"))
        if context is not None:
            return context
    return None


def outcome_of(result: object) -> tuple[Outcome, str | None]:
    """``completed``, ``failed`` or ``cancelled``, and the error if any: by ``status`` when it
    names one, else by ``success`` / ``error``."""
    error = _text(field(result, "error")) or _text(field(result, "error_message"))
    status = field(result, "status")
    if isinstance(status, Enum):
        status = status.value
    name = status.strip().lower() if isinstance(status, str) else ""
    if name in _COMPLETED:
        return "completed", None
    if name in _FAILED:
        return "failed", error or f"status {status!r}"
    if name in _CANCELLED:
        return "cancelled", error
    success = field(result, "success")
    if success is True or (success is None and not error):
        return "completed", None
    return "failed", error or "the job reported no success"


def field(holder: object, name: str) -> Any:
    """``holder.name`` or ``holder[name]`` (None when it has neither)."""
    if holder is None:
        return None
    if isinstance(holder, Mapping):
        return holder.get(name)
    return getattr(holder, name, None)


def _context(value: object) -> LearningJobContext | None:
    if value is None:
        return None
    if isinstance(value, LearningJobContext):
        return value
    experiment = _text(field(value, "experiment_id")) or _text(field(value, "experiment_name"))
    index = field(value, "variant_index")
    if experiment is None or isinstance(index, bool) or not isinstance(index, int):
        return None
    return LearningJobContext(
        experiment_id=experiment,
        experiment_name=_text(field(value, "experiment_name")) or experiment,
        variant_index=index,
        variable_under_test=_text(field(value, "variable_under_test")) or "",
        variant_value=field(value, "variant_value"))


def _text(value: object) -> str | None:
    if isinstance(value, Enum):
        value = value.value
    return value if isinstance(value, str) and value else None
