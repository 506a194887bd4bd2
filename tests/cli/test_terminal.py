"""Terminal output that fits: a page of rows with the rest counted, sorting, wide results
folded, CSV and JSON unchanged when piped, and --format on status. The big cases run the
real command on a pseudo-terminal (runlake.testing.on_terminal)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import polars as pl
import pytest

import runlake
from runlake.testing import on_terminal
from tests.helpers import invoke

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 runs, compacted (each command is a fresh process: no tail cache to lean on)."""
    lake = runlake.Lake(tmp_path_factory.mktemp("big") / "lake")
    lake.append_many("runs", ({"run_id": f"r{i:05d}", "sampler": ("Euler a", "DDIM")[i % 2],
                               "steps": 10 + i % 40, "timestamp": "2026-03-20T10:00:00Z"}
                              for i in range(20_000)))
    lake.compact()
    lake.close()
    return lake.root


def test_a_20000_row_result_on_a_terminal_prints_within_its_limit(big: Path) -> None:
    drawn = on_terminal("--lake", str(big), "query", "SELECT run_id, sampler, steps FROM runs "
                        "ORDER BY run_id", columns=100, lines=40)
    text = ANSI.sub("", drawn.text)
    assert drawn.returncode == 0, text
    rows = [line for line in text.splitlines() if re.match(r"^│ r\d{5} ", line)]
    assert [row.split()[1] for row in rows] == [f"r{i:05d}" for i in range(50)]
    assert "… 19,950 more rows" in text
    assert len(text.splitlines()) < 60
    longer = invoke("query", "SELECT run_id FROM runs", "--format", "table", "--limit", "70",
                    lake=big).stdout
    assert len(re.findall(r"^│ r\d{5} ", longer, re.M)) == 70 and "19,930 more rows" in longer


def test_piped_output_is_every_row_unchanged(big: Path) -> None:
    piped = invoke("query", "SELECT run_id, steps FROM runs ORDER BY run_id", lake=big)
    frame = pl.read_csv(io.StringIO(piped.stdout))
    assert frame.height == 20_000 and frame.columns == ["run_id", "steps"]
    limited = invoke("query", "SELECT run_id FROM runs", "--format", "json", "--limit", "3",
                     lake=big)
    assert len(limited.stdout.splitlines()) == 3


def test_sort_and_desc(rated_lake: runlake.Lake) -> None:
    result = invoke("query", "SELECT run_id, rating FROM rated_runs", "--sort", "rating",
                    "--desc", "--format", "json", lake=rated_lake.root)
    assert [json.loads(line)["run_id"] for line in result.stdout.splitlines()] == [
        "r3", "r2", "r4", "r1"]
    compared = invoke("compare", "--by", "steps", "--sort", "steps", "--format", "csv",
                      "--min-n", "1", lake=rated_lake.root)
    assert pl.read_csv(io.StringIO(compared.stdout))["steps"].to_list() == [20, 30]
    bad = invoke("query", "SELECT run_id FROM runs", "--sort", "nope", lake=rated_lake.root)
    assert bad.returncode == 2 and "no column 'nope' in the result (columns: run_id)" in \
        bad.stderr


def test_wide_results_are_folded(lake: runlake.Lake) -> None:
    wide = {f"field_{i:02d}": None for i in range(60)}
    lake.append_many("runs", [{**wide, "run_id": f"r{i}", "prompt": "a fox " * 40,
                               "note": "line one\nline two", "timestamp": "2026-03-20T10:00:00Z"}
                              for i in range(3)])
    text = invoke("query", "SELECT * FROM runs", "--format", "table", lake=lake.root).stdout
    assert "columns without a value in these rows not shown" in text  # the 60 empty fields
    assert "field_07" not in text.split("not shown")[0]
    assert "a fox a fox" in text and "a fox " * 40 not in text and "…" in text
    assert "line one⏎line two" in text
    narrow = on_terminal("--lake", str(lake.root), "query", "SELECT * FROM runs", columns=60)
    records = ANSI.sub("", narrow.text)
    assert records.count("── row ") == 3 and re.search(r"^run_id +r0 *$", records, re.M)


def test_status_has_a_format(rated_lake: runlake.Lake) -> None:
    as_json = invoke("status", "--format", "json", lake=rated_lake.root)
    rows = {row["table"]: row for row in map(json.loads, as_json.stdout.splitlines())}
    assert (rows["runs"]["records"], rows["ratings"]["records"]) == (4, 3)
    as_csv = invoke("status", lake=rated_lake.root)  # piped: CSV
    assert as_csv.stdout.splitlines()[0] == (
        "table,partitions,segments,records,bytes,first_date,last_date")
    table = invoke("status", "--format", "table", lake=rated_lake.root)
    assert "partitions" in table.stdout and "│" in table.stdout
