"""Import StableNew's records into the ``runs`` and ``ratings`` tables: its learning records,
its job history (every schema version), queue jobs, image metadata dumps and review sidecars.

A path is a JSON Lines file (one record per line), a file holding one pretty-printed JSON
document (one document is one record; a queue state's ``jobs`` are one record each), or a
folder of such files (``*.jsonl`` and ``*.json``, recursively).

A learning record goes to ``runs`` unchanged (the raw zone keeps originals; normalization
happens in compaction). One whose ``metadata.record_kind`` names a rating or feedback kind
(it ends in ``_rating`` or ``_feedback``, such as ``learning_experiment_rating`` and
``review_tab_feedback``) and that has a numeric ``metadata.user_rating`` also becomes a
``RatingRecord`` in ``ratings``, linked by its run id and image path. Other kinds that carry
a score (``staged_curation_event``'s decision score) are not a person's rating of an image
and stay in ``runs`` only. The other shapes become run records
(:mod:`runlake.importers.stablenew_jobs`); a review sidecar's rating also a rating. A JSON
object of none of these shapes (StableNew's data folders hold caches, prompt packs and
presets too) is rejected as not a StableNew record, never stored as an empty run.

Record ids are derived from each record's content (keys sorted, so formatting does not
matter): importing the same file again appends nothing. Every line or document that yields
no record is in the report with its reason.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeGuard

import orjson

from runlake.errors import ImportFailed, InvalidRecord
from runlake.importers import stablenew_jobs as jobs
from runlake.importers.dedup import ImportReport, ImportTarget, OnceWriter, derived_id
from runlake.learning.records import LearningRecord, RatingRecord
from runlake.records import RATINGS_TABLE, RUNS_TABLE, utc_now_text

RATING_KIND_SUFFIXES = ("_rating", "_feedback")
SOURCE = "stablenew"
_CONVERTERS = {jobs.HISTORY_KIND: jobs.history_run, jobs.QUEUE_KIND: jobs.queue_run,
               jobs.IMAGE_DUMP_KIND: jobs.image_dump_run, jobs.REVIEW_KIND: jobs.review_run}

Parsed = tuple[str, dict[str, Any] | None, str | None]  # (where, record, why it has none)


def import_stablenew(lake: ImportTarget, path: str | os.PathLike[str]) -> ImportReport:
    """Append the records of a StableNew file or folder; see the module.

    >>> import_stablenew(lake, "learning_records.jsonl").appended   # doctest: +SKIP
    {'runs': 7, 'ratings': 5}
    """
    source = Path(path)
    files = _files(source)
    report = ImportReport(str(source))
    with OnceWriter(lake, RUNS_TABLE) as runs, OnceWriter(lake, RATINGS_TABLE) as ratings:
        for file in files:
            prefix = "" if file == source else f"{file.relative_to(source)} "
            for where, record, reason in _records(file):
                if record is None:
                    report.reject(prefix + where, reason or "not a record")
                else:
                    _import(record, prefix + where, runs, ratings, report)
    report.appended = {RUNS_TABLE: runs.appended, RATINGS_TABLE: ratings.appended}
    return report


def _import(record: dict[str, Any], where: str, runs: OnceWriter, ratings: OnceWriter,
            report: ImportReport) -> None:
    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    own_id = record.get("record_id")
    record_id = own_id if isinstance(own_id, str) and own_id else derived_id(
        f"{SOURCE}/{RUNS_TABLE}", canonical)
    kind = jobs.kind_of(record)
    if kind is None and not jobs.is_learning_record(record):
        # StableNew's data folders also hold caches, packs and presets: not runs
        report.reject(where, f"not a StableNew record (keys: {_keys(record)})")
        return
    try:
        run: dict[str, Any] | LearningRecord = record if kind is None else _CONVERTERS[kind](
            record, record_id)
        appended = runs.write(run, record_id)
        rating = rating_of(record) if kind is None else jobs.review_rating(record, record_id) \
            if kind == jobs.REVIEW_KIND else None
        if rating is not None:  # deduplicated on its own, like the run
            ratings.write(rating, derived_id(f"{SOURCE}/{RATINGS_TABLE}", canonical))
    except InvalidRecord as exc:
        report.reject(where, str(exc))
        return
    report.already_present += not appended


def _keys(record: Mapping[str, Any], limit: int = 6) -> str:
    names = sorted(map(str, record))
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def _files(source: Path) -> list[Path]:
    if source.is_dir():
        found = [Path(folder) / name for folder, _, names in os.walk(source) for name in names
                 if name.lower().endswith((".jsonl", ".json"))]
        return sorted(found)
    if not source.is_file():
        raise ImportFailed(f"cannot read StableNew log {source}: no such file or folder")
    return [source]


def _records(file: Path) -> Iterator[Parsed]:
    """Each record of a file: a whole JSON document, else one per line."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read StableNew log {file}: {exc.strerror or exc}") from exc
    document = _document(data)
    if document is not None:
        yield from document
        return
    for number, line in enumerate(data.splitlines(), 1):
        if line.strip():
            yield _line(line, f"line {number}")


def _document(data: bytes) -> list[Parsed] | None:
    """The records of a file holding one JSON document; None if it is JSON Lines. A file
    whose first line is not a whole JSON value is a document even when it is broken: one
    reason for it, not one per line."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        first = data.lstrip().split(b"\n", 1)[0]
        if _whole(first):
            return None
        return [("document", None, f"not valid JSON ({exc})")]
    if isinstance(value, dict) and isinstance(value.get("jobs"), list):  # a queue state
        return [_value(job, f"jobs[{i}]") for i, job in enumerate(value["jobs"])]
    if isinstance(value, list):
        return [_value(item, f"[{i}]") for i, item in enumerate(value)]
    return [_value(value, "document")]


def _whole(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _line(line: bytes, where: str) -> Parsed:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return where, None, f"not valid JSON ({exc})"
    return _value(value, where)


def _value(value: Any, where: str) -> Parsed:
    if isinstance(value, dict):
        return where, value, None
    return where, None, "not a JSON object"


def rating_of(record: dict[str, Any]) -> RatingRecord | None:
    """The rating a StableNew record holds, if it is a rating or feedback record (see the
    module); ``None`` otherwise, or when it has no run id to link to."""
    metadata = record.get("metadata")
    if not isinstance(metadata, dict):
        return None
    kind, score, run_id = metadata.get("record_kind"), metadata.get("user_rating"), \
        record.get("run_id")
    if not (isinstance(kind, str) and kind.endswith(RATING_KIND_SUFFIXES)):
        return None
    if not _is_score(score) or not isinstance(run_id, str) or not run_id:
        return None
    return RatingRecord(
        run_id=run_id,
        image_path=_text(metadata.get("image_path")),
        rating=float(score),
        timestamp=_text(record.get("timestamp")) or utc_now_text(),
        source=f"{SOURCE}:{kind}",
        experiment_id=_text(_dict(metadata.get("learning_context")).get("experiment_id")),
        experiment_name=_text(metadata.get("experiment_name")),
        variable_under_test=_text(metadata.get("variable_under_test")),
        variant_value=metadata.get("variant_value"),
        subscores=_dict(metadata.get("subscores")),
        notes=_text(metadata.get("user_notes")),
    )


def _is_score(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
