"""The public surface: names exported from the package root, and code quality gates."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import runlake
from tests.helpers import REPO, run_python


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


def test_the_import_contracts_hold() -> None:
    # The architecture as import-linter contracts in pyproject.toml: layers, the recording
    # path free of table engines, and each heavy dependency fenced to its module.
    result = subprocess.run(["lint-imports", "--no-cache"], cwd=REPO, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_names_are_listed_once_and_typed() -> None:
    # _LAZY is the one list; the TYPE_CHECKING imports type checkers read must name the same.
    tree = ast.parse((REPO / "src" / "runlake" / "__init__.py").read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If))
    typed = {alias.asname or alias.name for node in block.body
             if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert typed == set(runlake._LAZY)
    for name, module in runlake._LAZY.items():
        assert name in vars(__import__(module, fromlist=[name])), (name, module)


def test_few_modules_at_the_top() -> None:
    # Everything but what every stage shares lives in the folder of its stage.
    top = {info.name for info in pkgutil.iter_modules(runlake.__path__) if not info.ispkg}
    assert top - {"__main__"} <= {"errors", "defaults", "lake"}


def test_recording_runs_loads_no_table_engine(tmp_path: Path) -> None:
    # A pipeline that only records (import, failsafe writer, runner) must not pay for
    # Polars, Delta Lake or Arrow, nor the object-store client: the public names load lazily.
    code = """
import sys, runlake
writer = runlake.LearningRecordWriter(sys.argv[1])
runner = runlake.PipelineRunner(runlake.OfflineBackend(), learning_writer=writer)
runner.run({"txt2img": {"prompt": "a fox", "steps": 4, "width": 64, "height": 64}})
assert writer.failures == 0
print(sorted(m for m in ("polars", "deltalake", "pyarrow", "obstore") if m in sys.modules))
"""
    result = run_python(code, str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert len(list(runlake.Lake(tmp_path).read_raw("runs"))) == 1


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        runlake.nothing  # noqa: B018
    assert "Lake" in dir(runlake)


def test_no_public_name_is_shadowed_by_a_submodule() -> None:
    # Importing a submodule sets it as an attribute of the package; a submodule named like a
    # lazily exported function (as compare.py once was) would replace the function.
    modules = {info.name for info in pkgutil.iter_modules(runlake.__path__)}
    assert not modules & set(runlake.__all__)
