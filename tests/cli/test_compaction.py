"""The compact, optimize and vacuum commands (in process), and compaction's progress bars
(on a real pseudo-terminal)."""

from __future__ import annotations

import re
from pathlib import Path

import runlake
from runlake.testing import on_terminal
from tests.helpers import invoke

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def test_cli_compact_optimize_vacuum(lake: runlake.Lake, samples: Path) -> None:
    appended = invoke("append", "runs", str(samples / "stablenew_learning_records.jsonl"),
                       lake=lake.root)
    assert appended.returncode == 0, appended.stderr
    done = invoke("compact", lake=lake.root)
    assert done.returncode == 0, done.stderr
    assert "runs" in done.stdout
    assert "7" in done.stdout
    segment = next((lake.root / "raw" / "runs").rglob("seg-*.jsonl"))
    with segment.open("ab") as handle:
        handle.write(b"not json\n")
    done = invoke("compact", "runs", lake=lake.root)
    assert done.returncode == 0
    assert "1 line(s) quarantined" in done.stdout
    optimized = invoke("optimize", "runs", lake=lake.root)
    assert optimized.returncode == 0, optimized.stderr
    vacuumed = invoke("vacuum", "runs", "--dry-run", lake=lake.root)
    assert vacuumed.returncode == 0, vacuumed.stderr
    assert "would remove" in vacuumed.stdout
    bad = invoke("compact", "Bad-Name", lake=lake.root)
    assert bad.returncode == 1
    assert "invalid table name" in bad.stderr


def test_compact_draws_a_bar_per_table_on_a_terminal_and_nothing_when_piped(
        lake: runlake.Lake) -> None:
    for table in ("runs", "job_events"):
        lake.append_many(table, ({"run_id": f"r{i}", "job_id": f"j{i}", "status": "completed",
                                  "sampler": "Euler a", "timestamp": "2026-03-20T10:00:00Z"}
                                 for i in range(200)))
    drawn = on_terminal("--lake", str(lake.root), "compact", "job_events")
    assert drawn.returncode == 0, drawn.text
    bar = re.compile(r"\d+(\.\d+)?/\d+(\.\d+)? [kM]?B")
    assert re.search(r"job_events\s.*━.*" + bar.pattern, ANSI.sub("", drawn.text)), drawn.text
    piped = invoke("compact", "runs", lake=lake.root)
    assert "\x1b[" not in piped.stdout + piped.stderr and not bar.search(piped.stdout)
    assert "runs" in piped.stdout
