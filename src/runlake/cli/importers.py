"""The ``import`` commands: StableNew logs and documents, and folders of generated images,
into the lake. Exit 1 when any input was rejected (each one is listed with its reason)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

import runlake
from runlake.cli.progress import Bars, progress_bars
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
    path: Annotated[Path, typer.Argument(
        help="A StableNew JSONL log (learning records, job history), a JSON document (job, "
             "queue, sidecar), or a folder of them.")],
) -> None:
    """Import StableNew's learning records, job history and JSON documents.

    Learning records go to runs unchanged (ratings too, for rating kinds); job-history lines
    of every schema version, queue jobs, image metadata dumps and review sidecars become
    runs (a review with a rating also a rating). Re-importing appends nothing; exit 1 if
    any line or document was rejected.

    Example: runlake import stablenew ~/StableNew/data/learning/learning_records.jsonl
    """
    here = session(ctx)
    report = runlake.import_stablenew(here.lake(), path)
    print_import(here.out, here.err, report)
    if report.rejected:
        raise typer.Exit(1)


@import_app.command("images")
def images(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="A folder of images (searched recursively).")],
    workers: Annotated[int | None, typer.Option(
        help="Processes reading files (default: one per CPU for large folders).",
        min=1)] = None,
) -> None:
    """Import the generation metadata embedded in images into the runs table.

    Reads PNG, JPEG and WebP written by A1111/Forge, SD.Next, Civitai, ComfyUI (and
    ComfyUI-Image-Saver), InvokeAI, NovelAI, Fooocus and StableNew; metadata only, never
    the pixels. Every image without a run is listed with its reason; exit 1 if any.
    Re-importing the same images (or copies, or images another tool added metadata to)
    appends nothing.

    Example: runlake import images ~/stable-diffusion-webui/outputs/txt2img-images
    """
    here = session(ctx)
    with progress_bars(here.err) as bars:
        report = runlake.import_images(here.lake(), directory, workers=workers,
                                       progress=_images(bars))
    print_import(here.out, here.err, report)
    if report.rejected:
        raise typer.Exit(1)


def _images(bars: Bars | None) -> Callable[[int, int], None] | None:
    """The import's (done, total) as one bar of images."""
    if bars is None:
        return None
    return lambda done, total: bars("reading images", done, total)
