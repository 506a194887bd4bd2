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


def rate(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(
        help="The run id, or the image path as the run recorded it (a path holds a / or "
        "ends in .png, .jpg ...).", metavar="RUN_ID|IMAGE_PATH")],
    score: Annotated[str, typer.Argument(help="A number on the rating scale (default 1-5).")],
    rater: Annotated[str | None, typer.Option(help="Who rated it.")] = None,
    notes: Annotated[str | None, typer.Option(help="A remark kept with the rating.")] = None,
    image: Annotated[bool, typer.Option("--image", help="TARGET is an image path.")] = False,
    run: Annotated[bool, typer.Option("--run", help="TARGET is a run id.")] = False,
) -> None:
    """Rate one run or image: append a rating record to the ratings table.

    A later rating of the same run replaces the earlier one in comparisons and exports.

    Example: runlake rate out/txt2img/00042.png 4 --rater ana
    """
    if image and run:
        raise typer.BadParameter("give --image or --run, not both")
    here = session(ctx)
    record_id = here.lake().rate(target, _number(score), rater=rater, notes=notes,
                                 by="image" if image else "run" if run else "auto")
    here.out.print(f"rated {target} {score} (rating record {record_id})", highlight=False)


def _number(text: str) -> float | str:
    """``text`` as a number when it is one; else the text itself, which the ratings table's
    contract then refuses with its reason (a score like "4/5" is not a number)."""
    try:
        return float(text)
    except ValueError:
        return text


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
