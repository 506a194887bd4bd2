"""The Parquet files of a Delta table: writing a batch's partitions, rewriting a file.

Files go straight to where the table keeps them (``date=YYYY-MM-DD/part-....parquet``) but
belong to the table only once a commit adds them; until then they are invisible to every
reader, and a crash leaves them as orphans that ``vacuum`` removes. The partition column
lives in the path, not in the file, as the Delta protocol expects.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from runlake.compaction.evolve import conform_exprs
from runlake.defaults import Compression
from runlake.storage import fsync_path, storage_errors

PARTITION = "date"
PAYLOAD = "payload"


@dataclass(frozen=True)
class DataFile:
    """A Parquet file written for the table: where, which partition, how big, what types."""

    path: str  # relative to the table root
    date: str
    size: int
    rows: int
    modified_ms: int
    stats: str  # the Delta ``add`` action's stats
    types: Mapping[str, pl.DataType]


@dataclass(frozen=True)
class FileOptions:
    """How data files are written."""

    compression: Compression = "zstd"
    level: int = 1  # zstd's level (the other codecs have none)
    durable: bool = True  # fsync each file before the commit that adds it

    @property
    def codec_level(self) -> int | None:
        return self.level if self.compression == "zstd" else None


def rewrite(
    root: Path, file: DataFile, *, types: Mapping[str, pl.DataType], drop_rows: pl.Series,
    tag: str, options: FileOptions,
) -> DataFile | None:
    """Write ``file`` again with its columns cast to ``types`` and without the rows at the
    positions ``drop_rows``; ``None`` if no row is left. Streams, so a large file does not
    need to fit in memory. The old file is left alone (it may be committed)."""
    wanted = {n: t for n, t in types.items() if n in file.types}
    relative = _name(file.date, tag, options)
    target = root / relative
    with storage_errors(target):
        (pl.scan_parquet(root / file.path, hive_partitioning=False)
         .with_row_index("_row")
         .filter(~pl.col("_row").is_in(drop_rows.implode()))
         .drop("_row")
         .with_columns(conform_exprs(file.types, wanted))
         .sink_parquet(target, compression=options.compression,
                       compression_level=options.codec_level, mkdir=True))
        written = pl.scan_parquet(target, hive_partitioning=False).select(
            pl.len().alias("rows"), pl.col("record_id").min().alias("lo"),
            pl.col("record_id").max().alias("hi")).collect()
    if written["rows"][0] == 0:
        target.unlink()
        return None
    if options.durable:
        fsync_path(target)
    return _described(target, relative, file.date, written.row(0), wanted)


def write_file(root: Path, date: str, frame: pl.DataFrame, *, tag: str,
               options: FileOptions) -> DataFile:
    """Write the rows of one partition (without the ``date`` column) as a new file; ``tag``
    goes into its name (the compaction sequence, to tell which run wrote a file)."""
    relative = _name(date, tag, options)
    target = root / relative
    with storage_errors(target):  # a full disk is the user's to fix: name the file, say why
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_parquet(frame, target, options)
        if options.durable:
            fsync_path(target)
    ids = frame["record_id"]
    return _described(target, relative, date, (frame.height, ids.min(), ids.max()),
                      dict(frame.schema))


def _write_parquet(frame: pl.DataFrame, target: Path, options: FileOptions) -> None:
    """pyarrow's writer, which takes per-column settings: ``payload`` (long, unique) gets
    neither a dictionary attempt nor min/max statistics, which would only cost time.

    No Arrow schema is stored in the file (``store_schema=False``): it would record Polars'
    string views (``Utf8View``), which some engines (Daft) cannot read, whereas the Parquet
    types say plain UTF-8 strings to every reader. Cheaper than casting to plain strings.
    """
    table = frame.to_arrow(compat_level=pl.CompatLevel.newest())  # no copy
    indexed = [name for name in frame.columns if name != PAYLOAD]
    pq.write_table(table, target, compression=options.compression,
                   compression_level=options.codec_level, use_dictionary=indexed,
                   write_statistics=indexed, store_schema=False)


def _described(target: Path, relative: str, date: str, summary: tuple[object, ...],
               types: Mapping[str, pl.DataType]) -> DataFile:
    rows, low, high = summary
    stat = target.stat()
    stats = json.dumps({
        "numRecords": rows,
        "minValues": {"record_id": low},
        "maxValues": {"record_id": high},
        "nullCount": {"record_id": 0},
    })
    return DataFile(relative, date, stat.st_size, int(str(rows)), stat.st_mtime_ns // 1_000_000,
                    stats, dict(types))


def _name(date: str, tag: str, options: FileOptions) -> str:
    return f"{PARTITION}={date}/part-{tag}-{uuid.uuid4().hex}.{options.compression}.parquet"


def remove_files(root: Path, files: Iterable[DataFile]) -> None:
    """Delete files this process wrote and will not commit (missing ones are fine)."""
    for file in files:
        (root / file.path).unlink(missing_ok=True)
