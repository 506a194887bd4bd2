"""Thumbnails of the images runs name, read safely, made once and cached.

An image path comes from a record, so it is untrusted text. It only ever becomes one file
read: a path that looks like a URL (``https:``, ``file:``, ``data:``...) is not fetched; the
file is opened with ``O_NOFOLLOW`` (a symbolic link is not followed) and ``O_NONBLOCK`` (a
FIFO cannot hang the report), and must then be a regular file of at most ``MAX_FILE_BYTES``.
A relative path is relative to the current folder, as for any command-line tool. Only PNG,
JPEG and WebP decoders are allowed (Pillow's other plugins include EPS, which runs
Ghostscript), and an image of more than ``MAX_PIXELS`` pixels is refused before it is
decoded. Whatever goes wrong gives a :class:`Thumbnail` with a ``problem`` (a placeholder's
label), never an exception.

A thumbnail is a WebP of at most ``side`` pixels a side. JPEGs are decoded at a reduced
scale (``draft``); PNGs must be decoded whole, which dominates a report's time, so the work
runs on a thread per core (Pillow releases the GIL while decoding) and each thumbnail is kept
in ``<lake>/cache/_thumbnails/``, keyed by the path, size and modification time of its image
and the thumbnail's side: the next report of the same images reads them back. The cache is
never a source of truth: an unreadable entry is made again.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import io
import os
import re
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image

DEFAULT_SIDE = 192
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_PIXELS = 64 * 1024 * 1024  # 8192 x 8192; Pillow itself warns from ~89 M
FORMATS = ("PNG", "JPEG", "WEBP")
QUALITY = 72
CACHE_FORMAT = 1  # bump when a thumbnail's bytes change for the same image and side
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Thumbnail:
    """A WebP thumbnail of the image at ``path``, or the ``problem`` that kept it from being
    made (what a placeholder says: ``no image recorded``, ``image missing``, ...)."""

    path: str | None
    webp: bytes | None
    width: int = 0
    height: int = 0
    problem: str | None = None

    def data_uri(self) -> str:
        """The thumbnail as a ``data:image/webp;base64,...`` URI ('' without one)."""
        if self.webp is None:
            return ""
        return "data:image/webp;base64," + base64.b64encode(self.webp).decode("ascii")

    def pixels(self) -> npt.NDArray[np.uint8] | None:
        """The thumbnail as an RGB array (height x width x 3), for matplotlib."""
        if self.webp is None:
            return None
        with Image.open(io.BytesIO(self.webp), formats=("WEBP",)) as image:
            return np.asarray(image.convert("RGB"))


class ThumbnailCache:
    """Thumbnails on disk under ``folder``, one file per key (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str) -> bytes | None:
        try:
            return (self.folder / key[:2] / f"{key}.webp").read_bytes()
        except OSError:  # not made yet, or removed: make it again
            return None

    def put(self, key: str, webp: bytes) -> None:
        target = self.folder / key[:2] / f"{key}.webp"
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        # A cache that cannot be written (read-only lake, full disk) only costs time.
        with contextlib.suppress(OSError):
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(webp)
            os.replace(temporary, target)
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


class ThumbnailJob:
    """Thumbnails of ``paths`` being made on worker threads (one per core by default) while
    the caller does other work: decoding runs outside the GIL, so drawing plots meanwhile
    uses the other core. ``progress(done, total)`` is called from the worker threads.

    >>> with ThumbnailJob(paths) as job:                          # doctest: +SKIP
    ...     draw_plots()
    ...     thumbnails = job.result()
    """

    def __init__(self, paths: Sequence[str | None], *, side: int = DEFAULT_SIDE,
                 cache: ThumbnailCache | None = None, progress: Progress | None = None,
                 workers: int | None = None) -> None:
        distinct = list(dict.fromkeys(paths))
        count = max(1, min(workers or os.cpu_count() or 1, len(distinct) or 1))
        self._pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="thumbnail")
        self._progress = progress
        self._lock = threading.Lock()
        self._done = 0
        self._futures = {path: self._pool.submit(thumbnail, path, side=side, cache=cache)
                         for path in distinct}
        for future in self._futures.values():
            future.add_done_callback(self._count)

    def result(self) -> dict[str | None, Thumbnail]:
        """Every thumbnail (or its problem) by path, once all are made."""
        return {path: future.result() for path, future in self._futures.items()}

    def close(self) -> None:
        """Stop: thumbnails not started yet are dropped."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ThumbnailJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count(self, _: Future[Thumbnail]) -> None:
        with self._lock:
            self._done += 1
            done = self._done
        if self._progress is not None:
            self._progress(done, len(self._futures))


def make_thumbnails(
    paths: Sequence[str | None], *, side: int = DEFAULT_SIDE,
    cache: ThumbnailCache | None = None, progress: Progress | None = None,
    workers: int | None = None,
) -> dict[str | None, Thumbnail]:
    """A thumbnail (or its problem) for each distinct path, made on ``workers`` threads
    (default: one per core); ``progress(done, total)`` after each one."""
    with ThumbnailJob(paths, side=side, cache=cache, progress=progress,
                      workers=workers) as job:
        return job.result()


def thumbnail(path: str | None, *, side: int = DEFAULT_SIDE,
              cache: ThumbnailCache | None = None) -> Thumbnail:
    """The thumbnail of the image at ``path`` (see the module docstring for what is read)."""
    if not path:
        return Thumbnail(path, None, problem="no image recorded")
    if _URL.match(path) or "\x00" in path:
        return Thumbnail(path, None, problem="not a local file")
    try:
        with _opened(path) as (file, info):
            key = _cache_key(path, side, info)
            cached = cache.get(key) if cache is not None else None
            if cached is not None and (found := _from_webp(path, cached)) is not None:
                return found
            data = _read_all(file)
    except _Refused as refused:
        return Thumbnail(path, None, problem=str(refused))
    made = _make(path, data, side)
    if made.webp is not None and cache is not None:
        cache.put(key, made.webp)
    return made


class _Refused(Exception):
    """Why a path gives no image bytes (the placeholder's label)."""


@contextlib.contextmanager
def _opened(path: str) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """The one regular file ``path`` names, open for reading, with its status."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _Refused(_open_problem(exc)) from exc
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Refused("not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise _Refused("image file too large")
        yield file, info


def _read_all(file: BinaryIO) -> bytes:
    try:
        return file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _Refused("image unreadable") from exc


def _cache_key(path: str, side: int, info: os.stat_result) -> str:
    text = f"{CACHE_FORMAT}|{side}|{os.path.abspath(path)}|{info.st_size}|{info.st_mtime_ns}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _open_problem(exc: OSError) -> str:
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "image missing"
    if exc.errno == errno.ELOOP:
        return "symbolic link, not followed"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "image not readable (permission)"
    return "image unreadable"


def _make(path: str, data: bytes, side: int) -> Thumbnail:
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            if image.width * image.height > MAX_PIXELS:
                return Thumbnail(path, None, problem="image too large")
            image.thumbnail((side, side), reducing_gap=2.0)  # JPEG: decoded at reduced scale
            small = _rgb(image)
            out = io.BytesIO()
            small.save(out, format="WEBP", quality=QUALITY, method=2)
    except Image.DecompressionBombError:  # Pillow's own limit, checked when it opens a file
        return Thumbnail(path, None, problem="image too large")
    # Pillow reports bad input with many exception types (OSError, SyntaxError, ValueError,
    # struct.error, EOFError, AssertionError...): any of them means this image cannot be
    # shown, and the report goes on.
    except Exception:
        return Thumbnail(path, None, problem="image unreadable")
    return Thumbnail(path, out.getvalue(), small.width, small.height)


def _rgb(image: Image.Image) -> Image.Image:
    """``image`` as RGB; transparency composited onto white, as a browser shows it."""
    if image.mode == "RGB":
        return image
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _from_webp(path: str, webp: bytes) -> Thumbnail | None:
    try:
        with Image.open(io.BytesIO(webp), formats=("WEBP",)) as image:
            width, height = image.size
    except Exception:  # a damaged cache entry is made again
        return None
    return Thumbnail(path, webp, width, height)
