"""``export_frame``: LLM-tuning datasets from the joined, normalized runs.

>>> result = export_frame(rated_runs, "sft", Path("out"),            # doctest: +SKIP
...                       options=ExportOptions(seed=1, min_rating=3.0),
...                       snapshot={"runs_version": 12, "ratings_version": 4})
>>> result.examples                                                  # doctest: +SKIP
{'train': 40, 'validation': 5, 'test': 6}

The steps of an export, one module each (see the package docstring): split, filters,
groups, examples, files, card, output. Everything is built in memory first, so an export
that fails writes nothing. See ``docs/export.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from runlake.analysis import read_rated
from runlake.errors import UnknownColumn
from runlake.export.card import empty_splits, render_card
from runlake.export.examples import preference_examples, sft_examples, thin_evidence
from runlake.export.files import Built, jsonl_files, table_files
from runlake.export.filters import Filter, FilterStep, apply, row_filters
from runlake.export.groups import knob_columns, settings_groups
from runlake.export.options import SPLITS, ExportKind, ExportOptions, check_kind, least_ratings
from runlake.export.output import CARD, check_out, write_files
from runlake.export.split import with_splits
from runlake.records import DEFAULT_RATING_SCALE
from runlake.storage.shared import AnyPaths

REQUIRED = ("record_id", "rating")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: its files (the card last), the examples per split (0 for a
    split without a file), each filter with its counts, and the card's warnings (examples
    on few ratings, empty splits)."""

    kind: ExportKind
    out: Path
    files: tuple[Path, ...]
    examples: Mapping[str, int]
    filters: tuple[FilterStep, ...]
    warnings: tuple[str, ...] = ()


def export_frame(
    frame: pl.DataFrame,
    kind: ExportKind,
    out: Path,
    *,
    options: ExportOptions | None = None,
    snapshot: Mapping[str, object] | None = None,
    overwrite: bool = False,
) -> ExportResult:
    """Write an ``sft``, ``preference`` or ``table`` dataset of ``frame`` into ``out``:
    ``<split>.jsonl`` (or ``.parquet``) for each non-empty split and a ``README.md`` card.

    ``frame`` is the joined, normalized frame (``join_ratings`` over the lake's tables).
    ``snapshot`` is provenance for the card (table versions, the lake): it must not hold a
    clock time, or two exports of the same data would differ. The same frame (in any row
    order), options and snapshot give byte-identical files.
    """
    kind, options = check_kind(kind), options or ExportOptions()
    out = Path(out)
    replace = check_out(out, overwrite=overwrite)
    _require(frame.schema)
    knobs = knob_columns(frame.schema, options.knobs)
    rows = with_splits(frame, seed=options.seed, fractions=options.fractions)
    rows, steps = apply(rows, row_filters(frame.schema, options, list(knobs.values()),
                                          least=least_ratings(options, kind)))
    built, more, thin = _build(kind, rows, options, knobs)
    steps += more
    warnings = (*thin, *empty_splits(built, options))
    card = render_card(kind, built, steps=steps, options=options, snapshot=snapshot or {},
                       schema=frame.schema, warnings=warnings)
    paths = write_files(out, {**built.files, CARD: card.encode()}, replace=replace)
    examples = {split: built.stats[split].examples for split in SPLITS}
    return ExportResult(kind, out, tuple(paths), examples, tuple(steps), warnings)


def export_lake(
    paths: AnyPaths, kind: ExportKind, out: Path, *, version: int | None = None,
    options: ExportOptions | None = None, overwrite: bool = False,
) -> ExportResult:
    """Export the lake's rated runs (fresh, or the runs table at ``version`` with the ratings
    as of its commit); the card names the versions read. See :meth:`runlake.Lake.export_dataset`."""
    rated = read_rated(paths, version=version)
    return export_frame(rated.frame.collect(), kind, out, options=options,
                        snapshot=rated.provenance, overwrite=overwrite)


def _build(
    kind: ExportKind, rows: pl.DataFrame, options: ExportOptions, knobs: dict[str, str]
) -> tuple[Built, list[FilterStep], list[str]]:
    """The files, the filter steps past the row filters, and the evidence warnings."""
    if kind == "table":
        if options.min_rating is None:
            return table_files(rows), [], []
        at_least = Filter("min_rating", f"rating >= {options.min_rating}",
                          pl.col("rating") >= options.min_rating)
        rated, steps = apply(rows, [at_least])
        return table_files(rated), steps, []
    build = sft_examples if kind == "sft" else preference_examples
    scale = options.rating_scale or DEFAULT_RATING_SCALE
    examples, steps = build(settings_groups(rows, knobs, scale), options)
    return jsonl_files(examples), steps, thin_evidence(examples)


def _require(schema: pl.Schema) -> None:
    for name in REQUIRED:
        if name not in schema:
            raise UnknownColumn(name, [])
