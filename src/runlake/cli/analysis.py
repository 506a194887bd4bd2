"""The analyst's commands: ``compare``, ``query``, ``stats`` and ``report``.

Frames are printed as a rich table on a terminal and as CSV when piped, unless ``--format``
says otherwise, so ``runlake compare ... | other-tool`` gets machine-readable text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runlake.cli.render import Format, chosen, print_frame, readable_comparison, stats_frame
from runlake.cli.session import session

FormatOption = Annotated[
    Format, typer.Option("--format", help="table | csv | json (default: a table on a "
                         "terminal, CSV when piped).")
]


def compare(
    ctx: typer.Context,
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
    here = session(ctx)
    frame = here.lake().compare(
        _names(by), metric, table=table, within=_names(within) if within else None,
        where=where, min_n=min_n, best="min" if lowest else "max",
    )
    if chosen(output) is Format.table:
        frame = readable_comparison(frame)
    print_frame(here.out, frame, output, title=f"{metric} by {by}")


def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="A SQL query; every table is registered by name, "
                                       "plus rated_runs.")],
    output: FormatOption = Format.auto,
) -> None:
    """Run SQL over the lake's tables (fresh: the uncompacted tail included).

    Example: runlake query "SELECT sampler, avg(rating) AS r FROM rated_runs GROUP BY sampler"
    """
    here = session(ctx)
    print_frame(here.out, here.lake().sql(sql), output, title=None)


def stats(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Argument(help="Table (default: every table).")] = None,
    output: FormatOption = Format.auto,
) -> None:
    """Records, date range, distinct knob values and pending uncompacted records per table.

    Example: runlake stats runs
    """
    here = session(ctx)
    lake = here.lake()
    names = [table] if table else lake.tables()
    if not names:
        here.out.print(f"the lake at {lake.root} has no tables yet", highlight=False)
        return
    import polars as pl  # here, not at the top: --help and other commands never load it

    frame = stats_frame([lake.stats(name) for name in names])
    if chosen(output) is Format.table:  # one column per table reads better than 20 columns
        frame = frame.transpose(include_header=True, header_name="",
                                column_names=frame["table"].to_list()).slice(1)
    print_frame(here.out, frame.cast(pl.String) if chosen(output) is Format.table else frame,
                output, title="tables")


def report(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    title: Annotated[str, typer.Option(help="Title of the page.")] = "runlake report",
) -> None:
    """Write one static HTML file with the sweep's plots and tables (opens offline).

    Example: runlake report --out sweeps.html --title "March sweeps"
    """
    here = session(ctx)
    here.out.print(f"wrote {here.lake().report(out, title=title)}", highlight=False)


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise typer.BadParameter("give at least one name", param_hint="--by")
    return names
