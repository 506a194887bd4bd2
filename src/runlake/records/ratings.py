"""What a rating is: a number on a declared scale (1-5 unless the lake declares another).

The scale is shared by the recording path (the ``ratings`` table's contract, checked on every
append, so ``"4/5"``, ``7`` on 1-5 or ``"great"`` are refused instead of becoming null at
compaction) and by analysis (``compare`` draws intervals that stay inside it). Pure Python:
this module is on the recording path and loads no table engine.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal

from runlake.errors import InvalidOption, InvalidRecord

Scale = tuple[float, float]
DEFAULT_RATING_SCALE: Scale = (1.0, 5.0)
RATING = "rating"  # the score's column, and the metric compared on the rating scale

# Where a rating record may hold its score: the places compaction's normalization reads the
# ``rating`` knob from (records/knobs.py), so a score that passes here is the one compacted.
_SCORE_KEYS = ("user_rating", "rating")
_PLACES: tuple[tuple[str, ...], ...] = (
    ("metadata",), ("metadata", "learning_context"), (), ("learning_context",),
)


def check_scale(scale: object) -> Scale:
    """``scale`` as ``(low, high)`` floats; :class:`InvalidOption` unless two finite numbers
    with ``low < high``.

    >>> check_scale((1, 10))
    (1.0, 10.0)
    """
    if not (isinstance(scale, (tuple, list)) and len(scale) == 2
            and all(_is_number(bound) for bound in scale)):
        raise InvalidOption(f"a rating scale is two numbers (low, high), got {scale!r}")
    low, high = float(scale[0]), float(scale[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise InvalidOption(f"a rating scale needs finite low < high, got {scale!r}")
    return low, high


def parse_scale(text: str) -> Scale:
    """``"1-5"`` (or ``"0..10"``, ``"1,5"``) as a scale.

    >>> parse_scale("0-10")
    (0.0, 10.0)
    """
    for separator in ("..", ",", "-"):
        low, found, high = text.strip().partition(separator)
        if found and low:
            try:
                return check_scale((float(low), float(high)))
            except ValueError:
                break
    raise InvalidOption(f"a rating scale is written LOW-HIGH (e.g. 1-5), got {text!r}")


def format_scale(scale: Scale) -> str:
    """``(1.0, 5.0)`` as ``"1-5"``."""
    return "-".join(f"{bound:g}" for bound in scale)


def check_rating(record: object, table: str, scale: Scale) -> None:
    """Raise :class:`InvalidRecord` unless the rating record holds a score, and every score it
    holds (``rating``, ``user_rating``, at the top, in ``metadata`` or ``learning_context``)
    is a number (not a bool, not text) within ``scale``. The reason names the run or image
    rated, so a rejected line of a batch can be found.

    >>> check_rating({"run_id": "r1", "rating": "4/5"}, "ratings", (1.0, 5.0))
    Traceback (most recent call last):
    ...
    runlake.errors.InvalidRecord: invalid record for table 'ratings', field 'rating': '4/5' is \
not a number; a score is a number on the scale 1-5, such as 4 (rating of run 'r1')
    """
    fields = _fields(record)
    if fields is None:
        return  # not an object: the envelope names that error
    found = [(path, value) for path, value in _scores(fields) if value is not None]
    if not found:
        raise InvalidRecord(table, "rating", f"a rating needs a score: a number on the scale "
                            f"{format_scale(scale)} under 'rating'{_which(fields)}")
    for path, value in found:
        _check_score(table, path, value, scale, fields)


RateBy = Literal["auto", "run", "image"]
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".avif", ".gif", ".bmp", ".tif", ".tiff")


def rating_record(target: str, score: object, *, rater: str | None = None,
                  notes: str | None = None, by: RateBy = "auto",
                  timestamp: str | None = None) -> dict[str, Any]:
    """The ``ratings`` record of one judgement: ``score`` for the run whose id is ``target``,
    or for the image whose path (as the run recorded it) is ``target``.

    ``by="auto"`` takes ``target`` for an image path when it holds a ``/`` or ``\\`` or ends in
    an image suffix (``.png``, ``.jpg`` ...), else for a run id. The score is checked when the
    record is appended (:func:`check_rating`).

    >>> rating_record("out/0001.png", 4, rater="ana", timestamp="2026-03-20T10:00:00Z")
    {'run_id': None, 'image_path': 'out/0001.png', 'rating': 4, 'rater': 'ana', \
'source': 'runlake rate', 'timestamp': '2026-03-20T10:00:00Z'}
    """
    if not isinstance(target, str) or not target.strip():
        raise InvalidRecord("ratings", "run_id", f"rate a run id or an image path, got {target!r}")
    image = by == "image" or (by == "auto" and _looks_like_image(target))
    record: dict[str, Any] = {
        "run_id": None if image else target, "image_path": target if image else None,
        "rating": score, "rater": rater, "source": "runlake rate", "timestamp": timestamp,
    }
    if notes is not None:
        record["notes"] = notes
    return record


def _looks_like_image(target: str) -> bool:
    return "/" in target or "\\" in target or target.lower().endswith(_IMAGE_SUFFIXES)


def _fields(record: object) -> Mapping[str, Any] | None:
    if isinstance(record, Mapping):
        return record
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    return None


def _scores(fields: Mapping[str, Any]) -> list[tuple[str, object]]:
    found = []
    for place in _PLACES:
        holder: object = fields
        for key in place:
            holder = holder.get(key) if isinstance(holder, Mapping) else None
        if isinstance(holder, Mapping):
            found += [(".".join((*place, key)), holder[key]) for key in _SCORE_KEYS
                      if key in holder]
    return found


def _check_score(table: str, path: str, value: object, scale: Scale,
                 fields: Mapping[str, Any]) -> None:
    low, high = scale
    if not _is_number(value):
        raise InvalidRecord(table, path, f"{value!r} is not a number; a score is a number on "
                            f"the scale {format_scale(scale)}, such as {high - 1:g}"
                            f"{_which(fields)}")
    number = float(value)  # type: ignore[arg-type]
    if not (math.isfinite(number) and low <= number <= high):
        raise InvalidRecord(table, path, f"{number:g} is outside the rating scale "
                            f"{format_scale(scale)}{_which(fields)}")


def _which(fields: Mapping[str, Any]) -> str:
    for key, name in (("run_id", "run"), ("image_path", "image")):
        if isinstance(fields.get(key), str):
            return f" (rating of {name} {fields[key]!r})"
    return ""


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
