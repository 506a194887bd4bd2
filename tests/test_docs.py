"""The README's promises: the quickstart runs, CI runs its test command, and the command
line it lists is the one registered (both ways)."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from runlake.cli import app
from tests.helpers import REPO, run_python

README = (REPO / "README.md").read_text()


def test_quickstart_runs(tmp_path: Path) -> None:
    [code] = re.findall(r"## Quickstart\n\n```python\n(.*?)```", README, re.S)
    result = run_python(f"import os; os.chdir({str(tmp_path)!r})\n{code}",
                        env={"RUNLAKE_LAKE": ""})
    assert result.returncode == 0, result.stderr
    assert "DPM++ 2M" in result.stdout and "Euler a" in result.stdout
    assert (tmp_path / "lake" / "tables" / "runs" / "_delta_log").is_dir()


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    test_command = next(c for c in commands if "pytest" in c)
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


def test_the_documented_commands_exist() -> None:
    [block] = re.findall(r"## The command line\n\n```\n(.*?)```", README, re.S)
    listed = set(re.findall(r"^  ([a-z][a-z-]+) ", block, re.M))
    registered = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert listed <= registered, listed - registered
    assert {"append", "compact", "compare", "export", "report", "demo"} <= listed


def test_every_command_is_documented() -> None:
    # The other direction (sqlite-utils' test_docs): a command added to the CLI but not to
    # the README's list fails here.
    [block] = re.findall(r"## The command line\n\n```\n(.*?)```", README, re.S)
    listed = set(re.findall(r"^  ([a-z][a-z-]+) ", block, re.M))
    registered = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert registered <= listed, registered - listed
