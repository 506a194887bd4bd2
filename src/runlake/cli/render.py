"""Every printer of the command line: rich tables on a terminal, CSV or JSON when piped.

Printers take the console to print on (the invocation's, from its session) and a result the
library returned; none of them computes anything the library could.

Polars and the analysis stage are imported by the printers of frames only: ``--help``,
``status`` and the other commands that print no frame never load them (``bench/cli.py``).
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import runlake
from runlake.cli.terminal import show_frame

if TYPE_CHECKING:
    import polars as pl

    from runlake.analysis import TableStats, TableSummary


class Format(str, Enum):
    auto = "auto"
    table = "table"
    csv = "csv"
    json = "json"


# -- append ---------------------------------------------------------------------------------


def print_status(out: Console, result: runlake.LakeStatus, output: Format = Format.table) -> None:
    picked = chosen(output)
    if picked is not Format.table:  # plain csv/json: status loads no table engine
        _write_rows([_status_row(t) for t in result.tables], picked, _STATUS_FIELDS)
        return
    if not result.tables:
        out.print(f"lake {result.root} is empty", highlight=False)
        return
    table = Table(title=f"lake {result.root}", title_justify="left")
    for column in ("table", "partitions", "segments", "records", "bytes", "dates"):
        table.add_column(column, justify="left" if column in ("table", "dates") else "right")
    for t in result.tables:
        dates = f"{t.first_date} .. {t.last_date}" if t.first_date else "-"
        table.add_row(t.name, str(t.partitions), str(t.segments), f"{t.records:,}",
                      f"{t.bytes:,}", dates)
    out.print(table)


_STATUS_FIELDS = ("table", "partitions", "segments", "records", "bytes", "first_date",
                  "last_date")


def _status_row(t: runlake.TableStatus) -> dict[str, object]:
    return {"table": t.name, "partitions": t.partitions, "segments": t.segments,
            "records": t.records, "bytes": t.bytes, "first_date": t.first_date,
            "last_date": t.last_date}


def _write_rows(rows: list[dict[str, object]], picked: Format, fields: tuple[str, ...]) -> None:
    """Rows as CSV (a header, empty for null) or JSON lines, without Polars."""
    if picked is Format.json:
        sys.stdout.write("".join(json.dumps(row) + "\n" for row in rows))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def print_ingest(out: Console, err: Console, table: str, report: runlake.IngestReport) -> None:
    for rejection in report.rejected:
        err.print(f"[yellow]line {rejection.line}:[/yellow] {rejection.reason}",
                  highlight=False, soft_wrap=True)
    out.print(f"appended {report.written} records to {table!r}, "
              f"rejected {len(report.rejected)}", highlight=False)


def print_replay(out: Console, err: Console, result: runlake.ReplayResult) -> None:
    for error in result.errors:
        err.print(f"[yellow]still failing:[/yellow] {error}", highlight=False)
    out.print(f"replayed {result.replayed} records, {result.failed} still failing "
              f"(kept), {result.files_done} files done", highlight=False)


# -- ship ---------------------------------------------------------------------------------


def print_ship(out: Console, result: runlake.ShipResult) -> None:
    out.print(f"shipped {result.objects} objects ({result.lines:,} lines, {result.bytes:,} "
              f"bytes) as host {result.host} to {result.to} in {result.seconds:.1f}s",
              highlight=False, soft_wrap=True)


# -- compaction -----------------------------------------------------------------------------


def print_compaction(out: Console, result: runlake.CompactionResult) -> None:
    if not result.tables:
        out.print("nothing to compact: the lake has no tables yet", highlight=False)
        return
    table = Table(title=f"compacted in {result.seconds:.1f}s", title_justify="left")
    for column in ("table", "records", "dups", "quarantined", "dates", "raw MB", "files",
                   "version", "s"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for t in result.tables:
        table.add_row(t.table, f"{t.records:,}", f"{t.duplicates:,}", f"{t.quarantined:,}",
                      str(len(t.partitions)), f"{t.bytes / 1e6:,.1f}", str(t.files),
                      "-" if t.version is None else str(t.version), f"{t.seconds:.1f}")
    out.print(table)
    if result.quarantined:
        out.print(f"[yellow]{result.quarantined} line(s) quarantined[/yellow]: see "
                  "quarantine/<table>/ for each line, its segment, offset and reason",
                  highlight=False)
    for t in result.tables:
        for reset in t.resets:
            out.print(f"[yellow]{t.table}: {reset.segment} {reset.reason}[/yellow] "
                      "(truncated, restored or replaced?): its records were read again from "
                      "its start; those already in the table were dropped as duplicates",
                      highlight=False, soft_wrap=True)


def print_check(out: Console, result: runlake.CheckResult) -> None:
    if not result.tables:
        out.print("nothing to check: the lake has no tables yet", highlight=False)
    for t in result.tables:
        if not t.problems:
            out.print(f"[green]{t.table}: ok[/green]", highlight=False)
        for problem in t.problems:
            out.print(f"[red]{t.table}:[/red] {problem}", highlight=False, soft_wrap=True)
        for note in t.notes:
            out.print(f"  {t.table}: {note}", highlight=False, soft_wrap=True)


def print_rebuild(out: Console, result: runlake.TableCompaction) -> None:
    out.print(f"rebuilt {result.table!r} from the raw zone as version {result.version}: "
              f"{result.records:,} records ({result.duplicates:,} duplicates dropped, "
              f"{result.quarantined:,} lines quarantined) from {result.bytes / 1e6:,.1f} raw MB",
              highlight=False)


def print_optimize(out: Console, result: runlake.OptimizeResult) -> None:
    if not result.tables:
        out.print("nothing to optimize: the lake has no tables yet", highlight=False)
        return
    table = Table(title="optimized", title_justify="left")
    for column in ("table", "files removed", "files added", "partitions", "version"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for t in result.tables:
        table.add_row(t.table, str(t.files_removed), str(t.files_added), str(t.partitions),
                      "-" if t.version is None else str(t.version))
    out.print(table)


def print_vacuum(out: Console, result: runlake.VacuumResult) -> None:
    if not result.tables:
        out.print("nothing to vacuum: the lake has no tables yet", highlight=False)
        return
    verb = "would remove" if result.dry_run else "removed"
    table = Table(title=f"vacuum {verb}", title_justify="left")
    for column in ("table", "orphan files", "expired files", "raw segments", "bytes"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for t in result.tables:
        table.add_row(t.table, str(len(t.orphans)), str(len(t.expired)),
                      str(len(t.raw_segments)), f"{t.bytes:,}")
    out.print(table)
    for t in result.tables:
        if t.busy:
            out.print(f"[yellow]{t.table}: kept the raw segments of {', '.join(t.busy)}: a "
                      "writer held the partition's lock past the lock timeout (run vacuum "
                      "again later)[/yellow]", highlight=False)


# -- analysis -------------------------------------------------------------------------------


def chosen(output: Format) -> Format:
    """The format ``auto`` stands for: a table on a terminal, CSV when piped."""
    if output is Format.auto:
        return Format.table if sys.stdout.isatty() else Format.csv
    return output


@dataclass(frozen=True)
class Shown:
    """Which rows of a frame to print: at most ``limit`` (``None``: a page on a terminal,
    every row in CSV and JSON; 0: every row), sorted by the column ``sort`` first."""

    limit: int | None = None
    sort: str | None = None
    descending: bool = False


def print_frame(
    out: Console, frame: pl.DataFrame, output: Format, *, title: str | None,
    shown: Shown = Shown(), readable: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> None:
    """Print ``frame``: CSV or JSON whole (unless ``--limit``), or a page of a table on a
    terminal folded to fit (``readable`` turns the page into what a person reads)."""
    frame = _sorted(frame, shown)
    picked = chosen(output)
    if picked is Format.table:
        show_frame(out, frame, title, limit=shown.limit, readable=readable)
        return
    if shown.limit:
        frame = frame.head(shown.limit)
    sys.stdout.write(frame.write_csv() if picked is Format.csv else frame.write_ndjson())


def _sorted(frame: pl.DataFrame, shown: Shown) -> pl.DataFrame:
    import polars as pl

    if shown.sort is None:
        return frame
    if shown.sort not in frame.columns:
        raise typer.BadParameter(f"no column {shown.sort!r} in the result (columns: "
                                 f"{', '.join(frame.columns)})", param_hint="--sort")
    # By position, so a column named like a pattern ('*', '^a$') is still just a column.
    column = pl.nth(frame.columns.index(shown.sort))
    return frame.sort(column, descending=shown.descending, nulls_last=True,
                      maintain_order=True)


def stats_frame(rows: list[TableStats]) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame([
        {"table": s.table, "version": s.version, "records": s.records, "pending": s.pending,
         "first_event": s.first_event, "last_event": s.last_event,
         **{f"distinct {k}": v for k, v in s.distinct.items()},
         **{f"unrecognised {k}": ", ".join(v) or None for k, v in s.unrecognised.items()}}
        for s in rows
    ])


def tables_frame(rows: list[TableSummary], *, joined: bool) -> pl.DataFrame:
    """One row per table: name, kind, records and columns (a list, or one text ``joined`` by
    commas for a table or CSV, which hold no lists)."""
    import polars as pl

    frame = pl.DataFrame({
        "table": [r.table for r in rows],
        "kind": ["view" if r.view else "table" for r in rows],
        "records": [r.records for r in rows],
        "columns": [list(r.columns) for r in rows],
    }, schema_overrides={"columns": pl.List(pl.String)})
    return frame.with_columns(pl.col("columns").list.join(", ")) if joined else frame


def readable_comparison(frame: pl.DataFrame) -> pl.DataFrame:
    """The comparison as a person reads it: a missing knob spelled out, the intervals as one
    column each, and every number of the metric with the same decimals."""
    import polars as pl

    from runlake.analysis import DIFF_COLUMNS, STAT_COLUMNS

    stat_columns = {*STAT_COLUMNS, *DIFF_COLUMNS}
    keys = [c for c in frame.columns if c not in stat_columns]
    missing = pl.col("knob_missing")
    places = _decimals(frame.select(pl.col("mean", "ci_low", "ci_high").abs().max()).row(0))
    number = _number_format(places)
    columns = [
        *(frame.select(pl.when(missing & pl.col(k).is_null()).then(pl.lit("(missing)"))
                       .otherwise(pl.col(k).cast(pl.String)).alias(k)).to_series()
          for k in keys),
        frame["n"],
        *([frame["n_missing_metric"].alias("no value")]
          if frame["n_missing_metric"].sum() else []),
        _formatted(frame["mean"], number),
        _interval(frame, "ci_low", "ci_high", number, "95% CI"),
        _formatted(frame["min"], number), _formatted(frame["max"], number), frame["rank"],
    ]
    if "diff" in frame.columns:
        columns += [_formatted(frame["diff"], number),
                    _interval(frame, "diff_ci_low", "diff_ci_high", number, "diff 95% CI")]
    return pl.DataFrame(columns)


def _decimals(magnitudes: tuple[object, ...]) -> int:
    """Decimals that show three significant digits of the largest number (2 for 1-5)."""
    largest = max((abs(m) for m in magnitudes if isinstance(m, float) and math.isfinite(m)),
                  default=0.0)
    if largest == 0:
        return 2
    return min(max(2 - math.floor(math.log10(largest)), 0), 6)


def _number_format(places: int) -> Callable[[object], str | None]:
    def text(value: object) -> str | None:
        return None if not isinstance(value, (int, float)) else f"{value:.{places}f}"
    return text


def _formatted(series: pl.Series, number: Callable[[object], str | None]) -> pl.Series:
    import polars as pl

    return pl.Series(series.name, [number(value) for value in series], dtype=pl.String)


def _interval(frame: pl.DataFrame, low: str, high: str,
              number: Callable[[object], str | None], name: str) -> pl.Series:
    import polars as pl

    pairs = zip(frame[low], frame[high], strict=True)
    return pl.Series(name, [None if a is None or b is None else f"[{number(a)}, {number(b)}]"
                            for a, b in pairs], dtype=pl.String)


# -- export, importers, learning ------------------------------------------------------------


def print_export(out: Console, err: Console, result: runlake.ExportResult) -> None:
    counts = ", ".join(f"{split} {n}" for split, n in result.examples.items())
    out.print(f"exported {result.kind} to {result.out}: {counts}", highlight=False)
    out.print(f"dataset card: {result.files[-1]}", highlight=False)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)


def print_import(out: Console, err: Console, report: runlake.ImportReport) -> None:
    for rejected in report.rejected:
        err.print(f"[yellow]rejected:[/yellow] {escape(str(rejected))}", highlight=False,
                  soft_wrap=True)
    appended = ", ".join(f"{count} to {table!r}" for table, count in report.appended.items())
    out.print(f"appended {appended}; already present {report.already_present}; "
              f"rejected {report.skipped}", highlight=False)
    if report.rejected:
        kinds = Counter(r.reason.split(":")[0].split(" (")[0] for r in report.rejected)
        err.print("rejected: " + ", ".join(f"{n} {kind}" for kind, n in kinds.most_common()),
                  highlight=False, markup=False)
    if report.ignored:
        out.print(f"not images (not read): {report.ignored} files", highlight=False)


def print_demo(out: Console, result: runlake.DemoResult, root: Path) -> None:
    out.print(f"appended {result.runs} runs, {result.job_events} job events and "
              f"{result.ratings} ratings to {root} ({result.failed_jobs} jobs failed, "
              f"{result.write_failures} writes spilled)", highlight=False)
