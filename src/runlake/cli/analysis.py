"""The analyst's commands: ``compare``, ``query``, ``stats``, ``report`` and ``files``.

Frames are printed as a rich table on a terminal and as CSV when piped, unless ``--format``
says otherwise, so ``runlake compare ... | other-tool`` gets machine-readable text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import runlake
from runlake.cli.progress import Bars, progress_bars
from runlake.cli.render import (
    Format,
    Shown,
    chosen,
    print_frame,
    readable_comparison,
    stats_frame,
    tables_frame,
)
from runlake.cli.session import session
from runlake.defaults import DEFAULT_MIN_N
from runlake.errors import InvalidOption

if TYPE_CHECKING:

    from runlake.analysis import ScaleOption

FormatOption = Annotated[
    Format, typer.Option("--format", help="table | csv | json (default: a table on a "
                         "terminal, CSV when piped).")
]
LimitOption = Annotated[int | None, typer.Option(
    "--limit", min=0, help="Print at most N rows (default: a page of 50 on a terminal, every "
    "row in CSV and JSON; 0: every row).", show_default=False)]
SortOption = Annotated[str | None, typer.Option(
    "--sort", help="Sort the rows by this column of the result first.", metavar="COLUMN")]
DescOption = Annotated[bool, typer.Option("--desc", help="With --sort: largest first.")]


def compare(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help="Comma-separated knobs or config paths, e.g. "
                                    "sampler,steps or txt2img.hr_scale.")],
    metric: Annotated[str, typer.Option(help="Column to compare.")] = "rating",
    table: Annotated[str, typer.Option(help="Table (runs: joined with their ratings).")] = "runs",
    within: Annotated[str | None, typer.Option(help="Compare inside each group of these, "
                                               "e.g. experiment_id or model.")] = None,
    where: Annotated[str | None, typer.Option(help="SQL filter, e.g. \"model = 'sdxl'\".")] = None,
    min_n: Annotated[int, typer.Option(
        "--min-n", min=0, help="Rank only groups with at least this many values (smaller "
        "groups are listed, unranked).")] = DEFAULT_MIN_N,
    lowest: Annotated[bool, typer.Option("--lowest", help="Rank the lowest values first "
                                         "(for durations).")] = False,
    baseline: Annotated[str | None, typer.Option(
        "--baseline", help="The --by value(s) the others are measured against (comma-"
        "separated for several knobs), e.g. 25 or \"Euler a,30\": adds diff and its 95% CI.")
    ] = None,
    scale: Annotated[str, typer.Option(
        help="The metric's bounded scale LOW-HIGH (e.g. 1-10), or none for an unbounded "
        "metric; auto: the rating scale for rating, 0-1 for a yes/no column.")] = "auto",
    output: FormatOption = Format.auto,
    limit: LimitOption = None,
    sort: SortOption = None,
    desc: DescOption = False,
) -> None:
    """Compare a metric across knob values: n, mean, 95% CI, min, max and a credible rank.

    Groups are ranked by their interval's lower bound (upper with --lowest), so a lucky small
    group never outranks a well-supported one; ratings get intervals that stay on their
    scale. Groups whose knob is missing are listed apart, never mixed with real values.

    On a terminal a page of 50 rows is shown (--limit), best first (--sort another column).

    Example: runlake compare --by sampler,steps --within model --baseline "Euler a,20"
    """
    here = session(ctx)
    knobs = _names(by)
    frame = here.lake().compare(
        knobs, metric, table=table, within=_names(within) if within else None,
        where=where, min_n=min_n, best="min" if lowest else "max",
        baseline=_baseline(baseline, knobs), scale=_scale(scale),
    )
    print_frame(here.out, frame, output, title=f"{metric} by {by}",
                shown=Shown(limit, sort, desc), readable=readable_comparison)


def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="One SQL statement (DuckDB); every table is "
                                       "registered by name, plus rated_runs.")],
    allow_dir: Annotated[list[Path] | None, typer.Option(
        "--allow-dir", help="A folder whose files the query may read too (read_csv, "
        "read_parquet); repeat for several. Without it SQL reads only the lake.",
        metavar="DIR")] = None,
    output: FormatOption = Format.auto,
    limit: LimitOption = None,
    sort: SortOption = None,
    desc: DescOption = False,
) -> None:
    """Run read-only SQL over the lake's tables (fresh: the uncompacted tail included).

    DuckDB's SQL: SHOW TABLES, DESCRIBE runs, SUMMARIZE runs, window functions. Statements
    that write (DROP, CREATE, INSERT, COPY, ATTACH, INSTALL ...) and reads of files outside
    the lake are refused. On a terminal a page of 50 rows is shown (--limit), wide results
    folded; piped, every row as CSV.

    Example: runlake query "SELECT sampler, avg(rating) AS r FROM rated_runs GROUP BY sampler"
    """
    here = session(ctx)
    print_frame(here.out, here.lake().sql(sql, allow_dirs=allow_dir or ()), output, title=None,
                shown=Shown(limit, sort, desc))


def tables(ctx: typer.Context, output: FormatOption = Format.auto) -> None:
    """List the tables SQL sees, with their record counts and columns (rated_runs: a view).

    Example: runlake tables --format json
    """
    here = session(ctx)
    lake = here.lake()
    summaries = lake.table_summaries()
    if not summaries:
        here.out.print(f"the lake at {lake.root} has no tables yet", highlight=False)
        return
    print_frame(here.out, tables_frame(summaries, joined=chosen(output) is not Format.json),
                output, title=f"tables of {lake.root}")


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
    out: Annotated[str, typer.Option("--out", help="HTML file to write.",
                                     callback=lambda text: _file_name(text, "--out"))
                   ] = "report.html",
    title: Annotated[str, typer.Option(help="Title of the page.")] = "runlake report",
    metric: Annotated[str, typer.Option(help="Numeric column to compare.")] = "rating",
    lowest: Annotated[bool, typer.Option("--lowest", help="Rank the lowest mean first "
                                         "(for durations).")] = False,
    where: Annotated[str | None, typer.Option(help="SQL filter, e.g. \"steps >= 20\".")] = None,
    experiment: Annotated[str | None, typer.Option(help="Only this experiment (id or "
                                                   "name).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Comma-separated knobs to rank "
                                           "(default: the two that vary most).")] = None,
    within: Annotated[str | None, typer.Option(help="Rank inside each group of these "
                                               "knobs.")] = None,
    x: Annotated[str | None, typer.Option("--x", help="The grids' columns (a knob; default: "
                                          "the one that varies most).")] = None,
    y: Annotated[str | None, typer.Option("--y", help="The grids' rows (a knob).")] = None,
    z: Annotated[str | None, typer.Option("--z", help="One grid per value of this knob.")
                 ] = None,
) -> None:
    """Write one static HTML file: image grids with their numbers, plots and tables.

    The page opens offline and can be mailed: thumbnails are embedded, nothing is fetched.

    Example: runlake report --out sweeps.html --x sampler --y cfg_scale --where "steps >= 20"
    """
    here = session(ctx)
    options = runlake.ReportOptions(
        title=title, metric=metric, best="min" if lowest else "max", where=where,
        experiment=experiment, by=tuple(_names(by)) if by else (),
        within=tuple(_names(within, "--within")) if within else (), x=x, y=y, z=z)
    with progress_bars(here.out) as bars:
        written = here.lake().report(out, options=options, progress=_by_step(bars))
    size = written.stat().st_size / 1e6
    here.out.print(f"wrote {written} ({size:.1f} MB)", highlight=False)


def _file_name(text: str, option: str) -> str:
    """A usage error (exit 2) for an empty file name: ``Path("")`` is the current folder."""
    if not text.strip():
        raise typer.BadParameter("needs a file name, e.g. report.html", param_hint=option)
    return text


def _by_step(bars: Bars | None) -> Callable[[runlake.ReportProgress], None] | None:
    """The report's events as one bar per step."""
    if bars is None:
        return None
    return lambda event: bars(event.step, event.done, event.total)


def _baseline(text: str | None, knobs: list[str]) -> object:
    """The --baseline text as compare's baseline: one value, or a tuple for several knobs
    (compare converts text to the knob's type)."""
    if text is None:
        return None
    if len(knobs) == 1:
        return text
    return tuple(part.strip() for part in text.split(","))


def _scale(text: str) -> ScaleOption:
    lowered = text.strip().lower()
    if lowered in ("auto", "none"):
        return "auto" if lowered == "auto" else None
    from runlake.records import parse_scale  # here: --help need not load the record modules

    try:
        return parse_scale(text)
    except InvalidOption as exc:
        raise typer.BadParameter(str(exc), param_hint="--scale") from exc


def files(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="Table name, e.g. runs.")],
    version: Annotated[int | None, typer.Option(min=0, help="Table version (default: the "
                                                "latest).")] = None,
) -> None:
    """Print the URIs of a table's data files, one per line: what an engine without a Delta
    reader (Spark offline) must read instead of the whole directory (docs/engines.md).

    Example: runlake files runs > runs-files.txt
    """
    here = session(ctx)
    for uri in here.lake().files(table, version=version):
        here.out.print(uri, highlight=False, soft_wrap=True, markup=False)


def _names(text: str, hint: str = "--by") -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise typer.BadParameter("give at least one name", param_hint=hint)
    return names
