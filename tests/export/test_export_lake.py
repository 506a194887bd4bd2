"""Exports and reports of a whole lake: snapshots (fresh or at a table version) with their
provenance in the card, byte-identical repeats, and the ``export`` and ``report`` commands."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

import runlake
from runlake.export import ExportKind
from tests.export.helpers import PLOTS, PROMPTS_A, card, contents, rows, source, sweep


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
    # One rating per settings group here: the evidence rule is lowered (test_evidence.py).
    options = runlake.ExportOptions(seed=3, fractions=(0.5, 0.25, 0.25), min_ratings_per_group=1)
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
    options = runlake.ReportOptions(title="Lake report")
    page = grown.report(tmp_path / "sub" / "report.html", options=options).read_text()
    for plot in PLOTS:
        assert re.search(rf'<figure class="plot" id="{plot}">\s*<svg\b', page), plot
    assert "<title>Lake report</title>" in page
    assert "records not yet compacted" in page and str(grown.root) in page


# --- the command line ----------------------------------------------------------------------

