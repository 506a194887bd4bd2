"""Where bytes live: the lake's paths, its locks, and file access every stage shares.

Modules, in the order a write meets them:

- ``layout``: every path of a lake (``LakePaths``), table-name validation, partition and
  segment names and listings. Nothing from a record becomes a path except the validated
  table name and the computed date.
from runlake.storage.files import Entry, Files, LocalFiles
- ``fs``: the one ``OSError`` -> ``StorageError`` translation, fsync, file sizes, durable
  atomic file replacement (``replace_file``).
- ``locks``: ``partition_lock`` (a raw partition's appends), ``table_lock`` (a table's
  compaction, optimize and vacuum) and ``open_locked`` (a dead-letter file); the only module
  that uses ``filelock`` or ``flock``.

Not imported here, because the recording path never needs them (they load obstore):

- ``objects``: a root in an object store (``ObjectStore``, ``ObjectFiles``), obstore's
  errors -> ``StorageError``, and ``probe``, which refuses a store ignoring If-None-Match.
- ``shared``: the layout of a shared lake (``SharedPaths``): shipped raw objects named by
  table, date, host, segment and start offset; tables; quarantine.

Owns paths, locks and storage errors. Imports ``runlake.errors``, ``filelock`` and (in
``objects``) ``obstore`` only; every stage above may import it. Never Polars, Arrow or Delta
Lake (it is on the recording path).
"""

from __future__ import annotations

from runlake.storage.files import Entry, Files, LocalFiles
from runlake.storage.fs import (
    file_size,
    fsync_path,
    make_dirs,
    replace_file,
    storage_error,
    storage_errors,
)
from runlake.storage.layout import (
    LOCK_NAME,
    LakePaths,
    absolute,
    default_root,
    is_url,
    list_segments,
    segment_name,
    segment_number,
    validate_table,
)
from runlake.storage.locks import DEFAULT_LOCK_TIMEOUT, open_locked, partition_lock, table_lock

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "LOCK_NAME",
    "Entry",
    "Files",
    "LakePaths",
    "LocalFiles",
    "absolute",
    "default_root",
    "file_size",
    "fsync_path",
    "is_url",
    "list_segments",
    "make_dirs",
    "open_locked",
    "partition_lock",
    "replace_file",
    "segment_name",
    "segment_number",
    "storage_error",
    "storage_errors",
    "table_lock",
    "validate_table",
]
