"""The analyst's commands, in process: compare, query, stats and report."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import polars as pl

import runlake
from tests.export.helpers import PLOTS
from tests.helpers import invoke, run_cli


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
    assert re.fullmatch(rf"wrote {re.escape(str(out))} \(0\.\d MB\)", done.stdout.strip())
    page = out.read_text()
    for plot in PLOTS:
        figure = re.search(rf'<figure class="plot" id="{plot}">\s*<svg\b(.*?)</svg>', page,
                           re.DOTALL)
        assert figure is not None and figure[1].count("<path") > 10, plot
    assert "<title>Sweeps</title>" in page
    # The runs name images that are not there (relative paths): labelled placeholders.
    assert page.count('aria-label="image missing"') > 4 and "<img" not in page


def test_cli_report_options(grown: runlake.Lake, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = invoke("report", "--out", str(out), "--x", "cfg_scale", "--y", "sampler",
                  "--where", "cfg_scale > 5", "--metric", "duration", "--lowest",
                  "--by", "sampler", lake=grown.root)
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "columns: cfg_scale, rows: sampler" in page and "duration (lower is better)" in page
    assert "where cfg_scale &gt; 5" in page
    bad = invoke("report", "--out", str(out), "--metric", "ratng", lake=grown.root)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "did you mean 'rating'" in bad.stderr


def test_query_outside_the_lake_is_refused_in_a_real_process(rated_lake: runlake.Lake,
                                                             tmp_path: Path) -> None:
    # Issue 10, point 9 (notes/repro10/p9): read_csv and read_parquet of files outside the
    # lake returned their rows.
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("user,password\nalice,hunter2\n")
    pl.DataFrame({"token": ["s3cr3t"]}).write_parquet(secret.with_suffix(".parquet"))
    for query in (f"SELECT * FROM read_csv('{secret}')",
                  f"SELECT * FROM read_parquet('{secret.with_suffix('.parquet')}')"):
        run = run_cli("query", query, "--format", "csv", lake=rated_lake.root)
        assert run.returncode == 1, run.stdout
        assert "hunter2" not in run.stdout and "s3cr3t" not in run.stdout
        assert run.stderr.startswith("error: Permission Error") and "Traceback" not in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1
    allowed = run_cli("query", f"SELECT * FROM read_csv('{secret}')", "--format", "csv",
                      "--allow-dir", str(secret.parent), lake=rated_lake.root)
    assert allowed.returncode == 0 and "hunter2" in allowed.stdout


def test_query_writes_exit_1_and_say_why(rated_lake: runlake.Lake) -> None:
    dropped = invoke("query", "DROP TABLE runs", lake=rated_lake.root)
    assert dropped.returncode == 1
    assert dropped.stderr.startswith("error: DROP is refused: SQL on the lake only reads")
    described = invoke("query", "DESCRIBE runs", "--format", "json", lake=rated_lake.root)
    assert described.returncode == 0
    assert '"column_name":"sampler"' in described.stdout


def test_tables_lists_counts_and_columns(rated_lake: runlake.Lake) -> None:
    as_json = invoke("tables", "--format", "json", lake=rated_lake.root)
    rows = {row["table"]: row for row in map(json.loads, as_json.stdout.splitlines())}
    assert list(rows) == ["rated_runs", "ratings", "runs"]
    assert (rows["runs"]["records"], rows["runs"]["kind"]) == (4, "table")
    assert rows["rated_runs"]["kind"] == "view" and "sampler" in rows["runs"]["columns"]
    as_csv = invoke("tables", lake=rated_lake.root)
    frame = pl.read_csv(io.StringIO(as_csv.stdout))
    assert frame.columns == ["table", "kind", "records", "columns"]
    assert "record_id, " in frame.filter(pl.col("table") == "runs")["columns"].item()
