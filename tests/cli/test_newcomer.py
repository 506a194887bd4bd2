"""A newcomer's first hour: the README's notebook instructions as written, ``--version``, help
texts that keep their placeholders, clear errors for an empty ``--out`` and a second demo, a
hint when a large tail waits for compaction, and a failsafe writer whose spills stay with
their lake and whose printed replay command works as printed."""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
import typer
from nbclient import NotebookClient

import runlake
from runlake.cli import app
from tests.analysis.helpers import fill_rated
from tests.helpers import CLI_ENV, REPO, invoke

README = (REPO / "README.md").read_text()


def python_in(cwd: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter started in ``cwd`` with ``env`` on top of ours (the
    interpreter itself, not a shell wrapper: a shell would reset ``$PWD``)."""
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, **CLI_ENV, **env})


# --- the lake's path ---------------------------------------------------------------------

def test_readme_notebook_instructions_work_as_written(tmp_path: Path) -> None:
    """Jupyter started at the repository's root with ``RUNLAKE_LAKE=./lake`` runs each kernel
    in the notebook's folder: the notebook must still open ``<root>/lake``."""
    assert "RUNLAKE_LAKE=./lake jupyter lab notebooks/" in README
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    fill_rated(runlake.Lake(root / "lake")).close()
    notebook = nbformat.read(REPO / "notebooks" / "sweep_analysis.ipynb", as_version=4)
    first = next(cell for cell in notebook.cells
                 if cell.cell_type == "code" and "runlake.Lake()" in cell.source)
    notebook.cells = [first]
    client = NotebookClient(notebook, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(root / "notebooks")}})
    client.execute(env={**os.environ, "RUNLAKE_LAKE": "./lake", "PWD": str(root)})
    text = "".join(output.get("text", "") for output in first.outputs)
    assert f"lake {root / 'lake'}: 4 runs" in text
    assert not (root / "notebooks" / "lake").exists()


def test_a_relative_runlake_lake_is_resolved_from_where_the_user_started(
    tmp_path: Path,
) -> None:
    (tmp_path / "notebooks").mkdir()
    show = "import runlake; print(runlake.Lake().root)"
    below = python_in(tmp_path / "notebooks", show, RUNLAKE_LAKE="./lake", PWD=str(tmp_path))
    assert below.stdout.strip() == str(tmp_path / "lake"), below.stderr
    # $PWD not an ancestor of the current folder (a harness started us elsewhere): ours.
    elsewhere = python_in(tmp_path / "notebooks", show, RUNLAKE_LAKE="lake", PWD="/proc")
    assert elsewhere.stdout.strip() == str(tmp_path / "notebooks" / "lake")
    # An explicit relative root is Python's: the current folder; always made absolute.
    explicit = python_in(tmp_path / "notebooks", "import runlake; print(runlake.Lake('x/../l')"
                         ".root)", PWD=str(tmp_path))
    assert explicit.stdout.strip() == str(tmp_path / "notebooks" / "l")
    cli = subprocess.run([sys.executable, "-m", "runlake", "compare", "--by", "sampler"],
                         cwd=tmp_path / "notebooks", capture_output=True, text=True,
                         timeout=120, check=False,
                         env={**os.environ, **CLI_ENV, "RUNLAKE_LAKE": "./lake",
                              "PWD": str(tmp_path)})
    assert cli.returncode == 1
    assert cli.stderr.startswith(f"error: the lake at {tmp_path / 'lake'} has no table 'runs'")


def test_errors_name_the_lake_by_its_absolute_path(tmp_path: Path) -> None:
    result = python_in(tmp_path, "import runlake\nrunlake.Lake('lake').stats('runs')")
    assert f"the lake at {tmp_path / 'lake'} has no table 'runs' yet" in result.stderr


# --- the command line --------------------------------------------------------------------

def test_version() -> None:
    result = invoke("--version")
    assert (result.returncode, result.stdout) == (0, f"runlake {runlake.__version__}\n")


def _commands(command: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...],
                                                                        object]]:
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += _commands(sub, (*path, name))
    return found


def test_help_texts_keep_their_placeholders() -> None:
    """rich's Markdown drops ``<table>`` as an HTML tag unless it is in a code span."""
    checked = 0
    for path, command in _commands(typer.main.get_command(app)):
        texts = [getattr(command, "help", None) or "",
                 *(getattr(param, "help", None) or "" for param in getattr(command, "params", []))]
        wanted = {token for text in texts for token in re.findall(r"<[a-z_]+>", text)}
        if not wanted:
            continue
        shown = invoke(*path, "--help").stdout
        for token in wanted:
            assert token in shown, (path, token)
            checked += 1
    assert checked >= 2  # quarantine/<table>/ in compact, <lake>/demo_images in demo


def test_report_out_must_name_a_file(tmp_path: Path) -> None:
    empty = invoke("report", "--out", "", lake=tmp_path / "lake")
    assert empty.returncode == 2 and "--out" in empty.stderr and "needs a file name" in empty.stderr
    folder = invoke("report", "--out", str(tmp_path), lake=tmp_path / "lake")
    assert folder.returncode == 1
    assert folder.stderr.startswith("error: the report needs a file to write")
    assert str(tmp_path) in folder.stderr
    with pytest.raises(runlake.InvalidOption, match="needs a file to write"):
        runlake.Lake(tmp_path / "lake").report("")


def test_demo_refuses_a_lake_that_already_holds_tables(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    lake.append("runs", {"model": "sdxl"})
    result = invoke("demo", "--seeds", "1", lake=tmp_path / "lake")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: the lake {tmp_path / 'lake'} already holds tables "
                                    "(runs): a second demo would")
    assert "double every count" in result.stderr
    assert len(list(lake.read_raw("runs"))) == 1 and lake.tables() == ["runs"]


# --- a large uncompacted tail ------------------------------------------------------------

def large_tail(root: Path) -> runlake.Lake:
    """65 MiB of raw lines (past the hint's 64 MiB) in few records, so parsing stays quick."""
    lake = runlake.Lake(root)
    pad = "x" * 65_000
    lake.append_many("runs", ({"model": "m", "steps": i % 7, "user_rating": 1 + i % 5,
                               "notes": pad} for i in range(1_040)), durability="none")
    lake.close()
    return lake


def test_a_large_tail_hints_at_compaction_once(tmp_path: Path) -> None:
    lake = large_tail(tmp_path / "lake")
    cli = subprocess.run([sys.executable, "-m", "runlake", "--lake", str(lake.root), "query",
                          "SELECT count(*) AS n FROM runs"], capture_output=True, text=True,
                         timeout=300, check=False, env={**os.environ, **CLI_ENV})
    assert (cli.returncode, cli.stdout) == (0, "n\n1040\n"), cli.stderr
    assert cli.stderr == ("hint: 1,040 records of table 'runs' (65 MiB of raw lines) are not "
                          "compacted yet: reads normalize them from JSON Lines and cannot skip "
                          "any by the tables' statistics; `runlake compact` (lake.compact()) "
                          "makes reads fast\n")
    with pytest.warns(runlake.UncompactedTailWarning, match="`runlake compact`") as caught:
        assert lake.scan("runs").select("model").collect().height == 1_040
    assert caught[0].filename == __file__  # names the caller's line, not runlake's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lake.scan("runs").select("model").collect()  # once per table and process


def test_a_small_tail_says_nothing(tmp_path: Path) -> None:
    lake = fill_rated(runlake.Lake(tmp_path / "lake"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lake.scan("runs").collect()
    assert invoke("compare", "--by", "sampler", lake=lake.root).stderr == ""


# --- the failsafe writer's spills --------------------------------------------------------

def broken(root: Path) -> runlake.Lake:
    """A lake whose raw zone and dead-letter area are files, not folders: appends fail and
    the writer must spill to its fallback folder."""
    lake = runlake.Lake(root)
    root.mkdir(parents=True)
    (root / "raw").write_text("not a folder")
    (root / "deadletter").write_text("not a folder")
    return lake


def test_spills_go_to_a_fallback_folder_of_that_lake_and_the_printed_replay_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("RUNLAKE_FALLBACK_DIR", str(tmp_path / "fallbacks"))
    first, second = broken(tmp_path / "a" / "lake"), broken(tmp_path / "b" / "lake")
    writers = [runlake.LearningRecordWriter(lake) for lake in (first, second)]
    assert writers[0].fallback_dir != writers[1].fallback_dir  # same folder name, two lakes
    assert all(w.fallback_dir.parent == tmp_path / "fallbacks" for w in writers)
    with caplog.at_level(logging.WARNING, logger="runlake.failsafe"):
        assert writers[0].write({"record_id": "r-1", "model": "sdxl"}) == "r-1"
        assert writers[1].write({"record_id": "r-2", "model": "flux"}) == "r-2"
    [spilled] = writers[0].spill_paths
    assert spilled.is_relative_to(writers[0].fallback_dir)
    message = caplog.records[0].getMessage()
    command = message.split("(replay with: ")[1].removesuffix(")")
    assert command == (f"runlake --lake {shlex.quote(str(first.root))} replay-deadletter "
                       f"--from {shlex.quote(str(writers[0].fallback_dir))}")

    for lake in (first, second):  # mended
        (lake.root / "raw").unlink()
        (lake.root / "deadletter").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "RUNLAKE_LAKE"}
    shell = subprocess.run(  # as a person pastes it: a shell, another folder, runlake on PATH
        ["bash", "-c", command], cwd=elsewhere, capture_output=True, text=True, timeout=120,
        check=False, env={**env, **CLI_ENV,
                          "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"})
    assert shell.returncode == 0, shell.stderr
    assert [r.record for r in first.read_raw("runs")] == [{"record_id": "r-1", "model": "sdxl"}]
    assert list(second.read_raw("runs")) == []  # the other lake's spill is not pushed here
    assert not list(writers[0].fallback_dir.rglob("*.jsonl"))
    assert len(list(writers[1].fallback_dir.rglob("*.jsonl"))) == 1
    assert list(elsewhere.iterdir()) == []


def test_a_spill_into_the_lake_prints_a_replay_without_from(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    lake = runlake.Lake(tmp_path / "lake")
    writer = runlake.LearningRecordWriter(lake)
    with caplog.at_level(logging.WARNING, logger="runlake.failsafe"):
        writer.write({"bad": float("nan")})  # refused by append: spilled into deadletter/
    message = caplog.records[0].getMessage()
    assert message.endswith(f"(replay with: runlake --lake {shlex.quote(str(lake.root))} "
                            "replay-deadletter)")
