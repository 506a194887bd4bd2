"""What every command gets from the global options: the lake, and where to print.

The ``--lake`` option is parsed by the app's callback into a :class:`Session` on the Typer
context (``ctx.obj``), which every command reads; no module-level state, so one process can
run many commands (the tests do, in process).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import typer
from rich.console import Console

import runlake


@dataclass
class Session:
    """The options given before the command, and the consoles of this invocation."""

    lake_path: str | None = None  # a directory, or a shared lake's URL
    rating_scale: tuple[float, float] | None = None
    out: Console = field(default_factory=Console)
    err: Console = field(default_factory=lambda: Console(stderr=True))

    def lake(self) -> runlake.Lake:
        if self.rating_scale is None:
            return runlake.Lake(self.lake_path)
        return runlake.Lake(self.lake_path, rating_scale=self.rating_scale)


def session(ctx: typer.Context) -> Session:
    """The session the app's callback put on the context (a fresh one if none ran)."""
    found = ctx.find_object(Session)
    return found if found is not None else Session()
