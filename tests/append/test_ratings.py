"""The ratings table's contract, checked on append: a score is a number on the lake's rating
scale, or the record is refused with a reason naming the record, the field and why (never
stored, never silently null at compaction)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import runlake
from runlake.learning import RatingRecord
from tests.helpers import invoke


@pytest.mark.parametrize(("score", "reason"), [
    ("4/5", "'4/5' is not a number"),
    (7, "7 is outside the rating scale 1-5"),
    ("great", "'great' is not a number"),
    (0.5, "0.5 is outside the rating scale 1-5"),
    (True, "True is not a number"),
    (float("nan"), "nan is outside the rating scale"),
])
def test_bad_scores_are_refused_with_record_field_and_reason(lake: runlake.Lake, score: object,
                                                             reason: str) -> None:
    with pytest.raises(runlake.InvalidRecord) as refused:
        lake.append("ratings", {"run_id": "r7", "rating": score})
    assert (refused.value.table, refused.value.field) == ("ratings", "rating")
    assert reason in refused.value.reason and "(rating of run 'r7')" in refused.value.reason
    with pytest.raises(runlake.InvalidRecord, match=r"not a number|outside"):
        lake.rate("out/7.png", score)  # type: ignore[arg-type]
    assert not (lake.root / "raw" / "ratings").exists()


def test_every_place_a_score_is_read_from_is_checked(lake: runlake.Lake) -> None:
    for record, field in (({"metadata": {"user_rating": "4/5"}}, "metadata.user_rating"),
                          ({"learning_context": {"rating": 9}}, "learning_context.rating"),
                          ({"run_id": "r1"}, "rating")):
        with pytest.raises(runlake.InvalidRecord) as refused:
            lake.append("ratings", record)
        assert refused.value.field == field
    bad = RatingRecord(run_id="r1", image_path=None, rating=6.0, timestamp="2026-03-20T10:00Z",
                       source="test")
    with pytest.raises(runlake.InvalidRecord, match="6 is outside"):
        lake.append("ratings", bad)


def test_a_batch_names_the_bad_record_and_writes_nothing(lake: runlake.Lake) -> None:
    with pytest.raises(runlake.InvalidRecord, match=r"record #1: '4/5' is not a number.*"
                       r"\(nothing was written\)"):
        lake.append_many("ratings", [{"run_id": "a", "rating": 3},
                                     {"run_id": "b", "rating": "4/5"}])
    report = runlake.append_jsonl(lake, "ratings", io.BytesIO(
        b'{"run_id": "a", "rating": 3}\n{"run_id": "b", "rating": 7}\n'))
    assert report.written == 1 and report.rejected[0].line == 2
    assert "outside the rating scale" in report.rejected[0].reason


def test_a_failsafe_writer_spills_a_bad_rating_instead_of_raising(lake: runlake.Lake) -> None:
    writer = runlake.LearningRecordWriter(lake, "ratings")
    assert writer.write({"run_id": "r1", "rating": "great"}) is not None
    assert writer.failures == 1 and "not a number" in (writer.last_error or "")


def test_a_declared_scale(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path / "lake", rating_scale=(1, 10))
    lake.rate("r1", 7)
    with pytest.raises(runlake.InvalidRecord, match="outside the rating scale 1-10"):
        lake.rate("r1", 11)
    with pytest.raises(runlake.InvalidOption, match="low < high"):
        runlake.Lake(tmp_path / "lake", rating_scale=(5, 1))
    wide = invoke("--rating-scale", "0-10", "rate", "r2", "9.5", lake=lake.root)
    assert wide.returncode == 0, wide.stderr
    refused = invoke("rate", "r2", "9.5", lake=lake.root)  # the default scale is 1-5
    assert refused.returncode == 1 and "9.5 is outside the rating scale 1-5" in refused.stderr


def test_nothing_is_appended_to_a_derived_table(lake: runlake.Lake) -> None:
    with pytest.raises(runlake.InvalidTableName, match="written by compaction"):
        lake.append("rated_runs", {"rating": 4})
    with pytest.raises(runlake.InvalidTableName, match="written by compaction"):
        lake.writer("rated_runs")
