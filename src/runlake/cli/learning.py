"""The ``demo`` command: a demo sweep through the learning hooks, compacted and compared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

import runlake
from runlake.cli.progress import Bars, progress_bars
from runlake.cli.render import (
    Format,
    print_compaction,
    print_demo,
    print_frame,
    readable_comparison,
)
from runlake.cli.session import session
from runlake.errors import InvalidOption


def demo(
    ctx: typer.Context,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per grid cell (3: enough ratings "
                                       "per setting for an export).")] = 3,
    images: Annotated[
        Path | None,
        typer.Option(help="Where to save the PNGs (default: `<lake>/demo_images`)."),
    ] = None,
) -> None:
    """Run a demo sweep through the learning hooks, compact it and compare knobs.

    3 models x 4 samplers x 3 CFG scales x seeds, plus a steps experiment, run through
    PipelineController -> PipelineRunner -> the offline backend with the learning writer;
    the images are rated, then runs, job events and ratings are compacted and compared.

    A lake that already holds tables is refused: a second sweep on top of the first would
    double every count and narrow every interval, silently.

    Example: runlake --lake /tmp/lake demo --seeds 3
    """
    here = session(ctx)
    lake = here.lake()
    _refuse_a_used_lake(lake)
    with progress_bars(here.out) as bars:
        result = runlake.run_demo(
            lake, seeds=seeds, images_dir=images or lake.paths.root / "demo_images",
            progress=_jobs(bars))
    print_demo(here.out, result, lake.paths.root)
    print_compaction(here.out, lake.compact())
    for knob in ("sampler", "cfg_scale"):
        print_frame(here.out, lake.compare(knob), Format.table, readable=readable_comparison,
                    title=f"rating by {knob} (runs joined with their ratings)")
    here.out.print(f"next: runlake --lake {lake.root} compare --by sampler,steps --within model",
                   highlight=False)


def _refuse_a_used_lake(lake: runlake.Lake) -> None:
    """:class:`InvalidOption` when ``lake`` already holds a table (the demo's or any other):
    as ``git clone`` refuses a folder that is not empty, not as a silent merge."""
    found = lake.tables()
    if found:
        root = lake.paths.root.resolve()
        raise InvalidOption(
            f"the lake {root} already holds tables ({', '.join(found)}): a second demo would "
            f"add its sweep on top and double every count. Run it into a new lake (runlake "
            f"--lake {root.parent / 'demo-lake'} demo), or remove {root} first")


def _jobs(bars: Bars | None) -> Callable[[int, int], None] | None:
    """The demo's (done, total) as one bar of jobs."""
    if bars is None:
        return None
    return lambda done, total: bars("running jobs", done, total)
