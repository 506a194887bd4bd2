"""Exports and reports of a whole lake: snapshots (fresh or at a table version) with their
provenance in the card, byte-identical repeats, and the ``export`` and ``report`` commands."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import runlake
from conftest import run_cli
from runlake.export import ExportKind
from runlake.testing import sweep as grid_sweep

T0 = datetime(2026, 3, 20, 12, tzinfo=timezone.utc)
PROMPTS_A = [f"a red fox, take {i}" for i in range(6)]
PROMPTS_B = [f"a lighthouse at dusk, take {i}" for i in range(3)]
PLOTS = ("heatmap", "cfg-curves", "variants", "duration")


def sweep(lake: runlake.Lake, prefix: str, prompts: list[str], *, day: int = 0) -> list[str]:
    """Runs of 2 samplers x 2 CFG scales per prompt, and a rating record for each (low CFG
    rated 5, high CFG 2); returns the runs' record ids."""
    grid = {"prompt": prompts, "sampler": ["Euler a", "DPM++ 2M"], "cfg_scale": [4.5, 7.0]}
    runs, ratings = [], []
    for cell in grid_sweep(grid, start=T0 + timedelta(days=day)):
        prompt, sampler, cfg = cell["prompt"], cell["sampler"], cell["cfg_scale"]
        run_id, moment = f"{prefix}{cell.index:03d}", cell.time.isoformat()
        runs.append({"record_id": run_id, "run_id": run_id, "timestamp": moment,
                     "model": "sdxl", "prompt": prompt, "sampler": sampler, "steps": 20,
                     "cfg_scale": cfg, "image_path": f"out/{run_id}.png", "duration": 2.0})
        ratings.append(rating(run_id, 5.0 if cfg == 4.5 else 2.0, moment))
    lake.append_many("runs", runs)
    lake.append_many("ratings", ratings)
    return [run["record_id"] for run in runs]


def rating(run_id: str, value: float, moment: str) -> dict[str, Any]:
    return {"run_id": run_id, "image_path": f"out/{run_id}.png", "rating": value,
            "timestamp": moment}


def card(out: Path) -> str:
    return (out / "README.md").read_text()


def source(out: Path) -> dict[str, str]:
    """The card's Source table as {key: value}."""
    section = card(out).split("## Source", 1)[1].split("## Loading", 1)[0]
    cells = re.findall(r"^\| (\S[^|]*?) \| ([^|]*?) \|$", section, re.MULTILINE)
    return dict(cells[2:])  # past the header and its rule


def rows(result: runlake.ExportResult) -> pl.DataFrame:
    parquet = [path for path in result.files if path.suffix == ".parquet"]
    return pl.concat([pl.read_parquet(path) for path in parquet], how="diagonal_relaxed")


def contents(result: runlake.ExportResult) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in result.files}


@pytest.fixture
def grown(lake: runlake.Lake) -> runlake.Lake:
    """Runs table version 0 (prompts A), then version 1 (prompts B and a re-rating of the
    first A run from 5 to 1), then a few runs and ratings not compacted yet."""
    sweep(lake, "a", PROMPTS_A)
    lake.compact()
    sweep(lake, "b", PROMPTS_B, day=1)
    lake.append("ratings", rating("a000", 1.0, (T0 + timedelta(days=1)).isoformat()))
    lake.compact()
    sweep(lake, "c", PROMPTS_B[:1], day=2)
    return lake


def test_a_version_reads_that_snapshot_with_the_ratings_of_its_time(grown: runlake.Lake,
                                                                   tmp_path: Path) -> None:
    old = grown.export_dataset("table", tmp_path / "v0", version=0)
    table = rows(old)
    assert sorted(table["record_id"]) == [f"a{i:03d}" for i in range(24)]
    # Ratings as of runs version 0's commit: the later re-rating is not in it.
    assert table.filter(pl.col("record_id") == "a000")["rating"].to_list() == [5.0]
    assert source(tmp_path / "v0") == {"runlake version": runlake.__version__,
                                       "ratings_as_of": "runs version 0",
                                       "ratings_version": "0", "runs_version": "0"}
    latest = rows(grown.export_dataset("table", tmp_path / "v1", version=1))
    assert latest.height == 36 and source(tmp_path / "v1")["ratings_version"] == "1"
    assert latest.filter(pl.col("record_id") == "a000")["rating"].to_list() == [1.0]


def test_the_fresh_view_includes_uncompacted_records_and_counts_them(grown: runlake.Lake,
                                                                     tmp_path: Path) -> None:
    table = rows(grown.export_dataset("table", tmp_path / "fresh"))
    assert table.height == 24 + 12 + 4
    assert {"c000", "c003"} <= set(table["record_id"])
    assert source(tmp_path / "fresh") == {
        "runlake version": runlake.__version__, "ratings_uncompacted_records": "4",
        "ratings_version": "1", "runs_uncompacted_records": "4", "runs_version": "1"}
    assert not re.search(r"\d\d:\d\d", card(tmp_path / "fresh"))  # no time of day anywhere


@pytest.mark.parametrize("kind", ["sft", "preference", "table"])
@pytest.mark.parametrize("version", [None, 0])
def test_exporting_the_same_snapshot_twice_gives_the_same_bytes(
    grown: runlake.Lake, tmp_path: Path, kind: ExportKind, version: int | None
) -> None:
    options = runlake.ExportOptions(seed=3, fractions=(0.5, 0.25, 0.25))
    first = grown.export_dataset(kind, tmp_path / "one", version=version, options=options)
    again = grown.export_dataset(kind, tmp_path / "two", version=version, options=options)
    assert sum(first.examples.values()) > 0
    assert sum(count > 0 for count in first.examples.values()) >= 2  # really split
    assert contents(first) == contents(again)


def test_a_version_the_table_does_not_have_is_a_clear_error(lake: runlake.Lake,
                                                            tmp_path: Path) -> None:
    sweep(lake, "a", PROMPTS_A[:1])
    with pytest.raises(runlake.InvalidOption, match=r"no compacted version yet.*compact"):
        lake.export_dataset("sft", tmp_path / "out", version=0)
    lake.compact()
    with pytest.raises(runlake.InvalidOption, match=r"no version 3 .*versions 0 to 0"):
        lake.export_dataset("sft", tmp_path / "out", version=3)
    assert not (tmp_path / "out").exists()


def test_an_empty_lake_cannot_be_exported_or_reported(lake: runlake.Lake,
                                                      tmp_path: Path) -> None:
    with pytest.raises(runlake.EmptyLake, match="has no runs yet"):
        lake.export_dataset("sft", tmp_path / "out")
    with pytest.raises(runlake.EmptyLake, match="has no runs yet"):
        lake.report(tmp_path / "report.html")
    assert not (tmp_path / "out").exists() and not (tmp_path / "report.html").exists()


def test_lake_report_writes_the_plots_and_names_the_snapshot(grown: runlake.Lake,
                                                            tmp_path: Path) -> None:
    page = grown.report(tmp_path / "sub" / "report.html", title="Lake report").read_text()
    for plot in PLOTS:
        assert re.search(rf'<figure class="plot" id="{plot}">\s*<svg\b', page), plot
    assert "<title>Lake report</title>" in page
    assert "runs_uncompacted_records" in page and str(grown.root) in page


# --- the command line ----------------------------------------------------------------------

def test_cli_export_prints_counts_and_the_card_and_matches_the_api(grown: runlake.Lake,
                                                                   tmp_path: Path) -> None:
    args = ["--seed", "3", "--min-rating", "3", "--min-ratings", "1", "--model", "sdxl",
            "--model", "sd15", "--from", "2026-03-20", "--to", "2026-03-21",
            "--threshold", "2"]
    done = run_cli("export", "preference", "--out", str(tmp_path / "cli"), *args,
                   lake=grown.root)
    assert done.returncode == 0, done.stderr
    options = runlake.ExportOptions(seed=3, min_rating=3.0, models=("sdxl", "sd15"),
                                    date_from=T0.date(), date_to=T0.date() + timedelta(days=1),
                                    preference_threshold=2.0)
    api = grown.export_dataset("preference", tmp_path / "api", options=options)
    counts = ", ".join(f"{split} {n}" for split, n in api.examples.items())
    assert done.stdout.splitlines() == [f"exported preference to {tmp_path / 'cli'}: {counts}",
                                        f"dataset card: {tmp_path / 'cli' / 'README.md'}"]
    cli = {path.name: path.read_bytes() for path in sorted((tmp_path / "cli").iterdir())}
    assert cli == contents(api)  # the same options, another process, the same bytes
    assert "date >= 2026-03-20" in card(tmp_path / "cli")  # the c runs (day 2) are out
    pairs = pl.read_ndjson(next(p for p in api.files if p.suffix == ".jsonl"))
    assert pairs["score_chosen"].min() >= 3 and (pairs["score_chosen"] - pairs["score_rejected"]
                                                 ).min() >= 2


def test_cli_export_at_a_version(grown: runlake.Lake, tmp_path: Path) -> None:
    done = run_cli("export", "table", "--out", str(tmp_path / "v0"), "--version", "0",
                   lake=grown.root)
    assert done.returncode == 0, done.stderr
    assert sum(map(int, re.findall(r" (\d+)", done.stdout.splitlines()[0]))) == 24
    assert source(tmp_path / "v0")["runs_version"] == "0"


def test_cli_report_writes_a_page_with_its_plots(grown: runlake.Lake, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = run_cli("report", "--out", str(out), "--title", "Sweeps", lake=grown.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {out}"
    page = out.read_text()
    for plot in PLOTS:
        figure = re.search(rf'<figure class="plot" id="{plot}">\s*<svg\b(.*?)</svg>', page,
                           re.DOTALL)
        assert figure is not None and figure[1].count("<path") > 10, plot
    assert "<title>Sweeps</title>" in page


@pytest.mark.parametrize(("args", "message"), [
    (["export", "sft", "--out", "{tmp}/out"], "has no runs yet"),
    (["report", "--out", "{tmp}/report.html"], "has no runs yet"),
])
def test_cli_on_an_empty_lake_prints_one_error_line(tmp_path: Path, args: list[str],
                                                    message: str) -> None:
    done = run_cli(*(arg.format(tmp=tmp_path) for arg in args), lake=tmp_path / "lake")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: the lake at")
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "report.html").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--version", "7"], "the runs table has no version 7 (it has versions 0 to 1)"),
    (["--min-ratings", "0"], "min_ratings_per_group must be an integer >= 1"),
    (["--from", "2026-03-22", "--to", "2026-03-20"], "is after date_to"),
    (["--model", "sd15"], "nothing left after filter models"),
])
def test_cli_export_errors_are_one_line(grown: runlake.Lake, tmp_path: Path,
                                        args: list[str], message: str) -> None:
    done = run_cli("export", "sft", "--out", str(tmp_path / "out"), *args, lake=grown.root)
    assert done.returncode == 1, done.stdout
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()
