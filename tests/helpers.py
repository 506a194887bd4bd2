"""Helpers every test folder may import (``from tests.helpers import ...``): where the repo and
the sample files are, a fresh interpreter, and the ``runlake`` command in or out of process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from runlake.cli import main

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
CLI_ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def run_python(code: str, *args: str, timeout: float = 120,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (a real separate process)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, check=False,
    )


def run_cli(*args: str, stdin: str | None = None, lake: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed ``runlake`` command as a user would, in its own process: for tests
    of exit codes, tracebacks and other processes."""
    prefix = ["--lake", str(lake)] if lake is not None else []
    return subprocess.run(
        [sys.executable, "-m", "runlake", *prefix, *args], capture_output=True, text=True,
        input=stdin, timeout=timeout, check=False, env={**os.environ, **CLI_ENV},
    )


def invoke(*args: str, stdin: str | None = None,
           lake: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``runlake`` command in this process, through its entry point (so errors map
    to exit codes as they do for a user), with typer's CliRunner capturing stdin, stdout and
    stderr. The result reads like :func:`run_cli`'s."""
    prefix = ["--lake", str(lake)] if lake is not None else []
    with CliRunner().isolation(input=stdin, env=CLI_ENV) as (out, err, _):
        try:
            main([*prefix, *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        sys.stdout.flush()  # the runner's text streams buffer what was written to them
        sys.stderr.flush()
        return subprocess.CompletedProcess(list(args), code, out.getvalue().decode(),
                                           err.getvalue().decode())
