"""The Typer application: the global ``--lake`` option, and every command, registered here.

Commands are listed once, below, in the order of the data's path; each lives in the module
of its stage. Registering them here (rather than by importing modules for their side
effects) keeps the list in one place and the order independent of imports.
"""

from __future__ import annotations

from typing import Annotated

import typer

import runlake
from runlake.cli import analysis, append, compaction, export, importers, learning, ship
from runlake.cli.session import Session
from runlake.errors import InvalidOption

app = typer.Typer(
    name="runlake",
    help="An append-only data lake for generation-run records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"runlake {runlake.__version__}")
        raise typer.Exit


@app.callback()
def _global(
    ctx: typer.Context,
    lake: Annotated[
        str | None,
        typer.Option("--lake", help="Lake root: a directory, or s3://bucket/prefix for a "
                     "shared lake (default: $RUNLAKE_LAKE, else ./lake).",
                     envvar="RUNLAKE_LAKE", show_envvar=False),
    ] = None,
    rating_scale: Annotated[
        str | None,
        typer.Option("--rating-scale", help="The scale ratings are on, LOW-HIGH (default "
                     "1-5; $RUNLAKE_RATING_SCALE): scores off it are refused.",
                     envvar="RUNLAKE_RATING_SCALE", show_envvar=False, metavar="LOW-HIGH"),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print runlake's version and exit.", is_eager=True,
                     callback=_version),
    ] = False,
) -> None:
    """runlake: append generation-run records, compact them, compare knobs."""
    # By name: typer vendors click, whose ParameterSource enum is not the one click exports.
    if getattr(ctx.get_parameter_source("lake"), "name", None) == "ENVIRONMENT":
        lake = None  # Lake() reads $RUNLAKE_LAKE itself: relative, it is resolved from $PWD
    ctx.obj = Session(lake, _scale(rating_scale))


def _scale(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    from runlake.records import parse_scale  # here: --help and status need no record module

    try:
        return parse_scale(text)
    except InvalidOption as exc:
        raise typer.BadParameter(str(exc), param_hint="--rating-scale") from exc


app.command()(append.append)
app.command()(append.rate)
app.command()(append.status)
app.command("replay-deadletter")(append.replay_deadletter)
app.command()(ship.ship)
app.command()(compaction.compact)
app.command()(compaction.optimize)
app.command()(compaction.vacuum)
app.command()(compaction.check)
app.command()(compaction.rebuild)
app.command()(analysis.compare)
app.command()(analysis.query)
app.command()(analysis.tables)
app.command()(analysis.stats)
app.command()(analysis.report)
app.command()(analysis.files)
app.command()(export.export)
app.add_typer(importers.import_app, name="import")
app.command()(learning.demo)
