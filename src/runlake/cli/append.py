"""The raw zone's commands: ``append``, ``status`` and ``replay-deadletter``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import runlake
from runlake.cli.render import Format, print_ingest, print_replay, print_status
from runlake.cli.session import session

if TYPE_CHECKING:  # the raw zone (filelock, orjson) loads when a command runs, not for --help
    from runlake.append import Durability


def append(
    ctx: typer.Context,
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
    here = session(ctx)
    lake = here.lake()
    if source == "-":
        report = runlake.append_jsonl(lake, table, sys.stdin.buffer, durability=mode)
    else:
        with _open(source) as stream:
            report = runlake.append_jsonl(lake, table, stream, durability=mode)
    print_ingest(here.out, here.err, table, report)
    if report.rejected:
        raise typer.Exit(1)


def status(
    ctx: typer.Context,
    output: Annotated[Format, typer.Option(
        "--format", help="table | csv | json (default: a table on a terminal, CSV when "
        "piped).")] = Format.auto,
) -> None:
    """Show the lake's tables with partitions, records and bytes.

    Example: runlake --lake ./lake status --format json
    """
    here = session(ctx)
    print_status(here.out, here.lake().status(), output)


def replay_deadletter(
    ctx: typer.Context,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="Dead-letter directory (default: the lake's deadletter/; "
                     "pass a failsafe writer's fallback directory to replay from there)."),
    ] = None,
) -> None:
    """Append records spilled by failsafe writers back into the lake.

    Example: runlake replay-deadletter --from /tmp/runlake-deadletter-1000
    """
    here = session(ctx)
    result = here.lake().replay_deadletter(source)
    print_replay(here.out, here.err, result)
    if result.failed:
        raise typer.Exit(1)


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
