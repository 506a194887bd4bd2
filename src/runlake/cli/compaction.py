"""The ``compact``, ``optimize``, ``vacuum``, ``check`` and ``rebuild`` commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from runlake.cli.progress import Bars, progress_bars
from runlake.cli.render import (
    print_check,
    print_compaction,
    print_optimize,
    print_rebuild,
    print_vacuum,
)
from runlake.cli.session import session
from runlake.defaults import DEFAULT_BATCH_BYTES, DEFAULT_RETENTION_HOURS, DEFAULT_TARGET_SIZE

if TYPE_CHECKING:  # the compaction stage loads Polars, Arrow and Delta Lake: only when run
    from runlake.compaction import Progress as ProgressCallback

_MIB = 1024 * 1024
TableArgument = Annotated[
    str | None, typer.Argument(help="Table name (default: every table).", show_default=False)
]
LockTimeoutOption = Annotated[
    float | None,
    typer.Option("--lock-timeout", help="Seconds to wait for another compaction or "
                 "maintenance run of the same table (default: 60); exit code 3 after that."),
]


def compact(
    ctx: typer.Context,
    table: TableArgument = None,
    lock_timeout: LockTimeoutOption = None,
    batch_mb: Annotated[
        int, typer.Option("--batch-mb", min=1, help="Raw MiB per batch (bounds memory).")
    ] = DEFAULT_BATCH_BYTES // _MIB,
) -> None:
    """Move pending raw records into the Delta tables under tables/, exactly once.

    Bad lines go to `quarantine/<table>/` and are counted; the rest is committed.

    Example: runlake compact runs
    """
    here = session(ctx)
    with progress_bars(here.out, in_bytes=True) as bars:
        result = here.lake().compact(table, progress=_by_table(bars), batch_bytes=batch_mb * _MIB,
                                     lock_timeout=lock_timeout)
    print_compaction(here.out, result)


def optimize(
    ctx: typer.Context,
    table: TableArgument = None,
    lock_timeout: LockTimeoutOption = None,
    target_mb: Annotated[
        int, typer.Option("--target-mb", min=1, help="Target size of merged files in MiB.")
    ] = DEFAULT_TARGET_SIZE // _MIB,
) -> None:
    """Merge the small Parquet files of the Delta tables.

    Example: runlake optimize runs --target-mb 256
    """
    here = session(ctx)
    result = here.lake().optimize(table, target_size=target_mb * _MIB, lock_timeout=lock_timeout)
    print_optimize(here.out, result)


def vacuum(
    ctx: typer.Context,
    table: TableArgument = None,
    lock_timeout: LockTimeoutOption = None,
    retention_hours: Annotated[
        float, typer.Option("--retention-hours", min=0,
                            help="Keep files the table dropped for this long (time travel).")
    ] = DEFAULT_RETENTION_HOURS,
    raw_retention_days: Annotated[
        float | None,
        typer.Option("--raw-retention-days", min=0,
                     help="Also delete raw segments fully compacted and untouched for this "
                     "many days (default: keep all raw data)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List, delete nothing.")] = False,
) -> None:
    """Delete table files no commit references, and old raw segments when asked.

    Removes Parquet files a killed compaction left behind and files the table dropped longer
    ago than the retention; raw segments only with --raw-retention-days, and only those fully
    compacted and untouched that long (never a partition's last segment).

    Example: runlake vacuum runs --raw-retention-days 90 --dry-run
    """
    here = session(ctx)
    result = here.lake().vacuum(table, retention_hours=retention_hours,
                                raw_retention_days=raw_retention_days, dry_run=dry_run,
                                lock_timeout=lock_timeout)
    print_vacuum(here.out, result)


def check(ctx: typer.Context, table: TableArgument = None) -> None:
    """Find what is wrong with the tables, changing nothing (like git fsck).

    Verifies the Delta log, every data file it references, the raw segments against the
    committed offsets and their fingerprints, and counts quarantined lines and dead letters.
    Prints each problem with the way back; exit code 1 if there is any.

    Example: runlake check runs
    """
    here = session(ctx)
    result = here.lake().check(table)
    print_check(here.out, result)
    if not result.ok:
        raise typer.Exit(1)


def rebuild(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="The table to rebuild.", show_default=False)],
    lock_timeout: LockTimeoutOption = None,
) -> None:
    """Rebuild a damaged table from the raw zone, as one new version.

    Reads every raw segment from its start; the new version replaces every file of the
    table. Refused, naming the segments, when raw retention removed segments it needs.

    Example: runlake rebuild runs
    """
    here = session(ctx)
    with progress_bars(here.out, in_bytes=True) as bars:
        result = here.lake().rebuild(table, progress=_by_table(bars), lock_timeout=lock_timeout)
    print_rebuild(here.out, result)


def _by_table(bars: Bars | None) -> ProgressCallback | None:
    """Compaction's events as one bar per table, in bytes."""
    if bars is None:
        return None
    return lambda event: bars(event.table, event.done_bytes, event.total_bytes)
