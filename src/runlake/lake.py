"""``Lake``: the one object users hold. A thin facade over the stages of the data's path.

Each method is one delegation to the stage that owns it, in the stages' order: append
(``runlake.append``), read and analyse (``runlake.analysis``), export and report
(``runlake.export``, ``runlake.analysis.report``), compact and maintain
(``runlake.compaction``). The facade owns only the lake's root and its options.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from runlake.append import (
    DEFAULT_SEGMENT_BYTES,
    Appender,
    BufferedWriter,
    Durability,
    LakeOptions,
    LakeStatus,
    RawScan,
    ReplayResult,
    lake_status,
    replay,
)
from runlake.defaults import (
    DEFAULT_BATCH_BYTES,
    DEFAULT_MIN_N,
    DEFAULT_RETENTION_HOURS,
    DEFAULT_TARGET_SIZE,
    Compression,
)
from runlake.errors import InvalidOption, InvalidRecord, LakeError
from runlake.records import (
    DEFAULT_MAX_RECORD_BYTES,
    DEFAULT_RATING_SCALE,
    RATED_RUNS_VIEW,
    RATING,
    RATINGS_TABLE,
    RUNS_TABLE,
    RateBy,
    check_scale,
    rating_record,
    utc_now_text,
)
from runlake.storage import (
    DEFAULT_LOCK_TIMEOUT,
    LakePaths,
    absolute,
    default_root,
    is_url,
    validate_table,
)

log = logging.getLogger("runlake.compaction")

# The table zone's stages (Polars, Delta Lake, Arrow) are imported by the methods that use
# them: a pipeline that only appends then never loads them, and `import runlake` stays fast.
if TYPE_CHECKING:
    from concurrent.futures import Executor

    import polars as pl

    from runlake.analysis import (
        Best,
        GridResult,
        Order,
        ReportCallback,
        ReportOptions,
        ScaleOption,
        TableStats,
        TableSummary,
    )
    from runlake.compaction import (
        CheckResult,
        CompactionResult,
        OptimizeResult,
        Progress,
        TableCompaction,
        VacuumResult,
    )
    from runlake.export import ExportKind, ExportOptions, ExportResult
    from runlake.ship import Shipper, ShipResult
    from runlake.storage.shared import AnyPaths


class Lake:
    """An append-only lake of generation-run records rooted at a directory.

    ``root`` defaults to ``$RUNLAKE_LAKE``, else ``./lake``; it is created on first write.
    A local root is made absolute at once (a later ``chdir`` does not move the lake); a
    relative ``$RUNLAKE_LAKE`` is resolved from the folder the user started in (``$PWD``),
    so a notebook whose kernel runs in ``notebooks/`` opens the lake its shell meant.
    A root ``s3://bucket/prefix`` (or ``gs://``, ``az://``) is a shared lake: recording
    hosts ship to it (:meth:`ship`), and every reading and maintaining method works on it,
    with credentials from the standard variables (``AWS_*``) or ``storage_options``.

    >>> lake = Lake("/tmp/demo-lake")                          # doctest: +SKIP
    >>> lake.append("runs", {"model": "sdxl", "steps": 30})    # doctest: +SKIP
    '019a2011bc647bf0876c63a2d7268df7'
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        storage_options: Mapping[str, str] | None = None,
        rating_scale: tuple[float, float] = DEFAULT_RATING_SCALE,
    ) -> None:
        chosen = root if root is not None else os.environ.get("RUNLAKE_LAKE")
        self.options = LakeOptions(segment_bytes, lock_timeout, max_record_bytes,
                                   check_scale(rating_scale))
        self.root: Path | str
        self.location: AnyPaths  # where the lake is: a directory, or a root in a store
        self._raw: Appender | None = None
        if is_url(chosen):
            from runlake.storage.shared import shared_paths
            self.location = shared_paths(str(chosen), storage_options)
            self.root = self.location.root
            return
        if storage_options is not None:
            raise InvalidOption("storage_options are for a lake in an object store "
                                f"(s3://bucket/prefix), not {chosen or default_root()}")
        self.root = absolute(root) if root is not None else default_root()
        self.location = LakePaths(self.root)
        self._raw = Appender(self.location, self.options)

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    @property
    def paths(self) -> LakePaths:
        """The directories of a local lake (a shared lake's layout is ``location``)."""
        return self._local_paths("paths")

    # -- append ---------------------------------------------------------------------------

    def append(
        self,
        table: str,
        record: object,
        *,
        durability: Durability = "fsync",
        record_id: str | None = None,
    ) -> str:
        """Append one record; return its record id.

        ``"fsync"``: on disk when this returns; ``"flush"``: handed to the OS; ``"none"``:
        buffered in this ``Lake`` until :meth:`flush`, :meth:`close` or interpreter exit.
        The id is the record's own ``record_id``, else ``record_id``, else a new time-ordered
        one; appending the same id twice is an idempotent retry (compaction keeps one).
        """
        return self._appender().append(table, record, durability=durability,
                                       record_id=record_id)

    def append_many(
        self,
        table: str,
        records: Iterable[object],
        *,
        durability: Durability = "flush",
        on_invalid: Callable[[int, InvalidRecord], None] | None = None,
    ) -> int:
        """Append records with one locked write per partition; return how many were written.

        By default a bad record raises :class:`InvalidRecord` and, for calls of up to 64 MiB
        of serialized records, nothing is written (a larger call writes in chunks, and the
        error says how many were already written). With ``on_invalid``, a bad record is
        passed to it with its index and skipped instead.
        """
        return self._appender().append_many(table, records, durability=durability,
                                            on_invalid=on_invalid)

    def writer(
        self,
        table: str,
        *,
        durability: Durability = "flush",
        max_batch: int = 1000,
        flush_interval: float | None = 1.0,
    ) -> BufferedWriter:
        """A thread-safe buffered writer for ``table`` that group-commits (see BufferedWriter).

        ``durability`` applies to each batch it writes (``"none"`` writes like ``"flush"``:
        the writer is already the buffer).
        """
        return self._appender().writer(table, durability=durability, max_batch=max_batch,
                                       flush_interval=flush_interval)

    def flush(self) -> None:
        """Write records appended with ``durability="none"``."""
        if self._raw is not None:
            self._raw.flush()

    def close(self) -> None:
        """Flush and stop the buffers behind ``durability="none"`` appends."""
        if self._raw is not None:
            self._raw.close()

    def rate(
        self,
        target: str,
        score: object,
        *,
        rater: str | None = None,
        notes: str | None = None,
        by: RateBy = "auto",
        durability: Durability = "fsync",
    ) -> str:
        """Record a person's rating of one run (``target`` its run id) or one image (its path
        as the run recorded it); return the rating record's id.

        ``by="auto"`` reads ``target`` as an image path when it holds a ``/`` or ends in an
        image suffix, else as a run id. ``score`` must be a number on the lake's rating scale
        (1-5 unless ``Lake(rating_scale=...)`` says otherwise): ``"4/5"``, ``7`` or
        ``"great"`` raise :class:`InvalidRecord` and nothing is written.

        >>> lake.rate("5f0c1a2e-0000-4000-8000-000000000001", 4, rater="ana")  # doctest: +SKIP
        """
        record = rating_record(target, score, rater=rater, notes=notes, by=by,
                               timestamp=utc_now_text())
        return self.append(RATINGS_TABLE, record, durability=durability)

    # -- the raw zone ---------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Names of the lake's tables, sorted."""
        return self.location.table_names()

    def partitions(self, table: str) -> list[str]:
        """Dates (``YYYY-MM-DD``) of a table's raw partitions, sorted."""
        return self.location.partition_dates(table)

    def read_raw(self, table: str, *, strict: bool = False) -> RawScan:
        """Iterate the table's stored records (raw zone). Corrupt lines are skipped and listed
        in the result's ``corrupt``; with ``strict=True`` the first one raises CorruptLine."""
        return RawScan(self._local_paths("read_raw"), validate_table(table), strict)

    def replay_deadletter(self, directory: str | os.PathLike[str] | None = None) -> ReplayResult:
        """Append records spilled by failsafe writers back; ``directory`` defaults to this
        lake's ``deadletter/`` (pass a writer's ``fallback_dir`` to replay from there)."""
        source = (Path(directory) if directory is not None
                  else self._local_paths("replay_deadletter").deadletter)
        return replay(self._appender(), source)

    def status(self) -> LakeStatus:
        """Tables, partitions, records and bytes of the raw zone."""
        if isinstance(self.location, LakePaths):
            return lake_status(self.location)
        from runlake.compaction import shared_status
        return shared_status(self.location)

    # -- ship -----------------------------------------------------------------------------

    def ship(
        self, to: str, *, host: str | None = None,
        storage_options: Mapping[str, str] | None = None,
    ) -> ShipResult:
        """Upload the new complete lines of this lake's segments to the shared lake ``to``
        (``s3://bucket/prefix``) as immutable objects, exactly once (see docs/scaling.md).

        ``host`` names this lake there (default: this machine's name and a random suffix,
        kept in ``ship.json``). Credentials come from ``AWS_*`` or ``storage_options``.

        >>> lake.ship("s3://studio-lake/sweeps").objects      # doctest: +SKIP
        3
        """
        return self.shipper(to, host=host, storage_options=storage_options).run()

    def shipper(
        self, to: str, *, host: str | None = None,
        storage_options: Mapping[str, str] | None = None,
    ) -> Shipper:
        """A :class:`Shipper` to ``to`` whose ``run()`` ships one pass; passes after the
        first list the bucket only when another shipper of this lake got ahead."""
        from runlake.ship import Shipper
        from runlake.storage.shared import shared_paths
        return Shipper(self._local_paths("ship"), shared_paths(to, storage_options), host=host,
                       lock_timeout=self.options.lock_timeout)

    # -- compact and maintain -------------------------------------------------------------

    def compact(
        self,
        table: str | None = None,
        *,
        progress: Progress | None = None,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        lock_timeout: float | None = None,
        compression: Compression = "zstd",
        executor: Executor | None = None,
    ) -> CompactionResult:
        """Move the pending raw records of ``table`` (every table when ``None``) into its
        Delta table ``tables/<table>/``, exactly once, in one commit per table.

        Bad lines go to ``quarantine/<table>/``. ``progress`` is called after every batch
        (of at most ``batch_bytes`` of raw lines, which bounds memory). Raises
        :class:`LockTimeout` when another compaction holds the table for ``lock_timeout``
        seconds (default: the lake's). See docs/compaction.md.

        Compacting every table (``table=None``, what ``runlake compact`` does) then brings
        the derived table ``tables/rated_runs/`` (runs joined with their ratings, for readers
        outside runlake) up to date when ``runs`` or ``ratings`` has a new version: new runs
        alone are appended, new ratings rewrite it, a lake without ratings gets none; a
        failure there is logged, the compaction stands. Compacting one table never does: its
        memory stays bounded by ``batch_bytes`` (a rewrite's grows with the table).

        ``executor`` (any :class:`concurrent.futures.Executor`: a process pool, a Dask
        ``Client.get_executor()``) decodes, normalizes and writes the batches on its
        workers; this process still reads the raw bytes and makes the one commit. Workers
        must be able to import runlake and reach the lake (docs/scaling.md).

        >>> lake.compact("runs").records                  # doctest: +SKIP
        1440
        >>> with ProcessPoolExecutor(mp_context=get_context("spawn")) as pool:  # doctest: +SKIP
        ...     lake.compact("runs", executor=pool)
        """
        from runlake.compaction import CompactOptions, FileOptions, compact
        options = CompactOptions(batch_bytes, self._lock_timeout(lock_timeout),
                                 FileOptions(compression=compression), executor)
        result = compact(self.location, table, options=options, progress=progress)
        if table is None:
            self._refresh_rated_runs(options.lock_timeout)
        return result

    def optimize(
        self, table: str | None = None, *, target_size: int = DEFAULT_TARGET_SIZE,
        lock_timeout: float | None = None,
    ) -> OptimizeResult:
        """Merge small Parquet files of ``table`` (every table when ``None``)."""
        from runlake.compaction import optimize
        return optimize(self.location, table, target_size=target_size,
                        lock_timeout=self._lock_timeout(lock_timeout))

    def vacuum(
        self, table: str | None = None, *, retention_hours: float = DEFAULT_RETENTION_HOURS,
        raw_retention_days: float | None = None, dry_run: bool = False,
        lock_timeout: float | None = None,
    ) -> VacuumResult:
        """Delete data files no commit references (left by a killed compaction), files the
        table dropped more than ``retention_hours`` ago and, only if ``raw_retention_days``
        is given, raw segments fully compacted and untouched for that long."""
        from runlake.compaction import vacuum
        return vacuum(self.location, table, retention_hours=retention_hours,
                      raw_retention_days=raw_retention_days, dry_run=dry_run,
                      lock_timeout=self._lock_timeout(lock_timeout))

    def check(self, table: str | None = None) -> CheckResult:
        """What is wrong with ``table`` (every table when ``None``), changing nothing: the
        Delta log, the data files, the raw segments against the committed offsets and their
        fingerprints, quarantined lines and dead letters. ``result.ok`` is false when a
        problem was found (see docs/compaction.md).

        >>> lake.check("runs").ok                        # doctest: +SKIP
        True
        """
        from runlake.compaction import check
        return check(self.location, table)

    def rebuild(
        self, table: str, *, progress: Progress | None = None,
        batch_bytes: int = DEFAULT_BATCH_BYTES, lock_timeout: float | None = None,
    ) -> TableCompaction:
        """Rebuild a damaged ``table`` from its raw segments, as one new Delta version that
        replaces every file; refused (:class:`InvalidOption`) when raw retention removed
        segments the table needs. Older versions stay for time travel until vacuum."""
        from runlake.compaction import CompactOptions, rebuild
        options = CompactOptions(batch_bytes, self._lock_timeout(lock_timeout))
        return rebuild(self._local_paths("rebuild"), table, options=options, progress=progress)

    # -- analysis -------------------------------------------------------------------------

    def scan(
        self, table: str, *, version: int | None = None, as_of: datetime | str | None = None
    ) -> pl.LazyFrame:
        """The table as a Polars LazyFrame: its committed Delta snapshot plus every raw record
        not yet compacted (normalized by the same code), each record exactly once.

        A record is visible as soon as its ``append`` returned. ``version=`` (a table
        version) or ``as_of=`` (a time) reads an older snapshot, without the raw tail.

        >>> lake.scan("runs").group_by("sampler").agg(pl.len()).collect()   # doctest: +SKIP
        """
        from runlake.analysis import read_table
        return read_table(self.location, table, version=version, as_of=as_of)

    def rated_runs(self) -> pl.LazyFrame:
        """Runs joined with separate rating records (linked by run_id, else image_path), so
        a mean rating per knob works whether a run carries its own rating or not. Raises
        EmptyLake when the lake has no runs yet."""
        from runlake.analysis import read_rated
        return read_rated(self.location).frame

    def sql(
        self, query: str, *, allow_dirs: Sequence[str | os.PathLike[str]] = ()
    ) -> pl.DataFrame:
        """Run one read-only DuckDB statement over every table (fresh), plus ``rated_runs``.

        ``SHOW TABLES``, ``DESCRIBE runs``, ``SUMMARIZE runs`` and window functions work;
        writes, files, URLs and extensions are refused (:class:`InvalidQuery`), except files
        under ``allow_dirs``, folders the caller trusts. See docs/analysis.md.

        >>> lake.sql("SELECT sampler, avg(rating) FROM rated_runs GROUP BY 1")  # doctest: +SKIP
        """
        from runlake.analysis import sql
        return sql(self.location, query, allow_dirs=[Path(d) for d in allow_dirs])

    def compare(
        self,
        by: str | Sequence[str],
        metric: str = "rating",
        *,
        table: str = RUNS_TABLE,
        within: str | Sequence[str] | None = None,
        where: str | pl.Expr | None = None,
        min_n: int = DEFAULT_MIN_N,
        best: Best = "max",
        baseline: object = None,
        scale: ScaleOption = "auto",
        order: Order = "rank",
    ) -> pl.DataFrame:
        """:func:`runlake.compare` over a table (``runs``: joined with its ratings).

        >>> lake.compare(["sampler", "steps"], within="model")   # doctest: +SKIP
        """
        from runlake.analysis import compare_table
        if metric == RATING and isinstance(scale, str) and scale == "auto":
            scale = self.options.rating_scale  # the scale this lake's ratings are checked on
        return compare_table(self.location, by, metric, table=table, within=within,
                             where=where, min_n=min_n, best=best, baseline=baseline,
                             scale=scale, order=order)

    def table_summaries(self) -> list[TableSummary]:
        """Every table SQL sees (``rated_runs`` too) with its fresh record count and columns,
        as ``runlake tables`` prints them."""
        from runlake.analysis import table_summaries
        return table_summaries(self.location)

    def files(self, table: str, *, version: int | None = None) -> list[str]:
        """The absolute URIs of ``table``'s data files at ``version`` (default: the latest):
        what Spark without its Delta jars reads (see docs/engines.md).

        >>> spark.read.option("basePath", root).parquet(*lake.files("runs"))  # doctest: +SKIP
        """
        from runlake.analysis import table_files
        return table_files(self.location, table, version=version)

    def stats(self, table: str) -> TableStats:
        """Records, date range, distinct knob values and pending raw records of a table."""
        from runlake.analysis import table_stats
        return table_stats(self.location, table)

    # -- export and report ----------------------------------------------------------------

    def export_dataset(
        self,
        kind: ExportKind,
        out: str | os.PathLike[str],
        *,
        version: int | None = None,
        options: ExportOptions | None = None,
        overwrite: bool = False,
    ) -> ExportResult:
        """Export the rated runs as an ``sft``, ``preference`` or ``table`` dataset into
        ``out``, with splits and a dataset card (see :func:`runlake.export_frame`).

        Without ``version``, the fresh view (committed tables plus uncompacted records);
        with it, the runs table at that version and the ratings as of its commit. The card
        names the versions, never a time, so the same snapshot gives the same bytes. See
        docs/export.md.

        >>> lake.export_dataset("sft", "datasets/sft", version=3).examples  # doctest: +SKIP
        {'train': 40, 'validation': 5, 'test': 6}
        """
        from runlake.export import ExportOptions, export_lake
        chosen = options or ExportOptions()
        if chosen.rating_scale is None:  # the scale this lake's ratings are checked on
            chosen = dataclasses.replace(chosen, rating_scale=self.options.rating_scale)
        return export_lake(self.location, kind, Path(out), version=version, options=chosen,
                           overwrite=overwrite)

    def report(
        self, out: str | os.PathLike[str], *, options: ReportOptions | None = None,
        progress: ReportCallback | None = None,
    ) -> Path:
        """Write the static HTML report of the fresh rated runs to ``out``; returns its path.

        ``options`` (:class:`runlake.ReportOptions`): title, metric, selection, the ranking's
        and the grids' knobs. ``progress`` is called with a :class:`runlake.ReportProgress`
        as the report goes (reading runs, images, plots, writing). See docs/report.md.

        >>> lake.report("out.html", options=ReportOptions(title="March"))  # doctest: +SKIP
        """
        from runlake.analysis import report_lake
        from runlake.analysis.report import checked_out
        return report_lake(self.location, checked_out(out), options=options,
                           progress=progress)

    def grid(
        self,
        x: str | None = None,
        y: str | None = None,
        *,
        z: str | None = None,
        where: str | None = None,
        experiment: str | None = None,
        metric: str = "rating",
        best: Best = "max",
    ) -> GridResult:
        """An image grid of the selected runs (A1111's X/Y/Z plot with the lake's numbers):
        the matplotlib figure and the table behind it (a row per cell: n, mean, interval,
        rank and the run shown). ``x``/``y`` default to the knobs that vary most; ``z`` and,
        when it is not an axis, the model give one block per value.

        >>> figure, table = lake.grid("sampler", "cfg_scale", where="steps = 30")  # doctest: +SKIP
        """
        from runlake.analysis import GridOptions, Selection, grid_lake
        return grid_lake(self.location, GridOptions(x=x, y=y, z=z, metric=metric, best=best),
                         selection=Selection(where, experiment))

    # -- internals ------------------------------------------------------------------------

    def _refresh_rated_runs(self, lock_timeout: float) -> None:
        from runlake.analysis import refresh_rated_runs
        try:
            refresh_rated_runs(self.location, lock_timeout=lock_timeout)
        except LakeError as exc:  # the join is a convenience: the next compaction retries it
            log.warning("runlake: could not refresh tables/%s (%s); the next `runlake compact` "
                        "tries again", RATED_RUNS_VIEW, exc)

    def _appender(self) -> Appender:
        if self._raw is None:
            raise InvalidOption(
                f"{self.root} is a shared lake: records are appended to a local lake on each "
                f"recording host and shipped to it (`runlake ship --to {self.root}`)")
        return self._raw

    def _local_paths(self, doing: str) -> LakePaths:
        """The local layout, for ``doing`` (an operation a shared lake does not offer)."""
        if not isinstance(self.location, LakePaths):
            raise InvalidOption(f"{doing} works on a local lake only; {self.root} is a shared "
                                "lake, whose raw zone is the objects the recording hosts "
                                "shipped (read it with scan, verify it with check)")
        return self.location

    def _lock_timeout(self, timeout: float | None) -> float:
        return self.options.lock_timeout if timeout is None else timeout
