"""StableNew's other records -> run records: job-history entries of every schema version,
queue jobs, image metadata dumps and review sidecars.

Schema versions of a history entry (StableNew ``src/history/history_schema_v26.py``,
``src/migrations/queue_history_migrator_v26.py detect_history_schema``), and where the knobs are:

====================  =======================================  ====================================
version               marker                                   knobs
====================  =======================================  ====================================
2.6                   ``history_schema`` + ``njr_snapshot``    ``njr_snapshot.normalized_job``: its
                                                               ``config`` and its own ``steps``,
                                                               ``cfg_scale``, ``base_model``, ...
job snapshot 1.0      ``normalized_job`` (``build_job_snapshot``)  ``normalized_job``, as above
2.6-precanonical      ``normalized_record_snapshot``           ``normalized_record_snapshot.config``
2.4                   ``config`` or ``prompts``                ``config``, ``prompts``
2.0                   ``pipeline_config``                      ``pipeline_config`` (``model_name``)
legacy                none of these                            the entry itself, best effort
====================  =======================================  ====================================

Every one becomes a :class:`~runlake.learning.LearningRecord` (its config as
``base_config``, the job's status, duration, learning context and outputs in metadata), so
it compacts like any run; the original entry is kept as JSON text
(``metadata.source_entry``). A placeholder in them (the job record's ``steps: 0``) stays raw
there and is null in the table. A review sidecar with a person's rating is also a rating.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from runlake.learning.records import LearningRecord, RatingRecord, primary_knobs
from runlake.records import utc_now_text

HISTORY_KIND = "stablenew_job_history"
QUEUE_KIND = "stablenew_queue_job"
IMAGE_DUMP_KIND = "stablenew_image_metadata"
REVIEW_KIND = "review_tab_feedback"
# NormalizedJobRecord's own knob fields -> the names compaction reads (src/pipeline/
# job_models_v2.py); their defaults (0, 0.0, "") are placeholders.
_NJR_KNOBS = {"base_model": "model", "sampler_name": "sampler_name", "scheduler": "scheduler",
              "steps": "steps", "cfg_scale": "cfg_scale", "width": "width", "height": "height",
              "clip_skip": "clip_skip", "seed": "seed", "positive_prompt": "prompt",
              "negative_prompt": "negative_prompt", "vae": "vae"}
_TIMES = ("timestamp", "created_at", "recorded_at", "completed_at", "started_at")
# A stage manifest's config is the A1111 request (sd_model: the checkpoint title).
_MANIFEST_NAMES = {"sd_model": "model"}


def is_learning_record(document: Mapping[str, Any]) -> bool:
    """True for one of StableNew's learning records (``LearningRecord`` as a dict): its two
    required fields, ``run_id`` and ``timestamp``, or one of its own config fields."""
    return ("run_id" in document and "timestamp" in document) or any(
        k in document for k in ("base_config", "variant_configs", "primary_model"))


def kind_of(document: Mapping[str, Any]) -> str | None:
    """Which of these shapes ``document`` is (None: a learning record or unknown)."""
    if isinstance(document.get("stablenew_review"), dict):
        return REVIEW_KIND
    if isinstance(document.get("payload"), dict) and ("kv" in document or "status" in document):
        return IMAGE_DUMP_KIND
    if any(k in document for k in ("base_config", "variant_configs", "primary_model")):
        return None  # a LearningRecord
    if "config_snapshot" in document and "job_id" in document:
        return QUEUE_KIND
    markers = ("history_schema", "njr_snapshot", "normalized_record_snapshot",
               "pipeline_config", "execution_metadata", "prompts", "normalized_job")
    if any(k in document for k in markers) or ("config" in document and "run_id" not in
                                              document):
        return HISTORY_KIND
    return None


def history_run(entry: Mapping[str, Any], fallback_id: str) -> LearningRecord:
    """A job-history entry (any schema version) as a run record; its run id is the job's
    id (``fallback_id`` if it has none)."""
    version, job = _history_job(entry)
    config = _config(job, entry)
    runtime = _dict(entry.get("runtime"))
    execution = _dict(entry.get("execution_metadata"))
    duration = _first(runtime.get("duration_seconds"), execution.get("duration_seconds"),
                      entry.get("duration_seconds"))
    metadata = {
        "record_kind": HISTORY_KIND, "history_schema": version,
        "job_id": _first(entry.get("id"), entry.get("job_id"), entry.get("jobId"),
                         job.get("job_id")),
        "status": _first(entry.get("status"), entry.get("job_status"), job.get("status")),
        "duration_s": duration, "learning_context": job.get("learning_context"),
        "source_entry": _text(entry),
    }
    outputs = job.get("output_paths") or entry.get("output_paths") or entry.get("outputs")
    return _run(str(metadata["job_id"] or fallback_id), _time(entry, runtime, execution),
                config, metadata, outputs=_outputs(outputs), stages=_stages(job))


def queue_run(job: Mapping[str, Any], fallback_id: str) -> LearningRecord:
    """A queue job (``Job.to_dict()``) as a run record."""
    snapshot = _dict(job.get("snapshot"))
    config = _config(snapshot, {"config": job.get("config_snapshot")})
    metadata = {"record_kind": QUEUE_KIND, "job_id": job.get("job_id"),
                "status": job.get("status"), "error": job.get("error_message"),
                "duration_s": _seconds(job.get("started_at"), job.get("completed_at")),
                "learning_context": snapshot.get("learning_context"),
                "run_mode": job.get("run_mode"), "source": job.get("source"),
                "source_entry": _text(job)}
    return _run(str(job.get("job_id") or fallback_id), _time(job), config, metadata,
                outputs=_outputs(snapshot.get("output_paths")), stages=_stages(snapshot))


def image_dump_run(dump: Mapping[str, Any], fallback_id: str) -> LearningRecord:
    """A ``<image>.png.meta.json`` diagnostics dump: the job, run, stage, seed and image it
    belongs to; since 2026 also the knobs (``payload.generation``, else the stage
    manifest's A1111 request). The config is flat, whatever the stage (``adetailer``,
    ``upscale``): compaction reads knobs from the flat config or a txt2img/img2img one."""
    payload = _dict(dump.get("payload"))
    image = _dict(payload.get("image"))
    seeds = _dict(payload.get("seeds"))
    manifest = _dict(payload.get("stage_manifest"))
    stage = payload.get("stage") if isinstance(payload.get("stage"), str) else None
    request = {_MANIFEST_NAMES.get(k, k): v for k, v in _dict(manifest.get("config")).items()}
    config = {**request, **_dict(payload.get("generation")),
              "seed": _first(seeds.get("actual_seed"), seeds.get("final_seed"),
                             request.get("seed")),
              "width": image.get("width"), "height": image.get("height")}
    metadata = {"record_kind": IMAGE_DUMP_KIND, "job_id": payload.get("job_id"),
                "stablenew_run_id": payload.get("run_id"), "stage": stage,
                "image_path": image.get("path") or dump.get("path"),
                "requested_seed": seeds.get("requested_seed"),
                "config_hash": manifest.get("config_hash"), "source_entry": _text(dump)}
    timestamp = manifest.get("timestamp") if isinstance(manifest.get("timestamp"), str) else None
    run_id = _first(payload.get("run_id"), payload.get("job_id"), fallback_id)
    return _run(str(run_id), timestamp or utc_now_text(), {"stage": stage, **config},
                metadata, outputs=_outputs([metadata["image_path"]]),
                stages=[stage] if stage else [])


def review_run(sidecar: Mapping[str, Any], fallback_id: str) -> LearningRecord:
    """A review sidecar (``<image>.review.json``) as a feedback record, like the ones
    StableNew writes to its learning records."""
    review = dict(_dict(sidecar.get("stablenew_review")))
    review.setdefault("record_kind", REVIEW_KIND)
    config = {"prompt": _first(review.get("prompt_after"), review.get("prompt_before")),
              "steps": review.get("steps"), "cfg_scale": review.get("cfg_scale")}
    timestamp = review.get("review_timestamp")
    run_id = _first(review.get("run_id"), review.get("review_record_id"), fallback_id)
    return _run(str(run_id), timestamp if isinstance(timestamp, str) else utc_now_text(),
                {"stage": "review", **config}, review, outputs=[], stages=[])


def review_rating(sidecar: Mapping[str, Any], run_id: str) -> RatingRecord | None:
    """The person's rating in a review sidecar, if it holds one."""
    review = _dict(sidecar.get("stablenew_review"))
    score = review.get("user_rating")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(
            score):
        return None
    stamp = review.get("review_timestamp")
    return RatingRecord(
        run_id=str(review.get("run_id") or run_id),
        image_path=review.get("image_path") if isinstance(review.get("image_path"), str)
        else None,
        rating=float(score), timestamp=stamp if isinstance(stamp, str) else utc_now_text(),
        source=f"stablenew:{REVIEW_KIND}:sidecar",
        subscores=_dict(review.get("subscores")),
        notes=review.get("user_notes") or None)


# -- helpers --------------------------------------------------------------------------------


def _history_job(entry: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The schema version and the job record holding the knobs."""
    if "njr_snapshot" in entry:
        snapshot = _dict(entry["njr_snapshot"])
        return str(entry.get("history_schema") or "2.6"), _dict(
            snapshot.get("normalized_job", snapshot))
    if "normalized_record_snapshot" in entry:
        return "2.6-precanonical", _dict(entry["normalized_record_snapshot"])
    if isinstance(entry.get("normalized_job"), dict):  # a job snapshot (build_job_snapshot)
        return f"snapshot-{entry.get('schema_version') or '1.0'}", entry["normalized_job"]
    if isinstance(entry.get("config"), dict) or isinstance(entry.get("prompts"), dict):
        return "2.4", {"config": entry.get("config"), "prompts": entry.get("prompts")}
    if isinstance(entry.get("pipeline_config"), dict):
        return "2.0", {"config": entry["pipeline_config"]}
    # Before any schema: the knobs, if any, sit at the top with everything else.
    return "legacy", {"config": {k: v for k, v in entry.items()
                                 if isinstance(v, (str, int, float)) and k not in _TIMES}}


def _config(job: Mapping[str, Any], fallback: Mapping[str, Any]) -> dict[str, Any]:
    """The job's config (flat or stage-keyed) with its own knob fields filling the gaps and
    its prompts in the generation stage."""
    config = dict(_dict(job.get("config")) or _dict(fallback.get("config")))
    own = {name: job[key] for key, name in _NJR_KNOBS.items()
           if job.get(key) not in (None, "")}
    prompts = _dict(job.get("prompts"))
    own.update({k: v for k, v in (("prompt", prompts.get("positive")),
                                  ("negative_prompt", prompts.get("negative"))) if v})
    stage = next((s for s in ("txt2img", "img2img") if isinstance(config.get(s), dict)), None)
    if stage is None:
        return {**own, **config}
    config[stage] = {**own, **config[stage]}
    return config


def _run(run_id: str, timestamp: str, config: dict[str, Any], metadata: dict[str, Any], *,
         outputs: list[dict[str, Any]], stages: list[str]) -> LearningRecord:
    stage = next((config[s] for s in ("txt2img", "img2img") if isinstance(config.get(s), dict)),
                 config)
    knobs = primary_knobs(stage)
    return LearningRecord(
        run_id=run_id, timestamp=timestamp,
        base_config=config, primary_model=knobs["model"], primary_sampler=knobs["sampler"],
        primary_scheduler=knobs["scheduler"], primary_steps=knobs["steps"],
        primary_cfg_scale=knobs["cfg_scale"],
        metadata={k: v for k, v in metadata.items() if v is not None},
        stage_plan=stages, outputs=outputs)


def _stages(job: Mapping[str, Any]) -> list[str]:
    chain = job.get("stage_chain")
    found = []
    for stage in chain if isinstance(chain, list) else []:
        name = _first(*(stage.get(k) for k in ("stage_type", "stage", "name"))) if isinstance(
            stage, dict) else stage
        if isinstance(name, str):
            found.append(name)
    return found


def _outputs(paths: Any) -> list[dict[str, Any]]:
    items = paths if isinstance(paths, list) else []
    return [{"path": p} if isinstance(p, str) else dict(p) for p in items
            if isinstance(p, (str, dict)) and p]


def _time(entry: Mapping[str, Any], *more: Mapping[str, Any]) -> str:
    for source in (entry, *more):
        for key in (*_TIMES, "start_time"):
            if isinstance(source.get(key), str) and source[key]:
                return str(source[key])
    return utc_now_text()


def _seconds(start: Any, end: Any) -> float | None:
    try:
        began = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        ended = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return None
    try:
        return (ended - began).total_seconds()
    except TypeError:  # one naive, one aware
        return None


def _first(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "")), None)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Mapping[str, Any]) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()

