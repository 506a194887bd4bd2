"""The ``export`` command: datasets for tuning an LLM, with splits and a dataset card."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

import runlake
from runlake.cli.render import print_export
from runlake.cli.session import session
from runlake.defaults import (
    DEFAULT_EXPORT_SEED,
    DEFAULT_MIN_RATINGS_PER_GROUP,
    DEFAULT_PREFERENCE_THRESHOLD,
)

# The command's defaults are the library's, from runlake.defaults: one place decides them,
# and `--help` need not import the export stage (Polars) to show them.


class Kind(str, Enum):
    sft = "sft"
    preference = "preference"
    table = "table"


def export(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(help="sft (best settings per goal), preference "
                                         "(chosen/rejected pairs) or table (Parquet rows).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (missing or empty).")],
    version: Annotated[int | None, typer.Option(
        "--version", help="Runs table version to read (ratings as of its commit); default: "
        "the fresh view, uncompacted records included.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the group-aware split.")
                    ] = DEFAULT_EXPORT_SEED,
    min_rating: Annotated[float | None, typer.Option(
        "--min-rating", help="Keep examples rated at least this.")] = None,
    min_ratings: Annotated[int | None, typer.Option(
        "--min-ratings", help="Keep settings groups (a goal and its settings, seeds pooled) "
        f"with at least this many ratings (default: {DEFAULT_MIN_RATINGS_PER_GROUP} for sft "
        "and preference, fewer teach luck; 1 for table).", show_default=False)] = None,
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
    ] = DEFAULT_PREFERENCE_THRESHOLD,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace a previous export in --out.")] = False,
) -> None:
    """Export the rated runs as an LLM-tuning dataset with splits and a dataset card.

    No prompt or experiment is in two splits; the same snapshot and options give the same bytes.

    Example: runlake export sft --out datasets/sft --min-rating 3 --model sdxl
    """
    options = runlake.ExportOptions(
        seed=seed, min_rating=min_rating, min_ratings_per_group=min_ratings,
        date_from=_day(date_from), date_to=_day(date_to), models=tuple(model or ()),
        preference_threshold=threshold,
    )
    here = session(ctx)
    result = here.lake().export_dataset(kind.value, out, version=version, options=options,
                                        overwrite=overwrite)
    print_export(here.out, here.err, result)


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None
