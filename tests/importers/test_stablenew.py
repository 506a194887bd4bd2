"""Importing StableNew learning_records.jsonl: runs, ratings, idempotent re-import."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import runlake
from runlake import import_stablenew

UTC = dt.timezone.utc


def sample_lines(samples: Path) -> list[dict[str, Any]]:
    text = (samples / "stablenew_learning_records.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def raw(lake: runlake.Lake, table: str) -> list[runlake.StoredRecord]:
    return list(lake.read_raw(table))


def test_every_line_lands_in_runs_unchanged(lake: runlake.Lake, samples: Path) -> None:
    report = import_stablenew(lake, samples / "stablenew_learning_records.jsonl")
    assert report.appended == {"runs": 7, "ratings": 5}
    assert (report.already_present, report.skipped, report.problems) == (0, 0, [])
    stored = sorted(raw(lake, "runs"), key=lambda s: s.record["run_id"])
    assert [s.record for s in stored] == sorted(sample_lines(samples),
                                                key=lambda r: r["run_id"])


def test_event_times_come_from_the_records(lake: runlake.Lake, samples: Path) -> None:
    import_stablenew(lake, samples / "stablenew_learning_records.jsonl")
    times = {s.record["run_id"]: s.event_time for s in raw(lake, "runs")}
    assert times["5f0c1a2e-0000-4000-8000-000000000000"] == dt.datetime(
        2026, 3, 20, 14, 0, 11, tzinfo=UTC)  # naive means UTC
    assert times["8c1d0e55-0000-4000-8000-000000000010"] == dt.datetime(
        2026, 3, 21, 9, 15, 2, 481000, tzinfo=UTC)
    assert times["2b7f9a10-0000-4000-8000-000000000020"] == dt.datetime(
        2026, 3, 22, 17, 40, tzinfo=UTC)  # +01:00
    assert lake.partitions("runs") == ["2026-03-20", "2026-03-21", "2026-03-22", "2026-03-23"]


def test_rating_and_feedback_records_become_ratings(lake: runlake.Lake, samples: Path) -> None:
    import_stablenew(lake, samples / "stablenew_learning_records.jsonl")
    ratings = {s.record["run_id"]: s.record for s in raw(lake, "ratings")}
    expected_scores = {
        "5f0c1a2e-0000-4000-8000-000000000000": (6.0, 3.0),
        "5f0c1a2e-0000-4000-8000-000000000001": (7.5, 4.0),
        "5f0c1a2e-0000-4000-8000-000000000002": (7.5, 5.0),
        "5f0c1a2e-0000-4000-8000-000000000003": (9.0, 2.0),
    }
    for run_id, (cfg, score) in expected_scores.items():
        rating = ratings[run_id]
        assert (rating["variant_value"], rating["rating"]) == (cfg, score)
        assert rating["experiment_id"] == rating["experiment_name"] == "CFG sweep juggernaut"
        assert rating["variable_under_test"] == "CFG Scale"
        assert rating["source"] == "stablenew:learning_experiment_rating"
        assert rating["image_path"].startswith("output/learning_CFG_sweep_juggernaut/txt2img/")
        assert rating["notes"] is None
    assert ratings["5f0c1a2e-0000-4000-8000-000000000002"]["subscores"] == {
        "anatomy": 5, "composition": 5, "prompt_adherence": 4}
    review = ratings["8c1d0e55-0000-4000-8000-000000000010"]
    assert review == {
        "run_id": "8c1d0e55-0000-4000-8000-000000000010", "image_path": "output/a.png",
        "rating": 3.2, "timestamp": "2026-03-21T09:15:02.481Z",
        "source": "stablenew:review_tab_feedback", "experiment_id": None,
        "experiment_name": None, "variant_index": None, "variable_under_test": None,
        "variant_value": None, "subscores": {"anatomy": 5, "composition": 4,
                                             "prompt_adherence": 3},
        "notes": "hands are wrong"}
    # A curation decision score and a plain run are not ratings of an image.
    assert set(ratings) == set(expected_scores) | {"8c1d0e55-0000-4000-8000-000000000010"}


def test_reimport_appends_nothing(lake: runlake.Lake, samples: Path) -> None:
    source = samples / "stablenew_learning_records.jsonl"
    import_stablenew(lake, source)
    before = {table: [s.record_id for s in raw(lake, table)] for table in ("runs", "ratings")}
    report = import_stablenew(lake, source)
    assert report.appended == {"runs": 0, "ratings": 0} and report.already_present == 7
    assert {table: [s.record_id for s in raw(lake, table)]
            for table in ("runs", "ratings")} == before


def test_ids_depend_on_content_not_formatting(tmp_path: Path, samples: Path) -> None:
    first, second = runlake.Lake(tmp_path / "a"), runlake.Lake(tmp_path / "b")
    import_stablenew(first, samples / "stablenew_learning_records.jsonl")
    reformatted = tmp_path / "reformatted.jsonl"
    reformatted.write_text("\n\n".join(json.dumps(r, indent=None, sort_keys=True,
                                                  separators=(", ", " : "))
                                       for r in reversed(sample_lines(samples))) + "\n")
    import_stablenew(second, reformatted)
    for table in ("runs", "ratings"):
        assert {s.record_id for s in first.read_raw(table)} == {
            s.record_id for s in second.read_raw(table)}
    assert import_stablenew(first, reformatted).total_appended == 0


def test_bad_lines_are_reported_by_number(lake: runlake.Lake, tmp_path: Path,
                                          samples: Path) -> None:
    good = sample_lines(samples)
    source = tmp_path / "learning_records.jsonl"
    source.write_text("\n".join([
        json.dumps(good[0]), "{not json", "[1, 2]", "",
        json.dumps({**good[1], "timestamp": "yesterday"}), json.dumps(good[2]),
    ]) + "\n")
    report = import_stablenew(lake, source)
    assert report.appended == {"runs": 2, "ratings": 2}
    assert report.skipped == 3
    assert [p.split(":")[0] for p in report.problems] == ["line 2", "line 3", "line 5"]
    assert "not valid JSON" in report.problems[0] and "timestamp" in report.problems[2]


def test_a_missing_file_is_an_import_error(lake: runlake.Lake, tmp_path: Path) -> None:
    with pytest.raises(runlake.ImportFailed, match="cannot read StableNew log"):
        import_stablenew(lake, tmp_path / "missing.jsonl")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert import_stablenew(lake, empty).total_appended == 0  # a folder of nothing


def test_reimport_after_compaction_and_raw_vacuum_appends_nothing(
    lake: runlake.Lake, samples: Path
) -> None:
    source = samples / "stablenew_learning_records.jsonl"
    import_stablenew(lake, source)
    lake.compact()
    for segment in lake.root.glob("raw/*/date=*/seg-*.jsonl"):
        segment.unlink()  # what vacuum --raw-retention-days does to old, compacted segments
    again = import_stablenew(lake, source)
    assert again.total_appended == 0
    assert again.already_present == 7
