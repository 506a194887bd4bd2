"""Import StableNew's ``learning_records.jsonl`` into the ``runs`` and ``ratings`` tables.

Every line is a LearningRecord and goes to ``runs`` unchanged (the raw zone keeps originals;
normalization happens in compaction). A line whose ``metadata.record_kind`` names a rating
or feedback kind (it ends in ``_rating`` or ``_feedback``, such as
``learning_experiment_rating`` and ``review_tab_feedback``) and that has a numeric
``metadata.user_rating`` also becomes a ``RatingRecord`` in ``ratings``, linked by its run id
and image path. Other kinds that carry a score (``staged_curation_event``'s decision score)
are not a person's rating of an image and stay in ``runs`` only.

Record ids are derived from each line's content (keys sorted, so formatting does not
matter): importing the same file again appends nothing.
"""

from __future__ import annotations

import math
import os
from io import BufferedReader
from pathlib import Path
from typing import Any, TypeGuard

import orjson

from runlake.errors import ImportFailed, InvalidRecord
from runlake.importers.dedup import ImportReport, ImportTarget, OnceWriter, derived_id
from runlake.learning.records import RatingRecord
from runlake.records import RATINGS_TABLE, RUNS_TABLE, utc_now_text

RATING_KIND_SUFFIXES = ("_rating", "_feedback")
SOURCE = "stablenew"


def import_stablenew(lake: ImportTarget, path: str | os.PathLike[str]) -> ImportReport:
    """Append the records of a StableNew ``learning_records.jsonl`` file; see the module.

    >>> import_stablenew(lake, "learning_records.jsonl").appended   # doctest: +SKIP
    {'runs': 7, 'ratings': 5}
    """
    source = Path(path)
    report = ImportReport(str(source))
    with _open(source) as stream, OnceWriter(lake, RUNS_TABLE) as runs, \
            OnceWriter(lake, RATINGS_TABLE) as ratings:
        for number, line in enumerate(stream, 1):
            if line.strip():
                _import_line(line, number, runs, ratings, report)
    report.appended = {RUNS_TABLE: runs.appended, RATINGS_TABLE: ratings.appended}
    return report


def _import_line(
    line: bytes, number: int, runs: OnceWriter, ratings: OnceWriter, report: ImportReport
) -> None:
    record = _parse(line, number, report)
    if record is None:
        return
    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    own_id = record.get("record_id")
    record_id = own_id if isinstance(own_id, str) and own_id else derived_id(
        f"{SOURCE}/{RUNS_TABLE}", canonical)
    try:
        appended = runs.write(record, record_id)
        rating = rating_of(record)
        if rating is not None:  # deduplicated on its own, like the run
            ratings.write(rating, derived_id(f"{SOURCE}/{RATINGS_TABLE}", canonical))
    except InvalidRecord as exc:
        report.skipped += 1
        report.problems.append(f"line {number}: {exc}")
        return
    report.already_present += not appended


def _parse(line: bytes, number: int, report: ImportReport) -> dict[str, Any] | None:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        record, reason = None, f"not valid JSON ({exc})"
    else:
        reason = "not a JSON object"
    if isinstance(record, dict):
        return record
    report.skipped += 1
    report.problems.append(f"line {number}: {reason}")
    return None


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


def _open(source: Path) -> BufferedReader:
    try:
        return source.open("rb")
    except OSError as exc:
        raise ImportFailed(f"cannot read StableNew log {source}: {exc.strerror or exc}") from exc


def _is_score(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
