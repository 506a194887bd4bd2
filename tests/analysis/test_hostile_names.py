"""Knob names that look like Polars patterns (``*``, ``^...$``) stay literal everywhere a user
names a column: ``compare`` (by, within, metric, baseline), the export's knobs, the report's
tables and heatmap. Each result must equal the same computation under plain names."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runlake
from runlake.analysis import page, plots
from tests.export.test_export import frame, lines, run

HOSTILE = ["*", "^.*$", "^a$", "^sampler$", "^steps$", "^rating$", "(", "a|b", ".*", "$", "^",
           "[x]", "\\d+", "config.*", "col(\"*\")"]
names = st.sampled_from(HOSTILE) | st.text(min_size=1, max_size=6).map(lambda t: f"^{t}$")


def plain_and_hostile(by: str, within: str, metric: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The same sweep under plain names (k, w, m, and a decoy column) and hostile ones."""
    plain = pl.DataFrame({
        "k": ["Euler a", "DPM++ 2M", "Euler a", None, "UniPC", "Euler a", "DPM++ 2M", "UniPC"],
        "w": [1, 1, 2, 2, 1, 1, 2, 1],
        "m": [3.0, 4.0, 5.0, 5.0, 2.0, 4.0, 5.0, None],
        "a": ["decoy"] * 8,  # what "^a$" would match if read as a pattern
    })
    return plain, plain.rename({"k": by, "w": within, "m": metric})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(by=names, within=names, metric=names)
def test_compare_keeps_hostile_names_literal(by: str, within: str, metric: str) -> None:
    if len({by, within, metric, "a"}) < 4:
        return
    plain, hostile = plain_and_hostile(by, within, metric)
    expected = runlake.compare(plain, "k", "m", within="w", min_n=1, scale=(1, 5),
                               baseline="Euler a")
    got = runlake.compare(hostile, by, metric, within=within, min_n=1, scale=(1, 5),
                          baseline="Euler a")
    assert got.columns == [within, by, *expected.columns[2:]]
    assert got.rows() == expected.rows()


def test_compare_on_a_config_knob_named_star() -> None:
    """The repro of the reliability helper: a record key ``*`` under ``config``."""
    data = pl.DataFrame({"config.*": ["x", "y", "x"], "rating": [1.0, 2.0, 3.0],
                         "model": ["m", "m", "m"]})
    result = runlake.compare(data, by="*", min_n=1)
    assert result.columns[0] == "*"
    assert sorted(zip(result["*"], result["n"], strict=True)) == [("x", 2), ("y", 1)]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(knob=names)
def test_export_knobs_with_hostile_names(knob: str,
                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    out = tmp_path_factory.mktemp("export") / "sft"
    rows = [run(i + 1, seed=i, rating=(5.0, 5.0, 4.0)[i % 3]) for i in range(3)]
    data = frame(rows).with_columns(pl.lit(7).alias(knob), pl.lit("decoy").alias("a"))
    runlake.export_frame(data, "sft", out, options=runlake.ExportOptions(
        fractions=(1.0, 0.0, 0.0), knobs=("sampler", knob)))
    [example] = lines(out / "train.jsonl")
    settings_ = json.loads(example["messages"][-1]["content"])
    assert settings_[knob] == 7 and settings_["sampler"] == "Euler a"


def test_report_table_and_heatmap_take_hostile_names_literally() -> None:
    data = pl.DataFrame({"*": ["x", "x", "y"], "^a$": [1, 2, 1], "a": ["d", "d", "d"],
                         "rating": [4.0, 5.0, 3.0]})
    stats = runlake.compare(data, ["*", "^a$"], min_n=1)
    html = page.html_table(stats, element_id="t", columns=("*", "^a$", "n"))
    assert html.count("<th>") == 3 and "<th>*</th>" in html and "<th>^a$</th>" in html
    figure = plots.heatmap(stats, x="^a$", y="*")
    assert figure.axes  # drawn, not a "no values" message
