"""SQL on DuckDB over the lake's fresh tables: what works, what is refused (writes, files and
URLs outside the lake), the opt-in folder, and that reading only the columns a query names
never changes its answer."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import runlake


def test_show_tables_describe_summarize_and_window_functions(rated_lake: runlake.Lake) -> None:
    assert rated_lake.sql("SHOW TABLES").rows() == [("rated_runs",), ("ratings",), ("runs",)]
    described = rated_lake.sql("DESCRIBE runs")
    assert {"record_id", "sampler", "steps", "config.txt2img.hr_scale"} <= set(
        described["column_name"])
    summary = rated_lake.sql("SUMMARIZE runs").filter(pl.col("column_name") == "steps")
    assert summary.select("min", "max", "count").row(0) == ("20", "30", 4)
    ranked = rated_lake.sql(
        "SELECT run_id, rating, rank() OVER (ORDER BY rating DESC) AS place FROM rated_runs "
        "ORDER BY place")
    assert ranked.rows() == [("r3", 5.0, 1), ("r2", 4.0, 2), ("r4", 3.0, 3), ("r1", 2.0, 4)]


@pytest.mark.parametrize("statement", [
    "DROP TABLE runs", "DROP VIEW runs", "CREATE TABLE copy AS SELECT * FROM runs",
    "INSERT INTO runs SELECT * FROM runs", "DELETE FROM runs", "UPDATE runs SET steps = 1",
    "COPY runs TO 'out.csv'", "ATTACH 'other.db'", "INSTALL httpfs", "LOAD httpfs",
    "SET enable_external_access = true", "CREATE MACRO twice(x) AS 2 * x",
    "SELECT 1; DROP TABLE runs",
])
def test_writes_are_refused_by_name(rated_lake: runlake.Lake, statement: str) -> None:
    with pytest.raises(runlake.InvalidQuery) as refused:
        rated_lake.sql(statement)
    keyword = statement.split(maxsplit=1)[0]
    assert (f"{keyword} is refused" in str(refused.value)
            or "one SQL statement at a time" in str(refused.value))
    assert rated_lake.sql("SELECT count(*) AS n FROM runs").item() == 4


@pytest.mark.parametrize("reader", ["read_csv", "read_parquet", "read_text", "glob"])
def test_files_outside_the_lake_are_refused(rated_lake: runlake.Lake, tmp_path: Path,
                                            reader: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.csv"
    secret.write_text("user,password\nalice,hunter2\n")
    pl.DataFrame({"token": ["s3cr3t"]}).write_parquet(outside / "secret.parquet")
    path = outside / ("secret.parquet" if reader == "read_parquet" else "secret.csv")
    with pytest.raises(runlake.InvalidQuery, match="SQL reads only the lake's tables"):
        rated_lake.sql(f"SELECT * FROM {reader}('{path}')")


def test_an_allowed_folder_can_be_read_and_nothing_beside_it(rated_lake: runlake.Lake,
                                                            tmp_path: Path) -> None:
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "labels.csv").write_text("run_id,label\nr1,keeper\n")
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    joined = rated_lake.sql(
        f"SELECT r.run_id, l.label FROM runs r JOIN read_csv('{labels}/labels.csv') l "
        "USING (run_id)", allow_dirs=[labels])
    assert joined.rows() == [("r1", "keeper")]
    for sneaky in (tmp_path / "secret.csv", labels / ".." / "secret.csv"):
        with pytest.raises(runlake.InvalidQuery, match="reads only the lake's tables"):
            rated_lake.sql(f"SELECT * FROM read_csv('{sneaky}')", allow_dirs=[labels])


@pytest.mark.parametrize(("query", "expected"), [
    ("SELECT count(*) FROM runs", [(4,)]),
    ("SELECT s FROM (SELECT sampler AS s FROM runs) WHERE s IS NOT NULL ORDER BY s",
     [("DPM++ 2M",), ("Euler a",), ("Euler a",)]),
    ("SELECT x.steps FROM runs AS x ORDER BY 1", [(20,), (30,), (30,), (30,)]),
    ("SELECT #2 FROM (SELECT run_id, steps FROM runs) ORDER BY 1", [(20,), (30,), (30,), (30,)]),
    ('SELECT "config.txt2img.hr_scale" AS hr FROM runs ORDER BY hr NULLS LAST',
     [(1.5,), (1.5,), (2.0,), (None,)]),
    ("SELECT count(*) FROM runs NATURAL JOIN ratings", [(0,)]),
    ("SELECT count(*) FROM runs JOIN ratings USING (run_id)", [(2,)]),
])
def test_reading_only_named_columns_never_changes_an_answer(
    rated_lake: runlake.Lake, query: str, expected: list[tuple[object, ...]],
) -> None:
    assert rated_lake.sql(query).rows() == expected


def test_a_star_or_a_whole_row_reads_every_column(rated_lake: runlake.Lake) -> None:
    width = len(rated_lake.scan("runs").collect_schema())
    for query in ("SELECT * FROM runs", "FROM runs", "SELECT COLUMNS(*) FROM runs",
                  "SELECT runs.* FROM runs JOIN ratings USING (run_id)"):
        assert rated_lake.sql(query).width == width, query
    whole_row = rated_lake.sql("SELECT r FROM runs AS r LIMIT 1")  # a row as one struct
    assert len(whole_row["r"].struct.fields) == width


def test_unknown_tables_and_bad_sql_name_the_tables(rated_lake: runlake.Lake) -> None:
    with pytest.raises(runlake.InvalidQuery, match="tables: ratings, runs, rated_runs"):
        rated_lake.sql("SELECT * FROM nowhere")
    with pytest.raises(runlake.InvalidQuery, match="syntax error"):
        rated_lake.sql("SELEC 1")
    with pytest.raises(runlake.InvalidQuery, match="PIVOT lists its values"):
        rated_lake.sql("PIVOT runs ON steps USING count(*)")


def test_a_python_variable_is_not_a_table(rated_lake: runlake.Lake) -> None:
    secret = pl.DataFrame({"token": ["s3cr3t"]})
    assert secret.height == 1
    with pytest.raises(runlake.InvalidQuery, match="secret"):
        rated_lake.sql("SELECT * FROM secret")


def test_table_summaries(rated_lake: runlake.Lake) -> None:
    summaries = {s.table: s for s in rated_lake.table_summaries()}
    assert list(summaries) == ["rated_runs", "ratings", "runs"]
    assert (summaries["runs"].records, summaries["ratings"].records) == (4, 3)
    assert summaries["rated_runs"].view and not summaries["runs"].view
    assert "rating_source" in summaries["rated_runs"].columns
