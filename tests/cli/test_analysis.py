"""The analyst's commands, in process: compare, query, stats and report."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import polars as pl

import runlake
from tests.export.helpers import PLOTS
from tests.helpers import invoke


def test_compare_command_csv_and_json(rated_lake: runlake.Lake) -> None:
    csv = invoke("compare", "--by", "sampler", lake=rated_lake.root)
    assert csv.returncode == 0, csv.stderr
    frame = pl.read_csv(io.StringIO(csv.stdout))
    assert frame["sampler"].to_list() == ["DPM++ 2M", "Euler a", None]
    assert frame["mean"].to_list() == [5.0, 3.0, 3.0]
    as_json = invoke("compare", "--by", "steps", "--format", "json", "--min-n", "2",
                      lake=rated_lake.root)
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [(r["steps"], r["n"], r["rank"]) for r in rows] == [(30, 3, 1), (20, 1, None)]


def test_compare_command_table_and_errors(rated_lake: runlake.Lake) -> None:
    table = invoke("compare", "--by", "sampler", "--format", "table", "--min-n", "1",
                   lake=rated_lake.root)
    assert table.returncode == 0
    assert "(missing)" in table.stdout and "95% CI" in table.stdout
    # Every number of the metric with the same decimals: mean, interval, min, max.
    assert re.search(r"DPM\+\+ 2M +│ +1 │ +5\.00 │ +\[1\.83, 5\.00\] │ +5\.00 │ +5\.00 │ +1 ",
                     table.stdout), table.stdout
    typo = invoke("compare", "--by", "samplr", lake=rated_lake.root)
    assert typo.returncode == 1
    assert typo.stderr.strip() == "error: no column 'samplr' (nor 'config.samplr'); did you " \
        "mean 'sampler'?"


def test_compare_command_baseline_and_scale(rated_lake: runlake.Lake) -> None:
    result = invoke("compare", "--by", "sampler,steps", "--baseline", "Euler a,30",
                    "--format", "json", lake=rated_lake.root)
    assert result.returncode == 0, result.stderr
    rows = {(r["sampler"], r["steps"]): r for r in map(json.loads, result.stdout.splitlines())}
    assert rows[("Euler a", 30)]["diff"] == 0.0 and rows[("Euler a", 20)]["diff"] == -2.0
    wide = invoke("compare", "--by", "sampler", "--scale", "1-10", "--format", "json",
                  lake=rated_lake.root)
    assert max(json.loads(line)["ci_high"] for line in wide.stdout.splitlines()) > 5
    bad = invoke("compare", "--by", "sampler", "--scale", "high", lake=rated_lake.root)
    assert bad.returncode == 2 and "LOW-HIGH" in bad.stderr


def test_query_and_stats_commands(rated_lake: runlake.Lake) -> None:
    result = invoke("query", "SELECT run_id FROM runs ORDER BY run_id", lake=rated_lake.root)
    assert result.stdout.split() == ["run_id", "r1", "r2", "r3", "r4"]
    bad = invoke("query", "SELEC 1", lake=rated_lake.root)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    stats = invoke("stats", "runs", "--format", "json", lake=rated_lake.root)
    [row] = [json.loads(line) for line in stats.stdout.splitlines()]
    assert (row["records"], row["pending"], row["distinct sampler"]) == (4, 2, 2)


def test_cli_report_writes_a_page_with_its_plots(grown: runlake.Lake, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = invoke("report", "--out", str(out), "--title", "Sweeps", lake=grown.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {out}"
    page = out.read_text()
    for plot in PLOTS:
        figure = re.search(rf'<figure class="plot" id="{plot}">\s*<svg\b(.*?)</svg>', page,
                           re.DOTALL)
        assert figure is not None and figure[1].count("<path") > 10, plot
    assert "<title>Sweeps</title>" in page
