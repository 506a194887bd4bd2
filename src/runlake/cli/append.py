"""The typer application, its global options, and the raw-zone commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from runlake.append.ingest import append_jsonl
from runlake.append.segments import Durability
from runlake.append.status import LakeStatus
from runlake.lake import Lake

console = Console()
console_err = Console(stderr=True)

app = typer.Typer(
    name="runlake",
    help="An append-only data lake for generation-run records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


class State:
    """Options given before the command, shared by every command."""

    lake_path: Path | None = None

    @classmethod
    def lake(cls) -> Lake:
        return Lake(cls.lake_path)


@app.callback()
def _global(
    lake: Annotated[
        Path | None,
        typer.Option("--lake", help="Lake root (default: $RUNLAKE_LAKE, else ./lake).",
                     envvar="RUNLAKE_LAKE", show_envvar=False),
    ] = None,
) -> None:
    """runlake: append generation-run records, compact them, compare knobs."""
    State.lake_path = lake


@app.command()
def append(
    table: Annotated[str, typer.Argument(help="Table to append to, e.g. runs.")],
    source: Annotated[str, typer.Argument(help="A JSON Lines file, or - for stdin.")] = "-",
    durability: Annotated[
        str, typer.Option(help="fsync | flush | none: how durable the write is on return.")
    ] = "flush",
) -> None:
    """Append the JSON object lines of SOURCE to TABLE; bad lines are reported and skipped.

    Example: runlake append runs learning_records.jsonl
    """
    mode: Durability = _durability(durability)
    lake = State.lake()
    if source == "-":
        report = append_jsonl(lake, table, sys.stdin.buffer, durability=mode)
    else:
        with _open(source) as stream:
            report = append_jsonl(lake, table, stream, durability=mode)
    for rejection in report.rejected:
        console_err.print(f"[yellow]line {rejection.line}:[/yellow] {rejection.reason}",
                          highlight=False, soft_wrap=True)
    console.print(f"appended {report.written} records to {table!r}, "
                  f"rejected {len(report.rejected)}", highlight=False)
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def status() -> None:
    """Show the lake's tables with partitions, records and bytes.

    Example: runlake --lake ./lake status
    """
    print_status(State.lake().status())


@app.command("replay-deadletter")
def replay_deadletter(
    source: Annotated[
        Path | None,
        typer.Option("--from", help="Dead-letter directory (default: the lake's deadletter/; "
                     "pass a failsafe writer's fallback directory to replay from there)."),
    ] = None,
) -> None:
    """Append records spilled by failsafe writers back into the lake.

    Example: runlake replay-deadletter --from /tmp/runlake-deadletter-1000
    """
    result = State.lake().replay_deadletter(source)
    for error in result.errors:
        console_err.print(f"[yellow]still failing:[/yellow] {error}", highlight=False)
    console.print(f"replayed {result.replayed} records, {result.failed} still failing "
                  f"(kept), {result.files_done} files done", highlight=False)
    if result.failed:
        raise typer.Exit(1)


def print_status(result: LakeStatus) -> None:
    if not result.tables:
        console.print(f"lake {result.root} is empty", highlight=False)
        return
    table = Table(title=f"lake {result.root}", title_justify="left")
    for column in ("table", "partitions", "segments", "records", "bytes", "dates"):
        table.add_column(column, justify="left" if column in ("table", "dates") else "right")
    for t in result.tables:
        dates = f"{t.first_date} .. {t.last_date}" if t.first_date else "-"
        table.add_row(t.name, str(t.partitions), str(t.segments), f"{t.records:,}",
                      f"{t.bytes:,}", dates)
    console.print(table)


def _durability(value: str) -> Durability:
    if value == "fsync":
        return "fsync"
    if value == "flush":
        return "flush"
    if value == "none":
        return "none"
    raise typer.BadParameter(f"{value!r} is not one of fsync, flush, none",
                             param_hint="--durability")


def _open(source: str) -> typer.FileBinaryRead:
    try:
        return Path(source).open("rb")  # type: ignore[return-value]
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {source}: {exc.strerror}",
                                 param_hint="SOURCE") from exc
