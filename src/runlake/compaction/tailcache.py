"""The persisted tail cache: normalized rows of raw byte ranges, kept under the lake so that
a fresh process's first read of a table does not parse the uncompacted tail again.

One entry per range of one segment, as Arrow IPC (zstd level 1)::

    cache/<table>/tail/date=YYYY-MM-DD/seg-NNNNNN/<start>-<end>-<size>-<crc32>.<FORMAT>.arrow

holding the rows :func:`~runlake.compaction.normalize_lines` gives for the segment's bytes
``[start, end)``, before any deduplication. A read of a pending slice uses a chain of entries:
the first starts where the slice starts, each next one where the one before ended, none past
the slice's end; only the bytes after the chain are normalized, and stored as the next entry.

Never a source of truth. An entry is used only if all of these hold, else it is a miss:

- its ``FORMAT`` is this code's: a hash of the normalization's source files and of the
  Polars and Arrow versions, so a rule changed anywhere never reads old rows;
- its size and CRC-32 are those in its name (a truncated or garbled file is removed);
- the segment is the same file (device and inode in the entry's metadata) and still holds
  the same bytes at both ends of the range (fingerprints of the 4 KiB after ``start`` and
  before ``end``): a segment cut back, rewritten, or deleted and recreated is never matched.

Entries are written to a temporary file and renamed. Compaction and vacuum remove entries
that a pending slice can no longer use (compacted, of another format, of a segment gone),
once they are an hour old: a reader may still hold a lazy frame over them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mmap
import os
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.ipc as pa_ipc

from runlake.append import SegmentSlice
from runlake.compaction.offsets import FINGERPRINT_BYTES, segment_key
from runlake.storage import LakePaths

log = logging.getLogger(__name__)

TAIL_DIR = "tail"
GRACE_SECONDS = 3600.0  # an unusable entry is removed only this long after it was written
_MAX_CHAIN = 8  # a longer chain is merged into one entry when the next is stored
_SUFFIX = ".arrow"


def _format() -> str:
    """The normalization format: changes with any source file that decides what a row holds
    and with the engines' versions."""
    digest = hashlib.blake2b(digest_size=6)
    here = Path(__file__).parent
    records = here.parent / "records"
    for source in sorted([*here.glob("*.py"), *records.glob("*.py")]):
        digest.update(source.name.encode() + source.read_bytes())
    for package in ("polars", "pyarrow"):
        digest.update(metadata.version(package).encode())
    return "n" + digest.hexdigest()


FORMAT = _format()


@dataclass(frozen=True)
class Entry:
    """One cached range: its file and the byte range ``[start, end)`` of its segment."""

    path: Path
    start: int
    end: int


@dataclass(frozen=True)
class _Name:
    start: int
    end: int
    size: int
    crc: int


def tail_dir(paths: LakePaths, table: str) -> Path:
    return paths.table_cache(table) / TAIL_DIR


def chain(paths: LakePaths, table: str, piece: SegmentSlice) -> list[Entry]:
    """The usable entries for ``piece``, in order, covering ``[piece.start, x)`` for the
    largest such ``x`` (an empty list: nothing cached)."""
    folder = _segment_dir(paths, table, piece.path)
    names = _names(folder)
    if not names:
        return []
    found: list[Entry] = []
    at = piece.start
    by_start: dict[int, tuple[_Name, Path]] = {}
    for path, name in names.items():  # from each start, the longest entry within the piece
        known = by_start.get(name.start)
        if name.end <= piece.end and (known is None or name.end > known[0].end):
            by_start[name.start] = (name, path)
    while at in by_start and at < piece.end:
        name, path = by_start[at]
        if not _usable(path, name, piece.path):
            _remove(path)
            break
        found.append(Entry(path, name.start, name.end))
        at = name.end
    return found


def store(paths: LakePaths, table: str, piece: SegmentSlice, frame: pl.DataFrame,
          before: list[Entry]) -> list[Entry]:
    """Keep ``frame`` (the rows of ``piece``) as an entry after the chain ``before``; return
    the chain now covering the piece (``before`` alone if the entry could not be written).

    A chain grown past a few entries is merged into one, so a table read after every append
    reads a handful of files per segment. The merged entries stay until compaction collects
    them: a reader may hold a lazy frame over them.
    """
    if piece.end <= piece.start:
        return before
    if len(before) + 1 > _MAX_CHAIN:
        merged = pl.concat([_read(entry.path) for entry in before] + [frame],
                           how="diagonal_relaxed")
        start = before[0].start
        written = _write(paths, table, SegmentSlice(piece.path, start, piece.end), merged)
        return before if written is None else [written]
    written = _write(paths, table, piece, frame)
    return before if written is None else [*before, written]


def scan(entry: Entry) -> pl.LazyFrame:
    return pl.scan_ipc(entry.path)


def collect_garbage(paths: LakePaths, table: str, offsets: Mapping[str, int], *,
                    now: float | None = None) -> int:
    """Remove entries no read can use any more, once ``GRACE_SECONDS`` old: of another
    format, of a segment gone, or starting before the segment's committed offset
    (``offsets``: segment key -> offset; pending slices start there). Leftover temporary
    files go too. Returns how many files were removed."""
    base = tail_dir(paths, table)
    if not base.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - GRACE_SECONDS
    removed = 0
    for folder in (p for date in _subdirs(base) for p in _subdirs(date)):
        key = f"{folder.parent.name}/{folder.name}.jsonl"
        segment = paths.raw_table(table) / key
        for path in list(folder.iterdir()):
            name = _parse(path)
            stale = (name is None or not segment.exists()
                     or name.start < offsets.get(key, 0))  # slices start at the offset
            if stale and _older(path, cutoff):
                removed += _remove(path)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if empty
    return removed


# -- entries on disk ----------------------------------------------------------------------


def _segment_dir(paths: LakePaths, table: str, segment: Path) -> Path:
    key = segment_key(segment)  # generated names only: date=YYYY-MM-DD/seg-NNNNNN.jsonl
    return tail_dir(paths, table) / key.removesuffix(".jsonl")


def _names(folder: Path) -> dict[Path, _Name]:
    try:
        listed = os.listdir(folder)
    except OSError:
        return {}
    found = {}
    for item in listed:
        path = folder / item
        name = _parse(path)
        if name is not None:
            found[path] = name
    return found


def _parse(path: Path) -> _Name | None:
    """The range, size and CRC in an entry's name, if it is an entry of this format."""
    suffix = f".{FORMAT}{_SUFFIX}"
    if not path.name.endswith(suffix) or path.name.startswith("."):
        return None
    parts = path.name.removesuffix(suffix).split("-")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    start, end, size, crc = (int(p) for p in parts)
    return _Name(start, end, size, crc) if start < end else None


def _usable(path: Path, name: _Name, segment: Path) -> bool:
    """The file is whole, and its rows are those of the segment's bytes it names."""
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size != name.size:
                return False
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                if zlib.crc32(data) != name.crc:
                    return False
        with pa.memory_map(str(path)) as source:
            meta = pa_ipc.open_file(source).schema.metadata or {}
        info = os.stat(segment)
    except (OSError, ValueError, pa.ArrowException):
        return False
    return (
        meta.get(b"dev") == str(info.st_dev).encode()
        and meta.get(b"ino") == str(info.st_ino).encode()
        and info.st_size >= name.end
        and meta.get(b"head") == _head(segment, name.start, name.end).encode()
        and meta.get(b"tail") == _tail(segment, name.start, name.end).encode()
    )


def _write(paths: LakePaths, table: str, piece: SegmentSlice, frame: pl.DataFrame
           ) -> Entry | None:
    folder = _segment_dir(paths, table, piece.path)
    temp = folder / f".{piece.start}-{piece.end}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        info = os.stat(piece.path)
        meta = {"dev": str(info.st_dev), "ino": str(info.st_ino),
                "head": _head(piece.path, piece.start, piece.end),
                "tail": _tail(piece.path, piece.start, piece.end)}
        folder.mkdir(parents=True, exist_ok=True)
        # Plain strings, not string views: the rows of one segment are a slice of a batch
        # holding many segments' lines, their view columns share the whole batch's data
        # buffers, and IPC writes every buffer a column references (each of 70 entries of a
        # 100k-line tail wrote the batch's 117 MB of payload: 74 s and 0.7 GB of cache).
        table_ = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
        table_ = table_.replace_schema_metadata(meta)
        options = pa_ipc.IpcWriteOptions(compression=pa.Codec("zstd", compression_level=1))
        with pa.OSFile(str(temp), "wb") as sink, \
                pa_ipc.new_file(sink, table_.schema, options=options) as writer:
            writer.write_table(table_)
        data = temp.read_bytes()
        target = folder / (f"{piece.start}-{piece.end}-{len(data)}-{zlib.crc32(data)}"
                           f".{FORMAT}{_SUFFIX}")
        os.replace(temp, target)
    except (OSError, pa.ArrowException) as exc:  # a cache we cannot write costs only time
        log.debug("tail cache entry not written for %s: %s", piece.path, exc)
        _remove(temp)
        return None
    return Entry(target, piece.start, piece.end)


def _read(path: Path) -> pl.DataFrame:
    return pl.read_ipc(path)


def _head(segment: Path, start: int, end: int) -> str:
    """The fingerprint of the first (up to) 4 KiB of ``[start, end)``."""
    return _fingerprint(segment, start, min(end, start + FINGERPRINT_BYTES))


def _tail(segment: Path, start: int, end: int) -> str:
    """The fingerprint of the last (up to) 4 KiB of ``[start, end)``."""
    return _fingerprint(segment, max(start, end - FINGERPRINT_BYTES), end)


def _fingerprint(segment: Path, start: int, end: int) -> str:
    with segment.open("rb") as handle:
        data = os.pread(handle.fileno(), end - start, start)
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _subdirs(path: Path) -> Iterator[Path]:
    try:
        yield from (p for p in path.iterdir() if p.is_dir())
    except OSError:
        return


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except OSError:
        return False


def _remove(path: Path) -> int:
    try:
        path.unlink()
    except OSError:
        return 0
    return 1
