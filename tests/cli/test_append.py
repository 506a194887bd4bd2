"""The command line for the raw zone: append, status, replay-deadletter, errors (in process,
but for the exit codes and stderr of a real process)."""

from __future__ import annotations

from pathlib import Path

import runlake
from runlake.append import spill
from tests.helpers import invoke, run_cli


def test_append_reports_bad_lines_by_number(tmp_path: Path) -> None:
    lines = "\n".join([
        '{"model": "sdxl", "timestamp": "2026-03-20T10:00:00"}',
        "not json",
        "[1, 2]",
        '{"timestamp": "whenever"}',
        "",
        '{"model": "sd15", "timestamp": "2026-03-22T00:30:00+01:00"}',
    ])
    result = invoke("append", "runs", "-", stdin=lines, lake=tmp_path)
    assert result.returncode == 1
    assert "appended 2 records to 'runs', rejected 3" in result.stdout
    assert "line 2: not valid JSON" in result.stderr
    assert "line 3: not a JSON object" in result.stderr
    assert "line 4: field 'timestamp': unparseable timestamp" in result.stderr
    assert "Traceback" not in result.stderr
    lake = runlake.Lake(tmp_path)
    assert lake.partitions("runs") == ["2026-03-20", "2026-03-21"]


def test_append_from_a_file_then_status(tmp_path: Path, samples: Path) -> None:
    lake_root = tmp_path / "lake"
    result = invoke("append", "runs", str(samples / "stablenew_learning_records.jsonl"),
                     lake=lake_root)
    assert result.returncode == 0, result.stderr
    assert "appended 7 records to 'runs', rejected 0" in result.stdout
    status = invoke("status", "--format", "table", lake=lake_root)
    assert status.returncode == 0, status.stderr
    row = next(line for line in status.stdout.splitlines() if "runs" in line)
    assert "7" in row.split() or "│ 7 " in row or " 7 " in row
    assert "2026-03-20 .. 2026-03-23" in status.stdout


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    # A real process: what a user's shell sees (exit codes, no traceback on stderr).
    bad_table = run_cli("append", "../etc", "-", stdin="{}", lake=tmp_path)
    assert bad_table.returncode == 1
    assert bad_table.stderr.strip().startswith("error: invalid table name '../etc'")
    assert len(bad_table.stderr.strip().splitlines()) == 1
    missing = run_cli("append", "runs", str(tmp_path / "nope.jsonl"), lake=tmp_path)
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    usage = run_cli("append", lake=tmp_path)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_empty_lake_status(tmp_path: Path) -> None:
    result = invoke("status", "--format", "table", lake=tmp_path / "none")
    assert result.returncode == 0
    assert "is empty" in result.stdout
    piped = invoke("status", lake=tmp_path / "none")  # CSV: the header, no rows
    assert piped.stdout == "table,partitions,segments,records,bytes,first_date,last_date\n"


def test_replay_deadletter_command(tmp_path: Path) -> None:
    lake = runlake.Lake(tmp_path)
    spill(lake.paths.deadletter, "runs", "id-1", {"x": 1}, "disk full")
    spill(lake.paths.deadletter, "runs", "id-2", {"x": float("nan")}, "invalid",
          replayable=False)
    result = invoke("replay-deadletter", lake=tmp_path)
    assert result.returncode == 1
    assert "replayed 1 records, 1 still failing" in result.stdout
    assert "id-2" in result.stderr
    assert [r.record_id for r in lake.read_raw("runs")] == ["id-1"]


def test_every_command_has_help_with_an_example(tmp_path: Path) -> None:
    top = invoke("--help")
    assert top.returncode == 0
    for command in ("append", "status", "replay-deadletter"):
        assert command in top.stdout
        help_text = invoke(command, "--help")
        assert help_text.returncode == 0
        assert "Example:" in help_text.stdout
