"""The demo: a real sweep through the learning hooks appends runs, job events, ratings."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import runlake
from runlake import VariantStatus, run_demo

GRID_CELLS = 3 * 4 * 3  # models x samplers x CFG scales
EXPERIMENT_VARIANTS = 5  # steps 10, 20, 30, 40, 50


def test_the_demo_appends_runs_job_events_and_ratings(lake: runlake.Lake,
                                                      tmp_path: Path) -> None:
    result = run_demo(lake, seeds=2, images_dir=tmp_path / "images")
    runs_expected = GRID_CELLS * 2 + EXPERIMENT_VARIANTS
    assert (result.runs, result.job_events, result.ratings) == (
        runs_expected, 3 * runs_expected, runs_expected)
    assert (result.failed_jobs, result.write_failures) == (0, 0)
    runs = [s.record for s in lake.read_raw("runs")]
    jobs = [s.record for s in lake.read_raw("jobs")]
    ratings = [s.record for s in lake.read_raw("ratings")]
    assert (len(runs), len(jobs), len(ratings)) == (
        runs_expected, 3 * runs_expected, runs_expected)
    assert Counter(e["event"] for e in jobs) == {"queued": runs_expected,
                                                 "running": runs_expected,
                                                 "completed": runs_expected}
    cells = Counter((r["primary_model"], r["primary_sampler"], r["primary_cfg_scale"])
                    for r in runs if r["randomizer_mode"] == "sweep")
    assert len(cells) == GRID_CELLS and set(cells.values()) == {2}
    assert all(r["metadata"]["status"] == "completed" for r in runs)


def test_ratings_link_to_runs_and_saved_images(lake: runlake.Lake, tmp_path: Path) -> None:
    run_demo(lake, seeds=1, images_dir=tmp_path / "images")
    runs = {s.record["run_id"]: s.record for s in lake.read_raw("runs")}
    for stored in lake.read_raw("ratings"):
        rating = stored.record
        run = runs[rating["run_id"]]
        assert rating["image_path"] == run["outputs"][0]["path"]
        assert Path(rating["image_path"]).is_file()
        assert 1 <= rating["rating"] <= 5
    experiment_ratings = [s.record for s in lake.read_raw("ratings")
                          if s.record["experiment_name"] == "steps sweep"]
    assert sorted(r["variant_value"] for r in experiment_ratings) == [10, 20, 30, 40, 50]


def test_the_experiment_completes_every_variant(lake: runlake.Lake) -> None:
    result = run_demo(lake, seeds=1)
    assert [v.value for v in result.experiment] == [10, 20, 30, 40, 50]
    assert all(v.status is VariantStatus.COMPLETED and len(v.images) == 1
               for v in result.experiment)
    experiment_runs = [s.record for s in lake.read_raw("runs")
                       if s.record["randomizer_mode"] == "learning_experiment"]
    assert sorted(r["primary_steps"] for r in experiment_runs) == [10, 20, 30, 40, 50]


def test_the_summary_covers_every_knob_value(lake: runlake.Lake) -> None:
    result = run_demo(lake, seeds=1)
    by_knob = Counter(row.knob for row in result.summary)
    assert by_knob == {"model": 3, "sampler_name": 4, "cfg_scale": 3, "steps": 6}
    models = [row for row in result.summary if row.knob == "model"]
    assert sum(row.runs for row in models) == result.ratings
    assert all(1 <= row.mean_rating <= 5 for row in result.summary)


def test_progress_is_reported_per_job(lake: runlake.Lake) -> None:
    calls: list[tuple[int, int]] = []
    run_demo(lake, seeds=1, progress=lambda done, total: calls.append((done, total)))
    total = GRID_CELLS + EXPERIMENT_VARIANTS
    assert calls == [(done, total) for done in range(1, total + 1)]


def test_seeds_must_be_positive(lake: runlake.Lake) -> None:
    with pytest.raises(runlake.InvalidOption):
        run_demo(lake, seeds=0)


def test_the_lake_agrees_with_the_ratings_the_demo_gave(lake: runlake.Lake) -> None:
    # End to end: hooks -> append -> compact -> scan -> join ratings -> compare must give
    # back exactly the ratings the simulated rater handed out.
    result = runlake.run_demo(lake, seeds=1, images_dir=lake.root / "images")
    lake.compact()
    expected = {(row.value, row.runs, row.mean_rating) for row in result.summary
                if row.knob == "sampler_name"}
    compared = lake.compare("sampler")
    got = {(s, n, round(m, 3)) for s, n, m in compared.select("sampler", "n", "mean").rows()}
    assert got == expected
