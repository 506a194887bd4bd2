"""Pending raw bytes, cut into batches of whole lines of bounded size.

A batch holds whole lines only, from one or more segments; ``pieces`` say which bytes came from
where, so a line maps back to its segment and offset. A batch from one segment is a view of
the memory-mapped segment; only batches gathering several small segments are copied. Memory
is bounded by the batch size, or by one line if a single line is longer.
"""

from __future__ import annotations

import bisect
import mmap
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TypeVar

from runlake.append.reader import SegmentSlice
from runlake.compaction.offsets import segment_key

_STEP = 1 << 20
_T = TypeVar("_T")
_B = TypeVar("_B")


@dataclass(frozen=True)
class Piece:
    """``length`` bytes of segment ``segment`` from ``offset``, at ``at`` in the batch."""

    segment: str
    offset: int
    at: int
    length: int


@dataclass(frozen=True)
class Batch:
    """Whole lines from one or more segments, and where each run of bytes came from."""

    data: memoryview
    pieces: Sequence[Piece]

    def origin(self, at: int) -> tuple[str, int]:
        """The segment key and offset of the byte at ``at`` in the batch."""
        starts = [p.at for p in self.pieces]
        piece = self.pieces[bisect.bisect_right(starts, at) - 1]
        return piece.segment, piece.offset + (at - piece.at)


Chunk = tuple[str, int, memoryview]  # whole lines: segment key, offset, the bytes


def read_batches(slices: Sequence[SegmentSlice], limit: int) -> Iterator[Batch]:
    """Yield batches of at most ``limit`` bytes (more only for one line longer than that)."""
    return gather(segment_chunks(slices, limit), limit)


def gather(runs: Iterable[Chunk], limit: int) -> Iterator[Batch]:
    """Batches of at most ``limit`` bytes from runs of whole lines of at most that size (or
    one longer line): a run never straddles two batches."""
    chunks: list[Chunk] = []
    filled = 0
    for key, offset, chunk in runs:
        if chunks and filled + len(chunk) > limit:
            yield _batch(chunks)
            chunks, filled = [], 0
        chunks.append((key, offset, chunk))
        filled += len(chunk)
    if chunks:
        yield _batch(chunks)


def segment_chunks(slices: Sequence[SegmentSlice], limit: int) -> Iterator[Chunk]:
    """Runs of whole lines of at most ``limit`` bytes (or one longer line), in order.

    Each run is memory-mapped on its own: the batch IS the page cache (no copy), and it is
    unmapped with the batch, so memory stays bounded. Mapping is safe because a slice ends
    where a finished append ended (see ``pending_slices``): nothing in it is ever cut back,
    and raw segments are never rewritten.
    """
    for piece in slices:
        key = segment_key(piece.path)
        with piece.path.open("rb") as handle:
            position = piece.start
            while position < piece.end:
                chunk = _map_lines(handle.fileno(), position, limit, piece.end)
                yield key, position, chunk
                position += len(chunk)


def _map_lines(fd: int, start: int, limit: int, end: int) -> memoryview:
    """Whole lines from ``start``: up to ``limit`` bytes, or one longer line."""
    base = start - start % mmap.ALLOCATIONGRANULARITY  # mappings start on a page boundary
    stop = min(start + limit, end)
    mapped = mmap.mmap(fd, stop - base, offset=base, access=mmap.ACCESS_READ)
    cut = stop - base if stop == end else mapped.rfind(b"\n", start - base) + 1
    if cut <= start - base:  # one line longer than a batch: map up to its end
        newline = _find_newline(fd, stop, end)
        mapped = mmap.mmap(fd, newline + 1 - base, offset=base, access=mmap.ACCESS_READ)
        cut = newline + 1 - base
    return memoryview(mapped)[start - base:cut]


def _find_newline(fd: int, start: int, end: int) -> int:
    while start < end:
        chunk = os.pread(fd, min(_STEP, end - start), start)
        index = chunk.find(b"\n")
        if index >= 0:
            return start + index
        start += len(chunk)
    return end - 1  # a slice always ends with a newline


def _batch(chunks: list[Chunk]) -> Batch:
    pieces = []
    at = 0
    for key, offset, chunk in chunks:
        pieces.append(Piece(key, offset, at, len(chunk)))
        at += len(chunk)
    data = chunks[0][2] if len(chunks) == 1 else memoryview(b"".join(c for _, _, c in chunks))
    return Batch(data, tuple(pieces))


def pipelined(
    batches: Iterable[_B], pool: Executor, work: Callable[[_B], _T], *, ahead: int
) -> Iterator[tuple[_B, _T]]:
    """``(batch, work(batch))`` in order, with up to ``ahead`` batches worked on in ``pool``
    at once: the next batches are read and worked on while the caller handles this one."""
    queued: deque[tuple[_B, Future[_T]]] = deque()
    try:
        for batch in batches:
            queued.append((batch, pool.submit(work, batch)))
            if len(queued) >= ahead:
                done, future = queued.popleft()
                yield done, future.result()
        while queued:
            done, future = queued.popleft()
            yield done, future.result()
    finally:  # after a failure: batches not started yet never start
        for _, future in queued:
            future.cancel()
