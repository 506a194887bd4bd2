"""The ``export`` and ``report`` commands: datasets for tuning, and the static HTML report."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from runlake.cli.app import State, app, console
from runlake.export import ExportOptions, ExportResult

# The command's defaults are the library's: one place decides them.
_DEFAULTS = ExportOptions()


class Kind(str, Enum):
    sft = "sft"
    preference = "preference"
    table = "table"


@app.command("export")
def export_command(
    kind: Annotated[Kind, typer.Argument(help="sft (best settings per goal), preference "
                                         "(chosen/rejected pairs) or table (Parquet rows).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (missing or empty).")],
    version: Annotated[int | None, typer.Option(
        "--version", help="Runs table version to read (ratings as of its commit); default: "
        "the fresh view, uncompacted records included.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the group-aware split.")] = _DEFAULTS.seed,
    min_rating: Annotated[float | None, typer.Option(
        "--min-rating", help="Keep examples rated at least this.")] = None,
    min_ratings: Annotated[int, typer.Option(
        "--min-ratings", help="Keep settings groups with at least this many ratings.")
    ] = _DEFAULTS.min_ratings_per_group,
    date_from: Annotated[datetime | None, typer.Option(
        "--from", help="First UTC date of runs to keep.", formats=["%Y-%m-%d"],
        metavar="YYYY-MM-DD")
    ] = None,
    date_to: Annotated[datetime | None, typer.Option(
        "--to", help="Last UTC date of runs to keep.", formats=["%Y-%m-%d"],
        metavar="YYYY-MM-DD")
    ] = None,
    model: Annotated[list[str] | None, typer.Option(
        "--model", help="Keep runs of this model (repeat for several).", metavar="MODEL")] = None,
    threshold: Annotated[float, typer.Option(
        help="Preference pairs: the least difference of mean ratings.")
    ] = _DEFAULTS.preference_threshold,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace a previous export in --out.")] = False,
) -> None:
    """Export the rated runs as an LLM-tuning dataset with splits and a dataset card.

    No prompt or experiment is in two splits; the same snapshot and options give the same bytes.

    Example: runlake export sft --out datasets/sft --min-rating 3 --model sdxl
    """
    options = ExportOptions(
        seed=seed, min_rating=min_rating, min_ratings_per_group=min_ratings,
        date_from=_day(date_from), date_to=_day(date_to), models=tuple(model or ()),
        preference_threshold=threshold,
    )
    result = State.lake().export_dataset(kind.value, out, version=version, options=options,
                                         overwrite=overwrite)
    print_export(result)


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    title: Annotated[str, typer.Option(help="Title of the page.")] = "runlake report",
) -> None:
    """Write one static HTML file with the sweep's plots and tables (opens offline).

    Example: runlake report --out sweeps.html --title "March sweeps"
    """
    console.print(f"wrote {State.lake().report(out, title=title)}", highlight=False)


def print_export(result: ExportResult) -> None:
    counts = ", ".join(f"{split} {n}" for split, n in result.examples.items())
    console.print(f"exported {result.kind} to {result.out}: {counts}", highlight=False)
    console.print(f"dataset card: {result.files[-1]}", highlight=False)


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None
