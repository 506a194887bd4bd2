"""The analyst's commands: ``compare``, ``query`` and ``stats``.

Frames are printed as a rich table on a terminal and as CSV when piped, unless ``--format``
says otherwise, so ``runlake compare ... | other-tool`` gets machine-readable text.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from runlake.analysis.comparison import DIFF_COLUMNS, STAT_COLUMNS
from runlake.analysis.query import TableStats
from runlake.cli.app import State, app, console


class Format(str, Enum):
    auto = "auto"
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", help="table | csv | json (default: a table on a "
                         "terminal, CSV when piped).")
]


@app.command("compare")
def compare_command(
    by: Annotated[str, typer.Option("--by", help="Comma-separated knobs or config paths, e.g. "
                                    "sampler,steps or txt2img.hr_scale.")],
    metric: Annotated[str, typer.Option(help="Column to compare.")] = "rating",
    table: Annotated[str, typer.Option(help="Table (runs: joined with their ratings).")] = "runs",
    within: Annotated[str | None, typer.Option(help="Compare inside each group of these, "
                                               "e.g. experiment_id or model.")] = None,
    where: Annotated[str | None, typer.Option(help="SQL filter, e.g. \"model = 'sdxl'\".")] = None,
    min_n: Annotated[int, typer.Option("--min-n", help="Leave out groups with fewer values.")] = 1,
    lowest: Annotated[bool, typer.Option("--lowest", help="Rank the lowest mean first "
                                         "(for durations).")] = False,
    output: FormatOption = Format.auto,
) -> None:
    """Compare a metric across knob values: n, mean, std, 95% CI, min, max, rank.

    Groups whose knob is missing are listed apart, never mixed with real values.

    Example: runlake compare --by sampler,steps --within model --min-n 3
    """
    frame = State.lake().compare(
        _names(by), metric, table=table, within=_names(within) if within else None,
        where=where, min_n=min_n, best="min" if lowest else "max",
    )
    if _chosen(output) is Format.table:
        frame = readable_comparison(frame)
    print_frame(frame, output, title=f"{metric} by {by}")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="A SQL query; every table is registered by name, "
                                       "plus rated_runs.")],
    output: FormatOption = Format.auto,
) -> None:
    """Run SQL over the lake's tables (fresh: the uncompacted tail included).

    Example: runlake query "SELECT sampler, avg(rating) AS r FROM rated_runs GROUP BY sampler"
    """
    print_frame(State.lake().sql(sql), output, title=None)


@app.command()
def stats(
    table: Annotated[str | None, typer.Argument(help="Table (default: every table).")] = None,
    output: FormatOption = Format.auto,
) -> None:
    """Records, date range, distinct knob values and pending uncompacted records per table.

    Example: runlake stats runs
    """
    lake = State.lake()
    names = [table] if table else lake.tables()
    if not names:
        console.print(f"the lake at {lake.root} has no tables yet", highlight=False)
        return
    frame = stats_frame([lake.stats(name) for name in names])
    if _chosen(output) is Format.table:  # one column per table reads better than 20 columns
        frame = frame.transpose(include_header=True, header_name="",
                                column_names=frame["table"].to_list()).slice(1)
    print_frame(frame.cast(pl.String) if _chosen(output) is Format.table else frame, output,
                title="tables")


def stats_frame(rows: list[TableStats]) -> pl.DataFrame:
    return pl.DataFrame([
        {"table": s.table, "version": s.version, "records": s.records, "pending": s.pending,
         "first_event": s.first_event, "last_event": s.last_event,
         **{f"distinct {k}": v for k, v in s.distinct.items()}}
        for s in rows
    ])


def readable_comparison(frame: pl.DataFrame) -> pl.DataFrame:
    """The comparison as a person reads it: the CI as one column, a missing knob spelled out."""
    keys = [c for c in frame.columns if c not in _STAT_COLUMNS]
    missing = pl.col("knob_missing")
    return frame.select(
        *(pl.when(missing & pl.col(k).is_null()).then(pl.lit("(missing)"))
          .otherwise(pl.col(k).cast(pl.String)).alias(k) for k in keys),
        "n",
        pl.col("mean").round(3),
        pl.format("[{}, {}]", pl.col("ci_low").round(2), pl.col("ci_high").round(2))
        .alias("95% CI"),
        pl.col("min"), pl.col("max"), "rank",
    )


_STAT_COLUMNS = {*STAT_COLUMNS, *DIFF_COLUMNS}


def _chosen(output: Format) -> Format:
    if output is Format.auto:
        return Format.table if sys.stdout.isatty() else Format.csv
    return output


def print_frame(frame: pl.DataFrame, output: Format, *, title: str | None) -> None:
    chosen = _chosen(output)
    if chosen is Format.csv:
        sys.stdout.write(frame.write_csv())
    elif chosen is Format.json:
        sys.stdout.write(frame.write_ndjson())
    else:
        console.print(_rich_table(frame, title))


def _rich_table(frame: pl.DataFrame, title: str | None) -> Table:
    table = Table(title=title, title_justify="left")
    for name, dtype in frame.schema.items():
        table.add_column(name, justify="right" if dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*(_cell(value) for value in row))
    return table


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e-3 or abs(value) >= 1e5 else f"{value:.3f}"
    return str(value)


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise typer.BadParameter("give at least one name", param_hint="--by")
    return names
