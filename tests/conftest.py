"""Shared fixtures: a fresh lake per test, the sample files, a subprocess helper."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import runlake

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[runlake.Lake]:
    the_lake = runlake.Lake(tmp_path / "lake")
    yield the_lake
    the_lake.close()


@pytest.fixture
def samples() -> Path:
    return DATA


def run_python(code: str, *args: str, timeout: float = 120,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (a real separate process)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, check=False,
    )


def run_cli(*args: str, stdin: str | None = None, lake: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed ``runlake`` command as a user would."""
    prefix = ["--lake", str(lake)] if lake is not None else []
    return subprocess.run(
        [sys.executable, "-m", "runlake", *prefix, *args], capture_output=True, text=True,
        input=stdin, timeout=timeout, check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
