"""Progress bars of the long commands (compact, rebuild, report, import images, demo).

One bar per step on a terminal, nothing when the output is piped: a cron log or CI output
gets no escape codes, and the library skips its progress events when given no callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import TaskID

Bars = Callable[[str, int, "int | None"], None]
"""``bars(step, done, total)``: draws (or advances) the bar of ``step``; total None: unknown."""


@contextmanager
def progress_bars(console: Console, *, in_bytes: bool = False) -> Iterator[Bars | None]:
    """Bars counting items (or bytes) with the time left, on a terminal; None otherwise."""
    if not console.is_terminal:
        yield None
        return
    from rich.progress import (  # only a terminal needs it: --help and pipes never load it
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    count = DownloadColumn() if in_bytes else MofNCompleteColumn()
    columns = (TextColumn("{task.description}"), BarColumn(), count, TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(step: str, done: int, total: int | None) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield update
