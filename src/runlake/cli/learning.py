"""The ``import`` commands (StableNew logs, WebUI PNGs) and ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from runlake.cli.app import State, app, console, console_err
from runlake.cli.compaction import print_compaction
from runlake.cli.query import Format, print_frame, readable_comparison
from runlake.importers import ImportReport, import_images, import_stablenew
from runlake.learning.demo import DemoResult, run_demo

import_app = typer.Typer(
    name="import",
    help="Import existing generation logs and images into the lake.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")


@import_app.command("stablenew")
def import_stablenew_command(
    path: Annotated[Path, typer.Argument(help="A StableNew learning_records.jsonl file.")],
) -> None:
    """Import a StableNew learning_records.jsonl into the runs and ratings tables.

    Re-importing the same file appends nothing.

    Example: runlake import stablenew ~/StableNew/data/learning/learning_records.jsonl
    """
    _print_report(import_stablenew(State.lake(), path))


@import_app.command("images")
def import_images_command(
    directory: Annotated[Path, typer.Argument(help="A folder of PNGs (searched recursively).")],
) -> None:
    """Import the generation parameters embedded in PNG images into the runs table.

    Reads the WebUI's "parameters" text chunk; PNGs without one are counted and skipped.
    Re-importing the same images appends nothing.

    Example: runlake import images ~/stable-diffusion-webui/outputs/txt2img-images
    """
    _print_report(import_images(State.lake(), directory))


@app.command()
def demo(
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per grid cell.")] = 2,
    images: Annotated[
        Path | None,
        typer.Option(help="Where to save the PNGs (default: <lake>/demo_images)."),
    ] = None,
) -> None:
    """Run a demo sweep through the learning hooks, compact it and compare knobs.

    3 models x 4 samplers x 3 CFG scales x seeds, plus a steps experiment, run through
    PipelineController -> PipelineRunner -> the offline backend with the learning writer;
    the images are rated, then runs, job events and ratings are compacted and compared.

    Example: runlake --lake /tmp/lake demo --seeds 3
    """
    lake = State.lake()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("running jobs", total=None)
        result = run_demo(lake, seeds=seeds, images_dir=images or lake.root / "demo_images",
                          progress=lambda done, total: bar.update(task, completed=done,
                                                                  total=total))
    _print_demo(result, lake.root)
    print_compaction(lake.compact())
    for knob in ("sampler", "cfg_scale"):
        print_frame(readable_comparison(lake.compare(knob)), Format.table,
                    title=f"rating by {knob} (runs joined with their ratings)")
    console.print(f"next: runlake --lake {lake.root} compare --by sampler,steps --within model",
                  highlight=False)


def _print_report(report: ImportReport) -> None:
    for problem in report.problems:
        console_err.print(f"[yellow]skipped:[/yellow] {problem}", highlight=False,
                          soft_wrap=True)
    appended = ", ".join(f"{count} to {table!r}" for table, count in report.appended.items())
    console.print(f"appended {appended}; already present {report.already_present}; "
                  f"skipped {report.skipped}", highlight=False)


def _print_demo(result: DemoResult, root: Path) -> None:
    console.print(f"appended {result.runs} runs, {result.job_events} job events and "
                  f"{result.ratings} ratings to {root} ({result.failed_jobs} jobs failed, "
                  f"{result.write_failures} writes spilled)", highlight=False)
