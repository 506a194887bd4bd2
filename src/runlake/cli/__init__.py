"""The ``runlake`` command: parse, call one public library function, print.

Modules, in the order an invocation goes through them:

- ``main``: the entry point; maps errors to exit codes (0 ok, 1 bad input or a failed
  operation, 2 usage, 3 lock timeout) and one red line, never a traceback.
- ``app``: the Typer application, its global ``--lake`` option, and every command
  registered by name, in one list.
- ``session``: what the global options give each command (the lake, the consoles), carried
  on the Typer context.
- one module per stage, each holding its commands: ``append`` (append, rate, status,
  replay-deadletter), ``compaction`` (compact, optimize, vacuum, check, rebuild),
  ``analysis`` (compare, query, tables, stats, report, files), ``export`` (export), ``importers``
  (import stablenew, import images), ``ship`` (ship), ``learning`` (demo).
- ``render``: every printer (rich tables on a terminal, CSV or JSON when piped).
- ``terminal``: a frame on a terminal: a page of rows (the rest counted), empty columns
  left out, long cells cut, a record per row when the columns do not fit.
- ``progress``: the progress bars of the long commands (compact, rebuild, report, import
  images, demo), one per step, drawn only on a terminal.

The top layer: it may import anything public (``runlake``'s names, ``runlake.errors``,
``runlake.defaults`` and the subpackages' own ``__init__``), never a stage's inner module
(an import-linter contract keeps it so), plus typer and rich, which nothing else imports.
Nothing below the CLI prints.
"""

from __future__ import annotations

from runlake.cli.app import app
from runlake.cli.main import main

__all__ = ["app", "main"]
