"""The bytes of each split file, and what each split holds (for the card).

Every choice here is for byte-identical output: examples sorted by a content key, JSON with
sorted keys (orjson: shortest round-trip floats), table rows sorted by record id and written
from one contiguous chunk with a fixed row-group size. Empty splits get no file: a listed
but empty split file makes ``datasets.load_dataset`` fail.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
import polars as pl

from runlake.export.examples import Example
from runlake.export.options import SPLITS
from runlake.export.split import SPLIT

ROW_GROUP_SIZE = 100_000
TABLE_ORDER = ("record_id", "event_time", "run_id", "image_path")


@dataclass(frozen=True)
class SplitStats:
    """What one split holds: examples (lines or rows), distinct prompts and experiments."""

    examples: int
    prompts: int
    experiments: int


@dataclass(frozen=True)
class Built:
    """An export in memory: file name -> bytes (non-empty splits only), and per-split stats."""

    files: dict[str, bytes]
    stats: dict[str, SplitStats]


def jsonl_files(examples: list[Example]) -> Built:
    """``<split>.jsonl`` for each split that has examples, lines sorted by example key."""
    files, stats = {}, {}
    for split in SPLITS:
        lines = sorted((e for e in examples if e.split == split), key=lambda e: e.key)
        stats[split] = _stats(len(lines), ((e.prompt, e.experiment_id) for e in lines))
        if lines:
            files[f"{split}.jsonl"] = b"".join(
                orjson.dumps(e.record, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
                for e in lines
            )
    return Built(files, stats)


def table_files(rows: pl.DataFrame) -> Built:
    """``<split>.parquet`` for each split that has rows: the input's columns, rows sorted."""
    order = [name for name in TABLE_ORDER if name in rows.columns]
    files, stats = {}, {}
    for split in SPLITS:
        part = rows.filter(pl.col(SPLIT) == split).drop(SPLIT)
        part = part.sort(order, nulls_last=True, maintain_order=True).rechunk()
        stats[split] = SplitStats(part.height, _distinct(part, "prompt"),
                                  _distinct(part, "experiment_id"))
        if part.height:
            files[f"{split}.parquet"] = _parquet(part)
    return Built(files, stats)


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", row_group_size=ROW_GROUP_SIZE)
    return buffer.getvalue()


def _distinct(frame: pl.DataFrame, name: str) -> int:
    return frame[name].drop_nulls().n_unique() if name in frame.columns else 0


def _stats(examples: int, keys: Iterable[tuple[str | None, str | None]]) -> SplitStats:
    prompts: set[str] = set()
    experiments: set[str] = set()
    for prompt, experiment in keys:
        if prompt is not None:
            prompts.add(prompt)
        if experiment is not None:
            experiments.add(experiment)
    return SplitStats(examples, len(prompts), len(experiments))
