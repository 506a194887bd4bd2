"""The public surface: names exported from the package root, and code quality gates."""

from __future__ import annotations

import subprocess
import sys

import runlake
from conftest import REPO


def test_all_is_sorted_and_complete() -> None:
    assert runlake.__all__ == sorted(runlake.__all__)
    for name in runlake.__all__:
        assert getattr(runlake, name) is not None


def test_errors_share_one_base() -> None:
    for name in ("InvalidRecord", "InvalidTableName", "InvalidOption", "LockTimeout",
                 "StorageError", "CorruptLine"):
        assert issubclass(getattr(runlake, name), runlake.LakeError)


def test_mypy_strict_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "src", "tests", "bench"],
                            cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
