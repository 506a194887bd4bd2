"""Other engines read runlake's tables right: DuckDB (the delta extension, and the table's
Arrow dataset), Dask (dask-deltatable) and Daft against Polars, on a table as compaction
leaves it (several files, one rewritten by dedup) and on the same table optimized and
vacuumed; Spark's route, the Delta file list, is checked against the snapshot."""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from polars.testing import assert_frame_equal

import runlake
from runlake.testing import sweep_records
from tests.helpers import invoke

# A dotted name, a boolean leaf, and the usual kinds: text, integer, float, time.
COLUMNS = ["record_id", "date", "sampler", "steps", "cfg_scale", "rating", "event_time",
           "config.txt2img.hr_scale", "config.txt2img.enable_hr"]
QUOTED = ", ".join(f'"{name}"' for name in COLUMNS)


def build(root: Path, *, maintained: bool) -> Path:
    """Three compactions (three files per partition); a retried append makes the first one
    rewrite a file (Polars' writer); then, if asked, optimize and vacuum everything."""
    lake = runlake.Lake(root)
    records = list(sweep_records(3))
    for part in (records[:80], records[80:150], records[150:]):
        lake.append_many("runs", part)
        lake.compact("runs")
    lake.append("runs", {"model": "retried", "timestamp": "2026-03-20T09:00:00Z"},
                record_id="retried-0")
    lake.append("runs", {"model": "retried", "timestamp": "2026-03-20T09:00:00Z"},
                record_id="retried-0")
    assert lake.compact("runs").duplicates == 1
    if maintained:
        lake.optimize("runs")
        lake.vacuum("runs", retention_hours=0)
    return root / "tables" / "runs"


@pytest.fixture(scope="module", params=["compacted", "maintained"])
def table(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp(request.param), maintained=request.param != "compacted")


def expected(root: Path) -> pl.DataFrame:
    return pl.scan_delta(str(root)).select(COLUMNS).collect()


def same(frame: pl.DataFrame, root: Path) -> None:
    """``frame`` holds the rows and values Polars reads (types may differ in width)."""
    want = expected(root)
    assert frame.height == want.height == 216 + 1  # sweep_records(3), and the retried record once
    got = frame.select(COLUMNS).with_columns(pl.col("event_time").dt.convert_time_zone("UTC"))
    assert_frame_equal(got.sort("record_id"), want.sort("record_id"), check_dtypes=False)


def duckdb_delta(root: Path) -> pl.DataFrame:
    """DuckDB's ``delta_scan``, loading the extension from its wheel: nothing downloaded."""
    import duckdb
    import duckdb_extension_delta
    folder = importlib.resources.files(duckdb_extension_delta) / "extensions"
    [version] = list(folder.iterdir())
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute(f"LOAD '{version / 'delta.duckdb_extension'}'")
    return con.execute(f"SELECT {QUOTED} FROM delta_scan('{root}')").pl()


def duckdb_arrow(root: Path) -> pl.DataFrame:
    """Any DuckDB, through the table's Arrow dataset (DuckDB's replacement scan)."""
    import duckdb
    dataset = DeltaTable(str(root)).to_pyarrow_dataset()
    con = duckdb.connect()
    con.register("runs", dataset)
    return con.execute(f"SELECT {QUOTED} FROM runs").pl()


def dask(root: Path) -> pl.DataFrame:
    import dask_deltatable
    import pandas as pd
    # Arrow dtypes keep a boolean or integer column with nulls what it is (plain pandas
    # dtypes make it object, which Dask then turns into strings).
    frame = dask_deltatable.read_deltalake(
        str(root), pyarrow_to_pandas={"types_mapper": pd.ArrowDtype})
    return pl.from_arrow(pa.Table.from_pandas(frame[COLUMNS].compute()))  # type: ignore[return-value]


def daft(root: Path) -> pl.DataFrame:
    import daft as daft_engine
    frame = daft_engine.read_deltalake(str(root))
    chosen = frame.select(*[daft_engine.col(name) for name in COLUMNS])
    return pl.from_arrow(chosen.to_arrow())  # type: ignore[return-value]


@pytest.mark.parametrize("read", [duckdb_delta, duckdb_arrow, dask, daft],
                         ids=["duckdb-delta", "duckdb-arrow", "dask", "daft"])
def test_engine_reads_what_polars_reads(table: Path, read: Callable[[Path], pl.DataFrame]
                                        ) -> None:
    same(read(table), table)


def test_data_files_hold_plain_strings(table: Path) -> None:
    # Polars writes string views unless told otherwise; Daft cannot read them (Utf8View).
    for uri in runlake.Lake(table.parent.parent).files("runs"):
        schema = pq.read_schema(uri)
        assert "string_view" not in str(schema), uri


def test_the_file_list_is_the_snapshot(table: Path) -> None:
    # What Spark reads with spark.read.option("basePath", root).parquet(*files): each row
    # once, although a maintained table's directory may still hold replaced files.
    lake = runlake.Lake(table.parent.parent)
    files = lake.files("runs")
    assert files == sorted(DeltaTable(str(table)).file_uris())
    assert sum(pq.read_metadata(uri).num_rows for uri in files) == expected(table).height
    printed = invoke("files", "runs", lake=lake.root)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines() == files


def test_files_of_a_table_never_compacted(lake: runlake.Lake) -> None:
    lake.append("runs", {"model": "sdxl"})
    assert lake.files("runs") == []
    unknown = invoke("files", "nope", lake=lake.root)
    assert unknown.returncode == 1 and "nope" in unknown.stderr
