"""What other engines need to read a table: the data files of one snapshot.

Engines with a Delta Lake reader (Polars, DuckDB's ``delta`` extension, Dask, Ray Data, Daft)
read ``tables/<table>/`` directly. One without (Spark without its Delta jars) must read
exactly the files the snapshot holds: a plain read of the directory would also read the files
an optimize replaced, counting their rows twice. See ``docs/engines.md``.
"""

from __future__ import annotations

from runlake.analysis.scan import open_at
from runlake.compaction import file_uris
from runlake.storage.shared import AnyPaths


def table_files(paths: AnyPaths, table: str, *, version: int | None = None) -> list[str]:
    """The absolute URIs of ``table``'s data files at ``version`` (default: the latest),
    sorted; empty when the table has no compacted version yet."""
    root = paths.table_files(paths.require_table(table))
    delta = open_at(root, table, version)
    return [] if delta is None else file_uris(root, delta)
