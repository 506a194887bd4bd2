"""Default sizes and times of the table zone, in a module that imports nothing heavy.

``Lake``'s signatures show them, and ``import runlake`` must not load Polars, Delta Lake or
Arrow just to know them (see ``lake.py``).
"""

from __future__ import annotations

from typing import Literal

DEFAULT_BATCH_BYTES = 16 * 1024 * 1024  # raw bytes per compaction batch: bounds memory
DEFAULT_TARGET_SIZE = 128 * 1024 * 1024  # what optimize merges small files up to
DEFAULT_RETENTION_HOURS = 168  # Delta's default: a week of time travel
Compression = Literal["zstd", "snappy", "lz4", "uncompressed"]
