"""``main``: the ``runlake`` command's entry point, and the one place errors become exit codes.

Errors become one red line on stderr and an exit code, never a traceback:
0 success, 1 bad input or a failed operation, 2 usage error, 3 a lock held by another process.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from runlake.cli.app import app
from runlake.errors import LakeError, LockTimeout, UncompactedTailWarning

EXIT_FAILED = 1
EXIT_LOCKED = 3
EXIT_INTERRUPTED = 130
_SHOW_WARNING = warnings.showwarning


def main(args: Sequence[str] | None = None) -> None:
    """Run the ``runlake`` command with ``args`` (default: the process's arguments)."""
    with warnings.catch_warnings():
        warnings.showwarning = _hint  # restored on the way out: in-process callers keep theirs
        _run(args)


def _run(args: Sequence[str] | None) -> None:
    try:
        app(args=None if args is None else list(args), prog_name="runlake")
    except LockTimeout as exc:
        _fail(str(exc), EXIT_LOCKED)
    except LakeError as exc:
        _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED)
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # the CLI promises one line, never a traceback; a Rust
        # panic (Polars, Arrow, Delta Lake) is a BaseException, not an Exception
        first = (str(exc).strip().splitlines() or [""])[0]
        _fail(f"internal error: {type(exc).__name__}: {first} (please report this)",
              EXIT_FAILED)


def _hint(message: Warning | str, category: type[Warning], filename: str, lineno: int,
          file: TextIO | None = None, line: str | None = None) -> None:
    """runlake's warnings as one yellow line on stderr, as the library's words; any other
    warning as Python shows it."""
    if issubclass(category, UncompactedTailWarning):
        Console(stderr=True).print(f"[yellow]hint:[/yellow] {escape(str(message))}",
                                   highlight=False, soft_wrap=True)
        return
    _SHOW_WARNING(message, category, filename, lineno, file, line)


def _fail(message: str, code: int) -> None:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)
