"""Export: LLM-tuning datasets (SFT examples, preference pairs, rated rows) with splits and a
dataset card, from the lake's rated runs.

Modules, in the order an export goes through them:

- ``dataset``: ``export_frame`` (a frame -> a dataset folder) and ``export_lake`` (the lake's
  rated runs, fresh or at a version -> a dataset folder); the steps below in order.
- ``options``: ``ExportOptions`` and the kinds and splits.
- ``split``: the group-aware split on the whole input (no prompt or experiment in two splits).
- ``filters``: row filters, each counted.
- ``groups``: settings groups with their mean rating and evidence.
- ``examples``: SFT examples and preference pairs.
- ``files``: the bytes of each split (JSON Lines, Parquet).
- ``card``: the dataset card (``README.md``).
- ``output``: the folder: staged, then renamed, so a failed export writes nothing.

Everything is built in memory first. Imports ``runlake.analysis`` (rated runs, column names)
and below, Polars and orjson. See ``docs/export.md``.
"""

from __future__ import annotations

from runlake.export.dataset import ExportResult, export_frame, export_lake
from runlake.export.filters import FilterStep
from runlake.export.options import KINDS, ExportKind, ExportOptions

__all__ = [
    "KINDS",
    "ExportKind",
    "ExportOptions",
    "ExportResult",
    "FilterStep",
    "export_frame",
    "export_lake",
]
