"""The Parquet files of a Delta table: writing a batch's partitions, rewriting a file.

Files go straight to where the table keeps them (``date=YYYY-MM-DD/part-....parquet``) but
belong to the table only once a commit adds them; until then they are invisible to every
reader, and a crash leaves them as orphans that ``vacuum`` removes. The partition column
lives in the path, not in the file, as the Delta protocol expects.

A local table's files are written in place (pyarrow, Polars' streaming sink) and fsynced; in
an object store a file is built in memory (a batch's partition, or one file being rewritten)
and created with ``If-None-Match``, so a name is never written twice.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from runlake.compaction.evolve import conform_exprs
from runlake.defaults import Compression
from runlake.storage import Files, fsync_path, storage_errors

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
    root: Files, file: DataFile, *, types: Mapping[str, pl.DataType], drop_rows: pl.Series,
    tag: str, options: FileOptions, names: Mapping[str, str] | None = None,
) -> DataFile | None:
    """Write ``file`` again with its columns renamed by ``names`` (a worker may have spelled
    a new column otherwise than the table), cast to ``types`` and without the rows at the
    positions ``drop_rows``; ``None`` if no row is left. The old file is left alone (it may
    be committed)."""
    renamed = {(names or {}).get(n, n): t for n, t in file.types.items()}
    wanted = {n: t for n, t in types.items() if n in renamed}
    rows = (pl.scan_parquet(root.child(file.path), hive_partitioning=False,
                            storage_options=root.options)
            .rename(dict(names or {}), strict=False)
            .with_row_index("_row")
            .filter(~pl.col("_row").is_in(drop_rows.implode()))
            .drop("_row")
            .with_columns(conform_exprs(renamed, wanted)))
    if root.local is None:
        frame = rows.collect()
        return None if frame.is_empty() else write_file(root, file.date, frame, tag=tag,
                                                       options=options)
    return _sink(root.local, rows, file, wanted, tag=tag, options=options)


def _sink(root: Path, rows: pl.LazyFrame, file: DataFile, types: Mapping[str, pl.DataType],
          *, tag: str, options: FileOptions) -> DataFile | None:
    """A local rewrite streams, so a large file does not need to fit in memory."""
    relative = _name(file.date, tag, options)
    target = root / relative
    with storage_errors(target):
        rows.sink_parquet(target, compression=options.compression,
                          compression_level=options.codec_level, mkdir=True)
        written = pl.scan_parquet(target, hive_partitioning=False).select(
            pl.len().alias("rows"), pl.col("record_id").min().alias("lo"),
            pl.col("record_id").max().alias("hi")).collect()
    if written["rows"][0] == 0:
        target.unlink()
        return None
    if options.durable:
        fsync_path(target)
    stat = target.stat()
    return _described(relative, file.date, written.row(0), types,
                      (stat.st_size, stat.st_mtime_ns // 1_000_000))


def write_file(root: Files, date: str, frame: pl.DataFrame, *, tag: str,
               options: FileOptions) -> DataFile:
    """Write the rows of one partition (without the ``date`` column) as a new file; ``tag``
    goes into its name (the compaction sequence, to tell which run wrote a file)."""
    relative = _name(date, tag, options)
    ids = frame["record_id"]
    summary = (frame.height, ids.min(), ids.max())
    if root.local is None:
        buffer = pa.BufferOutputStream()
        _write_parquet(frame, buffer, options)
        data = buffer.getvalue()
        root.create(relative, memoryview(data).cast("B"))  # pyarrow says signed bytes
        written = (data.size, time.time_ns() // 1_000_000)
        return _described(relative, date, summary, dict(frame.schema), written)
    target = root.local / relative
    with storage_errors(target):  # a full disk is the user's to fix: name the file, say why
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_parquet(frame, target, options)
        if options.durable:
            fsync_path(target)
        stat = target.stat()
    return _described(relative, date, summary, dict(frame.schema),
                      (stat.st_size, stat.st_mtime_ns // 1_000_000))


def _write_parquet(frame: pl.DataFrame, target: Path | pa.NativeFile,
                   options: FileOptions) -> None:
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


def _described(relative: str, date: str, summary: tuple[object, ...],
               types: Mapping[str, pl.DataType], written: tuple[int, int]) -> DataFile:
    """The file's description: ``summary`` is (rows, lowest id, highest id), ``written``
    (size, modification time in ms)."""
    rows, low, high = summary
    stats = json.dumps({
        "numRecords": rows,
        "minValues": {"record_id": low},
        "maxValues": {"record_id": high},
        "nullCount": {"record_id": 0},
    })
    return DataFile(relative, date, written[0], int(str(rows)), written[1], stats, dict(types))


def _name(date: str, tag: str, options: FileOptions) -> str:
    return f"{PARTITION}={date}/part-{tag}-{uuid.uuid4().hex}.{options.compression}.parquet"


def partitions(fitted: pl.DataFrame) -> Iterator[tuple[str, pl.DataFrame]]:
    """A fitted batch's rows per date, without the ``date`` column (it lives in the path)."""
    dates = fitted[PARTITION]
    if dates.min() == dates.max():  # the usual case: a batch from one raw partition
        yield str(dates[0]), fitted.drop(PARTITION)
        return
    for (date,), part in fitted.partition_by(PARTITION, as_dict=True,
                                             include_key=False).items():
        yield str(date), part


def remove_files(root: Files, files: Iterable[DataFile]) -> None:
    """Delete files this process wrote and will not commit (missing ones are fine)."""
    for file in files:
        root.remove(file.path)


def parquet_types(root: Files, name: str) -> dict[str, pl.DataType]:
    """The column types stored in the data file ``name``."""
    if root.local is not None:
        return dict(pl.read_parquet_schema(root.local / name))
    scan = pl.scan_parquet(root.child(name), hive_partitioning=False,
                           storage_options=root.options)
    return dict(scan.collect_schema())
