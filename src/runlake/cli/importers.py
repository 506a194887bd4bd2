"""The ``import`` commands: existing StableNew logs and A1111/Forge PNGs into the lake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import runlake
from runlake.cli.render import print_import
from runlake.cli.session import session

import_app = typer.Typer(
    name="import",
    help="Import existing generation logs and images into the lake.",
    no_args_is_help=True,
)


@import_app.command("stablenew")
def stablenew(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A StableNew learning_records.jsonl file.")],
) -> None:
    """Import a StableNew learning_records.jsonl into the runs and ratings tables.

    Re-importing the same file appends nothing.

    Example: runlake import stablenew ~/StableNew/data/learning/learning_records.jsonl
    """
    here = session(ctx)
    print_import(here.out, here.err, runlake.import_stablenew(here.lake(), path))


@import_app.command("images")
def images(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="A folder of PNGs (searched recursively).")],
) -> None:
    """Import the generation parameters embedded in PNG images into the runs table.

    Reads the WebUI's "parameters" text chunk; PNGs without one are counted and skipped.
    Re-importing the same images appends nothing.

    Example: runlake import images ~/stable-diffusion-webui/outputs/txt2img-images
    """
    here = session(ctx)
    print_import(here.out, here.err, runlake.import_images(here.lake(), directory))
