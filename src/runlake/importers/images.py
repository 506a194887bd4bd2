"""Import the generation metadata of a folder of images into ``runs``, one run per image.

Every PNG, JPEG and WebP under the folder is read (metadata only, never its pixels; in worker
processes for a large folder) and its tool detected: A1111/Forge/SD.Next/Civitai infotext,
ComfyUI graphs, ComfyUI-Image-Saver, InvokeAI, NovelAI, Fooocus, StableNew (see
``docs/importers.md``). Each image becomes one :class:`~runlake.learning.LearningRecord`:
one stage config per sampling pass, with canonical knobs (``runlake.records.vocabulary``),
the tool's raw values and metadata text, the image's path, size and identity. A review
StableNew embedded in the image also becomes a rating.

Nothing is silent: every image that yields no run is in the report with its reason (no
generation metadata, unsupported format NAME, damaged), and one bad file never stops the
rest. Files that are not images are counted, not read. The record id comes from the
generation's metadata, not the file's bytes (:mod:`runlake.importers.identity`), so a
re-import, a copy, or a rewrite by another tool appends nothing.
"""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.context
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from runlake.errors import ImportFailed, InvalidRecord
from runlake.importers.containers import OTHER_IMAGE_EXTENSIONS, SUPPORTED_EXTENSIONS
from runlake.importers.dedup import ImportReport, ImportTarget, OnceWriter, derived_id
from runlake.importers.generation import Generation
from runlake.importers.identity import Resolved, Resolver
from runlake.importers.reading import ImageRead, read_content, read_file
from runlake.learning.records import LearningRecord, RatingRecord
from runlake.records import RATINGS_TABLE, RUNS_TABLE, format_time

RECORD_KIND = "image_import"
LEGACY_KIND = "a1111_png_import"  # before identity keys: ids were hashes of the file bytes
# Below this many files one process is faster than starting workers (measured with
# bench/import_images.py: ~2,000 A1111 PNGs/s in one process).
PARALLEL_FROM = 1000
_CHUNK = 32
# First-pass stages whose config goes under the stage dict compaction reads knobs from.
_STAGE_DICTS = {"txt2img": "txt2img", "img2img": "img2img", "inpaint": "img2img"}

Progress = Callable[[int, int], None]


def import_images(lake: ImportTarget, directory: str | os.PathLike[str], *,
                  workers: int | None = None, progress: Progress | None = None) -> ImportReport:
    """Append a run for every image with generation metadata under ``directory``.

    ``workers``: processes reading files (default: one per CPU for a folder of at least
    :data:`PARALLEL_FROM` images, else this process); ``progress(done, total)`` is called
    as files are read.

    >>> import_images(lake, "outputs/txt2img-images").appended   # doctest: +SKIP
    {'runs': 120, 'ratings': 0}
    """
    root = Path(directory)
    if not root.is_dir():
        raise ImportFailed(f"{root} is not a directory of images")
    paths, others, unreadable = image_files(root)
    report = ImportReport(str(root), ignored=others)
    for folder, reason in unreadable.items():
        report.reject(folder, reason)
    with _reading(paths, workers, progress) as reads:  # workers start before the lake scan
        known, legacy = _known(lake)
        with OnceWriter(lake, RUNS_TABLE) as runs, \
                _LazyWriter(lake, RATINGS_TABLE) as ratings:
            importer = _Importer(Resolver(known, read_content), legacy, runs, ratings, report)
            for read in reads:
                importer.add(read)
    report.appended = {RUNS_TABLE: runs.appended, RATINGS_TABLE: ratings.appended}
    return report


def image_files(root: Path) -> tuple[list[str], int, dict[str, str]]:
    """Image files under ``root`` (any letter case; absolute paths, sorted), the count of
    other files, and each folder that could not be listed with why (the walk goes on past
    it). Symlinked folders are not followed, so a link loop cannot trap the walk."""
    found: list[str] = []
    others = 0
    unreadable: dict[str, str] = {}

    def note(exc: OSError) -> None:
        unreadable[str(exc.filename or root)] = (
            f"folder cannot be read ({exc.strerror or exc}): its images were not imported")

    for folder, _, names in os.walk(os.path.abspath(root), onerror=note):
        for name in names:
            if name.lower().endswith(SUPPORTED_EXTENSIONS + OTHER_IMAGE_EXTENSIONS):
                found.append(os.path.join(folder, name))
            else:
                others += 1
    return sorted(found), others, unreadable


def run_record(read: ImageRead, resolved: Resolved) -> LearningRecord:
    """The run record of one image (see the module)."""
    generation = read.generation
    assert generation is not None
    configs, stages = _configs(generation)
    first = generation.passes[0].config
    metadata: dict[str, Any] = {
        "record_kind": RECORD_KIND, "source": generation.tool,
        "tool_version": generation.version, "image_path": read.path,
        "image_format": read.format, "stage": generation.passes[0].stage,
        "identity": {"key": read.key, "content_sha256": resolved.content},
        "embedded": read.texts,
        "raw": {stage: p.raw for stage, p in zip(stages, generation.passes, strict=True)},
        **generation.extra,
    }
    return LearningRecord(
        run_id=resolved.record_id,
        timestamp=format_time(datetime.fromtimestamp(read.mtime, timezone.utc)),
        base_config=configs,
        primary_model=first.get("model"), primary_sampler=first.get("sampler_name"),
        primary_scheduler=first.get("scheduler"), primary_steps=first.get("steps"),
        primary_cfg_scale=first.get("cfg_scale"),
        metadata=metadata,
        stage_plan=stages,
        outputs=[{"stage": stages[-1], "index": 0, "path": read.path, "width": read.width,
                  "height": read.height, "format": read.format}],
    )


class _Importer:
    """Turns each read into a run (and a rating), or a rejection, in the report."""

    def __init__(self, resolver: Resolver, legacy: set[str], runs: OnceWriter,
                 ratings: _LazyWriter, report: ImportReport) -> None:
        self.resolver, self.legacy, self.report = resolver, legacy, report
        self.runs, self.ratings = runs, ratings

    def add(self, read: ImageRead) -> None:
        if read.reason is not None or read.key is None:
            self.report.reject(read.path, read.reason or "no generation metadata")
            return
        if read.path in self.legacy:
            self.report.already_present += 1
            return
        resolved = self.resolver.resolve(read.key, read.path, read.content)
        try:
            if resolved.record_id in self.runs:
                self.report.already_present += 1
            else:
                self.runs.write(run_record(read, resolved), resolved.record_id)
            # a review can be embedded after the run was imported: it is looked at anyway
            rating = review_rating(read, resolved.record_id)
            if rating is not None:
                self.ratings.write(rating, derived_id(f"image-review/{RATINGS_TABLE}",
                                                      _review_key(read, rating)))
        except InvalidRecord as exc:
            self.report.reject(read.path, f"cannot be stored ({exc})")


def _review_key(read: ImageRead, rating: RatingRecord) -> bytes:
    """A review is its run and its content: another review of the image is another rating,
    the same one read again (or from a copy) is not."""
    review = read.generation.extra.get("review") if read.generation else None
    return rating.run_id.encode() + b"\0" + orjson.dumps(review, option=orjson.OPT_SORT_KEYS)


def review_rating(read: ImageRead, run_id: str) -> RatingRecord | None:
    """The rating in a review StableNew embedded in the image (``stablenew_review``)."""
    review = read.generation.extra.get("review") if read.generation else None
    score = review.get("user_rating") if isinstance(review, dict) else None
    if not isinstance(review, dict) or isinstance(score, bool) or not isinstance(
            score, (int, float)) or not math.isfinite(score):
        return None
    stamp = review.get("review_timestamp")
    return RatingRecord(
        run_id=run_id, image_path=read.path, rating=float(score),
        timestamp=stamp if isinstance(stamp, str) and stamp else format_time(
            datetime.fromtimestamp(read.mtime, timezone.utc)),
        source="stablenew:review_embedded",
        subscores=review["subscores"] if isinstance(review.get("subscores"), dict) else {},
        notes=review.get("user_notes") or None,
    )


def _configs(generation: Generation) -> tuple[dict[str, dict[str, Any]], list[str]]:
    configs: dict[str, dict[str, Any]] = {}
    stages: list[str] = []
    for index, one in enumerate(generation.passes):
        name = _STAGE_DICTS.get(one.stage, one.stage) if index == 0 else one.stage
        while name in configs:
            name = f"{name}_{len(configs) + 1}"
        configs[name] = one.config
        stages.append(name if index else one.stage)
    return configs, stages


@contextmanager
def _reading(paths: list[str], workers: int | None, progress: Progress | None
             ) -> Iterator[Iterator[ImageRead]]:
    """The reads of ``paths``, in order: in this process, or in a pool of worker processes
    (for an explicit ``workers`` above one, or a large folder)."""
    if workers is not None:
        count = workers
    else:
        count = (os.cpu_count() or 1) if len(paths) >= PARALLEL_FROM else 1
    if count <= 1:
        yield _counted(map(read_file, paths), len(paths), progress)
        return
    with ProcessPoolExecutor(count, mp_context=_start_method()) as pool:
        reads = pool.map(read_file, paths, chunksize=_CHUNK)  # submitted now: workers start
        try:
            yield _counted(reads, len(paths), progress)
        finally:
            pool.shutdown(cancel_futures=True)


def _start_method() -> multiprocessing.context.BaseContext:
    """``fork`` (no new interpreter to start) unless a library that runs its own threads is
    loaded: forking a process while Polars', Arrow's or delta-rs's threads hold locks can
    deadlock the child. Then ``spawn``."""
    threaded = any(name in sys.modules for name in ("polars", "pyarrow", "deltalake"))
    if threaded or "fork" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("fork")


def _counted(reads: Iterable[ImageRead], total: int, progress: Progress | None
             ) -> Iterator[ImageRead]:
    for done, read in enumerate(reads, 1):
        yield read
        if progress is not None:
            progress(done, total)


def _known(lake: ImportTarget) -> tuple[dict[str, str | None], set[str]]:
    """Identity keys of imported images already in the lake, with their image paths; and
    the paths of images imported before identity keys (by the bytes of the file)."""
    if RUNS_TABLE not in lake.tables():
        return {}, set()
    frame = lake.scan(RUNS_TABLE).select("record_id", "image_path", "record_kind").collect()
    known: dict[str, str | None] = {}
    legacy: set[str] = set()
    for record_id, path, kind in frame.iter_rows():
        if kind == RECORD_KIND:
            known[record_id] = path
        elif kind == LEGACY_KIND and path:
            legacy.add(os.path.abspath(path))
    return known, legacy


class _LazyWriter:
    """A OnceWriter opened on the first write (most folders hold no review to import)."""

    def __init__(self, lake: ImportTarget, table: str) -> None:
        self._lake, self._table = lake, table
        self._writer: OnceWriter | None = None

    @property
    def appended(self) -> int:
        return self._writer.appended if self._writer else 0

    def write(self, record: object, record_id: str) -> bool:
        if self._writer is None:
            self._writer = OnceWriter(self._lake, self._table)
        return self._writer.write(record, record_id)

    def __enter__(self) -> _LazyWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
