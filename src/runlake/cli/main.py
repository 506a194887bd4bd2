"""The ``runlake`` command: parse, call one library function, print.

Errors become one red line on stderr and an exit code, never a traceback:
0 success, 1 bad input or a failed operation, 2 usage error, 3 a lock held by another process.
"""

from __future__ import annotations

import sys

import runlake.cli.compaction  # registers the compact, optimize and vacuum commands
import runlake.cli.export  # registers export and report
import runlake.cli.learning  # registers import and demo
import runlake.cli.query  # noqa: F401  (registers compare, query and stats)
from runlake.cli.app import app, console_err
from runlake.errors import LakeError, LockTimeout

EXIT_FAILED = 1
EXIT_LOCKED = 3
EXIT_INTERRUPTED = 130


def main() -> None:
    """Entry point of the ``runlake`` script."""
    try:
        app(prog_name="runlake")
    except LockTimeout as exc:
        _fail(str(exc), EXIT_LOCKED)
    except LakeError as exc:
        _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as exc:  # the CLI promises one line, never a traceback
        _fail(f"internal error: {type(exc).__name__}: {exc} (please report this)", EXIT_FAILED)


def _fail(message: str, code: int) -> None:
    console_err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)


__all__ = ["app", "main"]
