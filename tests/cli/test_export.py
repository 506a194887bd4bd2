"""The export command, in process: counts, the card, the same bytes as the API, errors."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

import runlake
from tests.export.helpers import T0, card, contents, source
from tests.helpers import invoke


def test_cli_export_prints_counts_and_the_card_and_matches_the_api(grown: runlake.Lake,
                                                                   tmp_path: Path) -> None:
    args = ["--seed", "3", "--min-rating", "3", "--min-ratings", "1", "--model", "sdxl",
            "--model", "sd15", "--from", "2026-03-20", "--to", "2026-03-21",
            "--threshold", "2"]
    done = invoke("export", "preference", "--out", str(tmp_path / "cli"), *args,
                   lake=grown.root)
    assert done.returncode == 0, done.stderr
    options = runlake.ExportOptions(seed=3, min_rating=3.0, models=("sdxl", "sd15"),
                                    min_ratings_per_group=1,
                                    date_from=T0.date(), date_to=T0.date() + timedelta(days=1),
                                    preference_threshold=2.0)
    api = grown.export_dataset("preference", tmp_path / "api", options=options)
    counts = ", ".join(f"{split} {n}" for split, n in api.examples.items())
    assert done.stdout.splitlines() == [f"exported preference to {tmp_path / 'cli'}: {counts}",
                                        f"dataset card: {tmp_path / 'cli' / 'README.md'}"]
    cli = {path.name: path.read_bytes() for path in sorted((tmp_path / "cli").iterdir())
           if path.name != ".runlake-export.json"}
    assert cli == contents(api)  # the same options, another process, the same bytes
    assert "date >= 2026-03-20" in card(tmp_path / "cli")  # the c runs (day 2) are out
    pairs = pl.read_ndjson(next(p for p in api.files if p.suffix == ".jsonl"))
    assert pairs["score_chosen"].min() >= 3 and (pairs["score_chosen"] - pairs["score_rejected"]
                                                 ).min() >= 2


def test_cli_export_at_a_version(grown: runlake.Lake, tmp_path: Path) -> None:
    done = invoke("export", "table", "--out", str(tmp_path / "v0"), "--version", "0",
                   lake=grown.root)
    assert done.returncode == 0, done.stderr
    assert sum(map(int, re.findall(r" (\d+)", done.stdout.splitlines()[0]))) == 24
    assert source(tmp_path / "v0")["runs_version"] == "0"


@pytest.mark.parametrize(("args", "message"), [
    (["export", "sft", "--out", "{tmp}/out"], "has no runs yet"),
    (["report", "--out", "{tmp}/report.html"], "has no runs yet"),
])
def test_cli_on_an_empty_lake_prints_one_error_line(tmp_path: Path, args: list[str],
                                                    message: str) -> None:
    done = invoke(*(arg.format(tmp=tmp_path) for arg in args), lake=tmp_path / "lake")
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
    done = invoke("export", "sft", "--out", str(tmp_path / "out"), *args, lake=grown.root)
    assert done.returncode == 1, done.stdout
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()
