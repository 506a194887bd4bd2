"""Defaults that signatures and the CLI's options show, in a module that imports nothing heavy.

``Lake``'s signatures show the table zone's sizes and times, and ``runlake export``'s options
show the export's; ``import runlake`` and ``runlake --help`` must not load Polars, Delta Lake
or Arrow just to know them (see ``lake.py`` and ``cli/export.py``).
"""

from __future__ import annotations

from typing import Literal

DEFAULT_BATCH_BYTES = 16 * 1024 * 1024  # raw bytes per compaction batch: bounds memory
DEFAULT_TARGET_SIZE = 128 * 1024 * 1024  # what optimize merges small files up to
DEFAULT_RETENTION_HOURS = 168  # Delta's default: a week of time travel
DEFAULT_MIN_N = 3  # the fewest values a compared group needs to be ranked
Compression = Literal["zstd", "snappy", "lz4", "uncompressed"]

# ExportOptions' defaults (export/options.py), which `runlake export --help` shows.
DEFAULT_EXPORT_SEED = 0
DEFAULT_MIN_RATINGS_PER_GROUP = 3  # an example resting on fewer ratings teaches luck
DEFAULT_PREFERENCE_THRESHOLD = 1.0
